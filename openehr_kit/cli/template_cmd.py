"""``openehr-kit template check|show`` and ``openehr-kit webtemplate``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from openehr_kit.cli.common import EXIT_OK, FileResult, check_batch, load_or_exit
from openehr_kit.fsutil import atomic_write_text
from openehr_kit.opt.model import OperationalTemplate

FORMATS = click.Choice(["text", "json"])


@click.group()
def template() -> None:
    """Read and check OPT 1.4 operational templates."""


def _check_one(path: Path, archetype_dirs: tuple[str, ...] = ()) -> FileResult:
    from openehr_kit.opt.checks import check_and_load_opt

    if path.suffix.lower() == ".oet":
        from openehr_kit.cli.compile_cmd import check_oet

        return check_oet(path, archetype_dirs)
    issues, tmpl = check_and_load_opt(path)
    extra = {"template_id": tmpl.template_id} if tmpl is not None else {}
    return FileResult(str(path), issues, extra)


@template.command("check")
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.option("--errors-only", is_flag=True, help="Do not print warnings in text output.")
@click.option("--archetypes", "archetype_dirs", multiple=True, type=click.Path(),
              help="Archetype directory for .oet sources (compiled, then checked); repeat for several.")
def check_cmd(paths: tuple[str, ...], fmt: str, errors_only: bool, archetype_dirs: tuple[str, ...]) -> None:
    """Load and check operational templates (files or directories, searched recursively for .opt and .oet)."""
    # directories yield .oet sources only when there are archetypes to compile them with
    suffixes = [".opt", ".oet"] if archetype_dirs else [".opt"]
    check_batch(paths, suffixes, lambda f: _check_one(f, archetype_dirs), fmt, noun="template",
                errors_only=errors_only)


def _load_or_exit(file: str) -> OperationalTemplate:
    from openehr_kit.opt.loader import load_opt

    return load_or_exit(load_opt, file)


@template.command("show")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--lang", default=None, help="Language of term texts (falls back to the template language).")
def show_cmd(file: str, lang: str | None) -> None:
    """Print the template as an indented tree with occurrences and data types."""
    tmpl = _load_or_exit(file)
    for info in tmpl.iter_nodes():
        segment = info.path.rsplit("/", 1)[-1] or "/"
        occ = str(info.occurrences) if info.occurrences is not None else ""
        text = info.text(lang) or ""
        label = f"{text}  " if text else ""
        click.echo(f"{'  ' * info.depth}{label}{segment}  {info.rm_type} {occ}".rstrip())
    sys.exit(EXIT_OK)


@click.command("webtemplate")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None, help="Write here (atomically).")
@click.option("--lang", default=None, help="Default language of the web template.")
def webtemplate(file: str, output: str | None, lang: str | None) -> None:
    """Generate the web template (EHRbase/Better JSON) of an operational template."""
    from openehr_kit.webtemplate.builder import build_web_template

    tmpl = _load_or_exit(file)
    text = json.dumps(build_web_template(tmpl, lang), ensure_ascii=False, indent=2) + "\n"
    if output:
        atomic_write_text(output, text)
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)
    sys.exit(EXIT_OK)


from openehr_kit.cli.compile_cmd import compile_cmd  # noqa: E402 -- registered after the group is defined

template.add_command(compile_cmd)
