"""Tests of the ODIN (dADL) parser: values, blocks, located errors and round-trip properties."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openehr_kit.am.model import CodePhrase, Interval
from openehr_kit.am.odin import parse_interval, parse_odin, parse_odin_block, parse_odin_section
from openehr_kit.diagnostics import ParseError

# ---------------------------------------------------------------------------------------------------------------
# A small test-side ODIN writer (the round-trip properties serialise generated values with it)

_IDENT = re.compile(r"[a-z_][a-z0-9_]*\Z")


def write_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_bound(v: Any) -> str:
    return repr(v) if isinstance(v, float) else str(v)


def write_interval(iv: Interval[Any]) -> str:
    if iv.lower is not None and iv.upper is not None:
        if iv.lower == iv.upper and iv.lower_included and iv.upper_included:
            return f"|{write_bound(iv.lower)}|"
        lo = ("" if iv.lower_included else ">") + write_bound(iv.lower)
        hi = ("" if iv.upper_included else "<") + write_bound(iv.upper)
        return f"|{lo}..{hi}|"
    if iv.lower is not None:
        return f"|{'>=' if iv.lower_included else '>'}{write_bound(iv.lower)}|"
    return f"|{'<=' if iv.upper_included else '<'}{write_bound(iv.upper)}|"


def write_primitive(v: Any) -> str:
    if isinstance(v, bool):
        return "True" if v else "false"
    if isinstance(v, str):
        return write_string(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, Interval):
        return write_interval(v)
    if isinstance(v, CodePhrase):
        return f"[{v.terminology_id}::{v.code_string}]"
    raise TypeError(v)


def write_block(v: Any, indent: str = "") -> str:
    """``<...>`` for any value; dicts with identifier keys become attributes, others keyed objects."""
    inner = indent + "\t"
    if isinstance(v, dict):
        if not v:
            return "<>"
        lines = []
        for k, item in v.items():
            if isinstance(k, str) and _IDENT.match(k):
                lines.append(f"{inner}{k} = {write_block(item, inner)}")
            else:
                key = write_string(k) if isinstance(k, str) else str(k)
                lines.append(f"{inner}[{key}] = {write_block(item, inner)}")
        return "<\n" + "\n".join(lines) + f"\n{indent}>"
    if isinstance(v, list):
        if len(v) == 1:
            return f"<{write_primitive(v[0])}, ...>"
        return "<" + ", ".join(write_primitive(x) for x in v) + ">"
    return f"<{write_primitive(v)}>"


def write_odin(attrs: dict[str, Any]) -> str:
    return "\n".join(f"{k} = {write_block(v)}" for k, v in attrs.items()) + "\n"


# ---------------------------------------------------------------------------------------------------------------
# Strategies

idents = st.from_regex(r"[a-z_][a-z0-9_]{0,12}", fullmatch=True)
texts = st.text(max_size=40)  # any unicode incl. quotes, backslashes, newlines (surrogates excluded by default)
ints = st.integers(min_value=-(10**12), max_value=10**12)
reals = st.floats(allow_nan=False, allow_infinity=False, width=64)


@st.composite
def intervals(draw: st.DrawFn, values: st.SearchStrategy[Any] | None = None) -> Interval[Any]:
    vals = values if values is not None else st.one_of(st.integers(-1000, 1000), reals)
    a, b = draw(vals), draw(vals)
    if isinstance(a, float) or isinstance(b, float):
        a, b = float(a), float(b)
    lo, hi = min(a, b), max(a, b)
    shape = draw(st.sampled_from(["both", "lower", "upper"]))
    if shape == "lower":
        return Interval(lo, None, draw(st.booleans()), True)
    if shape == "upper":
        return Interval(None, hi, True, draw(st.booleans()))
    if lo == hi:
        return Interval(lo, hi, True, True)
    return Interval(lo, hi, draw(st.booleans()), draw(st.booleans()))


term_codes = st.builds(
    CodePhrase,
    st.from_regex(r"[A-Za-z][A-Za-z0-9_\-]{0,10}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,10}", fullmatch=True),
)
primitives = st.one_of(texts, ints, reals, st.booleans(), intervals(), term_codes)
leaves = st.one_of(primitives, st.lists(primitives, min_size=1, max_size=5))


def keyed(children: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[Any, Any]]:
    keys = st.one_of(texts, st.integers(-1000, 1000))
    return st.dictionaries(keys, children, max_size=4)


odin_values = st.recursive(
    leaves,
    lambda children: st.one_of(st.dictionaries(idents, children, max_size=4), keyed(children)),
    max_leaves=20,
)


# ---------------------------------------------------------------------------------------------------------------
# Properties


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(idents, odin_values, min_size=1, max_size=4))
def test_round_trip_of_generated_values(value: dict[str, Any]) -> None:
    assert parse_odin(write_odin(value)) == value


@settings(max_examples=100, deadline=None)
@given(texts)
def test_strings_with_quotes_backslashes_newlines_unicode(s: str) -> None:
    assert parse_odin(f"x = <{write_string(s)}>") == {"x": s}


@settings(max_examples=150, deadline=None)
@given(intervals())
def test_interval_round_trip(iv: Interval[Any]) -> None:
    parsed = parse_interval(write_interval(iv)[1:-1])
    assert parsed == iv
    assert parsed.lower_unbounded == (iv.lower is None)
    assert parsed.upper_unbounded == (iv.upper is None)


@settings(max_examples=150, deadline=None)
@given(intervals(st.integers(-100, 100)), st.integers(-150, 150))
def test_interval_inclusion_matches_bounds(iv: Interval[int], x: int) -> None:
    parsed = parse_interval(write_interval(iv)[1:-1])
    expected = True
    if iv.lower is not None:
        expected &= x > iv.lower or (x == iv.lower and iv.lower_included)
    if iv.upper is not None:
        expected &= x < iv.upper or (x == iv.upper and iv.upper_included)
    assert parsed.contains(x) == expected


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 1000), st.integers(0, 1000))
def test_interval_lower_above_upper_is_refused(a: int, b: int) -> None:
    lo, hi = max(a, b) + 1, min(a, b)
    with pytest.raises(ParseError) as err:
        parse_odin(f"x = <|{lo}..{hi}|>")
    assert err.value.code == "ODN003"


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 20), st.dictionaries(idents, odin_values, min_size=1, max_size=3))
def test_block_at_offset_returns_end(prefix_lines: int, value: dict[str, Any]) -> None:
    prefix = "x\n" * prefix_lines + "T "
    block = write_block(value)
    text = prefix + block + " tail"
    parsed, end = parse_odin_block(text, len(prefix))
    assert parsed == value
    assert text[end:] == " tail"


# ---------------------------------------------------------------------------------------------------------------
# Examples


def test_values_of_every_kind() -> None:
    text = """
    -- a comment line
    s = <"say \\"hi\\" \\\\ there">   -- trailing comment
    multi = <"line 1
line 2 -- not a comment">
    i = <-42>
    r = <1.5e-3>
    big = <2E10>
    b = <TRUE>
    b2 = <false>
    d = <2006-03-22>
    t = <10:30:00>
    dt = <2006-03-22T10:30:00+01:00>
    dur = <PT1H30M>
    iv1 = <|0..5|>
    iv2 = <|>=0.0|>
    iv3 = <|0.0..<1000.0|>
    iv4 = <|<10|>
    iv5 = <|-90.0..90.0|>
    iv6 = <|PT0S..PT1H|>
    code = <[ISO_639-1::en]>
    codes = <[SNOMED-CT::123456], [LOINC(2.65)::55745-8]>
    uri = <http://openehr.org/a?b=c>
    uri2 = <terminology:SNOMED-CT>
    lst = <"a", "b">
    open_list = <"a", ...>
    empty = <>
    c = <'x'>
    """
    v = parse_odin(text)
    assert v["s"] == 'say "hi" \\ there'
    assert v["multi"] == "line 1\nline 2 -- not a comment"
    assert v["i"] == -42 and v["r"] == 0.0015 and v["big"] == 2e10
    assert v["b"] is True and v["b2"] is False
    assert v["d"] == "2006-03-22" and v["t"] == "10:30:00" and v["dt"] == "2006-03-22T10:30:00+01:00"
    assert v["dur"] == "PT1H30M"
    assert v["iv1"] == Interval(0, 5)
    assert v["iv2"] == Interval(0.0, None)
    assert v["iv3"] == Interval(0.0, 1000.0, True, False)
    assert v["iv4"] == Interval(None, 10, True, False)
    assert v["iv5"] == Interval(-90.0, 90.0)
    assert v["iv6"] == Interval("PT0S", "PT1H")
    assert v["code"] == CodePhrase("ISO_639-1", "en")
    assert v["codes"] == [CodePhrase("SNOMED-CT", "123456"), CodePhrase("LOINC(2.65)", "55745-8")]
    assert v["uri"] == "http://openehr.org/a?b=c" and v["uri2"] == "terminology:SNOMED-CT"
    assert v["lst"] == ["a", "b"] and v["open_list"] == ["a"]
    assert v["empty"] == {} and v["c"] == "x"


def test_nested_keyed_and_typed_objects() -> None:
    text = """
    term_definitions = <
        ["en"] = <
            items = <
                ["at0000"] = <
                    text = <"Blood pressure">
                    description = <"desc">
                >
            >
        >
    >
    numbered = <
        [1] = <"one">
        [2] = <"two">
    >
    typed = (DV_TEXT) <value = <"x">>
    typed2 = DV_TEXT <value = <"y">>
    """
    v = parse_odin(text)
    assert v["term_definitions"]["en"]["items"]["at0000"] == {"text": "Blood pressure", "description": "desc"}
    assert v["numbered"] == {1: "one", 2: "two"}
    assert v["typed"] == {"_type": "DV_TEXT", "value": "x"}
    assert v["typed2"] == {"_type": "DV_TEXT", "value": "y"}


def test_whole_text_can_be_one_block() -> None:
    assert parse_odin('<a = <1> b = <"x">>') == {"a": 1, "b": "x"}


def test_section_stops_at_next_keyword() -> None:
    text = 'language\n\toriginal_language = <[ISO_639-1::en]>\ndescription\n\tx = <1>\n'
    value, end = parse_odin_section(text, len("language"))
    assert value == {"original_language": CodePhrase("ISO_639-1", "en")}
    assert text[end:].startswith("description")


# ---------------------------------------------------------------------------------------------------------------
# Located errors


def _err(text: str, **kw: Any) -> ParseError:
    with pytest.raises(ParseError) as err:
        parse_odin(text, **kw)
    e = err.value
    assert e.line is not None and e.column is not None and e.expected and e.found
    return e


def test_unclosed_string_points_at_the_quote() -> None:
    e = _err('a = <1>\nb = <"never closed\n', source="f.adl")
    assert (e.code, e.line, e.column, e.file) == ("ODN002", 2, 6, "f.adl")


def test_unclosed_block() -> None:
    e = _err("a = <\n  b = <1>\n")
    assert e.code == "ODN002" and e.found == "end of file" and e.line == 3


def test_bad_interval() -> None:
    e = _err("x = <1>\ny = <|1..a|>")
    assert (e.code, e.line, e.column) == ("ODN003", 2, 6)
    e = _err("y = <|3..|")
    assert e.code == "ODN002"


def test_unexpected_token_and_missing_equals() -> None:
    e = _err("a <1>")
    assert e.code == "ODN001" and "'='" in e.expected
    e = _err("a = <1 2>")
    assert e.code == "ODN001" and e.column == 8


def test_duplicate_key_is_refused() -> None:
    e = _err('x = <["a"] = <1> ["a"] = <2>>')
    assert e.code == "ODN001" and "twice" in e.message


def test_error_positions_refer_to_the_whole_text() -> None:
    text = "header line\nsecond line\n  a = <1>\n  b = <@>\n"
    e = _err(text, pos=text.index("a ="))
    assert (e.line, e.column) == (4, 8)


def test_deep_nesting_is_refused_not_crashing() -> None:
    text = "a = " + "<x = " * 400 + "<1>" + ">" * 400
    e = _err(text)
    assert e.code == "ODN001"


def test_block_must_start_with_angle() -> None:
    with pytest.raises(ParseError):
        parse_odin_block("abc", 0)
