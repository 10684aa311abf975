"""Web template generation (the JSON format of EHRbase and Better, version 2.3) from an operational template.

The web template is a simplified view of the template tree that form builders and the FLAT (simSDT) format are
keyed on: every node carries a FLAT-friendly ``id``, its ``aqlPath``, its RM type, occurrences and, for data
values, the ``inputs`` a form would render. The rules here were worked out from EHRbase-generated web templates
and the openEHR specifications; the aim is that ids and paths agree with EHRbase node by node, because FLAT paths
are built from them.

Shape of the walk: ``_Builder.object_nodes`` turns one constraint object into zero or more web template nodes.
Structural containers (HISTORY, ITEM_TREE, single EVENTs) dissolve into their parent; an ELEMENT with one data
type collapses into that data value node; RM attributes that every instance carries (subject, language, time,
ism_transition, ...) are added from the reference model, marked ``inContext`` where EHRbase marks them so.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from openehr_kit.am.model import (
    ArchetypeInternalRef,
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
    CInteger,
    CObject,
    CPrimitiveObject,
    CReal,
    CString,
    CTime,
    Interval,
    Terminology,
    find_node,
)

WEB_TEMPLATE_VERSION = "2.3"

Node = dict[str, Any]

# ---------------------------------------------------------------------------------------------------------------
# Reference model facts the web template needs (openEHR RM 1.0.4)

#: containers whose children are lifted into the parent node: they carry no clinical meaning of their own
_DISSOLVED_TYPES = frozenset(
    {"HISTORY", "ITEM_TREE", "ITEM_LIST", "ITEM_SINGLE", "ITEM_TABLE", "ITEM_STRUCTURE", "EVENT_CONTEXT_OTHER"}
)
_EVENT_TYPES = frozenset({"EVENT", "POINT_EVENT", "INTERVAL_EVENT"})

#: the data value types an unconstrained ELEMENT.value expands to, in EHRbase's order
_ANY_DATA_VALUE_TYPES = (
    "DV_TEXT",
    "DV_CODED_TEXT",
    "DV_MULTIMEDIA",
    "DV_PARSABLE",
    "DV_STATE",
    "DV_BOOLEAN",
    "DV_IDENTIFIER",
    "DV_URI",
    "DV_EHR_URI",
    "DV_DURATION",
    "DV_QUANTITY",
    "DV_COUNT",
    "DV_PROPORTION",
    "DV_DATE_TIME",
    "DV_TIME",
    "DV_ORDINAL",
    "DV_DATE",
)

#: DV_PROPORTION.type codes (RM PROPORTION_KIND)
_PROPORTION_KINDS = {0: "ratio", 1: "unitary", 2: "percent", 3: "fraction", 4: "integer_fraction"}

#: the DV_DURATION fields a web template offers, in ISO 8601 designator order (week after day, as EHRbase does)
_DURATION_FIELDS = ("year", "month", "day", "week", "hour", "minute", "second")
_DURATION_DATE_DESIGNATORS = {"Y": "year", "M": "month", "W": "week", "D": "day"}
_DURATION_TIME_DESIGNATORS = {"H": "hour", "M": "minute", "S": "second"}

#: rubrics of the openEHR terminology codes that appear in templates (openEHR Terminology, English)
_OPENEHR_RUBRICS = {
    # composition category
    "431": "persistent", "433": "event", "451": "episodic",
    # setting
    "225": "home", "227": "emergency care", "228": "primary medical care", "229": "primary nursing care",
    "230": "primary allied health care", "231": "midwifery care", "232": "secondary medical care",
    "233": "secondary nursing care", "234": "secondary allied health care", "235": "complementary health care",
    "236": "dental care", "237": "nursing home care", "238": "other care",
    # instruction states
    "524": "initial", "526": "planned", "527": "postponed", "528": "cancelled", "529": "scheduled",
    "245": "active", "530": "suspended", "531": "aborted", "532": "completed", "533": "expired",
    # instruction transitions
    "535": "initiate", "536": "plan step", "537": "postpone", "538": "restore", "539": "cancel",
    "540": "postponed step", "541": "start", "542": "do", "543": "active step", "544": "suspend",
    "545": "suspended step", "546": "resume", "547": "abort", "548": "finish", "549": "time out",
    "550": "notify aborted", "551": "notify completed", "552": "notify expired", "553": "notify cancelled",
    "554": "schedule", "555": "scheduled step", "556": "reactivate",
    # event math function
    "144": "maximum", "145": "minimum", "146": "mean", "147": "change", "148": "total", "149": "variation",
    "521": "decrease", "522": "increase", "640": "actual",
    # null flavour
    "253": "unknown", "271": "no information", "272": "masked", "273": "not applicable",
}


@dataclass(frozen=True, slots=True)
class _RmAttr:
    """An RM attribute every instance of a type carries, shown as a web template node of its own."""

    name: str
    rm_type: str
    min: int
    max: int = 1
    in_context: bool = True
    #: where the node goes among the siblings: before or after the archetyped content
    before_content: bool = False
    #: the path below the owner when it is not ``/name`` (instruction_details/activity_id)
    path: str | None = None


_ENTRY_ATTRS = (
    _RmAttr("subject", "PARTY_PROXY", 1),
    _RmAttr("language", "CODE_PHRASE", 1),
    _RmAttr("encoding", "CODE_PHRASE", 1),
)

#: per RM type, the RM attributes added as nodes (EHRbase's set and order)
_RM_ATTRS: dict[str, tuple[_RmAttr, ...]] = {
    "COMPOSITION": (
        _RmAttr("category", "DV_CODED_TEXT", 1, before_content=True),
        _RmAttr("context", "EVENT_CONTEXT", 1, in_context=False, before_content=True),
        _RmAttr("composer", "PARTY_PROXY", 1),
        _RmAttr("language", "CODE_PHRASE", 1),
        _RmAttr("territory", "CODE_PHRASE", 1),
    ),
    "EVENT_CONTEXT": (
        _RmAttr("start_time", "DV_DATE_TIME", 1),
        _RmAttr("setting", "DV_CODED_TEXT", 1),
    ),
    "OBSERVATION": _ENTRY_ATTRS,
    "EVALUATION": _ENTRY_ATTRS,
    "ADMIN_ENTRY": _ENTRY_ATTRS,
    "GENERIC_ENTRY": (),
    "INSTRUCTION": (
        _RmAttr("subject", "PARTY_PROXY", 1),
        _RmAttr("narrative", "DV_TEXT", 1),
        _RmAttr("language", "CODE_PHRASE", 1),
        _RmAttr("encoding", "CODE_PHRASE", 1),
        _RmAttr("expiry_time", "DV_DATE_TIME", 0, in_context=False),
    ),
    "ACTIVITY": (
        _RmAttr("timing", "DV_PARSABLE", 0),
        _RmAttr("action_archetype_id", "STRING", 1),
    ),
    "ACTION": (
        *_ENTRY_ATTRS,
        _RmAttr("activity_id", "STRING", 1, in_context=False, path="instruction_details/activity_id"),
        _RmAttr("instruction_id", "LOCATABLE_REF", 1, in_context=False, path="instruction_details/instruction_id"),
        _RmAttr("time", "DV_DATE_TIME", 1),
        _RmAttr("ism_transition", "ISM_TRANSITION", 1),
    ),
    "EVENT": (_RmAttr("time", "DV_DATE_TIME", 1),),
    "POINT_EVENT": (_RmAttr("time", "DV_DATE_TIME", 1),),
    "INTERVAL_EVENT": (
        _RmAttr("time", "DV_DATE_TIME", 1),
        _RmAttr("width", "DV_DURATION", 1, in_context=False),
        _RmAttr("math_function", "DV_CODED_TEXT", 1, in_context=False),
    ),
    "ISM_TRANSITION": (
        _RmAttr("current_state", "DV_CODED_TEXT", 1),
        _RmAttr("transition", "DV_CODED_TEXT", 0),
        _RmAttr("careflow_step", "DV_CODED_TEXT", 0),
    ),
}

#: in-context attributes the older EHRbase SDK convention still reports as required
_ALWAYS_REQUIRED = frozenset(
    {"category", "context", "ism_transition", "current_state", "activity_id", "instruction_id"}
)

#: attributes never shown as nodes: the name is folded into the node, the rest is identity or audit data
_HIDDEN_ATTRS = frozenset(
    {"name", "archetype_node_id", "uid", "links", "archetype_details", "feeder_audit", "null_flavour",
     "null_reason", "normal_status", "normal_range", "other_reference_ranges"}
)

# ---------------------------------------------------------------------------------------------------------------
# Ids


_ID_KEEP = frozenset("_-.<>")


def node_id_from_name(name: str) -> str:
    """The web template ``id`` for a node name: lower-case snake_case, as EHRbase derives it.

    Letters (umlauts and other scripts included) and ASCII-range decimal digits are kept, as are ``-``, ``.``,
    ``<`` and ``>``; every other character separates words; runs of separators become one ``_``. An id that
    would start with a digit gets an ``a`` in front so that it stays a valid FLAT path segment.
    """
    chars: list[str] = []
    for ch in name.lower():
        if ch in _ID_KEEP or unicodedata.category(ch) in ("Ll", "Lu", "Lt", "Lo", "Lm", "Nd"):
            chars.append(ch)
        elif unicodedata.category(ch).startswith("M") and chars:
            chars.append(ch)  # combining accents stay with their letter
        else:
            chars.append(" ")
    words = "".join(chars).split()
    out = "_".join(words)
    if not out:
        return "node"
    if out[0].isdigit():
        out = "a" + out
    return out


def dedupe_ids(nodes: Iterable[Node]) -> None:
    """Give siblings unique ids: the second ``x`` becomes ``x2``, the third ``x3`` (EHRbase's numbering)."""
    seen: dict[str, int] = {}
    taken = {n["id"] for n in nodes}
    for node in nodes:
        base = node["id"]
        count = seen.get(base, 0) + 1
        seen[base] = count
        if count > 1:
            candidate, k = f"{base}{count}", count
            while candidate in taken:
                k += 1
                candidate = f"{base}{k}"
            node["id"] = candidate
            taken.add(candidate)


# ---------------------------------------------------------------------------------------------------------------
# Small helpers


def _upper(occ: Interval[int] | None, default: int = 1) -> int:
    """Web template ``max``: -1 for unbounded."""
    if occ is None:
        return default
    return -1 if occ.upper is None else int(occ.upper)


def _lower(occ: Interval[int] | None, default: int = 0) -> int:
    if occ is None or occ.lower is None:
        return default
    return int(occ.lower)


def _attr_children(obj: CObject, name: str) -> list[CObject]:
    if isinstance(obj, CComplexObject):
        attr = obj.attribute(name)
        if attr is not None:
            return attr.children
    return []


def _primitive(obj: CObject, attr: str) -> Any:
    """The primitive constraint (CString, CInteger, ...) on ``obj.attr``, if any."""
    for child in _attr_children(obj, attr):
        if isinstance(child, CPrimitiveObject):
            return child.item
    return None


def _fixed_name(obj: CObject) -> str | None:
    """A name fixed by the template (``name/value`` constrained to one string), if any."""
    for name_obj in _attr_children(obj, "name"):
        item = _primitive(name_obj, "value")
        if isinstance(item, CString) and item.list:
            return item.list[0]
    return None


def _coded_name_codes(obj: CObject) -> list[str]:
    """Local codes a template allows as the node's name (``name`` as DV_CODED_TEXT with a code list)."""
    for name_obj in _attr_children(obj, "name"):
        if name_obj.rm_type_name == "DV_CODED_TEXT":
            for cp in _attr_children(name_obj, "defining_code"):
                if isinstance(cp, CCodePhrase) and cp.terminology_id == "local" and cp.code_list:
                    return list(cp.code_list)
    return []


def _quote(name: str) -> str:
    return name.replace("\\", "\\\\").replace("'", "\\'")


def _range_validation(interval: Interval[Any] | None, number: type = float) -> dict[str, Any] | None:
    """``{"min", "minOp", "max", "maxOp"}`` for a bounded interval; None when unbounded both sides."""
    if interval is None or (interval.lower is None and interval.upper is None):
        return None
    out: dict[str, Any] = {}
    if interval.lower is not None:
        out["min"] = number(interval.lower)
        out["minOp"] = ">=" if interval.lower_included else ">"
    if interval.upper is not None:
        out["max"] = number(interval.upper)
        out["maxOp"] = "<=" if interval.upper_included else "<"
    return out


def _date_pattern(pattern: str | None) -> str | None:
    """ISO 8601 constraint pattern as EHRbase shows it: the date part lower-cased (``yyyy-mm-ddTHH:MM:SS``)."""
    if not pattern:
        return None
    date, sep, time = pattern.partition("T")
    if ":" in date:  # a time pattern on its own
        return pattern
    return date.replace("Y", "y").replace("M", "m").replace("D", "d") + sep + time


def _parse_iso_duration(text: str) -> dict[str, float]:
    """``P1Y2M3DT4H`` -> {"year": 1, "month": 2, "day": 3, "hour": 4}; unparsable parts are ignored."""
    out: dict[str, float] = {}
    text = text.strip().upper()
    if not text.startswith("P"):
        return out
    date, _, time = text[1:].partition("T")
    for part, designators in ((date, _DURATION_DATE_DESIGNATORS), (time, _DURATION_TIME_DESIGNATORS)):
        for number, designator in re.findall(r"(\d+(?:[.,]\d+)?)([A-Z])", part):
            field_name = designators.get(designator)
            if field_name:
                value = float(number.replace(",", "."))
                out[field_name] = int(value) if value.is_integer() else value
    return out


# ---------------------------------------------------------------------------------------------------------------
# The builder


@dataclass(slots=True)
class _Scope:
    """What a node's constraints are read against: the archetype whose terms and paths are in force."""

    terminology: Terminology | None
    archetype_root: CArchetypeRoot | None


@dataclass(slots=True)
class _Builder:
    language: str
    languages: list[str]
    annotations: dict[str, dict[str, str]] = field(default_factory=dict)
    #: older EHRbase SDK convention: RM attributes filled from the composition context are optional (min 0)
    optional_in_context: bool = False

    # --- names and texts --------------------------------------------------------------------------------------

    def _term(self, scope: _Scope, code: str | None, language: str) -> dict[str, str] | None:
        if scope.terminology is None or not code:
            return None
        defs = scope.terminology.term_definitions.get(language)
        if defs is not None and code in defs:
            return defs[code]
        return None

    def _text(self, scope: _Scope, code: str | None, language: str | None = None) -> str | None:
        if scope.terminology is None or not code:
            return None
        return scope.terminology.text(code, language or self.language)

    def _localized(self, scope: _Scope, code: str | None, key: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for lang in self.languages:
            term = self._term(scope, code, lang)
            if term is None and lang == self.language and scope.terminology is not None and code:
                term = scope.terminology.term(code, lang)
            if term is not None and key in term:
                out[lang] = term[key]
        return out

    def _describe(self, node: Node, scope: _Scope, obj: CObject, fixed: str | None) -> None:
        """Fill ``name``, ``localizedName(s)`` and ``localizedDescriptions`` for an archetyped node."""
        code = obj.node_id
        if isinstance(obj, CArchetypeRoot):
            code = "at0000" if obj.node_id in (None, "", obj.archetype_id) else obj.node_id
        text = fixed or self._text(scope, code) or obj.rm_type_name
        node["name"] = text
        node["localizedName"] = text
        names = self._localized(scope, code, "text")
        if fixed:
            names = {lang: fixed for lang in (names or {self.language: fixed})}
        node["localizedNames"] = names
        node["localizedDescriptions"] = self._localized(scope, code, "description")
        term = scope.terminology.term(code, self.language) if scope.terminology and code else None
        if term and term.get("comment"):
            node.setdefault("annotations", {})["comment"] = term["comment"]

    def _term_bindings(self, scope: _Scope, code: str | None) -> dict[str, Any] | None:
        if scope.terminology is None or not code:
            return None
        out: dict[str, Any] = {}
        for terminology, bindings in scope.terminology.term_bindings.items():
            bound = bindings.get(code)
            if bound is None:
                continue
            value = bound.code_string if hasattr(bound, "code_string") else str(bound)
            out[terminology] = {"value": value, "terminologyId": terminology}
        return out or None

    # --- the walk ---------------------------------------------------------------------------------------------

    def root(self, definition: CComplexObject) -> Node:
        scope = _Scope(None, None)
        nodes = self.object_nodes(definition, "", scope)
        root = nodes[0]
        root.pop("aqlPath", None)  # EHRbase leaves the root's (empty) path out
        return root

    def object_nodes(
        self,
        obj: CObject,
        path: str,
        scope: _Scope,
        fixed: str | None = None,
        single: bool = True,
    ) -> list[Node]:
        """The web template nodes for one constraint object whose own path is ``path``."""
        if isinstance(obj, CArchetypeRoot) and obj.terminology is not None:
            scope = _Scope(obj.terminology, obj)
        if isinstance(obj, ArchetypeInternalRef):
            return self._internal_ref_nodes(obj, path, scope)
        if isinstance(obj, ArchetypeSlot):
            return []  # an unfilled slot has nothing to enter
        rm_type = obj.rm_type_name
        if rm_type in _DISSOLVED_TYPES:
            return self._children(obj, path, scope)
        if rm_type in _EVENT_TYPES and single and _upper(obj.occurrences) == 1 and not obj.is_archetype_root:
            # the one event of a history, occurring once, carries nothing of its own: EHRbase lifts its content
            # into the OBSERVATION (several events, or a repeating one, stay nodes to tell them apart)
            return self._children(obj, path, scope) + self._rm_attr_nodes(obj, path, scope, after=True)
        if rm_type == "ELEMENT":
            return self._element_nodes(obj, path, scope, fixed)
        if _is_data_value(rm_type):
            node = self._data_value_node(obj, path, scope, obj.occurrences)
            self._describe(node, scope, obj, fixed)
            return [node]
        return [self._locatable_node(obj, path, scope, fixed)]

    def _internal_ref_nodes(
        self, ref: ArchetypeInternalRef, path: str, scope: _Scope
    ) -> list[Node]:
        """``use_node``: build the target's nodes at the reference's own path and occurrences."""
        root = scope.archetype_root
        if root is None or not ref.target_path:
            return []
        target = find_node(root, ref.target_path) if ref.target_path != "/" else root
        if target is None or isinstance(target, ArchetypeInternalRef):
            return []
        nodes = self.object_nodes(target, path, scope)
        if nodes and ref.occurrences is not None and target.node_id == nodes[0].get("nodeId"):
            nodes[0]["min"] = _lower(ref.occurrences)
            nodes[0]["max"] = _upper(ref.occurrences)
        return nodes

    def _locatable_node(self, obj: CObject, path: str, scope: _Scope, fixed: str | None = None) -> Node:
        rm_type = obj.rm_type_name
        node: Node = {"id": "", "name": "", "localizedName": "", "rmType": rm_type}
        node_id = obj.archetype_id if isinstance(obj, CArchetypeRoot) else obj.node_id
        if node_id:
            node["nodeId"] = node_id
        node["min"] = _lower(obj.occurrences, 1 if path == "" else 0)
        node["max"] = _upper(obj.occurrences)
        self._describe(node, scope, obj, fixed or _fixed_name(obj))
        node["id"] = node_id_from_name(node["name"])
        node["aqlPath"] = path
        annotations = node.pop("annotations", None)
        children = self._rm_attr_nodes(obj, path, scope, after=False)
        children += self._children(obj, path, scope)
        children += self._rm_attr_nodes(obj, path, scope, after=True)
        dedupe_ids(children)
        if children:
            node["children"] = children
        if annotations:
            node["annotations"] = annotations
        bindings = self._term_bindings(scope, obj.node_id)
        if bindings:
            node["termBindings"] = bindings
        return node

    def _children(self, obj: CObject, path: str, scope: _Scope) -> list[Node]:
        """Nodes for the archetyped attributes of ``obj`` (the RM ones come from ``_rm_attr_nodes``)."""
        if not isinstance(obj, CComplexObject):
            return []
        rm_attrs = {a.name for a in _RM_ATTRS.get(obj.rm_type_name, ())}
        if obj.rm_type_name == "ACTION":
            rm_attrs.add("instruction_details")
        out: list[Node] = []
        for attr in obj.attributes:
            name = attr.rm_attribute_name
            if name in _HIDDEN_ATTRS or name in rm_attrs:
                continue
            for child in attr.children:
                out.extend(self._attribute_child_nodes(obj, attr, child, path, scope))
        return out

    def _attribute_child_nodes(
        self, owner: CObject, attr: CAttribute, child: CObject, path: str, scope: _Scope
    ) -> list[Node]:
        codes = _coded_name_codes(child)
        if codes and not isinstance(child, CArchetypeRoot):
            # a name chosen from a code list: one node per allowed name, each addressed by that name
            inner = _Scope(child.terminology, child) if isinstance(child, CArchetypeRoot) else scope
            out: list[Node] = []
            for code in codes:
                name = self._text(inner, code) or code
                child_path = f"{path}/{attr.rm_attribute_name}[{child.node_id} and name/value='{_quote(name)}']"
                out.extend(self.object_nodes(child, child_path, scope, fixed=name))
            return out
        child_path = f"{path}/{attr.rm_attribute_name}" + self._predicate(child, scope)
        if _is_data_value(child.rm_type_name) and not child.node_id:
            # a data value held directly by an RM attribute (EVENT_CONTEXT.end_time, ...): named by the attribute
            node = self._data_value_node(child, child_path, scope, child.occurrences)
            _name_rm_node(node, attr.rm_attribute_name)
            return [node]
        single = len(attr.children) == 1
        return self.object_nodes(child, child_path, scope, single=single)

    def _predicate(self, obj: CObject, scope: _Scope) -> str:
        """``[at0001]``, ``[openEHR-EHR-...v1]``; with `` and name/value='X'`` when the template constrains the name.

        Any name constraint counts, even an open one (``name matches DV_TEXT``): then X is the node's term text.
        """
        key = obj.archetype_id if isinstance(obj, CArchetypeRoot) and obj.archetype_id else obj.node_id
        if not key:
            return ""
        if not _attr_children(obj, "name"):
            return f"[{key}]"
        name = _fixed_name(obj)
        if name is None:
            inner = _Scope(obj.terminology, obj) if isinstance(obj, CArchetypeRoot) else scope
            code = "at0000" if isinstance(obj, CArchetypeRoot) else obj.node_id
            name = self._text(inner, code)
        return f"[{key} and name/value='{_quote(name)}']" if name else f"[{key}]"

    # --- ELEMENT ----------------------------------------------------------------------------------------------

    def _element_nodes(self, element: CObject, path: str, scope: _Scope, fixed: str | None = None) -> list[Node]:
        """An ELEMENT collapses into its value node; several value types make an ELEMENT node with choices."""
        values = [c for c in _attr_children(element, "value") if not isinstance(c, ArchetypeSlot)]
        value_path = f"{path}/value"
        fixed = fixed or _fixed_name(element)
        coded = [c for c in values if c.rm_type_name == "DV_CODED_TEXT"]
        texts = [c for c in values if c.rm_type_name == "DV_TEXT"]
        if len(values) == 2 and len(coded) == 1 and len(texts) == 1:
            # coded text with a free-text fallback: one node, the code list open, plus an "other" input
            node = self._single_value_node(element, coded[0], value_path, scope, fixed)
            node.pop("nodeId", None)  # EHRbase drops the node id on this merged node
            for inp in node.get("inputs", []):
                if inp.get("suffix") == "code":
                    inp["listOpen"] = True
                    if "terminology" in inp:  # after listOpen, where EHRbase writes it
                        inp["terminology"] = inp.pop("terminology")
            node["inputs"] = [i for i in node.get("inputs", []) if i.get("suffix") != "value"]
            node["inputs"].append({"suffix": "other", "type": "TEXT"})
            return [node]
        if len(values) == 1:
            return [self._single_value_node(element, values[0], value_path, scope, fixed)]
        # a choice of data types (or none constrained: every data type is allowed)
        node: Node = {"id": "", "name": "", "localizedName": "", "rmType": "ELEMENT"}
        if element.node_id:
            node["nodeId"] = element.node_id
        node["min"] = _lower(element.occurrences)
        node["max"] = _upper(element.occurrences)
        self._describe(node, scope, element, fixed)
        node["id"] = node_id_from_name(node["name"])
        node["aqlPath"] = path
        annotations = node.pop("annotations", None)
        children: list[Node] = []
        if values:
            for value in values:
                child = self._single_value_node(element, value, value_path, scope, fixed)
                child["id"] = node_id_from_name(_generic_short_name(value.rm_type_name)) + "_value"
                child["min"], child["max"] = 1, 1
                children.append(child)
        else:
            for rm_type in _ANY_DATA_VALUE_TYPES:
                child = self._data_value_node(CComplexObject(rm_type), value_path, scope, None)
                self._describe(child, scope, element, fixed)
                child.pop("annotations", None)
                child["id"] = node_id_from_name(_generic_short_name(rm_type)) + "_value"
                child["min"], child["max"] = 0, 1
                child["inContext"] = True
                children.append(_ordered(child))
        dedupe_ids(children)
        node["children"] = children
        if annotations:
            node["annotations"] = annotations
        return [node]

    def _single_value_node(
        self, element: CObject, value: CObject, value_path: str, scope: _Scope, fixed: str | None
    ) -> Node:
        """The data value node standing for ``element``: the element's id, name, node id and occurrences."""
        node = self._data_value_node(value, value_path, scope, element.occurrences)
        if element.node_id:
            node["nodeId"] = element.node_id
        self._describe(node, scope, element, fixed)
        node["id"] = node_id_from_name(node["name"])
        bindings = self._term_bindings(scope, element.node_id)
        if bindings:
            node["termBindings"] = bindings
        return _ordered(node)

    # --- data values ------------------------------------------------------------------------------------------

    def _data_value_node(self, obj: CObject, path: str, scope: _Scope, occurrences: Interval[int] | None) -> Node:
        rm_type = obj.rm_type_name
        node: Node = {"id": "", "rmType": rm_type, "min": _lower(occurrences), "max": _upper(occurrences)}
        node["aqlPath"] = path
        if rm_type.startswith("DV_INTERVAL"):
            node["children"] = self._interval_children(obj, path, scope)
            return node
        inputs = self.inputs_for(obj, scope)
        if inputs is not None:
            node["inputs"] = inputs
        if rm_type == "DV_PROPORTION":
            node["proportionTypes"] = _proportion_types(obj)
        return node

    def _interval_children(self, obj: CObject, path: str, scope: _Scope) -> list[Node]:
        inner = _generic_argument(obj.rm_type_name) or "DV_QUANTITY"
        out = []
        for bound in ("upper", "lower"):
            constraints = [c for c in _attr_children(obj, bound) if _is_data_value(c.rm_type_name)]
            target = constraints[0] if constraints else CComplexObject(inner)
            node = self._data_value_node(target, f"{path}/{bound}", scope, Interval(1, 1))
            _name_rm_node(node, bound)
            out.append(node)
        return out

    def inputs_for(self, obj: CObject, scope: _Scope) -> list[dict[str, Any]] | None:
        """The ``inputs`` of a data value node, by RM type."""
        builder = _INPUT_BUILDERS.get(obj.rm_type_name)
        if builder is None:
            return None
        return builder(self, obj, scope)

    # --- RM attributes ----------------------------------------------------------------------------------------

    def _rm_attr_nodes(self, obj: CObject, path: str, scope: _Scope, after: bool) -> list[Node]:
        out: list[Node] = []
        for spec in _RM_ATTRS.get(obj.rm_type_name, ()):
            if spec.before_content == after:
                continue
            out.extend(self._rm_attr_node(obj, spec, path, scope))
        return out

    def _rm_attr_node(self, owner: CObject, spec: _RmAttr, path: str, scope: _Scope) -> list[Node]:
        attr_path = f"{path}/{spec.path or spec.name}"
        constrained = [c for c in _attr_children(owner, spec.name) if not isinstance(c, ArchetypeSlot)]
        if spec.name == "ism_transition":
            return [self._ism_transition_node(owner, attr_path, scope, spec)]
        if spec.rm_type == "EVENT_CONTEXT":
            context = constrained[0] if constrained else CComplexObject("EVENT_CONTEXT")
            node: Node = {"id": "context", "name": "context", "localizedName": "context", "rmType": "EVENT_CONTEXT",
                          "min": spec.min, "max": spec.max, "aqlPath": attr_path}
            children = self._children(context, attr_path, scope) + self._rm_attr_nodes(context, attr_path, scope, True)
            dedupe_ids(children)
            node["children"] = children
            return [node]
        target = constrained[0] if constrained else CComplexObject(spec.rm_type)
        occurrences = target.occurrences if constrained and target.occurrences is not None else None
        node = self._data_value_node(target, attr_path, scope, occurrences or Interval(spec.min, spec.max))
        if target.rm_type_name != spec.rm_type and not constrained:
            node["rmType"] = spec.rm_type
        _name_rm_node(node, spec.name)
        if spec.name == "category":
            node["localizedName"] = "category"
        if spec.in_context:
            node["inContext"] = True
        if self.optional_in_context and not constrained and spec.name not in _ALWAYS_REQUIRED:
            node["min"] = 0
            node["inContext"] = True
        return [_ordered(node)]

    def _ism_transition_node(self, action: CObject, path: str, scope: _Scope, spec: _RmAttr) -> Node:
        """ACTION.ism_transition: careflow steps (each with the states it may be in), states and transition."""
        steps: list[dict[str, Any]] = []
        states: list[str] = []
        for transition in _attr_children(action, "ism_transition"):
            state_codes = _code_list(transition, "current_state")
            for code in state_codes:
                if code not in states:
                    states.append(code)
            for step_code in _code_list(transition, "careflow_step"):
                item = self._local_code_item(scope, step_code)
                item["currentStates"] = state_codes
                steps.append(item)
        children: list[Node] = []
        careflow: Node = {"id": "careflow_step", "name": "careflow_step", "rmType": "DV_CODED_TEXT",
                          "min": 1 if steps and not self.optional_in_context else 0, "max": 1,
                          "aqlPath": f"{path}/careflow_step"}
        code_input: dict[str, Any] = {"suffix": "code", "type": "CODED_TEXT"}
        if steps:
            code_input["list"] = steps
            code_input["terminology"] = "local"
        careflow["inputs"] = [code_input]
        careflow["inContext"] = True
        children.append(careflow)
        current: Node = {"id": "current_state", "name": "current_state", "rmType": "DV_CODED_TEXT", "min": 1,
                         "max": 1, "aqlPath": f"{path}/current_state"}
        state_input: dict[str, Any] = {"suffix": "code", "type": "CODED_TEXT"}
        if states:
            state_input["list"] = [self._openehr_code_item(code) for code in states]
        state_input["terminology"] = "openehr"
        current["inputs"] = [state_input]
        current["inContext"] = True
        children.append(current)
        children.append({"id": "transition", "name": "transition", "rmType": "DV_CODED_TEXT", "min": 0, "max": 1,
                         "aqlPath": f"{path}/transition",
                         "inputs": [{"suffix": "code", "type": "TEXT"}, {"suffix": "value", "type": "TEXT"}],
                         "inContext": True})
        return {"id": "ism_transition", "name": "ism_transition", "rmType": "ISM_TRANSITION", "min": spec.min,
                "max": spec.max, "aqlPath": path, "children": children, "inContext": True}

    # --- code list items --------------------------------------------------------------------------------------

    def _local_code_item(self, scope: _Scope, code: str) -> dict[str, Any]:
        label = self._text(scope, code) or code
        item: dict[str, Any] = {"value": code, "label": label}
        labels = self._localized(scope, code, "text")
        if labels:
            item["localizedLabels"] = labels
        descriptions = self._localized(scope, code, "description")
        if descriptions:
            item["localizedDescriptions"] = descriptions
        return item

    def _openehr_code_item(self, code: str) -> dict[str, Any]:
        label = _OPENEHR_RUBRICS.get(code, code)
        return {"value": code, "label": label, "localizedLabels": {self.language: label}}


def _name_rm_node(node: Node, name: str) -> None:
    """RM attribute nodes are named after the attribute (EHRbase: lower-case name, no localizations)."""
    node["id"] = node_id_from_name(name)
    node["name"] = name
    node.update(_ordered(node))


_KEY_ORDER = ("id", "name", "localizedName", "rmType", "nodeId", "min", "max", "dependsOn", "localizedNames",
              "localizedDescriptions", "annotations", "aqlPath", "children", "inputs", "inContext", "termBindings",
              "proportionTypes")


def _ordered(node: Node) -> Node:
    """Keys in the order EHRbase writes them, so that our JSON diffs cleanly against theirs."""
    ordered = {k: node[k] for k in _KEY_ORDER if k in node}
    ordered.update({k: v for k, v in node.items() if k not in ordered})
    node.clear()
    node.update(ordered)
    return node


def _is_data_value(rm_type: str) -> bool:
    return rm_type.startswith("DV_") or rm_type in ("CODE_PHRASE", "PARTY_PROXY", "PARTY_SELF",
                                                     "PARTY_IDENTIFIED", "STRING", "LOCATABLE_REF")


def _generic_argument(rm_type: str) -> str | None:
    m = re.match(r"[A-Z_]+<(.+)>$", rm_type)
    return m.group(1) if m else None


def _generic_short_name(rm_type: str) -> str:
    """``DV_CODED_TEXT`` -> ``coded_text``; ``DV_INTERVAL<DV_QUANTITY>`` -> ``interval<dv_quantity>``."""
    short = rm_type[3:] if rm_type.startswith("DV_") else rm_type
    return short.lower()


def _code_list(obj: CObject, attr: str) -> list[str]:
    """Codes of a DV_CODED_TEXT held by ``obj.attr`` (its ``defining_code`` C_CODE_PHRASE)."""
    for coded in _attr_children(obj, attr):
        for cp in _attr_children(coded, "defining_code"):
            if isinstance(cp, CCodePhrase):
                return list(cp.code_list)
    return []


def _proportion_types(obj: CObject) -> list[str]:
    item = _primitive(obj, "type")
    if isinstance(item, CInteger) and item.list:
        return [_PROPORTION_KINDS[k] for k in item.list if k in _PROPORTION_KINDS]
    return list(_PROPORTION_KINDS.values())


# ---------------------------------------------------------------------------------------------------------------
# Input builders, one per data type


def _text_inputs(b: _Builder, obj: CObject, scope: _Scope) -> list[dict[str, Any]]:
    inp: dict[str, Any] = {"type": "TEXT"}
    item = _primitive(obj, "value")
    if isinstance(item, CString) and item.list:
        inp["list"] = [{"value": v, "label": v} for v in item.list]
        inp["listOpen"] = False
    return [inp]


def _code_phrase_of(obj: CObject) -> CCodePhrase | None:
    for cp in _attr_children(obj, "defining_code"):
        if isinstance(cp, CCodePhrase):
            return cp
    return None


def _terminology_of(cp: CCodePhrase) -> str | None:
    if cp.terminology_id:
        return cp.terminology_id
    uri = getattr(cp, "reference_set_uri", None)
    if uri:
        return uri.split(":", 1)[1] if uri.startswith("terminology:") else uri
    return None


def _coded_text_inputs(b: _Builder, obj: CObject, scope: _Scope) -> list[dict[str, Any]]:
    cp = _code_phrase_of(obj)
    terminology = _terminology_of(cp) if cp is not None else None
    if cp is None or not cp.code_list:
        # no code list: free code and value, tagged with the terminology they come from when known
        inputs = [{"suffix": "code", "type": "TEXT"}, {"suffix": "value", "type": "TEXT"}]
        if terminology:
            for inp in inputs:
                inp["terminology"] = terminology
        return inputs
    if terminology == "openehr":
        items = [b._openehr_code_item(code) for code in cp.code_list]
    else:
        items = [b._local_code_item(scope, code) for code in cp.code_list]
        if terminology != "local":
            # external codes: EHRbase keeps the label only when the template defines a text for it
            for item, code in zip(items, cp.code_list):
                if item["label"] == code and "localizedLabels" not in item:
                    item.pop("label")
    inp: dict[str, Any] = {"suffix": "code", "type": "CODED_TEXT", "list": items}
    if terminology:
        inp["terminology"] = terminology
    if cp.assumed_value:
        inp["defaultValue"] = cp.assumed_value
    return [inp]


def _quantity_inputs(b: _Builder, obj: CObject, scope: _Scope) -> list[dict[str, Any]]:
    magnitude: dict[str, Any] = {"suffix": "magnitude", "type": "DECIMAL"}
    if not isinstance(obj, CDvQuantity):
        # no C_DV_QUANTITY: nothing constrains the unit, so it is free text
        return [magnitude, {"suffix": "unit", "type": "TEXT"}]
    unit: dict[str, Any] = {"suffix": "unit", "type": "CODED_TEXT"}
    items = []
    for q in obj.list:
        item: dict[str, Any] = {"value": q.units, "label": q.units}
        labels = b._localized(scope, q.units, "text")
        if labels:
            item["localizedLabels"] = labels
        validation = _quantity_validation(q.magnitude, q.precision)
        if validation:
            item["validation"] = validation
        items.append(item)
    if items:
        unit["list"] = items
    if len(obj.list) == 1:
        # one unit: its limits apply to the magnitude directly
        validation = _quantity_validation(obj.list[0].magnitude, obj.list[0].precision)
        if validation:
            magnitude["validation"] = validation
    return [magnitude, unit]


def _quantity_validation(magnitude: Interval[float] | None, precision: Interval[int] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    rng = _range_validation(magnitude, float)
    if rng:
        out["range"] = rng
    if precision is not None and not (precision.lower is not None and precision.lower < 0):
        prec = _range_validation(precision, int)
        if prec:
            out["precision"] = prec
    return out


def _count_inputs(b: _Builder, obj: CObject, scope: _Scope) -> list[dict[str, Any]]:
    inp: dict[str, Any] = {"type": "INTEGER"}
    item = _primitive(obj, "magnitude")
    if isinstance(item, CInteger):
        rng = _range_validation(item.range, int)
        if rng:
            inp["validation"] = {"range": rng}
    return [inp]


def _ordinal_inputs(b: _Builder, obj: CObject, scope: _Scope) -> list[dict[str, Any]]:
    inp: dict[str, Any] = {"type": "CODED_TEXT"}
    if isinstance(obj, CDvOrdinal) and obj.list:
        items = []
        for o in obj.list:
            item = b._local_code_item(scope, o.symbol.code_string)
            item["ordinal"] = o.value
            items.append(item)
        inp["list"] = items
    return [inp]


def _scale_inputs(b: _Builder, obj: CObject, scope: _Scope) -> list[dict[str, Any]]:
    """DV_SCALE (RM 1.1.0): like an ordinal, with real values."""
    inp: dict[str, Any] = {"type": "CODED_TEXT"}
    entries = getattr(obj, "list", None) or []
    if entries:
        items = []
        for o in entries:
            item = b._local_code_item(scope, o.symbol.code_string)
            item["value_scale"] = o.value
            items.append(item)
        inp["list"] = items
    return [inp]


def _boolean_inputs(b: _Builder, obj: CObject, scope: _Scope) -> list[dict[str, Any]]:
    inp: dict[str, Any] = {"type": "BOOLEAN"}
    item = _primitive(obj, "value")
    if isinstance(item, CBoolean) and item.true_valid != item.false_valid:
        value = "true" if item.true_valid else "false"
        inp["list"] = [{"value": value, "label": value}]
    return [inp]


def _temporal_inputs(kind: str, cls: type) -> Any:
    def build(b: _Builder, obj: CObject, scope: _Scope) -> list[dict[str, Any]]:
        inp: dict[str, Any] = {"type": kind}
        item = _primitive(obj, "value")
        if isinstance(item, cls):
            pattern = _date_pattern(getattr(item, "pattern", None))
            if pattern:
                inp["validation"] = {"pattern": pattern}
        return [inp]

    return build


def _duration_inputs(b: _Builder, obj: CObject, scope: _Scope) -> list[dict[str, Any]]:
    item = _primitive(obj, "value")
    fields = list(_DURATION_FIELDS)
    low: dict[str, float] = {}
    high: dict[str, float] = {}
    low_open = high_open = False
    if isinstance(item, CDuration):
        if item.pattern:
            fields = _duration_pattern_fields(item.pattern) or fields
        if item.range is not None:
            if item.range.lower is not None:
                low = _parse_iso_duration(str(item.range.lower))
                low_open = not item.range.lower_included
            if item.range.upper is not None:
                high = _parse_iso_duration(str(item.range.upper))
                high_open = not item.range.upper_included
    inputs = []
    for name in fields:
        rng: dict[str, Any] = {"min": low.get(name, 0), "minOp": ">" if low_open and name in low else ">="}
        if name in high:
            rng["max"] = high[name]
            rng["maxOp"] = "<" if high_open else "<="
        inputs.append({"suffix": name, "type": "INTEGER", "validation": {"range": rng}})
    return inputs


def _duration_pattern_fields(pattern: str) -> list[str]:
    """``PYMWD`` / ``PTHMS`` / ``PDTH`` -> the fields the pattern allows, in web template order."""
    pattern = pattern.upper()
    if not pattern.startswith("P"):
        return []
    date, _, time = pattern[1:].partition("T")
    allowed = {_DURATION_DATE_DESIGNATORS[c] for c in date if c in _DURATION_DATE_DESIGNATORS}
    allowed |= {_DURATION_TIME_DESIGNATORS[c] for c in time if c in _DURATION_TIME_DESIGNATORS}
    return [f for f in _DURATION_FIELDS if f in allowed]


def _proportion_inputs(b: _Builder, obj: CObject, scope: _Scope) -> list[dict[str, Any]]:
    inputs = []
    for part in ("numerator", "denominator"):
        inp: dict[str, Any] = {"suffix": part, "type": "DECIMAL"}
        item = _primitive(obj, part)
        if isinstance(item, CReal):
            rng = _range_validation(item.range, float)
            if rng:
                inp["validation"] = {"range": rng}
        inputs.append(inp)
    return inputs


def _fixed_inputs(*suffixes: str) -> Any:
    """Data types whose inputs do not depend on the constraint: one TEXT input per RM field."""

    def build(b: _Builder, obj: CObject, scope: _Scope) -> list[dict[str, Any]]:
        if not suffixes:
            return [{"type": "TEXT"}]
        return [{"suffix": s, "type": "TEXT"} for s in suffixes]

    return build


def _no_inputs(b: _Builder, obj: CObject, scope: _Scope) -> list[dict[str, Any]] | None:
    return None


_INPUT_BUILDERS: dict[str, Any] = {
    "DV_TEXT": _text_inputs,
    "DV_CODED_TEXT": _coded_text_inputs,
    "DV_QUANTITY": _quantity_inputs,
    "DV_COUNT": _count_inputs,
    "DV_ORDINAL": _ordinal_inputs,
    "DV_SCALE": _scale_inputs,
    "DV_BOOLEAN": _boolean_inputs,
    "DV_DATE": _temporal_inputs("DATE", CDate),
    "DV_DATE_TIME": _temporal_inputs("DATETIME", CDateTime),
    "DV_TIME": _temporal_inputs("TIME", CTime),
    "DV_DURATION": _duration_inputs,
    "DV_PROPORTION": _proportion_inputs,
    "DV_IDENTIFIER": _fixed_inputs("id", "type", "issuer", "assigner"),
    "DV_PARSABLE": _fixed_inputs("value", "formalism"),
    "DV_STATE": _fixed_inputs("code", "value"),
    "DV_MULTIMEDIA": _fixed_inputs(),
    "DV_URI": _fixed_inputs(),
    "DV_EHR_URI": _fixed_inputs(),
    "STRING": _fixed_inputs(),
    "PARTY_PROXY": _fixed_inputs("id", "id_scheme", "id_namespace", "name"),
    "PARTY_SELF": _fixed_inputs("id", "id_scheme", "id_namespace", "name"),
    "PARTY_IDENTIFIED": _fixed_inputs("id", "id_scheme", "id_namespace", "name"),
    "CODE_PHRASE": _no_inputs,
    "LOCATABLE_REF": _no_inputs,
}


# ---------------------------------------------------------------------------------------------------------------
# Entry point


def _template_languages(template: Any, definition: CObject, default: str) -> list[str]:
    """The template's languages, default first: those its root archetype has terms in."""
    langs: list[str] = [default]
    declared = getattr(template, "languages", None) or []
    terminology = definition.terminology if isinstance(definition, CArchetypeRoot) else None
    for lang in list(declared) + (terminology.languages if terminology else []):
        if lang and lang not in langs:
            langs.append(lang)
    if terminology and len(langs) > 1:
        langs = [lang for lang in langs if lang == default or lang in terminology.term_definitions]
    return langs


def build_web_template(
    template: Any, language: str | None = None, *, optional_in_context: bool = False
) -> dict[str, Any]:
    """The web template (EHRbase/Better JSON, version 2.3) of an operational template.

    ``language`` picks the default language (names, labels and ids); the template's own language otherwise.
    ``optional_in_context`` reproduces the older EHRbase SDK convention of ``min: 0`` on the RM attributes the
    server fills from the composition context (language, subject, time, ...); current EHRbase reports them with
    their RM multiplicity (1 for the mandatory ones), which is the default here.
    """
    definition = template.definition
    default = language or getattr(template, "language", None) or "en"
    languages = _template_languages(template, definition, default)
    builder = _Builder(default, languages, dict(getattr(template, "annotations", None) or {}), optional_in_context)
    tree = builder.root(definition)
    return {
        "templateId": template.template_id,
        "version": WEB_TEMPLATE_VERSION,
        "defaultLanguage": default,
        "languages": languages,
        "tree": tree,
    }
