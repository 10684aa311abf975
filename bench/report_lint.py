"""Lint report over the shared corpus: findings per rule, run time, and ten findings to check by hand.

    python bench/report_lint.py [SHARED_ROOT] [--sample N]

Lints ``corpus/ckm``, ``corpus/adl-other`` and ``corpus/opt`` in one run (so slot patterns and specialisation
parents are looked up across all three), with the default configuration. The sample takes one finding per code
first (lint's own LNT codes and TPL008 before the reused checks), then a second per code, in file order.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from openehr_kit.diagnostics import REGISTRY  # noqa: E402
from openehr_kit.lint import LintConfig, lint_paths  # noqa: E402
from openehr_kit.lint.engine import severity_counts  # noqa: E402
from shared_data import shared_root  # noqa: E402


def main(argv: list[str]) -> int:
    sample = 10
    if "--sample" in argv:
        i = argv.index("--sample")
        sample = int(argv[i + 1])
        argv = argv[:i] + argv[i + 2:]
    root = Path(argv[0]) if argv else shared_root()
    if root is None:
        print("shared corpus not found")
        return 2
    corpus = root / "corpus"
    paths = [corpus / "ckm", corpus / "adl-other", corpus / "opt"]
    report = lint_paths(paths, LintConfig())
    kinds: dict[str, int] = {}
    for f in report.files:
        kinds[f.kind] = kinds.get(f.kind, 0) + 1
    print(f"# openehr-kit lint over {', '.join(str(p.relative_to(root)) for p in paths)}\n")
    print(f"files: {len(report.files)} ({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))}); "
          f"run time {report.seconds:.1f} s; files with findings {sum(1 for f in report.files if f.issues)}")
    sev = severity_counts(report.findings)
    print(f"findings: {len(report.findings)} ({sev['error']} error, {sev['warning']} warning, {sev['info']} info)\n")
    print("| code | severity | findings | files | summary |")
    print("| --- | --- | ---: | ---: | --- |")
    for code, n in report.counts().items():
        files = len({i.file for i in report.findings if i.code == code})
        info = REGISTRY[code]
        print(f"| {code} | {info.severity.value} | {n} | {files} | {info.summary} |")
    print(f"\n## {sample} findings to check by hand\n")
    picked = []
    by_code: dict[str, list] = {}
    for i in report.findings:
        by_code.setdefault(i.code, []).append(i)
    # lint's own rules first: the reused checks (parsing, OPT, compiling) have their own corpus reports
    order = sorted(by_code, key=lambda c: (not c.startswith("LNT") and c != "TPL008", c))
    for rank in (0, 1):
        for code in order:
            if len(picked) < sample and len(by_code[code]) > rank:
                picked.append(by_code[code][rank])
    for n, i in enumerate(picked, 1):
        where = i.file or ""
        try:
            where = str(Path(where).resolve().relative_to(root.resolve()))
        except ValueError:
            pass
        if i.line is not None:
            where += f":{i.line}" + (f":{i.column}" if i.column is not None else "")
        print(f"{n}. {i.code} {where}\n   {i.message}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
