"""Reading canonical JSON (openEHR ITS-JSON) into :class:`~openehr_kit.rm.instance.RMObject` trees.

``json.loads`` does the parsing; one pass over the result then types every object. The loaded dicts are reused
as the attribute dicts (``_type`` popped, child dicts replaced by RMObjects in place), so the pass allocates one
small RMObject per RM object and copies nothing.

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
    attr_table,
    base_type,
    infer_type,
    coerce_text,
    kind_name,
    lookup_type,
    type_known,
)
from openehr_kit.textio import decode_text

_MISSING = object()


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
        return json.loads(text)
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
        """Type ``node`` (a loaded JSON object) and, recursively, everything below it."""
        rm_type = node.pop("_type", None)
        explicit = True
        if rm_type is None:
            explicit = False
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
            rm_type = base_type(owner)  # type: ignore[arg-type]
        elif type(rm_type) is not str:
            self.fail("RMR003", loc + "/_type", "_type must be a string", "a type name", kind_name(rm_type))
        elif not type_known(rm_type):
            self.fail("RMR002", loc + "/_type", f"unknown RM type {rm_type!r}", "an openEHR RM type", repr(rm_type))
        else:
            owner = lookup_type(rm_type, declared) if "<" in declared else rm_type
        table = attr_table(owner)
        unknown: dict[str, Any] | None = None
        drop: list[str] | None = None
        for name, value in node.items():
            info = table.get(name, _MISSING)
            if info is _MISSING:
                info = table[name] = attr_info(owner, name)
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
            # fast paths for the two commonest cases; everything else (and every error) goes through value()
            kind = type(value)
            prim = info.primitive
            if info.is_container is False:
                if prim is None:
                    if kind is dict and info.type_name:
                        node[name] = self.obj(value, info.type_name, f"{loc}/{name}")
                        continue
                elif kind is prim:
                    continue
            node[name] = self.value(value, info, f"{loc}/{name}", owner, name)
        if drop:
            for name in drop:
                del node[name]
        if unknown:
            self.report_unknown(owner, unknown, loc)
        return RMObject(rm_type, node, loc, None, explicit, unknown)

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
        for name in unknown:
            self.note("RMR005", f"{loc}/{name}", f"{owner} has no attribute {name!r}; kept uninterpreted")


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
