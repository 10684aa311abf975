"""Reservations and consents, personvernkomponenten-style: may a registry receive this patient's messages?

Each record is (national id, registry, status, date) with status one of ``reserved``, ``reservation_withdrawn``,
``consent``, ``consent_withdrawn``. The latest record per (national id, registry) wins (by date; on the same date,
the later line). The source is a CSV with the header ``national_id,registry,status,date`` (ISO dates), or the
``reservations`` table of the ledger database (same columns), whichever the configuration names.

The registry's basis decides what a missing or withdrawn record means:

* ``reservation``: delivered unless the latest status is ``reserved``;
* ``consent``: delivered only when the latest status is ``consent``;
* ``statutory``: always delivered (registration by law, no right to reserve).
"""

from __future__ import annotations

import csv
import datetime as _dt
import sqlite3
from pathlib import Path

from openehr_kit.diagnostics import Issue
from openehr_kit.mapping.identity import check_national_id

STATUSES = ("reserved", "reservation_withdrawn", "consent", "consent_withdrawn")


class ConsentError(Exception):
    def __init__(self, issue: Issue) -> None:
        super().__init__(str(issue))
        self.issue = issue


class Permissions:
    """Latest status per (national id, registry)."""

    def __init__(self) -> None:
        self._latest: dict[tuple[str, str], tuple[_dt.date, int, str]] = {}
        self._seq = 0

    def record(self, national_id: str, registry: str, status: str, date: _dt.date) -> None:
        self._seq += 1
        key = (national_id, registry.strip().casefold())
        old = self._latest.get(key)
        if old is None or (date, self._seq) >= old[:2]:
            self._latest[key] = (date, self._seq, status)

    def status(self, national_id: str, registry: str) -> str | None:
        hit = self._latest.get((national_id, registry.strip().casefold()))
        return hit[2] if hit else None

    def allowed(self, national_id: str, registry: str, basis: str) -> bool:
        st = self.status(national_id, registry)
        if basis == "reservation":
            return st != "reserved"
        if basis == "consent":
            return st == "consent"
        return True

    def __len__(self) -> int:
        return len(self._latest)


def _add(perms: Permissions, row: list[str], src: str, line: int) -> None:
    nid, registry, status, date = (c.strip() for c in row[:4])
    if not check_national_id(nid).ok:
        raise ConsentError(Issue("DFG006", "the national id is invalid", file=src, line=line))
    if not registry:
        raise ConsentError(Issue("DFG006", "the registry is empty", file=src, line=line))
    st = status.lower().replace(" ", "_")
    if st not in STATUSES:
        raise ConsentError(Issue("DFG006", f"status {status!r} is not one of {', '.join(STATUSES)}", file=src,
                                 line=line))
    try:
        day = _dt.date.fromisoformat(date[:10])
    except ValueError:
        raise ConsentError(Issue("DFG006", f"date {date!r} is not an ISO date (YYYY-MM-DD)", file=src,
                                 line=line)) from None
    perms.record(nid, registry, st, day)


def read_permissions_csv(path: str | Path) -> Permissions:
    """Read the reservation/consent CSV; ConsentError (DFG006) names the line of the first problem."""
    p = Path(path)
    src = str(p)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConsentError(Issue("DFG006", f"cannot read the reservations ({exc.__class__.__name__})",
                                 file=src)) from None
    rows = list(csv.reader(text.splitlines()))
    want = ["national_id", "registry", "status", "date"]
    if not rows or [h.strip().lower() for h in rows[0]][:4] != want:
        raise ConsentError(Issue("DFG006", "the first line must be national_id,registry,status,date", file=src,
                                 line=1))
    perms = Permissions()
    for n, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) < 4:
            raise ConsentError(Issue("DFG006", f"{len(row)} columns, 4 expected", file=src, line=n))
        _add(perms, row, src, n)
    return perms


def read_permissions_table(conn: sqlite3.Connection, src: str) -> Permissions:
    """The ledger database's ``reservations`` table (created empty by the ledger)."""
    perms = Permissions()
    rows = conn.execute("SELECT national_id, registry, status, date FROM reservations ORDER BY rowid").fetchall()
    for n, row in enumerate(rows, start=1):
        _add(perms, [str(c) for c in row], f"{src}#reservations", n)
    return perms


__all__ = ["ConsentError", "Permissions", "STATUSES", "read_permissions_csv", "read_permissions_table"]
