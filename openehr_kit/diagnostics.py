"""Every issue code openehr-kit reports, registered in one place, and the issue object itself.

Codes are a family prefix and three digits (``ADL101``). A family groups codes by the layer that finds them:

* ``TXT`` reading files (encoding, size)
* ``ODN`` ODIN (dADL) syntax
* ``ADL`` ADL 1.4 syntax and structure
* ``ARC`` archetype semantics (terms, internal references)
* ``OPT`` operational template loading and structure
* ``XML`` XML well-formedness and safety
* ``RMR`` reading RM instances (compositions in canonical JSON and XML)
* ``TPL`` template compilation (Ocean ``.oet`` sources and archetypes to OPT)
* ``MAP`` registry mappings (the mapping file, its check against a template and format, applying it)
* ``EXP`` registry exports (format definitions, message checks, writing messages)
* ``LNT`` lint rules over archetypes, templates and mappings that no other layer checks

Other layers (validation, mapping, lint) add their families here too, never elsewhere.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 2, "warning": 1, "info": 0}[self.value]


@dataclass(frozen=True, slots=True)
class CodeInfo:
    code: str
    severity: Severity
    summary: str


FAMILIES: dict[str, str] = {
    "TXT": "reading files",
    "ODN": "ODIN syntax",
    "ADL": "ADL 1.4 syntax and structure",
    "ARC": "archetype semantics",
    "OPT": "operational template structure",
    "XML": "XML input",
    "RMR": "reading compositions",
    "VAL": "composition validation (VAL0xx structure, VAL1xx data values, VAL2xx reference model rules)",
    "TPL": "template compilation (.oet sources and archetypes to OPT)",
    "FLT": "FLAT (simSDT) and STRUCTURED compositions keyed by web template ids",
    "MAP": "registry mappings (MAP0xx the mapping file and its check, MAP1xx applying a mapping)",
    "EXP": "registry exports (format definitions, message checks, writing messages)",
    "DFG": "datafangst: automated delivery (DFG0xx configuration and run, DFG1xx one composition)",
    "LNT": "lint (LNT0xx the linter itself, LNT1xx modelling rules over archetypes, templates and mappings)",
}

_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO

REGISTRY: dict[str, CodeInfo] = {
    c.code: c
    for c in [
        # reading files
        CodeInfo("TXT001", _E, "The file is not valid UTF-8 text."),
        CodeInfo("TXT002", _E, "The file cannot be read (missing, a directory, or no permission)."),
        CodeInfo("TXT003", _E, "The file is larger than the size limit for its kind."),
        CodeInfo("TXT004", _E, "The file is empty."),
        # ODIN
        CodeInfo("ODN001", _E, "ODIN syntax error: an unexpected token."),
        CodeInfo("ODN002", _E, "ODIN syntax error: a string, block or interval is not closed."),
        CodeInfo("ODN003", _E, "ODIN value is malformed (number, date, interval or term code)."),
        # ADL
        CodeInfo("ADL001", _E, "ADL syntax error: an unexpected token."),
        CodeInfo("ADL002", _E, "A mandatory ADL section is missing (header, concept, language, definition or ontology)."),
        CodeInfo("ADL003", _E, "The archetype header or identifier is malformed."),
        CodeInfo("ADL004", _E, "A cADL constraint is malformed (interval, pattern, code list or domain type)."),
        CodeInfo("ADL005", _E, "A section appears twice or out of order."),
        # archetype semantics
        CodeInfo("ARC001", _E, "An at-code used in the definition has no term definition in the original language."),
        CodeInfo("ARC002", _E, "A use_node reference points to a path that does not exist in the archetype."),
        CodeInfo("ARC003", _E, "An ac-code used in the definition has no constraint definition in the original language."),
        CodeInfo("ARC004", _W, "An at-code used in the definition has no term definition in a translation language."),
        CodeInfo("ARC005", _W, "Two sibling nodes in the definition carry the same node id."),
        CodeInfo("ARC006", _E, "The definition names a type that is not in the reference model."),
        CodeInfo("ARC007", _E, "The definition constrains an attribute the reference model type does not have."),
        CodeInfo("ARC008", _E, "A child's RM type does not conform to the type its attribute holds."),
        # OPT
        CodeInfo("OPT001", _E, "The file is not an OPT 1.4 operational template (wrong root element or namespace)."),
        CodeInfo("OPT002", _E, "A mandatory element of the template is missing."),
        CodeInfo("OPT003", _E, "An element appears more often than the OPT schema allows."),
        CodeInfo("OPT004", _E, "An element the OPT schema does not define."),
        CodeInfo("OPT005", _E, "An element has a malformed value (number, boolean, interval or identifier)."),
        CodeInfo("OPT006", _E, "Unknown reference model type."),
        CodeInfo("OPT007", _E, "The reference model type has no such attribute."),
        CodeInfo("OPT008", _E, "A node id has no term definition in its archetype root."),
        CodeInfo("OPT009", _E, "Occurrences, existence or cardinality lie outside what the reference model allows."),
        CodeInfo("OPT010", _E, "Unknown constraint type in xsi:type."),
        CodeInfo("OPT011", _E, "An element is out of the order the OPT schema prescribes."),
        CodeInfo("OPT012", _E, "A child's reference model type does not conform to the type of its attribute."),
        CodeInfo("OPT013", _W, "Sibling nodes share a node id and cannot be told apart by a name constraint."),
        CodeInfo("OPT014", _E, "An XML attribute the OPT schema does not define, or a required XML attribute is missing."),
        CodeInfo("OPT015", _W, "A local code in a code list has no term definition in its archetype root."),
        # XML
        CodeInfo("XML001", _E, "The XML is not well-formed."),
        CodeInfo("XML002", _E, "The XML uses a DOCTYPE or entities, which are refused for safety."),
        # composition validation: structure (the walker)
        CodeInfo("VAL001", _E, "The composition has a node the template does not define here."),
        CodeInfo("VAL002", _E, "A node the template requires is missing (too few occurrences)."),
        CodeInfo("VAL003", _E, "A node occurs more often than the template allows."),
        CodeInfo("VAL004", _E, "A container attribute has more or fewer items than its cardinality allows."),
        CodeInfo("VAL005", _E, "An attribute the template makes mandatory (existence 1..1) is missing."),
        CodeInfo("VAL006", _E, "An attribute the reference model makes mandatory is missing."),
        CodeInfo("VAL007", _E, "The RM type is not one the template allows at this node."),
        CodeInfo("VAL008", _E, "The archetype used does not match the slot's include/exclude patterns."),
        CodeInfo("VAL009", _E, "The archetype root's archetype_node_id is not the archetype the template uses."),
        CodeInfo("VAL010", _E, "An OBSERVATION or EVENT has no data (empty item structure)."),
        CodeInfo("VAL011", _W, "The attribute does not exist on this RM type; it is kept but ignored (not validated)."),
        CodeInfo("VAL012", _E, "The composition's template id is not the template it is validated against."),
        CodeInfo("VAL013", _E, "Plain DV_TEXT given where the template requires DV_CODED_TEXT."),
        CodeInfo("VAL014", _E, "The node's name does not match the template's name constraint."),
        CodeInfo("VAL015", _W, "A slot is filled with an archetype the template does not describe; its content is checked against the RM only."),
        CodeInfo("VAL016", _E, "No template is available for the composition's template id, so it cannot be validated."),
        CodeInfo("VAL017", _W, "The composition does not state its template id (archetype_details/template_id)."),
        CodeInfo("VAL018", _E, "The validator failed on this composition (an internal error; please report it)."),
        CodeInfo("VAL019", _W, "An archetype root's archetype_details names another archetype than its archetype_node_id."),
        # composition validation: data values
        CodeInfo("VAL101", _E, "The quantity's unit is not one the template allows."),
        CodeInfo("VAL102", _E, "The quantity's magnitude lies outside the allowed range for its unit."),
        CodeInfo("VAL103", _E, "The quantity's precision (decimal places) is not the one the template requires."),
        CodeInfo("VAL104", _E, "The count lies outside the allowed range."),
        CodeInfo("VAL105", _E, "The proportion breaks its type rules or the allowed ranges."),
        CodeInfo("VAL106", _E, "The code is not in the template's list of allowed codes."),
        CodeInfo("VAL107", _E, "The code's terminology is not the one the template requires."),
        CodeInfo("VAL108", _E, "The coded text's value is not the term text of its code."),
        CodeInfo("VAL109", _E, "The text is not one of the allowed values or does not match the pattern."),
        CodeInfo("VAL110", _E, "The ordinal or scale value is not allowed or does not match its symbol."),
        CodeInfo("VAL111", _E, "The boolean value is not allowed."),
        CodeInfo("VAL112", _E, "The date, time or date-time is not valid ISO 8601."),
        CodeInfo("VAL113", _E, "The date, time or date-time does not match the template's pattern (e.g. partial or complete)."),
        CodeInfo("VAL114", _E, "The date, time or date-time lies outside the allowed range."),
        CodeInfo("VAL115", _E, "The duration is malformed, uses a field the template excludes, or lies outside the range."),
        CodeInfo("VAL116", _E, "The identifier is incomplete or invalid."),
        CodeInfo("VAL117", _E, "The URI is malformed (or an EHR URI without the ehr: scheme)."),
        CodeInfo("VAL118", _E, "The multimedia value is invalid (media type, neither data nor URI)."),
        CodeInfo("VAL119", _E, "The parsable value is invalid (empty value or formalism)."),
        CodeInfo("VAL120", _E, "The state value is invalid."),
        CodeInfo("VAL121", _E, "The primitive value is not allowed by the template's constraint."),
        CodeInfo("VAL122", _E, "The code does not exist in the openEHR terminology group it must come from."),
        CodeInfo("VAL123", _E, "The value has the wrong kind (e.g. text where a number is required)."),
        CodeInfo("VAL124", _W, "The template's regular expression cannot be evaluated, so the text was not checked against it."),
        CodeInfo("VAL125", _E, "The interval is inconsistent (lower above upper, bounds not comparable, or contradicting flags)."),
        CodeInfo("VAL126", _E, "The text value is empty; the reference model requires a non-empty value."),
        # composition validation: reference model rules
        CodeInfo("VAL201", _E, "The composition category is not an openEHR composition category code."),
        CodeInfo("VAL202", _E, "The care setting is not an openEHR setting code."),
        CodeInfo("VAL203", _E, "The language is not an ISO 639-1 code."),
        CodeInfo("VAL204", _E, "The territory is not an ISO 3166-1 code."),
        CodeInfo("VAL205", _E, "The encoding is not an IANA character set."),
        CodeInfo("VAL206", _E, "null_flavour is given together with a value, or neither is given."),
        CodeInfo("VAL207", _E, "The ACTION's careflow state or transition is not valid."),
        CodeInfo("VAL208", _E, "The event time lies outside the observation's time span."),
        CodeInfo("VAL209", _E, "An interval event's width or math function is invalid."),
        CodeInfo("VAL210", _E, "An openEHR-coded RM attribute carries a code outside its terminology group."),
        CodeInfo("VAL211", _E, "The event context's end time is before its start time."),
        CodeInfo("VAL212", _E, "A persistent composition carries an event context (the RM forbids it)."),
        # FLAT / STRUCTURED compositions (keys built from web template ids)
        CodeInfo("FLT001", _E, "The FLAT key names a path the web template does not have (the closest valid path is suggested)."),
        CodeInfo("FLT002", _E, "The attribute suffix (|magnitude, |code, ...) is not one the node's data type has."),
        CodeInfo("FLT003", _E, "Bad index notation: a malformed index, or an index on a node that does not repeat."),
        CodeInfo("FLT004", _E, "A key that nothing consumed: the path exists but the value is not used by the conversion."),
        CodeInfo("FLT005", _E, "The value has the wrong kind for its attribute (e.g. text where a number is required)."),
        CodeInfo("FLT006", _E, "A required context value is missing (ctx/language, ctx/territory, composer...) and has no default."),
        CodeInfo("FLT007", _E, "The input is not a FLAT document (a JSON object of path keys and scalar values)."),
        CodeInfo("FLT008", _E, "The key does not start with the template's root id (it belongs to another template)."),
        CodeInfo("FLT009", _W, "A repeating node is given without an index; it is read as index 0."),
        CodeInfo("FLT010", _E, "Unknown ctx/ key (not a FLAT context default)."),
        CodeInfo("FLT011", _E, "The STRUCTURED document does not have the nested shape (lists of objects keyed by node ids)."),
        CodeInfo("FLT012", _E, "The composition has content the web template cannot express as FLAT (left out of the output)."),
        # template compilation
        CodeInfo("TPL001", _E, "An archetype the template uses is not found in the archetype directories."),
        CodeInfo("TPL002", _E, "An archetype the template uses cannot be read (ADL error) or flattened."),
        CodeInfo("TPL003", _E, "A content item does not fit its slot (no slot there, or the slot rejects its id or RM type)."),
        CodeInfo("TPL004", _E, "A rule or content item path does not exist in the archetype."),
        CodeInfo("TPL005", _W, "A rule's value constraint does not fit the node (data type, code or unit); it is not applied."),
        CodeInfo("TPL006", _W, "A rule's occurrences go beyond the archetype's; they are narrowed to fit."),
        CodeInfo("TPL007", _W, "An exclusion (max=0) would empty an attribute the reference model makes mandatory."),
        CodeInfo("TPL008", _W, "A specialised archetype's node id does not specialise a node of its parent."),
        CodeInfo("TPL009", _E, "An embedded template is not found beside the template, or embeds itself."),
        CodeInfo("TPL010", _E, "The template source is malformed (not an OET, or a missing or malformed part)."),
        CodeInfo("TPL011", _I, "A template construct the compiler does not apply (e.g. a parsable constraint)."),
        # registry mappings: the file and its check against template and export format
        CodeInfo("MAP001", _E, "The mapping file is not valid YAML."),
        CodeInfo("MAP002", _E, "The mapping does not conform to the mapping language schema."),
        CodeInfo("MAP003", _E, "A source path does not exist in the template."),
        CodeInfo("MAP004", _E, "The source's data type does not fit the transform (e.g. codes on a quantity)."),
        CodeInfo("MAP005", _E, "A code the template allows at a mapped coded node is neither mapped nor ignored."),
        CodeInfo("MAP006", _W, "A mapped or ignored code is not one the template allows at that node."),
        CodeInfo("MAP007", _E, "A field the export format requires has no source, constant or default."),
        CodeInfo("MAP008", _E, "The target field is not in the export format, or the export fills it itself."),
        CodeInfo("MAP009", _E, "A value the mapping produces is not in the export format's code list for the field."),
        CodeInfo("MAP010", _E, "The same target field is mapped more than once."),
        CodeInfo("MAP011", _E, "The mapping is written for another template than the one given."),
        CodeInfo("MAP012", _E, "The export format (or its version) named by the mapping is not known."),
        CodeInfo("MAP013", _E, "A unit conversion is not possible for a unit the template allows."),
        CodeInfo("MAP014", _E, "A derived value names an unknown function or gives it the wrong arguments."),
        CodeInfo("MAP015", _E, "The transform's output kind does not fit the target field's type."),
        CodeInfo("MAP016", _E, "A relative source path is used without a for_each context, or for_each is malformed."),
        CodeInfo("MAP017", _W, "A source node can occur more than once but the target field takes one value."),
        # applying a mapping to a composition
        CodeInfo("MAP101", _E, "A value in the composition cannot be mapped (unmapped code, partial date, unknown unit)."),
        CodeInfo("MAP102", _E, "A derived value cannot be computed from the composition's values."),
        CodeInfo("MAP103", _E, "A source selects several values for a single-valued target field."),
        CodeInfo("MAP104", _E, "The composition is not made with the mapping's template."),
        # registry exports
        CodeInfo("EXP001", _E, "A message value does not fit its field (type, code list, pattern, length or range)."),
        CodeInfo("EXP002", _E, "A field the registry requires has no value in the message."),
        CodeInfo("EXP003", _E, "A field has a value although the registry's rules hide it (its condition does not hold)."),
        CodeInfo("EXP004", _E, "The patient's national identity number is missing or not a valid fødselsnummer/D-number."),
        CodeInfo("EXP005", _E, "The composition is not valid against its template, so it is not exported."),
        CodeInfo("EXP006", _E, "The composition cannot be read."),
        CodeInfo("EXP007", _E, "The message cannot be written to the output directory."),
        CodeInfo("EXP008", _E, "The export format definition is invalid."),
        CodeInfo("EXP009", _E, "The national id map (CSV) is malformed or has no row for the composition."),
        CodeInfo("EXP010", _E, "No template is available for the mapping's template id."),
        CodeInfo("EXP011", _E, "The message kind is not supported by the format (e.g. annulment)."),
        CodeInfo("EXP012", _E, "The serialised message fails the format's schema (an internal error; please report it)."),
        # datafangst (automated delivery): configuration and the run
        CodeInfo("DFG001", _E, "The datafangst configuration file cannot be read or is not YAML."),
        CodeInfo("DFG002", _E, "The datafangst configuration does not fit its schema."),
        CodeInfo("DFG003", _E, "A file or folder the configuration names is missing or cannot be used."),
        CodeInfo("DFG004", _E, "A mapping cannot be used (it fails to load or its check), or its registry has no basis."),
        CodeInfo("DFG005", _E, "The identity source (CSV) is malformed or holds an invalid national id."),
        CodeInfo("DFG006", _E, "The reservation/consent source is malformed."),
        CodeInfo("DFG007", _E, "The ledger database cannot be opened or is not a datafangst ledger."),
        CodeInfo("DFG008", _E, "The outbox cannot be written (read-only, full, or missing): the run stops."),
        CodeInfo("DFG009", _E, "Another datafangst run holds the ledger's lock."),
        # datafangst: one composition (each of these quarantines it, or notes it, and the run goes on)
        CodeInfo("DFG101", _E, "The composition (or NDJSON line) cannot be read."),
        CodeInfo("DFG102", _E, "No configured template has the composition's template id."),
        CodeInfo("DFG103", _E, "The composition has no uid (object version id), so its versions cannot be tracked."),
        CodeInfo("DFG104", _E, "The composition is not valid against its template."),
        CodeInfo("DFG105", _E, "Mapping or rendering the composition's registry message failed."),
        CodeInfo("DFG106", _E, "The identity source has no national id for the composition's patient."),
        CodeInfo("DFG107", _I, "A composition version older than one already processed was skipped."),
        CodeInfo("DFG108", _W, "A message should be annulled but its format cannot express an annulment."),
        CodeInfo("DFG109", _W, "A composition version was seen again with different content; it was not re-sent."),
        # lint: the linter itself
        CodeInfo("LNT001", _E, "A lint rule failed on this file (an internal error; please report it)."),
        CodeInfo("LNT002", _W, "A suppression comment names a code that is not registered."),
        # lint: modelling rules (see docs/lint-rules.md)
        CodeInfo("LNT101", _W, "A language is declared as a translation but has no term definitions, or the reverse."),
        CodeInfo("LNT102", _E, "A term or constraint binding names a code that the ontology does not define."),
        CodeInfo("LNT110", _W, "A required language (lint configuration) is missing from the archetype or template."),
        CodeInfo("LNT111", _W, "Codes have no term definition in a required language (translation incomplete)."),
        CodeInfo("LNT120", _W, "A slot's include pattern matches no archetype in the linted set."),
        CodeInfo("LNT130", _W, "The parent of a specialised archetype is not in the linted set."),
        CodeInfo("LNT131", _E, "A code is specialised deeper than the archetype itself is specialised."),
        CodeInfo("LNT132", _E, "A specialised archetype's id does not extend its parent's id (concept or RM type)."),
        CodeInfo("LNT140", _E, "A SNOMED CT id is malformed or fails its Verhoeff check digit."),
        CodeInfo("LNT141", _E, "An ICD-10 code is malformed."),
        CodeInfo("LNT142", _E, "An ICD-O-3 code is malformed (morphology dddd/d, topography Cdd.d)."),
        CodeInfo("LNT143", _E, "An NCSP procedure code is malformed."),
        CodeInfo("LNT150", _W, "Sibling nodes carry the same text, so users and paths by name cannot tell them apart."),
        CodeInfo("LNT160", _W, "A code is defined in the ontology but used nowhere in the archetype."),
        CodeInfo("LNT170", _E, "Occurrences, existence or cardinality in an archetype lie outside what the RM allows."),
        CodeInfo("LNT180", _E, "The compiled OPT beside a template source is stale (differs from a fresh compile)."),
        # reading compositions (canonical JSON / XML)
        CodeInfo("RMR001", _E, "The composition is not well-formed JSON."),
        CodeInfo("RMR002", _E, "Unknown reference model type in _type or xsi:type."),
        CodeInfo("RMR003", _E, "A value has the wrong kind (e.g. a string where an object or a number is required)."),
        CodeInfo("RMR004", _E, "An object has no _type (or xsi:type) and its type cannot be inferred."),
        CodeInfo("RMR005", _E, "The reference model type has no such attribute; the value is kept but not interpreted."),
        CodeInfo("RMR006", _E, "The XML is not a canonical composition (wrong root element or namespace)."),
        CodeInfo("RMR007", _E, "A single-valued attribute is given more than once."),
        CodeInfo("RMR008", _E, "The input is not canonical JSON or XML (FLAT or STRUCTURED needs a web template)."),
    ]
}


def code_info(code: str) -> CodeInfo:
    """The registered entry for ``code``; KeyError names the unregistered code."""
    try:
        return REGISTRY[code]
    except KeyError:
        raise KeyError(f"issue code {code!r} is not registered in openehr_kit.diagnostics") from None


@dataclass(slots=True)
class Issue:
    """One finding, located in a file and/or in a template and instance."""

    code: str
    message: str
    severity: Severity | None = None
    file: str | None = None
    line: int | None = None
    column: int | None = None
    template_path: str | None = None
    instance_path: str | None = None
    expected: str | None = None
    found: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        info = code_info(self.code)
        if self.severity is None:
            self.severity = info.severity

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "code": self.code,
            "severity": self.severity.value if self.severity else None,
            "message": self.message,
            "line": self.line,
            "column": self.column,
        }
        for key in ("file", "template_path", "instance_path", "expected", "found"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        if self.extra:
            data.update(self.extra)
        return data

    def location(self) -> str:
        parts = [self.file or ""]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        loc = ":".join(p for p in parts if p)
        if self.template_path:
            loc = f"{loc} {self.template_path}" if loc else self.template_path
        return loc

    def __str__(self) -> str:
        loc = self.location()
        return f"{loc}: {self.code} {self.message}" if loc else f"{self.code} {self.message}"


class ParseError(Exception):
    """Input that cannot be read as the format it claims to be; carries where and why."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        expected: str | None = None,
        found: str | None = None,
        instance_path: str | None = None,
    ) -> None:
        code_info(code)
        self.code = code
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.expected = expected
        self.found = found
        self.instance_path = instance_path
        super().__init__(str(self.to_issue()))

    def to_issue(self) -> Issue:
        msg = self.message
        if self.expected is not None and self.found is not None and f"expected {self.expected}" not in msg:
            msg = f"{msg}: expected {self.expected}, found {self.found}"
        return Issue(
            self.code,
            msg,
            file=self.file,
            line=self.line,
            column=self.column,
            expected=self.expected,
            found=self.found,
            instance_path=self.instance_path,
        )
