"""Where the shared reference corpus lives: ``$OPENEHR_KIT_SHARED`` or ``../shared`` beside the project."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def shared_root() -> Path | None:
    env = os.environ.get("OPENEHR_KIT_SHARED")
    candidates = [Path(env)] if env else []
    candidates.append(PROJECT_ROOT.parent / "shared")
    for c in candidates:
        if (c / "corpus").is_dir():
            return c
    return None


SKIP_REASON = (
    "shared reference corpus not found: set OPENEHR_KIT_SHARED or place it at ../shared beside the project"
)
