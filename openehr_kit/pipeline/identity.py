"""The identity source: who the patient of a composition is, by national id (fødselsnummer / D-number).

Compositions carry no national id (the EHR subject is resolved through the demographic service when a report is
made), so datafangst reads a CSV exported from that service. Its header names the columns; ``national_id`` is
required, ``patient_name`` optional (KREMT messages need it), and each row is keyed by at least one of:

* ``composition_uid``: the composition's object id (``8f1c...``; any ``::system::version`` suffix is ignored),
* ``ehr_id``: the EHR id (given per composition by an NDJSON envelope ``{"ehr_id": ..., "composition": ...}``),
* ``subject_id``: the id in ``subject.external_ref`` of the composition's entries (PARTY_SELF).

A composition's patient is looked up in that order. Every national id is checked (11 digits, birth date, mod-11
check digits, :mod:`openehr_kit.mapping.identity`) when the file is read; an invalid one is reported by line, never
by value. Nothing here prints an id unmasked: use :func:`mask`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from openehr_kit.diagnostics import Issue
from openehr_kit.mapping.identity import check_national_id, mask

KEY_COLUMNS = ("composition_uid", "ehr_id", "subject_id")


class IdentityError(Exception):
    def __init__(self, issue: Issue) -> None:
        super().__init__(str(issue))
        self.issue = issue


@dataclass(frozen=True, slots=True)
class Patient:
    national_id: str
    patient_name: str | None = None

    def __repr__(self) -> str:  # never show the identity in logs or tracebacks
        return f"Patient(national_id={mask(self.national_id)})"


class IdentitySource:
    """National ids by composition uid, EHR id and subject id."""

    def __init__(self) -> None:
        self.by_key: dict[str, dict[str, Patient]] = {k: {} for k in KEY_COLUMNS}

    def __len__(self) -> int:
        return sum(len(v) for v in self.by_key.values())

    def lookup(self, composition_uid: str | None, ehr_id: str | None = None,
               subject_id: str | None = None) -> Patient | None:
        base = composition_uid.split("::")[0] if composition_uid else None
        for col, key in (("composition_uid", base), ("ehr_id", ehr_id), ("subject_id", subject_id)):
            if key and key in self.by_key[col]:
                return self.by_key[col][key]
        return None

    def add(self, column: str, key: str, patient: Patient) -> None:
        self.by_key[column][key.split("::")[0] if column == "composition_uid" else key] = patient


def read_identity_csv(path: str | Path) -> IdentitySource:
    """Read the identity CSV; IdentityError (DFG005) names the line of the first problem, never the id."""
    p = Path(path)
    src = str(p)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise IdentityError(Issue("DFG005", f"cannot read the identity source ({exc.__class__.__name__})",
                                  file=src)) from None
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        raise IdentityError(Issue("DFG005", "the identity source is empty", file=src, line=1))
    header = [h.strip().lower() for h in rows[0]]
    keys = [c for c in KEY_COLUMNS if c in header]
    if "national_id" not in header or not keys:
        raise IdentityError(Issue("DFG005", "the header must name national_id and at least one of "
                                            f"{', '.join(KEY_COLUMNS)} (optionally patient_name)", file=src, line=1))
    ni = header.index("national_id")
    pi = header.index("patient_name") if "patient_name" in header else None
    out = IdentitySource()
    for n, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise IdentityError(Issue("DFG005", f"{len(row)} columns, {len(header)} expected", file=src, line=n))
        nid = row[ni].strip()
        verdict = check_national_id(nid)
        if not verdict.ok:
            raise IdentityError(Issue("DFG005", f"the national id is invalid: {verdict.reason}", file=src, line=n))
        patient = Patient(nid, (row[pi].strip() or None) if pi is not None else None)
        used = False
        for col in keys:
            value = row[header.index(col)].strip()
            if value:
                out.add(col, value, patient)
                used = True
        if not used:
            raise IdentityError(Issue("DFG005", f"the row has none of {', '.join(keys)}", file=src, line=n))
    return out


__all__ = ["IdentityError", "IdentitySource", "KEY_COLUMNS", "Patient", "mask", "read_identity_csv"]
