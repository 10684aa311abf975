"""Benchmark: FLAT -> canonical conversion plus validation for the largest FLAT file in the shared corpus.

Web template generation and the per-template key table are built once and reported separately (they are cached
per template in real use). Prints best-of-N times in milliseconds. Target: conversion + validation < 50 ms.

    python bench/bench_flat.py [--repeat N] [FILE TEMPLATE]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from openehr_kit.flat._index import flat_index  # noqa: E402
from openehr_kit.flat.from_canonical import composition_to_flat  # noqa: E402
from openehr_kit.flat.to_canonical import flat_to_composition  # noqa: E402
from openehr_kit.opt.loader import load_opt  # noqa: E402
from openehr_kit.webtemplate.builder import build_web_template  # noqa: E402


def largest_flat(shared: Path) -> tuple[Path, Path]:
    """The corpus FLAT file with the most keys whose template loads, and that template."""
    best: tuple[int, Path, Path] | None = None
    with open(shared / "corpus" / "pairs.tsv", encoding="utf-8") as fh:
        for row in list(csv.reader(fh, delimiter="\t"))[1:]:
            if row[2] != "flat":
                continue
            path = shared / row[1][len("shared/"):]
            try:
                n = len(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                continue
            opt = shared / row[7].split(";")[0][len("shared/"):]
            if best is None or n > best[0]:
                best = (n, path, opt)
    assert best is not None
    return best[1], best[2]


def best_of(n: int, fn) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("files", nargs="*")
    args = ap.parse_args()
    if args.files:
        flat_path, opt_path = Path(args.files[0]), Path(args.files[1])
    else:
        from shared_data import shared_root

        root = shared_root()
        if root is None:
            sys.exit("no shared corpus (../shared or $OPENEHR_KIT_SHARED)")
        flat_path, opt_path = largest_flat(root)
    template = load_opt(str(opt_path))
    flat = json.loads(flat_path.read_text(encoding="utf-8"))
    try:
        from openehr_kit.validation.validator import validate_composition
    except ImportError:
        validate_composition = None  # type: ignore[assignment]

    t0 = time.perf_counter()
    wt = build_web_template(template)
    t_wt = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    flat_index(template, wt)
    t_index = (time.perf_counter() - t0) * 1000

    comp, issues = flat_to_composition(flat, template, web_template=wt)
    t_conv = best_of(args.repeat, lambda: flat_to_composition(flat, template, web_template=wt))
    t_val = best_of(args.repeat, lambda: validate_composition(comp, template)) if validate_composition else float("nan")

    def both() -> None:
        c, _ = flat_to_composition(flat, template, web_template=wt)
        if validate_composition:
            validate_composition(c, template)

    t_both = best_of(args.repeat, both)
    t_back = best_of(args.repeat, lambda: composition_to_flat(comp, template, web_template=wt))
    print(f"file: {flat_path} ({len(flat)} keys), template {template.template_id}")
    print(f"web template generation (once per template): {t_wt:.1f} ms; key table: {t_index:.1f} ms")
    print(f"FLAT -> canonical: {t_conv:.1f} ms; validation: {t_val:.1f} ms")
    print(f"conversion + validation (best of {args.repeat}): {t_both:.1f} ms  (target < 50 ms)")
    print(f"canonical -> FLAT: {t_back:.1f} ms")


if __name__ == "__main__":
    main()
