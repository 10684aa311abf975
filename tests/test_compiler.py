"""The template compiler: .oet + ADL 1.4 archetypes -> OPT 1.4 (unit tests on inline sources, corpus tests).

The unit tests write small archetypes and templates into a temporary directory. The corpus tests compile the
.oet files of the shared corpus and pin the differential verdicts against the reference OPTs beside them (see
``bench/report_compiler.py`` for the full report) and the CKM compile results.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from lxml import etree

from openehr_kit.am.model import ArchetypeSlot, CArchetypeRoot, CCodePhrase, CDvQuantity, CPrimitiveObject
from openehr_kit.compiler import CompileError, compile_template, compile_to_opt, compile_with_issues
from openehr_kit.compiler.diff_check import diff_pair, find_reference_opts
from openehr_kit.compiler.flatten import ArchetypeRepository
from openehr_kit.compiler.oet import load_oet, parse_oet
from openehr_kit.diagnostics import ParseError, Severity
from openehr_kit.opt.checks import check_opt
from openehr_kit.opt.loader import parse_opt
from openehr_kit.opt.model import constrained_name

ARCHETYPES = {
    "openEHR-EHR-CLUSTER.tclus-special.v1": r"""archetype (adl_version=1.4)
	openEHR-EHR-CLUSTER.tclus-special.v1
specialise
	openEHR-EHR-CLUSTER.tclus.v1

concept
	[at0000.1]	-- Special cluster

language
	original_language = <[ISO_639-1::en]>

description
	original_author = <
		["name"] = <"Test">
	>
	lifecycle_state = <"Initial">
	details = <
		["en"] = <
			language = <[ISO_639-1::en]>
			purpose = <"Test">
		>
	>

definition
	CLUSTER[at0000.1] matches {	-- Special cluster
		items cardinality matches {1..*; unordered} matches {
			ELEMENT[at0001] occurrences matches {0..1} matches {	-- Count
				value matches {
					DV_COUNT matches {*}
				}
			}
			ELEMENT[at0.1] occurrences matches {0..1} matches {	-- Extra
				value matches {
					DV_BOOLEAN matches {*}
				}
			}
		}
	}

ontology
	term_definitions = <
		["en"] = <
			items = <
				["at0000.1"] = <text = <"Special cluster"> description = <"A special cluster">>
				["at0.1"] = <text = <"Extra"> description = <"*">>
			>
		>
	>
""",
    "openEHR-EHR-CLUSTER.tclus.v1": r"""archetype (adl_version=1.4)
	openEHR-EHR-CLUSTER.tclus.v1

concept
	[at0000]	-- Test cluster

language
	original_language = <[ISO_639-1::en]>

description
	original_author = <
		["name"] = <"Test">
	>
	lifecycle_state = <"Initial">
	details = <
		["en"] = <
			language = <[ISO_639-1::en]>
			purpose = <"Test">
		>
	>

definition
	CLUSTER[at0000] matches {	-- Test cluster
		items cardinality matches {1..*; unordered} matches {
			ELEMENT[at0001] occurrences matches {0..1} matches {	-- Count
				value matches {
					DV_COUNT matches {*}
				}
			}
			ELEMENT[at0002] occurrences matches {0..1} matches {	-- Note
				value matches {
					DV_TEXT matches {*}
				}
			}
		}
	}

ontology
	term_definitions = <
		["en"] = <
			items = <
				["at0000"] = <text = <"Test cluster"> description = <"A cluster">>
				["at0001"] = <text = <"Count"> description = <"*">>
				["at0002"] = <text = <"Note"> description = <"*">>
			>
		>
	>
""",
    "openEHR-EHR-COMPOSITION.tcomp.v1": r"""archetype (adl_version=1.4)
	openEHR-EHR-COMPOSITION.tcomp.v1

concept
	[at0000]	-- Test composition

language
	original_language = <[ISO_639-1::en]>
	translations = <
		["nb"] = <
			language = <[ISO_639-1::nb]>
			author = <
				["name"] = <"Test">
			>
		>
	>

description
	original_author = <
		["name"] = <"Test">
	>
	lifecycle_state = <"Initial">
	details = <
		["en"] = <
			language = <[ISO_639-1::en]>
			purpose = <"Test">
		>
	>

definition
	COMPOSITION[at0000] matches {	-- Test composition
		category matches {
			DV_CODED_TEXT matches {
				defining_code matches {[openehr::433]}
			}
		}
		content cardinality matches {0..*; unordered} matches {
			allow_archetype OBSERVATION[at0001] occurrences matches {0..*} matches {	-- Observations
				include
					archetype_id/value matches {/openEHR-EHR-OBSERVATION\.tobs\.v1/}
			}
		}
	}

ontology
	term_definitions = <
		["en"] = <
			items = <
				["at0000"] = <
					text = <"Test composition">
					description = <"A composition">
				>
				["at0001"] = <
					text = <"Observations">
					description = <"Slot">
				>
			>
		>
		["nb"] = <
			items = <
				["at0000"] = <
					text = <"Testkomposisjon">
					description = <"En komposisjon">
				>
				["at0001"] = <
					text = <"Observasjoner">
					description = <"Spor">
				>
			>
		>
	>
""",
    "openEHR-EHR-OBSERVATION.tobs.v1": r"""archetype (adl_version=1.4)
	openEHR-EHR-OBSERVATION.tobs.v1

concept
	[at0000]	-- Test observation

language
	original_language = <[ISO_639-1::en]>

description
	original_author = <
		["name"] = <"Test">
	>
	lifecycle_state = <"Initial">
	details = <
		["en"] = <
			language = <[ISO_639-1::en]>
			purpose = <"Test">
		>
	>

definition
	OBSERVATION[at0000] matches {	-- Test observation
		data matches {
			HISTORY[at0001] matches {	-- History
				events cardinality matches {1..*; unordered} matches {
					EVENT[at0002] occurrences matches {0..*} matches {	-- Any event
						data matches {
							ITEM_TREE[at0003] matches {	-- Tree
								items cardinality matches {0..*; unordered} matches {
									ELEMENT[at0004] occurrences matches {0..1} matches {	-- Weight
										value matches {
											C_DV_QUANTITY <
												property = <[openehr::124]>
												list = <
													["1"] = <
														units = <"kg">
														magnitude = <|0.0..1000.0|>
													>
													["2"] = <
														units = <"lb">
														magnitude = <|0.0..2000.0|>
													>
												>
											>
										}
									}
									ELEMENT[at0005] occurrences matches {0..1} matches {	-- Status
										value matches {
											DV_CODED_TEXT matches {
												defining_code matches {
													[local::
													at0006, 	-- Preliminary
													at0007, 	-- Final
													at0008]	-- Amended
												}
											}
										}
									}
									ELEMENT[at0009] occurrences matches {0..*} matches {	-- Comment
										value matches {
											DV_TEXT matches {*}
										}
									}
									ELEMENT[at0010] occurrences matches {0..1} matches {*}	-- Anything
									allow_archetype CLUSTER[at0011] occurrences matches {0..*} matches {	-- Details
										include
											archetype_id/value matches {/openEHR-EHR-CLUSTER\.tclus(-[a-zA-Z0-9_]+)*\.v1/}
									}
								}
							}
						}
					}
				}
			}
		}
	}

ontology
	term_definitions = <
		["en"] = <
			items = <
				["at0000"] = <text = <"Test observation"> description = <"An observation">>
				["at0001"] = <text = <"History"> description = <"*">>
				["at0002"] = <text = <"Any event"> description = <"*">>
				["at0003"] = <text = <"Tree"> description = <"*">>
				["at0004"] = <text = <"Weight"> description = <"*">>
				["at0005"] = <text = <"Status"> description = <"*">>
				["at0006"] = <text = <"Preliminary"> description = <"*">>
				["at0007"] = <text = <"Final"> description = <"*">>
				["at0008"] = <text = <"Amended"> description = <"*">>
				["at0009"] = <text = <"Comment"> description = <"*">>
				["at0010"] = <text = <"Anything"> description = <"*">>
				["at0011"] = <text = <"Details"> description = <"*">>
			>
		>
	>
""",
}

OET_HEAD = """<?xml version="1.0"?>
<template xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="openEHR/v1/Template">
  <id>0d2a3c1e-1111-4222-8333-944455556666</id>
  <name>{name}</name>
  <description><lifecycle_state>Initial</lifecycle_state><details><purpose>Testing</purpose></details></description>
"""

GOOD = OET_HEAD.format(name="Test template") + """
  <definition xsi:type="COMPOSITION" archetype_id="openEHR-EHR-COMPOSITION.tcomp.v1" concept_name="Test composition">
    <Content xsi:type="OBSERVATION" archetype_id="openEHR-EHR-OBSERVATION.tobs.v1" path="/content[at0001]" max="1">
      <Rule path="/data[at0001]/events[at0002]" max="1">
        <eventConstraint><allowedType>PointInTime</allowedType></eventConstraint>
      </Rule>
      <Rule path="/data[at0001]/events[at0002]/data[at0003]/items[at0004]" min="1">
        <constraint xsi:type="quantityConstraint">
          <excludedUnits>lb</excludedUnits>
          <unitMagnitude><unit>kg</unit><maxMagnitude>500</maxMagnitude><minMagnitude>0.5</minMagnitude>
            <precision>1</precision><includesMaximum>true</includesMaximum><includesMinimum>true</includesMinimum>
          </unitMagnitude>
        </constraint>
      </Rule>
      <Rule path="/data[at0001]/events[at0002]/data[at0003]/items[at0005]" default="local::at0007::Final">
        <constraint xsi:type="textConstraint"><excludedValues>local::at0008</excludedValues></constraint>
      </Rule>
      <Rule path="/data[at0001]/events[at0002]/data[at0003]/items[at0009]" max="1" name="Main comment" />
      <Rule path="/data[at0001]/events[at0002]/data[at0003]/items[at0009]" max="1" clone="true" name="Other comment" />
      <Rule path="/data[at0001]/events[at0002]/data[at0003]/items[at0009 and name/value='Other comment']" hide_on_form="true">
        <constraint xsi:type="textConstraint"><includedValues>yes</includedValues><includedValues>no</includedValues></constraint>
      </Rule>
      <Rule path="/data[at0001]/events[at0002]/data[at0003]/items[at0010]">
        <constraint xsi:type="multipleConstraint"><includedTypes>Count</includedTypes><includedTypes>Boolean</includedTypes></constraint>
      </Rule>
      <Items xsi:type="CLUSTER" archetype_id="openEHR-EHR-CLUSTER.tclus.v1" path="/data[at0001]/events[at0002]/data[at0003]/items[at0011]" max="2" name="First">
        <Rule path="/items[at0002]" max="0" />
        <Rule path="/items[at0001]">
          <constraint xsi:type="countConstraint"><maxMagnitude>10</maxMagnitude><minMagnitude>1</minMagnitude>
            <includesMaximum>true</includesMaximum><includesMinimum>true</includesMinimum></constraint>
        </Rule>
      </Items>
      <Items xsi:type="CLUSTER" archetype_id="openEHR-EHR-CLUSTER.tclus-special.v1" path="/data[at0001]/events[at0002]/data[at0003]/items[at0011]" />
    </Content>
    <Context />
  </definition>
</template>
"""


def write(tmp: Path, oet: str, name: str = "t.oet") -> tuple[Path, Path]:
    adl = tmp / "archetypes"
    adl.mkdir(exist_ok=True)
    for aid, text in ARCHETYPES.items():
        (adl / f"{aid}.adl").write_text(text)
    src = tmp / name
    src.write_text(oet)
    return src, adl


def xsd(shared: Path) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(
        shared / "corpus" / "xsd" / "openEHR-specifications-ITS-XML_Release-1.0.2v2" / "components" / "ALL"
        / "Template.xsd")))


ITEMS = "/content[openEHR-EHR-OBSERVATION.tobs.v1]/data[at0001]/events[at0002]/data[at0003]/items"


@pytest.fixture()
def compiled(tmp_path: Path):  # type: ignore[no-untyped-def]
    src, adl = write(tmp_path, GOOD)
    data = compile_to_opt(src, [adl])
    return parse_opt(data, source=str(src)), data


# --- the OET reader -------------------------------------------------------------------------------------------


def test_oet_reader_model(tmp_path: Path) -> None:
    src, _ = write(tmp_path, GOOD)
    t = load_oet(src)
    assert t.name == "Test template" and t.id.startswith("0d2a3c1e")
    content = t.definition.items[0]
    assert content.archetype_id == "openEHR-EHR-OBSERVATION.tobs.v1" and content.max == 1
    assert [r.max for r in content.rules][:2] == [1, None] and content.rules[1].min == 1
    assert content.rules[0].event_type == "PointInTime"
    assert content.rules[4].clone and content.rules[4].name == "Other comment"
    assert content.rules[2].default == "local::at0007::Final"
    assert content.rules[2].constraint.excluded == ["local::at0008"]
    assert [i.name for i in content.items] == ["First", None]


def test_malformed_oet_is_located() -> None:
    with pytest.raises(ParseError) as exc:
        parse_oet(b'<template xmlns="openEHR/v1/Template"><name>x</name></template>', source="x.oet")
    assert exc.value.code == "TPL010" and exc.value.file == "x.oet"
    with pytest.raises(ParseError) as exc:
        parse_oet(b"<opt/>", source="y.oet")
    assert exc.value.code == "TPL010"
    bad_max = GOOD.replace('max="1">', 'max="one">', 1)
    with pytest.raises(ParseError) as exc:
        parse_oet(bad_max.encode(), source="z.oet")
    assert exc.value.code == "TPL010" and exc.value.line == 8


# --- compiling ------------------------------------------------------------------------------------------------


def test_compiled_template_structure(compiled) -> None:  # type: ignore[no-untyped-def]
    t, _ = compiled
    assert t.template_id == "Test template" and t.uid.startswith("0d2a3c1e") and t.language == "en"
    obs = t.node("/content[openEHR-EHR-OBSERVATION.tobs.v1]")
    assert isinstance(obs, CArchetypeRoot) and str(obs.occurrences) == "0..1"
    # the filled slot is replaced by its filler; the composition's own terms travel with its root
    content = t.definition.attribute("content")
    assert not any(isinstance(c, ArchetypeSlot) for c in content.children)
    assert t.definition.terminology.text("at0000", "nb") == "Testkomposisjon"
    event = t.node("/content[openEHR-EHR-OBSERVATION.tobs.v1]/data[at0001]/events[at0002]")
    assert event.rm_type_name == "POINT_EVENT" and str(event.occurrences) == "0..1"


def test_quantity_and_mandatory_rule(compiled) -> None:  # type: ignore[no-untyped-def]
    t, _ = compiled
    weight = t.node(ITEMS + "[at0004]")
    assert str(weight.occurrences) == "1..1"
    q = weight.attribute("value").children[0]
    assert isinstance(q, CDvQuantity) and [i.units for i in q.list] == ["kg"]
    assert str(q.list[0].magnitude) == "0.5..500.0" and str(q.list[0].precision) == "1..1"


def test_code_subset_default_and_names(compiled) -> None:  # type: ignore[no-untyped-def]
    t, data = compiled
    status = t.node(ITEMS + "[at0005]")
    cp = status.attribute("value").children[0].attribute("defining_code").children[0]
    assert isinstance(cp, CCodePhrase) and cp.code_list == ["at0006", "at0007"]
    defaults = {d.differential_path: d.value for d in t.default_values}
    dv = next(v for p, v in defaults.items() if p.endswith("items[at0005]"))
    assert dv["_type"] == "DV_CODED_TEXT" and dv["defining_code"]["code_string"] == "at0007"
    comments = t.nodes(ITEMS + "[at0009]")
    names = sorted(constrained_name(c, None) for c in
                   t.node("/content[openEHR-EHR-OBSERVATION.tobs.v1]/data[at0001]/events[at0002]/data[at0003]")
                   .attribute("items").children if c.node_id == "at0009")
    assert names == ["Main comment", "Other comment"] and comments
    other = t.node(ITEMS + "[at0009 and name/value='Other comment']")
    prim = other.attribute("value").children[0].attribute("value").children[0]
    assert isinstance(prim, CPrimitiveObject) and prim.item.list == ["yes", "no"]
    # hide-on-form goes to the view section, on the compiled model and through the written OPT
    assert b"<items id=\"pass_through\">" in data
    for view in (compile_template(t.source, [Path(t.source).parent / "archetypes"]).view, t.view):
        assert any(p.endswith("[at0009 and name/value='Other comment']") and v.get("pass_through") == "true"
                   for p, v in view.items())


def test_data_type_choice_and_count_range(compiled) -> None:  # type: ignore[no-untyped-def]
    t, _ = compiled
    anything = t.node(ITEMS + "[at0010]")
    assert [c.rm_type_name for c in anything.attribute("value").children] == ["DV_COUNT", "DV_BOOLEAN"]
    first = t.node(ITEMS + "[openEHR-EHR-CLUSTER.tclus.v1]")
    assert str(first.occurrences) == "0..2" and constrained_name(first, None) == "First"
    # max=0 removed at0002; the count got its range
    assert [c.node_id for c in first.attribute("items").children] == ["at0001"]
    count = first.attribute("items").children[0].attribute("value").children[0]
    assert str(count.attribute("magnitude").children[0].item.range) == "1..10"


def test_specialised_archetype_flattened_onto_parent(compiled) -> None:  # type: ignore[no-untyped-def]
    t, _ = compiled
    special = t.node(ITEMS + "[openEHR-EHR-CLUSTER.tclus-special.v1]")
    assert special.node_id == "at0000.1"
    # the parent's terms the child does not redefine are merged in (at0002 "Note" comes from the parent)
    assert special.terminology.text("at0.1") == "Extra" and special.terminology.text("at0002") == "Note"


def test_output_passes_checks_and_xsd(compiled, shared: Path) -> None:  # type: ignore[no-untyped-def]
    _, data = compiled
    assert not [i for i in check_opt(data) if i.severity is Severity.ERROR]
    schema = xsd(shared)
    assert schema.validate(etree.fromstring(data)), schema.error_log


# --- errors ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "code", "needle"),
    [
        ('archetype_id="openEHR-EHR-CLUSTER.tclus.v1"', 'archetype_id="openEHR-EHR-CLUSTER.tclus-nothere.v1"', "TPL001",
         "openEHR-EHR-CLUSTER.tclus-nothere.v1"),
        ('<Rule path="/items[at0002]" max="0" />', '<Rule path="/items[at0099]" max="0" />', "TPL004",
         "/items[at0099]"),
        ('path="/content[at0001]" max="1"', 'path="/content[at0077]" max="1"', "TPL004", "/content[at0077]"),
    ],
)
def test_compile_errors_are_located(tmp_path: Path, old: str, new: str, code: str, needle: str) -> None:
    assert old in GOOD
    src, adl = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(CompileError) as exc:
        compile_template(src, [adl])
    assert exc.value.code == code and needle in exc.value.message
    assert exc.value.file == str(src) and exc.value.line is not None


def test_unmatched_slot(tmp_path: Path) -> None:
    # a CLUSTER whose id the slot's include pattern rejects: the slot still exists, so TPL003
    text = ARCHETYPES["openEHR-EHR-CLUSTER.tclus.v1"].replace("openEHR-EHR-CLUSTER.tclus.v1",
                                                                 "openEHR-EHR-CLUSTER.other.v1")
    src, adl = write(tmp_path, GOOD.replace('archetype_id="openEHR-EHR-CLUSTER.tclus.v1"',
                                            'archetype_id="openEHR-EHR-CLUSTER.other.v1"', 1))
    (adl / "openEHR-EHR-CLUSTER.other.v1.adl").write_text(text)
    with pytest.raises(CompileError) as exc:
        compile_template(src, [adl])
    assert exc.value.code == "TPL003" and "does not accept openEHR-EHR-CLUSTER.other.v1" in exc.value.message


def test_lenient_mode_collects_every_error(tmp_path: Path) -> None:
    bad = GOOD.replace('archetype_id="openEHR-EHR-CLUSTER.tclus.v1"',
                       'archetype_id="openEHR-EHR-CLUSTER.tclus-nothere.v1"').replace(
        'path="/data[at0001]/events[at0002]/data[at0003]/items[at0010]"', 'path="/data[at0001]/nope"')
    src, adl = write(tmp_path, bad)
    res = compile_with_issues(src, [adl])
    assert {i.code for i in res.errors} == {"TPL001", "TPL004"}
    assert res.template is not None  # the rest compiled; the unfilled slot stays a slot


def test_embedded_template(tmp_path: Path) -> None:
    inner = OET_HEAD.format(name="Cluster part") + """
  <definition xsi:type="CLUSTER" archetype_id="openEHR-EHR-CLUSTER.tclus.v1">
    <Rule path="/items[at0001]" max="0" />
  </definition>
</template>"""
    outer = GOOD.replace(
        '<Items xsi:type="CLUSTER" archetype_id="openEHR-EHR-CLUSTER.tclus-special.v1" '
        'path="/data[at0001]/events[at0002]/data[at0003]/items[at0011]" />',
        '<Items xsi:type="CLUSTER" archetype_id="openEHR-EHR-CLUSTER.tclus.v1" template_id="Cluster part" '
        'path="/data[at0001]/events[at0002]/data[at0003]/items[at0011]" name="Embedded" />')
    src, adl = write(tmp_path, outer)
    (tmp_path / "inner.oet").write_text(inner.replace("0d2a3c1e-1111", "0d2a3c1e-2222"))
    t = compile_template(src, [adl])
    emb = t.node(ITEMS + "[openEHR-EHR-CLUSTER.tclus.v1 and name/value='Embedded']")
    assert [c.node_id for c in emb.attribute("items").children] == ["at0002"]
    missing = outer.replace('template_id="Cluster part"', 'template_id="Nowhere"')
    src.write_text(missing)
    with pytest.raises(CompileError) as exc:
        compile_template(src, [adl])
    assert exc.value.code == "TPL009"


# --- CLI ------------------------------------------------------------------------------------------------------


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "openehr_kit", *args], capture_output=True, text=True, timeout=120)


def test_cli_compile_and_check(tmp_path: Path) -> None:
    src, adl = write(tmp_path, GOOD)
    out = tmp_path / "out" / "t.opt"
    r = run("template", "compile", str(src), "--archetypes", str(adl), "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert parse_opt(out.read_bytes()).template_id == "Test template"
    assert sorted(p.name for p in out.parent.iterdir()) == ["t.opt"]
    r = run("template", "check", str(src), str(out), "--archetypes", str(adl))
    assert r.returncode == 0, r.stdout + r.stderr
    bad, _ = write(tmp_path, GOOD.replace('<Rule path="/items[at0002]"', '<Rule path="/items[at0099]"'), "bad.oet")
    r = run("template", "compile", str(bad), "--archetypes", str(adl))
    assert r.returncode == 1 and "TPL004" in r.stderr and f"{bad}:" in r.stderr and "Traceback" not in r.stderr
    r = run("template", "compile", str(tmp_path / "none.oet"), "--archetypes", str(adl))
    assert r.returncode == 2
    r = run("template", "compile", str(src))
    assert r.returncode == 2  # --archetypes is required


# --- corpus ---------------------------------------------------------------------------------------------------

#: the differential verdicts established by bench/report_compiler.py (see the module docstring of diff_check)
PAIRS = {
    ("alternative_types.oet", "alternative_types.opt"): "whole: equal",
    ("Test_all_types_v2.oet", "Test_all_types_v2.opt"): "partial: equal",
    ("Minimal action.oet", "minimal_action.opt"): "partial: 1 differences",
    ("Minimal admin.oet", "cache.opt"): "partial: equal",
    ("Minimal admin.oet", "minimal_admin.opt"): "partial: equal",
    ("obs_act.oet", "obs_act.opt"): "partial: 1 differences",
    ("obs_admin.oet", "obs_admin.opt"): "partial: equal",
    ("persistent minimal all entries.oet", "persistent_minimal_all_entries.opt"): "partial: 1 differences",
    ("nested.oet", "nested.en.tmp.v1.opt"): "partial: equal",
    ("nested.oet", "nested_same_template_id_and_uid.opt"): "partial: equal",
    ("nested.oet", "nested_updated.opt"): "partial: equal",
    ("text and coded.oet", "text and coded.opt"): "partial: equal",
    ("Minimal observation.oet", "minimal_observation.opt"): "not compiled",
    ("Minimal evaluation.oet", "cache_updated.opt"): "not compiled",
    ("Minimal instruction.oet", "minimal_instruction.opt"): "not compiled",
    ("minimal_action_2.oet", "minimal_action_2.es.opt"): "not compiled",
    ("obs_inst.oet", "obs_inst.opt"): "not compiled",
}


@pytest.fixture(scope="module")
def corpus_repo(shared: Path) -> ArchetypeRepository:
    return ArchetypeRepository.of([shared / "corpus" / "adl-other", shared / "corpus" / "ckm"])


def test_differential_pairs(shared: Path, corpus_repo: ArchetypeRepository) -> None:
    seen = {}
    for oet_path in sorted((shared / "corpus" / "opt").rglob("*.oet")):
        for opt_path, _basis in find_reference_opts(load_oet(oet_path), oet_path.parent):
            r = diff_pair(oet_path, opt_path, corpus_repo)
            seen[(oet_path.name, opt_path.name)] = r
    assert {k: r.verdict for k, r in seen.items()} == PAIRS
    # the one kind of difference left: legacy openEHR media-type codes that the reference rewrites to IANA
    for r in seen.values():
        for d in r.differences:
            assert d.aspect == "constraint" and d.path.endswith("media_type<CODE_PHRASE>"), d


def test_differential_pairs_compile_clean(shared: Path, corpus_repo: ArchetypeRepository) -> None:
    schema = xsd(shared)
    oet = shared / "corpus" / "opt" / "ehrbase-integration-tests" / "valid_templates" / "alternative_types" / \
        "alternative_types.oet"
    data = compile_to_opt(oet, corpus_repo)
    assert not [i for i in check_opt(data) if i.severity is Severity.ERROR]
    assert schema.validate(etree.fromstring(data)), schema.error_log


def test_ckm_oets(shared: Path) -> None:
    ckm = shared / "corpus" / "ckm"
    repo = ArchetypeRepository.of([ckm])
    schema = xsd(shared)
    results = {}
    for f in sorted(ckm.rglob("*.oet")):
        res = compile_with_issues(f, repo, strict=True)
        results[f.name] = res
        if res.template is None or res.errors:
            assert res.errors[0].code in ("TPL001", "TPL004"), res.errors[0]
            assert res.errors[0].file == str(f) and res.errors[0].line
        # lenient compiles (missing archetypes leave their slots open) must still give a valid OPT
        lenient = compile_with_issues(f, repo)
        if lenient.template is not None:
            from openehr_kit.compiler import write_opt

            data = write_opt(lenient.template)
            assert not [i for i in check_opt(data) if i.severity is Severity.ERROR], f
            assert schema.validate(etree.fromstring(data)), (f, schema.error_log)
    assert len(results) == 33
    codes = sorted(r.errors[0].code for r in results.values() if r.errors)
    assert codes.count("TPL001") == 31 and codes.count("TPL004") == 2
    # every missing-archetype failure names the archetype
    for r in results.values():
        for e in r.errors:
            if e.code == "TPL001":
                assert "openEHR-EHR-" in e.message and "not found" in e.message


def test_largest_ckm_oets_compile_fast(shared: Path) -> None:
    """Cold compile (fresh repository: ADL parsing included) plus writing, for the two largest sources."""
    from openehr_kit.compiler import write_opt

    ckm = shared / "corpus" / "ckm"
    for f in sorted(ckm.rglob("*.oet"), key=lambda p: p.stat().st_size, reverse=True)[:2]:
        t0 = time.perf_counter()
        res = compile_with_issues(f, ArchetypeRepository.of([ckm]))
        if res.template is not None:
            write_opt(res.template)
        assert time.perf_counter() - t0 < 1.0, f
