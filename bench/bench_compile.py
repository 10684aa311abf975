"""Compile time of the CKM template sources (target: the largest under 1 s).

    python bench/bench_compile.py [SHARED_ROOT]

For every .oet under corpus/ckm: the lenient compile (missing archetypes leave their slots open, so every
source compiles as far as the shared corpus allows), cold (archetypes parsed on first use, a fresh repository per
source) and warm (repository cache filled), plus writing the OPT XML. The largest source by size and the one
giving the largest template are called out.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from openehr_kit.compiler import compile_with_issues, write_opt  # noqa: E402
from openehr_kit.compiler.flatten import ArchetypeRepository  # noqa: E402
from shared_data import shared_root  # noqa: E402


def best_of(n: int, fn) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> int:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else shared_root()
    if root is None:
        print("shared corpus not found")
        return 2
    ckm = root / "corpus" / "ckm"
    files = sorted(ckm.rglob("*.oet"), key=lambda p: p.stat().st_size, reverse=True)
    rows = []
    for f in files:
        cold = best_of(1, lambda: compile_with_issues(f, ArchetypeRepository.of([ckm])))
        repo = ArchetypeRepository.of([ckm])
        res = compile_with_issues(f, repo)
        warm = best_of(3, lambda: compile_with_issues(f, repo))
        nodes = sum(1 for _ in res.template.iter_nodes()) if res.template else 0
        write = best_of(3, lambda: write_opt(res.template)) if res.template else 0.0
        size = len(write_opt(res.template)) if res.template else 0
        rows.append((f, cold, warm, write, nodes, size, len(res.errors)))
    print(f"{'source':60} {'kB':>6} {'cold ms':>8} {'warm ms':>8} {'write ms':>8} {'nodes':>6} {'OPT kB':>7} errors")
    for f, cold, warm, write, nodes, size, errs in rows:
        print(f"{f.name[:60]:60} {f.stat().st_size / 1024:6.0f} {cold * 1000:8.1f} {warm * 1000:8.1f} "
              f"{write * 1000:8.1f} {nodes:6} {size / 1024:7.0f} {errs}")
    largest = rows[0]
    biggest = max(rows, key=lambda r: r[4])
    print(f"\nlargest source: {largest[0].name} ({largest[0].stat().st_size / 1024:.0f} kB): "
          f"cold {largest[1] * 1000:.0f} ms + write {largest[3] * 1000:.0f} ms")
    print(f"largest template: {biggest[0].name} ({biggest[4]} nodes, {biggest[5] / 1024:.0f} kB OPT): "
          f"cold {biggest[1] * 1000:.0f} ms, warm {biggest[2] * 1000:.0f} ms, write {biggest[3] * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
