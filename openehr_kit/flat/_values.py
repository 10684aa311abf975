"""Data values and the small RM structures (parties, participations, feeder audit, ...) in FLAT form, both ways.

A reader takes the FLAT node of one value (its ``|suffix`` attributes and ``_underscore`` children) and builds
the RM object; the writer of the same type emits the same keys back. Readers and writers for one type sit side by
side so the two directions stay each other's inverse; the suffixes a type accepts are declared once
(``SUFFIXES``) and used for the wrong-suffix check and the closest-path suggestions.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any, Callable

from openehr_kit.flat._tree import Consumer, FNode
from openehr_kit.rm.instance import RMObject

if TYPE_CHECKING:
    from openehr_kit.flat._index import Spec

try:  # the openEHR terminology module; the web template's rubric table is the fallback
    from openehr_kit.terminology import openehr as _openehr
except ImportError:  # pragma: no cover
    _openehr = None  # type: ignore[assignment]

_ORDERED = ("magnitude_status", "normal_status", "accuracy", "accuracy_is_percent")
_DURATION_FIELDS = ("year", "month", "week", "day", "hour", "minute", "second")

#: ``|suffix`` attributes each data type accepts ("" is the plain value)
SUFFIXES: dict[str, frozenset[str]] = {
    "DV_TEXT": frozenset({"", "value", "formatting", "code", "terminology"}),
    "DV_CODED_TEXT": frozenset({"", "code", "value", "terminology", "preferred_term", "formatting", "other"}),
    "DV_QUANTITY": frozenset({"", "magnitude", "unit", "precision", "units_system", "units_display_name", *_ORDERED}),
    "DV_COUNT": frozenset({"", "magnitude", *_ORDERED}),
    "DV_ORDINAL": frozenset({"", "code", "value", "ordinal", "terminology", *_ORDERED}),
    "DV_SCALE": frozenset({"", "code", "value", "scale", "ordinal", "terminology", *_ORDERED}),
    "DV_BOOLEAN": frozenset({"", "value"}),
    "DV_DATE": frozenset({"", "value", *_ORDERED}),
    "DV_TIME": frozenset({"", "value", *_ORDERED}),
    "DV_DATE_TIME": frozenset({"", "value", *_ORDERED}),
    "DV_DURATION": frozenset({"", "value", *_DURATION_FIELDS, *_ORDERED}),
    "DV_PROPORTION": frozenset({"", "numerator", "denominator", "type", "precision", *_ORDERED}),
    "DV_IDENTIFIER": frozenset({"", "id", "type", "issuer", "assigner"}),
    "DV_PARSABLE": frozenset({"", "value", "formalism"}),
    "DV_MULTIMEDIA": frozenset({"", "value", "url", "uri", "mediatype", "size", "alternatetext", "data",
                                "compression_algorithm", "integrity_check", "integrity_check_algorithm"}),
    "DV_URI": frozenset({"", "value"}),
    "DV_EHR_URI": frozenset({"", "value"}),
    "DV_STATE": frozenset({"", "code", "value", "terminology", "is_terminal"}),
    "CODE_PHRASE": frozenset({"", "code", "terminology", "preferred_term"}),
    "PARTY_PROXY": frozenset({"name", "id", "id_scheme", "id_namespace", "type"}),
    "PARTY_IDENTIFIED": frozenset({"name", "id", "id_scheme", "id_namespace", "type"}),
    "PARTY_SELF": frozenset({"id", "id_scheme", "id_namespace", "type", "_type"}),
    "STRING": frozenset({"", "value"}),
    "LOCATABLE_REF": frozenset({"", "id", "namespace", "type", "path"}),
    "DV_INTERVAL": frozenset({"lower_included", "upper_included", "lower_unbounded", "upper_unbounded"}),
}

_RUBRIC_FALLBACK: dict[str, str] = {}


def suffixes_for(spec: Spec) -> frozenset[str]:
    base = spec.rm_type.split("<", 1)[0]
    if spec.kind == "value":
        return SUFFIXES.get(base, frozenset({""}))
    return frozenset()


# ---------------------------------------------------------------------------------------------------------------
# small constructors


def mk(rm_type: str, loc: str, **attrs: Any) -> RMObject:
    return RMObject(rm_type, {k: v for k, v in attrs.items() if v is not None}, location=loc)


def code_phrase(terminology: str | None, code: Any, loc: str, preferred: str | None = None) -> RMObject:
    return mk("CODE_PHRASE", loc, terminology_id=mk("TERMINOLOGY_ID", loc, value=terminology or "local"),
              code_string=None if code is None else str(code), preferred_term=preferred)


def dv_text(value: Any, loc: str) -> RMObject:
    return mk("DV_TEXT", loc, value=None if value is None else str(value))


def dv_coded(value: str | None, terminology: str | None, code: str, loc: str) -> RMObject:
    return mk("DV_CODED_TEXT", loc, value=value, defining_code=code_phrase(terminology, code, loc))


def rubric(code: str, lang: str = "en", group: str | None = None) -> str | None:
    if _openehr is not None:
        try:
            return _openehr.rubric(code, lang, group)
        except (KeyError, ValueError):
            return None
    if not _RUBRIC_FALLBACK:
        from openehr_kit.webtemplate.builder import _OPENEHR_RUBRICS

        _RUBRIC_FALLBACK.update(_OPENEHR_RUBRICS)
    return _RUBRIC_FALLBACK.get(code)


@functools.lru_cache(maxsize=256)
def code_for_rubric(group: str, text: str) -> str | None:
    """The openEHR code whose English rubric is ``text`` in ``group`` (``face-to-face communication`` -> 216)."""
    if _openehr is None:
        return None
    try:
        codes = _openehr.codes_in_group(group)
    except (KeyError, ValueError):
        return None
    for code in sorted(codes):
        if _openehr.rubric(code, "en", group) == text:
            return code
    return None


def text_of(obj: Any, attr: str = "value") -> Any:
    if isinstance(obj, RMObject):
        return obj.attrs.get(attr)
    return None


def _code(cp: Any) -> tuple[str | None, str | None]:
    """(terminology, code) of a CODE_PHRASE."""
    if not isinstance(cp, RMObject):
        return None, None
    return text_of(cp.attrs.get("terminology_id")), cp.attrs.get("code_string")


# ---------------------------------------------------------------------------------------------------------------
# reading: value conversion with kind checks


class Ctx:
    """What value readers need besides the node: the consumer (keys used, issues) and the language."""

    __slots__ = ("c", "lang")

    def __init__(self, consumer: Consumer, lang: str) -> None:
        self.c = consumer
        self.lang = lang

    def num(self, fn: FNode, suffix: str, kind: type = float) -> Any:
        """A number (int or float) from the node; strings holding numbers are accepted (forms post text)."""
        hit = fn.attrs.get(suffix)
        if hit is None:
            return None
        self.c.used.add(hit[1])
        value, key = hit
        if isinstance(value, bool):
            return self._bad(key, value, "a number")
        if isinstance(value, (int, float)):
            if kind is int and isinstance(value, float):
                return int(value) if value.is_integer() else self._bad(key, value, "a whole number")
            return value
        if isinstance(value, str):
            try:
                number = float(value) if kind is float else int(value)
            except ValueError:
                return self._bad(key, value, "a whole number" if kind is int else "a number")
            if kind is float and number.is_integer() and re.fullmatch(r"[+-]?\d+", value.strip()):
                return int(number)
            return number
        return self._bad(key, value, "a number")

    def boolean(self, fn: FNode, suffix: str) -> Any:
        hit = fn.attrs.get(suffix)
        if hit is None:
            return None
        self.c.used.add(hit[1])
        value, key = hit
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        return self._bad(key, value, "a boolean (true or false)")

    def text(self, fn: FNode, suffix: str) -> Any:
        hit = fn.attrs.get(suffix)
        if hit is None:
            return None
        self.c.used.add(hit[1])
        value, key = hit
        if value is None:
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return str(value)
        if isinstance(value, str):
            return value
        return self._bad(key, value, "text")

    def _bad(self, key: str, value: Any, expected: str) -> None:
        self.c.reported.add(key)
        self.c.issue("FLT005", f"expected {expected}, found {value!r}", key, expected=expected, found=repr(value))
        return None


# --- parties -------------------------------------------------------------------------------------------------


def read_party(x: Ctx, fn: FNode, loc: str, *, self_default: bool = False) -> RMObject | None:
    """PARTY_IDENTIFIED / PARTY_SELF / PARTY_RELATED from ``|name``, ``|id``, ``|id_scheme``, ``|id_namespace``,
    ``/_identifier:n`` (or ``|identifiers_id:n``...) and ``/relationship``; ``|_type`` may force PARTY_SELF."""
    forced = x.text(fn, "_type")
    name = x.text(fn, "name")
    ref = read_party_ref(x, fn, loc)
    identifiers = [read_identifier(x, k, loc) for k in x.c.kids(fn, "_identifier")]
    identifiers += read_old_identifiers(x, fn, loc)
    relationship_node = x.c.kid(fn, "relationship")
    relationship = read_coded(x, relationship_node, loc, "openehr") if relationship_node is not None else None
    if forced == "PARTY_SELF" or (name is None and not identifiers and relationship is None):
        if ref is None and not self_default and forced != "PARTY_SELF":
            return None
        return mk("PARTY_SELF", loc, external_ref=ref)
    rm_type = "PARTY_RELATED" if relationship is not None else "PARTY_IDENTIFIED"
    return mk(rm_type, loc, external_ref=ref, name=name, identifiers=identifiers or None,
              relationship=relationship)


def read_party_ref(x: Ctx, fn: FNode, loc: str) -> RMObject | None:
    pid = x.text(fn, "id")
    scheme = x.text(fn, "id_scheme")
    namespace = x.text(fn, "id_namespace")
    ptype = x.text(fn, "type")
    if pid is None and scheme is None and namespace is None:
        return None
    if scheme is not None:
        oid = mk("GENERIC_ID", loc, value=pid, scheme=scheme)
    elif pid is not None and pid.count("::") == 2:
        oid = mk("OBJECT_VERSION_ID", loc, value=pid)
    else:
        oid = mk("HIER_OBJECT_ID", loc, value=pid)
    return mk("PARTY_REF", loc, id=oid, namespace=namespace or "DEMOGRAPHIC", type=ptype or "PARTY")


def read_identifier(x: Ctx, fn: FNode, loc: str) -> RMObject:
    value = x.text(fn, "id")
    if value is None:
        value = x.text(fn, "")
    return mk("DV_IDENTIFIER", loc, issuer=x.text(fn, "issuer"), assigner=x.text(fn, "assigner"), id=value,
              type=x.text(fn, "type"))


def read_old_identifiers(x: Ctx, fn: FNode, loc: str) -> list[RMObject]:
    """``|identifiers_id:0``, ``|identifiers_issuer:0``... (the participation form)."""
    found: dict[int, dict[str, Any]] = {}
    for suffix in list(fn.attrs):
        m = re.fullmatch(r"identifiers_(id|issuer|assigner|type):(\d+)", suffix)
        if m:
            found.setdefault(int(m.group(2)), {})[m.group(1)] = x.text(fn, suffix)
    return [mk("DV_IDENTIFIER", loc, issuer=d.get("issuer"), assigner=d.get("assigner"), id=d.get("id"),
               type=d.get("type")) for _, d in sorted(found.items())]


def write_party(obj: Any, prefix: str, out: dict[str, Any]) -> None:
    if not isinstance(obj, RMObject):
        return
    name = obj.attrs.get("name")
    if isinstance(name, str):
        out[f"{prefix}|name"] = name
    elif obj.rm_type == "PARTY_SELF" and "/_feeder_audit/" in prefix:
        out[f"{prefix}|_type"] = "PARTY_SELF"
    write_party_ref(obj.attrs.get("external_ref"), prefix, out)
    for i, ident in enumerate(obj.attrs.get("identifiers") or ()):
        write_identifier(ident, f"{prefix}/_identifier:{i}", out)
    rel = obj.attrs.get("relationship")
    if isinstance(rel, RMObject):
        write_coded(rel, f"{prefix}/relationship", out)


def write_party_ref(ref: Any, prefix: str, out: dict[str, Any]) -> None:
    if not isinstance(ref, RMObject):
        return
    oid = ref.attrs.get("id")
    if isinstance(oid, RMObject):
        if "value" in oid.attrs:
            out[f"{prefix}|id"] = oid.attrs["value"]
        if "scheme" in oid.attrs:
            out[f"{prefix}|id_scheme"] = oid.attrs["scheme"]
    if "namespace" in ref.attrs:
        out[f"{prefix}|id_namespace"] = ref.attrs["namespace"]


def write_identifier(obj: Any, prefix: str, out: dict[str, Any], plain_id: bool = False) -> None:
    if not isinstance(obj, RMObject):
        return
    for attr in ("id", "type", "issuer", "assigner"):
        if attr in obj.attrs:
            key = prefix if (attr == "id" and plain_id) else f"{prefix}|{attr}"
            out[key] = obj.attrs[attr]


def read_participation(x: Ctx, fn: FNode, loc: str) -> RMObject:
    function = x.text(fn, "function")
    mode_text = x.text(fn, "mode")
    mode = None
    if mode_text is not None:
        code = code_for_rubric("participation_mode", mode_text) or "193"
        mode = dv_coded(mode_text, "openehr", code, loc)
    performer = read_party(x, fn, loc, self_default=False)
    if performer is None:
        performer = mk("PARTY_IDENTIFIED", loc)
    start = x.text(fn, "start_time")
    end = x.text(fn, "end_time")
    time = None
    if start is not None or end is not None:
        time = mk("DV_INTERVAL", loc,
                  lower=mk("DV_DATE_TIME", loc, value=start) if start else None,
                  upper=mk("DV_DATE_TIME", loc, value=end) if end else None,
                  lower_unbounded=start is None, upper_unbounded=end is None,
                  lower_included=True if start else None, upper_included=True if end else None)
    return mk("PARTICIPATION", loc, function=dv_text(function or "unknown", loc), performer=performer,
              mode=mode, time=time)


def write_participation(obj: Any, prefix: str, out: dict[str, Any]) -> None:
    if not isinstance(obj, RMObject):
        return
    function = text_of(obj.attrs.get("function"))
    if function is not None:
        out[f"{prefix}|function"] = function
    mode = text_of(obj.attrs.get("mode"))
    if mode is not None:
        out[f"{prefix}|mode"] = mode
    performer = obj.attrs.get("performer")
    if isinstance(performer, RMObject):
        name = performer.attrs.get("name")
        if isinstance(name, str):
            out[f"{prefix}|name"] = name
        write_party_ref(performer.attrs.get("external_ref"), prefix, out)
        for i, ident in enumerate(performer.attrs.get("identifiers") or ()):
            for attr in ("id", "type", "issuer", "assigner"):
                if isinstance(ident, RMObject) and attr in ident.attrs:
                    out[f"{prefix}|identifiers_{attr}:{i}"] = ident.attrs[attr]
        rel = performer.attrs.get("relationship")
        if isinstance(rel, RMObject):
            write_coded(rel, f"{prefix}/relationship", out)
    time = obj.attrs.get("time")
    if isinstance(time, RMObject):
        if isinstance(time.attrs.get("lower"), RMObject):
            out[f"{prefix}|start_time"] = time.attrs["lower"].attrs.get("value")
        if isinstance(time.attrs.get("upper"), RMObject):
            out[f"{prefix}|end_time"] = time.attrs["upper"].attrs.get("value")


# --- object references --------------------------------------------------------------------------------------


def read_object_ref(x: Ctx, fn: FNode, loc: str, default_type: str) -> RMObject | None:
    """``_work_flow_id`` / ``_guideline_id``: OBJECT_REF from ``|id``, ``|id_scheme``, ``|namespace``, ``|type``."""
    oid = x.text(fn, "id")
    scheme = x.text(fn, "id_scheme")
    namespace = x.text(fn, "namespace")
    rtype = x.text(fn, "type")
    if oid is None:
        return None
    ident = mk("GENERIC_ID", loc, value=oid, scheme=scheme) if scheme else mk("HIER_OBJECT_ID", loc, value=oid)
    return mk("OBJECT_REF", loc, id=ident, namespace=namespace or "local", type=rtype or default_type)


def write_object_ref(obj: Any, prefix: str, out: dict[str, Any]) -> None:
    if not isinstance(obj, RMObject):
        return
    oid = obj.attrs.get("id")
    if isinstance(oid, RMObject):
        out[f"{prefix}|id"] = oid.attrs.get("value")
        if "scheme" in oid.attrs:
            out[f"{prefix}|id_scheme"] = oid.attrs["scheme"]
    if "namespace" in obj.attrs:
        out[f"{prefix}|namespace"] = obj.attrs["namespace"]
    if "type" in obj.attrs:
        out[f"{prefix}|type"] = obj.attrs["type"]


# --- coded and plain text --------------------------------------------------------------------------------------


def read_code_phrase(x: Ctx, fn: FNode, loc: str, default_terminology: str | None = None) -> RMObject | None:
    code = x.text(fn, "code")
    if code is None:
        code = x.text(fn, "")
    terminology = x.text(fn, "terminology") or default_terminology
    preferred = x.text(fn, "preferred_term")
    if code is None:
        return None
    return code_phrase(terminology, code, loc, preferred)


def write_code_phrase(obj: Any, prefix: str, out: dict[str, Any]) -> None:
    terminology, code = _code(obj)
    if code is not None:
        out[f"{prefix}|code"] = code
    if isinstance(obj, RMObject) and "preferred_term" in obj.attrs:
        out[f"{prefix}|preferred_term"] = obj.attrs["preferred_term"]
    if terminology is not None:
        out[f"{prefix}|terminology"] = terminology


def read_coded(x: Ctx, fn: FNode, loc: str, default_terminology: str | None = None,
               spec: Spec | None = None) -> RMObject | None:
    """DV_CODED_TEXT from ``|code``/``|value``/``|terminology`` (a plain value is the code); the value defaults to
    the code's term text, the terminology to ``local`` for at-codes."""
    code = x.text(fn, "code")
    value = x.text(fn, "value")
    plain = x.text(fn, "")
    if code is None and plain is not None:
        if spec is not None and spec.labels and plain not in spec.labels and value is None:
            # a plain value that is not one of the codes: the text of a term the form picked by label
            match = [c for c in spec.labels if plain in spec.labels[c].values()]
            code, value = (match[0], plain) if match else (plain, None)
        elif (spec is not None and spec.labels) or (default_terminology == "openehr" and plain.isdigit()):
            code = plain
        elif value is None:
            # free text in a coded slot without a code list: a DV_TEXT (the validator says whether that is allowed)
            return _with_text_extras(x, fn, dv_text(plain, loc), loc)
    terminology = x.text(fn, "terminology")
    preferred = x.text(fn, "preferred_term")
    if code is None:
        if value is None:
            return None
        return _with_text_extras(x, fn, dv_text(value, loc), loc)
    if terminology is None:
        terminology = (spec.terminology if spec is not None else None) or default_terminology
        if terminology is None or (code.startswith("at") and code[2:].isdigit() and terminology != "openehr"):
            terminology = terminology if terminology and not code.startswith("at") else "local"
    if value is None:
        if spec is not None:
            value = spec.label(code, x.lang)
        if value is None and terminology == "openehr":
            value = rubric(code, x.lang)
    obj = mk("DV_CODED_TEXT", loc, value=value, defining_code=code_phrase(terminology, code, loc, preferred))
    return _with_text_extras(x, fn, obj, loc)


def _with_text_extras(x: Ctx, fn: FNode, obj: RMObject, loc: str) -> RMObject:
    formatting = x.text(fn, "formatting")
    if formatting is not None:
        obj.attrs["formatting"] = formatting
    mappings = [read_mapping(x, m, loc) for m in x.c.kids(fn, "_mapping")]
    if mappings:
        obj.attrs["mappings"] = mappings
    lang = x.c.kid(fn, "_language")
    if lang is not None:
        obj.attrs["language"] = read_code_phrase(x, lang, loc, "ISO_639-1")
    enc = x.c.kid(fn, "_encoding")
    if enc is not None:
        obj.attrs["encoding"] = read_code_phrase(x, enc, loc, "IANA_character-sets")
    return obj


def read_mapping(x: Ctx, fn: FNode, loc: str) -> RMObject:
    target_node = x.c.kid(fn, "target")
    target = read_code_phrase(x, target_node, loc) if target_node is not None else None
    purpose_node = x.c.kid(fn, "purpose")
    purpose = read_coded(x, purpose_node, loc, "openehr") if purpose_node is not None else None
    return mk("TERM_MAPPING", loc, match=x.text(fn, "match") or "?", purpose=purpose, target=target)


def write_text_extras(obj: RMObject, prefix: str, out: dict[str, Any]) -> None:
    if "formatting" in obj.attrs:
        out[f"{prefix}|formatting"] = obj.attrs["formatting"]
    for i, m in enumerate(obj.attrs.get("mappings") or ()):
        if not isinstance(m, RMObject):
            continue
        p = f"{prefix}/_mapping:{i}"
        if isinstance(m.attrs.get("purpose"), RMObject):
            write_coded(m.attrs["purpose"], f"{p}/purpose", out)
        write_code_phrase(m.attrs.get("target"), f"{p}/target", out)
        if "match" in m.attrs:
            out[f"{p}|match"] = m.attrs["match"]
    if isinstance(obj.attrs.get("language"), RMObject):
        write_code_phrase(obj.attrs["language"], f"{prefix}/_language", out)
    if isinstance(obj.attrs.get("encoding"), RMObject):
        write_code_phrase(obj.attrs["encoding"], f"{prefix}/_encoding", out)


def write_coded(obj: RMObject, prefix: str, out: dict[str, Any], *, other: bool = False) -> None:
    if obj.rm_type == "DV_TEXT" or "defining_code" not in obj.attrs:
        if other:
            out[f"{prefix}|other"] = obj.attrs.get("value")
        else:
            out[prefix] = obj.attrs.get("value")
        write_text_extras(obj, prefix, out)
        return
    terminology, code = _code(obj.attrs.get("defining_code"))
    out[f"{prefix}|code"] = code
    if "value" in obj.attrs:
        out[f"{prefix}|value"] = obj.attrs["value"]
    if terminology is not None:
        out[f"{prefix}|terminology"] = terminology
    dc = obj.attrs.get("defining_code")
    if isinstance(dc, RMObject) and "preferred_term" in dc.attrs:
        out[f"{prefix}|preferred_term"] = dc.attrs["preferred_term"]
    write_text_extras(obj, prefix, out)


# ---------------------------------------------------------------------------------------------------------------
# data values by type


def read_dv(x: Ctx, rm_type: str, fn: FNode, loc: str, spec: Spec | None = None) -> RMObject | None:
    """The data value of type ``rm_type`` from FLAT node ``fn``; None when the node gives no value at all."""
    base = rm_type.split("<", 1)[0]
    reader = _READERS.get(base)
    if reader is None:
        return None
    obj = reader(x, fn, loc, spec, rm_type)
    if obj is None:
        return None
    if base in _ORDERED_TYPES:
        _read_ordered(x, fn, obj, loc, spec, rm_type)
    return obj


def _r_text(x: Ctx, fn: FNode, loc: str, spec: Spec | None, rm_type: str) -> RMObject | None:
    if fn.attrs.get("code") is not None:  # a code on a DV_TEXT node: the coded subtype
        return read_coded(x, fn, loc, None, spec)
    value = x.text(fn, "")
    v2 = x.text(fn, "value")
    if value is None:
        value = v2
    if value is None:
        return None
    return _with_text_extras(x, fn, dv_text(value, loc), loc)


def _r_coded(x: Ctx, fn: FNode, loc: str, spec: Spec | None, rm_type: str) -> RMObject | None:
    other = x.text(fn, "other")
    obj = read_coded(x, fn, loc, None, spec)
    if obj is None and other is not None:
        return _with_text_extras(x, fn, dv_text(other, loc), loc)
    return obj


def _r_quantity(x: Ctx, fn: FNode, loc: str, spec: Spec | None, rm_type: str) -> RMObject | None:
    magnitude = x.num(fn, "magnitude")
    if magnitude is None:
        magnitude = x.num(fn, "")
    unit = x.text(fn, "unit")
    if magnitude is None and unit is None:
        return None
    return mk("DV_QUANTITY", loc, magnitude=magnitude, units=unit, precision=x.num(fn, "precision", int),
              units_system=x.text(fn, "units_system"), units_display_name=x.text(fn, "units_display_name"))


def _r_count(x: Ctx, fn: FNode, loc: str, spec: Spec | None, rm_type: str) -> RMObject | None:
    magnitude = x.num(fn, "", int)
    if magnitude is None:
        magnitude = x.num(fn, "magnitude", int)
    if magnitude is None:
        return None
    return mk("DV_COUNT", loc, magnitude=magnitude)


def _r_ordinal(x: Ctx, fn: FNode, loc: str, spec: Spec | None, rm_type: str) -> RMObject | None:
    number_attr = "scale" if rm_type == "DV_SCALE" else "ordinal"
    number = x.num(fn, number_attr, float if rm_type == "DV_SCALE" else int)
    if number is None and rm_type == "DV_SCALE":
        number = x.num(fn, "ordinal")
    symbol = read_coded(x, fn, loc, "local", spec)
    if symbol is None:
        return None if number is None else mk(rm_type, loc, value=number)
    code = _code(symbol.attrs.get("defining_code"))[1]
    if number is None and spec is not None and code in spec.ordinals:
        number = spec.ordinals[code]
    return mk(rm_type, loc, value=number, symbol=symbol)


def _r_boolean(x: Ctx, fn: FNode, loc: str, spec: Spec | None, rm_type: str) -> RMObject | None:
    value = x.boolean(fn, "")
    if value is None:
        value = x.boolean(fn, "value")
    return None if value is None else mk("DV_BOOLEAN", loc, value=value)


def _r_plain(x: Ctx, fn: FNode, loc: str, spec: Spec | None, rm_type: str) -> RMObject | None:
    value = x.text(fn, "")
    v2 = x.text(fn, "value")
    value = v2 if value is None else value
    return None if value is None else mk(rm_type, loc, value=value)


def _r_temporal(x: Ctx, fn: FNode, loc: str, spec: Spec | None, rm_type: str) -> RMObject | None:
    obj = _r_plain(x, fn, loc, spec, rm_type)
    acc = x.c.kid(fn, "_accuracy")
    if obj is not None and acc is not None:
        value = x.text(acc, "")
        if value is not None:
            obj.attrs["accuracy"] = mk("DV_DURATION", loc, value=value)
    return obj


def _r_duration(x: Ctx, fn: FNode, loc: str, spec: Spec | None, rm_type: str) -> RMObject | None:
    obj = _r_plain(x, fn, loc, spec, rm_type)
    if obj is not None:
        return obj
    parts = {f: x.num(fn, f, int) for f in _DURATION_FIELDS if f in fn.attrs}
    if not parts:
        return None
    date = "".join(f"{parts[f]}{d}" for f, d in (("year", "Y"), ("month", "M"), ("week", "W"), ("day", "D"))
                   if parts.get(f) is not None)
    time = "".join(f"{parts[f]}{d}" for f, d in (("hour", "H"), ("minute", "M"), ("second", "S"))
                   if parts.get(f) is not None)
    return mk("DV_DURATION", loc, value="P" + date + (f"T{time}" if time else "") if (date or time) else "PT0S")


def _r_proportion(x: Ctx, fn: FNode, loc: str, spec: Spec | None, rm_type: str) -> RMObject | None:
    numerator = x.num(fn, "numerator")
    denominator = x.num(fn, "denominator")
    x.num(fn, "")  # the plain value is the computed magnitude: consumed, not stored
    if numerator is None and denominator is None:
        return None
    ptype = x.num(fn, "type", int)
    if ptype is None:
        ptype = 2 if denominator == 100 else 1 if denominator == 1 else 0
    return mk("DV_PROPORTION", loc, numerator=numerator, denominator=denominator, type=ptype,
              precision=x.num(fn, "precision", int))


def _r_identifier(x: Ctx, fn: FNode, loc: str, spec: Spec | None, rm_type: str) -> RMObject | None:
    ident = read_identifier(x, fn, loc)
    return ident if len(ident.attrs) else None


def _r_parsable(x: Ctx, fn: FNode, loc: str, spec: Spec | None, rm_type: str) -> RMObject | None:
    value = x.text(fn, "")
    v2 = x.text(fn, "value")
    value = v2 if value is None else value
    formalism = x.text(fn, "formalism")
    if value is None and formalism is None:
        return None
    obj = mk("DV_PARSABLE", loc, value=value, formalism=formalism)
    _encapsulated_extras(x, fn, obj, loc)
    return obj


def _encapsulated_extras(x: Ctx, fn: FNode, obj: RMObject, loc: str) -> None:
    charset = x.c.kid(fn, "_charset")
    if charset is not None:
        obj.attrs["charset"] = read_code_phrase(x, charset, loc, "IANA_character-sets")
    lang = x.c.kid(fn, "_language")
    if lang is not None:
        obj.attrs["language"] = read_code_phrase(x, lang, loc, "ISO_639-1")


def _r_multimedia(x: Ctx, fn: FNode, loc: str, spec: Spec | None, rm_type: str) -> RMObject | None:
    uri = x.text(fn, "")
    for alt in ("url", "uri", "value"):
        v = x.text(fn, alt)
        uri = v if uri is None else uri
    mediatype = x.text(fn, "mediatype")
    data = x.text(fn, "data")
    if uri is None and mediatype is None and data is None:
        return None
    obj = mk("DV_MULTIMEDIA", loc, alternate_text=x.text(fn, "alternatetext"),
             uri=mk("DV_URI", loc, value=uri) if uri is not None else None, data=data,
             media_type=code_phrase("IANA_media-types", mediatype, loc) if mediatype is not None else None,
             compression_algorithm=_cp_or_none(x.text(fn, "compression_algorithm"), "openehr_compression_algorithms", loc),
             integrity_check=x.text(fn, "integrity_check"),
             integrity_check_algorithm=_cp_or_none(x.text(fn, "integrity_check_algorithm"),
                                                   "openehr_integrity_check_algorithms", loc),
             size=x.num(fn, "size", int))
    thumb = x.c.kid(fn, "_thumbnail")
    if thumb is not None:
        obj.attrs["thumbnail"] = _r_multimedia(x, thumb, loc, None, "DV_MULTIMEDIA")
    _encapsulated_extras(x, fn, obj, loc)
    return obj


def _cp_or_none(code: str | None, terminology: str, loc: str) -> RMObject | None:
    return None if code is None else code_phrase(terminology, code, loc)


def _r_state(x: Ctx, fn: FNode, loc: str, spec: Spec | None, rm_type: str) -> RMObject | None:
    value = read_coded(x, fn, loc, "local", spec)
    terminal = x.boolean(fn, "is_terminal")
    if value is None:
        return None
    return mk("DV_STATE", loc, value=value, is_terminal=bool(terminal))


def _r_code_phrase(x: Ctx, fn: FNode, loc: str, spec: Spec | None, rm_type: str) -> RMObject | None:
    return read_code_phrase(x, fn, loc, spec.terminology if spec is not None else None)


def _r_party(x: Ctx, fn: FNode, loc: str, spec: Spec | None, rm_type: str) -> RMObject | None:
    return read_party(x, fn, loc)


def _r_interval(x: Ctx, fn: FNode, loc: str, spec: Spec | None, rm_type: str) -> RMObject | None:
    inner = rm_type[rm_type.find("<") + 1:-1] if "<" in rm_type else "DV_QUANTITY"
    bounds: dict[str, Any] = {}
    for bound in ("lower", "upper"):
        kid = x.c.kid(fn, bound)
        if kid is None:
            continue
        bspec = spec.by_id.get(bound) if spec is not None else None
        btype = bspec.rm_type if bspec is not None else inner
        bounds[bound] = read_dv(x, btype, kid, loc, bspec)
    flags = {f: x.boolean(fn, f) for f in ("lower_included", "upper_included", "lower_unbounded", "upper_unbounded")}
    if not bounds and all(v is None for v in flags.values()):
        return None
    # canonical JSON names the type DV_INTERVAL (no generic argument), as the canonical readers keep it
    obj = mk("DV_INTERVAL", loc, lower=bounds.get("lower"),
             upper=bounds.get("upper"))
    # the RM's invariants tie the flags to the bounds: an absent bound is unbounded and not included
    obj.attrs["lower_unbounded"] = flags["lower_unbounded"] if flags["lower_unbounded"] is not None else "lower" not in bounds
    obj.attrs["upper_unbounded"] = flags["upper_unbounded"] if flags["upper_unbounded"] is not None else "upper" not in bounds
    obj.attrs["lower_included"] = flags["lower_included"] if flags["lower_included"] is not None else "lower" in bounds
    obj.attrs["upper_included"] = flags["upper_included"] if flags["upper_included"] is not None else "upper" in bounds
    return obj


_ORDERED_TYPES = frozenset({"DV_QUANTITY", "DV_COUNT", "DV_PROPORTION", "DV_ORDINAL", "DV_SCALE", "DV_DATE",
                            "DV_TIME", "DV_DATE_TIME", "DV_DURATION"})


def _read_ordered(x: Ctx, fn: FNode, obj: RMObject, loc: str, spec: Spec | None, rm_type: str) -> None:
    """DV_ORDERED / DV_AMOUNT attributes: normal status, ranges, magnitude status, accuracy."""
    status = x.text(fn, "normal_status")
    if status is not None:
        obj.attrs["normal_status"] = code_phrase("openehr_normal_statuses", status, loc)
    ms = x.text(fn, "magnitude_status")
    if ms is not None:
        obj.attrs["magnitude_status"] = ms
    if obj.rm_type in ("DV_QUANTITY", "DV_COUNT", "DV_PROPORTION", "DV_DURATION"):
        acc = x.num(fn, "accuracy")
        if acc is not None:
            obj.attrs["accuracy"] = acc
        pct = x.boolean(fn, "accuracy_is_percent")
        if pct is not None:
            obj.attrs["accuracy_is_percent"] = pct
    nr = x.c.kid(fn, "_normal_range")
    if nr is not None:
        obj.attrs["normal_range"] = _r_range(x, nr, loc, spec, rm_type)
    ranges = []
    for rr in x.c.kids(fn, "_other_reference_ranges"):
        meaning_node = x.c.kid(rr, "meaning")
        meaning = None
        if meaning_node is not None:
            meaning = read_coded(x, meaning_node, loc)
        ranges.append(mk("REFERENCE_RANGE", loc, meaning=meaning or dv_text("", loc),
                         range=_r_range(x, rr, loc, spec, rm_type)))
    if ranges:
        obj.attrs["other_reference_ranges"] = ranges


def _r_range(x: Ctx, fn: FNode, loc: str, spec: Spec | None, rm_type: str) -> RMObject | None:
    # the bounds have the value's own type (and, for ordinals, its code list)
    bounds: dict[str, Any] = {}
    for bound in ("lower", "upper"):
        kid = x.c.kid(fn, bound)
        if kid is not None:
            bounds[bound] = read_dv(x, rm_type, kid, loc, spec)
    obj = mk("DV_INTERVAL", loc, lower=bounds.get("lower"), upper=bounds.get("upper"))
    for bound in ("lower", "upper"):
        unb = x.boolean(fn, f"{bound}_unbounded")
        inc = x.boolean(fn, f"{bound}_included")
        obj.attrs[f"{bound}_unbounded"] = unb if unb is not None else bound not in bounds
        obj.attrs[f"{bound}_included"] = inc if inc is not None else bound in bounds
    return obj


_READERS: dict[str, Callable[..., RMObject | None]] = {
    "DV_TEXT": _r_text,
    "DV_CODED_TEXT": _r_coded,
    "DV_QUANTITY": _r_quantity,
    "DV_COUNT": _r_count,
    "DV_ORDINAL": _r_ordinal,
    "DV_SCALE": _r_ordinal,
    "DV_BOOLEAN": _r_boolean,
    "DV_DATE": _r_temporal,
    "DV_TIME": _r_temporal,
    "DV_DATE_TIME": _r_temporal,
    "DV_DURATION": _r_duration,
    "DV_PROPORTION": _r_proportion,
    "DV_IDENTIFIER": _r_identifier,
    "DV_PARSABLE": _r_parsable,
    "DV_MULTIMEDIA": _r_multimedia,
    "DV_URI": _r_plain,
    "DV_EHR_URI": _r_plain,
    "DV_STATE": _r_state,
    "CODE_PHRASE": _r_code_phrase,
    "PARTY_PROXY": _r_party,
    "PARTY_IDENTIFIED": _r_party,
    "PARTY_SELF": _r_party,
    "DV_INTERVAL": _r_interval,
}


# ---------------------------------------------------------------------------------------------------------------
# writing


def write_dv(obj: Any, prefix: str, out: dict[str, Any], spec: Spec | None = None) -> None:
    """The FLAT keys of data value ``obj`` below ``prefix`` (the node's own key)."""
    if not isinstance(obj, RMObject):
        if obj is not None:
            out[prefix] = obj  # STRING attributes (action_archetype_id)
        return
    base = obj.base_type
    a = obj.attrs
    if base == "DV_TEXT":
        if spec is not None and spec.has_other:
            out[f"{prefix}|other"] = a.get("value")
        else:
            out[prefix] = a.get("value")
        write_text_extras(obj, prefix, out)
    elif base == "DV_CODED_TEXT":
        write_coded(obj, prefix, out)
    elif base == "DV_QUANTITY":
        for attr, suffix in (("magnitude", "magnitude"), ("units", "unit"), ("precision", "precision"),
                             ("units_system", "units_system"), ("units_display_name", "units_display_name")):
            if attr in a:
                out[f"{prefix}|{suffix}"] = a[attr]
    elif base == "DV_COUNT":
        out[prefix] = a.get("magnitude")
    elif base in ("DV_ORDINAL", "DV_SCALE"):
        sym = a.get("symbol")
        if isinstance(sym, RMObject):
            terminology, code = _code(sym.attrs.get("defining_code"))
            out[f"{prefix}|code"] = code
            if "value" in sym.attrs:
                out[f"{prefix}|value"] = sym.attrs["value"]
        if "value" in a:
            out[f"{prefix}|{'scale' if base == 'DV_SCALE' else 'ordinal'}"] = a["value"]
    elif base in ("DV_BOOLEAN", "DV_DATE", "DV_TIME", "DV_DATE_TIME", "DV_URI", "DV_EHR_URI", "DV_DURATION"):
        out[prefix] = a.get("value")
        if isinstance(a.get("accuracy"), RMObject):
            out[f"{prefix}/_accuracy"] = a["accuracy"].attrs.get("value")
    elif base == "DV_PROPORTION":
        num, den = a.get("numerator"), a.get("denominator")
        if isinstance(num, (int, float)) and isinstance(den, (int, float)) and den:
            out[prefix] = num / den
        for attr in ("numerator", "denominator", "type", "precision"):
            if attr in a:
                out[f"{prefix}|{attr}"] = a[attr]
    elif base == "DV_IDENTIFIER":
        write_identifier(obj, prefix, out)
    elif base == "DV_PARSABLE":
        out[prefix] = a.get("value")
        if "formalism" in a:
            out[f"{prefix}|formalism"] = a["formalism"]
        _write_encapsulated(obj, prefix, out)
    elif base == "DV_MULTIMEDIA":
        _write_multimedia(obj, prefix, out)
    elif base == "DV_STATE":
        val = a.get("value")
        if isinstance(val, RMObject):
            write_coded(val, prefix, out)
    elif base == "CODE_PHRASE":
        write_code_phrase(obj, prefix, out)
    elif base in ("PARTY_IDENTIFIED", "PARTY_SELF", "PARTY_RELATED"):
        write_party(obj, prefix, out)
    elif base == "DV_INTERVAL":
        for bound in ("lower", "upper"):
            if isinstance(a.get(bound), RMObject):
                bspec = spec.by_id.get(bound) if spec is not None else None
                write_dv(a[bound], f"{prefix}/{bound}", out, bspec)
        _write_flags(obj, prefix, out)
    if base in _ORDERED_TYPES:
        _write_ordered(obj, prefix, out, spec)


def _write_flags(obj: RMObject, prefix: str, out: dict[str, Any]) -> None:
    """Interval flags, all four where the interval has them (as EHRbase writes DV_INTERVAL)."""
    for flag in ("lower_included", "upper_included", "lower_unbounded", "upper_unbounded"):
        value = obj.attrs.get(flag)
        if value is not None:
            out[f"{prefix}|{flag}"] = value


def _write_ordered(obj: RMObject, prefix: str, out: dict[str, Any], spec: Spec | None) -> None:
    a = obj.attrs
    if "magnitude_status" in a:
        out[f"{prefix}|magnitude_status"] = a["magnitude_status"]
    if isinstance(a.get("normal_status"), RMObject):
        out[f"{prefix}|normal_status"] = a["normal_status"].attrs.get("code_string")
    if "accuracy" in a and not isinstance(a["accuracy"], RMObject):
        out[f"{prefix}|accuracy"] = a["accuracy"]
    if "accuracy_is_percent" in a:
        out[f"{prefix}|accuracy_is_percent"] = a["accuracy_is_percent"]
    if isinstance(a.get("normal_range"), RMObject):
        _write_range(a["normal_range"], f"{prefix}/_normal_range", out, spec)
    for i, rr in enumerate(a.get("other_reference_ranges") or ()):
        if not isinstance(rr, RMObject):
            continue
        p = f"{prefix}/_other_reference_ranges:{i}"
        meaning = rr.attrs.get("meaning")
        if isinstance(meaning, RMObject):
            if meaning.rm_type == "DV_CODED_TEXT":
                write_coded(meaning, f"{p}/meaning", out)
            else:
                out[f"{p}/meaning"] = meaning.attrs.get("value")
        if isinstance(rr.attrs.get("range"), RMObject):
            _write_range(rr.attrs["range"], p, out, spec)


def _write_range(obj: RMObject, prefix: str, out: dict[str, Any], spec: Spec | None) -> None:
    for bound in ("lower", "upper"):
        if isinstance(obj.attrs.get(bound), RMObject):
            write_dv(obj.attrs[bound], f"{prefix}/{bound}", out, spec)
    _write_flags(obj, prefix, out)


def _write_encapsulated(obj: RMObject, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(obj.attrs.get("charset"), RMObject):
        write_code_phrase(obj.attrs["charset"], f"{prefix}/_charset", out)
    if isinstance(obj.attrs.get("language"), RMObject):
        write_code_phrase(obj.attrs["language"], f"{prefix}/_language", out)


def _write_multimedia(obj: RMObject, prefix: str, out: dict[str, Any]) -> None:
    a = obj.attrs
    uri = a.get("uri")
    if isinstance(uri, RMObject):
        out[prefix] = uri.attrs.get("value")
    if "data" in a:
        out[f"{prefix}|data"] = a["data"]
    if isinstance(a.get("media_type"), RMObject):
        out[f"{prefix}|mediatype"] = a["media_type"].attrs.get("code_string")
    if "alternate_text" in a:
        out[f"{prefix}|alternatetext"] = a["alternate_text"]
    if "size" in a:
        out[f"{prefix}|size"] = a["size"]
    if isinstance(a.get("compression_algorithm"), RMObject):
        out[f"{prefix}|compression_algorithm"] = a["compression_algorithm"].attrs.get("code_string")
    if "integrity_check" in a:
        out[f"{prefix}|integrity_check"] = a["integrity_check"]
    if isinstance(a.get("integrity_check_algorithm"), RMObject):
        out[f"{prefix}|integrity_check_algorithm"] = a["integrity_check_algorithm"].attrs.get("code_string")
    if isinstance(a.get("thumbnail"), RMObject):
        _write_multimedia(a["thumbnail"], f"{prefix}/_thumbnail", out)
    _write_encapsulated(obj, prefix, out)


# ---------------------------------------------------------------------------------------------------------------
# feeder audit


def read_feeder_audit(x: Ctx, fn: FNode, loc: str) -> RMObject:
    raw = x.text(fn, "raw")
    if raw is not None:
        parsed = read_raw(x, raw, fn.attrs["raw"][1], "FEEDER_AUDIT")
        if parsed is not None:
            return parsed
    audits = {}
    for which in ("originating_system_audit", "feeder_system_audit"):
        node = x.c.kid(fn, which)
        if node is None:
            continue
        details = mk("FEEDER_AUDIT_DETAILS", loc, system_id=x.text(node, "system_id") or "",
                     version_id=x.text(node, "version_id"))
        time = x.text(node, "time")
        if time is not None:
            details.attrs["time"] = mk("DV_DATE_TIME", loc, value=time)
        for party in ("location", "provider", "subject"):
            pnode = x.c.kid(node, party)
            if pnode is not None:
                p = read_party(x, pnode, loc, self_default=party == "subject")
                if p is not None:
                    details.attrs[party] = p
        audits[which] = details
    content_node = x.c.kid(fn, "original_content")
    content = None
    if content_node is not None:
        content = _r_parsable(x, content_node, loc, None, "DV_PARSABLE")
    mm_node = x.c.kid(fn, "original_content_multimedia")
    if mm_node is not None:
        content = _r_multimedia(x, mm_node, loc, None, "DV_MULTIMEDIA")
    return mk("FEEDER_AUDIT", loc,
              originating_system_item_ids=[read_identifier(x, k, loc) for k in x.c.kids(fn, "originating_system_item_id")] or None,
              feeder_system_item_ids=[read_identifier(x, k, loc) for k in x.c.kids(fn, "feeder_system_item_id")] or None,
              original_content=content,
              originating_system_audit=audits.get("originating_system_audit") or mk(
                  "FEEDER_AUDIT_DETAILS", loc, system_id=""),
              feeder_system_audit=audits.get("feeder_system_audit"))


def write_feeder_audit(obj: Any, prefix: str, out: dict[str, Any]) -> None:
    if not isinstance(obj, RMObject):
        return
    a = obj.attrs
    for attr, name in (("originating_system_item_ids", "originating_system_item_id"),
                       ("feeder_system_item_ids", "feeder_system_item_id")):
        for i, ident in enumerate(a.get(attr) or ()):
            write_identifier(ident, f"{prefix}/{name}:{i}", out)
    content = a.get("original_content")
    if isinstance(content, RMObject):
        name = "original_content_multimedia" if content.rm_type == "DV_MULTIMEDIA" else "original_content"
        write_dv(content, f"{prefix}/{name}", out)
    for which in ("originating_system_audit", "feeder_system_audit"):
        d = a.get(which)
        if not isinstance(d, RMObject):
            continue
        p = f"{prefix}/{which}"
        for party in ("location", "provider", "subject"):
            if isinstance(d.attrs.get(party), RMObject):
                write_party(d.attrs[party], f"{p}/{party}", out)
        if d.attrs.get("system_id") is not None:
            out[f"{p}|system_id"] = d.attrs["system_id"]
        if isinstance(d.attrs.get("time"), RMObject):
            out[f"{p}|time"] = d.attrs["time"].attrs.get("value")
        if "version_id" in d.attrs:
            out[f"{p}|version_id"] = d.attrs["version_id"]


def read_raw(x: Ctx, raw: str, key: str, root_type: str) -> RMObject | None:
    """``|raw``: an RM object as JSON (EHRbase's ``@class`` spelling or canonical ``_type``)."""
    import json

    from openehr_kit.diagnostics import ParseError
    from openehr_kit.rm.canonical_json import read_canonical_json

    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        x._bad(key, raw[:40], f"JSON of an RM object ({exc.msg})")
        return None

    def retag(v: Any) -> Any:
        if isinstance(v, dict):
            return {("_type" if k == "@class" else k): retag(w) for k, w in v.items()}
        if isinstance(v, list):
            return [retag(w) for w in v]
        return v

    try:
        obj = read_canonical_json(retag(data), root_type=root_type)
    except ParseError as exc:
        x._bad(key, raw[:40], f"an RM object ({exc.message})")
        return None
    for o in obj.walk():
        o.location = key
    return obj
