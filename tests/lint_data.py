"""A small clean archetype for the lint tests: each rule test plants one violation into it by a text edit."""

from __future__ import annotations

from pathlib import Path

DEMO_ID = "openEHR-EHR-CLUSTER.lint_demo.v0"

DEMO_ADL = """archetype (adl_version=1.4)
	openEHR-EHR-CLUSTER.lint_demo.v0

concept
	[at0000]
language
	original_language = <[ISO_639-1::nb]>
	translations = <
		["en"] = <
			language = <[ISO_639-1::en]>
			author = <
				["name"] = <"test">
			>
		>
	>
description
	original_author = <
		["name"] = <"test">
	>
	details = <
		["nb"] = <
			language = <[ISO_639-1::nb]>
			purpose = <"Test.">
		>
	>
	lifecycle_state = <"in_development">

definition
	CLUSTER[at0000] matches {
		items cardinality matches {1..*; unordered} matches {
			ELEMENT[at0001] occurrences matches {0..1} matches {
				value matches {
					DV_CODED_TEXT matches {
						defining_code matches {
							[local::
							at0002,
							at0003]
						}
					}
				}
			}
			ELEMENT[at0004] occurrences matches {0..1} matches {
				value matches {
					DV_TEXT matches {*}
				}
			}
			ELEMENT[at0005] occurrences matches {0..1} matches {
				value matches {
					DV_CODED_TEXT matches {
						defining_code matches {[ICD10::S72.0, C61]}
					}
				}
			}
			ELEMENT[at0006] occurrences matches {0..1} matches {
				value matches {
					DV_CODED_TEXT matches {
						defining_code matches {[ICD-O-3::8140/3, C61.9]}
					}
				}
			}
			ELEMENT[at0007] occurrences matches {0..1} matches {
				value matches {
					DV_CODED_TEXT matches {
						defining_code matches {[NCSP::NFB49, KAC00]}
					}
				}
			}
			allow_archetype CLUSTER[at0008] occurrences matches {0..*} matches {
				include
					archetype_id/value matches {/openEHR-EHR-CLUSTER\\.lint_demo(-[a-zA-Z0-9_]+)*\\.v0/}
			}
		}
	}

ontology
	terminologies_available = <"SNOMED-CT", ...>
	term_definitions = <
		["nb"] = <
			items = <
				["at0000"] = <
					text = <"Lint-demo">
					description = <"Demo.">
				>
				["at0001"] = <
					text = <"Status">
					description = <"Status.">
				>
				["at0002"] = <
					text = <"Ja">
					description = <"Ja.">
				>
				["at0003"] = <
					text = <"Nei">
					description = <"Nei.">
				>
				["at0004"] = <
					text = <"Kommentar">
					description = <"Kommentar.">
				>
				["at0005"] = <
					text = <"Diagnose">
					description = <"Diagnose.">
				>
				["at0006"] = <
					text = <"Morfologi">
					description = <"Morfologi.">
				>
				["at0007"] = <
					text = <"Prosedyre">
					description = <"Prosedyre.">
				>
				["at0008"] = <
					text = <"Detaljer">
					description = <"Detaljer.">
				>
			>
		>
		["en"] = <
			items = <
				["at0000"] = <
					text = <"Lint demo">
					description = <"Demo.">
				>
				["at0001"] = <
					text = <"Status">
					description = <"Status.">
				>
				["at0002"] = <
					text = <"Yes">
					description = <"Yes.">
				>
				["at0003"] = <
					text = <"No">
					description = <"No.">
				>
				["at0004"] = <
					text = <"Comment">
					description = <"Comment.">
				>
				["at0005"] = <
					text = <"Diagnosis">
					description = <"Diagnosis.">
				>
				["at0006"] = <
					text = <"Morphology">
					description = <"Morphology.">
				>
				["at0007"] = <
					text = <"Procedure">
					description = <"Procedure.">
				>
				["at0008"] = <
					text = <"Details">
					description = <"Details.">
				>
			>
		>
	>
	term_bindings = <
		["SNOMED-CT"] = <
			items = <
				["at0002"] = <[SNOMED-CT::373066001]>
				["at0003"] = <[SNOMED-CT::373067005]>
			>
		>
	>
"""


def child_adl(child_id: str = "openEHR-EHR-CLUSTER.lint_demo-child.v0", parent_id: str = DEMO_ID,
              extra_code: str = "at0001.1") -> str:
    """A specialisation of the demo archetype redefining ``extra_code`` (a code of the parent by default)."""
    base = extra_code.rsplit(".", 1)[0]
    return f"""archetype (adl_version=1.4)
	{child_id}
specialise
	{parent_id}

concept
	[at0000.1]
language
	original_language = <[ISO_639-1::nb]>
description
	original_author = <
		["name"] = <"test">
	>
	lifecycle_state = <"in_development">

definition
	CLUSTER[at0000.1] matches {{
		items cardinality matches {{1..*; unordered}} matches {{
			ELEMENT[{extra_code}] occurrences matches {{0..1}} matches {{
				value matches {{
					DV_TEXT matches {{*}}
				}}
			}}
		}}
	}}

ontology
	term_definitions = <
		["nb"] = <
			items = <
				["at0000.1"] = <
					text = <"Barn">
					description = <"Barn.">
				>
				["{extra_code}"] = <
					text = <"Status fritekst">
					description = <"Status ({base}) som fritekst.">
				>
			>
		>
	>
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
