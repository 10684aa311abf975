"""``openehr-kit export --mapping M COMPOSITION...|DIR -o OUTDIR``: registry messages from compositions.

Each composition is validated against the mapping's template, mapped, checked against the export format and
written atomically; one report line per composition (written / rejected with the reason). National identity
numbers come from ``--national-id-map`` and are never printed unmasked.

Exit codes: 0 every composition exported, 1 some rejected, 2 usage error or unreadable input.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from openehr_kit.cli.common import EXIT_INVALID, EXIT_OK, EXIT_USAGE, collect_files
from openehr_kit.diagnostics import Issue, ParseError

FORMATS = click.Choice(["text", "json"])
#: files beside compositions that are not compositions (expected validation results of the examples)
SKIP_SUFFIXES = (".expected.json",)


@click.command("export")
@click.argument("paths", nargs=-1, required=True)
@click.option("--mapping", "-m", "mapping_path", required=True, type=click.Path(dir_okay=False),
              help="The mapping (YAML) from the compositions' template to a registry format.")
@click.option("-o", "--output", "outdir", required=True, type=click.Path(file_okay=False),
              help="Directory the messages are written to (created if missing).")
@click.option("--national-id-map", "id_map", type=click.Path(dir_okay=False), default=None,
              help="CSV with columns composition,national_id[,patient_name]; composition is a file name or uid.")
@click.option("--template", "-t", "template_path", type=click.Path(dir_okay=False), default=None,
              help="The template (.opt); default: the project's template with the mapping's template id.")
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True, help="Report format.")
def export(paths: tuple[str, ...], mapping_path: str, outdir: str, id_map: str | None, template_path: str | None,
           fmt: str) -> None:
    """Export compositions as registry messages (validated, mapped, checked, written atomically)."""
    from openehr_kit.mapping.check import check_mapping
    from openehr_kit.mapping.exports import ExportContext
    from openehr_kit.mapping.formats import find_format
    from openehr_kit.mapping.loader import load_mapping_file
    from openehr_kit.mapping.pipeline import (
        Outcome, bundled_template, export_composition, identity_for, read_national_id_map, write_outcome,
    )
    from openehr_kit.opt.loader import load_opt
    from openehr_kit.rm.reading import read_composition

    def usage(msg: str) -> None:
        click.echo(f"error: {msg}", err=True)
        sys.exit(EXIT_USAGE)

    m, issues = load_mapping_file(mapping_path)
    if m is None:
        usage(f"cannot use mapping {mapping_path}: {issues[0]}")
    assert m is not None
    try:
        template = load_opt(template_path) if template_path else bundled_template(m.template_id)
    except (ParseError, OSError) as exc:
        usage(f"cannot use template {template_path}: {exc}")
    if template is None:
        usage(f"no template {m.template_id} found; give it with --template")
    problems = [i for i in check_mapping(m, template) if i.severity.value == "error"]
    if problems:
        usage(f"the mapping does not pass its check ({len(problems)} errors; run 'openehr-kit mapping check'): "
              f"{problems[0]}")
    export_format = find_format(m.format_id, m.format_version)
    ids = {}
    if id_map:
        try:
            ids = read_national_id_map(id_map)
        except ParseError as exc:
            usage(str(exc.to_issue()))
    files, missing = collect_files(paths, (".json", ".xml"))
    files = [f for f in files if not f.name.endswith(SKIP_SUFFIXES)]
    out_dir = Path(outdir)
    outcomes: list[Outcome] = [Outcome(r.path, issues=r.issues) for r in missing]
    unreadable = bool(missing)
    for f in files:
        try:
            comp = _read(f, template, read_composition)
        except ParseError as exc:
            issue = exc.to_issue()
            outcomes.append(Outcome(str(f), issues=[Issue("EXP006", f"{issue.code} {issue.message}", file=str(f))]))
            continue
        except (RecursionError, MemoryError):
            outcomes.append(Outcome(str(f), issues=[Issue("EXP006", "the composition is too deep or large to read",
                                                          file=str(f))]))
            continue
        row = identity_for(ids, f, comp)
        ctx = ExportContext(national_id=row.national_id if row else None,
                            patient_name=row.patient_name if row else None)
        out = export_composition(comp, m, template, ctx, fmt=export_format, source=str(f))
        write_outcome(out, out_dir)
        outcomes.append(out)
    _report(outcomes, fmt)
    if unreadable:
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_OK if all(o.ok for o in outcomes) else EXIT_INVALID)


def _read(path: Path, template, read_composition):  # type: ignore[no-untyped-def]
    """A canonical composition, or a FLAT/STRUCTURED one converted with the mapping's template (FLT errors stop it)."""
    try:
        return read_composition(path)
    except ParseError as exc:
        if exc.code != "RMR008":
            raise
    from openehr_kit.flat import read_flat_composition
    from openehr_kit.textio import read_bytes

    comp, issues = read_flat_composition(read_bytes(path), template, str(path))
    errors = [i for i in issues if i.severity.value == "error"]
    if errors:
        first = errors[0]
        raise ParseError(first.code, first.message, file=str(path))
    return comp


def _report(outcomes: list, fmt: str) -> None:  # type: ignore[type-arg]
    if fmt == "json":
        data = [{"path": o.source, "status": "written" if o.ok else "rejected", "written": o.written,
                 "issues": [i.to_dict() for i in o.issues]} for o in outcomes]
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    rejected = 0
    for o in outcomes:
        if o.ok:
            names = ", ".join(Path(w).name for w in o.written) or "no messages (nothing to report)"
            click.echo(f"written  {o.source}: {names}")
        else:
            rejected += 1
            first = o.issues[0]
            more = f" (+{len(o.issues) - 1} more)" if len(o.issues) > 1 else ""
            click.echo(f"rejected {o.source}: {first.code} {first.message}{more}")
    click.echo(f"{len(outcomes) - rejected} of {len(outcomes)} compositions exported, {rejected} rejected")
