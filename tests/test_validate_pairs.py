"""Agreement with ``shared/corpus/pairs.tsv``: the verdict of every canonical row whose OPT is present, pinned.

* rows expected ``valid`` give no error, except the ones in ``ARGUED_VALID`` (the composition breaks its template
  by the openEHR specifications; EHRbase accepts it because it does not check that rule; each says why);
* rows expected ``invalid`` give at least the pinned error code(s), which say what the row's defect is; the one
  row that needs a terminology server's value set is argued instead (pinned with no code);
* rows expected ``unknown`` are accepted or rejected exactly as pinned; every rejection carries its reason, read
  from the issue list and checked against the file (the structure rejections by reading the composition and the
  template node by node; data-value rejections by their constraint).

``FIXED_VALID`` lists expected-valid rows that a checker bug once rejected: they are plain expected-valid rows
now, named so that a regression says which bug came back.

FLAT and STRUCTURED rows are counted as "not yet" (a later issue). ``python bench/report_pairs.py`` prints the
report; ``--table`` prints the current verdicts in the form of ``VERDICTS`` for review after a checker changes.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from pairs_data import RowOutcome, evaluate_all

# key (composition path below corpus/compositions/) -> (error codes, sorted, that the row gives; why)
VERDICTS: dict[str, tuple[tuple[str, ...], str]] = {
    # --- expected invalid: the pinned codes name the defect --------------------------------------------------
    "ehrbase-integration-tests/hc3_spirometry_test_result_v0.6/canonical_json/hc3_spirometry_test_result_v0.6__.json": (
        ("VAL105", "VAL106", "VAL108", "VAL110"),
        "the deliberate defect: the FEV1 result's coded name reads 'FEV1_non_existing_code' for local::at0067 "
        "(VAL108 on name/value); besides, proportions of type 3 where the template allows 2 (VAL105), media types "
        "outside the template's list (VAL106) and an ordinal symbol coded 'external' instead of local (VAL110)"),
    "ehrbase-integration-tests/nested.en.v1/canonical_json/nested.en.v1__invalid_wrong_structure.json": (
        ("RMR001",), "not well-formed JSON (two documents): unreadable, located"),
    "ehrbase-integration-tests/nested.en.v1/canonical_xml/nested.en.v1__invalid_wrong_structure.xml": (
        ("XML001",), "not XML at all: unreadable, located"),
    "ehrbase-integration-tests/nested.en.v1/canonical_xml/nested.composition.extdatetimes.invalid.xml": (
        ("VAL006",), "the file says '<!-- removed mandatory narrative -->': INSTRUCTION.narrative is RM-mandatory"),
    "ehrbase-integration-tests/terminology_test.ehrbase.org.v1/canonical_json/terminology_test.ehrbase.org.v1__invalid.json": (
        (), "ARGUED: the code is outside a FHIR value set bound by URI (C_CODE_REFERENCE referenceSetUri); checking "
        "it needs a terminology server, which this tool does not call: the template itself admits any code here"),
    "ehrbase-openEHR_SDK/International_Patient_Summary/canonical_json/ips_invalid.json": (
        ("VAL102", "VAL103", "VAL104", "VAL105", "VAL109", "VAL111"),
        "the SDK's 11 planted violations: magnitudes out of range (VAL102 x2), precision (VAL103), count below 0 "
        "(VAL104), SpO2 proportion numerator/type (VAL105 x2), texts outside the list (VAL109 x2), booleans not "
        "allowed (VAL111 x2): 10 errors found; the SDK counts 11 (its list is not in the corpus)"),
    "ehrbase-openEHR_SDK/cardinality_of_section/canonical_json/cardinality_of_section__full.json": (
        ("VAL002", "VAL003", "VAL004"),
        "the SDK's 4 violations: section #1 twice (max 1), #3 missing, #4 twice (min 3), #5 six times (max 5) as "
        "VAL003/VAL002; and VAL004 because this hand-edited OPT really gives COMPOSITION.content cardinality 1..1"),
    "ehrbase-openEHR_SDK/test_all_types.en.v1/canonical_xml/test_all_types_participations_invalid.xml": (
        ("VAL108", "VAL206", "VAL210"),
        "the planted defect: participation function coded 216 (a participation *mode* code) - VAL210, with mode text "
        "'WRONG VALUE' (VAL108); the DV_URI element also has neither value nor null_flavour (VAL206)"),
    # --- expected valid, not clean: ARGUED_VALID below says why ------------------------------------------------
    "ehrbase-integration-tests/minimal_instruction.en.v1/canonical_json/minimal_instruction_2.json": (
        ("VAL115",), "P65Y5M12D where the archetype's C_DURATION pattern is PTM (minutes only)"),
    "ehrbase-integration-tests/minimal_instruction.en.v1/canonical_json/minimal_instruction_3.json": (
        ("VAL115",), "P101Y where the archetype's C_DURATION pattern is PTM (minutes only)"),
    "ehrbase-integration-tests/minimal_instruction.en.v1/canonical_json/minimal_instruction_4.json": (
        ("VAL115",), "P1Y where the archetype's C_DURATION pattern is PTM (minutes only)"),
    "ehrbase-integration-tests/test_all_types.en.v1/canonical_json/all_types_systematic_tests.json": (
        ("VAL007", "VAL108", "VAL113"),
        "a DV_TEXT 'Lorem ipsum' where the template allows only DV_URI (VAL007); coded text 'value1' for local "
        "at0006 'coded text terminology' (VAL108); partial date 20190114 under pattern yyyy-??-XX (VAL113)"),
    "ehrbase-integration-tests/test_all_types.en.v1/canonical_json/all_types_systematic_tests_feeder_audit.json": (
        ("VAL007", "VAL108", "VAL113"), "as all_types_systematic_tests.json (same content plus feeder audits)"),
    "ehrbase-openEHR_SDK/test_all_types.en.v1/canonical_json/all_types_no_multimedia.json": (
        ("VAL108", "VAL113"), "coded text 'value1' for at0006 (VAL108); partial date 20190114 under yyyy-??-XX"),
    # --- expected unknown: () accepted; otherwise the codes and the first reason -------------------------------
    'ehrbase-integration-tests/Corona_Anamnese/canonical_json/Corona_Anamnese.json': ((), ''),
    'ehrbase-integration-tests/EHRN-ABDM-OPConsultRecord.v2.0/canonical_json/consult_record__.json': ((), ''),
    'ehrbase-integration-tests/EHRN-ABDM-OPConsultRecord.v2.0/canonical_xml/consult_record__.xml': ((), ''),
    'ehrbase-integration-tests/Minimal_action_2/canonical_xml/minimal_action_2.instance.composition.xml': (('VAL006', 'VAL105'), 'VAL105 Proportion (at0002): precision 0 requires whole numbers, found 1.5/1.0 (+2 more)'),
    'ehrbase-integration-tests/Test_all_types_v2/canonical_json/Test_all_types_v2__.json': ((), ''),
    'ehrbase-integration-tests/Test_all_types_v2/canonical_json/all_types_v2.composition.json': ((), ''),
    'ehrbase-integration-tests/Test_dv_boolean.v0/canonical_json/Test_dv_boolean.v0__.json': ((), ''),
    'ehrbase-integration-tests/Test_dv_boolean_true_false.v0/canonical_json/Test_dv_boolean_true_false.v0__.json': (('VAL111',), 'VAL111 DV_BOOLEAN (at0029): value false is not allowed; allowed: true (+2 more)'),
    'ehrbase-integration-tests/Test_dv_coded_text_open_constraint.v0/canonical_json/Test_dv_coded_text_open_constraint.v0__.json': ((), ''),
    'ehrbase-integration-tests/Test_dv_coded_text_with_local_codes.v0/canonical_json/Test_dv_coded_text_with_local_codes.v0__.json': ((), ''),
    'ehrbase-integration-tests/Test_dv_count_open_constraint.v0/canonical_json/Test_dv_count_open_constraint.v0__.json': ((), ''),
    'ehrbase-integration-tests/Test_dv_count_range_constraint.v0/canonical_json/Test_dv_count_range_constraint.v0__.json': (('VAL104',), 'VAL104 MY_DV_COUNT (at0042): magnitude 25 is above the maximum 20 (+2 more)'),
    'ehrbase-integration-tests/Test_dv_date_time_validity_kind_constraint_v0/canonical_json/Test_dv_date_time_validity_kind_constraint_v0__.json': ((), ''),
    'ehrbase-integration-tests/Test_dv_interval_dv_count_open_constraint.v0/canonical_json/Test_dv_interval_dv_count_open_constraint.v0__.json': (('VAL125',), 'VAL125 MY_ANY_ELEMENT (at0046): the lower bound is above the upper bound'),
    'ehrbase-integration-tests/Test_dv_interval_dv_quantity_open_constraint.v0/canonical_json/Test_dv_interval_dv_quantity_open_constraint.v0__.json': (('VAL125',), 'VAL125 MY_ANY_ELEMENT (at0046): the lower bound is above the upper bound'),
    'ehrbase-integration-tests/Test_dv_multimedia_open_constraint.v0/canonical_json/Test_dv_multimedia_open_constraint.v0__.json': (('VAL106',), 'VAL106 ANY (at0028): code application/dicom is not in the allowed list (application/pdf) (+2 more)'),
    'ehrbase-integration-tests/Test_dv_ordinal_open_constraint.v0/canonical_json/Test_dv_ordinal_open_constraint.v0__.json': (('RMR003',), 'RMR003 at /content/0/data/events/0/data/items/0/value/value: wrong kind of value for DV_ORDINAL.value: expecte'),
    'ehrbase-integration-tests/Test_dv_quantity_open_constraint.v0/canonical_json/Test_dv_quantity_open_constraint.v0__.json': (('RMR003',), 'RMR003 at /content/0/data/events/0/data/items/0/value/magnitude: wrong kind of value for DV_QUANTITY.magnitude'),
    'ehrbase-integration-tests/Test_dv_text_list_constraint.v0/canonical_json/Test_dv_text_list_constraint.v0__.json': ((), ''),
    'ehrbase-integration-tests/Test_dv_text_open_constraint.v0/canonical_json/Test_dv_text_open_constraint.v0__.json': ((), ''),
    'ehrbase-integration-tests/Test_dv_text_pattern_constraint.v0/canonical_json/Test_dv_text_pattern_constraint.v0__.json': ((), ''),
    'ehrbase-integration-tests/Test_dv_uri_open_constraint.v0/canonical_json/Test_dv_uri_open_constraint.v0__.json': ((), ''),
    'ehrbase-integration-tests/Test_quantity_dv_interval_dv_date_time_open_constraint.v0/canonical_json/Test_quantity_dv_interval_dv_date_time_open_constraint.v0__.json': ((), ''),
    'ehrbase-integration-tests/alternative_types.en.v1/canonical_xml/alternative_types.composition.extdatetimes.xml': (('RMR003',), 'RMR003 at /composition/content[1]/data/events[1]/data/items[1]/value/magnitude: wrong kind of value for DV_COU'),
    'ehrbase-integration-tests/alternative_types.en.v1/canonical_xml/alternative_types.composition.xml': (('RMR003',), 'RMR003 at /composition/content[1]/data/events[1]/data/items[1]/value/magnitude: wrong kind of value for DV_COU'),
    'ehrbase-integration-tests/cache_test.v1/canonical_xml/cache_composition.xml': ((), ''),
    'ehrbase-integration-tests/cache_test.v1/canonical_xml/cache_composition_updated.xml': (('VAL001',), "VAL001 Minimal (openEHR-EHR-COMPOSITION.minimal.v1): 'Minimal' (openEHR-EHR-EVALUATION.minimal.v1) is not defi"),
    'ehrbase-integration-tests/cardinality_of_section/canonical_json/cardinality_of_section__full.json': (('VAL004',), "VAL004 'content' has 10 items; at most 1 is allowed"),
    'ehrbase-integration-tests/composition_evaluation_test/canonical_json/composition_evaluation_test__full.json': ((), ''),
    'ehrbase-integration-tests/family_history/canonical_json/family_history.v2__.json': ((), ''),
    'ehrbase-integration-tests/family_history/canonical_json/family_history__with_uid.json': ((), ''),
    'ehrbase-integration-tests/family_history/canonical_xml/family_history.v2__.xml': ((), ''),
    'ehrbase-integration-tests/family_history/canonical_xml/family_history__.xml': ((), ''),
    'ehrbase-integration-tests/family_history/canonical_xml/family_history__with_uid.xml': ((), ''),
    'ehrbase-integration-tests/genericFHIRTemplate/canonical_json/minimal_FEEDER_AUDIT.feeder_audit.original_content.value_links.json': ((), ''),
    'ehrbase-integration-tests/minimal_action.en.v1/canonical_xml/minimal_action.composition.extdatetimes.xml': ((), ''),
    'ehrbase-integration-tests/minimal_action.en.v1/canonical_xml/minimal_action.en.v1.instance_xml_input_1.xml': ((), ''),
    'ehrbase-integration-tests/minimal_admin.en.v1/canonical_json/minimal_admin_1.composition.json': ((), ''),
    'ehrbase-integration-tests/minimal_admin.en.v1/canonical_json/minimal_admin_2.composition.json': ((), ''),
    'ehrbase-integration-tests/minimal_admin.en.v1/canonical_json/minimal_admin_3.composition.json': ((), ''),
    'ehrbase-integration-tests/minimal_admin.en.v1/canonical_xml/minimal_admin.composition.extdatetimes.xml': ((), ''),
    'ehrbase-integration-tests/minimal_admin.en.v1/canonical_xml/minimal_admin.en.v1.instance_xml_input_1.xml': ((), ''),
    'ehrbase-integration-tests/minimal_admin.en.v1/canonical_xml/minimal_admin.en.v1.instance_xml_input_2.xml': ((), ''),
    'ehrbase-integration-tests/minimal_evaluation.en.v1/canonical_json/compositions/minimal_evaluation_1.composition.json': ((), ''),
    'ehrbase-integration-tests/minimal_evaluation.en.v1/canonical_json/minimal_evaluation.en.v1__.json': ((), ''),
    'ehrbase-integration-tests/minimal_evaluation.en.v1/canonical_json/minimal_evaluation.json': (('VAL001',), "VAL001 Arbol (at0001): 'quantity' (at0003) is not defined by the template here; allowed: quantity (at0002) (+2"),
    'ehrbase-integration-tests/minimal_evaluation.en.v1/canonical_json/minimal_evaluation_2.composition.json': ((), ''),
    'ehrbase-integration-tests/minimal_evaluation.en.v1/canonical_json/minimal_evaluation_3.composition.json': ((), ''),
    'ehrbase-integration-tests/minimal_evaluation.en.v1/canonical_json/minimal_evaluation_4.composition.json': ((), ''),
    'ehrbase-integration-tests/minimal_evaluation.en.v1/canonical_json/valid/minimal_evaluation_1.composition.json': ((), ''),
    'ehrbase-integration-tests/minimal_evaluation.en.v1/canonical_xml/minimal_evaluation.composition.participations.extdatetimes.xml': ((), ''),
    'ehrbase-integration-tests/minimal_evaluation.en.v1/canonical_xml/minimal_evaluation.en.v1.instance_xml_input_1.xml': ((), ''),
    'ehrbase-integration-tests/minimal_evaluation.en.v1/canonical_xml/minimal_evaluation.en.v1.instance_xml_input_2.xml': ((), ''),
    'ehrbase-integration-tests/minimal_evaluation.en.v1/canonical_xml/old_minimal_evaluation.composition.participations.xml': ((), ''),
    'ehrbase-integration-tests/minimal_evaluation.en.v1/canonical_xml/old_minimal_evaluation.en.v1.instance_xml_input_1.xml': ((), ''),
    'ehrbase-integration-tests/minimal_instruction.en.v1/canonical_json/CANONICAL_JSON/minimal_instruction_1.composition.json': (('VAL115', 'VAL121'), 'VAL115 duration (at0003): duration P1Y: years is not allowed by the pattern PTM (+1 more)'),
    'ehrbase-integration-tests/minimal_instruction.en.v1/canonical_json/compositions/minimal_instruction_1.composition.json': ((), ''),
    'ehrbase-integration-tests/minimal_instruction.en.v1/canonical_json/minimal_instruction_2.composition.json': ((), ''),
    'ehrbase-integration-tests/minimal_instruction.en.v1/canonical_json/minimal_instruction_3.composition.json': ((), ''),
    'ehrbase-integration-tests/minimal_instruction.en.v1/canonical_json/minimal_instruction_4.composition.json': ((), ''),
    'ehrbase-integration-tests/minimal_instruction.en.v1/canonical_xml/minimal_instruction.composition.participations.extdatetime.xml': ((), ''),
    'ehrbase-integration-tests/minimal_instruction.en.v1/canonical_xml/minimal_instruction.composition.participations.xml': ((), ''),
    'ehrbase-integration-tests/minimal_instruction.en.v1/canonical_xml/minimal_instruction.en.v1.instance_xml_input_1.xml': (('VAL115',), 'VAL115 duration (at0003): duration P3DT3H: days and hours are not allowed by the pattern PTM'),
    'ehrbase-integration-tests/minimal_instruction.en.v1/canonical_xml/minimal_instruction.en.v1.instance_xml_input_2.xml': ((), ''),
    'ehrbase-integration-tests/minimal_instruction.en.v2/canonical_json/minimal_instruction_2.composition.json': (('VAL121',), 'VAL121 Current Activity (at0001): value "/.*/" does not match the pattern /openEHR-EHR-ACTION\\.minimal\\.v2/'),
    'ehrbase-integration-tests/minimal_observation.en.v1/canonical_json/minimal_observation.composition.participations.extdatetimes.ehrbase.json': (('RMR004',), 'RMR004 at /composer: object names its type with "@type", which is not canonical JSON; use "_type": expected _t'),
    'ehrbase-integration-tests/minimal_observation.en.v1/canonical_json/minimal_observation.composition.participations.extdatetimes.ehrscape.json': ((), ''),
    'ehrbase-integration-tests/minimal_observation.en.v1/canonical_json/minimal_observation_1.composition.json': (('VAL108',), 'VAL108 value "bother" is not the openEHR term text "brother" of code 23 (PARTY_RELATED.relationship, once)'),
    'ehrbase-integration-tests/minimal_observation.en.v1/canonical_json/minimal_observation_2.composition.json': (('VAL108',), 'VAL108 value "bother" is not the openEHR term text "brother" of code 23 (PARTY_RELATED.relationship, once)'),
    'ehrbase-integration-tests/minimal_observation.en.v1/canonical_json/minimal_observation_3.composition.json': (('VAL108',), 'VAL108 value "bother" is not the openEHR term text "brother" of code 23 (PARTY_RELATED.relationship, once)'),
    'ehrbase-integration-tests/minimal_observation.en.v1/canonical_json/minimal_observation_4.composition.json': (('VAL108',), 'VAL108 value "bother" is not the openEHR term text "brother" of code 23 (PARTY_RELATED.relationship, once)'),
    'ehrbase-integration-tests/minimal_observation.en.v1/canonical_xml/minimal_observation.composition.participations.extdatetimes.v2.xml': ((), ''),
    'ehrbase-integration-tests/minimal_observation.en.v1/canonical_xml/minimal_observation.composition.participations.extdatetimes.xml': ((), ''),
    'ehrbase-integration-tests/minimal_observation.en.v1/canonical_xml/minimal_observation.composition.participations.extdatetimes_Berlin_time_zone.xml': ((), ''),
    'ehrbase-integration-tests/minimal_observation.en.v1/canonical_xml/minimal_observation.composition.participations.extdatetimes_FIXED_EXAMPLE.xml': (('VAL009',), "VAL009 Minimal (openEHR-EHR-COMPOSITION.minimal.v1): the composition's archetype is openEHR-EHR-COMPOSITION.re"),
    'ehrbase-integration-tests/minimal_observation.en.v1/canonical_xml/minimal_observation.composition.participations.extdatetimes_no_time_zone.xml': ((), ''),
    'ehrbase-integration-tests/minimal_observation.en.v1/canonical_xml/minimal_observation.composition.participations.extdatetimes_utc.xml': ((), ''),
    'ehrbase-integration-tests/minimal_observation.en.v1/canonical_xml/minimal_observation.composition.participations.xml': ((), ''),
    'ehrbase-integration-tests/minimal_observation.en.v1/canonical_xml/minimal_observation.en.v1.instance_xml_input_1.xml': (('VAL108',), 'VAL108 value "bother" is not the openEHR term text "brother" of code 23 (PARTY_RELATED.relationship, once)'),
    'ehrbase-integration-tests/minimal_observation.en.v1/canonical_xml/minimal_observation.en.v1.instance_xml_input_2.xml': (('VAL108',), 'VAL108 value "bother" is not the openEHR term text "brother" of code 23 (PARTY_RELATED.relationship, once)'),
    'ehrbase-integration-tests/nested.en.v1/canonical_json/nested.en.v1.same_template_id_and_uid.json': ((), ''),
    'ehrbase-integration-tests/nested.en.v1/canonical_json/nested.en.v1.same_template_id_and_uid_updated.json': (('VAL108',), 'VAL108 value "brother" is not the openEHR term text "sister" of code 24 (PARTY_RELATED.relationship, once)'),
    'ehrbase-integration-tests/nested.en.v1/canonical_json/nested.en.v1__full.json': ((), ''),
    'ehrbase-integration-tests/nested.en.v1/canonical_xml/nested.composition.extdatetimes.xml': ((), ''),
    'ehrbase-integration-tests/nested.en.v1/canonical_xml/nested.composition.xml': ((), ''),
    'ehrbase-integration-tests/obs_act.en.v1/canonical_xml/obs_act.composition.xml': ((), ''),
    'ehrbase-integration-tests/obs_admin.en.v1/canonical_xml/obs_admin.composition.extdatetimes.xml': (('VAL108',), 'VAL108 ordinal (at0002): value "ord1" is not the term text "option 1" of code at0003'),
    'ehrbase-integration-tests/obs_admin.en.v1/canonical_xml/obs_admin.composition.xml': (('VAL108',), 'VAL108 ordinal (at0002): value "ord1" is not the term text "option 1" of code at0003'),
    'ehrbase-integration-tests/obs_inst.en.v1/canonical_xml/obs_inst.composition.extdatetimes.xml': ((), ''),
    'ehrbase-integration-tests/obs_inst.en.v1/canonical_xml/obs_inst.composition.xml': (('VAL115',), 'VAL115 duration (at0003): duration PT30M: minutes is not allowed by the pattern PDTH'),
    'ehrbase-integration-tests/persistent_minimal_2.en.v1/canonical_xml/persistent_minimal.composition.extdatetime.v2_2.xml': ((), ''),
    'ehrbase-integration-tests/persistent_minimal_all_entries.en.v1/canonical_xml/persistent_minimal_all_entries.composition.extdatetimes.xml': (('VAL108',), 'VAL108 ordinal (at0002): value "ord1" is not the term text "option 1" of code at0003'),
    'ehrbase-integration-tests/persistent_minimal_all_entries.en.v1/canonical_xml/persistent_minimal_all_entries.composition.xml': (('VAL110', 'VAL115'), 'VAL115 duration (at0003): duration PT30M: minutes is not allowed by the pattern PDTH (+1 more)'),
    'ehrbase-integration-tests/terminology_test.ehrbase.org.v1/canonical_json/terminology_test.ehrbase.org.v1.json': ((), ''),
    'ehrbase-integration-tests/terminology_test.ehrbase.org.v1/canonical_json/terminology_test.ehrbase.org.v1_non_existing_code.json': ((), ''),
    'ehrbase-integration-tests/terminology_test.ehrbase.org.v1/canonical_json/terminology_test.ehrbase.org.v1_update_invalid_codes.json': ((), ''),
    'ehrbase-integration-tests/terminology_test.ehrbase.org.v1/canonical_json/terminology_test.ehrbase.org.v1_update_valid_codes.json': ((), ''),
    'ehrbase-integration-tests/test_all_types.en.v1/canonical_json/all_types.composition.json': (('VAL113',), 'VAL113 partial date (at0003): "2021-10-18" does not match the pattern yyyy-??-XX: the day must not be given'),
    'ehrbase-openEHR_SDK/Corona_Anamnese/canonical_json/compo_with_nested_party_identified.json': (('VAL001',), "VAL001 Bericht (openEHR-EHR-COMPOSITION.report.v1): 'Allgemeine Angaben' (openEHR-EHR-SECTION.allgemeine_angab"),
    'ehrbase-openEHR_SDK/Corona_Anamnese/canonical_json/compo_with_nested_party_related.json': (('VAL001',), "VAL001 Bericht (openEHR-EHR-COMPOSITION.report.v1): 'Allgemeine Angaben' (openEHR-EHR-SECTION.allgemeine_angab"),
    'ehrbase-openEHR_SDK/Corona_Anamnese/canonical_json/compo_with_nested_party_self.json': (('VAL001',), "VAL001 Bericht (openEHR-EHR-COMPOSITION.report.v1): 'Allgemeine Angaben' (openEHR-EHR-SECTION.allgemeine_angab"),
    'ehrbase-openEHR_SDK/Corona_Anamnese/canonical_json/compo_with_nested_provider.json': (('VAL001',), "VAL001 Bericht (openEHR-EHR-COMPOSITION.report.v1): 'Allgemeine Angaben' (openEHR-EHR-SECTION.allgemeine_angab"),
    'ehrbase-openEHR_SDK/EHRN-ABDM-OPConsultRecord.v2.0/canonical_json/ehrb_adbm_op_consult_record.json': ((), ''),
    'ehrbase-openEHR_SDK/EpisodeOfCare/canonical_json/simple_composition_dvinterval.json': (('VAL007', 'VAL014', 'VAL125'), "VAL014 EpisodeOfCare (openEHR-EHR-COMPOSITION.versorgungsfall.v0): is named 'Versorgungsfall', but the templat"),
    'ehrbase-openEHR_SDK/IDCR_-_Laboratory_Test_Report.v0/canonical_xml/IDCR-LabReportRAW1_with_normal_status.xml': (('RMR002',), 'RMR002 at /composition/content[1]/data/events[1]/data/items[4]/items[1]/items[1]/value/normal_status: unknown '),
    'ehrbase-openEHR_SDK/IDCR_-_Laboratory_Test_Report.v0/canonical_xml/canonical_xml/IDCR-LabReportRAW1.xml': ((), ''),
    'ehrbase-openEHR_SDK/Laborbefund/canonical_json/compo_feeder_audit_details.json': (('VAL002', 'VAL014'), "VAL014 Bezeichnung (at0024): is named 'Analyte name', but the template requires the name 'Bezeichnung' (+3 mor"),
    'ehrbase-openEHR_SDK/Multi_list/canonical_json/participation_no_content.json': ((), ''),
    'ehrbase-openEHR_SDK/Virologischer_Befund/canonical_json/virology_finding_with_specimen.json': (('VAL001', 'VAL002', 'VAL007', 'VAL014'), "VAL014 Virologischer Befund (openEHR-EHR-COMPOSITION.report-result.v1): is named 'Ergebnisbericht', but the te"),
    'ehrbase-openEHR_SDK/Virologischer_Befund/canonical_json/virology_finding_with_specimen_no_update.json': ((), ''),
    'ehrbase-openEHR_SDK/alternative_types.en.v1/canonical_json/alternative_types.json': ((), ''),
    'ehrbase-openEHR_SDK/ehrbase_multi_occurrence.de.v1/canonical_json/multi_occurrence.json': ((), ''),
    'ehrbase-openEHR_SDK/minimal_action_3.en.v1/canonical_json/minimal_with_optional_attribute.json': ((), ''),
    'ehrbase-openEHR_SDK/minimal_action_3.en.v1/canonical_json/minimal_without_optional_attribute.json': ((), ''),
    'ehrbase-openEHR_SDK/minimal_action_3.en.v1/canonical_json/other_participations.json': ((), ''),
    'ehrbase-openEHR_SDK/minimal_admin.en.v1/canonical_json/minimal_admin.json': ((), ''),
    'ehrbase-openEHR_SDK/minimal_evaluation.en.v1/canonical_json/minimal_evaluation.json': ((), ''),
    'ehrbase-openEHR_SDK/minimal_evaluation.en.v1/canonical_json/minimal_evaluation_item_tree_name.json': ((), ''),
    'ehrbase-openEHR_SDK/minimal_instruction.en.v1/canonical_json/minimal_instruction.json': ((), ''),
    'ehrbase-openEHR_SDK/minimal_observation.en.v1/canonical_json/minimal_observation.json': ((), ''),
    'ehrbase-openEHR_SDK/nested.en.v1/canonical_json/nested.en.v1.json': ((), ''),
    'ehrbase-openEHR_SDK/nested.en.v1/canonical_json/nested.json': ((), ''),
    'ehrbase-openEHR_SDK/obs_admin.en.v1/canonical_json/obs_admin.json': (('VAL108',), 'VAL108 ordinal (at0002): value "ord1" is not the term text "option 1" of code at0003'),
    'ehrbase-openEHR_SDK/obs_admin.en.v1/canonical_json/obs_admin_null_flavour.json': (('VAL108',), 'VAL108 ordinal (at0002): value "ord1" is not the term text "option 1" of code at0003'),
    'ehrbase-openEHR_SDK/obs_inst.en.v1/canonical_json/obs_inst.json': ((), ''),
    'ehrbase-openEHR_SDK/test_all_types.en.v1/canonical_json/all_types_systematic_tests.json': (('VAL108', 'VAL113', 'VAL206'), 'VAL108 coded text (at0005): value "value1" is not the term text "coded text terminology" of code at0006 (+2 mo'),
    'ehrbase-openEHR_SDK/test_all_types.en.v1/canonical_json/all_types_systematic_tests_feeder_audit.json': (('VAL108', 'VAL113', 'VAL206'), 'VAL108 coded text (at0005): value "value1" is not the term text "coded text terminology" of code at0006 (+2 mo'),
    'ehrbase-openEHR_SDK/test_all_types.en.v1/canonical_json/datetime_tests.json': (('VAL001',), "VAL001 Arbol (at0003): 'datetime_partial_1' (at0010.1) is not defined by the template here; allowed: text (at0"),
    'ehrbase-openEHR_SDK/test_all_types.en.v1/canonical_json/duration_tests.json': (('VAL001',), "VAL001 Arbol (at0003): 'duration cr #294' (at0010.1) is not defined by the template here; allowed: text (at000"),
    'ehrbase-openEHR_SDK/test_all_types.en.v1/canonical_xml/canonical_xml/test_all_types.fixed.v1.xml': (('VAL107', 'VAL108', 'VAL110', 'VAL113', 'VAL206'), 'VAL107 coded text (at0005): terminology "terminology_not_specified_as_constraint_or_referenceSetUri_in_opt" is'),
    'ehrbase-openEHR_SDK/test_all_types.en.v1/canonical_xml/composition/test_all_types.fixed.v1.xml': (('VAL107', 'VAL108', 'VAL113', 'VAL206'), 'VAL107 coded text (at0005): terminology "terminology_not_specified_as_constraint_or_referenceSetUri_in_opt" is'),
    'ehrbase-openEHR_SDK/test_all_types.en.v1/canonical_xml/test_all_no_content.xml': ((), ''),
    'ehrbase-openEHR_SDK/test_all_types.en.v1/canonical_xml/test_all_types.v1.xml': (('VAL001', 'VAL107', 'VAL108', 'VAL110', 'VAL113', 'VAL206'), 'VAL107 coded text (at0005): terminology "terminology_not_specified_as_constraint_or_referenceSetUri_in_opt" is'),
    'openFHIR-openfhir/Growth_chart/canonical_json/growth_chart_composition.json': ((), ''),
    'openFHIR-openfhir/KDS_Laborbericht/canonical_json/Composition-mii-exa-test-data-patient-1-labreport-1.json': ((), ''),
    'openFHIR-openfhir/KDS_Laborbericht/canonical_json/Composition-mii-exa-test-data-patient-10-labreport-1.json': ((), ''),
    'openFHIR-openfhir/KDS_Laborbericht/canonical_json/Composition-mii-exa-test-data-patient-2-labreport-1.json': ((), ''),
    'openFHIR-openfhir/KDS_Laborbericht/canonical_json/Composition-mii-exa-test-data-patient-3-labreport-1.json': ((), ''),
    'openFHIR-openfhir/KDS_Laborbericht/canonical_json/Composition-mii-exa-test-data-patient-4-labreport-1.json': ((), ''),
    'openFHIR-openfhir/KDS_Laborbericht/canonical_json/Composition-mii-exa-test-data-patient-5-labreport-1.json': ((), ''),
    'openFHIR-openfhir/KDS_Laborbericht/canonical_json/Composition-mii-exa-test-data-patient-6-labreport-1.json': ((), ''),
    'openFHIR-openfhir/KDS_Laborbericht/canonical_json/Composition-mii-exa-test-data-patient-7-labreport-1.json': ((), ''),
    'openFHIR-openfhir/KDS_Laborbericht/canonical_json/Composition-mii-exa-test-data-patient-8-labreport-1.json': ((), ''),
    'openFHIR-openfhir/KDS_Laborbericht/canonical_json/Composition-mii-exa-test-data-patient-9-labreport-1.json': ((), ''),
    'openFHIR-openfhir/KDS_Laborbericht/canonical_json/Composition_Laborbericht_bundle.json': ((), ''),
    'openFHIR-openfhir/KDS_Medikamentenverabreichungen/canonical_json/Composition-mii-exa-test-data-patient-1-medadmin-1.json': (('VAL101', 'VAL107', 'VAL109'), 'VAL107 Darreichungsform (at0071): terminology "http://standardterms.edqm.eu" is not allowed here; expected htt'),
    'openFHIR-openfhir/KDS_Medikamentenverabreichungen/canonical_json/Composition-mii-exa-test-data-patient-1-medadmin-2.json': (('VAL101', 'VAL107', 'VAL109'), 'VAL107 Darreichungsform (at0071): terminology "http://standardterms.edqm.eu" is not allowed here; expected htt'),
    'openFHIR-openfhir/KDS_Medikamentenverabreichungen/canonical_json/Composition-mii-exa-test-data-patient-10-medadmin-1.json': (('VAL101', 'VAL107', 'VAL109'), 'VAL107 Darreichungsform (at0071): terminology "http://standardterms.edqm.eu" is not allowed here; expected htt'),
    'openFHIR-openfhir/KDS_Medikamentenverabreichungen/canonical_json/Composition-mii-exa-test-data-patient-10-medadmin-2.json': (('VAL101', 'VAL107', 'VAL109'), 'VAL107 Darreichungsform (at0071): terminology "http://standardterms.edqm.eu" is not allowed here; expected htt'),
    'openFHIR-openfhir/KDS_Medikamentenverabreichungen/canonical_json/Composition-mii-exa-test-data-patient-2-medadmin-1.json': (('VAL101', 'VAL107', 'VAL109'), 'VAL107 Darreichungsform (at0071): terminology "http://standardterms.edqm.eu" is not allowed here; expected htt'),
    'openFHIR-openfhir/KDS_Medikamentenverabreichungen/canonical_json/Composition-mii-exa-test-data-patient-2-medadmin-2.json': (('VAL101', 'VAL107', 'VAL109'), 'VAL107 Darreichungsform (at0071): terminology "http://standardterms.edqm.eu" is not allowed here; expected htt'),
    'openFHIR-openfhir/KDS_Medikamentenverabreichungen/canonical_json/Composition-mii-exa-test-data-patient-2-medadmin-3.json': (('VAL101', 'VAL107', 'VAL109'), 'VAL107 Darreichungsform (at0071): terminology "http://standardterms.edqm.eu" is not allowed here; expected htt'),
    'openFHIR-openfhir/KDS_Medikamentenverabreichungen/canonical_json/Composition-mii-exa-test-data-patient-3-medadmin-1.json': (('VAL101', 'VAL107', 'VAL109'), 'VAL107 Darreichungsform (at0071): terminology "http://standardterms.edqm.eu" is not allowed here; expected htt'),
    'openFHIR-openfhir/KDS_Medikamentenverabreichungen/canonical_json/Composition-mii-exa-test-data-patient-3-medadmin-2.json': (('VAL101', 'VAL107', 'VAL109'), 'VAL107 Darreichungsform (at0071): terminology "http://standardterms.edqm.eu" is not allowed here; expected htt'),
    'openFHIR-openfhir/KDS_Medikamentenverabreichungen/canonical_json/Composition-mii-exa-test-data-patient-3-medadmin-3.json': (('VAL101', 'VAL107', 'VAL109'), 'VAL107 Darreichungsform (at0071): terminology "http://standardterms.edqm.eu" is not allowed here; expected htt'),
    'openFHIR-openfhir/KDS_Medikamentenverabreichungen/canonical_json/Composition-mii-exa-test-data-patient-4-medadmin-1.json': (('VAL101', 'VAL107', 'VAL109'), 'VAL107 Darreichungsform (at0071): terminology "http://standardterms.edqm.eu" is not allowed here; expected htt'),
    'openFHIR-openfhir/KDS_Medikamentenverabreichungen/canonical_json/Composition-mii-exa-test-data-patient-4-medadmin-2.json': (('VAL101', 'VAL107', 'VAL109'), 'VAL107 Darreichungsform (at0071): terminology "http://standardterms.edqm.eu" is not allowed here; expected htt'),
    'openFHIR-openfhir/KDS_Medikamentenverabreichungen/canonical_json/Composition-mii-exa-test-data-patient-5-medadmin-1.json': (('VAL101', 'VAL107', 'VAL109'), 'VAL107 Darreichungsform (at0071): terminology "http://standardterms.edqm.eu" is not allowed here; expected htt'),
    'openFHIR-openfhir/KDS_Medikamentenverabreichungen/canonical_json/Composition-mii-exa-test-data-patient-5-medadmin-2.json': (('VAL101', 'VAL107', 'VAL109'), 'VAL107 Darreichungsform (at0071): terminology "http://standardterms.edqm.eu" is not allowed here; expected htt'),
    'openFHIR-openfhir/KDS_Medikamentenverabreichungen/canonical_json/Composition-mii-exa-test-data-patient-6-medadmin-1.json': (('VAL101', 'VAL107', 'VAL109'), 'VAL107 Darreichungsform (at0071): terminology "http://standardterms.edqm.eu" is not allowed here; expected htt'),
    'openFHIR-openfhir/KDS_Medikamentenverabreichungen/canonical_json/Composition-mii-exa-test-data-patient-6-medadmin-2.json': (('VAL101', 'VAL107', 'VAL109'), 'VAL107 Darreichungsform (at0071): terminology "http://standardterms.edqm.eu" is not allowed here; expected htt'),
    'openFHIR-openfhir/KDS_Medikamentenverabreichungen/canonical_json/Composition-mii-exa-test-data-patient-7-medadmin-1.json': (('VAL101', 'VAL107', 'VAL109'), 'VAL107 Darreichungsform (at0071): terminology "http://standardterms.edqm.eu" is not allowed here; expected htt'),
    'openFHIR-openfhir/KDS_Medikamentenverabreichungen/canonical_json/Composition-mii-exa-test-data-patient-7-medadmin-2.json': (('VAL101', 'VAL107', 'VAL109'), 'VAL107 Darreichungsform (at0071): terminology "http://standardterms.edqm.eu" is not allowed here; expected htt'),
    'openFHIR-openfhir/KDS_Medikamentenverabreichungen/canonical_json/Composition-mii-exa-test-data-patient-8-medadmin-1.json': (('VAL101', 'VAL107', 'VAL109'), 'VAL107 Darreichungsform (at0071): terminology "http://standardterms.edqm.eu" is not allowed here; expected htt'),
    'openFHIR-openfhir/KDS_Medikamentenverabreichungen/canonical_json/Composition-mii-exa-test-data-patient-8-medadmin-2.json': (('VAL101', 'VAL107', 'VAL109'), 'VAL107 Darreichungsform (at0071): terminology "http://standardterms.edqm.eu" is not allowed here; expected htt'),
    'openFHIR-openfhir/KDS_Medikamentenverabreichungen/canonical_json/Composition-mii-exa-test-data-patient-8-medadmin-3.json': (('VAL101', 'VAL107', 'VAL109'), 'VAL107 Darreichungsform (at0071): terminology "http://standardterms.edqm.eu" is not allowed here; expected htt'),
    'openFHIR-openfhir/KDS_Medikamentenverabreichungen/canonical_json/Composition-mii-exa-test-data-patient-9-medadmin-1.json': (('VAL101', 'VAL107', 'VAL109'), 'VAL107 Darreichungsform (at0071): terminology "http://standardterms.edqm.eu" is not allowed here; expected htt'),
    'openFHIR-openfhir/KDS_Medikamentenverabreichungen/canonical_json/Composition-mii-exa-test-data-patient-9-medadmin-2.json': (('VAL101', 'VAL107', 'VAL109'), 'VAL107 Darreichungsform (at0071): terminology "http://standardterms.edqm.eu" is not allowed here; expected htt'),
    'openFHIR-openfhir/KDS_Medikationseintrag/canonical_json/Composition-mii-exa-test-data-patient-1-medstatement-1.json': (('VAL006', 'VAL115'), 'VAL115 Periode (at0014): duration P1D: days is not allowed by the pattern PTHMS (+1 more)'),
    'openFHIR-openfhir/KDS_Medikationseintrag/canonical_json/Composition-mii-exa-test-data-patient-1-medstatement-2.json': ((), ''),
    'openFHIR-openfhir/KDS_Medikationseintrag/canonical_json/Composition-mii-exa-test-data-patient-1-medstatement-3.json': (('VAL006', 'VAL101'), 'VAL101 Verabreichungsrate (at0134): unit "mg/min" is not allowed; allowed: l/h, ml/h, ml/s, ml/min (+1 more)'),
    'openFHIR-openfhir/KDS_Medikationseintrag/canonical_json/Composition-mii-exa-test-data-patient-10-medstatement-1.json': ((), ''),
    'openFHIR-openfhir/KDS_Medikationseintrag/canonical_json/Composition-mii-exa-test-data-patient-10-medstatement-2.json': (('VAL115',), 'VAL115 Periode (at0014): duration P1D: days is not allowed by the pattern PTHMS'),
    'openFHIR-openfhir/KDS_Medikationseintrag/canonical_json/Composition-mii-exa-test-data-patient-2-medstatement-1.json': (('VAL115',), 'VAL115 Periode (at0014): duration P1D: days is not allowed by the pattern PTHMS'),
    'openFHIR-openfhir/KDS_Medikationseintrag/canonical_json/Composition-mii-exa-test-data-patient-2-medstatement-2.json': ((), ''),
    'openFHIR-openfhir/KDS_Medikationseintrag/canonical_json/Composition-mii-exa-test-data-patient-2-medstatement-3.json': ((), ''),
    'openFHIR-openfhir/KDS_Medikationseintrag/canonical_json/Composition-mii-exa-test-data-patient-2-medstatement-4.json': ((), ''),
    'openFHIR-openfhir/KDS_Medikationseintrag/canonical_json/Composition-mii-exa-test-data-patient-2-medstatement-5.json': ((), ''),
    'openFHIR-openfhir/KDS_Medikationseintrag/canonical_json/Composition-mii-exa-test-data-patient-3-medstatement-1.json': (('VAL006',), "VAL006 Beliebiges Ereignis (at0002): INTERVAL_EVENT must have 'width' (width); the reference model makes it ma"),
    'openFHIR-openfhir/KDS_Medikationseintrag/canonical_json/Composition-mii-exa-test-data-patient-3-medstatement-2.json': ((), ''),
    'openFHIR-openfhir/KDS_Medikationseintrag/canonical_json/Composition-mii-exa-test-data-patient-3-medstatement-3.json': ((), ''),
    'openFHIR-openfhir/KDS_Medikationseintrag/canonical_json/Composition-mii-exa-test-data-patient-3-medstatement-4.json': ((), ''),
    'openFHIR-openfhir/KDS_Medikationseintrag/canonical_json/Composition-mii-exa-test-data-patient-4-medstatement-1.json': ((), ''),
    'openFHIR-openfhir/KDS_Medikationseintrag/canonical_json/Composition-mii-exa-test-data-patient-4-medstatement-2.json': (('VAL115',), 'VAL115 Periode (at0014): duration P1D: days is not allowed by the pattern PTHMS'),
    'openFHIR-openfhir/KDS_Medikationseintrag/canonical_json/Composition-mii-exa-test-data-patient-5-medstatement-1.json': ((), ''),
    'openFHIR-openfhir/KDS_Medikationseintrag/canonical_json/Composition-mii-exa-test-data-patient-5-medstatement-2.json': (('VAL115',), 'VAL115 Periode (at0014): duration P1D: days is not allowed by the pattern PTHMS'),
    'openFHIR-openfhir/KDS_Medikationseintrag/canonical_json/Composition-mii-exa-test-data-patient-6-medstatement-1.json': (('VAL115',), 'VAL115 Periode (at0014): duration P1D: days is not allowed by the pattern PTHMS'),
    'openFHIR-openfhir/KDS_Medikationseintrag/canonical_json/Composition-mii-exa-test-data-patient-6-medstatement-2.json': (('VAL115',), 'VAL115 Periode (at0014): duration P1D: days is not allowed by the pattern PTHMS'),
    'openFHIR-openfhir/KDS_Medikationseintrag/canonical_json/Composition-mii-exa-test-data-patient-6-medstatement-3.json': (('VAL115',), 'VAL115 Periode (at0014): duration P1D: days is not allowed by the pattern PTHMS'),
    'openFHIR-openfhir/KDS_Medikationseintrag/canonical_json/Composition-mii-exa-test-data-patient-7-medstatement-1.json': (('VAL115',), 'VAL115 Periode (at0014): duration P1D: days is not allowed by the pattern PTHMS'),
    'openFHIR-openfhir/KDS_Medikationseintrag/canonical_json/Composition-mii-exa-test-data-patient-7-medstatement-2.json': ((), ''),
    'openFHIR-openfhir/KDS_Medikationseintrag/canonical_json/Composition-mii-exa-test-data-patient-8-medstatement-1.json': (('VAL115',), 'VAL115 Periode (at0014): duration P1D: days is not allowed by the pattern PTHMS'),
    'openFHIR-openfhir/KDS_Medikationseintrag/canonical_json/Composition-mii-exa-test-data-patient-8-medstatement-2.json': (('VAL115',), 'VAL115 Periode (at0014): duration P1D: days is not allowed by the pattern PTHMS'),
    'openFHIR-openfhir/KDS_Medikationseintrag/canonical_json/Composition-mii-exa-test-data-patient-8-medstatement-3.json': (('VAL115',), 'VAL115 Periode (at0014): duration P1D: days is not allowed by the pattern PTHMS'),
    'openFHIR-openfhir/KDS_Medikationseintrag/canonical_json/Composition-mii-exa-test-data-patient-9-medstatement-1.json': (('VAL115',), 'VAL115 Periode (at0014): duration P1D: days is not allowed by the pattern PTHMS'),
    'openFHIR-openfhir/KDS_Medikationseintrag/canonical_json/Composition-mii-exa-test-data-patient-9-medstatement-2.json': (('VAL115',), 'VAL115 Periode (at0014): duration P1D: days is not allowed by the pattern PTHMS'),
    'openFHIR-openfhir/KDS_Person/canonical_json/Composition-mii-exa-test-data-patient-1.json': (('VAL002', 'VAL006'), "VAL006 EVENT_CONTEXT: DV_DATE_TIME requires 'value', which is missing (+1 more)"),
    'openFHIR-openfhir/KDS_Person/canonical_json/Composition-mii-exa-test-data-patient-10.json': (('VAL002', 'VAL006'), "VAL006 EVENT_CONTEXT: DV_DATE_TIME requires 'value', which is missing (+1 more)"),
    'openFHIR-openfhir/KDS_Person/canonical_json/Composition-mii-exa-test-data-patient-11.json': ((), ''),
    'openFHIR-openfhir/KDS_Person/canonical_json/Composition-mii-exa-test-data-patient-2.json': (('VAL002',), 'VAL002 Person (openEHR-EHR-CLUSTER.person.v1) is missing; the template requires it'),
    'openFHIR-openfhir/KDS_Person/canonical_json/Composition-mii-exa-test-data-patient-3.json': (('VAL002', 'VAL006'), "VAL006 EVENT_CONTEXT: DV_DATE_TIME requires 'value', which is missing (+2 more)"),
    'openFHIR-openfhir/KDS_Person/canonical_json/Composition-mii-exa-test-data-patient-4.json': (('VAL002', 'VAL006'), "VAL006 EVENT_CONTEXT: DV_DATE_TIME requires 'value', which is missing (+1 more)"),
    'openFHIR-openfhir/KDS_Person/canonical_json/Composition-mii-exa-test-data-patient-5.json': (('VAL002', 'VAL006'), "VAL006 EVENT_CONTEXT: DV_DATE_TIME requires 'value', which is missing (+2 more)"),
    'openFHIR-openfhir/KDS_Person/canonical_json/Composition-mii-exa-test-data-patient-6.json': (('VAL002', 'VAL006'), "VAL006 EVENT_CONTEXT: DV_DATE_TIME requires 'value', which is missing (+1 more)"),
    'openFHIR-openfhir/KDS_Person/canonical_json/Composition-mii-exa-test-data-patient-7.json': (('VAL002', 'VAL006'), "VAL006 EVENT_CONTEXT: DV_DATE_TIME requires 'value', which is missing (+2 more)"),
    'openFHIR-openfhir/KDS_Person/canonical_json/Composition-mii-exa-test-data-patient-8.json': (('VAL002', 'VAL006'), "VAL006 EVENT_CONTEXT: DV_DATE_TIME requires 'value', which is missing (+1 more)"),
    'openFHIR-openfhir/KDS_Person/canonical_json/Composition-mii-exa-test-data-patient-9.json': (('VAL002', 'VAL006'), "VAL006 EVENT_CONTEXT: DV_DATE_TIME requires 'value', which is missing (+2 more)"),
    'openFHIR-openfhir/KDS_Vitalstatus/canonical_json/Composition-mii-exa-test-data-patient-1-vitalstatus-1.json': ((), ''),
    'openFHIR-openfhir/KDS_Vitalstatus/canonical_json/Composition-mii-exa-test-data-patient-10-vitalstatus-1.json': ((), ''),
    'openFHIR-openfhir/KDS_Vitalstatus/canonical_json/Composition-mii-exa-test-data-patient-2-vitalstatus-1.json': ((), ''),
    'openFHIR-openfhir/KDS_Vitalstatus/canonical_json/Composition-mii-exa-test-data-patient-5-vitalstatus-1.json': ((), ''),
    'openFHIR-openfhir/KDS_Vitalstatus/canonical_json/Composition-mii-exa-test-data-patient-6-vitalstatus-1.json': ((), ''),
    'openFHIR-openfhir/KDS_Vitalstatus/canonical_json/Composition-mii-exa-test-data-patient-7-vitalstatus-1.json': ((), ''),
    'openFHIR-openfhir/KDS_Vitalstatus/canonical_json/Composition-mii-exa-test-data-patient-8-vitalstatus-1.json': ((), ''),
    'openFHIR-openfhir/KDS_Vitalstatus/canonical_json/Composition-mii-exa-test-data-patient-9-vitalstatus-1.json': ((), ''),
    'openFHIR-openfhir/Studienteilnahme/canonical_json/Composition-mii-exa-test-data-patient-1-consent-1.json': (('VAL002',), 'VAL002 Status der Teilnahme (at0005) is missing; the template requires it (+2 more)'),
    'openFHIR-openfhir/Studienteilnahme/canonical_json/Composition-mii-exa-test-data-patient-10-consent-1.json': (('VAL002',), 'VAL002 Status der Teilnahme (at0005) is missing; the template requires it (+2 more)'),
    'openFHIR-openfhir/Studienteilnahme/canonical_json/Composition-mii-exa-test-data-patient-2-consent-1.json': (('VAL002',), 'VAL002 Status der Teilnahme (at0005) is missing; the template requires it (+2 more)'),
    'openFHIR-openfhir/Studienteilnahme/canonical_json/Composition-mii-exa-test-data-patient-3-consent-1.json': (('VAL002',), 'VAL002 Status der Teilnahme (at0005) is missing; the template requires it (+2 more)'),
    'openFHIR-openfhir/Studienteilnahme/canonical_json/Composition-mii-exa-test-data-patient-4-consent-1.json': (('VAL002',), 'VAL002 Status der Teilnahme (at0005) is missing; the template requires it (+2 more)'),
    'openFHIR-openfhir/Studienteilnahme/canonical_json/Composition-mii-exa-test-data-patient-5-consent-1.json': (('VAL002',), 'VAL002 Status der Teilnahme (at0005) is missing; the template requires it (+2 more)'),
    'openFHIR-openfhir/Studienteilnahme/canonical_json/Composition-mii-exa-test-data-patient-6-consent-1.json': (('VAL002',), 'VAL002 Status der Teilnahme (at0005) is missing; the template requires it (+2 more)'),
    'openFHIR-openfhir/Studienteilnahme/canonical_json/Composition-mii-exa-test-data-patient-7-consent-1.json': (('VAL002',), 'VAL002 Status der Teilnahme (at0005) is missing; the template requires it (+2 more)'),
    'openFHIR-openfhir/Studienteilnahme/canonical_json/Composition-mii-exa-test-data-patient-8-consent-1.json': (('VAL002',), 'VAL002 Status der Teilnahme (at0005) is missing; the template requires it (+2 more)'),
    'openFHIR-openfhir/Studienteilnahme/canonical_json/Composition-mii-exa-test-data-patient-9-consent-1.json': (('VAL002',), 'VAL002 Status der Teilnahme (at0005) is missing; the template requires it (+2 more)'),
    'openFHIR-openfhir/Studienteilnahme/canonical_json/Composition-studienteilnahme_bundle.json': (('VAL002',), 'VAL002 Status der Teilnahme (at0005) is missing; the template requires it (+2 more)'),
}

#: expected-valid rows we reject on purpose: the composition breaks its template by the specifications
ARGUED_VALID = {
    "ehrbase-integration-tests/minimal_instruction.en.v1/canonical_json/minimal_instruction_2.json":
        "EHRbase does not check C_DURATION patterns; ADL 1.4 'PTM' allows minutes only",
    "ehrbase-integration-tests/minimal_instruction.en.v1/canonical_json/minimal_instruction_3.json":
        "EHRbase does not check C_DURATION patterns; ADL 1.4 'PTM' allows minutes only",
    "ehrbase-integration-tests/minimal_instruction.en.v1/canonical_json/minimal_instruction_4.json":
        "EHRbase does not check C_DURATION patterns; ADL 1.4 'PTM' allows minutes only",
    "ehrbase-integration-tests/test_all_types.en.v1/canonical_json/all_types_systematic_tests.json":
        "DV_TEXT is not a DV_URI (the SDK's own copy of this composition has a DV_URI there); term text and "
        "partial-date pattern as for all_types_no_multimedia.json",
    "ehrbase-integration-tests/test_all_types.en.v1/canonical_json/all_types_systematic_tests_feeder_audit.json":
        "as all_types_systematic_tests.json",
    "ehrbase-openEHR_SDK/test_all_types.en.v1/canonical_json/all_types_no_multimedia.json":
        "the SDK validator compares neither DV_CODED_TEXT.value with the term text nor dates with C_DATE patterns; "
        "'value1' is not the text of at0006 and yyyy-??-XX forbids the day",
}

#: expected-valid rows once rejected by a checker bug, fixed since (each must stay clean): why it was rejected
FIXED_VALID = {
    "ehrbase-integration-tests/cistec.openehr.body_weight.v1/canonical_json/composition_feeder_audit_in_element.json":
        "VAL108: the English term text of at0028 in a German composition (a text may be in any language the "
        "archetype defines)",
    "ehrbase-openEHR_SDK/Minimal_action_2/canonical_json/minimal_action2_1.json":
        "VAL005: template existence on DV_PROPORTION.is_integral, a computed RM function, never serialised",
}


@pytest.fixture(scope="module")
def outcomes(shared: Path) -> list[RowOutcome]:
    return list(evaluate_all(shared))


def _rows(outcomes: list[RowOutcome], expected: str) -> list[RowOutcome]:
    return [o for o in outcomes if o.status == "checked" and o.row.expected == expected]


def test_corpus_rows_are_accounted_for(outcomes: list[RowOutcome]) -> None:
    by_status = Counter(o.status for o in outcomes)
    assert by_status["checked"] >= 270, by_status  # canonical rows whose OPT is present and loads
    assert by_status["flat"] >= 140, by_status  # FLAT/STRUCTURED: "not yet" (a later issue)
    checked = {o.row.key for o in outcomes if o.status == "checked"}
    assert set(VERDICTS) <= checked, sorted(set(VERDICTS) - checked)
    for o in outcomes:
        if o.result is not None:
            assert all(i.code != "VAL018" for i in o.result.issues), (o.row.key, o.result.issues)


@pytest.mark.parametrize("kind", ["valid"])
def test_expected_valid_rows_give_no_error(outcomes: list[RowOutcome], kind: str) -> None:
    rows = _rows(outcomes, kind)
    assert len(rows) >= 46
    wrong = {o.row.key: o.error_codes for o in rows
             if o.error_codes and o.row.key not in ARGUED_VALID}
    assert not wrong, wrong
    for key in ARGUED_VALID:
        o = next(o for o in rows if o.row.key == key)
        assert o.error_codes == VERDICTS[key][0], (key, o.error_codes)


def test_fixed_valid_rows_stay_clean(outcomes: list[RowOutcome]) -> None:
    rows = {o.row.key: o for o in _rows(outcomes, "valid")}
    assert {key: rows[key].error_codes for key in FIXED_VALID if rows[key].error_codes} == {}


def test_expected_invalid_rows_give_the_pinned_error(outcomes: list[RowOutcome]) -> None:
    rows = _rows(outcomes, "invalid")
    assert len(rows) == 8
    for o in rows:
        pinned, why = VERDICTS[o.row.key]
        if not pinned:
            assert why.startswith("ARGUED"), o.row.key
            continue
        assert o.error_codes, o.row.key
        assert set(pinned) <= set(o.error_codes), (o.row.key, o.error_codes, pinned)


def test_unknown_rows_verdicts_are_pinned(outcomes: list[RowOutcome]) -> None:
    rows = _rows(outcomes, "unknown")
    differ = {o.row.key: (o.error_codes, VERDICTS.get(o.row.key, (None,))[0]) for o in rows
              if VERDICTS.get(o.row.key, (None,))[0] != o.error_codes}
    assert not differ, differ
    accepted = sum(1 for o in rows if o.accepted)
    rejected = len(rows) - accepted
    # neither blanket acceptance nor blanket rejection
    assert 0 < accepted < len(rows) and 0 < rejected
    for o in rows:
        if not o.accepted:
            assert VERDICTS[o.row.key][1], f"rejection without a reason: {o.row.key}"


def test_structure_rejections_name_template_and_instance_paths(outcomes: list[RowOutcome]) -> None:
    for o in outcomes:
        if o.result is None:
            continue
        for i in o.result.issues:
            if i.code.startswith("VAL0") and i.code not in ("VAL016", "VAL018"):
                assert i.template_path and i.instance_path, (o.row.key, i)
                assert "RMObject(" not in i.message and "CComplexObject(" not in i.message, i.message
