"""Datafangst throughput: generated compositions end to end (read -> validate -> map -> render -> deliver -> ledger).

    python bench/bench_datafangst.py                 # 100,000 compositions, 1 and 2 workers, + per-step costs
    python bench/bench_datafangst.py -n 20000 --workers 2 --fsync
    TMPDIR=/dev/shm python bench/bench_datafangst.py   # outbox and ledger on tmpfs (no disk inode costs)

Compositions are the project's valid examples cloned with new uids, generated on the fly and streamed into the
run (never held in memory, never written as a feed file). Each measured run is a fresh subprocess in a fresh
folder, so its peak RSS (parent + worker processes) is its own; a smaller run is measured too, to show that memory
does not grow with the number of compositions. ``--fsync`` measures the power-loss-safe mode (default: fsync off,
which is exactly-once against killed processes; see docs/datafangst.md).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def inner(n: int, workers: int, folder: Path, fsync: bool) -> dict[str, object]:
    from openehr_kit.pipeline import load_config, run
    from openehr_kit.pipeline.sources import Item
    from openehr_kit.pipeline.synthetic import iter_ndjson, write_side_files

    write_side_files(folder, patients=1000)
    cfg_path = folder / "datafangst.yaml"
    cfg_path.write_text(cfg_path.read_text() + f"fsync: {'true' if fsync else 'false'}\n")
    (folder / "feed.ndjson").write_text("")
    cfg = load_config(cfg_path)
    items = (Item(f"gen:{i}", line, ndjson=True) for i, line in enumerate(iter_ndjson(n, patients=1000)))
    cpu0 = _cpu_seconds()
    t = time.perf_counter()
    s = run(cfg, workers=workers, items=items)
    wall = time.perf_counter() - t
    cpu = _cpu_seconds() - cpu0
    me = _own_peak_kb()
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"n": n, "workers": workers, "fsync": fsync, "seconds": round(wall, 1),
            "per_second": round(s.counts["compositions"] / wall, 1), "counts": s.counts,
            "cpu_ms_per_composition": round(cpu / max(1, s.counts["compositions"]) * 1000, 3),
            "stopped": str(s.stopped) if s.stopped else None,
            "peak_rss_mb_parent": round(me / 1024, 1), "peak_rss_mb_worker_max": round(kids / 1024, 1)}


def _own_peak_kb() -> int:
    """This process's peak RSS in kB. VmHWM belongs to the process's own memory map, while ru_maxrss can start from
    the launching process's peak (it survives exec), which would report the bench driver's size instead."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (the workers), user + system."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def steps(sample: int) -> dict[str, float]:
    """Milliseconds per composition for each step, single process, on ``sample`` generated compositions."""
    from openehr_kit.pipeline.exporter import DeliveryContext, MappingExporter, load_templates
    from openehr_kit.pipeline.synthetic import iter_ndjson
    from openehr_kit.rm.canonical_json import read_canonical_json
    from openehr_kit.textio import loads_json
    from openehr_kit.validation.validator import validate_composition

    templates = load_templates([])
    exp = MappingExporter([], templates)
    cost = {"parse_json": 0.0, "read_rm": 0.0, "validate": 0.0, "map": 0.0, "render_and_check": 0.0}
    nid = "15037212382"
    for line in iter_ndjson(sample):
        t0 = time.perf_counter()
        doc = loads_json(line)["composition"]
        t1 = time.perf_counter()
        comp = read_canonical_json(doc, root_type="COMPOSITION")
        t2 = time.perf_counter()
        tid = comp.attrs["archetype_details"].attrs["template_id"].attrs["value"]
        validate_composition(comp, templates[tid])
        t3 = time.perf_counter()
        mapped = exp.map(comp, templates[tid])
        t4 = time.perf_counter()
        for m in mapped:
            try:
                exp.render(m, DeliveryContext(nid, "Syntetisk Pasient", "N", 0, "x::y::1"))
            except Exception:  # noqa: BLE001 - an invalid clone costs the same
                pass
        t5 = time.perf_counter()
        for k, a, b in (("parse_json", t0, t1), ("read_rm", t1, t2), ("validate", t2, t3), ("map", t3, t4),
                        ("render_and_check", t4, t5)):
            cost[k] += b - a
    return {k: round(v / sample * 1000, 3) for k, v in cost.items()}


def measure(n: int, workers: int, fsync: bool) -> dict[str, object]:
    folder = Path(tempfile.mkdtemp(prefix="bench-dfg-"))
    try:
        out = subprocess.run([sys.executable, __file__, "--inner", "-n", str(n), "--workers", str(workers),
                              "--dir", str(folder)] + (["--fsync"] if fsync else []),
                             capture_output=True, text=True, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=0, help="one setting only (default: 1 and 2)")
    ap.add_argument("--fsync", action="store_true")
    ap.add_argument("--small", type=int, default=10_000, help="the smaller run for the memory comparison")
    ap.add_argument("--sample", type=int, default=1000, help="compositions for the per-step costs")
    ap.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--dir", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.inner:
        print(json.dumps(inner(a.n, max(1, a.workers), Path(a.dir), a.fsync)))
        return
    print(f"per-step cost, ms per composition (single process, {a.sample} generated):")
    for k, v in steps(a.sample).items():
        print(f"  {k:<18}{v:>8.3f}")
    for w in ([a.workers] if a.workers else [1, 2]):
        for n in ([a.small, a.n] if a.small and a.small < a.n else [a.n]):
            r = measure(n, w, a.fsync)
            print(f"n={r['n']:>7} workers={w} fsync={a.fsync}: {r['seconds']:>7.1f} s, {r['per_second']:>7.1f} "
                  f"compositions/s, CPU {r['cpu_ms_per_composition']:.3f} ms/composition (all processes), "
                  f"peak RSS parent {r['peak_rss_mb_parent']} MB, largest worker "
                  f"{r['peak_rss_mb_worker_max']} MB; delivered {r['counts']['delivered']}, withheld "
                  f"{r['counts']['withheld']}, quarantined {r['counts']['quarantined']}"
                  + (f"; STOPPED {r['stopped']}" if r["stopped"] else ""), flush=True)


if __name__ == "__main__":
    main()
