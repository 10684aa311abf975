"""The per-template key table behind FLAT and STRUCTURED: one ``Spec`` per web template node.

A FLAT key is a path of web template node ids (``vital_signs/blood_pressure:0/any_event:0/systolic|magnitude``),
but the canonical composition also has the RM objects the web template dissolves (HISTORY, ITEM_TREE, a single
EVENT, the ELEMENT under a data value). Each ``Spec`` therefore carries the RM *steps* from its parent node's RM
object down to its own: attribute, archetype node id, name predicate and concrete RM type, read once from the
node's ``aqlPath`` and the operational template. Both directions walk these steps; nothing is recomputed per
document. Tables are cached per template object (templates are immutable once loaded).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from openehr_kit.am.model import (
    CArchetypeRoot,
    CCodePhrase,
    CComplexObject,
    CObject,
    Terminology,
    _predicate_parts,
    split_path,
)
from openehr_kit.opt.model import OperationalTemplate
from openehr_kit.rm import schema

#: abstract RM types the template may name, and the concrete type a FLAT reader creates for them
_CONCRETE = {
    "EVENT": "POINT_EVENT",
    "ITEM_STRUCTURE": "ITEM_TREE",
    "PARTY_PROXY": "PARTY_IDENTIFIED",
    "CARE_ENTRY": "OBSERVATION",
    "CONTENT_ITEM": "SECTION",
    "ITEM": "CLUSTER",
}

#: web template node kinds
LOCATABLE = "locatable"  # a node with children of its own (COMPOSITION, SECTION, ENTRY, CLUSTER, EVENT, ...)
VALUE = "value"  # a data value, held by an ELEMENT (collapsed) or directly by an RM attribute
CHOICE = "choice"  # an ELEMENT offering several data value types (children ``*_value``)


@dataclass(slots=True, eq=False)
class Step:
    """One RM attribute step from a parent RM object to a child."""

    attr: str
    key: str | None  # archetype_node_id of the child (at-code or archetype id), None for plain RM attributes
    name: str | None  # the name the path predicate requires, if any
    rm_type: str  # the concrete RM type a reader creates
    cobj: CObject | None  # the template's constraint object, where there is one
    container: bool  # the RM attribute is a list
    terminology: Terminology | None = None


@dataclass(slots=True, eq=False)
class Spec:
    """One web template node, with everything both conversions need precomputed."""

    id: str
    rm_type: str
    min: int
    max: int
    name: str
    names: dict[str, str]
    node_id: str | None
    aql: str
    kind: str
    inputs: list[dict[str, Any]]
    in_context: bool
    parent: Spec | None
    steps: tuple[Step, ...] = ()
    #: index in ``steps`` of the RM object that *is* this node (the ELEMENT for a collapsed data value)
    owner: int = 0
    children: list[Spec] = field(default_factory=list)
    by_id: dict[str, Spec] = field(default_factory=dict)
    #: code -> {language: label} of the node's coded inputs (DV_CODED_TEXT, DV_ORDINAL, units)
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    #: code -> ordinal value, for DV_ORDINAL
    ordinals: dict[str, Any] = field(default_factory=dict)
    #: terminology of the code input, when the template fixes it
    terminology: str | None = None
    #: the coded name (terminology, code) when the template names this node from a code list
    name_code: tuple[str, str] | None = None
    #: ``|other`` input: a coded text with a free-text alternative
    has_other: bool = False
    #: the flat path with ``:n`` for repeating nodes, for suggestions (``a/b:n/c``)
    pattern: str = ""

    @property
    def repeats(self) -> bool:
        return self.max != 1

    def label(self, code: str, lang: str) -> str | None:
        by_lang = self.labels.get(code)
        if not by_lang:
            return None
        return by_lang.get(lang) or by_lang.get("")

    def local_name(self, lang: str) -> str:
        return self.names.get(lang) or self.name


@dataclass(slots=True, eq=False)
class FlatIndex:
    """All specs of one template's web template, plus what the readers and writers look up."""

    template: OperationalTemplate
    web_template: dict[str, Any]
    root: Spec
    language: str
    languages: list[str]
    #: every valid key pattern (``a/b:n/c|magnitude``) for the closest-path suggestion
    patterns: list[str] = field(default_factory=list)


_CACHE: dict[int, tuple[OperationalTemplate, FlatIndex]] = {}
_LOCK = threading.Lock()


def flat_index(template: OperationalTemplate, web_template: dict[str, Any] | None = None) -> FlatIndex:
    """The key table of ``template`` (built once per template object and web template, then cached)."""
    key = id(template)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is template and (web_template is None or hit[1].web_template is web_template):
        return hit[1]
    if web_template is None:
        from openehr_kit.webtemplate.builder import build_web_template

        web_template = build_web_template(template)
    index = _build(template, web_template)
    with _LOCK:
        if len(_CACHE) > 64:  # a long-running process validating many templates: keep memory bounded
            _CACHE.clear()
        _CACHE[key] = (template, index)
    return index


# ---------------------------------------------------------------------------------------------------------------
# building


def _build(template: OperationalTemplate, wt: dict[str, Any]) -> FlatIndex:
    tree = wt["tree"]
    lang = wt.get("defaultLanguage") or template.language
    root_cobj = template.definition
    root_step = Step("", root_cobj.archetype_id, None, root_cobj.rm_type_name, root_cobj, False,
                     root_cobj.terminology)
    root = _spec(tree, None, lang)
    root.aql = ""
    root.steps = (root_step,)
    root.pattern = root.id
    index = FlatIndex(template, wt, root, lang, list(wt.get("languages") or [lang]))
    stack = [(root, tree)]
    while stack:
        spec, node = stack.pop()
        for child_node in node.get("children", ()):
            child = _spec(child_node, spec, lang)
            child.steps, child.owner = _steps(template, spec, child)
            child.pattern = f"{spec.pattern}/{child.id}{':n' if child.repeats else ''}"
            spec.children.append(child)
            spec.by_id[child.id] = child
            stack.append((child, child_node))
            _add_patterns(index, child)
    return index


def _spec(node: dict[str, Any], parent: Spec | None, lang: str) -> Spec:
    rm_type = node["rmType"]
    children = node.get("children") or []
    if rm_type == "ELEMENT" and children and all(c["id"].endswith("_value") for c in children):
        kind = CHOICE
    elif (rm_type.startswith("DV_") and not rm_type.startswith("DV_INTERVAL")) or rm_type in (
        "CODE_PHRASE", "PARTY_PROXY", "PARTY_SELF", "PARTY_IDENTIFIED", "STRING", "LOCATABLE_REF"
    ):
        kind = VALUE
    elif rm_type.startswith("DV_INTERVAL"):
        kind = VALUE
    else:
        kind = LOCATABLE
    names = dict(node.get("localizedNames") or {})
    spec = Spec(
        id=node["id"],
        rm_type=rm_type,
        min=int(node.get("min", 0)),
        max=int(node.get("max", 1)),
        name=node.get("name") or node["id"],
        names=names,
        node_id=node.get("nodeId"),
        aql=node.get("aqlPath", ""),
        kind=kind,
        inputs=list(node.get("inputs") or []),
        in_context=bool(node.get("inContext")),
        parent=parent,
    )
    for inp in spec.inputs:
        if inp.get("suffix") == "other":
            spec.has_other = True
        if inp.get("terminology") and inp.get("suffix") in ("code", None):
            spec.terminology = inp["terminology"]
        for item in inp.get("list") or ():
            code = str(item.get("value"))
            labels = dict(item.get("localizedLabels") or {})
            if "label" in item:
                labels[""] = item["label"]
                labels.setdefault(lang, item["label"])
            spec.labels[code] = labels
            if "ordinal" in item:
                spec.ordinals[code] = item["ordinal"]
    return spec


def _add_patterns(index: FlatIndex, spec: Spec) -> None:
    from openehr_kit.flat import _values

    index.patterns.append(spec.pattern)
    for suffix in _values.suffixes_for(spec):
        if suffix:
            index.patterns.append(f"{spec.pattern}|{suffix}")


def _steps(template: OperationalTemplate, parent: Spec, child: Spec) -> tuple[tuple[Step, ...], int]:
    """The RM steps from the parent's RM object to the child's, and which of them is the child itself."""
    base = parent.aql
    path = child.aql
    if not path.startswith(base):
        raise ValueError(f"web template node {child.id!r}: path {path!r} is not below {base!r}")
    rel = path[len(base):]
    try:
        raw = split_path(rel)
    except ValueError:
        raw = []
    steps: list[Step] = []
    owner_type = _concrete(parent.steps[parent.owner].rm_type) if parent.steps else "COMPOSITION"
    if parent.kind == VALUE and parent.steps:
        owner_type = parent.steps[-1].rm_type
    prefix = base
    prev_type = owner_type
    terminology: Terminology | None = None
    for attr, predicate in raw:
        prefix = f"{prefix}/{attr}" + (f"[{predicate}]" if predicate else "")
        key, name = _predicate_parts(predicate) if predicate else (None, None)
        cobj = template.node(prefix) if predicate or attr in ("value", "description", "data", "state",
                                                               "protocol", "other_context") else None
        if cobj is None and not predicate:
            cobj = _plain_attr_node(template, prefix)
        info = template.info_of(cobj) if cobj is not None else None
        if info is not None:
            terminology = info.terminology
            if isinstance(cobj, CArchetypeRoot) and cobj.terminology is not None:
                terminology = cobj.terminology
        a = schema.attribute(_concrete(prev_type), attr)
        container = bool(a is not None and a.is_container)
        declared = a.type_name if a is not None else ""
        if cobj is not None and not cobj.rm_type_name.startswith("DV_") and cobj.rm_type_name != "DATA_VALUE":
            rm_type = cobj.rm_type_name
        else:
            rm_type = declared or (cobj.rm_type_name if cobj is not None else "")
        steps.append(Step(attr, key, _unescape(name) if name else None, _concrete(rm_type), cobj, container,
                          terminology))
        prev_type = rm_type
    if not steps:
        raise ValueError(f"web template node {child.id!r}: no RM steps below {base!r}")
    # the last step is the value itself: its type is the node's (a DV_CODED_TEXT where the RM says DATA_VALUE)
    last = steps[-1]
    if child.kind == VALUE:
        last.rm_type = _value_type(child.rm_type)
    elif child.kind == LOCATABLE and child.rm_type not in ("EVENT", "ITEM_STRUCTURE"):
        last.rm_type = _concrete(child.rm_type)
    owner = len(steps) - 1
    if child.kind == VALUE and len(steps) >= 2 and steps[-1].attr == "value" and steps[-2].rm_type == "ELEMENT":
        owner = len(steps) - 2  # a collapsed ELEMENT: the ELEMENT repeats and carries the name
    if child.kind == CHOICE:
        last.rm_type = "ELEMENT"
    owner_step = steps[owner]
    if owner_step.cobj is not None:
        child.name_code = _name_code(owner_step.cobj, owner_step.terminology, child.name, template.language)
    return tuple(steps), owner


def _plain_attr_node(template: OperationalTemplate, path: str) -> CObject | None:
    nodes = template.nodes(path)
    return nodes[0] if len(nodes) == 1 else None


def _value_type(rm_type: str) -> str:
    if rm_type == "PARTY_PROXY":
        return "PARTY_IDENTIFIED"
    return rm_type


def _concrete(rm_type: str) -> str:
    return _CONCRETE.get(rm_type, rm_type)


def _unescape(name: str) -> str:
    out = []
    it = iter(name)
    for ch in it:
        out.append(next(it, "") if ch == "\\" else ch)
    return "".join(out)


def _name_code(cobj: CObject, term: Terminology | None, name: str, lang: str) -> tuple[str, str] | None:
    """(terminology, code) of a name the template takes from a code list, matched by its text."""
    if not isinstance(cobj, CComplexObject):
        return None
    attr = cobj.attribute("name")
    if attr is None:
        return None
    for name_obj in attr.children:
        if name_obj.rm_type_name != "DV_CODED_TEXT" or not isinstance(name_obj, CComplexObject):
            continue
        code_attr = name_obj.attribute("defining_code")
        for cp in code_attr.children if code_attr is not None else ():
            if isinstance(cp, CCodePhrase) and cp.code_list:
                for code in cp.code_list:
                    if term is not None and term.text(code, lang) == name:
                        return (cp.terminology_id or "local", code)
                if len(cp.code_list) == 1:
                    return (cp.terminology_id or "local", cp.code_list[0])
    return None


_EVENT_STEP_TYPES = frozenset({"EVENT", "POINT_EVENT", "INTERVAL_EVENT"})


def event_time_spec(spec: Spec) -> Spec | None:
    """The child holding the time of a single EVENT the web template lifted into ``spec`` (its id may be
    ``time2`` when an element is called ``time``)."""
    for child in spec.children:
        st = child.steps
        if len(st) >= 2 and st[-1].attr == "time" and st[-1].key is None and st[-2].rm_type in _EVENT_STEP_TYPES:
            return child
    return None
