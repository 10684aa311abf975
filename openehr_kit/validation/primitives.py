"""ISO 8601 dates, times, date-times and durations, and the checks of AOM 1.4 primitive constraints.

Everything here is written for openEHR's profile of ISO 8601 (BASE foundation types), which differs from the full
standard in a few places. The choices, in one place:

* **Dates**: ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD`` (extended) and ``YYYYMMDD`` (basic). ``YYYYMM`` is refused
  (ISO 8601 forbids it as ambiguous), as are week dates (``2024-W10-2``), ordinal dates (``2024-065``) and
  expanded years: openEHR does not use them. Years 0000-9999; the calendar is the proleptic Gregorian one
  (Feb 29 only in leap years). Dates carry no time zone.
* **Times**: ``hh``, ``hh:mm``, ``hh:mm:ss`` and basic ``hhmm``, ``hhmmss``; a decimal fraction of the second
  with ``.`` or ``,`` and any number of digits; zone ``Z``, ``±hh``, ``±hh:mm`` (extended) or ``±hhmm`` (basic).
  ``24:00:00`` (end of day) is accepted as openEHR's ``valid_hour`` allows it; leap second 60 is not.
* **Date-times**: a complete date, ``T``, a time (partial allowed: ``2024-03-05T10``). A date alone is accepted
  too, because openEHR date-times may be partial (the ADL masks ``yyyy-mm-ddT??:??:??`` exist for that) and the
  template's pattern decides whether that is allowed. Basic and extended forms must not be mixed: date, time and
  zone all use separators or none do (``2024-03-05T101500`` is invalid). ``T`` and ``Z`` are upper case.
* **Durations**: ``[-]P[nY][nM][nW][nD][T[nH][nM][nS]]`` with at least one field, and at least one after ``T``.
  Weeks may be mixed with other fields and a leading ``-`` is allowed (both openEHR deviations from ISO 8601).
  A decimal fraction is allowed on the last field only (``PT0.5H``, ``PT1.25S``). The alternative format
  ``P0001-02-03T04:05:06`` is not supported.
* **Ranges**: partial dates and times compare by their **earliest instant** (``2024-03`` is ``2024-03-01T00:00``),
  so a partial value is inside a range only if its first instant is. Date-times and times with a zone on both
  sides compare as UTC instants; when either side has no zone they compare as clock readings. Durations compare
  as seconds with a year of 365.2425 days and a month of a twelfth of that (the Gregorian averages), so
  ``P1Y`` equals ``P12M`` and ``P1M`` is longer than ``P30D``.

Parsed values are NamedTuples that keep the original spelling (separators, fraction digits) so that
``to_iso(parse_x(s)) == s`` for every valid ``s``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, NamedTuple

from openehr_kit.am.model import (
    CBoolean,
    CDate,
    CDateTime,
    CDuration,
    CInteger,
    CPrimitive,
    CReal,
    CString,
    CTime,
    Interval,
)
from openehr_kit.rm.instance import kind_name
from openehr_kit.validation.report import Reporter, Where

# ---------------------------------------------------------------------------------------------------------------
# Parsed forms


class IsoDate(NamedTuple):
    year: int
    month: int | None = None
    day: int | None = None
    basic: bool = False

    def iso(self) -> str:
        sep = "" if self.basic else "-"
        out = f"{self.year:04d}"
        if self.month is not None:
            out += f"{sep}{self.month:02d}"
            if self.day is not None:
                out += f"{sep}{self.day:02d}"
        return out

    @property
    def is_partial(self) -> bool:
        return self.day is None


class IsoTime(NamedTuple):
    hour: int
    minute: int | None = None
    second: int | None = None
    #: the fraction digits as written (``"5"`` for ``.5``), None when absent
    fraction: str | None = None
    #: offset from UTC in minutes; None when the time has no zone
    offset: int | None = None
    #: the zone as written (``Z``, ``+01:00``, ``-0500``, ``+01``), "" when absent
    zone: str = ""
    basic: bool = False
    #: the fraction separator as written (``.`` or ``,``)
    fraction_sep: str = "."

    def iso(self) -> str:
        sep = "" if self.basic else ":"
        out = f"{self.hour:02d}"
        if self.minute is not None:
            out += f"{sep}{self.minute:02d}"
            if self.second is not None:
                out += f"{sep}{self.second:02d}"
                if self.fraction is not None:
                    out += self.fraction_sep + self.fraction
        return out + self.zone

    @property
    def seconds(self) -> float:
        """Seconds since midnight of the clock reading (the earliest instant of a partial time)."""
        s = self.hour * 3600 + (self.minute or 0) * 60 + (self.second or 0)
        return s + float("0." + self.fraction) if self.fraction else float(s)


class IsoDateTime(NamedTuple):
    date: IsoDate
    time: IsoTime | None = None

    def iso(self) -> str:
        return self.date.iso() if self.time is None else f"{self.date.iso()}T{self.time.iso()}"


class IsoDuration(NamedTuple):
    negative: bool
    years: int = 0
    months: int = 0
    weeks: int = 0
    days: int = 0
    hours: int = 0
    minutes: int = 0
    seconds: int = 0
    #: the designators present, in order (``"YMDTHS"``: ``T`` marks the time part)
    fields: str = ""
    #: the fraction of the last field as written and its separator, for round-tripping
    fraction: str | None = None
    fraction_sep: str = "."

    def iso(self) -> str:
        out = "-P" if self.negative else "P"
        values = {"Y": self.years, "M": self.months, "W": self.weeks, "D": self.days}
        time_values = {"H": self.hours, "M": self.minutes, "S": self.seconds}
        in_time = False
        last = len(self.fields) - 1
        for i, f in enumerate(self.fields):
            if f == "T":
                in_time = True
                out += "T"
                continue
            n = (time_values if in_time else values)[f]
            frac = self.fraction_sep + self.fraction if i == last and self.fraction is not None else ""
            out += f"{n}{frac}{f}"
        return out

    def total_seconds(self) -> float:
        """Length in seconds with Gregorian average years and months (see the module docstring)."""
        s = (
            self.years * _YEAR_S
            + self.months * _MONTH_S
            + self.weeks * 604800
            + self.days * 86400
            + self.hours * 3600
            + self.minutes * 60
            + self.seconds
        )
        total = float(s)
        if self.fraction is not None and self.fields:
            f = self.fields[-1]
            unit = _TIME_UNIT_S[f] if "T" in self.fields else _DATE_UNIT_S[f]
            total += float("0." + self.fraction) * unit
        return -total if self.negative else total


_YEAR_S = 31556952  # 365.2425 days
_MONTH_S = 2629746  # a twelfth of that
_DATE_UNIT_S = {"Y": _YEAR_S, "M": _MONTH_S, "W": 604800, "D": 86400}
_TIME_UNIT_S = {"H": 3600, "M": 60, "S": 1}

# ---------------------------------------------------------------------------------------------------------------
# Parsing

_DATE_EXT_RE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
_DATE_BASIC_RE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_TIME_EXT_RE = re.compile(r"(\d{2})(?::(\d{2})(?::(\d{2})(?:([.,])(\d+))?)?)?(Z|[+-]\d{2}(?::\d{2})?)?")
_TIME_BASIC_RE = re.compile(r"(\d{2})(?:(\d{2})(?:(\d{2})(?:([.,])(\d+))?)?)?(Z|[+-]\d{2}(?:\d{2})?)?")
_DURATION_RE = re.compile(
    r"(-)?P(?:(\d+)(?:([.,])(\d+))?Y)?(?:(\d+)(?:([.,])(\d+))?M)?(?:(\d+)(?:([.,])(\d+))?W)?(?:(\d+)(?:([.,])(\d+))?D)?"
    r"(T(?:(\d+)(?:([.,])(\d+))?H)?(?:(\d+)(?:([.,])(\d+))?M)?(?:(\d+)(?:([.,])(\d+))?S)?)?"
)
_DAYS_IN_MONTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def days_in_month(year: int, month: int) -> int:
    return 29 if month == 2 and is_leap(year) else _DAYS_IN_MONTH[month]


class IsoError(ValueError):
    """A value that is not valid ISO 8601 (openEHR profile); the message says why, for clinicians to read."""


def _date(y: str, m: str | None, d: str | None, basic: bool) -> IsoDate:
    year = int(y)
    month = day = None
    if m is not None:
        month = int(m)
        if not 1 <= month <= 12:
            raise IsoError(f"month {m} does not exist")
        if d is not None:
            day = int(d)
            if not 1 <= day <= days_in_month(year, month):
                raise IsoError(
                    f"day {d} does not exist in {y}-{m}"
                    + (f" ({y} is not a leap year)" if month == 2 and day == 29 else "")
                )
    return IsoDate(year, month, day, basic)


def parse_date(text: str) -> IsoDate:
    """An ISO 8601 calendar date, complete or partial (see the module docstring); IsoError if invalid."""
    m = _DATE_EXT_RE.fullmatch(text)
    if m is not None:
        return _date(m.group(1), m.group(2), m.group(3), False)
    m = _DATE_BASIC_RE.fullmatch(text)
    if m is not None:
        return _date(m.group(1), m.group(2), m.group(3), True)
    raise IsoError(_date_shape_hint(text))


# the complete extended date (most values in practice) with its fields in range (ASCII digits, month 01-12, day
# 01-31: days past the 28th are compared with their month's length); anything else goes through parse_date
_DATE_VALID = r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
_DATE_COMMON_RE = re.compile(_DATE_VALID)


_MONTHS_OF_31 = frozenset({"01", "03", "05", "07", "08", "10", "12"})


def _day_exists(text: str) -> bool:
    """Whether the day of a ``YYYY-MM-DD...`` text with its fields in range (``_DATE_VALID``) exists in its month."""
    day = text[8:10]
    if day <= "28":
        return True
    month = text[5:7]
    if month != "02":
        return day != "31" or month in _MONTHS_OF_31
    return day == "29" and is_leap(int(text[:4]))


def date_problem(text: str) -> str | None:
    """Why ``text`` is not a valid date, or None; for validity alone (the same verdict and reason as
    :func:`parse_date`), without building the parsed form."""
    if _DATE_COMMON_RE.fullmatch(text) is not None and _day_exists(text):
        return None
    try:
        parse_date(text)
    except IsoError as exc:
        return str(exc)
    return None


def _date_shape_hint(text: str) -> str:
    if "W" in text:
        return "week dates are not supported; use YYYY-MM-DD"
    if re.fullmatch(r"\d{6}", text):
        return "the basic form YYYYMM is ambiguous and not allowed; use YYYY-MM"
    if "T" in text or ":" in text:
        return "a date must not have a time part"
    return "expected YYYY-MM-DD (or YYYY-MM, YYYY, YYYYMMDD)"


def _zone_offset(zone: str) -> int | None:
    if not zone:
        return None
    if zone == "Z":
        return 0
    hh = int(zone[1:3])
    mm = int(zone[-2:]) if len(zone) > 3 else 0
    if hh > 23 or mm > 59:
        raise IsoError(f"time zone {zone} does not exist")
    off = hh * 60 + mm
    return -off if zone[0] == "-" else off


def _time(m: re.Match[str], basic: bool) -> IsoTime:
    h, mi, s, fsep, frac, zone = m.groups()
    hour = int(h)
    minute = None if mi is None else int(mi)
    second = None if s is None else int(s)
    if minute is not None and minute > 59:
        raise IsoError(f"minute {mi} does not exist")
    if second is not None and second > 59:
        raise IsoError(f"second {s} does not exist" + (" (leap seconds are not allowed)" if second == 60 else ""))
    if hour > 24 or (hour == 24 and ((minute or 0) or (second or 0) or (frac and frac.strip("0")))):
        raise IsoError(f"hour {h} does not exist" if hour > 24 else "24 is only allowed as 24:00:00 (end of day)")
    zone = zone or ""
    if zone and len(zone) > 3:
        # the zone must use the same format as the time (no mixing basic and extended)
        zone_ext = ":" in zone
        if minute is not None and zone_ext == basic:
            raise IsoError("basic and extended formats are mixed (time and time zone)")
    return IsoTime(hour, minute, second, frac, _zone_offset(zone), zone, basic, fsep or ".")


def parse_time(text: str) -> IsoTime:
    """An ISO 8601 time of day, complete or partial, with optional fraction and zone; IsoError if invalid."""
    m = _TIME_EXT_RE.fullmatch(text)
    if m is not None:
        return _time(m, False)
    m = _TIME_BASIC_RE.fullmatch(text)
    if m is not None:
        return _time(m, True)
    if re.fullmatch(r"\d{2}:?\d{2}:?\d{2}.*", text) and (":" in text[:3]) != (":" in text[3:6]):
        raise IsoError("basic and extended formats are mixed")
    raise IsoError("expected hh:mm:ss (optionally with a fraction and a zone: Z or +hh:mm)")


_DT_EXT_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2})(?::(\d{2})(?::(\d{2})(?:([.,])(\d+))?)?)?(Z|[+-]\d{2}(?::\d{2})?)?"
)
_DT_BASIC_RE = re.compile(
    r"(\d{4})(\d{2})(\d{2})T(\d{2})(?:(\d{2})(?:(\d{2})(?:([.,])(\d+))?)?)?(Z|[+-]\d{2}(?:\d{2})?)?"
)


def parse_date_time(text: str) -> IsoDateTime:
    """An ISO 8601 date-time; a date alone is accepted as a partial date-time (see the module docstring)."""
    # fast path: one regex for a complete date with a time in one consistent format (the common case)
    m = _DT_EXT_RE.fullmatch(text)
    basic = False
    if m is None:
        m = _DT_BASIC_RE.fullmatch(text)
        basic = True
    if m is not None:
        y, mo, d, h, mi, s, fsep, frac, zone = m.groups()
        if mi is not None or len(zone or "") <= 3:  # an hour alone with a long zone: the slow path judges it
            year, month, day = int(y), int(mo), int(d)
            if not (1 <= month <= 12 and 1 <= day <= (_DAYS_IN_MONTH[month] if month != 2 else 28 + is_leap(year))):
                _date(y, mo, d, basic)  # raises with the reason
            hour = int(h)
            minute = None if mi is None else int(mi)
            second = None if s is None else int(s)
            if hour > 23 or (minute is not None and minute > 59) or (second is not None and second > 59) or (
                zone and len(zone) > 1 and (int(zone[1:3]) > 23 or int(zone[-2:]) > 59)
            ):
                time = _time(_TIME_BASIC_RE.fullmatch(text[text.index("T") + 1 :]) if basic else _TIME_EXT_RE.fullmatch(text[text.index("T") + 1 :]), basic)  # type: ignore[arg-type]
            else:
                time = IsoTime(hour, minute, second, frac, _zone_offset(zone) if zone else None, zone or "", basic, fsep or ".")
            return IsoDateTime(IsoDate(year, month, day, basic), time)
    cut = text.find("T")
    if cut < 0:
        if "t" in text or " " in text:
            raise IsoError("date and time must be separated by an upper-case T")
        return IsoDateTime(parse_date(text))
    date = parse_date(text[:cut])
    if date.day is None:
        raise IsoError("a time may only follow a complete date (YYYY-MM-DD)")
    time = parse_time(text[cut + 1 :])
    # no mixing: an extended date needs an extended time, unless the time is an hour alone (no separator either way)
    if time.minute is not None and time.basic != date.basic:
        raise IsoError("basic and extended formats are mixed (date and time)")
    if time.minute is None and len(time.zone) > 3 and (":" in time.zone) == date.basic:
        raise IsoError("basic and extended formats are mixed (date and time zone)")
    return IsoDateTime(date, time)


# the complete extended date-time with every field in range (see ``_DATE_VALID``; hours 00-23, minutes and
# seconds 00-59, an optional fraction and zone)
_DT_COMMON_RE = re.compile(
    _DATE_VALID + r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:[.,][0-9]+)?"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])?"
)


def date_time_problem(text: str) -> str | None:
    """Why ``text`` is not a valid date-time, or None; for validity alone, without building the parsed form.

    The complete extended form (most values in practice) is checked by one regex (and the month's length for days
    past the 28th); anything else goes through :func:`parse_date_time`.
    """
    if _DT_COMMON_RE.fullmatch(text) is not None and _day_exists(text):
        return None
    try:
        parse_date_time(text)
    except IsoError as exc:
        return str(exc)
    return None


def parse_duration(text: str) -> IsoDuration:
    """An ISO 8601 duration (openEHR profile: weeks mixable, leading ``-``); IsoError if invalid."""
    m = _DURATION_RE.fullmatch(text)
    if m is None or text in ("P", "-P") or text.endswith("T"):
        if text.endswith("T"):
            raise IsoError("a T must be followed by hours, minutes or seconds")
        if text and text.lstrip("-")[:1] != "P":
            raise IsoError("a duration starts with P (e.g. P1D, PT30M)")
        raise IsoError("expected a duration such as P1Y2M3D, P2W or PT4H5M6S")
    g = m.groups()
    neg = g[0] is not None
    values = [0] * 7
    fields = ""
    fraction = None
    fraction_sep = "."
    # groups come in threes (number, separator, fraction); g[13] is the T part
    slots = ((1, "Y"), (4, "M"), (7, "W"), (10, "D"), (14, "H"), (17, "M"), (20, "S"))
    for n, (i, designator) in enumerate(slots):
        if n == 4 and g[13] is not None:
            fields += "T"
        if g[i] is None:
            continue
        if fraction is not None:
            raise IsoError("only the last field of a duration may have a decimal fraction")
        values[n] = int(g[i])
        fields += designator
        if g[i + 2] is not None:
            fraction, fraction_sep = g[i + 2], g[i + 1]
    if not fields.replace("T", ""):
        raise IsoError("a duration needs at least one field (e.g. P1D, PT30M)")
    return IsoDuration(neg, *values, fields=fields, fraction=fraction, fraction_sep=fraction_sep)


def is_valid_date(text: str) -> bool:
    try:
        parse_date(text)
    except IsoError:
        return False
    return True


def is_valid_time(text: str) -> bool:
    try:
        parse_time(text)
    except IsoError:
        return False
    return True


def is_valid_date_time(text: str) -> bool:
    try:
        parse_date_time(text)
    except IsoError:
        return False
    return True


def is_valid_duration(text: str) -> bool:
    try:
        parse_duration(text)
    except IsoError:
        return False
    return True


# ---------------------------------------------------------------------------------------------------------------
# Comparison keys (earliest instant; see the module docstring)


def _days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 0000-03-01 in the proleptic Gregorian calendar (era arithmetic, works for year 0)."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    mp = (m + 9) % 12
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe


def date_key(d: IsoDate) -> int:
    return _days_from_civil(d.year, d.month or 1, d.day or 1)


class _Key(NamedTuple):
    """A temporal value for comparison: the clock reading and, when zoned, the UTC instant (seconds)."""

    local: float
    utc: float | None


def temporal_key(value: IsoDate | IsoTime | IsoDateTime) -> _Key:
    if isinstance(value, IsoDate):
        s = date_key(value) * 86400.0
        return _Key(s, None)
    if isinstance(value, IsoTime):
        s = value.seconds
        return _Key(s, None if value.offset is None else s - value.offset * 60)
    s = date_key(value.date) * 86400.0
    t = value.time
    if t is None:
        return _Key(s, None)
    s += t.seconds
    return _Key(s, None if t.offset is None else s - t.offset * 60)


def compare_keys(a: _Key, b: _Key) -> int:
    """-1, 0, 1: UTC instants when both are zoned, clock readings otherwise."""
    x, y = (a.utc, b.utc) if a.utc is not None and b.utc is not None else (a.local, b.local)
    return (x > y) - (x < y)


# ---------------------------------------------------------------------------------------------------------------
# ADL 1.4 patterns (validity masks)


class DateTimeMask(NamedTuple):
    """Per field (year, month, day, hour, minute, second): ``R`` required, ``O`` optional, ``X`` not allowed."""

    fields: tuple[str, str, str, str, str, str]
    text: str


_MASK_PART_RE = re.compile(r"(?i)(yyyy|\?\?\?\?|xxxx)?(?:-(mm|\?\?|xx))?(?:-(dd|\?\?|xx))?")
_TIME_MASK_RE = re.compile(r"(?i)(hh|\?\?|xx)(?::(mm|\?\?|xx))?(?::(ss|\?\?|xx))?(?:[.,]s+)?")
_FIELD_NAMES = ("year", "month", "day", "hour", "minute", "second")


def _mask_kind(token: str | None, absent: str) -> str:
    if token is None:
        return absent
    c = token[0]
    return "O" if c == "?" else "X" if c in "xX" else "R"


@lru_cache(maxsize=256)
def parse_mask(pattern: str, kind: str) -> DateTimeMask | None:
    """The mask of an ADL 1.4 date/time pattern (``yyyy-mm-??``, ``HH:MM:SS``, ``YYYY-MM-DDTHH:??:XX``).

    ``kind`` is ``date``, ``time`` or ``date_time``. Fields the mask does not mention are not allowed for dates
    and times below a named field (``yyyy-mm`` excludes the day), and optional for a date-time's time when the
    mask has no time part. None for a pattern that is not a mask (the check is then skipped: it is a template
    defect, reported when the template is checked).
    """
    p = pattern.strip()
    date_part, time_part = (p, None) if kind == "date" else (None, p) if kind == "time" else (p, None)
    if kind == "date_time" and "T" in p.upper():
        i = p.upper().index("T")
        date_part, time_part = p[:i], p[i + 1 :]
    fields = ["O"] * 6
    if date_part is not None:
        m = _MASK_PART_RE.fullmatch(date_part)
        if m is None or m.group(1) is None:
            return None
        fields[0] = _mask_kind(m.group(1), "X")
        fields[1] = _mask_kind(m.group(2), "X")
        fields[2] = _mask_kind(m.group(3), "X")
    if time_part is not None:
        m = _TIME_MASK_RE.fullmatch(time_part)
        if m is None:
            return None
        fields[3] = _mask_kind(m.group(1), "X")
        fields[4] = _mask_kind(m.group(2), "X")
        fields[5] = _mask_kind(m.group(3), "X")
    elif kind == "date_time":
        fields[3] = fields[4] = fields[5] = "O"
    if kind == "date":
        fields[3] = fields[4] = fields[5] = "X"
    if kind == "time":
        fields[0] = fields[1] = fields[2] = "X"
    return DateTimeMask(tuple(fields), p)  # type: ignore[arg-type]


def _present(value: IsoDate | IsoTime | IsoDateTime) -> tuple[bool, bool, bool, bool, bool, bool]:
    if isinstance(value, IsoDate):
        return (True, value.month is not None, value.day is not None, False, False, False)
    if isinstance(value, IsoTime):
        return (False, False, False, True, value.minute is not None, value.second is not None)
    d, t = value.date, value.time
    return (
        True,
        d.month is not None,
        d.day is not None,
        t is not None,
        t is not None and t.minute is not None,
        t is not None and t.second is not None,
    )


def mask_violation(mask: DateTimeMask, value: IsoDate | IsoTime | IsoDateTime) -> str | None:
    """Why ``value`` does not satisfy ``mask`` (a readable phrase), or None when it does."""
    missing: list[str] = []
    extra: list[str] = []
    for name, rule, here in zip(_FIELD_NAMES, mask.fields, _present(value)):
        if rule == "R" and not here:
            missing.append(name)
        elif rule == "X" and here:
            extra.append(name)
    if missing:
        return f"the {_join(missing)} {'is' if len(missing) == 1 else 'are'} required"
    if extra:
        return f"the {_join(extra)} must not be given"
    return None


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


@lru_cache(maxsize=256)
def parse_duration_pattern(pattern: str) -> tuple[frozenset[str], frozenset[str]] | None:
    """The allowed (date, time) designators of a duration pattern (``PYMWD``, ``PTHMS``, ``PDTH``), or None."""
    p = pattern.strip().upper()
    m = re.fullmatch(r"P(Y?M?W?D?)(?:T(H?M?S?))?", p)
    if m is None:
        return None
    return frozenset(m.group(1)), frozenset(m.group(2) or "")


_DESIGNATOR_NAMES = {"Y": "years", "M": "months", "W": "weeks", "D": "days"}
_TIME_DESIGNATOR_NAMES = {"H": "hours", "M": "minutes", "S": "seconds"}


def duration_pattern_violation(pattern: str, value: IsoDuration) -> str | None:
    """Which fields of ``value`` the pattern excludes (a readable phrase), or None."""
    allowed = parse_duration_pattern(pattern)
    if allowed is None:
        return None
    if not any(value[1:8]) and not (value.fraction and value.fraction.strip("0")):
        return None  # a zero duration has no unit: PT0S is as good as P0Y under the pattern PY
    date_ok, time_ok = allowed
    bad: list[str] = []
    in_time = False
    for f in value.fields:
        if f == "T":
            in_time = True
        elif in_time:
            if f not in time_ok:
                bad.append(_TIME_DESIGNATOR_NAMES[f])
        elif f not in date_ok:
            bad.append(_DESIGNATOR_NAMES[f])
    if bad:
        return f"{_join(bad)} {'is' if len(bad) == 1 else 'are'} not allowed by the pattern {pattern}"
    return None


# ---------------------------------------------------------------------------------------------------------------
# Regular expressions of C_STRING (ADL: Perl-style, matched against the whole string)

_UNCOMPILABLE = object()
_REGEX_CACHE: dict[str, Any] = {}
_POSIX_CLASSES = {
    "[:alpha:]": "a-zA-Z",
    "[:digit:]": "0-9",
    "[:alnum:]": "a-zA-Z0-9",
    "[:upper:]": "A-Z",
    "[:lower:]": "a-z",
    "[:space:]": r"\s",
    "[:punct:]": r"!-/:-@\[-`{-~",
    "[:xdigit:]": "0-9A-Fa-f",
}


def compile_pattern(pattern: str) -> re.Pattern[str] | None:
    """A compiled C_STRING regex (cached); None when Python cannot compile it (the check is then skipped)."""
    got = _REGEX_CACHE.get(pattern)
    if got is None:
        src = pattern.strip()
        # the few Perl spellings Python lacks: \z (end of string) and POSIX classes inside brackets
        src = src.replace(r"\z", r"\Z")
        for posix, py in _POSIX_CLASSES.items():
            src = src.replace(posix, py)
        try:
            got = re.compile(src)
        except (re.error, RecursionError, OverflowError, ValueError):
            got = _UNCOMPILABLE
        if len(_REGEX_CACHE) > 4096:  # templates are few; a bound keeps a long-running service flat
            _REGEX_CACHE.clear()
        _REGEX_CACHE[pattern] = got
    return None if got is _UNCOMPILABLE else got


# ---------------------------------------------------------------------------------------------------------------
# Cached parsing of constraint bounds (templates repeat them; values are not cached)


@lru_cache(maxsize=1024)
def _bound_key(kind: str, text: str) -> _Key | float | None:
    try:
        if kind == "duration":
            return parse_duration(text).total_seconds()
        if kind == "date":
            return temporal_key(parse_date(text))
        if kind == "time":
            return temporal_key(parse_time(text))
        return temporal_key(parse_date_time(text))
    except IsoError:
        return None


def _cmp(kind: str, a: Any, b: Any) -> int:
    if kind == "duration":
        return (a > b) - (a < b)
    return compare_keys(a, b)


def range_violation(kind: str, rng: Interval[str], key: Any) -> str | None:
    """``before the earliest X`` / ``after the latest X`` (``shorter than the minimum`` / ``longer than the
    maximum`` for durations) when ``key`` is outside ``rng``; bounds that do not parse are ignored (a template
    defect, reported by the template checks)."""
    low_words, high_words = ("shorter than the minimum", "longer than the maximum") if kind == "duration" else (
        "before the earliest", "after the latest")
    if rng.lower is not None:
        lo = _bound_key(kind, str(rng.lower))
        if lo is not None:
            c = _cmp(kind, key, lo)
            if c < 0 or (c == 0 and not rng.lower_included):
                return f"{low_words} {rng.lower}" + ("" if rng.lower_included else " (excluded)")
    if rng.upper is not None:
        hi = _bound_key(kind, str(rng.upper))
        if hi is not None:
            c = _cmp(kind, key, hi)
            if c > 0 or (c == 0 and not rng.upper_included):
                return f"{high_words} {rng.upper}" + ("" if rng.upper_included else " (excluded)")
    return None


# ---------------------------------------------------------------------------------------------------------------
# check_primitive

_TEMPORAL_KIND: dict[type, str] = {CDate: "date", CTime: "time", CDateTime: "date_time", CDuration: "duration"}
_PARSERS = {"date": parse_date, "time": parse_time, "date_time": parse_date_time, "duration": parse_duration}
_KIND_WORDS = {"date": "date", "time": "time", "date_time": "date-time", "duration": "duration"}


def _fmt_num(v: Any) -> str:
    return repr(v) if isinstance(v, float) else str(v)


def _show_list(items: list[Any], limit: int = 12) -> str:
    shown = ", ".join(f'"{x}"' if isinstance(x, str) else _fmt_num(x) for x in items[:limit])
    return shown + (f", ... ({len(items)} in all)" if len(items) > limit else "")


def check_primitive(
    constraint: CPrimitive,
    value: Any,
    where: Where,
    rep: Reporter,
    *,
    code: str | None = None,
    attr: str | None = None,
) -> None:
    """Check one primitive ``value`` against its AOM constraint, reporting into ``rep``.

    ``code`` replaces VAL121 for list/range/pattern violations of strings, numbers and booleans, so that a data
    value's attribute reports under its own code (VAL104 for a DV_COUNT magnitude, ...). Temporal values always
    use VAL112 (malformed), VAL113 (pattern) and VAL114 (range); durations use VAL115. A value of the wrong kind
    is VAL123. With ``attr`` (an RM attribute name), ``where`` locates the owning object and issues are placed at
    ``where.at(attr)``, built only when one is reported; messages then name the attribute.
    """
    check = _CHECKS.get(type(constraint))
    if check is None:
        for cls, fn in _CHECKS.items():  # subclasses of the AOM classes (rare): first match
            if isinstance(constraint, cls):
                check = fn
                break
        else:
            return
    check(constraint, value, where, rep, code or "VAL121", attr)


def _loc(where: Where, attr: str | None) -> Where:
    return where.at(attr) if attr else where


def _wrong_kind(value: Any, wanted: str, where: Where, rep: Reporter, attr: str | None) -> None:
    rep.add("VAL123", f"{attr or 'the value'} must be {wanted}, found {kind_name(value)}", _loc(where, attr), expected=wanted, found=kind_name(value))


def _check_string(c: CString, value: Any, where: Where, rep: Reporter, code: str, attr: str | None) -> None:
    name = attr or "value"
    if not isinstance(value, str):
        _wrong_kind(value, "a text", where, rep, attr)
        return
    if c.pattern is not None:
        rx = compile_pattern(c.pattern)
        if rx is None:
            rep.add(
                "VAL124",
                f"the template's pattern /{c.pattern}/ cannot be evaluated, so {name} {value!r} was not checked against it",
                _loc(where, attr),
                expected=c.pattern,
            )
        elif rx.fullmatch(value) is None:
            rep.add(code, f'{name} "{value}" does not match the pattern /{c.pattern}/', _loc(where, attr), expected=c.pattern, found=value)
    if c.list and not c.list_open and value not in c.list:
        rep.add(code, f'{name} "{value}" is not allowed; allowed: {_show_list(c.list)}', _loc(where, attr), expected=_show_list(c.list), found=value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_number(c: CInteger | CReal, value: Any, where: Where, rep: Reporter, code: str, attr: str | None) -> None:
    name = attr or "value"
    if isinstance(c, CInteger):
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # 3.0 for an Integer: JSON writers differ, the value is the same
        if not _is_int(value):
            _wrong_kind(value, "an integer", where, rep, attr)
            return
    elif not _is_number(value):
        _wrong_kind(value, "a number", where, rep, attr)
        return
    if c.list and value not in c.list:
        rep.add(code, f"{name} {_fmt_num(value)} is not allowed; allowed: {_show_list(c.list)}", _loc(where, attr), expected=_show_list(c.list), found=_fmt_num(value))
    rng = c.range
    if rng is not None:
        msg = number_range_violation(rng, value)
        if msg is not None:
            rep.add(code, f"{name} {_fmt_num(value)} is {msg}", _loc(where, attr), expected=str(rng), found=_fmt_num(value))


def number_range_violation(rng: Interval[Any], value: float) -> str | None:
    """``below the minimum 0`` / ``above the maximum 1000.0`` (with ``excluded`` for open ends), or None."""
    lo, hi = rng.lower, rng.upper
    if lo is not None and (value < lo or (value == lo and not rng.lower_included)):
        return f"below the minimum {_fmt_num(lo)}" + ("" if rng.lower_included else " (excluded)")
    if hi is not None and (value > hi or (value == hi and not rng.upper_included)):
        return f"above the maximum {_fmt_num(hi)}" + ("" if rng.upper_included else " (excluded)")
    return None


def _check_boolean(c: CBoolean, value: Any, where: Where, rep: Reporter, code: str, attr: str | None) -> None:
    name = attr or "value"
    if not isinstance(value, bool):
        _wrong_kind(value, "true or false", where, rep, attr)
        return
    if (value and not c.true_valid) or (not value and not c.false_valid):
        allowed = "true" if c.true_valid else "false" if c.false_valid else "neither true nor false"
        rep.add(code, f"{name} {'true' if value else 'false'} is not allowed; allowed: {allowed}", _loc(where, attr), expected=allowed, found=str(value).lower())


def _check_temporal(c: Any, value: Any, where: Where, rep: Reporter, code: str, attr: str | None) -> None:
    kind = _TEMPORAL_KIND[type(c)] if type(c) in _TEMPORAL_KIND else _kind_of(c)
    word = _KIND_WORDS[kind]
    if not isinstance(value, str):
        _wrong_kind(value, f"an ISO 8601 {word} (text)", where, rep, attr)
        return
    try:
        parsed = _PARSERS[kind](value)
    except IsoError as exc:
        rep.add("VAL115" if kind == "duration" else "VAL112", f'"{value}" is not a valid ISO 8601 {word}: {exc}', _loc(where, attr), found=value)
        return
    check_temporal_constraint(c, kind, value, parsed, where, rep, attr)


def _kind_of(c: Any) -> str:
    for cls, kind in _TEMPORAL_KIND.items():
        if isinstance(c, cls):
            return kind
    return "date_time"


def check_temporal_constraint(
    c: CDate | CTime | CDateTime | CDuration,
    kind: str,
    text: str,
    parsed: Any,
    where: Where,
    rep: Reporter,
    attr: str | None = None,
) -> None:
    """Pattern, range and list of a temporal constraint against an already parsed value (``attr`` as in
    :func:`check_primitive`).

    ``kind`` is the value's kind (``date``, ``time``, ``date_time``, ``duration``): a data value is parsed by its
    own RM type, and the constraint's pattern is read in that kind (a DV_DATE_TIME under a C_DATE pattern is a
    template defect; it is read as a date-time mask).
    """
    if kind == "duration":
        if c.pattern:
            msg = duration_pattern_violation(c.pattern, parsed)
            if msg is not None:
                rep.add("VAL115", f"duration {text}: {msg}", _loc(where, attr), expected=c.pattern, found=text)
        if c.range is not None:
            msg = range_violation("duration", c.range, parsed.total_seconds())
            if msg is not None:
                rep.add("VAL115", f"duration {text} is {msg}", _loc(where, attr), expected=str(c.range), found=text)
    else:
        if c.pattern:
            mask = parse_mask(c.pattern, kind)
            if mask is not None:
                msg = mask_violation(mask, parsed)
                if msg is not None:
                    rep.add("VAL113", f'"{text}" does not match the pattern {c.pattern}: {msg}', _loc(where, attr), expected=c.pattern, found=text)
        if c.range is not None:
            msg = range_violation(kind, c.range, temporal_key(parsed))
            if msg is not None:
                rep.add("VAL114", f'"{text}" is {msg}', _loc(where, attr), expected=str(c.range), found=text)
    if c.list and text not in c.list:
        rep.add("VAL121", f'"{text}" is not one of the allowed values: {_show_list(c.list)}', _loc(where, attr), expected=_show_list(c.list), found=text)


_CHECKS: dict[type, Any] = {
    CString: _check_string,
    CInteger: _check_number,
    CReal: _check_number,
    CBoolean: _check_boolean,
    CDate: _check_temporal,
    CTime: _check_temporal,
    CDateTime: _check_temporal,
    CDuration: _check_temporal,
}

__all__ = [
    "IsoDate",
    "IsoDateTime",
    "IsoDuration",
    "IsoError",
    "IsoTime",
    "check_primitive",
    "check_temporal_constraint",
    "compile_pattern",
    "date_problem",
    "date_time_problem",
    "days_in_month",
    "duration_pattern_violation",
    "is_leap",
    "is_valid_date",
    "is_valid_date_time",
    "is_valid_duration",
    "is_valid_time",
    "mask_violation",
    "number_range_violation",
    "parse_date",
    "parse_date_time",
    "parse_duration",
    "parse_mask",
    "parse_time",
    "range_violation",
    "temporal_key",
]
