"""ISO 8601 parsing (openEHR profile), ADL 1.4 date/time/duration patterns, ranges and primitive constraints."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openehr_kit.am.model import (
    CBoolean,
    CDate,
    CDateTime,
    CDuration,
    CInteger,
    CReal,
    CString,
    CTime,
    Interval,
)
from openehr_kit.diagnostics import REGISTRY
from openehr_kit.validation.primitives import (
    IsoError,
    check_primitive,
    compile_pattern,
    date_time_problem,
    days_in_month,
    duration_pattern_violation,
    is_leap,
    mask_violation,
    parse_date,
    parse_date_time,
    parse_duration,
    parse_mask,
    parse_time,
)
from openehr_kit.validation.report import Reporter, Where

W = Where("/data/items[at0001]/value", "/content/0/data/items/0/value", label="Test node")


def codes(constraint, value, **kw) -> list[str]:
    rep = Reporter()
    check_primitive(constraint, value, W, rep, **kw)
    for issue in rep.issues:
        assert issue.code in REGISTRY
        assert "object at 0x" not in issue.message and "RMObject(" not in issue.message
    return [i.code for i in rep.issues]


def messages(constraint, value, **kw) -> list[str]:
    rep = Reporter()
    check_primitive(constraint, value, W, rep, **kw)
    return [i.message for i in rep.issues]


# ---------------------------------------------------------------------------------------------------------------
# dates


@pytest.mark.parametrize("text", ["2024-03-05", "2024-03", "2024", "20240305", "2024-02-29", "2000-02-29", "0001-01-01", "1999-12-31"])
def test_valid_dates_parse_and_round_trip(text: str) -> None:
    assert parse_date(text).iso() == text


@pytest.mark.parametrize(
    "text, reason",
    [
        ("2024-02-30", "day 30 does not exist"),
        ("2023-02-29", "not a leap year"),
        ("1900-02-29", "not a leap year"),
        ("2024-13-01", "month 13"),
        ("2024-00-10", "month 00"),
        ("2024-04-31", "day 31"),
        ("2024-03-00", "day 00"),
        ("202403", "ambiguous"),
        ("2024-W10-2", "week dates"),
        ("2024-3-5", "expected"),
        ("24-03-05", "expected"),
        ("2024-03-05T10:00", "time part"),
        ("2024-0305", "expected"),
        ("", "expected"),
        (" 2024-03-05", "expected"),
    ],
)
def test_invalid_dates_say_why(text: str, reason: str) -> None:
    with pytest.raises(IsoError, match=reason):
        parse_date(text)


def test_leap_years_and_month_lengths() -> None:
    assert is_leap(2024) and is_leap(2000) and not is_leap(1900) and not is_leap(2023)
    assert [days_in_month(2023, m) for m in range(1, 13)] == [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    assert days_in_month(2024, 2) == 29


# ---------------------------------------------------------------------------------------------------------------
# times and date-times


@pytest.mark.parametrize(
    "text",
    ["10", "10:15", "10:15:30", "10:15:30.5", "10:15:30,123456", "10:15:30Z", "10:15:30+01:00", "10:15-05:00",
     "101530", "1015", "101530.25+0100", "10+01", "24:00:00", "24:00", "00:00:00", "23:59:59.999999999Z"],
)
def test_valid_times(text: str) -> None:
    assert parse_time(text).iso() == text


@pytest.mark.parametrize(
    "text, reason",
    [
        ("25:00", "hour 25"),
        ("24:00:01", "24 is only allowed"),
        ("10:60", "minute 60"),
        ("10:15:60", "leap seconds"),
        ("10:1530", "mixed"),
        ("10:15:30+0100", "expected"),
        ("101530+01:00", "expected"),
        ("10:15:30+24:00", "time zone"),
        ("10:15.5", "expected"),
        ("1:15", "expected"),
        ("10:15:30z", "expected"),
    ],
)
def test_invalid_times(text: str, reason: str) -> None:
    with pytest.raises(IsoError, match=reason):
        parse_time(text)


@pytest.mark.parametrize(
    "text",
    ["2024-03-05T10:15:00", "2024-03-05T10:15:00.123+01:00", "2019-01-28T21:22:49,426+07:00", "2024-03-05T10",
     "2024-03-05T10:15", "20240305T101500", "20240305T101500Z", "20240305T1015+0100", "2024-03-05", "2024-03",
     "2024", "2024-03-05T10+01:00", "2024-02-29T00:00:00Z", "2024-12-31T24:00:00"],
)
def test_valid_date_times(text: str) -> None:
    assert parse_date_time(text).iso() == text
    assert date_time_problem(text) is None


@pytest.mark.parametrize(
    "text, reason",
    [
        ("2024-03-05T101500", "mixed"),
        ("20240305T10:15:00", "mixed"),
        ("2024-03-05T10+0100", "mixed"),
        ("20240305T10+01:00", "mixed"),
        ("2024-02-30T10:00:00", "day 30"),
        ("2023-02-29T10:00:00Z", "leap"),
        ("2024-03T10:00", "complete date"),
        ("2024-03-05 10:00:00", "upper-case T"),
        ("2024-03-05t10:00:00", "upper-case T"),
        ("2024-03-05T", "expected"),
        ("2024-03-05T25:00:00", "hour 25"),
        ("2024-03-05T10:00:00+01:60", "time zone"),
        ("2024-03-05T10:00:00+1:00", "expected"),
    ],
)
def test_invalid_date_times(text: str, reason: str) -> None:
    with pytest.raises(IsoError, match=reason):
        parse_date_time(text)
    assert date_time_problem(text) is not None


# ---------------------------------------------------------------------------------------------------------------
# durations


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("P1Y2M3DT4H5M6.5S", None),
        ("P2W", 14 * 86400),
        ("-P1D", -86400),
        ("PT36H", 36 * 3600),
        ("PT0S", 0),
        ("P0D", 0),
        ("PT1,5S", 1.5),
        ("PT0.5H", 1800),
        ("P1Y2M1W3D", None),  # weeks mixed with other fields: allowed by openEHR
        ("-P10Y20DT10H5S", None),
    ],
)
def test_valid_durations(text: str, seconds: float | None) -> None:
    d = parse_duration(text)
    assert d.iso() == text
    if seconds is not None:
        assert d.total_seconds() == pytest.approx(seconds)


def test_duration_year_is_twelve_months() -> None:
    assert parse_duration("P1Y").total_seconds() == parse_duration("P12M").total_seconds()
    assert parse_duration("P1M").total_seconds() > parse_duration("P30D").total_seconds()


@pytest.mark.parametrize(
    "text, reason",
    [
        ("P", "expected"),
        ("PT", "T must be followed"),
        ("P1DT", "T must be followed"),
        ("1D", "starts with P"),
        ("P1.5Y2M", "only the last field"),
        ("PT1H2", "expected"),
        ("P1H", "expected"),
        ("P1D1Y", "expected"),
        ("+P1D", "starts with P"),
        ("P-1D", "expected"),
        ("p1d", "starts with P"),
        ("P0001-02-03", "expected"),
    ],
)
def test_invalid_durations(text: str, reason: str) -> None:
    with pytest.raises(IsoError, match=reason):
        parse_duration(text)


# ---------------------------------------------------------------------------------------------------------------
# patterns (masks)


@pytest.mark.parametrize(
    "pattern, kind, value, ok",
    [
        ("yyyy-mm-dd", "date", "2024-03-05", True),
        ("YYYY-MM-DD", "date", "2024-03", False),
        ("yyyy-mm-??", "date", "2024-03", True),
        ("yyyy-mm-??", "date", "2024", False),
        ("yyyy-??-??", "date", "2024", True),
        ("yyyy-??-XX", "date", "2024-03", True),
        ("yyyy-??-XX", "date", "2024-03-05", False),
        ("yyyy-??-XX", "date", "20190114", False),
        ("YYYY-XX-XX", "date", "2024-03", False),
        ("HH:MM:SS", "time", "10:15:00", True),
        ("HH:MM:SS", "time", "10:15", False),
        ("HH:MM:??", "time", "10:15", True),
        ("HH:MM:XX", "time", "10:15:00", False),
        ("HH:??:XX", "time", "10", True),
        ("yyyy-mm-ddTHH:MM:SS", "date_time", "2024-03-05T10:15:00+01:00", True),
        ("yyyy-mm-ddTHH:MM:SS", "date_time", "2024-03-05T10:15", False),
        ("yyyy-mm-ddTHH:MM:SS", "date_time", "2024-03-05", False),
        ("yyyy-??-??T??:??:??", "date_time", "2024", True),
        ("YYYY-??-??T??:??:??", "date_time", "2024-03-05T10", True),
        ("yyyy-mm-ddTHH:??:??", "date_time", "2024-03-05T10", True),
        ("yyyy-mm-ddTHH:??:??", "date_time", "2024-03-05", False),
        ("yyyy-??-??THH:??:??", "date_time", "2024-03-05T10:00", True),
        ("yyyy-mm-ddTHH:MM:XX", "date_time", "2024-03-05T10:00:00", False),
        ("yyyy-mm-dd", "date_time", "2024-03-05", True),
        ("yyyy-mm-dd", "date_time", "2024-03-05T10:00", True),  # no time part in the mask: time optional
    ],
)
def test_masks(pattern: str, kind: str, value: str, ok: bool) -> None:
    mask = parse_mask(pattern, kind)
    assert mask is not None
    parse = {"date": parse_date, "time": parse_time, "date_time": parse_date_time}[kind]
    assert (mask_violation(mask, parse(value)) is None) is ok


def test_unreadable_mask_is_ignored() -> None:
    assert parse_mask("not a mask", "date") is None
    assert codes(CDate(pattern="not a mask"), "2024-03-05") == []


@pytest.mark.parametrize(
    "pattern, value, ok",
    [
        ("PYMWD", "P1Y2M", True),
        ("PYMWD", "PT1H", False),
        ("PTHMS", "PT1H30M", True),
        ("PTHMS", "P1D", False),
        ("PDTH", "P1DT2H", True),
        ("PDTH", "PT30M", False),
        ("PTM", "PT45M", True),
        ("PTM", "P65Y5M12D", False),
        ("PY", "PT0S", True),  # the zero duration has no unit
        ("PY", "P3Y", True),
        ("PYMWDTHMS", "-P1Y2M3W4DT5H6M7S", True),
    ],
)
def test_duration_patterns(pattern: str, value: str, ok: bool) -> None:
    assert (duration_pattern_violation(pattern, parse_duration(value)) is None) is ok


def test_duration_pattern_message_names_fields() -> None:
    msg = duration_pattern_violation("PTM", parse_duration("P1Y2D"))
    assert msg == "years and days are not allowed by the pattern PTM"


# ---------------------------------------------------------------------------------------------------------------
# check_primitive


def test_string_list_and_pattern() -> None:
    c = CString(list=["Sitting", "Standing"])
    assert codes(c, "Sitting") == []
    assert codes(c, "Lying") == ["VAL121"]
    assert codes(c, "Lying", code="VAL109") == ["VAL109"]
    assert codes(CString(list=["a"], list_open=True), "b") == []
    p = CString(pattern="[A-Z]{3}-\\d+")
    assert codes(p, "ABC-12") == []
    assert codes(p, "ABC-12x") == ["VAL121"]  # the whole value must match
    assert 'does not match the pattern' in messages(p, "x")[0]


def test_perl_regex_features_and_uncompilable_regex() -> None:
    assert codes(CString(pattern="\\d+\\z"), "123") == []
    assert codes(CString(pattern="[[:alpha:]]+"), "abc") == []
    assert codes(CString(pattern="[[:alpha:]]+"), "ab1") == ["VAL121"]
    assert compile_pattern("\\p{L}+") is None  # Python's re has no Unicode properties
    assert codes(CString(pattern="\\p{L}+"), "abc") == ["VAL124"]  # a warning, not a crash
    assert REGISTRY["VAL124"].severity.value == "warning"
    assert codes(CString(pattern="(unclosed"), "x") == ["VAL124"]


def test_integer_and_real() -> None:
    c = CInteger(range=Interval(0, 10))
    assert codes(c, 5) == []
    assert codes(c, 11) == ["VAL121"]
    assert codes(c, 11, code="VAL104") == ["VAL104"]
    assert codes(c, True) == ["VAL123"]  # a boolean is not an integer
    assert codes(c, 5.5) == ["VAL123"]
    assert codes(c, 5.0) == []  # an integral float is the same integer
    assert codes(c, "5") == ["VAL123"]
    assert codes(CInteger(list=[0, 1, 2]), 3) == ["VAL121"]
    assert codes(CInteger(range=Interval(0, 10, True, False)), 10) == ["VAL121"]
    r = CReal(range=Interval(0.0, 1000.0))
    assert codes(r, 1000) == []
    assert messages(r, 1200.0, attr="magnitude") == ["Test node: magnitude 1200.0 is above the maximum 1000.0"]
    assert codes(r, None) == ["VAL123"]


def test_attr_places_the_issue_one_step_deeper() -> None:
    rep = Reporter()
    check_primitive(CInteger(range=Interval(0, 1)), 5, W, rep, attr="magnitude")
    assert rep.issues[0].instance_path == "/content/0/data/items/0/value/magnitude"
    assert rep.issues[0].template_path == "/data/items[at0001]/value/magnitude"


def test_boolean() -> None:
    assert codes(CBoolean(true_valid=True, false_valid=False), True) == []
    assert codes(CBoolean(true_valid=True, false_valid=False), False) == ["VAL121"]
    assert codes(CBoolean(), "true") == ["VAL123"]


def test_temporal_constraints() -> None:
    assert codes(CDate(pattern="yyyy-mm-dd"), "2024-02-30") == ["VAL112"]
    assert codes(CDate(pattern="yyyy-mm-dd"), "2024-02") == ["VAL113"]
    assert codes(CDateTime(pattern="yyyy-mm-ddTHH:MM:SS"), "2024-02-01T10:00:00Z") == []
    assert codes(CTime(pattern="HH:MM:SS"), "10:00") == ["VAL113"]
    assert codes(CDuration(pattern="PTM"), "P1Y") == ["VAL115"]
    assert codes(CDuration(), "P1Q") == ["VAL115"]
    assert codes(CDate(), 20240305) == ["VAL123"]
    assert codes(CDate(list=["2024-01-01"]), "2024-01-02") == ["VAL121"]


@pytest.mark.parametrize(
    "constraint, value, ok",
    [
        (CDate(range=Interval("2020-01-01", "2024-12-31")), "2024-06-30", True),
        (CDate(range=Interval("2020-01-01", "2024-12-31")), "2025-01-01", False),
        (CDate(range=Interval("2020-06-01", None)), "2020", False),  # partial: its earliest instant, 2020-01-01
        (CDate(range=Interval(None, "2020-06-01")), "2020-06", True),
        (CDate(range=Interval("2020-01-01", "2020-12-31", False, True)), "2020-01-01", False),
        (CTime(range=Interval("08:00:00", "17:00:00")), "17:00:00", True),
        (CTime(range=Interval("08:00:00", "17:00:00")), "17:00:01", False),
        (CTime(range=Interval("08:00:00Z", "17:00:00Z")), "18:30:00+02:00", True),  # 16:30 UTC
        (CDateTime(range=Interval("2024-01-01T00:00:00Z", None)), "2024-01-01T00:30:00+01:00", False),  # 23:30Z
        (CDateTime(range=Interval("2024-01-01T00:00:00", None)), "2024-01-01", True),
        (CDuration(range=Interval("PT0S", "PT24H")), "PT24H", True),
        (CDuration(range=Interval("PT0S", "PT24H")), "P1DT1S", False),
        (CDuration(range=Interval("PT0S", None)), "-PT1S", False),
        (CDuration(range=Interval("P0Y", "P150Y")), "P1800M", True),
        (CDuration(range=Interval("P0Y", "P150Y")), "P151Y", False),
        (CDuration(range=Interval("PT1H", "PT2H", True, False)), "PT2H", False),
        (CDuration(range=Interval("not a duration", None)), "PT2H", True),  # a broken bound is ignored
    ],
)
def test_temporal_ranges(constraint, value: str, ok: bool) -> None:
    got = codes(constraint, value)
    expected_code = "VAL115" if isinstance(constraint, CDuration) else "VAL114"
    assert got == ([] if ok else [expected_code])


def test_range_message_is_readable() -> None:
    msg = messages(CDuration(range=Interval("PT0S", "PT24H")), "PT25H")[0]
    assert msg == "Test node: duration PT25H is longer than the maximum PT24H"
    msg = messages(CDate(range=Interval("2020-01-01", None)), "2019-12-31")[0]
    assert msg == 'Test node: "2019-12-31" is before the earliest 2020-01-01'


# ---------------------------------------------------------------------------------------------------------------
# properties

years = st.integers(0, 9999)
months = st.integers(1, 12)


@st.composite
def dates(draw) -> tuple[str, tuple[int, int | None, int | None]]:
    y = draw(years)
    form = draw(st.sampled_from(["ext", "basic", "month", "year"]))
    if form == "year":
        return f"{y:04d}", (y, None, None)
    m = draw(months)
    if form == "month":
        return f"{y:04d}-{m:02d}", (y, m, None)
    d = draw(st.integers(1, days_in_month(y, m)))
    sep = "" if form == "basic" else "-"
    return f"{y:04d}{sep}{m:02d}{sep}{d:02d}", (y, m, d)


@st.composite
def times(draw, basic: bool | None = None) -> tuple[str, tuple]:
    b = draw(st.booleans()) if basic is None else basic
    sep = "" if b else ":"
    h = draw(st.integers(0, 23))
    depth = draw(st.integers(0, 2)) if not b else draw(st.integers(1, 2))
    mi = draw(st.integers(0, 59)) if depth >= 1 else None
    s = draw(st.integers(0, 59)) if depth >= 2 else None
    frac = draw(st.none() | st.text("0123456789", min_size=1, max_size=9)) if depth >= 2 else None
    text = f"{h:02d}"
    if mi is not None:
        text += f"{sep}{mi:02d}"
    if s is not None:
        text += f"{sep}{s:02d}"
        if frac is not None:
            text += draw(st.sampled_from(".,")) + frac
    zone = draw(st.sampled_from(["", "Z", "+hh", "-hh", "+hhmm", "-hhmm"]))
    if zone.startswith(("+", "-")):
        zh, zm = draw(st.integers(0, 14)), draw(st.sampled_from([0, 30, 45]))
        zone = f"{zone[0]}{zh:02d}" + (f"{sep}{zm:02d}" if zone.endswith("mm") and (mi is not None or not b) else "")
    return text + zone, (h, mi, s, frac)


@given(dates())
def test_generated_dates_round_trip(case) -> None:
    text, (y, m, d) = case
    parsed = parse_date(text)
    assert (parsed.year, parsed.month, parsed.day) == (y, m, d)
    assert parsed.iso() == text


@given(times())
def test_generated_times_round_trip(case) -> None:
    text, (h, mi, s, frac) = case
    parsed = parse_time(text)
    assert (parsed.hour, parsed.minute, parsed.second, parsed.fraction) == (h, mi, s, frac)
    assert parsed.iso() == text


@st.composite
def date_times(draw) -> str:
    basic = draw(st.booleans())
    y, m = draw(years), draw(months)
    d = draw(st.integers(1, days_in_month(y, m)))
    sep = "" if basic else "-"
    t, _ = draw(times(basic=basic))
    return f"{y:04d}{sep}{m:02d}{sep}{d:02d}T{t}"


@given(date_times())
def test_generated_date_times_round_trip(text: str) -> None:
    assert parse_date_time(text).iso() == text
    assert date_time_problem(text) is None


@st.composite
def durations(draw) -> tuple[str, float]:
    neg = draw(st.booleans())
    date_fields = draw(st.lists(st.sampled_from("YMWD"), unique=True).map(lambda fs: [f for f in "YMWD" if f in fs]))
    time_fields = draw(st.lists(st.sampled_from("HMS"), unique=True).map(lambda fs: [f for f in "HMS" if f in fs]))
    if not date_fields and not time_fields:
        date_fields = ["D"]
    unit = {"Y": 31556952, "M": 2629746, "W": 604800, "D": 86400}
    tunit = {"H": 3600, "M": 60, "S": 1}
    text, total = ("-P" if neg else "P"), 0
    for f in date_fields:
        n = draw(st.integers(0, 10_000))
        text, total = text + f"{n}{f}", total + n * unit[f]
    if time_fields:
        text += "T"
        for f in time_fields:
            n = draw(st.integers(0, 100_000))
            text, total = text + f"{n}{f}", total + n * tunit[f]
    return text, -total if neg else total


@given(durations())
def test_generated_durations_round_trip(case) -> None:
    text, total = case
    parsed = parse_duration(text)
    assert parsed.iso() == text
    assert parsed.total_seconds() == pytest.approx(total)


_MUTATION_CHARS = string.digits + "-:T+Z.,W PYMDHS?x"


@settings(max_examples=300)
@given(dates(), st.integers(0, 12), st.sampled_from(["replace", "insert", "delete"]), st.sampled_from(_MUTATION_CHARS))
def test_mutated_dates_are_valid_or_reported_never_a_crash(case, pos: int, op: str, ch: str) -> None:
    text = case[0]
    pos = min(pos, len(text))
    if op == "replace" and pos < len(text):
        text = text[:pos] + ch + text[pos + 1 :]
    elif op == "insert":
        text = text[:pos] + ch + text[pos:]
    else:
        text = text[:pos] + text[pos + 1 :]
    for c, parse in ((CDate(), parse_date), (CDateTime(), parse_date_time)):
        try:
            parse(text)
            valid = True
        except IsoError:
            valid = False
        got = codes(c, text)
        assert got == ([] if valid else ["VAL112"])
