"""The archetype object model (AOM 1.4): constraint classes shared by archetypes and operational templates.

The classes mirror the openEHR AOM 1.4 specification. Parsers (ADL, OPT XML) build them; validators, the web
template builder and the compiler read them. Constraint trees are built once and then only read, so the classes
keep no parent pointers: every walk carries its own path and context (see ``iter_nodes``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")

# ---------------------------------------------------------------------------------------------------------------
# Basic values


@dataclass(frozen=True, slots=True)
class Interval(Generic[T]):
    """An interval; ``None`` for an end means unbounded on that side."""

    lower: T | None = None
    upper: T | None = None
    lower_included: bool = True
    upper_included: bool = True

    @property
    def lower_unbounded(self) -> bool:
        return self.lower is None

    @property
    def upper_unbounded(self) -> bool:
        return self.upper is None

    def contains(self, value: Any) -> bool:
        if self.lower is not None:
            if value < self.lower or (value == self.lower and not self.lower_included):
                return False
        if self.upper is not None:
            if value > self.upper or (value == self.upper and not self.upper_included):
                return False
        return True

    def contains_interval(self, other: Interval[Any]) -> bool:
        """True when every value of ``other`` lies in this interval."""
        if self.lower is not None:
            if other.lower is None or other.lower < self.lower:
                return False
            if other.lower == self.lower and other.lower_included and not self.lower_included:
                return False
        if self.upper is not None:
            if other.upper is None or other.upper > self.upper:
                return False
            if other.upper == self.upper and other.upper_included and not self.upper_included:
                return False
        return True

    def __str__(self) -> str:
        """Occurrences style for integer intervals (``0..*``, ``1..1``), ADL style otherwise."""
        lo = "*" if self.lower is None else _fmt(self.lower)
        hi = "*" if self.upper is None else _fmt(self.upper)
        if self.lower_included and self.upper_included:
            return f"{lo}..{hi}"
        left = "" if self.lower_included or self.lower is None else ">"
        right = "" if self.upper_included or self.upper is None else "<"
        return f"{left}{lo}..{right}{hi}"


def _fmt(v: Any) -> str:
    return str(v).lower() if isinstance(v, bool) else str(v)


def occurrences(lower: int, upper: int | None) -> Interval[int]:
    return Interval(lower, upper)


@dataclass(frozen=True, slots=True)
class Cardinality:
    interval: Interval[int]
    is_ordered: bool = True
    is_unique: bool = False


@dataclass(frozen=True, slots=True)
class CodePhrase:
    terminology_id: str
    code_string: str

    def __str__(self) -> str:
        return f"[{self.terminology_id}::{self.code_string}]"


# ---------------------------------------------------------------------------------------------------------------
# Constraint objects


@dataclass(slots=True, eq=True)
class CObject:
    """Base of every object constraint."""

    rm_type_name: str
    node_id: str | None = None
    occurrences: Interval[int] | None = None

    @property
    def is_archetype_root(self) -> bool:
        return False


@dataclass(slots=True, eq=True)
class CAttribute:
    """A constraint on an RM attribute; ``cardinality`` is set for container (multiple) attributes."""

    rm_attribute_name: str
    existence: Interval[int] | None = None
    children: list[CObject] = field(default_factory=list)
    cardinality: Cardinality | None = None
    is_multiple: bool = False

    def child(self, node_id: str) -> CObject | None:
        for c in self.children:
            if c.node_id == node_id or (isinstance(c, CArchetypeRoot) and c.archetype_id == node_id):
                return c
        return None


@dataclass(slots=True, eq=True)
class CComplexObject(CObject):
    attributes: list[CAttribute] = field(default_factory=list)
    #: an ``*`` ("any") constraint: ``DV_TEXT matches {*}``
    any_allowed: bool = False
    #: OPT default values and ADL assumed values in their RM form (kept as parsed)
    default_value: Any = None

    def attribute(self, name: str) -> CAttribute | None:
        for a in self.attributes:
            if a.rm_attribute_name == name:
                return a
        return None


@dataclass(slots=True, eq=True)
class Terminology:
    """Archetype ontology / terminology: per language term and constraint definitions, and bindings."""

    original_language: str = "en"
    terminologies_available: list[str] = field(default_factory=list)
    #: language -> code -> items (``text``, ``description``, ``comment``, ...)
    term_definitions: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    constraint_definitions: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    #: terminology -> code or path -> CodePhrase (or a URI string)
    term_bindings: dict[str, dict[str, CodePhrase | str]] = field(default_factory=dict)
    #: terminology -> ac-code -> URI string
    constraint_bindings: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def languages(self) -> list[str]:
        return list(self.term_definitions)

    def term(self, code: str, language: str | None = None) -> dict[str, str] | None:
        """The term definition of ``code`` in ``language``, falling back to the original language."""
        for lang in (language, self.original_language):
            if lang and code in self.term_definitions.get(lang, {}):
                return self.term_definitions[lang][code]
        for defs in self.term_definitions.values():
            if code in defs:
                return defs[code]
        return None

    def text(self, code: str, language: str | None = None) -> str | None:
        t = self.term(code, language)
        return t.get("text") if t else None

    def constraint(self, code: str, language: str | None = None) -> dict[str, str] | None:
        for lang in (language, self.original_language):
            if lang and code in self.constraint_definitions.get(lang, {}):
                return self.constraint_definitions[lang][code]
        return None


@dataclass(slots=True, eq=True)
class CArchetypeRoot(CComplexObject):
    """The root of an archetype inside a template (``C_ARCHETYPE_ROOT``); carries that archetype's terms."""

    archetype_id: str = ""
    terminology: Terminology | None = None

    @property
    def is_archetype_root(self) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class SlotAssertion:
    """One include/exclude statement of a slot, e.g. ``archetype_id/value matches {/openEHR-EHR-CLUSTER\\..*/}``."""

    expression: str
    target: str | None = None
    pattern: str | None = None

    def matches(self, archetype_id: str) -> bool | None:
        """Whether ``archetype_id`` matches the pattern; None when the assertion is not a pattern test."""
        if self.pattern is None:
            return None
        try:
            return re.fullmatch(self.pattern, archetype_id) is not None
        except re.error:
            return None


@dataclass(slots=True, eq=True)
class ArchetypeSlot(CObject):
    includes: list[SlotAssertion] = field(default_factory=list)
    excludes: list[SlotAssertion] = field(default_factory=list)
    is_closed: bool = False

    def allows(self, archetype_id: str) -> bool:
        """Slot semantics: included ids are allowed; otherwise an exclude that matches rules it out."""
        inc = [a.matches(archetype_id) for a in self.includes if a.pattern is not None]
        exc = [a.matches(archetype_id) for a in self.excludes if a.pattern is not None]
        if any(inc):
            return True
        if any(exc):
            return False
        # an include list that does not match, with no excludes (or an exclude-all), rules it out
        return not inc or bool(self.excludes)


@dataclass(slots=True, eq=True)
class ArchetypeInternalRef(CObject):
    """``use_node TYPE path``: reuse of the constraint at ``target_path``."""

    target_path: str = ""


@dataclass(slots=True, eq=True)
class ConstraintRef(CObject):
    """A reference to an external constraint definition (``[ac0001]``)."""

    reference: str = ""


# --- primitive constraints ---------------------------------------------------------------------------------------


@dataclass(slots=True, eq=True)
class CPrimitive:
    """Base of primitive constraints; ``assumed_value`` as parsed."""

    assumed_value: Any = None


@dataclass(slots=True, eq=True)
class CString(CPrimitive):
    list: list[str] = field(default_factory=list)
    pattern: str | None = None
    list_open: bool = False

    def allows(self, value: str) -> bool:
        if self.pattern is not None:
            try:
                return re.fullmatch(self.pattern, value) is not None
            except re.error:
                return True
        return not self.list or self.list_open or value in self.list


@dataclass(slots=True, eq=True)
class CInteger(CPrimitive):
    list: list[int] = field(default_factory=list)
    range: Interval[int] | None = None

    def allows(self, value: int) -> bool:
        if self.list and value not in self.list:
            return False
        return self.range is None or self.range.contains(value)


@dataclass(slots=True, eq=True)
class CReal(CPrimitive):
    list: list[float] = field(default_factory=list)
    range: Interval[float] | None = None

    def allows(self, value: float) -> bool:
        if self.list and value not in self.list:
            return False
        return self.range is None or self.range.contains(value)


@dataclass(slots=True, eq=True)
class CBoolean(CPrimitive):
    true_valid: bool = True
    false_valid: bool = True


@dataclass(slots=True, eq=True)
class CDate(CPrimitive):
    """``pattern`` is the ISO 8601 mask (``YYYY-MM-??``); ``range`` holds ISO strings."""

    pattern: str | None = None
    range: Interval[str] | None = None
    list: list[str] = field(default_factory=list)


@dataclass(slots=True, eq=True)
class CTime(CPrimitive):
    pattern: str | None = None
    range: Interval[str] | None = None
    list: list[str] = field(default_factory=list)


@dataclass(slots=True, eq=True)
class CDateTime(CPrimitive):
    pattern: str | None = None
    range: Interval[str] | None = None
    list: list[str] = field(default_factory=list)


@dataclass(slots=True, eq=True)
class CDuration(CPrimitive):
    """``pattern`` lists the allowed fields (``PYMWD``/``PTHMS`` style); ``range`` holds ISO duration strings."""

    pattern: str | None = None
    range: Interval[str] | None = None
    list: list[str] = field(default_factory=list)


@dataclass(slots=True, eq=True)
class CPrimitiveObject(CObject):
    """Wraps a primitive constraint so it can stand as the child of an attribute."""

    item: CPrimitive | None = None


# --- domain types (openEHR archetype profile) ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CQuantityItem:
    units: str
    magnitude: Interval[float] | None = None
    precision: Interval[int] | None = None


@dataclass(slots=True, eq=True)
class CDvQuantity(CObject):
    property: CodePhrase | None = None
    list: list[CQuantityItem] = field(default_factory=list)
    assumed_value: Any = None

    def item_for(self, units: str) -> CQuantityItem | None:
        for item in self.list:
            if item.units == units:
                return item
        return None


@dataclass(frozen=True, slots=True)
class OrdinalItem:
    #: integral in the RM; a few real archetypes use decimals (harris_hip), which we keep
    value: int | float
    symbol: CodePhrase


@dataclass(slots=True, eq=True)
class CDvOrdinal(CObject):
    list: list[OrdinalItem] = field(default_factory=list)
    assumed_value: int | None = None


@dataclass(slots=True, eq=True)
class CCodePhrase(CObject):
    """Codes from one terminology; an empty ``code_list`` means any code of ``terminology_id``."""

    terminology_id: str | None = None
    code_list: list[str] = field(default_factory=list)
    assumed_value: str | None = None
    #: ``C_CODE_REFERENCE`` (OPT extension of C_CODE_PHRASE): the URI of an external value set
    reference_set_uri: str | None = None


@dataclass(frozen=True, slots=True)
class ScaleItem:
    """One DV_SCALE choice: a real-valued score and its coded symbol (RM 1.1.0)."""

    value: float
    symbol: CodePhrase


@dataclass(slots=True, eq=True)
class CDvScale(CObject):
    """``C_DV_SCALE``: like C_DV_ORDINAL with real values (DV_SCALE, RM 1.1.0; emitted by newer tooling)."""

    list: list[ScaleItem] = field(default_factory=list)
    assumed_value: float | None = None


@dataclass(slots=True, eq=True)
class CDvState(CObject):
    """A state machine constraint (rare); kept as parsed."""

    value: Any = None


# ---------------------------------------------------------------------------------------------------------------
# Paths and walking

_SEGMENT_RE = re.compile(r"/([A-Za-z_][A-Za-z0-9_]*)(?:\[([^\]]*)\])?")


def split_path(path: str) -> list[tuple[str, str | None]]:
    """Split ``/data[at0001]/events[at0006]`` into ``[("data", "at0001"), ("events", "at0006")]``.

    Predicates are kept whole (``at0001 and name/value='x'``); ``/`` alone is the root (empty list).
    """
    if path in ("", "/"):
        return []
    out: list[tuple[str, str | None]] = []
    pos = 0
    while pos < len(path):
        m = _SEGMENT_RE.match(path, pos)
        if not m:
            raise ValueError(f"malformed path {path!r} at character {pos + 1}")
        out.append((m.group(1), m.group(2)))
        pos = m.end()
    return out


def _predicate_parts(predicate: str) -> tuple[str, str | None]:
    """``at0001 and name/value='x'`` -> (``at0001``, ``x``); ``at0001, 'x'`` -> (``at0001``, ``x``)."""
    m = re.match(r"\s*([^\s,]+)\s*(?:(?:,|and)\s*(?:name/value\s*=\s*)?'((?:[^'\\]|\\.)*)')?\s*$", predicate)
    if not m:
        return predicate.strip(), None
    return m.group(1), m.group(2)


def node_predicate(node: CObject) -> str | None:
    if isinstance(node, CArchetypeRoot) and node.archetype_id:
        return node.archetype_id
    return node.node_id


@dataclass(frozen=True, slots=True)
class NodeInfo:
    """One node of a constraint tree met during a walk."""

    path: str
    node: CObject
    #: the archetype root (or the archetype's own terminology) in force for this node's codes
    terminology: Terminology | None
    archetype_id: str | None
    depth: int

    @property
    def rm_type(self) -> str:
        return self.node.rm_type_name

    @property
    def node_id(self) -> str | None:
        return self.node.node_id

    @property
    def occurrences(self) -> Interval[int] | None:
        return self.node.occurrences

    def text(self, language: str | None = None) -> str | None:
        if self.terminology is None or not self.node.node_id:
            return None
        return self.terminology.text(self.node.node_id, language)


def iter_nodes(
    root: CObject,
    terminology: Terminology | None = None,
    archetype_id: str | None = None,
    path: str = "/",
    depth: int = 0,
) -> Iterator[NodeInfo]:
    """Every object node under ``root`` (itself first), with its AQL-style path and the terminology in force."""
    if isinstance(root, CArchetypeRoot) and root.terminology is not None:
        terminology, archetype_id = root.terminology, root.archetype_id
    yield NodeInfo(path, root, terminology, archetype_id, depth)
    if not isinstance(root, CComplexObject):
        return
    base = "" if path == "/" else path
    for attr in root.attributes:
        for child in attr.children:
            pred = node_predicate(child)
            child_path = f"{base}/{attr.rm_attribute_name}" + (f"[{pred}]" if pred else "")
            yield from iter_nodes(child, terminology, archetype_id, child_path, depth + 1)


def find_node(root: CObject, path: str) -> CObject | None:
    """The node at an AQL-style path; name predicates pick among siblings that share a node id."""
    node: CObject = root
    for attr_name, predicate in split_path(path):
        if not isinstance(node, CComplexObject):
            return None
        attr = node.attribute(attr_name)
        if attr is None:
            return None
        if predicate is None:
            if not attr.children:
                return None
            node = attr.children[0]
            continue
        node_id, name = _predicate_parts(predicate)
        candidates = [c for c in attr.children if node_predicate(c) == node_id or c.node_id == node_id]
        if not candidates:
            return None
        if name is not None and len(candidates) > 1:
            named = [c for c in candidates if _name_of(c) == name]
            candidates = named or candidates
        node = candidates[0]
    return node


def _name_of(node: CObject) -> str | None:
    """The fixed name a node constrains (``name/value`` with a single-string C_STRING), if any."""
    if not isinstance(node, CComplexObject):
        return None
    name_attr = node.attribute("name")
    if not name_attr or not name_attr.children:
        return None
    name_obj = name_attr.children[0]
    if isinstance(name_obj, CComplexObject):
        value_attr = name_obj.attribute("value")
        if value_attr and value_attr.children:
            prim = value_attr.children[0]
            if isinstance(prim, CPrimitiveObject) and isinstance(prim.item, CString) and len(prim.item.list) == 1:
                return prim.item.list[0]
    return None


# ---------------------------------------------------------------------------------------------------------------
# The archetype


@dataclass(slots=True, eq=True)
class Archetype:
    """A parsed ADL 1.4 archetype.

    ``language``, ``description``, ``annotations`` and ``revision_history`` keep the ODIN content as parsed
    (dicts, lists, scalars, CodePhrase and Interval values); the definition and ontology are typed.
    """

    archetype_id: str
    concept: str
    definition: CComplexObject
    ontology: Terminology
    adl_version: str | None = None
    uid: str | None = None
    parent_archetype_id: str | None = None
    is_controlled: bool = False
    is_generated: bool = False
    language: dict[str, Any] = field(default_factory=dict)
    description: dict[str, Any] = field(default_factory=dict)
    invariants: list[str] = field(default_factory=list)
    annotations: dict[str, Any] = field(default_factory=dict)
    revision_history: Any = None
    source: str | None = None

    @property
    def original_language(self) -> str:
        return self.ontology.original_language

    @property
    def translations(self) -> list[str]:
        tr = self.language.get("translations") if isinstance(self.language, dict) else None
        return list(tr) if isinstance(tr, dict) else []

    @property
    def rm_type(self) -> str:
        return self.definition.rm_type_name

    @property
    def is_specialised(self) -> bool:
        return self.parent_archetype_id is not None

    def node_at(self, path: str) -> CObject | None:
        return find_node(self.definition, path)

    def iter_nodes(self) -> Iterator[NodeInfo]:
        return iter_nodes(self.definition, self.ontology, self.archetype_id)

    def term_text(self, code: str, language: str | None = None) -> str | None:
        return self.ontology.text(code, language)
