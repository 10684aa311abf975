"""Where the project's own content lives: archetypes, templates, mappings and registry export formats.

In a source checkout these are the top-level folders beside the package; an installed wheel carries them as the
data package ``openehr_kit_content`` (see ``pyproject.toml``), so commands like ``openehr-kit demo`` work anywhere.
"""

from __future__ import annotations

from pathlib import Path

CONTENT_FOLDERS = ("archetypes", "templates", "mappings", "registry_exports")


def content_dir(name: str) -> Path:
    """The folder ``name`` (one of CONTENT_FOLDERS) of the bundled content."""
    if name not in CONTENT_FOLDERS:
        raise ValueError(f"unknown content folder {name!r}; expected one of {', '.join(CONTENT_FOLDERS)}")
    checkout = Path(__file__).resolve().parent.parent / name
    if checkout.is_dir():
        return checkout
    try:
        import openehr_kit_content  # type: ignore[import-not-found]
    except ImportError as exc:  # pragma: no cover - only in a broken installation
        raise FileNotFoundError(f"bundled content folder {name!r} is not installed") from exc
    return Path(openehr_kit_content.__file__).resolve().parent / name
