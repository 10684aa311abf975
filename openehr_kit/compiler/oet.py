"""Reading Ocean template sources (``.oet``, namespace ``openEHR/v1/Template``) into a small typed model.

Facts from the OET schema (``CompositionTemplate.xsd``): a template has an ``id`` (a GUID), a ``name``, an optional
description, annotations, a ``definition`` (the root archetype with nested content items), a ``view`` and
integrity checks. Content items (``Content``, ``Item``, ``Items``, ``activityDescription``, ``description``,
``OtherContext``) name an archetype, the path of the slot they fill in their parent, ``max``/``min`` and a
``name``; ``Rule`` statements constrain nodes of their archetype at a path (occurrences, names, defaults, value
constraints of the ``valueConstraint`` subtypes, hide-on-form). An item with a ``template_id`` embeds another
template (another ``.oet`` in the same directory, found by its id or name).

Tools write the ``xsi:type`` values with or without a namespace prefix (``tem:CLUSTER``); only the local name
counts. The reader keeps every element it understands and ignores the rest (``integrity_checks`` digests,
HL7 fragments in annotations).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from openehr_kit.diagnostics import ParseError
from openehr_kit.textio import parse_xml_bytes, read_bytes

OET_NS = "openEHR/v1/Template"
_N = "{" + OET_NS + "}"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
#: .oet sources are small (the largest CKM one is ~110 kB)
MAX_OET_BYTES = 16 * 1024 * 1024

#: elements that are content items (an archetype filling a slot of the parent archetype)
ITEM_ELEMENTS = frozenset({"Content", "Item", "Items", "activityDescription", "description", "OtherContext"})


# ---------------------------------------------------------------------------------------------------------------
# Value constraints (the ``valueConstraint`` subtypes of the schema)


@dataclass(slots=True)
class TextConstraint:
    """``textConstraint``: free or coded text limited to included values, minus excluded ones.

    Values are ``terminology::code`` (optionally ``::text``) for coded values, or plain strings for free text.
    """

    included: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    limit_to_list: bool = True
    #: ``termQueryId``: (terminologyID, terminologyLang, queryName) of an external subset
    term_query: tuple[str, str, str] | None = None


@dataclass(slots=True)
class MultipleConstraint:
    """``multipleConstraint``: the data value types an ELEMENT may take (``Quantity``, ``Coded_text``...)."""

    included_types: list[str] = field(default_factory=list)
    value_constraints: list[Any] = field(default_factory=list)


@dataclass(slots=True)
class UnitMagnitude:
    unit: str
    min: float | None = None
    max: float | None = None
    includes_min: bool = True
    includes_max: bool = True
    precision: int | None = None


@dataclass(slots=True)
class QuantityConstraint:
    included_units: list[str] = field(default_factory=list)
    excluded_units: list[str] = field(default_factory=list)
    magnitudes: list[UnitMagnitude] = field(default_factory=list)


@dataclass(slots=True)
class CountConstraint:
    min: int | None = None
    max: int | None = None
    includes_min: bool = True
    includes_max: bool = True


@dataclass(slots=True)
class DurationConstraint:
    pattern: str | None = None
    min: str | None = None
    max: str | None = None
    includes_min: bool = True
    includes_max: bool = True


@dataclass(slots=True)
class DateConstraint:
    min: str | None = None
    max: str | None = None


@dataclass(slots=True)
class OrdinalConstraint:
    """``ordinalConstraint``: included/excluded ordinal values (as written: the value or ``local::atNNNN``)."""

    included: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)


@dataclass(slots=True)
class OtherConstraint:
    """A value constraint kind the compiler does not apply (``parsableConstraint`` and unknown ones)."""

    kind: str


ValueConstraint = (
    TextConstraint | MultipleConstraint | QuantityConstraint | CountConstraint | DurationConstraint
    | DateConstraint | OrdinalConstraint | OtherConstraint
)


# ---------------------------------------------------------------------------------------------------------------
# Rules, items, the template


@dataclass(slots=True)
class Rule:
    """A ``Rule`` statement: constraints on the node at ``path`` of the enclosing item's archetype."""

    path: str
    max: int | None = None
    min: int | None = None
    name: str | None = None
    default: str | None = None
    hide_on_form: bool = False
    clone: bool = False
    exclusive: bool = False
    annotation: str | None = None
    constraint: ValueConstraint | None = None
    name_constraint: TextConstraint | None = None
    #: ``eventConstraint/allowedType`` (``PointInTime``/``Interval``) and ``widthOrOffset``
    event_type: str | None = None
    event_width: str | None = None
    line: int | None = None


@dataclass(slots=True)
class Item:
    """A content item: an archetype placed in a slot of its parent (or the template's root ``definition``)."""

    element: str
    rm_type: str
    archetype_id: str
    path: str | None = None
    concept_name: str | None = None
    max: int | None = None
    min: int | None = None
    name: str | None = None
    hide_on_form: bool = False
    annotation: str | None = None
    #: ``template_id`` of an embedded template (``from_template``)
    template_id: str | None = None
    rules: list[Rule] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    line: int | None = None


@dataclass(slots=True)
class Template:
    """An Ocean template source."""

    id: str
    name: str
    definition: Item
    description: dict[str, Any] = field(default_factory=dict)
    #: annotation path -> key -> value (paths are template paths, kept as written)
    annotations: dict[str, dict[str, str]] = field(default_factory=dict)
    #: view constraints: path -> item id -> value
    view: dict[str, dict[str, str]] = field(default_factory=dict)
    source: str | None = None


# ---------------------------------------------------------------------------------------------------------------
# Reading


class _Reader:
    def __init__(self, source: str | None) -> None:
        self.source = source

    def error(self, message: str, el: etree._Element | None) -> ParseError:
        return ParseError("TPL010", message, file=self.source, line=el.sourceline if el is not None else None)

    def int_attr(self, el: etree._Element, name: str) -> int | None:
        v = el.get(name)
        if v is None or not v.strip():
            return None
        try:
            return int(v)
        except ValueError:
            raise self.error(f"attribute {name}={v!r} of <{_local(el)}> is not an integer", el) from None

    def bool_attr(self, el: etree._Element, name: str, default: bool = False) -> bool:
        v = el.get(name)
        if v is None:
            return default
        t = v.strip().lower()
        if t in ("true", "1"):
            return True
        if t in ("false", "0"):
            return False
        raise self.error(f"attribute {name}={v!r} of <{_local(el)}> is not a boolean", el)

    def bool_text(self, el: etree._Element | None, default: bool) -> bool:
        if el is None:
            return default
        t = (el.text or "").strip().lower()
        if t in ("true", "1"):
            return True
        if t in ("false", "0"):
            return False
        raise self.error(f"<{_local(el)}> {t!r} is not a boolean", el)

    def number(self, el: etree._Element | None, conv: Any) -> Any:
        if el is None or not (el.text or "").strip():
            return None
        try:
            return conv(el.text.strip())
        except ValueError:
            raise self.error(f"<{_local(el)}> {el.text!r} is not a number", el) from None

    # --- the template ---------------------------------------------------------------------------------------

    def template(self, root: etree._Element) -> Template:
        if not isinstance(root.tag, str) or root.tag != _N + "template":
            raise ParseError(
                "TPL010",
                f"root element is {root.tag}, not {{{OET_NS}}}template",
                file=self.source,
                line=root.sourceline,
                expected=f"{{{OET_NS}}}template",
                found=str(root.tag),
            )
        tid = _text(root.find(_N + "id"))
        name = _text(root.find(_N + "name"))
        def_el = root.find(_N + "definition")
        if def_el is None:
            raise self.error("the template has no <definition>", root)
        if not name:
            raise self.error("the template has no <name>", root)
        definition = self.item(def_el)
        # the composition's event context: its items and rules use composition-relative paths
        ctx = def_el.find(_N + "Context")
        if ctx is not None:
            for c in ctx:
                ln = _local(c)
                if ln == "Rule":
                    definition.rules.append(self.rule(c))
                elif ln in ITEM_ELEMENTS or ln == "Items":
                    definition.items.append(self.item(c))
        annotations: dict[str, dict[str, str]] = {}
        for a in root.findall(_N + "annotations"):
            target = annotations.setdefault(a.get("path") or "", {})
            for it in a.iter(_N + "item"):
                key = _text(it.find(_N + "key"))
                if key:
                    target[key] = (it.find(_N + "value").text or "") if it.find(_N + "value") is not None else ""
        view: dict[str, dict[str, str]] = {}
        v = root.find(_N + "view")
        if v is not None:
            for c in v.findall(_N + "constraints"):
                target = view.setdefault(c.get("path") or "", {})
                for it in c.findall(_N + "items"):
                    target[it.get("id") or ""] = _text(it.find(_N + "value"))
        return Template(tid or name, name, definition, self.description(root.find(_N + "description")),
                        annotations, view, self.source)

    def description(self, el: etree._Element | None) -> dict[str, Any]:
        if el is None:
            return {}
        out: dict[str, Any] = {}
        for c in el:
            if not isinstance(c.tag, str):
                continue
            ln = _local(c)
            if ln in ("original_author", "other_details"):
                out[ln] = _hashtable(c)
            elif ln == "other_contributors":
                out[ln] = [_text(i) for i in c if isinstance(i.tag, str)]
            elif ln == "details":
                det: dict[str, Any] = {}
                for d in c:
                    if not isinstance(d.tag, str):
                        continue
                    dn = _local(d)
                    if dn == "keywords":
                        det[dn] = [_text(i) for i in d if isinstance(i.tag, str)]
                    elif dn == "other_details":
                        det[dn] = _hashtable(d)
                    else:
                        det[dn] = _text(d)
                out[ln] = det
            else:
                out[ln] = _text(c)
        return out

    def item(self, el: etree._Element) -> Item:
        kind = _xsi_local(el)
        archetype_id = (el.get("archetype_id") or "").strip()
        if not archetype_id:
            raise self.error(f"<{_local(el)}> without an archetype_id", el)
        if kind is None:
            # the RM type is the second part of the archetype id (openEHR-EHR-OBSERVATION.x.v1)
            kind = archetype_id.split(".", 1)[0].rsplit("-", 1)[-1]
        item = Item(
            element=_local(el),
            rm_type=kind,
            archetype_id=archetype_id,
            path=el.get("path"),
            concept_name=el.get("concept_name"),
            max=self.int_attr(el, "max"),
            min=self.int_attr(el, "min"),
            name=el.get("name"),
            hide_on_form=self.bool_attr(el, "hide_on_form"),
            annotation=el.get("annotation"),
            template_id=el.get("template_id") if self.bool_attr(el, "from_template", False) or el.get(
                "template_id") else None,
            line=el.sourceline,
        )
        if item.element != "definition" and not item.path:
            raise self.error(f"<{item.element}> {archetype_id} has no path (the slot it fills)", el)
        for c in el:
            if not isinstance(c.tag, str):
                continue
            ln = _local(c)
            if ln == "Rule":
                item.rules.append(self.rule(c))
            elif ln in ITEM_ELEMENTS:
                item.items.append(self.item(c))
            elif ln == "nameConstraint":
                tc = self.value_constraint(c, "textConstraint")
                if isinstance(tc, TextConstraint) and tc.included and item.name is None:
                    item.name = tc.included[0]
        return item

    def rule(self, el: etree._Element) -> Rule:
        path = el.get("path")
        if not path:
            raise self.error("<Rule> without a path", el)
        rule = Rule(
            path=path.strip(),
            max=self.int_attr(el, "max"),
            min=self.int_attr(el, "min"),
            name=el.get("name"),
            default=el.get("default"),
            hide_on_form=self.bool_attr(el, "hide_on_form"),
            clone=self.bool_attr(el, "clone"),
            exclusive=self.bool_attr(el, "exclusive"),
            annotation=el.get("annotation"),
            line=el.sourceline,
        )
        if rule.clone and not rule.name:
            raise self.error(f"clone rule at {rule.path} without a name (a clone needs one to be told apart)", el)
        for c in el:
            if not isinstance(c.tag, str):
                continue
            ln = _local(c)
            if ln == "constraint":
                rule.constraint = self.value_constraint(c)
            elif ln == "nameConstraint":
                nc = self.value_constraint(c, "textConstraint")
                rule.name_constraint = nc if isinstance(nc, TextConstraint) else None
            elif ln == "eventConstraint":
                rule.event_type = _text(c.find(_N + "allowedType")) or None
                rule.event_width = _text(c.find(_N + "widthOrOffset")) or None
        return rule

    def value_constraint(self, el: etree._Element, default_kind: str | None = None) -> ValueConstraint:
        kind = _xsi_local(el) or default_kind
        if kind is None:
            raise self.error("value constraint without xsi:type", el)
        kids = [c for c in el if isinstance(c.tag, str)]

        def texts(name: str) -> list[str]:
            return [(c.text or "").strip() for c in kids if _local(c) == name]

        def one(name: str) -> etree._Element | None:
            return next((c for c in kids if _local(c) == name), None)

        if kind == "textConstraint":
            tq = one("termQueryId")
            query = None
            if tq is not None:
                query = (tq.get("terminologyID") or "", tq.get("terminologyLang") or "", tq.get("queryName") or "")
            return TextConstraint(texts("includedValues"), texts("excludedValues"),
                                  self.bool_attr(el, "limitToList", True), query)
        if kind == "multipleConstraint":
            subs = [self.value_constraint(c) for c in kids if _local(c) == "valueTypeConstraints"]
            return MultipleConstraint(texts("includedTypes"), subs)
        if kind == "quantityConstraint":
            mags = []
            for um in (c for c in kids if _local(c) == "unitMagnitude"):
                def sub(name: str, um: etree._Element = um) -> etree._Element | None:
                    return um.find(_N + name)
                mags.append(UnitMagnitude(
                    _text(sub("unit")),
                    self.number(sub("minMagnitude"), float),
                    self.number(sub("maxMagnitude"), float),
                    self.bool_text(sub("includesMinimum"), True),
                    self.bool_text(sub("includesMaximum"), True),
                    self.number(sub("precision"), int),
                ))
            return QuantityConstraint(texts("includedUnits"), texts("excludedUnits"), mags)
        if kind == "countConstraint":
            return CountConstraint(self.number(one("minMagnitude"), int), self.number(one("maxMagnitude"), int),
                                   self.bool_text(one("includesMinimum"), True),
                                   self.bool_text(one("includesMaximum"), True))
        if kind == "durationConstraint":
            return DurationConstraint(_text(one("pattern")) or None, _text(one("minMagnitude")) or None,
                                      _text(one("maxMagnitude")) or None,
                                      self.bool_text(one("includesMinimum"), True),
                                      self.bool_text(one("includesMaximum"), True))
        if kind == "dateConstraint":
            return DateConstraint(_text(one("minDateTime")) or None, _text(one("maxDateTime")) or None)
        if kind == "ordinalConstraint":
            return OrdinalConstraint(texts("includedValues"), texts("excludedValues"))
        return OtherConstraint(kind)


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _xsi_local(el: etree._Element) -> str | None:
    t = el.get(XSI_TYPE)
    return t.rsplit(":", 1)[-1].strip() if t else None


def _text(el: etree._Element | None) -> str:
    return (el.text or "").strip() if el is not None else ""


def _hashtable(el: etree._Element) -> dict[str, str]:
    out: dict[str, str] = {}
    for it in el:
        if isinstance(it.tag, str) and _local(it) == "item":
            out[_text(it.find(_N + "key"))] = (it.find(_N + "value").text or "") if it.find(
                _N + "value") is not None else ""
    return out


def parse_oet(data: bytes, *, source: str | None = None) -> Template:
    """Read an OET from bytes; a located ParseError (TPL010, or XML00x) when it is not a readable OET."""
    return _Reader(source).template(parse_xml_bytes(data, source))


def load_oet(path: str | os.PathLike[str]) -> Template:
    return parse_oet(read_bytes(path, max_bytes=MAX_OET_BYTES), source=str(path))
