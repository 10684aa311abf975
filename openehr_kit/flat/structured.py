"""STRUCTURED JSON (the nested variant of FLAT) <-> FLAT, so both share one converter.

STRUCTURED nests the same web template ids: every node is a list of instances (``"any_event": [{...}, {...}]``),
an instance is an object of child ids and ``|suffix`` attributes, and a leaf is either a plain value or an object
of ``|suffix`` values. ``{"a": [{"b": [{"|magnitude": 1}]}]}`` is FLAT ``a/b|magnitude`` (indices where a list
holds several instances, or where the web template says the node repeats).
"""

from __future__ import annotations

from typing import Any

from openehr_kit.diagnostics import Issue
from openehr_kit.opt.model import OperationalTemplate
from openehr_kit.rm.instance import RMObject

__all__ = ["structured_to_flat", "flat_to_structured", "structured_to_composition", "composition_to_structured"]


def structured_to_flat(doc: dict[str, Any], *, source: str | None = None,
                       repeating: set[str] | None = None) -> tuple[dict[str, Any], list[Issue]]:
    """The FLAT document of a STRUCTURED one. ``repeating`` (FLAT patterns without indices, ``a/b``) names the
    nodes that take an index even with one instance; without it an index is written for every list item."""
    out: dict[str, Any] = {}
    issues: list[Issue] = []

    def node(prefix: str, pattern: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                if key.startswith("|"):
                    out[f"{prefix}{key}"] = sub
                elif key == "":
                    out[prefix] = sub
                else:
                    many(f"{prefix}/{key}", f"{pattern}/{key}", sub)
        elif isinstance(value, list):
            issues.append(Issue("FLT011", f"{prefix}: a list inside a list", file=source, instance_path=prefix))
        else:
            out[prefix] = value

    def many(prefix: str, pattern: str, value: Any) -> None:
        items = value if isinstance(value, list) else [value]
        indexed = repeating is None or pattern in repeating or len(items) > 1
        if prefix.startswith("ctx/") or pattern.count("/") == 0:
            indexed = False
        for i, item in enumerate(items):
            node(f"{prefix}:{i}" if indexed else prefix, pattern, item)

    for key, value in doc.items():
        if key == "ctx" and isinstance(value, dict):
            for ck, cv in value.items():
                out[f"ctx/{ck}"] = cv
            continue
        if key.startswith("ctx/"):
            out[key] = value
            continue
        items = value if isinstance(value, list) else [value]
        for item in items:
            if not isinstance(item, dict):
                issues.append(Issue("FLT011", f"{key}: the root must be an object (or a list of one)",
                                    file=source, instance_path=key))
                continue
            node(key, key, item)
    return out, issues


def flat_to_structured(flat: dict[str, Any]) -> dict[str, Any]:
    """The STRUCTURED document of a FLAT one (every node a list, ``ctx/`` keys kept flat)."""
    import re

    root: dict[str, Any] = {}
    for key, value in flat.items():
        if key.startswith("ctx/"):
            root[key] = value
            continue
        path, bar, attr = key.partition("|")
        segs = path.split("/")
        cur = root
        for depth, seg in enumerate(segs):
            m = re.fullmatch(r"(.+?)(?::(\d+))?", seg)
            assert m is not None
            name, idx = m.group(1), int(m.group(2) or 0)
            if depth == 0:
                cur = cur.setdefault(name, {})
                continue
            lst = cur.setdefault(name, [])
            while len(lst) <= idx:
                lst.append({})
            last = depth == len(segs) - 1
            if last and not bar and not isinstance(lst[idx], dict):
                lst[idx] = value
                break
            if last and not bar:
                if lst[idx]:
                    lst[idx][""] = value
                else:
                    lst[idx] = value
                break
            if not isinstance(lst[idx], dict):
                lst[idx] = {"": lst[idx]}
            cur = lst[idx]
        if bar:
            cur[f"|{attr}"] = value
    return root


def _repeating(template: OperationalTemplate) -> set[str]:
    from openehr_kit.flat._index import flat_index

    index = flat_index(template)
    out: set[str] = set()
    stack = [index.root]
    while stack:
        spec = stack.pop()
        if spec.repeats:
            out.add(spec.pattern.replace(":n", ""))
        stack.extend(spec.children)
    return {p for p in out}


def structured_to_composition(doc: dict[str, Any], template: OperationalTemplate, *,
                              source: str | None = None) -> tuple[RMObject, list[Issue]]:
    from openehr_kit.flat.to_canonical import flat_to_composition

    flat, issues = structured_to_flat(doc, source=source, repeating=_repeating(template))
    comp, more = flat_to_composition(flat, template, source=source)
    return comp, issues + more


def composition_to_structured(comp: RMObject, template: OperationalTemplate) -> dict[str, Any]:
    from openehr_kit.flat.from_canonical import composition_to_flat

    return flat_to_structured(composition_to_flat(comp, template))
