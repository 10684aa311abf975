"""The wheel's package list (pyproject.toml) names every subpackage, and the content folders are reachable."""

from __future__ import annotations

import tomllib
from pathlib import Path

from openehr_kit.content import CONTENT_FOLDERS, content_dir

ROOT = Path(__file__).resolve().parent.parent


def test_every_subpackage_is_packaged() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    declared = set(config["packages"])
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "openehr_kit").rglob("__init__.py")
    }
    missing = found - declared
    assert not missing, f"add these packages to [tool.setuptools] packages in pyproject.toml: {sorted(missing)}"
    for folder in CONTENT_FOLDERS:
        assert f"openehr_kit_content.{folder}" in declared
        assert config["package-dir"][f"openehr_kit_content.{folder}"] == folder


def test_content_folders_resolve() -> None:
    for folder in CONTENT_FOLDERS:
        assert content_dir(folder).name == folder
    assert any(content_dir("archetypes").glob("*.adl"))
