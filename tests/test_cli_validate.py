"""``openehr-kit validate`` on real compositions: text and JSON output, --templates, exit codes, the batch goes on."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "openehr_kit", "validate", *args], capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def corpus(shared: Path) -> Path:
    return shared / "corpus"


@pytest.fixture(scope="module")
def nested(corpus: Path) -> dict[str, Path]:
    comps = corpus / "compositions" / "ehrbase-integration-tests" / "nested.en.v1"
    return {
        "opt": corpus / "opt" / "ehrbase-integration-tests" / "valid_templates" / "nested" /
        "nested_same_template_id_and_uid.opt",
        "json": comps / "canonical_json" / "nested.en.v1__full_without_links.json",
        "xml": comps / "canonical_xml" / "nested.en.v1__full.xml",
        "invalid_xml": comps / "canonical_xml" / "nested.composition.extdatetimes.invalid.xml",
        "broken": comps / "canonical_json" / "nested.en.v1__invalid_wrong_structure.json",
        "flat": comps / "flat" / "nested.en.v1__full.json",
    }


def test_valid_json_and_xml_exit_0(nested: dict[str, Path]) -> None:
    r = run("--template", str(nested["opt"]), str(nested["json"]), str(nested["xml"]))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 compositions: 2 valid, 0 invalid" in r.stdout
    assert "Traceback" not in r.stderr


def test_invalid_composition_exit_1_with_readable_text(nested: dict[str, Path]) -> None:
    r = run("--template", str(nested["opt"]), str(nested["json"]), str(nested["invalid_xml"]))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "INVALID" in r.stdout
    assert "VAL006" in r.stdout and "narrative" in r.stdout
    assert "at /composition/content[1]/items[1]" in r.stdout
    assert "template /content[openEHR-EHR-SECTION.nested.v1]" in r.stdout


def test_json_output_and_unreadable_inputs_exit_2_but_batch_goes_on(nested: dict[str, Path], tmp_path: Path) -> None:
    r = run("--template", str(nested["opt"]), "--format", "json", str(nested["json"]), str(nested["broken"]),
            str(nested["flat"]), str(nested["invalid_xml"]), str(tmp_path / "missing.json"))
    assert r.returncode == 2, r.stdout + r.stderr
    report = {Path(x["path"]).name + Path(x["path"]).parent.name: x for x in json.loads(r.stdout)}
    assert len(report) == 5
    good = report[nested["json"].name + "canonical_json"]
    assert good["valid"] is True and good["template_id"] == "nested.en.v1" and good["issues"] == []
    broken = report[nested["broken"].name + "canonical_json"]
    assert broken["valid"] is False and broken["issues"][0]["code"] == "RMR001"
    flat = report[nested["flat"].name + "flat"]
    # FLAT is converted through the web template (its corpus verdicts are pinned in tests/test_flat.py)
    assert flat["template_id"] == "nested.en.v1"
    assert all(i["code"] != "RMR008" for i in flat["issues"])
    invalid = report[nested["invalid_xml"].name + "canonical_xml"]
    assert invalid["valid"] is False
    issue = invalid["issues"][0]
    for key in ("code", "severity", "message", "template_path", "instance_path"):
        assert key in issue
    assert issue["template_path"].endswith("/narrative")


def test_templates_directory_picks_by_template_id(nested: dict[str, Path], tmp_path: Path) -> None:
    shutil.copy(nested["opt"], tmp_path / "nested.opt")
    r = run("--templates", str(tmp_path), "--format", "json", str(nested["json"]))
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout)[0]["template_id"] == "nested.en.v1"


def test_unknown_template_id_with_templates_directory(corpus: Path, nested: dict[str, Path], tmp_path: Path) -> None:
    shutil.copy(nested["opt"], tmp_path / "nested.opt")
    other = (corpus / "compositions" / "ehrbase-integration-tests" / "Corona_Anamnese" / "canonical_json" /
             "corona_anamnese1.json")
    r = run("--templates", str(tmp_path), "--format", "json", str(other))
    assert r.returncode == 1
    assert json.loads(r.stdout)[0]["issues"][0]["code"] == "VAL016"


def test_template_id_mismatch_says_so(corpus: Path, nested: dict[str, Path]) -> None:
    other = corpus / "opt" / "ehrbase-openEHR_SDK" / "operationaltemplate" / "nested.en.v1.opt"
    comp = (corpus / "compositions" / "ehrbase-integration-tests" / "nested.en.tmp.v1" / "canonical_json" /
            "nested.en.tmp.v1__full_without_links.json")
    r = run("--template", str(other), str(comp))
    assert "VAL012" in r.stdout and "nested.en.tmp.v1" in r.stdout


def test_usage_errors_exit_2(nested: dict[str, Path], tmp_path: Path) -> None:
    r = run(str(nested["json"]))
    assert r.returncode == 2 and "--template" in r.stderr
    bad_opt = tmp_path / "bad.opt"
    bad_opt.write_text("<template>", encoding="utf-8")
    r = run("--template", str(bad_opt), str(nested["json"]))
    assert r.returncode == 2 and "cannot use template" in r.stderr
    assert "Traceback" not in r.stderr


def test_flat_input_is_auto_detected_and_keys_are_named(nested: dict[str, Path], tmp_path: Path) -> None:
    doc = json.loads(nested["flat"].read_text(encoding="utf-8"))
    key = next(k for k in doc if "|" in k and not k.startswith("ctx/"))
    doc[key.replace("|", "|bogus_")] = doc[key]
    bad = tmp_path / "bad.flat.json"
    bad.write_text(json.dumps(doc), encoding="utf-8")
    r = run("--template", str(nested["opt"]), "--format", "json", str(bad))
    assert r.returncode == 1, r.stdout + r.stderr
    issues = json.loads(r.stdout)[0]["issues"]
    assert any(i["code"].startswith("FLT") and "|bogus_" in i["instance_path"] for i in issues), issues
