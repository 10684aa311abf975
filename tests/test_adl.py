"""Tests of the ADL 1.4 parser on hand-written archetypes: every construct, located errors, properties."""

from __future__ import annotations

import collections
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openehr_kit.am.adl import load_archetype, parse_adl
from openehr_kit.am.model import (
    Archetype,
    ArchetypeInternalRef,
    ArchetypeSlot,
    CBoolean,
    CCodePhrase,
    CComplexObject,
    CDate,
    CDateTime,
    CDuration,
    CDvOrdinal,
    CDvQuantity,
    CInteger,
    CodePhrase,
    ConstraintRef,
    CPrimitiveObject,
    CQuantityItem,
    CReal,
    CString,
    CTime,
    Interval,
    OrdinalItem,
)
from openehr_kit.diagnostics import ParseError

FULL = """\
archetype (adl_version=1.4; uid=11111111-2222-3333-4444-555555555555; controlled; generated)
	openEHR-EHR-OBSERVATION.kit_test-sub.v1

specialise
	openEHR-EHR-OBSERVATION.kit_test.v1

concept
	[at0000.1]	-- Kit test
language
	original_language = <[ISO_639-1::en]>
	translations = <
		["de"] = <
			language = <[ISO_639-1::de]>
			author = <
				["name"] = <"A \\"quoted\\" name">
			>
		>
	>
description
	original_author = <
		["name"] = <"Someone">
		["date"] = <"2024-01-01">
	>
	details = <
		["en"] = <
			language = <[ISO_639-1::en]>
			purpose = <"Line one
line two -- not a comment">
			keywords = <"a", "b", ...>
		>
	>
	lifecycle_state = <"AuthorDraft">
	other_details = <
		["MD5-CAM-1.0.1"] = <"ABC">
	>

definition
	OBSERVATION[at0000.1] matches {	-- Kit test
		data matches {
			HISTORY[at0001] matches {	-- History
				events cardinality matches {1..*; unordered} matches {
					EVENT[at0002] occurrences matches {0..*} matches {	-- Any event
						data matches {
							ITEM_TREE[at0003] matches {
								items cardinality matches {0..*; unordered; unique} matches {
									ELEMENT[at0004] occurrences matches {0..1} matches {	-- Quantity
										value matches {
											C_DV_QUANTITY <
												property = <[openehr::125]>
												list = <
													["1"] = <
														units = <"mm[Hg]">
														magnitude = <|0.0..<1000.0|>
														precision = <|0|>
													>
													["2"] = <
														units = <"kPa">
													>
												>
												assumed_value = <
													magnitude = <0.0>
													units = <"mm[Hg]">
													precision = <0>
												>
											>
										}
									}
									ELEMENT[at0005] occurrences matches {0..1} matches {	-- Ordinal
										value matches {
											0|[local::at0006], 	-- none
											1|[local::at0007],	-- some
											-1|[local::at0008]; 0
										}
									}
									ELEMENT[at0009] matches {	-- Coded
										value matches {
											DV_CODED_TEXT matches {
												defining_code matches {
													[local::
													at0010,	-- first
													at0011;	-- second
													at0011]	-- assumed
												}
											}
											DV_TEXT matches {*}
										}
									}
									ELEMENT[at0012] occurrences matches {1..1} matches {
										value matches {
											DV_CODED_TEXT matches {
												defining_code matches {[ac0001]}
											}
										}
									}
									ELEMENT[at0013] matches {
										value matches {
											DV_CODED_TEXT matches {
												defining_code matches {[SNOMED-CT::123456]}
											}
										}
									}
									ELEMENT[at0014] matches {
										value matches {
											DV_CODED_TEXT matches {
												defining_code matches {[local::]}
											}
										}
									}
									ELEMENT[at0015] matches {
										value matches {
											DV_BOOLEAN matches {
												value matches {True}
											}
										}
									}
									ELEMENT[at0016] matches {
										value matches {
											DV_COUNT matches {
												magnitude matches {|>=0|; 1}
											}
										}
									}
									ELEMENT[at0017] matches {
										value matches {
											DV_PROPORTION matches {
												numerator matches {|0.0..100.0|}
												type matches {2, 3}
												is_integral matches {True, False; False}
											}
										}
									}
									ELEMENT[at0018] matches {
										value matches {
											DV_DATE_TIME matches {
												value matches {yyyy-mm-ddTHH:??:??}
											}
										}
									}
									ELEMENT[at0019] matches {
										value matches {
											DV_DATE matches {
												value matches {yyyy-mm-??}
											}
											DV_TIME matches {
												value matches {HH:MM:??}
											}
										}
									}
									ELEMENT[at0020] matches {
										value matches {
											DV_DURATION matches {
												value matches {PYMWD/|>=P0D|}
											}
											DV_DURATION matches {
												value matches {PT24H}
											}
											DV_DURATION matches {
												value matches {|PT0S..PT1H|}
											}
											DV_DURATION matches {
												value matches {PTHMS}
											}
										}
									}
									ELEMENT[at0021] matches {
										value matches {
											DV_MULTIMEDIA matches {
												media_type matches {"text/html", "text/plain"; "text/plain"}
												uri matches {/https?:\\/\\/.*/}
											}
										}
									}
									ELEMENT[at0022] matches {
										value matches {
											DV_INTERVAL<DV_QUANTITY> matches {*}
										}
									}
									ELEMENT[at0023] matches {
										null_flavour existence matches {0..1} matches {
											DV_CODED_TEXT matches {
												defining_code matches {[openehr::271, 253]}
											}
										}
									}
									allow_archetype CLUSTER[at0024] occurrences matches {0..*} matches {	-- Slot
										include
											archetype_id/value matches {/openEHR-EHR-CLUSTER\\.device(-[a-zA-Z0-9_]+)*\\.v1/}
											archetype_id/value matches {/openEHR-EHR-CLUSTER\\.other\\.v1/}
										exclude
											archetype_id/value matches {/.*/}
											domain_concept matches {/x/} and
												archetype_id/value matches {/y/}
									}
									ELEMENT[at0025.1] matches {
										value matches {
											DV_DATE_TIME matches {
												value matches {|2000-01-01T00:00:00..2030-12-31T23:59:59|}
											}
										}
									}
								}
							}
						}
					}
					INTERVAL_EVENT[at0026] occurrences matches {0..1} matches {
						width matches {
							DV_DURATION matches {
								value matches {PT24H}
							}
						}
						data matches {
							use_node ITEM_TREE /data[at0001]/events[at0002]/data[at0003]
						}
					}
				}
			}
		}
		protocol matches {
			ITEM_TREE[at0027] matches {*}
		}
	}

invariant
	a1: exists /data[at0001]
	-- a comment
	a2: /data[at0001] matches {*}

ontology
	terminologies_available = <"SNOMED-CT", ...>
	term_definitions = <
		["en"] = <
			items = <
				["at0000.1"] = <
					text = <"Kit test">
					description = <"A test archetype">
					comment = <"Written for openehr-kit">
				>
				["at0004"] = <
					text = <"Quantity">
					description = <"*">
				>
			>
		>
		["de"] = <
			items = <
				["at0000.1"] = <
					text = <"Kit-Test">
					description = <"Ein Test">
				>
			>
		>
	>
	constraint_definitions = <
		["en"] = <
			items = <
				["ac0001"] = <
					text = <"Any diagnosis">
					description = <"A coded diagnosis">
				>
			>
		>
	>
	term_bindings = <
		["SNOMED-CT"] = <
			items = <
				["at0000.1"] = <[SNOMED-CT::163020007]>
				["/data[at0001]/events[at0002]"] = <[SNOMED-CT::123]>
			>
		>
		["LOINC"] = <
			items = <
				["at0004"] = <http://loinc.org/8480-6>
			>
		>
	>
	constraint_bindings = <
		["SNOMED-CT"] = <
			items = <
				["ac0001"] = <terminology:SNOMED-CT?subset=diagnoses>
			>
		>
	>
annotations
	items = <
		["/data[at0001]"] = <
			items = <
				["design note"] = <"note">
			>
		>
	>
revision_history
	revision_history = <
		["1"] = <
			version = <"1.0.0">
		>
	>
"""


def minimal(definition: str, *, header: str = "archetype (adl_version=1.4)\n\topenEHR-EHR-OBSERVATION.mini.v1\n") -> str:
    """A small but complete archetype around a definition body."""
    return (
        header
        + "concept\n\t[at0000]\nlanguage\n\toriginal_language = <[ISO_639-1::en]>\n"
        + "definition\n"
        + definition
        + "\nontology\n\tterm_definitions = <\n\t\t[\"en\"] = <\n\t\t\titems = <\n"
        + '\t\t\t\t["at0000"] = <\n\t\t\t\t\ttext = <"Mini">\n\t\t\t\t\tdescription = <"Mini">\n\t\t\t\t>\n'
        + "\t\t\t>\n\t\t>\n\t>\n"
    )


def element_value(constraint: str) -> str:
    """A definition whose only ELEMENT has ``value matches {<constraint>}``."""
    return (
        "\tOBSERVATION[at0000] matches {\n\t\tdata matches {\n\t\t\tHISTORY[at0001] matches {\n"
        "\t\t\t\tevents matches {\n\t\t\t\t\tEVENT[at0002] matches {\n\t\t\t\t\t\tdata matches {\n"
        "\t\t\t\t\t\t\tITEM_TREE[at0003] matches {\n\t\t\t\t\t\t\t\titems matches {\n"
        f"\t\t\t\t\t\t\t\t\tELEMENT[at0004] matches {{\n\t\t\t\t\t\t\t\t\t\tvalue matches {{\n{constraint}\n"
        "\t\t\t\t\t\t\t\t\t\t}\n\t\t\t\t\t\t\t\t\t}\n\t\t\t\t\t\t\t\t}\n\t\t\t\t\t\t\t}\n\t\t\t\t\t\t}\n"
        "\t\t\t\t\t}\n\t\t\t\t}\n\t\t\t}\n\t\t}\n\t}\n"
    )


VALUE_PATH = "/data[at0001]/events[at0002]/data[at0003]/items[at0004]"


def value_children(constraint: str) -> list[Any]:
    a = parse_adl(minimal(element_value(constraint)))
    node = a.node_at(VALUE_PATH)
    assert isinstance(node, CComplexObject)
    attr = node.attribute("value")
    assert attr is not None
    return attr.children


def primitive_of(rm_type_constraint: str) -> CPrimitiveObject:
    """The primitive under ``DV_X matches {value matches {...}}`` style constraints."""
    (obj,) = value_children(rm_type_constraint)
    assert isinstance(obj, CComplexObject)
    (prim,) = obj.attributes[0].children
    assert isinstance(prim, CPrimitiveObject)
    return prim


@pytest.fixture(scope="module")
def full() -> Archetype:
    return parse_adl(FULL, source="full.adl")


# ---------------------------------------------------------------------------------------------------------------
# The full example


def test_header_and_sections(full: Archetype) -> None:
    assert full.archetype_id == "openEHR-EHR-OBSERVATION.kit_test-sub.v1"
    assert full.parent_archetype_id == "openEHR-EHR-OBSERVATION.kit_test.v1"
    assert full.adl_version == "1.4" and full.uid == "11111111-2222-3333-4444-555555555555"
    assert full.is_controlled and full.is_generated
    assert full.concept == "at0000.1"
    assert full.original_language == "en" and full.translations == ["de"]
    assert full.language["translations"]["de"]["author"]["name"] == 'A "quoted" name'
    assert full.description["details"]["en"]["purpose"] == "Line one\nline two -- not a comment"
    assert full.description["details"]["en"]["keywords"] == ["a", "b"]
    assert full.invariants == ["a1: exists /data[at0001]", "a2: /data[at0001] matches {*}"]
    assert full.annotations["items"]["/data[at0001]"]["items"]["design note"] == "note"
    assert full.revision_history["revision_history"]["1"]["version"] == "1.0.0"
    assert full.source == "full.adl"
    assert full.rm_type == "OBSERVATION" and full.is_specialised


def test_ontology(full: Archetype) -> None:
    t = full.ontology
    assert t.terminologies_available == ["SNOMED-CT"]
    assert t.text("at0000.1") == "Kit test" and t.text("at0000.1", "de") == "Kit-Test"
    assert t.term("at0000.1")["comment"] == "Written for openehr-kit"  # type: ignore[index]
    assert t.text("at0004", "de") == "Quantity"  # falls back to the original language
    assert t.constraint("ac0001") == {"text": "Any diagnosis", "description": "A coded diagnosis"}
    assert t.term_bindings["SNOMED-CT"]["at0000.1"] == CodePhrase("SNOMED-CT", "163020007")
    assert t.term_bindings["SNOMED-CT"]["/data[at0001]/events[at0002]"] == CodePhrase("SNOMED-CT", "123")
    assert t.term_bindings["LOINC"]["at0004"] == "http://loinc.org/8480-6"
    assert t.constraint_bindings["SNOMED-CT"]["ac0001"] == "terminology:SNOMED-CT?subset=diagnoses"


ITEMS = "/data[at0001]/events[at0002]/data[at0003]/items"


def test_structure_occurrences_cardinality(full: Archetype) -> None:
    history = full.node_at("/data[at0001]")
    assert isinstance(history, CComplexObject)
    events = history.attribute("events")
    assert events is not None and events.is_multiple
    assert events.cardinality is not None
    assert events.cardinality.interval == Interval(1, None) and not events.cardinality.is_ordered
    tree = full.node_at("/data[at0001]/events[at0002]/data[at0003]")
    assert isinstance(tree, CComplexObject)
    items = tree.attribute("items")
    assert items is not None and items.cardinality is not None and items.cardinality.is_unique
    assert full.node_at("/data[at0001]/events[at0002]").occurrences == Interval(0, None)  # type: ignore[union-attr]
    assert full.node_at(ITEMS + "[at0009]").occurrences is None  # type: ignore[union-attr]
    el23 = full.node_at(ITEMS + "[at0023]")
    assert isinstance(el23, CComplexObject)
    assert el23.attribute("null_flavour").existence == Interval(0, 1)  # type: ignore[union-attr]
    assert not el23.attribute("null_flavour").is_multiple  # type: ignore[union-attr]
    protocol_tree = full.node_at("/protocol[at0027]")
    assert isinstance(protocol_tree, CComplexObject) and protocol_tree.any_allowed


def test_quantity(full: Archetype) -> None:
    el = full.node_at(ITEMS + "[at0004]")
    assert isinstance(el, CComplexObject)
    (q,) = el.attribute("value").children  # type: ignore[union-attr]
    assert isinstance(q, CDvQuantity) and q.rm_type_name == "DV_QUANTITY"
    assert q.property == CodePhrase("openehr", "125")
    assert q.list == [
        CQuantityItem("mm[Hg]", Interval(0.0, 1000.0, True, False), Interval(0, 0)),
        CQuantityItem("kPa", None, None),
    ]
    assert q.assumed_value == {"magnitude": 0.0, "units": "mm[Hg]", "precision": 0}


def test_ordinal(full: Archetype) -> None:
    el = full.node_at(ITEMS + "[at0005]")
    (o,) = el.attribute("value").children  # type: ignore[union-attr]
    assert isinstance(o, CDvOrdinal)
    assert o.list == [
        OrdinalItem(0, CodePhrase("local", "at0006")),
        OrdinalItem(1, CodePhrase("local", "at0007")),
        OrdinalItem(-1, CodePhrase("local", "at0008")),
    ]
    assert o.assumed_value == 0


def test_code_phrases(full: Archetype) -> None:
    def code_of(node_id: str) -> Any:
        coded = full.node_at(ITEMS + f"[{node_id}]/value")
        assert isinstance(coded, CComplexObject)
        return coded.attribute("defining_code").children[0]  # type: ignore[union-attr]

    c = code_of("at0009")
    assert isinstance(c, CCodePhrase)
    assert (c.terminology_id, c.code_list, c.assumed_value) == ("local", ["at0010", "at0011"], "at0011")
    el9 = full.node_at(ITEMS + "[at0009]")
    assert [k.rm_type_name for k in el9.attribute("value").children] == ["DV_CODED_TEXT", "DV_TEXT"]  # type: ignore[union-attr]
    assert el9.attribute("value").children[1].any_allowed  # type: ignore[union-attr]
    ref = code_of("at0012")
    assert isinstance(ref, ConstraintRef) and ref.reference == "ac0001"
    ext = code_of("at0013")
    assert isinstance(ext, CCodePhrase) and (ext.terminology_id, ext.code_list) == ("SNOMED-CT", ["123456"])
    anyc = code_of("at0014")
    assert isinstance(anyc, CCodePhrase) and anyc.terminology_id == "local" and anyc.code_list == []


def test_primitives_in_full(full: Archetype) -> None:
    def prim(path: str) -> Any:
        node = full.node_at(ITEMS + path)
        assert isinstance(node, CPrimitiveObject), node
        return node.item

    assert prim("[at0015]/value/value") == CBoolean(true_valid=True, false_valid=False)
    assert prim("[at0016]/value/magnitude") == CInteger(assumed_value=1, range=Interval(0, None))
    assert prim("[at0017]/value/numerator") == CReal(range=Interval(0.0, 100.0))
    assert prim("[at0017]/value/type") == CInteger(list=[2, 3])
    assert prim("[at0017]/value/is_integral") == CBoolean(assumed_value=False)
    assert prim("[at0018]/value/value") == CDateTime(pattern="yyyy-mm-ddTHH:??:??")
    assert prim("[at0025.1]/value/value") == CDateTime(range=Interval("2000-01-01T00:00:00", "2030-12-31T23:59:59"))
    el19 = full.node_at(ITEMS + "[at0019]")
    date, time = (c.attributes[0].children[0].item for c in el19.attribute("value").children)  # type: ignore[union-attr]
    assert date == CDate(pattern="yyyy-mm-??") and time == CTime(pattern="HH:MM:??")
    el20 = full.node_at(ITEMS + "[at0020]")
    durations = [c.attributes[0].children[0].item for c in el20.attribute("value").children]  # type: ignore[union-attr]
    assert durations == [
        CDuration(pattern="PYMWD", range=Interval("P0D", None)),
        CDuration(list=["PT24H"]),
        CDuration(range=Interval("PT0S", "PT1H")),
        CDuration(pattern="PTHMS"),
    ]
    assert prim("[at0021]/value/media_type") == CString(list=["text/html", "text/plain"], assumed_value="text/plain")
    assert prim("[at0021]/value/uri") == CString(pattern="https?:\\/\\/.*")
    generic = full.node_at(ITEMS + "[at0022]/value")
    assert isinstance(generic, CComplexObject) and generic.rm_type_name == "DV_INTERVAL<DV_QUANTITY>" and generic.any_allowed


def test_slot(full: Archetype) -> None:
    slot = full.node_at(ITEMS + "[at0024]")
    assert isinstance(slot, ArchetypeSlot) and slot.rm_type_name == "CLUSTER"
    assert slot.occurrences == Interval(0, None)
    assert [a.pattern for a in slot.includes] == [
        "openEHR-EHR-CLUSTER\\.device(-[a-zA-Z0-9_]+)*\\.v1",
        "openEHR-EHR-CLUSTER\\.other\\.v1",
    ]
    assert all(a.target == "archetype_id/value" for a in slot.includes)
    assert slot.excludes[0].pattern == ".*"
    combined = slot.excludes[1]
    assert combined.pattern is None and combined.target is None
    assert combined.expression == "domain_concept matches {/x/} and archetype_id/value matches {/y/}"
    assert slot.allows("openEHR-EHR-CLUSTER.device.v1")
    assert not slot.allows("openEHR-EHR-CLUSTER.dose.v1")


def test_internal_ref(full: Archetype) -> None:
    ref = full.node_at("/data[at0001]/events[at0026]/data")
    assert isinstance(ref, ArchetypeInternalRef)
    assert ref.rm_type_name == "ITEM_TREE" and ref.target_path == "/data[at0001]/events[at0002]/data[at0003]"
    width = full.node_at("/data[at0001]/events[at0026]/width/value")
    assert isinstance(width, CPrimitiveObject) and width.item == CDuration(list=["PT24H"])


def test_parsing_twice_gives_equal_models(full: Archetype) -> None:
    assert parse_adl(FULL, source="full.adl") == full


def test_node_paths_are_unique(full: Archetype) -> None:
    paths = [n.path for n in full.iter_nodes() if n.node_id]
    assert len(paths) == len(set(paths))


# ---------------------------------------------------------------------------------------------------------------
# Smaller constructs


@pytest.mark.parametrize(
    ("constraint", "expected_type", "expected"),
    [
        ('DV_TEXT matches {value matches {"a", "b"}}', "STRING", CString(list=["a", "b"])),
        ("DV_TEXT matches {value matches {/[A-Z]+/}}", "STRING", CString(pattern="[A-Z]+")),
        ("DV_TEXT matches {value matches {/.*/}}", "STRING", CString(pattern=".*")),
        ('DV_TEXT matches {value matches {"x"; "x"}}', "STRING", CString(list=["x"], assumed_value="x")),
        ("DV_COUNT matches {magnitude matches {|0..100|}}", "INTEGER", CInteger(range=Interval(0, 100))),
        ("DV_COUNT matches {magnitude matches {|>0|; 1}}", "INTEGER", CInteger(range=Interval(0, None, False, True), assumed_value=1)),
        ("DV_COUNT matches {magnitude matches {|<10|}}", "INTEGER", CInteger(range=Interval(None, 10, True, False))),
        ("DV_COUNT matches {magnitude matches {5}}", "INTEGER", CInteger(list=[5])),
        ("DV_COUNT matches {magnitude matches {1, 2, 4}}", "INTEGER", CInteger(list=[1, 2, 4])),
        ("DV_COUNT matches {magnitude matches {|0..*|}}", "INTEGER", CInteger(range=Interval(0, None))),
        ("DV_PROPORTION matches {numerator matches {|0.0..<1.0e2|}}", "REAL", CReal(range=Interval(0.0, 100.0, True, False))),
        ("DV_PROPORTION matches {numerator matches {|100.0|; 100.0}}", "REAL", CReal(range=Interval(100.0, 100.0), assumed_value=100.0)),
        ("DV_PROPORTION matches {numerator matches {1.5}}", "REAL", CReal(list=[1.5])),
        ("DV_BOOLEAN matches {value matches {True, False; True}}", "BOOLEAN", CBoolean(assumed_value=True)),
        ("DV_BOOLEAN matches {value matches {false}}", "BOOLEAN", CBoolean(true_valid=False)),
        ("DV_DATE matches {value matches {YYYY-MM-DD}}", "DATE", CDate(pattern="YYYY-MM-DD")),
        ("DV_DATE matches {value matches {|2000-01-01..2010-12-31|}}", "DATE", CDate(range=Interval("2000-01-01", "2010-12-31"))),
        ("DV_DATE matches {value matches {2004-01-01}}", "DATE", CDate(list=["2004-01-01"])),
        ("DV_TIME matches {value matches {hh:mm:ss}}", "TIME", CTime(pattern="hh:mm:ss")),
        ("DV_TIME matches {value matches {|08:00..<17:00|}}", "TIME", CTime(range=Interval("08:00", "17:00", True, False))),
        ("DV_DATE_TIME matches {value matches {YYYY-MM-DDTHH:MM:SS}}", "DATE_TIME", CDateTime(pattern="YYYY-MM-DDTHH:MM:SS")),
        ("DV_DURATION matches {value matches {PDTH/|PT0S..PT1H|}}", "DURATION", CDuration(pattern="PDTH", range=Interval("PT0S", "PT1H"))),
        ("DV_DURATION matches {value matches {|>=PT0S|}}", "DURATION", CDuration(range=Interval("PT0S", None))),
        ("DV_DURATION matches {value matches {P1D, P2D}}", "DURATION", CDuration(list=["P1D", "P2D"])),
        ("DV_DURATION matches {value matches {PT1M; PT1M}}", "DURATION", CDuration(list=["PT1M"], assumed_value="PT1M")),
    ],
)
def test_primitive_constraints(constraint: str, expected_type: str, expected: Any) -> None:
    prim = primitive_of(constraint)
    assert prim.rm_type_name == expected_type
    assert prim.item == expected


def test_real_valued_ordinals_are_kept() -> None:
    (o,) = value_children("0.0|[local::at0005],\n1.5|[local::at0006]")
    assert isinstance(o, CDvOrdinal) and [i.value for i in o.list] == [0.0, 1.5]


def test_ordinals_on_one_line_and_comments_in_code_lists() -> None:
    (o,) = value_children("1|[local::at0005], 2|[local::at0006]")
    assert isinstance(o, CDvOrdinal) and [i.value for i in o.list] == [1, 2]
    (c,) = value_children("DV_CODED_TEXT matches {defining_code matches {[local:: -- c\nat1, -- c\n at2 -- c\n]}}")
    assert c.attributes[0].children[0].code_list == ["at1", "at2"]  # type: ignore[attr-defined]


def test_odin_domain_types() -> None:
    (o,) = value_children(
        "C_DV_ORDINAL <\n list = <\n [\"1\"] = <\n value = <1>\n symbol = <\n defining_code = <[local::at0005]>\n >\n >\n >\n>"
    )
    assert isinstance(o, CDvOrdinal) and o.list == [OrdinalItem(1, CodePhrase("local", "at0005"))]
    (q,) = value_children("C_DV_QUANTITY <\n>")
    assert isinstance(q, CDvQuantity) and q.list == [] and q.property is None
    (c,) = value_children(
        'DV_CODED_TEXT matches {defining_code matches {C_CODE_PHRASE <terminology_id = <value = <"local">> code_list = <"at1", "at2">>}}'
    )
    code = c.attributes[0].children[0]  # type: ignore[attr-defined]
    assert isinstance(code, CCodePhrase) and code.code_list == ["at1", "at2"] and code.terminology_id == "local"


def test_specialised_path_attributes_and_dotted_ids() -> None:
    definition = (
        "\tOBSERVATION[at0000.1] matches {\n"
        "\t\t/data[at0001]/events[at0002]/data[at0003]/items matches {\n"
        "\t\t\tELEMENT[at0.0.1] occurrences matches {0..1} matches {\n"
        "\t\t\t\tvalue matches {DV_TEXT matches {*}}\n"
        "\t\t\t}\n"
        "\t\t}\n"
        "\t}\n"
    )
    header = "archetype (adl_version=1.4)\n\topenEHR-EHR-OBSERVATION.mini-sub.v1\nspecialize\n\topenEHR-EHR-OBSERVATION.mini.v1\n"
    a = parse_adl(minimal(definition, header=header).replace("concept\n\t[at0000]", "concept\n\t[at0000.1]"))
    assert a.parent_archetype_id == "openEHR-EHR-OBSERVATION.mini.v1"
    attr = a.definition.attributes[0]
    assert attr.rm_attribute_name == "/data[at0001]/events[at0002]/data[at0003]/items"
    assert attr.children[0].node_id == "at0.0.1"


def test_bom_and_crlf_input_parse_like_lf(tmp_path: Path) -> None:
    path = tmp_path / "bom.adl"
    path.write_bytes(b"\xef\xbb\xbf" + FULL.replace("\n", "\r\n").encode("utf-8"))
    a = load_archetype(path)
    assert a.archetype_id == "openEHR-EHR-OBSERVATION.kit_test-sub.v1"
    a.source = "full.adl"
    assert a == parse_adl(FULL, source="full.adl")
    # and the string API tolerates them as well
    assert parse_adl("\ufeff" + FULL.replace("\n", "\r\n"), source="full.adl") == a


# ---------------------------------------------------------------------------------------------------------------
# Located errors


def _error(text: str) -> ParseError:
    with pytest.raises(ParseError) as err:
        parse_adl(text, source="bad.adl")
    e = err.value
    assert e.file == "bad.adl" and e.line is not None and e.column is not None
    assert e.expected and e.found
    return e


def _line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def test_unclosed_string() -> None:
    text = FULL[: FULL.index('<"Someone">') + 5]
    e = _error(text)
    assert e.code == "ODN002" and e.line == _line_of(FULL, '<"Someone">')
    assert e.column == FULL.split("\n")[e.line - 1].index('"Someone') + 1


def test_unclosed_string_in_definition() -> None:
    text = minimal(element_value('DV_TEXT matches {value matches {"abc}}'))
    e = _error(text)
    assert e.code in ("ADL001", "ODN002")


def test_unbalanced_braces_missing_close() -> None:
    broken = FULL.replace("\t\t\tITEM_TREE[at0027] matches {*}\n\t\t}\n", "\t\t\tITEM_TREE[at0027] matches {*}\n")
    e = _error(broken)
    assert e.code == "ADL001" and e.line == _line_of(broken, "\ninvariant") + 1 and e.column == 1
    assert e.found == "'invariant'"


def test_unbalanced_braces_extra_close() -> None:
    broken = FULL.replace("\t\tprotocol matches {", "\t\t}\n\t\tprotocol matches {")
    e = _error(broken)
    assert e.code == "ADL001" and e.line == _line_of(broken, "\t\tprotocol matches {")


def test_bad_interval() -> None:
    broken = FULL.replace("magnitude matches {|>=0|; 1}", "magnitude matches {|10..1|; 1}")
    e = _error(broken)
    assert e.code == "ADL004" and e.line == _line_of(broken, "|10..1|")
    assert e.column == broken.split("\n")[e.line - 1].index("|10..1|") + 1
    e = _error(FULL.replace("occurrences matches {0..1} matches {\t-- Quantity", "occurrences matches {1..0} matches {"))
    assert e.code == "ADL004"
    e = _error(FULL.replace("magnitude = <|0.0..<1000.0|>", "magnitude = <|0.0..<x|>"))
    assert e.code == "ODN003"


def test_truncated_file() -> None:
    cut = FULL.index("ELEMENT[at0016]")
    e = _error(FULL[:cut])
    assert e.code == "ADL001" and e.found == "end of file"
    assert e.line == FULL[:cut].count("\n") + 1


def test_non_utf8_file_is_refused_with_location(tmp_path: Path) -> None:
    path = tmp_path / "latin1.adl"
    path.write_bytes(FULL.replace("Someone", "Jörg").encode("latin-1"))
    with pytest.raises(ParseError) as err:
        load_archetype(path)
    e = err.value
    assert e.code == "TXT001" and e.file == str(path)
    assert e.line == _line_of(FULL, "Someone")
    assert e.column == FULL.split("\n")[e.line - 1].index("Someone") + 2
    assert e.found == "byte 0xf6"


def test_empty_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "empty.adl").write_bytes(b"  \n")
    with pytest.raises(ParseError) as err:
        load_archetype(tmp_path / "empty.adl")
    assert err.value.code == "TXT004"
    with pytest.raises(ParseError) as err:
        load_archetype(tmp_path / "missing.adl")
    assert err.value.code == "TXT002"


def test_too_large_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.adl"
    path.write_text(FULL)
    with pytest.raises(ParseError) as err:
        load_archetype(path, max_bytes=100)
    assert err.value.code == "TXT003"


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda t: t[: t.index("definition\n")] + t[t.index("invariant\n") :], "ADL002"),
        (lambda t: t.replace("definition\n", "", 1), "ADL001"),
        (lambda t: t[: t.index("\ninvariant")] + "\n", "ADL002"),
        (lambda t: t.replace("archetype (adl_version=1.4; uid", "archetype (adl_version=1.4; uid", 1).replace("kit_test-sub.v1\n", "not an id\n", 1), "ADL003"),
        (lambda t: t.replace("concept\n", "language\n\toriginal_language = <[ISO_639-1::en]>\nconcept\n", 1), "ADL005"),
        (lambda t: t.replace("\ndescription\n", "\ndescription\n\tx = <1>\nlanguage\n\ty = <2>\ndescription\n", 1), "ADL005"),
        (lambda t: t.replace("archetype (", "archetyp (", 1), "ADL003"),
        (lambda t: t.replace("occurrences matches {0..*} matches {\t-- Any event", "occurrences matches {0..x} matches {"), "ADL004"),
        (lambda t: t.replace("[local::\n", "[local:\n", 1), "ADL004"),
        (lambda t: t.replace("cardinality matches {1..*; unordered}", "cardinality matches {1..*; sorted}"), "ADL004"),
    ],
)
def test_structural_errors(mutate: Any, code: str) -> None:
    e = _error(mutate(FULL))
    assert e.code == code


# ---------------------------------------------------------------------------------------------------------------
# Properties


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 50), st.one_of(st.none(), st.integers(0, 50)))
def test_occurrences_property(lower: int, extra: int | None) -> None:
    upper = None if extra is None else lower + extra
    text = f"{lower}..{'*' if upper is None else upper}"
    definition = element_value("DV_TEXT matches {*}").replace(
        "ELEMENT[at0004] matches", f"ELEMENT[at0004] occurrences matches {{{text}}} matches"
    )
    node = parse_adl(minimal(definition)).node_at(VALUE_PATH)
    assert node is not None and node.occurrences == Interval(lower, upper)


@settings(max_examples=60, deadline=None)
@given(
    st.floats(-1e6, 1e6, allow_nan=False),
    st.floats(1.0, 1e6, allow_nan=False),
    st.booleans(),
    st.booleans(),
)
def test_real_interval_property(lower: float, width: float, lo_inc: bool, hi_inc: bool) -> None:
    upper = lower + width
    iv_text = f"{'' if lo_inc else '>'}{lower!r}..{'' if hi_inc else '<'}{upper!r}"
    prim = primitive_of(f"DV_PROPORTION matches {{numerator matches {{|{iv_text}|}}}}")
    assert prim.item == CReal(range=Interval(lower, upper, lo_inc, hi_inc))
    assert prim.item.allows(upper) == hi_inc  # type: ignore[union-attr]
    assert prim.item.allows(lower) == lo_inc  # type: ignore[union-attr]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_input_gives_archetype_or_located_error(data: st.DataObject) -> None:
    """Whatever is cut, dropped or inserted, the public API returns a model or a located ParseError."""
    text = FULL
    pos = data.draw(st.integers(0, len(text) - 1))
    op = data.draw(st.sampled_from(["cut", "drop", "insert"]))
    if op == "cut":
        text = text[:pos]
    elif op == "drop":
        text = text[:pos] + text[pos + data.draw(st.integers(1, 8)) :]
    else:
        text = text[:pos] + data.draw(st.sampled_from(list('{}<>[]|"/;,.*-=()\n') + ["--", "matches", "\\"])) + text[pos:]
    try:
        parse_adl(text, source="m.adl")
    except ParseError as e:
        assert e.line is not None and e.column is not None and e.expected and e.found and e.file == "m.adl"


def test_sibling_node_ids_give_unique_paths(full: Archetype) -> None:
    counts = collections.Counter(n.path for n in full.iter_nodes())
    assert all(c == 1 for p, c in counts.items() if "[" in p.rsplit("/", 1)[-1])


def test_open_slot_and_attribute_without_children() -> None:
    (slot,) = value_children("allow_archetype CLUSTER[at0009] occurrences matches {0..1} matches {*}")
    assert isinstance(slot, ArchetypeSlot) and slot.includes == [] and slot.allows("openEHR-EHR-CLUSTER.any.v1")
    (obj,) = value_children("DV_PROPORTION matches {numerator matches {*}\n denominator existence matches {0..1}}")
    assert isinstance(obj, CComplexObject)
    assert [(a.rm_attribute_name, a.children, a.existence) for a in obj.attributes] == [
        ("numerator", [], None),
        ("denominator", [], Interval(0, 1)),
    ]
