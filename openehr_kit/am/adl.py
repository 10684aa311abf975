"""ADL 1.4 parser: archetype text -> :class:`~openehr_kit.am.model.Archetype`.

The file is read section by section (header, specialise, concept, language, description, definition, invariant,
ontology, annotations, revision_history). ODIN sections go to :mod:`openehr_kit.am.odin`; the cADL definition is
parsed here by recursive descent, each step matching a compiled regex at the current position so that no Python
loop runs per character. Specialised archetypes keep their differential form: an attribute given as a path
(``/data[at0001]/events``) keeps that path as its ``rm_attribute_name``.

Every failure on bad input is a :class:`ParseError` with file, line, column, expected and found.
"""

from __future__ import annotations

import os
import re
from typing import Any

from openehr_kit.am import odin
from openehr_kit.am.model import (
    Archetype,
    ArchetypeInternalRef,
    ArchetypeSlot,
    CAttribute,
    Cardinality,
    CBoolean,
    CCodePhrase,
    CComplexObject,
    CDate,
    CDateTime,
    CDuration,
    CDvOrdinal,
    CDvQuantity,
    CDvState,
    CInteger,
    CObject,
    CodePhrase,
    ConstraintRef,
    CPrimitive,
    CPrimitiveObject,
    CQuantityItem,
    CReal,
    CString,
    CTime,
    Interval,
    OrdinalItem,
    SlotAssertion,
    Terminology,
)
from openehr_kit.am.odin import DATE, DATE_TIME, DURATION, INTEGER, REAL, SKIP, STRING, TIME, describe_at, location
from openehr_kit.diagnostics import ParseError
from openehr_kit.textio import decode_text, read_bytes

__all__ = ["parse_adl", "load_archetype", "MAX_ADL_BYTES"]

#: archetypes are rarely above 1 MB; 16 MB leaves room while refusing absurd input early
MAX_ADL_BYTES = 16 * 1024 * 1024
#: object nesting limit in the definition (real archetypes stay below 30)
MAX_DEPTH = 100

# --- regexes -------------------------------------------------------------------------------------------------------

_SKIP_RE = re.compile(SKIP)
_WORD_RE = re.compile(SKIP + r"([A-Za-z_]\w*)")
_HEADER_META_RE = re.compile(SKIP + r"\(([^()]*)\)")
_ARCHETYPE_ID_TOKEN_RE = re.compile(SKIP + r"([^\s()\[\]{}<>]+)")
_ARCHETYPE_ID_RE = re.compile(
    r"[A-Za-z][\w]*-[A-Za-z][\w]*-[A-Za-z][\w]*\.[\w][\w\-]*(?:\.[\w][\w\-]*)*\.v\d+(?:\.\d+)*(?:-[\w.\-]+)?"
)
_CONCEPT_RE = re.compile(SKIP + r"\[\s*([a-z]{2}\d+(?:\.\d+)*)\s*\]")

#: one generic cADL token (decides what comes next; details are then read by the specific regexes below)
_CTOKEN_RE = re.compile(
    SKIP
    + rf"""(?:
     (?P<lbrace>\{{)
    |(?P<rbrace>\}})
    |(?P<str>{STRING})
    |(?P<interval>\|)
    |(?P<lb>\[)
    |(?P<dtpat>[yY]{{4}}-[mM?Xx]{{2}}(?:-[dD?Xx]{{2}})?(?:T[hH?Xx]{{2}}(?::[mM?Xx]{{2}}(?::[sS?Xx]{{2}})?)?)?(?![\w:]))
    |(?P<tpat>[hH]{{2}}:[mM?Xx]{{2}}(?::[sS?Xx]{{2}})?(?![\w:]))
    |(?P<dt>{DATE_TIME})
    |(?P<date>{DATE})
    |(?P<time>{TIME})
    |(?P<dur>{DURATION})
    |(?P<durpat>P(?=[YMWDT])[YMWD]*(?:T[HMS]+)?(?![\w]))
    |(?P<real>{REAL})
    |(?P<int>{INTEGER})
    |(?P<ident>[A-Za-z_]\w*)
    |(?P<slash>/)
    |(?P<star>\*)
    |(?P<semi>;)
    |(?P<comma>,)
    |(?P<lt><)
    |(?P<eof>\Z)
    |(?P<bad>[\s\S])
    )""",
    re.X,
)

_TYPE_RE = re.compile(r"[A-Za-z_]\w*(?:<[\w\s,<>]*>)?")
_GENERIC_TAIL_RE = re.compile(r"<\s*[A-Z]\w*(?:\s*<[\w\s,]*>)?(?:\s*,\s*[A-Z]\w*(?:\s*<[\w\s,]*>)?)*\s*>")
_NODE_ID_RE = re.compile(SKIP + r"\[\s*([a-zA-Z]{2}\d+(?:\.\d+)*)\s*\]")
_MATCHES_RE = re.compile(SKIP + r"(?:matches|is_in|\u2208)(?!\w)" + SKIP + r"\{")
_KEYWORD_MATCHES_RE = re.compile(SKIP + r"(occurrences|existence|cardinality)" + SKIP + r"(?:matches|is_in|\u2208)" + SKIP)
_MULTIPLICITY_RE = re.compile(
    r"\{\s*(?:\|\s*)?(\d+|\*)(?:\s*\.\.\s*(\d+|\*))?\s*(?:\|\s*)?((?:;\s*[A-Za-z_]+\s*)*)\}"
)
_ATTR_NAME_RE = re.compile(
    r"/?[A-Za-z_]\w*(?:\[[^\]\n]*\])?(?:/[A-Za-z_]\w*(?:\[[^\]\n]*\])?)*"
)
_PATH_RE = re.compile(SKIP + r"(/(?:[^\s\[\]{}]|\[[^\]\n]*\])*)")
_REGEX_RE = re.compile(r"/([^\n]*?)/(?=[ \t]*(?:[};,]|--|\n|$))")
_INTERVAL_RE = re.compile(r"\|([^|\n]*)\|")
_ORDINAL_SYMBOL_RE = re.compile(r"[ \t]*\|" + SKIP + r"\[\s*([A-Za-z][\w.\-()]*)\s*::\s*([^\]\s]+?)\s*\]")
_CODE_HEAD_RE = re.compile(r"\[" + SKIP + r"([A-Za-z][\w.\-()]*)[ \t]*::")
_AC_REF_RE = re.compile(r"\[\s*(ac\d+(?:\.\d+)*)\s*\]")
_CODE_RE = re.compile(SKIP + r"([^\s,;\]\[]+)")
_PUNCT_RE = re.compile(SKIP + r"([,;\]])")
_SLOT_TOKEN_RE = re.compile(
    r"(\s*+(?:--[^\n]*\s*+)*+)"
    + rf"""(?:
     (?P<re>\{{\s*/[^\n]*?/\s*\}})
    |(?P<str>{STRING})
    |(?P<word>[A-Za-z_][\w/\-.]*)
    |(?P<lbrace>\{{)
    |(?P<rbrace>\}})
    |(?P<other>[^\s{{}}"]+)
    |(?P<eof>\Z)
    )""",
    re.X,
)
_SLOT_PATTERN_RE = re.compile(r"archetype_id/value\s+(?:matches|is_in)\s*\{\s*/(.*)/\s*\}", re.S)
_CONNECTIVES = frozenset({"and", "or", "xor", "implies", "not"})
_BOOLEANS = {"true": True, "false": False}

#: section keywords in their ADL 1.4 order (rank used to detect sections out of order)
_SECTION_ORDER = {
    "archetype": 0,
    "specialise": 1,
    "specialize": 1,
    "concept": 2,
    "language": 3,
    "description": 4,
    "definition": 5,
    "invariant": 6,
    "ontology": 7,
    "annotations": 8,
    "revision_history": 9,
}
_INVARIANT_END_RE = re.compile(r"^(ontology|annotations|revision_history)[ \t]*(?:--[^\n]*)?$", re.M)


class _AdlParser:
    """One parse of one archetype text; methods take and return positions in the whole text."""

    def __init__(self, text: str, source: str | None) -> None:
        self.text = text
        self.source = source

    # --- errors --------------------------------------------------------------------------------------------

    def error(self, code: str, message: str, pos: int, expected: str | None = None, found: str | None = None) -> ParseError:
        line, column = location(self.text, pos)
        if found is None:
            found = describe_at(self.text, pos)
        return ParseError(code, message, file=self.source, line=line, column=column, expected=expected, found=found)

    def unexpected(self, m: re.Match[str], expected: str, code: str = "ADL001") -> ParseError:
        kind = m.lastgroup or "bad"
        start = m.start(kind)
        if kind == "eof":
            return self.error("ADL001", "unexpected end of file: a block is not closed", start, expected=expected, found="end of file")
        if kind == "bad" and m.group(kind) == '"':
            return self.error("ADL001", "string is not closed", start, expected='closing \'"\'', found="end of file")
        return self.error(code, "unexpected input", start, expected=expected)

    def tok(self, pos: int) -> re.Match[str]:
        m = _CTOKEN_RE.match(self.text, pos)
        assert m is not None  # the pattern ends with a catch-all alternative
        return m

    def skip(self, pos: int) -> int:
        return _SKIP_RE.match(self.text, pos).end()  # type: ignore[union-attr]

    def expect_lbrace(self, pos: int, what: str) -> int:
        m = self.tok(pos)
        if m.lastgroup != "lbrace":
            raise self.unexpected(m, f"'{{' {what}")
        return m.end()

    def expect_rbrace(self, pos: int, what: str) -> int:
        m = self.tok(pos)
        if m.lastgroup != "rbrace":
            raise self.unexpected(m, f"'}}' {what}")
        return m.end()

    # --- top level -----------------------------------------------------------------------------------------

    def parse(self) -> Archetype:
        text = self.text
        pos = 0
        seen: dict[str, int] = {}
        rank = -1
        header: dict[str, Any] = {}
        archetype_id = ""
        parent: str | None = None
        concept = ""
        language: dict[str, Any] = {}
        description: dict[str, Any] = {}
        definition: CComplexObject | None = None
        invariants: list[str] = []
        ontology: dict[str, Any] | None = None
        annotations: dict[str, Any] = {}
        revision_history: Any = None
        while True:
            m = _WORD_RE.match(text, pos)
            if not m:
                end = self.skip(pos)
                if end >= len(text):
                    break
                raise self.error("ADL001", "expected a section keyword", end, expected="a section keyword (archetype, concept, language, ...)")
            word = m.group(1)
            start = m.start(1)
            if word not in _SECTION_ORDER:
                exp = "'archetype'" if not seen else "a section keyword (description, definition, ontology, ...)"
                code = "ADL003" if not seen else "ADL001"
                raise self.error(code, f"unknown section {word!r}", start, expected=exp, found=repr(word))
            key = "specialise" if word == "specialize" else word
            if key in seen:
                raise self.error("ADL005", f"section {word!r} appears twice", start, expected="each section once", found=repr(word))
            if not seen and key != "archetype":
                raise self.error("ADL002", "the archetype header is missing", start, expected="'archetype'", found=repr(word))
            if _SECTION_ORDER[word] < rank:
                raise self.error("ADL005", f"section {word!r} is out of order", start, expected="sections in ADL order", found=repr(word))
            rank = _SECTION_ORDER[word]
            seen[key] = start
            pos = m.end()
            if key == "archetype":
                header, archetype_id, pos = self.header(pos)
            elif key == "specialise":
                parent, pos = self.archetype_id(pos, "parent archetype id")
            elif key == "concept":
                cm = _CONCEPT_RE.match(text, pos)
                if not cm:
                    raise self.error("ADL001", "malformed concept", self.skip(pos), expected="a concept code like [at0000]")
                concept, pos = cm.group(1), cm.end()
            elif key in ("language", "description", "ontology", "annotations"):
                value, pos = odin.parse_odin_section(text, pos, source=self.source)
                if key == "language":
                    language = value
                elif key == "description":
                    description = value
                elif key == "ontology":
                    ontology = value
                else:
                    annotations = value
            elif key == "revision_history":
                revision_history, pos = odin.parse_odin_section(text, pos, source=self.source)
            elif key == "definition":
                definition, pos = self.definition(pos)
            elif key == "invariant":
                invariants, pos = self.invariant(pos)
        for required in ("concept", "definition", "ontology"):
            if required not in seen:
                raise self.error("ADL002", f"the {required!r} section is missing", len(text), expected=f"a {required!r} section", found="end of file")
        assert definition is not None and ontology is not None
        terminology = self.terminology(ontology, language, seen["ontology"])
        if "language" not in seen and "primary_language" not in ontology:
            raise self.error("ADL002", "the 'language' section is missing", seen["definition"], expected="a 'language' section", found="'definition'")
        return Archetype(
            archetype_id=archetype_id,
            concept=concept,
            definition=definition,
            ontology=terminology,
            adl_version=header.get("adl_version"),
            uid=header.get("uid"),
            parent_archetype_id=parent,
            is_controlled=bool(header.get("controlled")),
            is_generated=bool(header.get("generated")),
            language=language,
            description=description,
            invariants=invariants,
            annotations=annotations,
            revision_history=revision_history,
            source=self.source,
        )

    def header(self, pos: int) -> tuple[dict[str, Any], str, int]:
        """``(adl_version=1.4; uid=...; controlled; generated)`` then the archetype id."""
        meta: dict[str, Any] = {}
        hm = _HEADER_META_RE.match(self.text, pos)
        if hm:
            for item in hm.group(1).split(";"):
                item = item.strip()
                if not item:
                    continue
                key, eq, value = item.partition("=")
                key = key.strip()
                if eq:
                    meta[key] = value.strip()
                elif key in ("controlled", "generated"):
                    meta[key] = True
                elif key == "uncontrolled":
                    meta["controlled"] = False
                else:
                    meta[key] = True
            pos = hm.end()
        archetype_id, pos = self.archetype_id(pos, "archetype id")
        return meta, archetype_id, pos

    def archetype_id(self, pos: int, what: str) -> tuple[str, int]:
        m = _ARCHETYPE_ID_TOKEN_RE.match(self.text, pos)
        if not m or not _ARCHETYPE_ID_RE.fullmatch(m.group(1)):
            at = m.start(1) if m else self.skip(pos)
            raise self.error("ADL003", f"malformed {what}", at, expected="an id like openEHR-EHR-OBSERVATION.name.v1")
        return m.group(1), m.end()

    def invariant(self, pos: int) -> tuple[list[str], int]:
        """Invariant statements are kept as raw text, one per non-blank line, up to the next section."""
        m = _INVARIANT_END_RE.search(self.text, pos)
        end = m.start() if m else len(self.text)
        lines = []
        for line in self.text[pos:end].split("\n"):
            stripped = line.split("--", 1)[0].strip() if line.lstrip().startswith("--") else line.strip()
            if stripped:
                lines.append(stripped)
        return lines, end

    # --- ontology ------------------------------------------------------------------------------------------

    def terminology(self, ont: dict[str, Any], language: dict[str, Any], pos: int) -> Terminology:
        """Map the ontology ODIN to :class:`Terminology`."""
        original = language.get("original_language") if isinstance(language, dict) else None
        if isinstance(original, CodePhrase):
            original_language = original.code_string
        elif isinstance(original, str):
            original_language = original
        else:
            prim = ont.get("primary_language")
            original_language = prim if isinstance(prim, str) else "en"
        available = ont.get("terminologies_available", [])
        if isinstance(available, str):
            available = [available]
        elif not isinstance(available, list):
            available = []
        return Terminology(
            original_language=original_language,
            terminologies_available=[str(a) for a in available],
            term_definitions=self._definitions(ont.get("term_definitions"), "term_definitions", pos),
            constraint_definitions=self._definitions(ont.get("constraint_definitions"), "constraint_definitions", pos),
            term_bindings=self._bindings(ont.get("term_bindings", ont.get("term_binding"))),
            constraint_bindings=self._bindings(ont.get("constraint_bindings", ont.get("constraint_binding"))),  # type: ignore[arg-type]
        )

    def _definitions(self, value: Any, what: str, pos: int) -> dict[str, dict[str, dict[str, str]]]:
        out: dict[str, dict[str, dict[str, str]]] = {}
        if value is None:
            return out
        if not isinstance(value, dict):
            raise self.error("ADL001", f"{what} is not a set of languages", pos, expected=f'{what} = <["en"] = <items = <...>>>')
        for lang, body in value.items():
            items = body.get("items", body) if isinstance(body, dict) else {}
            codes: dict[str, dict[str, str]] = {}
            if isinstance(items, dict):
                for code, entry in items.items():
                    if isinstance(entry, dict):
                        codes[str(code)] = {str(k): v if isinstance(v, str) else str(v) for k, v in entry.items() if v is not None}
            out[str(lang)] = codes
        return out

    @staticmethod
    def _bindings(value: Any) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        if not isinstance(value, dict):
            return out
        for terminology, body in value.items():
            items = body.get("items", body) if isinstance(body, dict) else {}
            bound: dict[str, Any] = {}
            if isinstance(items, dict):
                for code, target in items.items():
                    # a one-item list is the same binding as the item itself
                    if isinstance(target, list) and len(target) == 1:
                        target = target[0]
                    bound[str(code)] = target
            out[str(terminology)] = bound
        return out

    # --- definition (cADL) ---------------------------------------------------------------------------------

    def definition(self, pos: int) -> tuple[CComplexObject, int]:
        m = self.tok(pos)
        if m.lastgroup != "ident":
            raise self.unexpected(m, "the root object, e.g. OBSERVATION[at0000] matches {...}")
        root, pos = self.complex_object(m.start("ident"), 0)
        if not isinstance(root, CComplexObject):
            raise self.error("ADL001", "the definition root must be a complex object", m.start("ident"), expected="TYPE[at0000] matches {...}")
        return root, pos

    def object_head(self, pos: int) -> tuple[str, str | None, Interval[int] | None, int, bool]:
        """``TYPE[node_id] occurrences matches {..}``; returns (type, node id, occurrences, pos, has 'matches {')."""
        text = self.text
        tm = _TYPE_RE.match(text, pos)
        if not tm:
            raise self.error("ADL001", "expected a type name", pos, expected="a reference model type name")
        rm_type = tm.group(0)
        pos = tm.end()
        if "<" in rm_type:
            # a generic type (DV_INTERVAL<DV_QUANTITY>); _TYPE_RE is greedy so re-check the tail strictly
            base, _, _ = rm_type.partition("<")
            gm = _GENERIC_TAIL_RE.match(text, tm.start() + len(base))
            if not gm:
                raise self.error("ADL001", "malformed generic type", tm.start(), expected="TYPE<PARAMETER>")
            rm_type = base + re.sub(r"\s+", "", gm.group(0))
            pos = gm.end()
        node_id = None
        nm = _NODE_ID_RE.match(text, pos)
        if nm:
            node_id, pos = nm.group(1), nm.end()
        occurrences = None
        km = _KEYWORD_MATCHES_RE.match(text, pos)
        if km:
            if km.group(1) != "occurrences":
                raise self.error("ADL001", f"'{km.group(1)}' is not allowed on an object", km.start(1), expected="'occurrences' or 'matches'")
            occurrences, pos = self.multiplicity(km.end(), "occurrences")
        mm = _MATCHES_RE.match(text, pos)
        if mm:
            return rm_type, node_id, occurrences, mm.end(), True
        return rm_type, node_id, occurrences, pos, False

    def multiplicity(self, pos: int, what: str) -> tuple[Interval[int], int]:
        iv, _, _, end = self.multiplicity_full(pos, what)
        return iv, end

    def multiplicity_full(self, pos: int, what: str) -> tuple[Interval[int], bool, bool, int]:
        """``{0..1}``, ``{1}``, ``{0..*; unordered; unique}`` -> (interval, ordered, unique, end)."""
        m = _MULTIPLICITY_RE.match(self.text, pos)
        if not m:
            raise self.error("ADL004", f"malformed {what}", pos, expected="{lower..upper} like {0..1} or {1..*}")
        lo_raw, hi_raw, extras = m.group(1), m.group(2), m.group(3)
        if hi_raw is None:
            hi_raw = lo_raw
            if lo_raw == "*":
                lo_raw = "0"
        if lo_raw == "*":
            raise self.error("ADL004", f"malformed {what}: the lower bound cannot be '*'", pos, expected="an integer lower bound")
        lower = int(lo_raw)
        upper = None if hi_raw == "*" else int(hi_raw)
        if upper is not None and upper < lower:
            raise self.error("ADL004", f"malformed {what}: {lower}..{upper} has its upper bound below its lower bound", pos, expected="lower <= upper", found=m.group(0))
        ordered, unique = True, False
        for word in re.findall(r"[A-Za-z_]+", extras or ""):
            if word == "unordered":
                ordered = False
            elif word == "ordered":
                ordered = True
            elif word == "unique":
                unique = True
            elif word != "non_unique":
                raise self.error("ADL004", f"unknown {what} flag {word!r}", pos, expected="ordered, unordered or unique", found=repr(word))
        return Interval(lower, upper), ordered, unique, m.end()

    def complex_object(self, pos: int, depth: int) -> tuple[CObject, int]:
        """``TYPE[id] occurrences matches {attributes | *}``, or an inline domain type ``C_DV_QUANTITY <...>``."""
        if depth > MAX_DEPTH:
            raise self.error("ADL001", f"objects nested deeper than {MAX_DEPTH} levels", pos, expected=f"at most {MAX_DEPTH} nested objects")
        rm_type, node_id, occ, pos, has_body = self.object_head(pos)
        if not has_body:
            nxt = self.skip(pos)
            if nxt < len(self.text) and self.text[nxt] == "<" and node_id is None and occ is None:
                return self.domain_type(rm_type, nxt, pos)
            # a head without a body constrains nothing below the type
            return CComplexObject(rm_type, node_id, occ, any_allowed=True), pos
        obj = CComplexObject(rm_type, node_id, occ)
        m = self.tok(pos)
        if m.lastgroup == "star":
            obj.any_allowed = True
            return obj, self.expect_rbrace(m.end(), f"after '*' in {rm_type}")
        while True:
            if m.lastgroup == "rbrace":
                return obj, m.end()
            if m.lastgroup in ("ident", "slash"):
                start = m.start(m.lastgroup)
                word = m.group("ident") if m.lastgroup == "ident" else ""
                if word in _SECTION_ORDER and (start == 0 or self.text[start - 1] == "\n"):
                    # a section keyword at the start of a line inside the definition: braces are unbalanced
                    raise self.error("ADL001", f"unbalanced braces: a '}}' is missing before section {word!r}", start, expected="'}'", found=repr(word))
                attr, pos = self.attribute(start, depth)
                obj.attributes.append(attr)
                m = self.tok(pos)
                continue
            raise self.unexpected(m, f"an attribute name or '}}' in {rm_type}" + (f"[{node_id}]" if node_id else ""))

    def attribute(self, pos: int, depth: int) -> tuple[CAttribute, int]:
        """``name existence matches {..} cardinality matches {..} matches {children}``."""
        text = self.text
        am = _ATTR_NAME_RE.match(text, pos)
        if not am:
            raise self.error("ADL001", "expected an attribute name", pos, expected="an attribute name or path")
        attr = CAttribute(am.group(0))
        pos = am.end()
        while True:
            km = _KEYWORD_MATCHES_RE.match(text, pos)
            if not km:
                break
            word = km.group(1)
            if word == "existence":
                attr.existence, pos = self.multiplicity(km.end(), "existence")
            elif word == "cardinality":
                interval, ordered, unique, pos = self.multiplicity_full(km.end(), "cardinality")
                attr.cardinality = Cardinality(interval, ordered, unique)
                attr.is_multiple = True
            else:
                raise self.error("ADL001", "'occurrences' is not allowed on an attribute", km.start(1), expected="'existence', 'cardinality' or 'matches'")
        mm = _MATCHES_RE.match(text, pos)
        if not mm:
            if attr.existence is not None or attr.cardinality is not None:
                # ADL allows an attribute with only existence/cardinality
                return attr, pos
            raise self.error("ADL001", f"expected 'matches {{' after attribute {attr.rm_attribute_name!r}", self.skip(pos), expected="'matches {'")
        attr.children, pos = self.children(mm.end(), depth)
        return attr, pos

    def children(self, pos: int, depth: int) -> tuple[list[CObject], int]:
        """The objects constraining one attribute, up to and including its ``}``."""
        text = self.text
        kids: list[CObject] = []
        ordinals: CDvOrdinal | None = None
        while True:
            m = self.tok(pos)
            kind = m.lastgroup
            start = m.start(kind) if kind else pos
            if kind == "rbrace":
                return kids, m.end()
            if kind == "ident":
                word = m.group("ident")
                if word == "use_node":
                    obj, pos = self.internal_ref(m.end())
                elif word == "allow_archetype":
                    obj, pos = self.slot(m.end(), depth)
                elif word.lower() in _BOOLEANS:
                    obj, pos = self.primitive(start)
                else:
                    obj, pos = self.complex_object(start, depth + 1)
                kids.append(obj)
                continue
            if kind == "lb":
                obj, pos = self.code_phrase(start)
                kids.append(obj)
                continue
            if kind in ("int", "real"):
                om = _ORDINAL_SYMBOL_RE.match(text, m.end())
                if om:
                    if ordinals is None:
                        ordinals = CDvOrdinal("DV_ORDINAL")
                        kids.append(ordinals)
                    raw = m.group(kind)
                    ordinals.list.append(OrdinalItem(int(raw) if kind == "int" else float(raw), CodePhrase(om.group(1), om.group(2))))  # type: ignore[arg-type]
                    pos = self.after_ordinal(om.end(), ordinals)
                    continue
            if kind in ("str", "slash", "interval", "dtpat", "tpat", "dt", "date", "time", "dur", "durpat", "real", "int"):
                obj, pos = self.primitive(start)
                kids.append(obj)
                continue
            if kind == "star":
                # `attr matches {*}`: no constraint on the attribute's objects
                pos = m.end()
                continue
            raise self.unexpected(m, "an object constraint or '}'")

    def after_ordinal(self, pos: int, ordinals: CDvOrdinal) -> int:
        """After one ``n|[t::c]``: a comma (more items), ``; n`` (assumed value), or the end of the list."""
        m = self.tok(pos)
        if m.lastgroup == "comma":
            return m.end()
        if m.lastgroup == "semi":
            vm = self.tok(m.end())
            if vm.lastgroup not in ("int", "real"):
                raise self.unexpected(vm, "the assumed ordinal value", "ADL004")
            raw = vm.group(vm.lastgroup)
            ordinals.assumed_value = int(raw) if vm.lastgroup == "int" else float(raw)  # type: ignore[assignment]
            return vm.end()
        return pos

    def internal_ref(self, pos: int) -> tuple[ArchetypeInternalRef, int]:
        """``use_node TYPE occurrences matches {..} /path``."""
        start = self.skip(pos)
        rm_type, node_id, occ, pos, has_body = self.object_head(start)
        if has_body:
            raise self.error("ADL001", "use_node takes a path, not a block", pos - 1, expected="a path like /data[at0001]")
        pm = _PATH_RE.match(self.text, pos)
        if not pm or len(pm.group(1)) < 1:
            raise self.error("ADL001", "use_node without a target path", self.skip(pos), expected="a path like /data[at0001]/items[at0002]")
        return ArchetypeInternalRef(rm_type, node_id, occ, target_path=pm.group(1)), pm.end()

    def slot(self, pos: int, depth: int) -> tuple[ArchetypeSlot, int]:
        """``allow_archetype TYPE[id] occurrences matches {..} matches {include ... exclude ...}``."""
        start = self.skip(pos)
        rm_type, node_id, occ, pos, has_body = self.object_head(start)
        slot = ArchetypeSlot(rm_type, node_id, occ)
        if not has_body:
            return slot, pos
        text = self.text
        target: list[SlotAssertion] | None = None
        current: list[tuple[int, int]] = []  # spans (start, end) of the tokens of the assertion being read
        last_word = ""
        brace_depth = 0

        def flush() -> None:
            if current and target is not None:
                target.append(_assertion(text[current[0][0] : current[-1][1]]))
            current.clear()

        while True:
            m = _SLOT_TOKEN_RE.match(text, pos)
            if m is None:
                # only an unclosed string fails every alternative
                raise self.error("ADL001", "string is not closed", self.skip(pos), expected="closing '\"'")
            if m.lastgroup == "eof":
                raise self.error("ADL001", "unexpected end of file in a slot", len(text), expected="'}' closing the slot", found="end of file")
            kind = m.lastgroup
            tstart, tend = m.start(kind), m.end()
            value = m.group(kind)
            newline = "\n" in m.group(1)
            if brace_depth == 0 and kind == "rbrace":
                flush()
                return slot, tend
            if brace_depth == 0 and kind == "word" and value in ("include", "exclude"):
                flush()
                target = slot.includes if value == "include" else slot.excludes
                pos, last_word = tend, ""
                continue
            if kind == "str" and '"' not in value[1:]:
                raise self.error("ADL001", "string is not closed", tstart, expected="closing '\"'")
            if target is None and kind == "other" and value == "*" and not current:
                # `matches {*}`: a slot open to any archetype of its type
                pos = tend
                continue
            if target is None:
                raise self.error("ADL001", "expected 'include' or 'exclude' in a slot", tstart, expected="'include', 'exclude' or '}'")
            if brace_depth == 0 and newline and current and value not in _CONNECTIVES and last_word not in _CONNECTIVES:
                flush()
            if kind == "lbrace":
                brace_depth += 1
            elif kind == "rbrace":
                brace_depth -= 1
            current.append((tstart, tend))
            last_word = value if kind == "word" else ""
            pos = tend

    def domain_type(self, rm_type: str, lt_pos: int, type_pos: int) -> tuple[CObject, int]:
        """``C_DV_QUANTITY <...>``, ``C_DV_ORDINAL <...>``, ``C_CODE_PHRASE <...>``, ``C_DV_STATE <...>`` in ODIN."""
        value, end = odin.parse_odin_block(self.text, lt_pos, source=self.source)
        if not isinstance(value, dict):
            raise self.error("ADL004", f"{rm_type} needs attribute values", lt_pos, expected=f"{rm_type} <attribute = <...> ...>")
        try:
            if rm_type == "C_DV_QUANTITY":
                return self._quantity(value), end
            if rm_type == "C_DV_ORDINAL":
                return self._ordinal(value), end
            if rm_type == "C_CODE_PHRASE":
                return self._code_phrase_odin(value), end
            if rm_type == "C_DV_STATE":
                return CDvState("DV_STATE", value=value), end
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            raise self.error("ADL004", f"malformed {rm_type}: {exc}", lt_pos, expected=f"a valid {rm_type}") from None
        raise self.error("ADL004", f"unknown domain type {rm_type!r}", type_pos, expected="C_DV_QUANTITY, C_DV_ORDINAL, C_CODE_PHRASE or C_DV_STATE", found=repr(rm_type))

    @staticmethod
    def _quantity(value: dict[Any, Any]) -> CDvQuantity:
        prop = value.get("property")
        if isinstance(prop, list) and prop:
            prop = prop[0]
        items: list[CQuantityItem] = []
        raw_list = value.get("list") or {}
        entries = raw_list.values() if isinstance(raw_list, dict) else raw_list
        for entry in entries:
            if not isinstance(entry, dict):
                raise ValueError("a list item is not an object")
            magnitude = entry.get("magnitude")
            precision = entry.get("precision")
            if magnitude is not None and not isinstance(magnitude, Interval):
                magnitude = Interval(magnitude, magnitude)
            if isinstance(magnitude, Interval):
                magnitude = Interval(
                    None if magnitude.lower is None else float(magnitude.lower),
                    None if magnitude.upper is None else float(magnitude.upper),
                    magnitude.lower_included,
                    magnitude.upper_included,
                )
            if precision is not None and not isinstance(precision, Interval):
                precision = Interval(int(precision), int(precision))
            items.append(CQuantityItem(str(entry.get("units", "")), magnitude, precision))
        return CDvQuantity(
            "DV_QUANTITY",
            property=prop if isinstance(prop, CodePhrase) else None,
            list=items,
            assumed_value=value.get("assumed_value"),
        )

    @staticmethod
    def _ordinal(value: dict[Any, Any]) -> CDvOrdinal:
        obj = CDvOrdinal("DV_ORDINAL")
        raw_list = value.get("list") or {}
        entries = raw_list.values() if isinstance(raw_list, dict) else raw_list
        for entry in entries:
            symbol = entry.get("symbol")
            code = symbol.get("defining_code") if isinstance(symbol, dict) else symbol
            if not isinstance(code, CodePhrase):
                raise ValueError("an ordinal item has no symbol code")
            obj.list.append(OrdinalItem(int(entry.get("value")), code))
        assumed = value.get("assumed_value")
        if isinstance(assumed, dict):
            assumed = assumed.get("value")
        obj.assumed_value = int(assumed) if assumed is not None else None
        return obj

    @staticmethod
    def _code_phrase_odin(value: dict[Any, Any]) -> CCodePhrase:
        tid = value.get("terminology_id")
        if isinstance(tid, dict):
            tid = tid.get("value")
        codes = value.get("code_list") or []
        if isinstance(codes, str):
            codes = [codes]
        assumed = value.get("assumed_value")
        if isinstance(assumed, CodePhrase):
            assumed = assumed.code_string
        elif isinstance(assumed, dict):
            assumed = assumed.get("code_string")
        return CCodePhrase("CODE_PHRASE", terminology_id=tid, code_list=[str(c) for c in codes], assumed_value=assumed)

    def code_phrase(self, pos: int) -> tuple[CObject, int]:
        """``[local::at1, at2; at2]``, ``[local::]``, ``[SNOMED-CT::123]`` or a constraint reference ``[ac0001]``."""
        text = self.text
        rm = _AC_REF_RE.match(text, pos)
        if rm:
            return ConstraintRef("CODE_PHRASE", reference=rm.group(1)), rm.end()
        hm = _CODE_HEAD_RE.match(text, pos)
        if not hm:
            raise self.error("ADL004", "malformed code phrase", pos, expected="[terminology::code, ...] or [acNNNN]")
        obj = CCodePhrase("CODE_PHRASE", terminology_id=hm.group(1))
        pos = hm.end()
        while True:
            pm = _PUNCT_RE.match(text, pos)
            if pm and pm.group(1) == "]":
                return obj, pm.end()
            cm = _CODE_RE.match(text, pos)
            if not cm:
                raise self.error("ADL004", "malformed code list", self.skip(pos), expected="a code, ',' or ']'")
            obj.code_list.append(cm.group(1))
            pm = _PUNCT_RE.match(text, cm.end())
            if not pm:
                raise self.error("ADL004", "malformed code list", self.skip(cm.end()), expected="',', ';' or ']'")
            sep = pm.group(1)
            pos = pm.end()
            if sep == "]":
                return obj, pos
            if sep == ";":
                am = _CODE_RE.match(text, pos)
                if not am:
                    raise self.error("ADL004", "missing assumed code after ';'", self.skip(pos), expected="a code")
                obj.assumed_value = am.group(1)
                em = _PUNCT_RE.match(text, am.end())
                if not em or em.group(1) != "]":
                    raise self.error("ADL004", "code list not closed", self.skip(am.end()), expected="']'")
                return obj, em.end()

    # --- primitives ----------------------------------------------------------------------------------------

    def primitive(self, pos: int) -> tuple[CPrimitiveObject, int]:
        """A primitive constraint (String, Integer, Real, Boolean, Date, Time, DateTime, Duration) up to ``}``."""
        m = self.tok(pos)
        kind = m.lastgroup
        if kind in ("str", "slash"):
            item, pos = self.c_string(m)
            return CPrimitiveObject("STRING", item=item), pos
        if kind == "ident":
            item_b, pos = self.c_boolean(m)
            return CPrimitiveObject("BOOLEAN", item=item_b), pos
        if kind == "dt" or (kind == "dtpat" and "T" in m.group("dtpat")):
            return self.c_temporal(m, CDateTime(), "DATE_TIME")
        if kind == "dtpat":
            return self.c_temporal(m, CDate(), "DATE")
        if kind == "date":
            return self.c_temporal(m, CDate(), "DATE")
        if kind in ("tpat", "time"):
            return self.c_temporal(m, CTime(), "TIME")
        if kind in ("dur", "durpat"):
            return self.c_temporal(m, CDuration(), "DURATION")
        if kind in ("int", "real", "interval"):
            return self.c_number_or_temporal(m)
        raise self.unexpected(m, "a primitive constraint")

    def assumed(self, pos: int) -> tuple[re.Match[str] | None, int]:
        """An optional ``; value`` after a primitive constraint: returns (value token, pos)."""
        m = self.tok(pos)
        if m.lastgroup != "semi":
            return None, pos
        vm = self.tok(m.end())
        if vm.lastgroup in ("rbrace", "eof", "bad"):
            raise self.unexpected(vm, "an assumed value after ';'", "ADL004")
        return vm, vm.end()

    def regex_literal(self, pos: int) -> tuple[str, int]:
        """``/pattern/`` starting at ``pos``; the pattern ends at the ``/`` that precedes ``}``, ``;`` or ``,``."""
        rm = _REGEX_RE.match(self.text, pos)
        if not rm:
            raise self.error("ADL004", "regular expression is not closed", pos, expected="/pattern/")
        return rm.group(1), rm.end()

    def c_string(self, m: re.Match[str]) -> tuple[CString, int]:
        item = CString()
        if m.lastgroup == "slash":
            item.pattern, pos = self.regex_literal(m.start("slash"))
        else:
            item.list.append(odin.unescape(m.group("str")[1:-1]))
            pos = m.end()
            while True:
                cm = self.tok(pos)
                if cm.lastgroup != "comma":
                    break
                vm = self.tok(cm.end())
                if vm.lastgroup == "bad" and vm.group("bad") == "." and self.text.startswith("...", vm.start("bad")):
                    item.list_open = True
                    pos = vm.start("bad") + 3
                    break
                if vm.lastgroup != "str":
                    raise self.unexpected(vm, "a string after ','", "ADL004")
                item.list.append(odin.unescape(vm.group("str")[1:-1]))
                pos = vm.end()
        am, pos = self.assumed(pos)
        if am is not None:
            if am.lastgroup != "str":
                raise self.unexpected(am, "an assumed string value", "ADL004")
            item.assumed_value = odin.unescape(am.group("str")[1:-1])
        return item, pos

    def c_boolean(self, m: re.Match[str]) -> tuple[CBoolean, int]:
        values: list[bool] = []
        while True:
            word = m.group("ident") if m.lastgroup == "ident" else ""
            if word.lower() not in _BOOLEANS:
                raise self.unexpected(m, "True or False", "ADL004")
            values.append(_BOOLEANS[word.lower()])
            pos = m.end()
            cm = self.tok(pos)
            if cm.lastgroup != "comma":
                break
            m = self.tok(cm.end())
        item = CBoolean(true_valid=True in values, false_valid=False in values)
        am, pos = self.assumed(pos)
        if am is not None:
            word = am.group("ident") if am.lastgroup == "ident" else ""
            if word.lower() not in _BOOLEANS:
                raise self.unexpected(am, "an assumed True or False", "ADL004")
            item.assumed_value = _BOOLEANS[word.lower()]
        return item, pos

    def interval_at(self, pos: int) -> tuple[Interval[Any], int]:
        im = _INTERVAL_RE.match(self.text, pos)
        if not im:
            raise self.error("ADL004", "interval is not closed", pos, expected="|lower..upper|")
        try:
            return odin.parse_interval(im.group(1)), im.end()
        except ValueError as exc:
            raise self.error("ADL004", f"malformed interval: {exc}", pos, expected="an interval like |0..5|, |>=0.0| or |PT0S..PT1H|", found=repr(im.group(0))) from None

    def c_number_or_temporal(self, m: re.Match[str]) -> tuple[CPrimitiveObject, int]:
        """Integer or Real lists/intervals; an interval of dates, times or durations goes to its own type."""
        ranges: list[Interval[Any]] = []
        values: list[Any] = []
        pos = m.start(m.lastgroup or "bad")
        first_start = pos
        while True:
            kind = m.lastgroup
            if kind == "interval":
                iv, pos = self.interval_at(m.start("interval"))
                ranges.append(iv)
            elif kind == "int":
                values.append(int(m.group("int")))
                pos = m.end()
            elif kind == "real":
                values.append(float(m.group("real")))
                pos = m.end()
            else:
                raise self.unexpected(m, "a number or an interval", "ADL004")
            cm = self.tok(pos)
            if cm.lastgroup != "comma":
                break
            m = self.tok(cm.end())
        bounds = [b for iv in ranges for b in (iv.lower, iv.upper) if b is not None]
        if bounds and all(isinstance(b, str) for b in bounds):
            return self._temporal_from_intervals(first_start, ranges, values, pos)
        if any(isinstance(b, str) for b in bounds) or any(isinstance(v, str) for v in values):
            raise self.error("ADL004", "mixed numbers and dates in one constraint", first_start, expected="one kind of value")
        is_real = any(isinstance(v, float) for v in values + bounds)
        am, pos = self.assumed(pos)
        assumed: Any = None
        if am is not None:
            if am.lastgroup not in ("int", "real"):
                raise self.unexpected(am, "an assumed number", "ADL004")
            assumed = float(am.group(am.lastgroup)) if (is_real or am.lastgroup == "real") else int(am.group("int"))
        if is_real:
            rng = ranges[0] if len(ranges) == 1 else None
            if rng is not None:
                rng = Interval(
                    None if rng.lower is None else float(rng.lower),
                    None if rng.upper is None else float(rng.upper),
                    rng.lower_included,
                    rng.upper_included,
                )
            real = CReal(assumed_value=assumed, list=[float(v) for v in values], range=rng)
            return CPrimitiveObject("REAL", item=real), pos
        integer = CInteger(assumed_value=assumed, list=list(values), range=ranges[0] if len(ranges) == 1 else None)
        if len(ranges) > 1:
            # several ranges cannot all be kept in one CInteger, so the range is their hull
            integer.range = _hull(ranges)
        return CPrimitiveObject("INTEGER", item=integer), pos

    def _temporal_from_intervals(self, start: int, ranges: list[Interval[Any]], values: list[Any], pos: int) -> tuple[CPrimitiveObject, int]:
        sample = next(b for iv in ranges for b in (iv.lower, iv.upper) if b is not None)
        item: CPrimitive
        if sample.lstrip("+-").startswith("P"):
            item, rm = CDuration(range=ranges[0]), "DURATION"
        elif "T" in sample:
            item, rm = CDateTime(range=ranges[0]), "DATE_TIME"
        elif ":" in sample:
            item, rm = CTime(range=ranges[0]), "TIME"
        else:
            item, rm = CDate(range=ranges[0]), "DATE"
        am, pos = self.assumed(pos)
        if am is not None:
            item.assumed_value = am.group(am.lastgroup or "bad")
        return CPrimitiveObject(rm, item=item), pos

    def c_temporal(self, m: re.Match[str], item: Any, rm: str) -> tuple[CPrimitiveObject, int]:
        """Date/Time/DateTime/Duration: a pattern (``yyyy-mm-??``, ``PYMWD``), values, ``pattern/|interval|``."""
        kind = m.lastgroup
        pos = m.end()
        if kind in ("dtpat", "tpat", "durpat"):
            item.pattern = m.group(kind)
            if self.text.startswith("/", pos):
                item.range, pos = self.interval_at(pos + 1)
        else:
            item.list.append(m.group(kind))
            while True:
                cm = self.tok(pos)
                if cm.lastgroup != "comma":
                    break
                vm = self.tok(cm.end())
                if vm.lastgroup != kind:
                    raise self.unexpected(vm, "a value of the same kind after ','", "ADL004")
                item.list.append(vm.group(kind))
                pos = vm.end()
        am, pos = self.assumed(pos)
        if am is not None:
            item.assumed_value = am.group(am.lastgroup or "bad")
        return CPrimitiveObject(rm, item=item), pos


def _hull(ranges: list[Interval[Any]]) -> Interval[Any]:
    lows = [r.lower for r in ranges]
    highs = [r.upper for r in ranges]
    lower = None if any(v is None for v in lows) else min(lows)  # type: ignore[type-var]
    upper = None if any(v is None for v in highs) else max(highs)  # type: ignore[type-var]
    return Interval(lower, upper)


def _assertion(raw: str) -> SlotAssertion:
    """One slot assertion; the ``archetype_id/value matches {/re/}`` form also gets target and pattern."""
    expression = " ".join(raw.split())
    m = _SLOT_PATTERN_RE.fullmatch(raw.strip())
    if m:
        return SlotAssertion(expression, target="archetype_id/value", pattern=m.group(1))
    return SlotAssertion(expression)


def parse_adl(text: str, *, source: str | None = None) -> Archetype:
    """Parse ADL 1.4 text into an :class:`Archetype`; bad input raises a located :class:`ParseError`."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ParseError("TXT004", "the file is empty", file=source, line=1, column=1, expected="an ADL archetype", found="empty text")
    parser = _AdlParser(text, source)
    try:
        return parser.parse()
    except ParseError:
        raise
    except RecursionError:
        raise ParseError("ADL001", "input nested too deeply", file=source, line=1, column=1, expected="reasonable nesting", found="very deep nesting") from None


def load_archetype(path: str | os.PathLike[str], *, max_bytes: int = MAX_ADL_BYTES) -> Archetype:
    """Read, decode (UTF-8, BOM and CRLF tolerated) and parse one ``.adl`` file."""
    name = str(path)
    data = read_bytes(path, max_bytes=max_bytes)
    if not data.strip():
        raise ParseError("TXT004", "the file is empty", file=name, line=1, column=1, expected="an ADL archetype", found="empty file")
    return parse_adl(decode_text(data, name), source=name)
