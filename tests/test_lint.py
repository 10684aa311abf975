"""``openehr-kit lint``: every rule on a planted violation and on the clean original, selection, configuration,
suppressions, the output formats (SARIF checked against the SARIF 2.1.0 schema) and exit codes."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from lint_data import DEMO_ADL, DEMO_ID, child_adl, write
from openehr_kit.cli.main import cli
from openehr_kit.diagnostics import REGISTRY, Severity
from openehr_kit.lint import LintConfig, lint_paths
from openehr_kit.lint.codesyntax import (
    code_system,
    icd10_problem,
    icdo3_problem,
    ncsp_problem,
    sctid_problem,
    verhoeff_digit,
)
from openehr_kit.lint.config import load_config
from openehr_kit.lint.output import render_github, render_json, render_sarif, render_text
from openehr_kit.lint.rules import RULES, docs_path, render_markdown

ROOT = Path(__file__).resolve().parent.parent
NB_EN = LintConfig(required_languages=("nb", "en"))


def _lint_demo(tmp_path: Path, text: str = DEMO_ADL, config: LintConfig = NB_EN, extra: dict[str, str] | None = None):
    write(tmp_path / f"{DEMO_ID}.adl", text)
    for name, body in (extra or {}).items():
        write(tmp_path / name, body)
    return lint_paths([tmp_path], config)


def _codes(report) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(i.code for i in report.findings)


def _edit(old: str, new: str, text: str = DEMO_ADL, count: int = 1) -> str:
    assert old in text, old
    return text.replace(old, new, count)


# --- the clean original ------------------------------------------------------------------------------------------


def test_clean_archetype_has_no_finding(tmp_path: Path) -> None:
    report = _lint_demo(tmp_path)
    assert report.findings == []
    assert report.exit_code() == 0


def test_project_content_lints_without_errors() -> None:
    report = lint_paths([ROOT / "archetypes", ROOT / "templates", ROOT / "mappings"], NB_EN)
    errors = [str(i) for i in report.findings if i.severity is Severity.ERROR]
    assert not errors, errors
    assert report.exit_code() == 0


# --- each rule on a planted violation ----------------------------------------------------------------------------

TERM_AT0009 = """				["at0008"] = <
					text = <"Detaljer">
					description = <"Detaljer.">
				>
"""

TERM_AT0009_EN = TERM_AT0009.replace("Detaljer", "Details")

PLANTED = {
    # node id used but not defined
    "ARC001": lambda: _edit("ELEMENT[at0004]", "ELEMENT[at0099]"),
    # a declared translation without terms / terms in an undeclared language
    "LNT101": lambda: _edit('		["en"] = <\n			items', '		["de"] = <\n			items'),
    # a binding for a code that does not exist
    "LNT102": lambda: _edit('["at0003"] = <[SNOMED-CT::373067005]>',
                            '["at0003"] = <[SNOMED-CT::373067005]>\n\t\t\t\t["at0098"] = <[SNOMED-CT::22298006]>'),
    # a required language with codes missing
    "LNT111": lambda: _edit("""				["at0008"] = <
					text = <"Details">
					description = <"Details.">
				>
""", ""),
    # a slot pattern matching nothing in the set
    "LNT120": lambda: _edit("lint_demo(-[a-zA-Z0-9_]+)*", "lint_nothing"),
    # a code deeper than the archetype's specialisation
    "LNT131": lambda: _edit("ELEMENT[at0004]", "ELEMENT[at0004.1]", _edit('["at0004"] = <\n\t\t\t\t\ttext = <"Kommentar">',
                                                                          '["at0004.1"] = <\n\t\t\t\t\ttext = <"Kommentar">')),
    # SNOMED CT id with a wrong check digit
    "LNT140": lambda: _edit("SNOMED-CT::373066001", "SNOMED-CT::373066002"),
    # ICD-10, ICD-O-3 and NCSP codes of the wrong form
    "LNT141": lambda: _edit("[ICD10::S72.0,", "[ICD10::S720,"),
    "LNT142": lambda: _edit("[ICD-O-3::8140/3,", "[ICD-O-3::81403,"),
    "LNT143": lambda: _edit("[NCSP::NFB49,", "[NCSP::NFB4,"),
    # siblings with the same text
    "LNT150": lambda: _edit('text = <"Diagnose">', 'text = <"Kommentar">'),
    # a code defined but unused
    "LNT160": lambda: _edit(TERM_AT0009_EN, TERM_AT0009_EN + """				["at0009"] = <
					text = <"Unused">
					description = <"Unused.">
				>
""", _edit(TERM_AT0009, TERM_AT0009 + """				["at0009"] = <
					text = <"Ubrukt">
					description = <"Ubrukt.">
				>
""")),
    # occurrences beyond what the RM allows under single-valued ELEMENT.value
    "LNT170": lambda: _edit("DV_TEXT matches {*}", "DV_TEXT occurrences matches {0..*} matches {*}"),
}


@pytest.mark.parametrize("code", sorted(PLANTED))
def test_rule_finds_planted_violation(tmp_path: Path, code: str) -> None:
    report = _lint_demo(tmp_path, PLANTED[code]())
    found = [i for i in report.findings if i.code == code]
    assert found, f"{code} not found; got {_codes(report)}"
    assert all(i.file and i.file.endswith(".adl") for i in found)
    assert found[0].line is not None, f"{code} has no line"


def test_planted_line_points_at_the_violation(tmp_path: Path) -> None:
    text = PLANTED["LNT141"]()
    report = _lint_demo(tmp_path, text)
    issue = next(i for i in report.findings if i.code == "LNT141")
    assert "S720" in text.split("\n")[issue.line - 1]
    assert "S72.0" in issue.message  # the fix is named


def test_required_language_missing(tmp_path: Path) -> None:
    report = _lint_demo(tmp_path, config=LintConfig(required_languages=("nb", "en", "sv")))
    assert _codes(report) == ["LNT110"]
    # without the configuration the rule stays silent
    assert _lint_demo(tmp_path, config=LintConfig()).findings == []


def test_specialisation_rules(tmp_path: Path) -> None:
    child = "openEHR-EHR-CLUSTER.lint_demo-child.v0.adl"
    nb = LintConfig(required_languages=("nb",))
    # with its parent in the set: clean
    assert _lint_demo(tmp_path, config=nb, extra={child: child_adl()}).findings == []
    # the changed file alone (as pre-commit passes it): the parent beside it still counts
    assert lint_paths([tmp_path / child], nb).findings == []
    # alone: the parent is missing
    alone = tmp_path / "alone"
    write(alone / child, child_adl())
    assert _codes(lint_paths([alone], nb)) == ["LNT130"]
    # a redefined code the parent lacks
    report = _lint_demo(tmp_path, config=nb, extra={child: child_adl(extra_code="at0077.1")})
    assert "TPL008" in _codes(report)
    # an id that does not extend the parent's
    bad = child_adl(child_id="openEHR-EHR-CLUSTER.other-child.v0")
    (tmp_path / child).unlink()
    report = _lint_demo(tmp_path, config=nb, extra={"openEHR-EHR-CLUSTER.other-child.v0.adl": bad})
    assert "LNT132" in _codes(report)


def test_stale_compiled_opt(tmp_path: Path) -> None:
    for folder in ("archetypes", "templates"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    oet = tmp_path / "templates" / "fracture_reoperation.oet"
    assert _codes(lint_paths([oet])) == []
    text = oet.read_text(encoding="utf-8")
    rule = re.search(r'<Rule path="([^"]+)" min="1" />', text)
    assert rule is not None
    oet.write_text(text.replace(rule.group(0), f'<Rule path="{rule.group(1)}" max="0" />', 1), encoding="utf-8")
    report = lint_paths([oet])
    stale = [i for i in report.findings if i.code == "LNT180"]
    assert stale and "removed" in stale[0].message and "fracture_reoperation.opt" in stale[0].message


def test_mapping_check_issues(tmp_path: Path) -> None:
    src = ROOT / "mappings" / "nfr-fracture_registration.yaml"
    text = src.read_text(encoding="utf-8")
    assert _codes(lint_paths([src])) == []
    broken = write(tmp_path / "m.yaml", text.replace("data[at0001]/items[at0003]", "data[at0001]/items[at0999]", 1))
    report = lint_paths([broken])
    map003 = [i for i in report.findings if i.code == "MAP003"]
    assert map003 and map003[0].line is not None
    # a mapping whose template is nowhere to be found is reported, not crashed on
    orphan = write(tmp_path / "o.yaml", text.replace("openehr-kit.fracture_registration.v0", "openehr-kit.nowhere.v0"))
    assert "EXP010" in _codes(lint_paths([orphan]))
    # YAML that is not a mapping is not linted at all
    other = write(tmp_path / "other.yaml", "repos:\n  - repo: local\n")
    assert lint_paths([other]).files == []


# --- selection, configuration, suppressions ---------------------------------------------------------------------


def _two_findings(tmp_path: Path) -> str:
    return PLANTED["LNT160"]().replace("[ICD10::S72.0,", "[ICD10::S720,")


def test_select_and_ignore_by_prefix(tmp_path: Path) -> None:
    text = _two_findings(tmp_path)
    assert _codes(_lint_demo(tmp_path, text)) == ["LNT141", "LNT160"]
    assert _codes(_lint_demo(tmp_path, text, NB_EN.with_options(select=("LNT16",)))) == ["LNT160"]
    assert _codes(_lint_demo(tmp_path, text, NB_EN.with_options(ignore=("LNT1",)))) == []
    # the longer prefix wins: select LNT, ignore LNT160
    cfg = NB_EN.with_options(select=("LNT",), ignore=("LNT160",))
    assert _codes(_lint_demo(tmp_path, text, cfg)) == ["LNT141"]
    cfg = NB_EN.with_options(select=("LNT141",), ignore=("LNT",))
    assert _codes(_lint_demo(tmp_path, text, cfg)) == ["LNT141"]


def test_pyproject_configuration_is_found_walking_up(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", """[project]\nname = "x"\n
[tool.openehr-kit.lint]
ignore = ["LNT160"]
required-languages = ["nb", "en", "sv"]
min_severity = "warning"
per_file_ignores = {"deep/*.adl" = ["LNT141"]}
""")
    sub = tmp_path / "deep"
    write(sub / f"{DEMO_ID}.adl", _two_findings(tmp_path))
    config = load_config(sub)
    assert config.source == tmp_path / "pyproject.toml"
    assert config.required_languages == ("nb", "en", "sv") and config.min_severity is Severity.WARNING
    report = lint_paths([sub], config)
    assert _codes(report) == ["LNT110"]  # LNT160 ignored, LNT141 ignored for deep/*.adl
    assert report.exit_code() == 1  # a warning fails at min_severity warning
    write(tmp_path / "pyproject.toml", "[tool.openehr-kit.lint]\nbogus = 1\n")
    result = CliRunner().invoke(cli, ["lint", str(sub)])
    assert result.exit_code == 2 and "bogus" in result.output


def test_inline_and_file_suppressions(tmp_path: Path) -> None:
    text = _two_findings(tmp_path)
    suppressed = text.replace('				["at0009"] = <', '				["at0009"] = <    -- openehr-kit: ignore[LNT160]')
    assert _codes(_lint_demo(tmp_path, suppressed)) == ["LNT141"]
    # a comment alone on the line above works too, and prefixes match
    above = text.replace("\t\t\t\t\t\tdefining_code matches {[ICD10::S720,",
                         "\t\t\t\t\t\t-- openehr-kit: ignore[LNT14]\n\t\t\t\t\t\tdefining_code matches {[ICD10::S720,")
    assert _codes(_lint_demo(tmp_path, above)) == ["LNT160"]
    whole = "-- openehr-kit: ignore-file[LNT160, LNT141]\n" + text
    assert _codes(_lint_demo(tmp_path, whole)) == []
    unknown = text.replace("[ICD10::S720,", "[ICD10::S720, -- openehr-kit: ignore[ZZZ1]\n")
    assert "LNT002" in _codes(_lint_demo(tmp_path, unknown))


def test_xml_and_yaml_suppressions(tmp_path: Path) -> None:
    src = (ROOT / "mappings" / "nfr-fracture_registration.yaml").read_text(encoding="utf-8")
    bad = src.replace("    source: data[at0001]/items[at0003]\n",
                      "    source: data[at0001]/items[at0999]  # openehr-kit: ignore[MAP003]\n", 1)
    assert bad != src
    assert "MAP003" not in _codes(lint_paths([write(tmp_path / "m.yaml", bad)]))
    opt = (ROOT / "templates" / "fracture_registration.opt").read_text(encoding="utf-8")
    broken = opt.replace("<rm_type_name>ELEMENT</rm_type_name>", "<rm_type_name>ELEMENTX</rm_type_name>", 1)
    found = [i for i in lint_paths([write(tmp_path / "t.opt", broken)]).findings if i.code == "OPT006"]
    assert found and found[0].line is not None
    lines = broken.split("\n")
    lines[found[0].line - 1] += "  <!-- openehr-kit: ignore[OPT006] -->"
    assert "OPT006" not in _codes(lint_paths([write(tmp_path / "t.opt", "\n".join(lines))]))
    whole = broken + "\n<!-- openehr-kit: ignore-file[OPT0] -->\n"
    assert "OPT006" not in _codes(lint_paths([write(tmp_path / "t.opt", whole)]))


# --- output formats and exit codes -------------------------------------------------------------------------------


def test_text_output_groups_by_file(tmp_path: Path) -> None:
    report = _lint_demo(tmp_path, _two_findings(tmp_path))
    text = render_text(report)
    lines = text.splitlines()
    assert lines[0].endswith(f"{DEMO_ID}.adl (adl)")
    assert re.match(rf"  \S+{re.escape(DEMO_ID)}\.adl:\d+:\d+ LNT141 \[error\] ", lines[1])
    assert "2 finding(s) (1 error, 1 warning, 0 info)" in lines[-1]


def test_json_output(tmp_path: Path) -> None:
    data = json.loads(render_json(_lint_demo(tmp_path, _two_findings(tmp_path))))
    assert data["summary"]["by_code"] == {"LNT141": 1, "LNT160": 1}
    assert {f["code"] for f in data["findings"]} == {"LNT141", "LNT160"}
    assert all(f["line"] for f in data["findings"])


def _validate_sarif(shared: Path, log: dict) -> None:  # type: ignore[type-arg]
    import jsonschema

    schema = json.loads((shared / "schemas" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    errors = list(jsonschema.validators.validator_for(schema)(schema).iter_errors(log))
    assert not errors, [e.message for e in errors[:5]]


def test_sarif_output_validates_against_the_schema(tmp_path: Path, shared: Path) -> None:
    log = json.loads(render_sarif(_lint_demo(tmp_path, _two_findings(tmp_path)), base=tmp_path))
    _validate_sarif(shared, log)
    run = log["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert {"LNT141", "LNT160"} <= set(rules) and rules["LNT160"]["help"]["text"]
    res = {r["ruleId"]: r for r in run["results"]}
    assert res["LNT141"]["level"] == "error" and res["LNT160"]["level"] == "warning"
    loc = res["LNT141"]["locations"][0]
    assert loc["physicalLocation"]["artifactLocation"]["uri"] == f"{DEMO_ID}.adl"
    assert loc["physicalLocation"]["region"]["startLine"] >= 1
    assert loc["logicalLocations"][0]["fullyQualifiedName"].startswith("/items[at0005]")
    assert run["tool"]["driver"]["rules"][res["LNT141"]["ruleIndex"]]["id"] == "LNT141"


def test_sarif_on_real_corpus_findings(shared: Path) -> None:
    report = lint_paths([shared / "corpus" / "opt" / "ehrbase-integration-tests" / "invalid_templates"])
    assert report.findings
    _validate_sarif(shared, json.loads(render_sarif(report)))


def test_github_annotations(tmp_path: Path) -> None:
    out = render_github(_lint_demo(tmp_path, _two_findings(tmp_path))).splitlines()
    assert len(out) == 2
    err = next(line for line in out if "LNT141" in line)
    assert re.match(r"::error file=\S+\.adl,line=\d+,col=\d+,title=LNT141::ICD10 code S720", err)
    assert any(line.startswith("::warning ") for line in out)


def test_github_escapes_properties(tmp_path: Path) -> None:
    from openehr_kit.diagnostics import Issue
    from openehr_kit.lint.engine import FileReport, LintReport

    issue = Issue("LNT160", "two\nlines 100%", file="a,b:c.adl", line=3)
    out = render_github(LintReport([FileReport("a,b:c.adl", "adl", [issue])], LintConfig()))
    assert out == "::warning file=a%2Cb%3Ac.adl,line=3,title=LNT160::two%0Alines 100%25"


def test_cli_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    write(tmp_path / "clean" / f"{DEMO_ID}.adl", DEMO_ADL)
    assert runner.invoke(cli, ["lint", "--no-config", str(tmp_path / "clean")]).exit_code == 0
    write(tmp_path / "warn" / f"{DEMO_ID}.adl", PLANTED["LNT160"]())
    assert runner.invoke(cli, ["lint", "--no-config", str(tmp_path / "warn")]).exit_code == 0
    assert runner.invoke(cli, ["lint", "--no-config", "--min-severity", "warning",
                               str(tmp_path / "warn")]).exit_code == 1
    write(tmp_path / "err" / f"{DEMO_ID}.adl", PLANTED["LNT141"]())
    result = runner.invoke(cli, ["lint", "--no-config", "--format", "json", str(tmp_path / "err")])
    assert result.exit_code == 1 and json.loads(result.output)["summary"]["by_code"] == {"LNT141": 1}
    assert runner.invoke(cli, ["lint", "--no-config", "--ignore", "LNT141", str(tmp_path / "err")]).exit_code == 0
    assert runner.invoke(cli, ["lint", "--no-config", str(tmp_path / "missing")]).exit_code == 2
    write(tmp_path / "bad" / "x.adl", "archetype\n garbage")
    result = runner.invoke(cli, ["lint", "--no-config", "--format", "sarif", "-o", str(tmp_path / "r.sarif"),
                                 str(tmp_path / "bad")])
    assert result.exit_code == 1
    assert json.loads((tmp_path / "r.sarif").read_text())["runs"][0]["results"][0]["ruleId"].startswith("ADL")


# --- the registry and its documentation --------------------------------------------------------------------------


def test_every_rule_is_registered_and_documented() -> None:
    lnt = {c for c in REGISTRY if c.startswith("LNT")}
    assert lnt <= {r.code for r in RULES}, "every LNT code needs a Rule with rationale and example"
    for r in RULES:
        assert r.code in REGISTRY and r.rationale.strip() and r.example.strip() and r.kinds


def test_rules_doc_is_up_to_date() -> None:
    doc = Path(docs_path())
    assert doc.read_text(encoding="utf-8") == render_markdown(), (
        "docs/lint-rules.md is stale; run python -c 'from openehr_kit.lint.rules import write_docs; write_docs()'")


def test_pre_commit_hook_definition() -> None:
    import yaml

    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    hook = next(h for h in hooks if h["id"] == "openehr-kit-lint")
    assert hook["entry"] == "openehr-kit lint"
    files = re.compile(hook["files"])
    for name in ("a.adl", "t.oet", "t.opt", "m.yaml", "m.yml"):
        assert files.search(name), name
    assert not files.search("x.py")


# --- code syntax facts -------------------------------------------------------------------------------------------


def test_snomed_verhoeff() -> None:
    for good in ("22298006", "404684003", "138875005", "373066001", "900000000000207008", "1156893001"):
        assert sctid_problem(good) is None, good
    assert verhoeff_digit("40468400") == 3
    assert "check digit" in (sctid_problem("404684004") or "")
    assert "partition" in (sctid_problem("123456789") or "")
    assert sctid_problem("012345") is not None and sctid_problem("12a456") is not None


def test_classification_syntax() -> None:
    assert icd10_problem("S72.0") is None and icd10_problem("E10.65") is None and icd10_problem("A00-A09") is None
    assert "S72.0" in (icd10_problem("S720") or "") and icd10_problem("s72.0") is not None
    assert icdo3_problem("8140/3") is None and icdo3_problem("C61.9") is None
    assert icdo3_problem("8140/5") is not None and icdo3_problem("81403") is not None
    assert ncsp_problem("NFB49") is None and ncsp_problem("JDB10A") is None and ncsp_problem("NF49") is not None
    assert code_system("SNOMED-CT(2003)") == "snomed" and code_system("ICD-10-CM") is None
    assert code_system("ICD10") == "icd10" and code_system("ICD-O-3") == "icdo3" and code_system("NCSP") == "ncsp"
