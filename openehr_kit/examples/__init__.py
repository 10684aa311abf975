"""Example compositions from operational templates: minimal, maximal and random ones, and precise mutations."""

from openehr_kit.examples.generator import (
    compositions,
    maximal_composition,
    minimal_composition,
    traced_composition,
    traced_compositions,
)

__all__ = [
    "compositions",
    "maximal_composition",
    "minimal_composition",
    "traced_composition",
    "traced_compositions",
]
