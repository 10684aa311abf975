"""Reading canonical XML (openEHR ITS-XML, namespace ``http://schemas.openehr.org/v1``) into RMObject trees.

The XML form differs from JSON only in syntax, so both readers produce equal trees:

* the type is ``xsi:type`` (any prefix, which is dropped) or, where omitted, the declared attribute type;
* ``archetype_node_id`` is an XML attribute, everything else an element named after the RM attribute;
* a container attribute is its element repeated; a primitive is the element's text, converted by the RM type
  of the attribute (``magnitude`` Real -> float, ``precision`` Integer -> int, DV_BOOLEAN ``value`` -> bool).

Several serialisers (older EHRbase, Archie) write elements without a namespace; those are accepted, elements in
any other namespace are not. Locations are XPath-like (``/composition/content[1]/data/events[2]``, 1-based).
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from openehr_kit.diagnostics import Issue, ParseError
from openehr_kit.rm.instance import (
    OPENEHR_NS,
    PRIMITIVE_WORDS,
    XSI_TYPE,
    AttrInfo,
    RMObject,
    attr_info,
    base_type,
    coerce_text,
    infer_type,
    lookup_type,
    type_known,
)
from openehr_kit.textio import parse_xml_bytes

_NS_PREFIX = f"{{{OPENEHR_NS}}}"
_ACCEPTED_ROOTS = {"composition": "COMPOSITION"}
# Element names of the Release-1.0.2 XSDs that later XSDs and the RM spell differently.
_XML_ALIASES = {"work_flow_id": "workflow_id"}


def read_xml_composition(
    data: bytes, *, source: str | None = None, issues: list[Issue] | None = None
) -> RMObject:
    """Read a canonical XML composition: root element ``composition`` (typed COMPOSITION unless ``xsi:type``)."""
    root = parse_xml_bytes(data, source)
    name = etree.QName(root)
    if name.namespace not in (None, OPENEHR_NS):
        raise ParseError(
            "RMR006",
            f"root element is in namespace {name.namespace!r}",
            file=source,
            line=root.sourceline,
            expected=f"namespace {OPENEHR_NS!r} (or none)",
            found=repr(name.namespace),
        )
    if name.localname != "composition":
        raise ParseError(
            "RMR006",
            f"root element is <{name.localname}>, not a composition",
            file=source,
            line=root.sourceline,
            expected="<composition>",
            found=f"<{name.localname}>",
        )
    return _XmlReader(source, issues).obj(root, "COMPOSITION", "/composition")


def read_canonical_xml(
    data: bytes, *, source: str | None = None, root_type: str | None = None, issues: list[Issue] | None = None
) -> RMObject:
    """Read any RM object from canonical XML; its type is ``xsi:type`` or ``root_type`` or the root's name."""
    root = parse_xml_bytes(data, source)
    name = etree.QName(root)
    if name.namespace not in (None, OPENEHR_NS):
        raise ParseError(
            "RMR006", f"root element is in namespace {name.namespace!r}", file=source, line=root.sourceline,
            expected=repr(OPENEHR_NS), found=repr(name.namespace),
        )
    declared = root_type or _ACCEPTED_ROOTS.get(name.localname) or name.localname.upper()
    return _XmlReader(source, issues).obj(root, declared, f"/{name.localname}")


class _XmlReader:
    __slots__ = ("source", "issues")

    def __init__(self, source: str | None, issues: list[Issue] | None) -> None:
        self.source = source
        self.issues = issues

    def fail(
        self, code: str, elem: etree._Element, loc: str, message: str,
        expected: str | None = None, found: str | None = None,
    ) -> None:
        raise ParseError(
            code, f"at {loc}: {message}", file=self.source, line=elem.sourceline,
            expected=expected, found=found, instance_path=loc,
        )

    def note(self, code: str, elem: etree._Element, loc: str, message: str) -> None:
        if self.issues is not None:
            self.issues.append(
                Issue(code, f"at {loc}: {message}", file=self.source, line=elem.sourceline, instance_path=loc)
            )

    def obj(self, elem: etree._Element, declared: str, loc: str) -> RMObject:
        """Type ``elem`` (xsi:type or the declared type) and read its attributes and child elements."""
        attrs: dict[str, Any] = {}
        unknown: dict[str, Any] | None = None
        xsi_type = None
        for key, val in elem.attrib.items():
            if key == XSI_TYPE:
                xsi_type = val
            elif key == "archetype_node_id":
                attrs["archetype_node_id"] = val
            elif key.startswith("{http://www.w3.org/"):
                continue  # xsi:schemaLocation and the like say nothing about the RM object
            else:
                if unknown is None:
                    unknown = {}
                unknown["@" + key] = val
        children = [c for c in elem if isinstance(c.tag, str)]
        if xsi_type is not None:
            rm_type = xsi_type.rsplit(":", 1)[-1].strip()  # the prefix (v1:, ns2:) is a namespace, not a type
            if not type_known(rm_type):
                self.fail("RMR002", elem, loc, f"unknown RM type {rm_type!r} in xsi:type", "an openEHR RM type",
                          repr(xsi_type))
            owner = lookup_type(rm_type, declared)
            explicit = True
        else:
            keys = frozenset([etree.QName(c).localname for c in children] + list(attrs))
            value_child = next((c for c in children if etree.QName(c).localname == "value"), None)
            owner = infer_type(declared, keys, value_child.text if value_child is not None else None)
            if owner is None:
                what = f"the declared type {declared} is abstract" if declared else "nothing declares its type"
                self.fail("RMR004", elem, loc, f"element has no xsi:type and {what}; add xsi:type",
                          "an element with xsi:type", f"<{etree.QName(elem).localname}> without xsi:type")
            rm_type = base_type(owner)  # type: ignore[arg-type]
            explicit = False
        counts: dict[str, int] = {}
        for child in children:
            qname = child.tag
            if qname.startswith(_NS_PREFIX):
                name = qname[len(_NS_PREFIX):]
            elif qname[0] == "{":
                self.fail("RMR006", child, loc, "element in a foreign namespace", repr(OPENEHR_NS),
                          repr(etree.QName(child).namespace))
            else:
                name = qname
            info = attr_info(owner, name)
            if info is None and name in _XML_ALIASES:
                name = _XML_ALIASES[name]
                info = attr_info(owner, name)
            if info is None:
                if unknown is None:
                    unknown = {}
                _add(unknown, name, _raw(child))
                self.note("RMR005", child, f"{loc}/{name}", f"{owner} has no attribute {name!r}; kept uninterpreted")
                continue
            n = counts[name] = counts.get(name, 0) + 1
            if info.is_container or (info.is_container is None and name in attrs):
                child_loc = f"{loc}/{name}[{n}]"
                value = self.value(child, info, child_loc, owner, name)
                existing = attrs.get(name)
                if existing is None:
                    attrs[name] = [value]
                elif isinstance(existing, list):
                    existing.append(value)
                else:  # no RM metadata: a second element makes it a list
                    attrs[name] = [existing, value]
            else:
                child_loc = f"{loc}/{name}"
                if n > 1:
                    self.fail("RMR007", child, child_loc, f"{owner}.{name} holds one value but is given {n} times",
                              "one element", f"{n} elements")
                attrs[name] = self.value(child, info, child_loc, owner, name)
        return RMObject(rm_type, attrs, loc, elem.sourceline, explicit, unknown)

    def value(self, elem: etree._Element, info: AttrInfo, loc: str, owner: str, name: str) -> Any:
        prim = info.primitive
        if prim is None and not info.type_name:
            # untyped (no RM metadata, or an Any attribute): an element with children or xsi:type is an object
            if elem.get(XSI_TYPE) is None and not any(isinstance(c.tag, str) for c in elem):
                return elem.text or ""
            return self.obj(elem, "", loc)
        if prim is None:
            text = elem.text
            if text and not text.isspace() and not any(isinstance(c.tag, str) for c in elem):
                shown = text if len(text) <= 40 else text[:37] + "..."
                self.fail("RMR003", elem, loc, f"wrong kind of value for {owner}.{name}",
                          f"an object ({info.type_name})", f"text {shown!r}")
            return self.obj(elem, info.type_name, loc)
        if any(isinstance(c.tag, str) for c in elem):
            self.fail("RMR003", elem, loc, f"wrong kind of value for {owner}.{name}", PRIMITIVE_WORDS[prim],
                      "child elements")
        text = elem.text or ""
        if prim is str:
            return text
        value = coerce_text(text, prim)
        if value is None:
            shown = text if len(text) <= 40 else text[:37] + "..."
            self.fail("RMR003", elem, loc, f"wrong kind of value for {owner}.{name}", PRIMITIVE_WORDS[prim],
                      f"text {shown!r}")
        return value


def _add(target: dict[str, Any], name: str, value: Any) -> None:
    """Collect repeated unknown elements into a list, keeping a single one as is."""
    if name in target:
        existing = target[name]
        if isinstance(existing, list):
            existing.append(value)
        else:
            target[name] = [existing, value]
    else:
        target[name] = value


def _raw(elem: etree._Element) -> Any:
    """An element the RM does not know, kept as text (leaf) or a dict of its children (``_type`` for xsi:type)."""
    kids = [c for c in elem if isinstance(c.tag, str)]
    if not kids:
        return elem.text or ""
    out: dict[str, Any] = {}
    if elem.get(XSI_TYPE) is not None:
        out["_type"] = elem.get(XSI_TYPE)
    for c in kids:
        _add(out, etree.QName(c).localname, _raw(c))
    return out
