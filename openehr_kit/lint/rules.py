"""The lint rule registry: every code ``openehr-kit lint`` can report, with why it matters and an example.

Lint's own checks have ``LNT`` codes; where lint runs a check the toolkit already has (archetype semantics,
OPT structure, template compilation, mapping check) it reports that check's own code, so one problem has one code
whichever command finds it. ``docs/lint-rules.md`` is rendered from this registry by :func:`render_markdown`
(a test keeps it up to date).
"""

from __future__ import annotations

from dataclasses import dataclass

from openehr_kit.diagnostics import FAMILIES, REGISTRY, CodeInfo, Severity


@dataclass(frozen=True, slots=True)
class Rule:
    """One lint rule: a registered code, the input kinds it looks at, its rationale and a short example."""

    code: str
    name: str
    kinds: tuple[str, ...]
    rationale: str
    example: str
    #: the ADL Workbench / Archie validity-rule family the rule is modelled on (documentation only)
    modelled_on: str = ""

    @property
    def info(self) -> CodeInfo:
        return REGISTRY[self.code]

    @property
    def summary(self) -> str:
        return self.info.summary

    @property
    def severity(self) -> Severity:
        return self.info.severity


_ADL, _OPT, _OET, _MAP = "adl", "opt", "oet", "mapping"

RULES: tuple[Rule, ...] = (
    # --- reused checks named by the issue -----------------------------------------------------------------------
    Rule("ARC001", "node-id-undefined", (_ADL,),
         "A node id (at-code) used in the definition must have a term definition in the original language: "
         "without one the node has no name, its paths cannot be shown to users and tools that build forms "
         "fail on it.",
         "ELEMENT[at0009] matches {...} -- but term_definitions has no [\"at0009\"]",
         "AOM validity: every at-code used is defined in the terminology"),
    Rule("ARC003", "constraint-code-undefined", (_ADL,),
         "An ac-code (external value set reference) used in the definition must be defined, or nobody can tell "
         "which value set it stands for.",
         "defining_code matches {[ac0001]} -- constraint_definitions lacks ac0001",
         "AOM validity: every ac-code used is defined in the terminology"),
    Rule("ARC004", "term-missing-in-translation", (_ADL,),
         "A translation must define every code the definition uses; a missing term shows up as an empty label "
         "in that language.",
         "[\"en\"] term_definitions lacks at0012 while [\"nb\"] has it",
         "AOM validity: terminology complete in every language"),
    Rule("ARC005", "duplicate-sibling-node-id", (_ADL,),
         "Siblings with the same node id have the same path; data cannot be told apart without a name predicate.",
         "two items[at0004] in the same CLUSTER",
         "AOM validity: sibling node ids unique"),
    Rule("OPT008", "opt-node-id-undefined", (_OPT,),
         "In an OPT every node id must have a term in its archetype root's terminology (the same rule as "
         "ARC001 on the compiled form).",
         "<node_id>at0099</node_id> with no <term_definitions code=\"at0099\">"),
    Rule("OPT009", "opt-occurrences-outside-rm", (_OPT,),
         "An OPT must not allow more than the reference model does (e.g. several children under a "
         "single-valued attribute); such a template accepts data no RM-conformant system can store.",
         "ELEMENT.value with a child of occurrences 0..*"),
    Rule("TPL008", "specialised-code-without-parent-node", (_ADL, _OET),
         "A specialised node id (at0004.1) redefines node at0004 of the parent; when the parent has no such "
         "node the specialisation points at nothing.",
         "at0004.1 in openEHR-EHR-OBSERVATION.lab-glucose.v1 whose parent defines no at0004",
         "AOM validity: specialised node ids specialise a parent node"),
    Rule("EXP010", "mapping-template-missing", (_MAP,),
         "A mapping can only be checked against its template; when no OPT with its template id is in the linted "
         "set, beside the mapping or in the project, the mapping goes unchecked (lint reports this as a warning: the "
         "mapping is unchecked, not known to be wrong).",
         "template: {id: openehr-kit.unknown.v0}"),
    # --- lint's own rules ---------------------------------------------------------------------------------------
    Rule("LNT001", "internal-error", (_ADL, _OPT, _OET, _MAP),
         "A rule that crashes must not stop the other rules or files; the crash is reported so it gets fixed.",
         "(any file a rule fails on)"),
    Rule("LNT002", "unknown-suppression-code", (_ADL, _OPT, _OET, _MAP),
         "A suppression for a code that does not exist suppresses nothing; it is usually a typo.",
         "-- openehr-kit: ignore[LNT9999]"),
    Rule("LNT101", "declared-language-without-terms", (_ADL,),
         "A translation listed in the language section promises terms in that language; term definitions "
         "without a declared translation have no translator, accreditation or version recorded.",
         "translations = <[\"de\"] = <...>> but term_definitions has no [\"de\"]",
         "AOM validity: translations and term definitions agree"),
    Rule("LNT102", "binding-code-undefined", (_ADL,),
         "A term binding maps a local code to an external terminology; a binding for a code the ontology does "
         "not define maps nothing and usually means the code was renamed.",
         "term_bindings = <[\"SNOMED-CT\"] = <items = <[\"at0099\"] = <[SNOMED-CT::22298006]>>>>",
         "AOM validity: binding keys are defined codes"),
    Rule("LNT110", "required-language-missing", (_ADL, _OPT),
         "A registry or hospital that requires some languages (configure `required_languages`, e.g. nb and "
         "en) cannot use an artefact that lacks one of them.",
         "required_languages = [\"nb\", \"en\"] and the archetype has only en"),
    Rule("LNT111", "required-translation-incomplete", (_ADL, _OPT),
         "Every code needs a term in each required language, or forms show empty or foreign labels.",
         "[\"nb\"] has 40 codes, [\"en\"] only 38"),
    Rule("LNT120", "slot-matches-nothing", (_ADL,),
         "A slot whose include pattern matches no archetype of the repository cannot be filled in a template; "
         "usually the pattern has a typo or names an archetype the repository forgot. The archetypes known are "
         "the linted ones, those beside them in their folders and those under the configured `archetypes` folders.",
         "include archetype_id/value matches {/openEHR-EHR-CLUSTER\\.devise\\.v1/}",
         "Workbench warning: slot matches no archetype in the repository"),
    Rule("LNT130", "specialisation-parent-missing", (_ADL,),
         "A specialised archetype can only be flattened with its parent; a repository without the parent cannot "
         "compile templates that use the child (the parent is looked for as for LNT120).",
         "specialise openEHR-EHR-OBSERVATION.lab_test.v1 -- not in the repository",
         "AOM validity: specialisation parent available and id consistent"),
    Rule("LNT131", "code-specialisation-depth", (_ADL,),
         "A code's depth (dots) cannot exceed the archetype's specialisation depth (hyphens in the concept): "
         "at0001.1 in a top-level archetype refers to a parent that does not exist.",
         "at0003.1 in openEHR-EHR-OBSERVATION.glucose.v1 (not specialised)",
         "AOM validity: code specialisation depth"),
    Rule("LNT132", "specialisation-id-mismatch", (_ADL,),
         "A specialised archetype's id extends its parent's concept with '-name' and keeps its RM type; "
         "otherwise tools cannot find the parent from the id.",
         "openEHR-EHR-OBSERVATION.glucose.v1 specialising openEHR-EHR-OBSERVATION.lab_test.v1",
         "AOM validity: specialisation parent available and id consistent"),
    Rule("LNT140", "snomed-id-invalid", (_ADL, _OPT),
         "Every SNOMED CT id carries a Verhoeff check digit (and a partition identifier); an id that fails it "
         "was mistyped and binds the node to the wrong concept or none.",
         "[SNOMED-CT::373066002] -- the check digit of 37306600 is 1"),
    Rule("LNT141", "icd10-malformed", (_ADL, _OPT),
         "ICD-10 codes are a capital letter, two digits and optionally a dot and more digits (S72.0); "
         "registries reject other forms.",
         "[ICD10::S720] -- write S72.0"),
    Rule("LNT142", "icdo3-malformed", (_ADL, _OPT),
         "ICD-O-3 morphology codes are four digits, a slash and a behaviour digit (8140/3); topography codes "
         "are C, two digits, a dot and one digit (C61.9). The cancer registry rejects other forms.",
         "[ICD-O-3::81403]"),
    Rule("LNT143", "ncsp-malformed", (_ADL, _OPT),
         "NCSP procedure codes are three capital letters and two digits (NFB49), optionally one national letter; "
         "other forms are rejected by the registries that collect them.",
         "[NCSP::NFB4]"),
    Rule("LNT150", "sibling-same-text", (_ADL, _OPT),
         "Sibling nodes with the same text look identical in forms and in paths by name, so users and mappings "
         "pick the wrong one.",
         "items[at0004] and items[at0007] are both 'Comment'",
         "Workbench warning: ambiguous sibling names"),
    Rule("LNT160", "code-unused", (_ADL,),
         "A code defined in the ontology but used nowhere is dead weight that translators keep translating; "
         "often it is left over from a removed node.",
         "term_definitions has at0031 but no node or code list uses it",
         "Workbench warning: code defined but unused"),
    Rule("LNT170", "occurrences-outside-rm", (_ADL,),
         "An archetype must not allow more than the reference model: several children under a single-valued "
         "attribute, existence beyond 0..1 or cardinality on a single-valued attribute (the archetype form of "
         "OPT009).",
         "ELEMENT[at0005] occurrences matches {0..1} matches { value matches { DV_TEXT occurrences matches "
         "{0..*} ...",
         "AOM validity: occurrences, existence and cardinality conform to the RM"),
    Rule("LNT180", "stale-compiled-opt", (_OET,),
         "A template repository ships compiled OPTs beside their sources; one that differs from a fresh compile "
         "means the source was changed without recompiling, so systems run an old template.",
         "fracture_registration.oet changed, fracture_registration.opt not recompiled"),
)

RULES_BY_CODE: dict[str, Rule] = {r.code: r for r in RULES}

#: families whose every code lint may report because it runs their checks (parsing, OPT, compiling, mapping)
REUSED_FAMILIES: dict[str, str] = {
    "TXT": "The file cannot be read; nothing else can be checked.",
    "ODN": "The ADL's ODIN sections do not parse; nothing else can be checked.",
    "ADL": "The archetype does not parse; nothing else can be checked.",
    "ARC": "Archetype semantics (openehr-kit archetype check): codes defined, references resolve, RM conformance.",
    "OPT": "OPT structure and semantics (openehr-kit template check).",
    "XML": "XML that is not well-formed or uses refused constructs.",
    "TPL": "Template compilation (.oet and archetypes to OPT): archetypes found, paths and rules apply.",
    "MAP": "Registry mapping check against its template and export format (openehr-kit mapping check).",
}


def rule_for(code: str) -> Rule | None:
    return RULES_BY_CODE.get(code)


def help_text(code: str) -> str:
    """The rationale of a code's rule, or of its family when lint only reuses the family's check."""
    rule = RULES_BY_CODE.get(code)
    if rule is not None:
        return rule.rationale
    return REUSED_FAMILIES.get(code[:3], FAMILIES.get(code[:3], ""))


def render_markdown() -> str:
    """``docs/lint-rules.md``: every rule with its code, severity, summary, rationale and example."""
    out = [
        "# Lint rules",
        "",
        "<!-- generated by openehr_kit.lint.rules.render_markdown(); do not edit by hand: run",
        "     python -c 'from openehr_kit.lint.rules import write_docs; write_docs()' -->",
        "",
        "`openehr-kit lint PATH...` checks archetypes (`.adl`), template sources (`.oet`), operational templates "
        "(`.opt`) and registry mappings (`.yaml`/`.yml` with `template` and `format` keys). Select or ignore "
        "codes by prefix (`--select LNT1 --ignore LNT160`), configure in `pyproject.toml` under "
        "`[tool.openehr-kit.lint]`, and suppress one finding with a comment on its line (or alone on the line "
        "above): `-- openehr-kit: ignore[LNT160]` in ADL, `<!-- openehr-kit: ignore[LNT150] -->` in XML, "
        "`# openehr-kit: ignore[MAP017]` in YAML; `openehr-kit: ignore-file` (optionally `[CODES]`) anywhere "
        "in a file suppresses for the whole file.",
        "",
        "## Rules",
        "",
        "| code | name | severity | inputs | summary |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in RULES:
        out.append(f"| {r.code} | {r.name} | {r.severity.value} | {', '.join(r.kinds)} | {r.summary} |")
    out.append("")
    for r in RULES:
        out += [f"### {r.code} {r.name}", "", f"*{r.severity.value}* — {r.summary}", "", r.rationale, "",
                "Example:", "", "```", r.example, "```", ""]
        if r.modelled_on:
            out += [f"Modelled on: {r.modelled_on}.", ""]
    out += ["## Codes of the checks lint runs", "",
            "Lint also reports every code of these checks (see `openehr_kit/diagnostics.py`):", ""]
    for fam, why in REUSED_FAMILIES.items():
        codes = sorted(c for c in REGISTRY if c.startswith(fam) and c not in RULES_BY_CODE)
        out.append(f"- **{fam}** ({why}) {', '.join(codes)}")
    out.append("")
    return "\n".join(out)


def docs_path() -> str:
    from pathlib import Path

    return str(Path(__file__).resolve().parents[2] / "docs" / "lint-rules.md")


def write_docs() -> None:
    from openehr_kit.fsutil import atomic_write_text

    atomic_write_text(docs_path(), render_markdown())


__all__ = ["RULES", "RULES_BY_CODE", "REUSED_FAMILIES", "Rule", "help_text", "render_markdown", "rule_for",
           "write_docs"]
