"""The stack program (typed config -> composition -> exports) and the offline plan CLI."""
