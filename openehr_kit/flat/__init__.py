"""FLAT (simSDT) and STRUCTURED compositions: conversion to and from canonical compositions, and validation.

Keys are built from web template node ids (``vital_signs/blood_pressure:0/any_event:0/systolic|magnitude``);
the per-template key table is computed once and cached (:func:`openehr_kit.flat._index.flat_index`).
"""

from __future__ import annotations

from openehr_kit.flat.from_canonical import composition_to_flat
from openehr_kit.flat.to_canonical import flat_to_composition
from openehr_kit.flat.validate import read_flat_composition, validate_flat

__all__ = ["composition_to_flat", "flat_to_composition", "read_flat_composition", "validate_flat"]
