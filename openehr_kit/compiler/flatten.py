"""Archetypes for templates: finding them by id, flattening specialisations, and the operational constraint tree.

* ``ArchetypeRepository`` indexes ``*.adl`` files below the given directories by file stem (= archetype id) and
  parses each one at most once.
* ``flatten`` turns a specialised archetype into its flat form. ADL 1.4 specialisations (CKM) are written with
  their whole definition, so flattening means: the child's definition, the parent's ontology terms (per
  language) and bindings the child lacks, and a check that specialised node ids (``at0001.1``) specialise a node
  the parent has.
* ``archetype_root`` copies an archetype's definition into a ``CArchetypeRoot`` carrying the archetype's flat
  terminology, with the ADL 1.4 / RM defaults made explicit (occurrences 1..1, existence and container
  cardinality from the reference model) because OPT 1.4 requires every interval to be written out.
* Path helpers resolve template rule paths (with ``name/value`` predicates) against such a tree.
"""

from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from openehr_kit.am.adl import load_archetype
from openehr_kit.am.model import (
    Archetype,
    ArchetypeInternalRef,
    Cardinality,
    CArchetypeRoot,
    CAttribute,
    CCodePhrase,
    CComplexObject,
    CObject,
    ConstraintRef,
    Interval,
    Terminology,
    _predicate_parts,
    find_node,
    split_path,
)
from openehr_kit.diagnostics import Issue, ParseError
from openehr_kit.opt.model import constrained_name
from openehr_kit.rm import schema as rm

ONE = Interval(1, 1)
OPTIONAL = Interval(0, 1)
_SPECIALISED_RE = re.compile(r"^(at|ac)(\d+(?:\.\d+)*)\.(\d+)$")


class ArchetypeNotFound(LookupError):
    """No ``<archetype id>.adl`` below any archetype directory."""


@dataclass(slots=True)
class ArchetypeRepository:
    """Archetypes by id from ``*.adl`` files below ``dirs`` (first directory wins for duplicate ids)."""

    dirs: list[Path]
    _index: dict[str, Path] | None = field(default=None, init=False, repr=False)
    _parsed: dict[str, Archetype | ParseError] = field(default_factory=dict, init=False, repr=False)
    _flat: dict[str, Archetype] = field(default_factory=dict, init=False, repr=False)
    #: warnings met while flattening (specialised node ids without a parent node)
    issues: list[Issue] = field(default_factory=list, init=False, repr=False)

    @classmethod
    def of(cls, dirs: list[str | os.PathLike[str]] | list[Path]) -> ArchetypeRepository:
        return cls([Path(d) for d in dirs])

    def index(self) -> dict[str, Path]:
        if self._index is None:
            idx: dict[str, Path] = {}
            for d in self.dirs:
                if d.is_file() and d.suffix == ".adl":
                    idx.setdefault(d.stem, d)
                    continue
                # sorted: the same id below one directory resolves the same way on every machine
                for f in sorted(d.rglob("*.adl")):
                    idx.setdefault(f.stem, f)
            self._index = idx
        return self._index

    def path_of(self, archetype_id: str) -> Path | None:
        return self.index().get(archetype_id)

    def load(self, archetype_id: str) -> Archetype:
        """The archetype as written; ArchetypeNotFound, or the ParseError of its file."""
        got = self._parsed.get(archetype_id)
        if got is None:
            path = self.path_of(archetype_id)
            if path is None:
                raise ArchetypeNotFound(archetype_id)
            try:
                got = load_archetype(path)
            except ParseError as exc:
                got = exc
            self._parsed[archetype_id] = got
        if isinstance(got, ParseError):
            raise got
        return got

    def flat(self, archetype_id: str, _seen: tuple[str, ...] = ()) -> Archetype:
        """The flat form of the archetype (specialisations merged onto their parents, recursively)."""
        flat = self._flat.get(archetype_id)
        if flat is not None:
            return flat
        arch = self.load(archetype_id)
        if arch.parent_archetype_id and arch.parent_archetype_id not in _seen:
            parent = self.flat(arch.parent_archetype_id, (*_seen, archetype_id))
            flat, issues = flatten(arch, parent)
            self.issues.extend(issues)
        else:
            flat = arch
        self._flat[archetype_id] = flat
        return flat


def _merge_terms(child: dict[str, dict[str, dict[str, str]]], parent: dict[str, dict[str, dict[str, str]]]
                 ) -> dict[str, dict[str, dict[str, str]]]:
    out = {lang: dict(defs) for lang, defs in child.items()}
    for lang, defs in parent.items():
        target = out.setdefault(lang, {})
        for code, item in defs.items():
            target.setdefault(code, item)
    return out


def flatten(child: Archetype, parent: Archetype) -> tuple[Archetype, list[Issue]]:
    """The flat form of ``child`` (written whole, as ADL 1.4 specialisations are) given its flat ``parent``."""
    issues: list[Issue] = []
    pt = parent.ontology
    parent_codes = set()
    for defs in pt.term_definitions.values():
        parent_codes.update(defs)
    for defs in pt.constraint_definitions.values():
        parent_codes.update(defs)
    ct = child.ontology
    codes = set()
    for defs in list(ct.term_definitions.values()) + list(ct.constraint_definitions.values()):
        codes.update(defs)
    for code in sorted(codes):
        m = _SPECIALISED_RE.match(code)
        if not m:
            continue
        base = f"{m.group(1)}{m.group(2)}"
        # atN.M specialises the parent's atN; at0.M (and ac0.M) are nodes new in the child
        if re.fullmatch(r"(at|ac)0+", base):
            continue
        if base not in parent_codes:
            issues.append(Issue("TPL008", f"{child.archetype_id}: {code} specialises {base}, which its parent "
                                f"{parent.archetype_id} does not define", file=child.source))
    bindings = {t: dict(v) for t, v in ct.term_bindings.items()}
    for t, items in pt.term_bindings.items():
        target = bindings.setdefault(t, {})
        for k, v in items.items():
            target.setdefault(k, v)
    cbind = {t: dict(v) for t, v in ct.constraint_bindings.items()}
    for t, items in pt.constraint_bindings.items():
        target2 = cbind.setdefault(t, {})
        for k, v in items.items():
            target2.setdefault(k, v)
    terminology = Terminology(
        ct.original_language,
        sorted(set(ct.terminologies_available) | set(pt.terminologies_available)),
        _merge_terms(ct.term_definitions, pt.term_definitions),
        _merge_terms(ct.constraint_definitions, pt.constraint_definitions),
        bindings,
        cbind,
    )
    flat = copy.copy(child)
    flat.ontology = terminology
    return flat, issues


# ---------------------------------------------------------------------------------------------------------------
# The operational tree


def archetype_root(arch: Archetype) -> CArchetypeRoot:
    """A fresh ``CArchetypeRoot`` for ``arch``: a deep copy of its definition with explicit defaults."""
    d = copy.deepcopy(arch.definition)
    root = CArchetypeRoot(
        d.rm_type_name, d.node_id, d.occurrences, d.attributes, d.any_allowed, d.default_value,
        arch.archetype_id, arch.ontology,
    )
    make_explicit(root, arch.ontology)
    return root


def _bound_reference(obj: CObject, terminology: Terminology) -> CObject:
    if not isinstance(obj, ConstraintRef):
        return obj
    for uris in terminology.constraint_bindings.values():
        uri = uris.get(obj.reference)
        if uri:
            return CCodePhrase(obj.rm_type_name, obj.node_id, obj.occurrences, None, [], None, str(uri))
    return obj


def make_explicit(node: CObject, terminology: Terminology | None = None) -> None:
    """Fill in what ADL 1.4 leaves implicit: occurrences 1..1, RM existence, container cardinality.

    With the archetype's ``terminology``, a constraint reference (``[ac0001]``) that has a constraint binding
    becomes a ``C_CODE_REFERENCE`` to the bound value set (the first binding), as OPT 1.4 expresses it.
    """
    stack = [node]
    while stack:
        obj = stack.pop()
        if obj.occurrences is None:
            obj.occurrences = ONE
        if not isinstance(obj, CComplexObject):
            continue
        for attr in obj.attributes:
            if terminology is not None and terminology.constraint_bindings:
                attr.children = [_bound_reference(c, terminology) for c in attr.children]
            rma = rm.attribute(obj.rm_type_name, attr.rm_attribute_name)
            if attr.existence is None:
                attr.existence = rma.existence if rma is not None else OPTIONAL
            if rma is not None and rma.is_container:
                attr.is_multiple = True
            if attr.is_multiple and attr.cardinality is None:
                attr.cardinality = Cardinality(Interval(0, None), True, False)
            stack.extend(attr.children)


# ---------------------------------------------------------------------------------------------------------------
# Paths


@dataclass(slots=True)
class Step:
    """One resolved step: the parent object, its attribute, and the child matched (None: the attribute itself)."""

    parent: CComplexObject
    attribute: CAttribute | None
    attribute_name: str
    node: CObject | None


class PathError(LookupError):
    """A path step that does not exist; ``prefix`` is the part that does."""

    def __init__(self, message: str, prefix: str) -> None:
        super().__init__(message)
        self.prefix = prefix


def _candidates(attr: CAttribute, key: str) -> list[CObject]:
    out = []
    for c in attr.children:
        if isinstance(c, CArchetypeRoot):
            # a filled slot answers to its archetype id, never to the at0000 of its own archetype
            if c.archetype_id == key:
                out.append(c)
        elif c.node_id == key:
            out.append(c)
    return out


def select(attr: CAttribute, predicate: str, terminology: Terminology | None, language: str | None) -> list[CObject]:
    """The children of ``attr`` a predicate names (``at0001``, ``at0001 and name/value='X'``, ``at0001, 'X'``).

    With a name, the child constrained to that name wins; without a match the unnamed (original) node does,
    as the name in a path may also be the one a later ``name`` rule gives.
    """
    key, name = _predicate_parts(predicate)
    cands = _candidates(attr, key)
    if name is None or len(cands) <= 1:
        return cands
    name = re.sub(r"\\(.)", r"\1", name)
    named = [c for c in cands if constrained_name(c, _term_of(c, terminology), language) == name]
    if named:
        return named
    unnamed = [c for c in cands if constrained_name(c, _term_of(c, terminology), language) is None]
    return unnamed[:1] or cands[:1]


def _term_of(c: CObject, terminology: Terminology | None) -> Terminology | None:
    return c.terminology if isinstance(c, CArchetypeRoot) and c.terminology is not None else terminology


def resolve(root: CArchetypeRoot, path: str, language: str | None = None) -> Step:
    """The last step of ``path`` inside the archetype rooted at ``root``; PathError where a step is missing.

    Internal references met on the way are replaced by copies of their targets, so a rule can constrain a node
    reached through ``use_node`` without changing the node it reuses.
    """
    try:
        steps = split_path(path)
    except ValueError as exc:
        raise PathError(str(exc), "") from None
    if not steps:
        raise PathError("the path is empty", "")
    node: CObject = root
    done = ""
    for i, (attr_name, predicate) in enumerate(steps):
        if not isinstance(node, CComplexObject):
            raise PathError(f"{done or '/'} is a {node.rm_type_name} without attributes", done)
        attr = node.attribute(attr_name)
        last = i == len(steps) - 1
        here = f"{done}/{attr_name}" + (f"[{predicate}]" if predicate else "")
        if attr is None:
            if last and predicate is None and rm.attribute(node.rm_type_name, attr_name) is not None:
                return Step(node, None, attr_name, None)
            raise PathError(f"{node.rm_type_name} at {done or '/'} has no attribute {attr_name!r}", done)
        if predicate is None:
            child = attr.children[0] if attr.children else None
        else:
            found = select(attr, predicate, root.terminology, language)
            if not found:
                raise PathError(f"no node [{predicate}] in {done}/{attr_name}", done)
            child = found[0]
        if isinstance(child, ArchetypeInternalRef):
            child = materialise(root, attr, child)
        if last:
            return Step(node, attr, attr_name, child)
        if child is None:
            raise PathError(f"{done}/{attr_name} has no object to descend into", done)
        node = child
        done = here
    raise AssertionError("unreachable")


def materialise(root: CArchetypeRoot, attr: CAttribute, ref: ArchetypeInternalRef) -> CObject:
    """Replace ``use_node`` ``ref`` in ``attr`` by a copy of its target (keeping the ref's id and occurrences)."""
    target = find_node(root, ref.target_path)
    if target is None or isinstance(target, ArchetypeInternalRef):
        return ref
    clone = copy.deepcopy(target)
    clone.occurrences = ref.occurrences or clone.occurrences
    if ref.node_id:
        clone.node_id = ref.node_id
    idx = next(i for i, c in enumerate(attr.children) if c is ref)
    attr.children[idx] = clone
    return clone
