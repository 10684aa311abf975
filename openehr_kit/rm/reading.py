"""Which serialisation a composition file uses, and reading a canonical one from a path.

* ``xml``: canonical XML (first non-blank character ``<``);
* ``json``: canonical JSON, an object with ``_type`` or with only COMPOSITION attribute names as keys;
* ``flat``: the web template FLAT form, one object mapping paths (``template/path|suffix``, ``ctx/...``) to
  primitive values;
* ``structured``: the web template STRUCTURED form, nested objects keyed by web template ids, no ``_type``.
"""

from __future__ import annotations

import os
from typing import Any, Literal

from openehr_kit.diagnostics import Issue, ParseError
from openehr_kit.rm.canonical_json import load_json_text, pointer_position, read_canonical_json
from openehr_kit.rm.canonical_xml import read_xml_composition
from openehr_kit.rm.instance import RMObject
from openehr_kit.textio import decode_text, read_bytes

Format = Literal["json", "xml", "flat", "structured"]

# Keys a canonical composition may have at its root; a key outside this set (and no "_type") means STRUCTURED.
_COMPOSITION_KEYS = frozenset(
    {
        "_type", "name", "uid", "links", "archetype_details", "feeder_audit", "archetype_node_id", "language",
        "territory", "category", "composer", "context", "content",
    }
)


def detect_format(data: bytes | str) -> Format:
    """Tell canonical JSON, canonical XML, FLAT and STRUCTURED apart; ParseError (TXT004/RMR001/RMR008) if none."""
    return _detect(data, None)[0]


def _detect(data: bytes | str, source: str | None) -> tuple[Format, Any]:
    """The format and, for JSON forms, the loaded value (so callers do not parse twice)."""
    text = decode_text(data, source) if isinstance(data, bytes) else data
    stripped = text.lstrip()
    if not stripped:
        raise ParseError("TXT004", "the file is empty", file=source)
    if stripped[0] == "<" or stripped.startswith("?xml"):  # a damaged XML declaration is still meant as XML
        return "xml", None
    value = load_json_text(text, source)
    if not isinstance(value, dict):
        raise ParseError("RMR008", "a composition must be a JSON object or XML", file=source, line=1, column=1)
    return classify_json(value), value


def classify_json(value: dict[str, Any]) -> Format:
    """Canonical, FLAT or STRUCTURED, judged from a loaded JSON object's keys."""
    if "_type" in value or "@type" in value:  # "@type": a non-canonical variant; the JSON reader explains
        return "json"
    keys = list(value)
    if keys and all(k in _COMPOSITION_KEYS for k in keys):
        return "json"
    # FLAT maps paths to primitives; STRUCTURED nests objects under web template ids (it may carry ctx/ keys too)
    if any("/" not in k and isinstance(v, (dict, list)) for k, v in value.items()):
        return "structured"
    return "flat"


def read_composition(
    path: str | os.PathLike[str], *, issues: list[Issue] | None = None, lenient: bool = False
) -> RMObject:
    """Read a composition file in canonical JSON or XML, whichever it is.

    FLAT and STRUCTURED need the web template of their template to become RM objects, so they are refused
    here with RMR008 (their conversion is a separate step).
    """
    source = str(path)
    data = read_bytes(path)
    fmt, value = _detect(data, source)
    if fmt == "xml":
        return read_xml_composition(data, source=source, issues=issues)
    if fmt == "json":
        try:
            return read_canonical_json(
                value, source=source, root_type="COMPOSITION", issues=issues, lenient=lenient
            )
        except ParseError as err:
            if err.line is None and err.instance_path is not None:  # the dict was pre-loaded: locate in the text
                err.line, err.column = pointer_position(decode_text(data, source), err.instance_path)
                err.args = (str(err.to_issue()),)
            raise
    raise ParseError(
        "RMR008",
        f"this is a {fmt.upper()} composition; reading it needs its web template (FLAT/STRUCTURED conversion "
        "is not available yet)",
        file=source,
        expected="canonical JSON or canonical XML",
        found=fmt.upper(),
    )
