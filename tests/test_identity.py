"""Fødselsnummer and D-number validation (mod-11 check digits) and masking."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from openehr_kit.mapping.identity import check_digits, check_national_id, is_valid_national_id, mask

# synthetic numbers built with the algorithm (not real persons)
VALID = ["15065010000", "15065010191", "01010012356"]


def make(day: int, month: int, year2: int, individual: int, d_number: bool = False) -> str | None:
    first = f"{day + (40 if d_number else 0):02d}{month:02d}{year2:02d}{individual:03d}"
    digits = check_digits(first)
    return None if digits is None else first + digits


def test_known_valid_and_invalid() -> None:
    for n in VALID:
        assert is_valid_national_id(n), n
    assert not is_valid_national_id("01010012357")  # wrong k2
    assert not is_valid_national_id("0101001235")  # 10 digits
    assert not is_valid_national_id("0101001235a")
    assert not is_valid_national_id("32010012356")  # day 32
    assert check_national_id("12345").reason == "an identity number has exactly 11 digits"


def test_d_number() -> None:
    n = make(1, 1, 0, 124, d_number=True) or make(1, 1, 0, 125, d_number=True)
    assert n is not None and n.startswith("41")
    verdict = check_national_id(n)
    assert verdict.ok and verdict.kind == "D-nummer"


def test_check_digit_ten_means_no_valid_number() -> None:
    # some first-nine combinations have no valid number at all (a computed digit of 10)
    impossible = [f"010100{i:03d}" for i in range(1000) if check_digits(f"010100{i:03d}") is None]
    assert impossible, "expected some individual numbers without valid check digits"
    for nine in impossible[:20]:
        assert not any(is_valid_national_id(nine + f"{k:02d}") for k in range(100))


dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2039, 12, 31))


@settings(max_examples=300, deadline=None)
@given(dates, st.integers(0, 999), st.booleans())
def test_generated_numbers_pass(day: dt.date, individual: int, d_number: bool) -> None:
    n = make(day.day, day.month, day.year % 100, individual, d_number)
    if n is None:  # check digit 10: no number exists for these nine digits
        return
    assert is_valid_national_id(n)


@settings(max_examples=300, deadline=None)
@given(dates, st.integers(0, 999), st.integers(0, 10), st.integers(1, 9))
def test_any_single_digit_change_fails(day: dt.date, individual: int, pos: int, delta: int) -> None:
    """Both check digits use weights that are non-zero mod 11 (a prime), so changing one digit always changes
    the weighted sum mod 11: every single-digit change is detected. There is no valid collision at all."""
    n = make(day.day, day.month, day.year % 100, individual)
    if n is None:
        return
    changed = n[:pos] + str((int(n[pos]) + delta) % 10) + n[pos + 1:]
    assert changed != n
    assert not is_valid_national_id(changed)


def test_mask_never_shows_the_number() -> None:
    for n in VALID:
        m = mask(n)
        assert n not in m and m.startswith(n[:2]) and len(m) == 11 and m.count("*") == 9
    assert mask(None) == "(none)"
    assert mask("123") == "***"
