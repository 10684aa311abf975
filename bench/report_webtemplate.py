"""Report: our web templates against the EHRbase-generated ones in the shared corpus, node by node.

Prints the identical-node share per template and overall, then every remaining difference grouped by kind, each
with the argument we hold for it (EHRbase wrong by the spec, a different OPT revision, an older generator's
convention, or our own bug). Run from the project root: ``python bench/report_webtemplate.py [--superseded]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from shared_data import SKIP_REASON, shared_root  # noqa: E402
from test_webtemplate import corpus_pairs, follows_optional_in_context  # noqa: E402

from openehr_kit.opt.loader import load_opt  # noqa: E402
from openehr_kit.webtemplate.builder import build_web_template  # noqa: E402
from openehr_kit.webtemplate.compare import ComparisonResult, Difference, compare_web_templates  # noqa: E402

# ---------------------------------------------------------------------------------------------------------------
# What we hold about each kind of remaining difference. A rule sees (template id, reference file, difference).

Rule = Callable[[str, Path, Difference], bool]


def _duration_without_minute(tid: str, ref: Path, d: Difference) -> bool:
    if d.kind != "inputs" or d.rm_type != "DV_DURATION":
        return False
    ours = {s for s, _, _ in d.ours}
    theirs = {s for s, _, _ in d.theirs}
    return ours - theirs == {"minute"} and "hour" in theirs and "second" in theirs


def _repeated_states(tid: str, ref: Path, d: Difference) -> bool:
    if d.kind != "codes" or not d.path.endswith("/ism_transition/current_state"):
        return False
    theirs = d.theirs[0][2]
    return len(set(theirs)) < len(theirs) and set(theirs) == set(d.ours[0][2])


def _gecco_revision(tid: str, ref: Path, d: Difference) -> bool:
    return tid == "GECCO_Serologischer Befund" and "integration-tests" in str(ref)


def _text_first_choice(tid: str, ref: Path, d: Difference) -> bool:
    return d.kind in ("missing", "extra") and d.rm_type in ("DV_TEXT", "DV_CODED_TEXT") and d.path.endswith("/value")


def _older_generator(tid: str, ref: Path, d: Difference) -> bool:
    return "ehrbase-openEHR_SDK" in str(ref)


EXPLANATIONS: list[tuple[str, Rule, str]] = [
    (
        "EHRbase wrong by the spec: DV_DURATION pattern PTHMS without minutes",
        _duration_without_minute,
        "The C_DURATION pattern PTHMS allows hours, minutes and seconds (ISO 8601: after 'T', 'M' is minutes; "
        "AOM 1.4 C_DURATION.pattern). EHRbase offers only hour and second inputs, so a form cannot enter 'PT30M' "
        "although the archetype allows it. We offer hour, minute and second.",
    ),
    (
        "EHRbase wrong: repeated codes in ism_transition/current_state",
        _repeated_states,
        "EHRbase lists a current state once per careflow step that leads to it, so a state reached by two steps "
        "appears twice. The input list is the set of allowed DV_CODED_TEXT values (openEHR terminology 'instruction "
        "states'); a value set has no duplicates. Same codes otherwise.",
    ),
    (
        "Reference built from another revision of the OPT (GECCO_Serologischer Befund)",
        _gecco_revision,
        "The integration-test reference was generated from a newer GECCO_Serologischer Befund OPT than the one in "
        "the corpus: its texts differ (reference 'Analyt-Ergebnisses', corpus OPT 'Analyt-Resultats'), its "
        "content OBSERVATION occurs 1..1 (corpus OPT: 0..*), and Virusnachweistest binds a FHIR value set where "
        "the corpus OPT lists LOINC codes. Against the SDK's reference for this very OPT we agree 61/61.",
    ),
    (
        "Older EHRbase SDK: DV_TEXT|DV_CODED_TEXT choice typed DV_TEXT",
        _text_first_choice,
        "When an ELEMENT allows DV_TEXT and DV_CODED_TEXT (text listed first), the older SDK typed the merged node "
        "DV_TEXT with a code-less 'TEXT, listOpen' input. Such a node cannot carry a code; DV_CODED_TEXT is the "
        "subtype admitting both, and current EHRbase types the merged node DV_CODED_TEXT (as in the IPS "
        "reference, e.g. Severity). We follow current EHRbase.",
    ),
    (
        "Superseded reference (older EHRbase SDK test data, same OPT as a newer reference)",
        _older_generator,
        "Older SDK output: choice ids 'interval_of_quantity_value' (now 'interval<dv_quantity>_value'), choice "
        "children min 0 (now 1: the chosen type is there when the ELEMENT is), no ACTION/instruction_details nodes, "
        "and an invalid path '.../items[at0001]/Analyte result' for the analyte's value choices (must end in "
        "'/value'). Current EHRbase (integration-test references) agrees with us on all of these.",
    ),
]


def explain(tid: str, ref: Path, d: Difference) -> str:
    for title, rule, _ in EXPLANATIONS:
        if rule(tid, ref, d):
            return title
    return "UNEXPLAINED (our bug until argued otherwise)"


# ---------------------------------------------------------------------------------------------------------------


def build_and_compare(ref: Path, opt: Path) -> tuple[ComparisonResult, float]:
    theirs = json.loads(ref.read_text(encoding="utf-8"))
    template = load_opt(opt)
    start = time.perf_counter()
    ours = build_web_template(template, theirs["defaultLanguage"],
                              optional_in_context=follows_optional_in_context(theirs))
    elapsed = time.perf_counter() - start
    return compare_web_templates(ours, theirs), elapsed


def largest_build_time(shared: Path) -> tuple[str, float]:
    opts = [p for p in (shared / "corpus" / "opt").rglob("*.opt") if "invalid_templates" not in p.parts]
    largest = max(opts, key=lambda p: p.stat().st_size)
    template = load_opt(largest)
    best = float("inf")
    for _ in range(10):
        start = time.perf_counter()
        build_web_template(template)
        best = min(best, time.perf_counter() - start)
    return f"{largest.name} ({largest.stat().st_size / 1e6:.1f} MB)", best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--superseded", action="store_true", help="also list differences against superseded refs")
    args = parser.parse_args(argv)
    shared = shared_root()
    if shared is None:
        print(SKIP_REASON)
        return 2
    pairs = corpus_pairs(shared)
    totals = {False: [0, 0], True: [0, 0]}
    grouped: dict[str, list[tuple[str, Difference]]] = defaultdict(list)
    print("Web templates: ours against EHRbase's, node by node (identical = id, aqlPath, rmType, min, max, inputs)\n")
    for ref, opt, superseded in pairs:
        result, elapsed = build_and_compare(ref, opt)
        totals[superseded][0] += result.identical
        totals[superseded][1] += result.compared
        tag = " (superseded)" if superseded else ""
        convention = " [optional in-context]" if follows_optional_in_context(json.loads(ref.read_text("utf-8"))) else ""
        print(f"  {result.share:7.2%}  {result.identical:4}/{result.compared:<4} {result.template_id}{tag}{convention}"
              f"  <- {ref.relative_to(shared)}  ({elapsed * 1000:.1f} ms)")
        if superseded and not args.superseded:
            continue
        for d in result.differences:
            grouped[explain(result.template_id, ref, d)].append((f"{result.template_id}{tag}", d))
    current, old = totals[False], totals[True]
    print(f"\nOverall (one reference per OPT, newest): {current[0]}/{current[1]} = {current[0] / current[1]:.2%}")
    if old[1]:
        both = (current[0] + old[0], current[1] + old[1])
        print(f"Superseded references alone: {old[0]}/{old[1]} = {old[0] / old[1]:.2%}; "
              f"all references: {both[0]}/{both[1]} = {both[0] / both[1]:.2%}")
    name, best = largest_build_time(shared)
    print(f"Build time of the largest OPT, {name}: {best * 1000:.1f} ms (best of 10, loading excluded)\n")

    arguments = {title: text for title, _, text in EXPLANATIONS}
    for title, diffs in sorted(grouped.items(), key=lambda kv: (kv[0].startswith("UNEXPLAINED"), kv[0])):
        print(f"== {title}: {len(diffs)} difference(s)")
        if title in arguments:
            print(f"   Why: {arguments[title]}")
        for tid, d in diffs:
            print(f"   - [{tid}] {d}")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
