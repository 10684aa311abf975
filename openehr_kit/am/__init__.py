"""Archetype model (AOM 1.4) and ADL 1.4 / ODIN parsing."""
