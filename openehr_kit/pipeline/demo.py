"""``openehr-kit demo``: the whole datafangst pipeline on bundled synthetic data, in three rounds.

The data is ``templates/examples/datafangst_demo/`` (found with :func:`openehr_kit.content.content_dir`, so it works
from an installed wheel): round 1 is the journal's first day, round 2 adds a corrected version and a deletion,
round 3 runs again and must deliver nothing new. Everything happens inside one folder (``./openehr-kit-demo``).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from openehr_kit.content import content_dir
from openehr_kit.pipeline.config import load_config
from openehr_kit.pipeline.runner import Summary, run

MARKER = ".openehr-kit-demo"

#: everything of a demo/synthetic configuration but its sources (the project's bundled templates and mappings)
CONFIG_BODY = """\
outbox: outbox/
quarantine: quarantine/
ledger: ledger.sqlite
identity: {csv: identities.csv}
reservations: {csv: reservations.csv}
registries:
  Kreftregisteret: {basis: statutory}
  Norsk frakturregister: {basis: reservation}
  Barnediabetesregisteret: {basis: consent}
"""

CONFIG = """\
# datafangst configuration written by 'openehr-kit demo' (see docs/datafangst.md)
version: 1
sources:
  - directory: journal/
# templates and mappings: the project's bundled ones (omit the keys), or list .opt / mapping files and folders
""" + CONFIG_BODY


class DemoError(Exception):
    pass


@dataclass(slots=True)
class Round:
    title: str
    summary: Summary


def demo_data() -> Path:
    return content_dir("templates") / "examples" / "datafangst_demo"


def prepare_dir(target: Path) -> None:
    """Create the demo folder; an earlier demo folder (with our marker) is replaced, anything else is refused."""
    if target.exists():
        if not target.is_dir():
            raise DemoError(f"{target} exists and is not a folder")
        if any(target.iterdir()) and not (target / MARKER).exists():
            raise DemoError(f"{target} exists and is not an earlier demo folder; give another one with --dir")
        shutil.rmtree(target)
    target.mkdir(parents=True)
    (target / MARKER).write_text("created by openehr-kit demo; safe to delete\n", encoding="utf-8")
    src = demo_data()
    for name in ("identities.csv", "reservations.csv"):
        shutil.copyfile(src / name, target / name)
    (target / "journal").mkdir()
    (target / "datafangst.yaml").write_text(CONFIG, encoding="utf-8")


def run_demo(target: Path) -> list[Round]:
    """The three rounds; each copies that day's compositions into journal/ and runs datafangst."""
    prepare_dir(target)
    src = demo_data()
    cfg = load_config(target / "datafangst.yaml")
    rounds: list[Round] = []
    for title, folder in (("day 1: the journal's first compositions", "round1"),
                          ("day 2: a corrected version and a deleted composition", "round2"),
                          ("day 3: nothing new in the journal", None)):
        if folder is not None:
            for f in sorted((src / folder).iterdir()):
                shutil.copyfile(f, target / "journal" / f.name)
        s = run(cfg)
        rounds.append(Round(title, s))
        if s.stopped is not None:
            break
    return rounds


__all__ = ["CONFIG", "DemoError", "MARKER", "Round", "demo_data", "prepare_dir", "run_demo"]
