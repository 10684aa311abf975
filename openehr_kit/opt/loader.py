"""Loading OPT 1.4 operational templates (``http://schemas.openehr.org/v1`` XML) into the AOM.

The loader walks the lxml tree once, element by element (no XPath per node), because templates are large
(up to ~2 MB, 25k elements) and loading must stay within a small multiple of the bare XML parse. It is strict
about the template header (mandatory, repeated and unknown top-level elements are ParseErrors, as is anything
it cannot turn into the model: malformed numbers, unknown constraint types) and lenient inside the definition
about elements it does not need; ``openehr_kit.opt.checks`` reports those.

Every error is a ParseError naming the element by XPath (``/template/definition/attributes[3]/children[1]``)
and source line.
"""

from __future__ import annotations

import os
import re
import threading
from typing import Any

from lxml import etree

from openehr_kit.am.model import (
    ArchetypeInternalRef,
    ArchetypeSlot,
    Cardinality,
    CArchetypeRoot,
    CAttribute,
    CBoolean,
    CCodePhrase,
    CComplexObject,
    CDate,
    CDateTime,
    CDuration,
    CDvOrdinal,
    CDvQuantity,
    CDvScale,
    CDvState,
    CInteger,
    CObject,
    CodePhrase,
    ConstraintRef,
    CPrimitive,
    CPrimitiveObject,
    CQuantityItem,
    CReal,
    CString,
    CTime,
    Interval,
    OrdinalItem,
    ScaleItem,
    SlotAssertion,
    Terminology,
)
from openehr_kit.diagnostics import ParseError
from openehr_kit.opt.model import DefaultValue, OperationalTemplate
from openehr_kit.textio import parse_xml_bytes, read_bytes, safe_xml_parser

NS_URI = "http://schemas.openehr.org/v1"
NS = "{" + NS_URI + "}"
XSI_URI = "http://www.w3.org/2001/XMLSchema-instance"
XSI_TYPE = "{" + XSI_URI + "}type"

#: OPTs are large but never this large; the limit guards the loader against runaway input
MAX_OPT_BYTES = 32 * 1024 * 1024

# tag constants: lxml gives Clark-notation tags, compared as plain strings in the hot loop
_T = {
    name: NS + name
    for name in (
        "template language is_controlled description revision_history uid template_id concept definition "
        "ontology component_ontologies annotations constraints view rm_type_name occurrences node_id "
        "attributes rm_attribute_name existence children cardinality is_ordered is_unique interval "
        "archetype_id term_definitions term_bindings items value terminology_id code_string "
        "includes excludes string_expression expression left_operand right_operand operand item operator "
        "reference target_path assumed_value code_list referenceSetUri property list magnitude precision "
        "units symbol defining_code pattern list_open range true_valid false_valid lower upper "
        "lower_included upper_included lower_unbounded upper_unbounded constraint_definitions "
        "constraint_bindings differential_path default_value original_author other_contributors "
        "lifecycle_state resource_package_uri other_details details purpose keywords use misuse copyright "
        "original_resource_uri parent_resource match_negated"
    ).split()
}
T_RM, T_OCC, T_NODE_ID, T_ATTRS = _T["rm_type_name"], _T["occurrences"], _T["node_id"], _T["attributes"]
T_NAME, T_EXIST, T_CHILDREN, T_CARD = _T["rm_attribute_name"], _T["existence"], _T["children"], _T["cardinality"]
T_LOWER, T_UPPER = _T["lower"], _T["upper"]
T_LI, T_UI, T_LU, T_UU = _T["lower_included"], _T["upper_included"], _T["lower_unbounded"], _T["upper_unbounded"]
T_ITEMS, T_VALUE = _T["items"], _T["value"]

#: header elements: (local name, min, max); the order is the schema's sequence
HEADER_ELEMENTS: list[tuple[str, int, int | None]] = [
    ("language", 1, 1),
    ("is_controlled", 0, 1),
    ("description", 0, 1),
    ("revision_history", 0, 1),
    ("uid", 0, 1),
    ("template_id", 1, 1),
    ("concept", 1, 1),
    ("definition", 1, 1),
    ("ontology", 0, 1),
    ("component_ontologies", 0, None),
    ("annotations", 0, None),
    ("constraints", 0, 1),
    ("view", 0, 1),
]

C_OBJECT_TYPES = frozenset(
    "C_COMPLEX_OBJECT C_ARCHETYPE_ROOT ARCHETYPE_SLOT ARCHETYPE_INTERNAL_REF CONSTRAINT_REF C_PRIMITIVE_OBJECT "
    "C_DV_QUANTITY C_DV_ORDINAL C_DV_SCALE C_CODE_PHRASE C_CODE_REFERENCE C_DV_STATE".split()
)
C_PRIMITIVE_TYPES = frozenset(
    "C_STRING C_INTEGER C_REAL C_BOOLEAN C_DATE C_TIME C_DATE_TIME C_DURATION".split()
)

_TRUE, _FALSE = frozenset({"true", "1"}), frozenset({"false", "0"})
_IV_TAGS = tuple(NS + n for n in ("lower_included", "upper_included", "lower_unbounded", "upper_unbounded", "lower", "upper"))
_IV_SLOT = {tag: i for i, tag in enumerate(_IV_TAGS)}
_XSI_CACHE: dict[str, str] = {}


# ---------------------------------------------------------------------------------------------------------------
# Locating elements (only on error, so cost does not matter)


def element_xpath(el: etree._Element) -> str:
    """``/template/definition/attributes[3]/children[1]``: local names, positions among same-name siblings."""
    parts: list[str] = []
    node: etree._Element | None = el
    while node is not None:
        parent = node.getparent()
        name = etree.QName(node).localname if isinstance(node.tag, str) else "node()"
        if parent is not None:
            same = [c for c in parent if c.tag == node.tag]
            if len(same) > 1 or name in ("attributes", "children"):
                name = f"{name}[{same.index(node) + 1}]"
        parts.append(name)
        node = parent
    return "/" + "/".join(reversed(parts))


def xsi_type_name(el: etree._Element) -> str | None:
    """The local name of ``xsi:type`` (``ns2:C_STRING`` -> ``C_STRING``)."""
    t = el.get(XSI_TYPE)
    if t is None:
        return None
    name = _XSI_CACHE.get(t)
    if name is None:
        name = _XSI_CACHE[t] = t.rsplit(":", 1)[-1].strip()
    return name


class _Builder:
    """One load: the source name, the template language, and the node -> line table."""

    __slots__ = ("source", "language", "lines", "roots", "_ivcache")

    def __init__(self, source: str | None, language: str) -> None:
        self.source = source
        self.language = language
        self.lines: dict[int, int] = {}
        self.roots: list[CArchetypeRoot] = []
        # intervals repeat endlessly (1..1, 0..1, 0..*): share one frozen instance per distinct value
        self._ivcache: dict[tuple[Any, ...], Interval[Any]] = {}

    # --- errors and scalars ---------------------------------------------------------------------------------

    def error(self, code: str, message: str, el: etree._Element, **kw: Any) -> ParseError:
        return ParseError(code, f"{message} at {element_xpath(el)}", file=self.source, line=el.sourceline, **kw)

    def boolean(self, el: etree._Element) -> bool:
        text = (el.text or "").strip()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise self.error("OPT005", "malformed boolean", el, expected="true or false", found=repr(text))

    def integer(self, el: etree._Element) -> int:
        text = el.text
        try:
            return int(text)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise self.error("OPT005", "malformed integer", el, expected="an integer", found=repr(text)) from None

    def real(self, el: etree._Element) -> float:
        text = el.text
        try:
            return float(text)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise self.error("OPT005", "malformed real number", el, expected="a number", found=repr(text)) from None

    def text(self, el: etree._Element) -> str:
        return el.text or ""

    def object_id(self, el: etree._Element) -> str:
        """OBJECT_ID and subtypes: the ``value`` child (xs:token, so whitespace collapses)."""
        for c in el:
            if c.tag == T_VALUE:
                return " ".join((c.text or "").split())
        raise self.error("OPT002", "missing element 'value'", el)

    def code_phrase(self, el: etree._Element) -> CodePhrase:
        term = code = None
        for c in el:
            tag = c.tag
            if tag == NS + "terminology_id":
                term = self.object_id(c)
            elif tag == NS + "code_string":
                code = c.text or ""
        if code is None:
            raise self.error("OPT002", "missing element 'code_string'", el)
        # Ocean writes defining codes of local default values without a terminology id
        return CodePhrase(term or "local", code)

    def interval(self, el: etree._Element, conv: Any) -> Interval[Any]:
        # hot path (a third of all elements are interval parts): collect the raw texts by slot, look the
        # tuple up in the cache, and only convert and validate on a miss
        vals: list[str | None] = [None, None, None, None, None, None]
        slot = _IV_SLOT.get
        for c in el:
            i = slot(c.tag)
            if i is not None:
                vals[i] = c.text
        key = (conv, *vals)
        cached = self._ivcache.get(key)
        if cached is not None:
            return cached
        iv = self._make_interval(el, conv, vals)
        self._ivcache[key] = iv
        return iv

    def _make_interval(self, el: etree._Element, conv: Any, vals: list[str | None]) -> Interval[Any]:
        lo, hi = vals[4], vals[5]
        flags = []
        for i, default in ((0, True), (1, True), (2, False), (3, False)):
            text = vals[i]
            if text is None:
                flags.append(default)
                continue
            t = text.strip()
            if t not in _TRUE and t not in _FALSE:
                child = el[[c.tag for c in el].index(_IV_TAGS[i])]
                raise self.error("OPT005", "malformed boolean", child, expected="true or false", found=repr(text))
            flags.append(t in _TRUE)
        li, ui, lu, uu = flags
        try:
            lower = None if lu or lo is None else conv(lo)
            upper = None if uu or hi is None else conv(hi)
        except (TypeError, ValueError):
            raise self.error("OPT005", "malformed interval bound", el, found=repr((lo, hi))) from None
        # only numbers compare meaningfully; ISO 8601 strings (durations) do not sort by value
        if conv is not str.strip and lower is not None and upper is not None and lower > upper:
            raise self.error("OPT005", f"interval lower bound {lower} is above its upper bound {upper}", el)
        # an unbounded side has no meaningful "included"; normalise so equal intervals compare equal
        return Interval(lower, upper, li if lower is not None else True, ui if upper is not None else True)

    # --- constraint objects ---------------------------------------------------------------------------------

    def cobject(self, el: etree._Element, kind: str | None = None) -> CObject:
        kind = kind or xsi_type_name(el)
        if kind is None:
            raise self.error("OPT010", "constraint object without xsi:type", el)
        rm = nid = occ = None
        attrs: list[CAttribute] = []
        rest: list[etree._Element] = []
        for c in el:
            tag = c.tag
            if tag == T_ATTRS:
                attrs.append(self.cattribute(c))
            elif tag == T_RM:
                rm = c.text
            elif tag == T_OCC:
                occ = self.interval(c, int)
            elif tag == T_NODE_ID:
                nid = c.text or None
            elif isinstance(tag, str):
                rest.append(c)
        if rm is None:
            raise self.error("OPT002", "missing element 'rm_type_name'", el)
        rm = rm.strip()
        if nid is not None:
            nid = nid.strip() or None
        obj: CObject
        if kind == "C_COMPLEX_OBJECT":
            obj = CComplexObject(rm, nid, occ, attrs, not attrs)
        elif kind == "C_ARCHETYPE_ROOT":
            obj = self.archetype_root(el, rm, nid, occ, attrs, rest)
        elif kind in ("C_CODE_PHRASE", "C_CODE_REFERENCE"):
            obj = self.code_phrase_constraint(rm, nid, occ, rest)
        elif kind == "C_PRIMITIVE_OBJECT":
            item = None
            for c in rest:
                if c.tag == NS + "item":
                    item = self.primitive(c)
            obj = CPrimitiveObject(rm, nid, occ, item)
        elif kind == "ARCHETYPE_SLOT":
            obj = self.slot(rm, nid, occ, rest)
        elif kind == "C_DV_QUANTITY":
            obj = self.dv_quantity(rm, nid, occ, rest)
        elif kind == "C_DV_ORDINAL":
            obj = self.dv_ordinal(rm, nid, occ, rest)
        elif kind == "C_DV_SCALE":
            obj = self.dv_scale(rm, nid, occ, rest)
        elif kind == "CONSTRAINT_REF":
            ref = next((c.text or "" for c in rest if c.tag == NS + "reference"), None)
            if ref is None:
                raise self.error("OPT002", "missing element 'reference'", el)
            obj = ConstraintRef(rm, nid, occ, ref.strip())
        elif kind == "ARCHETYPE_INTERNAL_REF":
            target = next((c.text or "" for c in rest if c.tag == NS + "target_path"), None)
            if target is None:
                raise self.error("OPT002", "missing element 'target_path'", el)
            obj = ArchetypeInternalRef(rm, nid, occ, target.strip())
        elif kind == "C_DV_STATE":
            value = next((data_value(c) for c in rest if c.tag == T_VALUE), None)
            obj = CDvState(rm, nid, occ, value)
        else:
            raise self.error("OPT010", f"unknown constraint type xsi:type={el.get(XSI_TYPE)!r}", el)
        self.lines[id(obj)] = el.sourceline
        return obj

    def cattribute(self, el: etree._Element) -> CAttribute:
        name = existence = card = None
        children: list[CObject] = []
        for c in el:
            tag = c.tag
            if tag == T_CHILDREN:
                children.append(self.cobject(c))
            elif tag == T_NAME:
                name = c.text
            elif tag == T_EXIST:
                existence = self.interval(c, int)
            elif tag == T_CARD:
                card = self.cardinality(c)
        if name is None:
            raise self.error("OPT002", "missing element 'rm_attribute_name'", el)
        kind = xsi_type_name(el)
        if kind not in (None, "C_SINGLE_ATTRIBUTE", "C_MULTIPLE_ATTRIBUTE"):
            raise self.error("OPT010", f"unknown attribute type xsi:type={el.get(XSI_TYPE)!r}", el)
        multiple = kind == "C_MULTIPLE_ATTRIBUTE" or (kind is None and card is not None)
        attr = CAttribute(name.strip(), existence, children, card, multiple)
        self.lines[id(attr)] = el.sourceline
        return attr

    def cardinality(self, el: etree._Element) -> Cardinality:
        ordered, unique, interval = True, False, None
        for c in el:
            tag = c.tag
            if tag == NS + "interval":
                interval = self.interval(c, int)
            elif tag == NS + "is_ordered":
                ordered = self.boolean(c)
            elif tag == NS + "is_unique":
                unique = self.boolean(c)
        if interval is None:
            raise self.error("OPT002", "missing element 'interval'", el)
        return Cardinality(interval, ordered, unique)

    def archetype_root(
        self,
        el: etree._Element,
        rm: str,
        nid: str | None,
        occ: Interval[int] | None,
        attrs: list[CAttribute],
        rest: list[etree._Element],
    ) -> CArchetypeRoot:
        archetype_id = None
        defs: dict[str, dict[str, str]] = {}
        bindings: dict[str, dict[str, CodePhrase | str]] = {}
        for c in rest:
            tag = c.tag
            if tag == NS + "term_definitions":
                code = c.get("code")
                if code is None:
                    raise self.error("OPT014", "term_definitions without its 'code' attribute", c)
                defs[code] = {i.get("id", ""): i.text or "" for i in c if i.tag == T_ITEMS}
            elif tag == NS + "archetype_id":
                archetype_id = self.object_id(c)
            elif tag == NS + "term_bindings":
                self.term_binding_set(c, bindings)
        if not archetype_id:
            raise self.error("OPT002", "C_ARCHETYPE_ROOT without an archetype_id", el)
        terminology = Terminology(self.language, [], {self.language: defs}, {}, bindings, {})
        root = CArchetypeRoot(rm, nid, occ, attrs, False, None, archetype_id, terminology)
        self.roots.append(root)
        return root

    def term_binding_set(self, el: etree._Element, into: dict[str, dict[str, CodePhrase | str]]) -> None:
        terminology = el.get("terminology") or ""
        target = into.setdefault(terminology, {})
        for item in el:
            if item.tag != T_ITEMS:
                continue
            code = item.get("code") or ""
            for v in item:
                if v.tag == T_VALUE:
                    target[code] = self.code_phrase(v) if len(v) else (v.text or "")

    def code_phrase_constraint(
        self, rm: str, nid: str | None, occ: Interval[int] | None, rest: list[etree._Element]
    ) -> CCodePhrase:
        terminology = assumed = uri = None
        codes: list[str] = []
        for c in rest:
            tag = c.tag
            if tag == NS + "code_list":
                codes.append((c.text or "").strip())
            elif tag == NS + "terminology_id":
                terminology = self.object_id(c)
            elif tag == NS + "assumed_value":
                assumed = self.code_phrase(c).code_string
            elif tag == NS + "referenceSetUri":
                uri = (c.text or "").strip()
        return CCodePhrase(rm, nid, occ, terminology, codes, assumed, uri)

    def dv_quantity(
        self, rm: str, nid: str | None, occ: Interval[int] | None, rest: list[etree._Element]
    ) -> CDvQuantity:
        prop = assumed = None
        items: list[CQuantityItem] = []
        for c in rest:
            tag = c.tag
            if tag == NS + "list":
                units, mag, prec = None, None, None
                for q in c:
                    qt = q.tag
                    if qt == NS + "units":
                        units = q.text or ""
                    elif qt == NS + "magnitude":
                        mag = self.interval(q, float)
                    elif qt == NS + "precision":
                        prec = self.interval(q, int)
                if units is None:
                    raise self.error("OPT002", "C_QUANTITY_ITEM without 'units'", c)
                items.append(CQuantityItem(units, mag, prec))
            elif tag == NS + "property":
                prop = self.code_phrase(c)
            elif tag == NS + "assumed_value":
                assumed = data_value(c)
        return CDvQuantity(rm, nid, occ, prop, items, assumed)

    def _ordinal_like(self, el: etree._Element, conv: Any) -> tuple[Any, CodePhrase]:
        value = symbol = None
        for c in el:
            tag = c.tag
            if tag == T_VALUE:
                value = conv(c)
            elif tag == NS + "symbol":
                for s in c:
                    if s.tag == NS + "defining_code":
                        symbol = self.code_phrase(s)
        if value is None or symbol is None:
            raise self.error("OPT002", "ordinal without 'value' or 'symbol/defining_code'", el)
        return value, symbol

    def dv_ordinal(
        self, rm: str, nid: str | None, occ: Interval[int] | None, rest: list[etree._Element]
    ) -> CDvOrdinal:
        items: list[OrdinalItem] = []
        assumed = None
        for c in rest:
            if c.tag == NS + "list":
                items.append(OrdinalItem(*self._ordinal_like(c, self.integer)))
            elif c.tag == NS + "assumed_value":
                assumed = self._ordinal_like(c, self.integer)[0]
        return CDvOrdinal(rm, nid, occ, items, assumed)

    def dv_scale(self, rm: str, nid: str | None, occ: Interval[int] | None, rest: list[etree._Element]) -> CDvScale:
        items: list[ScaleItem] = []
        assumed = None
        for c in rest:
            if c.tag == NS + "list":
                items.append(ScaleItem(*self._ordinal_like(c, self.real)))
            elif c.tag == NS + "assumed_value":
                assumed = self._ordinal_like(c, self.real)[0]
        return CDvScale(rm, nid, occ, items, assumed)

    # --- slots ----------------------------------------------------------------------------------------------

    def slot(self, rm: str, nid: str | None, occ: Interval[int] | None, rest: list[etree._Element]) -> ArchetypeSlot:
        includes: list[SlotAssertion] = []
        excludes: list[SlotAssertion] = []
        for c in rest:
            if c.tag == NS + "includes":
                includes.append(self.assertion(c))
            elif c.tag == NS + "excludes":
                excludes.append(self.assertion(c))
        return ArchetypeSlot(rm, nid, occ, includes, excludes)

    def assertion(self, el: etree._Element) -> SlotAssertion:
        string_expr = None
        target = pattern = None
        for c in el:
            tag = c.tag
            if tag == NS + "string_expression":
                string_expr = c.text or ""
            elif tag == NS + "expression":
                target, pattern = self._match_expression(c)
        if pattern is None and string_expr:
            # fall back to the string form: "archetype_id/value matches {/regex/}"
            m = _STRING_MATCH_RE.match(string_expr)
            if m:
                target, pattern = m.group(1), m.group(2)
        if string_expr is None:
            string_expr = f"{target} matches {{/{pattern}/}}" if target and pattern is not None else ""
        return SlotAssertion(string_expr.strip(), target, pattern)

    def _match_expression(self, el: etree._Element) -> tuple[str | None, str | None]:
        """``left matches {/pattern/}`` from an EXPR_BINARY_OPERATOR tree; (None, None) for other shapes."""
        operator = left = right = None
        for c in el:
            tag = c.tag
            if tag == NS + "operator":
                operator = (c.text or "").strip()
            elif tag == NS + "left_operand":
                left = c
            elif tag == NS + "right_operand":
                right = c
        if operator != "2007" or left is None or right is None:
            return None, None
        target = pattern = None
        for c in left:
            if c.tag == NS + "item":
                target = (c.text or "").strip()
        for c in right:
            if c.tag == NS + "item":
                for p in c:
                    if p.tag == NS + "pattern":
                        pattern = p.text or ""
                    elif p.tag == NS + "list" and pattern is None:
                        # a string list is a match against any of its literals
                        pattern = "|".join(re.escape(x.text or "") for x in c if x.tag == NS + "list")
        return target, pattern

    # --- primitives -----------------------------------------------------------------------------------------

    def primitive(self, el: etree._Element) -> CPrimitive:
        kind = xsi_type_name(el)
        fields: dict[str, list[etree._Element]] = {}
        for c in el:
            if isinstance(c.tag, str):
                fields.setdefault(c.tag[len(NS):] if c.tag.startswith(NS) else c.tag, []).append(c)

        def one(name: str) -> etree._Element | None:
            found = fields.get(name)
            return found[0] if found else None

        def text_of(name: str) -> str | None:
            e = one(name)
            return None if e is None else (e.text or "")

        if kind == "C_STRING":
            lo = one("list_open")
            return CString(
                text_of("assumed_value"),
                [e.text or "" for e in fields.get("list", [])],
                text_of("pattern"),
                self.boolean(lo) if lo is not None else False,
            )
        if kind == "C_INTEGER":
            rng, av = one("range"), one("assumed_value")
            return CInteger(
                self.integer(av) if av is not None else None,
                [self.integer(e) for e in fields.get("list", [])],
                self.interval(rng, int) if rng is not None else None,
            )
        if kind == "C_REAL":
            rng, av = one("range"), one("assumed_value")
            return CReal(
                self.real(av) if av is not None else None,
                [self.real(e) for e in fields.get("list", [])],
                self.interval(rng, float) if rng is not None else None,
            )
        if kind == "C_BOOLEAN":
            tv, fv, av = one("true_valid"), one("false_valid"), one("assumed_value")
            return CBoolean(
                self.boolean(av) if av is not None else None,
                self.boolean(tv) if tv is not None else True,
                self.boolean(fv) if fv is not None else True,
            )
        temporal = {"C_DATE": CDate, "C_TIME": CTime, "C_DATE_TIME": CDateTime, "C_DURATION": CDuration}.get(
            kind or ""
        )
        if temporal is not None:
            rng = one("range")
            pattern = text_of("pattern")
            return temporal(
                text_of("assumed_value"),
                pattern.strip() if pattern else None,
                self.interval(rng, str.strip) if rng is not None else None,
                [(e.text or "").strip() for e in fields.get("list", [])],
            )
        raise self.error("OPT010", f"unknown primitive constraint type xsi:type={el.get(XSI_TYPE)!r}", el)


_STRING_MATCH_RE = re.compile(r"\s*(\S+)\s+matches\s+\{/(.*)/\}\s*$", re.S)


# ---------------------------------------------------------------------------------------------------------------
# Generic readers for the parts kept "as parsed"


def data_value(el: etree._Element) -> Any:
    """An RM value element as plain data: dict of children (lists when repeated), ``_type`` from xsi:type."""
    kind = xsi_type_name(el)
    grouped: dict[str, list[Any]] = {}
    for c in el:
        if isinstance(c.tag, str):
            grouped.setdefault(etree.QName(c).localname, []).append(data_value(c))
    if not grouped:
        text = el.text or ""
        return {"_type": kind, "value": text} if kind else text
    out: dict[str, Any] = {"_type": kind} if kind else {}
    for name, values in grouped.items():
        out[name] = values[0] if len(values) == 1 else values
    return out


def _dict_items(el: etree._Element) -> dict[str, str]:
    return {c.get("id", ""): c.text or "" for c in el if c.tag == T_ITEMS}


def _description(el: etree._Element, b: _Builder) -> dict[str, Any]:
    """RESOURCE_DESCRIPTION as a dict; ``details`` keyed by language code."""
    out: dict[str, Any] = {}
    for c in el:
        if not isinstance(c.tag, str):
            continue
        name = etree.QName(c).localname
        if name in ("original_author", "other_details"):
            out.setdefault(name, {})[c.get("id", "")] = c.text or ""
        elif name == "other_contributors":
            out.setdefault(name, []).append(c.text or "")
        elif name == "details":
            item: dict[str, Any] = {}
            for d in c:
                if not isinstance(d.tag, str):
                    continue
                dn = etree.QName(d).localname
                if dn == "language":
                    item["language"] = b.code_phrase(d).code_string
                elif dn in ("keywords",):
                    item.setdefault(dn, []).append(d.text or "")
                elif dn in ("original_resource_uri", "other_details"):
                    item.setdefault(dn, {})[d.get("id", "")] = d.text or ""
                else:
                    item[dn] = d.text or ""
            out.setdefault("details", {})[item.get("language", "")] = item
        elif name == "parent_resource":
            out[name] = data_value(c)
        else:
            out[name] = c.text or ""
    return out


def _flat_ontology(el: etree._Element, b: _Builder) -> Terminology:
    """FLAT_ARCHETYPE_ONTOLOGY (``ontology``/``component_ontologies``): every language of one archetype."""
    term = Terminology(b.language)
    for c in el:
        tag = c.tag
        if tag in (NS + "term_definitions", NS + "constraint_definitions"):
            lang = c.get("language") or ""
            target = term.term_definitions if tag == NS + "term_definitions" else term.constraint_definitions
            defs = target.setdefault(lang, {})
            for item in c:
                if item.tag == T_ITEMS:
                    defs[item.get("code") or ""] = _dict_items(item)
        elif tag == NS + "term_bindings":
            b.term_binding_set(c, term.term_bindings)
        elif tag == NS + "constraint_bindings":
            cb = term.constraint_bindings.setdefault(c.get("terminology") or "", {})
            for item in c:
                if item.tag == T_ITEMS:
                    cb[item.get("code") or ""] = "".join(
                        (v.text or "").strip() for v in item if v.tag == T_VALUE
                    )
    return term


# ---------------------------------------------------------------------------------------------------------------
# Entry points


def load_opt(path: str | os.PathLike[str]) -> OperationalTemplate:
    """Read and load an OPT file; ParseError (never a traceback) when it cannot be loaded."""
    return parse_opt(read_bytes(path, max_bytes=MAX_OPT_BYTES), source=str(path))


def parse_opt(data: bytes, *, source: str | None = None) -> OperationalTemplate:
    """Load an OPT from bytes; ``source`` names it in errors."""
    return build_template(_parse_xml(data, source), source=source)


# lxml parsers must not be shared between threads: one per thread
_PARSERS = threading.local()


def _parse_xml(data: bytes, source: str | None) -> etree._Element:
    """Parse with the fast parser; every refusal and error comes from ``textio.parse_xml_bytes`` itself."""
    window = data[:65536]
    if b"<!DOCTYPE" in window or b"<!ENTITY" in window or not data.strip():
        return parse_xml_bytes(data, source)  # raises the standard XML002 / TXT004
    try:
        parser = getattr(_PARSERS, "parser", None)
        if parser is None:
            parser = _PARSERS.parser = safe_xml_parser(remove_blank_text=True)
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError:
        return parse_xml_bytes(data, source)  # re-parse for the standard located XML001


def header_elements(root: etree._Element, source: str | None) -> dict[str, list[etree._Element]]:
    """The template's top-level elements by local name, raising on unknown, missing or repeated ones."""
    check_root(root, source)
    found: dict[str, list[etree._Element]] = {}
    known = {name for name, _, _ in HEADER_ELEMENTS}
    for c in root:
        if not isinstance(c.tag, str):
            continue
        if not c.tag.startswith(NS) or c.tag[len(NS):] not in known:
            raise ParseError(
                "OPT004",
                f"unknown element <{etree.QName(c).localname}> at {element_xpath(c)}",
                file=source,
                line=c.sourceline,
            )
        found.setdefault(c.tag[len(NS):], []).append(c)
    for name, lo, hi in HEADER_ELEMENTS:
        els = found.get(name, [])
        if len(els) < lo:
            raise ParseError(
                "OPT002", f"mandatory element <{name}> is missing from /template", file=source, line=root.sourceline
            )
        if hi is not None and len(els) > hi:
            raise ParseError(
                "OPT003",
                f"element <{name}> appears {len(els)} times at /template (at most {hi} allowed); "
                f"repeated at {element_xpath(els[hi])}",
                file=source,
                line=els[hi].sourceline,
            )
    return found


def check_root(root: etree._Element, source: str | None) -> None:
    if not isinstance(root.tag, str) or root.tag != NS + "template":
        found = root.tag if isinstance(root.tag, str) else "?"
        raise ParseError(
            "OPT001",
            f"root element is {found}, not {{{NS_URI}}}template",
            file=source,
            line=root.sourceline,
            expected=f"{{{NS_URI}}}template",
            found=str(found),
        )


def build_template(root: etree._Element, *, source: str | None = None) -> OperationalTemplate:
    """Build the template from an already parsed (and safe) XML tree."""
    found = header_elements(root, source)
    lang_el = found["language"][0]
    b0 = _Builder(source, "")
    language = b0.code_phrase(lang_el).code_string.strip()
    if not language:
        raise b0.error("OPT005", "empty template language", lang_el)
    b = _Builder(source, language)

    tid_el = found["template_id"][0]
    template_id = b.object_id(tid_el)
    if not template_id:
        raise b.error("OPT002", "the template id is empty", tid_el)
    concept_el = found["concept"][0]
    concept = (concept_el.text or "").strip()
    if not concept:
        raise b.error("OPT002", "the concept is empty", concept_el)

    def_el = found["definition"][0]
    # the definition's type is fixed by the schema (C_ARCHETYPE_ROOT); tools omit xsi:type
    definition = b.cobject(def_el, xsi_type_name(def_el) or "C_ARCHETYPE_ROOT")
    if not isinstance(definition, CArchetypeRoot):
        raise b.error("OPT010", "the definition must be a C_ARCHETYPE_ROOT", def_el)

    uid = b.object_id(found["uid"][0]) if "uid" in found else None
    is_controlled = b.boolean(found["is_controlled"][0]) if "is_controlled" in found else None
    description = _description(found["description"][0], b) if "description" in found else {}

    components: dict[str, Terminology] = {}
    for el in found.get("ontology", []) + found.get("component_ontologies", []):
        aid = el.get("archetype_id")
        if aid is None:
            raise b.error("OPT014", "ontology without its 'archetype_id' attribute", el)
        components[aid] = _flat_ontology(el, b)
    constraint_defs = {aid: t.constraint_definitions for aid, t in components.items() if t.constraint_definitions}
    _merge_component_terms(b.roots, components, language)

    annotations: dict[str, dict[str, str]] = {}
    for el in found.get("annotations", []):
        annotations.setdefault(el.get("path") or "", {}).update(_dict_items(el))

    view: dict[str, dict[str, str]] = {}
    for v in found.get("view", []):
        for c in v:
            if c.tag == NS + "constraints":
                items = view.setdefault(c.get("path") or "", {})
                for it in c:
                    if it.tag == T_ITEMS:
                        items[it.get("id") or ""] = "".join((x.text or "") for x in it if x.tag == T_VALUE)

    template = OperationalTemplate(
        template_id=template_id,
        concept=concept,
        language=language,
        definition=definition,
        uid=uid,
        is_controlled=is_controlled,
        description=description,
        annotations=annotations,
        component_terminologies=components,
        constraint_definitions=constraint_defs,
        view=view,
        source=source,
        node_lines=b.lines,
    )
    for el in found.get("constraints", []):
        _apply_constraints(template, el, b)
    return template


def _merge_component_terms(roots: list[CArchetypeRoot], components: dict[str, Terminology], language: str) -> None:
    """Give each root the other languages (and ac-codes, bindings) of its archetype's flat ontology."""
    for root in roots:
        comp = components.get(root.archetype_id)
        term = root.terminology
        if comp is None or term is None:
            continue
        for lang, defs in comp.term_definitions.items():
            # the root's own terms (template language) win: the template may have renamed nodes
            if lang != language:
                term.term_definitions[lang] = defs
            elif not term.term_definitions.get(lang):
                term.term_definitions[lang] = defs
        term.constraint_definitions = comp.constraint_definitions
        for tname, items in comp.term_bindings.items():
            term.term_bindings.setdefault(tname, {}).update(
                {k: v for k, v in items.items() if k not in term.term_bindings.get(tname, {})}
            )
        term.constraint_bindings = comp.constraint_bindings


def _apply_constraints(template: OperationalTemplate, el: etree._Element, b: _Builder) -> None:
    """The ``constraints`` section: default values for attributes at differential paths."""
    for attr in el:
        if attr.tag != T_ATTRS:
            continue
        name = dpath = None
        values: list[dict[str, Any]] = []
        for c in attr:
            if c.tag == T_NAME:
                name = (c.text or "").strip()
            elif c.tag == NS + "differential_path":
                dpath = (c.text or "").strip()
            elif c.tag == T_CHILDREN:
                for d in c:
                    if d.tag == NS + "default_value":
                        dv = data_value(d)
                        values.append(dv if isinstance(dv, dict) else {"_type": xsi_type_name(d), "value": dv})
        if name is None or dpath is None:
            continue
        owner = template.node(dpath)
        for value in values:
            template.default_values.append(DefaultValue(dpath, name, value, owner))
            if isinstance(owner, CComplexObject):
                target = owner.attribute(name)
                for child in target.children if target else []:
                    if isinstance(child, CComplexObject) and child.rm_type_name == value.get("_type"):
                        child.default_value = value
