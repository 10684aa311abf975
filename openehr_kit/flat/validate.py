"""Validating FLAT input: the FLAT-level checks (FLTxxx, each naming its key), then the full composition
validation of the result, whose issues point at FLAT key prefixes through the objects' ``location``.

``read_flat_composition`` is the entry point the ``validate`` command uses for FLAT (and STRUCTURED) input.
"""

from __future__ import annotations

import json
from typing import Any

from openehr_kit.diagnostics import Issue, ParseError, Severity
from openehr_kit.flat.to_canonical import flat_to_composition
from openehr_kit.opt.model import OperationalTemplate
from openehr_kit.rm.instance import RMObject

__all__ = ["read_flat_composition", "validate_flat", "load_flat"]


def load_flat(data: bytes | str | dict[str, Any], source: str | None = None) -> dict[str, Any]:
    """The FLAT (or STRUCTURED) document as a dict; ParseError FLT007 when it is not a JSON object."""
    if isinstance(data, dict):
        return data
    from openehr_kit.rm.canonical_json import load_json_text
    from openehr_kit.textio import decode_text

    text = decode_text(data, source) if isinstance(data, bytes) else data
    try:
        value = load_json_text(text, source)
    except ParseError as exc:
        raise ParseError("FLT007", f"not a FLAT document: {exc.message}", file=source, line=exc.line,
                         column=exc.column) from None
    if not isinstance(value, dict):
        raise ParseError("FLT007", "a FLAT document is a JSON object of path keys and values", file=source,
                         line=1, column=1)
    return value


def read_flat_composition(
    data: bytes | str | dict[str, Any],
    template: OperationalTemplate,
    source: str | None = None,
    *,
    web_template: dict[str, Any] | None = None,
) -> tuple[RMObject, list[Issue]]:
    """Read FLAT (or STRUCTURED, told apart by shape) input into a composition plus its FLT issues.

    The composition's objects carry FLAT key prefixes as ``location``; pass it to ``validate_composition``.
    Raises ParseError (FLT007) when the input is not a JSON object at all.
    """
    doc = load_flat(data, source)
    if _is_structured(doc):
        from openehr_kit.flat.structured import structured_to_composition

        return structured_to_composition(doc, template, source=source)
    return flat_to_composition(doc, template, web_template=web_template, source=source)


def _is_structured(doc: dict[str, Any]) -> bool:
    return bool(doc) and all("/" not in k for k in doc) and any(isinstance(v, (dict, list)) for v in doc.values())


def validate_flat(
    flat: dict[str, Any] | bytes | str,
    template: OperationalTemplate,
    *,
    web_template: dict[str, Any] | None = None,
    source: str | None = None,
) -> list[Issue]:
    """Every issue of a FLAT document: FLAT-level (unknown paths with the closest valid one, wrong suffixes,
    bad indices, unused keys, missing context) and then the composition validator's on the result."""
    try:
        comp, issues = read_flat_composition(flat, template, source, web_template=web_template)
    except ParseError as exc:
        return [exc.to_issue()]
    try:
        from openehr_kit.validation.validator import validate_composition
    except ImportError:  # pragma: no cover - while the validator is being written
        return issues
    issues = list(issues)
    issues.extend(validate_composition(comp, template, file=source))
    return issues


def has_errors(issues: list[Issue]) -> bool:
    return any(i.severity is Severity.ERROR for i in issues)


def dumps(flat: dict[str, Any]) -> str:
    """Pretty JSON as the CLI writes it."""
    return json.dumps(flat, ensure_ascii=False, indent=2) + "\n"
