"""Writing an ``OperationalTemplate`` as OPT 1.4 XML (``http://schemas.openehr.org/v1``, Release-1.0.2 schemas).

Elements follow the XSD sequences (Template.xsd, Archetype.xsd, OpenehrProfile.xsd, Resource.xsd): every
constraint object gets its ``xsi:type`` and its mandatory ``rm_type_name``/``occurrences``/``node_id``
(empty for objects without an id), every attribute its ``existence`` and, when multiple, its ``cardinality``.
Each ``C_ARCHETYPE_ROOT`` carries its archetype's term definitions in the template language (falling back to the
archetype's original language per code) and its term bindings; ``component_ontologies`` carry every language.
Default values go into ``constraints`` as ``T_COMPLEX_OBJECT``s, hide-on-form into ``view``.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from openehr_kit.am.model import (
    ArchetypeInternalRef,
    ArchetypeSlot,
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
    CPrimitiveObject,
    CReal,
    CString,
    CTime,
    Interval,
    SlotAssertion,
    Terminology,
)
from openehr_kit.opt.model import OperationalTemplate

NS_URI = "http://schemas.openehr.org/v1"
XSI_URI = "http://www.w3.org/2001/XMLSchema-instance"
XSD_URI = "http://www.w3.org/2001/XMLSchema"
_NS = "{" + NS_URI + "}"
_XSI_TYPE = "{" + XSI_URI + "}type"
_NSMAP = {None: NS_URI, "xsi": XSI_URI, "xsd": XSD_URI}
_ONE: Interval[int] = Interval(1, 1)


def _sub(parent: etree._Element, name: str, text: str | None = None, xsi: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, _NS + name)
    if xsi is not None:
        el.set(_XSI_TYPE, xsi)
    if text is not None:
        el.text = text
    return el


def _bool(v: bool) -> str:
    return "true" if v else "false"


def _num(v: Any) -> str:
    if isinstance(v, bool):
        return _bool(v)
    if isinstance(v, float) and v.is_integer():
        return str(int(v)) if abs(v) < 1e15 else repr(v)
    return str(v)


class _Writer:
    def __init__(self, template: OperationalTemplate) -> None:
        self.t = template
        self.language = template.language

    # --- simple types ---------------------------------------------------------------------------------------

    def interval(self, parent: etree._Element, name: str, iv: Interval[Any]) -> None:
        el = _sub(parent, name)
        if iv.lower is not None:
            _sub(el, "lower_included", _bool(iv.lower_included))
        if iv.upper is not None:
            _sub(el, "upper_included", _bool(iv.upper_included))
        _sub(el, "lower_unbounded", _bool(iv.lower is None))
        _sub(el, "upper_unbounded", _bool(iv.upper is None))
        if iv.lower is not None:
            _sub(el, "lower", _num(iv.lower))
        if iv.upper is not None:
            _sub(el, "upper", _num(iv.upper))

    def code_phrase(self, parent: etree._Element, name: str, cp: CodePhrase) -> None:
        el = _sub(parent, name)
        tid = _sub(el, "terminology_id")
        _sub(tid, "value", cp.terminology_id)
        _sub(el, "code_string", cp.code_string)

    # --- header ---------------------------------------------------------------------------------------------

    def template(self) -> etree._Element:
        t = self.t
        root = etree.Element(_NS + "template", nsmap=_NSMAP)
        self.code_phrase(root, "language", CodePhrase("ISO_639-1", t.language))
        if t.is_controlled is not None:
            _sub(root, "is_controlled", _bool(t.is_controlled))
        self.description(root, t.description)
        if t.uid:
            _sub(_sub(root, "uid"), "value", t.uid)
        _sub(_sub(root, "template_id"), "value", t.template_id)
        _sub(root, "concept", t.concept)
        self.cobject(root, t.definition, "definition", with_type=False, template_id=t.template_id)
        for aid, term in t.component_terminologies.items():
            self.ontology(root, aid, term)
        for path, items in t.annotations.items():
            if not items:
                continue
            a = _sub(root, "annotations")
            a.set("path", path)
            for k, v in items.items():
                _sub(a, "items", v).set("id", k)
        if t.default_values:
            cons = _sub(root, "constraints")
            for dv in t.default_values:
                attrs = _sub(cons, "attributes")
                _sub(attrs, "rm_attribute_name", dv.rm_attribute_name)
                child = _sub(attrs, "children")
                # T_COMPLEX_OBJECT extends C_COMPLEX_OBJECT: its C_OBJECT elements are mandatory
                _sub(child, "rm_type_name", dv.value.get("_type") or "DV_TEXT")
                self.interval(child, "occurrences", _ONE)
                _sub(child, "node_id", "")
                self.data_value(child, "default_value", dv.value)
                _sub(attrs, "differential_path", dv.differential_path)
        if t.view:
            view = _sub(root, "view")
            for path, items in t.view.items():
                c = _sub(view, "constraints")
                c.set("path", path)
                for k, v in items.items():
                    it = _sub(c, "items")
                    it.set("id", k)
                    _sub(it, "value", v).set(_XSI_TYPE, "xsd:string")
        return root

    def description(self, root: etree._Element, d: dict[str, Any]) -> None:
        if not d:
            return
        el = _sub(root, "description")
        authors = d.get("original_author") or {"Original Author": "Not Specified"}
        for k, v in authors.items():
            _sub(el, "original_author", v or "").set("id", k)
        for c in d.get("other_contributors") or []:
            _sub(el, "other_contributors", c)
        _sub(el, "lifecycle_state", d.get("lifecycle_state") or "Initial")
        if d.get("resource_package_uri"):
            _sub(el, "resource_package_uri", d["resource_package_uri"])
        for k, v in (d.get("other_details") or {}).items():
            _sub(el, "other_details", v or "").set("id", k)
        details = d.get("details") or {self.language: {"purpose": "Not Specified"}}
        for lang, item in details.items():
            det = _sub(el, "details")
            self.code_phrase(det, "language", CodePhrase("ISO_639-1", item.get("language") or lang))
            _sub(det, "purpose", item.get("purpose") or "Not Specified")
            for kw in item.get("keywords") or []:
                _sub(det, "keywords", kw)
            for key in ("use", "misuse", "copyright"):
                if item.get(key):
                    _sub(det, key, item[key])

    def data_value(self, parent: etree._Element, name: str, value: dict[str, Any]) -> None:
        kind = value.get("_type") or "DV_TEXT"
        el = _sub(parent, name, xsi=kind)
        if kind == "DV_BOOLEAN":
            _sub(el, "value", str(value.get("value", "false")))
            return
        _sub(el, "value", str(value.get("value", "")))
        if kind == "DV_CODED_TEXT":
            dc = value.get("defining_code") or {}
            term = dc.get("terminology_id") or {}
            self.code_phrase(el, "defining_code", CodePhrase(
                term.get("value", "local") if isinstance(term, dict) else str(term), dc.get("code_string", "")))

    # --- ontologies -----------------------------------------------------------------------------------------

    def terms(self, parent: etree._Element, name: str, code: str, items: dict[str, str]) -> None:
        el = _sub(parent, name)
        el.set("code", code)
        for k, v in items.items():
            _sub(el, "items", v).set("id", k)

    def root_terms(self, el: etree._Element, term: Terminology) -> None:
        """Term definitions in the template language; codes it lacks fall back to the original language."""
        defs: dict[str, dict[str, str]] = {}
        for lang in (self.language, term.original_language):
            for code, items in term.term_definitions.get(lang, {}).items():
                defs.setdefault(code, items)
        for code, items in defs.items():
            if items:
                self.terms(el, "term_definitions", code, items)
        self.bindings(el, term)

    def bindings(self, el: etree._Element, term: Terminology) -> None:
        for tname, items in term.term_bindings.items():
            phrases = [(k, v) for k, v in items.items() if isinstance(v, CodePhrase)]
            if not phrases:
                continue
            b = _sub(el, "term_bindings")
            b.set("terminology", tname)
            for code, cp in phrases:
                it = _sub(b, "items")
                it.set("code", code)
                self.code_phrase(it, "value", cp)

    def ontology(self, root: etree._Element, aid: str, term: Terminology) -> None:
        el = _sub(root, "component_ontologies")
        el.set("archetype_id", aid)
        langs = term.term_definitions or {term.original_language: {}}
        for lang, defs in langs.items():
            s = _sub(el, "term_definitions")
            s.set("language", lang)
            for code, items in defs.items():
                if items:
                    self.terms(s, "items", code, items)
        for lang, defs in term.constraint_definitions.items():
            s = _sub(el, "constraint_definitions")
            s.set("language", lang)
            for code, items in defs.items():
                if items:
                    self.terms(s, "items", code, items)
        self.bindings(el, term)
        for tname, items in term.constraint_bindings.items():
            b = _sub(el, "constraint_bindings")
            b.set("terminology", tname)
            for code, uri in items.items():
                it = _sub(b, "items")
                it.set("code", code)
                _sub(it, "value", str(uri))

    # --- constraint objects ---------------------------------------------------------------------------------

    def head(self, el: etree._Element, obj: CObject) -> None:
        _sub(el, "rm_type_name", obj.rm_type_name)
        self.interval(el, "occurrences", obj.occurrences or _ONE)
        _sub(el, "node_id", obj.node_id or "")

    def cobject(self, parent: etree._Element, obj: CObject, name: str = "children", *, with_type: bool = True,
                template_id: str | None = None, term: Terminology | None = None) -> None:
        if isinstance(obj, CArchetypeRoot):
            el = _sub(parent, name, xsi="C_ARCHETYPE_ROOT" if with_type else None)
            self.head(el, obj)
            for a in obj.attributes:
                self.cattribute(el, a, obj.terminology)
            _sub(_sub(el, "archetype_id"), "value", obj.archetype_id)
            if template_id:
                _sub(_sub(el, "template_id"), "value", template_id)
            if obj.terminology is not None:
                self.root_terms(el, obj.terminology)
        elif isinstance(obj, CComplexObject):
            el = _sub(parent, name, xsi="C_COMPLEX_OBJECT")
            self.head(el, obj)
            for a in obj.attributes:
                self.cattribute(el, a, term)
        elif isinstance(obj, ArchetypeSlot):
            el = _sub(parent, name, xsi="ARCHETYPE_SLOT")
            self.head(el, obj)
            for a in obj.includes:
                self.assertion(el, "includes", a)
            for a in obj.excludes:
                self.assertion(el, "excludes", a)
        elif isinstance(obj, ArchetypeInternalRef):
            el = _sub(parent, name, xsi="ARCHETYPE_INTERNAL_REF")
            self.head(el, obj)
            _sub(el, "target_path", obj.target_path)
        elif isinstance(obj, ConstraintRef):
            el = _sub(parent, name, xsi="CONSTRAINT_REF")
            self.head(el, obj)
            _sub(el, "reference", obj.reference)
        elif isinstance(obj, CPrimitiveObject):
            el = _sub(parent, name, xsi="C_PRIMITIVE_OBJECT")
            self.head(el, obj)
            if obj.item is not None:
                self.primitive(el, obj.item)
        elif isinstance(obj, CCodePhrase):
            el = _sub(parent, name, xsi="C_CODE_REFERENCE" if obj.reference_set_uri else "C_CODE_PHRASE")
            self.head(el, obj)
            if obj.assumed_value and obj.terminology_id:
                self.code_phrase(el, "assumed_value", CodePhrase(obj.terminology_id, obj.assumed_value))
            if obj.terminology_id:
                _sub(_sub(el, "terminology_id"), "value", obj.terminology_id)
            for code in obj.code_list:
                _sub(el, "code_list", code)
            if obj.reference_set_uri:
                _sub(el, "referenceSetUri", obj.reference_set_uri)
        elif isinstance(obj, CDvQuantity):
            el = _sub(parent, name, xsi="C_DV_QUANTITY")
            self.head(el, obj)
            if obj.property is not None:
                self.code_phrase(el, "property", obj.property)
            for q in obj.list:
                li = _sub(el, "list")
                if q.magnitude is not None:
                    self.interval(li, "magnitude", q.magnitude)
                if q.precision is not None:
                    self.interval(li, "precision", q.precision)
                _sub(li, "units", q.units)
        elif isinstance(obj, CDvOrdinal):
            el = _sub(parent, name, xsi="C_DV_ORDINAL")
            self.head(el, obj)
            items = {i.value: i for i in obj.list}
            if obj.assumed_value is not None and obj.assumed_value in items:
                self.ordinal(el, "assumed_value", items[obj.assumed_value], term)
            for o in obj.list:
                self.ordinal(el, "list", o, term)
        elif isinstance(obj, (CDvScale, CDvState)):
            # neither has a type in the 1.0.2 schemas: written as an open object of its RM type
            el = _sub(parent, name, xsi="C_COMPLEX_OBJECT")
            self.head(el, obj)
        else:
            raise TypeError(f"cannot write {type(obj).__name__}")

    def ordinal(self, parent: etree._Element, name: str, o: Any, term: Terminology | None) -> None:
        el = _sub(parent, name)
        _sub(el, "value", _num(int(o.value)) if float(o.value).is_integer() else _num(o.value))
        sym = _sub(el, "symbol")
        text = None
        if o.symbol.terminology_id == "local" and term is not None:
            text = term.text(o.symbol.code_string, self.language)
        _sub(sym, "value", text or o.symbol.code_string)
        self.code_phrase(sym, "defining_code", o.symbol)

    def cattribute(self, parent: etree._Element, a: CAttribute, term: Terminology | None) -> None:
        multiple = a.is_multiple or a.cardinality is not None
        el = _sub(parent, "attributes", xsi="C_MULTIPLE_ATTRIBUTE" if multiple else "C_SINGLE_ATTRIBUTE")
        _sub(el, "rm_attribute_name", a.rm_attribute_name)
        self.interval(el, "existence", a.existence or _ONE)
        for c in a.children:
            self.cobject(el, c, term=term)
        if multiple:
            card = _sub(el, "cardinality")
            cd = a.cardinality
            _sub(card, "is_ordered", _bool(cd.is_ordered if cd else True))
            _sub(card, "is_unique", _bool(cd.is_unique if cd else False))
            self.interval(card, "interval", cd.interval if cd else Interval(0, None))

    def assertion(self, parent: etree._Element, name: str, a: SlotAssertion) -> None:
        el = _sub(parent, name)
        _sub(el, "string_expression", a.expression)
        if a.pattern is not None:
            ex = _sub(el, "expression", xsi="EXPR_BINARY_OPERATOR")
            _sub(ex, "type", "Boolean")
            _sub(ex, "operator", "2007")
            _sub(ex, "precedence_overridden", "false")
            left = _sub(ex, "left_operand", xsi="EXPR_LEAF")
            _sub(left, "type", "String")
            _sub(left, "item", a.target or "archetype_id/value", xsi="xsd:string")
            _sub(left, "reference_type", "attribute")
            right = _sub(ex, "right_operand", xsi="EXPR_LEAF")
            _sub(right, "type", "C_STRING")
            item = _sub(right, "item", xsi="C_STRING")
            _sub(item, "pattern", a.pattern)
            _sub(right, "reference_type", "constraint")
        else:
            # an assertion that is not a pattern match: kept as its text in a constant leaf
            ex = _sub(el, "expression", xsi="EXPR_LEAF")
            _sub(ex, "type", "String")
            _sub(ex, "item", a.expression, xsi="xsd:string")
            _sub(ex, "reference_type", "constant")

    def primitive(self, parent: etree._Element, p: Any) -> None:
        if isinstance(p, CString):
            el = _sub(parent, "item", xsi="C_STRING")
            if p.pattern is not None:
                _sub(el, "pattern", p.pattern)
            for s in p.list:
                _sub(el, "list", s)
            if p.list:
                _sub(el, "list_open", _bool(p.list_open))
            if p.assumed_value is not None:
                _sub(el, "assumed_value", str(p.assumed_value))
        elif isinstance(p, (CInteger, CReal)):
            el = _sub(parent, "item", xsi="C_INTEGER" if isinstance(p, CInteger) else "C_REAL")
            for v in p.list:
                _sub(el, "list", _num(v))
            if p.range is not None:
                self.interval(el, "range", p.range)
            if p.assumed_value is not None:
                _sub(el, "assumed_value", _num(p.assumed_value))
        elif isinstance(p, CBoolean):
            el = _sub(parent, "item", xsi="C_BOOLEAN")
            _sub(el, "true_valid", _bool(p.true_valid))
            _sub(el, "false_valid", _bool(p.false_valid))
            if p.assumed_value is not None:
                _sub(el, "assumed_value", _bool(bool(p.assumed_value)))
        elif isinstance(p, (CDate, CDateTime, CTime, CDuration)):
            kind = {CDate: "C_DATE", CDateTime: "C_DATE_TIME", CTime: "C_TIME", CDuration: "C_DURATION"}[type(p)]
            el = _sub(parent, "item", xsi=kind)
            if p.pattern is not None:
                _sub(el, "pattern", p.pattern)
            if p.range is not None:
                self.interval(el, "range", p.range)
            if p.assumed_value is not None:
                _sub(el, "assumed_value", str(p.assumed_value))
        else:
            raise TypeError(f"cannot write primitive {type(p).__name__}")


def write_opt(template: OperationalTemplate) -> bytes:
    """The template as OPT 1.4 XML (UTF-8, indented)."""
    root = _Writer(template).template()
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
