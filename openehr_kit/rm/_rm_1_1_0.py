"""openEHR Reference Model 1.1.0 (with BASE 1.1.0 identification/resource types): our compact table.

Read only by :mod:`openehr_kit.rm.schema`, which parses it once on first use. The facts (class names, direct
parents, abstractness, attribute names, declared types, existence, containers) follow the RM 1.1.0 specification;
the ITS-JSON/XSD schemas were used to cross-check them (the oracle test compares against the JSON schema).

Layout of ``CLASSES``: ``name -> (kind, parents, own_attributes)``

* ``kind``: ``"A"`` abstract, ``"C"`` concrete.
* ``parents``: direct parents, leftmost first (RM 1.1.0 uses multiple inheritance only for DV_INTERVAL).
* ``own_attributes``: attributes declared or redefined by this class; inherited ones are added by the loader.

Attribute spec mini-language (one string per attribute)::

    [=]TYPE[<ARG, ...>][[*]|[+]][?]

* ``TYPE``: declared type; a container's item type for containers; ``T`` is the class's generic parameter.
* ``<...>``: generic arguments of a non-container type, e.g. ``DV_INTERVAL<DV_DATE_TIME>``.
* ``[*]``: container (List/Set/Hash/Array: the RM's container kinds are not distinguished here);
  ``[+]``: container that, when present, must not be empty (RM cardinality ``>=1``).
* ``?``: optional (existence 0..1); without it the attribute is mandatory (existence 1..1).
* leading ``=``: computed (a function in the RM, never serialised).

Where RM releases differ (1.0.2 .. 1.1.0) this table states 1.1.0; ``VERSION_NOTES`` lists the differences that
matter when reading older archetypes and data.
"""

from __future__ import annotations

RM_VERSION = "1.1.0"

# Generic parameters: class -> {parameter: conformance type}. Subclasses reuse the parameter name (EVENT<T> ->
# POINT_EVENT<T>), so an inherited ``T`` attribute binds to the subclass's parameter.
GENERIC_PARAMETERS: dict[str, dict[str, str]] = {
    "Interval": {"T": "Ordered"},
    "DV_INTERVAL": {"T": "DV_ORDERED"},
    "REFERENCE_RANGE": {"T": "DV_ORDERED"},
    "HISTORY": {"T": "ITEM_STRUCTURE"},
    "EVENT": {"T": "ITEM_STRUCTURE"},
    "POINT_EVENT": {"T": "ITEM_STRUCTURE"},
    "INTERVAL_EVENT": {"T": "ITEM_STRUCTURE"},
    "VERSION": {"T": "Any"},
    "ORIGINAL_VERSION": {"T": "Any"},
    "IMPORTED_VERSION": {"T": "Any"},
    "VERSIONED_OBJECT": {"T": "Any"},
    "X_VERSIONED_OBJECT": {"T": "LOCATABLE"},
    "List": {"T": "Any"},
    "Set": {"T": "Any"},
    "Array": {"T": "Any"},
    "Hash": {"K": "Any", "V": "Any"},
}

# Foundation ("assumed") types: name -> (kind, parents). They have no RM attributes; archetypes constrain them
# with C_PRIMITIVE objects. Look-ups are case-insensitive, so the ITS spellings (DATE_TIME, ISO8601_DATE, URI)
# resolve to these names too.
PRIMITIVES: dict[str, tuple[str, tuple[str, ...]]] = {
    "Any": ("A", ()),
    "Ordered": ("A", ("Any",)),
    "Boolean": ("C", ("Any",)),
    "Character": ("C", ("Ordered",)),
    "Octet": ("C", ("Ordered",)),
    "Integer": ("C", ("Ordered",)),
    "Integer64": ("C", ("Ordered",)),
    "Real": ("C", ("Ordered",)),
    "Double": ("C", ("Ordered",)),
    "String": ("C", ("Ordered",)),
    "Uri": ("C", ("String",)),
    "Temporal": ("A", ("Ordered",)),
    "Date": ("C", ("Temporal",)),
    "Time": ("C", ("Temporal",)),
    "Date_time": ("C", ("Temporal",)),
    "Duration": ("C", ("Temporal",)),
    "Iso8601_type": ("A", ("Temporal",)),
    "Iso8601_date": ("C", ("Date", "Iso8601_type")),
    "Iso8601_time": ("C", ("Time", "Iso8601_type")),
    "Iso8601_date_time": ("C", ("Date_time", "Iso8601_type")),
    "Iso8601_duration": ("C", ("Duration", "Iso8601_type")),
    "Container": ("A", ("Any",)),
    "List": ("C", ("Container",)),
    "Set": ("C", ("Container",)),
    "Array": ("C", ("Container",)),
    "Hash": ("C", ("Container",)),
    # enumerations: serialised as their base value
    "PROPORTION_KIND": ("C", ("Integer",)),
    "VALIDITY_KIND": ("C", ("String",)),
    "VERSION_STATUS": ("C", ("String",)),
}

_LOC = ("LOCATABLE",)

CLASSES: dict[str, tuple[str, tuple[str, ...], dict[str, str]]] = {
    # ---------------------------------------------------------------- BASE foundation: Interval<T>
    "Interval": ("C", ("Any",), {
        "lower": "T?",
        "upper": "T?",
        "lower_unbounded": "Boolean",
        "upper_unbounded": "Boolean",
        "lower_included": "Boolean",
        "upper_included": "Boolean",
    }),
    # ---------------------------------------------------------------- BASE identification
    "OBJECT_ID": ("A", ("Any",), {"value": "String"}),
    "UID_BASED_ID": ("A", ("OBJECT_ID",), {}),
    "HIER_OBJECT_ID": ("C", ("UID_BASED_ID",), {}),
    "OBJECT_VERSION_ID": ("C", ("UID_BASED_ID",), {}),
    "ARCHETYPE_ID": ("C", ("OBJECT_ID",), {}),
    "TEMPLATE_ID": ("C", ("OBJECT_ID",), {}),
    "TERMINOLOGY_ID": ("C", ("OBJECT_ID",), {}),
    "GENERIC_ID": ("C", ("OBJECT_ID",), {"scheme": "String"}),
    "VERSION_TREE_ID": ("C", ("Any",), {"value": "String"}),
    "UID": ("A", ("Any",), {"value": "String"}),
    "UUID": ("C", ("UID",), {}),
    "ISO_OID": ("C", ("UID",), {}),
    "INTERNET_ID": ("C", ("UID",), {}),
    # namespace: 1..1 in the spec text, the JSON and XML schemas (one BMM file leaves it optional)
    "OBJECT_REF": ("C", ("Any",), {"id": "OBJECT_ID", "namespace": "String", "type": "String"}),
    "PARTY_REF": ("C", ("OBJECT_REF",), {}),
    "ACCESS_GROUP_REF": ("C", ("OBJECT_REF",), {}),
    "LOCATABLE_REF": ("C", ("OBJECT_REF",), {"id": "UID_BASED_ID", "path": "String?"}),
    "ARCHETYPE_HRID": ("C", ("Any",), {
        "namespace": "String",
        "rm_publisher": "String",
        "rm_package": "String",
        "rm_class": "String",
        "concept_id": "String",
        "release_version": "String",
        "version_status": "VERSION_STATUS",
        "build_count": "String",
    }),
    "TERMINOLOGY_CODE": ("C", ("Any",), {
        "terminology_id": "String",
        "terminology_version": "String?",
        "code_string": "String",
        "uri": "Uri",
    }),
    "TERMINOLOGY_TERM": ("C", ("Any",), {"text": "String", "concept": "TERMINOLOGY_CODE"}),
    # ---------------------------------------------------------------- BASE resource (AOM 1.4 descriptions)
    # AUTHORED_RESOURCE is only the declared type of RESOURCE_DESCRIPTION.parent_resource here; its own
    # attributes belong to the archetype model and are not listed.
    "AUTHORED_RESOURCE": ("A", ("Any",), {}),
    "RESOURCE_DESCRIPTION": ("C", ("Any",), {
        "original_author": "String[*]",
        "other_contributors": "String[*]?",
        "lifecycle_state": "String",
        "resource_package_uri": "String?",
        "other_details": "String[*]?",
        "parent_resource": "AUTHORED_RESOURCE",
        "details": "RESOURCE_DESCRIPTION_ITEM[+]",
    }),
    "RESOURCE_DESCRIPTION_ITEM": ("C", ("Any",), {
        "language": "TERMINOLOGY_CODE",
        "purpose": "String",
        "keywords": "String[*]?",
        "use": "String?",
        "misuse": "String?",
        "copyright": "String?",
        "original_resource_uri": "Uri[*]?",
        "other_details": "String[*]",
    }),
    "TRANSLATION_DETAILS": ("C", ("Any",), {
        "language": "TERMINOLOGY_CODE",
        "author": "String[*]",
        "accreditation": "String?",
        "other_details": "String[*]?",
    }),
    # ---------------------------------------------------------------- data_types.basic
    "DATA_VALUE": ("A", ("Any",), {}),
    "DV_BOOLEAN": ("C", ("DATA_VALUE",), {"value": "Boolean"}),
    "DV_STATE": ("C", ("DATA_VALUE",), {"value": "DV_CODED_TEXT", "is_terminal": "Boolean"}),
    "DV_IDENTIFIER": ("C", ("DATA_VALUE",), {
        "issuer": "String?",
        "assigner": "String?",
        "id": "String",
        "type": "String?",
    }),
    # ---------------------------------------------------------------- data_types.text
    "DV_TEXT": ("C", ("DATA_VALUE",), {
        "value": "String",
        "hyperlink": "DV_URI?",
        "formatting": "String?",
        "mappings": "TERM_MAPPING[+]?",
        "language": "CODE_PHRASE?",
        "encoding": "CODE_PHRASE?",
    }),
    "DV_CODED_TEXT": ("C", ("DV_TEXT",), {"defining_code": "CODE_PHRASE"}),
    "TERM_MAPPING": ("C", ("Any",), {"match": "Character", "purpose": "DV_CODED_TEXT?", "target": "CODE_PHRASE"}),
    "CODE_PHRASE": ("C", ("Any",), {
        "terminology_id": "TERMINOLOGY_ID",
        "code_string": "String",
        "preferred_term": "String?",
    }),
    "DV_PARAGRAPH": ("C", ("DATA_VALUE",), {"items": "DV_TEXT[+]"}),
    # ---------------------------------------------------------------- data_types.quantity
    "DV_ORDERED": ("A", ("DATA_VALUE",), {
        "normal_status": "CODE_PHRASE?",
        "normal_range": "DV_INTERVAL<DV_ORDERED>?",
        "other_reference_ranges": "REFERENCE_RANGE[+]?",
    }),
    "DV_INTERVAL": ("C", ("DATA_VALUE", "Interval"), {}),
    "REFERENCE_RANGE": ("C", ("Any",), {"meaning": "DV_TEXT", "range": "DV_INTERVAL<T>"}),
    "DV_QUANTIFIED": ("A", ("DV_ORDERED",), {"magnitude_status": "String?", "accuracy": "Any?"}),
    "DV_AMOUNT": ("A", ("DV_QUANTIFIED",), {"accuracy": "Real?", "accuracy_is_percent": "Boolean?"}),
    "DV_ABSOLUTE_QUANTITY": ("A", ("DV_QUANTIFIED",), {"accuracy": "DV_AMOUNT?"}),
    "DV_QUANTITY": ("C", ("DV_AMOUNT",), {
        "magnitude": "Real",
        "property": "CODE_PHRASE?",
        "units": "String",
        "units_system": "String?",
        "units_display_name": "String?",
        "precision": "Integer?",
        "normal_range": "DV_INTERVAL<DV_QUANTITY>?",
    }),
    "DV_COUNT": ("C", ("DV_AMOUNT",), {
        "magnitude": "Integer64",
        "normal_range": "DV_INTERVAL<DV_COUNT>?",
    }),
    "DV_PROPORTION": ("C", ("DV_AMOUNT",), {
        "numerator": "Real",
        "denominator": "Real",
        "type": "PROPORTION_KIND",
        "precision": "Integer?",
        "is_integral": "=Boolean?",
        "normal_range": "DV_INTERVAL<DV_PROPORTION>?",
    }),
    "DV_ORDINAL": ("C", ("DV_ORDERED",), {"value": "Integer", "symbol": "DV_CODED_TEXT"}),
    "DV_SCALE": ("C", ("DV_ORDERED",), {"value": "Real", "symbol": "DV_CODED_TEXT"}),
    # ---------------------------------------------------------------- data_types.quantity.date_time
    # The spec also mixes the Iso8601_* foundation types into DV_DATE etc.; we keep RM-only parents so that a
    # DV_DATE never passes for a primitive Date in conformance checks.
    "DV_TEMPORAL": ("A", ("DV_ABSOLUTE_QUANTITY",), {"accuracy": "DV_DURATION?"}),
    "DV_DATE": ("C", ("DV_TEMPORAL",), {"value": "String"}),
    "DV_TIME": ("C", ("DV_TEMPORAL",), {"value": "String"}),
    "DV_DATE_TIME": ("C", ("DV_TEMPORAL",), {"value": "String"}),
    "DV_DURATION": ("C", ("DV_AMOUNT",), {"value": "String"}),
    # ---------------------------------------------------------------- data_types.encapsulated
    "DV_ENCAPSULATED": ("A", ("DATA_VALUE",), {"charset": "CODE_PHRASE?", "language": "CODE_PHRASE?"}),
    "DV_MULTIMEDIA": ("C", ("DV_ENCAPSULATED",), {
        "alternate_text": "String?",
        "uri": "DV_URI?",
        "data": "Octet[*]?",  # Array<Octet>; the ITS serialise it as one base64 string
        "media_type": "CODE_PHRASE",
        "compression_algorithm": "CODE_PHRASE?",
        "integrity_check": "Octet[*]?",
        "integrity_check_algorithm": "CODE_PHRASE?",
        "thumbnail": "DV_MULTIMEDIA?",
        "size": "Integer",
    }),
    # DV_PARSABLE.size is a function in 1.1.0 (the 1.1.0 XSD still accepts a legacy <size> element)
    "DV_PARSABLE": ("C", ("DV_ENCAPSULATED",), {"value": "String", "formalism": "String"}),
    # ---------------------------------------------------------------- data_types.uri
    # value is 1..1 in the RM (BMM and spec); the JSON and XML schemas leave it optional
    "DV_URI": ("C", ("DATA_VALUE",), {"value": "String"}),
    "DV_EHR_URI": ("C", ("DV_URI",), {}),
    # ---------------------------------------------------------------- data_types.time_specification
    "DV_TIME_SPECIFICATION": ("A", ("DATA_VALUE",), {"value": "DV_PARSABLE"}),
    "DV_PERIODIC_TIME_SPECIFICATION": ("C", ("DV_TIME_SPECIFICATION",), {}),
    "DV_GENERAL_TIME_SPECIFICATION": ("C", ("DV_TIME_SPECIFICATION",), {}),
    # ---------------------------------------------------------------- common.archetyped
    "PATHABLE": ("A", ("Any",), {}),
    "LOCATABLE": ("A", ("PATHABLE",), {
        "uid": "UID_BASED_ID?",
        "archetype_node_id": "String",
        "name": "DV_TEXT",
        "archetype_details": "ARCHETYPED?",
        "feeder_audit": "FEEDER_AUDIT?",
        "links": "LINK[+]?",
    }),
    "ARCHETYPED": ("C", ("Any",), {
        "archetype_id": "ARCHETYPE_ID",
        "template_id": "TEMPLATE_ID?",
        "rm_version": "String",
    }),
    "LINK": ("C", ("Any",), {"meaning": "DV_TEXT", "type": "DV_TEXT", "target": "DV_EHR_URI"}),
    "FEEDER_AUDIT": ("C", ("Any",), {
        "originating_system_item_ids": "DV_IDENTIFIER[*]?",
        "feeder_system_item_ids": "DV_IDENTIFIER[*]?",
        "original_content": "DV_ENCAPSULATED?",
        "originating_system_audit": "FEEDER_AUDIT_DETAILS",
        "feeder_system_audit": "FEEDER_AUDIT_DETAILS?",
    }),
    "FEEDER_AUDIT_DETAILS": ("C", ("Any",), {
        "system_id": "String",
        "location": "PARTY_IDENTIFIED?",
        "provider": "PARTY_IDENTIFIED?",
        "subject": "PARTY_PROXY?",
        "time": "DV_DATE_TIME?",
        "version_id": "String?",
        "other_details": "ITEM_STRUCTURE?",
    }),
    # ---------------------------------------------------------------- common.generic
    "PARTY_PROXY": ("A", ("Any",), {"external_ref": "PARTY_REF?"}),
    "PARTY_SELF": ("C", ("PARTY_PROXY",), {}),
    "PARTY_IDENTIFIED": ("C", ("PARTY_PROXY",), {"name": "String?", "identifiers": "DV_IDENTIFIER[+]?"}),
    "PARTY_RELATED": ("C", ("PARTY_IDENTIFIED",), {"relationship": "DV_CODED_TEXT"}),
    "PARTICIPATION": ("C", ("Any",), {
        "function": "DV_TEXT",
        "time": "DV_INTERVAL<DV_DATE_TIME>?",
        "mode": "DV_CODED_TEXT?",
        "performer": "PARTY_PROXY",
    }),
    "AUDIT_DETAILS": ("C", ("Any",), {
        "system_id": "String",
        "time_committed": "DV_DATE_TIME",
        "change_type": "DV_CODED_TEXT",
        "description": "DV_TEXT?",
        "committer": "PARTY_PROXY",
    }),
    "ATTESTATION": ("C", ("AUDIT_DETAILS",), {
        "attested_view": "DV_MULTIMEDIA?",
        "proof": "String?",
        "items": "DV_EHR_URI[*]?",
        "reason": "DV_TEXT",
        "is_pending": "Boolean",
    }),
    "REVISION_HISTORY": ("C", ("Any",), {"items": "REVISION_HISTORY_ITEM[*]"}),
    "REVISION_HISTORY_ITEM": ("C", ("Any",), {"version_id": "OBJECT_VERSION_ID", "audits": "AUDIT_DETAILS[+]"}),
    # ---------------------------------------------------------------- common.change_control
    "CONTRIBUTION": ("C", ("Any",), {"uid": "HIER_OBJECT_ID", "versions": "OBJECT_REF[*]", "audit": "AUDIT_DETAILS"}),
    "VERSIONED_OBJECT": ("C", ("Any",), {
        "uid": "HIER_OBJECT_ID",
        "owner_id": "OBJECT_REF",
        "time_created": "DV_DATE_TIME",
    }),
    "VERSIONED_COMPOSITION": ("C", ("VERSIONED_OBJECT",), {}),
    "VERSIONED_EHR_STATUS": ("C", ("VERSIONED_OBJECT",), {}),
    "VERSIONED_EHR_ACCESS": ("C", ("VERSIONED_OBJECT",), {}),
    "VERSIONED_FOLDER": ("C", ("VERSIONED_OBJECT",), {}),
    "VERSIONED_PARTY": ("C", ("VERSIONED_OBJECT",), {}),
    "VERSION": ("A", ("Any",), {
        "contribution": "OBJECT_REF",
        "commit_audit": "AUDIT_DETAILS",
        "signature": "String?",
    }),
    "ORIGINAL_VERSION": ("C", ("VERSION",), {
        "uid": "OBJECT_VERSION_ID",
        "preceding_version_uid": "OBJECT_VERSION_ID?",
        "other_input_version_uids": "OBJECT_VERSION_ID[+]?",
        "attestations": "ATTESTATION[+]?",
        "lifecycle_state": "DV_CODED_TEXT",
        "data": "T?",
    }),
    "IMPORTED_VERSION": ("C", ("VERSION",), {"item": "ORIGINAL_VERSION<T>"}),
    # ---------------------------------------------------------------- common.directory / tags
    "FOLDER": ("C", _LOC, {"folders": "FOLDER[+]?", "items": "OBJECT_REF[*]?", "details": "ITEM_STRUCTURE?"}),
    "ITEM_TAG": ("C", ("Any",), {
        "target": "UID_BASED_ID",
        "target_path": "String?",
        "key": "String",
        "value": "String?",
        "owner_id": "OBJECT_REF",
    }),
    # ---------------------------------------------------------------- data_structures
    "DATA_STRUCTURE": ("A", _LOC, {}),
    "ITEM_STRUCTURE": ("A", ("DATA_STRUCTURE",), {}),
    "ITEM_SINGLE": ("C", ("ITEM_STRUCTURE",), {"item": "ELEMENT"}),
    "ITEM_LIST": ("C", ("ITEM_STRUCTURE",), {"items": "ELEMENT[*]?"}),
    "ITEM_TABLE": ("C", ("ITEM_STRUCTURE",), {"rows": "CLUSTER[*]?"}),
    "ITEM_TREE": ("C", ("ITEM_STRUCTURE",), {"items": "ITEM[*]?"}),
    "ITEM": ("A", _LOC, {}),
    "CLUSTER": ("C", ("ITEM",), {"items": "ITEM[+]"}),
    # value and null_flavour are each 0..1; the RM invariant is that exactly one of them is present
    "ELEMENT": ("C", ("ITEM",), {
        "null_flavour": "DV_CODED_TEXT?",
        "value": "DATA_VALUE?",
        "null_reason": "DV_TEXT?",
    }),
    "HISTORY": ("C", ("DATA_STRUCTURE",), {
        "origin": "DV_DATE_TIME",
        "period": "DV_DURATION?",
        "duration": "DV_DURATION?",
        "summary": "ITEM_STRUCTURE?",
        "events": "EVENT[+]?",
    }),
    "EVENT": ("A", _LOC, {
        "time": "DV_DATE_TIME",
        "state": "ITEM_STRUCTURE?",
        "data": "T",
        "offset": "=DV_DURATION?",
    }),
    "POINT_EVENT": ("C", ("EVENT",), {}),
    "INTERVAL_EVENT": ("C", ("EVENT",), {
        "width": "DV_DURATION",
        "sample_count": "Integer?",
        "math_function": "DV_CODED_TEXT",
    }),
    # ---------------------------------------------------------------- ehr
    "EHR": ("C", ("Any",), {
        "system_id": "HIER_OBJECT_ID",
        "ehr_id": "HIER_OBJECT_ID",
        "time_created": "DV_DATE_TIME",
        "ehr_access": "OBJECT_REF",
        "ehr_status": "OBJECT_REF",
        "directory": "OBJECT_REF?",
        "folders": "OBJECT_REF[*]?",
        "compositions": "OBJECT_REF[*]?",
        "contributions": "OBJECT_REF[*]",
        "most_recent_composition": "=COMPOSITION?",
    }),
    "EHR_ACCESS": ("C", _LOC, {"settings": "ACCESS_CONTROL_SETTINGS?"}),
    "ACCESS_CONTROL_SETTINGS": ("A", ("Any",), {}),
    "EHR_STATUS": ("C", _LOC, {
        "subject": "PARTY_SELF",
        "is_queryable": "Boolean",
        "is_modifiable": "Boolean",
        "other_details": "ITEM_STRUCTURE?",
    }),
    # ---------------------------------------------------------------- composition
    "COMPOSITION": ("C", _LOC, {
        "language": "CODE_PHRASE",
        "territory": "CODE_PHRASE",
        "category": "DV_CODED_TEXT",
        "composer": "PARTY_PROXY",
        "context": "EVENT_CONTEXT?",
        "content": "CONTENT_ITEM[+]?",
    }),
    "EVENT_CONTEXT": ("C", ("PATHABLE",), {
        "health_care_facility": "PARTY_IDENTIFIED?",
        "start_time": "DV_DATE_TIME",
        "end_time": "DV_DATE_TIME?",
        "participations": "PARTICIPATION[+]?",
        "location": "String?",
        "setting": "DV_CODED_TEXT",
        "other_context": "ITEM_STRUCTURE?",
    }),
    "CONTENT_ITEM": ("A", _LOC, {}),
    "SECTION": ("C", ("CONTENT_ITEM",), {"items": "CONTENT_ITEM[+]?"}),
    "ENTRY": ("A", ("CONTENT_ITEM",), {
        "language": "CODE_PHRASE",
        "encoding": "CODE_PHRASE",
        "subject": "PARTY_PROXY",
        "provider": "PARTY_PROXY?",
        "other_participations": "PARTICIPATION[*]?",
        "workflow_id": "OBJECT_REF?",
    }),
    "ADMIN_ENTRY": ("C", ("ENTRY",), {"data": "ITEM_STRUCTURE"}),
    "CARE_ENTRY": ("A", ("ENTRY",), {"protocol": "ITEM_STRUCTURE?", "guideline_id": "OBJECT_REF?"}),
    "OBSERVATION": ("C", ("CARE_ENTRY",), {
        "data": "HISTORY<ITEM_STRUCTURE>",
        "state": "HISTORY<ITEM_STRUCTURE>?",
    }),
    "EVALUATION": ("C", ("CARE_ENTRY",), {"data": "ITEM_STRUCTURE"}),
    "INSTRUCTION": ("C", ("CARE_ENTRY",), {
        "narrative": "DV_TEXT",
        "expiry_time": "DV_DATE_TIME?",
        "wf_definition": "DV_PARSABLE?",
        "activities": "ACTIVITY[+]?",
    }),
    # action_archetype_id is 1..1 in the RM (BMM, spec, XSD); the JSON schema leaves it optional
    "ACTIVITY": ("C", _LOC, {
        "description": "ITEM_STRUCTURE",
        "timing": "DV_PARSABLE?",
        "action_archetype_id": "String",
    }),
    "ACTION": ("C", ("CARE_ENTRY",), {
        "time": "DV_DATE_TIME",
        "description": "ITEM_STRUCTURE",
        "ism_transition": "ISM_TRANSITION",
        "instruction_details": "INSTRUCTION_DETAILS?",
    }),
    "INSTRUCTION_DETAILS": ("C", ("PATHABLE",), {
        "instruction_id": "LOCATABLE_REF",
        "activity_id": "String",
        "wf_details": "ITEM_STRUCTURE?",
    }),
    "ISM_TRANSITION": ("C", ("PATHABLE",), {
        "current_state": "DV_CODED_TEXT",
        "transition": "DV_CODED_TEXT?",
        "careflow_step": "DV_CODED_TEXT?",
        "reason": "DV_TEXT[*]?",
    }),
    "GENERIC_ENTRY": ("C", ("CONTENT_ITEM",), {"data": "ITEM_TREE"}),
    # ---------------------------------------------------------------- demographic
    "PARTY": ("A", _LOC, {
        "uid": "UID_BASED_ID",  # redefined: 1..1 for parties
        "details": "ITEM_STRUCTURE?",
        "identities": "PARTY_IDENTITY[+]",
        "contacts": "CONTACT[+]?",
        "relationships": "PARTY_RELATIONSHIP[+]?",
        "reverse_relationships": "LOCATABLE_REF[+]?",
        "type": "=DV_TEXT?",
    }),
    "ACTOR": ("A", ("PARTY",), {"roles": "PARTY_REF[+]?", "languages": "DV_TEXT[+]?"}),
    "PERSON": ("C", ("ACTOR",), {}),
    "ORGANISATION": ("C", ("ACTOR",), {}),
    "GROUP": ("C", ("ACTOR",), {}),
    "AGENT": ("C", ("ACTOR",), {}),
    "ROLE": ("C", ("PARTY",), {
        "performer": "PARTY_REF",
        "capabilities": "CAPABILITY[+]?",
        "time_validity": "DV_INTERVAL<DV_DATE>?",
    }),
    "PARTY_IDENTITY": ("C", _LOC, {"details": "ITEM_STRUCTURE", "purpose": "=DV_TEXT?"}),
    "CONTACT": ("C", _LOC, {
        "time_validity": "DV_INTERVAL<DV_DATE>?",
        "addresses": "ADDRESS[+]?",
        "purpose": "=DV_TEXT?",
    }),
    "ADDRESS": ("C", _LOC, {"details": "ITEM_STRUCTURE", "type": "=DV_TEXT?"}),
    "CAPABILITY": ("C", _LOC, {"credentials": "ITEM_STRUCTURE", "time_validity": "DV_INTERVAL<DV_DATE>?"}),
    "PARTY_RELATIONSHIP": ("C", _LOC, {
        "source": "PARTY_REF",
        "target": "PARTY_REF",
        "details": "ITEM_STRUCTURE?",
        "time_validity": "DV_INTERVAL<DV_DATE>?",
    }),
    # ---------------------------------------------------------------- ehr_extract
    "EXTRACT": ("C", _LOC, {
        "request_id": "HIER_OBJECT_ID?",
        "time_created": "DV_DATE_TIME",
        "system_id": "HIER_OBJECT_ID",
        "sequence_nr": "Integer",
        "specification": "EXTRACT_SPEC?",
        "chapters": "EXTRACT_CHAPTER[*]?",
        "participations": "EXTRACT_PARTICIPATION[*]?",
    }),
    "EXTRACT_SPEC": ("C", ("Any",), {
        "extract_type": "DV_CODED_TEXT",
        "include_multimedia": "Boolean",
        "priority": "Integer",
        "link_depth": "Integer",
        "criteria": "DV_PARSABLE[*]?",
        "manifest": "EXTRACT_MANIFEST",
        "version_spec": "EXTRACT_VERSION_SPEC?",
        "other_details": "ITEM_STRUCTURE?",
    }),
    "EXTRACT_MANIFEST": ("C", ("Any",), {"entities": "EXTRACT_ENTITY_MANIFEST[+]?"}),
    "EXTRACT_ENTITY_MANIFEST": ("C", ("Any",), {
        "extract_id_key": "String",
        "ehr_id": "String?",
        "subject_id": "String?",
        "other_ids": "String[*]?",
        "item_list": "OBJECT_REF[*]?",
    }),
    "EXTRACT_VERSION_SPEC": ("C", ("Any",), {
        "include_all_versions": "Boolean",
        "commit_time_interval": "DV_INTERVAL<DV_DATE_TIME>?",
        "include_revision_history": "Boolean",
        "include_data": "Boolean",
    }),
    "EXTRACT_CHAPTER": ("C", _LOC, {"items": "EXTRACT_ITEM[*]?"}),
    "EXTRACT_ENTITY_CHAPTER": ("C", ("EXTRACT_CHAPTER",), {"extract_id_key": "String"}),
    "EXTRACT_ITEM": ("A", _LOC, {}),
    "EXTRACT_FOLDER": ("C", ("EXTRACT_ITEM",), {"items": "EXTRACT_ITEM[*]?"}),
    "EXTRACT_CONTENT_ITEM": ("A", ("EXTRACT_ITEM",), {
        "is_primary": "Boolean",
        "is_changed": "Boolean?",
        "is_masked": "Boolean?",
        "item": "Any?",
    }),
    "EXTRACT_REQUEST": ("C", _LOC, {
        "uid": "HIER_OBJECT_ID",
        "extract_spec": "EXTRACT_SPEC",
        "update_spec": "EXTRACT_UPDATE_SPEC?",
    }),
    "EXTRACT_UPDATE_SPEC": ("C", ("Any",), {
        "persist_in_server": "Boolean",
        "trigger_events": "DV_CODED_TEXT[+]?",
        "repeat_period": "DV_DURATION?",
        "update_method": "CODE_PHRASE",
    }),
    "EXTRACT_ACTION_REQUEST": ("C", _LOC, {
        "request_id": "OBJECT_REF",
        "uid": "HIER_OBJECT_ID",
        "action": "DV_CODED_TEXT",
    }),
    "EXTRACT_PARTICIPATION": ("C", ("Any",), {
        "performer": "String",
        "function": "DV_TEXT",
        "mode": "DV_CODED_TEXT?",
        "time": "DV_INTERVAL<DV_DATE_TIME>?",
    }),
    "GENERIC_CONTENT_ITEM": ("C", ("EXTRACT_CONTENT_ITEM",), {
        "item_type": "DV_CODED_TEXT?",
        "item_type_version": "String?",
        "author": "String?",
        "creation_time": "Iso8601_date_time?",
        "authoriser": "String?",
        "authorisation_time": "Iso8601_date_time?",
        "item_status": "DV_CODED_TEXT?",
        "version_id": "String?",
        "version_set_id": "String?",
        "system_id": "String?",
        "other_details": "String[*]?",
        "item": "LOCATABLE?",
    }),
    "OPENEHR_CONTENT_ITEM": ("C", ("EXTRACT_CONTENT_ITEM",), {"item": "X_VERSIONED_OBJECT<LOCATABLE>?"}),
    "X_VERSIONED_OBJECT": ("C", ("Any",), {
        "uid": "HIER_OBJECT_ID",
        "owner_id": "OBJECT_REF",
        "time_created": "DV_DATE_TIME",
        "total_version_count": "Integer",
        "extract_version_count": "Integer",
        "revision_history": "REVISION_HISTORY?",
        "versions": "ORIGINAL_VERSION[*]?",
    }),
    "X_VERSIONED_EHR_ACCESS": ("C", ("X_VERSIONED_OBJECT",), {}),
    "X_VERSIONED_EHR_STATUS": ("C", ("X_VERSIONED_OBJECT",), {}),
    "X_VERSIONED_COMPOSITION": ("C", ("X_VERSIONED_OBJECT",), {}),
    "X_VERSIONED_FOLDER": ("C", ("X_VERSIONED_OBJECT",), {}),
    "X_VERSIONED_PARTY": ("C", ("X_VERSIONED_OBJECT",), {}),
    "SYNC_EXTRACT_REQUEST": ("C", ("MESSAGE_CONTENT",), {"specification": "SYNC_EXTRACT_SPEC"}),
    "SYNC_EXTRACT": ("C", ("MESSAGE_CONTENT",), {
        "specification": "SYNC_EXTRACT_SPEC",
        "items": "X_CONTRIBUTION[*]?",
    }),
    "SYNC_EXTRACT_SPEC": ("C", ("Any",), {
        "includes_versions": "Boolean",
        "contribution_list": "HIER_OBJECT_ID[*]?",
        "contributions_since": "DV_DATE_TIME?",
        "all_contributions": "Boolean?",
    }),
    "X_CONTRIBUTION": ("C", ("Any",), {
        "uid": "HIER_OBJECT_ID",
        "audit": "AUDIT_DETAILS",
        "versions": "VERSION[*]?",
    }),
    "ADDRESSED_MESSAGE": ("C", ("Any",), {
        "sender": "String",
        "sender_reference": "String",
        "addressees": "String[*]?",
        "urgency": "Integer?",
        "message": "MESSAGE?",
    }),
    "MESSAGE": ("C", ("Any",), {
        "author": "PARTY_PROXY",
        "audit": "AUDIT_DETAILS",
        "content": "MESSAGE_CONTENT",
        "signature": "String?",
    }),
    "MESSAGE_CONTENT": ("A", _LOC, {}),
}

# Differences between RM releases that matter when reading 1.0.2-era archetypes, templates and data.
VERSION_NOTES: tuple[str, ...] = (
    "1.1.0 added DV_SCALE, ITEM_TAG, ELEMENT.null_reason, ISM_TRANSITION.reason, EHR.folders, FOLDER.details, "
    "FEEDER_AUDIT_DETAILS.other_details, CODE_PHRASE.preferred_term, DV_QUANTITY.units_system and "
    "DV_QUANTITY.units_display_name",
    "1.0.2 PARTICIPATION.mode was mandatory; optional since 1.0.3",
    "1.0.2 ACTIVITY.timing was mandatory; optional since 1.0.4",
    "1.0.2 DV_IDENTIFIER.issuer, assigner and type were mandatory; optional since 1.0.3",
    "1.0.2 DV_PARSABLE.size and DV_ENCAPSULATED.size were attributes; in 1.1.0 size is a DV_PARSABLE function "
    "and a mandatory DV_MULTIMEDIA attribute",
    "1.0.2 DV_COUNT.magnitude was Integer; Integer64 in 1.1.0",
    "DV_QUANTITY.property is mandatory in the 1.0.3 JSON schema, optional from 1.0.4 on",
    "1.0.2 XSD put HISTORY and ITEM_STRUCTURE directly under LOCATABLE; the RM has DATA_STRUCTURE between",
)
