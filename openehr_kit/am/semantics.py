"""Semantic checks on a parsed archetype (AOM 1.4 validity rules that the grammar cannot see)."""

from __future__ import annotations

from collections.abc import Iterator

from openehr_kit.am.model import (
    Archetype,
    ArchetypeInternalRef,
    CComplexObject,
    CCodePhrase,
    CDvOrdinal,
    CObject,
    ConstraintRef,
    find_node,
)
from openehr_kit.diagnostics import Issue
from openehr_kit.rm import schema as rm


def _is_at_code(code: str | None) -> bool:
    return bool(code) and code.startswith("at")  # type: ignore[union-attr]


def used_codes(archetype: Archetype) -> Iterator[tuple[str, str, str]]:
    """Every (code, kind, path) the definition uses; kind is ``node``, ``value`` or ``constraint``."""
    for info in archetype.iter_nodes():
        node = info.node
        if _is_at_code(node.node_id):
            yield node.node_id, "node", info.path  # type: ignore[misc]
        if isinstance(node, CCodePhrase) and node.terminology_id == "local":
            for code in node.code_list:
                if _is_at_code(code):
                    yield code, "value", info.path
        elif isinstance(node, CDvOrdinal):
            for item in node.list:
                if item.symbol.terminology_id == "local" and _is_at_code(item.symbol.code_string):
                    yield item.symbol.code_string, "value", info.path
        elif isinstance(node, ConstraintRef):
            yield node.reference, "constraint", info.path


def check_archetype(archetype: Archetype) -> list[Issue]:
    """Term definitions for every used code, resolvable use_node targets, distinct sibling node ids."""
    issues: list[Issue] = []
    onto = archetype.ontology
    original = onto.original_language
    original_terms = onto.term_definitions.get(original, {})
    original_constraints = onto.constraint_definitions.get(original, {})
    translations = [lang for lang in onto.term_definitions if lang != original]
    file = archetype.source
    reported: set[tuple[str, str]] = set()

    for code, kind, path in used_codes(archetype):
        if kind == "constraint":
            if code not in original_constraints and ("ac", code) not in reported:
                reported.add(("ac", code))
                issues.append(
                    Issue(
                        "ARC003",
                        f"{code} is used at {path} but has no constraint definition in '{original}'",
                        file=file,
                        template_path=path,
                        expected=f"constraint_definitions[{original}] containing {code}",
                        found="no definition",
                    )
                )
            continue
        if code in original_terms:
            for lang in translations:
                if code not in onto.term_definitions[lang] and (lang, code) not in reported:
                    reported.add((lang, code))
                    issues.append(
                        Issue(
                            "ARC004",
                            f"{code} has no term definition in the translation '{lang}'",
                            file=file,
                            template_path=path,
                        )
                    )
            continue
        if (original, code) in reported:
            continue
        reported.add((original, code))
        issues.append(
            Issue(
                "ARC001",
                f"{code} is used at {path} but has no term definition in the original language '{original}'",
                file=file,
                template_path=path,
                expected=f"term_definitions[{original}] containing {code}",
                found="no definition",
            )
        )

    for info in archetype.iter_nodes():
        node = info.node
        if isinstance(node, ArchetypeInternalRef):
            target = _resolve_reference(archetype, node)
            if target is None:
                issues.append(
                    Issue(
                        "ARC002",
                        f"use_node at {info.path} points to {node.target_path}, which does not exist",
                        file=file,
                        template_path=info.path,
                        expected="an existing node path",
                        found=node.target_path,
                    )
                )
        if isinstance(node, CComplexObject):
            issues.extend(_duplicate_siblings(node, info.path, file))
            issues.extend(_rm_conformance(node, info.path, file))
    return issues


def _rm_conformance(node: CComplexObject, path: str, file: str | None) -> list[Issue]:
    """The node's RM type exists, its constrained attributes exist on it, and its children fit them."""
    rm_name = node.rm_type_name
    rm_class = rm.rm_type(rm_name)
    if rm_class is None:
        return [Issue("ARC006", f"{rm_name} at {path} is not a reference model type", file=file,
                      template_path=path, expected="an RM 1.1.0 type", found=rm_name)]
    out: list[Issue] = []
    base = "" if path == "/" else path
    for attr in node.attributes:
        name = attr.rm_attribute_name
        if "/" in name:  # a differential path in a specialised archetype: its target is checked on the parent
            continue
        declared = rm.attribute(rm_name, name)
        if declared is None:
            out.append(Issue("ARC007", f"{rm_name} has no attribute '{name}' (at {base}/{name})", file=file,
                             template_path=f"{base}/{name}", expected=f"an attribute of {rm_name}", found=name))
            continue
        for child in attr.children:
            child_type = child.rm_type_name
            if isinstance(child, CComplexObject) and rm.rm_type(child_type) is not None \
                    and not rm.is_subtype(child_type, declared.type_name):
                out.append(Issue("ARC008", f"{child_type} cannot stand in {rm_name}.{name}, which holds "
                                 f"{declared.type_name} (at {base}/{name})", file=file,
                                 template_path=f"{base}/{name}", expected=declared.type_name, found=child_type))
    return out


def _resolve_reference(archetype: Archetype, ref: ArchetypeInternalRef) -> CObject | None:
    try:
        return find_node(archetype.definition, ref.target_path)
    except ValueError:
        return None


def _duplicate_siblings(node: CComplexObject, path: str, file: str | None) -> list[Issue]:
    out: list[Issue] = []
    for attr in node.attributes:
        seen: set[str] = set()
        for child in attr.children:
            nid = child.node_id
            if not nid or isinstance(child, ArchetypeInternalRef):
                continue
            if nid in seen:
                base = "" if path == "/" else path
                out.append(
                    Issue(
                        "ARC005",
                        f"two children of {base}/{attr.rm_attribute_name} carry node id {nid}",
                        file=file,
                        template_path=f"{base}/{attr.rm_attribute_name}[{nid}]",
                    )
                )
            seen.add(nid)
    return out
