"""``openehr-kit mapping check MAPPING... --template T``: a mapping against its template and export format.

Exit codes: 0 every mapping clean (warnings allowed), 1 some mapping has errors, 2 unreadable input or usage error.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from openehr_kit.cli.common import EXIT_USAGE, FileResult, emit_results, exit_code
from openehr_kit.diagnostics import Issue, ParseError

FORMATS = click.Choice(["text", "json"])


@click.group("mapping")
def mapping() -> None:
    """Registry mappings (template -> registry export format)."""


@mapping.command("check")
@click.argument("mapping_files", nargs=-1, required=True)
@click.option("--template", "-t", "template_path", type=click.Path(dir_okay=False), default=None,
              help="The template (.opt) the mapping is for; default: the project's template with the mapping's id.")
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True, help="Output format.")
def check_cmd(mapping_files: tuple[str, ...], template_path: str | None, fmt: str) -> None:
    """Check mappings: source paths, data types, code coverage, required fields, targets and codes."""
    from openehr_kit.mapping.check import check_mapping
    from openehr_kit.mapping.loader import load_mapping_file
    from openehr_kit.mapping.pipeline import bundled_template
    from openehr_kit.opt.loader import load_opt

    template = None
    if template_path is not None:
        try:
            template = load_opt(template_path)
        except ParseError as exc:
            click.echo(f"error: cannot use template {template_path}: {exc.to_issue()}", err=True)
            sys.exit(EXIT_USAGE)
        except OSError as exc:
            click.echo(f"error: cannot use template {template_path}: {exc}", err=True)
            sys.exit(EXIT_USAGE)
    results = []
    for path in mapping_files:
        m, issues = load_mapping_file(path)
        if m is None:
            results.append(FileResult(path, issues))
            continue
        tmpl = template or bundled_template(m.template_id)
        if tmpl is None:
            results.append(FileResult(path, [Issue("EXP010", f"no template {m.template_id} found; give it with "
                                                             "--template", file=path)]))
            continue
        issues = check_mapping(m, tmpl)
        results.append(FileResult(path, issues, {"template_id": tmpl.template_id,
                                                 "format": f"{m.format_id}@{m.format_version}"}))
    emit_results(results, fmt, noun="mapping")
    sys.exit(_exit(results))


def _exit(results: list[FileResult]) -> int:
    if any(i.code in ("TXT002", "TXT003", "EXP010") for r in results for i in r.issues):
        return EXIT_USAGE
    return exit_code(results)


__all__ = ["mapping", "Path"]
