"""Registry export format definitions (``registry_exports/*.yaml``): fields, types, code lists, order and rules.

A definition is our own description of a registry message, complete enough to build and check a message without
the registry's own schema at run time:

* ``fields`` in document order; each has a ``name`` (the target name mappings use), a ``path`` (element nesting
  for XML, ignored for JSON), a ``type`` (text, code, boolean, integer, number, date, datetime), and optionally
  ``codes`` (stored value -> label), ``pattern``, ``max_length``, ``minimum``/``maximum``, ``repeat`` (a list);
* rules: ``required`` (must have a value when shown), ``shown_when`` (a list of conditions, all must hold; a
  field that is not shown must be empty), ``internal_only`` (the registry's own field, always empty from us),
  ``not_future`` (a date not after the export date);
* ``fill``: the field is filled by the export from the message envelope or the patient context
  (``national_id``, ``created``...), never by a mapping;
* ``or_fields``: a required field is also satisfied by a value in one of these (the form's "Ukjent" boxes).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from openehr_kit.diagnostics import ParseError

FIELD_TYPES = ("text", "code", "boolean", "integer", "number", "date", "datetime")

#: what the export fills in, by ``fill`` name (documented in docs/mapping-language.md)
FILL_NAMES = (
    "blank", "zero", "format_name", "format_version", "message_id", "message_kind", "message_version",
    "created", "file_name", "external", "annulled", "national_id", "foreign_id", "foreign_national_id",
    "patient_name", "composition_uid",
)

_COND_SCHEMA: dict[str, Any] = {
    "type": "object",
    "oneOf": [
        {"required": ["field", "in"]}, {"required": ["field", "not_in"]}, {"required": ["any"]},
    ],
    "properties": {
        "field": {"type": "string"},
        "in": {"type": "array", "items": {"type": "string"}},
        "not_in": {"type": "array", "items": {"type": "string"}},
        "any": {"type": "array", "items": {"$ref": "#/$defs/cond"}},
    },
    "additionalProperties": False,
}

#: the schema of a format definition file (kept here: it is small and only this module reads these files)
DEFINITION_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["format", "version", "title", "registry", "serialisation", "fields"],
    "additionalProperties": False,
    "$defs": {"cond": _COND_SCHEMA},
    "properties": {
        "format": {"type": "string", "pattern": r"^[a-z][a-z0-9_-]*\.[A-Za-z][A-Za-z0-9_]*$"},
        "version": {"type": "string", "pattern": r"^\d+\.\d+$"},
        "title": {"type": "string"},
        "registry": {"type": "string"},
        "description": {"type": "string"},
        "serialisation": {"enum": ["kremt-xml", "json"]},
        "xml": {
            "type": "object", "required": ["namespace", "root", "prefix"], "additionalProperties": False,
            "properties": {"namespace": {"type": "string"}, "root": {"type": "string"}, "prefix": {"type": "string"}},
        },
        "json_schema": {"type": "string"},
        "fields": {
            "type": "array", "minItems": 1,
            "items": {
                "type": "object", "required": ["name", "type"], "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"},
                    "path": {"type": "string"},
                    "type": {"enum": list(FIELD_TYPES)},
                    "label": {"type": "string"},
                    "description": {"type": "string"},
                    "codes": {"type": "object", "additionalProperties": {"type": "string"}},
                    "empty_allowed": {"type": "boolean"},
                    "pattern": {"type": "string"},
                    "max_length": {"type": "integer", "minimum": 0},
                    "minimum": {"type": "number"},
                    "maximum": {"type": "number"},
                    "repeat": {"type": "boolean"},
                    "required": {"type": "boolean"},
                    "or_fields": {"type": "array", "items": {"type": "string"}},
                    "shown_when": {"type": "array", "items": {"$ref": "#/$defs/cond"}},
                    "internal_only": {"type": "boolean"},
                    "not_future": {"type": "boolean"},
                    "fill": {"enum": list(FILL_NAMES)},
                    "xsd_default": {"type": "string"},
                    "optional_element": {"type": "boolean"},
                },
            },
        },
    },
}


@dataclass(frozen=True, slots=True)
class Condition:
    """``field`` in ``values`` (or not in, with ``negate``); ``any`` holds alternatives instead."""

    field: str = ""
    values: tuple[str, ...] = ()
    negate: bool = False
    any: tuple["Condition", ...] = ()

    def fields(self) -> list[str]:
        return [self.field] if self.field else [f for c in self.any for f in c.fields()]

    def describe(self) -> str:
        if self.any:
            return " or ".join(c.describe() for c in self.any)
        op = "is not" if self.negate else "is"
        shown = ", ".join(repr(v) for v in self.values)
        return f"{self.field} {op} {shown if len(self.values) == 1 else 'one of ' + shown}"


@dataclass(slots=True)
class FieldDef:
    """One field of a registry message."""

    name: str
    type: str
    path: str = ""
    label: str = ""
    codes: dict[str, str] | None = None
    empty_allowed: bool = True
    pattern: str | None = None
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    repeat: bool = False
    required: bool = False
    #: a value in one of these fields (the form's "Ukjent"/"Ikke tatt" boxes) satisfies ``required`` too
    or_fields: tuple[str, ...] = ()
    shown_when: tuple[Condition, ...] = ()
    internal_only: bool = False
    not_future: bool = False
    fill: str | None = None
    _regex: re.Pattern[str] | None = field(default=None, repr=False)

    @property
    def regex(self) -> re.Pattern[str] | None:
        if self.pattern is not None and self._regex is None:
            self._regex = re.compile(self.pattern)
        return self._regex

    @property
    def mappable(self) -> bool:
        """Whether a mapping may give this field a value (not filled by the export, not the registry's own)."""
        return self.fill is None and not self.internal_only


@dataclass(slots=True)
class ExportFormat:
    """A registry message format: identity, serialisation and fields in document order."""

    format_id: str
    version: str
    title: str
    registry: str
    serialisation: str
    fields: list[FieldDef]
    description: str = ""
    xml: dict[str, str] = field(default_factory=dict)
    source: str | None = None
    by_name: dict[str, FieldDef] = field(default_factory=dict)
    #: what the export works out once per format (the XML layout); not part of the format's value
    cache: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.by_name = {f.name: f for f in self.fields}

    @property
    def key(self) -> str:
        return f"{self.format_id}@{self.version}"

    def field(self, name: str) -> FieldDef | None:
        return self.by_name.get(name)

    @property
    def supports_annulment(self) -> bool:
        """JSON formats carry message_kind C; a KREMT message only where it has a field filled with ``annulled``."""
        return self.serialisation == "json" or any(f.fill == "annulled" for f in self.fields)


def _condition(raw: dict[str, Any]) -> Condition:
    if "any" in raw:
        return Condition(any=tuple(_condition(c) for c in raw["any"]))
    if "not_in" in raw:
        return Condition(raw["field"], tuple(raw["not_in"]), negate=True)
    return Condition(raw["field"], tuple(raw["in"]))


def parse_format(data: Any, *, source: str | None = None) -> ExportFormat:
    """An ExportFormat from a loaded definition; ParseError (EXP008) names what is wrong and where."""
    errors = sorted(jsonschema.Draft202012Validator(DEFINITION_SCHEMA).iter_errors(data), key=lambda e: list(e.path))
    if errors:
        err = errors[0]
        where = "/".join(str(p) for p in err.absolute_path) or "(top)"
        raise ParseError("EXP008", f"export format definition is invalid at {where}: {err.message}", file=source)
    fields = []
    for raw in data["fields"]:
        fields.append(FieldDef(
            name=raw["name"], type=raw["type"], path=raw.get("path", raw["name"]), label=raw.get("label", ""),
            codes=dict(raw["codes"]) if "codes" in raw else None,
            empty_allowed=raw.get("empty_allowed", raw["type"] not in ("boolean", "integer")),
            pattern=raw.get("pattern"), max_length=raw.get("max_length"), minimum=raw.get("minimum"),
            maximum=raw.get("maximum"), repeat=raw.get("repeat", False), required=raw.get("required", False),
            or_fields=tuple(raw.get("or_fields", ())),
            shown_when=tuple(_condition(c) for c in raw.get("shown_when", ())),
            internal_only=raw.get("internal_only", False), not_future=raw.get("not_future", False),
            fill=raw.get("fill"),
        ))
    names = [f.name for f in fields]
    dups = sorted({n for n in names if names.count(n) > 1})
    if dups:
        raise ParseError("EXP008", f"export format definition names fields more than once: {', '.join(dups)}",
                         file=source)
    fmt = ExportFormat(data["format"], data["version"], data["title"], data["registry"], data["serialisation"],
                       fields, data.get("description", ""), data.get("xml", {}), source)
    for f in fields:
        for name in f.or_fields:
            if name not in fmt.by_name:
                raise ParseError("EXP008", f"field {f.name}: or_fields names unknown field {name}", file=source)
        for cond in f.shown_when:
            for name in cond.fields():
                if name not in fmt.by_name:
                    raise ParseError("EXP008", f"field {f.name}: shown_when names unknown field {name}", file=source)
        if f.pattern is not None:
            try:
                re.compile(f.pattern)
            except re.error as exc:
                raise ParseError("EXP008", f"field {f.name}: pattern does not compile ({exc})", file=source) from None
    if fmt.serialisation == "kremt-xml" and not fmt.xml:
        raise ParseError("EXP008", "a kremt-xml format needs an xml section (namespace, root, prefix)", file=source)
    return fmt


def load_format(path: str | Path) -> ExportFormat:
    """Read a format definition file (YAML or JSON)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ParseError("TXT002", f"cannot read export format definition ({exc.__class__.__name__})",
                         file=str(p)) from None
    try:
        data = json.loads(text) if p.suffix == ".json" else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise ParseError("EXP008", f"export format definition is not valid YAML/JSON: {exc}", file=str(p)) from None
    return parse_format(data, source=str(p))


@functools.lru_cache(maxsize=None)
def _bundled() -> dict[str, ExportFormat]:
    from openehr_kit.content import content_dir

    out: dict[str, ExportFormat] = {}
    for p in sorted(content_dir("registry_exports").glob("*.yaml")):
        fmt = load_format(p)
        out[fmt.key] = fmt
    return out


def bundled_formats() -> dict[str, ExportFormat]:
    """Every format shipped in ``registry_exports/``, keyed ``format@version``."""
    return dict(_bundled())


def bundled_format(key: str) -> ExportFormat | None:
    """The bundled format with this ``format@version`` key (the shared object, not a copy of the table)."""
    return _bundled().get(key)


def find_format(format_id: str, version: str | None = None) -> ExportFormat | None:
    """The bundled format with this id (and version; the highest version when none is given)."""
    cands = [f for f in _bundled().values() if f.format_id == format_id and (version is None or f.version == version)]
    if not cands:
        return None
    return max(cands, key=lambda f: tuple(int(x) for x in f.version.split(".")))


__all__ = [
    "Condition", "DEFINITION_SCHEMA", "ExportFormat", "FIELD_TYPES", "FILL_NAMES", "FieldDef", "bundled_format",
    "bundled_formats", "find_format", "load_format", "parse_format",
]
