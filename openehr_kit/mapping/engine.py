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
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

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
    #: code_keys(value), worked out on first use
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
        return None if self.element is None else _element_null_flavour(self.element)


def found_values(objs: list[Any]) -> list[Found]:
    return [Found(o.attrs.get("value"), o) if _is_element(o) else Found(o) for o in objs]


def _is_element(obj: Any) -> bool:
    """Whether a path reached an ELEMENT (which stands for its value)."""
    return isinstance(obj, RMObject) and (obj.rm_type == "ELEMENT" or _base(obj) == "ELEMENT")


def _element_null_flavour(element: RMObject) -> str | None:
    nf = element.attrs.get("null_flavour")
    return _code_string(nf) if isinstance(nf, RMObject) else None


def _null_flavour(obj: Any) -> str | None:
    """The null_flavour code of an object a path reached (None unless it is an ELEMENT with one)."""
    # (_is_element without the call: if_unknown asks this of every object it reads)
    if isinstance(obj, RMObject) and (obj.rm_type == "ELEMENT" or _base(obj) == "ELEMENT"):
        return _element_null_flavour(obj)
    return None


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


def _code_phrase(obj: Any) -> tuple[str, RMObject] | None:
    """The code of a coded value and the object that carries it and its terminology id (None: no code)."""
    if not isinstance(obj, RMObject):
        return None
    t = obj.rm_type
    if t == "DV_CODED_TEXT":  # the usual case first (this runs for every coded value a mapping reads)
        phrase = obj.attrs.get("defining_code")
    else:
        t = _base(obj)
        if t == "CODE_PHRASE":
            code = obj.attrs.get("code_string")
            return (code, obj) if isinstance(code, str) else None
        # an ordinal's terminology is looked up on its symbol itself (as _terminology does)
        phrase = obj.attrs.get("symbol" if t in ("DV_ORDINAL", "DV_SCALE") else "defining_code")
    if not isinstance(phrase, RMObject):
        return None
    if phrase.rm_type == "CODE_PHRASE":  # the usual case, _code_string(phrase) without the call
        code = phrase.attrs.get("code_string")
    else:
        code = _code_string(phrase)
    return (code, phrase) if isinstance(code, str) else None


def _qualified_key(code: str, phrase: RMObject) -> str | None:
    """``terminology::code`` (None without a terminology id)."""
    tid = phrase.attrs.get("terminology_id")
    term = tid.attrs.get("value") if isinstance(tid, RMObject) else None
    return f"{term}::{code}" if isinstance(term, str) and term else None


def code_keys(obj: Any) -> tuple[str, ...]:
    """The keys a code map may use for this coded value: ``at0012`` / ``253`` and ``terminology::code``."""
    cp = _code_phrase(obj)
    if cp is None:
        return ()
    qualified = _qualified_key(*cp)
    return (cp[0],) if qualified is None else (cp[0], qualified)


def _first_key(obj: Any, wanted: Collection[str], qualified: bool) -> str | None:
    """The first of ``code_keys(obj)`` that is in ``wanted`` (None: none). ``qualified`` says whether a wanted
    key has a ``::`` at all (_has_qualified): when none has, ``terminology::code`` cannot match and is not made."""
    cp = _code_phrase(obj)
    if cp is None:
        return None
    if cp[0] in wanted:
        return cp[0]
    if qualified:
        key = _qualified_key(*cp)
        if key is not None and key in wanted:
            return key
    return None


def _has_qualified(keys: Iterable[str]) -> bool:
    return any("::" in k for k in keys)


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
_PER_HOUR = {"hours": Decimal(1), "minutes": Decimal(60), "days": Decimal(1) / 24, "seconds": Decimal(3600)}
_ZERO = Decimal(0)


def duration_in(obj: Any, unit: str) -> Decimal:
    text = obj.attrs.get("value") if isinstance(obj, RMObject) else obj
    m = _DURATION.match(text) if isinstance(text, str) else None
    if not m or text in ("P", "PT"):
        raise MapError("MAP101", f"{text!r} is not an ISO 8601 duration")
    parts = [Decimal(g.replace(",", ".")) if g else _ZERO for g in m.groups()[1:]]
    sign = -1 if m.group(1) else 1
    if unit == "months":
        if any(parts[2:]):
            hours = sum(p * h for p, h in zip(parts, _HOURS))
            return sign * hours / _HOURS[1]
        return sign * (parts[0] * 12 + parts[1])
    hours = sum(p * h for p, h in zip(parts, _HOURS))
    return sign * hours * _PER_HOUR[unit]


# ---------------------------------------------------------------------------------------------------------------
# compiling a mapping
#
# A mapping is compiled once (_Plan, kept on the Mapping). Its source paths become a tree of path nodes (sources
# with a common prefix share nodes; children that pick different node ids from one attribute share one pass over
# its items); applying it to a composition reads every node once, parents first (one _Reader per step). Each
# field and condition becomes one function (a closure over its options, already looked up) that works on what
# the nodes reached: ``objs[i]`` the objects of node i and ``vals[i]`` what they stand for (an ELEMENT its
# value; only for the nodes something reads). Per field and composition only the field's own transform runs.

#: the objects (or values) each path node reached, by node index; index 0 is the empty list (no source)
_Reached = list[list[Any]]
#: a compiled field: its value from (vals, objs), _ABSENT when it has none; MapError when it cannot be mapped
_Eval = Callable[[_Reached, _Reached], Any]
#: a compiled condition: whether it holds, given (vals, objs) and, for conditions on other target fields, the
#: message's values (None in the first pass, where those hold until the second)
_Check = Callable[[_Reached, _Reached, "dict[str, Any] | None"], bool]

#: what a field without a source (slot 0), or a path that reaches nothing, finds (shared: never changed)
_NOTHING: list[Any] = []


class _Node:
    """One step of a source path from one start (the root, the entry or a paired object); while compiling only
    (the plan keeps a _Reader per step)."""

    __slots__ = ("index", "parent", "attr", "key", "name", "start", "shared", "group")

    def __init__(self, index: int, parent: "_Node | None", step: tuple[str, str | None, str | None] | None,
                 start: str, shared: bool) -> None:
        self.index = index
        self.parent = parent
        self.attr, self.key, self.name = step if step is not None else ("", None, None)
        self.start = start  # "/" root, "" the entry, "@name" a paired object
        self.shared = shared  # root paths: the same for every entry of one composition
        #: the nodes (this one included) that select by node id from the items of ``parent.attr``, when there are
        #: several: one _group_reader reads them in one pass over those items
        self.group: list[_Node] | None = None


class _Scope:
    """Where paths start: the composition root, the current for_each entry and the paired entries."""

    __slots__ = ("root", "entry", "paired")

    def __init__(self, root: RMObject, entry: Any, paired: dict[str, Any]) -> None:
        self.root = root
        self.entry = entry
        self.paired = paired

    def start_objects(self, start: str) -> list[Any]:
        if start == "/":
            return [self.root]
        if start.startswith("@"):
            obj = self.paired.get(start[1:])
            return [obj] if obj is not None else []
        return [self.entry] if self.entry is not None else []


#: one path step of a compiled mapping: reads the objects its node (or group of nodes) reaches into ``objs`` and,
#: where a field or condition reads them, what they stand for into ``vals``
_Reader = Callable[[_Reached, _Reached, _Scope], None]


def _node_reader(node: _Node, read: bool) -> _Reader:
    """The step of one node: its start objects, or its parent's objects stepped through one attribute."""
    index, start, attr, key, name = node.index, node.start, node.attr, node.key, node.name
    parent = -1 if node.parent is None else node.parent.index

    def read_node(objs: _Reached, vals: _Reached, scope: _Scope) -> None:
        if parent < 0:
            got = scope.start_objects(start)
        else:
            got = objs[parent]
            if got:  # an empty list stays empty (select stops there too)
                got = _step(got, attr, key, name)
        objs[index] = got
        if read:
            vals[index] = _values_of(got)

    return read_node


def _group_reader(group: list[_Node], read: set[int]) -> _Reader:
    """The steps of several nodes that select by node id from the items of the same attribute of the same
    objects: what ``_step`` keeps for each, from one pass over those items."""
    parent, attr = group[0].parent.index, group[0].attr  # type: ignore[union-attr]  # a group has a parent
    # a root group is read once per composition, into lists that hold nothing yet; one below the entry is read
    # again for each entry and must drop what the previous entry found
    indexes = () if group[0].shared else tuple(n.index for n in group)
    #: node id -> (index, name, whether something reads it) of each node that takes items with that id
    takers: dict[str, list[tuple[int, str | None, bool]]] = {}
    for n in group:
        takers.setdefault(n.key, []).append((n.index, n.name, n.index in read))  # type: ignore[arg-type]
    takers_of = takers.get

    def read_group(objs: _Reached, vals: _Reached, scope: _Scope) -> None:
        for index in indexes:
            objs[index] = vals[index] = _NOTHING
        for obj in objs[parent]:
            if not isinstance(obj, RMObject):
                continue
            value = obj.attrs.get(attr)
            if value is None:
                continue
            for item in value if isinstance(value, list) else (value,):
                if not isinstance(item, RMObject):
                    continue
                nid = item.attrs.get("archetype_node_id")
                nodes = takers_of(nid) if isinstance(nid, str) else None
                if nodes is None:
                    continue
                for index, name, reads in nodes:
                    if name is not None and item.name_value != name:
                        continue
                    got = objs[index]
                    if got is _NOTHING:
                        objs[index] = [item]
                    else:
                        got.append(item)
                    if reads:  # _values_of, item by item
                        v = item.attrs.get("value") if item.rm_type == "ELEMENT" or _base(item) == "ELEMENT" \
                            else item
                        got = vals[index]
                        if got is _NOTHING:
                            vals[index] = [v]
                        else:
                            got.append(v)

    return read_group


def _values_of(got: list[Any]) -> list[Any]:
    """What each object reached stands for: an ELEMENT its value (None when it has a null_flavour), anything
    else itself (:func:`found_values` without the Found); one ELEMENT is the usual case."""
    if len(got) == 1:
        o = got[0]
        if isinstance(o, RMObject) and (o.rm_type == "ELEMENT" or _base(o) == "ELEMENT"):
            return [o.attrs.get("value")]
        return got
    return [o.attrs.get("value") if _is_element(o) else o for o in got]


# --- values found, through the field's transform ---


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


def _numeric_out(places: int | None, separator: str | None, fdef: FieldDef | None) -> Callable[[Decimal], Any]:
    """How a field writes a number: as text (rounded to ``places``, with its separator), or as an int or a float."""
    quantum = None if places is None else _quantum(places)  # (_round, with the quantum looked up once)
    if separator is not None or (fdef is not None and fdef.type in ("text", "code")):
        sep = separator or "."
        if quantum is None:
            return lambda value: format_decimal(value, None, sep)
        # format_decimal(value, places, sep), rounded here with the quantum
        return lambda value: format(value.quantize(quantum, rounding=ROUND_HALF_UP), "f").replace(".", sep)
    to_int = fdef is not None and fdef.type == "integer" or places == 0

    def write(value: Decimal) -> Any:
        if quantum is not None:
            value = value.quantize(quantum, rounding=ROUND_HALF_UP)
        if to_int:
            return int(value.to_integral_value(rounding=ROUND_HALF_UP))
        return float(value)

    return write


#: one value found (never None) -> the registry value; made per field by the _ONE function of its transform
_One = Callable[[Any], Any]


def _each(fp: "_FieldPlan", one: _One) -> _Eval:
    """The transforms that map each value found (codes, boolean, text, numbers, dates): one value (the usual
    case) directly, several through _single."""
    fm, fdef, slot, repeat = fp.fm, fp.fdef, fp.slot, fp.repeat
    opts = fm.options if isinstance(fm.options, dict) else {}  # text and boolean options are objects (schema)
    id_type = opts.get("identifier_type") if fm.transform == "text" else None
    #: a boolean's value for an ELEMENT whose null_flavour is "unknown" (_ABSENT: none)
    unknown = opts["unknown"] if fm.transform == "boolean" and "unknown" in opts else _ABSENT

    def evaluate(vals: _Reached, objs: _Reached) -> Any:
        got = vals[slot]
        if not got:
            return _ABSENT
        if len(got) == 1:  # what the loop and _single below do for one value
            v = got[0]
            if id_type is not None and not (isinstance(v, RMObject) and v.attrs.get("type") == id_type):
                return _ABSENT
            if v is None:
                if unknown is not _ABSENT and _null_flavour(objs[slot][0]) == NULL_FLAVOUR_UNKNOWN:
                    return _single(fm, [unknown], fdef)
                return _ABSENT
            value = one(v)
            if value is _ABSENT or not repeat:
                return value
            return [value]
        out: list[Any] = []
        for v, o in zip(got, objs[slot]):
            if id_type is not None and not (isinstance(v, RMObject) and v.attrs.get("type") == id_type):
                continue  # several identifiers: only the one of the wanted type counts
            if v is None:
                if unknown is not _ABSENT and _null_flavour(o) == NULL_FLAVOUR_UNKNOWN:
                    out.append(unknown)
                continue
            out.append(one(v))
        return _single(fm, out, fdef)

    return evaluate


def _one_codes(fp: "_FieldPlan") -> _One:
    fm = fp.fm
    codes: dict[str, Any] = fm.options
    ignore = fm.ignore
    qualified = _has_qualified(codes)
    free_text = "free_text" in ignore

    def one(v: Any) -> Any:
        key = _first_key(v, codes, qualified)
        if key is not None:
            return codes[key]
        keys = code_keys(v)  # not in the code list: free text, ignored or an error, as the keys say
        if not keys:
            if free_text:
                return _ABSENT  # the mapping says plainly that free text (no code) has no registry value
            raise MapError("MAP101", f"{fm.target}: the value at {fm.source} has no code")
        for k in keys:
            if k in ignore:
                return _ABSENT
        raise MapError("MAP101", f"{fm.target}: code {keys[-1]} at {fm.source} is not in the mapping's code list")

    return one


def _one_boolean(fp: "_FieldPlan") -> _One:
    fm = fp.fm
    yes, no = fm.options.get("true", True), fm.options.get("false", False)

    def one(v: Any) -> Any:
        b = v.attrs.get("value") if isinstance(v, RMObject) else v
        if not isinstance(b, bool):
            raise MapError("MAP101", f"{fm.target}: {fm.source} is not a boolean")
        return yes if b else no

    return one


def _one_copy_code(fp: "_FieldPlan") -> _One:
    fm = fp.fm
    free_text = "free_text" in fm.ignore
    want = fm.options.get("terminology")

    def one(v: Any) -> Any:
        code = _code_string(v) if isinstance(v, RMObject) else None
        if code is None:
            if free_text and isinstance(v, RMObject):
                return _ABSENT
            raise MapError("MAP101", f"{fm.target}: {fm.source} has no code")
        if want and _terminology(v) != want:
            raise MapError("MAP101", f"{fm.target}: the code at {fm.source} is from {_terminology(v)}, not {want}")
        return code

    return one


def _one_text(fp: "_FieldPlan") -> _One:
    fm = fp.fm
    limit = fm.options.get("max_length")

    def one(v: Any) -> Any:
        text = _text_of(v)
        if text is None:
            raise MapError("MAP101", f"{fm.target}: {fm.source} has no text")
        return text[:limit] if limit else text

    return one


def _one_number(fp: "_FieldPlan") -> _One:
    fm, fdef = fp.fm, fp.fdef
    opts = fm.options
    integer = fm.transform == "integer"
    ordinal = integer and opts.get("ordinal")
    want = opts.get("unit")
    if integer:
        write = _numeric_out(0, None, fdef if fdef is None or fdef.type != "number" else None)
    else:
        write = _numeric_out(opts.get("places"), opts.get("separator"), fdef)

    def one(v: Any) -> Any:
        if ordinal and (not isinstance(v, RMObject) or _base(v) not in ("DV_ORDINAL", "DV_SCALE")):
            raise MapError("MAP101", f"{fm.target}: {fm.source} is not an ordinal")
        number, units = _number(v)
        if want:
            converted = convert_unit(number, units, want)
            if converted is None:
                raise MapError("MAP101", f"{fm.target}: cannot convert {units} to {want}")
            number = converted
        return write(number)

    return one


def _one_moment(fp: "_FieldPlan") -> _One:
    """date and datetime: the field's format, or ISO 8601 (a date-time to the second, UTC as Z)."""
    fmt = fp.fm.options.get("format")
    read: Callable[[Any], _dt.date] = to_date if fp.fm.transform == "date" else to_datetime
    iso: Callable[[Any], str] = _dt.date.isoformat if fp.fm.transform == "date" else _iso_seconds

    def one(v: Any) -> Any:
        moment = read(v)
        return _strftime(moment, fmt) if fmt else iso(moment)

    return one


def _iso_seconds(moment: _dt.datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _one_unknown(fp: "_FieldPlan") -> _One:  # pragma: no cover - the schema prevents it
    fm = fp.fm

    def one(v: Any) -> Any:
        raise MapError("MAP101", f"{fm.target}: unknown transform {fm.transform}")

    return one


_ONE: dict[str, Callable[["_FieldPlan"], _One]] = {
    "codes": _one_codes, "boolean": _one_boolean, "copy_code": _one_copy_code, "text": _one_text,
    "decimal": _one_number, "integer": _one_number, "date": _one_moment, "datetime": _one_moment,
}


#: the data values whose ``value`` is their text
_TEXT_VALUED = frozenset(("DV_TEXT", "DV_CODED_TEXT", "DV_DATE", "DV_DATE_TIME", "DV_TIME", "DV_DURATION", "DV_URI",
                          "DV_EHR_URI", "DV_PARSABLE"))


def _text_of(v: Any) -> str | None:
    if isinstance(v, str):
        return v
    if not isinstance(v, RMObject):
        return None if v is None or isinstance(v, (dict, list)) else str(v)
    t = v.rm_type
    if "<" in t:  # (_base without the call)
        t = base_type(t)
    if t in _TEXT_VALUED:
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


# --- the transforms that look at all values found at once ---


def _compile_each(fp: "_FieldPlan") -> _Eval:
    return _each(fp, _ONE.get(fp.fm.transform, _one_unknown)(fp))


def _compile_constant(fp: "_FieldPlan") -> _Eval:
    return _constant(fp.fm.options)


def _constant(value: Any) -> _Eval:
    def evaluate(vals: _Reached, objs: _Reached) -> Any:
        return value

    return evaluate


def _compile_has_code(fp: "_FieldPlan") -> _Eval:
    opts = fp.fm.options
    has = _has_code(fp.slot, (opts["code"],))
    yes, no = opts.get("true", True), opts.get("false", False)

    def evaluate(vals: _Reached, objs: _Reached) -> Any:
        return yes if has(vals, objs, None) else no

    return evaluate


def _has_code(slot: int, codes: Iterable[str]) -> _Check:
    """Whether a value (not None) at the node has one of the codes among its code_keys."""
    wanted = frozenset(codes)
    qualified = _has_qualified(wanted)

    def holds(vals: _Reached, objs: _Reached, values: dict[str, Any] | None) -> bool:
        for v in vals[slot]:
            if v is not None and _first_key(v, wanted, qualified) is not None:
                return True
        return False

    return holds


def _compile_if_unknown(fp: "_FieldPlan") -> _Eval:
    value, slot = fp.fm.options, fp.slot

    def evaluate(vals: _Reached, objs: _Reached) -> Any:
        for o in objs[slot]:
            if _null_flavour(o) == NULL_FLAVOUR_UNKNOWN:
                return value
        return _ABSENT

    return evaluate


# --- derived values: fixed functions, chosen by name ---


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


def _raw_first(slot: int) -> _Eval:
    """The first value a derived argument's source reaches, untransformed (what ``duration`` takes)."""
    def evaluate(vals: _Reached, objs: _Reached) -> Any:
        for v in vals[slot]:
            if v is not None:
                return v
        return _ABSENT

    return evaluate


def _compile_derived(fp: "_FieldPlan") -> _Eval:
    fm, fdef = fp.fm, fp.fdef
    opts = fm.options
    fn = opts["fn"]
    # the arguments: sub-fields evaluated as fields (their conditions are not asked), literals as they are;
    # duration takes the raw duration, not a transformed value
    getters = [(_raw_first(a.slot) if fn == "duration" else a.compile_transform()) if isinstance(a, _FieldPlan)
               else _constant(a) for a in fp.args]
    order = opts.get("order", []) if fn == "priority" else ()
    function = _FUNCTIONS.get(fn)
    write = _numeric_out(opts.get("places"), opts.get("separator"), fdef)
    #: what a derived function is given of its field (target and options)
    view = FieldMap(fm.target, fm.transform, fm.options, fm.source)

    def evaluate(vals: _Reached, objs: _Reached) -> Any:
        args = [g(vals, objs) for g in getters]
        if fn == "first":
            for a in args:
                if a is not _ABSENT and a is not None:
                    return a
            return _ABSENT
        if fn == "priority":
            seen = {x for a in args for x in (a if isinstance(a, list) else [a]) if x is not _ABSENT}
            for candidate in order:
                if candidate in seen:
                    return candidate
            return _ABSENT
        try:
            value = function(view, args)  # type: ignore[misc]  # fn is one of _FUNCTIONS (schema)
        except _Missing:
            return _ABSENT
        except (InvalidOperation, ZeroDivisionError, OverflowError) as exc:
            raise MapError("MAP102", f"{fm.target}: {fn} failed ({exc.__class__.__name__})") from None
        return write(value)

    return evaluate


_COMPILE: dict[str, Callable[["_FieldPlan"], _Eval]] = {
    "constant": _compile_constant, "derived": _compile_derived, "has_code": _compile_has_code,
    "if_unknown": _compile_if_unknown,
}


# --- conditions ---


def _compile_condition(cp: "_CondPlan") -> _Check:
    """A ``when`` condition as one function (see _Check)."""
    c, slot = cp.cond, cp.slot
    if cp.any:
        alternatives = tuple(_compile_condition(a) for a in cp.any)
        judged_later = any(a.uses_fields for a in c.any)

        def holds(vals: _Reached, objs: _Reached, values: dict[str, Any] | None) -> bool:
            if values is None and judged_later:
                return True  # judged in the second pass, when every field has its value
            for alternative in alternatives:
                if alternative(vals, objs, values):
                    return True
            return False
        return holds
    if c.field is not None:
        name = c.field
        #: the values of the condition, as text (what the field's value is compared with)
        texts = frozenset("true" if x is True else "false" if x is False else str(x) for x in c.values)

        def holds(vals: _Reached, objs: _Reached, values: dict[str, Any] | None) -> bool:
            if values is None:
                return True
            v = values.get(name)
            if type(v) is str:  # the usual case: the value is its own text
                return v in texts
            text = "true" if v is True else "false" if v is False else "" if v is None else str(v)
            return text in texts
        return holds
    if c.codes:
        return _has_code(slot, c.codes)
    if c.value is not None:
        want = c.value

        def holds(vals: _Reached, objs: _Reached, values: dict[str, Any] | None) -> bool:
            for v in vals[slot]:
                if isinstance(v, RMObject) and v.attrs.get("value") is want:
                    return True
            return False
        return holds
    wanted = c.present is None or c.present  # present (the default), or absent

    def holds(vals: _Reached, objs: _Reached, values: dict[str, Any] | None) -> bool:
        present = False
        for v in vals[slot]:
            if v is not None:
                present = True
                break
        return present if wanted else not present
    return holds


def _all_of(checks: list[_Check]) -> _Check:
    """One check for several conditions (all must hold); the condition itself when there is one."""
    if len(checks) == 1:
        return checks[0]

    def holds(vals: _Reached, objs: _Reached, values: dict[str, Any] | None) -> bool:
        for check in checks:
            if not check(vals, objs, values):
                return False
        return True

    return holds


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


def _kept_types(fdef: FieldDef | None) -> frozenset[type]:
    """The value types :func:`_coerce` returns as they are for this field (so apply_mapping need not call it)."""
    if fdef is None:
        return frozenset((str, int, float, bool))
    if fdef.type in ("text", "code"):
        return frozenset((str,))
    if fdef.type in ("date", "datetime"):
        return frozenset((str, bool))
    if fdef.type == "boolean":
        return frozenset((bool, int, float))
    if fdef.type == "integer":
        return frozenset((int, float, bool))
    return frozenset((str, int, float, bool))


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
    """A ``when`` condition with its source resolved to a path node (compiled once the nodes are numbered)."""

    __slots__ = ("cond", "node", "slot", "any", "uses_fields")

    def __init__(self, cond: Condition, node: _Node | None, alts: tuple["_CondPlan", ...]) -> None:
        self.cond = cond
        self.node = node
        self.slot = 0  # node.index once the nodes are numbered; 0 (the empty list) without a source
        self.any = alts
        #: judged in the second pass, once every field has its value
        self.uses_fields = cond.uses_fields


class _FieldPlan:
    """One field (or derived argument): the FieldMap, its format field, its source node and conditions, and once
    compiled the functions apply_mapping runs: ``check`` (the conditions the first pass judges; None: none),
    ``evaluate`` (the transform) and ``later`` (the conditions on other fields, judged in the second pass)."""

    __slots__ = ("fm", "target", "line", "fdef", "kept", "repeat", "node", "slot", "when", "args", "default",
                 "has_default", "check", "evaluate", "later")

    def __init__(self, fm: FieldMap, fdef: FieldDef | None, node: _Node | None, when: tuple[_CondPlan, ...],
                 args: list[Any]) -> None:
        self.fm = fm
        self.target = fm.target
        self.line = fm.pos.line
        self.fdef = fdef
        self.kept = _kept_types(fdef)
        self.repeat = fdef is not None and fdef.repeat
        self.node = node
        self.slot = 0
        self.when = when
        self.args = args
        self.default = fm.default
        self.has_default = fm.has_default
        self.check: _Check | None = None
        self.evaluate: _Eval = _constant(_ABSENT)
        self.later: tuple[_Check, ...] = ()

    def compile(self) -> None:
        """Make the field's functions (the path nodes are numbered by now)."""
        now = [_compile_condition(c) for c in self.when if not c.uses_fields]
        self.check = _all_of(now) if now else None
        self.later = tuple(_compile_condition(c) for c in self.when if c.uses_fields)
        self.evaluate = self.compile_transform()

    def compile_transform(self) -> _Eval:
        return _COMPILE.get(self.fm.transform, _compile_each)(self)


class _Plan:
    """A mapping compiled for one export format: field plans and the tree of path nodes their sources use.

    Slot 0 is the empty list (a field without a source); root nodes follow (up to ``n_shared``), then those that
    start at the entry or a paired object (up to ``n_total``): apply_mapping keeps two flat lists of that length
    (objects reached, what they stand for) and reads the root part once per composition.
    """

    __slots__ = ("fmt", "fields_src", "n_fields", "fields", "n_shared", "n_total", "shared_readers",
                 "local_readers", "_nodes", "_plans")

    def __init__(self, mapping: Mapping, fmt: ExportFormat | None) -> None:
        self.fmt = fmt
        self.fields_src = mapping.fields
        self.n_fields = len(mapping.fields)
        self._nodes: dict[tuple[Any, ...], _Node] = {}
        self._plans: list[_FieldPlan | _CondPlan] = []
        self.fields = [self._field(fm, fmt.field(fm.target) if fmt else None) for fm in mapping.fields]
        self._number()
        for fp in self.fields:
            fp.compile()
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
        self.shared_readers: list[_Reader] = []
        self.local_readers: list[_Reader] = []
        for node in nodes:
            readers = self.shared_readers if node.shared else self.local_readers
            if node.group is None:
                readers.append(_node_reader(node, node.index in read))
            elif node is node.group[0]:
                readers.append(_group_reader(node.group, read))

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

    def _field(self, fm: FieldMap, fdef: FieldDef | None, arg: bool = False) -> _FieldPlan:
        # a derived argument's conditions are never asked: they are not compiled (nor their paths read)
        args = [self._field(a, None, arg=True) if isinstance(a, FieldMap) else a for a in fm.args]
        when = () if arg else tuple(self._cond(c) for c in fm.when)
        fp = _FieldPlan(fm, fdef, self._node(fm.source), when, args)
        self._plans.append(fp)
        return fp


def _plan(mapping: Mapping, fmt: ExportFormat | None) -> _Plan:
    """The compiled form of a mapping, made once and kept on the mapping (mappings are not changed once loaded;
    a new fields list or another format compiles it again)."""
    plan = mapping.compiled
    if not isinstance(plan, _Plan) or not plan.fits(mapping, fmt):
        plan = mapping.compiled = _Plan(mapping, fmt)
    return plan


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
    objs: _Reached = [_NOTHING] * n_total
    vals: _Reached = [_NOTHING] * n_total
    messages = []
    for number, (entry_key, entry, paired) in enumerate(entries(mapping, composition)):
        scope = _Scope(composition, entry, paired)
        # every step is pure, so taking them all up front changes nothing
        if number == 0:  # root paths read the same for every entry
            for read in plan.shared_readers:
                read(objs, vals, scope)
        for read in plan.local_readers:  # every local node is read again for each entry
            read(objs, vals, scope)
        values: dict[str, Any] = {}
        issues: list[Issue] = []
        deferred: list[_FieldPlan] = []
        for fp in plan.fields:
            try:
                check = fp.check
                if check is not None and not check(vals, objs, None):
                    continue  # a condition does not hold
                if fp.later:
                    deferred.append(fp)
                value = fp.evaluate(vals, objs)
            except MapError as exc:
                issues.append(Issue(exc.code, exc.message, instance_path=fp.target, line=fp.line,
                                    file=mapping.source_file))
                continue
            if value is _ABSENT:
                if fp.has_default:
                    values[fp.target] = _coerce(fp.default, fp.fdef)
            elif type(value) in fp.kept:  # the usual case: nothing to coerce
                values[fp.target] = value
            else:
                values[fp.target] = _coerce(value, fp.fdef)
        # conditions on other target fields are judged once every field has its value (the others held already)
        for fp in deferred:
            for holds in fp.later:
                if not holds(vals, objs, values):
                    values.pop(fp.target, None)
                    break
        messages.append(Message(key, values, entry_key, issues))
    return messages


__all__ = ["Found", "MapError", "apply_mapping", "can_convert", "code_keys", "convert_unit", "duration_in",
           "entries", "format_decimal", "found_values", "parse_steps", "select"]
