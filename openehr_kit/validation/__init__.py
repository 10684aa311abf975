"""Validation of compositions against operational templates."""
