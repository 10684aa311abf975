"""Reading the configured sources as a stream of items: compositions and tombstones, one at a time.

* A **directory** is walked recursively in name order: ``*.json`` and ``*.xml`` files are compositions (canonical
  JSON, canonical XML or FLAT); a ``*.deleted`` file is a tombstone whose text is the uid of the deleted composition
  (``8f1c...`` or ``8f1c...::system::3``). ``*.expected.json`` files (expected validation results beside examples)
  are skipped.
* An **NDJSON** stream holds one JSON object per line: a composition (canonical JSON or FLAT), an envelope
  ``{"ehr_id": "...", "composition": {...}}`` (the EHR id lets the identity source find the patient), or a
  tombstone ``{"deleted": "<uid>"}`` (optionally with ``"ehr_id"``). Blank lines are ignored.

Items carry raw bytes; parsing is the worker's job, so a reader only needs :func:`partition_key` to keep every
version of one composition on the same worker. The uid it finds on the way (:func:`quick_uid`) travels with the item,
so the worker does not search for it again.
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
    # what :func:`quick_uid` found (``uid_searched``: it has looked), kept so that the text is searched once
    uid_guess: tuple[str, int] | None = None
    uid_searched: bool = False


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


def split_uid(uid: str) -> tuple[str, int]:
    """``obj::system::3`` -> (``obj``, 3); a uid without a version counts as version 1."""
    parts = uid.split("::")
    if len(parts) >= 3 and parts[-1].isdigit():
        return parts[0], int(parts[-1])
    return parts[0], 1


#: a JSON composition's full uid (canonical, then FLAT), near the start of the text, so found at once
_JSON_UID = [
    re.compile(rb'"_type"\s*:\s*"OBJECT_VERSION_ID"\s*,\s*"value"\s*:\s*"([^"]+)"'),
    re.compile(rb'/_uid"\s*:\s*"([^"]+)"'),
]
#: the object id in a JSON tombstone, ``{"deleted": "<uid>", ...}`` (an NDJSON line or a .deleted file; short)
_DELETED_UID = re.compile(rb'"deleted"\s*:\s*"([^":]+)')
#: the object id of the other forms: canonical XML, and a tombstone
_OTHER_UID = [re.compile(rb'<uid[^>]*OBJECT_VERSION_ID[^>]*>\s*<value>([^<:]+)'), _DELETED_UID]


def quick_uid(item: Item) -> tuple[str, int] | None:
    """(object id, version) of a JSON composition's uid, found in the text without parsing it; None for a tombstone
    or when not found. Only a guess until the ledger confirms it; searched for once per item."""
    if not item.uid_searched:
        item.uid_guess, item.uid_searched = _search_uid(item), True
    return item.uid_guess


def _search_uid(item: Item) -> tuple[str, int] | None:
    if item.tombstone or item.ndjson and b'"deleted"' in item.data[:200]:
        return None
    for pat in _JSON_UID:
        m = pat.search(item.data)
        if m:
            return split_uid(m.group(1).decode("utf-8", "replace"))
    return None


def partition_key(item: Item) -> str:
    """The composition's object id, found cheaply; every version of a composition gives the same key."""
    if item.tombstone:
        text = item.data.decode("utf-8", "replace").strip()
        if text.startswith("{"):  # a JSON marker, {"deleted": "<uid>", ...}: the same key as the versions it ends
            m = _DELETED_UID.search(item.data)
            return m.group(1).decode("utf-8", "replace") if m else ""
        return text.strip('"').split("::")[0]
    guess = quick_uid(item)
    if guess is not None:
        return guess[0].split(":")[0]  # up to the first colon, as for the other forms
    for pat in _OTHER_UID:
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
    except (ValueError, RecursionError):  # not JSON, or nested too deep to parse: the worker reports it
        pass
    return ""  # no uid at all: the item will be quarantined, any worker may do it


def partition(item: Item, workers: int) -> int:
    if workers <= 1:
        return 0
    key = partition_key(item)
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=4).digest(), "big") % workers


__all__ = ["Item", "iter_items", "partition", "partition_key", "quick_uid", "split_uid"]
