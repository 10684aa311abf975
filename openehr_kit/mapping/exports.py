"""Registry messages: the export context, checking a message against its format, and serialising it.

Every message is checked against its format definition (:mod:`openehr_kit.mapping.formats`) before it is
serialised; the serialised JSON is checked once more against the format's JSON Schema. A message with issues is
never written. The patient's identity comes from an :class:`ExportContext` the caller gives (compositions do not
carry it) and is never shown unmasked in an issue.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import jsonschema
from lxml import etree

from openehr_kit.diagnostics import Issue
from openehr_kit.mapping.formats import Condition, ExportFormat, FieldDef
from openehr_kit.mapping.identity import check_national_id

MESSAGE_KINDS = ("N", "M", "C")  # new, modification (correction), cancellation (annulment)


@dataclass(slots=True)
class ExportContext:
    """What the export needs besides the composition: the patient's identity and the message envelope.

    ``message_kind`` is N (new), M (correction of an earlier message; ``message_version`` > 0) or C (annulment).
    ``message_id`` stays the same across versions of one message; ``created`` defaults to now (UTC).
    """

    national_id: str | None = None
    patient_name: str | None = None
    foreign_national_id: str | None = None
    message_kind: str = "N"
    message_version: int = 0
    message_id: str | None = None
    created: _dt.datetime | None = None
    composition_uid: str | None = None
    file_name: str = ""

    def __repr__(self) -> str:  # never show the identity in logs or tracebacks
        return (f"ExportContext(national_id=<masked>, message_kind={self.message_kind!r}, "
                f"message_version={self.message_version}, message_id={self.message_id!r})")


@dataclass(slots=True)
class Message:
    """One registry message: field -> value, plus the key of the repeating entry it comes from."""

    format_key: str
    values: dict[str, Any]
    entry_key: str = ""
    issues: list[Issue] = field(default_factory=list)

    def __getitem__(self, name: str) -> Any:
        return self.values.get(name)


# ---------------------------------------------------------------------------------------------------------------
# checking

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value is False


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


def _holds(cond: Condition, values: dict[str, Any]) -> bool:
    if cond.any:
        return any(_holds(c, values) for c in cond.any)
    inside = _as_text(values.get(cond.field)) in cond.values
    return not inside if cond.negate else inside


def shown(fdef: FieldDef, values: dict[str, Any]) -> bool:
    """Whether the registry's rules show the field, given the other values."""
    return all(_holds(c, values) for c in fdef.shown_when)


def _value_problem(fdef: FieldDef, value: Any, today: _dt.date) -> str | None:
    """Why ``value`` does not fit ``fdef`` (None if it does); never quotes identity numbers."""
    t = fdef.type
    if t == "boolean":
        return None if isinstance(value, bool) else f"expected true or false, found {type(value).__name__}"
    if t == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            return f"expected an integer, found {value!r}"
    elif t == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            return f"expected a number, found {value!r}"
    elif not isinstance(value, str):
        return f"expected text, found {value!r}"
    if t in ("integer", "number"):
        if fdef.minimum is not None and value < fdef.minimum:
            return f"{value} is below the minimum {fdef.minimum:g}"
        if fdef.maximum is not None and value > fdef.maximum:
            return f"{value} is above the maximum {fdef.maximum:g}"
        return None
    if t == "code" and fdef.codes is not None and value not in fdef.codes:
        return f"{value!r} is not in the code list ({', '.join(list(fdef.codes)[:12])}{'...' if len(fdef.codes) > 12 else ''})"
    if t == "date":
        if not _DATE_RE.match(value):
            return f"{value!r} is not a full date (YYYY-MM-DD)"
        try:
            day = _dt.date.fromisoformat(value)
        except ValueError:
            return f"{value!r} is not a real date"
        if fdef.not_future and day > today:
            return f"the date {value} is after the export date {today.isoformat()}"
    if t == "datetime":
        if not _DATETIME_RE.match(value):
            return f"{value!r} is not a date and time (YYYY-MM-DDThh:mm[:ss][zone])"
        try:
            moment = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return f"{value!r} is not a real date and time"
        if fdef.not_future and moment.date() > today:
            return f"the time {value} is after the export date {today.isoformat()}"
    if fdef.max_length is not None and len(value) > fdef.max_length:
        return f"the text is {len(value)} characters long; at most {fdef.max_length} are allowed"
    if fdef.regex is not None and not fdef.regex.fullmatch(value):
        shown_value = "(identity number)" if fdef.fill in ("national_id", "foreign_national_id") else repr(value)
        return f"{shown_value} does not match the pattern {fdef.pattern}"
    return None


def check_values(fmt: ExportFormat, values: dict[str, Any], *, today: _dt.date | None = None,
                 where: str | None = None) -> list[Issue]:
    """Every way ``values`` (the complete message, filled fields included) breaks the format's rules."""
    today = today or _dt.date.today()
    issues: list[Issue] = []

    def add(code: str, fdef: FieldDef | None, msg: str) -> None:
        issues.append(Issue(code, msg, file=where, instance_path=fdef.name if fdef else None))

    for name in values:
        if name not in fmt.by_name:
            add("EXP001", None, f"field {name} is not part of {fmt.key}")
    for fdef in fmt.fields:
        value = values.get(fdef.name)
        if fdef.internal_only and not is_empty(value):
            add("EXP003", fdef, f"{fdef.name} is the registry's internal field and must be empty")
            continue
        if not is_empty(value):
            items = value if fdef.repeat and isinstance(value, list) else [value]
            if not fdef.repeat and isinstance(value, list):
                add("EXP001", fdef, f"{fdef.name}: one value expected, found {len(value)}")
                continue
            for item in items:
                problem = _value_problem(fdef, item, today)
                if problem:
                    add("EXP001", fdef, f"{fdef.name}: {problem}")
        visible = shown(fdef, values)
        if not visible and not is_empty(value):
            why = " and ".join(c.describe() for c in fdef.shown_when)
            add("EXP003", fdef, f"{fdef.name} has a value but the registry shows it only when {why}")
        elif visible and fdef.required and is_empty(value) and fdef.type != "boolean" \
                and all(is_empty(values.get(n)) for n in fdef.or_fields):
            cond = " and ".join(c.describe() for c in fdef.shown_when)
            alt = f" (or one of {', '.join(fdef.or_fields)})" if fdef.or_fields else ""
            add("EXP002", fdef, f"{fdef.name} ({fdef.label or 'no label'}){alt} is required"
                + (f" when {cond}" if cond else ""))
    return issues


# ---------------------------------------------------------------------------------------------------------------
# the envelope: filled fields


def fill_values(fmt: ExportFormat, ctx: ExportContext) -> tuple[dict[str, Any], list[Issue]]:
    """Values of the fields the export fills (identity, versioning, time), and issues with the context."""
    issues: list[Issue] = []
    if ctx.message_kind not in MESSAGE_KINDS:
        issues.append(Issue("EXP011", f"message kind {ctx.message_kind!r} is not one of N, M, C"))
    elif ctx.message_kind == "C" and not fmt.supports_annulment:
        issues.append(Issue("EXP011", f"{fmt.key} has no way to annul a message"))
    created = ctx.created or _dt.datetime.now(_dt.timezone.utc)
    foreign = bool(ctx.foreign_national_id) and not ctx.national_id
    if not foreign:
        if not ctx.national_id:
            issues.append(Issue("EXP004", "no national identity number for the patient (give it in the export context)"))
        else:
            verdict = check_national_id(ctx.national_id)
            if not verdict.ok:
                issues.append(Issue("EXP004", f"the patient's national identity number is invalid: {verdict.reason}"))
    source = {
        "blank": "", "zero": 0, "format_name": fmt.xml.get("root", fmt.format_id), "format_version": fmt.version,
        "message_id": ctx.message_id or "", "message_kind": ctx.message_kind, "message_version": ctx.message_version,
        "created": created.isoformat(timespec="seconds").replace("+00:00", "Z"), "file_name": ctx.file_name,
        "external": "0", "annulled": ctx.message_kind == "C", "national_id": "" if foreign else (ctx.national_id or ""),
        "foreign_id": foreign, "foreign_national_id": ctx.foreign_national_id or "" if foreign else "",
        "patient_name": ctx.patient_name or "", "composition_uid": ctx.composition_uid or "",
    }
    return {f.name: source[f.fill] for f in fmt.fields if f.fill}, issues


# ---------------------------------------------------------------------------------------------------------------
# serialising


def message_file_name(fmt: ExportFormat, message_id: str, version: int) -> str:
    ext = "xml" if fmt.serialisation == "kremt-xml" else "json"
    return f"{fmt.format_id}-{message_id}-v{version}.{ext}"


def new_message_id(composition_uid: str | None, format_key: str, entry_key: str) -> str:
    """A stable id for a message: the same composition, format and entry give the same id (so versions match)."""
    if not composition_uid:
        return str(uuid.uuid4())
    base = composition_uid.split("::")[0]
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"openehr-kit:{base}:{format_key}:{entry_key}"))


def to_xml(fmt: ExportFormat, values: dict[str, Any]) -> bytes:
    """A KREMT XML message: every element of the format in order (empty ones included, as the XSD wants)."""
    ns = fmt.xml["namespace"]
    prefix = fmt.xml["prefix"]
    root = etree.Element(f"{{{ns}}}{fmt.xml['root']}", nsmap={prefix: ns})
    groups: dict[str, etree._Element] = {"": root}
    for fdef in fmt.fields:
        parts = fdef.path.split("/")
        parent_key = ""
        parent = root
        for part in parts[:-1]:
            key = f"{parent_key}/{part}"
            el = groups.get(key)
            if el is None:
                el = groups[key] = etree.SubElement(parent, f"{{{ns}}}{part}")
            parent, parent_key = el, key
        value = values.get(fdef.name)
        if fdef.type == "boolean" and value is None:
            value = False  # xs:boolean elements cannot be empty; an unticked box is false
        if fdef.type == "integer" and value is None:
            value = 0
        child = etree.SubElement(parent, f"{{{ns}}}{parts[-1]}")
        text = _as_text(value)
        if text:
            child.text = text
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def to_json_document(fmt: ExportFormat, values: dict[str, Any], ctx: ExportContext, message_id: str,
                     entry_key: str = "") -> dict[str, Any]:
    """The JSON message: our envelope (format, id, kind, version, time, patient) and ``data`` in field order."""
    created = ctx.created or _dt.datetime.now(_dt.timezone.utc)
    doc: dict[str, Any] = {
        "format": fmt.format_id,
        "format_version": fmt.version,
        "message_id": message_id,
        "message_kind": ctx.message_kind,
        "message_version": ctx.message_version,
        "created": created.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "source": {"composition_uid": ctx.composition_uid or "", "entry": entry_key},
        "patient": {"national_id": ctx.national_id or ""},
    }
    if ctx.message_kind != "C":
        doc["data"] = {f.name: values[f.name] for f in fmt.fields if not is_empty(values.get(f.name))
                       or (f.type == "boolean" and values.get(f.name) is False)}
    return doc


def json_schema(fmt: ExportFormat) -> dict[str, Any]:
    """The JSON Schema of a JSON format's messages, generated from its definition (shipped beside it)."""
    props: dict[str, Any] = {}
    required = []
    for f in fmt.fields:
        t: dict[str, Any]
        if f.type == "boolean":
            t = {"type": "boolean"}
        elif f.type == "integer":
            t = {"type": "integer"}
        elif f.type == "number":
            t = {"type": "number"}
        elif f.type == "code":
            t = {"type": "string", "enum": list(f.codes or {})}
        elif f.type == "date":
            t = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
        elif f.type == "datetime":
            t = {"type": "string", "format": "date-time", "pattern": _DATETIME_RE.pattern}
        else:
            t = {"type": "string", "minLength": 1}
            if f.pattern:
                t["pattern"] = f"^(?:{f.pattern})$"
            if f.max_length is not None:
                t["maxLength"] = f.max_length
        if f.minimum is not None:
            t["minimum"] = f.minimum
        if f.maximum is not None:
            t["maximum"] = f.maximum
        if f.label:
            t["title"] = f.label
        if f.repeat:
            t = {"type": "array", "items": t, "minItems": 1, **({"title": f.label} if f.label else {})}
            t["items"].pop("title", None)
        props[f.name] = t
        if f.required and not f.shown_when:
            required.append(f.name)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://openehr-kit.example/registry_exports/{fmt.format_id}-{fmt.version}.schema.json",
        "title": fmt.title,
        "description": fmt.description,
        "type": "object",
        "required": ["format", "format_version", "message_id", "message_kind", "message_version", "created",
                     "source", "patient"],
        "additionalProperties": False,
        "properties": {
            "format": {"const": fmt.format_id},
            "format_version": {"const": fmt.version},
            "message_id": {"type": "string", "minLength": 1},
            "message_kind": {"enum": list(MESSAGE_KINDS),
                             "description": "N new, M correction (replaces the earlier version), C annulment"},
            "message_version": {"type": "integer", "minimum": 0},
            "created": {"type": "string", "format": "date-time"},
            "source": {
                "type": "object", "required": ["composition_uid", "entry"], "additionalProperties": False,
                "properties": {"composition_uid": {"type": "string"}, "entry": {"type": "string"}},
            },
            "patient": {
                "type": "object", "required": ["national_id"], "additionalProperties": False,
                "properties": {"national_id": {"type": "string", "pattern": r"^\d{11}$"}},
            },
            "data": {"type": "object", "additionalProperties": False, "required": required, "properties": props},
        },
        "if": {"properties": {"message_kind": {"const": "C"}}},
        "then": {"not": {"required": ["data"]}},
        "else": {"required": ["data"]},
    }


@functools.lru_cache(maxsize=None)
def _json_validator(fmt_key: str) -> jsonschema.protocols.Validator:
    from openehr_kit.mapping.formats import bundled_formats

    return jsonschema.Draft202012Validator(json_schema(bundled_formats()[fmt_key]))


def _validator_for(fmt: ExportFormat) -> jsonschema.protocols.Validator:
    from openehr_kit.mapping.formats import bundled_formats

    if fmt.key in bundled_formats() and bundled_formats()[fmt.key].source == fmt.source:
        return _json_validator(fmt.key)
    return jsonschema.Draft202012Validator(json_schema(fmt))


@dataclass(slots=True)
class Rendered:
    """A serialised message ready to write, or the issues that stop it."""

    file_name: str
    data: bytes | None
    values: dict[str, Any]
    issues: list[Issue]
    message_id: str
    entry_key: str = ""

    @property
    def ok(self) -> bool:
        return self.data is not None and not self.issues


def render(fmt: ExportFormat, mapped: dict[str, Any], ctx: ExportContext, *, entry_key: str = "",
           today: _dt.date | None = None, where: str | None = None) -> Rendered:
    """Fill, check and serialise one message; ``data`` is None when any check fails (nothing to write)."""
    message_id = ctx.message_id or new_message_id(ctx.composition_uid, fmt.key, entry_key)
    name = message_file_name(fmt, message_id, ctx.message_version)
    if not ctx.file_name:
        ctx = _with_file_name(ctx, name)
    filled, issues = fill_values(fmt, ctx)
    for i in issues:
        i.file = where
    values = dict(mapped)
    values.update(filled)
    if ctx.message_kind != "C":
        issues.extend(check_values(fmt, values, today=today, where=where))
    if issues:
        return Rendered(name, None, values, issues, message_id, entry_key)
    if fmt.serialisation == "kremt-xml":
        data = to_xml(fmt, values)
    else:
        doc = to_json_document(fmt, values, ctx, message_id, entry_key)
        errors = list(_validator_for(fmt).iter_errors(doc))
        if errors:
            err = errors[0]
            where_in = "/".join(str(p) for p in err.absolute_path) or "(top)"
            msg = err.message if "national_id" not in where_in else "the national id does not fit the schema"
            return Rendered(name, None, values, [Issue("EXP012", f"{where_in}: {msg}", file=where)], message_id,
                            entry_key)
        data = (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    return Rendered(name, data, values, [], message_id, entry_key)


def _with_file_name(ctx: ExportContext, name: str) -> ExportContext:
    import copy

    out = copy.copy(ctx)
    out.file_name = name
    return out


__all__ = [
    "ExportContext", "MESSAGE_KINDS", "Message", "Rendered", "check_values", "fill_values", "is_empty", "json_schema",
    "message_file_name", "new_message_id", "render", "shown", "to_json_document", "to_xml",
]
