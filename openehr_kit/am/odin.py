"""ODIN (dADL) parser: the data syntax of ADL 1.4 sections (language, description, ontology, ...).

ODIN text is a list of ``attribute = <value>`` pairs. Values map to Python as follows:

* nested objects ``<attr = <...> ...>`` -> ``dict``; keyed objects ``["key"] = <...>`` -> ``dict`` keyed by the key
  (``str``, ``int`` or ``float``); a typed object ``(TYPE) <...>`` or ``TYPE <...>`` that is an object keeps the
  type name under the key ``"_type"``
* lists ``<"a", "b">`` / ``<"a", ...>`` -> ``list``; an empty block ``<>`` -> ``{}``
* strings (``\\"`` and ``\\\\`` unescaped), ints, floats, booleans (any case), characters -> ``str``
* dates, times, date-times and durations -> their ISO 8601 text (``str``)
* intervals ``|0..5|``, ``|>=0.0|``, ``|PT0S..PT1H|`` -> :class:`Interval`
* term codes ``[terminology::code]`` -> :class:`CodePhrase`; URIs (``<http://...>``) -> ``str``

The lexer is one compiled master regex matched at a position (no per-character Python loop). Every error is a
:class:`ParseError` whose line and column refer to the whole text, so an error inside an ADL section points at
the real line of the file.
"""

from __future__ import annotations

import re
from typing import Any

from openehr_kit.am.model import CodePhrase, Interval
from openehr_kit.diagnostics import ParseError

__all__ = [
    "parse_odin",
    "parse_odin_block",
    "parse_odin_section",
    "parse_interval",
    "location",
    "describe_at",
]

#: nesting deeper than this is refused (real files nest < 15 levels) so hostile input cannot blow the stack
MAX_DEPTH = 120

# --- shared lexical pieces (the cADL parser reuses them) -----------------------------------------------------------

SKIP = r"(?:\s+|--[^\n]*)*+"
STRING = r'"[^"\\]*+(?:\\[\s\S][^"\\]*+)*+"'
_TZ = r"(?:Z|[+-]\d{2}(?::?\d{2})?)"
DATE_TIME = rf"\d{{4}}-\d{{2}}-\d{{2}}T\d{{2}}(?::\d{{2}}(?::\d{{2}}(?:[.,]\d+)?)?)?{_TZ}?"
DATE = r"\d{4}-\d{2}(?:-\d{2})?(?![\d:T])"
TIME = rf"\d{{2}}:\d{{2}}(?::\d{{2}}(?:[.,]\d+)?)?{_TZ}?"
DURATION = r"[+-]?P(?=[\dT])(?:\d+(?:[.,]\d+)?[YMWD])*(?:T(?:\d+(?:[.,]\d+)?[HMS])+)?(?![\w.])"
REAL = r"[+-]?\d+(?:\.\d+(?:[eE][+-]?\d+)?|[eE][+-]?\d+)"
INTEGER = r"[+-]?\d+"
TERM_CODE = r"\[[ \t]*([A-Za-z][\w.\-()]*)[ \t]*::[ \t]*([^\]\s]*)[ \t]*\]"

_TOKEN_RE = re.compile(
    SKIP
    + rf"""(?:
     (?P<str>{STRING})
    |(?P<lt><)
    |(?P<gt>>)
    |(?P<eq>=)
    |(?P<comma>,)
    |(?P<ellipsis>\.\.\.)
    |(?P<term>{TERM_CODE})
    |(?P<lb>\[)
    |(?P<rb>\])
    |(?P<interval>\|[^|\n]*\|)
    |(?P<dt>{DATE_TIME})
    |(?P<date>{DATE})
    |(?P<time>{TIME})
    |(?P<dur>{DURATION})
    |(?P<real>{REAL})
    |(?P<int>{INTEGER})
    |(?P<uri>[A-Za-z][A-Za-z0-9+.\-]*:(?!:)[^\s<>]*)
    |(?P<ident>[A-Za-z_]\w*)
    |(?P<lp>\()
    |(?P<rp>\))
    |(?P<char>'(?:[^'\\\n]|\\.)')
    |(?P<eof>\Z)
    |(?P<bad>[\s\S])
    )""",
    re.X,
)

#: fast paths for the two commonest blocks: ``<"text">`` and ``<[terminology::code]>``
_STR_BLOCK_RE = re.compile(SKIP + r'"([^"\\]*+(?:\\[\s\S][^"\\]*+)*+)"' + SKIP + ">")
_TERM_BLOCK_RE = re.compile(SKIP + TERM_CODE + SKIP + ">")
_UNESCAPE_RE = re.compile(r'\\([\\"])')

_BOUND_RE = re.compile(
    rf"""(?:
     (?P<dt>{DATE_TIME})
    |(?P<date>{DATE})
    |(?P<time>{TIME})
    |(?P<dur>{DURATION})
    |(?P<real>{REAL})
    |(?P<int>{INTEGER})
    )""",
    re.X,
)

_KIND_NAMES = {
    "str": "a string",
    "lt": "'<'",
    "gt": "'>'",
    "eq": "'='",
    "comma": "','",
    "ellipsis": "'...'",
    "term": "a term code",
    "lb": "'['",
    "rb": "']'",
    "interval": "an interval",
    "eof": "end of text",
}


def location(text: str, pos: int) -> tuple[int, int]:
    """1-based (line, column) of ``pos`` in ``text``."""
    pos = max(0, min(pos, len(text)))
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return line, column


def describe_at(text: str, pos: int) -> str:
    """A short human description of what stands at ``pos`` (for the ``found`` part of an error)."""
    m = re.compile(SKIP).match(text, pos)
    pos = m.end() if m else pos
    if pos >= len(text):
        return "end of file"
    snippet = text[pos : pos + 24].split("\n", 1)[0]
    return repr(snippet if snippet else text[pos])


def unescape(body: str) -> str:
    """Undo ODIN string escapes (``\\"`` and ``\\\\``); other backslashes stay as written."""
    return _UNESCAPE_RE.sub(r"\1", body) if "\\" in body else body


def bound_value(raw: str) -> Any:
    """One interval bound: int, float, or ISO date/time/duration text; ValueError if it is none of these."""
    m = _BOUND_RE.fullmatch(raw)
    if not m:
        raise ValueError(f"{raw!r} is not a number, date, time or duration")
    kind = m.lastgroup
    if kind == "int":
        return int(raw)
    if kind == "real":
        return float(raw)
    return raw


def parse_interval(body: str) -> Interval[Any]:
    """Parse the inside of ``|...|``: ``a..b``, ``>a..<b``, ``>=a``, ``<a``, ``a``; ``*`` is unbounded.

    Unbounded ends keep the default ``*_included=True`` (as :func:`model.occurrences` does). ValueError explains
    what is wrong.
    """
    s = body.strip()
    if not s:
        raise ValueError("empty interval")
    if ".." in s:
        lo_raw, hi_raw = s.split("..", 1)
        lo_raw, hi_raw = lo_raw.strip(), hi_raw.strip()
        lo_inc = hi_inc = True
        if lo_raw.startswith(">="):
            lo_raw = lo_raw[2:].strip()
        elif lo_raw.startswith(">"):
            lo_raw, lo_inc = lo_raw[1:].strip(), False
        if hi_raw.startswith("<="):
            hi_raw = hi_raw[2:].strip()
        elif hi_raw.startswith("<"):
            hi_raw, hi_inc = hi_raw[1:].strip(), False
        lo = None if lo_raw in ("", "*") else bound_value(lo_raw)
        hi = None if hi_raw in ("", "*") else bound_value(hi_raw)
        if lo is None and hi is None and not (lo_raw == "*" or hi_raw == "*"):
            raise ValueError("interval has no bounds")
        if lo is None:
            lo_inc = True
        if hi is None:
            hi_inc = True
    else:
        lo = hi = None
        lo_inc = hi_inc = True
        for op in (">=", "<=", ">", "<"):
            if s.startswith(op):
                value = bound_value(s[len(op) :].strip())
                if op[0] == ">":
                    lo, lo_inc = value, op == ">="
                else:
                    hi, hi_inc = value, op == "<="
                break
        else:
            lo = hi = bound_value(s)
    if lo is not None and hi is not None:
        if isinstance(lo, float) != isinstance(hi, float) and isinstance(lo, (int, float)) and isinstance(hi, (int, float)):
            lo, hi = float(lo), float(hi)
        if type(lo) is not type(hi):
            raise ValueError(f"interval bounds {lo!r} and {hi!r} are of different kinds")
        if isinstance(lo, (int, float)) and lo > hi:
            raise ValueError(f"lower bound {lo} is above upper bound {hi}")
    return Interval(lo, hi, lo_inc, hi_inc)


def term_code(terminology: str, code: str) -> CodePhrase:
    return CodePhrase(terminology.strip(), code.strip())


class _OdinParser:
    """Recursive descent over the master token regex; positions are always offsets into the whole text."""

    __slots__ = ("text", "source", "end")

    def __init__(self, text: str, source: str | None, end: int | None = None) -> None:
        self.text = text
        self.source = source
        self.end = len(text) if end is None else end

    # --- errors --------------------------------------------------------------------------------------------

    def error(self, code: str, message: str, pos: int, expected: str | None = None, found: str | None = None) -> ParseError:
        line, column = location(self.text, pos)
        if found is None:
            found = describe_at(self.text, pos) if pos < self.end else "end of text"
        return ParseError(code, message, file=self.source, line=line, column=column, expected=expected, found=found)

    def unexpected(self, m: re.Match[str], expected: str) -> ParseError:
        kind = m.lastgroup or "bad"
        start = m.start(kind)
        if kind == "bad":
            ch = m.group(kind)
            if ch == '"':
                return self.error("ODN002", "string is not closed", start, expected='closing \'"\'', found="end of file")
            if ch == "|":
                return self.error("ODN002", "interval is not closed", start, expected="closing '|'", found=describe_at(self.text, start))
        if kind == "eof":
            return self.error("ODN002", "unexpected end of text: a block is not closed", start, expected=expected, found="end of file")
        return self.error("ODN001", f"unexpected {_KIND_NAMES.get(kind, kind)}", start, expected=expected)

    def tok(self, pos: int) -> re.Match[str]:
        m = _TOKEN_RE.match(self.text, pos, self.end)
        assert m is not None  # the pattern ends with a catch-all alternative
        return m

    # --- grammar -------------------------------------------------------------------------------------------

    def attributes(self, pos: int, depth: int, closing: bool, stop_at_keyword: bool) -> tuple[dict[Any, Any], int]:
        """``attr = <v>`` and ``[key] = <v>`` pairs up to ``>`` (closing) or the end / a section keyword."""
        if depth > MAX_DEPTH:
            raise self.error("ODN001", f"nesting deeper than {MAX_DEPTH} levels", pos, expected=f"at most {MAX_DEPTH} nested blocks")
        result: dict[Any, Any] = {}
        tok = self.tok
        while True:
            m = tok(pos)
            kind = m.lastgroup
            if kind == "ident":
                name = m.group("ident")
                m2 = tok(m.end())
                if m2.lastgroup != "eq":
                    if stop_at_keyword and not closing:
                        return result, m.start("ident")
                    raise self.unexpected(m2, f"'=' after attribute name {name!r}")
                value, pos = self.value(m2.end(), depth + 1)
                if name in result:
                    raise self.error("ODN001", f"attribute {name!r} appears twice", m.start("ident"), expected="a new attribute name", found=repr(name))
                result[name] = value
            elif kind == "lb":
                km = tok(m.end())
                key = self.primitive(km, "a key (string or integer)")
                rb = tok(km.end())
                if rb.lastgroup != "rb":
                    raise self.unexpected(rb, "']' after the key")
                eq = tok(rb.end())
                if eq.lastgroup != "eq":
                    raise self.unexpected(eq, "'=' after the key")
                value, pos = self.value(eq.end(), depth + 1)
                if key in result:
                    raise self.error("ODN001", f"key {key!r} appears twice", km.start(km.lastgroup or "bad"), expected="a new key", found=repr(key))
                result[key] = value
            elif closing and kind == "gt":
                return result, m.end()
            elif not closing and kind == "eof":
                return result, m.start("eof")
            else:
                raise self.unexpected(m, "'>'" if closing and not result else "an attribute name or '['" + (" or '>'" if closing else ""))

    def value(self, pos: int, depth: int) -> tuple[Any, int]:
        """The value after ``=``: ``<...>``, ``(TYPE) <...>`` or ``TYPE <...>``."""
        m = self.tok(pos)
        kind = m.lastgroup
        if kind == "lt":
            return self.block(m.end(), depth)
        type_name: str | None = None
        if kind == "lp":
            tm = self.tok(m.end())
            if tm.lastgroup != "ident":
                raise self.unexpected(tm, "a type name")
            rp = self.tok(tm.end())
            if rp.lastgroup != "rp":
                raise self.unexpected(rp, "')'")
            type_name, m = tm.group("ident"), self.tok(rp.end())
        elif kind == "ident":
            type_name, m = m.group("ident"), self.tok(m.end())
        else:
            raise self.unexpected(m, "'<'")
        if m.lastgroup != "lt":
            raise self.unexpected(m, f"'<' after type {type_name}")
        value, end = self.block(m.end(), depth)
        if isinstance(value, dict):
            value = {"_type": type_name, **value}
        return value, end

    def block(self, pos: int, depth: int) -> tuple[Any, int]:
        """The content of ``<...>`` from just after ``<``; returns the position after ``>``."""
        text = self.text
        fm = _STR_BLOCK_RE.match(text, pos, self.end)
        if fm:
            return unescape(fm.group(1)), fm.end()
        fm = _TERM_BLOCK_RE.match(text, pos, self.end)
        if fm:
            return term_code(fm.group(1), fm.group(2)), fm.end()
        m = self.tok(pos)
        kind = m.lastgroup
        if kind == "gt":
            return {}, m.end()
        if kind == "lb":
            return self.attributes(pos, depth, True, False)
        if kind == "ident":
            nxt = self.tok(m.end())
            if nxt.lastgroup == "eq":
                return self.attributes(pos, depth, True, False)
        if kind == "lt" or kind == "eof" or kind == "bad" and m.group("bad") not in '"|':
            raise self.unexpected(m, "a value, an attribute name, '[' or '>'")
        # a primitive or a list of primitives
        first = self.primitive(m, "a value")
        m = self.tok(m.end())
        if m.lastgroup == "gt":
            return first, m.end()
        if m.lastgroup != "comma":
            raise self.unexpected(m, "',' or '>'")
        items = [first]
        while True:
            m = self.tok(m.end())
            if m.lastgroup == "ellipsis":
                m = self.tok(m.end())
                if m.lastgroup != "gt":
                    raise self.unexpected(m, "'>' after '...'")
                return items, m.end()
            items.append(self.primitive(m, "a list item"))
            m = self.tok(m.end())
            if m.lastgroup == "gt":
                return items, m.end()
            if m.lastgroup != "comma":
                raise self.unexpected(m, "',' or '>'")

    def primitive(self, m: re.Match[str], expected: str) -> Any:
        """Convert one primitive token to its Python value."""
        kind = m.lastgroup
        raw = m.group(kind) if kind else ""
        if kind == "str":
            return unescape(raw[1:-1])
        if kind == "int":
            return int(raw)
        if kind == "real":
            return float(raw)
        if kind == "term":
            return self._term(raw)
        if kind == "interval":
            try:
                return parse_interval(raw[1:-1])
            except ValueError as exc:
                raise self.error("ODN003", f"malformed interval: {exc}", m.start(kind), expected="an interval like |0..5| or |>=0.0|", found=repr(raw)) from None
        if kind in ("dt", "date", "time", "dur", "uri"):
            return raw
        if kind == "ident":
            low = raw.lower()
            if low == "true":
                return True
            if low == "false":
                return False
        if kind == "char":
            return unescape(raw[1:-1])
        raise self.unexpected(m, expected)

    @staticmethod
    def _term(raw: str) -> CodePhrase:
        inner = raw[1:-1]
        terminology, _, code = inner.partition("::")
        return term_code(terminology, code)


def parse_odin(text: str, pos: int = 0, end: int | None = None, *, source: str | None = None) -> Any:
    """Parse an ODIN body (``attr = <value>`` pairs, keyed pairs, or one ``<...>`` block) in ``text[pos:end]``."""
    parser = _OdinParser(text, source, end)
    m = parser.tok(pos)
    if m.lastgroup == "lt":
        value, after = parser.block(m.end(), 0)
        tail = parser.tok(after)
        if tail.lastgroup != "eof":
            raise parser.unexpected(tail, "end of text")
        return value
    value, _ = parser.attributes(pos, 0, False, False)
    return value


def parse_odin_block(text: str, pos: int, *, source: str | None = None) -> tuple[Any, int]:
    """Parse one ``<...>`` block starting at ``text[pos] == '<'``; returns (value, position after ``>``)."""
    parser = _OdinParser(text, source)
    if pos >= len(text) or text[pos] != "<":
        raise parser.error("ODN001", "an ODIN block must start with '<'", pos, expected="'<'")
    return parser.block(pos + 1, 0)


def parse_odin_section(text: str, pos: int, *, source: str | None = None) -> tuple[dict[Any, Any], int]:
    """Parse ``attr = <value>`` pairs from ``pos`` up to the first bare word (the next ADL section keyword).

    Returns (pairs, position of that word or of the end of the text).
    """
    return _OdinParser(text, source).attributes(pos, 0, False, True)
