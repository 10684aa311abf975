"""``openehr-kit diff``: real version pairs from the corpus, and the project's own templates with deliberate edits
that break a registry mapping (the mapping fields reached are named)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from lint_data import DEMO_ADL
from openehr_kit.am.adl import load_archetype, parse_adl
from openehr_kit.cli.main import cli
from openehr_kit.lint.diff import (
    diff_archetypes,
    diff_templates,
    load_mappings,
    mapping_impacts,
    related,
)
from openehr_kit.opt.loader import load_opt, parse_opt

ROOT = Path(__file__).resolve().parent.parent
NS = "{http://schemas.openehr.org/v1}"
FRACTURE = ROOT / "templates" / "fracture_registration.opt"
ASSESSMENT = "openEHR-EHR-EVALUATION.fracture_clinical_assessment.v0"
ASSESS_PATH = f"/content[{ASSESSMENT}]/data[at0001]"


def _kinds(changes) -> list[tuple[str, bool]]:  # type: ignore[no-untyped-def]
    return sorted((c.kind, c.breaking) for c in changes)


# --- path relation -----------------------------------------------------------------------------------------------


def test_related_paths() -> None:
    assert related("/a[at1]/b[at2]", "/a[at1]")
    assert related("/a[at1]", "/a[at1]/b[at2]/value")
    assert not related("/a[at1]/b[at2]", "/a[at1]/b[at3]")
    assert related("/a[at1 and name/value='X']/b", "/a[at1]")
    assert not related("/a[at1 and name/value='X']", "/a[at1 and name/value='Y']")


# --- real version pairs in the corpus ------------------------------------------------------------------------------


def _ckm(shared: Path, rel: str) -> Path:
    return shared / "corpus" / "ckm" / rel


def test_archetype_versions_problem_list(shared: Path) -> None:
    old = load_archetype(_ckm(shared, "Arketyper-no-ckm/local/archetypes/composition/"
                                      "openEHR-EHR-COMPOSITION.problem_list.v1.adl"))
    new = load_archetype(_ckm(shared, "openEHR-CKM-mirror/local/archetypes/composition/"
                                      "openEHR-EHR-COMPOSITION.problem_list.v2.adl"))
    changes = diff_archetypes(old, new)
    assert any(c.kind == "removed" and c.breaking and c.path.startswith("/content[at0002]") for c in changes)
    assert diff_archetypes(old, old) == []


def test_archetype_versions_avpu(shared: Path) -> None:
    old = _ckm(shared, "openEHR-CKM-mirror/local/archetypes/entry/observation/openEHR-EHR-OBSERVATION.avpu.v0.adl")
    new = _ckm(shared, "Arketyper-no-ckm/local/archetypes/entry/observation/openEHR-EHR-OBSERVATION.avpu.v1.adl")
    result = CliRunner().invoke(cli, ["diff", str(old), str(new), "--format", "json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    assert data["breaking"] >= 1
    assert any(c["kind"] == "removed" and "'Comment'" in c["detail"] for c in data["changes"])


def test_archetype_revisions_blood_pressure_are_equal(shared: Path) -> None:
    old = shared / "corpus" / "adl-other" / "ehrbase-integration-tests" / "valid_templates" / "versioned" / \
        "openEHR-EHR-OBSERVATION.blood_pressure.v2.adl"
    new = _ckm(shared, "openEHR-CKM-mirror/local/archetypes/entry/observation/"
                       "openEHR-EHR-OBSERVATION.blood_pressure.v2.adl")
    # revisions 2.0.1 and 2.0.16 differ in translations and metadata only; {|PT24H|} and {PT24H} are one constraint
    changes = diff_archetypes(load_archetype(old), load_archetype(new))
    assert changes == []
    assert CliRunner().invoke(cli, ["diff", str(old), str(new)]).exit_code == 0


def test_template_versions_in_the_corpus(shared: Path) -> None:
    base = shared / "corpus" / "opt" / "ehrbase-integration-tests" / "valid_templates"
    cache = diff_templates(load_opt(base / "minimal" / "cache.opt"), load_opt(base / "minimal" / "cache_updated.opt"))
    assert _kinds(cache) == [("added", False), ("removed", True)]
    assert any("ADMIN_ENTRY" in c.detail for c in cache if c.kind == "removed")
    nested = diff_templates(load_opt(base / "nested" / "nested_same_template_id_and_uid.opt"),
                            load_opt(base / "nested" / "nested_updated.opt"))
    assert [c.path.rsplit("/", 1)[-1] for c in nested if c.kind == "removed"] == ["items[openEHR-EHR-CLUSTER.nested2.v1]"]
    assert [c.path.rsplit("/", 1)[-1] for c in nested if c.kind == "added"] == ["items[openEHR-EHR-CLUSTER.nested3.v1]"]
    # a new serialisation of the same template is no change at all
    same = diff_templates(load_opt(base / "minimal" / "minimal_admin.opt"),
                          load_opt(base / "minimal" / "minimal_admin_updated.opt"))
    assert same == []


# --- the project's templates with deliberate edits ---------------------------------------------------------------


def _root_of(tree: etree._ElementTree, archetype_id: str) -> etree._Element:
    for el in tree.iter(f"{NS}archetype_id"):
        value = el.find(f"{NS}value")
        if value is not None and value.text == archetype_id:
            return el.getparent()
    raise AssertionError(archetype_id)


def _node(root: etree._Element, node_id: str) -> etree._Element:
    for el in root.iter(f"{NS}node_id"):
        if el.text == node_id:
            return el.getparent()
    raise AssertionError(node_id)


def _edited(tmp_path: Path, edit, source: Path = FRACTURE) -> Path:  # type: ignore[no-untyped-def]
    tree = etree.parse(str(source))
    edit(tree)
    out = tmp_path / source.name
    tree.write(str(out), xml_declaration=True, encoding="utf-8")
    return out


def _impacts(old: Path, new: Path):  # type: ignore[no-untyped-def]
    a, b = load_opt(old), load_opt(new)
    changes = diff_templates(a, b)
    return changes, mapping_impacts(changes, load_mappings(ROOT / "mappings"), template_ids={a.template_id})


def test_removed_node_and_code_break_the_mapping(tmp_path: Path) -> None:
    def edit(tree: etree._ElementTree) -> None:
        root = _root_of(tree, ASSESSMENT)
        side = _node(root, "at0018")
        side.getparent().remove(side)
        energy = _node(root, "at0004")
        code = next(e for e in energy.iter(f"{NS}code_list") if e.text == "at0007")
        code.getparent().remove(code)

    new = _edited(tmp_path, edit)
    changes, impacts = _impacts(FRACTURE, new)
    assert _kinds(changes) == [("codes", True), ("removed", True)]
    fields = {(i.mapping, i.field) for i in impacts}
    assert fields == {("nfr-fracture_registration", "side"), ("nfr-fracture_registration", "skadeenergi")}
    result = CliRunner().invoke(cli, ["diff", str(FRACTURE), str(new), "--mappings", str(ROOT / "mappings")])
    assert result.exit_code == 1
    assert "nfr-fracture_registration" in result.output and "field side" in result.output
    assert "field skadeenergi" in result.output


def _occurrences(node: etree._Element, lower: int | None = None, upper: int | None = None) -> None:
    occ = node.find(f"{NS}occurrences")
    if lower is not None:
        occ.find(f"{NS}lower").text = str(lower)
    if upper is not None:
        occ.find(f"{NS}upper").text = str(upper)


def test_narrowed_and_widened_occurrences(tmp_path: Path) -> None:
    narrowed = _edited(tmp_path, lambda t: _occurrences(_node(_root_of(t, ASSESSMENT), "at0050"), lower=1))
    changes, impacts = _impacts(FRACTURE, narrowed)
    assert [(c.kind, c.breaking) for c in changes] == [("occurrences", True)]
    assert "now mandatory" in changes[0].detail
    assert {i.field for i in impacts} == {"gustilo_anderson"}

    def widen(tree: etree._ElementTree) -> None:
        occ = _node(_root_of(tree, ASSESSMENT), "at0050").find(f"{NS}occurrences")
        occ.find(f"{NS}upper").text = "3"

    changes, impacts = _impacts(FRACTURE, _edited(tmp_path, widen))
    assert [(c.kind, c.breaking) for c in changes] == [("occurrences", False)] and impacts == []


def test_unit_change_breaks_the_psa_field(tmp_path: Path) -> None:
    source = ROOT / "templates" / "prostate_cancer_investigation.opt"

    def edit(tree: etree._ElementTree) -> None:
        for units in tree.iter(f"{NS}units"):
            if units.text == "ug/L":
                units.text = "ng/L"

    changes, impacts = _impacts(source, _edited(tmp_path, edit, source))
    assert {(c.kind, c.breaking) for c in changes} == {("unit", True), ("unit", False)}
    assert any("removed: ug/L" in c.detail for c in changes)
    assert "PSAVerdi" in {i.field for i in impacts}


def test_compatible_edits_exit_zero(tmp_path: Path) -> None:
    def edit(tree: etree._ElementTree) -> None:
        root = _root_of(tree, ASSESSMENT)
        energy = _node(root, "at0004")
        code = next(e for e in energy.iter(f"{NS}code_list") if e.text == "at0007")
        extra = etree.Element(f"{NS}code_list")
        extra.text = "at0009"  # a code defined in the archetype (another list's): only the classification matters
        code.addnext(extra)
        for item in root.iter(f"{NS}items"):
            if item.get("id") == "text" and item.text == "Skadeenergi":
                item.text = "Energi ved skaden"

    new = _edited(tmp_path, edit)
    changes, impacts = _impacts(FRACTURE, new)
    assert _kinds(changes) == [("codes", False), ("text", False)], changes
    assert impacts == []
    assert CliRunner().invoke(cli, ["diff", str(FRACTURE), str(new)]).exit_code == 0


def test_oet_sources_compiled_for_diff(tmp_path: Path) -> None:
    oet = ROOT / "templates" / "fracture_registration.oet"
    text = oet.read_text(encoding="utf-8")
    edited = text.replace('<Rule path="/data[at0001]/items[at0018]" min="1" />',
                          '<Rule path="/data[at0001]/items[at0018]" max="0" />', 1)
    assert edited != text
    new = tmp_path / "fracture_registration.oet"
    new.write_text(edited, encoding="utf-8")
    result = CliRunner().invoke(cli, ["diff", str(oet), str(new), "--archetypes", str(ROOT / "archetypes"),
                                      "--mappings", str(ROOT / "mappings"), "--format", "json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    assert [c["path"] for c in data["changes"] if c["breaking"]] == [f"{ASSESS_PATH}/items[at0018]"]
    assert {i["field"] for i in data["impacts"]} == {"side"}


def test_archetype_edit_reaches_mappings_through_templates(tmp_path: Path) -> None:
    path = ROOT / "archetypes" / f"{ASSESSMENT}.adl"
    text = path.read_text(encoding="utf-8")
    # remove ELEMENT at0018 (side) from the definition
    start = text.index("ELEMENT[at0018]")
    start = text.rfind("\n", 0, start) + 1
    indent = re.match(r"\s*", text[start:]).group(0)
    end = text.index(f"\n{indent}}}", start) + len(indent) + 2
    edited = text[:start] + text[end + 1:]
    old, new = parse_adl(text), parse_adl(edited)
    changes = diff_archetypes(old, new)
    assert [(c.kind, c.path) for c in changes if c.breaking] == [("removed", "/data[at0001]/items[at0018]")]
    impacts = mapping_impacts(changes, load_mappings(ROOT / "mappings"), archetype_ids={ASSESSMENT})
    assert {(i.mapping, i.field) for i in impacts} >= {("nfr-fracture_registration", "side")}


def test_moved_node(tmp_path: Path) -> None:
    old = parse_adl(DEMO_ADL)
    block = DEMO_ADL[DEMO_ADL.index("\t\t\tELEMENT[at0004]"):DEMO_ADL.index("\t\t\tELEMENT[at0005]")]
    wrapped = ("\t\t\tCLUSTER[at0008] occurrences matches {0..1} matches {\n\t\t\t\titems matches {\n" + block +
               "\t\t\t\t}\n\t\t\t}\n")
    new = parse_adl(DEMO_ADL.replace(block, wrapped))
    changes = diff_archetypes(old, new)
    moved = [c for c in changes if c.kind == "moved"]
    assert moved and moved[0].path == "/items[at0004]" and moved[0].new_path == "/items[at0008]/items[at0004]"
    assert moved[0].breaking


def test_usage_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    adl = ROOT / "archetypes" / f"{ASSESSMENT}.adl"
    assert runner.invoke(cli, ["diff", str(adl), str(FRACTURE)]).exit_code == 2
    assert runner.invoke(cli, ["diff", str(FRACTURE), str(tmp_path / "missing.opt")]).exit_code == 2
    assert runner.invoke(cli, ["diff", str(FRACTURE), str(FRACTURE), "--mappings",
                               str(tmp_path / "nope")]).exit_code == 2
    bad = tmp_path / "bad.opt"
    bad.write_text("<template/>", encoding="utf-8")
    assert runner.invoke(cli, ["diff", str(FRACTURE), str(bad)]).exit_code == 2


@pytest.mark.parametrize("name", ["fracture_registration", "prostate_cancer_surgery"])
def test_template_against_itself_has_no_change(name: str) -> None:
    data = (ROOT / "templates" / f"{name}.opt").read_bytes()
    assert diff_templates(parse_opt(data), parse_opt(data)) == []
