"""Differential check: a compiled template's constraint tree against a reference OPT (e.g. Ocean's output).

``compare(ours, reference)`` walks two constraint trees in parallel and lists every difference in paths, RM
types, node ids, occurrences, existence, cardinality, primitive constraints, code lists, slots and term texts.
``diff_pair(oet, opt, archetype_dirs)`` compiles the OET leniently and compares what compiled: the whole template
when every archetype is found, otherwise each content item whose archetype is found (its subtree against the
reference's subtree at the same template path). Reference subtrees rooted in archetypes we do not have are
reported as not compared, never as differences.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openehr_kit.am.model import (
    ArchetypeInternalRef,
    ArchetypeSlot,
    CArchetypeRoot,
    CAttribute,
    CCodePhrase,
    CComplexObject,
    CDvOrdinal,
    CDvQuantity,
    CObject,
    CPrimitiveObject,
    Interval,
    Terminology,
    node_predicate,
)
from openehr_kit.compiler import oet as O
from openehr_kit.compiler.compile import Compiler, _item_tpath, _Skip
from openehr_kit.compiler.flatten import ONE, ArchetypeNotFound, ArchetypeRepository
from openehr_kit.diagnostics import Issue, ParseError
from openehr_kit.opt.loader import load_opt
from openehr_kit.opt.model import OperationalTemplate, constrained_name
from openehr_kit.rm import schema as rm


@dataclass(frozen=True, slots=True)
class Difference:
    path: str
    aspect: str
    ours: str
    reference: str

    def __str__(self) -> str:
        return f"{self.path}: {self.aspect}: ours {self.ours} / reference {self.reference}"


@dataclass(slots=True)
class PairResult:
    oet: str
    opt: str
    #: template paths of the subtrees compared (``/`` for the whole template)
    compared: list[str] = field(default_factory=list)
    #: template paths not compared, with the reason (missing archetype...)
    not_compared: list[tuple[str, str]] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    nodes_compared: int = 0

    @property
    def verdict(self) -> str:
        if not self.compared:
            return "not compiled"
        scope = "whole" if self.compared == ["/"] and not self.not_compared else "partial"
        return f"{scope}: {'equal' if not self.differences else f'{len(self.differences)} differences'}"


# ---------------------------------------------------------------------------------------------------------------
# Comparing trees


def _iv(iv: Interval[Any] | None, default: Interval[Any] = ONE) -> str:
    return str(iv if iv is not None else default)


def _existence(owner: CComplexObject, attr: CAttribute) -> str:
    if attr.existence is not None:
        return str(attr.existence)
    rma = rm.attribute(owner.rm_type_name, attr.rm_attribute_name)
    return str(rma.existence if rma else Interval(0, 1))


def _cardinality(attr: CAttribute) -> str:
    c = attr.cardinality
    if c is None:
        return "-" if not attr.is_multiple else "0..*; ordered"
    return f"{c.interval}; {'ordered' if c.is_ordered else 'unordered'}{'; unique' if c.is_unique else ''}"


def summary(obj: CObject) -> str:
    """The constraint an object states beyond its RM type, occurrences and attributes, as comparable text."""
    if isinstance(obj, CPrimitiveObject):
        p = obj.item
        if p is None:
            return "*"
        fields = {k: getattr(p, k) for k in getattr(type(p), "__slots__", ()) if getattr(p, k, None) not in
                  (None, [], False) or k in ("true_valid", "false_valid")}
        fields.pop("assumed_value", None)
        parts = []
        for k in sorted(fields):
            v = fields[k]
            if isinstance(v, list):
                v = sorted(map(str, v))
            parts.append(f"{k}={v}")
        return f"{type(p).__name__}({', '.join(parts)})"
    if isinstance(obj, CCodePhrase):
        return f"[{obj.terminology_id}::{','.join(sorted(obj.code_list))}]" + (
            f" ref={obj.reference_set_uri}" if obj.reference_set_uri else "")
    if isinstance(obj, CDvQuantity):
        items = sorted(f"{q.units}:{_iv(q.magnitude, Interval())}:{_iv(q.precision, Interval())}"
                       for q in obj.list)
        return f"property={obj.property} units={items}"
    if isinstance(obj, CDvOrdinal):
        return "ordinals=" + ",".join(sorted(f"{o.value}|{o.symbol}" for o in obj.list))
    if isinstance(obj, ArchetypeSlot):
        return (f"includes={sorted(a.pattern or a.expression for a in obj.includes)} "
                f"excludes={sorted(a.pattern or a.expression for a in obj.excludes)}")
    if isinstance(obj, ArchetypeInternalRef):
        return f"use_node {obj.target_path}"
    return ""


def _key(obj: CObject, term: Terminology | None, language: str) -> str:
    key = node_predicate(obj) or obj.rm_type_name
    name = constrained_name(obj, obj.terminology if isinstance(obj, CArchetypeRoot) and obj.terminology else term,
                            language)
    if name is not None:
        key += f" and name/value='{name}'"
    if isinstance(obj, ArchetypeSlot):
        key = f"slot {key}"
    return key


class _Comparer:
    def __init__(self, language: str, missing: set[str]) -> None:
        self.language = language
        self.missing = missing
        self.diffs: list[Difference] = []
        self.skipped: list[tuple[str, str]] = []
        self.count = 0

    def add(self, path: str, aspect: str, ours: Any, ref: Any) -> None:
        self.diffs.append(Difference(path, aspect, str(ours), str(ref)))

    def node(self, a: CObject, b: CObject, path: str, ta: Terminology | None, tb: Terminology | None) -> None:
        self.count += 1
        if isinstance(a, CArchetypeRoot):
            ta = a.terminology or ta
        if isinstance(b, CArchetypeRoot):
            tb = b.terminology or tb
        if a.rm_type_name != b.rm_type_name:
            self.add(path, "rm type", a.rm_type_name, b.rm_type_name)
        if type(a).__name__ != type(b).__name__ and not (
                isinstance(a, CComplexObject) and isinstance(b, CComplexObject) and a.is_archetype_root ==
                b.is_archetype_root):
            self.add(path, "constraint kind", type(a).__name__, type(b).__name__)
        if (a.node_id or "") != (b.node_id or "") and not (a.is_archetype_root and b.is_archetype_root):
            self.add(path, "node id", a.node_id, b.node_id)
        if _iv(a.occurrences) != _iv(b.occurrences):
            self.add(path, "occurrences", _iv(a.occurrences), _iv(b.occurrences))
        sa, sb = summary(a), summary(b)
        if sa != sb:
            self.add(path, "constraint", sa, sb)
        if isinstance(a, CArchetypeRoot) and isinstance(b, CArchetypeRoot):
            self.terms(a, b, path)
        if isinstance(a, CComplexObject) and isinstance(b, CComplexObject):
            self.attributes(a, b, path, ta, tb)

    def terms(self, a: CArchetypeRoot, b: CArchetypeRoot, path: str) -> None:
        if a.terminology is None or b.terminology is None:
            return
        codes = set()
        for info_root in (a, b):
            stack: list[CObject] = [info_root]
            while stack:
                n = stack.pop()
                if n.node_id and not (n.is_archetype_root and n is not info_root):
                    codes.add(n.node_id)
                if isinstance(n, CComplexObject):
                    for at in n.attributes:
                        stack.extend(c for c in at.children if not isinstance(c, CArchetypeRoot))
        for code in sorted(codes):
            xa, xb = a.terminology.text(code, self.language), b.terminology.text(code, self.language)
            if xa != xb:
                self.add(f"{path} term {code}", "term text", repr(xa), repr(xb))

    def attributes(self, a: CComplexObject, b: CComplexObject, path: str, ta: Terminology | None,
                   tb: Terminology | None) -> None:
        names_a = {x.rm_attribute_name: x for x in a.attributes}
        names_b = {x.rm_attribute_name: x for x in b.attributes}
        base = "" if path == "/" else path
        for name in sorted(set(names_a) | set(names_b)):
            xa, xb = names_a.get(name), names_b.get(name)
            apath = f"{base}/{name}"
            if xa is None or xb is None:
                self.add(apath, "attribute", "present" if xa else "absent", "present" if xb else "absent")
                continue
            if _existence(a, xa) != _existence(b, xb):
                self.add(apath, "existence", _existence(a, xa), _existence(b, xb))
            if (xa.is_multiple or xa.cardinality is not None) != (xb.is_multiple or xb.cardinality is not None):
                self.add(apath, "multiplicity", "multiple" if xa.is_multiple else "single",
                         "multiple" if xb.is_multiple else "single")
            elif _cardinality(xa) != _cardinality(xb):
                self.add(apath, "cardinality", _cardinality(xa), _cardinality(xb))
            self.children(xa, xb, apath, ta, tb)

    def children(self, xa: CAttribute, xb: CAttribute, apath: str, ta: Terminology | None,
                 tb: Terminology | None) -> None:
        ka: dict[str, list[CObject]] = {}
        kb: dict[str, list[CObject]] = {}
        for c in xa.children:
            ka.setdefault(_key(c, ta, self.language), []).append(c)
        for c in xb.children:
            kb.setdefault(_key(c, tb, self.language), []).append(c)
        missing_ref = [k for k, v in kb.items() if isinstance(v[0], CArchetypeRoot) and v[0].archetype_id in
                       self.missing]
        for k in missing_ref:
            self.skipped.append((f"{apath}[{k}]", f"archetype {kb[k][0].archetype_id} not available"))
            kb.pop(k)
        if missing_ref:
            # our slot stays unfilled where the reference has the missing archetype
            for k in [k for k in ka if k.startswith("slot ")]:
                ka.pop(k)
        for k in list(dict.fromkeys([*ka, *kb])):
            la, lb = ka.get(k, []), kb.get(k, [])
            for i in range(max(len(la), len(lb))):
                cpath = f"{apath}[{k}]" if not k.startswith(("DV_", "CODE_PHRASE")) and k.upper() != k else \
                    f"{apath}<{k}>"
                if i >= len(la):
                    self.add(cpath, "node", "absent", f"{type(lb[i]).__name__} {lb[i].rm_type_name}")
                elif i >= len(lb):
                    self.add(cpath, "node", f"{type(la[i]).__name__} {la[i].rm_type_name}", "absent")
                else:
                    self.node(la[i], lb[i], cpath, ta, tb)


def compare(ours: CObject, reference: CObject, *, language: str = "en", path: str = "/",
            missing: set[str] | None = None) -> tuple[list[Difference], list[tuple[str, str]], int]:
    """Differences between two constraint trees, subtrees skipped (reference roots in ``missing``), nodes seen."""
    c = _Comparer(language, missing or set())
    c.node(ours, reference, path, None, None)
    return c.diffs, c.skipped, c.count


# ---------------------------------------------------------------------------------------------------------------
# Pairs


def _available(repo: ArchetypeRepository, aid: str) -> bool:
    try:
        repo.flat(aid)
        return True
    except (ArchetypeNotFound, ParseError):
        return False


def _all_ids(item: O.Item) -> list[str]:
    out = [item.archetype_id]
    for c in item.items:
        out.extend(_all_ids(c))
    return out


def diff_pair(oet_path: str | os.PathLike[str], opt_path: str | os.PathLike[str],
              archetype_dirs: list[Path] | ArchetypeRepository, *, language: str | None = None) -> PairResult:
    """Compile ``oet_path`` leniently and compare it with the reference OPT ``opt_path``."""
    repo = archetype_dirs if isinstance(archetype_dirs, ArchetypeRepository) else ArchetypeRepository.of(
        list(archetype_dirs))
    result = PairResult(str(oet_path), str(opt_path))
    ref = load_opt(opt_path)
    lang = language or ref.language
    template = O.load_oet(oet_path)
    missing = {aid for aid in _all_ids(template.definition) if not _available(repo, aid)}
    compiler = Compiler(template, repo, language=lang, strict=False, source_dir=Path(oet_path).parent)

    def visit(item: O.Item, ref_path: str, parent_ok: bool) -> None:
        if item.archetype_id in missing:
            result.not_compared.append((ref_path, f"archetype {item.archetype_id} not available"))
            for child in item.items:
                visit(child, _child_ref_path(ref_path, child), False)
            return
        if parent_ok:
            return  # compared as part of its parent's subtree
        ours = _compile_item(compiler, item, ref_path)
        refnode = ref.definition if ref_path == "/" else ref.node(ref_path)
        if ours is None:
            result.not_compared.append((ref_path, "did not compile"))
            return
        if refnode is None:
            result.not_compared.append((ref_path, "no node at this path in the reference"))
            result.differences.append(Difference(ref_path, "node", "present", "absent"))
            return
        diffs, skipped, n = compare(ours, refnode, language=lang, path=ref_path, missing=missing)
        result.compared.append(ref_path)
        result.differences.extend(diffs)
        result.not_compared.extend(skipped)
        result.nodes_compared += n
        for child in item.items:
            visit(child, _child_ref_path(ref_path, child), True)

    visit(template.definition, "/", False)
    result.issues = [i for i in compiler.issues if i.code != "TPL001"]
    return result


def _child_ref_path(parent: str, item: O.Item) -> str:
    return _item_tpath("" if parent == "/" else parent, item.path or "", item)


def _compile_item(compiler: Compiler, item: O.Item, tpath: str) -> CArchetypeRoot | None:
    try:
        root = compiler.root_for(item, tpath)
    except (_Skip, ArchetypeNotFound, ParseError):
        return None
    if item.element == "definition":
        root.occurrences = ONE
    else:
        # compiled without its parent (whose archetype is missing): occurrences as for a slot-less placement
        root.occurrences = Interval(item.min if item.min is not None else 0, item.max)
    compiler.fill(root, item, tpath)
    return root


def find_reference_opts(oet: O.Template, directory: Path) -> list[tuple[Path, str]]:
    """Reference OPTs beside an OET, with the basis of the match.

    Test suites rename template ids (``minimal_action.en.v1``) and reuse uids for "updated" variants, so: OPTs
    whose uid is the OET id and whose concept is its name; else those with the uid; else those whose concept (or
    template id) is the OET name, unless that OPT's uid is the id of another OET of the same name beside it.
    """
    others: dict[str, str] = {}
    for f in sorted(directory.glob("*.oet")):
        try:
            o = O.load_oet(f)
        except ParseError:
            continue
        if o.id != oet.id:
            others[o.id] = o.name
    both, by_uid, by_name = [], [], []
    for f in sorted(directory.glob("*.opt")):
        try:
            t: OperationalTemplate = load_opt(f)
        except ParseError:
            continue
        named = oet.name in (t.concept, t.template_id)
        if t.uid and t.uid == oet.id:
            (both if named else by_uid).append(f)
        elif named and not (t.uid in others and others[t.uid] in (t.concept, t.template_id)):
            by_name.append(f)
    if both:
        return [(f, "uid = OET id, concept = OET name") for f in both]
    if by_uid:
        return [(f, "uid = OET id (concept differs)") for f in by_uid]
    return [(f, "concept = OET name (uid differs)") for f in by_name]


__all__ = ["Difference", "PairResult", "compare", "diff_pair", "find_reference_opts", "summary"]
