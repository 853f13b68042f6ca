"""The rules of the pack, one module per concern; each exports ``RULES``."""
