"""The project's own content: the templates in ``templates/`` and their example compositions.

- every ``.oet`` compiles with our compiler to exactly the checked-in ``.opt`` (byte for byte: the compiler's output
  is deterministic, so no normalisation is needed; a stale OPT fails here with the command that refreshes it);
- every compiled OPT passes ``check_opt`` without errors;
- every example under ``templates/examples/<template>/`` validates clean; every ``invalid_*.json`` gives exactly
  the error codes at the template paths its ``invalid_*.expected.json`` lists;
- every FLAT example (``*.flat.json``) converts with our FLAT converter and validates clean, and is the FLAT form
  of its canonical twin;
- template ids are unique and do not collide with template ids in the shared corpus;
- every registry field that ``docs/journal-coverage.md`` maps to an archetype path is reachable in the template
  that feeds that registry message (no template rule excludes it).
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

import pytest

from openehr_kit.compiler import compile_to_opt
from openehr_kit.compiler.oet import load_oet
from openehr_kit.diagnostics import Severity
from openehr_kit.opt.checks import check_opt
from openehr_kit.opt.loader import load_opt
from openehr_kit.rm.canonical_json import read_canonical_json
from openehr_kit.rm.instance import to_canonical_json
from openehr_kit.validation.validator import validate_composition

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
ARCHETYPES = ROOT / "archetypes"
EXAMPLES = TEMPLATES / "examples"
COVERAGE_DOC = ROOT / "docs" / "journal-coverage.md"

OETS = sorted(TEMPLATES.glob("*.oet"))
OPTS = sorted(TEMPLATES.glob("*.opt"))
SHORT_NAMES = [p.stem for p in OETS]

#: the templates this part of the project must ship (issue 6, part 3)
REQUIRED = {
    "prostate_cancer_investigation", "prostate_cancer_surgery", "prostate_cancer_radiotherapy",
    "fracture_registration", "child_diabetes_annual_control",
}


def _id(p: Path) -> str:
    return p.name


@lru_cache(maxsize=None)
def template(short: str):  # type: ignore[no-untyped-def]
    return load_opt(TEMPLATES / f"{short}.opt")


def _examples(short: str) -> list[Path]:
    d = EXAMPLES / short
    return sorted(p for p in d.glob("*.json") if not p.name.startswith("invalid_") and not p.name.endswith(
        ".flat.json")) if d.is_dir() else []


def _invalid(short: str) -> list[Path]:
    d = EXAMPLES / short
    return sorted(p for p in d.glob("invalid_*.json") if not p.name.endswith(".expected.json")) if d.is_dir() else []


def _flats(short: str) -> list[Path]:
    d = EXAMPLES / short
    return sorted(d.glob("*.flat.json")) if d.is_dir() else []


def _read(path: Path):  # type: ignore[no-untyped-def]
    return read_canonical_json(json.loads(path.read_text(encoding="utf-8")), source=str(path),
                               root_type="COMPOSITION")


def _show(issues) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(f"  {i.severity.name} {i.code} {i.template_path}: {i.message}" for i in issues)


# ---------------------------------------------------------------------------------------------------------------
# inventory


def test_required_templates_are_present() -> None:
    assert REQUIRED <= set(SHORT_NAMES), f"missing templates: {sorted(REQUIRED - set(SHORT_NAMES))}"
    # every source has its compiled OPT and every OPT its source
    assert [p.stem for p in OPTS] == SHORT_NAMES


@pytest.mark.parametrize("short", SHORT_NAMES)
def test_each_template_ships_examples(short: str) -> None:
    valid, invalid, flats = _examples(short), _invalid(short), _flats(short)
    assert len(valid) >= 3, f"{short}: {len(valid)} valid examples, at least 3 wanted"
    assert len(invalid) >= 2, f"{short}: {len(invalid)} invalid examples, at least 2 wanted"
    for p in invalid:
        assert p.with_name(p.stem + ".expected.json").is_file(), f"{p.name} has no .expected.json sidecar"
    assert {p.name[: -len(".flat.json")] for p in flats} == {p.stem for p in valid}, \
        f"{short}: every valid example needs its FLAT twin (*.flat.json) and vice versa"


# ---------------------------------------------------------------------------------------------------------------
# (a) sources and compiled templates agree, (b) compiled templates check clean


@pytest.mark.parametrize("oet", OETS, ids=_id)
def test_checked_in_opt_is_the_compiled_source(oet: Path) -> None:
    compiled = compile_to_opt(oet, [ARCHETYPES])
    opt = oet.with_suffix(".opt")
    assert opt.is_file(), f"{opt.name} is missing"
    assert opt.read_bytes() == compiled, (
        f"{opt.relative_to(ROOT)} is stale against its source; refresh it with\n"
        f"  openehr-kit template compile {oet.relative_to(ROOT)} --archetypes archetypes -o {opt.relative_to(ROOT)}"
    )


@pytest.mark.parametrize("opt", OPTS, ids=_id)
def test_compiled_template_has_no_error(opt: Path) -> None:
    issues = check_opt(opt)
    errors = [i for i in issues if i.severity is Severity.ERROR]
    assert not errors, _show(errors)


_XSD = "corpus/xsd/openEHR-specifications-ITS-XML_{}"


def test_sources_and_templates_pass_the_official_schemas(shared: Path) -> None:
    from lxml import etree

    oet_xsd = shared / _XSD.format("HEAD/components/OET/latest/CompositionTemplate.xsd")
    opt_xsd = shared / _XSD.format("Release-1.0.2v2/components/ALL/Template.xsd")
    for xsd, files in ((oet_xsd, OETS), (opt_xsd, OPTS)):
        if not xsd.is_file():
            pytest.skip(f"{xsd} not in the shared corpus")
        schema = etree.XMLSchema(etree.parse(str(xsd)))
        for f in files:
            assert schema.validate(etree.parse(str(f))), f"{f.name}: {schema.error_log}"


@pytest.mark.parametrize("oet", OETS, ids=_id)
def test_template_id_is_the_project_form(oet: Path) -> None:
    src = load_oet(oet)
    assert src.name == f"openehr-kit.{oet.stem}.v0", "template id (the OET name) must be openehr-kit.<file>.v0"
    assert src.name.isascii()
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", src.id), src.id
    assert template(oet.stem).template_id == src.name


# ---------------------------------------------------------------------------------------------------------------
# (c) examples


@pytest.mark.parametrize("example", [p for s in SHORT_NAMES for p in _examples(s)],
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_example_validates_clean(example: Path) -> None:
    tmpl = template(example.parent.name)
    comp = _read(example)
    issues = validate_composition(comp, tmpl, file=str(example))
    assert not issues, _show(issues)


def _expected(invalid: Path) -> dict:  # type: ignore[type-arg]
    return json.loads(invalid.with_name(invalid.stem + ".expected.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("invalid", [p for s in SHORT_NAMES for p in _invalid(s)],
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_invalid_example_gives_its_expected_issues(invalid: Path) -> None:
    tmpl = template(invalid.parent.name)
    expected = _expected(invalid)
    assert expected["template_id"] == tmpl.template_id
    assert expected["issues"], "an invalid example must expect at least one issue"
    issues = validate_composition(_read(invalid), tmpl, file=str(invalid))
    got = Counter((i.code, i.template_path) for i in issues if i.severity is Severity.ERROR)
    want = Counter((e["code"], e["template_path"]) for e in expected["issues"])
    assert got == want, f"expected {sorted(want.elements())}\ngot:\n{_show(issues)}"


# ---------------------------------------------------------------------------------------------------------------
# (d) FLAT examples


def _flat_module():  # type: ignore[no-untyped-def]
    return pytest.importorskip("openehr_kit.flat", reason="the FLAT converter (openehr_kit.flat) is not available")


@pytest.mark.parametrize("flat", [p for s in SHORT_NAMES for p in _flats(s)],
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_flat_example_converts_and_validates_clean(flat: Path) -> None:
    F = _flat_module()
    tmpl = template(flat.parent.name)
    doc = json.loads(flat.read_text(encoding="utf-8"))
    comp, issues = F.flat_to_composition(copy.deepcopy(doc), tmpl, source=str(flat))
    issues = list(issues) + validate_composition(comp, tmpl, file=str(flat))
    assert not issues, _show(issues)
    # the FLAT file is the FLAT form of its canonical twin: both give the same composition
    twin = flat.with_name(flat.name[: -len(".flat.json")] + ".json")
    assert to_canonical_json(comp) == to_canonical_json(_read(twin)), \
        f"{flat.name} and {twin.name} describe different compositions"


@pytest.mark.parametrize("example", [p for s in SHORT_NAMES for p in _examples(s)],
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_flat_twin_is_what_the_converter_writes(example: Path) -> None:
    F = _flat_module()
    tmpl = template(example.parent.name)
    flat = json.loads(example.with_name(example.stem + ".flat.json").read_text(encoding="utf-8"))
    assert F.composition_to_flat(_read(example), tmpl) == flat, (
        f"{example.stem}.flat.json is not what composition_to_flat writes for {example.name}; regenerate it")


# ---------------------------------------------------------------------------------------------------------------
# (e) template ids


def test_template_ids_are_unique() -> None:
    ids = [template(s).template_id for s in SHORT_NAMES]
    uids = [load_oet(p).id for p in OETS]
    assert len(set(ids)) == len(ids), Counter(ids).most_common(3)
    assert len(set(uids)) == len(uids), Counter(uids).most_common(3)


_OPT_TID = re.compile(r"<template_id>\s*<value>\s*([^<]+?)\s*</value>", re.S)
_OPT_UID = re.compile(r"<uid>\s*<value>\s*([^<]+?)\s*</value>", re.S)
_OET_NAME = re.compile(r"<(?:\w+:)?name>\s*([^<]+?)\s*</(?:\w+:)?name>")
_OET_ID = re.compile(r"<(?:\w+:)?id>\s*([^<]+?)\s*</(?:\w+:)?id>")


def test_template_ids_do_not_collide_with_the_corpus(shared: Path) -> None:
    corpus_ids: set[str] = set()
    corpus_uids: set[str] = set()
    for p in (shared / "corpus").rglob("*.opt"):
        head = p.read_text(encoding="utf-8", errors="replace")[:20000]
        corpus_ids.update(m.group(1) for m in _OPT_TID.finditer(head))
        corpus_uids.update(m.group(1).lower() for m in _OPT_UID.finditer(head))
    for p in (shared / "corpus").rglob("*.oet"):
        head = p.read_text(encoding="utf-8", errors="replace")[:4000]
        corpus_ids.update(m.group(1) for m in _OET_NAME.finditer(head))
        corpus_uids.update(m.group(1).lower() for m in _OET_ID.finditer(head))
    assert corpus_ids, "no template ids found in the shared corpus"
    ours = {template(s).template_id for s in SHORT_NAMES}
    assert not ours & corpus_ids, sorted(ours & corpus_ids)
    assert not {load_oet(p).id.lower() for p in OETS} & corpus_uids
    ckm = shared / "corpus" / "ckm"
    if ckm.is_dir():
        clash = [p for p in ARCHETYPES.glob("*.adl") if any(ckm.rglob(p.name))]
        assert not clash, f"archetype ids also in the CKM corpus: {[p.name for p in clash]}"


# ---------------------------------------------------------------------------------------------------------------
# registry fields mapped in docs/journal-coverage.md are reachable in the templates

#: coverage-doc section -> the templates that feed that registry message
SECTIONS = {
    "KliniskProstataUtredning v4.0": ["prostate_cancer_investigation"],
    "KliniskProstataKirurgi v4.0": ["prostate_cancer_surgery"],
    "KliniskProstataStraalebehandling v4.0": ["prostate_cancer_radiotherapy"],
    "Norsk frakturregister": ["fracture_registration", "fracture_reoperation"],
    "Barnediabetesregisteret": ["child_diabetes_annual_control"],
}
#: RM attributes a mapping may name that a template does not constrain (always there)
RM_ATTRIBUTES = ("/time",)


def _sections() -> dict[str, list[tuple[str, str, str]]]:
    """Section -> (field, archetype id, path) for every mapped row of the section's first table."""
    text = COVERAGE_DOC.read_text(encoding="utf-8")
    out: dict[str, list[tuple[str, str, str]]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("## "):
            title = line[3:].strip()
            current = next((k for k in SECTIONS if title.startswith(k)), None)
            if current:
                out.setdefault(current, [])
            continue
        if current is None or not line.startswith("|") or "**not covered**" in line:
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        arch_cell = next((c for c in cells if re.match(r"(EVALUATION|ACTION|OBSERVATION|ADMIN_ENTRY|CLUSTER)\.", c)),
                         None)
        if arch_cell is None:
            continue
        i = cells.index(arch_cell)
        entry = arch_cell.split("→")[0].strip()
        # the path column and any further paths the note names (other elements of the same field)
        for path in re.findall(r"`(/[^`]*)`", " ".join(cells[i + 1:i + 3])):
            if path != "/null_flavour":
                out[current].append((cells[0], f"openEHR-EHR-{entry}", path))
    return out


def _template_paths(short: str) -> set[str]:
    return {n.path for n in template(short).iter_nodes()}


@pytest.mark.parametrize("section", list(SECTIONS))
def test_mapped_registry_fields_are_reachable_in_the_templates(section: str) -> None:
    rows = _sections().get(section)
    assert rows, f"no mapped rows found for section {section!r} in {COVERAGE_DOC.name}"
    shorts = SECTIONS[section]
    paths = set().union(*(_template_paths(s) for s in shorts))
    missing = []
    for field, archetype_id, path in rows:
        full = f"/content[{archetype_id}]{path}"
        if path in RM_ATTRIBUTES and any(p.startswith(f"/content[{archetype_id}]") for p in paths):
            continue
        if full not in paths:
            missing.append(f"{field}: {full}")
    assert not missing, f"registry fields of {section} not reachable in {shorts}:\n  " + "\n  ".join(missing)
