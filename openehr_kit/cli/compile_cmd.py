"""``openehr-kit template compile SOURCE.oet --archetypes DIR... [-o OUT.opt]``, and the ``.oet`` side of
``template check`` (a source is compiled and its OPT checked)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from openehr_kit.cli.common import EXIT_INVALID, EXIT_OK, EXIT_USAGE, UNREADABLE_CODES, FileResult
from openehr_kit.diagnostics import Issue, Severity


def check_oet(path: Path, archetype_dirs: tuple[str, ...]) -> FileResult:
    """Compile an ``.oet`` (leniently, to report every problem) and check the OPT it gives."""
    from openehr_kit.compiler import compile_with_issues, write_opt
    from openehr_kit.opt.checks import check_opt

    if not archetype_dirs:
        return FileResult(str(path), [Issue("TPL001", "no archetype directory given (use --archetypes DIR)",
                                            file=str(path))])
    result = compile_with_issues(path, [Path(d) for d in archetype_dirs])
    issues = list(result.issues)
    extra = {}
    if result.template is not None:
        extra["template_id"] = result.template.template_id
        issues.extend(check_opt(write_opt(result.template)))
    return FileResult(str(path), issues, extra)


@click.command("compile")
@click.argument("source", type=click.Path(dir_okay=False))
@click.option("--archetypes", "archetype_dirs", multiple=True, required=True, type=click.Path(),
              help="Directory (searched recursively for <archetype id>.adl); repeat for several.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the OPT here (atomically); default: standard output.")
@click.option("--lang", default=None, help="Template language (default: the root archetype's original language).")
def compile_cmd(source: str, archetype_dirs: tuple[str, ...], output: str | None, lang: str | None) -> None:
    """Compile an Ocean template source (.oet) and ADL 1.4 archetypes into an OPT 1.4 template."""
    from openehr_kit.compiler import compile_with_issues, write_opt
    from openehr_kit.fsutil import atomic_write_bytes

    for d in archetype_dirs:
        if not Path(d).exists():
            click.echo(f"error: archetype directory {d} does not exist", err=True)
            sys.exit(EXIT_USAGE)
    result = compile_with_issues(source, [Path(d) for d in archetype_dirs], language=lang, strict=True)
    for issue in result.issues:
        if issue.severity is not Severity.INFO:
            click.echo(str(issue), err=True)
    if any(i.code in UNREADABLE_CODES for i in result.issues):
        sys.exit(EXIT_USAGE)
    if result.template is None or result.errors:
        sys.exit(EXIT_INVALID)
    data = write_opt(result.template)
    # the compiled template is checked like any OPT (RM types and attributes, terms): never write a broken one
    from openehr_kit.opt.checks import check_opt

    problems = [i for i in check_opt(data) if i.severity is Severity.ERROR]
    for issue in problems:
        click.echo(f"{source}: compiled template: {issue.code} {issue.message}", err=True)
    if problems:
        sys.exit(EXIT_INVALID)
    if output:
        atomic_write_bytes(output, data)
        click.echo(f"wrote {output}", err=True)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    sys.exit(EXIT_OK)
