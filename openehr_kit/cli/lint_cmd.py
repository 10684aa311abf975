"""``openehr-kit lint PATH...`` and ``openehr-kit diff OLD NEW``: the CI checks of a template repository.

lint exit codes: 0 clean, 1 a finding at or above ``--min-severity`` (default error), 2 usage or unreadable input.
diff exit codes: 0 no breaking change, 1 breaking changes, 2 usage or unreadable input.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from openehr_kit.cli.common import EXIT_USAGE
from openehr_kit.diagnostics import ParseError


def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(v.strip() for raw in values for v in raw.split(",") if v.strip())


@click.command("lint")
@click.argument("paths", nargs=-1)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif", "github"]), default="text",
              show_default=True, help="Report format (sarif: SARIF 2.1.0; github: workflow annotations).")
@click.option("--select", multiple=True, help="Codes or prefixes to report (LNT1 selects LNT1xx); replaces the "
                                               "configured selection.")
@click.option("--ignore", multiple=True, help="Codes or prefixes not to report; replaces the configured list.")
@click.option("--extend-ignore", multiple=True, help="Codes or prefixes not to report, added to the configuration.")
@click.option("--min-severity", type=click.Choice(["error", "warning", "info"]), default=None,
              help="Exit 1 when a finding at or above this severity remains (default: error, or the config).")
@click.option("--required-languages", multiple=True, help="Languages every archetype and template must have "
                                                          "(e.g. nb,en).")
@click.option("--archetypes", "archetype_dirs", multiple=True, type=click.Path(file_okay=False),
              help="Archetype directory for compiling .oet sources (repeatable).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="pyproject.toml to read [tool.openehr-kit.lint] from (default: the nearest one above PATH).")
@click.option("--no-config", is_flag=True, help="Ignore pyproject.toml.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
              help="Write the report to this file instead of standard output.")
def lint(paths: tuple[str, ...], fmt: str, select: tuple[str, ...], ignore: tuple[str, ...],
         extend_ignore: tuple[str, ...], min_severity: str | None, required_languages: tuple[str, ...],
         archetype_dirs: tuple[str, ...], config_path: str | None, no_config: bool, output: str | None) -> None:
    """Lint archetypes (.adl), template sources (.oet), OPTs (.opt) and mappings (.yaml) under PATHS."""
    from openehr_kit.lint.config import ConfigError, LintConfig, load_config
    from openehr_kit.lint.engine import lint_paths
    from openehr_kit.lint.output import render

    targets = paths or (".",)
    try:
        if no_config:
            config = LintConfig()
        elif config_path:
            config = load_config(pyproject=Path(config_path))
        else:
            config = load_config(Path(targets[0]))
        config = config.with_options(select=_split(select) or None, ignore=_split(ignore) or None,
                                     extend_ignore=_split(extend_ignore),
                                     required_languages=_split(required_languages) or None,
                                     min_severity=min_severity,
                                     archetype_dirs=tuple(Path(d) for d in archetype_dirs))
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    report = lint_paths(targets, config)
    text = render(report, fmt)
    if output:
        from openehr_kit.fsutil import atomic_write_text

        atomic_write_text(output, text + "\n")
    else:
        click.echo(text)
    sys.exit(report.exit_code())


def _load(path: Path, archetype_dirs: list[Path]):  # type: ignore[no-untyped-def]
    """An archetype (.adl) or a template (.opt, or .oet compiled with ``archetype_dirs``)."""
    suffix = path.suffix.lower()
    if suffix == ".adl":
        from openehr_kit.am.adl import load_archetype

        return "archetype", load_archetype(path)
    if suffix == ".opt":
        from openehr_kit.opt.loader import load_opt

        return "template", load_opt(path)
    if suffix == ".oet":
        from openehr_kit.compiler import compile_template

        dirs = archetype_dirs
        if not dirs:
            dirs = [d / "archetypes" for d in list(path.resolve().parents)[:4] if (d / "archetypes").is_dir()][:1]
        if not dirs:
            raise click.UsageError(f"{path}: give the archetype directory with --archetypes to compile it")
        return "template", compile_template(path, dirs)
    raise click.UsageError(f"{path}: not an .adl, .opt or .oet file")


@click.command("diff")
@click.argument("old", type=click.Path(dir_okay=False))
@click.argument("new", type=click.Path(dir_okay=False))
@click.option("--mappings", "mappings_dir", type=click.Path(file_okay=False), default=None,
              help="Folder of registry mappings: name every mapping field a breaking change reaches.")
@click.option("--archetypes", "archetype_dirs", multiple=True, type=click.Path(file_okay=False),
              help="Archetype directory for compiling .oet sources (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--compatible/--no-compatible", "show_compatible", default=True, show_default=True,
              help="List compatible changes too (text format).")
def diff(old: str, new: str, mappings_dir: str | None, archetype_dirs: tuple[str, ...], fmt: str,
         show_compatible: bool) -> None:
    """Changes between two versions of a template (OPT or .oet) or an archetype (ADL), breaking or compatible."""
    from openehr_kit.lint.diff import (DiffResult, diff_archetypes, diff_templates, load_mappings,
                                       mapping_impacts)

    dirs = [Path(d) for d in archetype_dirs]
    try:
        kind_old, a = _load(Path(old), dirs)
        kind_new, b = _load(Path(new), dirs)
    except ParseError as exc:
        click.echo(f"error: {exc.to_issue()}", err=True)
        sys.exit(EXIT_USAGE)
    except OSError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    if kind_old != kind_new:
        click.echo(f"error: cannot compare a {kind_old} with a {kind_new}", err=True)
        sys.exit(EXIT_USAGE)
    result = DiffResult(old, new, kind_old)
    if kind_old == "archetype":
        result.changes = diff_archetypes(a, b)
    else:
        result.changes = diff_templates(a, b)
    if mappings_dir is not None:
        if not Path(mappings_dir).is_dir():
            click.echo(f"error: {mappings_dir} is not a directory", err=True)
            sys.exit(EXIT_USAGE)
        mappings = load_mappings(mappings_dir)
        if kind_old == "archetype":
            result.impacts = mapping_impacts(result.changes, mappings, archetype_ids={a.archetype_id, b.archetype_id})
        else:
            result.impacts = mapping_impacts(result.changes, mappings, template_ids={a.template_id, b.template_id})
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(render_diff_text(result, show_compatible))
    sys.exit(1 if result.breaking else 0)


def render_diff_text(result, show_compatible: bool = True) -> str:  # type: ignore[no-untyped-def]
    lines = [f"{result.kind} diff {result.old} -> {result.new}"]
    for c in result.changes:
        if c.breaking or show_compatible:
            lines.append(f"  {'BREAKING  ' if c.breaking else 'compatible'} {c}")
    n_b = len(result.breaking)
    lines.append(f"{n_b} breaking, {len(result.changes) - n_b} compatible change(s)")
    if result.impacts:
        lines.append("mapping fields reached by breaking changes:")
        for i in result.impacts:
            lines.append(f"  {i.mapping} ({i.file}) field {i.field} <- {i.source}: {i.change.kind} {i.change.path}")
    return "\n".join(lines)


__all__ = ["diff", "lint", "render_diff_text"]
