"""The in-memory form of a reference model instance (a composition or any RM object), shared by all readers.

One ``RMObject`` per RM object: its type name and its attributes in a plain dict. Attribute values are an
``RMObject``, a list of them, or a primitive (str, int, float, bool). Canonical JSON and canonical XML both read
into this form and are written back from it, so a reading loses nothing:

* ``explicit_type`` records whether the source named the type (``_type`` / ``xsi:type``) or it was inferred
  from the declared attribute type, so writers reproduce the source;
* attributes the RM does not know are kept, uninterpreted, in ``unknown`` (reported as RMR005), never dropped.

Equality compares type, attributes and unknown attributes only: where an object came from (``location``,
``line``) and whether its type was written out are not part of its value, so a JSON and an XML reading of the
same composition compare equal.

RM facts (attribute types, abstract classes, subtypes) come from :mod:`openehr_kit.rm.schema` through the small
adapter in this module, which caches every lookup because readers ask the same questions for every node.
"""

from __future__ import annotations

import base64
import functools
from dataclasses import dataclass
from typing import Any, Iterator, NamedTuple

from lxml import etree

try:  # the RM-metadata module is a separate piece of work; readers degrade to "types from the input only" without it
    from openehr_kit.rm import schema as _schema
except ModuleNotFoundError as _exc:  # pragma: no cover - only while schema.py is absent
    if _exc.name != "openehr_kit.rm.schema":
        raise
    _schema = None  # type: ignore[assignment]

OPENEHR_NS = "http://schemas.openehr.org/v1"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XSI_TYPE = f"{{{XSI_NS}}}type"

# RM/BASE primitive type names and the Python type a value of each has after reading.
PRIMITIVES: dict[str, type] = {
    "String": str,
    "Character": str,
    "Integer": int,
    "Integer64": int,
    "Real": float,
    "Double": float,
    "Boolean": bool,
    "Octet": str,  # Array<Octet> (DV_MULTIMEDIA.data) is base64 text in both serialisations
    "Uri": str,
    "Iso8601_date": str,
    "Iso8601_time": str,
    "Iso8601_date_time": str,
    "Iso8601_duration": str,
}


@dataclass(slots=True, eq=False)
class RMObject:
    """One RM object: type name, attributes, and where it was read from.

    The canonical JSON reader builds instances without calling ``__init__`` (it is the hottest allocation of a
    reading): a new field needs setting in ``canonical_json._JsonReader.obj`` as well.
    """

    rm_type: str
    attrs: dict[str, Any]
    location: str = ""
    line: int | None = None
    explicit_type: bool = True
    unknown: dict[str, Any] | None = None  # attributes the RM does not define, kept as read (JSON value / XML text)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RMObject):
            return NotImplemented
        return (
            self.rm_type == other.rm_type
            and self.attrs == other.attrs
            and (self.unknown or None) == (other.unknown or None)
        )

    __hash__ = None  # type: ignore[assignment]  # mutable value object

    def __repr__(self) -> str:
        return f"RMObject({self.rm_type!r}, {self.location or '/'!r}, attrs={list(self.attrs)})"

    @property
    def base_type(self) -> str:
        """The type name without generic parameters (``DV_INTERVAL<DV_COUNT>`` -> ``DV_INTERVAL``)."""
        return base_type(self.rm_type)

    def get(self, name: str, default: Any = None) -> Any:
        return self.attrs.get(name, default)

    @property
    def archetype_node_id(self) -> str | None:
        value = self.attrs.get("archetype_node_id")
        return value if isinstance(value, str) else None

    @property
    def name_value(self) -> str | None:
        """``name/value``: the text of a LOCATABLE's name, or None."""
        name = self.attrs.get("name")
        if isinstance(name, RMObject):
            value = name.attrs.get("value")
            return value if isinstance(value, str) else None
        return None

    def children(self) -> Iterator[tuple[str, int | None, RMObject]]:
        """Every RM object directly below this one as (attribute, index in a list or None, child)."""
        for attr, value in self.attrs.items():
            if isinstance(value, RMObject):
                yield attr, None, value
            elif isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, RMObject):
                        yield attr, i, item

    def walk(self) -> Iterator[RMObject]:
        """This object and every RM object below it, depth first, parents before children."""
        stack = [self]
        while stack:
            obj = stack.pop()
            yield obj
            kids = [child for _, _, child in obj.children()]
            stack.extend(reversed(kids))


def base_type(name: str) -> str:
    cut = name.find("<")
    return name if cut < 0 else name[:cut]


# ---------------------------------------------------------------------------------------------------------------
# RM metadata adapter


class AttrInfo(NamedTuple):
    """What the RM declares for one attribute of one type, reduced to what a reader needs."""

    type_name: str  # declared type (the element type for containers), generics removed; "" if not known
    is_container: bool | None  # None: not known (no RM metadata); readers then follow the input
    primitive: type | None  # Python type for primitive attributes (str/int/float/bool), else None
    concrete: bool  # declared type is a concrete RM class, so an omitted _type means exactly this type


# Without RM metadata, only these attribute types are inferred; each holds for every RM class that has the attribute.
_UNTYPED_INFERENCE: dict[str, str] = {
    "defining_code": "CODE_PHRASE",
    "language": "CODE_PHRASE",
    "encoding": "CODE_PHRASE",
    "territory": "CODE_PHRASE",
    "terminology_id": "TERMINOLOGY_ID",
    "archetype_details": "ARCHETYPED",
    "archetype_id": "ARCHETYPE_ID",
    "template_id": "TEMPLATE_ID",
    "category": "DV_CODED_TEXT",
    "setting": "DV_CODED_TEXT",
    "math_function": "DV_CODED_TEXT",
    "null_flavour": "DV_CODED_TEXT",
    "start_time": "DV_DATE_TIME",
    "end_time": "DV_DATE_TIME",
    "external_ref": "PARTY_REF",
    "context": "EVENT_CONTEXT",
}
_UNTYPED = AttrInfo("", None, None, False)


def has_metadata() -> bool:
    """Whether RM metadata is available (else readers take types from the input only)."""
    return _schema is not None


@functools.lru_cache(maxsize=None)
def type_known(name: str) -> bool:
    """Whether ``name`` (generics allowed) is an RM class; without metadata every name is accepted."""
    if _schema is None:
        return True
    t = _schema.rm_type(name)
    return t is not None and not t.primitive


@functools.lru_cache(maxsize=None)
def is_abstract(name: str) -> bool:
    if _schema is None:
        return False
    t = _schema.rm_type(base_type(name))
    return bool(t is not None and t.abstract)


@functools.lru_cache(maxsize=None)
def is_generic(name: str) -> bool:
    """Whether ``name`` has or takes generic arguments (``DV_INTERVAL``, ``HISTORY<ITEM_TREE>``); True without
    metadata, where it cannot be told."""
    if _schema is None or "<" in name:
        return True
    t = _schema.rm_type(name)
    return bool(t is None or t.generic_parameters)


def _element_type(type_name: str) -> str:
    """``List<DV_TEXT>`` -> ``DV_TEXT``; ``DV_INTERVAL<DV_COUNT>`` -> ``DV_INTERVAL``."""
    t = type_name.strip()
    for wrapper in ("List<", "Set<", "Array<", "Hash<"):
        if t.startswith(wrapper) and t.endswith(">"):
            inner = t[len(wrapper) : -1]
            # Hash<String, X>: the value type is what matters
            return _element_type(inner.split(",")[-1]) if wrapper == "Hash<" else _element_type(inner)
    return base_type(t)


@functools.lru_cache(maxsize=None)
def attr_info(owner: str, attr: str) -> AttrInfo | None:
    """The declared type of ``owner.attr`` (``owner`` may carry generic arguments); None when the RM has no such
    attribute. For RM classes ``type_name`` keeps the declared generic arguments (``DV_INTERVAL<DV_DATE_TIME>``)
    so that attributes below an inferred object resolve to the bound types."""
    if _schema is None:
        if attr == "name" and base_type(owner) not in ("PARTY_IDENTIFIED", "PARTY_RELATED"):
            return AttrInfo("DV_TEXT", False, None, True)
        inferred = _UNTYPED_INFERENCE.get(attr)
        return AttrInfo(inferred, False, None, True) if inferred else _UNTYPED
    a = _schema.attribute(owner, attr)
    if a is None or a.is_system:
        return None
    declared = a.type_name
    t = _schema.rm_type(declared)
    if t is None or (t.primitive and t.abstract):  # Any, Ordered, an unbound parameter: follow the input
        return AttrInfo("", None if a.is_container else False, None, False)
    if t.primitive:
        if declared == "Octet":  # Array<Octet> is one base64 string in JSON and XML, not a list
            return AttrInfo(declared, False, str, False)
        return AttrInfo(declared, a.is_container, _primitive_python_type(declared), False)
    full = f"{declared}<{','.join(a.type_args)}>" if a.type_args else declared
    return AttrInfo(full, a.is_container, None, not t.abstract)


_ATTR_TABLES: dict[str, dict[str, Any]] = {}


def attr_table(owner: str) -> dict[str, Any]:
    """A per-type memo of ``attr_info`` results, filled by the caller on a miss: one dict lookup per attribute
    in the readers' inner loops instead of a cached two-argument call."""
    table = _ATTR_TABLES.get(owner)
    if table is None:
        table = _ATTR_TABLES[owner] = {}
    return table


def _primitive_python_type(name: str) -> type:
    """Python type of a foundation type's values: enumerations (PROPORTION_KIND) follow their base type."""
    if name in PRIMITIVES:
        return PRIMITIVES[name]
    assert _schema is not None
    for prim in ("Boolean", "Integer", "Integer64", "Real", "Double"):
        if _schema.is_subtype(name, prim):
            return PRIMITIVES[prim]
    return str


def attribute_names(rm_type: str) -> tuple[str, ...] | None:
    """All attribute names of a type (inherited included), or None without metadata or for unknown types."""
    if _schema is None:
        return None
    t = _schema.rm_type(base_type(rm_type))
    return None if t is None else tuple(t.attributes)


@functools.lru_cache(maxsize=4096)
def _candidates(declared: str, keys: frozenset[str]) -> tuple[str, ...]:
    """Concrete types conforming to ``declared`` that have every attribute in ``keys``."""
    if _schema is None:
        return ()
    options = list(_schema.concrete_subtypes(declared))
    if not is_abstract(declared) and declared not in options:
        options.insert(0, declared)
    out = []
    for name in options:
        names = attribute_names(name)
        if names is not None and keys <= set(names):
            out.append(name)
    return tuple(out)


def infer_type(declared: str, keys: frozenset[str], value: Any = None) -> str | None:
    """The type of an object whose ``_type``/``xsi:type`` is omitted, or None if the RM does not fix it.

    The declared attribute type wins when it is concrete and has all the given attributes; otherwise the single
    concrete subtype that has them all (a DV_TEXT slot holding ``defining_code`` is a DV_CODED_TEXT). Identifiers
    are told apart by content: ``a::b::1`` is an OBJECT_VERSION_ID, a ``scheme`` makes a GENERIC_ID. The result
    keeps the declared generic arguments (``DV_INTERVAL<DV_DATE_TIME>``).
    """
    if not declared:
        return None
    if _schema is None:
        return declared
    base = base_type(declared)
    candidates = _candidates(base, keys)
    if base in candidates:
        return declared
    if len(candidates) == 1:
        return candidates[0]
    if not is_abstract(base):  # attributes it lacks are reported by the reader; the type stays as declared
        return declared
    if base in ("UID_BASED_ID", "OBJECT_ID") and isinstance(value, str):
        if "scheme" in keys and base == "OBJECT_ID":
            return "GENERIC_ID"
        return "OBJECT_VERSION_ID" if value.count("::") == 2 else "HIER_OBJECT_ID"
    return None


def lookup_type(rm_type: str, declared: str) -> str:
    """The name to look attributes up under: an explicit ``DV_INTERVAL`` in a ``DV_INTERVAL<DV_DATE_TIME>``
    slot takes the slot's arguments, so its ``lower`` is known to be a DV_DATE_TIME."""
    if "<" in declared and "<" not in rm_type and base_type(declared) == rm_type:
        return declared
    return rm_type


def kind_name(value: Any) -> str:
    """How a value is described in messages: ``a string ('abc')``, ``an object``, ``a list``..."""
    if isinstance(value, bool):
        return f"a boolean ({'true' if value else 'false'})"
    if isinstance(value, (int, float)):
        return f"a number ({value!r})"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"a string ({shown!r})"
    if isinstance(value, (dict, RMObject)):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    return type(value).__name__


def coerce_text(text: str, target: type) -> Any:
    """``text`` as a value of ``target`` (int, float, bool, str) by XML Schema lexical rules; None if it is not one."""
    if target is str:
        return text
    t = text.strip()
    if target is bool:
        return {"true": True, "false": False, "1": True, "0": False}.get(t)
    try:
        if target is int:
            return int(t) if t and t.lstrip("+-").isdigit() else None
        if t in ("INF", "+INF", "-INF", "NaN"):
            return float(t.replace("INF", "inf").replace("NaN", "nan"))
        return float(t) if t and t.lower().lstrip("+-") not in ("inf", "infinity", "nan") else None
    except ValueError:
        return None


PRIMITIVE_WORDS: dict[type, str] = {str: "a string", int: "an integer", float: "a number", bool: "a boolean"}


# ---------------------------------------------------------------------------------------------------------------
# writing back: canonical JSON


def to_canonical_json(obj: RMObject) -> dict[str, Any]:
    """The canonical JSON form (a dict for ``json.dumps``); ``_type`` is written where the source had one."""
    out: dict[str, Any] = {"_type": obj.rm_type} if obj.explicit_type else {}
    for name, value in obj.attrs.items():
        out[name] = _json_value(value)
    if obj.unknown:
        out.update(obj.unknown)
    return out


def _json_value(value: Any) -> Any:
    if isinstance(value, RMObject):
        return to_canonical_json(value)
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    return value


# ---------------------------------------------------------------------------------------------------------------
# writing back: canonical XML

# Element order of the openEHR XSDs (Release 1.0.2): a base type's elements first, then the subtype's. Types not
# listed are written in attribute order; attributes a listed type does not name follow its listed ones.
_LOC = ("name", "uid", "links", "archetype_details", "feeder_audit")
_ENTRY = _LOC + ("language", "encoding", "subject", "provider", "other_participations", "workflow_id", "work_flow_id")
_CARE = _ENTRY + ("protocol", "guideline_id")
_EVENT = _LOC + ("time", "data", "state")
_ORDERED = ("normal_range", "other_reference_ranges", "normal_status")
_QUANT = _ORDERED + ("magnitude_status", "accuracy", "accuracy_is_percent")
_TEXT = ("value", "hyperlink", "formatting", "mappings", "language", "encoding")
_ENCAP = ("charset", "language")
_REF = ("id", "namespace", "type")
_PARTY = ("external_ref", "name", "identifiers")
XML_ORDER: dict[str, tuple[str, ...]] = {
    "COMPOSITION": _LOC + ("language", "territory", "category", "composer", "context", "content"),
    "SECTION": _LOC + ("items",),
    "OBSERVATION": _CARE + ("data", "state"),
    "EVALUATION": _CARE + ("data",),
    "INSTRUCTION": _CARE + ("narrative", "expiry_time", "wf_definition", "activities"),
    "ACTION": _CARE + ("time", "description", "ism_transition", "instruction_details"),
    "ADMIN_ENTRY": _ENTRY + ("data",),
    "GENERIC_ENTRY": _LOC + ("data",),
    "ACTIVITY": _LOC + ("description", "timing", "action_archetype_id"),
    "HISTORY": _LOC + ("origin", "period", "duration", "events", "summary"),
    "POINT_EVENT": _EVENT,
    "INTERVAL_EVENT": _EVENT + ("width", "sample_count", "math_function"),
    "ITEM_TREE": _LOC + ("items",),
    "ITEM_LIST": _LOC + ("items",),
    "ITEM_SINGLE": _LOC + ("item",),
    "ITEM_TABLE": _LOC + ("rows",),
    "CLUSTER": _LOC + ("items",),
    "ELEMENT": _LOC + ("value", "null_flavour", "null_reason"),
    "FOLDER": _LOC + ("folders", "items"),
    "EVENT_CONTEXT": (
        "start_time", "end_time", "location", "setting", "other_context", "health_care_facility", "participations",
    ),
    "PARTICIPATION": ("function", "performer", "time", "mode"),
    "PARTY_IDENTIFIED": _PARTY,
    "PARTY_RELATED": _PARTY + ("relationship",),
    "PARTY_SELF": ("external_ref",),
    "PARTY_REF": _REF,
    "OBJECT_REF": _REF,
    "ACCESS_GROUP_REF": _REF,
    "LOCATABLE_REF": _REF + ("path",),
    "ARCHETYPED": ("archetype_id", "template_id", "rm_version"),
    "GENERIC_ID": ("value", "scheme"),
    "LINK": ("meaning", "type", "target"),
    "ISM_TRANSITION": ("current_state", "transition", "careflow_step", "reason"),
    "INSTRUCTION_DETAILS": ("instruction_id", "activity_id", "wf_details"),
    "FEEDER_AUDIT": (
        "originating_system_item_ids", "feeder_system_item_ids", "original_content",
        "originating_system_audit", "feeder_system_audit",
    ),
    "FEEDER_AUDIT_DETAILS": ("system_id", "location", "provider", "subject", "time", "version_id", "other_details"),
    "CODE_PHRASE": ("terminology_id", "code_string", "preferred_term"),
    "TERM_MAPPING": ("match", "purpose", "target"),
    "REFERENCE_RANGE": ("meaning", "range"),
    "DV_TEXT": _TEXT,
    "DV_CODED_TEXT": _TEXT + ("defining_code",),
    "DV_QUANTITY": _QUANT + ("magnitude", "property", "units", "units_system", "units_display_name", "precision"),
    "DV_COUNT": _QUANT + ("magnitude",),
    "DV_PROPORTION": _QUANT + ("numerator", "denominator", "type", "precision"),
    "DV_DURATION": _QUANT + ("value",),
    "DV_DATE_TIME": _QUANT[:-1] + ("value",),
    "DV_DATE": _QUANT[:-1] + ("value",),
    "DV_TIME": _QUANT[:-1] + ("value",),
    "DV_ORDINAL": _ORDERED + ("value", "symbol"),
    "DV_SCALE": _ORDERED + ("value", "symbol"),
    "DV_INTERVAL": ("lower", "upper", "lower_included", "upper_included", "lower_unbounded", "upper_unbounded"),
    "DV_MULTIMEDIA": _ENCAP + (
        "alternate_text", "uri", "data", "media_type", "compression_algorithm", "integrity_check",
        "integrity_check_algorithm", "size", "thumbnail",
    ),
    "DV_PARSABLE": _ENCAP + ("value", "formalism"),
    "DV_IDENTIFIER": ("issuer", "assigner", "id", "type"),
    "DV_STATE": ("value", "is_terminal"),
}


def _xml_order(obj: RMObject) -> list[str]:
    order = XML_ORDER.get(obj.base_type)
    names = [n for n in obj.attrs if n != "archetype_node_id"]
    if order is None:
        return names
    rank = {n: i for i, n in enumerate(order)}
    return sorted(names, key=lambda n: rank.get(n, len(order)))


def to_canonical_xml(obj: RMObject, *, root: str | None = None) -> bytes:
    """The canonical XML form (UTF-8 bytes with declaration); ``xsi:type`` is written where the source had one.

    The root element is ``root`` or the type name in lower case (``composition``).
    """
    tag = root or obj.base_type.lower()
    elem = etree.Element(f"{{{OPENEHR_NS}}}{tag}", nsmap={None: OPENEHR_NS, "xsi": XSI_NS})
    _fill_xml(elem, obj)
    return etree.tostring(elem, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _fill_xml(elem: etree._Element, obj: RMObject) -> None:
    node_id = obj.attrs.get("archetype_node_id")
    if node_id is not None:
        elem.set("archetype_node_id", str(node_id))
    if obj.explicit_type:
        elem.set(XSI_TYPE, obj.rm_type)
    for name in _xml_order(obj):
        value = obj.attrs[name]
        for item in value if isinstance(value, list) else (value,):
            child = etree.SubElement(elem, f"{{{OPENEHR_NS}}}{name}")
            if isinstance(item, RMObject):
                _fill_xml(child, item)
            else:
                child.text = xml_text(item)
    if obj.unknown:
        for name, value in obj.unknown.items():
            _raw_to_xml(elem, name, value)


def xml_text(value: Any) -> str:
    """A primitive as XML Schema text (``true``/``false`` for booleans, shortest round-trip repr for floats)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if value == value and value not in (float("inf"), float("-inf")) else str(value).upper()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return str(value)


def _raw_to_xml(parent: etree._Element, name: str, value: Any) -> None:
    """Write back an attribute the RM does not know, from its uninterpreted form (text, dict, list)."""
    if name.startswith("@"):  # an XML attribute the RM does not know (kept by the XML reader)
        parent.set(name[1:], xml_text(value))
        return
    for item in value if isinstance(value, list) else (value,):
        child = etree.SubElement(parent, f"{{{OPENEHR_NS}}}{name}")
        if isinstance(item, dict):
            for k, v in item.items():
                if k == "_type":
                    child.set(XSI_TYPE, str(v))
                else:
                    _raw_to_xml(child, k, v)
        elif item is not None:
            child.text = xml_text(item)


__all__ = [
    "OPENEHR_NS",
    "XSI_NS",
    "AttrInfo",
    "RMObject",
    "attr_info",
    "base_type",
    "has_metadata",
    "infer_type",
    "lookup_type",
    "is_abstract",
    "is_generic",
    "to_canonical_json",
    "to_canonical_xml",
    "type_known",
]
