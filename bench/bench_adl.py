"""Benchmark of the ADL 1.4 parser over the whole shared CKM corpus, in one process.

Run from the project root: ``python bench/bench_adl.py`` (the corpus is found via ``$OPENEHR_KIT_SHARED`` or
``../shared``). Measures read+decode time, parse time, parse throughput, the parse/read ratio and peak memory.
"""

from __future__ import annotations

import gc
import resource
import sys
import time
import tracemalloc
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(PROJECT / "tests"))

from shared_data import SKIP_REASON, shared_root  # noqa: E402

from openehr_kit.am.adl import parse_adl  # noqa: E402
from openehr_kit.diagnostics import ParseError  # noqa: E402
from openehr_kit.textio import decode_text, read_bytes  # noqa: E402


def main() -> int:
    root = shared_root()
    if root is None:
        print(SKIP_REASON)
        return 0
    files = sorted((root / "corpus" / "ckm").glob("**/*.adl"))
    if not files:
        print(f"no .adl files under {root / 'corpus' / 'ckm'}")
        return 0

    # read + decode everything first so the parse timing excludes I/O
    t0 = time.perf_counter()
    texts: list[tuple[str, str]] = []
    total_bytes = 0
    for f in files:
        data = read_bytes(f)
        total_bytes += len(data)
        texts.append((str(f), decode_text(data, str(f))))
    read_s = time.perf_counter() - t0

    gc.collect()
    t1 = time.perf_counter()
    ok = failed = 0
    for name, text in texts:
        try:
            parse_adl(text, source=name)
            ok += 1
        except ParseError:
            failed += 1
    parse_s = time.perf_counter() - t1

    # a second pass under tracemalloc for the peak Python heap of one parse at a time
    tracemalloc.start()
    for name, text in texts:
        try:
            parse_adl(text, source=name)
        except ParseError:
            pass
    _, peak_parse = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    max_rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux

    mb = total_bytes / 1e6
    rows = [
        ("files", f"{len(files)} ({ok} parsed, {failed} refused)"),
        ("corpus size", f"{mb:.2f} MB"),
        ("read + decode", f"{read_s:.3f} s"),
        ("parse", f"{parse_s:.3f} s"),
        ("parse throughput", f"{mb / parse_s:.2f} MB/s"),
        ("parse / read ratio", f"{parse_s / read_s:.1f}x"),
        ("peak traced heap (parse pass)", f"{peak_parse / 1e6:.1f} MB"),
        ("peak RSS (process)", f"{max_rss_kb / 1024:.1f} MB"),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"ADL 1.4 parser benchmark over {root / 'corpus' / 'ckm'}")
    for k, v in rows:
        print(f"  {k:<{width}}  {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
