"""The ``openehr-kit archetype`` commands: output formats, exit codes, batches that go on past bad files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

GOOD = """archetype (adl_version=1.4)
\topenEHR-EHR-OBSERVATION.cli_probe.v0

concept
\t[at0000]\t-- Probe
language
\toriginal_language = <[ISO_639-1::nb]>
description
\toriginal_author = <
\t\t["name"] = <"openehr-kit">
\t>
\tlifecycle_state = <"in_development">
\tdetails = <
\t\t["nb"] = <
\t\t\tlanguage = <[ISO_639-1::nb]>
\t\t\tpurpose = <"Test">
\t\t>
\t>
definition
\tOBSERVATION[at0000] matches {\t-- Probe
\t\tdata matches {
\t\t\tHISTORY[at0001] matches {
\t\t\t\tevents cardinality matches {1..*; unordered} matches {
\t\t\t\t\tEVENT[at0002] occurrences matches {0..*} matches {
\t\t\t\t\t\tdata matches {
\t\t\t\t\t\t\tITEM_TREE[at0003] matches {
\t\t\t\t\t\t\t\titems cardinality matches {0..*; unordered} matches {
\t\t\t\t\t\t\t\t\tELEMENT[at0004] occurrences matches {0..1} matches {\t-- Verdi
\t\t\t\t\t\t\t\t\t\tvalue matches {
\t\t\t\t\t\t\t\t\t\t\tDV_COUNT matches {
\t\t\t\t\t\t\t\t\t\t\t\tmagnitude matches {|0..100|}
\t\t\t\t\t\t\t\t\t\t\t}
\t\t\t\t\t\t\t\t\t\t}
\t\t\t\t\t\t\t\t\t}
\t\t\t\t\t\t\t\t}
\t\t\t\t\t\t\t}
\t\t\t\t\t\t}
\t\t\t\t\t}
\t\t\t\t}
\t\t\t}
\t\t}
\t}
ontology
\tterm_definitions = <
\t\t["nb"] = <
\t\t\titems = <
\t\t\t\t["at0000"] = <text = <"Probe"> description = <"Probe">>
\t\t\t\t["at0001"] = <text = <"Historikk"> description = <"*">>
\t\t\t\t["at0002"] = <text = <"Hendelse"> description = <"*">>
\t\t\t\t["at0003"] = <text = <"Tre"> description = <"*">>
\t\t\t\t["at0004"] = <text = <"Verdi"> description = <"*">>
\t\t\t>
\t\t>
\t>
"""


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "openehr_kit", *args], capture_output=True, text=True, timeout=120
    )


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    good = tmp_path / "arch" / "openEHR-EHR-OBSERVATION.cli_probe.v0.adl"
    good.parent.mkdir()
    good.write_text(GOOD, encoding="utf-8")
    broken = tmp_path / "arch" / "sub" / "openEHR-EHR-OBSERVATION.broken.v0.adl"
    broken.parent.mkdir()
    broken.write_text(GOOD.replace("\t\t\t\t\t\t\t\t\t\t\tDV_COUNT matches {", "\t\t\tDV_COUNT matches {{", 1))
    missing_term = tmp_path / "missing_term.adl"
    missing_term.write_text(GOOD.replace('\t\t\t\t["at0004"] = <text = <"Verdi"> description = <"*">>\n', ""))
    return {"good": good, "broken": broken, "dir": tmp_path / "arch", "missing_term": missing_term}


def test_good_archetype_passes(files: dict[str, Path]) -> None:
    r = run("archetype", "check", str(files["good"]))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 of 1 archetypes ok" in r.stdout


def test_directory_batch_goes_on_and_reports_json(files: dict[str, Path]) -> None:
    r = run("archetype", "check", "--format", "json", str(files["dir"]))
    assert r.returncode == 1
    report = json.loads(r.stdout)
    by_name = {Path(x["path"]).name: x for x in report}
    assert by_name["openEHR-EHR-OBSERVATION.cli_probe.v0.adl"]["ok"] is True
    bad = by_name["openEHR-EHR-OBSERVATION.broken.v0.adl"]
    assert bad["ok"] is False
    issue = bad["issues"][0]
    assert issue["severity"] == "error" and issue["line"] and issue["column"]
    assert set(issue) >= {"code", "severity", "message", "line", "column"}
    assert "Traceback" not in r.stderr


def test_semantic_finding_fails_the_file(files: dict[str, Path]) -> None:
    r = run("archetype", "check", "--format", "json", str(files["missing_term"]))
    assert r.returncode == 1
    codes = [i["code"] for i in json.loads(r.stdout)[0]["issues"]]
    assert "ARC001" in codes


def test_missing_path_is_exit_2_and_others_still_checked(files: dict[str, Path], tmp_path: Path) -> None:
    r = run("archetype", "check", str(tmp_path / "nope.adl"), str(files["good"]))
    assert r.returncode == 2
    assert "1 of 2 archetypes ok" in r.stdout


def test_usage_error_is_exit_2() -> None:
    r = run("archetype", "check")
    assert r.returncode == 2
    r = run("archetype", "frobnicate")
    assert r.returncode == 2


def test_paths_lists_nodes_with_terms(files: dict[str, Path]) -> None:
    r = run("archetype", "paths", str(files["good"]), "--lang", "nb")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split("\t")[:2] == ["/", "OBSERVATION"]
    row = next(line for line in lines if line.startswith("/data[at0001]/events[at0002]/data[at0003]/items[at0004]\t"))
    assert row.split("\t")[1:] == ["ELEMENT", "0..1", "Verdi"]
