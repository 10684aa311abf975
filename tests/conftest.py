from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from shared_data import SKIP_REASON, shared_root  # noqa: E402


@pytest.fixture(scope="session")
def shared() -> Path:
    """The shared corpus root; tests that need it skip with a clear reason where it is absent."""
    root = shared_root()
    if root is None:
        pytest.skip(SKIP_REASON)
    return root
