"""Checks of OPT 1.4 operational templates: XML structure (schema-like, without the XSDs) and semantics.

Structure: a compact table of the OPT 1.4 XML types (facts from the openEHR Release-1.0.2 Template, Archetype,
OpenehrProfile, Resource and BaseTypes XSDs) drives one walk over the tree that reports missing mandatory
elements (OPT002), elements repeated too often (OPT003), unknown elements (OPT004), malformed simple values
(OPT005), unknown xsi:types (OPT010), elements out of order (OPT011) and unknown or missing XML attributes
(OPT014). The XSDs are never read at run time; the tests compare this verdict with theirs.

Three things current tools write that the 1.0.2 XSD does not define are accepted on purpose, because every
template from Archetype Designer / EHRbase / Ocean carries them and they change nothing in the model:
``match_negated`` in C_ATTRIBUTE (Archie/ADL 2 serialisers), the ``slot_node_id`` attribute on
C_ARCHETYPE_ROOT (Ocean, filled slots) and the Ocean form of ``constraints`` children that carry only a
``default_value``. ``C_DV_SCALE`` (the RM 1.1.0 DV_SCALE constraint) is accepted as a known type.

Semantics (on the loaded model, with ``openehr_kit.rm.schema``): unknown RM types (OPT006) and attributes
(OPT007), children whose RM type does not conform to their attribute (OPT012), node ids without a term
definition in their archetype root (OPT008), local codes without one (OPT015), occurrences/existence/cardinality
against the RM (OPT009), same-id siblings that no name tells apart (OPT013).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lxml import etree

from openehr_kit.am.model import (
    ArchetypeSlot,
    CAttribute,
    CCodePhrase,
    CComplexObject,
    CPrimitiveObject,
    Interval,
)
from openehr_kit.diagnostics import Issue, ParseError, Severity
from openehr_kit.opt.loader import (
    MAX_OPT_BYTES,
    NS,
    NS_URI,
    XSI_URI,
    build_template,
    element_xpath,
)
from openehr_kit.opt.model import OperationalTemplate
from openehr_kit.textio import parse_xml_bytes, read_bytes

XS_URI = "http://www.w3.org/2001/XMLSchema"
UNBOUNDED = None

# ---------------------------------------------------------------------------------------------------------------
# The structure table


@dataclass(frozen=True, slots=True)
class _Particle:
    name: str
    type: str
    min: int = 1
    max: int | None = 1


@dataclass(frozen=True, slots=True)
class _Type:
    name: str
    base: str | None
    particles: tuple[_Particle, ...]
    attributes: tuple[tuple[str, bool], ...] = ()
    abstract: bool = False
    #: simple content with attributes (StringDictionaryItem)
    simple: str | None = None


_TYPES: dict[str, _Type] = {}


def _t(name: str, base: str | None, particles: str = "", attrs: str = "", abstract: bool = False,
       simple: str | None = None) -> None:
    """Register a complex type; particles as ``name:type:min:max`` tokens (max ``*`` = unbounded)."""
    parts = []
    for tok in particles.split():
        n, ty, lo, hi = tok.split(":")
        parts.append(_Particle(n, ty, int(lo), None if hi == "*" else int(hi)))
    attributes = tuple((a.rstrip("?"), not a.endswith("?")) for a in attrs.split())
    _TYPES[name] = _Type(name, base, tuple(parts), attributes, abstract, simple)


_IV = "lower_included:boolean:0:1 upper_included:boolean:0:1 lower_unbounded:boolean:1:1 upper_unbounded:boolean:1:1"
_t("OPERATIONAL_TEMPLATE", None,
   "language:CODE_PHRASE:1:1 is_controlled:boolean:0:1 description:RESOURCE_DESCRIPTION:0:1 "
   "revision_history:ANY:0:1 uid:HIER_OBJECT_ID:0:1 template_id:TEMPLATE_ID:1:1 concept:string:1:1 "
   "definition:C_ARCHETYPE_ROOT:1:1 ontology:FLAT_ARCHETYPE_ONTOLOGY:0:1 "
   "component_ontologies:FLAT_ARCHETYPE_ONTOLOGY:0:* annotations:ANNOTATION:0:* constraints:T_CONSTRAINT:0:1 "
   "view:T_VIEW:0:1")
for _oid in ("OBJECT_ID", "TEMPLATE_ID", "ARCHETYPE_ID", "TERMINOLOGY_ID", "HIER_OBJECT_ID", "OBJECT_VERSION_ID"):
    _t(_oid, None, "value:token:1:1")
_t("CODE_PHRASE", None, "terminology_id:TERMINOLOGY_ID:1:1 code_string:string:1:1")
_t("StringDictionaryItem", None, attrs="id", simple="string")
_t("RESOURCE_DESCRIPTION", None,
   "original_author:StringDictionaryItem:1:* other_contributors:string:0:* lifecycle_state:string:1:1 "
   "resource_package_uri:string:0:1 other_details:StringDictionaryItem:0:* "
   "details:RESOURCE_DESCRIPTION_ITEM:1:* parent_resource:ANY:0:1")
_t("RESOURCE_DESCRIPTION_ITEM", None,
   "language:CODE_PHRASE:1:1 purpose:string:1:1 keywords:string:0:* use:string:0:1 misuse:string:0:1 "
   "copyright:string:0:1 original_resource_uri:StringDictionaryItem:0:* other_details:StringDictionaryItem:0:*")
_t("C_OBJECT", None, "rm_type_name:string:1:1 occurrences:IntervalOfInteger:1:1 node_id:string:1:1", abstract=True)
_t("C_DEFINED_OBJECT", "C_OBJECT", abstract=True)
_t("C_COMPLEX_OBJECT", "C_DEFINED_OBJECT", "attributes:C_ATTRIBUTE:0:*")
_t("C_ARCHETYPE_ROOT", "C_COMPLEX_OBJECT",
   "archetype_id:ARCHETYPE_ID:1:1 template_id:TEMPLATE_ID:0:1 term_definitions:ARCHETYPE_TERM:0:* "
   "term_bindings:TermBindingSet:0:*", attrs="slot_node_id?")
_t("ARCHETYPE_SLOT", "C_OBJECT", "includes:ASSERTION:0:* excludes:ASSERTION:0:*")
_t("CONSTRAINT_REF", "C_OBJECT", "reference:string:1:1")
_t("ARCHETYPE_INTERNAL_REF", "C_OBJECT", "target_path:string:1:1")
_t("C_PRIMITIVE_OBJECT", "C_DEFINED_OBJECT", "item:C_PRIMITIVE:0:1")
_t("C_DOMAIN_TYPE", "C_DEFINED_OBJECT", abstract=True)
_t("C_CODE_PHRASE", "C_DOMAIN_TYPE",
   "assumed_value:CODE_PHRASE:0:1 terminology_id:TERMINOLOGY_ID:0:1 code_list:string:0:*")
_t("C_CODE_REFERENCE", "C_CODE_PHRASE", "referenceSetUri:anyURI:1:1")
_t("C_DV_ORDINAL", "C_DOMAIN_TYPE", "assumed_value:DV_ORDINAL:0:1 list:DV_ORDINAL:0:*")
_t("C_DV_SCALE", "C_DOMAIN_TYPE", "assumed_value:DV_SCALE:0:1 list:DV_SCALE:0:*")
_t("C_DV_QUANTITY", "C_DOMAIN_TYPE",
   "assumed_value:DV_QUANTITY:0:1 property:CODE_PHRASE:0:1 list:C_QUANTITY_ITEM:0:*")
_t("C_QUANTITY_ITEM", None, "magnitude:IntervalOfReal:0:1 precision:IntervalOfInteger:0:1 units:string:1:1")
_t("C_DV_STATE", "C_DOMAIN_TYPE", "assumed_value:DV_STATE:0:1 value:ANY:1:1")
# match_negated: not in the 1.0.2 XSD, written by Archie-based tools between existence and children
_t("C_ATTRIBUTE", None,
   "rm_attribute_name:string:1:1 existence:IntervalOfInteger:1:1 match_negated:boolean:0:1 "
   "children:C_OBJECT:0:*", abstract=True)
_t("C_SINGLE_ATTRIBUTE", "C_ATTRIBUTE")
_t("C_MULTIPLE_ATTRIBUTE", "C_ATTRIBUTE", "cardinality:CARDINALITY:1:1")
_t("CARDINALITY", None, "is_ordered:boolean:1:1 is_unique:boolean:1:1 interval:IntervalOfInteger:1:1")
for _name, _bt in (("Integer", "int"), ("Real", "float"), ("Date", "Iso8601Date"), ("DateTime", "Iso8601DateTime"),
                   ("Time", "Iso8601Time"), ("Duration", "Iso8601Duration")):
    _t(f"IntervalOf{_name}", None, f"{_IV} lower:{_bt}:0:1 upper:{_bt}:0:1")
_t("ASSERTION", None,
   "tag:string:0:1 string_expression:string:0:1 expression:EXPR_ITEM:1:1 variables:ASSERTION_VARIABLE:0:*")
_t("ASSERTION_VARIABLE", None, "name:string:1:1 definition:string:1:1")
_t("EXPR_ITEM", None, "type:string:1:1", abstract=True)
_t("EXPR_LEAF", "EXPR_ITEM", "item:ANYTYPE:1:1 reference_type:string:1:1")
_t("EXPR_OPERATOR", "EXPR_ITEM", "operator:OPERATOR_KIND:1:1 precedence_overridden:boolean:1:1", abstract=True)
_t("EXPR_UNARY_OPERATOR", "EXPR_OPERATOR", "operand:EXPR_ITEM:1:1")
_t("EXPR_BINARY_OPERATOR", "EXPR_OPERATOR", "left_operand:EXPR_ITEM:1:1 right_operand:EXPR_ITEM:1:1")
_t("C_PRIMITIVE", None, abstract=True)
_t("C_BOOLEAN", "C_PRIMITIVE", "true_valid:boolean:1:1 false_valid:boolean:1:1 assumed_value:boolean:0:1")
_t("C_STRING", "C_PRIMITIVE", "pattern:string:0:1 list:string:0:* list_open:boolean:0:1 assumed_value:string:0:1")
_t("C_INTEGER", "C_PRIMITIVE", "list:int:0:* range:IntervalOfInteger:0:1 assumed_value:int:0:1")
_t("C_REAL", "C_PRIMITIVE", "list:float:0:* range:IntervalOfReal:0:1 assumed_value:float:0:1")
for _k, _p in (("DATE", "Date"), ("DATE_TIME", "DateTime"), ("TIME", "Time")):
    _t(f"C_{_k}", "C_PRIMITIVE",
       f"pattern:{_p}ConstraintPattern:0:1 timezone_validity:VALIDITY_KIND:0:1 range:IntervalOf{_p}:0:1 "
       f"assumed_value:Iso8601{_p}:0:1")
_t("C_DURATION", "C_PRIMITIVE",
   "pattern:DurationConstraintPattern:0:1 range:IntervalOfDuration:0:1 assumed_value:Iso8601Duration:0:1")
_t("ARCHETYPE_TERM", None, "items:StringDictionaryItem:1:*", attrs="code")
_t("TermBindingSet", None, "items:TERM_BINDING_ITEM:0:*", attrs="terminology")
_t("TERM_BINDING_ITEM", None, "value:CODE_PHRASE:1:1", attrs="code")
_t("ConstraintBindingSet", None, "items:CONSTRAINT_BINDING_ITEM:0:*", attrs="terminology")
_t("CONSTRAINT_BINDING_ITEM", None, "value:anyURI:1:1", attrs="code")
_t("CodeDefinitionSet", None, "items:ARCHETYPE_TERM:0:*", attrs="language")
_t("FLAT_ARCHETYPE_ONTOLOGY", None,
   "term_definitions:CodeDefinitionSet:1:* constraint_definitions:CodeDefinitionSet:0:* "
   "term_bindings:TermBindingSet:0:* constraint_bindings:ConstraintBindingSet:0:*", attrs="archetype_id")
_t("ANNOTATION", None, "items:StringDictionaryItem:1:*", attrs="path")
_t("T_VIEW", None, "constraints:T_VIEW_CONSTRAINT:0:*")
_t("T_VIEW_CONSTRAINT", None, "items:T_VIEW_ITEM:1:*", attrs="path")
_t("T_VIEW_ITEM", None, "value:anySimpleType:1:1", attrs="id")
_t("T_CONSTRAINT", None, "attributes:T_ATTRIBUTE:0:*")
_t("T_ATTRIBUTE", None,
   "rm_attribute_name:string:1:1 children:T_COMPLEX_OBJECT:0:* differential_path:string:1:1")
_t("T_COMPLEX_OBJECT", "C_COMPLEX_OBJECT", "default_value:DATA_VALUE:0:1")
# Ocean Template Designer writes constraints/attributes/children with nothing but the default value
_t("T_COMPLEX_OBJECT_OCEAN", None, "default_value:DATA_VALUE:1:1")

#: DATA_VALUE content (assumed and default values) is checked only for its xsi:type: the loader keeps it as
#: parsed and Ocean writes abbreviated forms (defining codes without terminology) the RM XSD would refuse
_DATA_VALUE_TYPES = frozenset(
    "DATA_VALUE DV_BOOLEAN DV_IDENTIFIER DV_STATE DV_ORDERED DV_INTERVAL DV_QUANTIFIED DV_COUNT DV_AMOUNT "
    "DV_TEMPORAL DV_QUANTITY DV_ORDINAL DV_SCALE DV_PROPORTION DV_PARAGRAPH DV_TEXT DV_CODED_TEXT DV_DATE_TIME "
    "DV_TIME DV_DATE DV_DURATION DV_TIME_SPECIFICATION DV_PERIODIC_TIME_SPECIFICATION "
    "DV_GENERAL_TIME_SPECIFICATION DV_ENCAPSULATED DV_MULTIMEDIA DV_PARSABLE DV_URI DV_EHR_URI CODE_PHRASE".split()
)
_LAX = frozenset({"ANY", "ANYTYPE"}) | _DATA_VALUE_TYPES

_INT_RE = re.compile(r"[+-]?\d+")
_FLOAT_RE = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?INF|NaN")
_SIMPLE: dict[str, Callable[[str], bool]] = {
    "string": lambda v: True,
    "anySimpleType": lambda v: True,
    "token": lambda v: True,
    "anyURI": lambda v: True,
    "boolean": lambda v: v.strip() in ("true", "false", "1", "0"),
    "int": lambda v: bool(_INT_RE.fullmatch(v.strip())) and -(2**31) <= int(v) < 2**31,
    "float": lambda v: bool(_FLOAT_RE.fullmatch(v.strip())),
    "OPERATOR_KIND": lambda v: v.strip() in {
        "2001", "2002", "2003", "2004", "2005", "2006", "2007", "2010", "2011", "2012", "2013", "2014",
        "2015", "2016", "2020", "2021", "2022", "2023", "2024"},
    "VALIDITY_KIND": lambda v: v.strip() in ("1001", "1002", "1003"),
    "DateConstraintPattern": re.compile(r"[yY]{4}-[mM?X]{2}-[dD?X]{2}").fullmatch,  # type: ignore[dict-item]
    "DateTimeConstraintPattern": re.compile(
        r"[yY]{4}-[mM?]{2}-[dD?X]{2}T[hH?X]{2}:[mM?X]{2}:[sS?X]{2}").fullmatch,  # type: ignore[dict-item]
    "TimeConstraintPattern": re.compile(r"[hH]{2}:[mM?X]{2}:[sS?X]{2}").fullmatch,  # type: ignore[dict-item]
    "DurationConstraintPattern": re.compile(
        r"P[yY]?[mM]?[wW]?[dD]?(T[hH]?[mM]?[sS]?)?").fullmatch,  # type: ignore[dict-item]
    # ISO 8601 values: the XSD patterns are permissive; an empty value is the error worth catching
    "Iso8601Date": lambda v: bool(v.strip()),
    "Iso8601DateTime": lambda v: bool(v.strip()),
    "Iso8601Time": lambda v: bool(v.strip()),
    "Iso8601Duration": lambda v: bool(re.fullmatch(r"-?P.*", v.strip())),
}


def _derives(name: str, base: str) -> bool:
    t: str | None = name
    while t is not None:
        if t == base:
            return True
        t = _TYPES[t].base if t in _TYPES else None
    return False


def _particles(type_name: str) -> tuple[_Particle, ...]:
    chain = []
    t: str | None = type_name
    while t is not None:
        chain.append(_TYPES[t])
        t = _TYPES[t].base
    out: list[_Particle] = []
    for ty in reversed(chain):
        out.extend(ty.particles)
    return tuple(out)


def _allowed_attributes(type_name: str) -> dict[str, bool]:
    out: dict[str, bool] = {}
    t: str | None = type_name
    while t is not None:
        out.update(dict(_TYPES[t].attributes))
        t = _TYPES[t].base
    return out


_PARTICLES = {name: _particles(name) for name in _TYPES}
_ATTRS = {name: _allowed_attributes(name) for name in _TYPES}


# ---------------------------------------------------------------------------------------------------------------
# The structure walk


class _StructureChecker:
    def __init__(self, source: str | None) -> None:
        self.source = source
        self.issues: list[Issue] = []

    def add(self, code: str, message: str, el: etree._Element, severity: Severity | None = None) -> None:
        xp = element_xpath(el)
        self.issues.append(
            Issue(code, f"{message} at {xp}", severity=severity, file=self.source, line=el.sourceline,
                  template_path=None, extra={"xpath": xp})
        )

    def resolve_xsi(self, el: etree._Element) -> tuple[str | None, str | None]:
        """(namespace, local name) of the element's xsi:type, resolving the QName prefix."""
        raw = el.get("{" + XSI_URI + "}type")
        if raw is None:
            return None, None
        raw = raw.strip()
        prefix, _, local = raw.rpartition(":")
        ns = el.nsmap.get(prefix or None)
        return ns, local

    def check(self, el: etree._Element, declared: str) -> None:
        """Check ``el`` against its declared type (or the xsi:type that refines it)."""
        type_name = declared
        ns, xsi = self.resolve_xsi(el)
        if declared in _LAX:
            if xsi is not None and ns == NS_URI and declared in _DATA_VALUE_TYPES and xsi not in _DATA_VALUE_TYPES:
                self.add("OPT010", f"unknown data value type xsi:type={xsi!r}", el)
            return
        if xsi is not None:
            if ns != NS_URI or xsi not in _TYPES or not _derives(xsi, declared):
                what = "constraint type" if _derives(declared, "C_OBJECT") or declared == "C_PRIMITIVE" else "type"
                self.add("OPT010", f"unknown {what} xsi:type={el.get('{' + XSI_URI + '}type')!r} "
                                   f"(expected {declared} or a subtype)", el)
                return
            type_name = xsi
        elif _TYPES[declared].abstract:
            self.add("OPT010", f"element of abstract type {declared} needs an xsi:type", el)
            return
        if type_name == "T_COMPLEX_OBJECT" and len(el) and el[0].tag == NS + "default_value":
            type_name = "T_COMPLEX_OBJECT_OCEAN"
        self.check_attributes(el, type_name)
        ty = _TYPES[type_name]
        if ty.simple is not None:
            if len(el):
                self.add("OPT004", f"element <{_local(el[0])}> inside simple content", el[0])
            return
        self.check_no_text(el)
        self.check_content(el, type_name)

    def check_attributes(self, el: etree._Element, type_name: str) -> None:
        allowed = _ATTRS[type_name]
        for name in el.attrib:
            if name.startswith("{" + XSI_URI + "}"):
                continue
            if name not in allowed:
                self.add("OPT014", f"XML attribute {name!r} is not defined for {type_name}", el)
        for name, required in allowed.items():
            if required and el.get(name) is None:
                self.add("OPT014", f"required XML attribute {name!r} is missing", el)

    def check_no_text(self, el: etree._Element) -> None:
        if el.text and el.text.strip():
            self.add("OPT005", f"text {el.text.strip()[:40]!r} where only elements are allowed", el)
        for c in el:
            if c.tail and c.tail.strip():
                self.add("OPT005", f"text {c.tail.strip()[:40]!r} where only elements are allowed", el)

    def check_content(self, el: etree._Element, type_name: str) -> None:
        particles = _PARTICLES[type_name]
        counts = [0] * len(particles)
        pos = 0
        for c in el:
            if not isinstance(c.tag, str):
                continue
            name = _local(c)
            if not c.tag.startswith("{" + NS_URI + "}"):
                self.add("OPT004", f"element <{c.tag}> from a foreign namespace is not allowed in {type_name}", c)
                continue
            j = next((k for k in range(pos, len(particles)) if particles[k].name == name), None)
            if j is None:
                earlier = next((k for k in range(pos) if particles[k].name == name), None)
                if earlier is None:
                    self.add("OPT004", f"element <{name}> is not defined in {type_name}", c)
                    continue
                p = particles[earlier]
                if p.max is not None and counts[earlier] >= p.max:
                    self.add("OPT003", f"element <{name}> appears more than {p.max} time(s) in {type_name}", c)
                else:
                    self.add("OPT011", f"element <{name}> is out of order in {type_name}", c)
                counts[earlier] += 1
                self.check_child(c, p)
                continue
            p = particles[j]
            counts[j] += 1
            if p.max is not None and counts[j] > p.max:
                self.add("OPT003", f"element <{name}> appears more than {p.max} time(s) in {type_name}", c)
            pos = j
            self.check_child(c, p)
        for k, p in enumerate(particles):
            if counts[k] < p.min:
                self.add("OPT002", f"mandatory element <{p.name}> is missing in {type_name}", el)

    def check_child(self, c: etree._Element, p: _Particle) -> None:
        if p.type in _TYPES or p.type in _LAX:
            self.check(c, p.type)
            return
        if p.type == "ANYTYPE":
            return
        # simple type: no child elements, a well-formed value
        if len(c):
            self.add("OPT004", f"element <{_local(c[0])}> inside the simple value <{p.name}>", c[0])
            return
        for name in c.attrib:
            if not name.startswith("{" + XSI_URI + "}"):
                self.add("OPT014", f"XML attribute {name!r} is not defined for <{p.name}>", c)
        value = c.text or ""
        check = _SIMPLE.get(p.type)
        if check is not None and not check(value):
            self.add("OPT005", f"malformed {p.type} value {value.strip()[:60]!r} in <{p.name}>", c)


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


def check_structure(root: etree._Element, source: str | None = None) -> list[Issue]:
    """Schema-like structural issues of an OPT XML tree (root included)."""
    checker = _StructureChecker(source)
    if root.tag != NS + "template":
        checker.add("OPT001", f"root element is {root.tag}, not {{{NS_URI}}}template", root)
        return checker.issues
    checker.check_attributes(root, "OPERATIONAL_TEMPLATE")
    checker.check_no_text(root)
    checker.check_content(root, "OPERATIONAL_TEMPLATE")
    if root.find(NS + "description") is None:
        # optional in the XSD (so not an error), but a template without purpose, authors and lifecycle state
        # cannot be governed or published
        checker.add("OPT002", "the template has no <description> (purpose, authors, lifecycle state)", root,
                    Severity.WARNING)
    # EXPR_LEAF items are xs:anyType: check the typed ones (C_STRING patterns of slots) like any primitive
    for item in root.iter(NS + "item"):
        parent = item.getparent()
        if parent is not None and parent.get("{" + XSI_URI + "}type", "").endswith("EXPR_LEAF"):
            ns, local = checker.resolve_xsi(item)
            if ns == NS_URI:
                checker.check(item, "C_PRIMITIVE")
            elif ns != XS_URI and local is not None:
                checker.add("OPT010", f"unknown type xsi:type={item.get('{' + XSI_URI + '}type')!r}", item)
    return checker.issues


# ---------------------------------------------------------------------------------------------------------------
# Semantic checks on the model


def _rm_schema() -> Any:
    try:
        from openehr_kit.rm import schema
    except ImportError:  # pragma: no cover - the RM module ships with the package
        return None
    return schema


_AT_CODE_RE = re.compile(r"at\d+(\.\d+)*$")
_EXISTENCE_RANGE = Interval(0, 1)


def check_template(t: OperationalTemplate) -> list[Issue]:
    """Semantic issues of a loaded template (RM conformance, terms, occurrences)."""
    issues: list[Issue] = []
    rm = _rm_schema()

    def add(code: str, message: str, path: str, node: object, severity: Severity | None = None) -> None:
        issues.append(Issue(code, message, severity=severity, file=t.source, line=t.node_lines.get(id(node)),
                            template_path=path))

    for info in t.iter_nodes():
        node, path = info.node, info.path
        rm_name = node.rm_type_name
        rm_t = rm.rm_type(rm_name) if rm is not None else None
        if rm is not None and rm_t is None:
            add("OPT006", f"unknown reference model type {rm_name!r}", path, node)
        # at-codes must be defined in the archetype root in force (root codes included: at0000, at0000.1)
        nid = node.node_id
        if nid and _AT_CODE_RE.match(nid) and info.terminology is not None:
            if info.terminology.term(nid, t.language) is None:
                where = info.archetype_id or t.root_archetype_id
                add("OPT008", f"node id {nid} has no term definition in {where}", path, node)
        if isinstance(node, CCodePhrase) and node.terminology_id == "local" and info.terminology is not None:
            missing = [c for c in node.code_list if info.terminology.term(c, t.language) is None]
            if missing:
                add("OPT015", f"local code(s) {', '.join(missing)} have no term definition in "
                              f"{info.archetype_id or t.root_archetype_id}", path, node)
        if not isinstance(node, CComplexObject) or rm_t is None:
            continue
        for attr in node.attributes:
            _check_attribute(t, rm, rm_name, attr, path, add)
    for parent, attr_name, key in t.ambiguous_siblings():
        base = "" if parent == "/" else parent
        issues.append(Issue("OPT013", f"several children {key} of {base}/{attr_name} share a node id and no "
                                      "name constraint tells them apart; their paths coincide",
                            file=t.source, template_path=f"{base}/{attr_name}"))
    return issues


def _check_attribute(t: OperationalTemplate, rm: Any, rm_name: str, attr: CAttribute, path: str,
                     add: Callable[..., None]) -> None:
    base = "" if path == "/" else path
    apath = f"{base}/{attr.rm_attribute_name}"
    rm_attr = rm.attribute(rm_name, attr.rm_attribute_name)
    if rm_attr is None:
        add("OPT007", f"{rm_name} has no attribute {attr.rm_attribute_name!r}", apath, attr)
        return
    ex = attr.existence
    if ex is not None:
        if not _EXISTENCE_RANGE.contains_interval(ex):
            add("OPT009", f"existence {ex} of {rm_name}.{attr.rm_attribute_name} lies outside 0..1", apath, attr)
        elif rm_attr.mandatory and ex.lower == 0:
            # a template cannot relax the RM; tools write 0..1 for mandatory attributes they leave to the RM,
            # so this is a warning: the RM's 1..1 still applies to data
            add("OPT009", f"existence {ex} for {rm_name}.{attr.rm_attribute_name}, which the RM makes mandatory",
                apath, attr, Severity.WARNING)
    if attr.is_multiple and not rm_attr.is_container:
        add("OPT009", f"{rm_name}.{attr.rm_attribute_name} is single-valued in the RM but constrained as a "
                      "multiple attribute (cardinality)", apath, attr)
    for child in attr.children:
        occ = child.occurrences
        info = t.info_of(child)
        cpath = info.path if info else apath
        if not rm_attr.is_container and occ is not None and (occ.upper is None or occ.upper > 1):
            add("OPT009", f"occurrences {occ} of a child of single-valued attribute "
                          f"{rm_name}.{attr.rm_attribute_name} (at most 1 allowed)", cpath, child)
        # primitive rm_type_names follow the ITS spelling (DATE_TIME, INTEGER for a String or Integer64 RM
        # attribute): the C_PRIMITIVE subtype already fixes the value space, so no conformance question arises
        if isinstance(child, (ArchetypeSlot, CPrimitiveObject)) or child.rm_type_name == rm_attr.type_name:
            continue
        child_rm = child.rm_type_name
        if rm.rm_type(child_rm) is None:
            continue  # reported as OPT006 on the child
        if not _conforms(rm, child_rm, rm_attr.type_name):
            add("OPT012", f"{child_rm} does not conform to {rm_attr.type_name}, the type of "
                          f"{rm_name}.{attr.rm_attribute_name}", cpath, child)


def _conforms(rm: Any, sub: str, sup: str) -> bool:
    try:
        return bool(rm.is_subtype(sub, sup))
    except Exception:  # noqa: BLE001 - an RM table gap must not turn into a crash of the checker
        return True


# ---------------------------------------------------------------------------------------------------------------
# Entry point


def check_opt(source: str | os.PathLike[str] | bytes) -> list[Issue]:
    """All issues of an OPT file (path) or document (bytes): reading, structure, then semantics."""
    return check_and_load_opt(source)[0]


def check_and_load_opt(
    source: str | os.PathLike[str] | bytes,
) -> tuple[list[Issue], OperationalTemplate | None]:
    """The issues of an OPT, and the template when its structure allowed loading it.

    Semantic checks run only when the structure allowed the template to be loaded.
    """
    name = None if isinstance(source, bytes) else str(source)
    try:
        data = source if isinstance(source, bytes) else read_bytes(source, max_bytes=MAX_OPT_BYTES)
        root = parse_xml_bytes(data, name)
    except ParseError as exc:
        return [exc.to_issue()], None
    issues = check_structure(root, name)
    if root.tag != NS + "template":
        return issues, None
    try:
        template = build_template(root, source=name)
    except ParseError as exc:
        issue = exc.to_issue()
        # the structure walk usually found the same problem already; keep the loader's word only if new
        if not any(i.code == issue.code and i.line == issue.line for i in issues):
            issues.append(issue)
        return issues, None
    issues.extend(check_template(template))
    return issues, template


def errors(issues: list[Issue]) -> list[Issue]:
    """The error-level issues (the verdict: a template with none is accepted)."""
    return [i for i in issues if i.severity == Severity.ERROR]
