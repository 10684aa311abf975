"""The mapping language: loading with located errors, the mapping check (clean on every shipped mapping, the
right codes on broken copies), the engine's transforms, the property test over generated compositions, the CLI."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from lxml import etree

from openehr_kit.content import content_dir
from openehr_kit.diagnostics import REGISTRY
from openehr_kit.examples.generator import compositions, maximal_composition, minimal_composition
from openehr_kit.mapping.check import check_mapping
from openehr_kit.mapping.engine import apply_mapping, convert_unit, duration_in, format_decimal
from openehr_kit.mapping.exports import ExportContext, render
from openehr_kit.mapping.formats import find_format
from openehr_kit.mapping.loader import load_mapping, load_mapping_text
from openehr_kit.mapping.pipeline import bundled_template

ROOT = Path(__file__).resolve().parent.parent
MAPPINGS = sorted(content_dir("mappings").glob("*.yaml"))
NID = "01010012356"
TODAY = dt.date(2030, 1, 1)


def codes(issues: list) -> set[str]:  # type: ignore[type-arg]
    return {i.code for i in issues}


# --- loading ----------------------------------------------------------------------------------------------------

HEAD = 'mapping: t\ntemplate: {id: openehr-kit.fracture_registration.v0}\nformat: {id: nfr.Fracture, version: "1.0"}\n'


def test_yaml_syntax_error_is_located() -> None:
    m, issues = load_mapping_text(HEAD + "fields:\n  side: {source: [\n", source="m.yaml")
    assert m is None and issues[0].code == "MAP001" and issues[0].line is not None


def test_schema_errors_point_at_the_line() -> None:
    text = HEAD + "fields:\n  side:\n    source: /content[x]\n    codez: {at1: H}\n"
    m, issues = load_mapping_text(text, source="m.yaml")
    assert m is None and issues and all(i.code == "MAP002" for i in issues)
    assert issues[0].line == 7 and issues[0].file == "m.yaml"
    two = HEAD + "fields:\n  side:\n    source: /content[x]\n    boolean: {}\n    date: {}\n"
    m, issues = load_mapping_text(two)
    assert m is None and "exactly one transform" in issues[0].message and issues[0].line == 5


def test_duplicate_target_is_flagged() -> None:
    text = HEAD + "fields:\n  side:\n    constant: H\n  side:\n    constant: V\n"
    m, issues = load_mapping_text(text, source="m.yaml")
    assert m is not None and not issues
    template = bundled_template(m.template_id)
    found = [i for i in check_mapping(m, template) if i.code == "MAP010"]  # type: ignore[arg-type]
    assert found and found[0].line == 7


# --- the check --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", MAPPINGS, ids=[p.stem for p in MAPPINGS])
def test_shipped_mapping_is_clean(path: Path) -> None:
    m = load_mapping(path)
    template = bundled_template(m.template_id)
    assert template is not None
    assert check_mapping(m, template) == []


FRACTURE = content_dir("mappings") / "nfr-fracture_registration.yaml"
INVESTIGATION = content_dir("mappings") / "kreftregisteret-prostate_cancer_investigation.yaml"

BROKEN = [
    # (mapping, old text, new text, expected code)
    (FRACTURE, "source: data[at0001]/items[at0018]", "source: data[at0001]/items[at0999]", "MAP003"),
    (FRACTURE, "codes: {at0019: H, at0020: V}", "codes: {at0019: H}", "MAP005"),
    (FRACTURE, "    source: data[at0001]/items[at0049]\n    boolean: {}",
     "    source: data[at0001]/items[at0049]\n    decimal: {}", "MAP004"),
    (FRACTURE, "  luksasjon:", "  luksasjonen:", "MAP008"),
    (FRACTURE, "codes: {at0019: H, at0020: V}", "codes: {at0019: H, at0020: X}", "MAP009"),
    (FRACTURE, "  side:\n    source: data[at0001]/items[at0018]\n    codes: {at0019: H, at0020: V}\n", "", "MAP007"),
    (FRACTURE, "template: {id: openehr-kit.fracture_registration.v0}", "template: {id: openehr-kit.other.v0}",
     "MAP011"),
    (FRACTURE, 'format: {id: nfr.Fracture, version: "1.0"}', 'format: {id: nfr.Fracture, version: "9.0"}', "MAP012"),
    (INVESTIGATION, "integer: {unit: ml}", "integer: {unit: kg}", "MAP013"),
    (FRACTURE, "datetime: {}\n  skadeenergi", "date: {}\n  skadeenergi", "MAP015"),
    (INVESTIGATION, 'codes: {at0003: "1", at0004: "3"}', 'codes: {at0003: "1", at0004: "3", at0099: "2"}', "MAP006"),
    (FRACTURE, "fn: duration, unit: minutes", "fn: bmi, unit: minutes", "MAP014"),
    (FRACTURE, "for_each: /content[openEHR-EHR-EVALUATION.fracture_clinical_assessment.v0]\n", "", "MAP016"),
]


@pytest.mark.parametrize("path,old,new,code", BROKEN, ids=[b[3] for b in BROKEN])
def test_broken_copy_gives_the_right_code(path: Path, old: str, new: str, code: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    m, issues = load_mapping_text(text.replace(old, new, 1), source="broken.yaml")
    assert m is not None, issues
    template = bundled_template("openehr-kit." + path.stem.split("-", 1)[1] + ".v0")
    assert template is not None
    found = check_mapping(m, template)
    assert code in codes(found), [str(i) for i in found]
    assert all(i.code in REGISTRY for i in found)
    assert all(i.line is not None for i in found if i.code == code)


# --- engine pieces ----------------------------------------------------------------------------------------------


def test_units_decimals_durations() -> None:
    assert convert_unit(Decimal("1.5"), "l", "ml") == Decimal("1500")
    assert convert_unit(Decimal(1), "kg", "ml") is None
    assert convert_unit(Decimal("7.0"), "%", "mmol/mol").quantize(Decimal("0.1")) == Decimal("53.0")
    assert format_decimal(Decimal("12.25"), 1, ",") == "12,3"
    assert format_decimal(Decimal("7"), 1, ",") == "7,0"
    assert duration_in("PT1H30M", "minutes") == 90
    assert duration_in("P6M", "months") == 6
    assert duration_in("P1DT2H", "hours") == 26


def test_one_message_per_fracture_and_paired_treatment() -> None:
    m = load_mapping(FRACTURE)
    template = bundled_template(m.template_id)
    assert template is not None
    comp = maximal_composition(template)
    msgs = apply_mapping(m, comp, template)
    assert len(msgs) >= 1 and all(msg.entry_key == str(i) for i, msg in enumerate(msgs))
    assert msgs[0]["behandling"] in ("1", "2")


def test_composition_of_another_template_is_refused() -> None:
    m = load_mapping(FRACTURE)
    other = bundled_template("openehr-kit.fracture_reoperation.v0")
    assert other is not None
    msgs = apply_mapping(m, minimal_composition(other), bundled_template(m.template_id))
    assert msgs[0].issues and msgs[0].issues[0].code == "MAP104"


# --- property: generated compositions map to a valid message or a clear mapping error -----------------------------

_XSD: dict[str, etree.XMLSchema] = {}


def _xsd(format_id: str) -> etree.XMLSchema | None:
    from shared_data import shared_root

    root = shared_root()
    if root is None:
        return None
    name = format_id.split(".")[1]
    if name not in _XSD:
        _XSD[name] = etree.XMLSchema(etree.parse(str(root / "registry-specs" / "kreftregisteret-prostata-v4.0"
                                                      / f"{name}_v4_0.xsd")))
    return _XSD[name]


def _property(mapping_path: Path) -> None:
    m = load_mapping(mapping_path)
    template = bundled_template(m.template_id)
    fmt = find_format(m.format_id, m.format_version)
    assert template is not None and fmt is not None

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(compositions(template))
    def run(comp):  # type: ignore[no-untyped-def]
        for msg in apply_mapping(m, comp, template, fmt):
            if msg.issues:
                assert all(i.code.startswith("MAP1") and i.message for i in msg.issues)
                continue
            r = render(fmt, msg.values, ExportContext(national_id=NID, patient_name="P"), entry_key=msg.entry_key,
                       today=TODAY)
            if r.issues:
                assert all(i.code in REGISTRY and i.code.startswith("EXP") for i in r.issues)
                assert r.data is None
                continue
            assert r.data is not None
            if fmt.serialisation == "kremt-xml":
                schema = _xsd(fmt.format_id)
                if schema is not None:
                    assert schema.validate(etree.fromstring(r.data)), schema.error_log.last_error
            else:
                json.loads(r.data)  # render already validated it against the format's JSON Schema

    run()


@pytest.mark.parametrize("path", MAPPINGS, ids=[p.stem for p in MAPPINGS])
def test_generated_compositions_never_give_an_invalid_message(path: Path) -> None:
    _property(path)


# --- CLI --------------------------------------------------------------------------------------------------------


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "openehr_kit", *args], capture_output=True, text=True, cwd=ROOT)


def test_cli_mapping_check(tmp_path: Path) -> None:
    r = cli("mapping", "check", *map(str, MAPPINGS))
    assert r.returncode == 0, r.stdout + r.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text(FRACTURE.read_text().replace("items[at0018]", "items[at0999]", 1))
    r = cli("mapping", "check", str(bad), "--template", str(ROOT / "templates" / "fracture_registration.opt"),
            "--format", "json")
    assert r.returncode == 1
    data = json.loads(r.stdout)
    assert data[0]["issues"][0]["code"] == "MAP003" and data[0]["issues"][0]["line"]
    assert cli("mapping", "check", str(tmp_path / "none.yaml")).returncode == 2


def test_cli_export(tmp_path: Path) -> None:
    examples = ROOT / "templates" / "examples" / "fracture_registration"
    ids = tmp_path / "ids.csv"
    ids.write_text("composition,national_id\n" + "\n".join(
        f"{p.name},{NID}" for p in sorted(examples.glob("*.json"))) + "\n")
    out = tmp_path / "out"
    r = cli("export", "--mapping", str(FRACTURE), str(examples), "-o", str(out), "--national-id-map", str(ids))
    assert r.returncode == 1, r.stdout + r.stderr  # the invalid_* examples are rejected
    assert NID not in r.stdout + r.stderr
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith(("written", "rejected"))]
    assert len(lines) == len([p for p in examples.glob("*.json") if not p.name.endswith(".expected.json")])
    assert any(ln.startswith("rejected") and "EXP005" in ln for ln in lines)
    written = sorted(out.glob("*.json"))
    assert len(written) >= 3 and not list(out.glob(".*.tmp"))
    only_good = cli("export", "--mapping", str(FRACTURE), str(examples / "fracture_ankle_nonoperative.json"),
                    "-o", str(out), "--national-id-map", str(ids))
    assert only_good.returncode == 0, only_good.stdout
    no_id = cli("export", "--mapping", str(FRACTURE), str(examples / "fracture_ankle_nonoperative.json"),
                "-o", str(tmp_path / "o2"))
    assert no_id.returncode == 1 and "EXP004" in no_id.stdout and not (tmp_path / "o2").exists()
    assert cli("export", "--mapping", str(tmp_path / "nope.yaml"), str(examples), "-o", str(out)).returncode == 2
