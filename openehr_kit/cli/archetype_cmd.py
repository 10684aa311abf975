"""``openehr-kit archetype check|paths``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from openehr_kit.am.adl import load_archetype
from openehr_kit.am.semantics import check_archetype
from openehr_kit.cli.common import (
    EXIT_INVALID,
    EXIT_OK,
    EXIT_USAGE,
    FileResult,
    collect_files,
    emit_results,
    exit_code,
    run_checks,
)
from openehr_kit.diagnostics import ParseError

FORMATS = click.Choice(["text", "json"])


@click.group()
def archetype() -> None:
    """Read and check ADL 1.4 archetypes."""


def _check_one(path: Path) -> FileResult:
    arch = load_archetype(path)
    return FileResult(str(path), check_archetype(arch), {"archetype_id": arch.archetype_id})


@archetype.command("check")
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.option("--errors-only", is_flag=True, help="Do not print warnings in text output.")
def check_cmd(paths: tuple[str, ...], fmt: str, errors_only: bool) -> None:
    """Parse and check archetypes (files or directories, searched recursively for .adl)."""
    files, missing = collect_files(paths, [".adl"])
    results = missing + run_checks(files, _check_one)
    if not results:
        click.echo("error: no .adl files found", err=True)
        sys.exit(EXIT_USAGE)
    emit_results(results, fmt, noun="archetype", show_warnings=not errors_only)
    sys.exit(exit_code(results))


@archetype.command("paths")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--lang", default=None, help="Language of term texts (falls back to the original language).")
def paths_cmd(file: str, lang: str | None) -> None:
    """List every node path with RM type, occurrences and term text."""
    try:
        arch = load_archetype(file)
    except ParseError as exc:
        click.echo(str(exc.to_issue()), err=True)
        sys.exit(EXIT_USAGE if exc.code in ("TXT002", "TXT003") else EXIT_INVALID)
    for info in arch.iter_nodes():
        occ = str(info.occurrences) if info.occurrences is not None else "-"
        text = info.text(lang) or ""
        click.echo(f"{info.path}\t{info.rm_type}\t{occ}\t{text}")
    sys.exit(EXIT_OK)
