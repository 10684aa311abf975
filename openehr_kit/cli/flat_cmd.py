"""``openehr-kit flat``: FLAT (simSDT) <-> canonical JSON conversion with a template.

Exit codes: 0 converted without errors; 1 the input has errors (each listed with its FLAT key; the output is
still written where one could be made); 2 usage error or unreadable input (missing file, not JSON, bad template).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from openehr_kit.cli.common import EXIT_INVALID, EXIT_OK, EXIT_USAGE
from openehr_kit.diagnostics import Issue, ParseError, Severity


def _load_template(path: str) -> Any:
    from openehr_kit.opt.loader import load_opt

    try:
        return load_opt(path)
    except ParseError as exc:
        click.echo(f"error: cannot load template {path}: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except OSError as exc:
        click.echo(f"error: cannot read template {path}: {exc}", err=True)
        sys.exit(EXIT_USAGE)


def _read_input(path: str) -> bytes:
    p = Path(path)
    try:
        if p.is_dir():
            raise IsADirectoryError(path)
        return p.read_bytes()
    except OSError as exc:
        click.echo(f"error: cannot read {path}: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_USAGE)


def _emit(doc: Any, out: str | None) -> None:
    text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    if out:
        from openehr_kit.fsutil import atomic_write_text

        atomic_write_text(out, text)
    else:
        click.echo(text, nl=False)


def _report(issues: list[Issue], source: str) -> int:
    errors = [i for i in issues if i.severity is Severity.ERROR]
    for i in issues:
        where = i.instance_path or ""
        click.echo(f"{i.severity.value if i.severity else 'error'} {source}: {i.code} {where}: "
                   f"{i.message.split(': ', 1)[-1] if where and i.message.startswith(where) else i.message}",
                   err=True)
    return EXIT_INVALID if errors else EXIT_OK


@click.group("flat")
def flat() -> None:
    """Convert between FLAT (simSDT) JSON and canonical JSON compositions."""


@flat.command("to-canonical")
@click.option("--template", "-t", "template_path", required=True, type=click.Path(), help="the OPT 1.4 template")
@click.option("--output", "-o", "out", type=click.Path(), help="write here (atomically) instead of stdout")
@click.option("--validate/--no-validate", default=True, help="also validate the composition (default: on)")
@click.argument("file", type=click.Path())
def to_canonical(template_path: str, out: str | None, validate: bool, file: str) -> None:
    """FLAT (or STRUCTURED) FILE -> canonical JSON composition."""
    from openehr_kit.flat.validate import read_flat_composition
    from openehr_kit.rm.instance import to_canonical_json

    template = _load_template(template_path)
    data = _read_input(file)
    try:
        comp, issues = read_flat_composition(data, template, source=file)
    except ParseError as exc:
        click.echo(f"error {file}: {exc.code} {exc.message}", err=True)
        sys.exit(EXIT_USAGE)
    if validate:
        try:
            from openehr_kit.validation.validator import validate_composition
        except ImportError:  # pragma: no cover
            pass
        else:
            issues = issues + validate_composition(comp, template, file=file)
    _emit(to_canonical_json(comp), out)
    sys.exit(_report(issues, file))


@flat.command("from-canonical")
@click.option("--template", "-t", "template_path", required=True, type=click.Path(), help="the OPT 1.4 template")
@click.option("--output", "-o", "out", type=click.Path(), help="write here (atomically) instead of stdout")
@click.option("--structured", is_flag=True, help="write STRUCTURED JSON instead of FLAT")
@click.argument("file", type=click.Path())
def from_canonical(template_path: str, out: str | None, structured: bool, file: str) -> None:
    """Canonical JSON (or XML) composition FILE -> FLAT JSON."""
    from openehr_kit.flat.from_canonical import composition_to_flat
    from openehr_kit.flat.structured import flat_to_structured

    template = _load_template(template_path)
    _read_input(file)  # missing or a directory: exit 2 with a clear message
    read_issues: list[Issue] = []
    try:
        from openehr_kit.rm.reading import read_composition

        comp = read_composition(file, issues=read_issues)
    except ParseError as exc:
        click.echo(f"error {file}: {exc.code} {exc.message}", err=True)
        sys.exit(EXIT_USAGE)
    issues: list[Issue] = list(read_issues)
    doc = composition_to_flat(comp, template, issues=issues)
    _emit(flat_to_structured(doc) if structured else doc, out)
    sys.exit(_report(issues, file))
