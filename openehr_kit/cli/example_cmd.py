"""``openehr-kit example``: a minimal (or maximal) valid composition for an operational template.

Exit codes: 0 written; 1 the template is not a valid OPT (the located reason on stderr); 2 usage error or a
template file that cannot be read.
"""

from __future__ import annotations

import json
import sys

import click

from openehr_kit.cli.common import EXIT_INVALID, EXIT_OK, EXIT_USAGE
from openehr_kit.diagnostics import ParseError

#: codes meaning "could not read the file at all" (missing, a directory, too large)
_UNREADABLE = frozenset({"TXT002", "TXT003"})


@click.command("example")
@click.argument("template_file", metavar="T.opt", type=click.Path(dir_okay=True))
@click.option("--maximal", is_flag=True, help="Every optional node once as well (default: mandatory nodes only).")
@click.option("--format", "fmt", type=click.Choice(["json", "xml"]), default="json", show_default=True,
              help="Canonical JSON (pretty printed) or canonical XML.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None, help="Write here (atomically).")
@click.option("--lang", default=None, help="Language of names and term texts (default: the template's).")
def example(template_file: str, maximal: bool, fmt: str, output: str | None, lang: str | None) -> None:
    """Print a valid example composition for the operational template T.opt."""
    from openehr_kit.examples.generator import maximal_composition, minimal_composition
    from openehr_kit.fsutil import atomic_write_bytes
    from openehr_kit.opt.loader import load_opt
    from openehr_kit.rm.instance import to_canonical_json, to_canonical_xml

    try:
        template = load_opt(template_file)
    except ParseError as exc:
        issue = exc.to_issue()
        issue.file = issue.file or template_file
        click.echo(f"error: {issue}", err=True)
        sys.exit(EXIT_USAGE if exc.code in _UNREADABLE else EXIT_INVALID)
    except (OSError, RecursionError, ValueError) as exc:  # the loader reports its own errors as ParseError
        click.echo(f"error: {template_file}: {exc}", err=True)
        sys.exit(EXIT_USAGE)

    build = maximal_composition if maximal else minimal_composition
    comp = build(template, language=lang)
    if fmt == "xml":
        data = to_canonical_xml(comp)
    else:
        data = (json.dumps(to_canonical_json(comp), ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    if output:
        atomic_write_bytes(output, data)
        click.echo(f"wrote {output}", err=True)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    sys.exit(EXIT_OK)
