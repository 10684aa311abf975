"""``openehr-kit demo [--dir DIR]``: run datafangst on bundled synthetic compositions and say what happened."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from openehr_kit.cli.common import EXIT_OK, EXIT_USAGE

_SAY = [
    ("delivered", "new message(s) delivered to the outbox"),
    ("corrected", "correction(s) delivered (message_kind M / KREMT VersjonIP + 1)"),
    ("annulled", "annulment(s) delivered (message_kind C / KREMT FeilSkjema)"),
    ("withheld", "message(s) withheld: the patient reserved, or gave no consent (counted, never named)"),
    ("unchanged", "new version(s) with unchanged registry content: nothing sent"),
    ("quarantined", "composition(s) quarantined with a report"),
    ("already_done", "composition(s) already handled earlier: nothing new"),
]


@click.command("demo")
@click.option("--dir", "target", type=click.Path(file_okay=False), default="openehr-kit-demo", show_default=True,
              help="Folder to run the demo in (an earlier demo folder there is replaced).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def demo(target: str, fmt: str) -> None:
    """Run the whole delivery pipeline on bundled example compositions, in three rounds."""
    from openehr_kit.pipeline.demo import DemoError, run_demo

    root = Path(target)
    try:
        rounds = run_demo(root)
    except (DemoError, OSError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    if fmt == "json":
        click.echo(json.dumps({"dir": str(root.resolve()), "rounds": [
            {"title": r.title, **r.summary.to_dict()} for r in rounds]}, ensure_ascii=False, indent=2))
    else:
        click.echo(f"openehr-kit demo in {root.resolve()}")
        click.echo("  journal/ compositions, outbox/ registry messages, quarantine/ rejected compositions with "
                   "reports, ledger.sqlite the delivery ledger, datafangst.yaml the configuration")
        for r in rounds:
            c = r.summary.counts
            click.echo(f"\n{r.title} ({c['compositions']} compositions in the journal)")
            said = False
            for key, text in _SAY:
                if c.get(key):
                    click.echo(f"  {c[key]:>3} {text}")
                    said = True
            if not said:
                click.echo("  nothing happened")
            for reg, d in sorted(r.summary.by_registry.items()):
                parts = ", ".join(f"{k} {v}" for k, v in sorted(d.items()))
                click.echo(f"      {reg}: {parts}")
            if r.summary.quarantine_reasons:
                click.echo("      quarantine reasons: " + ", ".join(
                    f"{k} x{v}" for k, v in sorted(r.summary.quarantine_reasons.items())))
            if r.summary.stopped is not None:
                click.echo(f"  STOPPED: {r.summary.stopped}")
        outbox = sorted(p.name for p in (root / "outbox").iterdir() if not p.name.startswith("."))
        click.echo(f"\noutbox ({len(outbox)} files):")
        for name in outbox:
            click.echo(f"  {name}")
        reports = sorted((root / "quarantine").glob("*.report.json"))
        for rep in reports:
            data = json.loads(rep.read_text(encoding="utf-8"))
            click.echo(f"quarantined {Path(data['source']).name}: {data['reason']['code']} "
                       f"{data['reason']['message']}")
        click.echo(f"\nnext: openehr-kit datafangst status --config {root / 'datafangst.yaml'}")
    if any(r.summary.stopped is not None for r in rounds):
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_OK)
