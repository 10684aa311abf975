"""Benchmark: loading the largest OPTs of the shared corpus, against a bare ``lxml.etree.parse``.

    python3 bench/bench_opt.py [--runs N] [--shared PATH]

For each of the three largest OPTs: best-of-N time of ``lxml.etree.parse`` (the floor any loader pays), of
``load_opt`` and their ratio (target: at most 3x), then, when the web template builder is available, the time
of ``build_web_template`` on the loaded template.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from lxml import etree  # noqa: E402

from openehr_kit.opt.loader import load_opt  # noqa: E402

TARGET_RATIO = 3.0


def best_of(runs: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    """The fastest of ``runs`` calls (seconds) and the last result; best-of filters scheduler noise."""
    best, result = float("inf"), None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def largest_opts(shared: Path, n: int = 3) -> list[Path]:
    files = [p for p in (shared / "corpus" / "opt").rglob("*.opt") if "invalid_templates" not in p.parts]
    return sorted(files, key=lambda p: p.stat().st_size, reverse=True)[:n]


def web_template_builder() -> Callable[..., Any] | None:
    # ---- web template generation (added by the web template engineer) ------------------------------------
    # build_web_template(template, language=None) -> dict lives in openehr_kit.webtemplate.builder; time it
    # when it is importable, so this benchmark covers OPT -> web template end to end.
    try:
        from openehr_kit.webtemplate.builder import build_web_template
    except ImportError:
        return None
    return build_web_template  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--shared", type=Path, default=None)
    args = ap.parse_args(argv)
    if args.shared is None:
        from shared_data import SKIP_REASON, shared_root

        shared = shared_root()
        if shared is None:
            print(SKIP_REASON)
            return 2
    else:
        shared = args.shared

    build = web_template_builder()
    print(f"best of {args.runs} runs; target load/parse <= {TARGET_RATIO:.1f}x")
    header = f"{'file':48} {'size KB':>8} {'parse ms':>9} {'load ms':>8} {'ratio':>6}"
    print(header + (f" {'webtmpl ms':>10}" if build else "  (web template builder not available)"))
    worst = 0.0
    for path in largest_opts(shared):
        t_parse, _ = best_of(args.runs, lambda p=path: etree.parse(str(p)))
        t_load, template = best_of(args.runs, lambda p=path: load_opt(p))
        ratio = t_load / t_parse
        worst = max(worst, ratio)
        line = (f"{path.name[:48]:48} {path.stat().st_size / 1024:8.0f} {t_parse * 1000:9.1f} "
                f"{t_load * 1000:8.1f} {ratio:6.2f}")
        if build is not None:
            try:
                t_wt, _ = best_of(max(3, args.runs // 3), lambda t=template: build(t))
                line += f" {t_wt * 1000:10.1f}"
            except Exception as exc:  # noqa: BLE001 - a builder bug must not hide the load figures
                line += f" {'error: ' + type(exc).__name__:>10}"
        print(line)
    print(f"worst ratio {worst:.2f}x ({'OK' if worst <= TARGET_RATIO else 'over target'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
