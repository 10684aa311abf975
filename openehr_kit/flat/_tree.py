"""FLAT keys parsed into a tree: ``a/b:0/c|magnitude`` becomes node a -> b[0] -> c with attribute ``magnitude``.

The tree is the shape STRUCTURED JSON has natively, so both formats are read by the same walker. Every value
remembers the FLAT key it came from, so that issues name that key and unconsumed keys can be reported.
"""

from __future__ import annotations

import re
from typing import Any

from openehr_kit.diagnostics import Issue

_MISSING = object()
# one segment: id, optional :index, optional |attribute (the attribute may itself carry :n, e.g. identifiers_id:0)
_SEGMENT = re.compile(r"^(?P<id>[^:|]+)(?::(?P<idx>[^|]*))?$")


class FNode:
    """One node of the FLAT tree: attributes (``""`` is the plain value) and children by id and index."""

    __slots__ = ("key", "attrs", "kids")

    def __init__(self, key: str) -> None:
        self.key = key
        self.attrs: dict[str, tuple[Any, str]] = {}
        #: id -> index (None where the key gave none) -> node
        self.kids: dict[str, dict[int | None, FNode]] = {}

    def child(self, name: str, index: int | None, key: str) -> FNode:
        by_index = self.kids.get(name)
        if by_index is None:
            by_index = self.kids[name] = {}
        node = by_index.get(index)
        if node is None:
            node = by_index[index] = FNode(key)
        return node

    def keys(self) -> list[str]:
        """Every FLAT key at or below this node."""
        out = [k for _, k in self.attrs.values()]
        for by_index in self.kids.values():
            for node in by_index.values():
                out.extend(node.keys())
        return out

    def is_empty(self) -> bool:
        return not self.attrs and not self.kids


class Consumer:
    """Tracks which FLAT keys a conversion used, and collects issues."""

    __slots__ = ("used", "issues", "reported", "source")

    def __init__(self, source: str | None = None) -> None:
        self.used: set[str] = set()
        self.reported: set[str] = set()
        self.issues: list[Issue] = []
        self.source = source

    def take(self, node: FNode, suffix: str, default: Any = None) -> Any:
        hit = node.attrs.get(suffix)
        if hit is None:
            return default
        self.used.add(hit[1])
        return hit[0]

    def has(self, node: FNode, suffix: str) -> bool:
        return suffix in node.attrs

    def kid(self, node: FNode, name: str) -> FNode | None:
        """The single (index-free or index 0) child ``name``."""
        by_index = node.kids.get(name)
        if not by_index:
            return None
        return by_index.get(None) or by_index.get(0) or next(iter(by_index.values()))

    def kids(self, node: FNode, name: str) -> list[FNode]:
        by_index = node.kids.get(name)
        if not by_index:
            return []
        return [by_index[i] for i in sorted(by_index, key=lambda i: -1 if i is None else i)]

    def issue(self, code: str, message: str, key: str, *, expected: str | None = None,
              found: str | None = None) -> None:
        self.issues.append(Issue(code, f"{key}: {message}", file=self.source, instance_path=key,
                                 expected=expected, found=found))

    def report_all(self, code: str, message: str, node: FNode, **kw: Any) -> None:
        """One issue per key below ``node`` (each marked reported so it is not flagged again as unconsumed)."""
        for key in node.keys():
            if key not in self.reported:
                self.reported.add(key)
                self.issue(code, message, key, **kw)


def parse_flat(flat: dict[str, Any], consumer: Consumer) -> tuple[FNode, dict[str, tuple[Any, str]]]:
    """The tree of all non-``ctx/`` keys (root node holds the template-id children) and the ``ctx/`` values."""
    root = FNode("")
    ctx: dict[str, tuple[Any, str]] = {}
    for key, value in flat.items():
        if not isinstance(key, str):
            continue
        if key.startswith("ctx/"):
            ctx[key[4:]] = (value, key)
            continue
        if isinstance(value, (dict, list)):
            consumer.reported.add(key)
            consumer.issue("FLT007", f"a FLAT value must be a string, number, boolean or null, found "
                           f"{'an object' if isinstance(value, dict) else 'a list'}", key)
            continue
        path, bar, attr = key.partition("|")
        node = root
        prefix = ""
        ok = True
        for seg in path.split("/"):
            m = _SEGMENT.match(seg)
            if not m or not seg:
                consumer.reported.add(key)
                consumer.issue("FLT003" if ":" in seg else "FLT001",
                               f"malformed path segment {seg!r}", key)
                ok = False
                break
            idx_text = m.group("idx")
            index: int | None = None
            if idx_text is not None:
                if not idx_text.isdigit():
                    consumer.reported.add(key)
                    consumer.issue("FLT003", f"bad index {':' + idx_text!r} in segment {seg!r}: an index is "
                                   "':' and a non-negative whole number", key, expected=":0", found=":" + idx_text)
                    ok = False
                    break
                index = int(idx_text)
            prefix = f"{prefix}/{seg}" if prefix else seg
            node = node.child(m.group("id"), index, prefix)
        if not ok:
            continue
        node.attrs[attr if bar else ""] = (value, key)
    return root, ctx
