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
from openehr_kit.rm.instance import RMObject, base_type

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
        cur = _step(cur, attr, key, name)
        if not cur:
            break
    return cur


def _step(cur: list[Any], attr: str, key: str | None, name: str | None) -> list[Any]:
    """One path step: the values of ``attr`` of each object, kept when they have the node id (and name)."""
    nxt: list[Any] = []
    for obj in cur:
        if not isinstance(obj, RMObject):
            continue
        value = obj.attrs.get(attr)
        if value is None:
            continue
        if key is None:
            if isinstance(value, list):
                nxt.extend(value)
            else:
                nxt.append(value)
            continue
        for item in value if isinstance(value, list) else (value,):
            if not isinstance(item, RMObject) or item.attrs.get("archetype_node_id") != key:
                continue
            if name is not None and item.name_value != name:
                continue
            nxt.append(item)
    return nxt


@dataclass(slots=True)
class Found:
    """One value a source reaches: the data value (or None when the ELEMENT has a null_flavour) and the ELEMENT."""

    value: Any
    element: RMObject | None = None
    #: code_keys(value), worked out on first use (fields and conditions often ask about the same value)
    keys: tuple[str, ...] | None = field(default=None, repr=False, compare=False)

    @property
    def codes(self) -> tuple[str, ...]:
        """``code_keys(value)``."""
        keys = self.keys
        if keys is None:
            keys = self.keys = code_keys(self.value)
        return keys

    @property
    def null_flavour(self) -> str | None:
        if self.element is None:
            return None
        nf = self.element.attrs.get("null_flavour")
        return _code_string(nf) if isinstance(nf, RMObject) else None


def found_values(objs: list[Any]) -> list[Found]:
    return [Found(o.attrs.get("value"), o) if isinstance(o, RMObject) and _base(o) == "ELEMENT" else Found(o)
            for o in objs]


# ---------------------------------------------------------------------------------------------------------------
# reading data values


def _base(obj: RMObject) -> str:
    """``obj.base_type`` without its two calls (this module asks it for nearly every value it reads)."""
    t = obj.rm_type
    return t if "<" not in t else base_type(t)


def _code_string(obj: RMObject) -> str | None:
    """The code of a DV_CODED_TEXT, DV_ORDINAL/DV_SCALE symbol or CODE_PHRASE."""
    t = _base(obj)
    if t == "CODE_PHRASE":
        c = obj.attrs.get("code_string")
        return c if isinstance(c, str) else None
    if t in ("DV_ORDINAL", "DV_SCALE"):
        sym = obj.attrs.get("symbol")
        return _code_string(sym) if isinstance(sym, RMObject) else None
    dc = obj.attrs.get("defining_code")
    return _code_string(dc) if isinstance(dc, RMObject) else None


def _terminology(obj: RMObject) -> str | None:
    t = _base(obj)
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
    # _code_string and _terminology in one: the object that carries the code and terminology id
    t = _base(obj)
    if t == "CODE_PHRASE":
        phrase: Any = obj
        code = obj.attrs.get("code_string")
        if not isinstance(code, str):
            return ()
    else:
        # an ordinal's terminology is looked up on its symbol itself (as _terminology does)
        phrase = obj.attrs.get("symbol" if t in ("DV_ORDINAL", "DV_SCALE") else "defining_code")
        if not isinstance(phrase, RMObject):
            return ()
        if phrase.rm_type == "CODE_PHRASE":  # the usual case, _code_string(phrase) without the call
            code = phrase.attrs.get("code_string")
            if not isinstance(code, str):
                return ()
        else:
            code = _code_string(phrase)
            if code is None:
                return ()
    tid = phrase.attrs.get("terminology_id")
    term = tid.attrs.get("value") if isinstance(tid, RMObject) else None
    return (code, f"{term}::{code}") if isinstance(term, str) and term else (code,)


def _number(obj: Any) -> tuple[Decimal, str | None]:
    """The magnitude of a quantity-like value and its unit."""
    if isinstance(obj, bool) or obj is None:
        raise MapError("MAP101", "no number to map")
    if isinstance(obj, (int, float)):
        return Decimal(str(obj)), None
    if not isinstance(obj, RMObject):
        raise MapError("MAP101", f"a number was expected, found {type(obj).__name__}")
    t = _base(obj)
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
    return value.quantize(_quantum(places), rounding=ROUND_HALF_UP)


@functools.lru_cache(maxsize=64)
def _quantum(places: int) -> Decimal:
    """``Decimal(1).scaleb(-places)`` (1, 0.1, 0.01...), made once per number of places."""
    return Decimal(1).scaleb(-places)


def format_decimal(value: Decimal, places: int | None, separator: str = ".") -> str:
    if places is not None:
        value = _round(value, places)
    text = format(value.normalize() if places is None else value, "f")
    return text.replace(".", separator)


# --- dates ---

_DATE_PREFIX = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})")
_FORMAT_TOKEN = re.compile(r"%[dmYyHMS]")
_BASIC_DATETIME = re.compile(r"^\d{8}T")


def _temporal_text(obj: Any) -> str:
    if isinstance(obj, RMObject) and _base(obj) in ("DV_DATE", "DV_DATE_TIME"):
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
    year, month, day = m.groups()
    try:
        return _dt.date(int(year), int(month), int(day))
    except ValueError:
        raise MapError("MAP101", f"{text!r} is not a real date") from None


def to_datetime(obj: Any) -> _dt.datetime:
    text = _temporal_text(obj)
    t = text.replace("Z", "+00:00")
    if _BASIC_DATETIME.match(t):  # ISO 8601 basic format
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
#
# A mapping is compiled once (_Plan, kept on the Mapping): its source paths become a tree of path nodes (sources
# with a common prefix share nodes; children that pick different node ids from one attribute share one pass over
# its items), and each field gets the function for its transform. Applying it to a composition then reads every
# node once, parents first (_read_paths), and evaluates the fields against those values.


class _Node:
    """One step of a source path from one start (the root, the entry or a paired object); while compiling only
    (_read_paths takes the steps as plain tuples)."""

    __slots__ = ("index", "parent", "attr", "key", "name", "start", "shared", "group")

    def __init__(self, index: int, parent: "_Node | None", step: tuple[str, str | None, str | None] | None,
                 start: str, shared: bool) -> None:
        self.index = index
        self.parent = parent
        self.attr, self.key, self.name = step if step is not None else ("", None, None)
        self.start = start  # "/" root, "" the entry, "@name" a paired object
        self.shared = shared  # root paths: the same for every entry of one composition
        #: the nodes (this one included) that select by node id from the items of ``parent.attr``, when there are
        #: several: _read_paths reads them in one pass over those items
        self.group: list[_Node] | None = None


class _Scope:
    """Where paths start (the composition root, the current for_each entry, the paired entries) and, by node
    index, the values each path node of the mapping reaches (``found``; slot 0 is the empty list)."""

    __slots__ = ("root", "entry", "paired", "found")

    def __init__(self, root: RMObject, entry: Any, paired: dict[str, Any], found: list[Any]) -> None:
        self.root = root
        self.entry = entry
        self.paired = paired
        self.found = found

    def start_objects(self, start: str) -> list[Any]:
        if start == "/":
            return [self.root]
        if start.startswith("@"):
            obj = self.paired.get(start[1:])
            return [obj] if obj is not None else []
        return [self.entry] if self.entry is not None else []


#: one path step of a compiled mapping: (index, parent index or -1 for a start, attribute or the start, node id,
#: name, whether a field or condition reads the node, and None), or for a group of nodes that select by node id
#: from the same items: (-1, parent index, attribute, the node ids, None, False, the (node id, index, name, read)
#: of each node): that step reads them all
_GroupMember = tuple[str, int, "str | None", bool]
_PathStep = tuple[int, int, str, Any, "str | None", bool, "tuple[_GroupMember, ...] | None"]


def _read_paths(steps: list[_PathStep], objs: list[Any], found: list[Any], scope: _Scope) -> None:
    """Follow every path of the mapping from its start, parents before children, each step once.

    This is :func:`select` for all sources at once: a source's objects are its parent's objects stepped
    through one attribute, so sources with a common prefix share its steps; the values a field or condition
    reads are kept as Found in ``found``. Every step is pure, so taking them all up front changes nothing.
    """
    for index, parent, attr, key, name, read, group in steps:
        if group is not None:  # (key holds the node ids of the group)
            _read_group(objs[parent], attr, key, group, objs, found)
            continue
        if parent < 0:
            got = scope.start_objects(attr)
        else:
            got = objs[parent]
            if got:  # an empty list stays empty (select stops there too)
                got = _step(got, attr, key, name)
        objs[index] = got
        if read:
            found[index] = _found(got)


def _read_group(cur: list[Any], attr: str, wanted: frozenset[str], group: tuple[_GroupMember, ...], objs: list[Any],
                found: list[Any]) -> None:
    """The steps of several nodes that select by node id (``wanted``) from the items of ``attr`` of the same
    objects: what ``_step`` keeps for each, from one pass over the items."""
    buckets: dict[str, list[RMObject]] = {}
    if cur:
        for obj in cur:
            if not isinstance(obj, RMObject):
                continue
            value = obj.attrs.get(attr)
            if value is None:
                continue
            for item in value if isinstance(value, list) else (value,):
                if isinstance(item, RMObject):
                    nid = item.attrs.get("archetype_node_id")
                    if isinstance(nid, str) and nid in wanted:
                        bucket = buckets.get(nid)
                        if bucket is None:
                            buckets[nid] = [item]
                        else:
                            bucket.append(item)
    for key, index, name, read in group:
        got = buckets.get(key)
        if got is None:
            got = []
        elif name is not None:
            got = [item for item in got if item.name_value == name]
        objs[index] = got
        if not read:
            continue
        if len(got) == 1 and got[0].rm_type == "ELEMENT":  # the usual case (items here are RM objects)
            o = got[0]
            found[index] = [Found(o.attrs.get("value"), o)]
        else:
            found[index] = _found(got)


def _found(got: list[Any]) -> list[Found]:
    """found_values(got), shortcut for none and one object (the usual cases)."""
    if not got:
        return _NOTHING
    if len(got) == 1:
        o = got[0]
        if isinstance(o, RMObject) and (o.rm_type == "ELEMENT" or _base(o) == "ELEMENT"):
            return [Found(o.attrs.get("value"), o)]
        return [Found(o)]
    return found_values(got)


def _source_values(p: "_FieldPlan | _CondPlan", scope: _Scope) -> list[Found]:
    """The values a field's or condition's source reaches (slot 0 holds the empty list: no source)."""
    return scope.found[p.slot]


def _present(f: Found) -> bool:
    return f.value is not None


def _code_value(fm: FieldMap, f: Found, fdef: FieldDef | None = None) -> Any:
    keys = f.codes
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
    if len(values) == 1:  # the usual case, without the filtering and distinct check below
        v = values[0]
        if v is _ABSENT:
            return _ABSENT
        return values if fdef is not None and fdef.repeat else v
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


def _eval(fp: "_FieldPlan", scope: _Scope) -> Any:
    """The value of one field (or derived argument) in this scope; _ABSENT when there is none."""
    return fp.evaluate(fp, scope)


# --- one evaluation function per kind of transform, chosen when the mapping is compiled ---


def _ev_constant(fp: "_FieldPlan", scope: _Scope) -> Any:
    return fp.fm.options


def _ev_derived(fp: "_FieldPlan", scope: _Scope) -> Any:
    return _derive(fp, scope)


def _ev_has_code(fp: "_FieldPlan", scope: _Scope) -> Any:
    opts = fp.fm.options
    code = opts["code"]
    for f in scope.found[fp.slot]:
        if f.value is not None and code in f.codes:
            return opts.get("true", True)
    return opts.get("false", False)


def _ev_if_unknown(fp: "_FieldPlan", scope: _Scope) -> Any:
    found = _source_values(fp, scope)
    return fp.fm.options if any(f.null_flavour == NULL_FLAVOUR_UNKNOWN for f in found) else _ABSENT


def _ev_each(fp: "_FieldPlan", scope: _Scope) -> Any:
    """The transforms that map each value found (codes, boolean, text, numbers, dates)."""
    found = scope.found[fp.slot]
    if not found:
        return _ABSENT
    id_type = fp.id_type
    if len(found) == 1 and id_type is None:  # the usual case: what the loop and _single below do for one value
        f = found[0]
        if f.value is None:
            if fp.unknown is not _ABSENT and f.null_flavour == NULL_FLAVOUR_UNKNOWN:
                return _single(fp.fm, [fp.unknown], fp.fdef)
            return _ABSENT
        value = fp.one(fp.fm, f, fp.fdef)
        if value is _ABSENT or not fp.repeat:
            return value
        return [value]
    fm, fdef, one = fp.fm, fp.fdef, fp.one
    t = fm.transform
    opts = fm.options
    out: list[Any] = []
    for f in found:
        if id_type is not None and not (isinstance(f.value, RMObject) and f.value.attrs.get("type") == id_type):
            continue  # several identifiers: only the one of the wanted type counts
        if f.value is None:
            if t == "boolean" and "unknown" in opts and f.null_flavour == NULL_FLAVOUR_UNKNOWN:
                out.append(opts["unknown"])
            continue
        out.append(one(fm, f, fdef))
    return _single(fm, out, fdef)


_EVALUATE: dict[str, Callable[["_FieldPlan", _Scope], Any]] = {
    "constant": _ev_constant, "derived": _ev_derived, "has_code": _ev_has_code, "if_unknown": _ev_if_unknown,
}


# --- one value found, through the field's transform (_ONE picks the function by transform) ---


def _t_boolean(fm: FieldMap, f: Found, fdef: FieldDef | None) -> Any:
    v = f.value
    b = v.attrs.get("value") if isinstance(v, RMObject) else v
    if not isinstance(b, bool):
        raise MapError("MAP101", f"{fm.target}: {fm.source} is not a boolean")
    return fm.options.get("true" if b else "false", b)


def _t_copy_code(fm: FieldMap, f: Found, fdef: FieldDef | None) -> Any:
    v = f.value
    if "free_text" in fm.ignore and isinstance(v, RMObject) and _code_string(v) is None:
        return _ABSENT
    if not isinstance(v, RMObject) or _code_string(v) is None:
        raise MapError("MAP101", f"{fm.target}: {fm.source} has no code")
    want = fm.options.get("terminology")
    if want and _terminology(v) != want:
        raise MapError("MAP101", f"{fm.target}: the code at {fm.source} is from {_terminology(v)}, not {want}")
    return _code_string(v)


def _t_text(fm: FieldMap, f: Found, fdef: FieldDef | None) -> Any:
    text = _text_of(f.value)
    if text is None:
        raise MapError("MAP101", f"{fm.target}: {fm.source} has no text")
    limit = fm.options.get("max_length")
    return text[:limit] if limit else text


def _t_number(fm: FieldMap, f: Found, fdef: FieldDef | None) -> Any:
    t, opts, v = fm.transform, fm.options, f.value
    if t == "integer" and opts.get("ordinal"):
        if not isinstance(v, RMObject) or _base(v) not in ("DV_ORDINAL", "DV_SCALE"):
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


def _t_date(fm: FieldMap, f: Found, fdef: FieldDef | None) -> Any:
    day = to_date(f.value)
    return _strftime(day, fm.options["format"]) if fm.options.get("format") else day.isoformat()


def _t_datetime(fm: FieldMap, f: Found, fdef: FieldDef | None) -> Any:
    moment = to_datetime(f.value)
    if fm.options.get("format"):
        return _strftime(moment, fm.options["format"])
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _t_unknown(fm: FieldMap, f: Found, fdef: FieldDef | None) -> Any:  # pragma: no cover - the schema prevents it
    raise MapError("MAP101", f"{fm.target}: unknown transform {fm.transform}")


_ONE: dict[str, Callable[[FieldMap, Found, FieldDef | None], Any]] = {
    "codes": _code_value, "boolean": _t_boolean, "copy_code": _t_copy_code, "text": _t_text, "decimal": _t_number,
    "integer": _t_number, "date": _t_date, "datetime": _t_datetime,
}


def _text_of(v: Any) -> str | None:
    if isinstance(v, str):
        return v
    if not isinstance(v, RMObject):
        return None if v is None or isinstance(v, (dict, list)) else str(v)
    t = _base(v)
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


def _arg_values(fp: "_FieldPlan", scope: _Scope) -> list[Any]:
    return [_eval(a, scope) if isinstance(a, _FieldPlan) else a for a in fp.args]


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


def _derive(fp: "_FieldPlan", scope: _Scope) -> Any:
    fm, fdef = fp.fm, fp.fdef
    opts = fm.options
    fn = opts["fn"]
    if fn == "duration":  # the argument is the raw duration, not a transformed value
        raws = [_raw_first(a, scope) if isinstance(a, _FieldPlan) else a for a in fp.args]
        args = raws
    else:
        args = _arg_values(fp, scope)
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
        value = _FUNCTIONS[fn](fp.view, args)
    except _Missing:
        return _ABSENT
    except (InvalidOperation, ZeroDivisionError, OverflowError) as exc:
        raise MapError("MAP102", f"{fm.target}: {fn} failed ({exc.__class__.__name__})") from None
    return _numeric_out(value, opts.get("places"), opts.get("separator"), fdef)


def _options_view(fm: FieldMap) -> FieldMap:
    """What a derived function is given of its field (target and options; made once, when compiling)."""
    return FieldMap(fm.target, fm.transform, fm.options, fm.source)


def _raw_first(a: "_FieldPlan", scope: _Scope) -> Any:
    found = [f.value for f in _source_values(a, scope) if f.value is not None]
    return found[0] if found else _ABSENT


# --- conditions ---


def _holds(cp: "_CondPlan", scope: _Scope, values: dict[str, Any] | None) -> bool:
    c = cp.cond
    if cp.any:
        if values is None and cp.any_uses_fields:
            return True  # judged in the second pass, when every field has its value
        return any(_holds(a, scope, values) for a in cp.any)
    if c.field is not None:
        if values is None:
            return True
        v = values.get(c.field)
        text = "true" if v is True else "false" if v is False else "" if v is None else str(v)
        return text in cp.texts
    found = scope.found[cp.slot]
    if c.codes:
        codes = cp.codes
        for f in found:
            if f.value is not None and not codes.isdisjoint(f.codes):
                return True
        return False
    if c.value is not None:
        want = c.value
        for f in found:
            v = f.value
            if isinstance(v, RMObject) and v.attrs.get("value") is want:
                return True
        return False
    present = any(f.value is not None for f in found)
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


class _CondPlan:
    """A ``when`` condition with its source resolved to a path node."""

    __slots__ = ("cond", "node", "slot", "any", "any_uses_fields", "codes", "texts")

    def __init__(self, cond: Condition, node: _Node | None, alts: tuple["_CondPlan", ...]) -> None:
        self.cond = cond
        self.node = node
        self.slot = 0  # node.index once the nodes are numbered; 0 (the empty list) without a source
        self.any = alts
        self.any_uses_fields = any(a.uses_fields for a in cond.any)
        self.codes = frozenset(cond.codes)
        #: the values of a condition on a target field, as text (what the field's value is compared with)
        self.texts = tuple("true" if x is True else "false" if x is False else str(x) for x in cond.values)


class _FieldPlan:
    """One field (or derived argument): the FieldMap, its format field, its source node, its conditions and the
    function that evaluates its transform."""

    __slots__ = ("fm", "target", "fdef", "as_is", "node", "slot", "when", "when_now", "deferred", "args", "evaluate",
                 "one", "repeat", "id_type", "unknown", "view", "has_default")

    def __init__(self, fm: FieldMap, fdef: FieldDef | None, node: _Node | None, when: tuple[_CondPlan, ...],
                 args: list[Any]) -> None:
        self.fm = fm
        self.target = fm.target
        #: the value type _coerce leaves as it is for this field, checked before calling it (None: none)
        self.as_is: type | None = str if fdef is not None and fdef.type in ("text", "code", "date", "datetime") \
            else None
        self.fdef = fdef
        self.node = node
        self.slot = 0
        self.when = when
        #: the conditions the first pass judges (conditions on target fields hold there until the second pass)
        self.when_now = tuple(c for c in when if not (c.any_uses_fields if c.any else c.cond.field is not None))
        self.deferred = any(c.uses_fields for c in fm.when)
        self.args = args
        self.evaluate = _EVALUATE.get(fm.transform, _ev_each)
        self.one = _ONE.get(fm.transform, _t_unknown)
        #: what _ev_each asks of the field and its options for every value
        self.repeat = fdef is not None and fdef.repeat
        opts = fm.options if isinstance(fm.options, dict) else {}  # text and boolean options are objects (schema)
        self.id_type = opts.get("identifier_type") if fm.transform == "text" else None
        #: a boolean's value for an ELEMENT whose null_flavour is "unknown" (_ABSENT: none)
        self.unknown = opts["unknown"] if fm.transform == "boolean" and "unknown" in opts else _ABSENT
        self.view = _options_view(fm) if fm.transform == "derived" else None
        self.has_default = fm.has_default


class _Plan:
    """A mapping compiled for one export format: field plans and the tree of path nodes their sources use.

    Slot 0 is the empty list (a field without a source); root nodes follow (up to ``n_shared``), then those that
    start at the entry or a paired object (up to ``n_total``): apply_mapping keeps two flat lists of that length
    (objects reached, values found) and reads the root part once per composition.
    """

    __slots__ = ("fmt", "fields_src", "n_fields", "fields", "n_shared", "n_total", "shared_steps", "local_steps",
                 "_nodes", "_plans")

    def __init__(self, mapping: Mapping, fmt: ExportFormat | None) -> None:
        self.fmt = fmt
        self.fields_src = mapping.fields
        self.n_fields = len(mapping.fields)
        self._nodes: dict[tuple[Any, ...], _Node] = {}
        self._plans: list[_FieldPlan | _CondPlan] = []
        self.fields = [self._field(fm, fmt.field(fm.target) if fmt else None) for fm in mapping.fields]
        self._number()
        del self._nodes, self._plans

    def fits(self, mapping: Mapping, fmt: ExportFormat | None) -> bool:
        return self.fmt is fmt and self.fields_src is mapping.fields and self.n_fields == len(mapping.fields)

    def _number(self) -> None:
        nodes = list(self._nodes.values())
        # where several nodes select by node id from the same parent attribute, its items are read once for all
        siblings: dict[tuple[int, str], list[_Node]] = {}
        for node in nodes:
            if node.parent is not None and node.key is not None:
                siblings.setdefault((id(node.parent), node.attr), []).append(node)
        for group in siblings.values():
            if len(group) > 1:
                for node in group:
                    node.group = group
        index = 1
        for shared in (True, False):
            for node in nodes:
                if node.shared is shared:
                    node.index, index = index, index + 1
            if shared:
                self.n_shared = index
        self.n_total = index
        read = set()
        for p in self._plans:
            p.slot = p.node.index if p.node is not None else 0
            read.add(p.slot)
        # nodes are made parents first, so this order takes each step after its parent's (a group's step comes
        # where its first node was made)
        self.shared_steps: list[_PathStep] = []
        self.local_steps: list[_PathStep] = []
        for node in nodes:
            parent, group = node.parent, node.group
            steps = self.shared_steps if node.shared else self.local_steps
            if group is None:
                steps.append((node.index, -1 if parent is None else parent.index,
                              node.start if parent is None else node.attr, node.key, node.name, node.index in read,
                              None))
            elif node is group[0]:
                steps.append((-1, parent.index, node.attr, frozenset(n.key for n in group), None, False,
                              tuple((n.key, n.index, n.name, n.index in read) for n in group)))

    def _node(self, source: str | None) -> _Node | None:
        """The node a source path ends at: root (``/...``), a paired object (``@name/...``) or the entry (relative),
        then the steps of :func:`parse_steps`, as :func:`select` takes them."""
        if not source:
            return None
        if source.startswith("/"):
            start, rel = "/", source
        elif source.startswith("@"):
            name, _, rel = source[1:].partition("/")
            start = "@" + name
        else:
            start, rel = "", source
        key: tuple[Any, ...] = (start,)
        node = self._get(key, None, None, start)
        for step in parse_steps(rel) if rel else ():
            key = (*key, step)
            node = self._get(key, node, step, start)
        return node

    def _get(self, key: tuple[Any, ...], parent: _Node | None, step: Any, start: str) -> _Node:
        node = self._nodes.get(key)
        if node is None:
            node = self._nodes[key] = _Node(-1, parent, step, start, start == "/")
        return node

    def _cond(self, c: Condition) -> _CondPlan:
        cp = _CondPlan(c, self._node(c.source), tuple(self._cond(a) for a in c.any))
        self._plans.append(cp)
        return cp

    def _field(self, fm: FieldMap, fdef: FieldDef | None) -> _FieldPlan:
        args = [self._field(a, None) if isinstance(a, FieldMap) else a for a in fm.args]
        fp = _FieldPlan(fm, fdef, self._node(fm.source), tuple(self._cond(c) for c in fm.when), args)
        self._plans.append(fp)
        return fp


def _plan(mapping: Mapping, fmt: ExportFormat | None) -> _Plan:
    """The compiled form of a mapping, made once and kept on the mapping (mappings are not changed once loaded;
    a new fields list or another format compiles it again)."""
    plan = mapping.compiled
    if not isinstance(plan, _Plan) or not plan.fits(mapping, fmt):
        plan = mapping.compiled = _Plan(mapping, fmt)
    return plan


#: what a field without a source (slot 0), or a path that reaches nothing, finds (shared, never changed)
_NOTHING: list[Found] = []


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
    plan = _plan(mapping, fmt)
    n_total = plan.n_total
    objs: list[Any] = [None] * n_total
    found: list[Any] = [None] * n_total
    found[0] = _NOTHING
    messages = []
    for number, (entry_key, entry, paired) in enumerate(entries(mapping, composition)):
        scope = _Scope(composition, entry, paired, found)
        if number == 0:  # root paths read the same for every entry
            _read_paths(plan.shared_steps, objs, found, scope)
        _read_paths(plan.local_steps, objs, found, scope)  # every local node is read again for each entry
        values: dict[str, Any] = {}
        issues: list[Issue] = []
        deferred: list[_FieldPlan] = []
        for fp in plan.fields:
            try:
                if fp.when_now:
                    for c in fp.when_now:
                        if not _holds(c, scope, None):
                            break
                    else:
                        c = None
                    if c is not None:
                        continue  # a condition does not hold
                if fp.deferred:
                    deferred.append(fp)
                value = fp.evaluate(fp, scope)
            except MapError as exc:
                fm = fp.fm
                issues.append(Issue(exc.code, exc.message, instance_path=fm.target,
                                    line=fm.pos.line, file=mapping.source_file))
                continue
            if value is _ABSENT:
                if fp.has_default:
                    values[fp.target] = _coerce(fp.fm.default, fp.fdef)
            elif fp.as_is is type(value):  # text for a text field (the usual case): nothing to coerce
                values[fp.target] = value
            else:
                values[fp.target] = _coerce(value, fp.fdef)
        # conditions on other target fields are judged once every field has its value
        for fp in deferred:
            for c in fp.when:
                if not _holds(c, scope, values):
                    values.pop(fp.target, None)
                    break
        messages.append(Message(key, values, entry_key, issues))
    return messages


__all__ = ["Found", "MapError", "apply_mapping", "can_convert", "code_keys", "convert_unit", "duration_in",
           "entries", "format_decimal", "found_values", "parse_steps", "select"]
