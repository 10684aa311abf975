"""Archetype semantic checks: each rule fires on a planted violation and stays quiet on the clean original."""

from __future__ import annotations

from openehr_kit.am.adl import parse_adl
from openehr_kit.am.semantics import check_archetype

BASE = """archetype (adl_version=1.4)
\topenEHR-EHR-OBSERVATION.semantics_probe.v0
concept
\t[at0000]
language
\toriginal_language = <[ISO_639-1::nb]>
\ttranslations = <
\t\t["en"] = <
\t\t\tlanguage = <[ISO_639-1::en]>
\t\t\tauthor = <["name"] = <"x">>
\t\t>
\t>
description
\toriginal_author = <["name"] = <"openehr-kit">>
\tlifecycle_state = <"in_development">
\tdetails = <["nb"] = <language = <[ISO_639-1::nb]> purpose = <"Test">>>
definition
\tOBSERVATION[at0000] matches {
\t\tdata matches {
\t\t\tHISTORY[at0001] matches {
\t\t\t\tevents cardinality matches {1..*; unordered} matches {
\t\t\t\t\tEVENT[at0002] occurrences matches {0..*} matches {
\t\t\t\t\t\tdata matches {
\t\t\t\t\t\t\tITEM_TREE[at0003] matches {
\t\t\t\t\t\t\t\titems cardinality matches {0..*; unordered} matches {
\t\t\t\t\t\t\t\t\tELEMENT[at0004] occurrences matches {0..1} matches {
\t\t\t\t\t\t\t\t\t\tvalue matches {
\t\t\t\t\t\t\t\t\t\t\tDV_CODED_TEXT matches {
\t\t\t\t\t\t\t\t\t\t\t\tdefining_code matches {[local::at0005, at0006]}
\t\t\t\t\t\t\t\t\t\t\t}
\t\t\t\t\t\t\t\t\t\t}
\t\t\t\t\t\t\t\t\t}
\t\t\t\t\t\t\t\t\tELEMENT[at0007] occurrences matches {0..1} matches {
\t\t\t\t\t\t\t\t\t\tvalue matches {
\t\t\t\t\t\t\t\t\t\t\tDV_CODED_TEXT matches {
\t\t\t\t\t\t\t\t\t\t\t\tdefining_code matches {[ac0001]}
\t\t\t\t\t\t\t\t\t\t\t}
\t\t\t\t\t\t\t\t\t\t}
\t\t\t\t\t\t\t\t\t}
\t\t\t\t\t\t\t\t}
\t\t\t\t\t\t\t}
\t\t\t\t\t\t}
\t\t\t\t\t}
\t\t\t\t\tEVENT[at0008] occurrences matches {0..1} matches {
\t\t\t\t\t\tdata matches {
\t\t\t\t\t\t\tuse_node ITEM_TREE /data[at0001]/events[at0002]/data[at0003]
\t\t\t\t\t\t}
\t\t\t\t\t}
\t\t\t\t}
\t\t\t}
\t\t}
\t}
ontology
\tterm_definitions = <
\t\t["nb"] = <
\t\t\titems = <
{nb}
\t\t\t>
\t\t>
\t\t["en"] = <
\t\t\titems = <
{en}
\t\t\t>
\t\t>
\t>
\tconstraint_definitions = <
\t\t["nb"] = <
\t\t\titems = <
\t\t\t\t["ac0001"] = <text = <"Diagnoser"> description = <"*">>
\t\t\t>
\t\t>
\t>
"""

CODES = ["at0000", "at0001", "at0002", "at0003", "at0004", "at0005", "at0006", "at0007", "at0008"]


def build(nb: list[str] = CODES, en: list[str] = CODES, edit: tuple[str, str] | None = None) -> str:
    def items(codes: list[str]) -> str:
        return "\n".join(f'\t\t\t\t["{c}"] = <text = <"T {c}"> description = <"*">>' for c in codes)

    text = BASE.replace("{nb}", items(nb)).replace("{en}", items(en))
    if edit:
        assert edit[0] in text
        text = text.replace(edit[0], edit[1])
    return text


def codes_of(text: str) -> list[tuple[str, str | None]]:
    return [(i.code, i.template_path) for i in check_archetype(parse_adl(text, source="probe.adl"))]


def test_clean_archetype_has_no_findings() -> None:
    assert codes_of(build()) == []


def test_node_id_without_term_in_original_language() -> None:
    found = codes_of(build(nb=[c for c in CODES if c != "at0004"]))
    assert ("ARC001", "/data[at0001]/events[at0002]/data[at0003]/items[at0004]") in found


def test_value_code_without_term() -> None:
    found = codes_of(build(nb=[c for c in CODES if c != "at0006"]))
    assert [c for c, _ in found] == ["ARC001"]


def test_missing_translation_is_a_warning() -> None:
    found = check_archetype(parse_adl(build(en=[c for c in CODES if c != "at0005"])))
    assert [(i.code, i.severity.value) for i in found] == [("ARC004", "warning")]


def test_dangling_use_node() -> None:
    text = build(edit=("use_node ITEM_TREE /data[at0001]/events[at0002]/data[at0003]",
                       "use_node ITEM_TREE /data[at0001]/events[at0002]/data[at0099]"))
    assert [c for c, _ in codes_of(text)] == ["ARC002"]


def test_constraint_code_without_definition() -> None:
    text = build(edit=('["ac0001"] = <text = <"Diagnoser"> description = <"*">>', '["ac0002"] = <text = <"X">>'))
    assert [c for c, _ in codes_of(text)] == ["ARC003"]


def test_duplicate_sibling_node_ids() -> None:
    text = build(edit=("ELEMENT[at0007]", "ELEMENT[at0004]"))
    assert "ARC005" in [c for c, _ in codes_of(text)]


def test_attribute_unknown_to_the_rm() -> None:
    text = build(edit=("\t\tdata matches {\n\t\t\tHISTORY", "\t\tfindings matches {\n\t\t\tHISTORY"))
    # the use_node target /data[at0001]/... is gone with the renamed attribute, hence ARC002 as well
    assert sorted(c for c, _ in codes_of(text)) == ["ARC002", "ARC007"]


def test_unknown_rm_type_and_misplaced_child() -> None:
    assert "ARC006" in [c for c, _ in codes_of(build(edit=("HISTORY[at0001]", "HYSTORY[at0001]")))]
    found = codes_of(build(edit=("ITEM_TREE[at0003]", "ELEMENT[at0003]")))
    assert ("ARC008", "/data[at0001]/events[at0002]/data") in found
