"""Registry messages: the export context, checking a message against its format, and serialising it.

Every message is checked against its format definition (:mod:`openehr_kit.mapping.formats`) before it is
serialised; the serialised JSON is checked once more against the format's JSON Schema. A message with issues is
never written. The patient's identity comes from an :class:`ExportContext` the caller gives (compositions do not
carry it) and is never shown unmasked in an issue.
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

import jsonschema
from lxml import etree

from openehr_kit.diagnostics import Issue
from openehr_kit.mapping.formats import Condition, ExportFormat, FieldDef, bundled_format, bundled_formats
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
    return _condition_check(cond)(values)


def _condition_check(cond: Condition) -> Callable[[dict[str, Any]], bool]:
    """Whether ``cond`` holds for a message's values (a field's value, as text, is or is not one of the listed)."""
    if cond.any:
        alternatives = [_condition_check(c) for c in cond.any]
        return lambda values: any(holds(values) for holds in alternatives)
    name, listed, negate = cond.field, cond.values, bool(cond.negate)

    def holds(values: dict[str, Any]) -> bool:
        value = values.get(name)
        return ((value if type(value) is str else _as_text(value)) in listed) is not negate

    return holds


def _all_hold(conds: tuple[Condition, ...]) -> Callable[[dict[str, Any]], bool] | None:
    """Whether every one of ``conds`` holds (None when there are none)."""
    checks = [_condition_check(c) for c in conds]
    if not checks:
        return None
    if len(checks) == 1:
        return checks[0]
    return lambda values: all(holds(values) for holds in checks)


def shown(fdef: FieldDef, values: dict[str, Any]) -> bool:
    """Whether the registry's rules show the field, given the other values."""
    for c in fdef.shown_when:
        if not _holds(c, values):
            return False
    return True


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
            day = _day_of_moment(value)
        except ValueError:
            return f"{value!r} is not a real date and time"
        if fdef.not_future and day > today:
            return f"the time {value} is after the export date {today.isoformat()}"
    if fdef.max_length is not None and len(value) > fdef.max_length:
        return f"the text is {len(value)} characters long; at most {fdef.max_length} are allowed"
    if fdef.regex is not None and not fdef.regex.fullmatch(value):
        shown_value = "(identity number)" if fdef.fill in ("national_id", "foreign_national_id") else repr(value)
        return f"{shown_value} does not match the pattern {fdef.pattern}"
    return None


def _day_of_moment(value: str) -> _dt.date:
    """The date of an ISO 8601 date and time (Z for UTC); ValueError when it is not a real one."""
    return _dt.datetime.fromisoformat(value.replace("Z", "+00:00")).date()


def check_values(fmt: ExportFormat, values: dict[str, Any], *, today: _dt.date | None = None,
                 where: str | None = None) -> list[Issue]:
    """Every way ``values`` (the complete message, filled fields included) breaks the format's rules."""
    today = today or _dt.date.today()
    if _check_plan(fmt).fits(values, today):
        return []  # the usual case; the walk below only runs to report what is wrong
    issues: list[Issue] = []

    def add(code: str, fdef: FieldDef | None, msg: str) -> None:
        issues.append(Issue(code, msg, file=where, instance_path=fdef.name if fdef else None))

    by_name = fmt.by_name
    for name in values:
        if name not in by_name:
            add("EXP001", None, f"field {name} is not part of {fmt.key}")
    for fdef in fmt.fields:
        value = values.get(fdef.name)
        empty = value is None or value == "" or value == [] or value is False  # is_empty(value)
        if fdef.internal_only and not empty:
            add("EXP003", fdef, f"{fdef.name} is the registry's internal field and must be empty")
            continue
        if not empty:
            items = value if fdef.repeat and isinstance(value, list) else [value]
            if not fdef.repeat and isinstance(value, list):
                add("EXP001", fdef, f"{fdef.name}: one value expected, found {len(value)}")
                continue
            for item in items:
                problem = _value_problem(fdef, item, today)
                if problem:
                    add("EXP001", fdef, f"{fdef.name}: {problem}")
        visible = not fdef.shown_when or shown(fdef, values)
        if not visible and not empty:
            why = " and ".join(c.describe() for c in fdef.shown_when)
            add("EXP003", fdef, f"{fdef.name} has a value but the registry shows it only when {why}")
        elif visible and fdef.required and empty and fdef.type != "boolean" \
                and all(is_empty(values.get(n)) for n in fdef.or_fields):
            cond = " and ".join(c.describe() for c in fdef.shown_when)
            alt = f" (or one of {', '.join(fdef.or_fields)})" if fdef.or_fields else ""
            add("EXP002", fdef, f"{fdef.name} ({fdef.label or 'no label'}){alt} is required"
                + (f" when {cond}" if cond else ""))
    return issues


def _format_cached(fmt: ExportFormat, key: str, build: Callable[[ExportFormat], Any]) -> Any:
    """What ``build`` works out from a format's fields, made once per format (again if its field list changes)."""
    cached = fmt.cache.get(key)
    if cached is not None and cached[0] is fmt.fields and cached[1] == len(fmt.fields):
        return cached[2]
    made = build(fmt)
    fmt.cache[key] = (fmt.fields, len(fmt.fields), made)
    return made


class _CheckPlan:
    """check_values's rules of one format laid out for a quick yes or no: does a message break none of them?

    A message is checked field by field only when this says it breaks one (to report the issues in order): most
    fields of a format are empty in a message, and the rules about values are only asked of the values there.
    """

    __slots__ = ("fit", "required")

    def __init__(self, fmt: ExportFormat) -> None:
        #: field name -> whether a non-empty value fits the field: its rules about values, and its shown_when
        #: (which must hold when it has a value); an internal-only field's value never does (it must be empty)
        self.fit: dict[str, _Fit] = {f.name: _refused if f.internal_only else _fit_check(f) for f in fmt.fields}
        #: (name, whether it is shown (None: always), or_fields) of the required fields (a boolean is never missing:
        #: false is a value)
        self.required = [(f.name, _all_hold(f.shown_when), f.or_fields) for f in fmt.fields
                         if f.required and f.type != "boolean"]

    def fits(self, values: dict[str, Any], today: _dt.date) -> bool:
        fit = self.fit
        for name, value in values.items():
            check = fit.get(name)
            if check is None:
                return False  # not a field of the format
            if type(value) is str:  # is_empty(value), text first (most values are)
                if not value:
                    continue
            elif value is None or value is False or value == []:
                continue
            if not check(value, today, values):
                return False
        for name, is_shown, or_fields in self.required:
            value = values.get(name)
            if type(value) is str:
                if value:
                    continue
            elif not (value is None or value is False or value == []):
                continue
            if (is_shown is None or is_shown(values)) and all(is_empty(values.get(n)) for n in or_fields):
                return False  # shown, so required, and missing
        return True


#: whether a non-empty value fits a field: (the value, the export date, the whole message) -> yes or no
_Fit = Callable[[Any, _dt.date, dict[str, Any]], bool]


def _refused(value: Any, today: _dt.date, values: dict[str, Any]) -> bool:
    return False


def _fit_check(fdef: FieldDef) -> _Fit:
    """Whether a non-empty value gives check_values no issue for this field (one value, or a list of them)."""
    one = _fit_one(fdef)  # says no to a list (no field type takes one as a value)
    check = _each(one) if fdef.repeat else one
    is_shown = _all_hold(fdef.shown_when)
    if is_shown is None:
        return check
    # and a value only in a field the registry shows
    return lambda value, today, values: check(value, today, values) and is_shown(values)


def _each(one: _Fit) -> _Fit:
    """A repeating field's fit: one value, or a list of values that each fit."""

    def each(value: Any, today: _dt.date, values: dict[str, Any]) -> bool:
        if not isinstance(value, list):
            return one(value, today, values)
        for item in value:
            if not one(item, today, values):
                return False
        return True

    return each


def _fit_one(fdef: FieldDef) -> _Fit:
    """``_value_problem(fdef, value, today) is None``, written out for the field types."""
    t = fdef.type
    if t == "boolean":
        return lambda value, today, values: isinstance(value, bool)
    if t in ("integer", "number"):
        lo, hi = fdef.minimum, fdef.maximum

        def number(value: Any, today: _dt.date, values: dict[str, Any]) -> bool:
            if isinstance(value, bool):
                return False
            if t == "integer":
                if not isinstance(value, int):
                    return False
            elif not isinstance(value, (int, float)) or value != value:
                return False
            return (lo is None or not value < lo) and (hi is None or not value > hi)

        return number
    if t in ("text", "code"):
        return _text_fit(fdef)
    if t in ("date", "datetime") and fdef.max_length is None and fdef.pattern is None:
        shape, day_of = (_DATE_RE, _dt.date.fromisoformat) if t == "date" else (_DATETIME_RE, _day_of_moment)
        not_future = fdef.not_future

        def when(value: Any, today: _dt.date, values: dict[str, Any]) -> bool:
            if not isinstance(value, str) or not shape.match(value):
                return False
            try:
                day = day_of(value)
            except ValueError:
                return False
            return not (not_future and day > today)

        return when
    return functools.partial(_generic_fit, fdef)


def _text_fit(fdef: FieldDef) -> _Fit:
    """_fit_one for a text or code field: text, in the code list, not too long, matching the pattern."""
    codes = fdef.codes if fdef.type == "code" else None
    longest = fdef.max_length
    try:
        regex = fdef.regex
    except Exception:  # noqa: BLE001 - a pattern that does not compile fails when a value is checked, as before
        return functools.partial(_generic_fit, fdef)
    fullmatch = regex.fullmatch if regex is not None else None

    def text(value: Any, today: _dt.date, values: dict[str, Any]) -> bool:
        if not isinstance(value, str) or (codes is not None and value not in codes):
            return False
        if longest is not None and len(value) > longest:
            return False
        return fullmatch is None or fullmatch(value) is not None

    return text


def _generic_fit(fdef: FieldDef, value: Any, today: _dt.date, values: dict[str, Any]) -> bool:
    return _value_problem(fdef, value, today) is None


def _check_plan(fmt: ExportFormat) -> _CheckPlan:
    return _format_cached(fmt, "check", _CheckPlan)


# ---------------------------------------------------------------------------------------------------------------
# the envelope: filled fields


def fill_values(fmt: ExportFormat, ctx: ExportContext) -> tuple[dict[str, Any], list[Issue]]:
    """Values of the fields the export fills (identity, versioning, time), and issues with the context."""
    return _fill_values(fmt, ctx, ctx.file_name, _created_text(ctx))


def _fill_values(fmt: ExportFormat, ctx: ExportContext, file_name: str, created: str) \
        -> tuple[dict[str, Any], list[Issue]]:
    """fill_values with the file name and the creation time (_created_text) given apart: render works them out
    once for the message (and does not copy the context to set the file name)."""
    issues: list[Issue] = []
    if ctx.message_kind not in MESSAGE_KINDS:
        issues.append(Issue("EXP011", f"message kind {ctx.message_kind!r} is not one of N, M, C"))
    elif ctx.message_kind == "C" and not fmt.supports_annulment:
        issues.append(Issue("EXP011", f"{fmt.key} has no way to annul a message"))
    foreign = bool(ctx.foreign_national_id) and not ctx.national_id
    if not foreign:
        if not ctx.national_id:
            issues.append(Issue("EXP004", "no national identity number for the patient (give it in the export context)"))
        else:
            verdict = check_national_id(ctx.national_id)
            if not verdict.ok:
                issues.append(Issue("EXP004", f"the patient's national identity number is invalid: {verdict.reason}"))
    fills = _format_cached(fmt, "fill", _fills)
    if not fills:
        return {}, issues  # a JSON format: the envelope carries all this
    source = {
        "blank": "", "zero": 0, "format_name": fmt.xml.get("root", fmt.format_id), "format_version": fmt.version,
        "message_id": ctx.message_id or "", "message_kind": ctx.message_kind, "message_version": ctx.message_version,
        "created": created, "file_name": file_name,
        "external": "0", "annulled": ctx.message_kind == "C", "national_id": "" if foreign else (ctx.national_id or ""),
        "foreign_id": foreign, "foreign_national_id": ctx.foreign_national_id or "" if foreign else "",
        "patient_name": ctx.patient_name or "", "composition_uid": ctx.composition_uid or "",
    }
    return {name: source[fill] for name, fill in fills}, issues


def _fills(fmt: ExportFormat) -> list[tuple[str, str]]:
    """(field name, fill name) of the fields the export fills, in field order."""
    return [(f.name, f.fill) for f in fmt.fields if f.fill]


def _created_text(ctx: ExportContext) -> str:
    """The message's creation time as written in it (now when the context gives none), in whole seconds."""
    created = ctx.created or _dt.datetime.now(_dt.timezone.utc)
    return created.isoformat(timespec="seconds").replace("+00:00", "Z")


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
    # str(uuid.uuid5(uuid.NAMESPACE_URL, name)) without the UUID object: SHA-1 of the namespace and the name, its
    # first 16 bytes with the version (5) and variant (RFC 4122) bits set
    digest = bytearray(_sha1(_URL_NAMESPACE + f"openehr-kit:{base}:{format_key}:{entry_key}".encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_URL_NAMESPACE = uuid.NAMESPACE_URL.bytes
_sha1 = hashlib.sha1


def to_xml(fmt: ExportFormat, values: dict[str, Any]) -> bytes:
    """A KREMT XML message: every element of the format in order (empty ones included, as the XSD wants)."""
    plan = _xml_plan(fmt)
    if plan is not None:
        data = plan.render(values)
        if data is not None:
            return data
    return _to_xml_lxml(fmt, values)


def _xml_text(fdef: FieldDef, value: Any) -> str:
    if fdef.type == "boolean" and value is None:
        value = False  # xs:boolean elements cannot be empty; an unticked box is false
    if fdef.type == "integer" and value is None:
        value = 0
    return _as_text(value)


def _to_xml_lxml(fmt: ExportFormat, values: dict[str, Any]) -> bytes:
    """to_xml through lxml: the reference serialisation (and the way for text the fast one does not take)."""
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
        child = etree.SubElement(parent, f"{{{ns}}}{parts[-1]}")
        text = _xml_text(fdef, values.get(fdef.name))
        if text:
            child.text = text
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


#: characters lxml refuses, or writes as a character reference (CR); text with any of them goes through lxml
_XML_ODD = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


class _XmlPlan:
    """A KREMT format's pretty-printed XML as fixed text around one slot per field, so a message is a join.

    The element tree of a format is the same for every message (only the texts differ); it is laid out once
    the way lxml prints it and checked against lxml on two messages before it is used.
    """

    __slots__ = ("names", "if_none", "tags", "tail")

    def __init__(self, fmt: ExportFormat) -> None:
        prefix = fmt.xml["prefix"]
        if len({f.name for f in fmt.fields}) != len(fmt.fields):
            raise ValueError("a field name is used twice")  # the slots are found by name
        # the tree: groups (by path) with their children in order, as _to_xml_lxml makes it
        root: list[Any] = []
        groups: dict[str, list[Any]] = {"": root}
        for fdef in fmt.fields:
            parts = fdef.path.split("/")
            parent_key, parent = "", root
            for part in parts[:-1]:
                key = f"{parent_key}/{part}"
                children = groups.get(key)
                if children is None:
                    children = groups[key] = []
                    parent.append((part, children))
                parent, parent_key = children, key
            parent.append(fdef)
        head = [f"<?xml version='1.0' encoding='UTF-8'?>\n<{prefix}:{fmt.xml['root']} xmlns:{prefix}="
                f"{_xml_attr(fmt.xml['namespace'])}>\n"]
        #: per slot, in document order: the field's name, its text when it has no value, and (the text before it
        #: with its open tag; its close tag and newline; the text before it with its empty element and newline)
        self.names: list[str] = []
        self.if_none: list[str] = []
        self.tags: list[tuple[str, str, str]] = []

        def lay_out(children: list[Any], depth: int) -> None:
            pad = "  " * depth
            for child in children:
                if isinstance(child, FieldDef):
                    name = child.path.split("/")[-1]
                    before = "".join(head)
                    self.names.append(child.name)
                    self.if_none.append(_xml_text(child, None))
                    self.tags.append((f"{before}{pad}<{prefix}:{name}>", f"</{prefix}:{name}>\n",
                                      f"{before}{pad}<{prefix}:{name}/>\n"))
                    head.clear()
                else:
                    part, kids = child
                    head.append(f"{pad}<{prefix}:{part}>\n")
                    lay_out(kids, depth + 1)
                    head.append(f"{pad}</{prefix}:{part}>\n")

        lay_out(root, 1)
        head.append(f"</{prefix}:{fmt.xml['root']}>\n")
        self.tail = "".join(head)  # after the last field

    def render(self, values: dict[str, Any]) -> bytes | None:
        """The message, or None when a text needs lxml (control characters and the like)."""
        texts = [if_none if value is None else value if type(value) is str else _as_text(value)  # _xml_text
                 for value, if_none in zip(map(values.get, self.names), self.if_none)]
        joined = "".join(texts)  # the texts looked at once: most have none of the characters asked about
        if not joined.isprintable() and _XML_ODD.search(joined):
            return None
        if "&" in joined or "<" in joined or ">" in joined:
            texts = [_xml_escape(text) for text in texts]
        out: list[str] = []
        add = out.append
        for text, (open_tag, close, empty) in zip(texts, self.tags):
            if text:
                out += (open_tag, text, close)
            else:
                add(empty)
        add(self.tail)
        return "".join(out).encode("utf-8")


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _xml_attr(value: str) -> str:
    return '"' + _xml_escape(value).replace('"', "&quot;") + '"'


def _xml_plan(fmt: ExportFormat) -> _XmlPlan | None:
    """The format's XML layout, made once per format (None when it does not print exactly as lxml does)."""
    cached = fmt.cache.get("xml")
    if cached is not None and cached[0] is fmt.fields and cached[1] == len(fmt.fields) and cached[2] is fmt.xml:
        return cached[3]
    plan: _XmlPlan | None
    try:
        plan = _XmlPlan(fmt)
        samples = [{}, {f.name: f"x{i} &<>\"'" for i, f in enumerate(fmt.fields)}]
        if any(plan.render(v) != _to_xml_lxml(fmt, v) for v in samples):
            plan = None
    except Exception:  # noqa: BLE001 - an odd format definition: lxml alone says what happens
        plan = None
    fmt.cache["xml"] = (fmt.fields, len(fmt.fields), fmt.xml, plan)
    return plan


def to_json_document(fmt: ExportFormat, values: dict[str, Any], ctx: ExportContext, message_id: str,
                     entry_key: str = "") -> dict[str, Any]:
    """The JSON message: our envelope (format, id, kind, version, time, patient) and ``data`` in field order."""
    return _json_document(fmt, values, ctx, message_id, entry_key, _created_text(ctx))


def _json_document(fmt: ExportFormat, values: dict[str, Any], ctx: ExportContext, message_id: str, entry_key: str,
                   created: str) -> dict[str, Any]:
    """to_json_document with the creation time (_created_text) given."""
    doc: dict[str, Any] = {
        "format": fmt.format_id,
        "format_version": fmt.version,
        "message_id": message_id,
        "message_kind": ctx.message_kind,
        "message_version": ctx.message_version,
        "created": created,
        "source": {"composition_uid": ctx.composition_uid or "", "entry": entry_key},
        "patient": {"national_id": ctx.national_id or ""},
    }
    if ctx.message_kind != "C":
        doc["data"] = _json_data(fmt, values)
    return doc


def _json_data(fmt: ExportFormat, values: dict[str, Any]) -> dict[str, Any]:
    """A JSON message's ``data``: the fields with a value in field order (false counts for a boolean field)."""
    data: dict[str, Any] = {}
    get = values.get
    for name, boolean in _format_cached(fmt, "json_fields", _json_fields):
        value = get(name)
        if type(value) is str:  # not is_empty(value), text first (most values are)
            if value:
                data[name] = value
        elif value is False:
            if boolean:
                data[name] = value
        elif value is not None and not is_empty(value):
            data[name] = value
    return data


def _json_fields(fmt: ExportFormat) -> list[tuple[str, bool]]:
    """(field name, whether it is a boolean field) of every field, in field order."""
    return [(f.name, f.type == "boolean") for f in fmt.fields]


def json_schema(fmt: ExportFormat) -> dict[str, Any]:
    """The JSON Schema of a JSON format's messages, generated from its definition (shipped beside it)."""
    props = {f.name: _field_schema(f) for f in fmt.fields}
    required = [f.name for f in fmt.fields if f.required and not f.shown_when]
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


def _field_schema(f: FieldDef) -> dict[str, Any]:
    """The JSON Schema of a field's value in ``data`` (see _implied_by_check_values when changing it)."""
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
    return t


def _implied_by_check_values(f: FieldDef) -> bool:
    """Whether every non-empty value check_values lets through for ``f`` fits _field_schema(f).

    It does for one value of each type: check_values asks the same type (a whole number for integer, text for the
    rest), the same bounds, code list and maximum length, a full match of the pattern (which ^(?:pattern)$
    then finds) and a real date or time of the pattern's shape. Not for a repeating field (check_values takes one
    value where the schema wants a list) nor for a code field without a code list (the schema's enum is empty).
    """
    return not f.repeat and (f.type != "code" or f.codes is not None)


@functools.lru_cache(maxsize=None)
def _json_validator(fmt_key: str) -> jsonschema.protocols.Validator:
    return jsonschema.Draft202012Validator(json_schema(bundled_formats()[fmt_key]))


def _bundled_key(fmt: ExportFormat) -> str | None:
    """The format's key when it is the bundled format of that key (read from the same file), whose schema is cached."""
    key = fmt.key
    bundled = bundled_format(key)
    return key if bundled is not None and bundled.source == fmt.source else None


def _validator_for(fmt: ExportFormat) -> jsonschema.protocols.Validator:
    key = _bundled_key(fmt)
    if key is not None:
        return _json_validator(key)
    return jsonschema.Draft202012Validator(json_schema(fmt))


@functools.lru_cache(maxsize=None)
def _json_fast_check(fmt_key: str) -> "Callable[[Any], bool] | None":
    """The compiled check of a bundled format's schema (the one _json_validator uses), None if it cannot be."""
    validator = _json_validator(fmt_key)
    if validator.format_checker is not None:
        return None  # "format" would be asserted: leave it all to jsonschema
    return compile_schema_check(validator.schema)


def _schema_problems(fmt: ExportFormat, doc: dict[str, Any], *, values_checked: bool = False) \
        -> list[jsonschema.ValidationError]:
    """jsonschema's errors for ``doc`` (none when it fits); the compiled check answers first for bundled formats,
    and jsonschema only makes the report when that check does not say valid. ``values_checked``: ``doc`` is
    to_json_document's, of values check_values passed (or an annulment's, without data), so a shorter check can
    tell that it fits."""
    key = _bundled_key(fmt)
    if key is not None:
        check = _json_fast_check(key)
        if check is not None:
            try:
                if values_checked:
                    rest = _checked_document_check(fmt)
                    if rest is not None and rest.key == key and rest.fits(doc):
                        return []
                if check(doc):
                    return []
            except _Unsure:
                pass
    return list(_validator_for(fmt).iter_errors(doc))


class _CheckedDocument:
    """A bundled JSON format's schema as asked of to_json_document's documents whose values passed check_values:
    the envelope in full (compiled), and of ``data`` what check_values does not ensure already: that it has the
    required members, and the members of fields whose schema check_values' rules do not imply."""

    __slots__ = ("key", "envelope", "names", "required", "others")

    def __init__(self, fmt: ExportFormat, key: str) -> None:
        """_NotCompiled when the cached schema is not the one check_values' rules imply for the format's data."""
        schema = _json_validator(key).schema
        data = schema["properties"]["data"]
        props = data.get("properties")
        if set(data) != {"type", "additionalProperties", "required", "properties"} or data["type"] != "object" \
                or data["additionalProperties"] is not False or not isinstance(props, dict) \
                or props.keys() != {f.name for f in fmt.fields} \
                or any(props[f.name] != _field_schema(f) for f in fmt.fields):
            raise _NotCompiled()
        self.key = key
        self.envelope = _compile({**schema, "properties": {**schema["properties"], "data": True}})
        self.names = props.keys()
        self.required = tuple(data["required"])
        self.others = [(f.name, _compile(props[f.name])) for f in fmt.fields if not _implied_by_check_values(f)]

    def fits(self, doc: dict[str, Any]) -> bool:
        """Whether ``doc`` is valid against the schema (_Unsure as the compiled check raises it)."""
        if not self.envelope(doc):
            return False
        if "data" not in doc:
            return True
        data = doc["data"]
        if type(data) is not dict or not self.names >= data.keys():
            return False
        for name in self.required:
            if name not in data:
                return False
        for name, check in self.others:
            if name in data and not check(data[name]):
                return False
        return True


def _checked_document_check(fmt: ExportFormat) -> _CheckedDocument | None:
    return _format_cached(fmt, "checked_document", _make_checked_document)


def _make_checked_document(fmt: ExportFormat) -> _CheckedDocument | None:
    key = _bundled_key(fmt)
    if key is None or _json_fast_check(key) is None:
        return None
    try:
        return _CheckedDocument(fmt, key)
    except Exception:  # noqa: BLE001 - a schema of another shape: the whole compiled check answers
        return None


# --- a compiled check for the JSON Schema subset json_schema() writes ---------------------------------------------


class _Unsure(Exception):
    """The compiled check cannot tell exactly (an unusual Python type); jsonschema decides."""


#: keywords that only annotate (with no format checker, "format" is one of them too)
_ANNOTATIONS = frozenset({"$schema", "$id", "title", "description", "format", "$comment", "examples", "default"})


def compile_schema_check(schema: Any) -> "Callable[[Any], bool] | None":
    """A function telling exactly whether an instance is valid against ``schema`` (as Draft 2020-12 jsonschema
    without a format checker judges it), or raising _Unsure; None when the schema uses a keyword or form outside
    the subset handled here (type, const, enum, required, properties, additionalProperties, items, minItems,
    minLength, maxLength, pattern, minimum, maximum, if/then/else, not and annotations)."""
    try:
        return _compile(schema)
    except _NotCompiled:
        return None


class _NotCompiled(Exception):
    pass


def _is_type(instance: Any, name: str) -> bool:
    """jsonschema's type check for the 2020-12 type names; _Unsure for numbers of other Python types."""
    if name == "string":
        return isinstance(instance, str)
    if name == "object":
        return isinstance(instance, dict)
    if name == "array":
        return isinstance(instance, list)
    if name == "boolean":
        return isinstance(instance, bool)
    if name == "null":
        return instance is None
    if isinstance(instance, bool):
        return False
    if isinstance(instance, int):
        return True
    if isinstance(instance, float):
        return name == "number" or instance.is_integer()
    if isinstance(instance, (str, dict, list)) or instance is None:
        return False
    raise _Unsure()


def _plain_number(instance: Any) -> bool:
    """Whether minimum/maximum apply (a number that is not a bool); _Unsure for other number types."""
    if isinstance(instance, bool) or isinstance(instance, (str, dict, list)) or instance is None:
        return False
    if isinstance(instance, (int, float)):
        return True
    raise _Unsure()


def _str_members(values: list[Any]) -> frozenset[str]:
    if not all(type(v) is str for v in values):
        raise _NotCompiled()
    return frozenset(values)


def _member(members: frozenset[str], instance: Any) -> bool:
    # jsonschema's equal() compares a string with == only, so nothing but a string can equal one
    if type(instance) is str:
        return instance in members
    if isinstance(instance, (bool, int, float, dict, list)) or instance is None:
        return False
    raise _Unsure()


def _compile(schema: Any) -> "Callable[[Any], bool]":
    if schema is True:
        return lambda instance: True
    if schema is False:
        return lambda instance: False
    if not isinstance(schema, dict):
        raise _NotCompiled()
    string = _string_check(schema)
    if string is not None:
        return string
    checks: list[Callable[[Any], bool]] = []
    for kw, arg in schema.items():
        if kw in _ANNOTATIONS or kw in ("then", "else"):
            continue
        checks.append(_keyword(kw, arg, schema))
    every = _all_of(checks)
    return _number_check(schema, every) or every


def _all_of(checks: "list[Callable[[Any], bool]]") -> "Callable[[Any], bool]":
    if not checks:
        return lambda instance: True
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda instance: first(instance) and second(instance)

    def all_of(instance: Any) -> bool:
        for c in checks:
            if not c(instance):
                return False
        return True

    return all_of


def _number_check(schema: dict[str, Any], every: "Callable[[Any], bool]") -> "Callable[[Any], bool] | None":
    """A number property's keywords (type integer or number with minimum, maximum) as one function for a plain int
    (or float, for type number), the usual values; ``every`` (all the keywords' checks) answers for any other value.
    None for any other schema."""
    kws = {kw: arg for kw, arg in schema.items() if kw not in _ANNOTATIONS}
    name = kws.get("type")
    if name not in ("integer", "number") or not set(kws) <= {"type", "minimum", "maximum"}:
        return None
    lo, hi = kws.get("minimum"), kws.get("maximum")  # numbers (_keyword accepted them)
    plain = (int,) if name == "integer" else (int, float)

    def number(instance: Any) -> bool:
        if type(instance) not in plain:
            return every(instance)
        return (lo is None or not instance < lo) and (hi is None or not instance > hi)

    return number


def _string_check(schema: dict[str, Any]) -> "Callable[[Any], bool] | None":
    """A text property's keywords (type string with enum, minLength, maxLength, pattern) as one function; None for
    any other schema. A value that is not text fails the type (whatever the other keywords would say)."""
    kws = {kw: arg for kw, arg in schema.items() if kw not in _ANNOTATIONS}
    if kws.get("type") != "string" or not set(kws) <= {"type", "enum", "minLength", "maxLength", "pattern"}:
        return None
    for kw in ("minLength", "maxLength"):
        arg = kws.get(kw, 0)
        if isinstance(arg, bool) or not isinstance(arg, int):
            return None
    if "pattern" in kws and not isinstance(kws["pattern"], str):
        return None
    if "enum" in kws and not (isinstance(kws["enum"], list) and all(type(v) is str for v in kws["enum"])):
        return None
    members = frozenset(kws["enum"]) if "enum" in kws else None
    shortest, longest = kws.get("minLength", 0), kws.get("maxLength")
    search = re.compile(kws["pattern"]).search if "pattern" in kws else None

    def string(instance: Any) -> bool:
        if not isinstance(instance, str):
            return False
        if members is not None and (type(instance) is not str or instance not in members):
            return _member(members, instance)
        n = len(instance)
        if n < shortest or (longest is not None and n > longest):
            return False
        return search is None or search(instance) is not None

    return string


def _keyword(kw: str, arg: Any, schema: dict[str, Any]) -> "Callable[[Any], bool]":
    if kw == "type":
        names = [arg] if isinstance(arg, str) else arg
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names) or \
                not set(names) <= {"string", "object", "array", "boolean", "null", "integer", "number"}:
            raise _NotCompiled()
        if len(names) == 1:
            name = names[0]
            if name == "string":
                return lambda instance: isinstance(instance, str)
            if name == "boolean":
                return lambda instance: instance is True or instance is False  # bool has no subclasses
            return lambda instance: _is_type(instance, name)
        return lambda instance: any(_is_type(instance, n) for n in names)
    if kw == "const":
        members = _str_members([arg])
        return lambda instance: _member(members, instance)
    if kw == "enum":
        if not isinstance(arg, list):
            raise _NotCompiled()
        members = _str_members(arg)
        return lambda instance: _member(members, instance)
    if kw == "required":
        if not isinstance(arg, list) or not all(isinstance(n, str) for n in arg):
            raise _NotCompiled()
        names = tuple(arg)

        def required(instance: Any) -> bool:
            if isinstance(instance, dict):
                for n in names:
                    if n not in instance:
                        return False
            return True

        return required
    if kw == "properties":
        if not isinstance(arg, dict):
            raise _NotCompiled()
        props = {name: _compile(sub) for name, sub in arg.items()}
        few = len(props)

        def properties(instance: Any) -> bool:
            # by the instance's members or the schema's properties, whichever are fewer; which property is checked
            # first does not matter for a yes or no (and an _Unsure leaves it all to jsonschema anyway)
            if not isinstance(instance, dict):
                return True
            if len(instance) <= few:
                for name, value in instance.items():
                    check = props.get(name)
                    if check is not None and not check(value):
                        return False
            else:
                for name, check in props.items():
                    if name in instance and not check(instance[name]):
                        return False
            return True

        return properties
    if kw == "additionalProperties":
        if arg is True:
            return lambda instance: True
        if arg is not False or "patternProperties" in schema:
            raise _NotCompiled()
        known = frozenset(schema.get("properties", {}))
        return lambda instance: not isinstance(instance, dict) or known.issuperset(instance)
    if kw == "items":
        if "prefixItems" in schema:
            raise _NotCompiled()
        item = _compile(arg)
        return lambda instance: not isinstance(instance, list) or all(item(i) for i in instance)
    if kw in ("minItems", "minLength", "maxLength"):
        if isinstance(arg, bool) or not isinstance(arg, int):
            raise _NotCompiled()
        if kw == "minItems":
            return lambda instance: not isinstance(instance, list) or len(instance) >= arg
        if kw == "minLength":
            return lambda instance: not isinstance(instance, str) or len(instance) >= arg
        return lambda instance: not isinstance(instance, str) or len(instance) <= arg
    if kw == "pattern":
        if not isinstance(arg, str):
            raise _NotCompiled()
        search = re.compile(arg).search  # jsonschema uses re.search too
        return lambda instance: not isinstance(instance, str) or search(instance) is not None
    if kw in ("minimum", "maximum"):
        if isinstance(arg, bool) or not isinstance(arg, (int, float)):
            raise _NotCompiled()
        if kw == "minimum":
            return lambda instance: not _plain_number(instance) or not instance < arg
        return lambda instance: not _plain_number(instance) or not instance > arg
    if kw == "not":
        inner = _compile(arg)
        return lambda instance: not inner(instance)
    if kw == "if":
        cond = _compile(arg)
        then = _compile(schema.get("then", True))
        other = _compile(schema.get("else", True))
        return lambda instance: then(instance) if cond(instance) else other(instance)
    raise _NotCompiled()


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
    created = _created_text(ctx)
    filled, issues = _fill_values(fmt, ctx, ctx.file_name or name, created)
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
        doc = _json_document(fmt, values, ctx, message_id, entry_key, created)
        errors = _schema_problems(fmt, doc, values_checked=True)
        if errors:
            err = errors[0]
            where_in = "/".join(str(p) for p in err.absolute_path) or "(top)"
            msg = err.message if "national_id" not in where_in else "the national id does not fit the schema"
            return Rendered(name, None, values, [Issue("EXP012", f"{where_in}: {msg}", file=where)], message_id,
                            entry_key)
        data = (_message_json_text(fmt, doc) + "\n").encode("utf-8")
    return Rendered(name, data, values, [], message_id, entry_key)


_encode_str = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) uses for strings


class _NotPlain(Exception):
    """A value json.dumps would have to convert (or refuse): leave the document to json.dumps."""


def _json_text(doc: dict[str, Any]) -> str:
    """``json.dumps(doc, ensure_ascii=False, indent=2)``, faster (json's indenting encoder is pure Python);
    anything but str keys and plain JSON values goes to json.dumps itself."""
    try:
        return _json_value(doc, "\n")
    except _NotPlain:
        return json.dumps(doc, ensure_ascii=False, indent=2)


_INFINITY = float("inf")


def _json_float(o: float) -> str:
    if o != o:
        return "NaN"
    if o in (_INFINITY, -_INFINITY):
        return "Infinity" if o > 0 else "-Infinity"
    return float.__repr__(o)

#: the text of a value of exactly these types (not subclasses), as json's encoder writes it
_SCALAR_TEXT: dict[type, Callable[[Any], str]] = {
    str: _encode_str, int: int.__repr__, float: _json_float, bool: {True: "true", False: "false"}.__getitem__,
    type(None): lambda o: "null",
}


def _json_value(o: Any, newline: str) -> str:
    scalar = _SCALAR_TEXT.get(type(o))
    if scalar is not None:
        return scalar(o)
    # the same order of type tests as json's encoder
    if isinstance(o, str):
        return _encode_str(o)
    if o is None:
        return "null"
    if o is True:
        return "true"
    if o is False:
        return "false"
    if isinstance(o, int):
        return int.__repr__(o)
    if isinstance(o, float):
        return _json_float(o)
    inner = newline + "  "
    if isinstance(o, (list, tuple)):
        if not o:
            return "[]"
        return "[" + inner + ("," + inner).join([_json_value(v, inner) for v in o]) + newline + "]"
    if isinstance(o, dict):
        if not o:
            return "{}"
        parts = []
        for k, v in o.items():
            if not isinstance(k, str):
                raise _NotPlain()
            parts.append(_encode_str(k) + ": " + _json_value(v, inner))
        return "{" + inner + ("," + inner).join(parts) + newline + "}"
    raise _NotPlain()


def _message_json_text(fmt: ExportFormat, doc: dict[str, Any]) -> str:
    """``_json_text(doc)`` of a message document to_json_document made for ``fmt``, from the format's layout."""
    layout = _json_layout(fmt)
    if layout is not None:
        try:
            return layout.text(doc)
        except _NotPlain:
            pass
    return _json_text(doc)


class _JsonLayout:
    """A JSON format's message text (json.dumps(doc, ensure_ascii=False, indent=2) of to_json_document's document)
    as fixed text around its values: the keys with their indents and separators are written once per format.

    Like the XML layout, it is checked against _json_text on sample documents before it is used.
    """

    __slots__ = ("keys",)

    #: the envelope, around its values: the top-level ones, then those of source and patient (one level deeper)
    ENVELOPE = ('{\n  "format": %s,\n  "format_version": %s,\n  "message_id": %s,\n  "message_kind": %s,\n  '
                '"message_version": %s,\n  "created": %s,\n  "source": {\n    "composition_uid": %s,\n    '
                '"entry": %s\n  },\n  "patient": {\n    "national_id": %s\n  }')

    def __init__(self, fmt: ExportFormat) -> None:
        #: field name -> its key in ``data``: the newline and indent, the key and ": "
        self.keys = {f.name: f"\n    {_encode_str(f.name)}: " for f in fmt.fields}

    def text(self, doc: dict[str, Any]) -> str:
        """The text; _NotPlain when a value needs json.dumps."""
        top, inner = "\n  ", "\n    "  # the newline and indent of the envelope's values, and of those nested in it
        source = doc["source"]
        texts = [_encode_str(v) if type(v) is str else _json_value(v, top)
                 for v in (doc["format"], doc["format_version"], doc["message_id"], doc["message_kind"],
                           doc["message_version"], doc["created"])]
        texts += [_encode_str(v) if type(v) is str else _json_value(v, inner)
                  for v in (source["composition_uid"], source["entry"], doc["patient"]["national_id"])]
        envelope = self.ENVELOPE % tuple(texts)
        if "data" not in doc:
            return envelope + "\n}"
        data = doc["data"]
        if type(data) is not dict or not data:
            return f'{envelope},\n  "data": {_json_value(data, top)}\n}}'
        keys = self.keys
        if not keys.keys() >= data.keys():
            raise _NotPlain()  # not a field of the format (only _json_text knows how to write it)
        members = ",".join([keys[name] + (_encode_str(v) if type(v) is str else _json_value(v, inner))
                            for name, v in data.items()])
        return f'{envelope},\n  "data": {{{members}\n  }}\n}}'


def _json_layout(fmt: ExportFormat) -> _JsonLayout | None:
    """The format's JSON layout, made once per format (None when it does not write exactly what _json_text does)."""
    return _format_cached(fmt, "json", _checked_json_layout)


def _checked_json_layout(fmt: ExportFormat) -> _JsonLayout | None:
    try:
        layout = _JsonLayout(fmt)
        ctx = ExportContext(national_id="01010012356", composition_uid="c::s::1", created=_dt.datetime(2000, 1, 1))
        full = {f.name: [True, 1.5] if f.repeat else True if f.type == "boolean" else f'x{i} "\\æ\U0001F600\n'
                for i, f in enumerate(fmt.fields)}
        docs = [to_json_document(fmt, full, ctx, "id", "e"), to_json_document(fmt, {}, ctx, "id", "e")]
        ctx.message_kind = "C"
        docs.append(to_json_document(fmt, full, ctx, "id", "e"))
        if all(layout.text(doc) == _json_text(doc) for doc in docs):
            return layout
    except Exception:  # noqa: BLE001 - an odd format definition: _json_text alone writes its messages
        pass
    return None


__all__ = [
    "ExportContext", "MESSAGE_KINDS", "Message", "Rendered", "check_values", "fill_values", "is_empty", "json_schema",
    "message_file_name", "new_message_id", "render", "shown", "to_json_document", "to_xml",
]
