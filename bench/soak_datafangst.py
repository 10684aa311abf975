"""Exactly-once soak: kill a real datafangst process (kill -9) many times at random points, then check delivery.

    python bench/soak_datafangst.py --kills 500 [--per-scenario 5] [-n 30] [--seed 7]

Uses the same harness as tests/test_pipeline_crash.py (half the kills after a random delay, half at a random step
boundary); prints kills tried, deliveries checked, duplicates, losses and wrong deliveries (all must be zero).
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from crash_harness import CrashStats, crash_run, reference  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kills", type=int, default=500)
    ap.add_argument("--per-scenario", type=int, default=5)
    ap.add_argument("-n", type=int, default=30, help="compositions per scenario feed")
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    tmp = Path(tempfile.mkdtemp(prefix="soak-dfg-"))
    start = time.perf_counter()
    try:
        expected, took, setup = reference(tmp / "reference", a.n, "soak")
        stats = CrashStats()
        scenario = 0
        while stats.kills < a.kills:
            folder = tmp / f"s{scenario}"
            crash_run(folder, a.n, "soak", setup, expected, took, a.per_scenario, rng, stats, steps=3 * a.n)
            shutil.rmtree(folder, ignore_errors=True)
            scenario += 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{scenario} scenarios, {stats.cycles} runs, {stats.kills} kills ({stats.kills_by_time} at random times, "
          f"{stats.kills_at_step} at random step boundaries) in {time.perf_counter() - start:.0f} s")
    print(f"deliveries expected {stats.expected}, received {stats.received}: duplicates {stats.duplicates}, "
          f"losses {stats.losses}, wrong {stats.wrong}, leftovers {stats.leftovers}")
    for note in stats.notes[:20]:
        print("  " + note)
    bad = stats.duplicates or stats.losses or stats.wrong or stats.leftovers
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
