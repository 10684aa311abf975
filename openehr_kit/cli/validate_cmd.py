"""``openehr-kit validate``: check compositions (canonical JSON or XML) against operational templates.

Exit codes: 0 every composition valid, 1 some composition invalid, 2 unreadable input or a usage error (the batch
goes on past unreadable files; the worst outcome decides).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from openehr_kit.cli.common import EXIT_INVALID, EXIT_OK, EXIT_USAGE, collect_files
from openehr_kit.diagnostics import Issue, ParseError, Severity

FORMATS = click.Choice(["text", "json"])
COMPOSITION_SUFFIXES = (".json", ".xml")


def _load_template(path: str):  # type: ignore[no-untyped-def]
    """The template at ``path``, or None after printing why it cannot be used."""
    from openehr_kit.opt.loader import load_opt

    try:
        return load_opt(path)
    except ParseError as exc:
        click.echo(f"error: cannot use template {path}: {exc.to_issue()}", err=True)
    except (OSError, RecursionError, ValueError) as exc:
        click.echo(f"error: cannot use template {path}: {exc}", err=True)
    return None


def _load_templates(directory: str) -> dict[str, object] | None:
    """Every loadable .opt below ``directory`` by template id; templates that fail are named on stderr."""
    root = Path(directory)
    if not root.is_dir():
        click.echo(f"error: --templates {directory}: not a directory", err=True)
        return None
    found: dict[str, object] = {}
    for f in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() == ".opt"):
        tmpl = _load_template(str(f))
        if tmpl is None:
            continue
        if tmpl.template_id in found:
            click.echo(f"warning: template id '{tmpl.template_id}' is given twice; using the first ({f} ignored)",
                       err=True)
            continue
        found[tmpl.template_id] = tmpl
    return found


@click.command("validate")
@click.argument("paths", nargs=-1, required=True)
@click.option("--template", "-t", "template_path", type=click.Path(dir_okay=False), default=None,
              help="The operational template (.opt) to validate against.")
@click.option("--templates", "templates_dir", type=click.Path(file_okay=False), default=None,
              help="A directory of templates: each composition is checked against its own template id.")
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.option("--errors-only", is_flag=True, help="Do not print warnings in text output.")
def validate(
    paths: tuple[str, ...], template_path: str | None, templates_dir: str | None, fmt: str, errors_only: bool
) -> None:
    """Validate compositions (files or directories of .json/.xml, format detected) against a template.

    With --templates, a composition whose template id is not among them falls back to --template if given.
    A composition whose template id differs from the template it is checked against says so (VAL012).
    """
    from openehr_kit.validation.validator import ValidationResult, validate_file

    if template_path is None and templates_dir is None:
        click.echo("error: give --template T.opt or --templates DIR", err=True)
        sys.exit(EXIT_USAGE)
    template = None
    if template_path is not None:
        template = _load_template(template_path)
        if template is None:
            sys.exit(EXIT_USAGE)
    templates = None
    if templates_dir is not None:
        templates = _load_templates(templates_dir)
        if templates is None:
            sys.exit(EXIT_USAGE)
        if not templates and template is None:
            click.echo(f"error: no usable .opt template in {templates_dir}", err=True)
            sys.exit(EXIT_USAGE)

    files, missing = collect_files(paths, COMPOSITION_SUFFIXES)
    results: list[ValidationResult] = [
        ValidationResult(m.path, None, False, m.issues, unreadable=True) for m in missing
    ]
    if not files and not missing:
        click.echo("error: no .json or .xml compositions found", err=True)
        sys.exit(EXIT_USAGE)
    for f in files:
        try:
            results.append(validate_file(f, template, templates))  # type: ignore[arg-type]
        except Exception as exc:  # noqa: BLE001 - one bad file must not end the batch with a traceback
            issue = Issue("VAL018", f"internal error ({type(exc).__name__}: {exc})", file=str(f))
            results.append(ValidationResult(str(f), None, False, [issue], unreadable=True))

    if fmt == "json":
        click.echo(json.dumps([r.to_dict() for r in results], ensure_ascii=False, indent=2))
    else:
        _emit_text(results, show_warnings=not errors_only)
    sys.exit(_exit_code(results))


def _exit_code(results: Sequence[object]) -> int:
    if any(getattr(r, "unreadable", False) for r in results):
        return EXIT_USAGE
    if any(not getattr(r, "valid", True) for r in results):
        return EXIT_INVALID
    return EXIT_OK


def _emit_text(results: Sequence[object], *, show_warnings: bool) -> None:
    """One block per composition: a status line, then one readable line per issue."""
    counts = {"valid": 0, "invalid": 0, "unreadable": 0}
    for r in results:
        issues: list[Issue] = [i for i in r.issues if show_warnings or i.severity is Severity.ERROR]  # type: ignore[attr-defined]
        n_err = sum(1 for i in r.issues if i.severity is Severity.ERROR)  # type: ignore[attr-defined]
        n_warn = sum(1 for i in r.issues if i.severity is Severity.WARNING)  # type: ignore[attr-defined]
        if r.unreadable:  # type: ignore[attr-defined]
            status = "UNREADABLE"
            counts["unreadable"] += 1
        elif r.valid:  # type: ignore[attr-defined]
            status = "valid"
            counts["valid"] += 1
        else:
            status = "INVALID"
            counts["invalid"] += 1
        tid = f" [template {r.template_id}]" if r.template_id else ""  # type: ignore[attr-defined]
        tally = []
        if n_err:
            tally.append(f"{n_err} error{'s' if n_err != 1 else ''}")
        if n_warn:
            tally.append(f"{n_warn} warning{'s' if n_warn != 1 else ''}")
        click.echo(f"{r.path}{tid}: {status}" + (f" ({', '.join(tally)})" if tally else ""))  # type: ignore[attr-defined]
        for i in issues:
            click.echo(f"  {i.severity.value if i.severity else ''} {i.code} {i.message}")
            where = []
            if i.instance_path:
                where.append(f"at {i.instance_path}" + (f" (line {i.line})" if i.line is not None else ""))
            elif i.line is not None:
                where.append(f"line {i.line}" + (f", column {i.column}" if i.column is not None else ""))
            if i.template_path:
                where.append(f"template {i.template_path}")
            if where:
                click.echo(f"      {'; '.join(where)}")
    total = len(results)
    click.echo(
        f"{total} composition{'s' if total != 1 else ''}: {counts['valid']} valid, {counts['invalid']} invalid"
        + (f", {counts['unreadable']} unreadable" if counts["unreadable"] else "")
    )
