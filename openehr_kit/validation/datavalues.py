"""Data-value validators: one small function per openEHR data type, intrinsic checks plus the template's constraint.

Contract with the structure walker: ``check_data_value(constraint, value, where, rep)`` owns the whole subtree
of a data value (its attributes, an ordinal's symbol, an interval's bounds, a quantity's normal range), so the
walker does not descend below a data value. ``constraint`` is the template's object constraint for the value
(C_COMPLEX_OBJECT, C_DV_QUANTITY, C_DV_ORDINAL, C_DV_SCALE, C_CODE_PHRASE, CONSTRAINT_REF) or None for
intrinsic checks only; a constraint for another RM type (the walker reports VAL007) is ignored here.

Intrinsic checks always run: mandatory attributes (VAL006), value kinds (VAL123), ISO 8601 syntax, RM invariants
(proportion kinds, interval consistency, identifier, URI, multimedia), and the term text of coded values whose
terminology is available (local at-codes, openEHR codes).

Term texts of DV_CODED_TEXT (VAL108):

* ``local`` codes: ``value`` must equal the code's text in the composition language (``where.language``) or in
  any other language the archetype root's terminology (``where.terminology``) defines: the RM gives DV_TEXT an
  optional ``language`` precisely because a text may be in another language than its entry (an English term in
  a German composition). The message names the text in the composition language (original language fallback).
* ``openehr`` codes: the rubric in any language the bundled terminology has (English always; see
  ``terminology.openehr.all_rubrics``); the message names the composition language's rubric.
* other terminologies (SNOMED CT, LOINC, ...): no text check (no terminology server).

Texts are compared after trimming and collapsing runs of white space, so a trailing blank in a template term
does not fail a composition. Messages name codes together with their texts for a clinical reader.

Performance: dispatch is one dict lookup on the RM type (the effective constraint per template node and type is
decided once); ``Where`` objects for attributes are built only when an issue is reported (``_at``); messages are
built only when reporting. The common types (DV_TEXT, DV_CODED_TEXT, CODE_PHRASE, DV_QUANTITY, DV_COUNT,
DV_DATE_TIME) have a fast path that accepts a well-formed valid value with a few dict look-ups (code lists and
local term texts precomputed per constraint / terminology); anything else falls through to the full check, which
decides and reports, so the fast paths can only ever accept what the full check accepts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from openehr_kit.am.model import (
    ArchetypeInternalRef,
    CBoolean,
    CCodePhrase,
    CComplexObject,
    CDvOrdinal,
    CDvQuantity,
    CDate,
    CDateTime,
    CDuration,
    CDvScale,
    CObject,
    CTime,
    ConstraintRef,
    CPrimitiveObject,
    CQuantityItem,
    Terminology,
)
from openehr_kit.rm import schema
from openehr_kit.terminology import iso as _iso
from openehr_kit.terminology import openehr as _oe
from openehr_kit.rm.instance import RMObject, kind_name
from openehr_kit.validation.primitives import (
    IsoError,
    check_primitive,
    check_temporal_constraint,
    number_range_violation,
    parse_date,
    parse_date_time,
    parse_duration,
    parse_time,
    temporal_key,
    compare_keys,
    date_problem,
    date_time_problem,
)
from openehr_kit.validation.report import Reporter, Where

Checker = Callable[[Any, RMObject, Where, Reporter], None]

# ---------------------------------------------------------------------------------------------------------------
# Terminology: the bundled openEHR terminology and ISO code sets, and the archetypes' own (local) terms


def _norm(text: str) -> str:
    """Texts compare after trimming and collapsing white space (a trailing blank in a template term is no error)."""
    return " ".join(text.split())


def openehr_texts(code: str, language: str = "en") -> frozenset[str]:
    """Texts accepted for an openEHR code: its rubric in any language the bundled terminology has (English
    always), whatever the composition ``language`` (kept for callers; see the module doc). Empty when unknown."""
    return _oe.all_rubrics(code)


def _openehr_rubric(code: str, language: str) -> str | None:
    return _oe.rubric(code, language) or _oe.rubric(code, "en")


def local_text(terminology: Terminology | None, code: str, language: str) -> str | None:
    """The text of a local code in the composition language, else in the original language (for messages)."""
    if terminology is None:
        return None
    defs = terminology.term_definitions
    lang_defs = defs.get(language)
    if lang_defs is not None:
        term = lang_defs.get(code)
        if term is not None:
            return term.get("text")
    orig = defs.get(terminology.original_language)
    if orig is not None:
        term = orig.get(code)
        if term is not None:
            return term.get("text")
    return None


# id(terminology) -> (the terminology, code -> its texts in every language, white space normalised); built once
# per archetype terminology, so the term-text check of a coded value is one dict hit and one set test
_LOCAL_TEXTS: dict[int, tuple[Terminology, dict[str, frozenset[str]]]] = {}
_LOCAL_TEXTS_MAX = 256


_NO_TEXTS: frozenset[str] = frozenset()


def local_texts(terminology: Terminology | None, code: str) -> frozenset[str]:
    """The texts of a local code in every language the terminology defines (normalised, see ``_norm``)."""
    if terminology is None:
        return frozenset()
    return _local_table(terminology).get(code, _NO_TEXTS)


def _local_table(terminology: Terminology | None) -> dict[str, frozenset[str]]:
    """Code -> ``local_texts(terminology, code)`` for every code the terminology defines."""
    if terminology is None:
        return {}
    hit = _LOCAL_TEXTS.get(id(terminology))
    if hit is None or hit[0] is not terminology:
        table: dict[str, set[str]] = {}
        for defs in terminology.term_definitions.values():
            for c, item in defs.items():
                text = item.get("text") if isinstance(item, dict) else None
                if isinstance(text, str):
                    table.setdefault(c, set()).add(_norm(text))
        if len(_LOCAL_TEXTS) >= _LOCAL_TEXTS_MAX:
            _LOCAL_TEXTS.clear()
        hit = _LOCAL_TEXTS[id(terminology)] = (terminology, {c: frozenset(t) for c, t in table.items()})
    return hit[1]


def _same_text(a: str, b: str) -> bool:
    return a == b or _norm(a) == _norm(b)


# ---------------------------------------------------------------------------------------------------------------
# Reporting helpers


def _at(where: Where, path: str) -> Where:
    """``where`` one or more RM attributes deeper (``symbol/defining_code``); built only when reporting."""
    return where.at(path) if path else where


def _join(pre: str, attr: str) -> str:
    return f"{pre}/{attr}" if pre else attr


def _missing(rep: Reporter, where: Where, pre: str, attr: str, rm_type: str, code: str = "VAL006") -> None:
    rep.add(code, f"{rm_type} requires '{attr}', which is missing", _at(where, _join(pre, attr)), expected=attr)


def _wrong(rep: Reporter, where: Where, pre: str, attr: str, wanted: str, found: Any) -> None:
    rep.add(
        "VAL123",
        f"'{attr}' must be {wanted}, found {kind_name(found)}",
        _at(where, _join(pre, attr)),
        expected=wanted,
        found=kind_name(found),
    )


def _str(v: RMObject, attr: str, where: Where, rep: Reporter, pre: str = "", *, required: bool = True) -> str | None:
    """A string attribute, reporting a missing mandatory one (VAL006) or a wrong kind (VAL123)."""
    x = v.attrs.get(attr)
    if isinstance(x, str):
        return x
    if x is None:
        if required:
            _missing(rep, where, pre, attr, v.rm_type)
    else:
        _wrong(rep, where, pre, attr, "a text", x)
    return None


def _num(v: RMObject, attr: str, where: Where, rep: Reporter, pre: str = "", *, integer: bool = False, required: bool = True) -> float | int | None:
    """A number attribute (integral floats count as integers: JSON writers differ), else report and None."""
    x = v.attrs.get(attr)
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        if x is None:
            if required:
                _missing(rep, where, pre, attr, v.rm_type)
        else:
            _wrong(rep, where, pre, attr, "an integer" if integer else "a number", x)
        return None
    if integer and isinstance(x, float):
        if not x.is_integer():
            _wrong(rep, where, pre, attr, "an integer", x)
            return None
        return int(x)
    if isinstance(x, float) and not math.isfinite(x):
        _wrong(rep, where, pre, attr, "a finite number", x)
        return None
    return x


def _bool(v: RMObject, attr: str, where: Where, rep: Reporter, pre: str = "", *, required: bool = True) -> bool | None:
    x = v.attrs.get(attr)
    if isinstance(x, bool):
        return x
    if x is None:
        if required:
            _missing(rep, where, pre, attr, v.rm_type)
    else:
        _wrong(rep, where, pre, attr, "true or false", x)
    return None


def _obj(v: RMObject, attr: str, where: Where, rep: Reporter, pre: str = "", *, required: bool = True, code: str = "VAL006") -> RMObject | None:
    x = v.attrs.get(attr)
    if isinstance(x, RMObject):
        return x
    if x is None:
        if required:
            _missing(rep, where, pre, attr, v.rm_type, code)
    else:
        _wrong(rep, where, pre, attr, "an object", x)
    return None


def _fmt(x: Any) -> str:
    """Numbers as written in the JSON/XML they came from (floats keep their ``.0``, as the template's bounds do)."""
    return repr(x) if isinstance(x, float) else str(x)


def _limit(items: list[str], n: int = 10) -> str:
    return ", ".join(items[:n]) + (f", ... ({len(items)} in all)" if len(items) > n else "")


# ---------------------------------------------------------------------------------------------------------------
# Constraint helpers

_COMPUTED: dict[tuple[str, str], bool] = {}


def is_computed(rm_type: str, attr: str) -> bool:
    """Whether ``rm_type.attr`` is a function of the RM (``DV_PROPORTION.is_integral``, ``DV_QUANTITY.is_strictly_
    comparable_to``...): computed, never serialised, so never mandatory in data whatever a template's existence
    says (templates exported from tools constrain them like stored attributes)."""
    key = (rm_type, attr)
    hit = _COMPUTED.get(key)
    if hit is None:
        a = schema.attribute(rm_type, attr)
        hit = _COMPUTED[key] = bool(a is not None and a.is_computed)
    return hit


_ABSTRACT_DV = frozenset(
    "DATA_VALUE DV_ORDERED DV_QUANTIFIED DV_AMOUNT DV_ABSOLUTE_QUANTITY DV_TEMPORAL DV_ENCAPSULATED DV_TIME_SPECIFICATION".split()
)


def _applies(constraint: CObject, rm_type: str) -> bool:
    """Whether an object constraint is one for this value's RM type (or a supertype of it)."""
    ct = constraint.rm_type_name
    cut = ct.find("<")
    if cut >= 0:
        ct = ct[:cut]
    return ct == rm_type or (ct == "DV_TEXT" and rm_type == "DV_CODED_TEXT") or ct in _ABSTRACT_DV


def _child_for(c: CComplexObject | None, attr: str, value: Any = None) -> CObject | None:
    """The constraint on ``attr`` of ``c`` (the child matching ``value``'s type when there are several)."""
    if c is None:
        return None
    for a in c.attributes:
        if a.rm_attribute_name == attr:
            kids = a.children
            if not kids:
                return None
            if len(kids) == 1 or not isinstance(value, RMObject):
                return kids[0]
            for k in kids:
                if k.rm_type_name == value.rm_type:
                    return k
            return kids[0]
    return None


def _check_attributes(
    c: CComplexObject,
    v: RMObject,
    where: Where,
    rep: Reporter,
    codes: dict[str, str],
    handled: frozenset[str] = frozenset(),
    pre: str = "",
) -> None:
    """Apply the template's attribute constraints of a data value, except those in ``handled``.

    Primitive constraints report under ``codes[attr]`` (default VAL121); nested data values recurse; an attribute
    the template makes mandatory but the RM does not is VAL005 when missing (RM-mandatory ones are reported by
    the type's own function as VAL006).
    """
    for a in c.attributes:
        name = a.rm_attribute_name
        if name in handled:
            continue
        x = v.attrs.get(name)
        if x is None:
            ex = a.existence
            if (ex is not None and ex.lower and name not in _RM_MANDATORY.get(v.base_type, ())
                    and not is_computed(v.rm_type, name)):
                rep.add("VAL005", f"the template requires '{name}', which is missing", _at(where, _join(pre, name)), expected=name)
            continue
        kids = a.children
        if not kids:
            continue
        if len(kids) > 1 and isinstance(x, RMObject):
            k = next((k for k in kids if k.rm_type_name == x.rm_type), kids[0])
        else:
            k = kids[0]
        if isinstance(k, CPrimitiveObject):
            if k.item is not None:
                # the attribute's Where is built only if an issue is reported
                if pre:
                    check_primitive(k.item, x, where.at(pre), rep, code=codes.get(name), attr=name)
                else:
                    check_primitive(k.item, x, where, rep, code=codes.get(name), attr=name)
        elif isinstance(x, RMObject):
            if isinstance(k, CCodePhrase) and x.base_type == "CODE_PHRASE":
                _code_phrase(k, x, where, rep, _join(pre, name))
            elif x.base_type in _CHECKERS:
                check_data_value(k, x, _at(where, _join(pre, name)), rep)


# ---------------------------------------------------------------------------------------------------------------
# CODE_PHRASE and DV_CODED_TEXT


def _terminology_name(tid: str) -> str:
    """``SNOMED-CT(2003)`` -> ``SNOMED-CT``: versions do not change which terminology is meant."""
    cut = tid.find("(")
    return tid[:cut].strip() if cut > 0 else tid.strip()


def _code_phrase_parts(cp: RMObject, where: Where, rep: Reporter, pre: str) -> tuple[str | None, str | None]:
    """(terminology id, code) of a CODE_PHRASE, reporting missing or malformed parts."""
    tid_obj = cp.attrs.get("terminology_id")
    tid: str | None = None
    if isinstance(tid_obj, RMObject):
        t = tid_obj.attrs.get("value")
        if isinstance(t, str) and t:
            tid = t
        elif t is None:
            _missing(rep, where, _join(pre, "terminology_id"), "value", "TERMINOLOGY_ID")
        else:
            _wrong(rep, where, _join(pre, "terminology_id"), "value", "a non-empty text", t)
    elif isinstance(tid_obj, str) and tid_obj:  # lenient writers give the id as a plain string
        tid = tid_obj
    elif tid_obj is None:
        _missing(rep, where, pre, "terminology_id", "CODE_PHRASE")
    else:
        _wrong(rep, where, pre, "terminology_id", "a TERMINOLOGY_ID", tid_obj)
    code = cp.attrs.get("code_string")
    if not isinstance(code, str) or not code:
        if code is None:
            _missing(rep, where, pre, "code_string", "CODE_PHRASE")
        else:
            _wrong(rep, where, pre, "code_string", "a non-empty text", code)
        code = None
    return tid, code


def _describe_code(code: str, terminology: str, where: Where) -> str:
    if terminology == "local":
        text = local_text(where.terminology, code, where.language)
    elif terminology == "openehr":
        text = _openehr_rubric(code, where.language)
    else:
        text = None
    return f"{code} {text}" if text else code


def _code_verdict(c: CObject, tid: str, code: str) -> int:
    """0 accepted, 1 wrong terminology, 2 code not in the list."""
    if isinstance(c, ConstraintRef):
        return 0  # an external value set (ac-code): any code is accepted without a terminology server
    if not isinstance(c, CCodePhrase):
        return 0
    if c.terminology_id and _terminology_name(c.terminology_id) != _terminology_name(tid):
        return 1
    if c.code_list and code not in c.code_list:
        return 2
    return 0


def _check_code_against(
    alternatives: list[CObject], tid: str, code: str, where: Where, rep: Reporter, pre: str
) -> bool:
    """Check (terminology, code) against one or more C_CODE_PHRASE alternatives; True when accepted."""
    verdicts = [_code_verdict(c, tid, code) for c in alternatives]
    if 0 in verdicts:
        return True
    same_term = [c for c, v in zip(alternatives, verdicts) if v == 2]
    if same_term:
        c = same_term[0]
        assert isinstance(c, CCodePhrase)
        term = _terminology_name(c.terminology_id or tid)
        allowed = [_describe_code(x, term, where) for x in c.code_list]
        rep.add(
            "VAL106",
            f"code {_describe_code(code, term, where) if term != 'local' else code} is not in the allowed list ({_limit(allowed)})",
            _at(where, _join(pre, "code_string")),
            expected=_limit([x for x in c.code_list], 30),
            found=code,
        )
    else:
        wanted = sorted({(c.terminology_id or "") for c in alternatives if isinstance(c, CCodePhrase)})
        rep.add(
            "VAL107",
            f'terminology "{tid}" is not allowed here; expected {" or ".join(wanted)}',
            _at(where, _join(pre, "terminology_id")),
            expected=" or ".join(wanted),
            found=tid,
        )
    return False


def _code_phrase(c: CObject | None, cp: RMObject, where: Where, rep: Reporter, pre: str = "") -> tuple[str | None, str | None, bool]:
    """A CODE_PHRASE (``pre`` is its path below ``where``): (terminology, code, accepted by the constraint)."""
    tid, code = _code_phrase_parts(cp, where, rep, pre)
    ok = True
    if tid is not None and code is not None and c is not None:
        ok = _check_code_against([c], tid, code, where, rep, pre)
    return tid, code, ok


def _check_term_text(text: str, tid: str, code: str, where: Where, rep: Reporter, pre: str, constrained: bool = False) -> None:
    """VAL108: the coded text's ``value`` against the term text of its code (see module doc). Under a template
    constraint an openEHR code the terminology does not know is VAL122 (without one, the RM rules own that).

    A text in any language the terminology defines is accepted: the RM gives DV_TEXT its own ``language``
    because a text may be in another language than its entry. Messages show the composition language's text."""
    if tid == "local":
        accepted = local_texts(where.terminology, code)
        if accepted and text not in accepted and _norm(text) not in accepted:
            expected = local_text(where.terminology, code, where.language) or sorted(accepted)[0]
            rep.add(
                "VAL108",
                f'value "{text}" is not the term text "{expected}" of code {code}',
                _at(where, _join(pre, "value")),
                expected=expected,
                found=text,
            )
    elif tid == "openehr":
        accepted = _oe.all_rubrics(code)
        if not accepted:
            if constrained:
                rep.add("VAL122", f"code {code} is not in the openEHR terminology", _at(where, _join(pre, "defining_code/code_string")), found=code)
        elif text not in accepted and not any(_same_text(text, t) for t in accepted):
            expected = _openehr_rubric(code, where.language) or sorted(accepted)[0]
            rep.add(
                "VAL108",
                f'value "{text}" is not the openEHR term text "{expected}" of code {code}',
                _at(where, _join(pre, "value")),
                expected=expected,
                found=text,
            )


def _coded(c: CObject | None, v: RMObject, where: Where, rep: Reporter, pre: str = "") -> tuple[str | None, str | None]:
    """A DV_CODED_TEXT at ``pre`` below ``where``: intrinsic checks, the code constraint and the term text."""
    text = _str(v, "value", where, rep, pre)
    cp = _obj(v, "defining_code", where, rep, pre)
    if text is not None and not text.strip():
        rep.add("VAL126", "the text value is empty", _at(where, _join(pre, "value")), found=repr(text))
    if cp is None:
        return None, None
    tid, code = _code_phrase_parts(cp, where, rep, _join(pre, "defining_code"))
    if tid is None or code is None:
        return tid, code
    ok = True
    if isinstance(c, CComplexObject) and c.attributes:
        for a in c.attributes:
            if a.rm_attribute_name == "defining_code":
                if a.children:
                    ok = _check_code_against(a.children, tid, code, where, rep, _join(pre, "defining_code"))
                break
        _check_attributes(c, v, where, rep, _TEXT_CODES, frozenset(("defining_code",)), pre)
    elif isinstance(c, (CCodePhrase, ConstraintRef)):  # a code constraint given directly for the coded text
        ok = _check_code_against([c], tid, code, where, rep, _join(pre, "defining_code"))
    if ok and text is not None:
        _check_term_text(text, tid, code, where, rep, pre, c is not None)
    return tid, code


_TEXT_CODES = {"value": "VAL109"}


class _CodeSpec:
    """Which (terminology, code) pairs a coded text's code alternatives accept, as sets: the same answers as
    ``_code_verdict(...) == 0`` for some alternative, with one or two set look-ups."""

    __slots__ = ("any", "free_codes", "by_terminology")

    def __init__(self, alts: tuple[CObject, ...]) -> None:
        #: some alternative accepts every code (none at all, a CONSTRAINT_REF, a code phrase without a list)
        self.any = not alts
        #: codes accepted whatever the terminology (code lists of alternatives that name no terminology)
        self.free_codes: set[str] = set()
        #: terminology name (``_terminology_name``) -> its accepted codes, None for any code
        self.by_terminology: dict[str, set[str] | None] = {}
        for k in alts:
            if not isinstance(k, CCodePhrase):
                self.any = True  # ConstraintRef or a constraint the code check does not apply to
            elif not k.terminology_id:
                if k.code_list:
                    self.free_codes.update(k.code_list)
                else:
                    self.any = True
            else:
                name = _terminology_name(k.terminology_id)
                if not k.code_list:
                    self.by_terminology[name] = None
                elif name not in self.by_terminology:
                    self.by_terminology[name] = set(k.code_list)
                else:
                    known = self.by_terminology[name]
                    if known is not None:
                        known.update(k.code_list)

    def accepts(self, tid: str, code: str) -> bool:
        if self.any or code in self.free_codes:
            return True
        by_t = self.by_terminology
        if not by_t:
            return False
        # a terminology name is its own name (``_terminology_name`` is idempotent): the exact id is tried first
        codes = by_t.get(tid, _NO_CODES)
        if codes is _NO_CODES:
            codes = by_t.get(_terminology_name(tid), _NO_CODES)
            if codes is _NO_CODES:
                return False
        return codes is None or code in codes


_NO_CODES: set[str] = set()

# id(constraint) -> (constraint, its code spec): None when the constraint constrains more than the code (the full
# path handles it). Computed once per template node.
_CODE_SPECS: dict[int, tuple[CObject | None, _CodeSpec | None]] = {}
_CODE_SPECS_MAX = 65536
_OPEN_SPEC = _CodeSpec(())


def _code_spec(c: CObject | None) -> _CodeSpec | None:
    if c is None:
        return _OPEN_SPEC
    hit = _CODE_SPECS.get(id(c))
    if hit is None or hit[0] is not c:
        spec: _CodeSpec | None = None
        if isinstance(c, (CCodePhrase, ConstraintRef)):
            spec = _CodeSpec((c,))
        elif isinstance(c, CComplexObject) and c.attributes and all(
            a.rm_attribute_name == "defining_code" for a in c.attributes
        ):
            spec = _CodeSpec(tuple(k for a in c.attributes for k in a.children))
        if len(_CODE_SPECS) >= _CODE_SPECS_MAX:
            _CODE_SPECS.clear()
        hit = _CODE_SPECS[id(c)] = (c, spec)
    return hit[1]


def _dv_coded_text(c: CObject | None, v: RMObject, where: Where, rep: Reporter) -> None:
    # fast path for the common, well-formed value: the same decisions as _coded, without any location or message;
    # anything unusual or wrong takes the full path, which reports
    a = v.attrs
    text = a.get("value")
    cp = a.get("defining_code")
    if type(text) is str and type(cp) is RMObject and text and not text.isspace():
        ca = cp.attrs
        tido = ca.get("terminology_id")
        code = ca.get("code_string")
        if type(tido) is RMObject and type(code) is str and code:
            tid = tido.attrs.get("value")
            spec = _code_spec(c)
            if type(tid) is str and tid and spec is not None and spec.accepts(tid, code):
                if tid == "local":
                    accepted = local_texts(where.terminology, code)
                    if not accepted or text in accepted or _norm(text) in accepted:
                        return
                elif tid == "openehr":
                    accepted = _oe.all_rubrics(code)
                    if (text in accepted or (accepted and any(_same_text(text, t) for t in accepted))
                            or (not accepted and c is None)):
                        return
                else:
                    return
    _coded(c, v, where, rep)


def _dv_text(c: CObject | None, v: RMObject, where: Where, rep: Reporter) -> None:
    if c is None:  # fast path: an unconstrained text with a non-blank value
        x = v.attrs.get("value")
        if type(x) is str and x and not x.isspace():
            return
    text = _str(v, "value", where, rep)
    if text is not None and not text.strip():
        rep.add("VAL126", "the text value is empty", _at(where, "value"), found=repr(text))
    if isinstance(c, CComplexObject) and c.attributes:
        _check_attributes(c, v, where, rep, _TEXT_CODES)


def _dv_paragraph(c: CObject | None, v: RMObject, where: Where, rep: Reporter) -> None:
    items = v.attrs.get("items")
    if not isinstance(items, list):
        if items is None:
            _missing(rep, where, "", "items", v.rm_type)
        else:
            _wrong(rep, where, "", "items", "a list", items)
        return
    for i, item in enumerate(items):
        if isinstance(item, RMObject):
            check_data_value(None, item, where.at("items", f"items/{i}", constraint=False), rep)


def _code_phrase_value(c: CObject | None, v: RMObject, where: Where, rep: Reporter) -> None:
    if c is None or not isinstance(c, (CCodePhrase, ConstraintRef)):
        # fast path: a well-formed CODE_PHRASE (language, encoding...) without a code constraint
        a = v.attrs
        tido = a.get("terminology_id")
        code = a.get("code_string")
        if type(tido) is RMObject and type(code) is str and code:
            tid = tido.attrs.get("value")
            if type(tid) is str and tid:
                return
        c = None
    _code_phrase(c, v, where, rep)


# ---------------------------------------------------------------------------------------------------------------
# Quantities


def _decimals(x: float | int) -> int:
    """Decimal places of a magnitude as written (integral floats count 0: readers cannot tell 39.0 from 39)."""
    if isinstance(x, int) or x.is_integer():
        return 0
    r = repr(x)
    if "e" in r or "E" in r:
        mant, _, exp = r.lower().partition("e")
        frac = mant.partition(".")[2]
        return max(0, len(frac.rstrip("0")) - int(exp))
    return len(r.partition(".")[2])


def _quantity_item_check(item: CQuantityItem, mag: float, units: str, prec: Any, where: Where, rep: Reporter) -> None:
    if item.magnitude is not None:
        msg = number_range_violation(item.magnitude, mag)
        if msg is not None:
            rep.add(
                "VAL102",
                f"magnitude {_fmt(mag)} {units} is {msg}",
                _at(where, "magnitude"),
                expected=f"{item.magnitude} {units}",
                found=f"{_fmt(mag)} {units}",
            )
    p = item.precision
    if p is not None and not (p.lower == -1 and p.upper in (-1, None)):
        if isinstance(prec, int) and not isinstance(prec, bool) and not p.contains(prec):
            rep.add("VAL103", f"precision {prec} is not allowed; the template requires {p}", _at(where, "precision"), expected=str(p), found=str(prec))
        elif p.upper is not None and p.upper >= 0 and _decimals(mag) > p.upper:
            places = "no decimal places" if p.upper == 0 else f"at most {p.upper} decimal place{'s' if p.upper > 1 else ''}"
            rep.add(
                "VAL103",
                f"magnitude {_fmt(mag)} {units} has {_decimals(mag)} decimal places; the template allows {places}",
                _at(where, "magnitude"),
                expected=str(p),
                found=_fmt(mag),
            )


def _item_fits(item: CQuantityItem, mag: int | float) -> bool:
    """Whether a finite magnitude (without an explicit precision) is within the item's range and precision."""
    if item.magnitude is not None and number_range_violation(item.magnitude, mag) is not None:
        return False
    p = item.precision
    return (p is None or (p.lower == -1 and p.upper in (-1, None)) or p.upper is None or p.upper < 0
            or _decimals(mag) <= p.upper)


def _dv_quantity(c: CObject | None, v: RMObject, where: Where, rep: Reporter) -> None:
    a = v.attrs
    mag = a.get("magnitude")
    units = a.get("units")
    # fast path: magnitude and units, nothing else that needs checking, inside the constraint's item for the units
    if (type(mag) is int or (type(mag) is float and math.isfinite(mag))) and type(units) is str and (
        "precision" not in a and "normal_range" not in a and "other_reference_ranges" not in a
    ):
        if c is None or (isinstance(c, CDvQuantity) and not c.list):
            return
        if isinstance(c, CDvQuantity):
            item = c.item_for(units)
            if item is not None and _item_fits(item, mag):
                return
    mag = _num(v, "magnitude", where, rep)
    units = _str(v, "units", where, rep)
    prec = v.attrs.get("precision")
    if prec is not None:
        p = _num(v, "precision", where, rep, integer=True)
        if p is not None and p < -1:
            rep.add("VAL103", f"precision {p} is invalid (-1 means no limit; otherwise 0 or more)", _at(where, "precision"), found=str(p))
        elif p == 0 and mag is not None and _decimals(mag) > 0:
            rep.add("VAL103", f"magnitude {_fmt(mag)} has decimals but precision is 0", _at(where, "magnitude"), found=_fmt(mag))
        prec = p
    _ordered_extras(v, where, rep)
    if c is None or mag is None or units is None:
        return
    if isinstance(c, CDvQuantity):
        if not c.list:
            return
        item = c.item_for(units)
        if item is None:
            allowed = ", ".join(i.units for i in c.list)
            rep.add("VAL101", f'unit "{units}" is not allowed; allowed: {allowed}', _at(where, "units"), expected=allowed, found=units)
            return
        _quantity_item_check(item, mag, units, prec, where, rep)
    elif isinstance(c, CComplexObject) and c.attributes:
        _check_attributes(c, v, where, rep, _QUANTITY_CODES)


_QUANTITY_CODES = {"magnitude": "VAL102", "units": "VAL101", "precision": "VAL103"}


def _dv_count(c: CObject | None, v: RMObject, where: Where, rep: Reporter) -> None:
    if c is None:  # fast path: an unconstrained count with an integral magnitude and no reference ranges
        a = v.attrs
        if type(a.get("magnitude")) is int and "normal_range" not in a and "other_reference_ranges" not in a:
            return
    mag = _num(v, "magnitude", where, rep, integer=True)
    _ordered_extras(v, where, rep)
    if mag is not None and isinstance(c, CComplexObject) and c.attributes:
        _check_attributes(c, v, where, rep, _COUNT_CODES)


_COUNT_CODES = {"magnitude": "VAL104"}

_PROPORTION_KINDS = {0: "ratio", 1: "unitary", 2: "percent", 3: "fraction", 4: "integer fraction"}


def _dv_proportion(c: CObject | None, v: RMObject, where: Where, rep: Reporter) -> None:
    num = _num(v, "numerator", where, rep)
    den = _num(v, "denominator", where, rep)
    kind = _num(v, "type", where, rep, integer=True)
    prec = _num(v, "precision", where, rep, integer=True, required=False)
    _ordered_extras(v, where, rep)
    if kind is not None and kind not in _PROPORTION_KINDS:
        kinds = ", ".join(f"{k} {n}" for k, n in _PROPORTION_KINDS.items())
        rep.add("VAL105", f"type {kind} is not a proportion kind ({kinds})", _at(where, "type"), expected=kinds, found=str(kind))
        kind = None
    if den is not None and den == 0:
        rep.add("VAL105", "the denominator must not be 0", _at(where, "denominator"), found="0")
    if kind is not None and den is not None:
        name = _PROPORTION_KINDS[kind]
        if kind == 1 and den != 1:
            rep.add("VAL105", f"a unitary proportion must have denominator 1, found {_fmt(den)}", _at(where, "denominator"), expected="1", found=_fmt(den))
        elif kind == 2 and den != 100:
            rep.add("VAL105", f"a percent proportion must have denominator 100, found {_fmt(den)}", _at(where, "denominator"), expected="100", found=_fmt(den))
        elif kind in (3, 4) and num is not None and not (float(num).is_integer() and float(den).is_integer()):
            rep.add(
                "VAL105",
                f"a {name} proportion must have whole-number numerator and denominator, found {_fmt(num)}/{_fmt(den)}",
                where,
                found=f"{_fmt(num)}/{_fmt(den)}",
            )
    if prec == 0 and num is not None and den is not None and not (float(num).is_integer() and float(den).is_integer()):
        rep.add("VAL105", f"precision 0 requires whole numbers, found {_fmt(num)}/{_fmt(den)}", where, found=f"{_fmt(num)}/{_fmt(den)}")
    elif prec is not None and prec < -1:
        rep.add("VAL105", f"precision {prec} is invalid (-1 means no limit; otherwise 0 or more)", _at(where, "precision"), found=str(prec))
    if isinstance(c, CComplexObject) and c.attributes:
        _check_attributes(c, v, where, rep, _PROPORTION_CODES)


_PROPORTION_CODES = {"numerator": "VAL105", "denominator": "VAL105", "type": "VAL105", "precision": "VAL105"}


def _ordered_extras(v: RMObject, where: Where, rep: Reporter) -> None:
    """Intrinsic checks of DV_ORDERED's reference ranges (rare; two dict lookups when absent)."""
    nr = v.attrs.get("normal_range")
    if isinstance(nr, RMObject):
        check_data_value(None, nr, where.at("normal_range", constraint=False), rep)
    refs = v.attrs.get("other_reference_ranges")
    if isinstance(refs, list):
        for i, ref in enumerate(refs):
            if isinstance(ref, RMObject):
                rng = ref.attrs.get("range")
                if isinstance(rng, RMObject):
                    check_data_value(None, rng, where.at("other_reference_ranges", f"other_reference_ranges/{i}/range", constraint=False), rep)


# ---------------------------------------------------------------------------------------------------------------
# Ordinals and scales


def _symbol_text(symbol: Any, where: Where) -> str:
    """``local::at0012 Mild``: an allowed item's symbol with terminology (so local and external codes that share
    an at-code are told apart) and its term text in the composition language."""
    tid = symbol.terminology_id or ""
    text = local_text(where.terminology, symbol.code_string, where.language) if tid == "local" else None
    return f"{tid}::{symbol.code_string}" + (f" {text}" if text else "")


def _ordinal_like(c: CObject | None, v: RMObject, where: Where, rep: Reporter, integer: bool) -> None:
    """DV_ORDINAL / DV_SCALE: the (value, symbol) pair must be one of the template's items.

    A value may appear in several items (NEWS2 gives 3 to both at0021 and at0064), so the value alone does not
    determine the symbol: the pair is compared, the symbol by terminology and code."""
    value = _num(v, "value", where, rep, integer=integer)
    symbol = _obj(v, "symbol", where, rep)
    _ordered_extras(v, where, rep)
    item_list = c.list if isinstance(c, (CDvOrdinal, CDvScale)) else None
    if symbol is None:
        return
    if not item_list or value is None:
        _coded(None, symbol, where, rep, "symbol")
        return
    same_value = [
        it for it in item_list
        if it.value == value or (not integer and math.isclose(it.value, value, rel_tol=1e-9, abs_tol=1e-12))
    ]
    word = "ordinal" if integer else "scale"
    if not same_value:
        allowed = [f"{_fmt(it.value)} {local_text(where.terminology, it.symbol.code_string, where.language) or it.symbol.code_string}" for it in item_list]
        rep.add(
            "VAL110",
            f"{word} value {_fmt(value)} is not one of the allowed values ({_limit(allowed)})",
            _at(where, "value"),
            expected=_limit([_fmt(it.value) for it in item_list], 30),
            found=_fmt(value),
        )
        _coded(None, symbol, where, rep, "symbol")
        return
    tid, code = _coded(None, symbol, where, rep, "symbol")
    if code is None:
        return  # a malformed symbol was reported by _coded
    for it in same_value:
        if it.symbol.code_string == code and (
            tid is None or _terminology_name(tid) == _terminology_name(it.symbol.terminology_id or "")
        ):
            return
    expected = " or ".join(_symbol_text(it.symbol, where) for it in same_value)
    rep.add(
        "VAL110",
        f"symbol {tid}::{code} does not belong to {word} value {_fmt(value)}, whose symbol is {expected}",
        _at(where, "symbol/defining_code/code_string"),
        expected=" or ".join(f"{it.symbol.terminology_id}::{it.symbol.code_string}" for it in same_value),
        found=f"{tid}::{code}",
    )


def _dv_ordinal(c: CObject | None, v: RMObject, where: Where, rep: Reporter) -> None:
    _ordinal_like(c, v, where, rep, True)


def _dv_scale(c: CObject | None, v: RMObject, where: Where, rep: Reporter) -> None:
    _ordinal_like(c, v, where, rep, False)


# ---------------------------------------------------------------------------------------------------------------
# Booleans, temporal values


def _dv_boolean(c: CObject | None, v: RMObject, where: Where, rep: Reporter) -> None:
    if _bool(v, "value", where, rep) is not None and isinstance(c, CComplexObject) and c.attributes:
        _check_attributes(c, v, where, rep, _BOOLEAN_CODES)


_BOOLEAN_CODES = {"value": "VAL111"}


def _temporal(kind: str, parse: Callable[[str], Any], word: str, code: str, quick: Callable[[str], str | None] | None = None) -> Checker:
    def check(c: CObject | None, v: RMObject, where: Where, rep: Reporter) -> None:
        if c is None and quick is not None:
            # fast path: a valid unconstrained value without reference ranges (event times, context times)
            a = v.attrs
            x = a.get("value")
            if (type(x) is str and "normal_range" not in a and "other_reference_ranges" not in a
                    and quick(x) is None):
                return
        text = _str(v, "value", where, rep)
        if kind != "duration":
            _ordered_extras(v, where, rep)
        if text is None:
            return
        if c is None and quick is not None:  # validity only: no parsed form needed
            problem = quick(text)
            if problem is not None:
                rep.add(code, f'"{text}" is not a valid ISO 8601 {word}: {problem}', _at(where, "value"), found=text)
            return
        try:
            parsed = parse(text)
        except IsoError as exc:
            rep.add(code, f'"{text}" is not a valid ISO 8601 {word}: {exc}', _at(where, "value"), found=text)
            return
        if isinstance(c, CComplexObject) and c.attributes:
            for a in c.attributes:
                if a.rm_attribute_name == "value":
                    for k in a.children:
                        if isinstance(k, CPrimitiveObject) and k.item is not None:
                            if isinstance(k.item, _TEMPORAL_ITEMS):
                                check_temporal_constraint(k.item, kind, text, parsed, where, rep, "value")
                            else:  # a C_STRING on a temporal value (unusual, but legal)
                                check_primitive(k.item, text, where, rep, code=code, attr="value")
                    break
            if len(c.attributes) > 1:
                _check_attributes(c, v, where, rep, {}, frozenset(("value",)))

    check.__name__ = f"_dv_{kind}"
    check.__doc__ = f"DV_{kind.upper()}: ISO 8601 {word} syntax ({code}), then the template's pattern and range."
    return check


_TEMPORAL_ITEMS = (CDate, CTime, CDateTime, CDuration)
_dv_date = _temporal("date", parse_date, "date", "VAL112", date_problem)
_dv_time = _temporal("time", parse_time, "time", "VAL112")
_dv_date_time = _temporal("date_time", parse_date_time, "date-time", "VAL112", date_time_problem)
_dv_duration = _temporal("duration", parse_duration, "duration", "VAL115")


# ---------------------------------------------------------------------------------------------------------------
# Identifiers, URIs, encapsulated data, state


def _dv_identifier(c: CObject | None, v: RMObject, where: Where, rep: Reporter) -> None:
    ident = v.attrs.get("id")
    if ident is None:
        rep.add("VAL116", "the identifier has no id", _at(where, "id"), expected="id")
    elif not isinstance(ident, str):
        _wrong(rep, where, "", "id", "a text", ident)
    elif not ident.strip():
        rep.add("VAL116", "the identifier's id is empty", _at(where, "id"), found=repr(ident))
    for attr in ("issuer", "assigner", "type"):  # optional since RM 1.1.0, but never empty when given
        x = v.attrs.get(attr)
        if x is None:
            continue
        if not isinstance(x, str):
            _wrong(rep, where, "", attr, "a text", x)
        elif not x.strip():
            rep.add("VAL116", f"the identifier's {attr} is empty (leave it out instead)", _at(where, attr), found=repr(x))
    if isinstance(c, CComplexObject) and c.attributes:
        _check_attributes(c, v, where, rep, _IDENTIFIER_CODES)


_IDENTIFIER_CODES = {"id": "VAL116", "issuer": "VAL116", "assigner": "VAL116", "type": "VAL116"}

# RFC 3986 URI-reference: an absolute URI (scheme ":" ...) or a relative reference (``www.iana.org``, ``/a/b``,
# which servers accept and the RM does not exclude); either way only unreserved, reserved and percent-encoded
# characters. DV_EHR_URI additionally needs the ehr: scheme.
_URI_CHARS_RE = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")
_URI_CHAR_RE = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]")
_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
_BAD_PCT_RE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def uri_problem(text: str) -> str | None:
    """Why ``text`` is not an RFC 3986 URI-reference, or None."""
    if not text:
        return "it is empty"
    if _URI_CHARS_RE.fullmatch(text) is None:
        bad = next(ch for ch in text if _URI_CHAR_RE.fullmatch(ch) is None)
        return f"the character {bad!r} must be percent-encoded" if bad != " " else "it contains a space (write %20)"
    if _BAD_PCT_RE.search(text):
        return "a % must be followed by two hexadecimal digits"
    # a ':' before the first '/', '?' or '#' ends a scheme, which must be well-formed
    head = re.split(r"[/?#]", text, maxsplit=1)[0]
    colon = head.find(":")
    if colon >= 0 and _SCHEME_RE.fullmatch(text[:colon]) is None:
        return f"the scheme {text[:colon]!r} is malformed (letters, digits, + - . and starting with a letter)"
    return None


def _dv_uri(c: CObject | None, v: RMObject, where: Where, rep: Reporter) -> None:
    text = _str(v, "value", where, rep)
    if text is not None:
        problem = uri_problem(text)
        if problem is not None:
            rep.add("VAL117", f'"{text}" is not a valid URI: {problem}', _at(where, "value"), found=text)
        elif v.base_type == "DV_EHR_URI" and text[:4].lower() != "ehr:":
            rep.add("VAL117", f'"{text}" is not an EHR URI: the scheme must be ehr:', _at(where, "value"), expected="ehr:...", found=text)
    if isinstance(c, CComplexObject) and c.attributes:
        _check_attributes(c, v, where, rep, _URI_CODES)


_URI_CODES = {"value": "VAL117"}


def _dv_multimedia(c: CObject | None, v: RMObject, where: Where, rep: Reporter) -> None:
    mt = _obj(v, "media_type", where, rep, code="VAL118")
    if mt is not None:
        tid, code = _code_phrase_parts(mt, where, rep, "media_type")
        media_c = _child_for(c, "media_type") if isinstance(c, CComplexObject) else None
        ok = True
        if tid is not None and code is not None and media_c is not None:
            ok = _check_code_against([media_c], tid, code, where, rep, "media_type")
        if ok and code is not None:
            if tid is not None and tid != "IANA_media-types":
                rep.add("VAL118", f'media type terminology "{tid}" should be IANA_media-types', _at(where, "media_type/terminology_id"), expected="IANA_media-types", found=tid)
            if not _iso.is_media_type(code):
                rep.add("VAL118", f'"{code}" is not an IANA media type', _at(where, "media_type/code_string"), found=code)
    data, uri = v.attrs.get("data"), v.attrs.get("uri")
    if data is None and uri is None:
        rep.add("VAL118", "the multimedia value has neither data nor a uri", where, expected="data or uri")
    if data is not None and not isinstance(data, (str, bytes)):
        _wrong(rep, where, "", "data", "base64 text", data)
    size = _num(v, "size", where, rep, integer=True, required=False)
    if size is not None and size < 0:
        rep.add("VAL118", f"size {size} is negative", _at(where, "size"), found=str(size))
    if isinstance(uri, RMObject):
        check_data_value(_child_for(c, "uri") if isinstance(c, CComplexObject) else None, uri, where.at("uri"), rep)
    elif uri is not None:
        _wrong(rep, where, "", "uri", "a DV_URI", uri)
    thumb = v.attrs.get("thumbnail")
    if isinstance(thumb, RMObject):
        check_data_value(None, thumb, where.at("thumbnail"), rep)
    if isinstance(c, CComplexObject) and c.attributes:
        _check_attributes(c, v, where, rep, _MULTIMEDIA_CODES, frozenset(("media_type", "uri")))


_MULTIMEDIA_CODES = {"size": "VAL118", "alternate_text": "VAL118", "data": "VAL118"}


def _dv_parsable(c: CObject | None, v: RMObject, where: Where, rep: Reporter) -> None:
    for attr in ("value", "formalism"):
        x = v.attrs.get(attr)
        if x is None:
            rep.add("VAL119", f"the parsable value has no {attr}", _at(where, attr), expected=attr)
        elif not isinstance(x, str):
            _wrong(rep, where, "", attr, "a text", x)
        elif not x.strip():
            rep.add("VAL119", f"the parsable value's {attr} is empty", _at(where, attr), found=repr(x))
    if isinstance(c, CComplexObject) and c.attributes:
        _check_attributes(c, v, where, rep, _PARSABLE_CODES)


_PARSABLE_CODES = {"value": "VAL119", "formalism": "VAL119"}


def _dv_state(c: CObject | None, v: RMObject, where: Where, rep: Reporter) -> None:
    value = v.attrs.get("value")
    if isinstance(value, RMObject):
        _coded(None, value, where, rep, "value")
    elif value is None:
        rep.add("VAL120", "the state has no value", _at(where, "value"), expected="value")
    else:
        _wrong(rep, where, "", "value", "a DV_CODED_TEXT", value)
    term = v.attrs.get("is_terminal")
    if term is None:
        rep.add("VAL120", "the state does not say whether it is terminal (is_terminal)", _at(where, "is_terminal"), expected="is_terminal")
    elif not isinstance(term, bool):
        _wrong(rep, where, "", "is_terminal", "true or false", term)
    # C_DV_STATE (a state machine) is kept as parsed by the loaders and is not checked here


def _time_spec(c: CObject | None, v: RMObject, where: Where, rep: Reporter) -> None:
    value = _obj(v, "value", where, rep)
    if value is not None:
        check_data_value(None, value, where.at("value"), rep)


# ---------------------------------------------------------------------------------------------------------------
# Intervals


def order_key(v: RMObject) -> tuple[str, Any] | None:
    """A value to compare interval bounds by: (what it measures, comparable key), or None if not comparable."""
    bt = v.base_type
    a = v.attrs
    try:
        if bt == "DV_QUANTITY":
            m = a.get("magnitude")
            return (f"DV_QUANTITY {a.get('units')}", float(m)) if _is_num(m) else None
        if bt in ("DV_COUNT",):
            m = a.get("magnitude")
            return (bt, m) if _is_num(m) else None
        if bt in ("DV_ORDINAL", "DV_SCALE"):
            m = a.get("value")
            return (bt, m) if _is_num(m) else None
        if bt == "DV_PROPORTION":
            n, d = a.get("numerator"), a.get("denominator")
            return (bt, n / d) if _is_num(n) and _is_num(d) and d else None
        text = a.get("value")
        if not isinstance(text, str):
            return None
        if bt == "DV_DURATION":
            return (bt, parse_duration(text).total_seconds())
        if bt == "DV_DATE":
            return (bt, temporal_key(parse_date(text)))
        if bt == "DV_TIME":
            return (bt, temporal_key(parse_time(text)))
        if bt == "DV_DATE_TIME":
            return (bt, temporal_key(parse_date_time(text)))
    except (IsoError, TypeError, ValueError, ZeroDivisionError):
        return None
    return None


def _is_num(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _dv_interval(c: CObject | None, v: RMObject, where: Where, rep: Reporter) -> None:
    cc = c if isinstance(c, CComplexObject) else None
    bounds: dict[str, RMObject] = {}
    for side in ("lower", "upper"):
        b = v.attrs.get(side)
        unbounded = v.attrs.get(f"{side}_unbounded")
        included = v.attrs.get(f"{side}_included")
        for flag, x in ((f"{side}_unbounded", unbounded), (f"{side}_included", included)):
            if x is not None and not isinstance(x, bool):
                _wrong(rep, where, "", flag, "true or false", x)
        if isinstance(b, RMObject):
            bounds[side] = b
            if unbounded is True:
                rep.add("VAL125", f"the interval has a {side} bound but says {side}_unbounded", _at(where, f"{side}_unbounded"), expected="false", found="true")
            check_data_value(_child_for(cc, side, b), b, where.at(side), rep)
        elif b is not None:
            _wrong(rep, where, "", side, "a data value", b)
        elif unbounded is False:
            rep.add("VAL125", f"the interval has no {side} bound but says it is bounded ({side}_unbounded false)", _at(where, side), expected=side)
        if unbounded is True and included is True:
            rep.add("VAL125", f"an unbounded {side} end cannot be included ({side}_included must be false)", _at(where, f"{side}_included"), expected="false", found="true")
    if len(bounds) == 2:
        lo, hi = order_key(bounds["lower"]), order_key(bounds["upper"])
        if lo is not None and hi is not None:
            if lo[0] != hi[0]:
                rep.add("VAL125", f"the bounds cannot be compared ({lo[0]} and {hi[0]})", where, found=f"{lo[0]} / {hi[0]}")
            else:
                k1, k2 = lo[1], hi[1]
                above = compare_keys(k1, k2) > 0 if bt_temporal(lo[0]) else k1 > k2
                if above:
                    rep.add("VAL125", "the lower bound is above the upper bound", where, found=f"{_bound_text(bounds['lower'])} > {_bound_text(bounds['upper'])}")
    if cc is not None and cc.attributes:
        _check_attributes(cc, v, where, rep, {}, frozenset(("lower", "upper")))


def bt_temporal(kind: str) -> bool:
    return kind in ("DV_DATE", "DV_TIME", "DV_DATE_TIME")


def _bound_text(b: RMObject) -> str:
    a = b.attrs
    if "magnitude" in a:
        return f"{_fmt(a['magnitude'])}" + (f" {a['units']}" if isinstance(a.get("units"), str) else "")
    if "numerator" in a:
        return f"{_fmt(a.get('numerator'))}/{_fmt(a.get('denominator'))}"
    return str(a.get("value"))


# ---------------------------------------------------------------------------------------------------------------
# Dispatch

_CHECKERS: dict[str, Checker] = {
    "DV_TEXT": _dv_text,
    "DV_CODED_TEXT": _dv_coded_text,
    "DV_PARAGRAPH": _dv_paragraph,
    "CODE_PHRASE": _code_phrase_value,
    "DV_QUANTITY": _dv_quantity,
    "DV_COUNT": _dv_count,
    "DV_PROPORTION": _dv_proportion,
    "DV_ORDINAL": _dv_ordinal,
    "DV_SCALE": _dv_scale,
    "DV_BOOLEAN": _dv_boolean,
    "DV_DATE": _dv_date,
    "DV_TIME": _dv_time,
    "DV_DATE_TIME": _dv_date_time,
    "DV_DURATION": _dv_duration,
    "DV_IDENTIFIER": _dv_identifier,
    "DV_URI": _dv_uri,
    "DV_EHR_URI": _dv_uri,
    "DV_MULTIMEDIA": _dv_multimedia,
    "DV_PARSABLE": _dv_parsable,
    "DV_STATE": _dv_state,
    "DV_INTERVAL": _dv_interval,
    "DV_GENERAL_TIME_SPECIFICATION": _time_spec,
    "DV_PERIODIC_TIME_SPECIFICATION": _time_spec,
}

#: RM-mandatory attributes per type (reported as VAL006 by the type's function, so never as VAL005 too)
_RM_MANDATORY: dict[str, tuple[str, ...]] = {
    "DV_TEXT": ("value",),
    "DV_CODED_TEXT": ("value", "defining_code"),
    "DV_QUANTITY": ("magnitude", "units"),
    "DV_COUNT": ("magnitude",),
    "DV_PROPORTION": ("numerator", "denominator", "type"),
    "DV_ORDINAL": ("value", "symbol"),
    "DV_SCALE": ("value", "symbol"),
    "DV_BOOLEAN": ("value",),
    "DV_DATE": ("value",),
    "DV_TIME": ("value",),
    "DV_DATE_TIME": ("value",),
    "DV_DURATION": ("value",),
    "DV_IDENTIFIER": ("id",),
    "DV_URI": ("value",),
    "DV_EHR_URI": ("value",),
    "DV_MULTIMEDIA": ("media_type",),
    "DV_PARSABLE": ("value", "formalism"),
    "DV_STATE": ("value", "is_terminal"),
    "CODE_PHRASE": ("terminology_id", "code_string"),
}

#: the data-value types this module validates (the walker hands these over instead of descending)
DATA_VALUE_TYPES: frozenset[str] = frozenset(_CHECKERS)


def _effective(constraint: CObject, rm: str) -> CObject | None:
    """The constraint a value of base type ``rm`` is checked against, or None for intrinsic checks only."""
    if isinstance(constraint, ArchetypeInternalRef):
        return None  # the walker resolves use_node references; an unresolved one constrains nothing
    if not isinstance(constraint, (CCodePhrase, ConstraintRef)) and not _applies(constraint, rm):
        return None  # a constraint for another RM type: the walker reports the type (VAL007)
    if isinstance(constraint, CComplexObject) and not constraint.attributes:
        return None  # DV_X matches {*}
    return constraint


# (id(constraint), base RM type) -> (constraint, its effective form): decided once per template node and type
_EFFECTIVE: dict[tuple[int, str], tuple[CObject, CObject | None]] = {}
_EFFECTIVE_MAX = 65536


def _attributes_only(c: CObject | None, v: RMObject, where: Where, rep: Reporter) -> None:
    """A data value type without its own checker: the template's attribute constraints only."""
    if isinstance(c, CComplexObject):
        _check_attributes(c, v, where, rep, {})


# (id(constraint) or 0, RM type as written) -> (constraint, checker, effective constraint)
_RESOLVED: dict[tuple[int, str], tuple[CObject | None, Checker, CObject | None]] = {}


def checker_for(constraint: CObject | None, rm_type: str) -> tuple[Checker, CObject | None]:
    """(checker, effective constraint) such that ``checker(effective, value, where, rep)`` does exactly what
    ``check_data_value(constraint, value, where, rep)`` does for an ``RMObject`` value of ``rm_type``.

    Decided once per template node and RM type, so a caller that checks many values under the same constraint
    (the structure walker) skips the dispatch."""
    key = (id(constraint) if constraint is not None else 0, rm_type)
    hit = _RESOLVED.get(key)
    if hit is None or hit[0] is not constraint:
        check = _CHECKERS.get(rm_type)
        eff = constraint
        if constraint is not None or check is None:
            base = base_type_name(rm_type)
            check = _CHECKERS.get(base)
            if constraint is not None:
                eff = _effective(constraint, base)
        if len(_RESOLVED) >= _EFFECTIVE_MAX:
            _RESOLVED.clear()
        hit = _RESOLVED[key] = (constraint, check if check is not None else _attributes_only, eff)
    return hit[1], hit[2]


def base_type_name(rm_type: str) -> str:
    cut = rm_type.find("<")
    return rm_type if cut < 0 else rm_type[:cut]


def check_data_value(constraint: CObject | None, value: RMObject, where: Where, rep: Reporter) -> None:
    """Validate one data value (intrinsic rules always, the template's ``constraint`` when given and applicable).

    ``where`` locates the value: its template path is the constraint's, its instance path the value's; issues on
    attributes are placed one step deeper (``.../value/magnitude``). Never raises on malformed input: wrong
    kinds are VAL123, missing mandatory attributes VAL006.
    """
    if not isinstance(value, RMObject):
        rep.add("VAL123", f"a data value was expected, found {kind_name(value)}", where, found=kind_name(value))
        return
    rm = value.rm_type
    check = _CHECKERS.get(rm)
    if constraint is None and check is not None:  # the common call (no template constraint): dispatch at once
        check(None, value, where, rep)
        return
    cut = rm.find("<")
    if cut >= 0:
        rm = rm[:cut]
        check = _CHECKERS.get(rm)
    if constraint is not None:
        key = (id(constraint), rm)
        hit = _EFFECTIVE.get(key)
        if hit is None or hit[0] is not constraint:
            if len(_EFFECTIVE) >= _EFFECTIVE_MAX:
                _EFFECTIVE.clear()
            hit = _EFFECTIVE[key] = (constraint, _effective(constraint, rm))
        constraint = hit[1]
    if check is None:
        if isinstance(constraint, CComplexObject):
            _check_attributes(constraint, value, where, rep, {})
        return
    check(constraint, value, where, rep)


# ---------------------------------------------------------------------------------------------------------------
# Quiet verdicts, decided once per template node (the walker's compiled checks)

#: whether a data value is valid: ``check_data_value`` would report nothing for it
Verdict = Callable[[RMObject], bool]


def quiet_check(constraint: CObject | None, rm_type: str, where: Where, scratch: Reporter) -> Verdict:
    """A predicate telling whether ``check_data_value(constraint, value, where, rep)`` would report nothing for a
    value of ``rm_type`` (``where`` locates nothing: it carries the terminology in force; validity never depends
    on a location or the language). The common valid DV_CODED_TEXT and DV_TEXT are accepted by closures with
    the constraint's codes and the local term texts pre-bound; anything else runs the checker itself into
    ``scratch``, whose issues are dropped again, so the verdict is always the checker's own."""
    check, eff = checker_for(constraint, rm_type)

    def run(v: RMObject) -> bool:
        check(eff, v, where, scratch)
        if scratch.issues:
            scratch.issues.clear()
            return False
        return True

    if check is _dv_coded_text:
        return _coded_verdict(eff, where.terminology, run) or run
    if eff is None:
        fast = _OPEN_FAST.get(check)
        if fast is not None:
            def open_value(v: RMObject) -> bool:
                return fast(v.attrs) or run(v)
            return open_value
    elif check is _dv_boolean:
        allowed = _boolean_values(eff)
        if allowed is not None:
            def boolean(v: RMObject) -> bool:
                x = v.attrs.get("value")
                return (type(x) is bool and x in allowed) or run(v)
            return boolean
    elif check is _dv_quantity and isinstance(eff, CDvQuantity) and eff.list:
        return _quantity_verdict(eff, run)
    elif check is _dv_ordinal and isinstance(eff, CDvOrdinal) and eff.list:
        return _ordinal_verdict(eff, quiet_check(None, "DV_CODED_TEXT", where, scratch), run)
    # a constraint without a fast path: its checker decides, once per distinct plain content
    return run if eff is None else _remembering(run)


#: the kinds of attribute values ``_remembering`` compares: hashable, equal only when they are the same value (no
#: floats: -0.0 == 0.0, and NaN is never equal), and told apart by their type in its key (1 == True)
_PLAIN_KINDS = frozenset({str, int, bool})
_REMEMBERED_MAX = 64


def _remembering(run: Verdict) -> Verdict:
    """``run`` for a constrained value, remembering the contents it accepted: a value whose attributes are all
    texts, integers and booleans is accepted at once when an equal one was (the verdict is a function of those
    attributes alone: the constraint, RM type and terminology are fixed per verdict). Anything else (a nested
    object, a float) is always checked."""
    accepted: set[tuple[tuple[tuple[str, Any], ...], tuple[type, ...]]] = set()

    def remembered(v: RMObject) -> bool:
        a = v.attrs
        for x in a.values():
            if type(x) not in _PLAIN_KINDS:
                return run(v)
        key = (tuple(a.items()), tuple(map(type, a.values())))
        if key in accepted:
            return True
        if not run(v):
            return False
        if len(accepted) >= _REMEMBERED_MAX:
            accepted.clear()
        accepted.add(key)
        return True
    return remembered


def _quantity_verdict(c: CDvQuantity, run: Verdict) -> Verdict:
    """``_dv_quantity``'s fast path with the constraint's items by units pre-bound."""
    items: dict[str, CQuantityItem] = {}
    for item in c.list:
        items.setdefault(item.units, item)  # the first item for the units, as ``item_for``

    def quantity(v: RMObject) -> bool:
        a = v.attrs
        mag = a.get("magnitude")
        units = a.get("units")
        if ((type(mag) is int or (type(mag) is float and math.isfinite(mag))) and type(units) is str
                and "precision" not in a and "normal_range" not in a and "other_reference_ranges" not in a):
            item = items.get(units)
            if item is not None and _item_fits(item, mag):
                return True
        return run(v)
    return quantity


def _ordinal_verdict(c: CDvOrdinal, symbol_ok: Verdict, run: Verdict) -> Verdict:
    """``_ordinal_like`` for the valid ordinal: an integral value and a valid coded symbol (``symbol_ok``) that
    form one of the constraint's (value, code, terminology) items."""
    allowed = frozenset((it.value, it.symbol.code_string, _terminology_name(it.symbol.terminology_id or ""))
                        for it in c.list)

    def ordinal(v: RMObject) -> bool:
        a = v.attrs
        value = a.get("value")
        symbol = a.get("symbol")
        if (type(value) is int and type(symbol) is RMObject and "normal_range" not in a
                and "other_reference_ranges" not in a and symbol_ok(symbol)):
            # a valid coded text has a defining code with a code and a terminology id (an object, or a plain text
            # from lenient writers: ``_code_phrase_parts``)
            ca = symbol.attrs["defining_code"].attrs
            tid = ca["terminology_id"]
            if isinstance(tid, RMObject):
                tid = tid.attrs["value"]
            if (value, ca["code_string"], _terminology_name(tid)) in allowed:
                return True
        return run(v)
    return ordinal


def _text_fast(a: dict[str, Any]) -> bool:
    """``_dv_text(None, ...)``'s fast path: a non-blank value."""
    x = a.get("value")
    return type(x) is str and bool(x) and not x.isspace()


def _code_phrase_fast(a: dict[str, Any]) -> bool:
    """``_code_phrase_value``'s fast path without a code constraint: a terminology id and a code."""
    tido = a.get("terminology_id")
    code = a.get("code_string")
    if type(tido) is RMObject and type(code) is str and code:
        tid = tido.attrs.get("value")
        return type(tid) is str and bool(tid)
    return False


def _identifier_fast(a: dict[str, Any]) -> bool:
    """``_dv_identifier(None, ...)`` has nothing to report: a non-blank id, and issuer, assigner and type each
    absent or a non-blank text."""
    ident = a.get("id")
    if type(ident) is not str or not ident or ident.isspace():
        return False
    for attr in ("issuer", "assigner", "type"):
        x = a.get(attr)
        if x is not None and (type(x) is not str or not x or x.isspace()):
            return False
    return True


def _temporal_fast(quick: Callable[[str], str | None]) -> Callable[[dict[str, Any]], bool]:
    """``_temporal``'s fast path for an unconstrained value: valid syntax, no reference ranges."""
    def fast(a: dict[str, Any]) -> bool:
        x = a.get("value")
        return (type(x) is str and "normal_range" not in a and "other_reference_ranges" not in a
                and quick(x) is None)
    return fast


def _boolean_values(c: CObject) -> frozenset[bool] | None:
    """The values a DV_BOOLEAN constraint that constrains only ``value`` by a C_BOOLEAN allows (``_dv_boolean``
    then has nothing to report for any of them); None for any other constraint."""
    attrs = c.attributes if isinstance(c, CComplexObject) else None
    if not attrs or len(attrs) != 1 or attrs[0].rm_attribute_name != "value" or len(attrs[0].children) != 1:
        return None
    k = attrs[0].children[0]
    if not isinstance(k, CPrimitiveObject) or type(k.item) is not CBoolean:
        return None
    return frozenset(b for b, ok in ((True, k.item.true_valid), (False, k.item.false_valid)) if ok)


#: checker -> its fast acceptance of a well-formed value without a template constraint (the attributes in hand):
#: True only where the checker has nothing to report
_OPEN_FAST: dict[Checker, Callable[[dict[str, Any]], bool]] = {
    _dv_text: _text_fast,
    _code_phrase_value: _code_phrase_fast,
    _dv_identifier: _identifier_fast,
    _dv_date: _temporal_fast(date_problem),
    _dv_date_time: _temporal_fast(date_time_problem),
}


def _coded_verdict(c: CObject | None, terminology: Terminology | None, run: Verdict) -> Verdict | None:
    """``_dv_coded_text``'s fast path as a closure, its code spec and local texts pre-bound: for a local code one
    dict hit gives whether the code is accepted and its texts. None when the constraint is not a plain code
    constraint (``_code_spec``)."""
    spec = _code_spec(c)
    if spec is None:
        return None
    texts = _local_table(terminology)
    # local code -> its texts, for the local codes the constraint accepts (None: every local code, see accepts())
    local: dict[str, frozenset[str]] | None = None
    if not (spec.any or spec.by_terminology.get("local", _NO_CODES) is None):
        local = {code: texts.get(code, _NO_TEXTS)
                 for code in spec.free_codes | (spec.by_terminology.get("local") or _NO_CODES)}
    accepts = spec.accepts
    open_ = c is None

    def coded(v: RMObject) -> bool:
        a = v.attrs
        text = a.get("value")
        cp = a.get("defining_code")
        if type(text) is str and type(cp) is RMObject and text and not text.isspace():
            ca = cp.attrs
            tido = ca.get("terminology_id")
            code = ca.get("code_string")
            if type(tido) is RMObject and type(code) is str and code:
                tid = tido.attrs.get("value")
                if tid == "local":
                    accepted = texts.get(code, _NO_TEXTS) if local is None else local.get(code)
                    if accepted is not None and (not accepted or text in accepted or _norm(text) in accepted):
                        return True
                elif type(tid) is str and tid and accepts(tid, code):
                    if tid != "openehr":
                        return True
                    accepted = _oe.all_rubrics(code)
                    if (text in accepted or (accepted and any(_same_text(text, t) for t in accepted))
                            or (not accepted and open_)):
                        return True
        return run(v)
    return coded


__all__ = ["DATA_VALUE_TYPES", "check_data_value", "local_text", "openehr_texts", "order_key", "uri_problem"]
