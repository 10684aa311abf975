"""The lint rules themselves, one function per input kind; each returns plain issues for the engine to filter.

Rules that need the whole linted set (slot patterns, specialisation parents, a mapping's template) read it from
:class:`LintSet`, which the engine fills before any rule runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from openehr_kit.am.model import (
    Archetype,
    ArchetypeInternalRef,
    ArchetypeSlot,
    CArchetypeRoot,
    CCodePhrase,
    CComplexObject,
    CDvOrdinal,
    CDvScale,
    CObject,
    CodePhrase,
    Terminology,
    node_predicate,
)
from openehr_kit.am.semantics import check_archetype, used_codes
from openehr_kit.diagnostics import Issue, Severity
from openehr_kit.lint.codesyntax import code_from_uri, code_problem
from openehr_kit.lint.config import LintConfig
from openehr_kit.lint.locate import AdlLocator
from openehr_kit.opt.model import OperationalTemplate, constrained_name
from openehr_kit.rm import schema as rm

_CODE_RE = re.compile(r"^(at|ac)\d+(\.\d+)*$")
_CODE_IN_TEXT_RE = re.compile(r"(?<![\w.])((?:at|ac)\d+(?:\.\d+)*)(?![\w])")


@dataclass
class LintSet:
    """What the whole run knows: the archetypes and templates linted together, and the configuration."""

    config: LintConfig
    archetypes: dict[str, Archetype] = field(default_factory=dict)
    #: every archetype id in the set, parsed or not (a file that fails to parse still names its id)
    archetype_ids: set[str] = field(default_factory=set)
    adl_files: list[Path] = field(default_factory=list)
    templates: dict[str, OperationalTemplate] = field(default_factory=dict)
    #: per-run caches (archetype repositories by directories, OPTs found beside mappings)
    cache: dict[object, object] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------------------------
# helpers


def _concept(archetype_id: str) -> tuple[str, str]:
    """(qualified RM entity, domain concept) of an ADL 1.4 archetype id."""
    parts = archetype_id.split(".")
    return (parts[0], parts[1]) if len(parts) >= 3 else (archetype_id, "")


def specialisation_depth(archetype_id: str) -> int:
    """Hyphens in the domain concept: ``lab_test-blood_glucose`` is depth 1."""
    return _concept(archetype_id)[1].count("-")


def code_depth(code: str) -> int:
    return code.count(".")


def _norm_text(text: str) -> str:
    return " ".join(text.split()).casefold()


def _binding_targets(target: object) -> Iterator[tuple[str | None, str]]:
    """(terminology id or None, code) of a term binding value (a code phrase, a URI or a list of them)."""
    items = target if isinstance(target, list) else [target]
    for item in items:
        if isinstance(item, CodePhrase):
            yield item.terminology_id, item.code_string
        elif isinstance(item, str):
            code = code_from_uri(item)
            if code is not None:
                yield "SNOMED-CT", code


# ---------------------------------------------------------------------------------------------------------------
# archetypes


def check_adl(arch: Archetype, text: str, lset: LintSet) -> list[Issue]:
    """Every archetype rule on one parsed archetype; lines found in ``text``."""
    loc = AdlLocator(text)
    file = arch.source
    issues = list(check_archetype(arch))
    for issue in issues:
        _locate_reused(issue, loc)
    add = _adder(issues, file)
    onto = arch.ontology
    original = onto.original_language
    defined_any = {c for defs in onto.term_definitions.values() for c in defs}
    defined_orig = onto.term_definitions.get(original, {})

    # LNT101: declared translations and term definition languages agree
    declared = set(arch.translations)
    for lang in sorted(declared - set(onto.term_definitions)):
        add("LNT101", f"translation '{lang}' is declared in the language section but has no term definitions",
            loc.language_block(lang))
    for lang in sorted(set(onto.term_definitions) - declared - {original}):
        add("LNT101", f"term definitions are given in '{lang}', which is neither the original language nor a "
                      "declared translation", loc.language_block(lang))

    # LNT102: bindings name defined codes
    for terminology, items in onto.term_bindings.items():
        for key in items:
            if _CODE_RE.match(key) and key.startswith("at") and key not in defined_any:
                add("LNT102", f"term binding {terminology}::{key} binds a code the ontology does not define",
                    loc.term("term_bindings", terminology, key))
    defined_ac = {c for defs in onto.constraint_definitions.values() for c in defs}
    for terminology, items in onto.constraint_bindings.items():
        for key in items:
            if _CODE_RE.match(key) and key not in defined_ac:
                add("LNT102", f"constraint binding {terminology}::{key} binds a code the ontology does not "
                              "define", loc.term("constraint_bindings", terminology, key))

    # LNT110/LNT111: required languages
    for lang in lset.config.required_languages:
        if lang == original:
            continue
        terms = onto.term_definitions.get(lang)
        if terms is None:
            section = loc.section("language")
            add("LNT110", f"required language '{lang}' is missing (languages: "
                          f"{', '.join(onto.term_definitions) or 'none'})", (section[0] + 1, 1) if section else None)
            continue
        missing = [c for c in defined_orig if c not in terms]
        if missing:
            add("LNT111", f"{len(missing)} code(s) have no term in required language '{lang}': "
                          f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}",
                loc.language_block(lang))

    issues.extend(_slot_rule(arch, loc, lset))
    issues.extend(_specialisation_rules(arch, loc, lset, defined_any))
    issues.extend(_adl_code_syntax(arch, loc))
    issues.extend(_sibling_texts(arch.definition, arch.ontology, original, file, loc=loc))
    issues.extend(_unused_codes(arch, loc))
    issues.extend(_rm_bounds(arch, loc))
    return issues


def _adder(issues: list[Issue], file: str | None):  # type: ignore[no-untyped-def]
    def add(code: str, message: str, where: tuple[int, int] | None | bool, path: str | None = None,
            severity: Severity | None = None) -> None:
        line, col = where if isinstance(where, tuple) else (None, None)
        issues.append(Issue(code, message, severity=severity, file=file, line=line, column=col,
                            template_path=path))
    return add


def _locate_reused(issue: Issue, loc: AdlLocator) -> None:
    """A line for an issue of the existing archetype checks, which carry a path but no line."""
    if issue.line is not None:
        return
    where = None
    m = _CODE_IN_TEXT_RE.search(issue.message)
    if m:
        where = loc.code_in_definition(m.group(1))
    if where is None and issue.template_path:
        codes = _CODE_IN_TEXT_RE.findall(issue.template_path)
        if codes:
            where = loc.code_in_definition(codes[-1])
    if where is None and issue.code == "ARC002":
        where = loc.literal("use_node", "definition")
    if where is not None:
        issue.line, issue.column = where


def _slot_rule(arch: Archetype, loc: AdlLocator, lset: LintSet) -> list[Issue]:
    """LNT120: a slot whose include patterns match no archetype id of the linted set."""
    if not lset.archetype_ids:
        return []
    out: list[Issue] = []
    add = _adder(out, arch.source)
    for info in arch.iter_nodes():
        slot = info.node
        if not isinstance(slot, ArchetypeSlot):
            continue
        patterns = [a for a in slot.includes if a.pattern is not None]
        if not patterns:
            continue
        results = [[a.matches(aid) for aid in lset.archetype_ids] for a in patterns]
        if any(None in r for r in results):
            continue  # a pattern Python's re cannot read: no verdict rather than a false alarm
        if any(any(r) for r in results):
            continue
        shown = " or ".join(f"/{a.pattern}/" for a in patterns)
        add("LNT120", f"slot {info.path} includes {shown}, which matches none of the "
                      f"{len(lset.archetype_ids)} archetypes in the linted set", loc.code_in_definition(slot.node_id or ""),
            info.path)
    return out


def _specialisation_rules(arch: Archetype, loc: AdlLocator, lset: LintSet, defined: set[str]) -> list[Issue]:
    out: list[Issue] = []
    add = _adder(out, arch.source)
    depth = specialisation_depth(arch.archetype_id)
    head = loc.literal(arch.parent_archetype_id, "specialise") if arch.parent_archetype_id else None
    head = head or loc.literal(arch.archetype_id)
    parent_id = arch.parent_archetype_id
    parent = None
    if parent_id is not None:
        parent = lset.archetypes.get(parent_id)
        if parent_id not in lset.archetype_ids:
            add("LNT130", f"the parent archetype {parent_id} is not in the linted set or beside it", head)
        entity, concept = _concept(arch.archetype_id)
        p_entity, p_concept = _concept(parent_id)
        if entity != p_entity or not concept.startswith(p_concept + "-") or \
                specialisation_depth(parent_id) != depth - 1:
            add("LNT132", f"{arch.archetype_id} does not extend its parent's id {parent_id} (expected "
                          f"{p_entity}.{p_concept}-<name>.vN)", head)
    elif depth > 0:
        add("LNT132", f"the concept of {arch.archetype_id} says specialisation depth {depth} but the archetype "
                      "has no specialise section", head)
    # LNT131: codes deeper than the archetype (defined or used)
    codes = set(defined) | {c for c, _, _ in used_codes(arch)}
    for code in sorted(codes):
        if code_depth(code) > depth:
            where = loc.code_in_definition(code) or loc.term("term_definitions", arch.original_language, code)
            add("LNT131", f"{code} is specialised to depth {code_depth(code)} but the archetype's depth is "
                          f"{depth}", where)
    # TPL008: a redefined code must exist in the parent
    if parent is not None and depth > 0:
        parent_codes = {c for defs in parent.ontology.term_definitions.values() for c in defs}
        parent_codes |= {c for defs in parent.ontology.constraint_definitions.values() for c in defs}
        for code in sorted(codes):
            if code_depth(code) != depth:
                continue
            base = code.rsplit(".", 1)[0]
            if base in ("at0", "ac0") or base.rsplit(".", 1)[-1] == "0":
                continue  # at0.1 / at0001.0.1: a code new at this level, not a redefinition
            if base not in parent_codes:
                where = loc.code_in_definition(code) or loc.term("term_definitions", arch.original_language, code)
                add("TPL008", f"{code} specialises {base}, which the parent {parent.archetype_id} does not "
                              "define", where)
    return out


def _code_lists(root: CObject) -> Iterator[tuple[str, str, str, CObject]]:
    """(terminology, code, path, node) of every code in a code list or ordinal/scale symbol under ``root``."""
    from openehr_kit.am.model import iter_nodes

    for info in iter_nodes(root):
        node = info.node
        if isinstance(node, CCodePhrase) and node.terminology_id and node.terminology_id != "local":
            for code in node.code_list:
                yield node.terminology_id, code, info.path, node
        elif isinstance(node, (CDvOrdinal, CDvScale)):
            for item in node.list:
                if item.symbol.terminology_id != "local":
                    yield item.symbol.terminology_id, item.symbol.code_string, info.path, node


def _adl_code_syntax(arch: Archetype, loc: AdlLocator) -> list[Issue]:
    out: list[Issue] = []
    add = _adder(out, arch.source)
    for terminology, items in arch.ontology.term_bindings.items():
        for key, target in items.items():
            for term_id, code in _binding_targets(target):
                problem = code_problem(term_id or terminology, code)
                if problem:
                    where = loc.term("term_bindings", terminology, key) or loc.literal(code, "ontology")
                    add(problem[0], f"{terminology} binding of {key}: {code}: {problem[1]}", where)
    seen: set[tuple[str, str]] = set()
    for terminology, code, path, _node in _code_lists(arch.definition):
        problem = code_problem(terminology, code)
        if problem and (terminology, code) not in seen:
            seen.add((terminology, code))
            add(problem[0], f"{terminology} code {code} at {path}: {problem[1]}", loc.literal(code, "definition"),
                path)
    return out


def _sibling_texts(root: CObject, terminology: Terminology | None, language: str, file: str | None, *,
                   loc: AdlLocator | None = None, template: OperationalTemplate | None = None) -> list[Issue]:
    """LNT150: children of one attribute with different node ids but the same text."""
    from openehr_kit.am.model import iter_nodes

    out: list[Issue] = []
    infos = template.iter_nodes() if template is not None else iter_nodes(root, terminology)
    for info in infos:
        node = info.node
        if not isinstance(node, CComplexObject):
            continue
        for attr in node.attributes:
            if len(attr.children) < 2:
                continue
            groups: dict[str, list[tuple[str, CObject, str]]] = {}
            for child in attr.children:
                key = node_predicate(child)
                if not key or isinstance(child, ArchetypeInternalRef):
                    continue
                term = child.terminology if isinstance(child, CArchetypeRoot) and child.terminology else \
                    info.terminology
                text = constrained_name(child, term, language)
                if text is None and term is not None and child.node_id:
                    text = term.text(child.node_id, language)
                if text:
                    groups.setdefault(_norm_text(text), []).append((key, child, text))
            base = "" if info.path == "/" else info.path
            for members in groups.values():
                keys = list(dict.fromkeys(k for k, _, _ in members))
                if len(keys) < 2:
                    continue  # same id twice is ARC005/OPT013, not this rule
                first, text = members[1][1], members[0][2]
                line = col = None
                if template is not None:
                    line = template.line_of(first)
                elif loc is not None:
                    where = loc.code_in_definition(keys[1])
                    if where:
                        line, col = where
                out.append(Issue("LNT150", f"children {', '.join(keys)} of {base}/{attr.rm_attribute_name} all "
                                           f"have the text {text!r}", file=file, line=line, column=col,
                                 template_path=f"{base}/{attr.rm_attribute_name}"))
    return out


def _unused_codes(arch: Archetype, loc: AdlLocator) -> list[Issue]:
    """LNT160: codes defined in the original language that nothing uses."""
    # differential (path-keyed) specialisations only restate what changes: their codes are used in the parent
    if any("/" in a.rm_attribute_name for info in arch.iter_nodes() if isinstance(info.node, CComplexObject)
           for a in info.node.attributes):
        return []
    onto = arch.ontology
    original = onto.original_language
    used = {c for c, _, _ in used_codes(arch)} | {arch.concept}
    for info in arch.iter_nodes():
        if isinstance(info.node, CDvScale):
            used |= {i.symbol.code_string for i in info.node.list if i.symbol.terminology_id == "local"}
        if isinstance(info.node, CCodePhrase) and info.node.assumed_value:
            used.add(info.node.assumed_value)
    for inv in arch.invariants:
        used |= set(_CODE_IN_TEXT_RE.findall(inv))
    depth = specialisation_depth(arch.archetype_id)
    out: list[Issue] = []
    add = _adder(out, arch.source)
    for block, defs in (("term_definitions", onto.term_definitions.get(original, {})),
                        ("constraint_definitions", onto.constraint_definitions.get(original, {}))):
        for code in defs:
            if code in used or not _CODE_RE.match(code):
                continue
            # a specialised archetype keeps its parent's terms; only codes it introduces are its own to use
            if depth > 0 and code_depth(code) < depth:
                continue
            add("LNT160", f"{code} ({defs[code].get('text', '')!r}) is defined in {block} but never used",
                loc.term(block, original, code))
    return out


def _rm_bounds(arch: Archetype, loc: AdlLocator) -> list[Issue]:
    """LNT170: the archetype form of OPT009 (occurrences, existence, cardinality within the RM)."""
    out: list[Issue] = []
    add = _adder(out, arch.source)
    for info in arch.iter_nodes():
        node = info.node
        if not isinstance(node, CComplexObject) or rm.rm_type(node.rm_type_name) is None:
            continue
        base = "" if info.path == "/" else info.path
        where = loc.code_in_definition(node.node_id) if node.node_id else None
        for attr in node.attributes:
            if "/" in attr.rm_attribute_name:
                continue
            rm_attr = rm.attribute(node.rm_type_name, attr.rm_attribute_name)
            if rm_attr is None:
                continue  # ARC007
            apath = f"{base}/{attr.rm_attribute_name}"
            ex = attr.existence
            if ex is not None and (ex.upper is None or ex.upper > 1 or (ex.lower or 0) > 1):
                add("LNT170", f"existence {ex} of {node.rm_type_name}.{attr.rm_attribute_name} lies outside 0..1",
                    where, apath)
            if attr.cardinality is not None and not rm_attr.is_container:
                add("LNT170", f"{node.rm_type_name}.{attr.rm_attribute_name} is single-valued in the RM but has "
                              "a cardinality", where, apath)
            if not rm_attr.is_container:
                for child in attr.children:
                    occ = child.occurrences
                    if occ is not None and (occ.upper is None or occ.upper > 1):
                        cw = loc.code_in_definition(child.node_id) if child.node_id else where
                        add("LNT170", f"occurrences {occ} of a {child.rm_type_name} under single-valued "
                                      f"{node.rm_type_name}.{attr.rm_attribute_name} (at most 1 allowed)",
                            cw, apath)
    return out


# ---------------------------------------------------------------------------------------------------------------
# operational templates


def check_opt_rules(t: OperationalTemplate, lset: LintSet) -> list[Issue]:
    """Lint's own rules on a loaded OPT (its structural checks ran already)."""
    out: list[Issue] = []
    file = t.source
    lang = t.language
    seen: set[tuple[str, str, str]] = set()
    for terminology, code, path, node in _code_lists(t.definition):
        problem = code_problem(terminology, code)
        if problem and (terminology, code, path) not in seen:
            seen.add((terminology, code, path))
            out.append(Issue(problem[0], f"{terminology} code {code}: {problem[1]}", file=file,
                             line=t.line_of(node), template_path=path))
    for aid, term in t.component_terminologies.items():
        for terminology, items in term.term_bindings.items():
            for key, target in items.items():
                for term_id, code in _binding_targets(target):
                    problem = code_problem(term_id or terminology, code)
                    if problem:
                        out.append(Issue(problem[0], f"{aid}: {terminology} binding of {key}: {code}: "
                                                     f"{problem[1]}", file=file))
    out.extend(_sibling_texts(t.definition, None, lang, file, template=t))
    for required in lset.config.required_languages:
        lacking = []
        partial = []
        for info in t.iter_nodes():
            root = info.node
            if not isinstance(root, CArchetypeRoot) or root.terminology is None:
                continue
            terms = root.terminology.term_definitions
            if required not in terms:
                lacking.append(root.archetype_id)
            else:
                orig = terms.get(root.terminology.original_language) or terms.get(lang) or {}
                if any(c not in terms[required] for c in orig):
                    partial.append(root.archetype_id)
        lacking = list(dict.fromkeys(lacking))
        partial = list(dict.fromkeys(partial))
        if lacking:
            out.append(Issue("LNT110", f"required language '{required}' is missing in {len(lacking)} archetype(s): "
                                       f"{', '.join(lacking[:3])}{' ...' if len(lacking) > 3 else ''}", file=file))
        if partial:
            out.append(Issue("LNT111", f"terms in required language '{required}' are incomplete in "
                                       f"{', '.join(partial[:3])}{' ...' if len(partial) > 3 else ''}", file=file))
    return out


__all__ = ["LintSet", "check_adl", "check_opt_rules", "code_depth", "specialisation_depth"]
