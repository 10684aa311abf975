"""Exactly-once under kill -9: a real process killed at random moments and random step boundaries, many times.

Each scenario is a fresh workspace (an NDJSON feed with new compositions, corrections, deletions, invalid ones,
reserved patients); the process is killed several times in a row, a consumer takes delivered files between runs,
and in the end every message of an uninterrupted reference run must have been received exactly once, with the
same content. More kills: ``python bench/soak_datafangst.py --kills 500``.
"""

from __future__ import annotations

import random
from pathlib import Path

from crash_harness import CrashStats, crash_run, reference

KILLS = 40
PER_SCENARIO = 4
N = 30


def test_kill_minus_nine_at_random_points_delivers_exactly_once(tmp_path: Path) -> None:
    rng = random.Random(20261125)
    expected, took, setup = reference(tmp_path / "reference", N, "crash")
    assert len(expected) > 20
    stats = CrashStats()
    scenario = 0
    while stats.kills < KILLS:
        crash_run(tmp_path / f"s{scenario}", N, "crash", setup, expected, took, PER_SCENARIO, rng, stats,
                  steps=3 * N)
        scenario += 1
    print(f"\nexactly-once: {scenario} scenarios, {stats.cycles} runs, {stats.kills} kills "
          f"({stats.kills_by_time} at random times, {stats.kills_at_step} at random step boundaries), "
          f"{stats.expected} deliveries expected, {stats.received} received, duplicates {stats.duplicates}, "
          f"losses {stats.losses}, wrong {stats.wrong}, leftovers {stats.leftovers}")
    assert stats.duplicates == 0 and stats.losses == 0 and stats.wrong == 0 and stats.leftovers == 0, stats.notes
    assert stats.received == stats.expected
