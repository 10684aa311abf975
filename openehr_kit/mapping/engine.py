"""Applying a mapping to a composition: one message (a dict of target field -> value) per repeating entry.

Paths are followed through the composition (``RMObject``) by attribute and node id (with an optional name
predicate); an ELEMENT found at the end stands for its value (and its null_flavour). Nothing is evaluated from the
mapping file: transforms and derived functions are fixed Python functions chosen by name.

A value that cannot be mapped (a code the mapping does not know, a partial date, a unit it cannot convert) is a
MAP1xx issue on that message, never a guess.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Callable

from openehr_kit.am.model import _predicate_parts, split_path
from openehr_kit.diagnostics import Issue
from openehr_kit.mapping.exports import Message
from openehr_kit.mapping.formats import ExportFormat, FieldDef, find_format
from openehr_kit.mapping.model import Condition, FieldMap, Mapping
from openehr_kit.opt.model import OperationalTemplate
from openehr_kit.rm.instance import RMObject

NULL_FLAVOUR_UNKNOWN = "253"


class MapError(Exception):
    """A value of the composition that the mapping cannot turn into a registry value."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


_ABSENT = object()


# ---------------------------------------------------------------------------------------------------------------
# paths in compositions


@functools.lru_cache(maxsize=4096)
def parse_steps(path: str) -> tuple[tuple[str, str | None, str | None], ...]:
    """``/a[at1]/b[x and name/value='n']`` -> ((a, at1, None), (b, x, n)); relative paths get a leading ``/``."""
    p = path if path.startswith("/") else "/" + path
    out = []
    for attr, pred in split_path(p):
        if pred is None:
            out.append((attr, None, None))
        else:
            key, name = _predicate_parts(pred)
            out.append((attr, key, name.replace("\\'", "'") if name else None))
    return tuple(out)


def select(start: list[Any], path: str) -> list[Any]:
    """Every object (or primitive) the path reaches from the start objects, in document order."""
    cur = start
    for attr, key, name in parse_steps(path):
        nxt: list[Any] = []
        for obj in cur:
            if not isinstance(obj, RMObject):
                continue
            value = obj.attrs.get(attr)
            if value is None:
                continue
            for item in value if isinstance(value, list) else (value,):
                if key is not None:
                    if not isinstance(item, RMObject) or item.attrs.get("archetype_node_id") != key:
                        continue
                    if name is not None and item.name_value != name:
                        continue
                nxt.append(item)
        cur = nxt
        if not cur:
            break
    return cur


@dataclass(slots=True)
class Found:
    """One value a source reaches: the data value (or None when the ELEMENT has a null_flavour) and the ELEMENT."""

    value: Any
    element: RMObject | None = None

    @property
    def null_flavour(self) -> str | None:
        if self.element is None:
            return None
        nf = self.element.attrs.get("null_flavour")
        return _code_string(nf) if isinstance(nf, RMObject) else None


def found_values(objs: list[Any]) -> list[Found]:
    out = []
    for o in objs:
        if isinstance(o, RMObject) and o.base_type == "ELEMENT":
            out.append(Found(o.attrs.get("value"), o))
        else:
            out.append(Found(o))
    return out


# ---------------------------------------------------------------------------------------------------------------
# reading data values


def _code_string(obj: RMObject) -> str | None:
    """The code of a DV_CODED_TEXT, DV_ORDINAL/DV_SCALE symbol or CODE_PHRASE."""
    t = obj.base_type
    if t == "CODE_PHRASE":
        c = obj.attrs.get("code_string")
        return c if isinstance(c, str) else None
    if t in ("DV_ORDINAL", "DV_SCALE"):
        sym = obj.attrs.get("symbol")
        return _code_string(sym) if isinstance(sym, RMObject) else None
    dc = obj.attrs.get("defining_code")
    return _code_string(dc) if isinstance(dc, RMObject) else None


def _terminology(obj: RMObject) -> str | None:
    t = obj.base_type
    if t in ("DV_ORDINAL", "DV_SCALE"):
        obj = obj.attrs.get("symbol")
    elif t != "CODE_PHRASE":
        obj = obj.attrs.get("defining_code")
    if not isinstance(obj, RMObject):
        return None
    tid = obj.attrs.get("terminology_id")
    v = tid.attrs.get("value") if isinstance(tid, RMObject) else None
    return v if isinstance(v, str) else None


def code_keys(obj: Any) -> tuple[str, ...]:
    """The keys a code map may use for this coded value: ``at0012`` / ``253`` and ``terminology::code``."""
    if not isinstance(obj, RMObject):
        return ()
    code = _code_string(obj)
    if code is None:
        return ()
    term = _terminology(obj)
    return (code, f"{term}::{code}") if term else (code,)


def _number(obj: Any) -> tuple[Decimal, str | None]:
    """The magnitude of a quantity-like value and its unit."""
    if isinstance(obj, bool) or obj is None:
        raise MapError("MAP101", "no number to map")
    if isinstance(obj, (int, float)):
        return Decimal(str(obj)), None
    if not isinstance(obj, RMObject):
        raise MapError("MAP101", f"a number was expected, found {type(obj).__name__}")
    t = obj.base_type
    if t in ("DV_QUANTITY", "DV_COUNT"):
        mag = obj.attrs.get("magnitude")
        units = obj.attrs.get("units") if t == "DV_QUANTITY" else None
    elif t in ("DV_ORDINAL", "DV_SCALE"):
        mag, units = obj.attrs.get("value"), None
    elif t == "DV_PROPORTION":
        num, den = obj.attrs.get("numerator"), obj.attrs.get("denominator")
        if not isinstance(num, (int, float)) or not isinstance(den, (int, float)) or den == 0:
            raise MapError("MAP101", "the proportion has no usable numerator/denominator")
        ptype = obj.attrs.get("type")
        mag = num if ptype in (2, 3) else num / den * (100 if ptype == 2 else 1)
        units = "%" if ptype == 2 else None
    else:
        raise MapError("MAP101", f"a {t} has no number to map")
    if isinstance(mag, bool) or not isinstance(mag, (int, float)):
        raise MapError("MAP101", f"the {t} has no magnitude")
    try:
        return Decimal(str(mag)), units if isinstance(units, str) else None
    except InvalidOperation:
        raise MapError("MAP101", f"the magnitude {mag!r} is not a number") from None


# --- units: a small table of exact factors to a base unit per dimension; enough for the registries' fields ---

_UNITS: dict[str, tuple[str, Decimal]] = {}
for _dim, _table in {
    "mass": {"kg": "1000", "g": "1", "mg": "0.001", "ug": "0.000001", "[lb_av]": "453.59237"},
    "length": {"m": "100", "cm": "1", "mm": "0.1", "[in_i]": "2.54"},
    "volume": {"l": "1000", "L": "1000", "dl": "100", "dL": "100", "ml": "1", "mL": "1", "cm3": "1", "cm[3]": "1"},
    "time": {"d": "1440", "h": "60", "min": "1", "s": "0.0166666666666666666666666667"},
    "mass_conc": {"ug/l": "1", "ug/L": "1", "ng/ml": "1", "ng/mL": "1", "mg/l": "1000", "mg/L": "1000"},
    "dose": {"Gy": "1", "cGy": "0.01", "mGy": "0.001"},
    "fraction": {"%": "1", "1": "100"},
    "pressure": {"mm[Hg]": "1", "kPa": "7.50061682704169751"},
    "insulin_rate": {"[iU]/d": "1", "U/d": "1", "[IU]/d": "1"},
    "insulin_rate_kg": {"[iU]/kg/d": "1", "U/kg/d": "1", "[IU]/kg/d": "1", "[iU]/kg.d": "1"},
    "acr": {"mg/mmol": "1", "g/mol": "1", "mg/g": "0.113"},
    "mmol_per_mol": {"mmol/mol": "1"},
    "mmol_per_l": {"mmol/l": "1", "mmol/L": "1"},
    "bmi": {"kg/m2": "1", "kg/m[2]": "1"},
}.items():
    for _u, _f in _table.items():
        _UNITS[_u] = (_dim, Decimal(_f))


def convert_unit(value: Decimal, from_unit: str | None, to_unit: str) -> Decimal | None:
    """``value`` in ``to_unit``; None when the units cannot be converted. HbA1c % (NGSP) -> mmol/mol (IFCC) too."""
    if from_unit is None or from_unit == to_unit:
        return value
    if from_unit == "%" and to_unit == "mmol/mol":  # IFCC-NGSP master equation, as laboratories report it
        return (value - Decimal("2.15")) * Decimal("10.929")
    a, b = _UNITS.get(from_unit), _UNITS.get(to_unit)
    if a is None or b is None or a[0] != b[0]:
        return None
    return value * a[1] / b[1]


def can_convert(from_unit: str, to_unit: str) -> bool:
    return convert_unit(Decimal(1), from_unit, to_unit) is not None


def _round(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def format_decimal(value: Decimal, places: int | None, separator: str = ".") -> str:
    if places is not None:
        value = _round(value, places)
    text = format(value.normalize() if places is None else value, "f")
    return text.replace(".", separator)


# --- dates ---

_DATE_PREFIX = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})")
_FORMAT_TOKEN = re.compile(r"%[dmYyHMS]")


def _temporal_text(obj: Any) -> str:
    if isinstance(obj, RMObject) and obj.base_type in ("DV_DATE", "DV_DATE_TIME"):
        v = obj.attrs.get("value")
        if isinstance(v, str):
            return v
    if isinstance(obj, str):
        return obj
    raise MapError("MAP101", "a date or date-time was expected")


def to_date(obj: Any) -> _dt.date:
    text = _temporal_text(obj)
    m = _DATE_PREFIX.match(text)
    if not m:
        raise MapError("MAP101", f"the date {text!r} is partial or not a date; the registry needs a full date")
    try:
        return _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise MapError("MAP101", f"{text!r} is not a real date") from None


def to_datetime(obj: Any) -> _dt.datetime:
    text = _temporal_text(obj)
    t = text.replace("Z", "+00:00")
    if re.match(r"^\d{8}T", t):  # ISO 8601 basic format
        t = f"{t[0:4]}-{t[4:6]}-{t[6:8]}T" + re.sub(r"^(\d{2})(\d{2})(\d{2})?", lambda m: ":".join(
            g for g in m.groups() if g), t[9:])
    if "T" not in t:
        raise MapError("MAP101", f"{text!r} has no time of day; the registry needs a date and time")
    try:
        return _dt.datetime.fromisoformat(t)
    except ValueError:
        raise MapError("MAP101", f"{text!r} is partial or not a date-time") from None


def _strftime(moment: _dt.date, fmt: str) -> str:
    # only the tokens the schema allows (%d %m %Y %y %H %M %S); everything else is literal text
    return _FORMAT_TOKEN.sub(lambda m: moment.strftime(m.group(0)), fmt)


# --- durations ---

_DURATION = re.compile(
    r"^(-)?P(?:(\d+(?:[.,]\d+)?)Y)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)W)?(?:(\d+(?:[.,]\d+)?)D)?"
    r"(?:T(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$")
#: average lengths for years and months (a duration in months has no exact hour count)
_HOURS = (Decimal("8765.82"), Decimal("730.485"), Decimal(168), Decimal(24), Decimal(1), Decimal(1) / 60,
          Decimal(1) / 3600)


def duration_in(obj: Any, unit: str) -> Decimal:
    text = obj.attrs.get("value") if isinstance(obj, RMObject) else obj
    m = _DURATION.match(text) if isinstance(text, str) else None
    if not m or text in ("P", "PT"):
        raise MapError("MAP101", f"{text!r} is not an ISO 8601 duration")
    parts = [Decimal(g.replace(",", ".")) if g else Decimal(0) for g in m.groups()[1:]]
    sign = -1 if m.group(1) else 1
    if unit == "months":
        if any(parts[2:]):
            hours = sum(p * h for p, h in zip(parts, _HOURS))
            return sign * hours / _HOURS[1]
        return sign * (parts[0] * 12 + parts[1])
    hours = sum(p * h for p, h in zip(parts, _HOURS))
    factor = {"hours": Decimal(1), "minutes": Decimal(60), "days": Decimal(1) / 24, "seconds": Decimal(3600)}[unit]
    return sign * hours * factor


# ---------------------------------------------------------------------------------------------------------------
# applying one field


@dataclass(slots=True)
class _Scope:
    """Where paths start: the composition root, the current for_each entry and the paired entries."""

    root: RMObject
    entry: Any
    paired: dict[str, Any]
    #: source path -> values found; fields and conditions often read the same node
    memo: dict[str, list["Found"]] = field(default_factory=dict)

    def start(self, path: str) -> tuple[list[Any], str]:
        if path.startswith("/"):
            return [self.root], path
        if path.startswith("@"):
            name, _, rest = path[1:].partition("/")
            obj = self.paired.get(name)
            return ([obj] if obj is not None else []), rest
        return ([self.entry] if self.entry is not None else []), path


def _source_values(fm: FieldMap | Condition, scope: _Scope) -> list[Found]:
    if not fm.source:
        return []
    hit = scope.memo.get(fm.source)
    if hit is None:
        start, rel = scope.start(fm.source)
        hit = scope.memo[fm.source] = found_values(select(start, rel) if rel else start)
    return hit


def _present(f: Found) -> bool:
    return f.value is not None


def _code_value(fm: FieldMap, f: Found) -> Any:
    keys = code_keys(f.value)
    if not keys and "free_text" in fm.ignore:
        return _ABSENT  # the mapping says plainly that free text (no code) has no registry value
    if not keys:
        raise MapError("MAP101", f"{fm.target}: the value at {fm.source} has no code")
    codes: dict[str, Any] = fm.options
    for k in keys:
        if k in codes:
            return codes[k]
    for k in keys:
        if k in fm.ignore:
            return _ABSENT
    raise MapError("MAP101", f"{fm.target}: code {keys[-1]} at {fm.source} is not in the mapping's code list")


def _single(fm: FieldMap, values: list[Any], fdef: FieldDef | None) -> Any:
    values = [v for v in values if v is not _ABSENT]
    if not values:
        return _ABSENT
    if fdef is not None and fdef.repeat:
        return values
    distinct = []
    for v in values:
        if v not in distinct:
            distinct.append(v)
    if len(distinct) > 1:
        raise MapError("MAP103", f"{fm.target}: {fm.source} has {len(values)} different values "
                                 f"({', '.join(map(repr, distinct[:4]))}) but the field takes one")
    return distinct[0]


def _numeric_out(value: Decimal, places: int | None, separator: str | None, fdef: FieldDef | None) -> Any:
    as_text = separator is not None or (fdef is not None and fdef.type in ("text", "code"))
    if as_text:
        return format_decimal(value, places, separator or ".")
    if places is not None:
        value = _round(value, places)
    if fdef is not None and fdef.type == "integer" or (places == 0):
        return int(value.to_integral_value(rounding=ROUND_HALF_UP))
    return float(value)


def _eval(fm: FieldMap, scope: _Scope, fdef: FieldDef | None) -> Any:
    """The value of one field (or derived argument) in this scope; _ABSENT when there is none."""
    t = fm.transform
    opts = fm.options
    if t == "constant":
        return opts
    if t == "derived":
        return _derive(fm, scope, fdef)
    found = _source_values(fm, scope)
    if t == "has_code":
        hit = any(opts["code"] in code_keys(f.value) for f in found if f.value is not None)
        return opts.get("true", True) if hit else opts.get("false", False)
    if t == "if_unknown":
        return opts if any(f.null_flavour == NULL_FLAVOUR_UNKNOWN for f in found) else _ABSENT
    out: list[Any] = []
    id_type = opts.get("identifier_type") if t == "text" else None
    for f in found:
        if id_type is not None and not (isinstance(f.value, RMObject) and f.value.attrs.get("type") == id_type):
            continue  # several identifiers: only the one of the wanted type counts
        if f.value is None:
            if t == "boolean" and "unknown" in opts and f.null_flavour == NULL_FLAVOUR_UNKNOWN:
                out.append(opts["unknown"])
            continue
        out.append(_transform_one(fm, f, fdef))
    return _single(fm, out, fdef)


def _transform_one(fm: FieldMap, f: Found, fdef: FieldDef | None) -> Any:
    t, opts, v = fm.transform, fm.options, f.value
    if t == "codes":
        return _code_value(fm, f)
    if t == "boolean":
        b = v.attrs.get("value") if isinstance(v, RMObject) else v
        if not isinstance(b, bool):
            raise MapError("MAP101", f"{fm.target}: {fm.source} is not a boolean")
        return opts.get("true" if b else "false", b)
    if t == "copy_code":
        if "free_text" in fm.ignore and isinstance(v, RMObject) and _code_string(v) is None:
            return _ABSENT
        if not isinstance(v, RMObject) or _code_string(v) is None:
            raise MapError("MAP101", f"{fm.target}: {fm.source} has no code")
        want = opts.get("terminology")
        if want and _terminology(v) != want:
            raise MapError("MAP101", f"{fm.target}: the code at {fm.source} is from {_terminology(v)}, not {want}")
        return _code_string(v)
    if t == "text":
        text = _text_of(v)
        if text is None:
            raise MapError("MAP101", f"{fm.target}: {fm.source} has no text")
        limit = opts.get("max_length")
        return text[:limit] if limit else text
    if t in ("decimal", "integer"):
        if t == "integer" and opts.get("ordinal"):
            if not isinstance(v, RMObject) or v.base_type not in ("DV_ORDINAL", "DV_SCALE"):
                raise MapError("MAP101", f"{fm.target}: {fm.source} is not an ordinal")
        number, units = _number(v)
        want = opts.get("unit")
        if want:
            converted = convert_unit(number, units, want)
            if converted is None:
                raise MapError("MAP101", f"{fm.target}: cannot convert {units} to {want}")
            number = converted
        if t == "integer":
            return _numeric_out(number, 0, None, fdef if fdef is None or fdef.type != "number" else None)
        return _numeric_out(number, opts.get("places"), opts.get("separator"), fdef)
    if t == "date":
        day = to_date(v)
        return _strftime(day, opts["format"]) if opts.get("format") else day.isoformat()
    if t == "datetime":
        moment = to_datetime(v)
        if opts.get("format"):
            return _strftime(moment, opts["format"])
        return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
    raise MapError("MAP101", f"{fm.target}: unknown transform {t}")  # pragma: no cover - the schema prevents it


def _text_of(v: Any) -> str | None:
    if isinstance(v, str):
        return v
    if not isinstance(v, RMObject):
        return None if v is None or isinstance(v, (dict, list)) else str(v)
    t = v.base_type
    if t in ("DV_TEXT", "DV_CODED_TEXT", "DV_DATE", "DV_DATE_TIME", "DV_TIME", "DV_DURATION", "DV_URI", "DV_EHR_URI",
             "DV_PARSABLE"):
        x = v.attrs.get("value")
    elif t == "DV_IDENTIFIER":
        x = v.attrs.get("id")
    elif t == "DV_BOOLEAN":
        x = "true" if v.attrs.get("value") else "false"
    elif t in ("DV_COUNT", "DV_QUANTITY"):
        x = v.attrs.get("magnitude")
        x = None if x is None else format_decimal(Decimal(str(x)), None)
    else:
        x = None
    return x if isinstance(x, str) else None


# --- derived values: fixed functions, chosen by name ---


def _arg_values(fm: FieldMap, scope: _Scope) -> list[Any]:
    out = []
    for a in fm.args:
        if isinstance(a, FieldMap):
            out.append(_eval(a, scope, None))
        else:
            out.append(a)
    return out


def _num(v: Any, what: str) -> Decimal:
    if v is _ABSENT or v is None:
        raise _Missing()
    if isinstance(v, Decimal):
        return v
    if isinstance(v, bool):
        raise MapError("MAP102", f"{what}: a number was expected, found a boolean")
    try:
        return Decimal(str(v).replace(",", "."))
    except InvalidOperation:
        raise MapError("MAP102", f"{what}: {v!r} is not a number") from None


class _Missing(Exception):
    """An argument of a derived value is absent: the derived value is absent too."""


def _fn_add(fm: FieldMap, args: list[Any]) -> Decimal:
    return sum((_num(a, fm.target) for a in args), Decimal(0))


def _fn_bmi(fm: FieldMap, args: list[Any]) -> Decimal:
    if len(args) != 2:
        raise MapError("MAP102", f"{fm.target}: bmi takes weight (kg) and height (m)")
    weight, height = _num(args[0], fm.target), _num(args[1], fm.target)
    if height <= 0:
        raise MapError("MAP102", f"{fm.target}: height must be above zero to compute BMI")
    return weight / (height * height)


def _fn_hours_between(fm: FieldMap, args: list[Any]) -> Decimal:
    if len(args) != 2 or any(a is _ABSENT or a is None for a in args):
        raise _Missing()
    start, end = to_datetime(args[0]), to_datetime(args[1])
    if (start.tzinfo is None) != (end.tzinfo is None):
        start, end = start.replace(tzinfo=None), end.replace(tzinfo=None)
    return Decimal((end - start).total_seconds()) / 3600


def _fn_duration(fm: FieldMap, args: list[Any]) -> Decimal:
    if args[0] is _ABSENT or args[0] is None:
        raise _Missing()
    unit = (fm.options or {}).get("unit", "hours")
    return duration_in(args[0], unit)


_FUNCTIONS: dict[str, Callable[[FieldMap, list[Any]], Decimal]] = {
    "add": _fn_add, "bmi": _fn_bmi, "hours_between": _fn_hours_between, "duration": _fn_duration,
}


def _derive(fm: FieldMap, scope: _Scope, fdef: FieldDef | None) -> Any:
    opts = fm.options
    fn = opts["fn"]
    if fn == "duration":  # the argument is the raw duration, not a transformed value
        raws = [_raw_first(a, scope) if isinstance(a, FieldMap) else a for a in fm.args]
        args = raws
    else:
        args = _arg_values(fm, scope)
    if fn == "first":
        for a in args:
            if a is not _ABSENT and a is not None:
                return a
        return _ABSENT
    if fn == "priority":
        order = opts.get("order", [])
        seen = {x for a in args for x in (a if isinstance(a, list) else [a]) if x is not _ABSENT}
        for candidate in order:
            if candidate in seen:
                return candidate
        return _ABSENT
    try:
        value = _FUNCTIONS[fn](_options_view(fm), args)
    except _Missing:
        return _ABSENT
    except (InvalidOperation, ZeroDivisionError, OverflowError) as exc:
        raise MapError("MAP102", f"{fm.target}: {fn} failed ({exc.__class__.__name__})") from None
    return _numeric_out(value, opts.get("places"), opts.get("separator"), fdef)


def _options_view(fm: FieldMap) -> FieldMap:
    return FieldMap(fm.target, fm.transform, fm.options, fm.source)


def _raw_first(a: FieldMap, scope: _Scope) -> Any:
    found = [f.value for f in _source_values(a, scope) if f.value is not None]
    return found[0] if found else _ABSENT


# --- conditions ---


def _holds(c: Condition, scope: _Scope, values: dict[str, Any] | None) -> bool:
    if c.any:
        if values is None and any(a.uses_fields for a in c.any):
            return True  # judged in the second pass, when every field has its value
        return any(_holds(a, scope, values) for a in c.any)
    if c.field is not None:
        if values is None:
            return True
        v = values.get(c.field)
        text = "true" if v is True else "false" if v is False else "" if v is None else str(v)
        return any(text == ("true" if x is True else "false" if x is False else str(x)) for x in c.values)
    found = [f for f in _source_values(c, scope) if f.value is not None]
    if c.codes:
        return any(set(code_keys(f.value)) & set(c.codes) for f in found)
    if c.value is not None:
        return any(isinstance(f.value, RMObject) and f.value.attrs.get("value") is c.value for f in found)
    present = bool(found)
    return present if c.present is None or c.present else not present


# ---------------------------------------------------------------------------------------------------------------
# the whole mapping


def _coerce(value: Any, fdef: FieldDef | None) -> Any:
    """Fit a mapped value to the field's type where that is lossless (1 -> "1" for a text field)."""
    if fdef is None or value is _ABSENT:
        return value
    if isinstance(value, list):
        return [_coerce(v, fdef) for v in value]
    if fdef.type in ("text", "code", "date", "datetime") and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if fdef.type in ("text", "code") and isinstance(value, bool):
        return "true" if value else "false"
    if fdef.type == "boolean" and isinstance(value, str) and value in ("true", "false"):
        return value == "true"
    if fdef.type == "integer" and isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    return value


def entries(mapping: Mapping, composition: RMObject) -> list[tuple[str, Any, dict[str, Any]]]:
    """(entry key, entry object, paired objects) for each message the composition gives."""
    if not mapping.for_each:
        return [("", composition, {})]
    items = select([composition], mapping.for_each)
    paired_lists = {name: select([composition], path) for name, path in mapping.paired.items()}
    out = []
    for i, item in enumerate(items):
        paired = {name: (lst[i] if i < len(lst) else None) for name, lst in paired_lists.items()}
        out.append((str(i), item, paired))
    return out


def composition_template_id(comp: RMObject) -> str | None:
    details = comp.attrs.get("archetype_details")
    tid = details.attrs.get("template_id") if isinstance(details, RMObject) else None
    v = tid.attrs.get("value") if isinstance(tid, RMObject) else None
    return v if isinstance(v, str) else None


def apply_mapping(mapping: Mapping, composition: RMObject, template: OperationalTemplate | None = None,
                  export_format: ExportFormat | None = None) -> list[Message]:
    """One Message per repeating entry (one in all without ``for_each``); issues on a message mean it has no
    trustworthy values and must not be exported."""
    fmt = export_format or find_format(mapping.format_id, mapping.format_version)
    key = fmt.key if fmt else f"{mapping.format_id}@{mapping.format_version}"
    tid = composition_template_id(composition)
    expected = template.template_id if template is not None else mapping.template_id
    if tid is not None and tid != expected:
        return [Message(key, {}, "", [Issue("MAP104", f"the composition is made with template {tid}, the mapping "
                                                      f"{mapping.mapping_id} is for {expected}")])]
    messages = []
    for entry_key, entry, paired in entries(mapping, composition):
        scope = _Scope(composition, entry, paired)
        values: dict[str, Any] = {}
        issues: list[Issue] = []
        deferred: list[FieldMap] = []
        for fm in mapping.fields:
            fdef = fmt.field(fm.target) if fmt else None
            try:
                if not all(_holds(c, scope, None) for c in fm.when):
                    continue
                if any(c.uses_fields for c in fm.when):
                    deferred.append(fm)
                value = _eval(fm, scope, fdef)
            except MapError as exc:
                issues.append(Issue(exc.code, exc.message, instance_path=fm.target,
                                    line=fm.pos.line, file=mapping.source_file))
                continue
            if value is _ABSENT:
                if fm.has_default:
                    values[fm.target] = _coerce(fm.default, fdef)
                continue
            values[fm.target] = _coerce(value, fdef)
        # conditions on other target fields are judged once every field has its value
        for fm in deferred:
            if not all(_holds(c, scope, values) for c in fm.when):
                values.pop(fm.target, None)
        messages.append(Message(key, values, entry_key, issues))
    return messages


__all__ = ["Found", "MapError", "apply_mapping", "can_convert", "code_keys", "convert_unit", "duration_in",
           "entries", "format_decimal", "found_values", "parse_steps", "select"]
