"""Reading canonical JSON (openEHR ITS-JSON) into :class:`~openehr_kit.rm.instance.RMObject` trees.

``json.loads`` does the parsing; one pass over the result then types every object. The loaded dicts are reused
as the attribute dicts (``_type`` popped, child dicts replaced by RMObjects in place), so the pass allocates one
small RMObject per RM object and copies nothing. A table built once per RM type gives each attribute's expected
JSON kind, so a well-formed attribute costs one dict lookup; anything else takes the careful path that explains it.

Errors are ParseErrors located by JSON pointer (``/content/0/data``) and, where it can be found, the line and
column of the offending value in the source text.
"""

from __future__ import annotations

import json
from typing import Any

from openehr_kit.diagnostics import Issue, ParseError
from openehr_kit.rm.instance import (
    PRIMITIVE_WORDS,
    AttrInfo,
    RMObject,
    attr_info,
    attribute_names,
    base_type,
    infer_type,
    is_generic,
    coerce_text,
    kind_name,
    lookup_type,
    type_known,
)
from openehr_kit.textio import decode_text, loads_json


def read_json_composition(
    data: bytes | str,
    *,
    source: str | None = None,
    issues: list[Issue] | None = None,
    lenient: bool = False,
) -> RMObject:
    """Read a canonical JSON composition (a missing root ``_type`` means COMPOSITION)."""
    return read_canonical_json(data, source=source, root_type="COMPOSITION", issues=issues, lenient=lenient)


def load_json_text(text: str, source: str | None = None) -> Any:
    """``json.loads`` with a located RMR001 instead of an exception."""
    try:
        return loads_json(text)
    except json.JSONDecodeError as exc:
        raise ParseError(
            "RMR001", f"not well-formed JSON: {exc.msg}", file=source, line=exc.lineno, column=exc.colno
        ) from None
    except RecursionError:
        raise ParseError("RMR001", "JSON nested too deeply to read", file=source) from None


def read_canonical_json(
    data: bytes | str | dict[str, Any],
    *,
    source: str | None = None,
    root_type: str | None = None,
    issues: list[Issue] | None = None,
    lenient: bool = False,
) -> RMObject:
    """Read any RM object from canonical JSON text (or an already-loaded dict, which is consumed).

    ``root_type`` is the type assumed when the root object has no ``_type``. Attributes the RM does not define
    are kept in ``RMObject.unknown`` and reported into ``issues`` (RMR005) when a list is given. ``lenient``
    converts numbers and booleans given as strings (``"130"`` for a magnitude, as Jackson-based servers accept)
    and reports each as an RMR003 issue instead of failing.
    """
    text: str | None = None
    if isinstance(data, dict):
        value: Any = data
    else:
        text = decode_text(data, source) if isinstance(data, bytes) else data
        value = load_json_text(text, source)
    if not isinstance(value, dict):
        raise ParseError(
            "RMR003",
            f"the document must be a JSON object (an RM object), found {kind_name(value)}",
            file=source,
            line=1,
            column=1,
            instance_path="",
        )
    reader = _JsonReader(source, issues, lenient)
    try:
        return reader.obj(value, root_type or "", "")
    except ParseError as err:
        if text is not None and err.line is None and err.instance_path is not None:
            err.line, err.column = pointer_position(text, err.instance_path)
            err.args = (str(err.to_issue()),)
        raise


class _JsonReader:
    """One reading: the source name for messages and the issue sink for non-fatal findings."""

    __slots__ = ("source", "issues", "lenient")

    def __init__(self, source: str | None, issues: list[Issue] | None, lenient: bool) -> None:
        self.source = source
        self.issues = issues
        self.lenient = lenient

    def note(self, code: str, loc: str, message: str, expected: str | None = None, found: str | None = None) -> None:
        """A finding that does not stop the reading (only in lenient mode or for unknown attributes)."""
        if self.issues is not None:
            self.issues.append(
                Issue(code, f"at {loc or '/'}: {message}", file=self.source, instance_path=loc,
                      expected=expected, found=found)
            )

    def fail(self, code: str, loc: str, message: str, expected: str | None = None, found: str | None = None) -> None:
        raise ParseError(
            code,
            f"at {loc or '/'}: {message}",
            file=self.source,
            expected=expected,
            found=found,
            instance_path=loc,
        )

    def obj(self, node: dict[str, Any], declared: str, loc: str) -> RMObject:
        """Type ``node`` (a loaded JSON object) and, recursively, everything below it.

        The loop handles the well-formed cases (a primitive of the declared kind, an object, a list of objects)
        from the per-type spec table; anything else, including every error, goes through ``value()``.
        """
        rm_type = node.pop("_type", None)
        # an explicit, already-checked, non-generic type needs no resolution (the common case)
        try:
            table = _BY_TYPE[rm_type]
            owner = rm_type
            explicit = True
        except (KeyError, TypeError):  # inferred, generic, not seen yet, or bad (unhashable: a list, an object)
            rm_type, owner, explicit = self.resolve(node, rm_type, declared, loc)
            table = _spec_table(owner)
            if explicit and owner == rm_type and not is_generic(rm_type):
                _BY_TYPE[rm_type] = table
        unknown: dict[str, Any] | None = None
        drop: list[str] | None = None
        for name in node:
            value = node[name]
            try:
                want, declared_type, step = table[name]
            except KeyError:
                pass
            else:
                if type(value) is want:
                    if want is dict:
                        node[name] = self.obj(value, declared_type, loc + step)
                    elif want is list:
                        self.items(value, declared_type, loc + step, owner, name)
                    continue  # else a primitive of exactly the declared kind: kept as it is
            # the careful path: unknown attributes, nulls, untyped attributes, wrong kinds, lenient coercion
            info = attr_info(owner, name)
            if info is None or value is None:
                # unknown attributes move to .unknown; null means absent in the RM and is dropped
                if drop is None:
                    drop = []
                drop.append(name)
                if info is None:
                    if unknown is None:
                        unknown = {}
                    unknown[name] = value
                continue
            node[name] = self.value(value, info, f"{loc}/{name}", owner, name)
        if drop:
            for name in drop:
                del node[name]
        if unknown:
            self.report_unknown(owner, unknown, loc)
        # RMObject(rm_type, node, loc, None, explicit, unknown) without the class call and __init__ frame
        made = _new(RMObject)
        made.rm_type = rm_type
        made.attrs = node
        made.location = loc
        made.line = None
        made.explicit_type = explicit
        made.unknown = unknown
        return made

    def resolve(self, node: dict[str, Any], rm_type: Any, declared: str, loc: str) -> tuple[str, str, bool]:
        """The type of ``node`` (``_type`` already popped into ``rm_type``): (type name, the name its attributes
        are looked up under, whether the source named it). Infers an omitted type; fails on a bad one."""
        if rm_type is None:
            owner = infer_type(declared, frozenset(node), node.get("value")) if declared else None
            if owner is None and "@type" in node:
                self.fail(
                    "RMR004", loc, "object names its type with \"@type\", which is not canonical JSON; use \"_type\"",
                    "_type", "@type",
                )
            if owner is None:
                what = f"the declared type {declared} is abstract" if declared else "nothing declares its type"
                self.fail(
                    "RMR004",
                    loc,
                    f"object has no _type and {what}; add \"_type\"",
                    expected="an object with _type",
                    found=f"keys {sorted(node)[:6]}",
                )
            return base_type(owner), owner, False  # type: ignore[arg-type]
        if type(rm_type) is not str:
            self.fail("RMR003", loc + "/_type", "_type must be a string", "a type name", kind_name(rm_type))
        if not type_known(rm_type):
            self.fail("RMR002", loc + "/_type", f"unknown RM type {rm_type!r}", "an openEHR RM type", repr(rm_type))
        return rm_type, lookup_type(rm_type, declared) if "<" in declared else rm_type, True

    def items(self, value: list[Any], declared: str, loc: str, owner: str, name: str) -> None:
        """Type, in place, the items of a list attribute whose items are RM objects of type ``declared``."""
        for i, item in enumerate(value):
            if type(item) is dict:
                value[i] = self.obj(item, declared, f"{loc}/{i}")
            else:  # a wrong kind of item (or null): value() reports it
                info = attr_info(owner, name)
                assert info is not None
                value[i] = self.value(item, info._replace(is_container=False), f"{loc}/{i}", owner, name)

    def value(self, value: Any, info: AttrInfo, loc: str, owner: str, name: str) -> Any:
        kind = type(value)
        if info.is_container:
            if kind is not list:
                self.fail("RMR003", loc, f"wrong kind of value for {owner}.{name}", "a JSON array", kind_name(value))
            item_info = info._replace(is_container=False)
            declared = info.type_name
            for i, item in enumerate(value):
                if type(item) is dict and declared:
                    value[i] = self.obj(item, declared, f"{loc}/{i}")
                else:
                    value[i] = self.value(item, item_info, f"{loc}/{i}", owner, name)
            return value
        if kind is dict:
            if info.primitive is not None:
                self.fail(
                    "RMR003", loc, f"wrong kind of value for {owner}.{name}",
                    PRIMITIVE_WORDS[info.primitive], kind_name(value),
                )
            return self.obj(value, info.type_name, loc)
        if kind is list:
            if info.is_container is None:  # no RM metadata: follow the input
                return [self.value(v, info, f"{loc}/{i}", owner, name) for i, v in enumerate(value)]
            self.fail(
                "RMR003", loc, f"wrong kind of value for {owner}.{name} (it holds one value)", _expected(info), "a list"
            )
        prim = info.primitive
        if prim is None:
            if info.type_name:
                self.fail("RMR003", loc, f"wrong kind of value for {owner}.{name}", _expected(info), kind_name(value))
            return value  # untyped: no RM metadata for this attribute
        if prim is kind or (prim is float and kind is int):
            return value
        if self.lenient and kind is str:
            coerced = coerce_text(value, prim)
            if coerced is not None:
                self.note(
                    "RMR003", loc, f"wrong kind of value for {owner}.{name}; the string was converted",
                    PRIMITIVE_WORDS[prim], kind_name(value),
                )
                return coerced
        self.fail("RMR003", loc, f"wrong kind of value for {owner}.{name}", PRIMITIVE_WORDS[prim], kind_name(value))
        return None  # unreachable: fail raises

    def report_unknown(self, owner: str, unknown: dict[str, Any], loc: str) -> None:
        if self.issues is None:
            return  # nowhere to report to: spare the messages
        for name in unknown:
            self.note("RMR005", f"{loc}/{name}", f"{owner} has no attribute {name!r}; kept uninterpreted")


# Per attribute-lookup type name: attribute name -> (the Python type a well-formed JSON value has, the declared
# RM type of the object(s) it holds, "/name": the step its location adds). Only attributes with such a fast form
# are listed; all others take the careful path. Filled on first use per type, so each (type, attribute) is looked
# up in the RM metadata once.
_Spec = tuple[type, str, str]
_SPEC_TABLES: dict[str, dict[str, _Spec]] = {}
# Explicit ``_type`` names already checked as known RM types -> their spec table. Generic classes are never
# listed: their attributes are looked up under the declared slot type (lookup_type), so they need resolve().
_BY_TYPE: dict[str, dict[str, _Spec]] = {}


def _spec_table(owner: str) -> dict[str, _Spec]:
    """The spec table of the type attributes are looked up under (generic arguments included), built once."""
    table = _SPEC_TABLES.get(owner)
    if table is None:
        table = _SPEC_TABLES[owner] = {}
        for name in attribute_names(owner) or ():
            spec = _spec(attr_info(owner, name))
            if spec is not None:
                table[name] = (*spec, f"/{name}")
    return table


def _spec(info: AttrInfo | None) -> tuple[type, str] | None:
    """The fast form of an attribute: a primitive of one Python type, one object, or a list of objects."""
    if info is None:
        return None
    if info.is_container is False:
        if info.primitive is not None:
            return info.primitive, ""
        if info.type_name:
            return dict, info.type_name
    elif info.is_container and info.primitive is None and info.type_name:
        return list, info.type_name
    return None


_new = object.__new__  # allocates an RMObject without running __init__ (see _JsonReader.obj)


def _expected(info: AttrInfo) -> str:
    if info.primitive is not None:
        return PRIMITIVE_WORDS[info.primitive]
    return f"an object ({info.type_name})" if info.type_name else "a value"


def pointer_position(text: str, pointer: str) -> tuple[int | None, int | None]:
    """Line and column (1-based) where the value at JSON ``pointer`` starts in ``text``; (None, None) if lost.

    Only used to locate errors, so it rescans with the stdlib decoder rather than slowing every reading.
    """
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]] if pointer else []
    decoder = json.JSONDecoder()
    ws = " \t\n\r"
    pos = 0
    n = len(text)

    def skip(p: int) -> int:
        while p < n and text[p] in ws:
            p += 1
        return p

    try:
        pos = skip(pos)
        for part in parts:
            if pos >= n:
                return None, None
            if text[pos] == "{":
                pos = skip(pos + 1)
                while text[pos] != "}":
                    key, pos = decoder.raw_decode(text, pos)
                    pos = skip(pos)
                    pos = skip(pos + 1)  # ':'
                    if key == part:
                        break
                    _, pos = decoder.raw_decode(text, pos)
                    pos = skip(pos)
                    if text[pos] == ",":
                        pos = skip(pos + 1)
                else:
                    return None, None
            elif text[pos] == "[":
                want = int(part)
                pos = skip(pos + 1)
                for _ in range(want):
                    _, pos = decoder.raw_decode(text, pos)
                    pos = skip(pos)
                    pos = skip(pos + 1)  # ','
                if text[pos] == "]":
                    return None, None
            else:
                return None, None
    except (ValueError, IndexError):
        return None, None
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1
