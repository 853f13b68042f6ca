"""Reusable ComponentResources, one capability per module, one package per target cloud."""
