"""Synthetic datafangst input for tests, the crash soak and the benchmark: cloned example compositions, streamed.

:func:`iter_ndjson` yields NDJSON lines (bytes) one at a time, cloning the project's valid example compositions
with new uids: nothing grows with the number of lines. Patients are a fixed pool of synthetic national ids
(valid check digits, made-up people) reached through the envelope's ``ehr_id``; :func:`write_side_files` writes
the matching identity and reservation CSVs and a configuration.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from openehr_kit.content import content_dir
from openehr_kit.mapping.identity import check_digits
from openehr_kit.pipeline.demo import CONFIG_BODY

SYSTEM = "openehr-kit.synthetic"
_PLACEHOLDER = "@@UID@@"
#: a correction: the ankle fracture's injury time changes (a field the fracture registry receives)
_ANKLE = "fracture_registration/fracture_ankle_nonoperative.json"
_ANKLE_EDIT = ('"value":"2025-08-30T10:05:00+02:00"', '"value":"2025-08-30T09:05:00+02:00"')
_INVALID = "fracture_registration/invalid_missing_side.json"

TEMPLATE_DIRS = ("fracture_registration", "fracture_reoperation", "child_diabetes_annual_control",
                 "prostate_cancer_investigation", "prostate_cancer_surgery", "prostate_cancer_radiotherapy")


#: a clone's text as UTF-8 around its uid: the line is joined from bytes, with no search, replace or encoding
Text = tuple[bytes, bytes]


def _compact_with_uid(path: Path) -> str:
    d = json.loads(path.read_text(encoding="utf-8"))
    new = {"_type": d.pop("_type", "COMPOSITION"), "name": d.pop("name"),
           "uid": {"_type": "OBJECT_VERSION_ID", "value": _PLACEHOLDER}}
    new.update(d)
    return json.dumps(new, ensure_ascii=False, separators=(",", ":"))


def _split(text: str) -> Text:
    head, placeholder, tail = text.partition(_PLACEHOLDER)
    assert placeholder and _PLACEHOLDER not in tail
    return head.encode("utf-8"), tail.encode("utf-8")


@dataclass(slots=True)
class Pool:
    """The example texts to clone (compact JSON, split where the uid goes)."""

    texts: list[Text]
    ankle: Text
    ankle_v2: Text
    invalid: Text

    @classmethod
    def load(cls) -> Pool:
        ex = content_dir("templates") / "examples"
        texts = []
        for d in TEMPLATE_DIRS:
            for p in sorted((ex / d).glob("*.json")):
                if p.name.startswith("invalid_") or p.name.endswith((".flat.json", ".expected.json")):
                    continue
                texts.append(_split(_compact_with_uid(p)))
        ankle = _compact_with_uid(ex / _ANKLE)
        assert _ANKLE_EDIT[0] in ankle
        return cls(texts, _split(ankle), _split(ankle.replace(*_ANKLE_EDIT)), _split(_compact_with_uid(ex / _INVALID)))


def national_ids(n: int) -> list[str]:
    """``n`` distinct synthetic national ids with valid check digits (birth dates in 1950-1999)."""
    out: list[str] = []
    day = 0
    while len(out) < n:
        dd, mm, yy = day % 28 + 1, day // 28 % 12 + 1, 50 + day // 336 % 50
        for ind in range(100, 500):
            first = f"{dd:02d}{mm:02d}{yy:02d}{ind:03d}"
            cd = check_digits(first)
            if cd:
                out.append(first + cd)
                break
        day += 1
    return out


_URL_NAMESPACE = uuid.NAMESPACE_URL.bytes


def comp_uid(i: int, seed: str = "") -> str:
    """``str(uuid.uuid5(uuid.NAMESPACE_URL, f"openehr-kit-synthetic-{seed}-{i}"))``, without the UUID object."""
    h = bytearray(hashlib.sha1(_URL_NAMESPACE + f"openehr-kit-synthetic-{seed}-{i}".encode("utf-8")).digest()[:16])
    h[6] = h[6] & 0x0F | 0x50  # version 5
    h[8] = h[8] & 0x3F | 0x80  # RFC 4122 variant
    x = h.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


def iter_ndjson(n: int, *, patients: int = 1000, correct_every: int = 0, delete_every: int = 0,
                invalid_every: int = 0, seed: str = "", pool: Pool | None = None) -> Iterator[bytes]:
    """``n`` compositions as NDJSON lines, plus a v2 after every ``correct_every``-th (an ankle fracture), a
    tombstone after every ``delete_every``-th and an invalid composition in place of every ``invalid_every``-th."""
    pool = pool or Pool.load()
    suffix = f"::{SYSTEM}::".encode("ascii")
    for i in range(n):
        u = comp_uid(i, seed)
        object_id = u.encode("ascii") + suffix
        ehr = f"ehr-{i % patients}"
        corrected = correct_every and i % correct_every == correct_every - 1
        if invalid_every and i % invalid_every == invalid_every - 1:
            text = pool.invalid
        elif corrected:
            text = pool.ankle
        else:
            text = pool.texts[i % len(pool.texts)]
        yield _line(ehr, text, object_id + b"1")
        if corrected:
            yield _line(ehr, pool.ankle_v2, object_id + b"2")
        if delete_every and i % delete_every == delete_every - 1:
            yield (json.dumps({"deleted": f"{u}::{SYSTEM}::{3 if corrected else 2}", "ehr_id": ehr}) + "\n").encode()


def _line(ehr: str, text: Text, uid: bytes) -> bytes:
    head, tail = text
    return b"".join((b'{"ehr_id":"', ehr.encode("utf-8"), b'","composition":', head, uid, tail, b"}\n"))


CONFIG = """\
version: 1
sources:
  - ndjson: feed.ndjson
""" + CONFIG_BODY


def write_side_files(folder: Path, *, patients: int = 1000, reserve_every: int = 10) -> None:
    """identities.csv (ehr_id -> national id, name), reservations.csv and datafangst.yaml in ``folder``.

    Every ``reserve_every``-th patient is reserved against Norsk frakturregister; all but every
    ``reserve_every``-th consent to Barnediabetesregisteret.
    """
    folder.mkdir(parents=True, exist_ok=True)
    ids = national_ids(patients)
    with (folder / "identities.csv").open("w", encoding="utf-8") as fh:
        fh.write("ehr_id,national_id,patient_name\n")
        for k, nid in enumerate(ids):
            fh.write(f"ehr-{k},{nid},Syntetisk Pasient {k}\n")
    with (folder / "reservations.csv").open("w", encoding="utf-8") as fh:
        fh.write("national_id,registry,status,date\n")
        for k, nid in enumerate(ids):
            if reserve_every and k % reserve_every == 3:
                fh.write(f"{nid},Norsk frakturregister,reserved,2025-01-01\n")
            if not reserve_every or k % reserve_every != 5:
                fh.write(f"{nid},Barnediabetesregisteret,consent,2024-06-01\n")
    (folder / "datafangst.yaml").write_text(CONFIG, encoding="utf-8")


def write_feed(folder: Path, n: int, **kw: object) -> int:
    """Write ``feed.ndjson`` (streamed); the number of lines."""
    count = 0
    with (folder / "feed.ndjson").open("wb") as fh:
        for line in iter_ndjson(n, **kw):  # type: ignore[arg-type]
            fh.write(line)
            count += 1
    return count


__all__ = ["CONFIG", "Pool", "SYSTEM", "comp_uid", "iter_ndjson", "national_ids", "write_feed", "write_side_files"]
