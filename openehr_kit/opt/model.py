"""The operational template (OPT 1.4) as an object: header, definition tree and per-archetype terminologies.

The definition is built from the archetype object model (``openehr_kit.am.model``); every nested
``CArchetypeRoot`` carries the terminology of its own archetype, so codes are always resolved against the
archetype root in force. Queries use AQL-style paths; siblings that share a node id are told apart with a name
predicate (``[at0001 and name/value='Systolic']``), which the template itself derives from the nodes' name
constraints, so every path ``iter_nodes`` yields leads back to its node.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from openehr_kit.am.model import (
    CArchetypeRoot,
    CAttribute,
    CCodePhrase,
    CComplexObject,
    CObject,
    CPrimitiveObject,
    CString,
    NodeInfo,
    Terminology,
    _predicate_parts,
    node_predicate,
    split_path,
)

#: RM types that are data values (leaves of the data tree) besides the ``DV_*`` family
_DATA_VALUE_EXTRA = frozenset({"CODE_PHRASE"})


def _is_data_value(rm_type: str) -> bool:
    return rm_type.startswith("DV_") or rm_type in _DATA_VALUE_EXTRA


def name_predicate(node_key: str, name: str) -> str:
    """The canonical AQL predicate for a node key constrained by name: ``at0001 and name/value='X'``."""
    escaped = name.replace("\\", "\\\\").replace("'", "\\'")
    return f"{node_key} and name/value='{escaped}'"


def _unescape(name: str) -> str:
    return re.sub(r"\\(.)", r"\1", name)


def constrained_name(node: CObject, terminology: Terminology | None, language: str | None = None) -> str | None:
    """The single name a node's ``name`` constraint fixes, if any.

    ``name`` as DV_TEXT with a one-string C_STRING, or as DV_CODED_TEXT with one local code (its term text).
    """
    if not isinstance(node, CComplexObject):
        return None
    name_attr = node.attribute("name")
    if name_attr is None or not name_attr.children:
        return None
    name_obj = name_attr.children[0]
    if not isinstance(name_obj, CComplexObject):
        return None
    value_attr = name_obj.attribute("value")
    if value_attr is not None and value_attr.children:
        prim = value_attr.children[0]
        if isinstance(prim, CPrimitiveObject) and isinstance(prim.item, CString) and len(prim.item.list) == 1:
            return prim.item.list[0]
    code_attr = name_obj.attribute("defining_code")
    if code_attr is not None and code_attr.children and terminology is not None:
        cp = code_attr.children[0]
        if isinstance(cp, CCodePhrase) and cp.terminology_id == "local" and len(cp.code_list) == 1:
            return terminology.text(cp.code_list[0], language)
    return None


@dataclass(frozen=True, slots=True)
class Leaf:
    """A data value position of the template: an ELEMENT's value (one per allowed type) or another DV_* node."""

    #: path of the data value node (``.../items[at0004]/value``)
    path: str
    #: data value type (``DV_QUANTITY``; ``DATA_VALUE`` when an ELEMENT leaves its value unconstrained)
    rm_type: str
    #: the constraint on the value (CComplexObject, CDvQuantity, CDvOrdinal, CCodePhrase...) or None
    constraint: CObject | None
    #: the node owning the value: the ELEMENT, or e.g. the EVENT for ``time``
    owner: NodeInfo
    #: the owning RM attribute (``value``, ``time``, ``start_time``...)
    attribute: str


@dataclass(frozen=True, slots=True)
class DefaultValue:
    """A default value from the OPT ``constraints`` section (Ocean ``T_COMPLEX_OBJECT``)."""

    differential_path: str
    rm_attribute_name: str
    #: the DATA_VALUE as parsed (``{"_type": "DV_TEXT", "value": ...}``)
    value: dict[str, Any]
    #: the node owning the attribute, when the differential path resolves (``info_of`` gives its path)
    owner: CObject | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True, eq=False)
class _Index:
    infos: list[NodeInfo]
    by_path: dict[str, list[NodeInfo]]
    by_id: dict[int, NodeInfo]
    root_of: dict[int, CArchetypeRoot]
    #: (parent path, attribute, key) groups whose members have no distinguishing name
    ambiguous: list[tuple[str, str, str]]


@dataclass(slots=True, eq=False)
class OperationalTemplate:
    """An OPT 1.4 operational template."""

    template_id: str
    concept: str
    #: the template's language code (``en``)
    language: str
    definition: CArchetypeRoot
    uid: str | None = None
    is_controlled: bool | None = None
    #: RESOURCE_DESCRIPTION as parsed: ``original_author``/``other_details`` are dicts, ``details`` keyed by language
    description: dict[str, Any] = field(default_factory=dict)
    #: annotation path (as written in the OPT) -> item id -> text
    annotations: dict[str, dict[str, str]] = field(default_factory=dict)
    #: ``ontology`` and ``component_ontologies``: archetype id -> its flat terminology (all languages)
    component_terminologies: dict[str, Terminology] = field(default_factory=dict)
    #: archetype id -> language -> ac-code -> items, where the OPT carries constraint definitions
    constraint_definitions: dict[str, dict[str, dict[str, dict[str, str]]]] = field(default_factory=dict)
    default_values: list[DefaultValue] = field(default_factory=list)
    #: ``view`` constraints: path -> item id -> value
    view: dict[str, dict[str, str]] = field(default_factory=dict)
    source: str | None = None
    #: id(node) -> XML source line, filled by the loader for located diagnostics
    node_lines: dict[int, int] = field(default_factory=dict, repr=False)
    _index: _Index | None = field(default=None, init=False, repr=False)

    # --- header ---------------------------------------------------------------------------------------------

    @property
    def root_archetype_id(self) -> str:
        return self.definition.archetype_id

    @property
    def rm_type(self) -> str:
        return self.definition.rm_type_name

    @property
    def languages(self) -> list[str]:
        """The template language first, then every other language some archetype root has terms in."""
        langs = [self.language]
        for info in self._get_index().infos:
            node = info.node
            if isinstance(node, CArchetypeRoot) and node.terminology is not None:
                for lang in node.terminology.term_definitions:
                    if lang not in langs:
                        langs.append(lang)
        return langs

    def line_of(self, node: CObject) -> int | None:
        return self.node_lines.get(id(node))

    # --- walking ----------------------------------------------------------------------------------------------

    def iter_nodes(self) -> Iterator[NodeInfo]:
        """Every node of the definition (root first, depth first) with a unique AQL-style path.

        Only alternatives that carry no node id at all (``value`` as DV_TEXT or DV_CODED_TEXT) share a path.
        """
        return iter(self._get_index().infos)

    def iter_leaves(self) -> Iterator[Leaf]:
        """Data value positions: each ELEMENT's value alternatives, and DV_* nodes outside ELEMENTs."""
        for info in self._get_index().infos:
            node = info.node
            if not isinstance(node, CComplexObject):
                continue
            if node.rm_type_name == "ELEMENT":
                value = node.attribute("value")
                base = info.path.rstrip("/")
                if value is None or not value.children:
                    yield Leaf(f"{base}/value", "DATA_VALUE", None, info, "value")
                    continue
                for child in value.children:
                    yield Leaf(f"{base}/value", child.rm_type_name, child, info, "value")
                continue
            if _is_data_value(node.rm_type_name):
                continue
            for attr in node.attributes:
                # names of LOCATABLEs are constraints on the node, not data
                if attr.rm_attribute_name == "name":
                    continue
                for child in attr.children:
                    if _is_data_value(child.rm_type_name):
                        base = info.path.rstrip("/")
                        yield Leaf(f"{base}/{attr.rm_attribute_name}", child.rm_type_name, child, info,
                                   attr.rm_attribute_name)

    # --- queries ----------------------------------------------------------------------------------------------

    def node(self, path: str) -> CObject | None:
        """The node at an AQL-style path (``[at0001 and name/value='X']`` and ``[at0001,'X']`` both work).

        A leading ``[root archetype id]`` (the form OPT annotations use) is accepted. Without a name predicate,
        the first of several same-id siblings is returned.
        """
        found = self.nodes(path)
        return found[0] if found else None

    def nodes(self, path: str) -> list[CObject]:
        """All nodes a path selects at its last step (alternatives without node ids share a path)."""
        index = self._index
        if index is not None:
            exact = index.by_path.get(path)
            if exact is not None:
                return [i.node for i in exact]
        try:
            steps = split_path(self._strip_root_prefix(path))
        except ValueError:
            return []
        # alternatives without node ids share a path, so a step continues from every node matched so far
        current: list[tuple[CObject, Terminology | None]] = [(self.definition, self.definition.terminology)]
        for attr_name, predicate in steps:
            nxt: list[tuple[CObject, Terminology | None]] = []
            for obj, term in current:
                if isinstance(obj, CArchetypeRoot) and obj.terminology is not None:
                    term = obj.terminology
                if not isinstance(obj, CComplexObject):
                    continue
                attr = obj.attribute(attr_name)
                if attr is not None:
                    nxt.extend((c, term) for c in self._select(attr, predicate, term))
            if not nxt:
                return []
            current = nxt
        return [obj for obj, _ in current]

    def node_info(self, path: str) -> NodeInfo | None:
        """The NodeInfo (unique path, terminology, archetype) of the node at ``path``."""
        node = self.node(path)
        return None if node is None else self._get_index().by_id.get(id(node))

    def info_of(self, node: CObject) -> NodeInfo | None:
        return self._get_index().by_id.get(id(node))

    def term_text(self, node: NodeInfo | str, language: str | None = None) -> str | None:
        """The term text of a node's id in its archetype root, in ``language`` (template language by default)."""
        info = self.node_info(node) if isinstance(node, str) else node
        if info is None or info.terminology is None or not info.node.node_id:
            return None
        return info.terminology.text(info.node.node_id, language or self.language)

    def term(self, node: NodeInfo | str, language: str | None = None) -> dict[str, str] | None:
        """All items (text, description, comment...) of a node's term definition."""
        info = self.node_info(node) if isinstance(node, str) else node
        if info is None or info.terminology is None or not info.node.node_id:
            return None
        return info.terminology.term(info.node.node_id, language or self.language)

    def archetype_root_of(self, path: str | NodeInfo) -> CArchetypeRoot | None:
        """The archetype root in force at ``path`` (the node itself when it is a root)."""
        node = self.node(path) if isinstance(path, str) else path.node
        return None if node is None else self._get_index().root_of.get(id(node))

    def ambiguous_siblings(self) -> list[tuple[str, str, str]]:
        """(parent path, attribute, node key) for same-id siblings whose names do not tell them apart."""
        return list(self._get_index().ambiguous)

    def annotation_for(self, path: str) -> dict[str, str] | None:
        """The annotation items of the node at ``path`` (annotations name nodes in several path styles)."""
        node = self.node(path)
        if node is None:
            return None
        for ann_path, items in self.annotations.items():
            if self.node(ann_path) is node:
                return items
        return None

    # --- internals --------------------------------------------------------------------------------------------

    def _strip_root_prefix(self, path: str) -> str:
        # OPT annotations and differential paths start with "[root archetype id]"
        if path.startswith("["):
            end = path.find("]")
            if end > 0:
                path = path[end + 1:]
        return path or "/"

    def _select(self, attr: CAttribute, predicate: str | None, term: Terminology | None) -> list[CObject]:
        if predicate is None:
            return list(attr.children)
        key, name = _predicate_parts(predicate)
        cands = [c for c in attr.children if node_predicate(c) == key or c.node_id == key]
        if name is None or len(cands) <= 1:
            return cands
        name = _unescape(name)
        named = []
        for c in cands:
            cterm = c.terminology if isinstance(c, CArchetypeRoot) and c.terminology else term
            if constrained_name(c, cterm, self.language) == name:
                named.append(c)
        return named or cands[:1]

    def _get_index(self) -> _Index:
        if self._index is None:
            self._index = self._build_index()
        return self._index

    def _build_index(self) -> _Index:
        infos: list[NodeInfo] = []
        by_path: dict[str, list[NodeInfo]] = {}
        by_id: dict[int, NodeInfo] = {}
        root_of: dict[int, CArchetypeRoot] = {}
        ambiguous: list[tuple[str, str, str]] = []
        lang = self.language
        # explicit stack instead of recursion: templates nest deeply and this runs once per template
        stack: list[tuple[CObject, str, Terminology | None, str | None, int, CArchetypeRoot | None]] = [
            (self.definition, "/", None, None, 0, None)
        ]
        while stack:
            node, path, term, arch_id, depth, root = stack.pop()
            if isinstance(node, CArchetypeRoot):
                root = node
                if node.terminology is not None:
                    term, arch_id = node.terminology, node.archetype_id
            info = NodeInfo(path, node, term, arch_id, depth)
            infos.append(info)
            by_path.setdefault(path, []).append(info)
            by_id[id(node)] = info
            if root is not None:
                root_of[id(node)] = root
            if not isinstance(node, CComplexObject) or not node.attributes:
                continue
            base = "" if path == "/" else path
            pending = []
            for attr in node.attributes:
                prefix = f"{base}/{attr.rm_attribute_name}"
                children = attr.children
                keys = [node_predicate(c) for c in children]
                dup = {k for k in keys if k and keys.count(k) > 1} if len(children) > 1 else set()
                for child, key in zip(children, keys):
                    if not key:
                        child_path = prefix
                    elif key in dup:
                        # the child's own root terminology names it when the child is itself a root
                        cterm = child.terminology if isinstance(child, CArchetypeRoot) and child.terminology else term
                        name = constrained_name(child, cterm, lang)
                        if name is None:
                            child_path = f"{prefix}[{key}]"
                        else:
                            child_path = f"{prefix}[{name_predicate(key, name)}]"
                    else:
                        child_path = f"{prefix}[{key}]"
                    pending.append((child, child_path, term, arch_id, depth + 1, root))
                if dup:
                    seen: dict[str, int] = {}
                    for _child, cpath, *_ in pending[-len(children):]:
                        seen[cpath] = seen.get(cpath, 0) + 1
                    for cpath, n in seen.items():
                        segment = cpath[len(prefix):]
                        if n > 1 and segment:
                            ambiguous.append((path, attr.rm_attribute_name, segment))
            stack.extend(reversed(pending))
        return _Index(infos, by_path, by_id, root_of, ambiguous)
