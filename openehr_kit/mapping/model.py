"""The typed form of a registry mapping (see docs/mapping-language.md for the YAML it is read from)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: the transforms a field can use, exactly one per field
TRANSFORMS = ("codes", "boolean", "has_code", "if_unknown", "copy_code", "text", "decimal", "integer", "date",
              "datetime", "constant", "derived")

#: named functions of ``derived`` (no expressions are evaluated: each is a fixed Python function)
DERIVED_FUNCTIONS = ("add", "bmi", "hours_between", "duration", "first", "priority")


@dataclass(frozen=True, slots=True)
class Pos:
    """Where something is written in the mapping file (1-based line and column)."""

    line: int | None = None
    column: int | None = None


@dataclass(slots=True)
class Condition:
    """``when``: a source has a value / a code / a boolean value, or another target field has one of some values."""

    source: str | None = None
    present: bool | None = None
    codes: tuple[str, ...] = ()
    value: bool | None = None
    field: str | None = None
    values: tuple[Any, ...] = ()
    any: tuple["Condition", ...] = ()  # alternatives: the condition holds when one of them does
    pos: Pos = Pos()

    @property
    def uses_fields(self) -> bool:
        return self.field is not None or any(c.uses_fields for c in self.any)


@dataclass(slots=True)
class FieldMap:
    """How one target field gets its value: a source path, one transform with its options, conditions, default."""

    target: str
    transform: str
    options: Any = None  # the transform's own value (code map, boolean map, decimal options, constant...)
    source: str | None = None
    ignore: tuple[str, ...] = ()
    when: tuple[Condition, ...] = ()
    default: Any = None
    args: list["FieldMap | Any"] = field(default_factory=list)  # derived: arguments (sub-fields or literals)
    pos: Pos = Pos()
    note: str = ""

    @property
    def has_default(self) -> bool:
        return self.default is not None


@dataclass(slots=True)
class Mapping:
    """A mapping from one template to one registry export format."""

    mapping_id: str
    template_id: str
    format_id: str
    format_version: str
    fields: list[FieldMap]
    template_uid: str | None = None
    template_version: str | None = None
    for_each: str | None = None
    paired: dict[str, str] = field(default_factory=dict)
    description: str = ""
    source_file: str | None = None
    #: targets written more than once in the file, with where (the loader keeps the first)
    duplicates: list[tuple[str, Pos]] = field(default_factory=list)
    pos: dict[str, Pos] = field(default_factory=dict)  # positions of top-level keys
    #: the engine's compiled form (made on first use; not part of the mapping's value)
    compiled: Any = field(default=None, init=False, repr=False, compare=False)

    def field_map(self, target: str) -> FieldMap | None:
        for f in self.fields:
            if f.target == target:
                return f
        return None


__all__ = ["Condition", "DERIVED_FUNCTIONS", "FieldMap", "Mapping", "Pos", "TRANSFORMS"]
