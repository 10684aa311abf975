"""Where findings are in the source text, and the suppression comments written there.

The archetype object model keeps no source positions (its trees are shared and only read), so lint finds lines
again in the ADL text: a node id in the definition section, a code in a language block of ``term_definitions``,
a binding in ``term_bindings``. A line found this way is the first place the code is written, which is where a
modeller looks for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from openehr_kit.diagnostics import REGISTRY

_SECTION_RE = re.compile(r"^(archetype|specialise|specialize|concept|language|description|definition|invariant|"
                         r"rules|ontology|terminology|annotations|revision_history)\b", re.M)
_ONTO_BLOCK_RE = re.compile(r"^\s*(term_definitions|constraint_definitions|term_bindings|term_binding|"
                            r"constraint_bindings|constraint_binding|terminologies_available|term_attribute_names)"
                            r"\s*=", re.M)
_KEY_RE = re.compile(r'\[\s*"([^"]+)"\s*\]\s*=')
_CODE_KEY_RE = re.compile(r"(?:at|ac)\d+(?:\.\d+)*$")


@dataclass
class AdlLocator:
    """Line lookups in one ADL text (1-based lines and columns)."""

    text: str
    lines: list[str] = field(init=False)
    sections: dict[str, tuple[int, int]] = field(init=False, default_factory=dict)
    #: (block, language or terminology, code) -> (line, column)
    onto: dict[tuple[str, str, str], tuple[int, int]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.text = self.text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
        self.lines = self.text.split("\n")
        starts = [(m.group(1), self.text.count("\n", 0, m.start())) for m in _SECTION_RE.finditer(self.text)]
        for i, (name, line0) in enumerate(starts):
            end = starts[i + 1][1] if i + 1 < len(starts) else len(self.lines)
            self.sections.setdefault(name, (line0, end))
        self._scan_ontology()

    def _scan_ontology(self) -> None:
        lo, hi = self.sections.get("ontology", self.sections.get("terminology", (0, 0)))
        block = ""
        group = ""
        for i in range(lo, hi):
            line = self.lines[i]
            m = _ONTO_BLOCK_RE.match(line)
            if m:
                block = {"term_binding": "term_bindings", "constraint_binding": "constraint_bindings"}.get(
                    m.group(1), m.group(1))
                group = ""
            for km in _KEY_RE.finditer(line):
                key = km.group(1)
                if _CODE_KEY_RE.match(key) or key.startswith("/"):
                    self.onto.setdefault((block, group, key), (i + 1, km.start() + 1))
                elif block:
                    group = key

    def section(self, name: str) -> tuple[int, int] | None:
        return self.sections.get(name)

    def search(self, pattern: str | re.Pattern[str], section: str | None = None) -> tuple[int, int] | None:
        """The first (line, column) where ``pattern`` matches, within a section when given."""
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        lo, hi = self.sections.get(section, (0, len(self.lines))) if section else (0, len(self.lines))
        for i in range(lo, hi):
            m = rx.search(self.lines[i])
            if m:
                return i + 1, m.start() + 1
        return None

    def code_in_definition(self, code: str) -> tuple[int, int] | None:
        """Where a node id or local code is first written in the definition."""
        return self.search(_code_re(code), "definition")

    def term(self, block: str, group: str, code: str) -> tuple[int, int] | None:
        return self.onto.get((block, group, code))

    def literal(self, needle: str, section: str | None = None) -> tuple[int, int] | None:
        return self.search(re.compile(re.escape(needle)), section)

    def language_block(self, language: str) -> tuple[int, int] | None:
        """Where ``["xx"] = <`` of a language is first written (translations, then term_definitions)."""
        return self.search(re.compile(r'\[\s*"' + re.escape(language) + r'"\s*\]\s*='), "language") or \
            self.search(re.compile(r'\[\s*"' + re.escape(language) + r'"\s*\]\s*='), "ontology")


def _code_re(code: str) -> re.Pattern[str]:
    # at0001 must not match inside at0001.1 or at00011
    return re.compile(r"(?<![\w.])" + re.escape(code) + r"(?![\w]|\.\d)")


# --- suppressions ------------------------------------------------------------------------------------------------

_DIRECTIVE = r"openehr-kit:\s*(ignore-file|ignore)(?:\[([^\]]*)\])?"
_COMMENT_RES = {
    "adl": re.compile(r"--\s*" + _DIRECTIVE),
    "xml": re.compile(r"<!--\s*" + _DIRECTIVE),
    "yaml": re.compile(r"#\s*" + _DIRECTIVE),
}
_ONLY_COMMENT_RES = {
    "adl": re.compile(r"^\s*--"),
    "xml": re.compile(r"^\s*<!--.*-->\s*$"),
    "yaml": re.compile(r"^\s*#"),
}
ALL = "*"


@dataclass
class Suppressions:
    """Inline and file-level suppressions of one file; codes match by prefix, ``*`` matches every code."""

    by_line: dict[int, set[str]] = field(default_factory=dict)
    file_level: set[str] = field(default_factory=set)
    #: (line, code) of suppression codes that name no registered code
    unknown: list[tuple[int, str]] = field(default_factory=list)

    def suppresses(self, code: str, line: int | None) -> bool:
        if _matches(code, self.file_level):
            return True
        return line is not None and _matches(code, self.by_line.get(line, set()))


def _matches(code: str, prefixes: set[str]) -> bool:
    return any(p == ALL or code.startswith(p) for p in prefixes)


def parse_suppressions(text: str, syntax: str) -> Suppressions:
    """Suppression comments in ``text`` written in the comment syntax of ``adl``, ``xml`` or ``yaml``.

    A comment at the end of a line suppresses on that line; a comment alone on its line also suppresses on the
    next line (XML elements and YAML keys are easier to annotate from above).
    """
    out = Suppressions()
    rx = _COMMENT_RES[syntax]
    only = _ONLY_COMMENT_RES[syntax]
    if "openehr-kit:" not in text:
        return out
    for i, line in enumerate(text.split("\n"), 1):
        if "openehr-kit:" not in line:
            continue
        for m in rx.finditer(line):
            raw = m.group(2)
            codes = {c.strip().upper() for c in raw.split(",") if c.strip()} if raw else {ALL}
            for c in codes:
                if c != ALL and not any(k.startswith(c) for k in REGISTRY):
                    out.unknown.append((i, c))
            if m.group(1) == "ignore-file":
                out.file_level |= codes
            else:
                out.by_line.setdefault(i, set()).update(codes)
                if only.match(line):
                    out.by_line.setdefault(i + 1, set()).update(codes)
    return out


__all__ = ["ALL", "AdlLocator", "Suppressions", "parse_suppressions"]
