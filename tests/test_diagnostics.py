"""Every issue code used anywhere in the package is registered, with a one-line explanation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from openehr_kit.diagnostics import FAMILIES, REGISTRY, Issue, ParseError, Severity

PACKAGE = Path(__file__).resolve().parent.parent / "openehr_kit"
CODE_RE = re.compile(r"\b(" + "|".join(FAMILIES) + r")(\d{3})\b")


def used_codes() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for src in PACKAGE.rglob("*.py"):
        if src.name == "diagnostics.py":
            continue
        for lineno, line in enumerate(src.read_text(encoding="utf-8").splitlines(), 1):
            for m in CODE_RE.finditer(line):
                found.setdefault(m.group(0), []).append(f"{src.relative_to(PACKAGE)}:{lineno}")
    return found


def test_every_used_code_is_registered() -> None:
    used = used_codes()
    assert used, "the scan found no issue codes at all, so it is not looking in the right place"
    unregistered = {code: where for code, where in used.items() if code not in REGISTRY}
    assert not unregistered, f"codes used but not registered in diagnostics.REGISTRY: {unregistered}"


def test_registry_entries_are_well_formed() -> None:
    for code, info in REGISTRY.items():
        assert info.code == code
        assert CODE_RE.fullmatch(code), f"{code} is not FAMILY+3 digits of a declared family"
        assert isinstance(info.severity, Severity)
        assert info.summary.endswith(".") and 10 < len(info.summary) < 200, code


def test_unregistered_code_is_refused() -> None:
    with pytest.raises(KeyError, match="not registered"):
        Issue("ZZZ999", "nope")
    with pytest.raises(KeyError):
        ParseError("ADL999", "nope")


def test_issue_takes_default_severity_and_serialises() -> None:
    issue = Issue("ADL001", "unexpected token", file="a.adl", line=3, column=7, expected="'>'", found="'}'")
    assert issue.severity is Severity.ERROR
    data = issue.to_dict()
    assert data["code"] == "ADL001" and data["line"] == 3 and data["column"] == 7
    assert str(issue) == "a.adl:3:7: ADL001 unexpected token"


def test_parse_error_message_has_expected_and_found() -> None:
    err = ParseError("ODN001", "unexpected token", file="x.adl", line=2, column=5, expected="'='", found="'<'")
    assert "expected '=', found '<'" in str(err)
    assert err.to_issue().line == 2
