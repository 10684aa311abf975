"""``openehr-kit diff OLD NEW``: what changed between two versions of a template (OPT or .oet) or an archetype, which
changes break data or mappings, and which mapping fields a breaking change reaches.

A change is *breaking* when data valid against OLD may be invalid against NEW, or when a path OLD had no longer
leads to the same node: a removed or moved node, narrowed occurrences (lower raised or upper lowered), an attribute
made mandatory, a mandatory node added, codes removed from a code list, a changed data type, removed or changed
units, a tightened range or a changed pattern. Added optional nodes, widened constraints, added codes and changed
texts are *compatible*.

Both trees are walked with the paths the OPT model gives (name predicates where siblings share a node id), and
compared node by node at equal paths.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openehr_kit.am.model import (
    Archetype,
    ArchetypeSlot,
    CArchetypeRoot,
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
    CPrimitiveObject,
    CReal,
    CString,
    CTime,
    Interval,
    NodeInfo,
    _predicate_parts,
    split_path,
)
from openehr_kit.opt.model import OperationalTemplate, constrained_name


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between OLD and NEW at a path of OLD (of NEW for additions)."""

    kind: str
    path: str
    breaking: bool
    detail: str
    new_path: str | None = None

    def __str__(self) -> str:
        where = f"{self.path} -> {self.new_path}" if self.new_path else self.path
        return f"{self.kind} {where}: {self.detail}"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "path": self.path, "breaking": self.breaking,
                                "detail": self.detail}
        if self.new_path:
            data["new_path"] = self.new_path
        return data


# ---------------------------------------------------------------------------------------------------------------
# walking


@dataclass
class _Tree:
    by_path: dict[str, list[NodeInfo]]
    order: list[str]
    language: str


def _tree(infos: Iterable[NodeInfo], language: str) -> _Tree:
    by_path: dict[str, list[NodeInfo]] = {}
    order: list[str] = []
    for info in infos:
        if info.path not in by_path:
            order.append(info.path)
        by_path.setdefault(info.path, []).append(info)
    return _Tree(by_path, order, language)


def _identity(info: NodeInfo) -> tuple[str | None, str] | None:
    node = info.node
    if isinstance(node, CArchetypeRoot) and node.archetype_id:
        return (None, node.archetype_id)
    if node.node_id and node.node_id.startswith("at"):
        return (info.archetype_id, node.node_id)
    return None


def _text(info: NodeInfo, language: str) -> str | None:
    term = info.terminology
    return constrained_name(info.node, term, language) or info.text(language)


def _occ(iv: Interval[int] | None) -> str:
    return "unset" if iv is None else str(iv)


def _narrowed(old: Interval[Any], new: Interval[Any]) -> bool:
    """True when NEW excludes a value OLD allowed (a tightened lower or upper end)."""
    return not new.contains_interval(old)


def _is_under(path: str, prefixes: set[str]) -> bool:
    return any(path.startswith(p + "/") for p in prefixes)


# ---------------------------------------------------------------------------------------------------------------
# comparing


def diff_trees(old: _Tree, new: _Tree) -> list[Change]:
    changes: list[Change] = []
    removed = [p for p in old.order if p not in new.by_path]
    added = [p for p in new.order if p not in old.by_path]
    # moved: a node with the same identity (archetype + node id) now at another path
    new_ids: dict[tuple[str | None, str], list[str]] = {}
    for p in added:
        for info in new.by_path[p]:
            ident = _identity(info)
            if ident is not None:
                new_ids.setdefault(ident, []).append(p)
    old_counts: dict[tuple[str | None, str], int] = {}
    for infos in old.by_path.values():
        for info in infos:
            ident = _identity(info)
            if ident is not None:
                old_counts[ident] = old_counts.get(ident, 0) + 1
    moved_to: set[str] = set()
    gone: set[str] = set()
    for p in removed:
        if _is_under(p, gone):
            continue
        gone.add(p)
        info = old.by_path[p][0]
        ident = _identity(info)
        targets = new_ids.get(ident, []) if ident is not None else []
        if ident is not None and len(targets) == 1 and old_counts.get(ident) == 1:
            moved_to.add(targets[0])
            changes.append(Change("moved", p, True, f"{info.rm_type} {_label(info, old.language)} is now at "
                                                    f"{targets[0]}", targets[0]))
        else:
            changes.append(Change("removed", p, True, f"{info.rm_type} {_label(info, old.language)}" +
                                  _unconstrained_note(p, new)))
    new_gone: set[str] = set()
    for p in added:
        if _is_under(p, new_gone) or _is_under(p, moved_to) or p in moved_to:
            new_gone.add(p)
            continue
        new_gone.add(p)
        info = new.by_path[p][0]
        occ = info.node.occurrences
        mandatory = occ is not None and (occ.lower or 0) > 0
        # a mandatory node under an optional new parent is no harder to satisfy than the parent
        detail = f"{info.rm_type} {_label(info, new.language)} (occurrences {_occ(occ)})"
        changes.append(Change("added", p, mandatory, ("mandatory " if mandatory else "optional ") + detail))
    for p in old.order:
        if p in new.by_path:
            changes.extend(_compare_at(p, old.by_path[p], new.by_path[p], old.language, new.language))
    return changes


def _unconstrained_note(path: str, new: _Tree) -> str:
    """A note when the removed node's attribute is gone altogether in NEW: its data is then unchecked rather than
    refused, but paths (and mappings) through the node still break."""
    steps = _steps(path)
    if not steps:
        return ""
    parents = new.by_path.get(path_of(steps[:-1]))
    attr = steps[-1][0]
    if parents and all(isinstance(i.node, CComplexObject) and i.node.attribute(attr) is None for i in parents):
        return f" (NEW no longer constrains {attr}: data there is unchecked, paths through this node are gone)"
    return ""


def _label(info: NodeInfo, language: str) -> str:
    text = _text(info, language)
    return repr(text) if text else (info.node.node_id or "")


def _compare_at(path: str, olds: list[NodeInfo], news: list[NodeInfo], old_lang: str,
                new_lang: str) -> Iterator[Change]:
    if len(olds) == 1 and len(news) == 1:
        yield from _compare_nodes(path, olds[0], news[0], old_lang, new_lang)
        return
    # alternatives without node ids (value as DV_TEXT or DV_CODED_TEXT) share a path: match them by type
    old_by_type = {i.rm_type: i for i in olds}
    new_by_type = {i.rm_type: i for i in news}
    for t in old_by_type:
        if t not in new_by_type:
            yield Change("type", path, True, f"data type {t} is no longer allowed (now "
                                             f"{', '.join(new_by_type)})")
    for t in new_by_type:
        if t not in old_by_type:
            yield Change("type", path, False, f"data type {t} is now allowed as well")
    for t, o in old_by_type.items():
        if t in new_by_type:
            yield from _compare_nodes(path, o, new_by_type[t], old_lang, new_lang, same_type_known=True)


def _compare_nodes(path: str, o: NodeInfo, n: NodeInfo, old_lang: str, new_lang: str,
                   same_type_known: bool = False) -> Iterator[Change]:
    a, b = o.node, n.node
    if a.rm_type_name != b.rm_type_name and not same_type_known:
        yield Change("type", path, True, f"data type changed from {a.rm_type_name} to {b.rm_type_name}")
        return
    if a.occurrences is not None and b.occurrences is not None and a.occurrences != b.occurrences:
        if _narrowed(a.occurrences, b.occurrences):
            mandatory = (a.occurrences.lower or 0) == 0 and (b.occurrences.lower or 0) > 0
            yield Change("occurrences", path, True, f"occurrences narrowed from {a.occurrences} to "
                                                    f"{b.occurrences}" + (" (now mandatory)" if mandatory else ""))
        else:
            yield Change("occurrences", path, False, f"occurrences widened from {a.occurrences} to "
                                                     f"{b.occurrences}")
    ta, tb = _text(o, old_lang), _text(n, new_lang)
    if ta and tb and ta != tb and old_lang == new_lang:
        yield Change("text", path, False, f"text changed from {ta!r} to {tb!r}")
    if isinstance(a, CComplexObject) and isinstance(b, CComplexObject):
        yield from _attributes(path, a, b)
    yield from _values(path, a, b)


def _attributes(path: str, a: CComplexObject, b: CComplexObject) -> Iterator[Change]:
    base = "" if path == "/" else path
    for attr in a.attributes:
        other = b.attribute(attr.rm_attribute_name)
        apath = f"{base}/{attr.rm_attribute_name}"
        if other is None:
            continue  # its children are reported as removed nodes
        if attr.existence is not None and other.existence is not None and attr.existence != other.existence:
            if _narrowed(attr.existence, other.existence):
                yield Change("existence", apath, True, f"existence narrowed from {attr.existence} to "
                                                       f"{other.existence}" +
                             (" (made mandatory)" if (other.existence.lower or 0) > 0 else ""))
            else:
                yield Change("existence", apath, False, f"existence widened from {attr.existence} to "
                                                        f"{other.existence}")
        ca, cb = attr.cardinality, other.cardinality
        if ca is not None and cb is not None and ca.interval != cb.interval:
            narrowed = _narrowed(ca.interval, cb.interval)
            yield Change("cardinality", apath, narrowed, f"cardinality {'narrowed' if narrowed else 'widened'} "
                                                         f"from {ca.interval} to {cb.interval}")


def _codes_change(path: str, what: str, old: list[str], new: list[str]) -> Iterator[Change]:
    if old and not new:
        yield Change("codes", path, False, f"{what}: any code now allowed (was {len(old)} codes)")
        return
    if not old and new:
        yield Change("codes", path, True, f"{what}: restricted to {len(new)} codes ({', '.join(new[:6])})")
        return
    gone = [c for c in old if c not in new]
    extra = [c for c in new if c not in old]
    if gone:
        yield Change("codes", path, True, f"{what}: code(s) removed: {', '.join(gone)}")
    if extra:
        yield Change("codes", path, False, f"{what}: code(s) added: {', '.join(extra)}")


def _range_change(path: str, what: str, old: Interval[Any] | None, new: Interval[Any] | None) -> Iterator[Change]:
    if old == new:
        return
    if new is None:
        yield Change("range", path, False, f"{what}: range {old} removed (widened)")
        return
    if old is None:
        yield Change("range", path, True, f"{what}: range {new} added (tightened)")
        return
    try:
        narrowed = _narrowed(old, new)
    except TypeError:  # bounds of different kinds (e.g. durations as text): treat any change as tightening
        narrowed = True
    yield Change("range", path, narrowed, f"{what}: range {'tightened' if narrowed else 'widened'} from {old} "
                                          f"to {new}")


def _values(path: str, a: CObject, b: CObject) -> Iterator[Change]:
    if isinstance(a, CCodePhrase) and isinstance(b, CCodePhrase):
        if (a.terminology_id or "") != (b.terminology_id or "") and a.terminology_id and b.terminology_id:
            yield Change("codes", path, True, f"terminology changed from {a.terminology_id} to {b.terminology_id}")
        else:
            yield from _codes_change(path, f"{a.terminology_id or ''} codes", a.code_list, b.code_list)
    elif isinstance(a, (CDvOrdinal, CDvScale)) and isinstance(b, (CDvOrdinal, CDvScale)):
        va = {i.symbol.code_string: i.value for i in a.list}
        vb = {i.symbol.code_string: i.value for i in b.list}
        yield from _codes_change(path, "ordinal symbols", list(va), list(vb))
        changed = [f"{c} {va[c]}->{vb[c]}" for c in va if c in vb and va[c] != vb[c]]
        if changed:
            yield Change("codes", path, True, f"ordinal value(s) changed: {', '.join(changed)}")
    elif isinstance(a, CDvQuantity) and isinstance(b, CDvQuantity):
        ua = [i.units for i in a.list]
        ub = [i.units for i in b.list]
        gone = [u for u in ua if u not in ub]
        if ub and gone:
            yield Change("unit", path, True, f"unit(s) removed: {', '.join(gone)} (now {', '.join(ub)})")
        elif ua and not ub:
            yield Change("unit", path, False, "any unit now allowed")
        extra = [u for u in ub if u not in ua]
        if ua and extra:
            yield Change("unit", path, False, f"unit(s) added: {', '.join(extra)}")
        if not ua and ub:
            yield Change("unit", path, True, f"restricted to unit(s) {', '.join(ub)}")
        if a.property and b.property and a.property != b.property:
            yield Change("unit", path, True, f"property changed from {a.property} to {b.property}")
        for ia in a.list:
            ib = b.item_for(ia.units)
            if ib is None:
                continue
            yield from _range_change(path, f"magnitude in {ia.units}", ia.magnitude, ib.magnitude)
            if ia.precision != ib.precision:
                narrowed = ib.precision is not None and (ia.precision is None or
                                                         not ib.precision.contains_interval(ia.precision))
                yield Change("precision", path, narrowed, f"precision in {ia.units} changed from "
                                                          f"{ia.precision} to {ib.precision}")
    elif isinstance(a, CPrimitiveObject) and isinstance(b, CPrimitiveObject):
        yield from _primitive(path, a.item, b.item)
    elif isinstance(a, ArchetypeSlot) and isinstance(b, ArchetypeSlot):
        pa = sorted(x.expression for x in a.includes)
        pb = sorted(x.expression for x in b.includes)
        if pa != pb:
            yield Change("slot", path, False, f"slot includes changed from {pa} to {pb}")


def _values_of(c: Any) -> tuple[Interval[Any] | None, list[str]]:
    """(range, listed values) with a one-point range read as a one-value list: ``{|PT24H|}`` and ``{PT24H}``
    constrain the same."""
    rng = c.range
    if rng is not None and not c.list and rng.lower is not None and rng.lower == rng.upper \
            and rng.lower_included and rng.upper_included:
        return None, [str(rng.lower)]
    return rng, [str(x) for x in c.list]


def _primitive(path: str, a: Any, b: Any) -> Iterator[Change]:
    if a is None or b is None:
        return
    if type(a) is not type(b):
        yield Change("type", path, True, f"primitive changed from {type(a).__name__} to {type(b).__name__}")
        return
    if isinstance(a, CString):
        if a.pattern != b.pattern:
            if b.pattern is None:
                yield Change("pattern", path, False, f"pattern /{a.pattern}/ removed")
            else:
                yield Change("pattern", path, True, f"pattern changed from "
                                                    f"{'/' + a.pattern + '/' if a.pattern else 'none'} to /{b.pattern}/")
        if not a.list_open or not b.list_open:
            yield from _codes_change(path, "allowed values", [str(x) for x in a.list], [str(x) for x in b.list])
    elif isinstance(a, (CInteger, CReal, CDate, CTime, CDateTime, CDuration)):
        if not isinstance(a, (CInteger, CReal)) and a.pattern != b.pattern:
            yield Change("pattern", path, b.pattern is not None, f"pattern changed from {a.pattern} to {b.pattern}")
        range_a, list_a = _values_of(a)
        range_b, list_b = _values_of(b)
        yield from _range_change(path, "value", range_a, range_b)
        if list_a or list_b:
            yield from _codes_change(path, "allowed values", list_a, list_b)
    elif isinstance(a, CBoolean):
        lost = [v for v, was, now in (("true", a.true_valid, b.true_valid), ("false", a.false_valid, b.false_valid))
                if was and not now]
        if lost:
            yield Change("codes", path, True, f"boolean value(s) {', '.join(lost)} no longer allowed")


# ---------------------------------------------------------------------------------------------------------------
# entry points


def diff_templates(old: OperationalTemplate, new: OperationalTemplate) -> list[Change]:
    """Changes from ``old`` to ``new`` (two versions of one template)."""
    return diff_trees(_tree(old.iter_nodes(), old.language), _tree(new.iter_nodes(), new.language))


def diff_archetypes(old: Archetype, new: Archetype) -> list[Change]:
    """Changes from ``old`` to ``new`` (two versions of one archetype), texts in the original language."""
    return diff_trees(_tree(old.iter_nodes(), old.original_language), _tree(new.iter_nodes(), new.original_language))


# --- mapping impact ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Impact:
    """A mapping field whose source is at, above or below a breaking change."""

    mapping: str
    file: str
    field: str
    source: str
    change: Change

    def to_dict(self) -> dict[str, Any]:
        return {"mapping": self.mapping, "file": self.file, "field": self.field, "source": self.source,
                "change": self.change.to_dict()}


Step = tuple[str, str | None, str | None]


def _steps(path: str) -> list[Step] | None:
    try:
        raw = split_path(path if path.startswith("/") else "/" + path)
    except ValueError:
        return None
    out: list[Step] = []
    for attr, pred in raw:
        if pred is None:
            out.append((attr, None, None))
        else:
            key, name = _predicate_parts(pred)
            out.append((attr, key, name.replace("\\'", "'") if name else None))
    return out


def _step_eq(a: Step, b: Step) -> bool:
    return a[0] == b[0] and a[1] == b[1] and (a[2] is None or b[2] is None or a[2] == b[2])


def related(a: str, b: str) -> bool:
    """True when one path is at or below the other (name predicates match when either side has none)."""
    sa, sb = _steps(a), _steps(b)
    if sa is None or sb is None:
        return False
    n = min(len(sa), len(sb))
    return all(_step_eq(x, y) for x, y in zip(sa[:n], sb[:n]))


@dataclass
class _FieldSource:
    field: str
    source: str


def _absolute(mapping: Any, source: str) -> str | None:
    if source.startswith("/"):
        return source
    if source.startswith("@"):
        name, _, rest = source[1:].partition("/")
        base = mapping.paired.get(name)
        return f"{base}/{rest}" if base else None
    return f"{mapping.for_each}/{source}" if mapping.for_each else None


def _field_sources(mapping: Any) -> Iterator[_FieldSource]:
    """(target field, absolute source path) of every source a mapping reads: fields, conditions, derived args."""

    def walk(fm: Any, target: str) -> Iterator[_FieldSource]:
        if getattr(fm, "source", None):
            path = _absolute(mapping, fm.source)
            if path:
                yield _FieldSource(target, path)
        for cond in getattr(fm, "when", ()) or ():
            yield from walk_condition(cond, target)
        for arg in getattr(fm, "args", []) or []:
            if hasattr(arg, "transform"):
                yield from walk(arg, target)

    def walk_condition(cond: Any, target: str) -> Iterator[_FieldSource]:
        if getattr(cond, "source", None):
            path = _absolute(mapping, cond.source)
            if path:
                yield _FieldSource(f"{target} (condition)", path)
        for alt in getattr(cond, "any", ()) or ():
            yield from walk_condition(alt, target)

    for fm in mapping.fields:
        yield from walk(fm, fm.target)


def _within_archetype(path: str, archetype_ids: set[str]) -> str | None:
    """The part of a template path inside the last root of one of ``archetype_ids`` ("/" for the root)."""
    steps = _steps(path)
    if steps is None:
        return None
    for i in range(len(steps) - 1, -1, -1):
        if steps[i][1] in archetype_ids:
            rest = path_of(steps[i + 1:])
            return rest
    return None


def path_of(steps: list[Step]) -> str:
    if not steps:
        return "/"
    out = ""
    for attr, key, name in steps:
        out += f"/{attr}"
        if key is not None:
            out += f"[{key}" + (f" and name/value='{name}'" if name else "") + "]"
    return out


@dataclass
class LoadedMapping:
    mapping: Any
    file: str


def load_mappings(folder: str | Path) -> list[LoadedMapping]:
    """Every readable mapping in a folder (files that are not mappings or do not load are skipped)."""
    from openehr_kit.mapping.loader import load_mapping_file

    out = []
    for p in sorted(Path(folder).rglob("*")):
        if p.suffix.lower() not in (".yaml", ".yml") or not p.is_file():
            continue
        m, _issues = load_mapping_file(p)
        if m is not None:
            out.append(LoadedMapping(m, str(p)))
    return out


def mapping_impacts(changes: list[Change], mappings: list[LoadedMapping], *, template_ids: set[str] | None = None,
                    archetype_ids: set[str] | None = None) -> list[Impact]:
    """Mapping fields reached by a breaking change: for a template diff, mappings of one of ``template_ids``; for
    an archetype diff, sources inside a root of one of ``archetype_ids`` (in any template)."""
    breaking = [c for c in changes if c.breaking]
    out: list[Impact] = []
    for lm in mappings:
        m = lm.mapping
        if template_ids is not None and m.template_id not in template_ids:
            continue
        seen: set[tuple[str, str]] = set()
        for fs in _field_sources(m):
            probe = fs.source
            if archetype_ids is not None:
                inner = _within_archetype(fs.source, archetype_ids)
                if inner is None:
                    continue
                probe = inner
            for c in breaking:
                if c.kind == "added":
                    continue  # a new node cannot break what a mapping already reads
                if related(probe, c.path) and (fs.field, c.path) not in seen:
                    seen.add((fs.field, c.path))
                    out.append(Impact(m.mapping_id, lm.file, fs.field, fs.source, c))
    return out


@dataclass
class DiffResult:
    old: str
    new: str
    kind: str
    changes: list[Change] = field(default_factory=list)
    impacts: list[Impact] = field(default_factory=list)

    @property
    def breaking(self) -> list[Change]:
        return [c for c in self.changes if c.breaking]

    def to_dict(self) -> dict[str, Any]:
        return {"old": self.old, "new": self.new, "kind": self.kind, "breaking": len(self.breaking),
                "compatible": len(self.changes) - len(self.breaking),
                "changes": [c.to_dict() for c in self.changes], "impacts": [i.to_dict() for i in self.impacts]}


__all__ = ["Change", "DiffResult", "Impact", "LoadedMapping", "diff_archetypes", "diff_templates", "load_mappings",
           "mapping_impacts", "related"]
