"""One datafangst run: recover, then every source item through read -> template -> validate -> map -> deliver.

Per composition version the order of effects is what makes delivery exactly-once (docs/datafangst.md):

1. decide every message (new / correction / annulment / withheld / unchanged) and render it — nothing written;
   a failure quarantines the composition (copy + report) and the run goes on;
2. each payload written atomically into ``outbox/.staging/`` under a name fixed by message id and message version;
3. one transaction: a ``staged`` row per staged message, plus the rows that are not delivered (withheld,
   unchanged, not annullable);
4. each staged file renamed into the outbox: the delivery itself, atomic, and it empties the staging slot;
5. one transaction: the rows marked ``delivered`` and the composition version noted ``done``.

A crash between any two steps is finished by :func:`recover` at the start of the next run: a staging file with no
staged row was never delivered (dropped; the composition is processed again and stages it again); a staged row
whose staging file is still there is renamed now; a staged row whose staging file is gone was delivered (even if
the outbox's consumer has already taken the file). The composition is then processed again and finds its message
rows already there. A write error (read-only or full outbox) stops the run; rows of messages that did not reach the
outbox are dropped, so no ledger row claims an undelivered message.
"""

from __future__ import annotations

import datetime as _dt
import errno
import fcntl
import json
import multiprocessing as mp
import os
import queue as _queue
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from openehr_kit.diagnostics import Issue, ParseError, Severity
from openehr_kit.fsutil import atomic_write_bytes
from openehr_kit.opt.model import OperationalTemplate
from openehr_kit.pipeline.config import DatafangstConfig
from openehr_kit.pipeline.consent import ConsentError, Permissions, read_permissions_csv, read_permissions_table
from openehr_kit.pipeline.exporter import (
    DeliveryContext, ExportedMessage, ExportFailed, Exporter, Mapped, MappingExporter, load_templates,
)
from openehr_kit.pipeline.identity import IdentityError, IdentitySource, read_identity_csv
from openehr_kit.pipeline.ledger import DELETED_VERSION, Ledger, LedgerError, MessageHistory, sha256
from openehr_kit.pipeline.sources import Item, iter_items, partition, quick_uid, split_uid
from openehr_kit.rm.canonical_json import read_canonical_json
from openehr_kit.rm.canonical_xml import read_xml_composition
from openehr_kit.rm.instance import RMObject
from openehr_kit.rm.reading import classify_json
from openehr_kit.textio import loads_json

#: the counts a run reports, in the order of the summary table
COUNTS = ("compositions", "delivered", "corrected", "annulled", "withheld", "unchanged", "quarantined",
          "not_annullable", "already_done", "superseded", "recovered")
_KIND_COUNT = {"N": "delivered", "M": "corrected", "C": "annulled"}


class RunStopped(Exception):
    """The run cannot go on (configuration, ledger, lock or outbox); ``issue`` says why (DFG0xx)."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(str(issue))
        self.issue = issue


@dataclass(slots=True)
class Summary:
    counts: dict[str, int] = field(default_factory=lambda: {k: 0 for k in COUNTS})
    by_registry: dict[str, dict[str, int]] = field(default_factory=dict)
    seconds: float = 0.0
    workers: int = 1
    stopped: Issue | None = None
    outbox: str = ""
    quarantine: str = ""
    quarantine_reasons: dict[str, int] = field(default_factory=dict)  # code -> count
    warnings: dict[str, int] = field(default_factory=dict)  # code -> count (DFG109)

    def add(self, key: str, registry: str | None = None, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n
        if registry is not None:
            d = self.by_registry.setdefault(registry, {})
            d[key] = d.get(key, 0) + n

    def merge(self, other: dict[str, Any]) -> None:
        for k, v in other["counts"].items():
            self.counts[k] = self.counts.get(k, 0) + v
        for reg, d in other["by_registry"].items():
            mine = self.by_registry.setdefault(reg, {})
            for k, v in d.items():
                mine[k] = mine.get(k, 0) + v
        for k, v in other["quarantine_reasons"].items():
            self.quarantine_reasons[k] = self.quarantine_reasons.get(k, 0) + v
        for k, v in other.get("warnings", {}).items():
            self.warnings[k] = self.warnings.get(k, 0) + v

    def to_dict(self) -> dict[str, Any]:
        rate = self.counts["compositions"] / self.seconds if self.seconds > 0 else None
        return {"ok": self.stopped is None, "counts": dict(self.counts), "by_registry": self.by_registry,
                "quarantine_reasons": self.quarantine_reasons, "warnings": self.warnings,
                "seconds": round(self.seconds, 3),
                "compositions_per_second": round(rate, 1) if rate else None, "workers": self.workers,
                "outbox": self.outbox, "quarantine": self.quarantine,
                "stopped": self.stopped.to_dict() if self.stopped else None}


# ---------------------------------------------------------------------------------------------------------------
# setting up


@dataclass(slots=True)
class Setup:
    cfg: DatafangstConfig
    templates: dict[str, OperationalTemplate]
    exporter: Exporter
    identities: IdentitySource
    permissions: Permissions


def prepare(cfg: DatafangstConfig, exporter: Exporter | None = None,
            templates: dict[str, OperationalTemplate] | None = None) -> Setup:
    """Load templates, mappings, identities and reservations; RunStopped with the first problem."""
    try:
        templates = templates if templates is not None else load_templates(cfg.templates)
        exporter = exporter if exporter is not None else MappingExporter(cfg.mappings, templates)
        identities = read_identity_csv(cfg.identity_csv)
    except (ExportFailed, IdentityError) as exc:
        raise RunStopped(exc.issue) from None
    missing = sorted({r for regs in exporter.registries().values() for r in regs} - set(cfg.registries))
    if missing:
        raise RunStopped(Issue("DFG004", f"registr{'y' if len(missing) == 1 else 'ies'} {', '.join(missing)} "
                                         "used by the mappings ha" + ("s" if len(missing) == 1 else "ve") +
                               " no basis under 'registries:' (reservation, consent or statutory)",
                               file=str(cfg.path)))
    permissions = Permissions()
    try:
        if cfg.reservations_csv is not None:
            permissions = read_permissions_csv(cfg.reservations_csv)
        elif cfg.reservations_table:
            led = open_ledger(cfg)
            try:
                permissions = read_permissions_table(led.conn, str(cfg.ledger))
            finally:
                led.close()
    except ConsentError as exc:
        raise RunStopped(exc.issue) from None
    return Setup(cfg, templates, exporter, identities, permissions)


def open_ledger(cfg: DatafangstConfig) -> Ledger:
    try:
        return Ledger(cfg.ledger, durable=cfg.fsync)
    except LedgerError as exc:
        raise RunStopped(Issue("DFG007", f"cannot open the ledger: {exc}", file=str(cfg.ledger))) from None


def _lock(cfg: DatafangstConfig) -> int:
    """An exclusive lock beside the ledger for the whole run (released by the OS if the run is killed)."""
    path = Path(str(cfg.ledger) + ".lock")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise RunStopped(Issue("DFG007", f"cannot create the ledger lock: {exc.strerror}", file=str(path))) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise RunStopped(Issue("DFG009", "another datafangst run is using this ledger; try again when it ends",
                               file=str(path))) from None
    return fd


def _check_dir_writable(path: Path, what: str) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path / ".datafangst-probe", b"")
        (path / ".datafangst-probe").unlink()
    except OSError as exc:
        raise RunStopped(_write_issue(exc, path, what)) from None


def _write_issue(exc: OSError, path: Path, what: str) -> Issue:
    why = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up",
           errno.EROFS: "the file system is read-only", errno.EACCES: "permission denied",
           errno.EPERM: "permission denied"}.get(exc.errno or 0, exc.strerror or type(exc).__name__)
    return Issue("DFG008", f"cannot write to the {what} ({why}); the run stopped and nothing unwritten is "
                           "recorded as delivered: fix it and run again", file=str(path))


STAGING = ".staging"
#: composition versions whose delivery steps share one transaction each (fewer commits, less lock contention
#: between workers; a failure or crash affects at most one batch, which the next run delivers)
DELIVERY_BATCH = 32

#: fault injection for the crash tests: SIGKILL this process at the n-th step boundary (counted per process)
_CRASH_AT = int(os.environ.get("OPENEHR_KIT_DFG_CRASH_AT", "0") or 0)
_crash_count = 0


def crash_point() -> None:
    """A boundary between two delivery steps; kills the process here when the crash test asks for it."""
    global _crash_count
    if _CRASH_AT:
        _crash_count += 1
        if _crash_count == _CRASH_AT:
            os.kill(os.getpid(), 9)


def set_crash_at(n: int) -> None:
    global _CRASH_AT, _crash_count
    _CRASH_AT, _crash_count = n, 0


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _deliver_file(staging: str | Path, outbox: str | Path, name: str) -> None:
    """The delivery: one atomic rename from staging into the outbox (same file system)."""
    os.replace(os.path.join(staging, name), os.path.join(outbox, name))


def _stage(staging: str | Path, name: str, data: bytes, durable: bool) -> None:
    """Write a staging file whole; when ``durable`` through a fsynced temporary file and a rename.

    Without ``durable`` it is written in place: its staged row is committed only after the file is closed, and a
    staging file without a staged row (say, cut short by a kill) is dropped by :func:`recover`, so a partial file
    can never be delivered."""
    path = os.path.join(staging, name)
    if durable:
        atomic_write_bytes(path, data)
        return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)  # as open(path, "wb")
    try:
        view = memoryview(data)
        while view:  # a short write happens only when the disk fills up; the next write then raises
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def recover(ledger: Ledger, outbox: Path, summary: Summary) -> None:
    """Finish an interrupted run: deliver staged rows still in staging, drop staging files nobody recorded."""
    staging = outbox / STAGING
    rows = ledger.staged()
    names = {r[3] for r in rows}
    try:
        staging.mkdir(parents=True, exist_ok=True)
        for f in staging.iterdir():  # never delivered: no staged row, or a half-written temporary file
            if f.name not in names:
                f.unlink()
        for tmp in outbox.glob(".*.tmp"):
            tmp.unlink()
        for uid, version, key, file_name, _digest in rows:
            if (staging / file_name).exists():
                _deliver_file(staging, outbox, file_name)
                _fsync_dir(outbox)
            crash_point()
            ledger.begin()
            ledger.mark_delivered([(uid, version, key)])
            ledger.commit()
            summary.add("recovered")
    except OSError as exc:
        raise RunStopped(_write_issue(exc, outbox, "outbox")) from None


# ---------------------------------------------------------------------------------------------------------------
# one composition


class Quarantine(Exception):
    def __init__(self, issue: Issue, uid: str | None = None, version: int | None = None) -> None:
        super().__init__(str(issue))
        self.issue = issue
        self.uid = uid
        self.version = version


@dataclass(slots=True)
class _Planned:
    """One composition version decided and rendered, waiting for the batch's delivery steps."""

    base: str
    version: int
    digest: str
    messages: list[ExportedMessage]
    mapped: list[Mapped]  # the Mapped of each message, in the same order
    finals: list[tuple[Mapped | None, str, str, str, str | None]]  # rows that do not go to the outbox
    released: set[str]  # message keys withheld before, delivered now (their withheld row is replaced)


class Processor:
    """Takes items one at a time; owns a ledger connection (one per process)."""

    def __init__(self, setup: Setup, ledger: Ledger, summary: Summary, batch_size: int = 1) -> None:
        self.s = setup
        self.cfg = setup.cfg
        self.ledger = ledger
        self.summary = summary
        self._flat_roots: dict[str, OperationalTemplate] | None = None
        # what the ledger says of compositions (and of inputs without a uid, by input key): read for a batch of
        # items at once (:meth:`prefetch`) or when first needed, and dropped when this processor writes their rows
        self._states: dict[str, dict[int, tuple[str, str | None]]] = {}
        self._histories: dict[str, MessageHistory] = {}
        # rendered, not yet delivered: flushed every ``batch_size`` composition versions, before another version
        # of a composition in the batch is looked at, and at the end (:meth:`flush`)
        self.batch_size = batch_size
        self._pending: list[_Planned] = []
        self._pending_bases: set[str] = set()
        self._recheck = False  # the current item is a done version looked at again for its withheld messages

    # -- reading --------------------------------------------------------------------------------------------------

    def _flat_template(self, doc: dict[str, Any], label: str) -> OperationalTemplate:
        if self._flat_roots is None:
            from openehr_kit.flat._index import flat_index

            self._flat_roots = {flat_index(t).root.id: t for t in self.s.templates.values()}
        root = next((k.split("/")[0] for k in doc if not k.startswith("ctx/") and "/" in k), None)
        if root is None:  # STRUCTURED: the single top-level key
            root = next((k for k in doc if k != "ctx"), None)
        t = self._flat_roots.get(root or "")
        if t is None:
            raise Quarantine(Issue("DFG102", f"no configured template has the FLAT root {root!r}", file=label))
        return t

    def read(self, item: Item) -> tuple[RMObject | None, str | None, str | None, OperationalTemplate | None]:
        """(composition, tombstone uid, ehr id, template); Quarantine when it cannot be read."""
        label = item.label
        ehr_id: str | None = None
        if item.tombstone:
            text = item.data.decode("utf-8", "replace").strip()
            if text.startswith("{"):
                try:
                    doc = json.loads(text)
                    text, ehr_id = str(doc.get("deleted", "")), doc.get("ehr_id")
                except (ValueError, AttributeError):
                    text = ""
            if not text or not re.fullmatch(r"[^\s]+", text):
                raise Quarantine(Issue("DFG101", "a .deleted marker holds the uid of the deleted composition",
                                       file=label))
            return None, text, ehr_id, None
        data = item.data
        try:
            if data.lstrip()[:1] == b"<":
                comp = read_xml_composition(data, source=label)
                return comp, None, None, self._template_of(comp, label)
            try:
                doc = loads_json(data)
            except ValueError as exc:
                raise Quarantine(Issue("DFG101", f"not JSON or XML: {exc}", file=label)) from None
            if not isinstance(doc, dict):
                raise Quarantine(Issue("DFG101", "a composition is a JSON object", file=label))
            if item.ndjson and "deleted" in doc:
                uid = doc["deleted"]
                if not isinstance(uid, str) or not uid.strip():
                    raise Quarantine(Issue("DFG101", "a tombstone is {\"deleted\": \"<uid>\"}", file=label))
                return None, uid.strip(), _str(doc.get("ehr_id")), None
            if item.ndjson and "composition" in doc:
                ehr_id = _str(doc.get("ehr_id"))
                doc = doc["composition"]
                if isinstance(doc, str) and doc.lstrip().startswith("<"):
                    comp = read_xml_composition(doc.encode("utf-8"), source=label)
                    return comp, None, ehr_id, self._template_of(comp, label)
                if not isinstance(doc, dict):
                    raise Quarantine(Issue("DFG101", "an envelope's composition is a JSON object or XML text",
                                           file=label))
            if classify_json(doc) == "json":
                comp = read_canonical_json(doc, source=label, root_type="COMPOSITION")
                return comp, None, ehr_id, self._template_of(comp, label)
            from openehr_kit.flat import read_flat_composition

            template = self._flat_template(doc, label)
            comp, issues = read_flat_composition(doc, template, label)
            errors = [i for i in issues if i.severity is Severity.ERROR]
            if errors:
                raise Quarantine(Issue("DFG101", f"{errors[0].code} {errors[0].message}", file=label))
            return comp, None, ehr_id, template
        except ParseError as exc:
            i = exc.to_issue()
            raise Quarantine(Issue("DFG101", f"{i.code} {i.message}", file=label, line=i.line,
                                   column=i.column)) from None
        except (RecursionError, MemoryError):
            raise Quarantine(Issue("DFG101", "the composition is too deep or too large to read", file=label)) \
                from None

    def _template_of(self, comp: RMObject, label: str) -> OperationalTemplate:
        ad = comp.attrs.get("archetype_details")
        tid = ad.attrs.get("template_id") if isinstance(ad, RMObject) else None
        value = tid.attrs.get("value") if isinstance(tid, RMObject) else None
        t = self.s.templates.get(value) if isinstance(value, str) else None
        if t is None:
            raise Quarantine(Issue("DFG102", f"no configured template has the id {value!r}" if value else
                                   "the composition names no template (archetype_details/template_id)", file=label))
        return t

    # -- the steps ------------------------------------------------------------------------------------------------

    def prefetch(self, items: list[Item]) -> None:
        """Read what the ledger says of the compositions the items name (by their quick uids) and of their input
        keys, one query for all instead of two per item. Every other cached reading is forgotten: a composition
        written by another process since then (it never is: each composition has one worker) is read anew."""
        bases = {guess[0] for guess in map(quick_uid, items) if guess is not None}
        self._states = self.ledger.composition_states([*bases, *map(_input_key, items)])
        self._histories = self.ledger.histories(bases)

    def process(self, item: Item) -> None:
        """Everything for one item; RunStopped propagates (outbox/quarantine cannot be written)."""
        self.summary.add("compositions")
        digest = sha256(item.data.strip())
        quick = quick_uid(item)
        if quick is not None and quick[0] in self._pending_bases:
            self.flush()  # an earlier version of this composition is in the batch: the ledger must say so first
        in_key = _input_key(item)
        self._recheck = False
        self._read_states((quick[0], in_key) if quick else (in_key,))
        if quick is not None and self._seen_same(quick[0], quick[1], digest):
            return  # fast path of a re-run: this exact content was handled, no parsing or mapping
        if self._seen_same(in_key, 0, digest):
            return  # an input without a readable uid, quarantined earlier and unchanged
        try:
            comp, tomb_uid, ehr_id, template = self.read(item)
            if tomb_uid is not None:
                base, _ = split_uid(tomb_uid)
                self._flush_for(base)
                if self._already(base, DELETED_VERSION, digest):
                    return
                self._deliver(base, DELETED_VERSION, digest, [], ehr_id, None, tomb_uid)
                return
            assert comp is not None and template is not None
            uid = _comp_uid(comp)
            if uid is None:
                raise Quarantine(Issue("DFG103", "the composition has no uid (OBJECT_VERSION_ID), so its versions "
                                                 "cannot be tracked", file=item.label))
            base, version = split_uid(uid)
            self._flush_for(base)
            if self._already(base, version, digest):
                return
            if self.cfg.validate:
                self._validate(comp, template, item.label, base, version)
            try:
                mapped = self.s.exporter.map(comp, template)
            except ExportFailed as exc:
                raise Quarantine(_located(exc.issue, item.label), base, version) from None
            self._deliver(base, version, digest, mapped, ehr_id, _subject_id(comp), uid)
        except Quarantine as q:
            self._quarantine(item, q, digest)

    def _seen_same(self, base: str, version: int, digest: str) -> bool:
        """The cheap uid guess is only trusted when the ledger holds this very content for it."""
        hit = self._state(base).get(version)
        if hit is None or hit[1] != digest:
            return False
        return self._already(base, version, digest)

    def _already(self, base: str, version: int, digest: str) -> bool:
        """True when this version needs nothing more (handled, superseded, or quarantined unchanged)."""
        state = self._state(base)
        hit = state.get(version)
        if hit is not None:
            status, old = hit
            if status == "quarantined" and old != digest:
                return False  # changed since it was quarantined: try again
            if status != "quarantined" and old is not None and old != digest:
                # a committed version never changes in the EHR: this is not a correction (that would be a new
                # version), so nothing is re-sent; counted so that the source's anomaly is seen
                self.summary.warnings["DFG109"] = self.summary.warnings.get("DFG109", 0) + 1
            elif status == "done" and "withheld" in self._history(base).statuses(version).values():
                self._recheck = True  # withheld then: the patient's reservation or consent may have changed
                return False
            self.summary.add("already_done")  # quarantined unchanged counts here too: nothing new happened
            return True
        newer = [v for v, (s, _) in state.items() if v > version and s != "quarantined"]
        top = self._history(base).max_version()
        if newer or (top is not None and top > version):
            self._forget(base)
            self.ledger.begin()
            self.ledger.set_composition(base, version, "superseded", digest)
            self.ledger.commit()
            self.summary.add("superseded")
            return True
        return False

    def _flush_for(self, base: str) -> None:
        """Flush when the batch holds another version of this composition (its uid was not found cheaply)."""
        if base in self._pending_bases:
            self.flush()

    def _read_states(self, keys: tuple[str, ...]) -> None:
        """What the ledger says of these compositions or input keys, in one query for those not read yet."""
        missing = [k for k in keys if k not in self._states]
        if missing:
            self._states.update(self.ledger.composition_states(missing))

    def _forget(self, key: str) -> None:
        """The ledger's rows of this composition (or input key) are about to change: read them again when needed."""
        self._states.pop(key, None)
        self._histories.pop(key, None)

    def _state(self, base: str) -> dict[int, tuple[str, str | None]]:
        state = self._states.get(base)
        if state is None:
            state = self._states[base] = self.ledger.composition_state(base)
        return state

    def _history(self, base: str) -> MessageHistory:
        history = self._histories.get(base)
        if history is None:
            history = self._histories[base] = self.ledger.history(base)
        return history

    def _validate(self, comp: RMObject, template: OperationalTemplate, label: str, base: str, version: int) -> None:
        from openehr_kit.validation.validator import validate_composition

        try:
            errors = [i for i in validate_composition(comp, template, file=label) if i.severity is Severity.ERROR]
        except Exception as exc:  # noqa: BLE001 - a validator bug quarantines, never a traceback
            errors = [Issue("DFG104", f"internal error while validating ({type(exc).__name__})")]
        if errors:
            first = errors[0]
            more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
            raise Quarantine(Issue("DFG104", f"not valid against {template.template_id}: {first.code} "
                                             f"{first.message}{more}", file=label,
                                   template_path=first.template_path), base, version)

    def _deliver(self, base: str, version: int, digest: str, mapped: list[Mapped], ehr_id: str | None,
                 subject_id: str | None, full_uid: str) -> None:
        history = self._history(base)
        done = history.statuses(version)  # rows of an earlier, interrupted attempt at this version
        lineages = history.lineages(version)
        patient = self.s.identities.lookup(full_uid, ehr_id, subject_id)
        exp = self.s.exporter
        # (mapped message, kind, message version) to render, and rows that do not go to the outbox
        to_render: list[tuple[Mapped, str, int]] = []
        finals: list[tuple[Mapped | None, str, str, str, str | None]] = []  # (m, key, registry, status, mid)
        keys_now = {m.message_key for m in mapped}
        for m in mapped:
            prior = done.get(m.message_key)
            if prior is not None and prior != "withheld":
                continue
            lin = lineages.get(m.message_key)
            if lin is not None and lin.delivered:
                if lin.last_kind != "C" and lin.last_values_hash == m.values_hash:
                    finals.append((m, m.message_key, m.registry, "unchanged", m.message_id))
                    continue
                kind, mversion = "M", lin.delivered
            else:
                kind, mversion = "N", 0
            if patient is not None and not self.s.permissions.allowed(
                    patient.national_id, m.registry, self.cfg.registries.get(m.registry, "consent")):
                if prior is None:
                    finals.append((m, m.message_key, m.registry, "withheld", m.message_id))
                continue  # (still) withheld
            to_render.append((m, kind, mversion))
        for key, lin in lineages.items():  # delivered earlier, gone now (entry removed, or the composition deleted)
            if key in keys_now or key in done or not lin.delivered or lin.last_kind == "C":
                continue
            ann = exp.annulment(lin.registry, key, lin.message_id)
            if ann is None:
                finals.append((None, key, lin.registry, "not_annullable", lin.message_id))
                continue
            to_render.append((ann, "C", lin.delivered))
        if self._recheck and not to_render and not finals:
            self.summary.add("already_done")  # the withheld messages stay withheld: nothing new happened
            return
        if to_render and patient is None:
            raise Quarantine(Issue("DFG106", "the identity source has no national id for this composition's "
                                             "patient (by composition uid, EHR id or subject id)"), base, version)
        created = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)
        messages: list[ExportedMessage] = []
        for m, kind, mversion in to_render:
            assert patient is not None
            ctx = DeliveryContext(patient.national_id, patient.patient_name, kind, mversion, full_uid, created)
            try:
                messages.append(exp.render(m, ctx))
            except ExportFailed as exc:
                raise Quarantine(exc.issue, base, version) from None
        released = {m.message_key for m, _, _ in to_render if done.get(m.message_key) == "withheld"}
        self._pending.append(_Planned(base, version, digest, messages, [m for m, _, _ in to_render], finals,
                                      released))
        self._pending_bases.add(base)
        if len(self._pending) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        """Steps 2-5 for every composition version planned since the last flush, each step in one go (one
        transaction per step for the whole batch: the delivery protocol per message is the same as one by one)."""
        pending, self._pending, self._pending_bases = self._pending, [], set()
        if not pending:
            return
        for p in pending:
            self._forget(p.base)
        led = self.ledger
        outbox = str(self.cfg.outbox)  # plain strings: path objects cost more than the file system calls
        staging = os.path.join(outbox, STAGING)
        messages = [msg for p in pending for msg in p.messages]
        keys = [(p.base, p.version, msg.message_key) for p in pending for msg in p.messages]  # as ``messages``
        # step 2: the payloads into staging (not yet delivered: the consumer never looks into dot-folders)
        try:
            for msg in messages:
                _stage(staging, msg.file_name, msg.payload, self.cfg.fsync)
        except OSError as exc:
            for msg in messages:
                _unlink(os.path.join(staging, msg.file_name))
            raise RunStopped(_write_issue(exc, self.cfg.outbox, "outbox")) from None
        crash_point()
        # step 3: staged rows and the rows that stay out of the outbox, in one transaction
        led.begin()
        try:
            led.drop_withheld([(p.base, p.version, key) for p in pending for key in p.released])
            led.add_staged([(p.base, p.version, msg.message_key, msg.registry, msg.message_id, msg.kind,
                             msg.message_version, sha256(msg.payload), m.values_hash, msg.file_name)
                            for p in pending for msg, m in zip(p.messages, p.mapped)])
            led.add_final([(p.base, p.version, key, registry, mid or "", status, None,
                            fm.values_hash if fm is not None else None)
                           for p in pending for fm, key, registry, status, mid in p.finals])
            led.commit()
        except BaseException:
            led.rollback()
            raise
        crash_point()
        # step 4: deliver (rename into the outbox)
        moved = 0
        try:
            for msg in messages:
                _deliver_file(staging, outbox, msg.file_name)
                moved += 1
                crash_point()
            if self.cfg.fsync and messages:
                _fsync_dir(self.cfg.outbox)  # the renames are on disk before the ledger says delivered
        except OSError as exc:
            led.begin()
            led.mark_delivered(keys[:moved])
            led.drop_staged(keys[moved:])
            led.commit()
            for msg in messages[moved:]:
                _unlink(os.path.join(staging, msg.file_name))
            self._count(messages[:moved], [])
            raise RunStopped(_write_issue(exc, self.cfg.outbox, "outbox")) from None
        # step 5: delivered, and the composition versions done
        led.begin()
        led.mark_delivered(keys)
        led.set_compositions([(p.base, p.version, "done", p.digest, None) for p in pending])
        led.commit()
        crash_point()
        for p in pending:
            self._count(p.messages, p.finals)

    def _count(self, messages: list[ExportedMessage], finals: list[tuple[Any, str, str, str, str | None]]) -> None:
        for msg in messages:
            self.summary.add(_KIND_COUNT[msg.kind], msg.registry)
        for _, _, registry, status, _ in finals:
            self.summary.add(status, registry)

    def _quarantine(self, item: Item, q: Quarantine, digest: str) -> None:
        """Copy the input and a JSON report into the quarantine folder; note it in the ledger; go on."""
        issue = q.issue
        issue.file = issue.file or item.label
        stem = _safe(q.uid) + (f"-v{q.version}" if q.uid and q.version else "") if q.uid else f"input-{digest[:16]}"
        ext = ".xml" if item.data.lstrip()[:1] == b"<" else ".deleted" if item.tombstone else ".json"
        qdir = self.cfg.quarantine
        report = {"source": item.label, "composition_uid": q.uid, "version": q.version,
                  "quarantined_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                  "reason": issue.to_dict()}
        try:
            atomic_write_bytes(qdir / f"{stem}{ext}", item.data)
            atomic_write_bytes(qdir / f"{stem}.report.json",
                               (json.dumps(report, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
        except OSError as exc:
            raise RunStopped(_write_issue(exc, qdir, "quarantine folder")) from None
        key, version = (q.uid, q.version) if q.uid is not None and q.version is not None else (_input_key(item), 0)
        self._forget(key)
        self.ledger.begin()
        self.ledger.set_composition(key, version, "quarantined", digest, issue.code)
        self.ledger.commit()
        self.summary.add("quarantined")
        self.summary.quarantine_reasons[issue.code] = self.summary.quarantine_reasons.get(issue.code, 0) + 1


def _input_key(item: Item) -> str:
    """The ledger key of an input that has no usable uid: where it came from."""
    return f"input:{item.label}"


def _unlink(p: str | Path) -> None:
    try:
        os.unlink(p)
    except OSError:
        pass


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


def _located(issue: Issue, label: str) -> Issue:
    issue.file = issue.file or label
    return issue


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", text)[:120]


def _comp_uid(comp: RMObject) -> str | None:
    uid = comp.attrs.get("uid")
    v = uid.attrs.get("value") if isinstance(uid, RMObject) else None
    return v if isinstance(v, str) and v.strip() else None


def _subject_id(comp: RMObject) -> str | None:
    """The subject's external id from the first entry that names one (PARTY_SELF.external_ref.id.value)."""
    for entry in comp.attrs.get("content") or []:
        stack = [entry]
        while stack:
            obj = stack.pop()
            if not isinstance(obj, RMObject):
                continue
            subj = obj.attrs.get("subject")
            if isinstance(subj, RMObject):
                ref = subj.attrs.get("external_ref")
                oid = ref.attrs.get("id") if isinstance(ref, RMObject) else None
                v = oid.attrs.get("value") if isinstance(oid, RMObject) else None
                if isinstance(v, str) and v:
                    return v
                return None
            items = obj.attrs.get("items")
            if isinstance(items, list):
                stack.extend(items)
    return None


# ---------------------------------------------------------------------------------------------------------------
# progress


class Progress:
    """A one-line counter on stderr, only on a terminal and not in CI (``CI`` set): quiet otherwise."""

    def __init__(self, enabled: bool | None = None) -> None:
        if enabled is None:
            enabled = sys.stderr.isatty() and not os.environ.get("CI")
        self.enabled = enabled
        self._last = 0.0

    def update(self, counts: dict[str, int], force: bool = False) -> None:
        if not self.enabled:
            return
        t = time.monotonic()
        if not force and t - self._last < 0.1:
            return
        self._last = t
        line = (f"\r{counts.get('compositions', 0)} compositions | delivered {counts.get('delivered', 0)} "
                f"| corrected {counts.get('corrected', 0)} | annulled {counts.get('annulled', 0)} "
                f"| withheld {counts.get('withheld', 0)} | quarantined {counts.get('quarantined', 0)}")
        sys.stderr.write(line + "\x1b[K")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()


# ---------------------------------------------------------------------------------------------------------------
# the run


def run(cfg: DatafangstConfig, *, workers: int = 1, exporter: Exporter | None = None,
        progress: Progress | None = None, items: Iterable[Item] | None = None,
        on_item: Callable[[int], None] | None = None, setup: Setup | None = None,
        batch_size: int = DELIVERY_BATCH) -> Summary:
    """Run datafangst once; the Summary says what happened (``stopped`` set when the run had to stop).

    ``items`` replaces the configured sources (the benchmark streams generated compositions this way);
    ``on_item`` is called after each item with its index (tests use it to crash at a chosen point);
    ``batch_size`` composition versions share the delivery steps' transactions (1: each delivered on its own).
    """
    summary = Summary(workers=workers, outbox=str(cfg.outbox), quarantine=str(cfg.quarantine))
    progress = progress or Progress(False)
    start = time.perf_counter()
    lock_fd: int | None = None
    try:
        if setup is None:
            setup = prepare(cfg, exporter)
        elif setup.cfg is not cfg:  # reuse the loaded templates and mappings; this configuration's other parts
            setup = prepare(cfg, setup.exporter, setup.templates)
        lock_fd = _lock(cfg)
        _check_dir_writable(cfg.outbox, "outbox")
        _check_dir_writable(cfg.outbox / STAGING, "outbox")
        _check_dir_writable(cfg.quarantine, "quarantine folder")
        ledger = open_ledger(cfg)
        try:
            recover(ledger, cfg.outbox, summary)
        finally:
            ledger.close()
        stream = items if items is not None else iter_items(cfg.sources)
        if workers <= 1:
            _run_single(setup, stream, summary, progress, on_item, batch_size)
        else:
            _run_parallel(setup, stream, summary, progress, workers, batch_size)
    except RunStopped as exc:
        summary.stopped = exc.issue
    finally:
        if lock_fd is not None:
            os.close(lock_fd)
        summary.seconds = time.perf_counter() - start
        progress.update(summary.counts, force=True)
        progress.close()
    return summary


def _run_single(setup: Setup, stream: Iterable[Item], summary: Summary, progress: Progress,
                on_item: Callable[[int], None] | None, batch_size: int) -> None:
    ledger = open_ledger(setup.cfg)
    try:
        proc = Processor(setup, ledger, summary, batch_size)
        n = 0
        for batch in _batches(stream):
            proc.prefetch(batch)
            for item in batch:
                proc.process(item)
                progress.update(summary.counts)
                if on_item is not None:
                    on_item(n)
                n += 1
        proc.flush()
    finally:
        ledger.close()


#: items read ahead and looked up in the ledger together (:meth:`Processor.prefetch`); a worker's queue batch
_BATCH = 64
#: items at most waiting in a worker's queue
_QUEUED = 256


def _batches(stream: Iterable[Item]) -> Iterator[list[Item]]:
    it = iter(stream)
    while batch := list(islice(it, _BATCH)):
        yield batch


def _worker(wid: int, setup: Setup, inq: Any, outq: Any, parent: int, batch_size: int) -> None:
    """A worker process: its own ledger connection; every version of a composition comes to the same worker."""
    summary = Summary()
    try:
        ledger = open_ledger(setup.cfg)
    except RunStopped as exc:
        outq.put(("stopped", wid, exc.issue.to_dict(), None))
        return
    proc = Processor(setup, ledger, summary, batch_size)
    last = 0.0
    try:
        while True:
            try:
                batch = inq.get(timeout=1.0)
            except _queue.Empty:
                if os.getppid() != parent:
                    return  # the parent is gone (killed): stop, the next run recovers
                continue
            if batch is None:
                break
            proc.prefetch(batch)
            for item in batch:
                proc.process(item)
            proc.flush()
            if time.monotonic() - last > 0.2:
                last = time.monotonic()
                outq.put(("progress", wid, None, _snapshot(summary)))
        outq.put(("done", wid, None, _snapshot(summary)))
    except RunStopped as exc:
        outq.put(("stopped", wid, exc.issue.to_dict(), _snapshot(summary)))
    except Exception as exc:  # noqa: BLE001 - reported by the parent without a traceback
        outq.put(("stopped", wid, Issue("DFG007", f"worker failed: {type(exc).__name__}: {exc}").to_dict(),
                  _snapshot(summary)))
    finally:
        ledger.close()


def _snapshot(s: Summary) -> dict[str, Any]:
    return {"counts": dict(s.counts), "by_registry": {k: dict(v) for k, v in s.by_registry.items()},
            "quarantine_reasons": dict(s.quarantine_reasons), "warnings": dict(s.warnings)}


def _run_parallel(setup: Setup, stream: Iterable[Item], summary: Summary, progress: Progress, n: int,
                  batch_size: int) -> None:
    ctx = mp.get_context("fork")  # the set-up (templates, mappings) is shared copy-on-write, not pickled
    inqs = [ctx.Queue(maxsize=_QUEUED // _BATCH) for _ in range(n)]
    outq = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(w, setup, inqs[w], outq, os.getpid(), batch_size), daemon=True)
             for w in range(n)]
    for p in procs:
        p.start()
    latest: dict[int, dict[str, Any]] = {}
    finished: set[int] = set()
    stopped: Issue | None = None

    def drain(block: bool) -> None:
        nonlocal stopped
        while True:
            try:
                kind, wid, issue, snap = outq.get(timeout=0.5) if block else outq.get_nowait()
            except _queue.Empty:
                return
            if snap is not None:
                latest[wid] = snap
            if kind in ("done", "stopped"):
                finished.add(wid)
            if kind == "stopped" and stopped is None and issue is not None:
                stopped = Issue(issue["code"], issue["message"], file=issue.get("file"))
            if block:
                return

    def counts() -> dict[str, int]:
        total = dict(summary.counts)
        for snap in latest.values():
            for k, v in snap["counts"].items():
                total[k] = total.get(k, 0) + v
        return total

    batches: list[list[Item]] = [[] for _ in range(n)]
    try:
        for item in stream:
            w = partition(item, n)
            batches[w].append(item)
            if len(batches[w]) >= _BATCH:
                while stopped is None:
                    try:
                        inqs[w].put(batches[w], timeout=0.2)
                        break
                    except _queue.Full:
                        drain(False)
                        if w in finished:
                            break
                batches[w] = []
                drain(False)
                progress.update(counts())
            if stopped is not None:
                break
        if stopped is None:
            for w in range(n):
                if batches[w]:
                    inqs[w].put(batches[w])
    finally:
        for w in range(n):
            if w not in finished:
                try:
                    inqs[w].put(None, timeout=5)
                except _queue.Full:
                    pass
        while len(finished) < n and any(p.is_alive() for p in procs):
            drain(True)
            progress.update(counts())
        drain(False)
        for p in procs:
            p.join(timeout=10)
    for snap in latest.values():
        summary.merge(snap)
    if stopped is not None:
        raise RunStopped(stopped)


__all__ = ["COUNTS", "DELIVERY_BATCH", "Progress", "Processor", "RunStopped", "STAGING", "Setup", "Summary", "crash_point", "prepare",
           "recover", "run", "set_crash_at", "split_uid"]
