"""Tests of the services under services/."""
