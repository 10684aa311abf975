"""RM metadata (openehr_kit.rm.schema): hand-written facts from the RM 1.1.0 specification, plus oracle tests
against the openEHR ITS-JSON and ITS-XML schemas in the shared corpus."""

from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from openehr_kit.am.model import Interval
from openehr_kit.rm import schema
from openehr_kit.rm.schema import (
    RM_VERSION,
    TYPE_ATTRIBUTE,
    all_type_names,
    attribute,
    concrete_subtypes,
    is_primitive,
    is_subtype,
    rm_type,
    split_generic,
)

# ---------------------------------------------------------------------------------------------------------------
# Inheritance


@pytest.mark.parametrize(
    "chain",
    [
        ["DV_CODED_TEXT", "DV_TEXT", "DATA_VALUE"],
        ["OBSERVATION", "CARE_ENTRY", "ENTRY", "CONTENT_ITEM", "LOCATABLE", "PATHABLE"],
        ["ADMIN_ENTRY", "ENTRY"],
        ["GENERIC_ENTRY", "CONTENT_ITEM"],
        ["SECTION", "CONTENT_ITEM"],
        ["POINT_EVENT", "EVENT", "LOCATABLE"],
        ["INTERVAL_EVENT", "EVENT"],
        ["ITEM_TREE", "ITEM_STRUCTURE", "DATA_STRUCTURE", "LOCATABLE"],
        ["HISTORY", "DATA_STRUCTURE"],
        ["ELEMENT", "ITEM", "LOCATABLE"],
        ["CLUSTER", "ITEM"],
        ["DV_DATE_TIME", "DV_TEMPORAL", "DV_ABSOLUTE_QUANTITY", "DV_QUANTIFIED", "DV_ORDERED", "DATA_VALUE"],
        ["DV_QUANTITY", "DV_AMOUNT", "DV_QUANTIFIED"],
        ["DV_DURATION", "DV_AMOUNT"],
        ["DV_COUNT", "DV_AMOUNT"],
        ["DV_PROPORTION", "DV_AMOUNT"],
        ["DV_ORDINAL", "DV_ORDERED"],
        ["DV_SCALE", "DV_ORDERED"],
        ["DV_MULTIMEDIA", "DV_ENCAPSULATED", "DATA_VALUE"],
        ["DV_PARSABLE", "DV_ENCAPSULATED"],
        ["DV_EHR_URI", "DV_URI", "DATA_VALUE"],
        ["DV_GENERAL_TIME_SPECIFICATION", "DV_TIME_SPECIFICATION", "DATA_VALUE"],
        ["DV_PERIODIC_TIME_SPECIFICATION", "DV_TIME_SPECIFICATION"],
        ["DV_INTERVAL", "DATA_VALUE"],
        ["PARTY_RELATED", "PARTY_IDENTIFIED", "PARTY_PROXY"],
        ["PARTY_SELF", "PARTY_PROXY"],
        ["PERSON", "ACTOR", "PARTY", "LOCATABLE"],
        ["ROLE", "PARTY"],
        ["ATTESTATION", "AUDIT_DETAILS"],
        ["ORIGINAL_VERSION", "VERSION"],
        ["EVENT_CONTEXT", "PATHABLE"],
        ["ISM_TRANSITION", "PATHABLE"],
        ["INSTRUCTION_DETAILS", "PATHABLE"],
        ["HIER_OBJECT_ID", "UID_BASED_ID", "OBJECT_ID"],
        ["OBJECT_VERSION_ID", "UID_BASED_ID"],
        ["ARCHETYPE_ID", "OBJECT_ID"],
        ["PARTY_REF", "OBJECT_REF"],
        ["LOCATABLE_REF", "OBJECT_REF"],
        ["FOLDER", "LOCATABLE"],
        ["EHR_STATUS", "LOCATABLE"],
        ["SYNC_EXTRACT", "MESSAGE_CONTENT", "LOCATABLE"],
    ],
)
def test_subtype_chains_are_transitive_and_reflexive(chain: list[str]) -> None:
    for i, sub in enumerate(chain):
        for sup in chain[i:]:
            assert is_subtype(sub, sup), f"{sub} should conform to {sup}"
        assert is_subtype(sub, "Any")


@pytest.mark.parametrize(
    ("sub", "sup"),
    [
        ("DV_TEXT", "DV_CODED_TEXT"),
        ("DATA_VALUE", "DV_TEXT"),
        ("ELEMENT", "ITEM_STRUCTURE"),
        ("ITEM_TREE", "ITEM"),
        ("HISTORY", "ITEM_STRUCTURE"),
        ("EVENT", "DATA_STRUCTURE"),
        ("EVENT_CONTEXT", "LOCATABLE"),
        ("PARTICIPATION", "PATHABLE"),
        ("DV_ORDINAL", "DV_QUANTIFIED"),
        ("DV_DURATION", "DV_TEMPORAL"),
        ("ROLE", "ACTOR"),
        ("PARTY_SELF", "PARTY_IDENTIFIED"),
        ("DV_DATE", "Date"),  # the spec's Iso8601 mixins are left out on purpose
        ("String", "DATA_VALUE"),
        ("NO_SUCH_TYPE", "NO_SUCH_TYPE"),
        ("DV_TEXT", "NO_SUCH_TYPE"),
    ],
)
def test_not_subtype(sub: str, sup: str) -> None:
    assert not is_subtype(sub, sup)


ABSTRACT = [
    "PATHABLE", "LOCATABLE", "DATA_VALUE", "DV_ORDERED", "DV_QUANTIFIED", "DV_AMOUNT", "DV_ABSOLUTE_QUANTITY",
    "DV_TEMPORAL", "DV_TIME_SPECIFICATION", "DV_ENCAPSULATED", "DATA_STRUCTURE", "ITEM_STRUCTURE", "ITEM",
    "EVENT", "CONTENT_ITEM", "ENTRY", "CARE_ENTRY", "PARTY_PROXY", "PARTY", "ACTOR", "VERSION", "OBJECT_ID",
    "UID_BASED_ID", "UID", "ACCESS_CONTROL_SETTINGS", "EXTRACT_ITEM", "EXTRACT_CONTENT_ITEM", "MESSAGE_CONTENT",
]  # fmt: skip
CONCRETE = [
    "COMPOSITION", "EVENT_CONTEXT", "SECTION", "OBSERVATION", "EVALUATION", "INSTRUCTION", "ACTIVITY", "ACTION",
    "ADMIN_ENTRY", "GENERIC_ENTRY", "ISM_TRANSITION", "INSTRUCTION_DETAILS", "ITEM_TREE", "ITEM_LIST",
    "ITEM_SINGLE", "ITEM_TABLE", "CLUSTER", "ELEMENT", "HISTORY", "POINT_EVENT", "INTERVAL_EVENT", "DV_TEXT",
    "DV_CODED_TEXT", "DV_QUANTITY", "DV_COUNT", "DV_PROPORTION", "DV_ORDINAL", "DV_SCALE", "DV_BOOLEAN",
    "DV_STATE", "DV_IDENTIFIER", "DV_URI", "DV_EHR_URI", "DV_DATE", "DV_TIME", "DV_DATE_TIME", "DV_DURATION",
    "DV_INTERVAL", "DV_MULTIMEDIA", "DV_PARSABLE", "DV_PARAGRAPH", "DV_GENERAL_TIME_SPECIFICATION",
    "DV_PERIODIC_TIME_SPECIFICATION", "CODE_PHRASE", "TERM_MAPPING", "REFERENCE_RANGE", "ARCHETYPED", "LINK",
    "FEEDER_AUDIT", "FEEDER_AUDIT_DETAILS", "PARTY_SELF", "PARTY_IDENTIFIED", "PARTY_RELATED", "PARTICIPATION",
    "AUDIT_DETAILS", "ATTESTATION", "ORIGINAL_VERSION", "IMPORTED_VERSION", "VERSIONED_OBJECT", "CONTRIBUTION",
    "PERSON", "ORGANISATION", "GROUP", "AGENT", "ROLE", "PARTY_IDENTITY", "CONTACT", "ADDRESS", "CAPABILITY",
    "PARTY_RELATIONSHIP", "EHR", "EHR_STATUS", "EHR_ACCESS", "FOLDER", "OBJECT_REF", "PARTY_REF",
    "LOCATABLE_REF", "HIER_OBJECT_ID", "OBJECT_VERSION_ID", "ARCHETYPE_ID", "TEMPLATE_ID", "TERMINOLOGY_ID",
    "GENERIC_ID",
]  # fmt: skip


@pytest.mark.parametrize("name", ABSTRACT)
def test_abstract_types(name: str) -> None:
    t = rm_type(name)
    assert t is not None and t.abstract
    assert name not in concrete_subtypes(name)


@pytest.mark.parametrize("name", CONCRETE)
def test_concrete_types(name: str) -> None:
    t = rm_type(name)
    assert t is not None and not t.abstract and not t.primitive
    assert name in concrete_subtypes(name)


def test_direct_parents() -> None:
    assert rm_type("OBSERVATION").parents == ("CARE_ENTRY",)  # type: ignore[union-attr]
    assert rm_type("DV_CODED_TEXT").parents == ("DV_TEXT",)  # type: ignore[union-attr]
    assert rm_type("ITEM_TREE").parents == ("ITEM_STRUCTURE",)  # type: ignore[union-attr]
    # RM 1.1.0: DV_INTERVAL<T> inherits DATA_VALUE and the foundation Interval<T>
    assert rm_type("DV_INTERVAL").parents == ("DATA_VALUE", "Interval")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("EVENT", ["INTERVAL_EVENT", "POINT_EVENT"]),
        ("ITEM_STRUCTURE", ["ITEM_LIST", "ITEM_SINGLE", "ITEM_TABLE", "ITEM_TREE"]),
        ("ITEM", ["CLUSTER", "ELEMENT"]),
        ("DV_TEXT", ["DV_CODED_TEXT", "DV_TEXT"]),
        ("PARTY_PROXY", ["PARTY_IDENTIFIED", "PARTY_RELATED", "PARTY_SELF"]),
        ("UID_BASED_ID", ["HIER_OBJECT_ID", "OBJECT_VERSION_ID"]),
        ("DV_TEMPORAL", ["DV_DATE", "DV_DATE_TIME", "DV_TIME"]),
        ("DV_AMOUNT", ["DV_COUNT", "DV_DURATION", "DV_PROPORTION", "DV_QUANTITY"]),
        (
            "CONTENT_ITEM",
            ["ACTION", "ADMIN_ENTRY", "EVALUATION", "GENERIC_ENTRY", "INSTRUCTION", "OBSERVATION", "SECTION"],
        ),
        ("CARE_ENTRY", ["ACTION", "EVALUATION", "INSTRUCTION", "OBSERVATION"]),
        ("ACTOR", ["AGENT", "GROUP", "ORGANISATION", "PERSON"]),
        ("DV_INTERVAL<DV_COUNT>", ["DV_INTERVAL"]),
        ("NO_SUCH_TYPE", []),
    ],
)
def test_concrete_subtypes(name: str, expected: list[str]) -> None:
    assert concrete_subtypes(name) == expected


def test_data_value_concrete_subtypes_are_all_dv_types() -> None:
    subs = concrete_subtypes("DATA_VALUE")
    assert "DV_SCALE" in subs and "DV_INTERVAL" in subs and "DV_EHR_URI" in subs
    assert all(s.startswith("DV_") for s in subs)
    assert "DV_ORDERED" not in subs and "DATA_VALUE" not in subs


# ---------------------------------------------------------------------------------------------------------------
# Attributes of key types


def _attr(t: str, a: str) -> schema.RmAttribute:
    got = attribute(t, a)
    assert got is not None, f"{t}.{a} missing"
    return got


def test_composition_attributes() -> None:
    cat = _attr("COMPOSITION", "category")
    assert cat.mandatory and cat.type_name == "DV_CODED_TEXT" and not cat.is_container
    assert cat.existence == Interval(1, 1) and cat.cardinality is None
    content = _attr("COMPOSITION", "content")
    assert content.is_container and content.type_name == "CONTENT_ITEM" and not content.mandatory
    assert content.cardinality == Interval(0, None) and content.existence == Interval(0, 1)
    ctx = _attr("COMPOSITION", "context")
    assert not ctx.mandatory and ctx.type_name == "EVENT_CONTEXT"
    assert _attr("COMPOSITION", "composer").type_name == "PARTY_PROXY"
    for name in ("language", "territory", "composer", "name", "archetype_node_id"):
        assert _attr("COMPOSITION", name).mandatory, name
    for name in ("uid", "archetype_details", "feeder_audit", "links"):
        assert not _attr("COMPOSITION", name).mandatory, name


def test_element_attributes() -> None:
    value = _attr("ELEMENT", "value")
    assert not value.mandatory and value.type_name == "DATA_VALUE"
    nf = _attr("ELEMENT", "null_flavour")
    assert not nf.mandatory and nf.type_name == "DV_CODED_TEXT"
    assert not _attr("ELEMENT", "null_reason").mandatory  # new in 1.1.0
    assert _attr("ELEMENT", "name").declared_in == "LOCATABLE"


def test_observation_attributes() -> None:
    data = _attr("OBSERVATION", "data")
    assert data.mandatory and data.type_name == "HISTORY" and data.type_args == ("ITEM_STRUCTURE",)
    assert not _attr("OBSERVATION", "state").mandatory
    protocol = _attr("OBSERVATION", "protocol")
    assert not protocol.mandatory and protocol.type_name == "ITEM_STRUCTURE" and protocol.declared_in == "CARE_ENTRY"
    assert _attr("OBSERVATION", "subject").mandatory and _attr("OBSERVATION", "language").mandatory


@pytest.mark.parametrize("event", ["EVENT", "POINT_EVENT", "INTERVAL_EVENT"])
def test_event_attributes(event: str) -> None:
    assert _attr(event, "time").mandatory and _attr(event, "time").type_name == "DV_DATE_TIME"
    data = _attr(event, "data")
    assert data.mandatory and data.type_name == "ITEM_STRUCTURE" and data.generic_param == "T"
    assert not _attr(event, "state").mandatory
    assert _attr(event, "offset").is_computed and not _attr(event, "offset").mandatory


def test_interval_event_only_attributes() -> None:
    width = _attr("INTERVAL_EVENT", "width")
    assert width.mandatory and width.type_name == "DV_DURATION"
    mf = _attr("INTERVAL_EVENT", "math_function")
    assert mf.mandatory and mf.type_name == "DV_CODED_TEXT"
    assert not _attr("INTERVAL_EVENT", "sample_count").mandatory
    for event in ("POINT_EVENT", "EVENT"):
        assert attribute(event, "width") is None and attribute(event, "math_function") is None


def test_history_and_structures() -> None:
    events = _attr("HISTORY", "events")
    assert events.is_container and events.type_name == "EVENT" and not events.mandatory and events.non_empty
    assert _attr("HISTORY", "origin").mandatory
    items = _attr("CLUSTER", "items")
    assert items.is_container and items.mandatory and items.non_empty and items.type_name == "ITEM"
    tree = _attr("ITEM_TREE", "items")
    assert tree.is_container and not tree.mandatory and tree.type_name == "ITEM"
    assert _attr("ITEM_SINGLE", "item").mandatory and not _attr("ITEM_SINGLE", "item").is_container
    assert _attr("ITEM_LIST", "items").type_name == "ELEMENT"
    assert _attr("ITEM_TABLE", "rows").type_name == "CLUSTER"


def test_data_value_attributes() -> None:
    assert _attr("DV_QUANTITY", "magnitude").mandatory and _attr("DV_QUANTITY", "magnitude").type_name == "Real"
    assert _attr("DV_QUANTITY", "units").mandatory and _attr("DV_QUANTITY", "units").type_name == "String"
    assert not _attr("DV_QUANTITY", "precision").mandatory
    assert not _attr("DV_QUANTITY", "property").mandatory
    assert _attr("DV_QUANTITY", "accuracy").type_name == "Real"  # DV_AMOUNT's redefinition
    assert _attr("DV_DATE", "accuracy").type_name == "DV_DURATION"  # DV_TEMPORAL's redefinition
    dc = _attr("DV_CODED_TEXT", "defining_code")
    assert dc.mandatory and dc.type_name == "CODE_PHRASE" and dc.declared_in == "DV_CODED_TEXT"
    value = _attr("DV_CODED_TEXT", "value")
    assert value.mandatory and value.type_name == "String" and value.declared_in == "DV_TEXT"
    assert _attr("DV_CODED_TEXT", "mappings").is_container
    assert _attr("DV_COUNT", "magnitude").type_name == "Integer64"
    assert _attr("DV_ORDINAL", "symbol").mandatory and _attr("DV_SCALE", "value").type_name == "Real"
    assert _attr("DV_PROPORTION", "type").type_name == "PROPORTION_KIND"
    assert _attr("DV_MULTIMEDIA", "media_type").mandatory and _attr("DV_MULTIMEDIA", "size").mandatory
    assert attribute("DV_PARSABLE", "size") is None
    assert _attr("CODE_PHRASE", "terminology_id").type_name == "TERMINOLOGY_ID"
    assert not _attr("CODE_PHRASE", "preferred_term").mandatory
    assert _attr("DV_TIME_SPECIFICATION", "value").type_name == "DV_PARSABLE"


def test_entry_and_common_attributes() -> None:
    assert _attr("ACTION", "ism_transition").mandatory and _attr("ACTION", "time").mandatory
    assert not _attr("ACTION", "instruction_details").mandatory
    assert _attr("INSTRUCTION", "narrative").mandatory
    acts = _attr("INSTRUCTION", "activities")
    assert acts.is_container and acts.type_name == "ACTIVITY"
    assert _attr("ACTIVITY", "description").mandatory and not _attr("ACTIVITY", "timing").mandatory
    assert _attr("ISM_TRANSITION", "reason").is_container  # a single DV_TEXT before 1.1.0
    assert not _attr("PARTICIPATION", "mode").mandatory  # mandatory in 1.0.2
    time = _attr("PARTICIPATION", "time")
    assert time.type_name == "DV_INTERVAL" and time.type_args == ("DV_DATE_TIME",)
    assert _attr("EVENT_CONTEXT", "start_time").mandatory and _attr("EVENT_CONTEXT", "setting").mandatory
    assert _attr("PARTY", "uid").mandatory and _attr("PERSON", "uid").mandatory  # redefined for parties
    assert not _attr("FOLDER", "uid").mandatory
    assert attribute("ROLE", "roles") is None and _attr("PERSON", "roles").is_container
    assert _attr("EHR_STATUS", "subject").type_name == "PARTY_SELF"
    assert _attr("LOCATABLE_REF", "id").type_name == "UID_BASED_ID"  # redefinition of OBJECT_REF.id
    assert _attr("OBJECT_REF", "id").type_name == "OBJECT_ID"


def test_type_attribute_and_unknowns() -> None:
    assert attribute("DV_TEXT", "_type") is TYPE_ATTRIBUTE and TYPE_ATTRIBUTE.is_system
    assert "_type" not in rm_type("DV_TEXT").attributes  # type: ignore[union-attr]
    assert attribute("String", "_type") is None
    assert attribute("COMPOSITION", "no_such_attribute") is None
    assert attribute("NO_SUCH_TYPE", "name") is None
    assert rm_type("NO_SUCH_TYPE") is None
    assert rm_type("") is None


# ---------------------------------------------------------------------------------------------------------------
# Generics and primitives


def test_split_generic() -> None:
    assert split_generic("DV_INTERVAL<DV_COUNT>") == ("DV_INTERVAL", ("DV_COUNT",))
    assert split_generic(" HISTORY < ITEM_TREE > ") == ("HISTORY", ("ITEM_TREE",))
    assert split_generic("Hash<String, List<DV_TEXT>>") == ("Hash", ("String", "List<DV_TEXT>"))
    assert split_generic("ELEMENT") == ("ELEMENT", ())


def test_generic_lookup_binds_parameters() -> None:
    plain = rm_type("DV_INTERVAL")
    assert plain is not None and plain.generic_parameters == (("T", "DV_ORDERED"),)
    assert plain.attributes["lower"].type_name == "DV_ORDERED"
    bound = rm_type("DV_INTERVAL<DV_COUNT>")
    assert bound is not None and bound.name == "DV_INTERVAL" and bound.type_args == ("DV_COUNT",)
    assert bound.full_name == "DV_INTERVAL<DV_COUNT>"
    assert bound.attributes["lower"].type_name == "DV_COUNT" and bound.attributes["upper"].generic_param == "T"
    assert bound.attributes["lower_unbounded"].mandatory and bound.attributes["lower_included"].mandatory
    assert not bound.attributes["lower"].mandatory
    assert rm_type("POINT_EVENT<ITEM_TREE>").attributes["data"].type_name == "ITEM_TREE"  # type: ignore[union-attr]
    assert rm_type("INTERVAL_EVENT").attributes["data"].type_name == "ITEM_STRUCTURE"  # type: ignore[union-attr]
    rr = rm_type("REFERENCE_RANGE<DV_QUANTITY>")
    assert rr is not None and rr.attributes["range"].type_args == ("DV_QUANTITY",)
    assert rm_type("DV_INTERVAL<DV_COUNT>") is rm_type("DV_INTERVAL<DV_COUNT>")  # cached


def test_generic_subtyping() -> None:
    assert is_subtype("DV_INTERVAL<DV_COUNT>", "DV_INTERVAL")
    assert is_subtype("DV_INTERVAL<DV_COUNT>", "DV_INTERVAL<DV_ORDERED>")
    assert is_subtype("DV_INTERVAL<DV_DATE_TIME>", "DATA_VALUE")
    assert not is_subtype("DV_INTERVAL<DV_TEXT>", "DV_INTERVAL<DV_ORDERED>")
    assert is_subtype("POINT_EVENT<ITEM_TREE>", "EVENT<ITEM_STRUCTURE>")


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("String", "String"),
        ("Integer", "Integer"),
        ("Integer64", "Integer64"),
        ("Real", "Real"),
        ("Double", "Double"),
        ("Boolean", "Boolean"),
        ("Date", "Date"),
        ("Time", "Time"),
        ("Date_time", "Date_time"),
        ("Duration", "Duration"),
        ("ISO8601_DATE", "Iso8601_date"),
        ("ISO8601_DATE_TIME", "Iso8601_date_time"),
        ("ISO8601_TIME", "Iso8601_time"),
        ("ISO8601_DURATION", "Iso8601_duration"),
        ("DATE_TIME", "Date_time"),
        ("STRING", "String"),
        ("Uri", "Uri"),
        ("Octet", "Octet"),
        ("List<ELEMENT>", "List"),
    ],
)
def test_primitive_types(name: str, canonical: str) -> None:
    t = rm_type(name)
    assert t is not None and t.primitive and t.name == canonical and not t.attributes
    assert is_primitive(name)
    assert attribute(name, "value") is None


def test_primitive_relations() -> None:
    assert is_subtype("Iso8601_date", "Date") and is_subtype("Iso8601_date_time", "Date_time")
    assert is_subtype("Uri", "String") and not is_subtype("String", "Uri")
    assert not is_primitive("DV_TEXT") and not is_primitive("NO_SUCH_TYPE")
    assert "Interval" in all_type_names() and rm_type("INTERVAL").name == "Interval"  # type: ignore[union-attr]


def test_case_insensitive_fallback_prefers_exact() -> None:
    assert rm_type("dv_text").name == "DV_TEXT"  # type: ignore[union-attr]
    assert rm_type("Terminology_code").name == "TERMINOLOGY_CODE"  # type: ignore[union-attr]


# ---------------------------------------------------------------------------------------------------------------
# Table consistency and API shape


def test_every_declared_type_resolves() -> None:
    for name in all_type_names():
        t = rm_type(name)
        assert t is not None
        for p in t.parents:
            assert rm_type(p) is not None, f"{name}: parent {p}"
        for a in t.attributes.values():
            assert rm_type(a.type_name) is not None, f"{name}.{a.name}: {a.type_name}"
            for arg in a.type_args:
                assert rm_type(arg) is not None, f"{name}.{a.name}: argument {arg}"
            assert not (a.is_computed and a.mandatory)


def test_records_are_frozen() -> None:
    t = rm_type("COMPOSITION")
    assert t is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.name = "X"  # type: ignore[misc]
    with pytest.raises(TypeError):
        t.attributes["x"] = t.attributes["name"]  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.attributes["name"].mandatory = False  # type: ignore[misc]


def test_table_size_and_version() -> None:
    assert RM_VERSION == "1.1.0"
    classes = [n for n in all_type_names() if not rm_type(n).primitive]  # type: ignore[union-attr]
    assert len(classes) >= 150


# ---------------------------------------------------------------------------------------------------------------
# Oracles: the openEHR ITS schemas in the shared corpus

_JSON_DIR = Path("corpus/json-schema/openEHR-specifications-ITS-JSON/components")
_XSD_DIR = Path("corpus/xsd/openEHR-specifications-ITS-XML_HEAD/components")

# Where our table follows the RM 1.1.0 specification (BMM) rather than the JSON schema's ``required`` list.
REQUIRED_EXCEPTIONS: dict[tuple[str, str], str] = {
    ("ACTIVITY", "action_archetype_id"): "1..1 in the RM and the XSD; optional in the JSON schema",
    ("DV_URI", "value"): "1..1 in the RM; optional in the JSON and XML schemas",
    ("DV_EHR_URI", "value"): "inherited from DV_URI",
}
# RM containers that the JSON schema does not serialise as arrays: Hash<String, X> is a JSON object and
# Array<Octet> a base64 string.
CONTAINER_EXCEPTIONS: set[tuple[str, str]] = {
    ("DV_MULTIMEDIA", "data"),
    ("DV_MULTIMEDIA", "integrity_check"),
    ("RESOURCE_DESCRIPTION", "original_author"),
    ("RESOURCE_DESCRIPTION", "other_details"),
    ("RESOURCE_DESCRIPTION_ITEM", "other_details"),
    ("RESOURCE_DESCRIPTION_ITEM", "original_resource_uri"),
    ("TRANSLATION_DETAILS", "author"),
    ("TRANSLATION_DETAILS", "other_details"),
}


def _json_definitions(shared: Path, version: str) -> dict[str, dict]:
    path = shared / _JSON_DIR / f"openehr_rm_{version}_all.json"
    if not path.is_file():
        pytest.skip(f"RM {version} JSON schema not in the shared corpus: {path}")
    return json.loads(path.read_text(encoding="utf-8"))["definitions"]


def test_oracle_json_schema_1_1_0(shared: Path) -> None:
    """Every type of the RM 1.1.0 JSON schema: same property names, same required set, arrays are containers.

    The JSON schema lists concrete types only, flattened. Foundation types (DATE, LIST, URI, the enumerations...)
    are primitives to us: only their existence is checked. Computed attributes are not serialised and are
    left out of the comparison.
    """
    defs = _json_definitions(shared, "1.1.0")
    problems: list[str] = []
    checked = 0
    for name, d in sorted(defs.items()):
        t = rm_type(name)
        if t is None:
            problems.append(f"{name}: missing")
            continue
        if t.primitive:
            continue
        if t.abstract:
            problems.append(f"{name}: abstract here, instantiable in the JSON schema")
        checked += 1
        props = d.get("properties", {})
        theirs = set(props) - {"_type"}
        ours = {a.name for a in t.attributes.values() if not a.is_computed}
        if theirs != ours:
            problems.append(f"{name}: only in JSON {sorted(theirs - ours)}, only ours {sorted(ours - theirs)}")
        their_req = set(d.get("required", [])) - {"_type"}
        our_req = {a.name for a in t.attributes.values() if a.mandatory}
        for attr in sorted(their_req ^ our_req):
            if (name, attr) not in REQUIRED_EXCEPTIONS:
                side = "JSON" if attr in their_req else "ours"
                problems.append(f"{name}.{attr}: required only in {side}")
        for attr in sorted(theirs & ours):
            json_array = props[attr].get("type") == "array"
            if json_array != t.attributes[attr].is_container and (name, attr) not in CONTAINER_EXCEPTIONS:
                problems.append(f"{name}.{attr}: container mismatch (JSON array: {json_array})")
    assert not problems, "\n".join(problems)
    assert checked >= 100
    # the exceptions must stay real: each names an attribute we hold
    for t_name, a_name in list(REQUIRED_EXCEPTIONS) + sorted(CONTAINER_EXCEPTIONS):
        assert attribute(t_name, a_name) is not None


def test_oracle_json_polymorphic_properties_conform(shared: Path) -> None:
    """Where the JSON schema enumerates the allowed ``_type`` values, each must conform to our declared type."""
    defs = _json_definitions(shared, "1.1.0")
    problems: list[str] = []
    for name, d in sorted(defs.items()):
        t = rm_type(name)
        if t is None or t.primitive:
            continue
        for attr, p in d.get("properties", {}).items():
            a = t.attributes.get(attr)
            if a is None:
                continue
            spec = p["items"] if p.get("type") == "array" else p
            allowed: list[str] = []
            if "$ref" in spec:
                allowed.append(spec["$ref"].rsplit("/", 1)[-1])
            for part in spec.get("allOf", []):
                allowed += part.get("properties", {}).get("_type", {}).get("enum", [])
                const = part.get("if", {}).get("properties", {}).get("_type", {}).get("const")
                if const:
                    allowed.append(const)
            for concrete in allowed:
                if not is_subtype(concrete, a.type_name):
                    problems.append(f"{name}.{attr}: JSON allows {concrete}, not a {a.type_name}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("version", ["1.0.3", "1.0.4"])
def test_oracle_older_json_schemas_attributes_kept(shared: Path, version: str) -> None:
    """Attributes of RM 1.0.3/1.0.4 types that 1.1.0 kept are all known to us."""
    defs = _json_definitions(shared, version)
    problems = []
    for name, d in sorted(defs.items()):
        t = rm_type(name)
        if t is None:
            problems.append(f"{name}: missing")
            continue
        if t.primitive:
            continue
        for attr in set(d.get("properties", {})) - {"_type"}:
            if attribute(name, attr) is None:
                problems.append(f"{name}.{attr}")
    assert not problems, problems


def test_oracle_xsd_inheritance_1_1_0(shared: Path) -> None:
    """The RM 1.1.0 XSDs' extension bases and abstract flags agree with our hierarchy."""
    xs = "{http://www.w3.org/2001/XMLSchema}"
    files = sorted((shared / _XSD_DIR / "RM" / "Release-1.1.0").glob("*.xsd"))
    files += [shared / _XSD_DIR / "BASE" / "Release-1.1.0" / "BaseTypes.xsd"]
    if not all(f.is_file() for f in files) or len(files) < 5:
        pytest.skip("RM 1.1.0 XSDs not in the shared corpus")
    problems = []
    checked = 0
    for f in files:
        for ct in ET.parse(f).getroot().iter(f"{xs}complexType"):
            name = ct.get("name")
            t = rm_type(name) if name else None
            if t is None or t.primitive or not name or not name.isupper():
                continue  # XSD helper types (IntervalOfDate, StringDictionaryItem...)
            checked += 1
            if ct.get("abstract") == "true" and not t.abstract:
                problems.append(f"{name}: abstract in the XSD")
            ext = ct.find(f"{xs}complexContent/{xs}extension")
            if ext is not None and not is_subtype(name, ext.get("base", "")):
                problems.append(f"{name}: XSD base {ext.get('base')} is not an ancestor")
    assert not problems, problems
    assert checked >= 100
