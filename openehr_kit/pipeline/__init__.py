"""Datafangst: automated, incremental, exactly-once delivery of registry messages from journal compositions.

``load_config`` reads ``datafangst.yaml``; ``run`` takes every composition of the configured sources through
identify template -> validate -> map -> export -> reservation/consent check -> atomic delivery into the outbox,
recording each message in the SQLite ledger (:mod:`openehr_kit.pipeline.ledger`) so that a re-run, or a run after
a crash at any point, delivers each message exactly once. See ``docs/datafangst.md``.
"""

from __future__ import annotations

from openehr_kit.pipeline.config import ConfigError, DatafangstConfig, load_config
from openehr_kit.pipeline.runner import RunStopped, Summary, run

__all__ = ["ConfigError", "DatafangstConfig", "RunStopped", "Summary", "load_config", "run"]
