"""Registry export formats, message rules and serialisation; golden tests on the shipped example compositions.

Golden: every valid example composition of every project template goes through validate -> map -> fill/check ->
serialise; the KREMT XML is validated against Kreftregisteret's own XSDs (in place, from the shared corpus), the
JSON against our schemas, and the message is compared field by field with ``tests/golden/<mapping>/<example>.json``
(reviewed by hand; regenerate with ``UPDATE_GOLDEN=1`` and review the diff).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import jsonschema
import pytest
from lxml import etree

from openehr_kit.content import content_dir
from openehr_kit.mapping.exports import ExportContext, check_values, fill_values, json_schema, render, to_xml
from openehr_kit.mapping.formats import bundled_formats, find_format, parse_format
from openehr_kit.mapping.loader import load_mapping
from openehr_kit.mapping.pipeline import bundled_template, export_composition
from openehr_kit.rm.reading import read_composition
from openehr_kit.diagnostics import ParseError

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
SPECS = ("registry-specs", "kreftregisteret-prostata-v4.0")
NID = "01010012356"  # synthetic, built with the check-digit algorithm
CREATED = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.timezone.utc)
TODAY = dt.date(2026, 6, 1)


def ctx(**kw: object) -> ExportContext:
    base: dict[str, object] = dict(national_id=NID, patient_name="Test Pasient", created=CREATED)
    base.update(kw)
    return ExportContext(**base)  # type: ignore[arg-type]


def xsd_for(shared: Path, format_id: str) -> etree.XMLSchema:
    name = format_id.split(".")[1]
    return etree.XMLSchema(etree.parse(str(shared.joinpath(*SPECS) / f"{name}_v4_0.xsd")))


def mappings() -> list[Path]:
    return sorted(content_dir("mappings").glob("*.yaml"))


def examples(template_id: str) -> list[Path]:
    folder = content_dir("templates") / "examples" / template_id.split(".")[1]
    return sorted(p for p in folder.glob("*.json") if not p.name.endswith((".expected.json", ".flat.json"))
                  and not p.name.startswith("invalid_"))


CASES = [(m, e) for m in mappings() for e in examples(load_mapping(m).template_id)]


def test_every_project_template_has_examples_and_a_mapping() -> None:
    templates = {p.stem for p in content_dir("templates").glob("*.opt")}
    mapped = {load_mapping(m).template_id.split(".")[1] for m in mappings()}
    assert templates and templates <= mapped, f"templates without a mapping: {templates - mapped}"
    assert len(CASES) >= 12


@pytest.mark.parametrize("mapping_path,example", CASES, ids=[f"{m.stem}:{e.stem}" for m, e in CASES])
def test_golden(mapping_path: Path, example: Path, request: pytest.FixtureRequest) -> None:
    m = load_mapping(mapping_path)
    template = bundled_template(m.template_id)
    fmt = find_format(m.format_id, m.format_version)
    assert template is not None and fmt is not None
    out = export_composition(read_composition(example), m, template, ctx(), fmt=fmt, today=TODAY)
    assert out.ok, [str(i) for i in out.issues]
    assert out.rendered
    got = {r.entry_key: {k: v for k, v in r.values.items() if k not in ("TidspunktSubmit", "Filnavn")}
           for r in out.rendered}
    for r in out.rendered:
        assert r.data is not None
        if fmt.serialisation == "kremt-xml":
            shared = request.getfixturevalue("shared")
            schema = xsd_for(shared, fmt.format_id)
            doc = etree.fromstring(r.data)
            assert schema.validate(doc), schema.error_log.last_error
        else:
            doc = json.loads(r.data)
            jsonschema.Draft202012Validator(json.loads((ROOT / "registry_exports" / Path(fmt.source or "").name
                                                        .replace(".yaml", ".schema.json")).read_text())).validate(doc)
            assert doc["patient"]["national_id"] == NID and doc["message_kind"] == "N"
    golden = GOLDEN / m.mapping_id / f"{example.stem}.json"
    if os.environ.get("UPDATE_GOLDEN") or not golden.exists():
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(json.dumps(got, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    expected = json.loads(golden.read_text(encoding="utf-8"))
    assert set(got) == set(expected)
    for entry, fields in expected.items():
        for name in sorted(set(fields) | set(got[entry])):
            assert got[entry].get(name) == fields.get(name), f"{example.name} entry {entry} field {name}"


def test_invalid_examples_are_rejected_with_the_reason() -> None:
    seen = 0
    for mp in mappings():
        m = load_mapping(mp)
        template = bundled_template(m.template_id)
        folder = content_dir("templates") / "examples" / m.template_id.split(".")[1]
        for p in sorted(folder.glob("invalid_*.json")):
            if p.name.endswith(".expected.json"):
                continue
            out = export_composition(read_composition(p), m, template, ctx(), today=TODAY)  # type: ignore[arg-type]
            assert not out.ok and out.issues[0].code == "EXP005" and not out.rendered, p
            seen += 1
    assert seen >= 6


def test_json_schema_files_match_their_definitions() -> None:
    for fmt in bundled_formats().values():
        if fmt.serialisation != "json":
            continue
        path = ROOT / "registry_exports" / Path(fmt.source or "").name.replace(".yaml", ".schema.json")
        assert json.loads(path.read_text(encoding="utf-8")) == json_schema(fmt), f"regenerate {path.name}"
        jsonschema.Draft202012Validator.check_schema(json_schema(fmt))


@pytest.mark.parametrize("key", sorted(k for k, f in bundled_formats().items() if f.serialisation == "kremt-xml"))
def test_empty_kremt_skeleton_is_schema_valid(key: str, shared: Path) -> None:
    """Every element in order, empty where allowed, booleans false: the XSD's structure is met by our definition."""
    fmt = bundled_formats()[key]
    values, issues = fill_values(fmt, ctx())
    assert not issues
    schema = xsd_for(shared, fmt.format_id)
    assert schema.validate(etree.fromstring(to_xml(fmt, values))), schema.error_log.last_error


def test_our_definition_agrees_with_the_xsd_code_lists(shared: Path) -> None:
    """Every code in our KREMT definitions is one the XSD enumerates for that element (checked via the XSD)."""
    for fmt in bundled_formats().values():
        if fmt.serialisation != "kremt-xml":
            continue
        schema = xsd_for(shared, fmt.format_id)
        base, _ = fill_values(fmt, ctx())
        for f in fmt.fields:
            if f.type != "code" or f.fill or not f.codes:
                continue
            for code in f.codes:
                values = dict(base)
                values[f.name] = code
                assert schema.validate(etree.fromstring(to_xml(fmt, values))), (fmt.key, f.name, code)


# --- rules ----------------------------------------------------------------------------------------------------

UTR = "kreftregisteret.KliniskProstataUtredning"


def codes_of(issues: list) -> list[str]:  # type: ignore[type-arg]
    return [i.code for i in issues]


def test_required_hidden_pattern_and_or_fields() -> None:
    fmt = find_format(UTR)
    assert fmt is not None
    values, _ = fill_values(fmt, ctx())
    issues = check_values(fmt, values, today=TODAY)
    assert "EXP002" in codes_of(issues)  # e.g. SykehusnavnRHF
    values.update(FunnUtredning="3", PSAVerdi="12,5")
    hidden = [i for i in check_values(fmt, values, today=TODAY) if i.instance_path == "PSAVerdi"]
    assert [i.code for i in hidden] == ["EXP003"]  # PSA is shown only when FunnUtredning is 1
    values.update(FunnUtredning="1", PSAVerdi="12.5")
    bad = [i for i in check_values(fmt, values, today=TODAY) if i.instance_path == "PSAVerdi"]
    assert [i.code for i in bad] == ["EXP001"] and "pattern" in bad[0].message  # decimal comma required
    values.update(PSAVerdi="", PSAVerdiUkjent="99")
    assert not [i for i in check_values(fmt, values, today=TODAY) if i.instance_path == "PSAVerdi"]
    values.update(Diagnosedato="2999-01-01")
    future = [i for i in check_values(fmt, values, today=TODAY) if i.instance_path == "Diagnosedato"]
    assert future and "after the export date" in future[0].message
    values.update(WHOStatus="7")
    assert any(i.code == "EXP001" and i.instance_path == "WHOStatus" for i in check_values(fmt, values, today=TODAY))


def test_identity_is_checked_and_never_shown() -> None:
    fmt = find_format(UTR)
    assert fmt is not None
    bad = "01010012357"
    r = render(fmt, {}, ctx(national_id=bad), today=TODAY)
    assert r.data is None and "EXP004" in codes_of(r.issues)
    assert all(bad not in str(i) for i in r.issues)
    assert bad not in repr(ctx(national_id=bad))
    r = render(fmt, {}, ctx(national_id=None), today=TODAY)
    assert "EXP004" in codes_of(r.issues)


def test_message_kinds() -> None:
    straale = find_format("kreftregisteret.KliniskProstataStraalebehandling")
    assert straale is not None and not straale.supports_annulment
    r = render(straale, {}, ctx(message_kind="C"), today=TODAY)
    assert "EXP011" in codes_of(r.issues)
    nfr = find_format("nfr.Fracture")
    assert nfr is not None
    r = render(nfr, {}, ctx(message_kind="C", message_version=2, message_id="m-1"), today=TODAY)
    assert r.ok and r.data is not None
    doc = json.loads(r.data)
    assert doc["message_kind"] == "C" and "data" not in doc and doc["message_version"] == 2
    assert r.file_name == "nfr.Fracture-m-1-v2.json"
    utr = find_format(UTR)
    assert utr is not None
    values, _ = fill_values(utr, ctx(message_kind="C", message_version=1))
    assert values["FeilSkjema"] is True and values["VersjonIP"] == 1


def test_format_definition_errors_are_reported() -> None:
    with pytest.raises(ParseError) as exc:
        parse_format({"format": "x.Y", "version": "1.0", "title": "t", "registry": "r", "serialisation": "json",
                      "fields": [{"name": "a", "type": "texxt"}]}, source="f.yaml")
    assert exc.value.code == "EXP008" and "fields/0/type" in str(exc.value)
    with pytest.raises(ParseError, match="unknown field"):
        parse_format({"format": "x.Y", "version": "1.0", "title": "t", "registry": "r", "serialisation": "json",
                      "fields": [{"name": "a", "type": "text", "shown_when": [{"field": "b", "in": ["1"]}]}]})
