"""The delivery ledger: one SQLite row per (composition uid, composition version, registry message key).

Message rows move ``staged`` -> ``delivered``; rows that never reach the outbox end as ``withheld`` (reservation
or missing consent), ``unchanged`` (a new composition version whose registry content is the same as the last
delivered one) or ``not_annullable`` (the format cannot annul). The ledger keeps ids and hashes, never payloads,
national ids or health data.

The ``compositions`` table notes each (uid, version) handled to the end: ``done``, ``quarantined`` or
``superseded``, so a re-run skips them without mapping again. ``reservations`` is the optional in-database
reservation/consent source.

Exactly-once (see docs/datafangst.md): the payload is written atomically into ``outbox/.staging/`` under a name
fixed by message id and message version -> the row is committed ``staged`` -> the file is renamed into the outbox
(the delivery: one atomic step that also removes it from staging) -> the row is marked ``delivered``. Recovery
(:func:`openehr_kit.pipeline.runner.recover`): a staged row whose staging file is still there is renamed now; one
whose staging file is gone was delivered; a staging file without a staged row is dropped (it was never delivered).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import sqlite3
import time
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

SCHEMA_VERSION = "1"
#: the version a tombstone gets: it sorts after every real version, so a deletion is final
DELETED_VERSION = 2_000_000_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS messages (
    uid TEXT NOT NULL,              -- composition object id (without ::system::version)
    version INTEGER NOT NULL,       -- composition version (DELETED_VERSION for a tombstone)
    message_key TEXT NOT NULL,      -- registry format key and repeating entry: identifies the message lineage
    registry TEXT NOT NULL,
    message_id TEXT NOT NULL,       -- stable across corrections of one message
    kind TEXT,                      -- N new, M correction, C annulment
    message_version INTEGER,        -- 0 for N, then 1, 2, ... per delivered correction/annulment
    status TEXT NOT NULL,           -- staged, delivered, withheld, unchanged, not_annullable
    content_hash TEXT,              -- sha256 of the payload
    values_hash TEXT,               -- sha256 of the registry content (to tell a real correction from none)
    file_name TEXT,
    created_at TEXT NOT NULL,
    delivered_at TEXT,
    PRIMARY KEY (uid, version, message_key)
);
CREATE INDEX IF NOT EXISTS messages_status ON messages(status);
CREATE TABLE IF NOT EXISTS compositions (
    uid TEXT NOT NULL, version INTEGER NOT NULL, status TEXT NOT NULL, content_hash TEXT, reason TEXT,
    updated_at TEXT NOT NULL, PRIMARY KEY (uid, version)
);
CREATE TABLE IF NOT EXISTS reservations (
    national_id TEXT NOT NULL, registry TEXT NOT NULL, status TEXT NOT NULL, date TEXT NOT NULL
);
"""


class LedgerError(Exception):
    pass


#: uids per ``IN (...)`` query, well under SQLite's limit on bound parameters
_IN_CHUNK = 500


def _chunks(keys: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    for start in range(0, len(keys), _IN_CHUNK):
        yield keys[start:start + _IN_CHUNK]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(slots=True)
class Lineage:
    """The delivered history of one message (one message key of one composition)."""

    message_id: str
    registry: str
    delivered: int  # how many versions of it reached the outbox
    last_kind: str | None
    last_values_hash: str | None
    last_version: int  # composition version of the last delivered/withheld row


class MessageHistory:
    """The message rows of one composition (all versions), as read once by :meth:`Ledger.history`."""

    __slots__ = ("rows",)

    def __init__(self, rows: list[tuple[str, str, str, str | None, str, str | None, int]]) -> None:
        self.rows = rows  # (message_key, registry, message_id, kind, status, values_hash, version), by version

    def max_version(self) -> int | None:
        return self.rows[-1][6] if self.rows else None

    def statuses(self, version: int) -> dict[str, str]:
        """message key -> status for one composition version."""
        return {key: status for key, _, _, _, status, _, v in self.rows if v == version}

    def lineages(self, before_version: int) -> dict[str, Lineage]:
        """Every message key of the composition handled in versions before ``before_version``."""
        out: dict[str, Lineage] = {}
        for key, registry, mid, kind, status, vhash, version in self.rows:
            if version >= before_version:
                break
            lin = out.setdefault(key, Lineage(mid, registry, 0, None, None, version))
            lin.last_version = version
            if status == "delivered":
                lin.delivered += 1
                lin.last_kind = kind
                lin.last_values_hash = vhash
        return out


class Ledger:
    """A connection to the ledger database (one per process; SQLite WAL lets workers write in turn)."""

    def __init__(self, path: str | Path, *, durable: bool = True) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: we open transactions ourselves, so each step's commit point is explicit
            self.conn = sqlite3.connect(str(self.path), timeout=60, isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit is on disk before the next delivery step (power loss); NORMAL in WAL mode still
            # survives a killed process, which is all ``fsync: false`` promises
            self.conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            self.conn.execute("PRAGMA busy_timeout=60000")
            self.conn.executescript(_SCHEMA)
            row = self.conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if row is None:
                self.conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
            elif row[0] != SCHEMA_VERSION:
                raise LedgerError(f"ledger schema {row[0]} is not the supported {SCHEMA_VERSION}")
            # from here on the connection never sleeps in SQLite's busy handler: begin() and _read() poll
            self.conn.execute("PRAGMA busy_timeout=0")
        except sqlite3.DatabaseError as exc:
            raise LedgerError(f"{exc}") from None
        except OSError as exc:
            raise LedgerError(exc.strerror or str(exc)) from None

    def close(self) -> None:
        self.conn.close()

    # -- what the ledger knows of a composition (read in two queries per composition) ----------------------------

    def _read(self, sql: str, args: tuple[object, ...]) -> list[tuple[object, ...]]:
        """A read; retried briefly in the rare case SQLite reports the database busy (the connection does not
        wait by itself: see :meth:`begin`)."""
        deadline = time.monotonic() + 60
        while True:
            try:
                return self.conn.execute(sql, args).fetchall()
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(0.0005)

    def composition_states(self, uids: Collection[str]) -> dict[str, dict[int, tuple[str, str | None]]]:
        """uid -> version -> (status, content hash) of every handled version of each composition."""
        out: dict[str, dict[int, tuple[str, str | None]]] = {u: {} for u in uids}
        for part in _chunks(tuple(out)):
            for uid, v, s, h in self._read("SELECT uid, version, status, content_hash FROM compositions "
                                           f"WHERE uid IN ({','.join('?' * len(part))})", part):
                out[str(uid)][int(v)] = (str(s), h if h is None else str(h))  # type: ignore[call-overload]
        return out

    def composition_state(self, uid: str) -> dict[int, tuple[str, str | None]]:
        """version -> (status, content hash) of every handled version of the composition."""
        return self.composition_states((uid,))[uid]

    def histories(self, uids: Collection[str]) -> dict[str, MessageHistory]:
        """uid -> every message row of the composition, all versions."""
        rows: dict[str, list[tuple[str, str, str, str | None, str, str | None, int]]] = {u: [] for u in uids}
        for part in _chunks(tuple(rows)):
            for row in self._read(
                    "SELECT uid, message_key, registry, message_id, kind, status, values_hash, version FROM messages "
                    f"WHERE uid IN ({','.join('?' * len(part))}) ORDER BY uid, version, message_key", part):
                rows[row[0]].append(row[1:])  # type: ignore[index,arg-type]
        return {u: MessageHistory(r) for u, r in rows.items()}

    def history(self, uid: str) -> MessageHistory:
        """Every message row of the composition, all versions."""
        return self.histories((uid,))[uid]

    # -- the delivery steps ---------------------------------------------------------------------------------------

    def begin(self) -> None:
        """Take the write lock. Workers hold it for well under a millisecond, so poll briefly instead of
        SQLite's busy handler, whose sleeps (1, 2, 5, 10... ms) would idle a worker far longer than the wait."""
        deadline = time.monotonic() + 60
        delay = 0.00005
        while True:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 0.002)

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        try:
            self.conn.execute("ROLLBACK")
        except sqlite3.OperationalError:
            pass

    def add_staged(self, rows: Iterable[tuple[str, int, str, str, str, str, int, str, str, str]]) -> None:
        """Staged message rows: (uid, version, key, registry, message id, kind, message version, content hash,
        values hash, file name)."""
        t = now()
        self.conn.executemany(
            "INSERT INTO messages (uid, version, message_key, registry, message_id, kind, message_version, status,"
            " content_hash, values_hash, file_name, created_at) VALUES (?,?,?,?,?,?,?,'staged',?,?,?,?)",
            [(*r, t) for r in rows])

    def add_final(self, rows: Iterable[tuple[str, int, str, str, str, str, str | None, str | None]]) -> None:
        """Rows that never go to the outbox (withheld, unchanged, not_annullable): (uid, version, key, registry,
        message id, status, kind, values hash)."""
        t = now()
        self.conn.executemany(
            "INSERT INTO messages (uid, version, message_key, registry, message_id, status, kind, values_hash,"
            " created_at) VALUES (?,?,?,?,?,?,?,?,?)", [(*r, t) for r in rows])

    def mark_delivered(self, rows: Iterable[tuple[str, int, str]]) -> None:
        """Staged rows (uid, version, key) now delivered."""
        t = now()
        self.conn.executemany("UPDATE messages SET status='delivered', delivered_at=? "
                              "WHERE uid=? AND version=? AND message_key=? AND status='staged'",
                              [(t, *r) for r in rows])

    def drop_staged(self, rows: Iterable[tuple[str, int, str]]) -> None:
        """Forget staged rows whose files could not be delivered (so no entry claims an undelivered message)."""
        self.conn.executemany("DELETE FROM messages WHERE uid=? AND version=? AND message_key=? AND status='staged'",
                              list(rows))

    def drop_withheld(self, rows: Iterable[tuple[str, int, str]]) -> None:
        """Forget withheld rows whose messages are being delivered now (the patient's status changed)."""
        self.conn.executemany("DELETE FROM messages WHERE uid=? AND version=? AND message_key=? "
                              "AND status='withheld'", list(rows))

    def set_compositions(self, rows: Iterable[tuple[str, int, str, str | None, str | None]]) -> None:
        """(uid, version, status, content hash, reason) of composition versions handled to the end."""
        t = now()
        self.conn.executemany("INSERT OR REPLACE INTO compositions VALUES (?,?,?,?,?,?)", [(*r, t) for r in rows])

    def set_composition(self, uid: str, version: int, status: str, content_hash: str | None,
                        reason: str | None = None) -> None:
        self.set_compositions([(uid, version, status, content_hash, reason)])

    def staged(self) -> list[tuple[str, int, str, str, str]]:
        """(uid, version, key, file name, hash) of every staged row."""
        return self._read("SELECT uid, version, message_key, file_name, content_hash FROM messages "  # type: ignore
                          "WHERE status='staged'", ())

    # -- reporting ------------------------------------------------------------------------------------------------

    def status_summary(self) -> dict[str, object]:
        """Counts for ``datafangst status`` (no identifiers: registries, kinds and statuses only)."""
        by: dict[str, dict[str, int]] = {}
        for registry, kind, status, n in self._read(
                "SELECT registry, COALESCE(kind,''), status, COUNT(*) FROM messages GROUP BY 1,2,3", ()):
            d = by.setdefault(registry, {})
            label = {"N": "new", "M": "corrections", "C": "annulments"}.get(kind, "") if status == "delivered" \
                else status
            d[label or status] = d.get(label or status, 0) + n
        comps = dict(self._read("SELECT status, COUNT(*) FROM compositions GROUP BY status", ()))
        last = self._read("SELECT MAX(delivered_at) FROM messages", ())[0][0]
        return {"ledger": str(self.path), "registries": by, "compositions": comps, "last_delivery": last}


__all__ = ["DELETED_VERSION", "Ledger", "LedgerError", "Lineage", "MessageHistory", "SCHEMA_VERSION", "now", "sha256"]
