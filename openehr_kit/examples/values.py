"""Value helpers for the example generator: numbers in intervals, ISO 8601 masks and durations, regex examples,
and the few openEHR terminology facts the generator needs (with English fallbacks).

Everything here is pure: given a constraint and, for random generation, a source of choices, produce a value the
constraint allows. Deterministic callers get one canonical value; random callers get a drawn one that is checked
against the constraint and replaced by the canonical value when it falls outside (so drawn values never break a
composition).
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from openehr_kit.am.model import Interval

try:  # Python 3.11+: the regex parser moved under re
    import re._parser as _sre_parse  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - older interpreters
    import sre_parse as _sre_parse  # type: ignore[no-redef]

# ---------------------------------------------------------------------------------------------------------------
# openEHR terminology: the codes the generator uses, with their English rubrics as a fallback when the bundled
# terminology (openehr_kit.terminology.openehr) is not available.

_OPENEHR_EN: dict[str, str] = {
    # composition category
    "431": "persistent", "433": "event", "451": "episodic",
    # setting
    "238": "other care",
    # null flavours
    "271": "no information", "253": "unknown", "272": "masked", "273": "not applicable",
    # event math function
    "146": "mean", "147": "change", "148": "total", "149": "variation", "144": "maximum", "145": "minimum",
    "267": "mode", "268": "median", "521": "decrease", "522": "increase", "640": "actual",
    # participation mode
    "193": "not specified",
    # ISM states
    "524": "initial", "526": "planned", "527": "postponed", "528": "cancelled", "529": "scheduled",
    "245": "active", "530": "suspended", "531": "aborted", "532": "completed", "533": "expired",
    # ISM transitions
    "535": "initiate", "536": "plan step", "537": "postpone", "538": "restore", "166": "cancel",
    "542": "postponed step", "539": "schedule", "534": "scheduled step", "540": "start", "541": "do",
    "543": "active step", "544": "suspend", "545": "suspended step", "546": "resume", "547": "abort",
    "548": "finish", "549": "time out", "550": "notify aborted", "551": "notify completed",
    "552": "notify cancelled",
}

NULL_FLAVOURS = ("271", "253", "272", "273")
MATH_FUNCTIONS = ("146", "144", "145", "147", "148")

#: ISM state -> transitions that end in that state (EHR IM, instruction state machine). The first one is the
#: canonical way into the state; states reached only by "step" transitions list those too.
TRANSITIONS_INTO: dict[str, tuple[str, ...]] = {
    "526": ("535", "536", "538"),  # planned: initiate, plan step, restore
    "527": ("537", "542"),  # postponed: postpone, postponed step
    "528": ("166", "552"),  # cancelled: cancel, notify cancelled
    "529": ("539", "534"),  # scheduled: schedule, scheduled step
    "245": ("540", "543", "546"),  # active: start, active step, resume
    "530": ("544", "545"),  # suspended: suspend, suspended step
    "531": ("547", "550"),  # aborted: abort, notify aborted
    "532": ("548", "541", "551"),  # completed: finish, do, notify completed
    "533": ("549",),  # expired: time out
}


def openehr_rubric(code: str, language: str | None = None) -> str:
    """The rubric of an openEHR terminology code in ``language`` (English fallback, then the code itself)."""
    try:
        from openehr_kit.terminology.openehr import rubric  # the bundled terminology, when present
    except ImportError:
        rubric = None  # type: ignore[assignment]
    if rubric is not None:
        for lang in (language, "en"):
            if not lang:
                continue
            try:
                text = rubric(code, lang)
            except Exception:  # noqa: BLE001 - a lookup failure falls back to the built-in table
                text = None
            if text:
                return text
    return _OPENEHR_EN.get(code, code)


# ---------------------------------------------------------------------------------------------------------------
# Numbers


def round_to(value: float, decimals: int | None) -> float:
    return float(value) if decimals is None else round(float(value), decimals)


def pick_number(
    interval: Interval[Any] | None,
    *,
    integral: bool = False,
    decimals: int | None = None,
    prefer: tuple[float, ...] = (1.0,),
) -> float | int | None:
    """A canonical number inside ``interval``: a preferred value if allowed, else one near a bound."""
    if interval is None:
        value: float = prefer[0] if prefer else 0.0
        return int(value) if integral else round_to(value, decimals)
    lo, hi = interval.lower, interval.upper
    step = 1.0 if integral or decimals is None or decimals <= 0 else 10.0 ** (-decimals)
    cands: list[float] = list(prefer)
    if lo is not None:
        cands += [lo, lo + step, lo + 1]
    if hi is not None:
        cands += [hi, hi - step, hi - 1]
    if lo is not None and hi is not None:
        cands.append((lo + hi) / 2)
    cands.append(0.0)
    for c in cands:
        v: float | int = int(math.ceil(c)) if integral else round_to(c, decimals)
        if interval.contains(v):
            return v
    if lo is not None and hi is not None and not integral:
        return (lo + hi) / 2  # an open interval narrower than the step: its midpoint is all that is left
    return None


def spread(interval: Interval[Any] | None, fraction: float, *, integral: bool, decimals: int | None) -> float | int:
    """A value at ``fraction`` (0..1) of the way through ``interval`` (unbounded sides extend by 1000)."""
    lo = interval.lower if interval is not None else None
    hi = interval.upper if interval is not None else None
    if lo is None and hi is None:
        lo, hi = -1000.0, 1000.0
    elif lo is None:
        lo = hi - 1000.0
    elif hi is None:
        hi = lo + 1000.0
    v = lo + (hi - lo) * fraction
    return int(round(v)) if integral else round_to(v, decimals)


# ---------------------------------------------------------------------------------------------------------------
# Dates and times

#: the fixed moment deterministic examples use (a weekday morning in Norwegian winter time)
BASE_TIME = datetime(2024, 1, 15, 10, 30, 0, tzinfo=timezone(timedelta(hours=1)))

_DATE_PARTS = ("year", "month", "day")
_TIME_PARTS = ("hour", "minute", "second")


def _mask_parts(mask: str | None, kind: str) -> tuple[list[str], list[str]]:
    """An ISO 8601 mask (``yyyy-mm-??``, ``HH:MM:XX``) as per-component markers: ``m`` mandatory, ``?`` optional,
    ``X`` not allowed. Components the mask does not name count as optional."""
    if not mask:
        return (["m", "m", "m"] if kind != "time" else []), (["m", "m", "m"] if kind != "date" else [])
    up = mask.upper()
    date_s, _, time_s = up.partition("T") if kind == "date_time" else ((up, "", "") if kind == "date" else ("", "", up))

    def markers(text: str) -> list[str]:
        out = []
        for comp in re.split(r"[-:]", text) if text else []:
            if "X" in comp:
                out.append("X")
            elif "?" in comp:
                out.append("?")
            else:
                out.append("m")
        return (out + ["?"] * 3)[:3]

    return markers(date_s) if kind != "time" else [], markers(time_s) if kind != "date" else []


def format_temporal(moment: datetime, kind: str, mask: str | None = None, *, truncate_optional: int = 0) -> str:
    """``moment`` as an extended-format ISO 8601 date, time or date-time that satisfies ``mask``.

    Components the mask forbids (``XX``) and everything after them are left out; ``truncate_optional`` drops that
    many trailing optional (``??``) date components as well (partial dates).
    """
    dmarks, tmarks = _mask_parts(mask, kind)
    date_vals = [f"{moment.year:04d}", f"{moment.month:02d}", f"{moment.day:02d}"]
    time_vals = [f"{moment.hour:02d}", f"{moment.minute:02d}", f"{moment.second:02d}"]
    date_out: list[str] = []
    if kind != "time":
        for mark, val in zip(dmarks, date_vals):
            if mark == "X":
                break
            date_out.append(val)
        # drop optional trailing date components for a partial date (never the year)
        while truncate_optional > 0 and len(date_out) > 1 and dmarks[len(date_out) - 1] == "?":
            date_out.pop()
            truncate_optional -= 1
    time_out: list[str] = []
    if kind != "date" and (kind == "time" or len(date_out) == 3):
        for mark, val in zip(tmarks, time_vals):
            if mark == "X":
                break
            time_out.append(val)
    date_s = "-".join(date_out)
    if kind == "date":
        return date_s
    tz = _tz(moment)
    if kind == "time":
        return ":".join(time_out)  # a time of day without zone: the mask never asks for one
    if not time_out:
        return date_s
    return f"{date_s}T{':'.join(time_out)}{tz}"


def _tz(moment: datetime) -> str:
    off = moment.utcoffset()
    if off is None:
        return ""
    if off == timedelta(0):
        return "Z"
    total = int(off.total_seconds() // 60)
    sign = "+" if total >= 0 else "-"
    total = abs(total)
    return f"{sign}{total // 60:02d}:{total % 60:02d}"


def mask_allows_partial(mask: str | None, kind: str) -> int:
    """How many trailing date components the mask makes optional (for partial dates)."""
    dmarks, _ = _mask_parts(mask, kind)
    n = 0
    for mark in reversed(dmarks[1:]):
        if mark == "?":
            n += 1
        elif mark == "m":
            break
    return n


# ---------------------------------------------------------------------------------------------------------------
# Durations

_DURATION_RE = re.compile(
    r"^(-)?P(?:(\d+(?:[.,]\d+)?)Y)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)W)?(?:(\d+(?:[.,]\d+)?)D)?"
    r"(?:T(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$"
)
#: seconds per field, with the average year and month: only used to compare against range bounds
_FIELD_SECONDS = {"Y": 365.2425 * 86400, "M": 30.436875 * 86400, "W": 7 * 86400, "D": 86400,
                  "H": 3600, "TM": 60, "S": 1}
_FIELDS = ("Y", "M", "W", "D", "H", "TM", "S")


def parse_duration(text: str) -> dict[str, float] | None:
    """``P1Y2MT3H`` -> ``{"Y": 1, "M": 2, "H": 3}`` (``TM`` is minutes); None if malformed."""
    m = _DURATION_RE.match(text.strip()) if isinstance(text, str) else None
    if not m or text.strip() in ("P", "PT", "-P") or text.strip().endswith("T"):
        return None
    out = {}
    for field, group in zip(_FIELDS, m.groups()[1:]):
        if group is not None:
            out[field] = float(group.replace(",", "."))
    return out


def duration_seconds(text: str) -> float | None:
    parts = parse_duration(text)
    if parts is None:
        return None
    total = sum(_FIELD_SECONDS[f] * v for f, v in parts.items())
    return -total if text.strip().startswith("-") else total


def duration_pattern_fields(pattern: str | None) -> set[str] | None:
    """``PYMWDTHMS`` -> allowed fields (``TM`` for minutes); None when every field is allowed."""
    if not pattern:
        return None
    up = pattern.upper()
    if not up.startswith("P"):
        return None
    date, _, time = up[1:].partition("T")
    allowed = {c for c in date if c in "YMWD"}
    allowed |= {("TM" if c == "M" else c) for c in time if c in "HMS"}
    return allowed


def duration_ok(value: str, pattern: str | None, rng: Interval[Any] | None) -> bool:
    """Whether an ISO duration uses only the pattern's fields and lies in the range (bounds compared in seconds)."""
    parts = parse_duration(value)
    if parts is None:
        return False
    allowed = duration_pattern_fields(pattern)
    if allowed is not None and not set(parts) <= allowed:
        return False
    if rng is not None:
        secs = duration_seconds(value)
        lo = duration_seconds(str(rng.lower)) if rng.lower is not None else None
        hi = duration_seconds(str(rng.upper)) if rng.upper is not None else None
        bounds = Interval(lo, hi, rng.lower_included, rng.upper_included)
        if secs is None or not bounds.contains(secs):
            return False
    return True


def make_duration(field: str, amount: int) -> str:
    if field in ("H", "TM", "S"):
        return f"PT{amount}{'M' if field == 'TM' else field}"
    return f"P{amount}{field}"


def duration_candidates(rng: Interval[Any] | None) -> list[str]:
    """Durations to try, most natural first; range bounds among them."""
    out = ["P1D", "PT1H", "PT1M", "PT1S", "P1W", "P1M", "P1Y", "PT24H", "PT0S", "P0D", "P0W", "P0M", "P0Y"]
    if rng is not None:
        for bound in (rng.lower, rng.upper):
            if bound is not None:
                out.append(str(bound))
                parts = parse_duration(str(bound))
                if parts:  # one more than the bound, in its own leading field (for excluded bounds)
                    field, amount = next(iter(parts.items()))
                    out.append(make_duration(field, int(amount) + 1))
                    if amount >= 1:
                        out.append(make_duration(field, int(amount) - 1))
    return out


# ---------------------------------------------------------------------------------------------------------------
# Strings matching a regular expression (deterministic shortest-ish example)


def regex_example(pattern: str) -> str | None:
    """A short string that ``re.fullmatch(pattern)`` accepts, built from the parsed pattern; None if not found."""
    try:
        parsed = _sre_parse.parse(pattern)
    except (re.error, RecursionError, TypeError):
        return None
    try:
        text = _emit(parsed)
    except (ValueError, RecursionError):
        return None
    try:
        return text if re.fullmatch(pattern, text) else None
    except re.error:
        return None


def _emit(items: Any) -> str:
    out = []
    for op, av in items:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(av))
        elif name == "NOT_LITERAL":
            out.append("a" if chr(av) != "a" else "b")
        elif name == "ANY":
            out.append("a")
        elif name == "IN":
            out.append(_emit_in(av))
        elif name == "BRANCH":
            out.append(_emit(av[1][0]))
        elif name == "SUBPATTERN":
            out.append(_emit(av[-1]))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            lo, _hi, sub = av
            out.append(_emit(sub) * max(lo, 0))
        elif name in ("AT", "ASSERT", "ASSERT_NOT"):
            continue
        elif name == "CATEGORY":
            out.append(_category(av))
        elif name == "GROUPREF":
            raise ValueError("back references are not supported")
        else:
            raise ValueError(f"regex construct {name} not supported")
    return "".join(out)


def _emit_in(av: Any) -> str:
    negate = any(str(op) == "NEGATE" for op, _ in av)
    if negate:
        excluded = set()
        for op, val in av:
            if str(op) == "LITERAL":
                excluded.add(chr(val))
        for c in "aA0_ -":
            if c not in excluded:
                return c
        raise ValueError("negated class too wide")
    for op, val in av:
        name = str(op)
        if name == "LITERAL":
            return chr(val)
        if name == "RANGE":
            return chr(val[0])
        if name == "CATEGORY":
            return _category(val)
    raise ValueError("empty character class")


def _category(cat: Any) -> str:
    name = str(cat)
    return {"CATEGORY_DIGIT": "0", "CATEGORY_NOT_DIGIT": "a", "CATEGORY_SPACE": " ", "CATEGORY_NOT_SPACE": "a",
            "CATEGORY_WORD": "a", "CATEGORY_NOT_WORD": "-"}.get(name, "a")

