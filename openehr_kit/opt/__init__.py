"""Operational templates (OPT 1.4)."""
