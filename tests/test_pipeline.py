"""Datafangst: incremental exactly-once delivery, corrections, annulments, reservations, quarantine, faults, CLI."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from openehr_kit.cli.main import cli
from openehr_kit.pipeline import load_config, run
from openehr_kit.pipeline.config import ConfigError
from openehr_kit.pipeline.consent import Permissions
from openehr_kit.pipeline.demo import demo_data
from openehr_kit.pipeline.exporter import DeliveryContext, ExportedMessage, ExportFailed, Mapped, values_hash
from openehr_kit.pipeline.identity import read_identity_csv, IdentityError
from openehr_kit.pipeline.runner import STAGING, prepare
from openehr_kit.diagnostics import Issue

CONFIG = """\
version: 1
sources:
  - directory: journal/
outbox: outbox/
quarantine: quarantine/
ledger: ledger.sqlite
fsync: false
identity: {csv: identities.csv}
reservations: {csv: reservations.csv}
registries:
  Kreftregisteret: {basis: statutory}
  Norsk frakturregister: {basis: reservation}
  Barnediabetesregisteret: {basis: consent}
"""
NID_RE = re.compile(r"\b\d{11}\b")


@pytest.fixture(scope="module")
def shared_setup(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Templates and mappings loaded once (the configuration's other parts are re-read per test)."""
    d = tmp_path_factory.mktemp("setup")
    _workspace(d)
    return prepare(load_config(d / "datafangst.yaml"))


def _workspace(d: Path, rounds: tuple[str, ...] = ("round1",), config: str = CONFIG) -> Path:
    src = demo_data()
    (d / "journal").mkdir(parents=True, exist_ok=True)
    for r in rounds:
        for f in (src / r).iterdir():
            shutil.copyfile(f, d / "journal" / f.name)
    for name in ("identities.csv", "reservations.csv"):
        shutil.copyfile(src / name, d / name)
    (d / "datafangst.yaml").write_text(config, encoding="utf-8")
    return d / "datafangst.yaml"


def _run(cfg_path: Path, shared_setup, **kw):  # type: ignore[no-untyped-def]
    cfg = load_config(cfg_path)
    setup = prepare(cfg, exporter=kw.pop("exporter", None) or shared_setup.exporter,
                    templates=shared_setup.templates)
    return run(cfg, setup=setup, **kw)


def _outbox(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (d / "outbox").iterdir() if p.is_file() and not p.name.startswith(".")}


def test_rerun_delivers_nothing_new(tmp_path: Path, shared_setup) -> None:  # type: ignore[no-untyped-def]
    cfg = _workspace(tmp_path)
    s1 = _run(cfg, shared_setup)
    assert s1.stopped is None
    c = s1.counts
    assert (c["delivered"], c["withheld"], c["quarantined"]) == (4, 2, 1)
    first = _outbox(tmp_path)
    assert len(first) == 4
    s2 = _run(cfg, shared_setup)
    assert s2.counts["already_done"] == 7 and s2.counts["delivered"] == 0 and s2.counts["quarantined"] == 0
    assert _outbox(tmp_path) == first
    assert not list((tmp_path / "outbox" / STAGING).iterdir())


def test_same_version_with_changed_content_is_a_warning_not_a_resend(tmp_path: Path, shared_setup) -> None:  # type: ignore[no-untyped-def]
    from openehr_kit.cli.datafangst_cmd import summary_text

    cfg = _workspace(tmp_path)
    assert _run(cfg, shared_setup).stopped is None
    first = _outbox(tmp_path)
    # a delivered composition's file, same uid and version, with one value changed (an EHR should never do this)
    changed = 0
    for f in sorted((tmp_path / "journal").glob("*.json")):
        text = f.read_text(encoding="utf-8")
        if '"OBJECT_VERSION_ID"' in text and "2025" in text and not f.name.startswith("invalid"):
            f.write_text(text.replace("2025", "2024", 1), encoding="utf-8")
            changed += 1
            break
    assert changed == 1
    s = _run(cfg, shared_setup)
    assert s.warnings == {"DFG109": 1}
    assert s.counts["delivered"] == 0 and s.counts["corrected"] == 0 and _outbox(tmp_path) == first
    assert "DFG109 x1" in summary_text(s.to_dict())
    s = _run(cfg, shared_setup)  # still different from what was delivered: said again, still not re-sent
    assert s.warnings == {"DFG109": 1} and s.counts["delivered"] == 0


def test_withheld_message_is_delivered_once_the_reservation_is_withdrawn(tmp_path: Path, shared_setup) -> None:  # type: ignore[no-untyped-def]
    cfg = _workspace(tmp_path)
    s1 = _run(cfg, shared_setup)
    assert (s1.counts["delivered"], s1.counts["withheld"]) == (4, 2)
    first = _outbox(tmp_path)
    with (tmp_path / "reservations.csv").open("a", encoding="utf-8") as fh:
        fh.write("02118545640,Norsk frakturregister,reservation_withdrawn,2025-06-01\n")
    s2 = _run(cfg, shared_setup)
    assert (s2.counts["delivered"], s2.counts["withheld"]) == (1, 0)
    assert s2.by_registry["Norsk frakturregister"] == {"delivered": 1}
    new = {n: b for n, b in _outbox(tmp_path).items() if n not in first}
    assert len(new) == 1 and b"02118545640" in next(iter(new.values()))
    con = sqlite3.connect(tmp_path / "ledger.sqlite")
    statuses = sorted(r[0] for r in con.execute("SELECT status FROM messages"))
    con.close()
    assert statuses == ["delivered"] * 5 + ["withheld"]  # the released row replaced, the other still withheld
    s3 = _run(cfg, shared_setup)  # nothing changed since: nothing new, nothing twice
    assert s3.counts["delivered"] == 0 and s3.counts["already_done"] == 7 and len(_outbox(tmp_path)) == 5


def test_correction_and_annulment(tmp_path: Path, shared_setup) -> None:  # type: ignore[no-untyped-def]
    cfg = _workspace(tmp_path)
    _run(cfg, shared_setup)
    _workspace(tmp_path, ("round2",))
    s = _run(cfg, shared_setup)
    assert (s.counts["corrected"], s.counts["annulled"]) == (1, 1)
    docs = {n: json.loads(b) for n, b in _outbox(tmp_path).items() if n.endswith(".json")}
    kinds = sorted((d["format"], d["message_kind"], d["message_version"]) for d in docs.values())
    assert ("nfr.Fracture", "M", 1) in kinds and ("bdr.AnnualReview", "C", 1) in kinds
    corr = next(d for d in docs.values() if d["message_kind"] == "M")
    orig = next(d for d in docs.values() if d["message_id"] == corr["message_id"] and d["message_kind"] == "N")
    assert corr["data"]["skadetidspunkt"] != orig["data"]["skadetidspunkt"]
    annul = next(d for d in docs.values() if d["message_kind"] == "C")
    assert "data" not in annul
    # a third run: nothing new
    s3 = _run(cfg, shared_setup)
    assert s3.counts["corrected"] == s3.counts["annulled"] == s3.counts["delivered"] == 0


def test_kremt_correction_uses_versjon_ip(tmp_path: Path, shared_setup) -> None:  # type: ignore[no-untyped-def]
    cfg = _workspace(tmp_path)
    _run(cfg, shared_setup)
    v1 = tmp_path / "journal" / "prostate-surgery.v1.json"
    text = v1.read_text(encoding="utf-8").replace("::openehr-kit.demo::1", "::openehr-kit.demo::2")
    (tmp_path / "journal" / "prostate-surgery.v2.json").write_text(text, encoding="utf-8")
    s = _run(cfg, shared_setup)
    assert s.counts["unchanged"] == 1 and s.counts["corrected"] == 0  # same registry content: nothing sent
    doc = json.loads(text)
    doc["uid"]["value"] = doc["uid"]["value"].replace("::2", "::3")
    blob = json.dumps(doc)
    m = re.search(r'"value": "(\d{4}-\d{2}-\d{2})T', blob)
    assert m
    blob = blob.replace(m.group(1), "2025-01-02", 1)
    (tmp_path / "journal" / "prostate-surgery.v3.json").write_text(blob, encoding="utf-8")
    s = _run(cfg, shared_setup)
    xml = [n for n in _outbox(tmp_path) if n.endswith(".xml")]
    if s.counts["corrected"] == 1:
        assert any(n.endswith("-v1.xml") for n in xml)
        body = (tmp_path / "outbox" / next(n for n in xml if n.endswith("-v1.xml"))).read_text()
        assert "<ns1:VersjonIP>1</ns1:VersjonIP>" in body
    else:  # the changed date is not a registry field, or makes the message invalid: never a wrong delivery
        assert s.counts["unchanged"] + s.counts["quarantined"] >= 1


def test_permissions_latest_status_wins() -> None:
    import datetime as dt

    p = Permissions()
    nid = "15037212382"
    p.record(nid, "NFR", "reserved", dt.date(2024, 1, 1))
    assert not p.allowed(nid, "NFR", "reservation")
    p.record(nid, "NFR", "reservation_withdrawn", dt.date(2025, 1, 1))
    assert p.allowed(nid, "NFR", "reservation")
    p.record(nid, "NFR", "reserved", dt.date(2023, 1, 1))  # an older record does not win
    assert p.allowed(nid, "NFR", "reservation")
    assert not p.allowed(nid, "BDR", "consent")
    p.record(nid, "BDR", "consent", dt.date(2024, 1, 1))
    assert p.allowed(nid, "BDR", "consent")
    p.record(nid, "BDR", "consent_withdrawn", dt.date(2024, 6, 1))
    assert not p.allowed(nid, "BDR", "consent")
    assert p.allowed(nid, "KRG", "statutory")


def test_withheld_are_counted_and_no_identity_is_printed(tmp_path: Path, shared_setup) -> None:  # type: ignore[no-untyped-def]
    cfg = _workspace(tmp_path)
    s = _run(cfg, shared_setup)
    assert s.by_registry["Norsk frakturregister"]["withheld"] == 1
    assert s.by_registry["Barnediabetesregisteret"]["withheld"] == 1
    text = json.dumps(s.to_dict())
    assert not NID_RE.search(text)
    for report in (tmp_path / "quarantine").glob("*.report.json"):
        assert not NID_RE.search(report.read_text())
    con = sqlite3.connect(tmp_path / "ledger.sqlite")
    dump = "\n".join(con.iterdump())
    con.close()
    assert not NID_RE.search(dump), "the ledger must hold no national ids"


def test_reservation_table_in_ledger(tmp_path: Path, shared_setup) -> None:  # type: ignore[no-untyped-def]
    cfg = _workspace(tmp_path, config=CONFIG.replace("{csv: reservations.csv}", "{table: ledger}"))
    from openehr_kit.pipeline.ledger import Ledger

    led = Ledger(tmp_path / "ledger.sqlite")
    led.conn.execute("INSERT INTO reservations VALUES ('23081451222', 'Barnediabetesregisteret', 'consent', "
                     "'2024-01-01')")
    led.close()
    s = _run(cfg, shared_setup)
    # no reservation table rows for NFR: both fracture patients delivered; one BDR consent: one delivered
    assert s.by_registry["Norsk frakturregister"]["delivered"] == 3
    assert s.by_registry["Barnediabetesregisteret"] == {"delivered": 1, "withheld": 1}


def test_quarantine_and_run_goes_on(tmp_path: Path, shared_setup) -> None:  # type: ignore[no-untyped-def]
    cfg = _workspace(tmp_path)
    (tmp_path / "journal" / "garbage.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "journal" / "no-uid.json").write_text(
        (demo_data() / "round1" / "ankle-fracture.v1.json").read_text().replace('"uid"', '"_uid_removed"', 1)
        .replace('"_uid_removed": {', '"links": [], "x": {', 1), encoding="utf-8")
    ids = (tmp_path / "identities.csv").read_text().splitlines()
    (tmp_path / "identities.csv").write_text("\n".join(l for l in ids if "Nils Demo" not in l) + "\n")
    s = _run(cfg, shared_setup)
    assert s.stopped is None
    reasons = {json.loads(p.read_text())["reason"]["code"] for p in (tmp_path / "quarantine").glob("*.report.json")}
    assert {"DFG101", "DFG104", "DFG106"} <= reasons
    assert s.counts["delivered"] == 3  # the prostate message lacks its patient; the others went through
    # quarantined compositions are not retried until they change
    s2 = _run(cfg, shared_setup)
    assert s2.counts["quarantined"] == 0 and s2.counts["delivered"] == 0


class FailingExporter:
    """A test exporter: one message per composition; map fails for uids starting 'fa11'; cannot annul."""

    def registries(self) -> dict[str, list[str]]:
        return {"openehr-kit.fracture_registration.v0": ["Norsk frakturregister"]}

    def map(self, composition, template):  # type: ignore[no-untyped-def]
        name = composition.name_value or ""
        uid = composition.attrs["uid"].attrs["value"].split("::")[0]
        if template.template_id != "openehr-kit.fracture_registration.v0":
            return []
        if uid.startswith("fa11"):
            raise ExportFailed(Issue("DFG105", "test mapping failure"))
        values = {"name": name}
        return [Mapped("Norsk frakturregister", "t#", uid, values_hash(values), False, values)]

    def annulment(self, registry: str, message_key: str, message_id: str) -> Mapped | None:
        return None

    def render(self, mapped: Mapped, ctx: DeliveryContext) -> ExportedMessage:
        body = json.dumps({"id": mapped.message_id, "kind": ctx.kind, "v": ctx.message_version,
                           "values": mapped.values}).encode()
        return ExportedMessage(mapped.registry, mapped.message_key, mapped.message_id, ctx.kind,
                               ctx.message_version, body, "application/json",
                               f"t-{mapped.message_id}-v{ctx.message_version}.json")


def test_mapping_failure_quarantines_and_unannullable_is_counted(tmp_path: Path, shared_setup) -> None:  # type: ignore[no-untyped-def]
    cfg = _workspace(tmp_path)
    ankle = tmp_path / "journal" / "ankle-fracture.v1.json"
    doc = json.loads(ankle.read_text())
    doc["uid"]["value"] = "fa11fa11-0000-4000-8000-000000000001::openehr-kit.demo::1"
    (tmp_path / "journal" / "failing.v1.json").write_text(json.dumps(doc))
    s = _run(cfg, shared_setup, exporter=FailingExporter())
    assert s.counts["quarantined"] == 2 and s.quarantine_reasons.get("DFG105") == 1
    (tmp_path / "journal" / "ankle.deleted").write_text(json.loads(ankle.read_text())["uid"]["value"])
    s = _run(cfg, shared_setup, exporter=FailingExporter())
    assert s.counts["not_annullable"] == 1 and s.counts["annulled"] == 0


def test_read_only_outbox_stops_cleanly(tmp_path: Path, shared_setup, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    cfg = _workspace(tmp_path)
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    outbox.chmod(0o555)
    try:
        if os.access(outbox, os.W_OK):  # root ignores modes: make the file system say so instead
            import openehr_kit.fsutil as fsutil

            def refuse(*a, **k):  # type: ignore[no-untyped-def]
                raise PermissionError(errno.EACCES, "Permission denied")

            monkeypatch.setattr(fsutil.tempfile, "mkstemp", refuse)
        s = _run(cfg, shared_setup)
    finally:
        outbox.chmod(0o755)
    assert s.stopped is not None and s.stopped.code == "DFG008"
    assert "permission denied" in s.stopped.message
    assert s.counts["delivered"] == 0
    if (tmp_path / "ledger.sqlite").exists():
        con = sqlite3.connect(tmp_path / "ledger.sqlite")
        assert con.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 0
        con.close()


@pytest.mark.parametrize("batch_size", [1, 32])
def test_full_disk_stops_and_rerun_completes(tmp_path: Path, shared_setup, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                             batch_size: int) -> None:
    import openehr_kit.pipeline.runner as runner

    cfg = _workspace(tmp_path)
    real = runner._stage
    calls = {"n": 0}

    def stage(staging, name, data, durable):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] >= 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(staging, name, data, durable)

    monkeypatch.setattr(runner, "_stage", stage)
    s = _run(cfg, shared_setup, batch_size=batch_size)
    assert s.stopped is not None and s.stopped.code == "DFG008" and "disk is full" in s.stopped.message
    delivered = _outbox(tmp_path)
    # one at a time the first two messages went out before the disk filled; in one batch none of the four did
    assert len(delivered) == (2 if batch_size == 1 else 0)
    assert not list((tmp_path / "outbox" / STAGING).iterdir())
    con = sqlite3.connect(tmp_path / "ledger.sqlite")
    rows = con.execute("SELECT status, file_name FROM messages WHERE file_name IS NOT NULL").fetchall()
    con.close()
    assert sorted(r[1] for r in rows) == sorted(delivered) and {r[0] for r in rows} <= {"delivered"}
    monkeypatch.setattr(runner, "_stage", real)
    s = _run(cfg, shared_setup)
    assert s.stopped is None and len(_outbox(tmp_path)) == 4


@pytest.mark.parametrize("batch_size", [1, 32])
def test_recovery_of_a_staged_message(tmp_path: Path, shared_setup, batch_size: int) -> None:  # type: ignore[no-untyped-def]
    import openehr_kit.pipeline.runner as runner

    cfg = _workspace(tmp_path)
    runner.set_crash_at(2)  # the second step boundary: after the first batch's staged commit
    try:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child is killed by the crash point
            try:
                _run(cfg, shared_setup, batch_size=batch_size)
            finally:
                os._exit(3)
        _, status = os.waitpid(pid, 0)
    finally:
        runner.set_crash_at(0)
    assert os.WIFSIGNALED(status)
    staged = list((tmp_path / "outbox" / STAGING).iterdir())
    expected_staged = 1 if batch_size == 1 else 4  # the first composition's message, or the whole batch's
    assert len(staged) == expected_staged and not _outbox(tmp_path)
    s = _run(cfg, shared_setup)
    assert s.counts["recovered"] == expected_staged and len(_outbox(tmp_path)) == 4


def test_config_errors_are_located(tmp_path: Path) -> None:
    p = tmp_path / "datafangst.yaml"
    p.write_text("version: 1\nsources: [\n", encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(p)
    assert e.value.issues[0].code == "DFG001" and e.value.issues[0].line is not None
    p.write_text(CONFIG.replace("basis: consent", "basis: maybe").replace("fsync: false", "fsync: false\nspeed: 3"))
    with pytest.raises(ConfigError) as e:
        load_config(p)
    found = {(i.code, i.line) for i in e.value.issues}
    assert ("DFG002", 1) in found or any(i.line == 16 for i in e.value.issues)  # 'speed' (top level)
    assert any(i.line == 14 and "basis must be one of" in i.message for i in e.value.issues)
    p.write_text(CONFIG, encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(p)
    assert {i.code for i in e.value.issues} == {"DFG003"}
    assert any(i.line == 3 and "journal/" in i.message for i in e.value.issues)


def test_identity_csv_checks_ids_without_printing_them(tmp_path: Path) -> None:
    p = tmp_path / "ids.csv"
    p.write_text("composition_uid,national_id\nabc,15037212383\n")
    with pytest.raises(IdentityError) as e:
        read_identity_csv(p)
    assert e.value.issue.line == 2 and "15037212383" not in str(e.value)
    p.write_text("composition_uid,national_id\nabc::sys::4,15037212382\n")
    assert read_identity_csv(p).lookup("abc::sys::1") is not None


def test_cli_run_status_and_json(tmp_path: Path) -> None:
    cfg = _workspace(tmp_path)
    runner = CliRunner()
    r = runner.invoke(cli, ["datafangst", "run", "--config", str(cfg), "--format", "json"])
    assert r.exit_code == 1, r.output  # one composition quarantined
    data = json.loads(r.output)
    assert data["counts"]["delivered"] == 4 and not NID_RE.search(r.output)
    r = runner.invoke(cli, ["datafangst", "run", "--config", str(cfg)])
    assert r.exit_code == 0 and "already_done" in r.output
    r = runner.invoke(cli, ["datafangst", "status", "--config", str(cfg)])
    assert r.exit_code == 0 and "Norsk frakturregister" in r.output and "quarantined 1" in r.output
    r = runner.invoke(cli, ["datafangst", "run", "--config", str(tmp_path / "nope.yaml")])
    assert r.exit_code == 2


def test_two_workers_deliver_the_same(tmp_path: Path, shared_setup) -> None:  # type: ignore[no-untyped-def]
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        _workspace(d, ("round1", "round2"))
    s1 = _run(a / "datafangst.yaml", shared_setup, workers=1)
    s2 = _run(b / "datafangst.yaml", shared_setup, workers=2)
    assert s2.stopped is None
    assert sorted(_outbox(a)) == sorted(_outbox(b))
    assert s1.counts == s2.counts


def test_demo_runs_and_says_what_happened(tmp_path: Path) -> None:
    r = CliRunner().invoke(cli, ["demo", "--dir", str(tmp_path / "demo")])
    assert r.exit_code == 0, r.output
    out = r.output
    for phrase in ("new message(s) delivered", "correction(s) delivered", "annulment(s) delivered",
                   "withheld", "quarantined", "already handled earlier"):
        assert phrase in out, phrase
    assert not NID_RE.search(out)
    assert len(_outbox(tmp_path / "demo")) == 6
    r2 = CliRunner().invoke(cli, ["demo", "--dir", str(tmp_path / "demo")])  # an earlier demo is replaced
    assert r2.exit_code == 0
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "keep.txt").write_text("x")
    r3 = CliRunner().invoke(cli, ["demo", "--dir", str(tmp_path / "other")])
    assert r3.exit_code == 2 and (tmp_path / "other" / "keep.txt").exists()
