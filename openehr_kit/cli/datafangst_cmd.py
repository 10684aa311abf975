"""``openehr-kit datafangst run|status --config datafangst.yaml``: automated, exactly-once registry delivery.

Exit codes: 0 the run went through and nothing was quarantined; 1 some compositions were quarantined (the others
were delivered); 2 the configuration cannot be used or the run had to stop (outbox read-only or full, lock held).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from openehr_kit.cli.common import EXIT_INVALID, EXIT_OK, EXIT_USAGE

FORMATS = click.Choice(["text", "json"])

_ROWS = [
    ("compositions", "items read from the sources"),
    ("delivered", "new messages written to the outbox"),
    ("corrected", "corrections (a new composition version changed the message)"),
    ("annulled", "annulments (composition deleted, or an entry removed)"),
    ("withheld", "not delivered: reservation, or no consent"),
    ("unchanged", "new composition version, same registry content: nothing sent"),
    ("quarantined", "compositions quarantined (see the report files)"),
    ("not_annullable", "should be annulled, but the format cannot: tell the registry"),
    ("already_done", "handled by an earlier run: nothing new"),
    ("superseded", "older than a version already handled: skipped"),
    ("recovered", "messages of an interrupted run finished"),
]


def _load(config: str):  # type: ignore[no-untyped-def]
    from openehr_kit.pipeline.config import ConfigError, load_config

    try:
        return load_config(config)
    except ConfigError as exc:
        for issue in exc.issues:
            click.echo(f"error: {issue}", err=True)
        sys.exit(EXIT_USAGE)


def summary_text(d: dict[str, Any]) -> str:
    """The end-of-run table (counts only: no identifiers)."""
    c = d["counts"]
    rate = f", {d['compositions_per_second']:.0f}/s" if d.get("compositions_per_second") else ""
    lines = [f"datafangst: {c['compositions']} compositions in {d['seconds']:.1f} s{rate}, "
             f"{d['workers']} worker{'s' if d['workers'] != 1 else ''}"]
    for key, text in _ROWS:
        if c.get(key) or key in ("compositions", "delivered", "withheld", "quarantined"):
            lines.append(f"  {key:<15}{c.get(key, 0):>8}  {text}")
    regs = d.get("by_registry") or {}
    if regs:
        cols = ["delivered", "corrected", "annulled", "withheld", "unchanged", "not_annullable"]
        lines.append("")
        lines.append(f"  {'registry':<28}" + "".join(f"{k:>12}" for k in cols[:5]))
        for reg in sorted(regs):
            lines.append(f"  {reg:<28}" + "".join(f"{regs[reg].get(k, 0):>12}" for k in cols[:5]))
    if d.get("quarantine_reasons"):
        why = ", ".join(f"{k} x{v}" for k, v in sorted(d["quarantine_reasons"].items()))
        lines.append(f"  quarantine: {d['quarantine']} ({why})")
    if d.get("warnings", {}).get("DFG109"):
        lines.append(f"  DFG109 x{d['warnings']['DFG109']}: a composition version came again with different content; "
                     "a committed version should never change (a correction is a new version), so it was not re-sent")
    if d.get("stopped"):
        s = d["stopped"]
        lines.append(f"STOPPED: {s.get('file') or ''}: {s['code']} {s['message']}")
    return "\n".join(lines)


@click.group("datafangst")
def datafangst() -> None:
    """Automated delivery of registry messages from journal compositions (exactly once, with reservations)."""


@datafangst.command("run")
@click.option("--config", "-c", "config", required=True, type=click.Path(dir_okay=False),
              help="The datafangst.yaml configuration.")
@click.option("--workers", "-w", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes (compositions are partitioned by uid).")
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True, help="Summary format.")
def run_cmd(config: str, workers: int, fmt: str) -> None:
    """Deliver every new, corrected or deleted composition's registry messages into the outbox."""
    from openehr_kit.pipeline.runner import Progress, run

    cfg = _load(config)
    summary = run(cfg, workers=workers, progress=Progress())
    d = summary.to_dict()
    click.echo(json.dumps(d, ensure_ascii=False, indent=2) if fmt == "json" else summary_text(d))
    if summary.stopped is not None:
        if fmt == "json":
            click.echo(f"error: {summary.stopped}", err=True)
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_INVALID if summary.counts.get("quarantined") else EXIT_OK)


@datafangst.command("status")
@click.option("--config", "-c", "config", required=True, type=click.Path(dir_okay=False),
              help="The datafangst.yaml configuration.")
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True, help="Output format.")
def status_cmd(config: str, fmt: str) -> None:
    """Summarise the ledger: messages per registry and status, compositions per state."""
    from openehr_kit.pipeline.ledger import Ledger, LedgerError

    cfg = _load(config)
    if not cfg.ledger.exists():
        click.echo(f"error: no ledger yet at {cfg.ledger} (run 'openehr-kit datafangst run' first)", err=True)
        sys.exit(EXIT_USAGE)
    try:
        led = Ledger(cfg.ledger)
        data = led.status_summary()
        led.close()
    except (LedgerError, Exception) as exc:  # noqa: BLE001 - a damaged ledger: say so, no traceback
        click.echo(f"error: cannot read the ledger {cfg.ledger}: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        sys.exit(EXIT_OK)
    click.echo(f"ledger {data['ledger']}")
    comps = data["compositions"]
    click.echo("compositions: " + (", ".join(f"{k} {v}" for k, v in sorted(comps.items())) or "none"))
    regs = data["registries"]
    cols = ["new", "corrections", "annulments", "withheld", "unchanged", "not_annullable", "staged"]
    click.echo(f"{'registry':<28}" + "".join(f"{c:>15}" for c in cols))
    for reg in sorted(regs):
        click.echo(f"{reg:<28}" + "".join(f"{regs[reg].get(c, 0):>15}" for c in cols))
    click.echo(f"last delivery: {data['last_delivery'] or 'never'}")
    sys.exit(EXIT_OK)
