"""Reading the configured sources as a stream of items: compositions and tombstones, one at a time.

* A **directory** is walked recursively in name order: ``*.json`` and ``*.xml`` files are compositions (canonical
  JSON, canonical XML or FLAT); a ``*.deleted`` file is a tombstone whose text is the uid of the deleted composition
  (``8f1c...`` or ``8f1c...::system::3``). ``*.expected.json`` files (expected validation results beside examples)
  are skipped.
* An **NDJSON** stream holds one JSON object per line: a composition (canonical JSON or FLAT), an envelope
  ``{"ehr_id": "...", "composition": {...}}`` (the EHR id lets the identity source find the patient), or a
  tombstone ``{"deleted": "<uid>"}`` (optionally with ``"ehr_id"``). Blank lines are ignored.

Items carry raw bytes; parsing is the worker's job, so a reader only needs :func:`partition_key` to keep every
version of one composition on the same worker.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from openehr_kit.pipeline.config import Source

SKIP_SUFFIXES = (".expected.json", ".report.json")


@dataclass(slots=True)
class Item:
    """One unit of input: ``label`` says where it came from (file, or file:line) for reports."""

    label: str
    data: bytes
    ndjson: bool = False  # a line of an NDJSON stream (may be an envelope or a tombstone)
    tombstone: bool = False  # a ``.deleted`` marker file
    suffix: str = ".json"


def iter_items(sources: list[Source]) -> Iterator[Item]:
    """Every item of every source, streamed (a file or a line at a time, never the whole source in memory)."""
    for src in sources:
        if src.kind == "directory":
            yield from _directory(src.path)
        else:
            yield from _ndjson(src.path)


def _directory(root: Path) -> Iterator[Item]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            low = name.lower()
            if low.endswith(SKIP_SUFFIXES) or name.startswith("."):
                continue
            if not low.endswith((".json", ".xml", ".deleted")):
                continue
            p = Path(dirpath) / name
            try:
                data = p.read_bytes()
            except OSError:
                data = b""  # unreadable: the worker reports it (empty input) and quarantines the label
            yield Item(str(p), data, tombstone=low.endswith(".deleted"), suffix=p.suffix.lower())


def _ndjson(path: Path) -> Iterator[Item]:
    with path.open("rb") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            yield Item(f"{path}:{n}", line, ndjson=True)


#: the composition forms first (their uid is near the start, found at once); a tombstone line is short
_UID_PATTERNS = [
    re.compile(rb'"_type"\s*:\s*"OBJECT_VERSION_ID"\s*,\s*"value"\s*:\s*"([^":]+)'),
    re.compile(rb'/_uid"\s*:\s*"([^":]+)'),
    re.compile(rb'<uid[^>]*OBJECT_VERSION_ID[^>]*>\s*<value>([^<:]+)'),
    re.compile(rb'"deleted"\s*:\s*"([^":]+)'),
]


def partition_key(item: Item) -> str:
    """The composition's object id, found cheaply; every version of a composition gives the same key."""
    if item.tombstone:
        return item.data.decode("utf-8", "replace").strip().strip('"').split("::")[0]
    for pat in _UID_PATTERNS:
        m = pat.search(item.data)
        if m:
            return m.group(1).decode("utf-8", "replace")
    try:  # unusual layout: parse it (rare; the regexes cover the canonical and FLAT forms)
        doc = json.loads(item.data)
        if isinstance(doc, dict):
            doc = doc.get("composition", doc)
            uid = doc.get("uid") if isinstance(doc, dict) else None
            if isinstance(uid, dict) and isinstance(uid.get("value"), str):
                return uid["value"].split("::")[0]
    except ValueError:
        pass
    return ""  # no uid at all: the item will be quarantined, any worker may do it


def partition(item: Item, workers: int) -> int:
    if workers <= 1:
        return 0
    key = partition_key(item)
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=4).digest(), "big") % workers


__all__ = ["Item", "iter_items", "partition", "partition_key"]
