from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openehr_kit.diagnostics import ParseError
from openehr_kit.fsutil import atomic_write_text
from openehr_kit.textio import decode_text, parse_xml_bytes, read_bytes


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
