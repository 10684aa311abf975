"""Validating a composition against an operational template: the structure walker and its entry points.

One walk over the composition matches every RM object to the constraint object that describes it (archetype
roots by archetype id, other nodes by at-code, same-id siblings by their name constraints, data values by RM
type) and reports, into one :class:`~openehr_kit.validation.report.Reporter`, everything that is wrong: the walk
never stops at the first issue.

The walker owns structure (VAL0xx): node ids and roots, occurrences, cardinality, existence from the template
and the RM, RM types, slots, unknown nodes and attributes, empty data. Below a data value (any ``DV_*`` and
``CODE_PHRASE``) it hands over to :func:`openehr_kit.validation.datavalues.check_data_value`; every other RM object
is also handed to :func:`openehr_kit.validation.rm_rules.check_rm_rules`, and primitive attributes constrained
outside data values to :func:`openehr_kit.validation.primitives.check_primitive`.

One report per problem: RM rules run on an object before the walker reaches its attributes, and return the coded
values whose code they rejected; the walker then does not report those values again from the template (no VAL013
for a plain-text category, no VAL106/VAL107/VAL122 for its code, no VAL108 comparing a text with a wrong code).

Speed: matching tables (per constraint attribute: node id -> children, slots, name rules, data-value alternative
per RM type with its resolved checker, single-candidate matches together with the matched node's path, label and
facts, occurrence bounds; per node: the attributes whose absence can matter) are built once per template and
cached; RM facts per type (mandatory attributes, rules, name kind) are one dict hit. No ``Where``, path or message
is built unless an issue is reported: RM rules get their location as a function, and a data value is checked
quietly first (a location-less ``Where``) and again with its location only when the quiet run found something.
Two shortcuts take the bulk of a composition: an ELEMENT with just a node id, a plain name and a value is checked
without the general object walk (``_Walker.element``), and an object the template leaves open is first checked
quietly without paths (``_Walker.open_quiet``); each falls back to the general walk, which reports, whenever
there may be something to report, so the issues are the same.

Compiled checks (``_Compiled``): each node of a template is compiled once, when a composition first reaches it,
into a check that only answers "would the walk of this object report nothing?" (its tables, children's matches and
checks, data-value and RM-rule verdicts pre-bound). A valid composition is accepted by the root's check without
any walk; otherwise the walk runs as before and tries the check of each object it reaches first, skipping what
the failed checks already found valid, so only the objects that lead to an issue are walked. The checks decide
exactly as the walk (its own tables and checkers) and say False wherever in doubt; every issue is reported by
the walk.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from openehr_kit.am.model import (
    ArchetypeInternalRef,
    ArchetypeSlot,
    CArchetypeRoot,
    CAttribute,
    CCodePhrase,
    CComplexObject,
    CDvQuantity,
    CObject,
    CPrimitiveObject,
    CString,
    Terminology,
    find_node,
)
from openehr_kit.diagnostics import Issue, ParseError, Severity
from openehr_kit.opt.model import OperationalTemplate, constrained_name
from openehr_kit.rm import schema
from openehr_kit.rm.instance import RMObject
from openehr_kit.validation.report import Reporter, Where

# --- the checkers the walker hands over to ----------------------------------------------------------------------

from openehr_kit.validation.datavalues import check_data_value as _check_data_value  # noqa: E402
from openehr_kit.validation.primitives import check_primitive as _check_primitive  # noqa: E402
from openehr_kit.validation.rm_rules import RULE_TYPES  # noqa: E402
from openehr_kit.validation.rm_rules import check_rm_rules as _check_rm_rules  # noqa: E402
from openehr_kit.validation.datavalues import checker_for as _checker_for  # noqa: E402
from openehr_kit.validation.datavalues import quiet_check as _quiet_check  # noqa: E402
from openehr_kit.validation.rm_rules import quiet_rule as _quiet_rule  # noqa: E402

#: the real RM-rule checker (``_check_rm_rules`` may be replaced, e.g. by a test's spy)
_real_check_rm_rules = _check_rm_rules

#: kept for callers that reported a partial install (every checker is present now)
MISSING_CHECKERS: list[str] = []

__all__ = [
    "ValidationResult",
    "composition_template_id",
    "validate_composition",
    "validate_file",
]


# ---------------------------------------------------------------------------------------------------------------
# RM facts, memoised (asked for every object of every composition)

_CONFORMS: dict[tuple[str, str], bool] = {}
_MANDATORY: dict[str, tuple[str, ...]] = {}
_NON_EMPTY: dict[tuple[str, str], bool] = {}
_DECLARED: dict[tuple[str, str], str | None] = {}


def _base(name: str) -> str:
    cut = name.find("<")
    return name if cut < 0 else name[:cut]


def _conforms(sub: str, sup: str) -> bool:
    """Whether an instance of RM type ``sub`` may stand where ``sup`` is declared (generics compared by base)."""
    key = (sub, sup)
    hit = _CONFORMS.get(key)
    if hit is None:
        b_sub, b_sup = _base(sub), _base(sup)
        if b_sub == b_sup or b_sup in ("ANY", "Any", "OBJECT", ""):
            hit = True
        elif schema.rm_type(b_sub) is None or schema.rm_type(b_sup) is None:
            # a type the RM table does not know (reported by the reader); do not pile a type error on top
            hit = True
        else:
            hit = schema.is_subtype(b_sub, b_sup)
        _CONFORMS[key] = hit
    return hit


def _mandatory(rm_type: str) -> tuple[str, ...]:
    """The RM attributes an object of ``rm_type`` must have (serialised ones only)."""
    hit = _MANDATORY.get(rm_type)
    if hit is None:
        t = schema.rm_type(rm_type)
        hit = () if t is None else tuple(
            a.name for a in t.attributes.values() if a.mandatory and not a.is_computed and not a.is_system
        )
        _MANDATORY[rm_type] = hit
    return hit


def _non_empty(rm_type: str, attr: str) -> bool:
    """Whether the RM requires the container ``rm_type.attr`` to hold at least one item when present."""
    key = (rm_type, attr)
    hit = _NON_EMPTY.get(key)
    if hit is None:
        a = schema.attribute(rm_type, attr)
        hit = bool(a is not None and a.non_empty)
        _NON_EMPTY[key] = hit
    return hit


def _declared(rm_type: str, attr: str) -> str | None:
    """The RM's declared type of ``rm_type.attr`` (item type for containers), None if unknown."""
    key = (rm_type, attr)
    if key not in _DECLARED:
        a = schema.attribute(rm_type, attr)
        _DECLARED[key] = None if a is None or a.is_system else a.type_name
    return _DECLARED[key]


# RM type name -> (RM-mandatory serialised attributes, has RM rules, its ``name`` is a plain DV_TEXT attribute):
# everything obj() needs to know about a type, in one dict hit
_TYPE_INFO: dict[str, tuple[tuple[str, ...], bool, bool]] = {}


def _type_info(rm_type: str) -> tuple[tuple[str, ...], bool, bool]:
    hit = _TYPE_INFO.get(rm_type)
    if hit is None:
        hit = _TYPE_INFO[rm_type] = (
            _mandatory(rm_type), _has_rules(rm_type), _open_kind(rm_type, "name", "DV_TEXT") == _PLAIN_DATA
        )
    return hit


#: "not computed yet" in the walker's plan tables (None is a computed answer there)
_NO_PLAN: Any = object()

#: ``_element_fast_ok()``, computed on first use (the RM schema is loaded lazily)
_ELEMENT_FAST: list[bool] = []


def _element_fast_ok() -> bool:
    """Whether an ELEMENT holding exactly archetype_node_id, name and value can skip the general object walk: the
    RM requires no other attribute of it, its name is a plain DV_TEXT attribute, and its RM rule
    (``rm_rules._element``: is_null xor null_flavour) has nothing to report when it has a value and no
    null_flavour."""
    if not _ELEMENT_FAST:
        _ELEMENT_FAST.append(_ELEMENT_ATTRS.issuperset(_mandatory("ELEMENT")) and _type_info("ELEMENT")[2])
    return _ELEMENT_FAST[0]


def _is_data_value(rm_type: str) -> bool:
    return rm_type.startswith("DV_") or rm_type == "CODE_PHRASE"


# What an object found under an attribute the template leaves open is: one dict hit per object on the hot path.
_WRONG_TYPE, _PLAIN_DATA, _OBJECT = 0, 1, 2
_OPEN_KIND: dict[tuple[str, str, str], int] = {}


def _open_kind(parent_rm: str, attr: str, rm: str) -> int:
    key = (parent_rm, attr, rm)
    hit = _OPEN_KIND.get(key)
    if hit is None:
        declared = _declared(parent_rm, attr)
        if declared is not None and not _conforms(rm, declared):
            hit = _WRONG_TYPE
        else:
            hit = _PLAIN_DATA if _is_data_value(rm) else _OBJECT
        _OPEN_KIND[key] = hit
    return hit


# RM type name (generic arguments included) -> whether the RM-rule checker has rules for it: one dict hit per
# object; types without rules (most of them) get no call and no location built
_HAS_RULES: dict[str, bool] = {}


def _has_rules(rm_type: str) -> bool:
    hit = _HAS_RULES.get(rm_type)
    if hit is None:
        hit = _HAS_RULES[rm_type] = rm_type in RULE_TYPES or _base(rm_type) in RULE_TYPES
    return hit


# Issues the data-value checker must not repeat for a value whose code an RM rule already rejected (one report per
# problem): the code against the template's list or terminology, an unknown openEHR code, and the term text of a
# code already known to be wrong.
_SUPPRESSED_AFTER_RULE = frozenset({"VAL106", "VAL107", "VAL108", "VAL122"})


def _looks_like_archetype_id(node_id: str) -> bool:
    # openEHR-EHR-CLUSTER.device.v1: at-codes never contain a dot
    return "." in node_id and "-" in node_id


def _join(tpath: str, attr: str) -> str:
    return ("" if tpath == "/" else tpath) + "/" + attr


def _text_of(obj: Any, attr: str) -> str | None:
    """``obj.attr.value`` for the small wrapper objects of the RM (ids, names)."""
    if not isinstance(obj, RMObject):
        return None
    inner = obj.attrs.get(attr)
    if isinstance(inner, RMObject):
        value = inner.attrs.get("value")
        return value if isinstance(value, str) else None
    return None


# ---------------------------------------------------------------------------------------------------------------
# Per-template tables


@dataclass(frozen=True, slots=True)
class _NameRule:
    """What a node's ``name`` constraint allows: texts (or a pattern), or codes for a coded name."""

    texts: frozenset[str]
    pattern: str | None = None
    codes: frozenset[str] = frozenset()
    terminology_id: str | None = None
    coded: bool = False

    def matches(self, name: Any) -> bool:
        if not isinstance(name, RMObject):
            return False
        value = name.attrs.get("value")
        if self.coded:
            code = name.attrs.get("defining_code")
            if isinstance(code, RMObject):
                code_string = code.attrs.get("code_string")
                if self.codes:
                    return code_string in self.codes
                term_id = _text_of(code, "terminology_id")
                return self.terminology_id is None or term_id == self.terminology_id
            # a plain text carrying the coded term's text is accepted as naming the node (common in practice)
            return value in self.texts
        if self.pattern is not None:
            try:
                return isinstance(value, str) and re.fullmatch(self.pattern, value) is not None
            except re.error:
                return True
        return value in self.texts

    def describe(self) -> str:
        if self.pattern is not None:
            return f"a name matching /{self.pattern}/"
        shown = sorted(self.texts) or sorted(self.codes)
        if not shown:
            return f"a name coded in {self.terminology_id}"
        listed = ", ".join(f"'{t}'" for t in shown[:5]) + (", ..." if len(shown) > 5 else "")
        return f"the name {listed}" if len(shown) == 1 else f"one of the names {listed}"


@dataclass(slots=True)
class _AttrTable:
    """Matching facts of one constrained attribute."""

    attr: CAttribute
    #: node key (archetype id for roots, at-code otherwise) -> the children carrying it, in template order
    by_key: dict[str, list[CObject]]
    #: children without a node id (data value alternatives): matched by RM type
    unkeyed: list[CObject]
    slots: list[ArchetypeSlot]
    #: the constraint of a primitive attribute (ACTIVITY.action_archetype_id)
    prim: CPrimitiveObject | None
    #: the attribute has no child constraints: its content is open (RM types only)
    open: bool
    #: data value RM type -> the alternative it matches (None: none; a tuple: several of its type, the value picks
    #: one, see ``match_data_value``), filled on first use
    dv_match: dict[str, CObject | tuple[CObject, ...] | None] = field(default_factory=dict)
    #: (node id, RM type) -> (candidates, those of the right type): the same lists each time, for pick_by_name's memo
    typed: dict[tuple[str, str], tuple[list[CObject], list[CObject]]] = field(default_factory=dict)
    #: (id(candidates), name text, name code) -> pick_by_name() result
    by_name: dict[tuple[int, Any, Any], tuple[list[CObject], bool]] = field(default_factory=dict)
    #: (node id, RM type) -> match() result, for node ids with a single candidate constraint of the right type
    keyed_match: dict[tuple[str, str], tuple[CObject, CObject | None, bool, bool]] = field(default_factory=dict)
    #: data value RM type -> (the one alternative it matches, its data-value checker, the constraint the checker
    #: gets): the whole dispatch of a data value, decided once; None when the slow path decides (several or no
    #: alternatives, not a data value). Filled on first use (``_Walker.dv_plan``).
    dv_plans: dict[str, tuple[CObject, Callable[..., None], CObject | None] | None] = field(default_factory=dict)
    #: (occurrence checks: (child, lower, upper) of the children with an occurrence bound, cardinality lower,
    #: cardinality upper) for ``check_occurrences``, computed on first use
    occ: tuple[tuple[tuple[int, CObject, int, int | None], ...], int, int | None] | None = None
    #: language -> node id -> (RM type, the ``keyed_match`` answer for (node id, RM type) unpacked, with the
    #: matched node's entry): everything ``multi`` needs for the common item, in one dict hit. The
    #: first RM type met with a node id is kept; others take the general path.
    fast: dict[str, dict[str, _FastMatch]] = field(default_factory=dict)


def _first_with_room(typed: list[CObject], count: Callable[[CObject], int]) -> list[CObject]:
    """Same-id, same-name siblings are filled in template order: the first whose occurrences are not yet used up
    (``count``: how many items it has so far), as a one-item list; ``typed`` when all are full."""
    for c in typed:
        occ = c.occurrences
        if occ is None or occ.upper is None or count(c) < occ.upper:
            return [c]
    return typed


def _occurrence_spec(
    attr: CAttribute,
) -> tuple[tuple[tuple[int, CObject, int, int | None], ...], int, int | None]:
    """What ``check_occurrences`` compares for a container attribute: (id(child), child, occurrences lower, upper)
    of the children whose occurrences can be violated, and the cardinality's lower and upper bound."""
    checks = []
    for c in attr.children:
        occ = c.occurrences
        if occ is None or isinstance(c, CPrimitiveObject) or (not occ.lower and occ.upper is None):
            continue
        checks.append((id(c), c, occ.lower, occ.upper))
    card = attr.cardinality
    lower = card.interval.lower if card is not None and card.interval.lower else 0
    upper = card.interval.upper if card is not None else None
    return tuple(checks), lower, upper


def _data_value_alternative(alts: list[CObject], rm: str) -> CObject | tuple[CObject, ...] | None:
    """The data value alternatives an ``rm`` value conforms to: those of the same type, else those of a supertype.

    One alternative (the common case) is returned as is; several (three DV_QUANTITY alternatives with different
    units) as a tuple in template order: the value must be valid under at least one of them."""
    same: list[CObject] = []
    sup: list[CObject] = []
    b_rm = _base(rm)
    for alt in alts:
        if isinstance(alt, (ArchetypeSlot, CPrimitiveObject)):
            continue
        alt_type = alt.rm_type_name
        if _base(alt_type) == b_rm:
            same.append(alt)
        elif not same and _conforms(rm, alt_type):
            sup.append(alt)
    found = same or sup
    if not found:
        return None
    return found[0] if len(found) == 1 else tuple(found)


def _affinity(alt: CObject, value: RMObject) -> bool:
    """Whether ``alt`` is the alternative ``value`` was evidently meant for, among several of its type: the one that
    lists its units (DV_QUANTITY) or its code (coded text). Decides which alternative a value none accepts is
    reported against."""
    if isinstance(alt, CDvQuantity):
        units = value.attrs.get("units")
        return type(units) is str and alt.item_for(units) is not None
    if isinstance(alt, CComplexObject):
        dc = alt.attribute("defining_code")
        code = _code_of(value)
        if dc is not None and code is not None:
            return any(isinstance(cp, CCodePhrase) and code in cp.code_list for cp in dc.children)
    return False


#: per matched constraint node: (attribute tables, name rules, attributes whose absence may be an issue, the
#: node's ``value`` table when an ELEMENT matched to it may take the walker's fast path (``_Walker.element``) or
#: False when it may not; None: the value is unconstrained)
_Facts = tuple[dict[str, _AttrTable] | None, tuple[_NameRule, ...], tuple[str, ...], "_AttrTable | None | bool"]

#: the attributes of the common ELEMENT (the only ones its fast path handles)
_ELEMENT_ATTRS = frozenset({"archetype_node_id", "name", "value"})


#: ``_AttrTable.fast`` entry: (RM type, id(constraint), constraint, node checked against, template path, its own
#: terminology or None, label, is an archetype root)
_FastMatch = tuple[str, int, CObject, CObject, str, "Terminology | None", str, bool]

#: what descending into a matched node needs: (template path, its own terminology or None, label, is a root)
_Entry = tuple[str, "Terminology | None", str, bool]


def _absence_may_matter(attr: CAttribute) -> bool:
    """Whether ``absent()`` can report anything for this constrained attribute when the instance lacks it: the
    template's existence requires it, or a container whose children have minimum occurrences."""
    ex = attr.existence
    if ex is not None and ex.lower and ex.lower >= 1:
        return True
    if not (attr.is_multiple or attr.cardinality is not None):
        return False
    return any(
        c.occurrences is not None and c.occurrences.lower and not isinstance(c, CPrimitiveObject)
        for c in attr.children
    )


class _Tables:
    """Everything the walker looks up about one template, computed on first use and kept."""

    def __init__(self, template: OperationalTemplate) -> None:
        self.template = template
        self._attrs: dict[int, dict[str, _AttrTable]] = {}
        self._names: dict[int, tuple[_NameRule, ...]] = {}
        self._labels: dict[tuple[int, str], str] = {}
        self._refs: dict[int, CObject | None] = {}
        self._paths: dict[int, str] = {}
        self._terms: dict[int, Terminology | None] = {}
        self._facts: dict[int, _Facts] = {}
        self._entries: dict[str, dict[int, _Entry]] = {}
        self._quiet: dict[str, dict[int, Where]] = {}
        self._ism: dict[int, tuple[frozenset[str], frozenset[str]]] = {}
        self._compiled: dict[str, _Compiled] = {}

    # -- lookups on constraint nodes ---------------------------------------------------------------------------

    def path(self, node: CObject) -> str:
        hit = self._paths.get(id(node))
        if hit is None:
            info = self.template.info_of(node)
            hit = info.path if info is not None else "/"
            self._paths[id(node)] = hit
        return hit

    def terminology(self, node: CObject, default: Terminology | None) -> Terminology | None:
        key = id(node)
        if key not in self._terms:
            info = self.template.info_of(node)
            self._terms[key] = info.terminology if info is not None else None
        return self._terms[key] or default

    def label(self, node: CObject, lang: str) -> str:
        """``Systolic (at0004)``: the node's term text in ``lang`` (template language as fallback) and its key."""
        key = (id(node), lang)
        hit = self._labels.get(key)
        if hit is None:
            info = self.template.info_of(node)
            text = None
            if info is not None:
                # a node renamed by the template (same-id siblings told apart by name) goes by that name
                term = node.terminology if isinstance(node, CArchetypeRoot) and node.terminology else info.terminology
                text = (constrained_name(node, term, lang) or info.text(lang)
                        or info.text(self.template.language))
            ident = node.archetype_id if isinstance(node, CArchetypeRoot) and node.archetype_id else node.node_id
            if text and ident:
                hit = f"{text} ({ident})"
            else:
                hit = text or ident or node.rm_type_name
            self._labels[key] = hit
        return hit

    def facts(self, node: CObject) -> _Facts:
        """(attribute tables or None when the node leaves its attributes open, name rules, the constrained
        attributes whose absence may be an issue) of a matched node."""
        hit = self._facts.get(id(node))
        if hit is None:
            table = None
            rules: tuple[_NameRule, ...] = ()
            required: tuple[str, ...] = ()
            if isinstance(node, CComplexObject):
                if not node.any_allowed and node.attributes:
                    table = self.attrs(node)
                    required = tuple(name for name, at in table.items() if _absence_may_matter(at.attr))
                rules = self.name_rules(node)
            element: _AttrTable | None | bool = False
            # an ELEMENT with exactly its three usual attributes has nothing to report about the absence of any
            # attribute this node or the RM requires (all present) nor about archetype_node_id (unconstrained)
            if (_element_fast_ok() and _ELEMENT_ATTRS.issuperset(required)
                    and (table is None or "archetype_node_id" not in table)):
                element = table.get("value") if table is not None else None
            hit = self._facts[id(node)] = (table, rules, required, element)
        return hit

    def ism_codes(self, node: CObject) -> tuple[frozenset[str], frozenset[str]]:
        """(careflow steps, current states) an ISM_TRANSITION alternative allows; empty sets: unconstrained. The
        node id counts as a careflow step (archetypes name each transition alternative by its step)."""
        hit = self._ism.get(id(node))
        if hit is None:
            steps = _coded_codes(node, "careflow_step")
            if node.node_id:
                steps = steps | {node.node_id}
            hit = self._ism[id(node)] = (steps, _coded_codes(node, "current_state"))
        return hit

    def quiet_wheres(self, lang: str) -> dict[int, Where]:
        """id(terminology) -> the location-less Where of quiet data-value checks in ``lang`` (see
        ``_Walker.quiet``)."""
        hit = self._quiet.get(lang)
        if hit is None:
            hit = self._quiet[lang] = {}
        return hit

    def compiled(self, lang: str) -> _Compiled:
        """The template's compiled checks for compositions in ``lang``."""
        hit = self._compiled.get(lang)
        if hit is None:
            hit = self._compiled[lang] = _Compiled(self, lang)
        return hit

    def entries(self, lang: str) -> dict[int, _Entry]:
        """id(node) -> ``entry(node, lang)`` for the nodes entered so far in ``lang`` (the walker reads it)."""
        hit = self._entries.get(lang)
        if hit is None:
            hit = self._entries[lang] = {}
        return hit

    def entry(self, node: CObject, lang: str) -> _Entry:
        """(template path, the node's own terminology or None, label, node is an archetype root) for descending
        into a matched node."""
        by_id = self.entries(lang)
        hit = by_id.get(id(node))
        if hit is None:
            hit = by_id[id(node)] = (self.path(node), self.terminology(node, None), self.label(node, lang),
                                     isinstance(node, CArchetypeRoot))
        return hit

    def attrs(self, node: CComplexObject) -> dict[str, _AttrTable]:
        hit = self._attrs.get(id(node))
        if hit is None:
            hit = {a.rm_attribute_name: self._attr_table(a) for a in node.attributes}
            self._attrs[id(node)] = hit
        return hit

    def name_rules(self, node: CObject) -> tuple[_NameRule, ...]:
        hit = self._names.get(id(node))
        if hit is None:
            hit = self._build_name_rules(node)
            self._names[id(node)] = hit
        return hit

    def resolve(self, ref: ArchetypeInternalRef) -> CObject | None:
        """The node a ``use_node`` reuses: its path is relative to the archetype root in force, else the template."""
        key = id(ref)
        if key not in self._refs:
            target: CObject | None = None
            info = self.template.info_of(ref)
            root = self.template.archetype_root_of(info) if info is not None else None
            if root is not None:
                try:
                    target = find_node(root, ref.target_path)
                except ValueError:
                    target = None
            if target is None:
                target = self.template.node(ref.target_path)
            self._refs[key] = target
        return self._refs[key]

    def candidates(
        self, item: RMObject, key: str | None, at: _AttrTable
    ) -> tuple[list[CObject], list[CObject]] | None:
        """(the constraint children ``item`` may be an occurrence of, those of them its RM type fits) for its node
        id ``key`` (None: not a LOCATABLE); None when there is none (``_Walker.no_match`` reports it). Keyed
        answers are kept in ``at.typed`` (the lists stay alive for ``pick_by_name``'s memo)."""
        rm = item.rm_type
        if key is None:
            cands = self.match_unlocatable(item, at)
            if not cands:
                return None
            return cands, [c for c in cands if _conforms(rm, c.rm_type_name)]
        memo = at.typed.get((key, rm))
        if memo is not None:
            return memo
        cands = at.by_key.get(key)  # type: ignore[assignment]
        if not cands:
            cands = [c for c in at.unkeyed if _conforms(rm, c.rm_type_name)] if at.unkeyed else None  # type: ignore[assignment]
        if not cands:
            return None
        memo = at.typed[(key, rm)] = (cands, [c for c in cands if _conforms(rm, c.rm_type_name)])
        return memo

    def match_unlocatable(self, item: RMObject, at: _AttrTable) -> list[CObject]:
        """Constraint children an object without archetype_node_id may be: by RM type; ISM_TRANSITION by step."""
        typed = [c for cs in at.by_key.values() for c in cs if _conforms(item.rm_type, c.rm_type_name)]
        typed += [c for c in at.unkeyed if _conforms(item.rm_type, c.rm_type_name)]
        if len(typed) <= 1 or item.rm_type != "ISM_TRANSITION":
            return typed
        step = _code_of(item.attrs.get("careflow_step"))
        if step is not None:
            # the alternatives whose careflow step (its code list, or the node id that names it) is this one, then
            # those that leave the step open; none: the transition is not defined (VAL001)
            named: list[CObject] = []
            open_: list[CObject] = []
            for c in typed:
                steps = self.ism_codes(c)[0]
                if not steps:
                    open_.append(c)
                elif step in steps:
                    named.append(c)
            typed = named + open_
            if len(typed) <= 1:
                return typed
        # then by current_state: the alternatives that list the state, else those that leave it open, else all
        state = _code_of(item.attrs.get("current_state"))
        listed: list[CObject] = []
        free: list[CObject] = []
        for c in typed:
            states = self.ism_codes(c)[1]
            if not states:
                free.append(c)
            elif state in states:
                listed.append(c)
        return listed or free or typed

    def pick_by_name(
        self, item: RMObject, cands: list[CObject], at: _AttrTable | None = None
    ) -> tuple[list[CObject], bool]:
        """Same-id siblings told apart by their name constraints; unnamed siblings take any name.

        The flag is False when no sibling's name fits: the item is checked against the first (VAL014) but does not
        count as an occurrence of any of them (which one it was meant to be cannot be told). With ``at`` (whose
        ``typed`` memo keeps ``cands`` alive) the answer is memoised by the name's text and code, all it depends on.
        """
        name = item.attrs.get("name")
        key: tuple[int, Any, Any] | None = None
        if at is not None:
            text = name.attrs.get("value") if isinstance(name, RMObject) else None
            coded = _code_of(name)
            has_code = isinstance(name, RMObject) and name.attrs.get("defining_code") is not None
            term_id = _text_of(name.attrs.get("defining_code"), "terminology_id") if coded is not None else None
            if (text is None or type(text) is str) and has_code == (coded is not None):
                key = (id(cands), text, (coded, term_id) if coded is not None else None)
                hit = at.by_name.get(key)
                if hit is not None:
                    return hit
        result = self._pick_by_name(name, cands)
        if key is not None and at is not None:
            at.by_name[key] = result
        return result

    def _pick_by_name(self, name: Any, cands: list[CObject]) -> tuple[list[CObject], bool]:
        named: list[CObject] = []
        open_: list[CObject] = []
        for c in cands:
            rules = self.name_rules(c)
            if not rules:
                open_.append(c)
            elif any(r.matches(name) for r in rules):
                named.append(c)
        if named or open_:
            return named or open_, True
        return cands, False

    # -- building ----------------------------------------------------------------------------------------------

    def _attr_table(self, attr: CAttribute) -> _AttrTable:
        by_key: dict[str, list[CObject]] = {}
        unkeyed: list[CObject] = []
        slots: list[ArchetypeSlot] = []
        prim: CPrimitiveObject | None = None
        for child in attr.children:
            if isinstance(child, ArchetypeSlot):
                slots.append(child)
                continue
            if isinstance(child, CPrimitiveObject):
                prim = prim or child
                continue
            key = child.archetype_id if isinstance(child, CArchetypeRoot) and child.archetype_id else child.node_id
            if key is None and isinstance(child, ArchetypeInternalRef):
                target = self.resolve(child)
                key = target.node_id if target is not None else None
            if key:
                by_key.setdefault(key, []).append(child)
            else:
                unkeyed.append(child)
        return _AttrTable(attr, by_key, unkeyed, slots, prim, not attr.children)

    def _build_name_rules(self, node: CObject) -> tuple[_NameRule, ...]:
        if not isinstance(node, CComplexObject):
            return ()
        name_attr = node.attribute("name")
        if name_attr is None or not name_attr.children:
            return ()
        term = node.terminology if isinstance(node, CArchetypeRoot) and node.terminology else None
        term = term or self.terminology(node, None)
        rules: list[_NameRule] = []
        for alt in name_attr.children:
            if not isinstance(alt, CComplexObject) or alt.any_allowed:
                return ()  # one open alternative makes the name free
            rule = self._name_rule(alt, term)
            if rule is None:
                return ()
            rules.append(rule)
        return tuple(rules)

    @staticmethod
    def _name_rule(alt: CComplexObject, term: Terminology | None) -> _NameRule | None:
        coded_attr = alt.attribute("defining_code")
        if coded_attr is not None and coded_attr.children:
            cp = coded_attr.children[0]
            if isinstance(cp, CCodePhrase):
                texts: set[str] = set()
                if cp.terminology_id == "local" and term is not None:
                    for defs in term.term_definitions.values():
                        for code in cp.code_list:
                            item = defs.get(code)
                            if item and item.get("text"):
                                texts.add(item["text"])
                if not cp.code_list and not cp.terminology_id:
                    return None
                return _NameRule(frozenset(texts), None, frozenset(cp.code_list), cp.terminology_id, True)
            return None
        value_attr = alt.attribute("value")
        if value_attr is not None and value_attr.children:
            prim = value_attr.children[0]
            if isinstance(prim, CPrimitiveObject) and isinstance(prim.item, CString):
                item = prim.item
                if item.list_open:
                    return None
                if item.pattern is not None:
                    return _NameRule(frozenset(), item.pattern)
                if item.list:
                    return _NameRule(frozenset(item.list))
        return None


# ---------------------------------------------------------------------------------------------------------------
# Compiled checks: the valid case without a walk

#: whether the walk of an object (``_Walker.obj``, or a value's check) would report nothing (True), or may report
#: something (False: the walk then decides and reports)
_Check = Callable[[RMObject], bool]


def _never(value: Any) -> bool:
    return False


def _absence_verdict(rm_type: str, at: _AttrTable) -> int:
    """What ``_Walker.absent`` reports when an ``rm_type`` object lacks the constrained attribute ``at``: 0
    nothing, 1 the attribute (VAL005), 2 the children the template requires (VAL002)."""
    attr = at.attr
    rm_attr = schema.attribute(rm_type, attr.rm_attribute_name)
    if rm_attr is None:
        if schema.rm_type(rm_type) is not None:
            # the RM type has no such attribute (a template constraining ISM_TRANSITION.name): no data can
            # carry it, so its absence is no fault of the data (the OPT check reports the template, OPT007)
            return 0
    elif rm_attr.is_computed:
        return 0  # a function of the RM (is_integral...): templates may constrain it, it is never serialised
    ex = attr.existence
    if ex is not None and ex.lower and ex.lower >= 1:
        return 1
    if not (attr.is_multiple or attr.cardinality is not None):
        return 0  # a single-valued attribute is governed by its existence alone (ELEMENT.value with null_flavour)
    return 2 if any(c.occurrences is not None and c.occurrences.lower and not isinstance(c, CPrimitiveObject)
                    for c in attr.children) else 0


class _Compiled:
    """The template's nodes compiled into checks (``_Check``) for one composition language.

    Each constraint node is compiled once per RM type and terminology in force, on first use, into a check that
    tells whether ``_Walker.obj`` would report nothing for an object matched to it (``_NodeCheck``): the node's
    attribute tables, name rules, RM facts, the matches of its children and their own checks
    (``_AttrCheck``), and the data-value verdicts (``datavalues.quiet_check``) with their constraints pre-bound;
    RM types the template leaves open are compiled likewise (``_OpenNode``, ``_OpenAttr``). No path, label,
    ``Where`` or message is built. A check says True only where the walk's own decisions say nothing is reported,
    and False wherever that is not certain (a shape it does not know, anything wrong): the walker then walks the
    object, so the walk stays the single source of issues. The decisions are the walk's: the same tables, RM
    facts, candidate choice and checkers. Checks are small slotted objects whose bound methods are the checks
    (few allocations: a template's checks stay cheap for the garbage collector)."""

    def __init__(self, tables: _Tables, lang: str) -> None:
        self.t = tables
        self.lang = lang
        #: receives what quiet data-value checks and RM rules find (emptied at once: only "anything?" matters)
        self.scratch = Reporter()
        #: (id(node), RM type, id(terminology)) -> the node's check (read directly by the walker)
        self.nodes: dict[tuple[int, str, int], _Check] = {}
        self._wheres: dict[int, Where] = {}
        self._open_nodes: dict[tuple[str, int], _Check] = {}
        self._open_values: dict[tuple[str, int], _Check] = {}
        self._open_attrs: dict[tuple[str, str, int], Callable[[Any], bool]] = {}
        #: RM type -> its RM-rule verdict, shared by the nodes of that type (``rule``)
        self._rules: dict[str, _Check | None] = {}
        #: what the checks found out in the current validation, recorded only where a check fails (nothing is
        #: recorded while checks pass): the ids of the objects whose check failed, which the walk then walks
        #: without checking them again, and (id(object), id(its check)) of the objects checked and found valid
        #: before the failure, which the walk then skips. So an invalid composition costs about one check of each
        #: object plus the walk of the objects that lead to its issues. Emptied by ``validate_composition``.
        self.failed: set[int] = set()
        self.passed: set[tuple[int, int]] = set()

    def where(self, term: Terminology | None) -> Where:
        """The location-less Where of quiet checks under ``term``."""
        hit = self._wheres.get(id(term))
        if hit is None or hit.terminology is not term:
            hit = self._wheres[id(term)] = Where("", "", None, term, self.lang, None)
        return hit

    def rule(self, rm: str) -> _Check | None:
        """The verdict of the RM rules for an ``rm`` object (``rm_rules.quiet_rule``), None for a type without."""
        if rm in self._rules:
            return self._rules[rm]
        hit = self._rules[rm] = _quiet_rule(rm, self.scratch)
        return hit

    def value_check(self, cons: CObject | None, rm: str, term: Terminology | None) -> _Check:
        """The verdict of ``check_data_value(cons, ...)`` for a data value of type ``rm`` under ``term``."""
        return _quiet_check(cons, rm, self.where(term), self.scratch)

    def open_value_check(self, rm: str, term: Terminology | None) -> _Check:
        """The verdict for a data value the template leaves open (``_Walker.data_value(None, ...)`` quiet)."""
        key = (rm, id(term))
        hit = self._open_values.get(key)
        if hit is None:
            hit = self._open_values[key] = self.value_check(None, rm, term)
        return hit

    def open_value(self, value: RMObject, term: Terminology | None) -> bool:
        return self.open_value_check(value.rm_type, term)(value)

    def open_node(self, rm: str, term: Terminology | None) -> _Check:
        """The check of an ``rm`` object the template leaves open (``_OpenNode``)."""
        key = (rm, id(term))
        hit = self._open_nodes.get(key)
        if hit is None:
            mandatory, has_rules, _ = _type_info(rm)
            # RM rules are left to the walk (``open_quiet`` never ran them either)
            hit = self._open_nodes[key] = _never if has_rules else _OpenNode(self, rm, term, mandatory).check
        return hit

    def open_object(self, obj: RMObject, term: Terminology | None) -> bool:
        """Whether ``_Walker.obj(obj, None, ...)`` (an object the template leaves open) would report nothing."""
        return self.open_node(obj.rm_type, term)(obj)

    def open_attr(self, parent_rm: str, name: str, term: Terminology | None) -> Callable[[Any], bool]:
        """The check of an attribute the template leaves open (``_OpenAttr``)."""
        key = (parent_rm, name, id(term))
        hit = self._open_attrs.get(key)
        if hit is None:
            hit = self._open_attrs[key] = _OpenAttr(self, parent_rm, name, term).check
        return hit

    def node(self, cons: CObject, rm: str, term: Terminology | None) -> _Check:
        """The check of an ``rm`` object matched to ``cons`` with ``term`` in force (``_NodeCheck``)."""
        key = (id(cons), rm, id(term))
        hit = self.nodes.get(key)
        if hit is None:
            node = _NodeCheck(self, cons, rm, term)
            hit = self.nodes[key] = node.element if node.element_ok else node.check
        return hit

    def value_alternatives(self, at: _AttrTable, rm: str, term: Terminology | None) -> _Check:
        """The verdict for a data value of type ``rm`` under the constrained attribute ``at``: valid under its one
        alternative, or under any of several of its type (``match_data_value``); none: reported."""
        memo = at.dv_match
        if rm in memo:
            hit = memo[rm]
        else:
            hit = memo[rm] = _data_value_alternative(at.attr.children, rm)
        if hit is None:
            return _never
        if type(hit) is not tuple:
            return self.value_check(hit, rm, term)  # type: ignore[arg-type]
        alternatives = tuple(self.value_check(alt, rm, term) for alt in hit)  # type: ignore[union-attr]
        return lambda value: any(check(value) for check in alternatives)

    def target_check(self, cons: CObject, rm: str, term: Terminology | None) -> _Check:
        """The check below a matched candidate (``_Walker.descend``): its node's, the internal reference's target's,
        or plain RM for a reference that does not resolve."""
        target: CObject | None = self.t.resolve(cons) if isinstance(cons, ArchetypeInternalRef) else cons
        if target is None:
            return self.open_node(rm, term)
        own = self.t.terminology(target, None)
        return self.node(target, rm, term if own is None else own)

    def static_match(self, at: _AttrTable, key: str | None, rm: str, term: Terminology | None) -> Any:
        """``_Walker.match`` for items with node id ``key`` and type ``rm`` when its answer depends on nothing else
        (one candidate of the right type): (rm, id(candidate), the check below it). _DYNAMIC when the item's name
        or the items before it decide (``dynamic_match``); None when the walk reports (no candidate, a wrong
        type, a data value in a list)."""
        if rm.startswith("DV_") or rm == "CODE_PHRASE":
            return None
        if key is None:
            cands = [c for cs in at.by_key.values() for c in cs if _conforms(rm, c.rm_type_name)]
            cands += [c for c in at.unkeyed if _conforms(rm, c.rm_type_name)]
            if len(cands) != 1:
                return _DYNAMIC if cands else None
            typed = cands
        else:
            cands = at.by_key.get(key)  # type: ignore[assignment]
            if not cands and at.unkeyed:
                cands = [c for c in at.unkeyed if _conforms(rm, c.rm_type_name)]
            if not cands:
                return None
            typed = [c for c in cands if _conforms(rm, c.rm_type_name)]
            if not typed:
                return None
            if len(cands) != 1:
                return _DYNAMIC
        return rm, id(typed[0]), self.target_check(typed[0], rm, term)

    def dynamic_match(
        self, at: _AttrTable, item: RMObject, key: str | None, found: dict[int, int] | None, term: Terminology | None
    ) -> tuple[str, int, _Check] | None:
        """``_Walker.match`` for one item among several candidates: ISM transitions by step and state, same-id
        siblings by name, then in template order (``found``: items per candidate so far; None for a single
        attribute). None when the walk reports (no candidate, no name fits)."""
        got = self.t.candidates(item, key, at)
        if got is None or not got[1]:
            return None
        typed = got[1]
        if len(typed) > 1:
            typed, counted = self.t.pick_by_name(item, typed, at if key is not None else None)
            if not counted:
                return None  # VAL014 against the first
            if len(typed) > 1 and found is not None:
                typed = _first_with_room(typed, lambda c: found.get(id(c), 0))
        rm = item.rm_type
        return rm, id(typed[0]), self.target_check(typed[0], rm, term)


#: ``_Compiled.static_match``: the match is decided per item
_DYNAMIC: Any = object()

#: an item's match in ``_AttrCheck``: (RM type, id(candidate), the check below it, the candidate's maximum
#: occurrences or None)
_Hit = tuple[str, int, _Check, "int | None"]


class _OpenNode:
    """The check of an object of one RM type (without RM rules) the template leaves open: no unknown attribute,
    its RM-mandatory attributes present, and everything below of a type the RM allows there and valid itself
    (the decisions of ``_Walker.obj`` and ``unconstrained``)."""

    __slots__ = ("c", "rm", "term", "mandatory", "handlers")

    def __init__(self, c: _Compiled, rm: str, term: Terminology | None, mandatory: tuple[str, ...]) -> None:
        self.c, self.rm, self.term, self.mandatory = c, rm, term, mandatory
        #: attribute name -> its ``_OpenAttr`` check, added on first use
        self.handlers: dict[str, Callable[[Any], bool]] = {}

    def check(self, obj: RMObject) -> bool:
        if obj.unknown:
            return False
        attrs = obj.attrs
        for name in self.mandatory:
            if attrs.get(name) is None:
                return False
        handlers = self.handlers
        for name, value in attrs.items():
            h = handlers.get(name)
            if h is None:
                if type(value) is not RMObject and type(value) is not list:
                    continue
                h = handlers[name] = self.c.open_attr(self.rm, name, self.term)
            if not h(value):
                return False
        return True


class _OpenAttr:
    """The check of an attribute the template leaves open (``_Walker.unconstrained`` for its object or each list
    item): by the item's RM type, a wrong type, an open object or an open data value."""

    __slots__ = ("c", "parent_rm", "name", "term", "kinds")

    def __init__(self, c: _Compiled, parent_rm: str, name: str, term: Terminology | None) -> None:
        self.c, self.parent_rm, self.name, self.term = c, parent_rm, name, term
        #: item RM type -> its check
        self.kinds: dict[str, _Check] = {}

    def kind(self, rm: str) -> _Check:
        k = _open_kind(self.parent_rm, self.name, rm)
        check = self.kinds[rm] = (self.c.open_node(rm, self.term) if k == _OBJECT else
                                  self.c.open_value_check(rm, self.term) if k == _PLAIN_DATA else _never)
        return check

    def check(self, value: Any) -> bool:
        kinds = self.kinds
        if type(value) is RMObject:
            check = kinds.get(value.rm_type)
            if check is None:
                check = self.kind(value.rm_type)
            return check(value)
        if type(value) is list:
            for item in value:
                if type(item) is RMObject:
                    check = kinds.get(item.rm_type)
                    if check is None:
                        check = self.kind(item.rm_type)
                    if not check(item):
                        return False
        return True


class _NodeCheck:
    """The check of an object of one RM type matched to one constraint node (``_Walker.obj``), and of the plain
    ELEMENT (``_Walker.element``)."""

    __slots__ = ("c", "rm", "term", "rule", "rules", "handlers", "attr_checks", "needed", "root_id", "plain_name",
                 "name_attr", "element_ok", "value_check", "values", "gate_tries", "gate_fails", "gate_skips")

    def __init__(self, c: _Compiled, cons: CObject, rm: str, term: Terminology | None) -> None:
        table, rules, required, element = c.t.facts(cons)
        mandatory, has_rules, plain_name = _type_info(rm)
        self.c, self.rm, self.term, self.rules, self.plain_name = c, rm, term, rules, plain_name
        self.rule = c.rule(rm) if has_rules else None
        self.root_id = cons.archetype_id if isinstance(cons, CArchetypeRoot) else None
        #: attribute name -> the check of its value; the attributes the node leaves open are added on first use
        self.handlers: dict[str, Callable[[Any], bool]] = {}
        #: the ``value`` attribute's data-value verdicts by RM type (filled on first use)
        self.values: dict[str, _Check] = {}
        self.attr_checks: dict[str, _AttrCheck] = {}
        for name, at in (table or {}).items():
            if not at.open:
                attr = self.attr_checks[name] = _AttrCheck(c, rm, name, at, term)
                self.handlers[name] = attr.check
                if name == "value":
                    self.values = attr.values
        self.name_attr = self.handlers.get("name")
        self.handlers["name"] = self.name
        # the attributes whose absence is reported: the RM's (VAL006), then the template's (``absent``)
        self.needed = mandatory + tuple(n for n in required
                                        if n not in mandatory and _absence_verdict(rm, table[n]))  # type: ignore[index]
        self.element_ok = rm == "ELEMENT" and element is not False
        self.value_check = self.handlers.get("value") or c.open_attr(rm, "value", term)
        #: how often the check was tried before a walk (``gate``), failed there, and was skipped
        self.gate_tries = self.gate_fails = self.gate_skips = 0

    def gate(self, obj: RMObject, check: _Check) -> bool:
        """``check(obj)`` (this node's check) for an object the walker would otherwise walk: True when it passed.
        A node whose checks keep failing there (compositions wrong in this place each time) is tried only now and
        then (the check would only add to the walk that follows); the walk decides either way."""
        fails = self.gate_fails
        if fails >= 8 and fails * 2 >= self.gate_tries:
            self.gate_skips += 1
            if self.gate_skips % 16:
                return False
        self.gate_tries += 1
        if check(obj):
            return True
        self.gate_fails += 1
        return False

    def check(self, obj: RMObject) -> bool:
        if obj.unknown:
            return False
        attrs = obj.attrs
        root_id = self.root_id
        if root_id:
            declared = _text_of(attrs.get("archetype_details"), "archetype_id")
            if declared is not None and declared != root_id:
                return False  # VAL019 (``check_root_details``, run as the walk enters a root)
        if self.rule is not None and not self.rule(obj):
            return False
        rules = self.rules
        if rules:
            name = attrs.get("name")
            if isinstance(name, RMObject) and not any(r.matches(name) for r in rules):
                return False  # VAL014
        handlers = self.handlers
        for name, value in attrs.items():
            h = handlers.get(name)
            if h is None:
                if type(value) is not RMObject and type(value) is not list:
                    continue
                h = handlers[name] = self.c.open_attr(self.rm, name, self.term)
            if not h(value):
                self.record(attrs, name)
                return False
        for name in self.needed:
            if attrs.get(name) is None:
                self.record(attrs, None)
                return False
        return True

    def record(self, attrs: dict[str, Any], upto: str | None) -> None:
        """The check failed at attribute ``upto`` (None: after all of them): record the objects of the
        constrained attributes before it as valid (``_Compiled.passed``)."""
        for name, value in attrs.items():
            if name == upto:
                return
            attr = self.attr_checks.get(name)
            if attr is not None:
                attr.record(value)

    def element(self, obj: RMObject) -> bool:
        """The commonest node: ``_Walker.element``'s shortcut for the same plain ELEMENT (see there), its value's
        verdict by RM type in one dict hit; anything else is ``check``."""
        attrs = obj.attrs
        if len(attrs) == 3 and not obj.unknown:
            try:
                name, value, node_id = attrs["name"], attrs["value"], attrs["archetype_node_id"]
            except KeyError:
                return self.check(obj)  # other attributes (a null_flavour...)
            if (type(name) is RMObject and type(value) is RMObject and name.rm_type == "DV_TEXT"
                    and type(node_id) is str):
                nattrs = name.attrs
                text = nattrs.get("value")
                if len(nattrs) == 1 and type(text) is str and text and not text.isspace():
                    if self.rules and not any(r.matches(name) for r in self.rules):
                        return False  # VAL014
                    verdict = self.values.get(value.rm_type)
                    return verdict(value) if verdict is not None else self.value_check(value)
        return self.check(obj)

    def name(self, value: Any) -> bool:
        """A LOCATABLE's name object is checked as an open attribute (its constraint is the node's name rules);
        the common plain DV_TEXT with a non-blank value has nothing to report."""
        if type(value) is RMObject:
            if self.plain_name and value.rm_type == "DV_TEXT":
                vattrs = value.attrs
                text = vattrs.get("value")
                if len(vattrs) == 1 and type(text) is str and text and not text.isspace():
                    return True
        elif self.name_attr is not None:
            return self.name_attr(value)
        elif type(value) is not list:
            return True
        return self.c.open_attr(self.rm, "name", self.term)(value)


class _AttrCheck:
    """The check of a constrained attribute's value: ``_Walker.single`` for an object, ``multi`` for a list (its
    items' matches and checks, occurrences and cardinality), the primitive check of ``obj`` otherwise."""

    __slots__ = ("c", "rm", "name", "at", "term", "prim", "first", "by_type", "values", "lower", "upper",
                 "required", "most", "empty_data", "failed", "passed")

    def __init__(self, c: _Compiled, rm: str, name: str, at: _AttrTable, term: Terminology | None) -> None:
        self.c, self.rm, self.name, self.at, self.term = c, rm, name, at, term
        self.prim = at.prim.item if at.prim is not None else None
        #: item node id -> its ``_Hit`` for the first RM type met, and (node id, RM type) -> the same for any: the
        #: matches that depend on nothing else; _DYNAMIC: decided per item; None: by the walk
        self.first: dict[str | None, Any] = {}
        self.by_type: dict[tuple[str | None, str], Any] = {}
        #: data value RM type -> its verdict
        self.values: dict[str, _Check] = {}
        spec = at.occ
        if spec is None:
            spec = at.occ = _occurrence_spec(at.attr)
        checks, lower, upper = spec
        self.lower = 1 if lower < 1 and _non_empty(rm, name) else lower
        self.upper = upper
        #: (id(child), minimum occurrences) of the children the template requires, and id(child) -> maximum
        #: occurrences of those with a maximum (carried in each ``_Hit``, compared as the items are counted)
        self.required = tuple((cid, lo) for cid, _c, lo, _up in checks if lo)
        self.most = {cid: up for cid, _c, _lo, up in checks if up is not None}
        self.empty_data = name == "data" and (rm == "OBSERVATION" or _conforms(rm, "EVENT"))
        self.failed = c.failed
        self.passed = c.passed

    def check(self, value: Any) -> bool:
        kind = type(value)
        if kind is RMObject:
            return self.single(value)
        if kind is list:
            return self.multi(value)
        prim = self.prim
        if value is None or prim is None:
            return True
        if self.name == "action_archetype_id" and _is_the_pattern(prim, value):
            return True
        scratch = self.c.scratch
        _check_primitive(prim, value, self.c.where(self.term), scratch)
        if scratch.issues:
            scratch.issues.clear()
            return False
        return True

    def match(self, item: RMObject, found: dict[int, int] | None) -> _Hit | None:
        key = item.attrs.get("archetype_node_id")
        if type(key) is not str:
            key = None  # not a LOCATABLE (or a malformed node id): matched by RM type, as ``match`` does
        rm = item.rm_type
        hit = self.first.get(key)
        if hit is None or hit is _DYNAMIC or hit[0] != rm:
            bkey = (key, rm)
            if bkey in self.by_type:
                hit = self.by_type[bkey]
            else:
                hit = self.by_type[bkey] = self.bounded(self.c.static_match(self.at, key, rm, self.term))
                self.first.setdefault(key, hit)
            if hit is _DYNAMIC:
                return self.bounded(self.c.dynamic_match(self.at, item, key, found, self.term))
        return hit

    def bounded(self, match: Any) -> Any:
        """A match of ``_Compiled`` (RM type, id(candidate), check) as a ``_Hit``; None and _DYNAMIC as they are."""
        if type(match) is not tuple:
            return match
        rm, cid, check = match
        return rm, cid, check, self.most.get(cid)

    def single(self, value: RMObject) -> bool:
        rm = value.rm_type
        if rm.startswith("DV_") or rm == "CODE_PHRASE":
            verdict = self.values.get(rm)
            if verdict is None:
                verdict = self.values[rm] = self.c.value_alternatives(self.at, rm, self.term)
            return verdict(value)
        hit = self.match(value, None)
        if hit is None:
            return False
        if not hit[2](value):
            self.failed.add(id(value))
            return False
        if self.empty_data:
            # VAL010, or a missing node the walk names instead (``check_empty_data``): reported either way
            vattrs = value.attrs
            if (bool(vattrs.get("events")) if rm == "HISTORY" or _conforms(rm, "HISTORY") else
                    bool(vattrs.get("items") or vattrs.get("rows") or vattrs.get("item"))):
                return True
            self.passed.add((id(value), id(hit[2])))
            return False
        return True

    def multi(self, items: list[Any]) -> bool:
        n = len(items)
        if n < self.lower or (self.upper is not None and n > self.upper):
            return False  # VAL004 (or VAL002)
        first = self.first
        found: dict[int, int] = {}
        counts_wrong = False
        for item in items:
            if type(item) is not RMObject:
                return False
            key = item.attrs.get("archetype_node_id")
            hit = first.get(key) if type(key) is str else None
            if hit is None or hit is _DYNAMIC or hit[0] != item.rm_type:
                hit = self.match(item, found)
                if hit is None:
                    self.record_items(items, item)
                    return False
            if not hit[2](item):
                self.failed.add(id(item))
                self.record_items(items, item)
                return False
            cid = hit[1]
            k = found[cid] = found.get(cid, 0) + 1
            most = hit[3]
            if most is not None and k > most:
                counts_wrong = True  # VAL003, reported once every item is known to be valid itself
        if not counts_wrong:
            for cid, lo in self.required:
                if found.get(cid, 0) < lo:
                    counts_wrong = True  # VAL002
                    break
        if counts_wrong:
            self.record_items(items, None)
            return False
        return True

    def record(self, value: Any) -> None:
        """``value`` passed this check: record its objects as valid (``_Compiled.passed``)."""
        if type(value) is list:
            self.record_items(value, None)
        elif type(value) is RMObject and not (value.rm_type.startswith("DV_") or value.rm_type == "CODE_PHRASE"):
            hit = self.match(value, None)
            if hit is not None:
                self.passed.add((id(value), id(hit[2])))

    def record_items(self, items: list[Any], upto: Any) -> None:
        """The items before ``upto`` (None: all) passed their checks: record them, replaying their matches."""
        found: dict[int, int] = {}
        for item in items:
            if item is upto:
                return
            hit = self.match(item, found)
            if hit is None:
                return  # not an item ``multi`` checked (a data value in a list)
            self.passed.add((id(item), id(hit[2])))
            found[hit[1]] = found.get(hit[1], 0) + 1


# Tables per template, keyed by id(template); the entry keeps the template so a reused id is detected.
_TABLE_CACHE: dict[int, _Tables] = {}
_TABLE_CACHE_MAX = 64


def _tables_for(template: OperationalTemplate) -> _Tables:
    hit = _TABLE_CACHE.get(id(template))
    if hit is None or hit.template is not template:
        if len(_TABLE_CACHE) >= _TABLE_CACHE_MAX:
            _TABLE_CACHE.clear()
        hit = _TABLE_CACHE[id(template)] = _Tables(template)
    return hit


# ---------------------------------------------------------------------------------------------------------------
# The walker


def _occ_text(lower: int, upper: int | None) -> str:
    return f"{lower}..{'*' if upper is None else upper}"


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


class _Walker:
    """One validation run: the template's tables, the reporter and the composition's language."""

    __slots__ = ("t", "rep", "lang", "_rules", "_dv", "_prim", "_facts", "_entries", "_quiet", "_scratch",
                 "_fast_rules", "rejected", "_compiled", "_checks")

    def __init__(self, tables: _Tables, rep: Reporter, lang: str) -> None:
        self.t = tables
        self._facts = tables._facts  # read directly on the hot path; filled through tables.facts()
        self._entries = tables.entries(lang)  # likewise, filled through tables.entry()
        self.rep = rep
        self.lang = lang
        # bound once: module globals are looked up on every call otherwise
        self._rules = _check_rm_rules
        #: whether the RM rules are the real ones, whose verdict on a plain ELEMENT is known (see ``element``)
        self._fast_rules = _check_rm_rules is _real_check_rm_rules
        self._dv: Callable[[CObject | None, RMObject, Where, Reporter], None] = _check_data_value
        self._prim: Callable[[Any, Any, Where, Reporter], None] = _check_primitive
        #: id(terminology) -> a location-less Where carrying the terminology and language a data-value check needs
        #: (kept with the tables: a Where is immutable)
        self._quiet = tables.quiet_wheres(lang)
        #: receives the issues of the quiet first run of a data-value check (see ``data_value``)
        self._scratch = Reporter()
        #: ids of the coded values whose code an RM rule rejected (reported once, by the rule)
        self.rejected: set[int] = set()
        #: the template's compiled checks (``_Compiled``): an object they accept is not walked. Only with the real
        #: RM rules, whose verdicts they build in (a replaced checker must see every object, as the walk calls it)
        self._compiled = tables.compiled(lang)
        self._checks: dict[tuple[int, str, int], _Check] | None = (
            self._compiled.nodes if self._fast_rules else None)

    def where(self, tpath: str, obj: RMObject, label: str | None, term: Terminology | None) -> Where:
        return Where(tpath, obj.location or "/", label, term, self.lang, obj.line)

    def add(
        self,
        code: str,
        message: str,
        tpath: str,
        ipath: str,
        *,
        label: str | None = None,
        term: Terminology | None = None,
        line: int | None = None,
        expected: object = None,
        found: object = None,
    ) -> None:
        self.rep.add(
            code, message, Where(tpath, ipath or "/", label, term, self.lang, line), expected=expected, found=found
        )

    # -- objects -----------------------------------------------------------------------------------------------

    def obj(
        self, obj: RMObject, cons: CObject | None, tpath: str, term: Terminology | None, label: str | None
    ) -> None:
        """Check ``obj`` (matched to ``cons``; None: unconstrained) and everything below it."""
        rm = obj.rm_type
        attrs = obj.attrs
        facts: _Facts | None = None
        if cons is not None:
            checks = self._checks
            if checks is not None and id(obj) not in self._compiled.failed:
                # the valid case (nearly every object): the node's compiled check, no walk
                check = checks.get((id(cons), rm, id(term)))
                if check is None:
                    check = self._compiled.node(cons, rm, term)
                passed = self._compiled.passed
                if (passed and (id(obj), id(check)) in passed) or check.__self__.gate(obj, check):  # type: ignore[attr-defined]
                    return
            facts = self._facts.get(id(cons))
            if facts is None:
                facts = self.t.facts(cons)
            # the commonest object by far: an ELEMENT with a name and a value
            if (rm == "ELEMENT" and len(attrs) == 3 and facts[3] is not False and self._fast_rules
                    and not obj.unknown and self.element(obj, attrs, facts, tpath, term, label)):
                return
        if obj.unknown:
            ip = obj.location or "/"
            for name in obj.unknown:
                self.add("VAL011", f"{rm} has no attribute '{name}'; it is kept but not validated (not part of "
                         "the reference model)", _join(tpath, name), _join(ip, name), label=label, term=term,
                         line=obj.line)
        info = _TYPE_INFO.get(rm)
        if info is None:
            info = _type_info(rm)
        mandatory, has_rules, plain_name = info
        if has_rules:
            # the location is built only if a rule reports something
            rejected = self._rules(
                obj, lambda: Where(tpath, obj.location or "/", label, term, self.lang, obj.line), self.rep
            )
            if rejected:
                self.rejected.update(id(v) for v in rejected)

        table: dict[str, _AttrTable] | None = None
        required: tuple[str, ...] = ()
        if facts is not None:
            table, rules, required, _ = facts
            if rules:
                self.check_name(obj, rules, tpath, term, label)

        for name, value in attrs.items():
            kind = type(value)
            if kind is RMObject:
                if name == "name":
                    # a LOCATABLE's name (its constraint was checked above, VAL014): the common plain DV_TEXT with a
                    # non-blank value has nothing to report; anything else is checked as an open attribute
                    if plain_name and value.rm_type == "DV_TEXT":
                        vattrs = value.attrs
                        if len(vattrs) == 1:
                            text = vattrs.get("value")
                            if type(text) is str and text and not text.isspace():
                                continue
                    self.unconstrained(rm, name, value, tpath, term, label)
                    continue
                at = table.get(name) if table is not None else None
                if at is None or at.open:
                    self.unconstrained(rm, name, value, tpath, term, label)
                else:
                    self.single(obj, name, value, at, tpath, term, label)
            elif kind is list:
                at = table.get(name) if table is not None else None
                if at is None or at.open:
                    for item in value:
                        if type(item) is RMObject:
                            self.unconstrained(rm, name, item, tpath, term, label)
                else:
                    self.multi(obj, name, value, at, tpath, term, label)
            elif table is not None and value is not None:
                at = table.get(name)
                if at is not None and at.prim is not None and at.prim.item is not None:
                    if name == "action_archetype_id" and _is_the_pattern(at.prim.item, value):
                        continue
                    self._prim(at.prim.item, value, Where(self.t.path(at.prim), _join(obj.location or "/", name),
                                                          label, term, self.lang, obj.line), self.rep)

        reported: set[str] | None = None
        for name in mandatory:
            if attrs.get(name) is None:
                what = name.replace("_", " ")
                self.add("VAL006", f"{rm} must have '{name}' ({what}); the reference model makes it mandatory",
                         _join(tpath, name), obj.location or "/", label=label, term=term, line=obj.line,
                         expected=name)
                if reported is None:
                    reported = set()
                reported.add(name)
        # only the constrained attributes whose absence can be an issue (precomputed per node) are looked at
        for name in required:
            if attrs.get(name) is None and (reported is None or name not in reported):
                assert table is not None
                self.absent(obj, table[name], tpath, term, label)

    def element(
        self, obj: RMObject, attrs: dict[str, Any], facts: _Facts, tpath: str, term: Terminology | None,
        label: str | None,
    ) -> bool:
        """``obj`` for an ELEMENT with exactly archetype_node_id, name and value (the caller checked the count and
        that the node allows it, ``facts[3]``): no unknown or missing attribute to report, no RM rule that can fire
        (it has a value and no null_flavour), so only its name constraint and its value are checked, in the order
        ``obj`` would check them. False, before anything is reported, when the element is not that plain."""
        name = attrs.get("name")
        value = attrs.get("value")
        if type(name) is not RMObject or type(value) is not RMObject or name.rm_type != "DV_TEXT" \
                or type(attrs.get("archetype_node_id")) is not str:
            return False
        nattrs = name.attrs
        if len(nattrs) != 1:
            return False
        text = nattrs.get("value")
        if type(text) is not str or not text or text.isspace():
            return False  # the name itself has something to report: the general walk reports it in order
        if facts[1]:
            self.check_name(obj, facts[1], tpath, term, label)
        at = facts[3]
        if at is None or at.open:  # type: ignore[union-attr]
            self.unconstrained("ELEMENT", "value", value, tpath, term, label)
            return True
        assert isinstance(at, _AttrTable)
        rm = value.rm_type
        plan = at.dv_plans.get(rm, _NO_PLAN)
        if plan is _NO_PLAN:
            plan = self.dv_plan(at, rm)
        if plan is None:
            self.single(obj, "value", value, at, tpath, term, label)
            return True
        self.run_plan(plan, value, term, label)
        return True

    def run_plan(self, plan: Any, value: RMObject, term: Terminology | None, label: str | None) -> Any:
        """Check a data value with its node's pre-bound checker; report through the full checker only on trouble."""
        cons, check, eff = plan
        quiet = self._quiet.get(id(term))
        if quiet is None or quiet.terminology is not term:
            quiet = self.quiet(term)
        scratch = self._scratch
        check(eff, value, quiet, scratch)
        if scratch.issues:
            self.report_data_value(cons, value, None, None, term, label)
        return cons

    def check_name(
        self, obj: RMObject, rules: tuple[_NameRule, ...], tpath: str, term: Terminology | None, label: str | None
    ) -> None:
        name = obj.attrs.get("name")
        if not isinstance(name, RMObject):
            return  # a missing name is VAL006
        for rule in rules:
            if rule.matches(name):
                return
        found = name.attrs.get("value")
        self.add("VAL014", f"is named '{found}', but the template requires {rules[0].describe()}",
                 _join(tpath, "name"), name.location, label=label, term=term, line=name.line,
                 expected=rules[0].describe(), found=found)

    def unconstrained(
        self, parent_rm: str, name: str, value: RMObject, ptpath: str, term: Terminology | None, plabel: str | None
    ) -> None:
        """An attribute the template leaves open: only the RM type is checked, then the content as RM."""
        rm = value.rm_type
        kind = _OPEN_KIND.get((parent_rm, name, rm))
        if kind is None:
            kind = _open_kind(parent_rm, name, rm)
        if kind == _PLAIN_DATA:
            if not self.open_value_quiet(value, rm, term):
                self.report_data_value(None, value, ptpath, name, term, plabel)
            return
        if kind == _OBJECT:
            if self.open_quiet(value, term):
                return  # nothing below to report: no path or label needed
            label = value.name_value if "archetype_node_id" in value.attrs else None
            self.obj(value, None, _join(ptpath, name), term, label)
            return
        declared = _declared(parent_rm, name)
        self.add("VAL007", f"'{name}' of {parent_rm} must be a {declared}, found {rm}",
                 _join(ptpath, name), value.location, label=plabel, term=term, line=value.line,
                 expected=declared, found=rm)

    def open_value_quiet(self, value: RMObject, rm: str, term: Terminology | None) -> bool:
        """Whether a data value the template leaves open is valid (``_Compiled.open_value``)."""
        return self._compiled.open_value(value, term)

    def open_quiet(self, obj: RMObject, term: Terminology | None) -> bool:
        """Whether ``obj(obj, None, ...)`` (an object the template leaves open) would report nothing, decided
        without building any path (``_Compiled.open_object``). False when anything may need reporting: the full
        walk then reports it."""
        return self._compiled.open_object(obj, term)

    def single(
        self,
        parent: RMObject,
        name: str,
        value: RMObject,
        at: _AttrTable,
        ptpath: str,
        term: Terminology | None,
        plabel: str | None,
    ) -> None:
        """A single-valued attribute the template constrains: pick the alternative, then check against it."""
        if _is_data_value(value.rm_type):
            self.constrained_value(value, at, ptpath, term, plabel)
            return
        matched = self.match(value, at, ptpath, term, plabel, None)
        if matched is None:
            return
        cons, target, slot_fill, _counted = matched
        before = len(self.rep.issues)
        self.descend(value, cons, target, slot_fill, ptpath, name, term)
        if name == "data" and (parent.rm_type == "OBSERVATION" or _conforms(parent.rm_type, "EVENT")):
            self.check_empty_data(parent, value, before, ptpath, term, plabel)

    def multi(
        self,
        parent: RMObject,
        name: str,
        items: list[Any],
        at: _AttrTable,
        ptpath: str,
        term: Terminology | None,
        plabel: str | None,
    ) -> None:
        """A container attribute the template constrains: match each item, then occurrences and cardinality."""
        found: dict[int, list[RMObject]] = {}
        fast = at.fast.get(self.lang)
        if fast is None:
            fast = at.fast[self.lang] = {}
        for item in items:
            if type(item) is not RMObject and not isinstance(item, RMObject):
                continue
            rm = item.rm_type
            attrs = item.attrs
            key = attrs.get("archetype_node_id")
            # the common case: a node id (and type) already matched to its one candidate, see ``match``
            hit = fast.get(key) if type(key) is str else None
            if hit is None or hit[0] != rm:
                self.multi_item(item, at, found, fast, ptpath, name, term, plabel)
                continue
            _, cid, cons, target, path, node_term, label, is_root = hit
            got = found.get(cid)
            if got is None:
                found[cid] = [item]
            else:
                got.append(item)
            if node_term is None:
                node_term = term
            if is_root:
                self.check_root_details(item, target)  # type: ignore[arg-type]
            self.obj(item, target, path, node_term, label)
        self.check_occurrences(parent, name, items, at, found, ptpath, term)

    def multi_item(
        self,
        item: RMObject,
        at: _AttrTable,
        found: dict[int, list[RMObject]],
        fast: dict[str, _FastMatch],
        ptpath: str,
        name: str,
        term: Terminology | None,
        plabel: str | None,
    ) -> None:
        """One item of ``multi`` the fast table does not answer: match, count, descend; remember the match in
        ``fast`` when ``match`` memoised it (one candidate of the right type for its node id)."""
        rm = item.rm_type
        if _is_data_value(rm):  # a list of data values (rare: e.g. other_reference_ranges)
            cons = self.constrained_value(item, at, ptpath, term, plabel)
            if cons is not None:
                found.setdefault(id(cons), []).append(item)
            return
        matched = self.match(item, at, ptpath, term, plabel, found)
        if matched is None:
            return
        cons, target, slot_fill, counted = matched
        if counted:
            found.setdefault(id(cons), []).append(item)
        key = item.attrs.get("archetype_node_id")
        if (type(key) is str and key not in fast and not slot_fill and target is not None
                and at.keyed_match.get((key, rm)) is matched):
            entry = self.t.entry(target, self.lang)
            fast[key] = (rm, id(cons), cons, target, entry[0], entry[1], entry[2], entry[3])
        self.descend(item, cons, target, slot_fill, ptpath, name, term)

    def quiet(self, term: Terminology | None) -> Where:
        """The location-less Where of a quiet data-value check under ``term`` (one per terminology and language,
        kept with the template's tables)."""
        hit = self._quiet.get(id(term))
        if hit is None or hit.terminology is not term:
            hit = self._quiet[id(term)] = Where("", "", None, term, self.lang, None)
        return hit

    def dv_plan(self, at: _AttrTable, rm: str) -> tuple[CObject, Callable[..., None], CObject | None] | None:
        """``at.dv_plans[rm]``, computed: the one alternative a data value of type ``rm`` matches, with its
        checker; None when ``match_data_value`` must decide (several alternatives, none, not a data value)."""
        plan = None
        if _is_data_value(rm):
            memo = at.dv_match
            if rm in memo:
                hit = memo[rm]
            else:
                hit = memo[rm] = _data_value_alternative(at.attr.children, rm)
            if hit is not None and type(hit) is not tuple:
                check, eff = _checker_for(hit, rm)  # type: ignore[arg-type]
                plan = (hit, check, eff)
        at.dv_plans[rm] = plan  # type: ignore[assignment]
        return plan  # type: ignore[return-value]

    def constrained_value(
        self, value: RMObject, at: _AttrTable, ptpath: str, term: Terminology | None, plabel: str | None
    ) -> CObject | None:
        """A data value under a constrained attribute: match it to its alternative (``match_data_value``) and check
        it (``data_value``); the alternative, or None when there is none (reported)."""
        rm = value.rm_type
        plan = at.dv_plans.get(rm, _NO_PLAN)
        if plan is _NO_PLAN:
            plan = self.dv_plan(at, rm)
        if plan is None:
            cons = self.match_data_value(value, at, ptpath, term, plabel)
            if cons is not None:
                self.data_value(cons, value, None, None, term, plabel)
            return cons
        return self.run_plan(plan, value, term, plabel)

    def data_value(
        self,
        cons: CObject | None,
        value: RMObject,
        ptpath: str | None,
        step: str | None,
        term: Terminology | None,
        label: str | None,
    ) -> None:
        """Hand a data value to the data-value checker, quietly first: no location (Where, paths) is built for the
        great majority of values, which are valid. Only when the quiet run finds something is the check run again
        with the value's location, into the report (``report_data_value``). The template path is the
        constraint's (``cons``), or ``ptpath/step`` for a value the template leaves open."""
        quiet = self._quiet.get(id(term))
        if quiet is None or quiet.terminology is not term:
            quiet = self.quiet(term)
        scratch = self._scratch
        self._dv(cons, value, quiet, scratch)
        if scratch.issues:
            self.report_data_value(cons, value, ptpath, step, term, label)

    def report_data_value(
        self,
        cons: CObject | None,
        value: RMObject,
        ptpath: str | None,
        step: str | None,
        term: Terminology | None,
        label: str | None,
    ) -> None:
        """The quiet check of a data value found something (in the scratch reporter): check it again with its
        location, into the report."""
        scratch = self._scratch
        scratch.issues.clear()
        if cons is not None:
            tpath = self.t.path(cons)
        else:
            tpath = _join(ptpath or "/", step) if step else (ptpath or "/")
        where = Where(tpath, value.location, label, term, self.lang, value.line)
        if id(value) not in self.rejected:
            self._dv(cons, value, where, self.rep)
            return
        # an RM rule reported this value's code: keep the data-value findings that are other problems
        self._dv(cons, value, where, scratch)
        self.rep.issues.extend(i for i in scratch.issues if i.code not in _SUPPRESSED_AFTER_RULE)
        scratch.issues.clear()

    def descend(
        self,
        item: RMObject,
        cons: CObject,
        target: CObject | None,
        slot_fill: bool,
        ptpath: str,
        name: str,
        term: Terminology | None,
    ) -> None:
        """Continue below a matched item: against its constraint, the internal ref's target, or as plain RM."""
        if slot_fill or target is None:
            label = item.name_value
            self.obj(item, None, self.t.path(cons), term, label)
            return
        entry = self._entries.get(id(target))
        if entry is None:
            entry = self.t.entry(target, self.lang)
        if entry[3]:
            self.check_root_details(item, target)  # type: ignore[arg-type]
        self.obj(item, target, entry[0], term if entry[1] is None else entry[1], entry[2])

    # -- matching ------------------------------------------------------------------------------------------------

    def match_data_value(
        self, value: RMObject, at: _AttrTable, ptpath: str, term: Terminology | None, plabel: str | None
    ) -> CObject | None:
        """The data value alternative ``value`` conforms to (exact type first), or None after a VAL007/VAL013.

        Of several alternatives of its type, the first under which the value is valid; when none accepts it, the one
        it is reported against (:meth:`pick_data_value`)."""
        rm = value.rm_type
        memo = at.dv_match
        if rm in memo:
            hit = memo[rm]
        else:
            hit = memo[rm] = _data_value_alternative(at.attr.children, rm)
        if hit is not None:
            if type(hit) is tuple:
                return self.pick_data_value(hit, value, term)
            return hit  # type: ignore[return-value]
        if id(value) in self.rejected:
            return None  # an RM rule already reported this value (e.g. a plain-text category): once is enough
        alts = at.attr.children
        allowed = [a.rm_type_name for a in alts if not isinstance(a, (ArchetypeSlot, CPrimitiveObject))]
        tpath = self.t.path(alts[0]) if alts else _join(ptpath, at.attr.rm_attribute_name)
        if not allowed:
            return None
        if _base(rm) == "DV_TEXT" and "DV_CODED_TEXT" in {_base(a) for a in allowed}:
            self.add("VAL013", "is plain text (DV_TEXT), but the template requires a coded text (DV_CODED_TEXT)",
                     tpath, value.location, label=plabel, term=term, line=value.line,
                     expected="DV_CODED_TEXT", found=rm)
        else:
            shown = " or ".join(dict.fromkeys(allowed))
            self.add("VAL007", f"has a {rm} value, but the template allows {shown}", tpath, value.location,
                     label=plabel, term=term, line=value.line, expected=shown, found=rm)
        return None

    def pick_data_value(self, alts: tuple[CObject, ...], value: RMObject, term: Terminology | None) -> CObject:
        """Several alternatives of the value's type: each is tried quietly; the first that accepts the value is its
        constraint. None does: the value is reported against the alternative it was evidently meant for (its units
        or code listed, see ``_affinity``), else the one with the fewest issues, else the first."""
        quiet = self.quiet(term)
        scratch = self._scratch
        best = alts[0]
        best_key: tuple[int, int] | None = None
        for alt in alts:
            self._dv(alt, value, quiet, scratch)
            n = len(scratch.issues)
            if not n:
                return alt
            scratch.issues.clear()
            key = (0 if _affinity(alt, value) else 1, n)
            if best_key is None or key < best_key:
                best, best_key = alt, key
        return best

    def match(
        self,
        item: RMObject,
        at: _AttrTable,
        ptpath: str,
        term: Terminology | None,
        plabel: str | None,
        found: dict[int, list[RMObject]] | None,
    ) -> tuple[CObject, CObject | None, bool, bool] | None:
        """The constraint child ``item`` is an occurrence of: (child, node to check against, filled-slot flag,
        counts as an occurrence).

        None when it is none of them (VAL001/VAL008 reported). The node to check against is None when the RM
        type is wrong (VAL007: the occurrence counts, the content is not checked against the wrong node).
        """
        key = item.attrs.get("archetype_node_id")
        if type(key) is str:
            # the common case, memoised per (node id, RM type): the one candidate of the right type
            hit = at.keyed_match.get((key, item.rm_type))
            if hit is not None:
                return hit
        else:
            key = None
        # not a LOCATABLE (EVENT_CONTEXT, FEEDER_AUDIT, ISM_TRANSITION...) when key is None: the template's node
        # ids only name its constraints, so the RM type decides (ISM transitions: the careflow step)
        found_cands = self.t.candidates(item, key, at)
        if found_cands is None:
            return self.no_match(item, key, at, ptpath, term, plabel)
        cands, typed = found_cands
        if not typed:
            cons = cands[0]
            allowed = " or ".join(dict.fromkeys(c.rm_type_name for c in cands))
            self.add("VAL007", f"is a {item.rm_type}, but the template defines {allowed} here",
                     self.t.path(cons), item.location, label=self.t.label(cons, self.lang), term=term,
                     line=item.line, expected=allowed, found=item.rm_type)
            return cons, None, False, True
        counted = True
        if len(typed) > 1:
            typed, counted = self.t.pick_by_name(item, typed, at if key is not None else None)
            if len(typed) > 1 and found is not None:
                # the same node id and name fits several: fill them in template order
                typed = _first_with_room(typed, lambda c: len(found.get(id(c), ())))  # type: ignore[union-attr]
        cons = typed[0]
        target: CObject | None = cons
        if isinstance(cons, ArchetypeInternalRef):
            target = self.t.resolve(cons)
        result = (cons, target, False, counted)
        if key is not None and len(cands) == 1 and counted:
            # one candidate for this node id, of the right type: the answer never depends on the item's name
            # or on how many were found before, so it is kept
            at.keyed_match[(key, item.rm_type)] = result
        return result

    def no_match(
        self,
        item: RMObject,
        key: str | None,
        at: _AttrTable,
        ptpath: str,
        term: Terminology | None,
        plabel: str | None,
    ) -> tuple[CObject, CObject | None, bool, bool] | None:
        attr_name = at.attr.rm_attribute_name
        tpath = _join(ptpath, attr_name)
        shown = f"'{item.name_value}' ({key})" if item.name_value else (key or item.rm_type)
        if key and _looks_like_archetype_id(key) and at.slots:
            for slot in at.slots:
                if _conforms(item.rm_type, slot.rm_type_name) and slot.allows(key):
                    self.add("VAL015", f"{shown} fills the slot {self.t.label(slot, self.lang)}, but the template "
                             "does not describe this archetype; its content is checked against the reference "
                             "model only", self.t.path(slot), item.location, label=plabel, term=term,
                             line=item.line, found=key)
                    return slot, None, True, True
            slot = at.slots[0]
            self.add("VAL008", f"{shown} is not allowed in the slot {self.t.label(slot, self.lang)}: the archetype "
                     "does not match its include/exclude patterns", self.t.path(slot), item.location,
                     label=plabel, term=term, line=item.line,
                     expected=_slot_patterns(at.slots), found=key)
            return None
        allowed = [self.t.label(c, self.lang) for cs in at.by_key.values() for c in cs[:1]]
        allowed += [self.t.label(s, self.lang) for s in at.slots]
        listed = ", ".join(allowed[:6]) + (", ..." if len(allowed) > 6 else "")
        self.add("VAL001", f"{shown} is not defined by the template here" + (f"; allowed: {listed}" if listed else ""),
                 tpath, item.location, label=plabel, term=term, line=item.line, found=key or item.rm_type)
        return None

    def check_root_details(self, item: RMObject, root: CArchetypeRoot) -> None:
        """A nested archetype root's own archetype_details must name the archetype the template uses there."""
        details = item.attrs.get("archetype_details")
        declared = _text_of(details, "archetype_id")
        if declared is not None and root.archetype_id and declared != root.archetype_id:
            # archetype_node_id (which matched) governs; the disagreeing details are a data quality warning
            self.add("VAL019", f"archetype_details names the archetype {declared}, but the node is "
                     f"{root.archetype_id} (its archetype_node_id, which the template uses here)", self.t.path(root), _join(item.location or "/", "archetype_details"),
                     label=self.t.label(root, self.lang), line=item.line,
                     expected=root.archetype_id, found=declared)

    # -- counting ------------------------------------------------------------------------------------------------

    def check_occurrences(
        self,
        parent: RMObject,
        name: str,
        items: list[Any],
        at: _AttrTable,
        found: dict[int, list[RMObject]],
        ptpath: str,
        term: Terminology | None,
    ) -> None:
        spec = at.occ
        if spec is None:
            spec = at.occ = _occurrence_spec(at.attr)
        checks, lower, upper = spec
        n = len(items)
        if not checks and upper is None and n and lower <= 1:
            return  # no occurrence bounds, and no cardinality (nor RM non-emptiness) a non-empty list can break
        missing = False
        for cid, c, lo, up in checks:
            got = found.get(cid)
            k = len(got) if got else 0
            if lo and k < lo:
                missing = True
                self.missing(c, lo, up, k, parent.location or "/", parent.line, term)
            elif up is not None and got and k > up:
                extra = got[up]
                lab = self.t.label(c, self.lang)
                msg = (f"{lab} is not allowed here (the template excludes it)" if up == 0 else
                       f"{lab} occurs {_times(k)}; the template allows at most {up}")
                self.add("VAL003", msg, self.t.path(c), extra.location, label=lab, term=term, line=extra.line,
                         expected=_occ_text(lo or 0, up), found=k)
        if lower < 1 and _non_empty(parent.rm_type, name):
            lower = 1
        if upper is not None and n > upper:
            self.add("VAL004", f"'{name}' has {n} items; at most {upper} {'is' if upper == 1 else 'are'} allowed", _join(ptpath, name),
                     _join(parent.location or "/", name), term=term, line=parent.line,
                     expected=_occ_text(lower, upper), found=n)
        elif n < lower and not missing:
            self.add("VAL004", f"'{name}' has {n} item{'s' if n != 1 else ''}; at least {lower} "
                     f"{'is' if lower == 1 else 'are'} required", _join(ptpath, name),
                     _join(parent.location or "/", name), term=term, line=parent.line,
                     expected=_occ_text(lower, upper), found=n)

    def missing(
        self, c: CObject, lower: int, upper: int | None, n: int, ip: str, line: int | None, term: Terminology | None
    ) -> None:
        lab = self.t.label(c, self.lang)
        msg = (f"{lab} is missing; the template requires it" if n == 0 and lower == 1 else
               f"{lab} occurs {_times(n) if n else 'nowhere'}; the template requires at least {lower}")
        self.add("VAL002", msg, self.t.path(c), ip, label=lab, term=term, line=line,
                 expected=_occ_text(lower, upper), found=n)

    def absent(
        self, obj: RMObject, at: _AttrTable, tpath: str, term: Terminology | None, label: str | None
    ) -> None:
        """A constrained attribute the instance does not have: template existence, then required children."""
        attr = at.attr
        name = attr.rm_attribute_name
        verdict = _absence_verdict(obj.rm_type, at)
        if not verdict:
            return
        ip = obj.location or "/"
        if verdict == 1:
            self.add("VAL005", f"'{name}' is missing; the template makes it mandatory", _join(tpath, name), ip,
                     label=label, term=term, line=obj.line, expected=name)
            return
        for c in attr.children:
            occ = c.occurrences
            if occ is not None and occ.lower and not isinstance(c, CPrimitiveObject):
                self.missing(c, occ.lower, occ.upper, 0, ip, obj.line, term)

    def check_empty_data(
        self, parent: RMObject, data: RMObject, before: int, ptpath: str, term: Terminology | None,
        plabel: str | None,
    ) -> None:
        """VAL010: an OBSERVATION whose history has no event, an EVENT whose structure has no item.

        Not reported when the walk below already named a missing node (VAL002/VAL004 say it more precisely).
        """
        if data.rm_type == "HISTORY" or _conforms(data.rm_type, "HISTORY"):
            empty = not data.attrs.get("events")
            what = "its history has no event"
        else:
            empty = not (data.attrs.get("items") or data.attrs.get("rows") or data.attrs.get("item"))
            what = "its data has no items"
        if not empty:
            return
        for issue in self.rep.issues[before:]:
            if issue.code in ("VAL002", "VAL004", "VAL005", "VAL006"):
                return
        self.add("VAL010", f"the {parent.rm_type} is empty: {what}", _join(ptpath, "data"), data.location,
                 label=plabel, term=term, line=data.line)


def _is_the_pattern(item: Any, value: Any) -> bool:
    """ACTIVITY.action_archetype_id is itself a regular expression (RM: the ids of the ACTIONs that may carry out
    the activity), and tools copy the template's pattern into it: that value is the intended one."""
    pattern = getattr(item, "pattern", None)
    return isinstance(value, str) and pattern is not None and value.strip("/") == pattern.strip("/")


def _code_of(coded: Any) -> str | None:
    """``defining_code/code_string`` of a DV_CODED_TEXT instance."""
    if isinstance(coded, RMObject):
        code = coded.attrs.get("defining_code")
        if isinstance(code, RMObject):
            value = code.attrs.get("code_string")
            return value if isinstance(value, str) else None
    return None


def _coded_codes(node: CObject, name: str) -> frozenset[str]:
    """The codes a constraint allows for its coded attribute ``name`` (current_state, careflow_step of an
    ISM_TRANSITION); empty when unconstrained."""
    if not isinstance(node, CComplexObject):
        return frozenset()
    attr = node.attribute(name)
    codes: set[str] = set()
    for alt in attr.children if attr is not None else ():
        if isinstance(alt, CComplexObject):
            dc = alt.attribute("defining_code")
            for cp in dc.children if dc is not None else ():
                if isinstance(cp, CCodePhrase):
                    codes.update(cp.code_list)
    return frozenset(codes)


def _slot_patterns(slots: list[ArchetypeSlot]) -> str:
    parts = []
    for s in slots:
        inc = [a.pattern for a in s.includes if a.pattern]
        exc = [a.pattern for a in s.excludes if a.pattern]
        if inc:
            parts.append("include " + " | ".join(inc))
        if exc:
            parts.append("exclude " + " | ".join(exc))
    return "; ".join(parts) or "(no patterns)"


# ---------------------------------------------------------------------------------------------------------------
# Entry points


def composition_template_id(comp: RMObject) -> str | None:
    """``archetype_details/template_id/value`` of a composition, or None."""
    return _text_of(comp.attrs.get("archetype_details"), "template_id")


def _language(comp: RMObject, default: str) -> str:
    lang = comp.attrs.get("language")
    if isinstance(lang, RMObject):
        code = lang.attrs.get("code_string")
        if isinstance(code, str) and code:
            return code
    return default


def validate_composition(
    comp: RMObject, template: OperationalTemplate, *, file: str | None = None
) -> list[Issue]:
    """Every issue of ``comp`` against ``template`` (structure, data values, RM rules), in walk order."""
    tables = _tables_for(template)
    root = template.definition
    lang = _language(comp, template.language)
    compiled = tables.compiled(lang)
    if compiled.failed or compiled.passed:
        compiled.failed.clear()
        compiled.passed.clear()
    if (_check_rm_rules is _real_check_rm_rules and comp.archetype_node_id == root.archetype_id
            and composition_template_id(comp) == template.template_id and _conforms(comp.rm_type, root.rm_type_name)):
        check = compiled.node(root, comp.rm_type, root.terminology)
        if check.__self__.gate(comp, check):  # type: ignore[attr-defined]
            # the valid composition, accepted by the template's compiled checks (the walk below would find
            # nothing: the root's checks, type included, are the compiled root node's)
            return []
        compiled.failed.add(id(comp))
    rep = Reporter(file)
    walker = _Walker(tables, rep, lang)
    ip = comp.location or "/"
    root_label = tables.label(root, lang)

    if not _conforms(comp.rm_type, root.rm_type_name):
        walker.add("VAL007", f"the document is a {comp.rm_type}, but the template describes a {root.rm_type_name}",
                   "/", ip, line=comp.line, expected=root.rm_type_name, found=comp.rm_type)
        return rep.issues

    template_id = composition_template_id(comp)
    if template_id is None:
        walker.add("VAL017", "the composition does not state its template id; it is validated against "
                   f"'{template.template_id}'", "/", _join(ip, "archetype_details"), line=comp.line,
                   expected=template.template_id)
    elif template_id != template.template_id:
        walker.add("VAL012", f"the composition was made with template '{template_id}', but it is validated "
                   f"against '{template.template_id}'", "/", _join(ip, "archetype_details/template_id"),
                   line=comp.line, expected=template.template_id, found=template_id)

    node_id = comp.archetype_node_id
    if node_id != root.archetype_id:
        # a different archetype at the root: every node below would be reported, which helps nobody
        walker.add("VAL009", f"the composition's archetype is {node_id or '(none)'}, but the template is built on "
                   f"{root.archetype_id}", "/", _join(ip, "archetype_node_id"), label=root_label, line=comp.line,
                   expected=root.archetype_id, found=node_id)
        return rep.issues
    walker.check_root_details(comp, root)
    walker.obj(comp, root, "/", root.terminology, root_label)
    return rep.issues


@dataclass
class ValidationResult:
    """The outcome for one composition file."""

    path: str
    template_id: str | None
    valid: bool
    issues: list[Issue] = field(default_factory=list)
    #: the file could not be read as a canonical composition (the issue says why); not validated
    unreadable: bool = False

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity is Severity.ERROR]

    def to_dict(self) -> dict[str, Any]:
        issues = []
        for i in self.issues:
            d = i.to_dict()
            d.setdefault("template_path", None)
            d.setdefault("instance_path", None)
            issues.append(d)
        return {
            "path": self.path,
            "template_id": self.template_id,
            "valid": self.valid,
            "unreadable": self.unreadable,
            "issues": issues,
        }


def validate_file(
    path: str | os.PathLike[str],
    template: OperationalTemplate | None = None,
    templates: Mapping[str, OperationalTemplate] | None = None,
) -> ValidationResult:
    """Read a composition (canonical JSON or XML, detected) and validate it.

    With ``templates`` (template id -> template) the composition's own template id picks the template, and
    ``template`` is the fallback; an unreadable file gives a result flagged ``unreadable`` with the located issue.
    """
    from openehr_kit.rm.reading import read_composition

    source = str(path)
    try:
        comp = read_composition(path)
    except ParseError as exc:
        if exc.code == "RMR008":  # FLAT or STRUCTURED: read through the template's web template
            return _validate_flat_file(source, template, templates)
        issue = exc.to_issue()
        issue.file = issue.file or source
        return ValidationResult(source, None, False, [issue], unreadable=True)
    except (RecursionError, MemoryError):
        issue = Issue("RMR001", "the composition is nested too deeply or too large to read", file=source)
        return ValidationResult(source, None, False, [issue], unreadable=True)

    declared = composition_template_id(comp)
    chosen = templates.get(declared) if templates and declared else None
    if chosen is None:
        chosen = template
    if chosen is None:
        known = ", ".join(sorted(templates)[:5]) if templates else ""
        msg = (f"no template '{declared}' among the templates given" if declared else
               "the composition does not state its template id and no template was given")
        if known:
            msg += f" (available: {known}{', ...' if templates and len(templates) > 5 else ''})"
        issue = Issue("VAL016", msg, file=source, expected=declared)
        return ValidationResult(source, declared, False, [issue])
    try:
        issues = validate_composition(comp, chosen, file=source)
    except RecursionError:
        issues = [Issue("VAL018", "the composition is nested too deeply to validate", file=source)]
    except Exception as exc:  # noqa: BLE001 - a validator bug must not end the batch with a traceback
        issues = [Issue("VAL018", f"internal error while validating ({type(exc).__name__}: {exc})", file=source)]
    valid = not any(i.severity is Severity.ERROR for i in issues)
    return ValidationResult(source, chosen.template_id, valid, issues)


def _flat_root_id(template: OperationalTemplate) -> str:
    """The web template id of the template's root: the first segment of every FLAT key."""
    from openehr_kit.flat._index import flat_index

    return flat_index(template).root.id


def _validate_flat_file(
    source: str,
    template: OperationalTemplate | None,
    templates: Mapping[str, OperationalTemplate] | None,
) -> ValidationResult:
    """FLAT/STRUCTURED input: pick the template by the keys' root id, convert, then validate the composition."""
    from openehr_kit.flat.validate import load_flat, read_flat_composition
    from openehr_kit.textio import read_bytes

    try:
        doc = load_flat(read_bytes(source), source)
    except ParseError as exc:
        issue = exc.to_issue()
        issue.file = issue.file or source
        return ValidationResult(source, None, False, [issue], unreadable=exc.code in ("TXT002", "TXT003"))
    roots = {k.split("/", 1)[0].split(":", 1)[0] for k in doc if "/" in k and not k.startswith("ctx/")}
    chosen = None
    for candidate in (templates or {}).values():
        if _flat_root_id(candidate) in roots:
            chosen = candidate
            break
    chosen = chosen or template
    if chosen is None:
        issue = Issue("VAL016", f"no template among those given has the FLAT root {', '.join(sorted(roots))}",
                      file=source)
        return ValidationResult(source, None, False, [issue])
    try:
        comp, issues = read_flat_composition(doc, chosen, source)
        issues = list(issues) + validate_composition(comp, chosen, file=source)
    except ParseError as exc:
        issues = [exc.to_issue()]
    except Exception as exc:  # noqa: BLE001 - a converter bug must not end the batch with a traceback
        issues = [Issue("VAL018", f"internal error while reading FLAT ({type(exc).__name__}: {exc})", file=source)]
    valid = not any(i.severity is Severity.ERROR for i in issues)
    return ValidationResult(source, chosen.template_id, valid, issues)
