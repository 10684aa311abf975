"""Single, precise mutations of a valid composition, each with the issue the validator must report.

Given a composition the generator built (and its :class:`~openehr_kit.examples.generator.Trace`), a mutation
breaks it in exactly one place and says what a correct validator reports: the issue code, the template path of the
violated constraint (AQL form, as ``OperationalTemplate.iter_nodes`` spells it) and the instance path (JSON pointer
of the composition as written by ``to_canonical_json``). Candidates that would break more than one rule are
skipped (e.g. dropping the last item of a structure would also empty it), so "exactly one error" is a fair test.

Kinds and expected codes:

===========================  =======  ==========================================================
kind                         code     template path
===========================  =======  ==========================================================
``drop_mandatory``           VAL002   the missing node
``duplicate_single``         VAL003   the node that now occurs twice (instance: the second one)
``wrong_code``               VAL106   the coded value + ``/defining_code/code_string``
``magnitude_out_of_range``   VAL102   the quantity + ``/magnitude``
``wrong_unit``               VAL101   the quantity + ``/units``
``wrong_rm_type``            VAL007   the ELEMENT's value
``text_for_coded``           VAL013   the ELEMENT's value
``unknown_node``             VAL001   the parent + ``/items``
``malformed_date``           VAL112   the date/date-time + ``/value``
===========================  =======  ==========================================================
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from openehr_kit.am.model import (
    ArchetypeSlot,
    CCodePhrase,
    CComplexObject,
    CDvQuantity,
    CObject,
    Terminology,
    node_predicate,
)
from openehr_kit.examples.generator import Trace, TraceEntry, clone
from openehr_kit.opt.model import OperationalTemplate
from openehr_kit.rm.instance import RMObject

T = TypeVar("T")

EXPECTED_CODES: dict[str, str] = {
    "drop_mandatory": "VAL002",
    "duplicate_single": "VAL003",
    "wrong_code": "VAL106",
    "magnitude_out_of_range": "VAL102",
    "wrong_unit": "VAL101",
    "wrong_rm_type": "VAL007",
    "text_for_coded": "VAL013",
    "unknown_node": "VAL001",
    "malformed_date": "VAL112",
}
KINDS: tuple[str, ...] = tuple(EXPECTED_CODES)

#: a node id no archetype defines (at-codes of ADL 1.4 archetypes stay far below it)
UNKNOWN_NODE_ID = "at9999"


@dataclass(slots=True)
class Mutation:
    """A composition broken in one place, and what the validator must say about it."""

    kind: str
    composition: RMObject
    code: str
    template_path: str
    instance_path: str
    description: str


Chooser = Callable[[Sequence[Any]], Any]


def _first(options: Sequence[T]) -> T:
    return options[0]


# ---------------------------------------------------------------------------------------------------------------
# Locating objects


def _index(comp: RMObject) -> tuple[dict[int, str], list[RMObject]]:
    """JSON pointer of every RM object (as ``to_canonical_json`` nests them), and the objects in walk order."""
    pointers: dict[int, str] = {id(comp): ""}
    order: list[RMObject] = []
    stack = [comp]
    while stack:
        obj = stack.pop()
        order.append(obj)
        base = pointers[id(obj)]
        kids = []
        for attr, i, child in obj.children():
            pointers[id(child)] = f"{base}/{attr}" + (f"/{i}" if i is not None else "")
            kids.append(child)
        stack.extend(reversed(kids))
    return pointers, order


def _ptr(pointers: dict[int, str], obj: RMObject) -> str:
    """The JSON pointer of ``obj`` as a prefix (``""`` for the root, so ``_ptr(...) + "/content"`` works)."""
    return pointers.get(id(obj), "")


@dataclass(slots=True)
class _Ctx:
    template: OperationalTemplate
    comp: RMObject
    trace: Trace
    pointers: dict[int, str]
    order: list[RMObject]

    def entry(self, obj: RMObject) -> TraceEntry | None:
        return self.trace.of(obj)

    def parent_constraint(self, entry: TraceEntry) -> CComplexObject | None:
        if entry.parent is None:
            return None
        pe = self.trace.of(entry.parent)
        c = pe.constraint if pe is not None else None
        return c if isinstance(c, CComplexObject) else None


def _context(template: OperationalTemplate, comp: RMObject, trace: Trace) -> _Ctx:
    comp, trace = clone(comp, trace)
    pointers, order = _index(comp)
    return _Ctx(template, comp, trace, pointers, order)


def _key(node: CObject) -> str | None:
    return node_predicate(node)


def _shares_key(parent_c: CComplexObject, attr: str, node: CObject) -> bool:
    """Whether another child of the same attribute carries the same node id (matching would then be by name or
    template order, and a mutation could shift which sibling an item is taken for)."""
    a = parent_c.attribute(attr)
    if a is None:
        return True
    key = _key(node)
    return sum(1 for c in a.children if _key(c) == key) > 1


def _element_value_alternatives(ctx: _Ctx, value: RMObject) -> tuple[RMObject, CComplexObject, list[CObject]] | None:
    """For a value held by an ELEMENT: (element, element constraint, the value alternatives the template allows)."""
    e = ctx.entry(value)
    if e is None or e.attribute != "value" or e.parent is None or e.parent.rm_type != "ELEMENT":
        return None
    pe = ctx.entry(e.parent)
    if pe is None or not isinstance(pe.constraint, CComplexObject):
        return None
    a = pe.constraint.attribute("value")
    if a is None or not a.children:
        return None
    alts = [c for c in a.children if not isinstance(c, ArchetypeSlot)]
    return e.parent, pe.constraint, alts


def _single_typed_value(ctx: _Ctx, value: RMObject) -> TraceEntry | None:
    """The trace entry of an ELEMENT value whose template allows exactly one alternative (so the validator's
    choice of alternative is not in question)."""
    got = _element_value_alternatives(ctx, value)
    if got is None or len(got[2]) != 1:
        return None
    return ctx.entry(value)


# ---------------------------------------------------------------------------------------------------------------
# The mutations: each returns candidates as (description, apply) where apply() mutates ctx.comp and returns the
# (template path, instance path) the issue must carry.

_Candidate = tuple[str, Callable[[], tuple[str, str]]]


def _drop_mandatory(ctx: _Ctx) -> list[_Candidate]:
    out: list[_Candidate] = []
    seen: set[tuple[int, int]] = set()
    for obj in ctx.order:
        e = ctx.entry(obj)
        if e is None or e.parent is None or e.attribute is None or not isinstance(e.constraint, CComplexObject):
            continue
        c = e.constraint
        occ = c.occurrences
        if occ is None or not occ.lower or "archetype_node_id" not in obj.attrs:
            continue
        holder = e.parent.attrs.get(e.attribute)
        if not isinstance(holder, list) or (id(e.parent), id(c)) in seen:
            continue
        seen.add((id(e.parent), id(c)))
        pc = ctx.parent_constraint(e)
        if pc is None or _shares_key(pc, e.attribute, c):
            continue
        same = [x for x in holder if isinstance(x, RMObject) and ctx.entry(x) is not None
                and ctx.entry(x).constraint is c]  # type: ignore[union-attr]
        rest = len(holder) - len(same)
        card = pc.attribute(e.attribute)
        card_lo = card.cardinality.interval.lower if card is not None and card.cardinality is not None else 0
        if rest < max(1, card_lo or 0):
            continue  # the attribute would be empty or under its cardinality: a second issue
        parent, attr, path = e.parent, e.attribute, e.path

        def apply(parent: RMObject = parent, attr: str = attr, same: list[RMObject] = same,
                  path: str = path) -> tuple[str, str]:
            parent.attrs[attr] = [x for x in parent.attrs[attr] if not any(x is s for s in same)]
            return path, _ptr(ctx.pointers, parent) or "/"

        out.append((f"drop {path}", apply))
    return out


def _duplicate_single(ctx: _Ctx) -> list[_Candidate]:
    out: list[_Candidate] = []
    for obj in ctx.order:
        e = ctx.entry(obj)
        if e is None or e.parent is None or e.attribute is None or not isinstance(e.constraint, CComplexObject):
            continue
        c = e.constraint
        if c.occurrences is None or c.occurrences.upper != 1 or "archetype_node_id" not in obj.attrs:
            continue
        holder = e.parent.attrs.get(e.attribute)
        if not isinstance(holder, list):
            continue
        pc = ctx.parent_constraint(e)
        if pc is None or _shares_key(pc, e.attribute, c):
            continue
        ca = pc.attribute(e.attribute)
        card_hi = ca.cardinality.interval.upper if ca is not None and ca.cardinality is not None else None
        if card_hi is not None and len(holder) + 1 > card_hi:
            continue
        parent, attr, path = e.parent, e.attribute, e.path

        def apply(parent: RMObject = parent, attr: str = attr, obj: RMObject = obj,
                  path: str = path) -> tuple[str, str]:
            items = parent.attrs[attr]
            i = next(k for k, x in enumerate(items) if x is obj)
            items.insert(i + 1, copy.deepcopy(obj))
            return path, f"{_ptr(ctx.pointers, parent)}/{attr}/{i + 1}"

        out.append((f"duplicate {path}", apply))
    return out


def _wrong_code(ctx: _Ctx) -> list[_Candidate]:
    out: list[_Candidate] = []
    for obj in ctx.order:
        if obj.rm_type != "DV_CODED_TEXT":
            continue
        e = _single_typed_value(ctx, obj)
        if e is None or not isinstance(e.constraint, CComplexObject):
            continue
        dc = e.constraint.attribute("defining_code")
        # one code list only: a second alternative (an open value set) may accept any code
        cp = dc.children[0] if dc is not None and len(dc.children) == 1 else None
        if not isinstance(cp, CCodePhrase) or cp.terminology_id != "local" or not cp.code_list:
            continue
        new_code, new_text = _other_local_code(e.terminology, cp.code_list, ctx.template.language)
        path = e.path

        def apply(obj: RMObject = obj, code: str = new_code, text: str | None = new_text,
                  path: str = path) -> tuple[str, str]:
            obj.attrs["defining_code"].attrs["code_string"] = code
            if text is not None:
                obj.attrs["value"] = text
            return f"{path}/defining_code/code_string", f"{_ptr(ctx.pointers, obj)}/defining_code/code_string"

        out.append((f"code {new_code} at {path}", apply))
    return out


def _other_local_code(term: Terminology | None, allowed: list[str], language: str) -> tuple[str, str | None]:
    """A code the archetype defines but the list does not allow (with its text), else an undefined one."""
    if term is not None:
        defs = term.term_definitions.get(language) or term.term_definitions.get(term.original_language) or {}
        for code, item in defs.items():
            if code.startswith("at") and code not in allowed and code != "at0000":
                return code, item.get("text")
    return UNKNOWN_NODE_ID, None


def _quantities(ctx: _Ctx) -> list[tuple[RMObject, TraceEntry, CDvQuantity]]:
    out = []
    for obj in ctx.order:
        if obj.rm_type != "DV_QUANTITY":
            continue
        e = _single_typed_value(ctx, obj)
        if e is not None and isinstance(e.constraint, CDvQuantity) and e.constraint.list:
            out.append((obj, e, e.constraint))
    return out


def _magnitude_out_of_range(ctx: _Ctx) -> list[_Candidate]:
    out: list[_Candidate] = []
    for obj, e, c in _quantities(ctx):
        item = c.item_for(obj.attrs.get("units", ""))
        rng = item.magnitude if item is not None else None
        if rng is None or (rng.upper is None and rng.lower is None):
            continue
        bad = float(rng.upper) + 1.0 if rng.upper is not None else float(rng.lower) - 1.0
        bad = float(round(bad))  # a whole number: no precision rule can object to it
        if rng.contains(bad):
            continue
        path = e.path

        def apply(obj: RMObject = obj, bad: float = bad, path: str = path) -> tuple[str, str]:
            obj.attrs["magnitude"] = bad
            obj.attrs.pop("precision", None)  # whole numbers need no precision; keep VAL103 out of it
            return f"{path}/magnitude", f"{_ptr(ctx.pointers, obj)}/magnitude"

        out.append((f"magnitude {bad} at {path}", apply))
    return out


def _wrong_unit(ctx: _Ctx) -> list[_Candidate]:
    out: list[_Candidate] = []
    for obj, e, c in _quantities(ctx):
        allowed = {i.units for i in c.list}
        unit = next(u for u in ("cm", "kg", "s", "mmol/L", "[degF]") if u not in allowed)
        path = e.path

        def apply(obj: RMObject = obj, unit: str = unit, path: str = path) -> tuple[str, str]:
            obj.attrs["units"] = unit
            return f"{path}/units", f"{_ptr(ctx.pointers, obj)}/units"

        out.append((f"unit {unit} at {path}", apply))
    return out


def _element_values(ctx: _Ctx) -> list[tuple[RMObject, RMObject, list[CObject], TraceEntry]]:
    out = []
    for obj in ctx.order:
        got = _element_value_alternatives(ctx, obj)
        e = ctx.entry(obj)
        if got is not None and e is not None:
            out.append((obj, got[0], got[2], e))
    return out


def _wrong_rm_type(ctx: _Ctx) -> list[_Candidate]:
    out: list[_Candidate] = []
    for value, element, alts, e in _element_values(ctx):
        types = {a.rm_type_name.split("<")[0] for a in alts}
        if not types or "DATA_VALUE" in types:
            continue
        replacement = next((t for t in ("DV_BOOLEAN", "DV_COUNT", "DV_URI") if t not in types), None)
        if replacement is None or (replacement == "DV_COUNT" and "DV_ORDERED" in types):
            continue
        new = {"DV_BOOLEAN": RMObject("DV_BOOLEAN", {"value": True}),
               "DV_COUNT": RMObject("DV_COUNT", {"magnitude": 1}),
               "DV_URI": RMObject("DV_URI", {"value": "https://example.org/x"})}[replacement]
        path = e.path

        def apply(element: RMObject = element, new: RMObject = new, path: str = path,
                  value: RMObject = value) -> tuple[str, str]:
            ip = _ptr(ctx.pointers, value) or "/"
            element.attrs["value"] = new
            return path, ip

        out.append((f"{replacement} at {path}", apply))
    return out


def _text_for_coded(ctx: _Ctx) -> list[_Candidate]:
    out: list[_Candidate] = []
    for value, element, alts, e in _element_values(ctx):
        if value.rm_type != "DV_CODED_TEXT":
            continue
        types = {a.rm_type_name for a in alts}
        if "DV_TEXT" in types or "DATA_VALUE" in types:
            continue
        path = e.path

        def apply(element: RMObject = element, value: RMObject = value, path: str = path) -> tuple[str, str]:
            ip = _ptr(ctx.pointers, value) or "/"
            element.attrs["value"] = RMObject("DV_TEXT", {"value": value.attrs.get("value", "text")})
            return path, ip

        out.append((f"DV_TEXT at {path}", apply))
    return out


def _unknown_node(ctx: _Ctx) -> list[_Candidate]:
    out: list[_Candidate] = []
    for obj in ctx.order:
        if obj.rm_type not in ("ITEM_TREE", "ITEM_LIST", "CLUSTER") or not isinstance(obj.attrs.get("items"), list):
            continue
        e = ctx.entry(obj)
        if e is None or not isinstance(e.constraint, CComplexObject) or e.constraint.any_allowed:
            continue
        a = e.constraint.attribute("items")
        if a is None or not a.children or any(isinstance(c, ArchetypeSlot) for c in a.children):
            continue
        if any(_key(c) == UNKNOWN_NODE_ID for c in a.children):
            continue
        card_hi = a.cardinality.interval.upper if a.cardinality is not None else None
        if card_hi is not None and len(obj.attrs["items"]) + 1 > card_hi:
            continue
        path = e.path

        def apply(obj: RMObject = obj, path: str = path) -> tuple[str, str]:
            items = obj.attrs["items"]
            items.append(RMObject("ELEMENT", {
                "archetype_node_id": UNKNOWN_NODE_ID,
                "name": RMObject("DV_TEXT", {"value": "Not in the template"}),
                "value": RMObject("DV_TEXT", {"value": "unexpected"}),
            }))
            return f"{'' if path == '/' else path}/items", f"{_ptr(ctx.pointers, obj)}/items/{len(items) - 1}"

        out.append((f"{UNKNOWN_NODE_ID} under {path}", apply))
    return out


def _malformed_date(ctx: _Ctx) -> list[_Candidate]:
    out: list[_Candidate] = []
    fallback: list[_Candidate] = []
    for obj in ctx.order:
        if obj.rm_type not in ("DV_DATE_TIME", "DV_DATE"):
            continue
        e = ctx.entry(obj)
        if e is None:
            continue
        bad = "15/01/2024 10:30" if obj.rm_type == "DV_DATE_TIME" else "15/01/2024"
        path = e.path

        def apply(obj: RMObject = obj, bad: str = bad, path: str = path) -> tuple[str, str]:
            obj.attrs["value"] = bad
            return f"{path}/value", f"{_ptr(ctx.pointers, obj)}/value"

        if _single_typed_value(ctx, obj) is not None:
            out.append((f"date {bad!r} at {path}", apply))
        elif e.constraint is None and e.attribute == "start_time":
            fallback.append((f"date {bad!r} at {path}", apply))  # context/start_time, constrained by the RM only
    return out or fallback


_FINDERS: dict[str, Callable[[_Ctx], list[_Candidate]]] = {
    "drop_mandatory": _drop_mandatory,
    "duplicate_single": _duplicate_single,
    "wrong_code": _wrong_code,
    "magnitude_out_of_range": _magnitude_out_of_range,
    "wrong_unit": _wrong_unit,
    "wrong_rm_type": _wrong_rm_type,
    "text_for_coded": _text_for_coded,
    "unknown_node": _unknown_node,
    "malformed_date": _malformed_date,
}


# ---------------------------------------------------------------------------------------------------------------
# Public API


def candidate_count(template: OperationalTemplate, comp: RMObject, trace: Trace, kind: str) -> int:
    """How many places ``kind`` could break in this composition."""
    return len(_FINDERS[kind](_context(template, comp, trace)))


def available_kinds(template: OperationalTemplate, comp: RMObject, trace: Trace) -> dict[str, int]:
    """Kind -> number of places it could break, for the kinds this composition offers any place for."""
    ctx = _context(template, comp, trace)  # finders only look; one copy serves them all
    counts = {kind: len(_FINDERS[kind](ctx)) for kind in KINDS}
    return {k: n for k, n in counts.items() if n}


def mutate(
    template: OperationalTemplate,
    comp: RMObject,
    trace: Trace,
    kind: str,
    choose: Chooser = _first,
) -> Mutation | None:
    """Break a copy of ``comp`` in one place of the given kind (``choose`` picks among the candidates);
    None when the composition offers no place for it. ``comp`` itself is left unchanged."""
    ctx = _context(template, comp, trace)
    cands = _FINDERS[kind](ctx)
    if not cands:
        return None
    description, apply = choose(cands)
    tpath, ipath = apply()
    return Mutation(kind, ctx.comp, EXPECTED_CODES[kind], tpath, ipath, description)


def all_mutations(template: OperationalTemplate, comp: RMObject, trace: Trace) -> list[Mutation]:
    """One mutation (the first candidate) of every kind the composition offers a place for."""
    out = []
    for kind in KINDS:
        m = mutate(template, comp, trace, kind)
        if m is not None:
            out.append(m)
    return out


__all__ = ["EXPECTED_CODES", "KINDS", "Mutation", "all_mutations", "available_kinds", "candidate_count", "mutate"]
