"""Example compositions built from an operational template: minimal, maximal and random (hypothesis) ones.

One builder walks the template's definition and makes an RM object tree (``RMObject``) that the template allows.
What it includes and which values it picks is left to a *policy*:

* minimal: only what the template or the RM requires (occurrences lower bound, existence 1..1, RM-mandatory
  attributes, cardinality lower bounds), the first alternative of every choice and a canonical value per leaf;
* maximal: every optional node once as well (still the first alternative of each choice);
* random: hypothesis draws decide which optional nodes appear, how often (within bounds, at most 3), which
  alternative and which values.

Values always respect the template (code lists, units and magnitude ranges, precision, ISO 8601 masks, duration
fields and ranges, string lists and patterns) and the RM rules (composition category and setting from the openEHR
terminology, ELEMENT value or null_flavour, ISM state with a transition that leads into it, EVENT times not
before the HISTORY origin). Deterministic builds use fixed identifiers and times so output is reproducible.

The builder also records a *trace*: for each RM object it made, the template path and constraint it came from and
its parent, which :mod:`openehr_kit.examples.mutations` uses to break a composition in one precise place.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from openehr_kit.am.model import (
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
    CInteger,
    CObject,
    ConstraintRef,
    CPrimitive,
    CPrimitiveObject,
    CReal,
    CString,
    CTime,
    Interval,
    Terminology,
)
from openehr_kit.examples import values as V
from openehr_kit.opt.model import OperationalTemplate
from openehr_kit.rm import schema
from openehr_kit.rm.instance import RMObject, base_type

T = TypeVar("T")

#: fixed identifiers of deterministic examples
COMPOSITION_UID = "8d6a5bde-3f2c-4c1e-9f0a-6b7e2d4c1a90::openehr-kit.example::1"
DEFAULT_TERRITORY = "NO"
DEFAULT_LANGUAGE = "en"
COMPOSER_NAME = "Example Composer"

#: concrete RM types used where the template names an abstract one
_CONCRETE = {
    "EVENT": "POINT_EVENT",
    "ITEM_STRUCTURE": "ITEM_TREE",
    "ITEM": "ELEMENT",
    "PARTY_PROXY": "PARTY_IDENTIFIED",
    "DATA_VALUE": "DV_TEXT",
    "DV_ORDERED": "DV_COUNT",
    "DV_QUANTIFIED": "DV_QUANTITY",
    "DV_AMOUNT": "DV_QUANTITY",
    "DV_ABSOLUTE_QUANTITY": "DV_DATE_TIME",
    "DV_TEMPORAL": "DV_DATE_TIME",
    "DV_ENCAPSULATED": "DV_PARSABLE",
    "DV_URI": "DV_URI",
    "UID_BASED_ID": "HIER_OBJECT_ID",
    "OBJECT_ID": "HIER_OBJECT_ID",
    "CONTENT_ITEM": "SECTION",
    "ENTRY": "ADMIN_ENTRY",
    "CARE_ENTRY": "EVALUATION",
}

_LOCATABLE_CACHE: dict[str, bool] = {}


def _is_locatable(rm_type: str) -> bool:
    got = _LOCATABLE_CACHE.get(rm_type)
    if got is None:
        got = _LOCATABLE_CACHE[rm_type] = bool(schema.is_subtype(rm_type, "LOCATABLE"))
    return got


def _concrete(rm_type: str) -> str:
    base = base_type(rm_type)
    if base in _CONCRETE:
        return _CONCRETE[base]
    t = schema.rm_type(base)
    if t is not None and t.abstract:
        subs = schema.concrete_subtypes(base)
        if subs:
            return subs[0]
    return base


def _interval_arg(rm_type: str) -> str | None:
    """``DV_INTERVAL<DV_COUNT>`` -> ``DV_COUNT``."""
    if "<" in rm_type and rm_type.endswith(">"):
        return rm_type[rm_type.index("<") + 1:-1].strip()
    return None


def _prim(node: CObject | None, attr: str) -> CPrimitive | None:
    """The primitive constraint on ``node.attr`` (``DV_COUNT.magnitude matches {0..10}``), if any."""
    if not isinstance(node, CComplexObject):
        return None
    a = node.attribute(attr)
    if a is None:
        return None
    for child in a.children:
        if isinstance(child, CPrimitiveObject):
            return child.item
    return None


def _child(node: CObject | None, attr: str) -> CObject | None:
    if not isinstance(node, CComplexObject):
        return None
    a = node.attribute(attr)
    if a is None or not a.children:
        return None
    for c in a.children:
        if not isinstance(c, ArchetypeSlot):
            return c
    return None


# ---------------------------------------------------------------------------------------------------------------
# Policies: who decides what to include and which value to take


class _Fixed:
    """Deterministic choices: minimal (nothing optional) or maximal (every optional node once)."""

    random = False

    def __init__(self, maximal: bool) -> None:
        self.maximal = maximal

    def include(self) -> bool:
        return self.maximal

    def count(self, lo: int, hi: int | None) -> int:
        if not self.maximal:
            return lo
        n = max(lo, 1)
        return n if hi is None or n <= hi else hi

    def pick(self, options: Sequence[T]) -> T:
        return options[0]

    def draw(self, strategy: Any, default: T) -> T:
        return default

    def null_flavour(self) -> bool:
        return False


class _Random:
    """Choices drawn by hypothesis (``draw`` from a ``@composite`` strategy)."""

    random = True

    def __init__(self, draw: Callable[[Any], Any]) -> None:
        self._draw = draw
        from hypothesis import strategies as st  # imported here: the library works without hypothesis

        self.st = st

    def include(self) -> bool:
        return bool(self._draw(self.st.booleans()))

    def count(self, lo: int, hi: int | None) -> int:
        top = max(lo, 3) if hi is None else min(hi, max(lo, 3))
        return lo if top <= lo else int(self._draw(self.st.integers(lo, top)))

    def pick(self, options: Sequence[T]) -> T:
        if len(options) == 1:
            return options[0]
        return self._draw(self.st.sampled_from(list(options)))

    def draw(self, strategy: Any, default: T) -> T:
        return self._draw(strategy)

    def null_flavour(self) -> bool:
        # now and then an ELEMENT without value: the RM allows it when a null_flavour says why
        return int(self._draw(self.st.integers(0, 9))) == 0


# ---------------------------------------------------------------------------------------------------------------
# The trace


@dataclass(slots=True, eq=False)
class TraceEntry:
    """Where one generated RM object comes from."""

    #: template path (AQL form) of the constraint node, or of the RM attribute for unconstrained defaults
    path: str
    #: the constraint object it was built from (None: an RM default no template node constrains)
    constraint: CObject | None
    #: the RM object holding it, and under which attribute (None for the composition)
    parent: RMObject | None = None
    attribute: str | None = None
    #: the terminology in force (local codes resolve here)
    terminology: Terminology | None = None


@dataclass(slots=True, eq=False)
class Trace:
    """id(RM object) -> TraceEntry for every object the builder made."""

    entries: dict[int, TraceEntry] = field(default_factory=dict)

    def of(self, obj: RMObject) -> TraceEntry | None:
        return self.entries.get(id(obj))

    def copy_with(self, memo: dict[int, Any]) -> Trace:
        """The trace of a deep copy made with ``memo`` (``copy.deepcopy(obj, memo)``)."""
        out = Trace()
        for key, entry in self.entries.items():
            new = memo.get(key)
            if new is None:
                continue
            parent = memo.get(id(entry.parent)) if entry.parent is not None else None
            out.entries[id(new)] = TraceEntry(entry.path, entry.constraint, parent, entry.attribute,
                                              entry.terminology)
        return out


def clone(comp: RMObject, trace: Trace) -> tuple[RMObject, Trace]:
    """A deep copy of a composition together with its trace (constraints are shared, not copied)."""
    memo: dict[int, Any] = {}
    new = copy.deepcopy(comp, memo)
    return new, trace.copy_with(memo)


# ---------------------------------------------------------------------------------------------------------------
# The builder


def _obj(rm_type: str, **attrs: Any) -> RMObject:
    return RMObject(rm_type, {k: v for k, v in attrs.items() if v is not None})


def _code_phrase(terminology: str, code: str) -> RMObject:
    return _obj("CODE_PHRASE", terminology_id=_obj("TERMINOLOGY_ID", value=terminology), code_string=code)


def _coded(value: str, terminology: str, code: str) -> RMObject:
    return _obj("DV_CODED_TEXT", value=value, defining_code=_code_phrase(terminology, code))


class _Builder:
    def __init__(self, template: OperationalTemplate, policy: _Fixed | _Random, language: str | None) -> None:
        self.t = template
        self.p = policy
        self.lang = language or template.language or DEFAULT_LANGUAGE
        self.trace = Trace()
        self.base_time = V.BASE_TIME
        self.uid = COMPOSITION_UID
        if policy.random:
            st = policy.st  # type: ignore[union-attr]
            naive = policy.draw(st.datetimes(datetime(2000, 1, 1), datetime(2030, 12, 31)), V.BASE_TIME)
            offset = policy.draw(st.sampled_from([0, 60, -180, 330]), 60)
            self.base_time = naive.replace(microsecond=0, tzinfo=timezone(timedelta(minutes=offset)))
            uuid = policy.draw(st.uuids(), None)
            self.uid = f"{uuid}::openehr-kit.example::1"
        #: the HISTORY origin in force while its events are built
        self.origin: datetime = self.base_time
        self.category_code: str | None = None
        self._fillable: dict[int, bool] = {}

    # --- entry point ------------------------------------------------------------------------------------------

    def build(self) -> RMObject:
        comp = self.complex(self.t.definition, None)
        return comp

    # --- tracing ----------------------------------------------------------------------------------------------

    def _record(self, obj: Any, path: str, constraint: CObject | None, terminology: Terminology | None) -> None:
        if isinstance(obj, RMObject) and id(obj) not in self.trace.entries:
            self.trace.entries[id(obj)] = TraceEntry(path, constraint, terminology=terminology)

    def _adopt(self, parent: RMObject, parent_path: str, terminology: Terminology | None) -> None:
        """Link every direct child of ``parent`` to it; untraced children get the attribute's path."""
        for attr, _i, child in parent.children():
            entry = self.trace.entries.get(id(child))
            if entry is None:
                base = parent_path.rstrip("/")
                entry = self.trace.entries[id(child)] = TraceEntry(f"{base}/{attr}", None, terminology=terminology)
                self._adopt(child, entry.path, terminology)
            if entry.parent is None:
                entry.parent, entry.attribute = parent, attr

    def _path(self, node: CObject, fallback: str) -> str:
        info = self.t.info_of(node)
        return info.path if info is not None else fallback

    def _terminology(self, node: CObject, fallback: Terminology | None) -> Terminology | None:
        info = self.t.info_of(node)
        if info is not None and info.terminology is not None:
            return info.terminology
        return fallback

    # --- objects ----------------------------------------------------------------------------------------------

    def object(self, node: CObject, path: str, term: Terminology | None, owner: CObject | None = None) -> Any:
        """The RM value for one constraint object (an RMObject, or a primitive for CPrimitiveObject)."""
        path = self._path(node, path)
        term = self._terminology(node, term)
        if isinstance(node, CPrimitiveObject):
            return self.primitive(node.item, node.rm_type_name)
        if isinstance(node, (CCodePhrase, ConstraintRef)):
            out = self.code_phrase(node, term, owner)
        elif isinstance(node, CDvQuantity):
            out = self.dv_quantity(node)
        elif isinstance(node, CDvOrdinal):
            out = self.dv_ordinal(node, term, scale=False)
        elif isinstance(node, CDvScale):
            out = self.dv_ordinal(node, term, scale=True)
        elif isinstance(node, CComplexObject):
            rm = node.rm_type_name
            if rm.startswith("DV_") or rm == "DATA_VALUE":
                out = self.data_value(rm, node, term, owner, path)
            else:
                out = self.complex(node, term)
        else:
            out = self.default_value(node.rm_type_name, term, owner)
        self._record(out, path, node, term)
        if isinstance(out, RMObject):
            self._adopt(out, path, term)
        return out

    def complex(self, node: CComplexObject, term: Terminology | None) -> RMObject:
        """A LOCATABLE or other non-data-value RM object constrained by ``node``."""
        info = self.t.info_of(node)
        path = info.path if info is not None else "/"
        if isinstance(node, CArchetypeRoot) and node.terminology is not None:
            term = node.terminology
        elif info is not None and info.terminology is not None:
            term = info.terminology
        rm = self._choose_type(node)
        rm_t = schema.rm_type(rm)
        attrs: dict[str, Any] = {}
        if _is_locatable(rm):
            is_root = isinstance(node, CArchetypeRoot) and bool(node.archetype_id)
            attrs["archetype_node_id"] = node.archetype_id if is_root else (node.node_id or "at0000")
            attrs["name"] = self.name(node, term, is_root)
            if rm == "COMPOSITION":
                attrs["uid"] = _obj("OBJECT_VERSION_ID", value=self.uid)
            if is_root:
                attrs["archetype_details"] = _obj(
                    "ARCHETYPED",
                    archetype_id=_obj("ARCHETYPE_ID", value=node.archetype_id),
                    template_id=_obj("TEMPLATE_ID", value=self.t.template_id),
                    rm_version=schema.RM_VERSION,
                )
        if rm in ("HISTORY",):
            self.origin = self._pick_origin()
        handled = set(attrs)
        names = [n for n, a in (rm_t.attributes.items() if rm_t else []) if not a.is_computed and not a.is_system]
        for name in names:
            if name in handled:
                continue
            rm_attr = schema.attribute(rm, name)
            cattr = node.attribute(name)
            value = self.attribute(node, rm, name, cattr, rm_attr, term, attrs, path)
            if value is not None and value != []:
                attrs[name] = value
        obj = RMObject(rm, attrs)
        self._finish(obj, node, term)
        self._record(obj, path, node, term)
        self._adopt(obj, path, term)
        return obj

    def _choose_type(self, node: CComplexObject) -> str:
        rm = node.rm_type_name
        if rm == "EVENT":
            # an EVENT constraint that names interval attributes wants an INTERVAL_EVENT
            if node.attribute("width") is not None or node.attribute("math_function") is not None:
                return "INTERVAL_EVENT"
            return self.p.pick(["POINT_EVENT", "INTERVAL_EVENT"])
        return _concrete(rm)

    def _pick_origin(self) -> datetime:
        if not self.p.random:
            return self.base_time
        st = self.p.st  # type: ignore[union-attr]
        minutes = self.p.draw(st.integers(0, 60 * 24 * 30), 0)
        return self.base_time + timedelta(minutes=minutes)

    # --- attributes -------------------------------------------------------------------------------------------

    def attribute(
        self,
        node: CComplexObject,
        rm: str,
        name: str,
        cattr: CAttribute | None,
        rm_attr: schema.RmAttribute | None,
        term: Terminology | None,
        so_far: dict[str, Any],
        path: str,
    ) -> Any:
        """The value of one attribute of ``node`` (None: leave it out)."""
        mandatory = bool(rm_attr is not None and rm_attr.mandatory)
        attr_path = f"{path.rstrip('/')}/{name}"
        special = self._special(rm, name, node, cattr, term, so_far, path)
        if special is not _NOT_SPECIAL:
            return special
        if cattr is not None and cattr.existence is not None and cattr.existence.upper == 0:
            return None
        children = [c for c in (cattr.children if cattr is not None else []) if not isinstance(c, ArchetypeSlot)]
        children = [c for c in children if (c.occurrences is None or c.occurrences.upper != 0) and self.fillable(c)]
        required = mandatory or bool(cattr is not None and cattr.existence is not None and cattr.existence.lower)
        if (cattr is not None and cattr.is_multiple) or (rm_attr is not None and rm_attr.is_container):
            if not children:
                if cattr is None and (mandatory or (node.any_allowed and name in ("items", "rows"))):
                    # an open structure (``CLUSTER matches {*}``): one default item keeps it meaningful
                    item_type = rm_attr.type_name if rm_attr is not None else "ELEMENT"
                    return [self.default_value(item_type, term, node)]
                if cattr is not None and any(isinstance(c, ArchetypeSlot) for c in cattr.children):
                    # only slots: container() fills one as a last resort where items are needed
                    return self.container(node, name, cattr, [], term, required, attr_path) or None
                return None
            return self.container(node, name, cattr, children, term, required, attr_path)
        if not children:
            if not required:
                return None
            return self.rm_default(rm, name, rm_attr, node, term, so_far)
        if not required and not self.p.include():
            return None
        return self.object(self.p.pick(children), attr_path, term, node)

    def container(
        self,
        owner: CComplexObject,
        name: str,
        cattr: CAttribute | None,
        children: list[CObject],
        term: Terminology | None,
        required: bool,
        attr_path: str,
    ) -> list[Any]:
        """Items of a container attribute: each child within its occurrences, the list within the cardinality."""
        card = cattr.cardinality.interval if cattr is not None and cattr.cardinality is not None else None
        card_hi = card.upper if card is not None else None
        need = card.lower if card is not None and card.lower else 0
        rm_attr = schema.attribute(owner.rm_type_name, name)
        # (an RM "non-empty if present" container, like COMPOSITION.content, may still be left out altogether)
        if required or owner.rm_type_name in _NON_EMPTY:
            # item structures are never left empty: an EVENT or ENTRY with empty data says nothing
            need = max(need, 1)
        # siblings the template cannot tell apart (same node id, no distinguishing name): use the first only
        seen: set[str] = set()
        distinct: list[CObject] = []
        for c in children:
            key = self._path(c, attr_path) if (c.node_id or isinstance(c, CArchetypeRoot)) else f"#{id(c)}"
            if key in seen:
                continue
            seen.add(key)
            distinct.append(c)
        counts: list[int] = []
        total = 0
        for c in distinct:
            lo = c.occurrences.lower if c.occurrences is not None and c.occurrences.lower is not None else 0
            hi = c.occurrences.upper if c.occurrences is not None else None
            n = self.p.count(lo, hi)
            if card_hi is not None:
                n = max(lo, min(n, card_hi - total))
            counts.append(n)
            total += n
        # not enough items for the cardinality (or the RM's non-empty rule): add the first children that may repeat
        if total < need:
            for i, c in enumerate(distinct):
                hi = c.occurrences.upper if c.occurrences is not None else None
                while total < need and (hi is None or counts[i] < hi):
                    counts[i] += 1
                    total += 1
                if total >= need:
                    break
        items: list[Any] = []
        for c, n in zip(distinct, counts):
            for _ in range(n):
                items.append(self.object(c, attr_path, term, owner))
        if not items and need and cattr is not None:
            # nothing the template describes can go here, yet something must: fill a slot as a last resort (the
            # validator notes an undescribed slot filling as a warning, never as an error)
            slots = [c for c in cattr.children if isinstance(c, ArchetypeSlot)
                     and (c.occurrences is None or c.occurrences.upper != 0)]
            if slots:
                items.append(self.slot_filler(slots[0], attr_path, term))
        return items

    def slot_filler(self, slot: ArchetypeSlot, attr_path: str, term: Terminology | None) -> RMObject:
        """An archetype root the slot's include patterns allow, with default content."""
        rm = _concrete(slot.rm_type_name)
        aid = None
        for inc in slot.includes:
            if inc.pattern:
                cand = V.regex_example(inc.pattern)
                if cand and slot.allows(cand):
                    aid = cand
                    break
        aid = aid or f"openEHR-EHR-{rm}.example.v1"
        obj = self.default_value(rm, term, slot)
        obj.attrs["archetype_node_id"] = aid
        obj.attrs["name"] = _obj("DV_TEXT", value=aid.split(".")[1] if aid.count(".") >= 2 else aid)
        obj.attrs["archetype_details"] = _obj(
            "ARCHETYPED", archetype_id=_obj("ARCHETYPE_ID", value=aid),
            template_id=_obj("TEMPLATE_ID", value=self.t.template_id), rm_version=schema.RM_VERSION)
        _reorder(obj, schema.rm_type(rm))
        self._record(obj, self._path(slot, attr_path), slot, term)
        self._adopt(obj, self._path(slot, attr_path), term)
        return obj

    # --- RM-specific attributes -------------------------------------------------------------------------------

    def _special(
        self,
        rm: str,
        name: str,
        node: CComplexObject,
        cattr: CAttribute | None,
        term: Terminology | None,
        so_far: dict[str, Any],
        path: str,
    ) -> Any:
        """Attributes the RM gives rules beyond the template's (timing, ISM, ELEMENT value)."""
        attr_path = f"{path.rstrip('/')}/{name}"
        constrained = cattr is not None and any(not isinstance(c, ArchetypeSlot) for c in cattr.children)
        if rm == "COMPOSITION":
            if name == "language":
                return _code_phrase("ISO_639-1", self.lang)
            if name == "territory":
                return _code_phrase("ISO_3166-1", DEFAULT_TERRITORY)
            if name == "composer" and not constrained:
                return _obj("PARTY_IDENTIFIED", name=COMPOSER_NAME)
            if name == "category":
                value = (self.object(self.p.pick(self._alts(cattr)), attr_path, term, node) if constrained
                         else _coded(V.openehr_rubric("433", self.lang), "openehr", "433"))
                self.category_code = _code_of(value)
                return value
            if name == "context":
                # persistent compositions carry no context unless the template asks for one
                persistent = self.category_code == "431"
                required = cattr is not None and cattr.existence is not None and bool(cattr.existence.lower)
                if persistent and not required:
                    # RM invariant Is_persistent_validity: a persistent composition has no context
                    return None
                if constrained and self._alts(cattr):
                    return self.object(self.p.pick(self._alts(cattr)), attr_path, term, node)
                if persistent:
                    return None
                return self.default_value("EVENT_CONTEXT", term, node)
        if rm in ("OBSERVATION", "EVALUATION", "INSTRUCTION", "ACTION", "ADMIN_ENTRY"):
            if name == "language":
                return _code_phrase("ISO_639-1", self.lang)
            if name == "encoding":
                return _code_phrase("IANA_character-sets", "UTF-8")
            if name == "subject" and not constrained:
                return _obj("PARTY_SELF")
        if rm == "EVENT_CONTEXT" and name == "start_time":
            return self._temporal_at(cattr, self.base_time, "DV_DATE_TIME")
        if rm == "EVENT_CONTEXT" and name == "setting" and not constrained:
            return _coded(V.openehr_rubric("238", self.lang), "openehr", "238")
        if rm == "HISTORY" and name == "origin":
            return self._temporal_at(cattr, self.origin, "DV_DATE_TIME")
        if rm in ("POINT_EVENT", "INTERVAL_EVENT") and name == "time":
            return None  # set in _finish once the width is known
        if rm == "INTERVAL_EVENT" and name in ("width", "math_function") and not constrained:
            return None  # RM defaults from _finish (openEHR math function, a width)
        if rm == "ACTION" and name == "time":
            return self._temporal_at(cattr, self.base_time, "DV_DATE_TIME")
        if rm == "ISM_TRANSITION":
            if name == "current_state" and not constrained:
                return _coded(V.openehr_rubric("532", self.lang), "openehr", "532")
            if name == "transition":
                return None  # set in _finish, consistent with the current state
            if name == "careflow_step" and constrained and self._alts(cattr):
                # the careflow step tells same-typed ISM_TRANSITION alternatives (by node id) apart: give it
                # whenever the alternative has a node id to be told apart by
                required = cattr is not None and cattr.existence is not None and bool(cattr.existence.lower)
                if node.node_id or required or self.p.include():
                    return self.object(self.p.pick(self._alts(cattr)), attr_path, term, node)
                return None
        if rm == "ELEMENT":
            if name == "value":
                return self._element_value(node, cattr, term, attr_path)
            if name == "null_flavour":
                return None  # decided together with the value
        return _NOT_SPECIAL

    def _alts(self, cattr: CAttribute | None) -> list[CObject]:
        if cattr is None:
            return []
        return [c for c in cattr.children if not isinstance(c, ArchetypeSlot)
                and (c.occurrences is None or c.occurrences.upper != 0) and self.fillable(c)]

    def fillable(self, node: CObject) -> bool:
        """Whether a valid instance of ``node`` can be built: every container the RM or the template requires to
        be non-empty offers a fillable child (a CLUSTER whose items are all unfilled slots cannot be)."""
        got = self._fillable.get(id(node))
        if got is not None:
            return got
        self._fillable[id(node)] = True  # cycles cannot occur in an OPT, but be safe
        ok = True
        if isinstance(node, CComplexObject) and base_type(node.rm_type_name) == "DV_INTERVAL":
            # bounds the template types differently (DV_DATE lower, DV_DATE_TIME upper) cannot be compared
            lo, hi = _child(node, "lower"), _child(node, "upper")
            arg = _interval_arg(node.rm_type_name)
            types = {base_type(c.rm_type_name) for c in (lo, hi) if c is not None} | ({arg} if arg else set())
            ok = len(types) <= 1
        elif isinstance(node, CComplexObject) and not isinstance(node, (CDvQuantity, CDvOrdinal, CDvScale)):
            rm = _concrete(node.rm_type_name)
            for a in node.attributes:
                rm_attr = schema.attribute(rm, a.rm_attribute_name)
                if rm_attr is None or not (a.is_multiple or rm_attr.is_container):
                    continue
                card_lo = a.cardinality.interval.lower if a.cardinality is not None else 0
                need = bool(rm_attr.mandatory or (a.existence is not None and a.existence.lower) or card_lo)
                if not need:
                    continue
                kids = [c for c in a.children if not isinstance(c, ArchetypeSlot)
                        and (c.occurrences is None or c.occurrences.upper != 0)]
                slots = [c for c in a.children if isinstance(c, ArchetypeSlot)
                         and (c.occurrences is None or c.occurrences.upper != 0)]
                if not any(self.fillable(c) for c in kids) and not slots:
                    ok = False
                    break
        self._fillable[id(node)] = ok
        return ok

    def _element_value(self, node: CComplexObject, cattr: CAttribute | None, term: Terminology | None,
                       attr_path: str) -> Any:
        alts = self._alts(cattr)
        value_required = cattr is not None and cattr.existence is not None and bool(cattr.existence.lower)
        forbidden = cattr is not None and cattr.existence is not None and cattr.existence.upper == 0
        # constrained, but no alternative can be built (only slots, or self-contradictory): say why with null_flavour
        unbuildable = cattr is not None and bool(cattr.children) and not alts
        if forbidden or unbuildable or (not value_required and self.p.null_flavour()):
            return None  # _finish adds the null_flavour
        if not alts:
            return self.data_value("DV_TEXT", None, term, node, attr_path)
        return self.object(self.p.pick(alts), attr_path, term, node)

    def _temporal_at(self, cattr: CAttribute | None, moment: datetime, rm: str) -> RMObject:
        """A DV_DATE_TIME for an RM time attribute: ``moment``, in the template's mask if it constrains one."""
        node = self._alts(cattr)[0] if cattr is not None and self._alts(cattr) else None
        item = _prim(node, "value")
        mask = item.pattern if isinstance(item, (CDateTime, CDate, CTime)) else None
        kind = {"DV_DATE": "date", "DV_TIME": "time"}.get(rm, "date_time")
        out = _obj(rm, value=V.format_temporal(moment, kind, mask))
        if node is not None:
            self._record(out, self._path(node, ""), node, None)
        return out

    def _finish(self, obj: RMObject, node: CComplexObject, term: Terminology | None) -> None:
        """Rules that tie attributes together, applied once the object's attributes exist."""
        rm = obj.rm_type
        attrs = obj.attrs
        if rm == "ELEMENT" and "value" not in attrs:
            cattr = node.attribute("null_flavour")
            alts = self._alts(cattr)
            if alts:
                attrs["null_flavour"] = self.object(self.p.pick(alts), "", term, node)
            else:
                code = self.p.pick(list(V.NULL_FLAVOURS))
                attrs["null_flavour"] = _coded(V.openehr_rubric(code, self.lang), "openehr", code)
        elif rm in ("POINT_EVENT", "INTERVAL_EVENT"):
            offset = timedelta(0)
            if self.p.random:
                offset = timedelta(minutes=self.p.draw(self.p.st.integers(0, 60 * 24 * 7), 0))  # type: ignore
            if rm == "INTERVAL_EVENT":
                if "width" not in attrs:
                    attrs["width"] = _obj("DV_DURATION", value="PT1H")
                if "math_function" not in attrs:
                    code = self.p.pick(list(V.MATH_FUNCTIONS))
                    attrs["math_function"] = _coded(V.openehr_rubric(code, self.lang), "openehr", code)
                # the interval [time - width, time] must start at or after the origin
                width = V.duration_seconds(attrs["width"].attrs.get("value", "PT0S")) or 0.0
                offset += timedelta(seconds=width * 1.01 + 60)
            time_attr = node.attribute("time")
            attrs["time"] = self._temporal_at(time_attr, self.origin + offset, "DV_DATE_TIME")
            _reorder(obj, schema.rm_type(rm))
        elif rm == "ISM_TRANSITION":
            state = _code_of(attrs.get("current_state"))
            cattr = node.attribute("transition")
            alts = self._alts(cattr)
            wanted = V.TRANSITIONS_INTO.get(state or "", ())
            if alts:
                transition = self.object(self.p.pick(alts), "", term, node)
                if wanted and _code_of(transition) not in wanted:
                    # the template's code list: prefer one that leads into the current state
                    cp = _child(alts[0], "defining_code")
                    codes = [c for c in (cp.code_list if isinstance(cp, CCodePhrase) else []) if c in wanted]
                    if codes:
                        code = self.p.pick(codes)
                        transition = _coded(V.openehr_rubric(code, self.lang), "openehr", code)
                attrs["transition"] = transition
            elif wanted:
                code = self.p.pick(list(wanted)) if self.p.random else wanted[0]
                attrs["transition"] = _coded(V.openehr_rubric(code, self.lang), "openehr", code)
            _reorder(obj, schema.rm_type(rm))

    # --- names --------------------------------------------------------------------------------------------------

    def name(self, node: CComplexObject, term: Terminology | None, is_root: bool) -> RMObject:
        """``name``: what the template's name constraint allows, else the node's term text."""
        code = "at0000" if is_root else node.node_id
        text = (term.text(code, self.lang) if term is not None and code else None) or code or node.rm_type_name
        cattr = node.attribute("name")
        alts = self._alts(cattr)
        if not alts:
            return _obj("DV_TEXT", value=text)
        name_node = self.p.pick(alts)
        if name_node.rm_type_name == "DV_CODED_TEXT":
            cp = _child(name_node, "defining_code")
            if isinstance(cp, CCodePhrase) and cp.code_list:
                c = self.p.pick(list(cp.code_list))
                tid = cp.terminology_id or "local"
                return _coded(self._code_text(tid, c, term), tid, c)
        item = _prim(name_node, "value")
        if isinstance(item, CString):
            return _obj("DV_TEXT", value=self.string(item, text))
        return _obj("DV_TEXT", value=text)

    # --- data values ----------------------------------------------------------------------------------------------

    def data_value(self, rm: str, node: CObject | None, term: Terminology | None, owner: CObject | None,
                   path: str) -> RMObject:
        """A DV_* value for a CComplexObject constraint (``node`` None: unconstrained)."""
        base = base_type(rm)
        if base == "DATA_VALUE":
            base = "DV_TEXT"
        if base == "DV_INTERVAL":
            return self.dv_interval(rm, node, term, owner, path)
        if base in ("DV_CODED_TEXT", "DV_STATE"):
            return getattr(self, "dv_" + base[3:].lower())(node, term, owner)
        if base in ("DV_ORDINAL", "DV_SCALE"):
            return self.dv_ordinal(node, term, scale=base == "DV_SCALE", owner=owner)
        if base in ("DV_DATE", "DV_TIME", "DV_DATE_TIME"):
            return self.dv_temporal(base, node)
        fn = getattr(self, "dv_" + base[3:].lower(), None) if base.startswith("DV_") else None
        if fn is None:
            return self.default_value(_concrete(base), term, owner) if _concrete(base) != base else _obj(
                "DV_TEXT", value="Example text")
        return fn(node)

    def dv_text(self, node: CObject | None) -> RMObject:
        item = _prim(node, "value")
        default = "Example text"
        if self.p.random:
            default = self._random_text()
        value = self.string(item, default) if isinstance(item, CString) else default
        return _obj("DV_TEXT", value=value)

    def dv_coded_text(self, node: CObject | None, term: Terminology | None, owner: CObject | None = None) -> RMObject:
        cp_node = _child(node, "defining_code")
        cp = self.code_phrase(cp_node, term, owner) if cp_node is not None else self.code_phrase(None, term, owner)
        tid = cp.attrs["terminology_id"].attrs["value"]
        code = cp.attrs["code_string"]
        if cp_node is not None:
            self._record(cp, self._path(cp_node, ""), cp_node, term)
        return _obj("DV_CODED_TEXT", value=self._code_text(tid, code, term), defining_code=cp)

    def _code_text(self, terminology_id: str, code: str, term: Terminology | None) -> str:
        if terminology_id == "openehr":
            return V.openehr_rubric(code, self.lang)
        if term is not None:
            text = term.text(code, self.lang)
            if text:
                return text
        return f"Example term {code}" if terminology_id != "local" else code

    def code_phrase(self, node: CObject | None, term: Terminology | None, owner: CObject | None) -> RMObject:
        """A CODE_PHRASE from a C_CODE_PHRASE (code list or any code of a terminology) or an external constraint."""
        if isinstance(node, ConstraintRef):
            binding = None
            if term is not None:
                for tid, refs in term.constraint_bindings.items():
                    if node.reference in refs:
                        binding = tid
                        break
            if binding:
                return _code_phrase(binding, "example-code")
            return _code_phrase("local", owner.node_id if owner is not None and owner.node_id else "at0000")
        if isinstance(node, CCodePhrase):
            tid = node.terminology_id or _terminology_from_uri(node.reference_set_uri) or "local"
            if node.code_list:
                return _code_phrase(tid, self.p.pick(list(node.code_list)))
            if tid == "local":
                # any local code: the owning node's own code is one the archetype defines
                return _code_phrase(tid, owner.node_id if owner is not None and owner.node_id else "at0000")
            if tid == "openehr":
                return _code_phrase(tid, "271")
            if tid == "IANA_media-types":
                return _code_phrase(tid, "image/png")
            return _code_phrase(tid, "12345")
        code = owner.node_id if owner is not None and owner.node_id else "at0000"
        return _code_phrase("local", code)

    def dv_quantity(self, node: CObject | None, units: str | None = None) -> RMObject:
        """``units``: use this unit when the constraint allows it (the bounds of an interval must share one)."""
        items = list(node.list) if isinstance(node, CDvQuantity) else []
        if units is not None:
            same = [i for i in items if i.units == units]
            items = same or items
            if not items:
                return _obj("DV_QUANTITY", magnitude=1.0, units=units)
        if not items:
            mag = 1.0
            if self.p.random:
                mag = self.p.draw(self.p.st.integers(-1000, 100000), 10) / 10  # type: ignore[union-attr]
            return _obj("DV_QUANTITY", magnitude=float(mag), units="1")
        item = self.p.pick(items)
        prec = item.precision
        decimals: int | None = None
        if prec is not None and prec.lower is not None and prec.lower >= 0:
            decimals = int(prec.lower) if not self.p.random or prec.upper is None else int(
                self.p.draw(self.p.st.integers(prec.lower, min(prec.upper, prec.lower + 3)), prec.lower))  # type: ignore
        mag = _pick_magnitude(item.magnitude, decimals)
        if self.p.random:
            frac = self.p.draw(self.p.st.floats(0, 1), 0.5)  # type: ignore[union-attr]
            cand = V.spread(item.magnitude, frac, integral=False, decimals=decimals if decimals is not None else 2)
            if item.magnitude is None or item.magnitude.contains(cand):
                mag = float(cand)
        return _obj("DV_QUANTITY", magnitude=float(mag), units=item.units,
                    precision=decimals if decimals is not None else None)

    def dv_count(self, node: CObject | None) -> RMObject:
        item = _prim(node, "magnitude")
        return _obj("DV_COUNT", magnitude=int(self.integer(item if isinstance(item, CInteger) else None)))

    def integer(self, item: CInteger | None, prefer: tuple[float, ...] = (1.0,)) -> int:
        if item is not None and item.list:
            return int(self.p.pick(list(item.list)))
        rng = item.range if item is not None else None
        value = V.pick_number(rng, integral=True, prefer=prefer)
        value = 1 if value is None else int(value)
        if self.p.random:
            frac = self.p.draw(self.p.st.floats(0, 1), 0.5)  # type: ignore[union-attr]
            cand = int(V.spread(rng, frac, integral=True, decimals=0))
            if rng is None or rng.contains(cand):
                value = cand
        return value

    def real(self, item: CReal | None, *, integral: bool, prefer: tuple[float, ...] = (1.0,)) -> float | None:
        if item is not None and item.list:
            return float(self.p.pick(list(item.list)))
        rng = item.range if item is not None else None
        value = V.pick_number(rng, integral=integral, decimals=None if not integral else 0, prefer=prefer)
        if value is None:
            return None
        if self.p.random:
            frac = self.p.draw(self.p.st.floats(0, 1), 0.5)  # type: ignore[union-attr]
            cand = V.spread(rng, frac, integral=integral, decimals=2)
            if rng is None or rng.contains(cand):
                value = cand
        return float(value)

    def dv_proportion(self, node: CObject | None) -> RMObject:
        """numerator/denominator/type by the RM rules: unitary has denominator 1, percent 100, fractions are whole."""
        type_item = _prim(node, "type")
        kinds = [0, 1, 2, 3, 4]
        if isinstance(type_item, CInteger):
            kinds = [k for k in kinds if type_item.allows(k)] or kinds
        if self.p.random:
            kinds = list(self.p.draw(self.p.st.permutations(kinds), kinds))  # type: ignore[union-attr]
        num_item = _prim(node, "numerator")
        den_item = _prim(node, "denominator")
        num_c = num_item if isinstance(num_item, CReal) else None
        den_c = den_item if isinstance(den_item, CReal) else None
        for kind in kinds:
            integral = kind in (3, 4)
            if kind == 1:
                den: float | None = 1.0
            elif kind == 2:
                den = 100.0
            else:
                den = self.real(den_c, integral=integral, prefer=(10.0, 2.0, 1.0))
                if den == 0:
                    den = None
            if den is None or (den_c is not None and den_c.range is not None and not den_c.range.contains(den)):
                continue
            if den_c is not None and den_c.list and den not in den_c.list:
                continue
            num = self.real(num_c, integral=integral, prefer=(1.0,))
            if num is None:
                continue
            precision_item = _prim(node, "precision")
            prec: int | None = 0 if integral else None
            if isinstance(precision_item, CInteger):
                prec = self.integer(precision_item, prefer=(0.0,) if integral else (2.0, 0.0))
            return _obj("DV_PROPORTION", numerator=float(num), denominator=float(den), type=kind, precision=prec)
        return _obj("DV_PROPORTION", numerator=1.0, denominator=1.0, type=1)

    def dv_ordinal(self, node: CObject | None, term: Terminology | None, *, scale: bool,
                   owner: CObject | None = None) -> RMObject:
        rm = "DV_SCALE" if scale else "DV_ORDINAL"
        entries = list(getattr(node, "list", None) or [])
        if not entries:
            code = owner.node_id if owner is not None and owner.node_id else "at0000"
            return _obj(rm, value=1.0 if scale else 1, symbol=_coded(self._code_text("local", code, term), "local",
                                                                    code))
        entry = self.p.pick(entries)
        sym = entry.symbol
        value = float(entry.value) if scale else entry.value
        return _obj(rm, value=value, symbol=_coded(self._code_text(sym.terminology_id, sym.code_string, term),
                                                   sym.terminology_id, sym.code_string))

    def dv_boolean(self, node: CObject | None) -> RMObject:
        item = _prim(node, "value")
        options = [True, False]
        if isinstance(item, CBoolean):
            options = [v for v in options if (item.true_valid if v else item.false_valid)] or [True]
        return _obj("DV_BOOLEAN", value=self.p.pick(options))

    def dv_temporal(self, rm: str, node: CObject | None) -> RMObject:
        item = _prim(node, "value")
        kind = {"DV_DATE": "date", "DV_TIME": "time"}[rm] if rm != "DV_DATE_TIME" else "date_time"
        mask = item.pattern if isinstance(item, (CDate, CTime, CDateTime)) else None
        if isinstance(item, (CDate, CTime, CDateTime)) and item.list:
            return _obj(rm, value=str(self.p.pick(list(item.list))))
        moment = self.base_time
        truncate = 0
        if self.p.random:
            st = self.p.st  # type: ignore[union-attr]
            naive = self.p.draw(st.datetimes(datetime(1950, 1, 1), datetime(2030, 12, 31)), None)
            moment = naive.replace(microsecond=0, tzinfo=self.base_time.tzinfo)
            optional = V.mask_allows_partial(mask, kind) if kind == "date" and mask else 0
            if optional:
                truncate = self.p.draw(st.integers(0, optional), 0)
        if isinstance(item, (CDate, CTime, CDateTime)) and item.range is not None:
            rng = item.range
            bound = rng.lower if rng.lower is not None and rng.lower_included else (
                rng.upper if rng.upper is not None and rng.upper_included else None)
            if bound is not None:
                return _obj(rm, value=str(bound))
        return _obj(rm, value=V.format_temporal(moment, kind, mask, truncate_optional=truncate))

    def dv_duration(self, node: CObject | None) -> RMObject:
        item = _prim(node, "value")
        pattern = item.pattern if isinstance(item, CDuration) else None
        rng = item.range if isinstance(item, CDuration) else None
        if isinstance(item, CDuration) and item.list:
            return _obj("DV_DURATION", value=str(self.p.pick(list(item.list))))
        value = next((c for c in V.duration_candidates(rng) if V.duration_ok(c, pattern, rng)), "P1D")
        if self.p.random:
            st = self.p.st  # type: ignore[union-attr]
            allowed = sorted(V.duration_pattern_fields(pattern) or {"Y", "M", "W", "D", "H", "TM", "S"})
            fld = self.p.draw(st.sampled_from(allowed), "D")
            amount = self.p.draw(st.integers(0, 200), 1)
            cand = V.make_duration(fld, amount)
            if V.duration_ok(cand, pattern, rng):
                value = cand
        return _obj("DV_DURATION", value=value)

    def dv_identifier(self, node: CObject | None) -> RMObject:
        def s(attr: str, default: str) -> str:
            item = _prim(node, attr)
            return self.string(item, default) if isinstance(item, CString) else default

        ident = "12345678"
        if self.p.random:
            ident = str(self.p.draw(self.p.st.integers(1, 10**9), 12345678))  # type: ignore[union-attr]
        return _obj("DV_IDENTIFIER", issuer=s("issuer", "Example Issuer"), assigner=s("assigner", "Example Assigner"),
                    id=s("id", ident), type=s("type", "Example Type"))

    def dv_uri(self, node: CObject | None) -> RMObject:
        item = _prim(node, "value")
        default = "https://example.org/openehr-kit/resource/1"
        return _obj("DV_URI", value=self.string(item, default) if isinstance(item, CString) else default)

    def dv_ehr_uri(self, node: CObject | None) -> RMObject:
        item = _prim(node, "value")
        default = "ehr://8849182c-82ad-4088-a07f-48ead4180515/"
        return _obj("DV_EHR_URI", value=self.string(item, default) if isinstance(item, CString) else default)

    def dv_multimedia(self, node: CObject | None) -> RMObject:
        cp_node = _child(node, "media_type")
        media = self.code_phrase(cp_node, None, None) if cp_node is not None else _code_phrase(
            "IANA_media-types", "image/png")
        data = b"openehr-kit example"
        return _obj("DV_MULTIMEDIA", alternate_text="Example attachment",
                    uri=_obj("DV_URI", value="https://example.org/openehr-kit/attachment/1"),
                    data=base64.b64encode(data).decode("ascii"), media_type=media, size=len(data))

    def dv_parsable(self, node: CObject | None) -> RMObject:
        v = _prim(node, "value")
        f = _prim(node, "formalism")
        value = self.string(v, "example") if isinstance(v, CString) else "example"
        formalism = self.string(f, "text/plain") if isinstance(f, CString) else "text/plain"
        return _obj("DV_PARSABLE", value=value, formalism=formalism)

    def dv_state(self, node: CObject | None, term: Terminology | None, owner: CObject | None = None) -> RMObject:
        value_node = _child(node, "value")
        value = self.dv_coded_text(value_node, term, owner)
        return _obj("DV_STATE", value=value, is_terminal=False)

    def dv_interval(self, rm: str, node: CObject | None, term: Terminology | None, owner: CObject | None,
                    path: str) -> RMObject:
        """Both bounds per their constraints (or the interval's type argument), lower not above upper."""
        arg = _interval_arg(rm) or "DV_COUNT"
        bounds: dict[str, Any] = {}
        for side in ("lower", "upper"):
            c = _child(node, side)
            if c is not None:
                bounds[side] = self.object(c, f"{path}/{side}", term, owner)
            else:
                bounds[side] = self.data_value(arg, None, term, owner, f"{path}/{side}")
        lo, hi = bounds["lower"], bounds["upper"]
        if lo.rm_type == hi.rm_type == "DV_QUANTITY" and lo.attrs.get("units") != hi.attrs.get("units"):
            # bounds in different units cannot be compared: give the upper bound the lower one's unit if it may
            up = _child(node, "upper")
            cand = self.dv_quantity(up, units=lo.attrs.get("units"))
            if cand.attrs.get("units") == lo.attrs.get("units"):
                bounds["upper"] = hi = cand
        key = {"DV_QUANTITY": "magnitude", "DV_COUNT": "magnitude", "DV_DATE_TIME": "value", "DV_DATE": "value",
               "DV_TIME": "value", "DV_PROPORTION": "numerator"}.get(lo.rm_type)
        if key and lo.rm_type == hi.rm_type and lo.attrs.get("units") == hi.attrs.get("units"):
            a, b = lo.attrs.get(key), hi.attrs.get(key)
            if a is not None and b is not None and a > b:
                lo.attrs[key], hi.attrs[key] = b, a  # swapped bounds lie in their ranges when the ranges agree
        if lo.rm_type == "DV_DURATION" and hi.rm_type == "DV_DURATION":
            a, b = V.duration_seconds(lo.attrs["value"]), V.duration_seconds(hi.attrs["value"])
            if a is not None and b is not None and a > b:
                lo.attrs["value"], hi.attrs["value"] = hi.attrs["value"], lo.attrs["value"]
        return _obj("DV_INTERVAL", lower=lo, upper=hi, lower_unbounded=False, upper_unbounded=False,
                    lower_included=True, upper_included=True)

    # --- primitives and strings -------------------------------------------------------------------------------

    def primitive(self, item: CPrimitive | None, rm_type: str) -> Any:
        if isinstance(item, CString):
            return self.string(item, "/.*/" if rm_type.upper() == "STRING" else "example")
        if isinstance(item, CInteger):
            return self.integer(item)
        if isinstance(item, CReal):
            return self.real(item, integral=False)
        if isinstance(item, CBoolean):
            return self.p.pick([v for v in (True, False) if (item.true_valid if v else item.false_valid)] or [True])
        if isinstance(item, CDuration):
            return self.dv_duration(CComplexObject("DV_DURATION", attributes=[
                CAttribute("value", children=[CPrimitiveObject("DURATION", item=item)])])).attrs["value"]
        if isinstance(item, (CDate, CTime, CDateTime)):
            kind = {CDate: "date", CTime: "time"}.get(type(item), "date_time")
            return V.format_temporal(self.base_time, kind, item.pattern)
        return "example"

    def string(self, item: CString | None, default: str) -> str:
        """A string the C_STRING allows: from its list, matching its pattern, or ``default``."""
        if item is None:
            return default
        if item.list:
            return str(self.p.pick(list(item.list)))
        if item.pattern:
            if self.p.random:
                st = self.p.st  # type: ignore[union-attr]
                try:
                    alphabet = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp"))
                    drawn = self.p.draw(st.from_regex(item.pattern, fullmatch=True, alphabet=alphabet), None)
                    if isinstance(drawn, str) and drawn.strip() == drawn and drawn:
                        return drawn
                except Exception:  # noqa: BLE001 - an unsupported pattern: fall back to the deterministic example
                    pass
            example = V.regex_example(item.pattern)
            if example is not None:
                return example
        return default

    def _random_text(self) -> str:
        st = self.p.st  # type: ignore[union-attr]
        alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 æøåÆØÅéü-.,"
        text = self.p.draw(st.text(alphabet=alphabet, min_size=1, max_size=24), "x").strip()
        return text or "x"

    # --- RM defaults ----------------------------------------------------------------------------------------------

    def rm_default(self, rm: str, name: str, rm_attr: schema.RmAttribute | None, node: CComplexObject,
                   term: Terminology | None, so_far: dict[str, Any]) -> Any:
        """A value for an RM-mandatory attribute the template leaves unconstrained."""
        if rm == "INSTRUCTION" and name == "narrative":
            return _obj("DV_TEXT", value="Example narrative")
        if rm == "ACTIVITY" and name == "action_archetype_id":
            return "/.*/"
        if rm == "PARTICIPATION" and name == "function":
            return _obj("DV_TEXT", value="Example function")
        if rm_attr is None:
            return None
        return self.default_value(rm_attr.type_name, term, node)

    def default_value(self, rm_type: str, term: Terminology | None, owner: CObject | None, depth: int = 0) -> Any:
        """An RM object of ``rm_type`` with its mandatory attributes, where no template node constrains it."""
        base = base_type(rm_type)
        prim = schema.rm_type(base)
        if prim is not None and prim.primitive:
            return {"String": "example", "Integer": 1, "Integer64": 1, "Real": 1.0, "Double": 1.0,
                    "Boolean": False}.get(base, "example")
        concrete = _concrete(base)
        if concrete.startswith("DV_"):
            return self.data_value(rm_type if base == "DV_INTERVAL" else concrete, None, term, owner, "")
        if concrete == "EVENT_CONTEXT":
            return _obj("EVENT_CONTEXT", start_time=_obj("DV_DATE_TIME",
                                                         value=V.format_temporal(self.base_time, "date_time")),
                        setting=_coded(V.openehr_rubric("238", self.lang), "openehr", "238"))
        if concrete == "PARTY_IDENTIFIED":
            return _obj("PARTY_IDENTIFIED", name=COMPOSER_NAME)
        if concrete == "ISM_TRANSITION":
            return _obj("ISM_TRANSITION", current_state=_coded(V.openehr_rubric("532", self.lang), "openehr", "532"),
                        transition=_coded(V.openehr_rubric("548", self.lang), "openehr", "548"))
        if concrete == "CODE_PHRASE":
            return _code_phrase("ISO_639-1", self.lang)
        if concrete == "ELEMENT":
            return _obj("ELEMENT", archetype_node_id="at0000", name=_obj("DV_TEXT", value="Example element"),
                        value=_obj("DV_TEXT", value="Example text"))
        t = schema.rm_type(concrete)
        attrs: dict[str, Any] = {}
        if _is_locatable(concrete):
            attrs["archetype_node_id"] = "at0000"
            attrs["name"] = _obj("DV_TEXT", value=concrete.lower())
        if t is not None and depth < 4:
            for name, a in t.attributes.items():
                if a.mandatory and not a.is_computed and not a.is_system and name not in attrs:
                    if a.is_container:
                        attrs[name] = [self.default_value(a.type_name, term, owner, depth + 1)]
                    else:
                        attrs[name] = self.default_value(a.type_name, term, owner, depth + 1)
            if concrete in ("ITEM_TREE", "ITEM_LIST") and "items" not in attrs:
                attrs["items"] = [self.default_value("ELEMENT", term, owner, depth + 1)]
        return RMObject(concrete, attrs)


_NOT_SPECIAL = object()

#: containers the generator always fills with at least one item when the template offers any
_NON_EMPTY = frozenset({"ITEM_TREE", "ITEM_LIST", "ITEM_TABLE", "CLUSTER", "SECTION", "HISTORY"})


def _code_of(value: Any) -> str | None:
    if isinstance(value, RMObject):
        dc = value.attrs.get("defining_code")
        if isinstance(dc, RMObject):
            code = dc.attrs.get("code_string")
            return code if isinstance(code, str) else None
    return None


def _terminology_from_uri(uri: str | None) -> str | None:
    """``terminology:SNOMED-CT?subset=x`` -> ``SNOMED-CT``; a value set URL stays the URL (no server here)."""
    if not uri:
        return None
    if uri.startswith("terminology:"):
        rest = uri[len("terminology:"):].lstrip("/")
        rest = rest.split("?", 1)[0].rstrip("/")
        return rest or None
    return uri


def _pick_magnitude(rng: Interval[Any] | None, decimals: int | None) -> float:
    """A magnitude in range with exactly ``decimals`` decimal places where that fits (1.5 for one place)."""
    base = V.pick_number(rng, integral=False, decimals=decimals if decimals is not None else None,
                         prefer=(1.0, 10.0))
    value = 1.0 if base is None else float(base)
    if decimals and decimals > 0:
        step = 10.0 ** (-decimals)
        for cand in (value + 5 * step, value + step, value - step, value - 5 * step):
            cand = round(cand, decimals)
            if (rng is None or rng.contains(cand)) and round(cand, decimals - 1) != cand:
                return cand
    return value


def _reorder(obj: RMObject, rm_t: Any) -> None:
    """Put attributes back in RM order after late additions (for readable JSON)."""
    if rm_t is None:
        return
    order = {n: i for i, n in enumerate(["archetype_node_id", "name", *rm_t.attributes])}
    obj.attrs = dict(sorted(obj.attrs.items(), key=lambda kv: order.get(kv[0], len(order))))


# ---------------------------------------------------------------------------------------------------------------
# Public API


def template_conflicts(template: OperationalTemplate) -> list[str]:
    """Places where the template contradicts itself so that no composition can satisfy it: container attributes
    whose children must occur more often in total than the attribute's cardinality allows."""
    out = []
    for info in template.iter_nodes():
        node = info.node
        if not isinstance(node, CComplexObject):
            continue
        for a in node.attributes:
            if a.cardinality is None or a.cardinality.interval.upper is None:
                continue
            need = sum(c.occurrences.lower or 0 for c in a.children if c.occurrences is not None)
            if need > a.cardinality.interval.upper:
                where = info.path.rstrip("/") + "/" + a.rm_attribute_name
                out.append(f"{where}: children must occur {need} times in total, but the cardinality allows at "
                           f"most {a.cardinality.interval.upper}")
    return out


def minimal_composition(template: OperationalTemplate, *, language: str | None = None) -> RMObject:
    """The smallest composition the template allows: every mandatory node, canonical values, fixed uid and times."""
    return _Builder(template, _Fixed(maximal=False), language).build()


def maximal_composition(template: OperationalTemplate, *, language: str | None = None) -> RMObject:
    """Every node of the template once (mandatory ones as often as required); first alternative of each choice;
    slots only where the template fills them."""
    return _Builder(template, _Fixed(maximal=True), language).build()


def traced_composition(
    template: OperationalTemplate, *, maximal: bool = False, language: str | None = None
) -> tuple[RMObject, Trace]:
    """A minimal (or maximal) composition with the trace of where each object comes from."""
    b = _Builder(template, _Fixed(maximal=maximal), language)
    return b.build(), b.trace


def traced_compositions(template: OperationalTemplate, *, language: str | None = None) -> Any:
    """A hypothesis strategy of (composition, trace) pairs; see :func:`compositions`."""
    from hypothesis import strategies as st

    @st.composite
    def build(draw: Callable[[Any], Any]) -> tuple[RMObject, Trace]:
        b = _Builder(template, _Random(draw), language)
        return b.build(), b.trace

    return build()


def compositions(template: OperationalTemplate, *, language: str | None = None) -> Any:
    """A hypothesis ``SearchStrategy[RMObject]`` of random valid compositions: random subsets of the optional
    nodes, random occurrences within bounds (at most 3 of a repeating node), random alternatives and values."""
    return traced_compositions(template, language=language).map(lambda pair: pair[0])


__all__ = [
    "Trace",
    "TraceEntry",
    "clone",
    "compositions",
    "maximal_composition",
    "minimal_composition",
    "template_conflicts",
    "traced_composition",
    "traced_compositions",
]
