"""The ``openehr-kit template`` and ``webtemplate`` commands on real templates: formats, exit codes, atomic -o."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "openehr_kit", *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def opt_dir(shared: Path) -> Path:
    return shared / "corpus" / "opt" / "ehrbase-integration-tests"


def test_check_valid_and_invalid_templates_in_one_batch(opt_dir: Path) -> None:
    good = opt_dir / "valid_templates" / "minimal" / "minimal_action.opt"
    bad = opt_dir / "invalid_templates" / "removed_mandatory_elements" / "minimal_action_removed_concept.opt"
    r = run("template", "check", "--format", "json", str(good), str(bad))
    assert r.returncode == 1, r.stderr
    report = {Path(x["path"]).name: x for x in json.loads(r.stdout)}
    assert report["minimal_action.opt"]["ok"] is True
    assert report["minimal_action.opt"]["template_id"]
    bad_report = report["minimal_action_removed_concept.opt"]
    assert bad_report["ok"] is False
    assert any(i["code"] == "OPT002" and "concept" in i["message"] for i in bad_report["issues"])


def test_check_directory_text_summary(opt_dir: Path) -> None:
    r = run("template", "check", "--errors-only", str(opt_dir / "invalid_templates"))
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    assert lines[-1].endswith("failing") and lines[-1].startswith("0 of ")
    assert all(line.startswith("FAIL ") for line in lines[:-1])


def test_missing_file_is_exit_2(tmp_path: Path) -> None:
    r = run("template", "check", str(tmp_path / "none.opt"))
    assert r.returncode == 2
    assert "Traceback" not in r.stderr


def test_show_prints_indented_tree(opt_dir: Path) -> None:
    r = run("template", "show", str(opt_dir / "valid_templates" / "minimal" / "minimal_action.opt"))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "COMPOSITION" in lines[0]
    action = next(line for line in lines if "openEHR-EHR-ACTION" in line)
    assert action.startswith("  ") and "ACTION" in action


def test_show_of_broken_template_is_exit_1(opt_dir: Path) -> None:
    bad = opt_dir / "invalid_templates" / "alien_tags" / "minimal_action.opt"
    r = run("template", "show", str(bad))
    assert r.returncode == 1
    assert "OPT004" in r.stderr and "Traceback" not in r.stderr


def test_webtemplate_written_atomically(opt_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "wt" / "minimal_action.json"
    r = run("webtemplate", str(opt_dir / "valid_templates" / "minimal" / "minimal_action.opt"), "-o", str(out))
    assert r.returncode == 0, r.stderr
    wt = json.loads(out.read_text())
    assert wt["templateId"] and wt["tree"]["rmType"] == "COMPOSITION"
    assert sorted(p.name for p in out.parent.iterdir()) == ["minimal_action.json"]
