"""Report: our validator's verdicts on every row of ``shared/corpus/pairs.tsv`` against the expected ones.

Rows expected ``valid`` must give no error, rows expected ``invalid`` at least one error of the kind the test pins
(``tests/test_validate_pairs.py``), and ``unknown`` rows are counted accepted/rejected with each rejection's
reason. FLAT/STRUCTURED rows are counted as "not yet" (a later issue). Run from the project root:

    python bench/report_pairs.py            # the report
    python bench/report_pairs.py --verbose  # every issue of every rejected row
    python bench/report_pairs.py --table    # the current verdicts as a Python table (to review and pin)
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from pairs_data import RowOutcome, evaluate_all  # noqa: E402
from shared_data import SKIP_REASON, shared_root  # noqa: E402

from openehr_kit.diagnostics import Severity  # noqa: E402


def _reason(o: RowOutcome, limit: int = 2) -> str:
    assert o.result is not None
    errors = [i for i in o.result.issues if i.severity is Severity.ERROR]
    parts = [f"{i.code} {i.message}" for i in errors[:limit]]
    more = f" (+{len(errors) - limit} more)" if len(errors) > limit else ""
    return "; ".join(parts) + more


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--table", action="store_true")
    args = ap.parse_args()
    shared = shared_root()
    if shared is None:
        print(SKIP_REASON)
        return 2
    sys.path.insert(0, str(ROOT / "tests"))
    from test_validate_pairs import VERDICTS  # the pinned table

    t0 = time.perf_counter()
    outcomes = list(evaluate_all(shared))
    elapsed = time.perf_counter() - t0

    if args.table:
        for o in outcomes:
            if o.status == "checked":
                print(f"    {o.row.key!r}: ({o.error_codes!r}, {_reason(o, 1)[:110]!r}),")
        return 0

    by_status = Counter((o.status, o.row.expected) for o in outcomes)
    checked = [o for o in outcomes if o.status == "checked"]
    print(f"pairs.tsv: {len(outcomes)} rows; {len(checked)} canonical rows with an OPT checked in {elapsed:.1f}s")
    flat = sum(n for (s, _), n in by_status.items() if s == "flat")
    no_opt = [o for o in outcomes if o.status == "no-opt"]
    print(f"  FLAT/STRUCTURED rows deferred to the FLAT issue ('not yet'): {flat}")
    print(f"  canonical rows without a loadable OPT (not checked): {len(no_opt)}")
    for o in no_opt:
        print(f"      {o.row.key} (expected {o.row.expected})")

    disagreements = 0
    for expected in ("valid", "invalid", "unknown"):
        rows = [o for o in checked if o.row.expected == expected]
        print()
        if expected == "valid":
            ok = [o for o in rows if o.accepted]
            print(f"expected valid: {len(ok)}/{len(rows)} give no error")
            for o in rows:
                if not o.accepted:
                    argued = VERDICTS.get(o.row.key, (None, ""))[1]
                    print(f"  ERROR {o.row.key}: {_reason(o)}")
                    if argued:
                        print(f"        argued: {argued}")
        elif expected == "invalid":
            hits = [o for o in rows if o.error_codes and set(VERDICTS.get(o.row.key, ((),))[0]) <= set(o.error_codes)
                    and VERDICTS.get(o.row.key, ((),))[0]]
            print(f"expected invalid: {len(hits)}/{len(rows)} give an error of the pinned kind")
            for o in rows:
                pinned, why = VERDICTS.get(o.row.key, ((), ""))
                mark = "ok " if o in hits else "-- "
                print(f"  {mark}{o.row.key}: {', '.join(o.error_codes) or 'no error'}"
                      f" (pinned {', '.join(pinned) or 'none: argued'}) - {why}")
        else:
            acc = [o for o in rows if o.accepted]
            rej = [o for o in rows if not o.accepted]
            print(f"expected unknown: {len(acc)} accepted, {len(rej)} rejected")
            reasons = Counter(code for o in rej for code in o.error_codes)
            print("  rejections by code: " + ", ".join(f"{c} x{n}" for c, n in sorted(reasons.items())))
            for o in rej:
                why = VERDICTS.get(o.row.key, ((), ""))[1]
                print(f"  rejected {o.row.key}: {', '.join(o.error_codes)} - {why or _reason(o, 1)}")
                if args.verbose:
                    for i in o.result.issues if o.result else ():
                        print(f"        {i.code} {i.instance_path}: {i.message}")
        for o in rows:
            pinned = VERDICTS.get(o.row.key)
            if pinned is not None and tuple(pinned[0]) != o.error_codes:
                disagreements += 1
                print(f"  !! differs from the pinned verdict: {o.row.key}: now {o.error_codes}, pinned {pinned[0]}")
    print()
    print(f"rows whose verdict differs from the pinned table: {disagreements}")
    return 0 if disagreements == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
