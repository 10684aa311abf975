"""Benchmark: validating compositions against their templates, as a ratio to ``json.loads`` of the same text.

For a small, a medium and a large canonical JSON composition of the shared corpus (each with its own template)
it measures, in the same run: ``json.loads`` of the text, reading (text -> RMObject tree, json.loads included),
and validation alone (the tree against the template, parse excluded), giving validation / json.loads and
compositions per second. Then it validates a stream of 10,000 compositions (re-read from text each time, one
template) and reports the tracemalloc peak after 1,000 and after 10,000, which must stay flat.

Run from the project root: ``python bench/bench_validate.py [--stream N]``. Target: validation <= 2x json.loads.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from shared_data import SKIP_REASON, shared_root  # noqa: E402

from openehr_kit.opt.loader import load_opt  # noqa: E402
from openehr_kit.rm.canonical_json import read_json_composition  # noqa: E402
from openehr_kit.validation.validator import MISSING_CHECKERS, validate_composition  # noqa: E402

# (label, composition, template) below shared/corpus; all three are expected-valid rows of pairs.tsv
CASES = [
    ("small", "compositions/ehrbase-openEHR_SDK/Corona_Anamnese/canonical_json/compo_corona.json",
     "opt/ehrbase-openEHR_SDK/operationaltemplate/corona_anamnese.opt"),
    ("medium", "compositions/ehrbase-integration-tests/conformance-ehrbase.de.v0/canonical_json/"
     "conformance_ehrbase.de.v0_max.json", "opt/ehrbase-openEHR_SDK/operationaltemplate/conformance_ehrbase.de.v0.opt"),
    ("large", "compositions/ehrbase-openEHR_SDK/International_Patient_Summary/canonical_json/ips_canonical.json",
     "opt/ehrbase-openEHR_SDK/operationaltemplate/ips.v0.opt"),
]


def per_call(fn: Callable[[], object], min_time: float = 0.4, repeats: int = 5) -> float:
    """Median seconds per call over ``repeats`` batches that each run at least ``min_time``."""
    fn()
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        if time.perf_counter() - t0 >= min_time / repeats:
            break
        n *= 2
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        samples.append((time.perf_counter() - t0) / n)
    return statistics.median(samples)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--stream", type=int, default=10_000, help="compositions in the memory stream")
    args = ap.parse_args()
    shared = shared_root()
    if shared is None:
        print(SKIP_REASON)
        return 2
    if MISSING_CHECKERS:
        print(f"note: checkers missing (validation is incomplete): {', '.join(MISSING_CHECKERS)}")

    print(f"{'case':7} {'KB':>6} {'objects':>7} {'json.loads':>11} {'read':>9} {'validate':>9} "
          f"{'val/json':>8} {'read/json':>9} {'comp/s val':>10} {'comp/s read+val':>15} issues")
    stream_case = None
    for label, comp_rel, opt_rel in CASES:
        text = (shared / "corpus" / comp_rel).read_text(encoding="utf-8")
        template = load_opt(shared / "corpus" / opt_rel)
        comp = read_json_composition(text)
        issues = validate_composition(comp, template)
        objects = sum(1 for _ in comp.walk())
        t_json = per_call(lambda: json.loads(text))
        t_read = per_call(lambda: read_json_composition(text))
        t_val = per_call(lambda: validate_composition(comp, template))
        print(f"{label:7} {len(text) / 1024:6.1f} {objects:7d} {t_json * 1e3:9.3f}ms {t_read * 1e3:7.3f}ms "
              f"{t_val * 1e3:7.3f}ms {t_val / t_json:8.2f} {t_read / t_json:9.2f} {1 / t_val:10.0f} "
              f"{1 / (t_read + t_val):15.0f} {len(issues)}")
        if label == "medium":
            stream_case = (text, template)

    assert stream_case is not None
    text, template = stream_case
    print(f"\nstream: {args.stream} compositions (medium case, re-read from text each time, one template)")
    gc.collect()
    tracemalloc.start()
    peaks: dict[int, int] = {}
    t0 = time.perf_counter()
    for i in range(1, args.stream + 1):
        validate_composition(read_json_composition(text), template)
        if i in (1_000, args.stream):
            peaks[i] = tracemalloc.get_traced_memory()[1]
    elapsed = time.perf_counter() - t0
    tracemalloc.stop()
    for n, peak in sorted(peaks.items()):
        print(f"  tracemalloc peak after {n:6d}: {peak / 1024:8.1f} KiB")
    if len(peaks) == 2:
        a, b = peaks[1_000], peaks[args.stream]
        print(f"  growth from 1k to {args.stream}: {(b - a) / 1024:+.1f} KiB ({'flat' if b <= a * 1.05 + 65536 else 'GROWING'})")
    print(f"  {args.stream / elapsed:.0f} compositions/s read+validate under tracemalloc")
    return 0


if __name__ == "__main__":
    sys.exit(main())
