"""``openehr-kit archetype check|paths``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from openehr_kit.am.adl import load_archetype
from openehr_kit.am.semantics import check_archetype
from openehr_kit.cli.common import EXIT_OK, FileResult, check_batch, load_or_exit

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
    check_batch(paths, [".adl"], _check_one, fmt, noun="archetype", errors_only=errors_only)


@archetype.command("paths")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--lang", default=None, help="Language of term texts (falls back to the original language).")
def paths_cmd(file: str, lang: str | None) -> None:
    """List every node path with RM type, occurrences and term text."""
    arch = load_or_exit(load_archetype, file)
    for info in arch.iter_nodes():
        occ = str(info.occurrences) if info.occurrences is not None else "-"
        text = info.text(lang) or ""
        click.echo(f"{info.path}\t{info.rm_type}\t{occ}\t{text}")
    sys.exit(EXIT_OK)
