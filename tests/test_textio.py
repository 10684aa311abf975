from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openehr_kit.diagnostics import ParseError
from openehr_kit.fsutil import atomic_write_text
from openehr_kit.textio import decode_text, loads_json, parse_xml_bytes, read_bytes


def test_bom_and_crlf_are_normalised() -> None:
    assert decode_text("\ufeffa\r\nb\rc\n".encode()) == "a\nb\nc\n"


def test_latin1_is_refused_with_location() -> None:
    data = "line one\nnavn = <\"Bjørn\">\n".encode("latin-1")
    with pytest.raises(ParseError) as ei:
        decode_text(data, "x.adl")
    err = ei.value
    assert err.code == "TXT001" and err.file == "x.adl"
    assert (err.line, err.column) == (2, 12)


@given(st.text())
def test_any_utf8_text_round_trips_modulo_line_ends(s: str) -> None:
    expected = s.replace("\r\n", "\n").replace("\r", "\n")
    if expected.startswith("\ufeff"):
        expected = expected[1:]
    assert decode_text(s.encode("utf-8")) == expected


def test_missing_file_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(ParseError) as ei:
        read_bytes(tmp_path / "nope.adl")
    assert ei.value.code == "TXT002"


def test_size_limit(tmp_path: Path) -> None:
    f = tmp_path / "big.opt"
    f.write_bytes(b"x" * 100)
    with pytest.raises(ParseError) as ei:
        read_bytes(f, max_bytes=10)
    assert ei.value.code == "TXT003"


def test_xml_entities_are_refused() -> None:
    evil = b'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY e SYSTEM "file:///etc/passwd">]><t>&e;</t>'
    with pytest.raises(ParseError) as ei:
        parse_xml_bytes(evil, "evil.xml")
    assert ei.value.code == "XML002"


def test_malformed_xml_is_located() -> None:
    with pytest.raises(ParseError) as ei:
        parse_xml_bytes(b"<a>\n<b></a>", "bad.xml")
    assert ei.value.code == "XML001" and ei.value.line == 2


def test_atomic_write_replaces_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "out" / "x.json"
    atomic_write_text(target, "first")
    atomic_write_text(target, "second")
    assert target.read_text() == "second"
    assert [p.name for p in target.parent.iterdir()] == ["x.json"]


def test_atomic_write_gives_ordinary_permissions(tmp_path: Path) -> None:
    import os

    umask = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "y.txt", "x")
    finally:
        os.umask(umask)
    assert (tmp_path / "y.txt").stat().st_mode & 0o777 == 0o644


# -- loads_json: json.loads's result and errors, faster ---------------------------------------------------------

_json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True), st.text(),
)
_json_values = st.recursive(_json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=8), inner, max_size=5)), max_leaves=25)


def _same(a: object, b: object) -> bool:
    """Equal including types, key order and the sign of zero (json.dumps tells them all apart)."""
    return json.dumps(a) == json.dumps(b)


@given(_json_values, st.sampled_from([None, 0, 2]), st.booleans())
def test_loads_json_gives_what_json_loads_gives(value: object, indent: int | None, as_bytes: bool) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=bool(indent))
    data: bytes | str = text.encode("utf-8", "surrogatepass") if as_bytes else text
    try:
        expected = json.loads(data)
    except ValueError:  # a lone surrogate cannot travel as UTF-8 bytes: both must refuse
        with pytest.raises(ValueError):
            loads_json(data)
        return
    assert _same(loads_json(data), expected)


@pytest.mark.parametrize("text", [
    '{"a": 1, "a": 2, "b": 3}', "-0", "-0.0", "1e400", "-1e400", "NaN", "[Infinity]", "12345678901234567890",
    "-9223372036854775809", '"\\ud800"', '\ufeff{"a": 1}', "[1.0, 10, 1E2]", '{"k": "\\u00e6\\u00f8\\u00e5"}',
])
def test_loads_json_edge_cases_match(text: str) -> None:
    for data in (text, text.encode("utf-8", "surrogatepass")):
        try:
            expected = json.loads(data)
        except ValueError as exc:
            with pytest.raises(type(exc)) as got:
                loads_json(data)
            assert str(got.value) == str(exc)
            continue
        assert _same(loads_json(data), expected)


@pytest.mark.parametrize("text", ['{"a":', "[1, 2", '{"a" 1}', "", "tru"])
def test_loads_json_errors_are_json_errors(text: str) -> None:
    with pytest.raises(json.JSONDecodeError) as got:
        loads_json(text.encode())
    with pytest.raises(json.JSONDecodeError) as want:
        json.loads(text.encode())
    assert (got.value.msg, got.value.lineno, got.value.colno) == (want.value.msg, want.value.lineno, want.value.colno)
