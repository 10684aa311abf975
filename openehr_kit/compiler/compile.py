"""Compiling an Ocean template source (``.oet``) and ADL 1.4 archetypes into an OPT 1.4 operational template.

The steps for every content item (the root ``definition`` first):

1. the item's archetype is found by id and flattened (``flatten.ArchetypeRepository``) and copied into a
   ``CArchetypeRoot`` that carries its flat terminology;
2. the item's rules are applied in the order written (a ``clone`` rule creates a named sibling that later paths
   reach with ``[atNNNN and name/value='...']``): occurrences (``max="0"`` excludes a node, ``min="1"`` makes
   it mandatory), names, value constraints (data types, code subsets, units and ranges), defaults, event types,
   hide-on-form;
3. its nested items fill the slots at their paths (the slot must accept the archetype id and RM type); filled
   slots are replaced by the fillers, as OPTs show them.

Errors name the template file, the line of the item or rule and the path: ``TPL001`` missing archetype, ``TPL003``
unmatched slot, ``TPL004`` path not in the archetype, ``TPL010`` malformed source. ``compile_template`` raises the
first as a ParseError; ``compile_with_issues`` goes on past failing items (leaving their slots unfilled) and
returns every issue, which the differential check uses to compare what did compile.
"""

from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openehr_kit.am.model import (
    ArchetypeSlot,
    CArchetypeRoot,
    CAttribute,
    CCodePhrase,
    CComplexObject,
    CDuration,
    CDvOrdinal,
    CDvQuantity,
    CInteger,
    CObject,
    CPrimitiveObject,
    CQuantityItem,
    CString,
    Interval,
)
from openehr_kit.compiler import oet as O
from openehr_kit.compiler.flatten import (
    ONE,
    ArchetypeNotFound,
    ArchetypeRepository,
    PathError,
    Step,
    archetype_root,
    make_explicit,
    resolve,
)
from openehr_kit.diagnostics import Issue, ParseError, Severity
from openehr_kit.opt.model import DefaultValue, OperationalTemplate
from openehr_kit.rm import schema as rm

#: OET data type names (``includedTypes``) -> RM data value types
OET_TYPES = {
    "Boolean": "DV_BOOLEAN", "Coded_text": "DV_CODED_TEXT", "Count": "DV_COUNT", "Date": "DV_DATE",
    "Date_Time": "DV_DATE_TIME", "DateTime": "DV_DATE_TIME", "Duration": "DV_DURATION",
    "Identifier": "DV_IDENTIFIER", "Interval": "DV_INTERVAL", "MultiMedia": "DV_MULTIMEDIA",
    "Ordinal": "DV_ORDINAL", "Parsable": "DV_PARSABLE", "Proportion": "DV_PROPORTION", "Quantity": "DV_QUANTITY",
    "Scale": "DV_SCALE", "Text": "DV_TEXT", "Time": "DV_TIME", "URI": "DV_URI", "EHR_URI": "DV_EHR_URI",
}
EVENT_TYPES = {"PointInTime": "POINT_EVENT", "Interval": "INTERVAL_EVENT"}
_CODED_RE = re.compile(r"^\s*([^:\s][^:]*?)\s*::\s*([^:]+?)\s*(?:::(.*))?$", re.S)


class CompileError(ParseError):
    """A template that cannot be compiled; located in the template source."""


@dataclass(slots=True)
class CompileResult:
    template: OperationalTemplate | None
    issues: list[Issue] = field(default_factory=list)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity is Severity.ERROR]


class _Skip(Exception):
    """An item that failed in lenient mode: its issue is recorded, its slot stays unfilled."""


class Compiler:
    """One compilation: the source, the repository, the template language and what has been found."""

    def __init__(self, template: O.Template, repo: ArchetypeRepository, *, language: str | None = None,
                 strict: bool = True, source_dir: Path | None = None) -> None:
        self.t = template
        self.repo = repo
        self.language = language or "en"
        self._language_given = language is not None
        self.strict = strict
        self.source_dir = source_dir
        self.issues: list[Issue] = []
        self.annotations: dict[str, dict[str, str]] = {}
        self.view: dict[str, dict[str, str]] = {}
        self.defaults: list[DefaultValue] = []
        self.used: dict[str, Any] = {}
        #: id(archetype root) -> rule paths excluded there (max=0)
        self._excluded: dict[int, list[str]] = {}
        self._embedding: list[str] = []

    # --- issues ---------------------------------------------------------------------------------------------

    def problem(self, code: str, message: str, line: int | None, path: str | None = None) -> None:
        """Record an issue; an error in strict mode stops the compilation."""
        issue = Issue(code, message, file=self.t.source, line=line, template_path=path)
        if issue.severity is Severity.ERROR and self.strict:
            raise CompileError(code, message, file=self.t.source, line=line)
        self.issues.append(issue)
        if issue.severity is Severity.ERROR:
            raise _Skip()

    # --- archetypes -----------------------------------------------------------------------------------------

    def root_for(self, item: O.Item, tpath: str) -> CArchetypeRoot:
        aid = item.archetype_id
        try:
            arch = self.repo.flat(aid)
        except ArchetypeNotFound as exc:
            missing = exc.args[0]
            what = aid if missing == aid else f"{missing} (the parent of {aid})"
            self.problem("TPL001", f"archetype {what} not found in the archetype directories "
                         f"(used {'at ' + tpath if tpath else 'as the template root'})", item.line, tpath or None)
            raise
        except ParseError as exc:
            self.problem("TPL002", f"archetype {aid} used at {tpath or '/'} cannot be read: {exc}", item.line, tpath)
            raise
        if arch.rm_type != item.rm_type and not rm.is_subtype(arch.rm_type, item.rm_type):
            self.problem("TPL003", f"{aid} is a {arch.rm_type}, the template declares it as {item.rm_type} "
                         f"(at {tpath or '/'})", item.line, tpath)
        if not self._language_given and not self.used:
            self.language = arch.original_language
        self.used[aid] = arch
        return archetype_root(arch)

    # --- compiling ------------------------------------------------------------------------------------------

    def compile(self) -> OperationalTemplate:
        item = self.t.definition
        if item.template_id:
            item = self.embedded(item)
        try:
            root = self.root_for(item, "")
        except CompileError:
            raise
        except (_Skip, ArchetypeNotFound, ParseError):
            raise _Skip() from None
        root.occurrences = ONE
        if item.name:
            set_name(root, item.name)
        tpath = f"[{root.archetype_id}]"
        self.fill(root, item, tpath)
        for p, items in self.t.annotations.items():
            self.annotations.setdefault(p, {}).update(items)
        for p, items in self.t.view.items():
            self.view.setdefault(p, {}).update(items)
        desc = _description(self)
        return OperationalTemplate(
            template_id=self.t.name,
            concept=self.t.name,
            language=self.language,
            definition=root,
            uid=self.t.id if self.t.id != self.t.name else None,
            is_controlled=False,
            description=desc,
            annotations=self.annotations,
            component_terminologies={aid: a.ontology for aid, a in self.used.items()},
            default_values=self.defaults,
            view=self.view,
            source=self.t.source,
        )

    def embedded(self, item: O.Item) -> O.Item:
        """The root item of the embedded template ``item.template_id``, with ``item``'s placement."""
        tid = item.template_id or ""
        if tid in self._embedding:
            self.problem("TPL009", f"embedded template {tid!r} includes itself", item.line)
        found = None
        if self.source_dir is not None:
            for f in sorted(self.source_dir.glob("*.oet")):
                try:
                    other = O.load_oet(f)
                except ParseError:
                    continue
                if tid in (other.id, other.name, f.stem):
                    found = other
                    break
        if found is None:
            self.problem("TPL009", f"embedded template {tid!r} not found beside the template", item.line)
            raise _Skip()
        self._embedding.append(tid)
        inner = copy.copy(found.definition)
        inner.element, inner.path = item.element, item.path
        inner.max = item.max if item.max is not None else inner.max
        inner.min = item.min if item.min is not None else inner.min
        inner.name = item.name or inner.name
        inner.rules = inner.rules + item.rules
        inner.items = inner.items + item.items
        for p, items in found.annotations.items():
            self.annotations.setdefault(p, {}).update(items)
        if item.archetype_id != inner.archetype_id:
            self.problem("TPL009", f"embedded template {tid!r} is rooted in {inner.archetype_id}, "
                         f"not {item.archetype_id}", item.line)
        return inner

    def fill(self, root: CArchetypeRoot, item: O.Item, tpath: str) -> None:
        """Apply ``item``'s rules to ``root``, then place its nested items in their slots."""
        if item.hide_on_form:
            self.view.setdefault(tpath, {})["pass_through"] = "true"
        if item.annotation:
            self.annotations.setdefault(tpath, {})["comment"] = item.annotation
        for rule in item.rules:
            try:
                self.apply_rule(root, rule, tpath)
            except _Skip:
                continue
        filled: set[int] = set()
        for child in item.items:
            embedded = bool(child.template_id)
            try:
                if embedded:
                    child = self.embedded(child)
                self.place(root, child, tpath, filled)
            except CompileError:
                raise
            except (_Skip, ArchetypeNotFound, ParseError):
                continue
            finally:
                if embedded and self._embedding:
                    self._embedding.pop()
        if filled:
            _remove_filled_slots(root, filled)

    def place(self, parent: CArchetypeRoot, item: O.Item, ptpath: str, filled: set[int]) -> None:
        """Put ``item``'s archetype into the slot at ``item.path`` of ``parent``."""
        path = item.path or ""
        where = f"{ptpath}{path}"
        if any(path.startswith(p + "/") or path.startswith(p + "[") or path == p
               for p in self._excluded.get(id(parent), ())):
            self.problem("TPL011", f"{item.archetype_id} at {path} is inside a node the template excludes; "
                         f"not placed", item.line, where)
            return
        try:
            step = resolve(parent, path, self.language)
        except PathError as exc:
            self.problem("TPL004", f"slot path {path} of {item.archetype_id} does not exist in "
                         f"{parent.archetype_id}: {exc}", item.line, where)
            return
        attr = step.attribute
        slot: ArchetypeSlot | None = None
        if step.node is not None and not isinstance(step.node, ArchetypeSlot) and _ends_with_predicate(path):
            self.problem("TPL003", f"{path} in {parent.archetype_id} is a {step.node.rm_type_name}, not a slot "
                         f"({item.archetype_id} cannot be placed there)", item.line, where)
        if isinstance(step.node, ArchetypeSlot) and _ends_with_predicate(path):
            slot = step.node
        elif attr is not None:
            slots = [c for c in attr.children if isinstance(c, ArchetypeSlot)]
            fitting = [s for s in slots if s.allows(item.archetype_id) and _rm_fits(item, s)]
            if slots and not fitting:
                self.problem("TPL003", f"no slot at {path} in {parent.archetype_id} accepts {item.archetype_id}"
                             f" ({_slot_text(slots)})", item.line, where)
            slot = fitting[0] if fitting else None
        if slot is not None:
            if not slot.allows(item.archetype_id):
                self.problem("TPL003", f"the slot at {path} in {parent.archetype_id} does not accept "
                             f"{item.archetype_id} ({_slot_text([slot])})", item.line, where)
            if not _rm_fits(item, slot):
                self.problem("TPL003", f"the slot at {path} in {parent.archetype_id} takes {slot.rm_type_name}, "
                             f"not {item.rm_type} ({item.archetype_id})", item.line, where)
        if attr is None:
            # an attribute the archetype leaves open (e.g. COMPOSITION.content without a slot): the RM decides
            rma = rm.attribute(step.parent.rm_type_name, step.attribute_name)
            attr = CAttribute(step.attribute_name, rma.existence if rma else None, [], None, False)
            step.parent.attributes.append(attr)
            make_explicit(step.parent)
        if slot is None:
            rma = rm.attribute(step.parent.rm_type_name, step.attribute_name)
            decl = rma.type_name if rma else None
            if decl and rm.rm_type(decl) is not None and not rm.is_subtype(item.rm_type, decl):
                self.problem("TPL003", f"{item.archetype_id} ({item.rm_type}) cannot stand in "
                             f"{step.parent.rm_type_name}.{step.attribute_name} ({decl})", item.line, where)
        child_path = _item_tpath(ptpath, path, item)
        child = self.root_for(item, child_path)
        occ = slot.occurrences if slot is not None and slot.occurrences is not None else Interval(0, None)
        lower = item.min if item.min is not None else occ.lower
        upper = item.max if item.max is not None else occ.upper
        child.occurrences = Interval(lower, upper)
        if item.name:
            set_name(child, item.name)
        self.fill(child, item, child_path)
        if slot is not None:
            filled.add(id(slot))
            idx = next(i for i, c in enumerate(attr.children) if c is slot)
            attr.children.insert(idx, child)
        else:
            attr.children.append(child)
        if not attr.is_multiple and len(attr.children) > 1 and rm.attribute(
                step.parent.rm_type_name, attr.rm_attribute_name) is not None:
            make_explicit(step.parent)

    # --- rules ----------------------------------------------------------------------------------------------

    def apply_rule(self, root: CArchetypeRoot, rule: O.Rule, tpath: str) -> None:
        where = f"{tpath}{rule.path}"
        # rules below a node an earlier rule excluded (Ocean keeps hide-on-form flags there): nothing to apply
        if any(rule.path.startswith(p + "/") for p in self._excluded.get(id(root), ())):
            return
        try:
            step = resolve(root, rule.path, self.language)
        except PathError as exc:
            self.problem("TPL004", f"rule path {rule.path} does not exist in {root.archetype_id}: {exc}",
                         rule.line, where)
            return
        node = step.node
        if rule.clone:
            if node is None or step.attribute is None:
                self.problem("TPL004", f"clone rule path {rule.path} names no node in {root.archetype_id}",
                             rule.line, where)
                return
            node = clone_node(step.attribute, node)
            where = _with_name(where, rule.name or "")
        if node is None:
            self._rule_on_attribute(step, rule, where)
            return
        if rule.name and rm.attribute(node.rm_type_name, "name") is None:
            # ISM_TRANSITION and other non-LOCATABLEs have no name: Ocean's label there is for forms only
            self.problem("TPL011", f"name {rule.name!r} on {node.rm_type_name} at {rule.path}, which has no "
                         f"name attribute, is not applied", rule.line, where)
        elif rule.name:
            set_name(node, rule.name)
            if not rule.clone:
                where = _with_name(where, rule.name)
        if rule.name_constraint is not None and rule.name_constraint.included:
            set_name(node, rule.name_constraint.included[0], rule.name_constraint.included)
        if rule.max is not None or rule.min is not None:
            excluded = self._occurrences(step, node, rule, where)
            if excluded:
                self._excluded.setdefault(id(root), []).append(rule.path)
                return
        if rule.event_type:
            new = EVENT_TYPES.get(rule.event_type)
            if new is None or not rm.is_subtype(new, node.rm_type_name):
                self.problem("TPL005", f"event type {rule.event_type!r} does not fit {node.rm_type_name} at "
                             f"{rule.path}", rule.line, where)
            else:
                node.rm_type_name = new
        if rule.constraint is not None:
            apply_value_constraint(self, node, rule, root, where)
        if rule.default is not None:
            self._default(node, rule, root, where)
        if rule.hide_on_form:
            self.view.setdefault(where, {})["pass_through"] = "true"
        if rule.annotation:
            self.annotations.setdefault(where, {})["comment"] = rule.annotation

    def _rule_on_attribute(self, step: Step, rule: O.Rule, where: str) -> None:
        """A rule whose path ends at an attribute (``/subject``): occurrences act on its existence."""
        attr = step.attribute
        if attr is None:
            rma = rm.attribute(step.parent.rm_type_name, step.attribute_name)
            attr = CAttribute(step.attribute_name, rma.existence if rma else None)
            step.parent.attributes.append(attr)
            make_explicit(step.parent)
        ex = attr.existence or Interval(0, 1)
        if rule.max == 0:
            rma = rm.attribute(step.parent.rm_type_name, attr.rm_attribute_name)
            if rma is not None and rma.mandatory:
                self.problem("TPL007", f"max=0 on {rule.path}, which the reference model makes mandatory",
                             rule.line, where)
            else:
                attr.existence = Interval(0, 0)
        elif rule.min is not None and rule.min > 0:
            attr.existence = Interval(1, ex.upper)
        if rule.hide_on_form:
            self.view.setdefault(where, {})["pass_through"] = "true"
        if rule.constraint is not None or rule.default is not None or rule.name:
            self.problem("TPL011", f"rule on attribute {rule.path}: only occurrences and hide-on-form are applied",
                         rule.line, where)

    def _occurrences(self, step: Step, node: CObject, rule: O.Rule, where: str) -> bool:
        """Narrow occurrences; True when the node was excluded (``max="0"``) and removed."""
        attr = step.attribute
        assert attr is not None
        occ = node.occurrences or ONE
        lower = rule.min if rule.min is not None else occ.lower
        upper = rule.max if rule.max is not None else occ.upper
        if rule.max == 0:
            others = [c for c in attr.children if c is not node and (c.occurrences is None or c.occurrences.upper != 0)]
            rma = rm.attribute(step.parent.rm_type_name, attr.rm_attribute_name)
            if others:
                attr.children.remove(node)
            elif rma is not None and rma.mandatory:
                # removing the last child would leave the attribute open (anything allowed): keep it at 0..0
                node.occurrences = Interval(0, 0)
                self.problem("TPL007", f"max=0 on {rule.path} leaves the mandatory attribute "
                             f"{attr.rm_attribute_name} of {step.parent.rm_type_name} nothing to hold",
                             rule.line, where)
            else:
                attr.children.remove(node)
                attr.existence = Interval(0, 0)
            return True
        want = Interval(lower, upper)
        if not occ.contains_interval(want) and not rule.clone:
            self.problem("TPL006", f"occurrences {want} at {rule.path} go beyond the archetype's {occ}; "
                         f"narrowed to fit", rule.line, where)
            lo = max(lower, occ.lower or 0)
            hi = upper if occ.upper is None else (occ.upper if upper is None else min(upper, occ.upper))
            want = Interval(min(lo, hi) if hi is not None else lo, hi)
        node.occurrences = want
        if want.lower and want.lower > 0 and attr.existence is not None and attr.existence.lower == 0 \
                and not attr.is_multiple:
            attr.existence = Interval(1, attr.existence.upper)
        return False

    def _default(self, node: CObject, rule: O.Rule, root: CArchetypeRoot, where: str) -> None:
        text = (rule.default or "").strip()
        owner = node
        value_types = _value_types(node)
        m = _CODED_RE.match(text)
        if m and "DV_CODED_TEXT" in value_types | {"DV_TEXT"} and not text.lower().startswith(("http:", "https:")):
            term, code, label = m.group(1), m.group(2).strip(), (m.group(3) or "").strip()
            if not label and term == "local" and root.terminology is not None:
                label = root.terminology.text(code, self.language) or code
            value = {"_type": "DV_CODED_TEXT", "value": label or code,
                     "defining_code": {"terminology_id": {"value": term}, "code_string": code}}
        elif text.lower() in ("true", "false") and "DV_BOOLEAN" in value_types:
            value = {"_type": "DV_BOOLEAN", "value": text.lower()}
        else:
            value = {"_type": "DV_TEXT", "value": text}
        self.defaults.append(DefaultValue(where, "value", value, owner))


# ---------------------------------------------------------------------------------------------------------------
# Tree edits


def set_name(node: CObject, name: str, names: list[str] | None = None) -> None:
    """Constrain a LOCATABLE's ``name`` to ``name`` (a DV_TEXT whose value is that string)."""
    if not isinstance(node, CComplexObject):
        return
    value = CPrimitiveObject("STRING", None, ONE, CString(None, list(names or [name])))
    dv = CComplexObject("DV_TEXT", None, ONE, [CAttribute("value", ONE, [value])])
    node.attributes = [a for a in node.attributes if a.rm_attribute_name != "name"]
    node.attributes.insert(0, CAttribute("name", ONE, [dv]))
    node.any_allowed = False


def clone_node(attr: CAttribute, node: CObject) -> CObject:
    """A copy of ``node`` placed after its last same-id sibling (Ocean's ``clone``)."""
    twin = copy.deepcopy(node)
    key = node.node_id
    last = max(i for i, c in enumerate(attr.children) if c is node or (c.node_id == key and
                                                                          not isinstance(c, CArchetypeRoot)))
    attr.children.insert(last + 1, twin)
    return twin


def _remove_filled_slots(node: CObject, filled: set[int]) -> None:
    stack = [node]
    while stack:
        obj = stack.pop()
        if not isinstance(obj, CComplexObject):
            continue
        for attr in obj.attributes:
            if any(id(c) in filled for c in attr.children):
                attr.children = [c for c in attr.children if id(c) not in filled]
            stack.extend(c for c in attr.children if not isinstance(c, CArchetypeRoot))


def _ends_with_predicate(path: str) -> bool:
    return path.rstrip().endswith("]")


def _rm_fits(item: O.Item, slot: ArchetypeSlot) -> bool:
    return item.rm_type == slot.rm_type_name or rm.is_subtype(item.rm_type, slot.rm_type_name) or \
        rm.rm_type(item.rm_type) is None


def _slot_text(slots: list[ArchetypeSlot]) -> str:
    parts = []
    for s in slots:
        inc = " or ".join(a.pattern or a.expression for a in s.includes) or "anything"
        exc = " or ".join(a.pattern or a.expression for a in s.excludes)
        parts.append(f"slot {s.node_id} includes {inc}" + (f", excludes {exc}" if exc else ""))
    return "; ".join(parts)


def _item_tpath(ptpath: str, path: str, item: O.Item) -> str:
    """The template path of a filler: the slot path with the slot's predicate replaced by the archetype id."""
    base = re.sub(r"\[[^\]]*\]$", "", path) if path.endswith("]") else path
    key = item.archetype_id
    if item.name:
        key = f"{key} and name/value='{item.name}'"
    return f"{ptpath}{base}[{key}]"


def _with_name(where: str, name: str) -> str:
    """``.../items[at0001]`` -> ``.../items[at0001 and name/value='X']`` (the last predicate only)."""
    m = re.search(r"\[([^\]]*)\]$", where)
    if not m:
        return where
    key = m.group(1).split(" and ", 1)[0].split(",", 1)[0].strip()
    return f"{where[:m.start()]}[{key} and name/value='{name}']"


def _value_types(node: CObject) -> set[str]:
    if isinstance(node, CComplexObject) and node.rm_type_name == "ELEMENT":
        value = node.attribute("value")
        if value is None or not value.children:
            return {"DATA_VALUE"}
        return {c.rm_type_name for c in value.children}
    return {node.rm_type_name}


# ---------------------------------------------------------------------------------------------------------------
# Value constraints


def _value_attr(node: CObject) -> CAttribute | None:
    """The ELEMENT's ``value`` attribute (created when the archetype leaves it open)."""
    if not isinstance(node, CComplexObject) or node.rm_type_name != "ELEMENT":
        return None
    attr = node.attribute("value")
    if attr is None:
        attr = CAttribute("value", Interval(0, 1), [])
        node.attributes.append(attr)
        node.any_allowed = False
    return attr


def _any_of(rm_type: str, occ: Interval[int]) -> CObject:
    """An unconstrained alternative of the given data value type, as OPT writers spell it."""
    if rm_type == "DV_QUANTITY":
        return CDvQuantity(rm_type, None, occ)
    if rm_type == "DV_ORDINAL":
        return CDvOrdinal(rm_type, None, occ)
    return CComplexObject(rm_type, None, occ, [], True)


def apply_value_constraint(c: Compiler, node: CObject, rule: O.Rule, root: CArchetypeRoot, where: str) -> None:
    vc = rule.constraint
    value = _value_attr(node)
    alternatives = value.children if value is not None else [node]

    def misfit(what: str) -> None:
        c.problem("TPL005", f"{what} at {rule.path} of {root.archetype_id}", rule.line, where)

    if isinstance(vc, O.MultipleConstraint):
        if value is None:
            misfit("a data type choice on a node that is not an ELEMENT")
            return
        wanted = []
        for name in vc.included_types:
            t = OET_TYPES.get(name)
            if t is None:
                misfit(f"unknown data type {name!r}")
                continue
            wanted.append(t)
        if not wanted:
            return
        if value.children:
            kept = [a for a in value.children if a.rm_type_name in wanted]
            if not kept:
                misfit(f"none of {', '.join(wanted)} is allowed by the archetype "
                       f"({', '.join(a.rm_type_name for a in value.children)})")
                return
            value.children = kept
        else:
            # an open value: the listed types become its alternatives (occurrences 0..1, as OPT writers do)
            value.children = [_any_of(t, Interval(0, 1)) for t in wanted]
        for sub in vc.value_constraints:
            apply_value_constraint(c, node, O.Rule(rule.path, constraint=sub, line=rule.line), root, where)
        return
    if isinstance(vc, O.TextConstraint):
        _text_constraint(c, vc, node, value, rule, root, where, misfit)
        return
    if isinstance(vc, O.QuantityConstraint):
        qs = [a for a in alternatives if isinstance(a, CDvQuantity)]
        if not qs and value is not None and not value.children:
            q = CDvQuantity("DV_QUANTITY", None, ONE)
            value.children.append(q)
            qs = [q]
        if not qs:
            misfit("a quantity constraint on a node without a DV_QUANTITY")
            return
        for q in qs:
            _quantity(q, vc, misfit)
        return
    if isinstance(vc, O.CountConstraint):
        target = _alternative(alternatives, value, "DV_COUNT")
        if target is None:
            misfit("a count constraint on a node without a DV_COUNT")
            return
        rng = Interval(vc.min, vc.max, vc.includes_min if vc.min is not None else True,
                       vc.includes_max if vc.max is not None else True)
        _set_primitive(target, "magnitude", "INTEGER", CInteger(None, [], rng))
        return
    if isinstance(vc, O.DurationConstraint):
        target = _alternative(alternatives, value, "DV_DURATION")
        if target is None:
            misfit("a duration constraint on a node without a DV_DURATION")
            return
        rng = None
        if vc.min is not None or vc.max is not None:
            rng = Interval(vc.min, vc.max, vc.includes_min if vc.min else True, vc.includes_max if vc.max else True)
        pattern = vc.pattern if vc.pattern and vc.pattern.startswith("P") else (f"P{vc.pattern}" if vc.pattern else None)
        _set_primitive(target, "value", "DURATION", CDuration(None, pattern, rng))
        return
    if isinstance(vc, O.OrdinalConstraint):
        ords = [a for a in alternatives if isinstance(a, CDvOrdinal)]
        if not ords:
            misfit("an ordinal constraint on a node without a DV_ORDINAL")
            return
        for o in ords:
            def hit(item: Any, values: list[str]) -> bool:
                return any(v in (str(item.value), item.symbol.code_string, str(item.symbol)) or
                           v.endswith("::" + item.symbol.code_string) for v in values)
            if vc.included:
                o.list = [i for i in o.list if hit(i, vc.included)]
            if vc.excluded:
                o.list = [i for i in o.list if not hit(i, vc.excluded)]
        return
    c.problem("TPL011", f"{type(vc).__name__ if not isinstance(vc, O.OtherConstraint) else vc.kind} at "
              f"{rule.path} is not applied by the compiler", rule.line, where)


def _alternative(alternatives: list[CObject], value: CAttribute | None, rm_type: str) -> CComplexObject | None:
    for a in alternatives:
        if a.rm_type_name == rm_type and isinstance(a, CComplexObject):
            return a
    if value is not None and not value.children:
        obj = CComplexObject(rm_type, None, ONE, [], True)
        value.children.append(obj)
        return obj
    return None


def _set_primitive(obj: CComplexObject, attr_name: str, rm_type: str, prim: Any) -> None:
    obj.attributes = [a for a in obj.attributes if a.rm_attribute_name != attr_name]
    obj.attributes.append(CAttribute(attr_name, ONE, [CPrimitiveObject(rm_type, None, ONE, prim)]))
    obj.any_allowed = False


def _quantity(q: CDvQuantity, vc: O.QuantityConstraint, misfit: Any) -> None:
    items = list(q.list)
    if vc.included_units:
        if items:
            known = {i.units for i in items}
            for u in vc.included_units:
                if u not in known:
                    misfit(f"unit {u!r} is not allowed by the archetype")
            items = [i for i in items if i.units in vc.included_units]
        else:
            items = [CQuantityItem(u) for u in vc.included_units]
    if vc.excluded_units:
        items = [i for i in items if i.units not in vc.excluded_units]
    for um in vc.magnitudes:
        mag = None
        if um.min is not None or um.max is not None:
            mag = Interval(um.min, um.max, um.includes_min if um.min is not None else True,
                           um.includes_max if um.max is not None else True)
        prec = Interval(um.precision, um.precision) if um.precision is not None else None
        for idx, it in enumerate(items):
            if it.units == um.unit:
                items[idx] = CQuantityItem(it.units, mag if mag is not None else it.magnitude,
                                           prec if prec is not None else it.precision)
                break
        else:
            if q.list and um.unit not in {i.units for i in q.list}:
                misfit(f"unit {um.unit!r} is not allowed by the archetype")
                continue
            items.append(CQuantityItem(um.unit, mag, prec))
    q.list = items


def _text_constraint(c: Compiler, vc: O.TextConstraint, node: CObject, value: CAttribute | None, rule: O.Rule,
                     root: CArchetypeRoot, where: str, misfit: Any) -> None:
    alternatives = value.children if value is not None else [node]
    coded = [a for a in alternatives if a.rm_type_name == "DV_CODED_TEXT" and isinstance(a, CComplexObject)]
    texts = [a for a in alternatives if a.rm_type_name == "DV_TEXT" and isinstance(a, CComplexObject)]
    inc = [_split_code(v) for v in vc.included]
    exc = [_split_code(v) for v in vc.excluded]
    if vc.term_query is not None:
        term_id, lang, query = vc.term_query
        uri = f"terminology:{term_id}" + (f"?subset={query}" if query else "") + (
            f"&language={lang}" if lang and query else (f"?language={lang}" if lang else ""))
        target = coded[0] if coded else None
        if target is None:
            if value is None:
                misfit("a terminology query on a node that is not an ELEMENT")
                return
            target = CComplexObject("DV_CODED_TEXT", None, ONE, [], False)
            value.children = [a for a in value.children if a.rm_type_name != "DV_TEXT"] + [target]
        target.attributes = [a for a in target.attributes if a.rm_attribute_name != "defining_code"]
        target.attributes.append(CAttribute("defining_code", ONE, [
            CCodePhrase("CODE_PHRASE", None, ONE, term_id, [], None, uri)]))
        target.any_allowed = False
    if not inc and not exc:
        return
    for cobj in coded:
        cp_attr = cobj.attribute("defining_code")
        phrases = [p for p in (cp_attr.children if cp_attr else []) if isinstance(p, CCodePhrase)]
        for cp in phrases:
            if cp.code_list:
                before = list(cp.code_list)
                wanted = [code for term, code, _ in inc if term is not None and _same_term(term, cp.terminology_id)]
                if wanted:
                    unknown = [w for w in wanted if w not in before]
                    if unknown:
                        misfit(f"codes {', '.join(unknown)} are not in the archetype's list")
                    cp.code_list = [x for x in cp.code_list if x in wanted]
                drop = {code for term, code, _ in exc if term is None or _same_term(term, cp.terminology_id)}
                cp.code_list = [x for x in cp.code_list if x not in drop]
                if not cp.code_list:
                    misfit("the included/excluded values leave no code")
                    cp.code_list = before
            elif inc:
                ext = [(t, code) for t, code, _ in inc if t is not None]
                if ext and (cp.terminology_id in (None, "") or all(_same_term(t, cp.terminology_id) for t, _ in ext)):
                    cp.terminology_id = cp.terminology_id or ext[0][0]
                    cp.code_list = [code for _, code in ext]
        if not phrases and inc and all(t is not None for t, _, _ in inc):
            _coded_from(cobj, inc)
    if coded:
        return
    if inc and all(t is not None for t, _, _ in inc):
        # coded values on a free text (or open) element: the element becomes coded text with those codes
        if value is None:
            misfit("coded values on a node that is not an ELEMENT")
            return
        target = CComplexObject("DV_CODED_TEXT", None, ONE, [], False)
        _coded_from(target, inc)
        value.children = [a for a in value.children if a.rm_type_name not in ("DV_TEXT",)] + [target]
        return
    strings = [v for v in vc.included]
    if strings:
        if value is None and not texts:
            misfit("text values on a node that is not an ELEMENT")
            return
        if not texts and value is not None:
            if value.children:
                misfit("text values on an element without DV_TEXT")
                return
            texts = [CComplexObject("DV_TEXT", None, ONE, [], True)]
            value.children.append(texts[0])
        for t in texts:
            _set_primitive(t, "value", "STRING", CString(None, strings, None, not vc.limit_to_list))


def _coded_from(target: CComplexObject, inc: list[tuple[str | None, str, str | None]]) -> None:
    by_term: dict[str, list[str]] = {}
    for term, code, _ in inc:
        by_term.setdefault(term or "local", []).append(code)
    target.attributes = [a for a in target.attributes if a.rm_attribute_name != "defining_code"]
    target.attributes.append(CAttribute("defining_code", ONE, [
        CCodePhrase("CODE_PHRASE", None, ONE, term, codes) for term, codes in by_term.items()]))
    target.any_allowed = False


def _split_code(v: str) -> tuple[str | None, str, str | None]:
    """``local::at0003`` / ``SNOMED-CT::123::text`` -> (terminology, code, text); plain text -> (None, v, None)."""
    m = _CODED_RE.match(v)
    if not m or "://" in v:
        return None, v, None
    return m.group(1).strip(), m.group(2).strip(), (m.group(3) or "").strip() or None


def _same_term(a: str | None, b: str | None) -> bool:
    norm = lambda s: re.sub(r"[^a-z0-9]", "", (s or "").lower())  # noqa: E731 -- SNOMED-CT ~ SNOMEDCT
    return norm(a) == norm(b)


# ---------------------------------------------------------------------------------------------------------------
# Entry points


def _description(self: Compiler) -> dict[str, Any]:
    """RESOURCE_DESCRIPTION for the OPT from the OET's (OPT 1.4 requires an author and one details item)."""
    d = self.t.description
    details_in = d.get("details") or {}
    lang = self.language
    details = {
        "language": lang,
        "purpose": details_in.get("purpose") or "Not Specified",
    }
    for key in ("keywords", "use", "misuse", "copyright"):
        if details_in.get(key):
            details[key] = details_in[key]
    out: dict[str, Any] = {
        "original_author": d.get("original_author") or {"Original Author": "Not Specified"},
        "lifecycle_state": d.get("lifecycle_state") or "Initial",
        "details": {lang: details},
    }
    if d.get("other_contributors"):
        out["other_contributors"] = d["other_contributors"]
    if d.get("other_details"):
        out["other_details"] = d["other_details"]
    return out




def _repo(archetype_dirs: Any) -> ArchetypeRepository:
    if isinstance(archetype_dirs, ArchetypeRepository):
        return archetype_dirs
    return ArchetypeRepository.of(list(archetype_dirs))


def compile_with_issues(oet_path: str | os.PathLike[str], archetype_dirs: Any, *, language: str | None = None,
                        strict: bool = False) -> CompileResult:
    """Compile, going on past items that fail (their slots stay unfilled); every issue is returned.

    ``archetype_dirs`` is a list of directories or an ``ArchetypeRepository`` (to share its cache).
    """
    repo = _repo(archetype_dirs)
    try:
        template = O.load_oet(oet_path)
    except ParseError as exc:
        return CompileResult(None, [exc.to_issue()])
    compiler = Compiler(template, repo, language=language, strict=strict, source_dir=Path(oet_path).parent)
    n_repo = len(repo.issues)
    try:
        opt = compiler.compile()
    except _Skip:
        opt = None
    except CompileError as exc:
        return CompileResult(None, compiler.issues + [exc.to_issue()])
    issues = compiler.issues + repo.issues[n_repo:]
    return CompileResult(opt, issues)


def compile_template(oet_path: str | os.PathLike[str], archetype_dirs: Any, *,
                     language: str | None = None) -> OperationalTemplate:
    """Compile an OET into an operational template; the first error is raised as a located ParseError."""
    result = compile_with_issues(oet_path, archetype_dirs, language=language, strict=True)
    for issue in result.issues:
        if issue.severity is Severity.ERROR:
            raise CompileError(issue.code, issue.message, file=issue.file, line=issue.line)
    assert result.template is not None
    result.template.source = str(oet_path)
    return result.template


def compile_to_opt(oet_path: str | os.PathLike[str], archetype_dirs: Any, *, language: str | None = None) -> bytes:
    """Compile an OET straight to OPT 1.4 XML bytes."""
    from openehr_kit.compiler.opt_writer import write_opt

    return write_opt(compile_template(oet_path, archetype_dirs, language=language))


__all__ = [
    "CompileError",
    "CompileResult",
    "Compiler",
    "compile_template",
    "compile_to_opt",
    "compile_with_issues",
]
