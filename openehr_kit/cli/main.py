"""``openehr-kit``: the command line on top of the library."""

from __future__ import annotations

import sys

import click

from openehr_kit import __version__
from openehr_kit.cli.archetype_cmd import archetype
from openehr_kit.cli.common import EXIT_USAGE
from openehr_kit.cli.flat_cmd import flat
from openehr_kit.cli.datafangst_cmd import datafangst
from openehr_kit.cli.demo_cmd import demo
from openehr_kit.cli.example_cmd import example
from openehr_kit.cli.export_cmd import export
from openehr_kit.cli.lint_cmd import diff, lint
from openehr_kit.cli.mapping_cmd import mapping
from openehr_kit.cli.template_cmd import template, webtemplate
from openehr_kit.cli.validate_cmd import validate


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="openehr-kit")
def cli() -> None:
    """Tools for openEHR archetypes, templates and compositions.

    Exit codes: 0 ok, 1 invalid input, 2 usage error or unreadable input.
    """


cli.add_command(archetype)
cli.add_command(template)
cli.add_command(webtemplate)
cli.add_command(flat)
cli.add_command(example)
cli.add_command(validate)
cli.add_command(lint)
cli.add_command(diff)
cli.add_command(mapping)
cli.add_command(export)
cli.add_command(datafangst)
cli.add_command(demo)


def main() -> None:
    try:
        cli.main(prog_name="openehr-kit", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(EXIT_USAGE)
    except BrokenPipeError:
        sys.exit(0)
    sys.exit(0)
