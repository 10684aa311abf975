"""Kill a real datafangst process at random points, run again, and count what the outbox's consumer received.

Each cycle forks a child that runs the pipeline (templates and mappings are loaded once in the parent, so a cycle
costs milliseconds) and SIGKILLs it either after a random delay or at a random step boundary
(:func:`openehr_kit.pipeline.runner.set_crash_at`). Between cycles a consumer moves every delivered file out of
the outbox into ``received/``: a file name arriving twice is a duplicate delivery. At the end the received
messages are compared with an uninterrupted reference run (names, and bodies without the creation time): a
missing one is a loss, an extra or different one a wrong delivery. Used by tests/test_pipeline_crash.py and
bench/soak_datafangst.py.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from openehr_kit.pipeline import load_config, run
from openehr_kit.pipeline.runner import STAGING, Setup, prepare, set_crash_at
from openehr_kit.pipeline.synthetic import write_feed, write_side_files

_CREATED = re.compile(rb'("created": "[^"]*"|<ns1:TidspunktSubmit>[^<]*</ns1:TidspunktSubmit>)')


@dataclass
class CrashStats:
    cycles: int = 0
    kills: int = 0
    kills_by_time: int = 0
    kills_at_step: int = 0
    expected: int = 0
    received: int = 0
    duplicates: int = 0
    losses: int = 0
    wrong: int = 0
    leftovers: int = 0  # files still in staging or staged rows after the final run
    notes: list[str] = field(default_factory=list)


def make_workspace(folder: Path, n: int, seed: str) -> Path:
    write_side_files(folder, patients=20, reserve_every=4)
    write_feed(folder, n, patients=20, correct_every=5, delete_every=7, invalid_every=11, seed=seed)
    cfg = folder / "datafangst.yaml"
    cfg.write_text(cfg.read_text() + "fsync: false\n")
    return cfg


def _norm(data: bytes) -> bytes:
    return _CREATED.sub(b"", data)


def _consume(outbox: Path, received: Path, stats: CrashStats) -> None:
    received.mkdir(exist_ok=True)
    if not outbox.is_dir():
        return
    for f in outbox.iterdir():
        if f.name.startswith(".") or not f.is_file():
            continue
        if (received / f.name).exists():
            stats.duplicates += 1
            stats.notes.append(f"duplicate {f.name}")
            f.unlink()
            continue
        shutil.move(str(f), received / f.name)


def _child(cfg_path: Path, setup: Setup, crash_at: int) -> None:  # pragma: no cover - runs in the fork
    code = 4
    try:
        set_crash_at(crash_at)
        s = run(load_config(cfg_path), setup=setup)
        code = 0 if s.stopped is None else 5
    finally:
        os._exit(code)


def reference(folder: Path, n: int, seed: str, setup: Setup | None = None) -> tuple[dict[str, bytes], float, Setup]:
    cfg = make_workspace(folder, n, seed)
    setup = setup or prepare(load_config(cfg))
    t = time.perf_counter()
    s = run(load_config(cfg), setup=setup)
    took = time.perf_counter() - t
    assert s.stopped is None, s.stopped
    out = {p.name: _norm(p.read_bytes()) for p in (folder / "outbox").iterdir() if not p.name.startswith(".")}
    return out, took, setup


def crash_run(folder: Path, n: int, seed: str, setup: Setup, expected: dict[str, bytes], duration: float,
              kills: int, rng: random.Random, stats: CrashStats, steps: int = 400) -> None:
    """Kill runs until ``kills`` kills are spent (or a run completes on its own), then finish and check."""
    cfg = make_workspace(folder, n, seed)
    outbox, received = folder / "outbox", folder / "received"
    done = False
    spent = 0
    while not done:
        by_step = spent < kills and rng.random() < 0.5
        crash_at = rng.randint(1, steps) if by_step else 0
        delay = rng.uniform(0.0, duration * 1.2) if spent < kills and not by_step else None
        pid = os.fork()
        if pid == 0:  # pragma: no cover
            _child(cfg, setup, crash_at)
        stats.cycles += 1
        killed = False
        if delay is not None:
            end = time.perf_counter() + delay
            while time.perf_counter() < end:
                wpid, status = os.waitpid(pid, os.WNOHANG)
                if wpid:
                    break
                time.sleep(0.0005)
            else:
                os.kill(pid, signal.SIGKILL)
                _, status = os.waitpid(pid, 0)
                killed = True
            if not killed and not wpid:  # pragma: no cover - the loop always sets wpid or kills
                _, status = os.waitpid(pid, 0)
        else:
            _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status):
            killed = True
        if killed:
            spent += 1
            stats.kills += 1
            if by_step:
                stats.kills_at_step += 1
            else:
                stats.kills_by_time += 1
        elif os.WEXITSTATUS(status) != 0:
            stats.notes.append(f"run exited with {os.WEXITSTATUS(status)}")
            done = True
        else:
            done = True  # a run went through to the end: everything is delivered
        _consume(outbox, received, stats)
    # a last clean run, as an operator would after the crashes
    s = run(load_config(cfg), setup=setup)
    if s.stopped is not None:
        stats.notes.append(f"final run stopped: {s.stopped}")
    _consume(outbox, received, stats)
    got = {p.name: _norm(p.read_bytes()) for p in received.iterdir()}
    stats.expected += len(expected)
    stats.received += len(got)
    missing = set(expected) - set(got)
    extra = set(got) - set(expected)
    stats.losses += len(missing)
    stats.wrong += len(extra) + sum(1 for k in set(got) & set(expected) if got[k] != expected[k])
    stats.notes.extend(f"lost {m}" for m in sorted(missing)[:5])
    stats.notes.extend(f"extra {m}" for m in sorted(extra)[:5])
    staging = outbox / STAGING
    stats.leftovers += len(list(staging.iterdir())) if staging.is_dir() else 0
    import sqlite3

    con = sqlite3.connect(folder / "ledger.sqlite")
    stats.leftovers += con.execute("SELECT COUNT(*) FROM messages WHERE status='staged'").fetchone()[0]
    con.close()


__all__ = ["CrashStats", "crash_run", "make_workspace", "reference"]
