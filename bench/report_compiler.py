"""Template compiler report: the differential check against reference OPTs, and the CKM .oet compile results.

    python bench/report_compiler.py [SHARED_ROOT]

For every .oet under corpus/opt/ with a reference .opt beside it (same uid as the OET id, else same template id /
concept as the OET name), the OET is compiled against every archetype in the corpus (adl-other/ and ckm/) and its
constraint tree compared with the reference's. Then every .oet under corpus/ckm/ is compiled against corpus/ckm/.
"""

from __future__ import annotations

import collections
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from openehr_kit.compiler import compile_with_issues  # noqa: E402
from openehr_kit.compiler.diff_check import diff_pair, find_reference_opts  # noqa: E402
from openehr_kit.compiler.flatten import ArchetypeRepository  # noqa: E402
from openehr_kit.compiler.oet import load_oet  # noqa: E402
from shared_data import shared_root  # noqa: E402


def main() -> int:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else shared_root()
    if root is None:
        print("shared corpus not found")
        return 2
    corpus = root / "corpus"
    repo = ArchetypeRepository.of([corpus / "adl-other", corpus / "ckm"])
    print("## Differential check (corpus/opt)\n")
    for oet_path in sorted((corpus / "opt").rglob("*.oet")):
        oet = load_oet(oet_path)
        refs = find_reference_opts(oet, oet_path.parent)
        rel = oet_path.relative_to(corpus)
        if not refs:
            print(f"- {rel}: no reference OPT beside it (no uid {oet.id} / name {oet.name!r})")
            continue
        for opt_path, basis in refs:
            r = diff_pair(oet_path, opt_path, repo)
            print(f"- {rel} <-> {opt_path.name} ({basis}): {r.verdict}; {r.nodes_compared} nodes compared")
            for path, why in r.not_compared:
                print(f"    not compared: {path}: {why}")
            for i in r.issues:
                print(f"    issue: {i.code} {i.message}")
            for d in r.differences:
                print(f"    diff: {d}")
    print("\n## CKM .oet compile (against corpus/ckm)\n")
    ckm = ArchetypeRepository.of([corpus / "ckm"])
    ok = 0
    files = sorted((corpus / "ckm").rglob("*.oet"))
    reasons: collections.Counter[str] = collections.Counter()
    for f in files:
        t0 = time.perf_counter()
        res = compile_with_issues(f, ckm, strict=True)
        dt = time.perf_counter() - t0
        if res.template is not None and not res.errors:
            ok += 1
            print(f"- OK {f.name} ({dt * 1000:.0f} ms)")
        else:
            first = res.errors[0]
            reasons[first.code] += 1
            print(f"- FAIL {f.name}: {first.code} {first.message}")
    print(f"\n{ok} of {len(files)} CKM .oet compile; failures by first error: {dict(reasons)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
