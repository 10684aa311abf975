"""The structure walker: one hand-built template, a valid composition, and one mutation per structure code."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from openehr_kit.am.model import (
    ArchetypeInternalRef,
    ArchetypeSlot,
    Cardinality,
    CArchetypeRoot,
    CAttribute,
    CCodePhrase,
    CComplexObject,
    CDvQuantity,
    CObject,
    CPrimitiveObject,
    CQuantityItem,
    CString,
    Interval,
    SlotAssertion,
    Terminology,
)
from openehr_kit.diagnostics import REGISTRY, Severity
from openehr_kit.opt.model import OperationalTemplate
from openehr_kit.rm.canonical_json import read_json_composition
from openehr_kit.validation import validator as V
from openehr_kit.validation.validator import validate_composition, validate_file

# ---------------------------------------------------------------------------------------------------------------
# A small template: an encounter with a blood pressure observation


def occ(lo: int, hi: int | None) -> Interval[int]:
    return Interval(lo, hi)


def attr(name: str, children: list[CObject], *, multiple: bool = False, card: tuple[int, int | None] | None = None,
         existence: tuple[int, int] = (0, 1)) -> CAttribute:
    cardinality = Cardinality(occ(*card), is_ordered=False) if card is not None else None
    return CAttribute(name, occ(*existence), children, cardinality, multiple or card is not None)


def text_name(name: str) -> CAttribute:
    return attr("name", [CComplexObject("DV_TEXT", None, occ(1, 1), [
        attr("value", [CPrimitiveObject("STRING", None, occ(1, 1), CString(list=[name]))], existence=(1, 1))])],
        existence=(1, 1))


def element(node_id: str, value: list[CObject] | None, lo: int = 0, hi: int | None = 1,
            name: str | None = None) -> CComplexObject:
    attrs = [attr("value", value)] if value is not None else []
    if name is not None:
        attrs.insert(0, text_name(name))
    return CComplexObject("ELEMENT", node_id, occ(lo, hi), attrs)


def quantity() -> CDvQuantity:
    return CDvQuantity("DV_QUANTITY", None, occ(1, 1), list=[CQuantityItem("mm[Hg]", Interval(0.0, 1000.0))])


OBS_TERMS = Terminology("en", term_definitions={"en": {
    "at0000": {"text": "Blood pressure"}, "at0001": {"text": "History"}, "at0002": {"text": "Any event"},
    "at0003": {"text": "Tree"}, "at0004": {"text": "Systolic"}, "at0005": {"text": "Diastolic"},
    "at0006": {"text": "Position"}, "at0007": {"text": "Comment"}, "at0008": {"text": "Cuff"},
    "at0009": {"text": "Device"}, "at0010": {"text": "Sitting"}, "at0011": {"text": "Standing"},
    "at0020": {"text": "Protocol"}, "at0021": {"text": "Method"},
}})
COMP_TERMS = Terminology("en", term_definitions={"en": {"at0000": {"text": "Encounter"}}})

BP_ID = "openEHR-EHR-OBSERVATION.bp.v1"
COMP_ID = "openEHR-EHR-COMPOSITION.encounter.v1"
TEMPLATE_ID = "test.encounter.v1"


def build_template(*, systolic_min: int = 1) -> OperationalTemplate:
    items = [
        element("at0004", [quantity()], lo=systolic_min),
        element("at0005", [quantity()]),
        element("at0006", [CComplexObject("DV_CODED_TEXT", None, occ(1, 1), [
            attr("defining_code", [CCodePhrase("CODE_PHRASE", None, occ(1, 1), terminology_id="local",
                                               code_list=["at0010", "at0011"])], existence=(1, 1))])]),
        element("at0007", [CComplexObject("DV_TEXT", None, occ(1, 1), any_allowed=True)]),
        element("at0008", [CComplexObject("DV_TEXT", None, occ(1, 1), any_allowed=True)], name="Left cuff"),
        element("at0008", [CComplexObject("DV_TEXT", None, occ(1, 1), any_allowed=True)], name="Right cuff"),
        ArchetypeSlot("CLUSTER", "at0009", occ(0, None),
                      includes=[SlotAssertion("archetype_id/value matches {/openEHR-EHR-CLUSTER\\.device(-[a-z_]+)*\\.v1/}",
                                              "archetype_id/value", "openEHR-EHR-CLUSTER\\.device(-[a-z_]+)*\\.v1")],
                      excludes=[SlotAssertion("archetype_id/value matches {/.*/}", "archetype_id/value", ".*")]),
    ]
    tree = CComplexObject("ITEM_TREE", "at0003", occ(1, 1), [attr("items", items, card=(1, None))])
    event = CComplexObject("EVENT", "at0002", occ(0, None), [attr("data", [tree], existence=(1, 1))])
    history = CComplexObject("HISTORY", "at0001", occ(1, 1), [attr("events", [event], card=(1, 2))])
    protocol = CComplexObject("ITEM_TREE", "at0020", occ(1, 1), [attr("items", [
        ArchetypeInternalRef("ELEMENT", "at0004", occ(0, 1), "/data[at0001]/events[at0002]/data[at0003]/items[at0004]"),
    ], card=(0, None))])
    obs = CArchetypeRoot("OBSERVATION", "at0000", occ(0, 1), [
        attr("data", [history], existence=(1, 1)),
        attr("protocol", [protocol], existence=(1, 1)),  # the template makes the RM-optional protocol mandatory
    ], archetype_id=BP_ID, terminology=OBS_TERMS)
    root = CArchetypeRoot("COMPOSITION", "at0000", occ(1, 1), [
        attr("content", [obs], card=(0, None)),
    ], archetype_id=COMP_ID, terminology=COMP_TERMS)
    return OperationalTemplate(TEMPLATE_ID, "Encounter", "en", root)


# ---------------------------------------------------------------------------------------------------------------
# A valid composition (canonical JSON as a dict)


def dv_text(v: str) -> dict[str, Any]:
    return {"_type": "DV_TEXT", "value": v}


def coded(v: str, code: str, terminology: str = "local") -> dict[str, Any]:
    return {"_type": "DV_CODED_TEXT", "value": v,
            "defining_code": {"_type": "CODE_PHRASE", "terminology_id": {"_type": "TERMINOLOGY_ID", "value": terminology},
                              "code_string": code}}


def code_phrase(terminology: str, code: str) -> dict[str, Any]:
    return {"_type": "CODE_PHRASE", "terminology_id": {"_type": "TERMINOLOGY_ID", "value": terminology},
            "code_string": code}


def el(node_id: str, name: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"_type": "ELEMENT", "archetype_node_id": node_id, "name": dv_text(name), "value": value}


def qty(m: float) -> dict[str, Any]:
    return {"_type": "DV_QUANTITY", "magnitude": m, "units": "mm[Hg]"}


def archetyped(archetype_id: str, template_id: str | None = None) -> dict[str, Any]:
    d: dict[str, Any] = {"_type": "ARCHETYPED", "archetype_id": {"_type": "ARCHETYPE_ID", "value": archetype_id},
                         "rm_version": "1.0.4"}
    if template_id:
        d["template_id"] = {"_type": "TEMPLATE_ID", "value": template_id}
    return d


def observation() -> dict[str, Any]:
    return {
        "_type": "OBSERVATION", "archetype_node_id": BP_ID, "name": dv_text("Blood pressure"),
        "archetype_details": archetyped(BP_ID),
        "language": code_phrase("ISO_639-1", "en"), "encoding": code_phrase("IANA_character-sets", "UTF-8"),
        "subject": {"_type": "PARTY_SELF"},
        "protocol": {"_type": "ITEM_TREE", "archetype_node_id": "at0020", "name": dv_text("Protocol"), "items": []},
        "data": {
            "_type": "HISTORY", "archetype_node_id": "at0001", "name": dv_text("History"),
            "origin": {"_type": "DV_DATE_TIME", "value": "2024-01-01T10:00:00Z"},
            "events": [{
                "_type": "POINT_EVENT", "archetype_node_id": "at0002", "name": dv_text("Any event"),
                "time": {"_type": "DV_DATE_TIME", "value": "2024-01-01T10:00:00Z"},
                "data": {"_type": "ITEM_TREE", "archetype_node_id": "at0003", "name": dv_text("Tree"), "items": [
                    el("at0004", "Systolic", qty(120)),
                    el("at0005", "Diastolic", qty(80)),
                    el("at0006", "Position", coded("Sitting", "at0010")),
                    el("at0008", "Left cuff", dv_text("adult")),
                ]},
            }],
        },
    }


def composition() -> dict[str, Any]:
    return {
        "_type": "COMPOSITION", "archetype_node_id": COMP_ID, "name": dv_text("Encounter"),
        "archetype_details": archetyped(COMP_ID, TEMPLATE_ID),
        "language": code_phrase("ISO_639-1", "en"), "territory": code_phrase("ISO_3166-1", "DE"),
        "category": coded("event", "433", "openehr"),
        "composer": {"_type": "PARTY_IDENTIFIED", "name": "Dr. A"},
        "context": {"_type": "EVENT_CONTEXT", "start_time": {"_type": "DV_DATE_TIME", "value": "2024-01-01T10:00:00Z"},
                    "setting": coded("other care", "238", "openehr")},
        "content": [observation()],
    }


TEMPLATE = build_template()


def items(comp: dict[str, Any]) -> list[dict[str, Any]]:
    return comp["content"][0]["data"]["events"][0]["data"]["items"]


def run(comp: dict[str, Any], template: OperationalTemplate = TEMPLATE) -> list[Any]:
    return validate_composition(read_json_composition(json.dumps(comp)), template)


def codes(comp: dict[str, Any], template: OperationalTemplate = TEMPLATE) -> list[str]:
    return [i.code for i in run(comp, template)]


def only(comp: dict[str, Any], code: str, template: OperationalTemplate = TEMPLATE) -> Any:
    found = run(comp, template)
    assert [i.code for i in found] == [code], [(i.code, i.message) for i in found]
    return found[0]


# ---------------------------------------------------------------------------------------------------------------


def test_checkers_are_wired() -> None:
    assert V.MISSING_CHECKERS == [], "the data-value / primitive / RM-rule checkers must all be importable"


def test_valid_composition_has_no_issue() -> None:
    assert run(composition()) == []


def test_val001_node_not_in_template() -> None:
    comp = composition()
    items(comp).append(el("at0099", "Heart rate", qty(60)))
    issue = only(comp, "VAL001")
    assert issue.instance_path == "/content/0/data/events/0/data/items/4"
    assert issue.template_path == f"/content[{BP_ID}]/data[at0001]/events[at0002]/data[at0003]/items"
    assert "'Heart rate' (at0099) is not defined by the template here" in issue.message
    assert "RMObject" not in issue.message


def test_val002_missing_mandatory_node_names_it_and_its_parent() -> None:
    comp = composition()
    del items(comp)[0]
    issue = only(comp, "VAL002")
    assert issue.template_path == f"/content[{BP_ID}]/data[at0001]/events[at0002]/data[at0003]/items[at0004]"
    assert issue.instance_path == "/content/0/data/events/0/data"
    assert issue.message.startswith("Systolic (at0004) is missing")


def test_val002_rather_than_cardinality_when_the_only_item_is_dropped() -> None:
    comp = composition()
    items(comp)[:] = []
    assert codes(comp) == ["VAL002"]


def test_val003_too_many_occurrences() -> None:
    comp = composition()
    items(comp).insert(1, el("at0004", "Systolic", qty(130)))
    issue = only(comp, "VAL003")
    assert issue.message == "Systolic (at0004) occurs 2 times; the template allows at most 1"
    assert issue.instance_path == "/content/0/data/events/0/data/items/1"


def test_val003_archetype_root_max_one() -> None:
    comp = composition()
    comp["content"].append(observation())
    issue = only(comp, "VAL003")
    assert issue.template_path == f"/content[{BP_ID}]"
    assert issue.message.startswith(f"Blood pressure ({BP_ID}) occurs 2 times")


def test_val004_cardinality() -> None:
    comp = composition()
    events = comp["content"][0]["data"]["events"]
    events.extend(copy.deepcopy(events[0]) for _ in range(2))
    issue = only(comp, "VAL004")
    assert issue.instance_path == "/content/0/data/events"
    assert "3 items; at most 2" in issue.message


def test_val005_template_existence() -> None:
    comp = composition()
    del comp["content"][0]["protocol"]
    issue = only(comp, "VAL005")
    assert issue.template_path == f"/content[{BP_ID}]/protocol"


def test_val006_rm_mandatory_attributes() -> None:
    comp = composition()
    del comp["composer"]
    del items(comp)[1]["name"]
    found = run(comp)
    assert sorted(i.code for i in found) == ["VAL006", "VAL006"]
    paths = {i.template_path for i in found}
    assert "/composer" in paths
    assert any(p.endswith("items[at0005]/name") for p in paths)


def test_val007_wrong_rm_type() -> None:
    comp = composition()
    items(comp)[0]["value"] = {"_type": "DV_COUNT", "magnitude": 3}
    issue = only(comp, "VAL007")
    assert issue.instance_path == "/content/0/data/events/0/data/items/0/value"
    assert "DV_COUNT" in issue.message and "DV_QUANTITY" in issue.message
    assert issue.message.startswith("Systolic (at0004)")


def test_val007_wrong_node_type() -> None:
    comp = composition()
    items(comp)[1] = {"_type": "CLUSTER", "archetype_node_id": "at0005", "name": dv_text("Diastolic"),
                      "items": [el("at0001", "x", dv_text("y"))]}
    assert codes(comp) == ["VAL007"]


def test_dv_coded_text_accepted_where_dv_text_is_constrained() -> None:
    comp = composition()
    items(comp).append(el("at0007", "Comment", coded("Sitting", "at0010")))
    assert run(comp) == []


def test_val008_slot_refuses_archetype() -> None:
    comp = composition()
    items(comp).append({"_type": "CLUSTER", "archetype_node_id": "openEHR-EHR-CLUSTER.level_of_exertion.v1",
                        "name": dv_text("Exertion"), "archetype_details": archetyped("openEHR-EHR-CLUSTER.level_of_exertion.v1"),
                        "items": [el("at0001", "x", dv_text("y"))]})
    issue = only(comp, "VAL008")
    assert issue.template_path.endswith("items[at0009]")
    assert "Device (at0009)" in issue.message


def test_val015_slot_filled_with_undescribed_archetype_is_a_warning() -> None:
    comp = composition()
    items(comp).append({"_type": "CLUSTER", "archetype_node_id": "openEHR-EHR-CLUSTER.device.v1",
                        "name": dv_text("Device"), "archetype_details": archetyped("openEHR-EHR-CLUSTER.device.v1"),
                        "items": [el("at0001", "x", dv_text("y"))]})
    issue = only(comp, "VAL015")
    assert issue.severity is Severity.WARNING


def test_val009_root_archetype() -> None:
    comp = composition()
    comp["archetype_node_id"] = "openEHR-EHR-COMPOSITION.report.v1"
    issue = only(comp, "VAL009")
    assert COMP_ID in issue.message


def test_val019_archetype_details_disagree_is_a_warning() -> None:
    comp = composition()
    comp["content"][0]["archetype_details"] = archetyped("openEHR-EHR-OBSERVATION.other.v1")
    issue = only(comp, "VAL019")
    assert issue.severity is Severity.WARNING


def test_val010_empty_event_data() -> None:
    template = build_template(systolic_min=0)
    comp = composition()
    tree = comp["content"][0]["data"]["events"][0]["data"]
    del tree["items"]
    assert codes(comp, template) == ["VAL010"]


def test_val010_history_without_events() -> None:
    template = build_template(systolic_min=0)
    comp = composition()
    comp["content"][0]["data"]["events"] = []
    # the template requires one event (cardinality 1..2): the cardinality says it, VAL010 adds nothing
    assert codes(comp, template) == ["VAL004"]


def test_val011_unknown_attribute_is_a_warning() -> None:
    comp = composition()
    items(comp)[0]["colour"] = "red"
    issue = only(comp, "VAL011")
    assert issue.severity is Severity.WARNING
    assert issue.instance_path == "/content/0/data/events/0/data/items/0/colour"


def test_val012_template_id_mismatch() -> None:
    comp = composition()
    comp["archetype_details"]["template_id"]["value"] = "another.template.v1"
    issue = only(comp, "VAL012")
    assert "another.template.v1" in issue.message and TEMPLATE_ID in issue.message


def test_val017_template_id_absent_is_a_warning() -> None:
    comp = composition()
    del comp["archetype_details"]["template_id"]
    assert only(comp, "VAL017").severity is Severity.WARNING


def test_val013_plain_text_where_coded_required() -> None:
    comp = composition()
    items(comp)[2]["value"] = dv_text("Sitting")
    issue = only(comp, "VAL013")
    assert issue.instance_path.endswith("items/2/value")


def test_val014_name_constraint_and_sibling_choice_by_name() -> None:
    comp = composition()
    items(comp).append(el("at0008", "Right cuff", dv_text("child")))
    assert run(comp) == []  # Left and Right are two nodes told apart by name: one each is fine
    items(comp).append(el("at0008", "Middle cuff", dv_text("child")))
    found = run(comp)
    assert [i.code for i in found] == ["VAL014"], [(i.code, i.message) for i in found]
    assert "'Middle cuff'" in found[0].message


def test_same_name_twice_exceeds_occurrences() -> None:
    comp = composition()
    items(comp).append(el("at0008", "Left cuff", dv_text("child")))
    assert codes(comp) == ["VAL003"]


def test_internal_ref_is_checked_against_its_target() -> None:
    comp = composition()
    protocol = comp["content"][0]["protocol"]
    protocol["items"] = [el("at0004", "Systolic", qty(120))]
    assert run(comp) == []
    protocol["items"] = [el("at0004", "Systolic", {"_type": "DV_COUNT", "magnitude": 1})]
    issue = only(comp, "VAL007")
    assert issue.instance_path == "/content/0/protocol/items/0/value"


def test_unconstrained_attributes_are_type_checked() -> None:
    comp = composition()
    comp["context"]["start_time"] = dv_text("yesterday")
    found = run(comp)
    assert [i.code for i in found] == ["VAL007"], [(i.code, i.message) for i in found]
    assert found[0].template_path == "/context/start_time"


def test_all_issues_are_collected() -> None:
    comp = composition()
    del items(comp)[0]
    items(comp).append(el("at0099", "Unknown", dv_text("x")))
    comp["archetype_details"]["template_id"]["value"] = "other"
    assert sorted(codes(comp)) == ["VAL001", "VAL002", "VAL012"]


def test_every_code_used_is_registered() -> None:
    for code in ("VAL001", "VAL002", "VAL003", "VAL004", "VAL005", "VAL006", "VAL007", "VAL008", "VAL009",
                 "VAL010", "VAL011", "VAL012", "VAL013", "VAL014", "VAL015", "VAL016", "VAL017", "VAL018", "VAL019"):
        assert code in REGISTRY


def test_xml_instance_paths() -> None:
    from openehr_kit.rm.canonical_xml import read_xml_composition
    from openehr_kit.rm.instance import to_canonical_xml

    comp = composition()
    items(comp).insert(1, el("at0004", "Systolic", qty(130)))
    xml = to_canonical_xml(read_json_composition(json.dumps(comp)))
    found = validate_composition(read_xml_composition(xml), TEMPLATE)
    assert [i.code for i in found] == ["VAL003"]
    assert found[0].instance_path == "/composition/content[1]/data/events[1]/data/items[2]"
    assert found[0].line is not None


# ---------------------------------------------------------------------------------------------------------------
# validate_file


def test_validate_file_results(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(composition()), encoding="utf-8")
    res = validate_file(good, TEMPLATE)
    assert res.valid and res.template_id == TEMPLATE_ID and not res.unreadable

    res = validate_file(good, None, {TEMPLATE_ID: TEMPLATE})
    assert res.valid

    res = validate_file(good, None, {"something.else": TEMPLATE})
    assert not res.valid and [i.code for i in res.issues] == ["VAL016"]

    broken = tmp_path / "broken.json"
    broken.write_text('{"_type": "COMPOSITION", ', encoding="utf-8")
    res = validate_file(broken, TEMPLATE)
    assert res.unreadable and not res.valid and res.issues[0].code == "RMR001" and res.issues[0].line == 1

    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps({"encounter/context/start_time": "2024-01-01T10:00:00Z"}), encoding="utf-8")
    res = validate_file(flat, TEMPLATE)
    # FLAT is read through the template's web template and then validated like any composition
    assert not res.unreadable and res.template_id == TEMPLATE_ID and not res.valid
    assert all(i.code != "RMR008" for i in res.issues)
    assert any(i.code in ("FLT006", "VAL006") and i.template_path == "/composer" for i in res.issues)

    data = res.to_dict()
    assert set(data) >= {"path", "template_id", "valid", "issues"}
    assert set(data["issues"][0]) >= {"code", "severity", "message", "template_path", "instance_path"}


def test_validator_bug_becomes_an_issue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(composition()), encoding="utf-8")

    def boom(*_: Any) -> None:
        raise ValueError("boom")

    monkeypatch.setattr(V, "validate_composition", boom)
    res = validate_file(good, TEMPLATE)
    assert not res.valid and res.issues[0].code == "VAL018"


# ---------------------------------------------------------------------------------------------------------------
# one report per problem: the RM rules and the data-value checker never both report the same value


def category_template(codes_: list[str]) -> OperationalTemplate:
    """TEMPLATE with a template code list on COMPOSITION.category (as most OPTs have: [433])."""
    t = build_template()
    category = attr("category", [CComplexObject("DV_CODED_TEXT", None, occ(1, 1), [
        attr("defining_code", [CCodePhrase("CODE_PHRASE", None, occ(1, 1), terminology_id="openehr",
                                           code_list=codes_)], existence=(1, 1))])], existence=(1, 1))
    t.definition.attributes.append(category)
    return t


def test_category_code_list_and_rm_rule_report_once() -> None:
    t = category_template(["433"])
    assert run(composition(), t) == []
    # 999 is neither in the template's list (VAL106) nor an openEHR category (VAL201): one issue, the RM rule's
    comp = composition()
    comp["category"] = coded("event", "999", "openehr")
    issue = only(comp, "VAL201", t)
    assert issue.instance_path == "/category"
    # a category the RM allows but the template does not: the template's VAL106 alone
    comp["category"] = coded("persistent", "431", "openehr")
    comp.pop("context")
    issue = only(comp, "VAL106", t)
    assert issue.instance_path == "/category/defining_code/code_string"
    # plain text: VAL201 (not coded) and not also VAL013 (DV_TEXT where DV_CODED_TEXT is required)
    comp = composition()
    comp["category"] = dv_text("event")
    only(comp, "VAL201", t)
    # a wrong terminology: VAL201, not also VAL107
    comp["category"] = coded("event", "433", "local")
    only(comp, "VAL201", t)


def participation(function: dict[str, Any], mode: dict[str, Any] | None = None,
                  performer: dict[str, Any] | None = None) -> dict[str, Any]:
    p: dict[str, Any] = {"_type": "PARTICIPATION", "function": function,
                         "performer": performer or {"_type": "PARTY_IDENTIFIED", "name": "Dr. B"}}
    if mode is not None:
        p["mode"] = mode
    return p


def test_participation_term_text_is_reported_once() -> None:
    comp = composition()
    comp["context"]["participations"] = [participation(dv_text("requester"), coded("WRONG VALUE", "216", "openehr"))]
    issue = only(comp, "VAL108")
    assert issue.instance_path == "/context/participations/0/mode/value"
    assert "face-to-face communication" in issue.message
    comp = composition()
    related = {"_type": "PARTY_RELATED", "name": "B", "relationship": coded("bother", "23", "openehr")}
    comp["context"]["participations"] = [participation(dv_text("x"), performer=related)]
    issue = only(comp, "VAL108")
    assert issue.instance_path == "/context/participations/0/performer/relationship/value"


def test_wrong_participation_function_code_is_one_issue() -> None:
    # openehr::216 is a mode code: VAL210 (the RM rule); its text compared with 216's rubric would only repeat it
    comp = composition()
    comp["context"]["participations"] = [participation(coded("requester", "216", "openehr"))]
    issue = only(comp, "VAL210")
    assert issue.instance_path == "/context/participations/0/function"


def test_rules_are_dispatched_by_the_public_rule_types(monkeypatch: pytest.MonkeyPatch) -> None:
    from openehr_kit.validation import rm_rules

    seen: list[str] = []

    def spy(obj: Any, where: Any, rep: Any) -> list[Any]:
        seen.append(obj.rm_type)
        return []

    monkeypatch.setattr(V, "_check_rm_rules", spy)
    run(composition())
    assert seen and set(seen) <= rm_rules.RULE_TYPES
    assert {"COMPOSITION", "EVENT_CONTEXT", "OBSERVATION", "HISTORY", "ELEMENT"} <= set(seen)
    assert not hasattr(V, "_RULE_TYPES")  # the walker uses rm_rules.RULE_TYPES, not the private table


# ---------------------------------------------------------------------------------------------------------------
# ISM transitions, attributes no data can carry, several data-value alternatives of one type

ACTION_ID = "openEHR-EHR-ACTION.medication.v1"
ACTION_TERMS = Terminology("en", term_definitions={"en": {
    "at0000": {"text": "Medication"}, "at0001": {"text": "Planned"}, "at0002": {"text": "Given"},
    "at0003": {"text": "Tree"},
}})


def ism_alternative(state: str, step: str | None, node_id: str | None = None,
                    extra: list[CAttribute] | None = None) -> CComplexObject:
    """An ISM_TRANSITION alternative: its current_state code and (optionally) careflow step, as OPTs give them."""
    def coded_attr(name: str, terminology: str, code: str, existence: tuple[int, int]) -> CAttribute:
        return attr(name, [CComplexObject("DV_CODED_TEXT", None, occ(1, 1), [
            attr("defining_code", [CCodePhrase("CODE_PHRASE", None, occ(1, 1), terminology_id=terminology,
                                               code_list=[code])], existence=(1, 1))])], existence=existence)
    attrs = [coded_attr("current_state", "openehr", state, (1, 1))]
    if step is not None:
        attrs.append(coded_attr("careflow_step", "local", step, (0, 1)))
    return CComplexObject("ISM_TRANSITION", node_id, occ(1, 1), attrs + (extra or []))


def action_template(alternatives: list[CObject]) -> OperationalTemplate:
    """TEMPLATE whose composition may also hold a medication ACTION with these ISM_TRANSITION alternatives."""
    t = build_template()
    action = CArchetypeRoot("ACTION", "at0000", occ(0, 1), [
        attr("ism_transition", alternatives, existence=(1, 1)),
        attr("description", [CComplexObject("ITEM_TREE", "at0003", occ(1, 1), any_allowed=True)], existence=(1, 1)),
    ], archetype_id=ACTION_ID, terminology=ACTION_TERMS)
    t.definition.attributes[0].children.append(action)
    return t


def action(state: tuple[str, str], step: tuple[str, str] | None) -> dict[str, Any]:
    ism: dict[str, Any] = {"_type": "ISM_TRANSITION", "current_state": coded(state[1], state[0], "openehr")}
    if step is not None:
        ism["careflow_step"] = coded(step[1], step[0])
    return {
        "_type": "ACTION", "archetype_node_id": ACTION_ID, "name": dv_text("Medication"),
        "archetype_details": archetyped(ACTION_ID),
        "language": code_phrase("ISO_639-1", "en"), "encoding": code_phrase("IANA_character-sets", "UTF-8"),
        "subject": {"_type": "PARTY_SELF"}, "time": {"_type": "DV_DATE_TIME", "value": "2024-01-01T10:00:00Z"},
        "ism_transition": ism,
        "description": {"_type": "ITEM_TREE", "archetype_node_id": "at0003", "name": dv_text("Tree"), "items": []},
    }


def with_action(state: tuple[str, str], step: tuple[str, str] | None) -> dict[str, Any]:
    comp = composition()
    comp["content"].append(action(state, step))
    return comp


PLANNED, COMPLETED = ("526", "planned"), ("532", "completed")


def test_ism_transitions_without_node_ids_are_matched_by_careflow_step() -> None:
    # action test.opt: the ISM_TRANSITION alternatives have no node id, only careflow_step code lists
    t = action_template([ism_alternative("526", "at0001"), ism_alternative("532", "at0002")])
    assert run(with_action(PLANNED, ("at0001", "Planned")), t) == []
    assert run(with_action(COMPLETED, ("at0002", "Given")), t) == []
    # the step picks the alternative, whose current_state constraint then applies
    issue = only(with_action(COMPLETED, ("at0001", "Planned")), "VAL106", t)
    assert issue.instance_path == "/content/1/ism_transition/current_state/defining_code/code_string"
    # a step no alternative lists is not defined here
    issue = only(with_action(PLANNED, ("at0009", "Other")), "VAL001", t)
    assert issue.instance_path == "/content/1/ism_transition"
    # no careflow step given: the current state tells them apart
    assert run(with_action(COMPLETED, None), t) == []


def test_ism_transitions_with_node_ids_and_without_careflow_constraint() -> None:
    # the usual archetype form: node id = careflow step
    t = action_template([ism_alternative("526", "at0001", "at0001"), ism_alternative("532", "at0002", "at0002")])
    assert run(with_action(COMPLETED, ("at0002", "Given")), t) == []
    only(with_action(PLANNED, ("at0009", "Other")), "VAL001", t)
    # no careflow constraint and no node id: any step matches (the current state still applies)
    t = action_template([ism_alternative("526", None), ism_alternative("532", None)])
    assert run(with_action(COMPLETED, ("at0002", "Given")), t) == []
    assert run(with_action(PLANNED, ("at0001", "Planned")), t) == []


def test_template_constraint_on_an_attribute_the_rm_type_lacks_is_no_data_error() -> None:
    # ips.v0.opt constrains ISM_TRANSITION.name (existence 1..1); ISM_TRANSITION is not LOCATABLE and has no name
    ism_name = attr("name", [CComplexObject("DV_TEXT", None, occ(1, 1), any_allowed=True)], existence=(1, 1))
    t = action_template([ism_alternative("526", "at0001", "at0001", extra=[ism_name])])
    assert run(with_action(PLANNED, ("at0001", "Planned")), t) == []
    # an RM attribute the template makes mandatory is still required
    ism_reason = attr("reason", [CComplexObject("DV_TEXT", None, occ(1, 1), any_allowed=True)], existence=(1, 1))
    t = action_template([ism_alternative("526", "at0001", "at0001", extra=[ism_reason])])
    issue = only(with_action(PLANNED, ("at0001", "Planned")), "VAL005", t)
    assert issue.template_path == f"/content[{ACTION_ID}]/ism_transition[at0001]/reason"


def dose_template() -> OperationalTemplate:
    """TEMPLATE whose at0007 takes one of three DV_QUANTITY alternatives (COLNEC Medication.opt) or a code."""
    t = build_template()
    dose = [
        CDvQuantity("DV_QUANTITY", None, occ(1, 1), list=[CQuantityItem("mg", Interval(0.0, None)),
                                                          CQuantityItem("g", Interval(0.0, None))]),
        CDvQuantity("DV_QUANTITY", None, occ(1, 1), list=[CQuantityItem("[iU]", Interval(0.0, None)),
                                                          CQuantityItem("m[iU]", Interval(0.0, None))]),
        CDvQuantity("DV_QUANTITY", None, occ(1, 1), list=[CQuantityItem("mU", Interval(1.0, 12345.0)),
                                                          CQuantityItem("U", Interval(0.0, None))]),
    ]
    tree = t.definition.attributes[0].children[0].attributes[0].children[0].attributes[0].children[0]
    items_attr = tree.attributes[0].children[0].attributes[0]
    at0007 = next(c for c in items_attr.children if c.node_id == "at0007")
    at0007.attributes[0].children[:] = dose
    return t


def test_a_value_valid_under_any_same_type_alternative_is_valid() -> None:
    t = dose_template()

    def dose(m: float, units: str) -> dict[str, Any]:
        comp = composition()
        items(comp).append(el("at0007", "Comment", {"_type": "DV_QUANTITY", "magnitude": m, "units": units}))
        return comp

    for units in ("mg", "[iU]", "m[iU]", "mU", "U"):
        assert run(dose(5.0, units), t) == [], units
    path = f"/content[{BP_ID}]/data[at0001]/events[at0002]/data[at0003]/items[at0007]/value"
    # valid under none: one issue, against the alternative the unit belongs to (VAL102, not VAL101 of the first)
    issue = only(dose(20000.0, "mU"), "VAL102", t)
    assert (issue.template_path, issue.instance_path) == (
        f"{path}/magnitude", "/content/0/data/events/0/data/items/4/value/magnitude")
    # a unit none lists: one VAL101
    issue = only(dose(5.0, "kg"), "VAL101", t)
    assert issue.template_path == f"{path}/units"
