"""OPT 1.4 loader, query API and checks on small hand-written templates (no shared corpus needed)."""

from __future__ import annotations

import pytest

from openehr_kit.am.model import (
    ArchetypeSlot,
    CArchetypeRoot,
    CBoolean,
    CCodePhrase,
    CComplexObject,
    CDate,
    CDuration,
    CDvOrdinal,
    CDvQuantity,
    CInteger,
    CodePhrase,
    ConstraintRef,
    CPrimitiveObject,
    CString,
    Interval,
)
from openehr_kit.diagnostics import ParseError, Severity
from openehr_kit.opt.checks import check_opt, errors
from openehr_kit.opt.loader import load_opt, parse_opt

# ---------------------------------------------------------------------------------------------------------------
# A tiny OPT writer: enough XML to exercise every constraint type the loader knows


def iv(tag: str, lo: int | None, hi: int | None, *, typ: str = "") -> str:
    parts = [f"<lower_included>true</lower_included>",
             f"<upper_included>{'false' if hi is None else 'true'}</upper_included>",
             f"<lower_unbounded>{'true' if lo is None else 'false'}</lower_unbounded>",
             f"<upper_unbounded>{'true' if hi is None else 'false'}</upper_unbounded>"]
    if lo is not None:
        parts.append(f"<lower>{lo}</lower>")
    if hi is not None:
        parts.append(f"<upper>{hi}</upper>")
    return f"<{tag}{typ}>{''.join(parts)}</{tag}>"


def obj(xsi: str, rm: str, nid: str = "", inner: str = "", occ: tuple[int, int | None] = (1, 1)) -> str:
    return (f'<children xsi:type="{xsi}"><rm_type_name>{rm}</rm_type_name>{iv("occurrences", *occ)}'
            f"<node_id>{nid}</node_id>{inner}</children>")


def attr(name: str, *children: str, multiple: bool = False, existence: tuple[int, int | None] = (0, 1)) -> str:
    kind = "C_MULTIPLE_ATTRIBUTE" if multiple else "C_SINGLE_ATTRIBUTE"
    card = ("<cardinality><is_ordered>false</is_ordered><is_unique>false</is_unique>"
            f"{iv('interval', 0, None)}</cardinality>") if multiple else ""
    return (f'<attributes xsi:type="{kind}"><rm_attribute_name>{name}</rm_attribute_name>'
            f"{iv('existence', *existence)}{''.join(children)}{card}</attributes>")


def name_constraint(text: str) -> str:
    value = obj("C_PRIMITIVE_OBJECT", "STRING", inner=f'<item xsi:type="C_STRING"><list>{text}</list></item>')
    return attr("name", obj("C_COMPLEX_OBJECT", "DV_TEXT", inner=attr("value", value, existence=(1, 1))),
                existence=(1, 1))


def terms(*codes: tuple[str, str]) -> str:
    return "".join(f'<term_definitions code="{c}"><items id="text">{t}</items>'
                   f'<items id="description">{t} (description)</items></term_definitions>' for c, t in codes)


def element(nid: str, value: str = "", name: str | None = None, occ: tuple[int, int | None] = (0, 1)) -> str:
    inner = (name_constraint(name) if name else "") + (attr("value", value) if value else "")
    return obj("C_COMPLEX_OBJECT", "ELEMENT", nid, inner, occ)


QUANTITY = obj("C_DV_QUANTITY", "DV_QUANTITY", inner=(
    "<property><terminology_id><value>openehr</value></terminology_id><code_string>125</code_string></property>"
    f"<list>{iv('magnitude', 0, 1000)}{iv('precision', 0, 0)}<units>mm[Hg]</units></list>"))
ORDINAL = obj("C_DV_ORDINAL", "DV_ORDINAL", inner="".join(
    f"<list><value>{v}</value><symbol><value>x</value><defining_code><terminology_id><value>local</value>"
    f"</terminology_id><code_string>{c}</code_string></defining_code></symbol></list>"
    for v, c in ((1, "at0010"), (2, "at0011"))))
CODED = obj("C_COMPLEX_OBJECT", "DV_CODED_TEXT", inner=attr("defining_code", obj(
    "C_CODE_PHRASE", "CODE_PHRASE", inner="<terminology_id><value>local</value></terminology_id>"
    "<code_list>at0010</code_list><code_list>at0011</code_list>"), existence=(1, 1)))
DATE = obj("C_COMPLEX_OBJECT", "DV_DATE", inner=attr("value", obj(
    "C_PRIMITIVE_OBJECT", "DATE", inner='<item xsi:type="C_DATE"><pattern>YYYY-MM-??</pattern></item>'),
    existence=(1, 1)))
DURATION = obj("C_COMPLEX_OBJECT", "DV_DURATION", inner=attr("value", obj(
    "C_PRIMITIVE_OBJECT", "DURATION",
    inner=f'<item xsi:type="C_DURATION"><pattern>PYMWD</pattern>{iv("range", None, None)}</item>'),
    existence=(1, 1)))
COUNT = obj("C_COMPLEX_OBJECT", "DV_COUNT", inner=attr("magnitude", obj(
    "C_PRIMITIVE_OBJECT", "INTEGER",
    inner=f'<item xsi:type="ns2:C_INTEGER" xmlns:ns2="http://schemas.openehr.org/v1">{iv("range", 0, 10)}</item>'),
    existence=(1, 1)))
BOOLEAN = obj("C_COMPLEX_OBJECT", "DV_BOOLEAN", inner=attr("value", obj(
    "C_PRIMITIVE_OBJECT", "BOOLEAN",
    inner='<item xsi:type="C_BOOLEAN"><true_valid>true</true_valid><false_valid>false</false_valid></item>'),
    existence=(1, 1)))
SLOT = ('<children xsi:type="ARCHETYPE_SLOT"><rm_type_name>CLUSTER</rm_type_name>'
        f'{iv("occurrences", 0, None)}<node_id>at0020</node_id><includes>'
        r"<string_expression>archetype_id/value matches {/openEHR-EHR-CLUSTER\.device(-[a-zA-Z0-9_]+)*\.v1/}"
        "</string_expression>"
        '<expression xsi:type="EXPR_BINARY_OPERATOR"><type>Boolean</type><operator>2007</operator>'
        "<precedence_overridden>false</precedence_overridden>"
        '<left_operand xsi:type="EXPR_LEAF"><type>String</type>'
        '<item xmlns:xs="http://www.w3.org/2001/XMLSchema" xsi:type="xs:string">archetype_id/value</item>'
        "<reference_type>attribute</reference_type></left_operand>"
        '<right_operand xsi:type="EXPR_LEAF"><type>String</type><item xsi:type="C_STRING">'
        r"<pattern>openEHR-EHR-CLUSTER\.device(-[a-zA-Z0-9_]+)*\.v1</pattern></item>"
        "<reference_type>constraint</reference_type></right_operand></expression></includes></children>")
CLUSTER = ('<children xsi:type="C_ARCHETYPE_ROOT" slot_node_id="at0020"><rm_type_name>CLUSTER</rm_type_name>'
           f'{iv("occurrences", 0, 1)}<node_id>at0000</node_id>'
           + attr("items", element("at0001", CODED), multiple=True, existence=(1, 1))
           + "<archetype_id><value>openEHR-EHR-CLUSTER.device.v1</value></archetype_id>"
           + terms(("at0000", "Device"), ("at0001", "Device name"), ("at0010", "Pump"), ("at0011", "Cuff"))
           + "</children>")

ITEMS = [
    element("at0004", QUANTITY, name="Systolic"),
    element("at0004", QUANTITY, name="Diastolic O'Brien"),
    element("at0005", ORDINAL + CODED),
    element("at0006", DATE),
    element("at0007", DURATION),
    element("at0008", COUNT),
    element("at0009", BOOLEAN),
    element("at0012"),
    SLOT,
    CLUSTER,
]
BP_TERMS = terms(("at0000", "Blood pressure"), ("at0001", "History"), ("at0002", "Any event"),
                 ("at0003", "Tree"), ("at0004", "Pressure"), ("at0005", "Position"), ("at0006", "Date"),
                 ("at0007", "Duration"), ("at0008", "Count"), ("at0009", "Flag"), ("at0010", "Standing"),
                 ("at0011", "Lying"), ("at0012", "Anything"), ("at0020", "Device"))
OBSERVATION = (
    '<children xsi:type="C_ARCHETYPE_ROOT"><rm_type_name>OBSERVATION</rm_type_name>'
    f'{iv("occurrences", 0, 1)}<node_id>at0000</node_id>'
    + attr("data", obj("C_COMPLEX_OBJECT", "HISTORY", "at0001", attr(
        "events", obj("C_COMPLEX_OBJECT", "POINT_EVENT", "at0002", attr(
            "data", obj("C_COMPLEX_OBJECT", "ITEM_TREE", "at0003", attr("items", *ITEMS, multiple=True)),
            existence=(1, 1)), occ=(0, None)), multiple=True)), existence=(1, 1))
    + "<archetype_id><value>openEHR-EHR-OBSERVATION.blood_pressure.v2</value></archetype_id>"
    + BP_TERMS
    + '<term_bindings terminology="SNOMED-CT"><items code="at0004"><value><terminology_id><value>SNOMED-CT'
      "</value></terminology_id><code_string>271649006</code_string></value></items></term_bindings>"
    + "</children>"
)
CONTEXT_REF = obj("C_COMPLEX_OBJECT", "EVENT_CONTEXT", inner=attr("setting", obj(
    "C_COMPLEX_OBJECT", "DV_CODED_TEXT", inner=attr("defining_code", obj(
        "CONSTRAINT_REF", "CODE_PHRASE", inner="<reference>ac0001</reference>"), existence=(1, 1))),
    existence=(1, 1)))

DESCRIPTION = (
    '<description><original_author id="name">Ann Author</original_author><lifecycle_state>draft</lifecycle_state>'
    "<details><language><terminology_id><value>ISO_639-1</value></terminology_id><code_string>en</code_string>"
    "</language><purpose>Testing</purpose><keywords>bp</keywords></details></description>"
)
LANGUAGE = ("<language><terminology_id><value>ISO_639-1</value></terminology_id>"
            "<code_string>en</code_string></language>")


def opt_xml(*, definition_attrs: str | None = None, header: str | None = None, tail: str = "",
            description: str = DESCRIPTION, root_terms: str | None = None) -> bytes:
    attrs = definition_attrs if definition_attrs is not None else (
        attr("content", OBSERVATION, multiple=True) + attr("context", CONTEXT_REF))
    head = header if header is not None else (
        f"{LANGUAGE}{description}<uid><value>0a1b</value></uid>"
        "<template_id><value>test.bp.v1</value></template_id><concept>Test BP</concept>")
    rterms = root_terms if root_terms is not None else terms(("at0000", "Encounter"))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<template xmlns="http://schemas.openehr.org/v1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"{head}<definition><rm_type_name>COMPOSITION</rm_type_name>{iv('occurrences', 1, 1)}"
        f"<node_id>at0000</node_id>{attrs}"
        "<archetype_id><value>openEHR-EHR-COMPOSITION.encounter.v1</value></archetype_id>"
        f"{rterms}</definition>{tail}</template>"
    ).encode()


COMPONENT_DE = (
    '<component_ontologies archetype_id="openEHR-EHR-OBSERVATION.blood_pressure.v2">'
    '<term_definitions language="de"><items code="at0004"><items id="text">Druck</items></items>'
    '<items code="at0000"><items id="text">Blutdruck</items></items></term_definitions>'
    '<constraint_definitions language="en"><items code="ac0001"><items id="text">Setting</items></items>'
    "</constraint_definitions></component_ontologies>"
)
ANNOTATION = ("<annotations path=\"[openEHR-EHR-COMPOSITION.encounter.v1]/content[openEHR-EHR-OBSERVATION."
              "blood_pressure.v2]/data[at0001]/events[at0002]/data[at0003]/items[at0004, 'Systolic']\">"
              '<items id="helpText">Sitting</items></annotations>')
DEFAULTS = ("<constraints><attributes><rm_attribute_name>value</rm_attribute_name><children>"
            '<default_value xsi:type="DV_CODED_TEXT"><value>Standing</value><defining_code>'
            "<code_string>at0010</code_string></defining_code></default_value></children>"
            "<differential_path>[openEHR-EHR-COMPOSITION.encounter.v1]/content[openEHR-EHR-OBSERVATION."
            "blood_pressure.v2]/data[at0001]/events[at0002]/data[at0003]/items[at0005]</differential_path>"
            "</attributes></constraints>")

BP = "/content[openEHR-EHR-OBSERVATION.blood_pressure.v2]"
ITEMS_PATH = f"{BP}/data[at0001]/events[at0002]/data[at0003]/items"


@pytest.fixture(scope="module")
def template():  # type: ignore[no-untyped-def]
    return parse_opt(opt_xml(tail=COMPONENT_DE + ANNOTATION + DEFAULTS), source="test.opt")


# ---------------------------------------------------------------------------------------------------------------
# Loading


def test_header(template) -> None:  # type: ignore[no-untyped-def]
    assert template.template_id == "test.bp.v1"
    assert template.concept == "Test BP"
    assert template.language == "en"
    assert template.uid == "0a1b"
    assert template.description["original_author"] == {"name": "Ann Author"}
    assert template.description["details"]["en"]["purpose"] == "Testing"
    assert template.description["details"]["en"]["keywords"] == ["bp"]
    assert template.root_archetype_id == "openEHR-EHR-COMPOSITION.encounter.v1"
    assert template.rm_type == "COMPOSITION"
    assert template.source == "test.opt"


def test_load_opt_from_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "t.opt"
    p.write_bytes(opt_xml())
    t = load_opt(p)
    assert t.template_id == "test.bp.v1" and t.source == str(p)


def test_attributes_and_intervals(template) -> None:  # type: ignore[no-untyped-def]
    content = template.definition.attribute("content")
    assert content.is_multiple and content.cardinality.interval == Interval(0, None)
    assert content.existence == Interval(0, 1)
    context = template.definition.attribute("context")
    assert not context.is_multiple and context.cardinality is None
    event = template.node(f"{BP}/data[at0001]/events[at0002]")
    assert event.occurrences == Interval(0, None) and str(event.occurrences) == "0..*"
    assert event.occurrences.upper_unbounded


def test_archetype_roots_and_terminologies(template) -> None:  # type: ignore[no-untyped-def]
    obs = template.node(BP)
    assert isinstance(obs, CArchetypeRoot)
    assert obs.node_id == "at0000"
    assert obs.terminology.text("at0004") == "Pressure"
    # other languages come from the component ontology of the same archetype
    assert obs.terminology.text("at0004", "de") == "Druck"
    assert obs.terminology.term_bindings["SNOMED-CT"]["at0004"] == CodePhrase("SNOMED-CT", "271649006")
    assert obs.terminology.constraint("ac0001", "en") == {"text": "Setting"}
    cluster = template.node(f"{ITEMS_PATH}[openEHR-EHR-CLUSTER.device.v1]")
    assert isinstance(cluster, CArchetypeRoot)
    assert cluster.terminology.text("at0001") == "Device name"
    assert template.languages == ["en", "de"]
    assert "openEHR-EHR-OBSERVATION.blood_pressure.v2" in template.component_terminologies
    assert template.constraint_definitions["openEHR-EHR-OBSERVATION.blood_pressure.v2"]["en"]["ac0001"]


def test_domain_types(template) -> None:  # type: ignore[no-untyped-def]
    q = template.node(f"{ITEMS_PATH}[at0004 and name/value='Systolic']/value")
    assert isinstance(q, CDvQuantity)
    assert q.property == CodePhrase("openehr", "125")
    assert q.item_for("mm[Hg]").magnitude == Interval(0.0, 1000.0)
    assert q.item_for("mm[Hg]").precision == Interval(0, 0)
    values = template.nodes(f"{ITEMS_PATH}[at0005]/value")
    assert [type(v) for v in values] == [CDvOrdinal, CComplexObject]
    ordinal = values[0]
    assert [(i.value, i.symbol.code_string) for i in ordinal.list] == [(1, "at0010"), (2, "at0011")]
    # a step continues from every alternative: only the DV_CODED_TEXT one has a defining_code
    cp = template.node(f"{ITEMS_PATH}[at0005]/value/defining_code")
    coded = values[1]
    assert cp is coded.attribute("defining_code").children[0]
    assert isinstance(cp, CCodePhrase) and cp.terminology_id == "local" and cp.code_list == ["at0010", "at0011"]
    ref = template.node("/context/setting/defining_code")
    assert isinstance(ref, ConstraintRef) and ref.reference == "ac0001"


def test_primitives(template) -> None:  # type: ignore[no-untyped-def]
    date = template.node(f"{ITEMS_PATH}[at0006]/value/value")
    assert isinstance(date, CPrimitiveObject) and isinstance(date.item, CDate) and date.item.pattern == "YYYY-MM-??"
    dur = template.node(f"{ITEMS_PATH}[at0007]/value/value").item
    assert isinstance(dur, CDuration) and dur.pattern == "PYMWD" and dur.range == Interval(None, None)
    count = template.node(f"{ITEMS_PATH}[at0008]/value/magnitude").item  # ns2: prefixed xsi:type
    assert isinstance(count, CInteger) and count.range == Interval(0, 10) and count.allows(3)
    flag = template.node(f"{ITEMS_PATH}[at0009]/value/value").item
    assert isinstance(flag, CBoolean) and flag.true_valid and not flag.false_valid
    name = template.node(f"{ITEMS_PATH}[at0004 and name/value='Systolic']/name/value").item
    assert isinstance(name, CString) and name.list == ["Systolic"]


def test_slot(template) -> None:  # type: ignore[no-untyped-def]
    slot = template.node(f"{ITEMS_PATH}[at0020]")
    assert isinstance(slot, ArchetypeSlot)
    (inc,) = slot.includes
    assert inc.target == "archetype_id/value"
    assert inc.pattern == r"openEHR-EHR-CLUSTER\.device(-[a-zA-Z0-9_]+)*\.v1"
    assert inc.expression.startswith("archetype_id/value matches {/")
    assert slot.allows("openEHR-EHR-CLUSTER.device.v1")
    assert not slot.allows("openEHR-EHR-CLUSTER.anatomical_location.v1")


def test_annotations_and_defaults(template) -> None:  # type: ignore[no-untyped-def]
    (path,) = template.annotations
    assert template.annotations[path] == {"helpText": "Sitting"}
    # annotation paths ("[root]/...[at0004, 'Systolic']") resolve like any path
    systolic = template.node(f"{ITEMS_PATH}[at0004 and name/value='Systolic']")
    assert template.node(path) is systolic
    assert template.annotation_for(f"{ITEMS_PATH}[at0004 and name/value='Systolic']") == {"helpText": "Sitting"}
    (dv,) = template.default_values
    assert dv.rm_attribute_name == "value" and dv.value["_type"] == "DV_CODED_TEXT"
    assert dv.owner is template.node(f"{ITEMS_PATH}[at0005]")
    coded = template.nodes(f"{ITEMS_PATH}[at0005]/value")[1]
    assert coded.default_value["defining_code"]["code_string"] == "at0010"


# ---------------------------------------------------------------------------------------------------------------
# Queries


def test_name_predicated_siblings(template) -> None:  # type: ignore[no-untyped-def]
    sys_ = template.node(f"{ITEMS_PATH}[at0004 and name/value='Systolic']")
    dia = template.node(f"{ITEMS_PATH}[at0004 and name/value='Diastolic O\\'Brien']")
    assert sys_ is not None and dia is not None and sys_ is not dia
    # the short form and spacing variants select the same nodes
    assert template.node(f"{ITEMS_PATH}[at0004,'Systolic']") is sys_
    assert template.node(f"{ITEMS_PATH}[at0004, 'Diastolic O\\'Brien']") is dia
    # without a name, the first sibling
    assert template.node(f"{ITEMS_PATH}[at0004]") is sys_
    paths = [i.path for i in template.iter_nodes() if i.node in (sys_, dia)]
    assert paths == [f"{ITEMS_PATH}[at0004 and name/value='Systolic']",
                     f"{ITEMS_PATH}[at0004 and name/value='Diastolic O\\'Brien']"]
    assert template.ambiguous_siblings() == []


def test_every_path_leads_back(template) -> None:  # type: ignore[no-untyped-def]
    infos = list(template.iter_nodes())
    assert infos[0].path == "/" and infos[0].node is template.definition
    for info in infos:
        assert info.node in template.nodes(info.path)
        if info.node.node_id:
            assert template.node(info.path) is info.node
    with_ids = [i.path for i in infos if i.node.node_id]
    assert len(with_ids) == len(set(with_ids))


def test_term_text_and_roots(template) -> None:  # type: ignore[no-untyped-def]
    p = f"{ITEMS_PATH}[at0004 and name/value='Systolic']"
    assert template.term_text(p) == "Pressure"
    assert template.term_text(p, "de") == "Druck"
    assert template.term_text(p, "fr") == "Pressure"  # falls back to the template language
    assert template.term(p)["description"] == "Pressure (description)"
    assert template.term_text(BP) == "Blood pressure"
    assert template.term_text("/") == "Encounter"
    inner = f"{ITEMS_PATH}[openEHR-EHR-CLUSTER.device.v1]/items[at0001]"
    assert template.term_text(inner) == "Device name"
    info = template.node_info(inner)
    assert info.archetype_id == "openEHR-EHR-CLUSTER.device.v1" and template.term_text(info) == "Device name"
    assert template.archetype_root_of(inner).archetype_id == "openEHR-EHR-CLUSTER.device.v1"
    assert template.archetype_root_of(p).archetype_id == "openEHR-EHR-OBSERVATION.blood_pressure.v2"
    assert template.archetype_root_of("/context") is template.definition
    assert template.node("/content[nope]") is None and template.term_text("/nowhere") is None


def test_iter_leaves(template) -> None:  # type: ignore[no-untyped-def]
    leaves = {(lf.path, lf.rm_type) for lf in template.iter_leaves()}
    assert (f"{ITEMS_PATH}[at0004 and name/value='Systolic']/value", "DV_QUANTITY") in leaves
    assert (f"{ITEMS_PATH}[at0005]/value", "DV_ORDINAL") in leaves
    assert (f"{ITEMS_PATH}[at0005]/value", "DV_CODED_TEXT") in leaves
    assert (f"{ITEMS_PATH}[at0012]/value", "DATA_VALUE") in leaves  # unconstrained value
    assert ("/context/setting", "DV_CODED_TEXT") in leaves  # a data value outside ELEMENTs
    assert not any("/name" in p for p, _ in leaves)
    assert all(lf.owner.node.rm_type_name in ("ELEMENT", "EVENT_CONTEXT") for lf in template.iter_leaves())


# ---------------------------------------------------------------------------------------------------------------
# Errors: ParseError with a code and a location, never a traceback


@pytest.mark.parametrize(
    ("data", "code", "where"),
    [
        (b"", "TXT004", None),
        (b"<template xmlns='http://schemas.openehr.org/v1'><language>", "XML001", None),
        (b'<!DOCTYPE x [<!ENTITY a "b">]><template/>', "XML002", None),
        (b"<archetype xmlns='http://schemas.openehr.org/v1'/>", "OPT001", None),
        (b"<template/>", "OPT001", None),
    ],
)
def test_input_errors(data: bytes, code: str, where: str | None) -> None:
    with pytest.raises(ParseError) as exc:
        parse_opt(data, source="x.opt")
    assert exc.value.code == code
    assert [i.code for i in check_opt(data)][0] == code


def test_malformed_value_is_located() -> None:
    bad = opt_xml().replace(b"<lower>0</lower><upper>1000</upper>", b"<lower>zero</lower><upper>1000</upper>", 1)
    with pytest.raises(ParseError) as exc:
        parse_opt(bad, source="x.opt")
    e = exc.value
    assert e.code == "OPT005" and e.line == 2
    assert "/template/definition/attributes[1]/children[1]/attributes[1]/children[1]" in e.message
    assert e.message.endswith("/list/magnitude")


def test_unknown_constraint_type() -> None:
    bad = opt_xml(definition_attrs=attr("context", obj("C_FOO", "EVENT_CONTEXT")))
    with pytest.raises(ParseError) as exc:
        parse_opt(bad)
    assert exc.value.code == "OPT010"
    assert "/template/definition/attributes[1]/children[1]" in exc.value.message
    assert "OPT010" in {i.code for i in errors(check_opt(bad))}


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda x: x.replace(b"<concept>Test BP</concept>", b""), "OPT002"),
        (lambda x: x.replace(b"<concept>Test BP</concept>", b"<concept>A</concept><concept>B</concept>"), "OPT003"),
        (lambda x: x.replace(b"<uid>", b"<bullfrog/><uid>"), "OPT004"),
        (lambda x: x.replace(b"<template_id><value>test.bp.v1</value>", b"<template_id><value> </value>"), "OPT002"),
    ],
)
def test_header_errors(mutate, code: str) -> None:  # type: ignore[no-untyped-def]
    data = mutate(opt_xml())
    with pytest.raises(ParseError) as exc:
        parse_opt(data)
    assert exc.value.code == code
    assert code in {i.code for i in errors(check_opt(data))}


# ---------------------------------------------------------------------------------------------------------------
# Checks


def codes(data: bytes) -> dict[str, list]:  # type: ignore[type-arg]
    out: dict[str, list] = {}  # type: ignore[type-arg]
    for i in check_opt(data):
        out.setdefault(i.code, []).append(i)
    return out


def test_clean_template_has_no_errors() -> None:
    issues = check_opt(opt_xml(tail=COMPONENT_DE + ANNOTATION + DEFAULTS))
    assert errors(issues) == [], [str(i) for i in issues]


def test_tool_extensions_are_accepted() -> None:
    # Archie's match_negated and Ocean's slot_node_id are not in the 1.0.2 XSD but carry no meaning we lose
    data = opt_xml().replace(b"</existence>", b"</existence><match_negated>false</match_negated>")
    assert errors(check_opt(data)) == []


def test_structure_findings_are_located() -> None:
    data = opt_xml().replace(b"<node_id>at0003</node_id>", b"<node_id>at0003</node_id><colour>red</colour>")
    (issue,) = codes(data)["OPT004"]
    assert issue.line == 2 and "<colour>" in issue.message
    assert issue.extra["xpath"].startswith("/template/definition/attributes[1]/children[1]/attributes[1]")
    data = opt_xml().replace(b"<concept>Test BP</concept>", b"").replace(
        b"<uid>", b"<concept>Test BP</concept><uid>")
    assert "OPT011" in codes(data)
    data = opt_xml().replace(b'<term_definitions code="at0000">', b'<term_definitions codes="at0000">', 1)
    assert "OPT014" in codes(data)
    data = opt_xml().replace(b"<true_valid>true</true_valid>", b"<true_valid>yes</true_valid>")
    assert "OPT005" in codes(data)


def test_missing_description_is_a_warning() -> None:
    (issue,) = codes(opt_xml(description=""))["OPT002"]
    assert issue.severity == Severity.WARNING


def test_unknown_rm_type_and_attribute() -> None:
    data = opt_xml(definition_attrs=attr("context", obj("C_COMPLEX_OBJECT", "EVENT_CONTEXTS")))
    assert "OPT006" in codes(data)
    data = opt_xml(definition_attrs=attr("contexts", obj("C_COMPLEX_OBJECT", "EVENT_CONTEXT")))
    (issue,) = codes(data)["OPT007"]
    assert issue.template_path == "/contexts" and issue.line == 2


def test_type_conformance() -> None:
    data = opt_xml(definition_attrs=attr("context", obj("C_COMPLEX_OBJECT", "ELEMENT", "at0001")),
                   root_terms=terms(("at0000", "x"), ("at0001", "y")))
    assert "OPT012" in codes(data)


def test_node_id_without_term() -> None:
    data = opt_xml(root_terms=terms(("at0000", "Encounter"))).replace(
        b'<term_definitions code="at0006">', b'<term_definitions code="at0066">')
    (issue,) = codes(data)["OPT008"]
    assert "at0006" in issue.message and issue.template_path.endswith("items[at0006]")
    assert "openEHR-EHR-OBSERVATION.blood_pressure.v2" in issue.message
    assert "OPT015" in codes(data.replace(b'<term_definitions code="at0011">', b'<term_definitions code="at0099">'))


def test_specialised_node_ids() -> None:
    # node ids keep their specialisation dots; a specialised root code needs its own term definition
    spec = OBSERVATION.replace("<node_id>at0000</node_id>", "<node_id>at0000.1</node_id>", 1).replace(
        "<node_id>at0005</node_id>", "<node_id>at0005.1</node_id>")
    data = opt_xml(definition_attrs=attr("content", spec, multiple=True))
    t = parse_opt(data)
    assert t.node(BP).node_id == "at0000.1"
    assert t.node(f"{ITEMS_PATH}[at0005.1]").node_id == "at0005.1"
    found = {i.message.split()[2] for i in codes(data)["OPT008"]}
    assert found == {"at0000.1", "at0005.1"}
    fixed = data.replace(b'<term_definitions code="at0005">', b'<term_definitions code="at0005.1">').replace(
        b'<term_definitions code="at0000"><items id="text">Blood',
        b'<term_definitions code="at0000.1"><items id="text">Blood')
    assert "OPT008" not in codes(fixed)
    assert parse_opt(fixed).term_text(BP) == "Blood pressure"


def test_occurrences_against_rm() -> None:
    data = opt_xml(definition_attrs=attr("context", obj("C_COMPLEX_OBJECT", "EVENT_CONTEXT", occ=(0, None))))
    (issue,) = codes(data)["OPT009"]
    assert issue.severity == Severity.ERROR and "single-valued" in issue.message
    data = opt_xml(definition_attrs=attr("category", CODED.replace("DV_CODED_TEXT", "DV_CODED_TEXT"),
                                         existence=(0, 1)))
    warnings = [i for i in codes(data).get("OPT009", []) if i.severity == Severity.WARNING]
    assert warnings and "mandatory" in warnings[0].message
    data = opt_xml(definition_attrs=attr("context", obj("C_COMPLEX_OBJECT", "EVENT_CONTEXT"), multiple=True))
    assert any("multiple" in i.message for i in codes(data)["OPT009"])


def test_indistinguishable_siblings_warn() -> None:
    items = [element("at0004", QUANTITY, name="Same"), element("at0004", QUANTITY, name="Same")]
    obs = OBSERVATION.replace("".join(ITEMS), "".join(items))
    data = opt_xml(definition_attrs=attr("content", obs, multiple=True))
    t = parse_opt(data)
    assert len(t.ambiguous_siblings()) == 1
    (issue,) = codes(data)["OPT013"]
    assert issue.severity == Severity.WARNING
