"""Readers for compositions in canonical JSON and canonical XML, the shared RMObject form, and writing it back."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openehr_kit.diagnostics import Issue, ParseError
from openehr_kit.rm.canonical_json import read_canonical_json, read_json_composition
from openehr_kit.rm.canonical_xml import read_xml_composition
from openehr_kit.rm.instance import RMObject, to_canonical_json, to_canonical_xml
from openehr_kit.rm.reading import detect_format, read_composition

# ---------------------------------------------------------------------------------------------------------------
# small builders


def code_phrase(terminology: str, code: str) -> dict[str, Any]:
    return {"_type": "CODE_PHRASE", "terminology_id": {"_type": "TERMINOLOGY_ID", "value": terminology},
            "code_string": code}


def composition(*content: dict[str, Any], **extra: Any) -> dict[str, Any]:
    comp = {
        "_type": "COMPOSITION",
        "name": {"_type": "DV_TEXT", "value": "Vitals"},
        "archetype_node_id": "openEHR-EHR-COMPOSITION.encounter.v1",
        "archetype_details": {
            "_type": "ARCHETYPED",
            "archetype_id": {"_type": "ARCHETYPE_ID", "value": "openEHR-EHR-COMPOSITION.encounter.v1"},
            "template_id": {"_type": "TEMPLATE_ID", "value": "vitals"},
            "rm_version": "1.0.4",
        },
        "language": code_phrase("ISO_639-1", "en"),
        "territory": code_phrase("ISO_3166-1", "NO"),
        "category": {"_type": "DV_CODED_TEXT", "value": "event", "defining_code": code_phrase("openehr", "433")},
        "composer": {"_type": "PARTY_SELF"},
        "content": list(content),
    }
    comp.update(extra)
    return comp


def element(node_id: str, value: dict[str, Any] | None) -> dict[str, Any]:
    el: dict[str, Any] = {"_type": "ELEMENT", "name": {"_type": "DV_TEXT", "value": node_id}, "archetype_node_id": node_id}
    if value is not None:
        el["value"] = value
    return el


def observation(*items: dict[str, Any]) -> dict[str, Any]:
    return {
        "_type": "OBSERVATION",
        "name": {"_type": "DV_TEXT", "value": "Blood pressure"},
        "archetype_node_id": "openEHR-EHR-OBSERVATION.blood_pressure.v2",
        "language": code_phrase("ISO_639-1", "en"),
        "encoding": code_phrase("IANA_character-sets", "UTF-8"),
        "subject": {"_type": "PARTY_SELF"},
        "data": {
            "_type": "HISTORY",
            "name": {"_type": "DV_TEXT", "value": "History"},
            "archetype_node_id": "at0001",
            "origin": {"_type": "DV_DATE_TIME", "value": "2024-01-02T10:00:00Z"},
            "events": [
                {
                    "_type": "POINT_EVENT",
                    "name": {"_type": "DV_TEXT", "value": "Any event"},
                    "archetype_node_id": "at0006",
                    "time": {"_type": "DV_DATE_TIME", "value": "2024-01-02T10:00:00Z"},
                    "data": {
                        "_type": "ITEM_TREE",
                        "name": {"_type": "DV_TEXT", "value": "Tree"},
                        "archetype_node_id": "at0003",
                        "items": list(items),
                    },
                }
            ],
        },
    }


def quantity(magnitude: Any, units: str = "mm[Hg]", **extra: Any) -> dict[str, Any]:
    return {"_type": "DV_QUANTITY", "magnitude": magnitude, "units": units, **extra}


def dumps(obj: Any) -> str:
    return json.dumps(obj, indent=2)


# ---------------------------------------------------------------------------------------------------------------
# canonical JSON


def test_json_reads_a_small_composition() -> None:
    comp = read_json_composition(dumps(composition(observation(element("at0004", quantity(120.0, precision=0))))))
    assert comp.rm_type == "COMPOSITION" and comp.explicit_type
    assert comp.archetype_node_id == "openEHR-EHR-COMPOSITION.encounter.v1"
    assert comp.name_value == "Vitals"
    obs = comp.get("content")[0]
    assert obs.rm_type == "OBSERVATION" and obs.location == "/content/0"
    event = obs.get("data").get("events")[0]
    assert event.location == "/content/0/data/events/0"
    el = event.get("data").get("items")[0]
    assert el.get("value").get("magnitude") == 120.0 and el.get("value").get("precision") == 0
    assert ("data", None, obs.get("data")) in list(obs.children())
    assert sum(1 for _ in comp.walk()) > 20


def test_json_infers_types_the_rm_fixes() -> None:
    data = composition()
    data["name"] = {"value": "Vitals"}  # LOCATABLE.name: DV_TEXT
    data["language"] = {"terminology_id": {"value": "ISO_639-1"}, "code_string": "en"}  # CODE_PHRASE, TERMINOLOGY_ID
    data["category"] = {"value": "event", "defining_code": code_phrase("openehr", "433")}  # DV_CODED_TEXT by content
    data["uid"] = {"value": "8849182c-82ad-4088-a07f-48ead4180515::ehrbase.org::1"}  # OBJECT_VERSION_ID by content
    del data["_type"]
    comp = read_json_composition(dumps(data))
    assert comp.rm_type == "COMPOSITION" and not comp.explicit_type
    assert comp.get("name").rm_type == "DV_TEXT" and not comp.get("name").explicit_type
    assert comp.get("language").get("terminology_id").rm_type == "TERMINOLOGY_ID"
    assert comp.get("category").rm_type == "DV_CODED_TEXT"
    assert comp.get("uid").rm_type == "OBJECT_VERSION_ID"
    # writing back reproduces the source: no _type where there was none
    assert to_canonical_json(comp)["name"] == {"value": "Vitals"}
    assert "_type" not in to_canonical_json(comp)


def test_json_generic_binding_types_interval_bounds() -> None:
    participation = {
        "_type": "PARTICIPATION",
        "function": {"_type": "DV_TEXT", "value": "requester"},
        "performer": {"_type": "PARTY_IDENTIFIED", "name": "Dr. A"},
        "time": {"lower": {"value": "2024-01-01T00:00:00Z"}, "lower_unbounded": False, "upper_unbounded": True},
    }
    data = composition(context={"_type": "EVENT_CONTEXT", "start_time": {"value": "2024-01-01T00:00:00Z"},
                                "setting": {"value": "home", "defining_code": code_phrase("openehr", "225")},
                                "participations": [participation]})
    comp = read_json_composition(dumps(data))
    time = comp.get("context").get("participations")[0].get("time")
    assert time.rm_type == "DV_INTERVAL" and time.get("lower").rm_type == "DV_DATE_TIME"


def test_malformed_json_has_line_and_column() -> None:
    text = '{\n  "_type": "COMPOSITION",\n  "name": {"value": "x"\n}'
    with pytest.raises(ParseError) as info:
        read_json_composition(text, source="bad.json")
    err = info.value
    assert err.code == "RMR001" and err.file == "bad.json"
    assert (err.line, err.column) == (4, 2)


def test_unknown_type_is_located_by_pointer_and_line() -> None:
    data = composition(observation(element("at0004", {"_type": "DV_QUANTITTY", "magnitude": 1, "units": "1"})))
    with pytest.raises(ParseError) as info:
        read_json_composition(dumps(data))
    err = info.value
    assert err.code == "RMR002"
    assert err.instance_path == "/content/0/data/events/0/data/items/0/value/_type"
    assert "DV_QUANTITTY" in str(err) and err.line is not None
    assert dumps(data).splitlines()[err.line - 1].strip().startswith('"_type": "DV_QUANTITTY"')


@pytest.mark.parametrize(
    ("value", "found"),
    [
        (quantity("120"), "a string ('120')"),
        (quantity(True), "a boolean (true)"),
        ({"_type": "DV_COUNT", "magnitude": 2.5}, "a number (2.5)"),
        ({"_type": "DV_TEXT", "value": {"x": 1}}, "an object"),
    ],
)
def test_wrong_value_kind_says_what_was_expected_and_found(value: dict[str, Any], found: str) -> None:
    with pytest.raises(ParseError) as info:
        read_json_composition(dumps(composition(observation(element("at0004", value)))))
    err = info.value
    assert err.code == "RMR003" and err.found == found and err.expected
    assert err.instance_path.startswith("/content/0/data/events/0/data/items/0/value/")
    assert f"expected {err.expected}, found {found}" in str(err)


def test_wrong_kind_for_objects_and_lists() -> None:
    for data, path in [
        (composition(name="Vitals"), "/name"),
        ({**composition(), "content": {"_type": "OBSERVATION"}}, "/content"),
        ({**composition(), "language": [code_phrase("ISO_639-1", "en")]}, "/language"),
    ]:
        with pytest.raises(ParseError) as info:
            read_json_composition(dumps(data))
        assert info.value.code == "RMR003" and info.value.instance_path == path


def test_lenient_mode_converts_numeric_strings_and_reports_them() -> None:
    issues: list[Issue] = []
    comp = read_json_composition(dumps(composition(observation(element("at0004", quantity("120"))))), lenient=True,
                                 issues=issues)
    value = comp.get("content")[0].get("data").get("events")[0].get("data").get("items")[0].get("value")
    assert value.get("magnitude") == 120.0
    assert [i.code for i in issues] == ["RMR003"]


def test_missing_type_where_the_rm_does_not_fix_it() -> None:
    data = composition(observation(element("at0004", {"value": "free text"})))  # ELEMENT.value: abstract DATA_VALUE
    with pytest.raises(ParseError) as info:
        read_json_composition(dumps(data))
    assert info.value.code == "RMR004" and "DATA_VALUE" in str(info.value)
    with pytest.raises(ParseError) as info:
        read_canonical_json('{"value": "x"}')
    assert info.value.code == "RMR004"
    legacy = dumps({**composition(), "composer": {"@type": "PARTY_SELF"}})
    with pytest.raises(ParseError, match="@type"):
        read_json_composition(legacy)


def test_unknown_attribute_is_kept_and_reported() -> None:
    data = composition(observation(element("at0004", quantity(1.0, colour="red"))))
    issues: list[Issue] = []
    comp = read_json_composition(dumps(data), issues=issues)
    value = comp.get("content")[0].get("data").get("events")[0].get("data").get("items")[0].get("value")
    assert value.unknown == {"colour": "red"} and "colour" not in value.attrs
    assert [(i.code, i.instance_path) for i in issues] == [
        ("RMR005", "/content/0/data/events/0/data/items/0/value/colour")
    ]
    assert to_canonical_json(comp) == data  # nothing lost


def test_non_object_document_and_nulls() -> None:
    with pytest.raises(ParseError) as info:
        read_json_composition("[1, 2]")
    assert info.value.code == "RMR003"
    comp = read_json_composition(dumps({**composition(), "uid": None}))
    assert "uid" not in comp.attrs  # null is absence


@settings(max_examples=150, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
        lambda kids: st.lists(kids, max_size=3)
        | st.dictionaries(st.sampled_from(["_type", "name", "value", "items", "content", "magnitude", "x"]), kids,
                          max_size=4),
        max_leaves=12,
    )
)
def test_any_json_value_reads_or_fails_cleanly(value: Any) -> None:
    """Arbitrary JSON never escapes as a traceback: either an RMObject or a ParseError."""
    try:
        read_json_composition(json.dumps(value))
    except ParseError:
        pass


# ---------------------------------------------------------------------------------------------------------------
# canonical XML

XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
XML_NS = 'xmlns="http://schemas.openehr.org/v1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'


def xml_composition(body: str, ns: str = XML_NS, root: str = "composition") -> bytes:
    return (
        f'{XML_HEAD}<{root} {ns} archetype_node_id="openEHR-EHR-COMPOSITION.encounter.v1">\n'
        "  <name><value>Vitals</value></name>\n"
        "  <language><terminology_id><value>ISO_639-1</value></terminology_id><code_string>en</code_string></language>\n"
        "  <territory><terminology_id><value>ISO_3166-1</value></terminology_id><code_string>NO</code_string></territory>\n"
        "  <category><value>event</value><defining_code><terminology_id><value>openehr</value></terminology_id>"
        "<code_string>433</code_string></defining_code></category>\n"
        '  <composer xsi:type="PARTY_SELF"/>\n'
        f"{body}</{root}>\n"
    ).encode()


def xml_items(*values: str) -> str:
    items = "".join(
        f'<items xsi:type="ELEMENT" archetype_node_id="at{i:04d}"><name><value>e{i}</value></name>{v}</items>'
        for i, v in enumerate(values)
    )
    return (
        '  <content xsi:type="EVALUATION" archetype_node_id="openEHR-EHR-EVALUATION.x.v1">'
        "<name><value>X</value></name>"
        "<language><terminology_id><value>ISO_639-1</value></terminology_id><code_string>en</code_string></language>"
        "<encoding><terminology_id><value>IANA_character-sets</value></terminology_id><code_string>UTF-8</code_string>"
        '</encoding><subject xsi:type="PARTY_SELF"/>'
        f'<data xsi:type="ITEM_TREE" archetype_node_id="at0001"><name><value>Tree</value></name>{items}</data>'
        "</content>\n"
    )


def test_xml_reads_typed_primitives() -> None:
    body = xml_items(
        '<value xsi:type="DV_QUANTITY"><magnitude>120.5</magnitude><units>mm[Hg]</units><precision>1</precision></value>',
        '<value xsi:type="DV_COUNT"><magnitude>3</magnitude></value>',
        '<value xsi:type="DV_BOOLEAN"><value>true</value></value>',
        '<value xsi:type="v1:DV_PROPORTION" xmlns:v1="http://schemas.openehr.org/v1"><numerator>1</numerator>'
        "<denominator>4</denominator><type>3</type></value>",
        '<value xsi:type="DV_TEXT"><value>  spaced  </value></value>',
    )
    comp = read_xml_composition(xml_composition(body))
    assert comp.rm_type == "COMPOSITION" and not comp.explicit_type
    assert comp.archetype_node_id == "openEHR-EHR-COMPOSITION.encounter.v1"
    assert comp.get("category").rm_type == "DV_CODED_TEXT"  # inferred: a DV_CODED_TEXT slot
    items = comp.get("content")[0].get("data").get("items")
    values = [it.get("value") for it in items]
    assert values[0].attrs == {"magnitude": 120.5, "units": "mm[Hg]", "precision": 1}
    assert type(values[1].get("magnitude")) is int
    assert values[2].get("value") is True
    assert values[3].rm_type == "DV_PROPORTION" and values[3].get("type") == 3 and values[3].get("numerator") == 1.0
    assert values[4].get("value") == "  spaced  "
    assert items[1].location == "/composition/content[1]/data/items[2]"
    assert items[1].line == 8


def test_xml_without_namespace_is_accepted() -> None:
    no_ns = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    a = read_xml_composition(xml_composition(xml_items('<value xsi:type="DV_COUNT"><magnitude>3</magnitude></value>')))
    b = read_xml_composition(
        xml_composition(xml_items('<value xsi:type="DV_COUNT"><magnitude>3</magnitude></value>'), ns=no_ns)
    )
    assert a == b


def test_xml_wrong_namespace_or_root() -> None:
    with pytest.raises(ParseError) as info:
        read_xml_composition(xml_composition("", ns=XML_NS.replace("/v1", "/v2")))
    assert info.value.code == "RMR006" and info.value.line == 2
    with pytest.raises(ParseError) as info:
        read_xml_composition(xml_composition("", root="version"))
    assert info.value.code == "RMR006" and "<version>" in str(info.value)
    with pytest.raises(ParseError) as info:
        read_xml_composition(xml_composition('<foo xmlns="urn:x">1</foo>'))
    assert info.value.code == "RMR006"


def test_xml_errors_are_located() -> None:
    body = xml_items('<value xsi:type="DV_COUNT">\n<magnitude>2.5</magnitude></value>')
    with pytest.raises(ParseError) as info:
        read_xml_composition(xml_composition(body), source="c.xml")
    err = info.value
    assert err.code == "RMR003" and err.line == 9 and err.file == "c.xml"
    assert err.instance_path == "/composition/content[1]/data/items[1]/value/magnitude"
    assert "expected an integer, found text '2.5'" in str(err)
    with pytest.raises(ParseError) as info:
        read_xml_composition(xml_composition(xml_items('<value xsi:type="CODE_PRASE"/>')))
    assert info.value.code == "RMR002"
    with pytest.raises(ParseError) as info:
        read_xml_composition(xml_composition("<name><value>again</value></name>\n"))
    assert info.value.code == "RMR007"
    with pytest.raises(ParseError) as info:
        read_xml_composition(xml_composition(xml_items("<value><value>no type</value></value>")))
    assert info.value.code == "RMR004"
    with pytest.raises(ParseError) as info:
        read_xml_composition(xml_composition("<context>text</context>"))
    assert info.value.code == "RMR003"
    with pytest.raises(ParseError) as info:
        read_xml_composition(b"<composition><name></composition>")
    assert info.value.code == "XML001" and info.value.line == 1


def test_xml_unknown_elements_are_kept() -> None:
    issues: list[Issue] = []
    comp = read_xml_composition(
        xml_composition("<archetype_details><archetype_id><value>a</value><rmName>EHR</rmName></archetype_id>"
                        "<rm_version>1.0.2</rm_version></archetype_details>"),
        issues=issues,
    )
    assert comp.get("archetype_details").get("archetype_id").unknown == {"rmName": "EHR"}
    assert [i.code for i in issues] == ["RMR005"]
    again = read_xml_composition(to_canonical_xml(comp))
    assert again == comp


def test_json_and_xml_readings_are_equal() -> None:
    body = xml_items('<value xsi:type="DV_QUANTITY"><magnitude>120</magnitude><units>mm[Hg]</units></value>')
    x = read_xml_composition(xml_composition(body))
    j = read_json_composition(json.dumps(to_canonical_json(x)))
    assert j == x and j.location == x.location.replace("/composition", "")


# ---------------------------------------------------------------------------------------------------------------
# format detection


def test_detect_format(tmp_path: Path) -> None:
    assert detect_format(dumps(composition())) == "json"
    assert detect_format(b'\xef\xbb\xbf  <?xml version="1.0"?><composition/>') == "xml"
    assert detect_format('{"ctx/language": "en", "vitals/bp:0/any_event:0/systolic|magnitude": 120}') == "flat"
    assert detect_format('{"ctx": {"language": "en"}, "vitals": {"bp": [{"systolic": [{"|magnitude": 1}]}]}}') == (
        "structured"
    )
    flat = tmp_path / "flat.json"
    flat.write_text('{"ctx/language": "en", "t/a|code": "x"}')
    with pytest.raises(ParseError) as info:
        read_composition(flat)
    assert info.value.code == "RMR008" and "web template" in str(info.value)
    canon = tmp_path / "c.json"
    canon.write_text(dumps(composition(observation())))
    assert read_composition(canon).get("content")[0].rm_type == "OBSERVATION"
    xml = tmp_path / "c.xml"
    xml.write_bytes(xml_composition(""))
    assert read_composition(xml).name_value == "Vitals"
    broken = tmp_path / "b.json"
    broken.write_text(dumps({**composition(), "uid": {"_type": "NOPE", "value": "x"}}))
    with pytest.raises(ParseError) as info:
        read_composition(broken)
    err = info.value
    assert err.code == "RMR002" and err.line is not None
    assert broken.read_text().splitlines()[err.line - 1].strip() == '"_type": "NOPE",'


# ---------------------------------------------------------------------------------------------------------------
# round trips of random RM trees

_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12)
_code = st.text(st.characters(whitelist_categories=("Lu", "Nd")), min_size=1, max_size=6)


def _obj(rm_type: str, explicit: bool = True, **attrs: Any) -> RMObject:
    return RMObject(rm_type, {k: v for k, v in attrs.items() if v is not None}, explicit_type=explicit)


@st.composite
def _code_phrase(draw: st.DrawFn) -> RMObject:
    return _obj("CODE_PHRASE", draw(st.booleans()),
                terminology_id=_obj("TERMINOLOGY_ID", draw(st.booleans()), value=draw(_code)),
                code_string=draw(_code))


@st.composite
def _data_value(draw: st.DrawFn) -> RMObject:
    kind = draw(st.sampled_from(["DV_TEXT", "DV_CODED_TEXT", "DV_QUANTITY", "DV_COUNT", "DV_BOOLEAN",
                                 "DV_DATE_TIME", "DV_PROPORTION", "DV_ORDINAL", "DV_IDENTIFIER"]))
    if kind == "DV_TEXT":
        return _obj(kind, value=draw(_text))
    if kind == "DV_CODED_TEXT":
        return _obj(kind, value=draw(_text), defining_code=draw(_code_phrase()))
    if kind == "DV_QUANTITY":
        return _obj(kind, magnitude=draw(st.floats(allow_nan=False, allow_infinity=False)), units=draw(_code),
                    precision=draw(st.none() | st.integers(-1, 5)))
    if kind == "DV_COUNT":
        return _obj(kind, magnitude=draw(st.integers(-(2**63), 2**63 - 1)))
    if kind == "DV_BOOLEAN":
        return _obj(kind, value=draw(st.booleans()))
    if kind == "DV_DATE_TIME":
        return _obj(kind, value=draw(st.datetimes()).isoformat())
    if kind == "DV_PROPORTION":
        return _obj(kind, numerator=draw(st.floats(-1e6, 1e6)), denominator=draw(st.floats(1, 1e6)),
                    type=draw(st.integers(0, 4)))
    if kind == "DV_ORDINAL":
        return _obj(kind, value=draw(st.integers(0, 10)),
                    symbol=_obj("DV_CODED_TEXT", value=draw(_text), defining_code=draw(_code_phrase())))
    return _obj(kind, issuer=draw(_text), assigner=draw(_text), id=draw(_text), type=draw(_text))


def _name(draw: st.DrawFn) -> RMObject:
    return _obj("DV_TEXT", draw(st.booleans()), value=draw(_text))


@st.composite
def _item(draw: st.DrawFn, depth: int = 0) -> RMObject:
    node_id = f"at{draw(st.integers(0, 9999)):04d}"
    if depth < 2 and draw(st.booleans()):
        kids = draw(st.lists(_item(depth + 1), min_size=1, max_size=3))
        return _obj("CLUSTER", name=_name(draw), archetype_node_id=node_id, items=kids)
    return _obj("ELEMENT", name=_name(draw), archetype_node_id=node_id, value=draw(st.none() | _data_value()))


@st.composite
def _composition(draw: st.DrawFn) -> RMObject:
    entries = []
    for i in range(draw(st.integers(0, 3))):
        tree = _obj("ITEM_TREE", name=_name(draw), archetype_node_id="at0001",
                    items=draw(st.lists(_item(), min_size=1, max_size=3)))
        entries.append(_obj(draw(st.sampled_from(["EVALUATION", "ADMIN_ENTRY"])), name=_name(draw),
                            archetype_node_id=f"openEHR-EHR-EVALUATION.e{i}.v1", language=draw(_code_phrase()),
                            encoding=draw(_code_phrase()), subject=_obj("PARTY_SELF"), data=tree))
    return _obj(
        "COMPOSITION", draw(st.booleans()), name=_name(draw), archetype_node_id="openEHR-EHR-COMPOSITION.c.v1",
        language=draw(_code_phrase()), territory=draw(_code_phrase()),
        category=_obj("DV_CODED_TEXT", draw(st.booleans()), value="event", defining_code=draw(_code_phrase())),
        composer=_obj("PARTY_IDENTIFIED", name=draw(st.none() | _text)),
        content=entries or None,
    )


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_composition())
def test_random_trees_round_trip_through_json(comp: RMObject) -> None:
    again = read_json_composition(json.dumps(to_canonical_json(comp)))
    assert again == comp
    assert to_canonical_json(again) == to_canonical_json(comp)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_composition())
def test_random_trees_round_trip_through_xml(comp: RMObject) -> None:
    xml = to_canonical_xml(comp)
    again = read_xml_composition(xml)
    assert again == comp
    assert to_canonical_xml(again) == xml


@pytest.fixture(scope="module")
def openehr_xsd(shared: Path) -> Any:
    from lxml import etree

    path = shared / "corpus/xsd/openEHR-specifications-ITS-XML_Release-1.0.2v2/components/ALL/Composition.xsd"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return etree.XMLSchema(etree.parse(str(path)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(_composition())
def test_written_xml_is_valid_against_the_openehr_xsd(openehr_xsd: Any, comp: RMObject) -> None:
    """External oracle: element order, xsi:type and archetype_node_id placement as the 1.0.2 XSD defines them."""
    from lxml import etree

    doc = etree.fromstring(to_canonical_xml(comp))
    assert openehr_xsd.validate(doc), str(openehr_xsd.error_log.last_error)


def test_xml_reads_release_102_spelling_of_workflow_id() -> None:
    entry = (
        '  <content xsi:type="ADMIN_ENTRY" archetype_node_id="openEHR-EHR-ADMIN_ENTRY.x.v1"><name><value>X</value>'
        "</name><language><terminology_id><value>ISO_639-1</value></terminology_id><code_string>en</code_string>"
        "</language><encoding><terminology_id><value>IANA_character-sets</value></terminology_id><code_string>UTF-8"
        '</code_string></encoding><subject xsi:type="PARTY_SELF"/><work_flow_id><id xsi:type="HIER_OBJECT_ID">'
        "<value>1</value></id><namespace>local</namespace><type>WF</type></work_flow_id>"
        '<data xsi:type="ITEM_TREE" archetype_node_id="at0001"><name><value>T</value></name></data></content>\n'
    )
    comp = read_xml_composition(xml_composition(entry))
    assert comp.get("content")[0].get("workflow_id").get("type") == "WF"


# ---------------------------------------------------------------------------------------------------------------
# the shared corpus

# Corpus files the readers refuse, with the reason (read from each file). Keys are relative to corpus/compositions.
KNOWN_UNREADABLE: dict[str, tuple[str, str]] = {
    "ehrbase-integration-tests/Test_dv_ordinal_open_constraint.v0/canonical_json/Test_dv_ordinal_open_constraint.v0__.json":
        ("RMR003", "DV_ORDINAL.value is the string \"1\", not an integer"),
    "ehrbase-integration-tests/Test_dv_quantity_open_constraint.v0/canonical_json/Test_dv_quantity_open_constraint.v0__.json":
        ("RMR003", "DV_QUANTITY.magnitude is the string \"130\", not a number"),
    "ehrbase-integration-tests/minimal_observation.en.v1/canonical_json/"
    "minimal_observation.composition.participations.extdatetimes.ehrbase.json":
        ("RMR004", "EHRbase's legacy form: types in \"@type\" (and Java bean fields), not canonical JSON"),
    "ehrbase-integration-tests/nested.en.v1/canonical_json/nested.en.v1__invalid_wrong_structure.json":
        ("RMR001", "deliberately malformed: the opening brace is missing"),
    "ehrbase-openEHR_SDK/_no_template_id/canonical_json/composition_with_dvinterval_composite.json":
        ("RMR003", "content is an object keyed by paths (legacy EtherCIS form), not a list"),
    "ehrbase-integration-tests/alternative_types.en.v1/canonical_xml/alternative_types.composition.xml":
        ("RMR003", "DV_COUNT.magnitude is 456.789, not an integer"),
    "ehrbase-integration-tests/alternative_types.en.v1/canonical_xml/alternative_types.composition.extdatetimes.xml":
        ("RMR003", "DV_COUNT.magnitude is 456.789, not an integer"),
    "ehrbase-integration-tests/nested.en.v1/canonical_xml/nested.en.v1__invalid_wrong_structure.xml":
        ("XML001", "deliberately malformed: the XML declaration lacks its '<'"),
    "ehrbase-openEHR_SDK/IDCR_-_Laboratory_Test_Report.v0/canonical_xml/IDCR-LabReportRAW1_with_normal_status.xml":
        ("RMR002", "xsi:type=\"CODE_PRASE\" (misspelt CODE_PHRASE)"),
}

# Same stem in canonical_json/ and canonical_xml/ but different generated data (UUIDs, random texts, times).
DIFFERENT_CONTENT = {
    "ehrbase-integration-tests/nested.en.v1/nested.en.v1__full",
    "ehrbase-integration-tests/nested.en.v1/nested.en.v1__full_without_links",
}


def _compositions(shared: Path) -> Path:
    return shared / "corpus" / "compositions"


def _canonical_files(shared: Path) -> list[Path]:
    root = _compositions(shared)
    return sorted(p for p in root.rglob("*") if p.is_file() and ({"canonical_json", "canonical_xml"} & set(p.parts)))


def _read(path: Path, **kw: Any) -> RMObject:
    data = path.read_bytes()
    if path.suffix == ".xml":
        return read_xml_composition(data, source=str(path), issues=kw.get("issues"))
    return read_json_composition(data, source=str(path), **kw)


def test_corpus_canonical_compositions_read(shared: Path) -> None:
    root = _compositions(shared)
    files = _canonical_files(shared)
    assert len([f for f in files if f.suffix == ".json"]) >= 200 and len([f for f in files if f.suffix == ".xml"]) >= 50
    refused: dict[str, str] = {}
    for path in files:
        try:
            _read(path)
        except ParseError as err:
            assert err.file == str(path)
            refused[str(path.relative_to(root))] = err.code
    expected = {rel: code for rel, (code, _) in KNOWN_UNREADABLE.items()}
    assert refused == expected, "readers refuse a different set of corpus files than KNOWN_UNREADABLE lists"


def test_corpus_numeric_strings_read_leniently(shared: Path) -> None:
    root = _compositions(shared)
    for rel, (code, reason) in KNOWN_UNREADABLE.items():
        if "string" in reason:
            issues: list[Issue] = []
            _read(root / rel, lenient=True, issues=issues)
            assert code in {i.code for i in issues}


def test_corpus_deliberately_malformed_are_rejected_with_location(shared: Path) -> None:
    rows = list(csv.DictReader((shared / "corpus" / "pairs.tsv").open(encoding="utf-8"), delimiter="\t"))
    malformed = [
        r for r in rows
        if r["format"] in ("canonical_json", "canonical_xml") and r["expected"] == "invalid"
        and "malformed" in r["expected_basis"]
    ]
    assert malformed, "pairs.tsv names no deliberately malformed canonical composition"
    for row in malformed:
        path = shared.parent / row["composition_path"]
        with pytest.raises(ParseError) as info:
            _read(path)
        assert info.value.line is not None, row["composition_path"]


def _without_unknown_and_empty(value: Any) -> Any:
    """A comparable form that drops what XML cannot carry: empty lists, and the shape of unknown attributes."""
    if isinstance(value, RMObject):
        attrs = {k: _without_unknown_and_empty(v) for k, v in value.attrs.items() if v != []}
        return (value.rm_type, attrs)
    if isinstance(value, list):
        return [_without_unknown_and_empty(v) for v in value]
    return value


def test_corpus_json_and_xml_twins_read_equal(shared: Path) -> None:
    root = _compositions(shared)
    twins = []
    for xml in root.rglob("*.xml"):
        if "canonical_xml" not in xml.parts:
            continue
        template_dir = Path(*xml.parts[: xml.parts.index("canonical_xml")])
        twins += [(j, xml) for j in (template_dir / "canonical_json").rglob(f"{xml.stem}.json")]
    assert len(twins) >= 5
    compared = 0
    for j, x in twins:
        key = str(template_dir_of(x).relative_to(root) / x.stem)
        if str(j.relative_to(root)) in KNOWN_UNREADABLE:
            continue
        a, b = _read(j), _read(x)
        if key in DIFFERENT_CONTENT:
            assert a != b
            continue
        # the XML twins carry Java-bean extras in ARCHETYPE_ID (rmName, domainConcept...), kept as unknown
        assert _without_unknown_and_empty(a) == _without_unknown_and_empty(b), key
        compared += 1
    assert compared >= 4


def template_dir_of(path: Path) -> Path:
    parts = path.parts
    cut = next(i for i, p in enumerate(parts) if p in ("canonical_xml", "canonical_json"))
    return Path(*parts[:cut])


def test_corpus_round_trips(shared: Path) -> None:
    root = _compositions(shared)
    for path in _canonical_files(shared):
        if str(path.relative_to(root)) in KNOWN_UNREADABLE:
            continue
        comp = _read(path)
        assert read_json_composition(json.dumps(to_canonical_json(comp))) == comp, path
        if path.suffix == ".json":
            assert json.loads(json.dumps(to_canonical_json(comp))) == _drop_nulls(json.loads(path.read_bytes())), path
        via_xml = read_xml_composition(to_canonical_xml(comp))
        assert _without_unknown_and_empty(via_xml) == _without_unknown_and_empty(comp), path


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value
