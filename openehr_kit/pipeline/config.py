"""``datafangst.yaml``: where compositions come from, what to map them with, and where messages go.

The file is checked against a JSON Schema (:data:`CONFIG_SCHEMA`) and every error names its line and column.
Relative paths are relative to the configuration file's folder. Example (documented in ``docs/datafangst.md``)::

    version: 1
    sources:
      - directory: compositions/          # *.json, *.xml (canonical or FLAT) and *.deleted tombstones, recursive
      - ndjson: journal-feed.ndjson      # one composition, envelope or tombstone per line
    templates: [templates/]               # .opt files or folders; default: the project's bundled templates
    mappings: [mappings/]                 # mapping YAML files or folders; default: the bundled mappings
    outbox: outbox/
    quarantine: quarantine/
    ledger: datafangst.sqlite
    fsync: true                           # false: safe against a killed process, not against power loss
    identity: {csv: identities.csv}
    reservations: {csv: reservations.csv} # or {table: ledger}: the ``reservations`` table of the ledger
    registries:
      Kreftregisteret: {basis: statutory}
      Norsk frakturregister: {basis: reservation}
      Barnediabetesregisteret: {basis: consent}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from openehr_kit.diagnostics import Issue

BASES = ("reservation", "consent", "statutory")

_PATHS = {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}}

CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "openehr-kit datafangst configuration",
    "type": "object",
    "required": ["version", "sources", "outbox", "ledger", "identity", "registries"],
    "additionalProperties": False,
    "properties": {
        "version": {"const": 1},
        "sources": {
            "type": "array", "minItems": 1,
            "items": {
                "type": "object", "minProperties": 1, "maxProperties": 1, "additionalProperties": False,
                "properties": {"directory": {"type": "string", "minLength": 1},
                               "ndjson": {"type": "string", "minLength": 1}},
            },
        },
        "templates": _PATHS,
        "mappings": _PATHS,
        "outbox": {"type": "string", "minLength": 1},
        "quarantine": {"type": "string", "minLength": 1},
        "ledger": {"type": "string", "minLength": 1},
        "identity": {
            "type": "object", "required": ["csv"], "additionalProperties": False,
            "properties": {"csv": {"type": "string", "minLength": 1}},
        },
        "reservations": {
            "type": "object", "minProperties": 1, "maxProperties": 1, "additionalProperties": False,
            "properties": {"csv": {"type": "string", "minLength": 1}, "table": {"const": "ledger"}},
        },
        "registries": {
            "type": "object", "minProperties": 1,
            "additionalProperties": {
                "type": "object", "required": ["basis"], "additionalProperties": False,
                "properties": {"basis": {"enum": list(BASES)}},
            },
        },
        "validate": {"type": "boolean"},
        "fsync": {"type": "boolean"},
    },
}


class ConfigError(Exception):
    """The configuration cannot be used; carries located issues (DFG001-DFG003)."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("; ".join(str(i) for i in issues))
        self.issues = issues


@dataclass(slots=True)
class Source:
    kind: str  # "directory" or "ndjson"
    path: Path


@dataclass(slots=True)
class DatafangstConfig:
    """The checked configuration with absolute paths."""

    path: Path
    sources: list[Source]
    outbox: Path
    quarantine: Path
    ledger: Path
    identity_csv: Path
    registries: dict[str, str]  # registry name -> basis
    templates: list[Path] = field(default_factory=list)  # empty: the bundled templates
    mappings: list[Path] = field(default_factory=list)  # empty: the bundled mappings
    reservations_csv: Path | None = None
    reservations_table: bool = False
    validate: bool = True
    #: fsync files, folders and ledger commits in step order: exactly-once survives power loss and OS crashes,
    #: not only a killed process. false: survives kill -9 (the page cache outlives the process), much faster.
    fsync: bool = True


def _node_at(root: yaml.Node | None, path: list[Any]) -> yaml.Node | None:
    """The YAML node at a JSON-schema error path (the deepest one that exists), for its line and column."""
    node = root
    for step in path:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == step), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            nxt = node.value[step]
        else:
            nxt = None
        if nxt is None:
            break
        node = nxt
    return node


def _explain(err: jsonschema.ValidationError) -> str:
    where = "/".join(str(p) for p in err.absolute_path) or "(top)"
    if err.validator == "additionalProperties":
        return f"{where}: {err.message} (allowed: {', '.join(sorted(err.schema.get('properties', {})))})"
    if err.validator in ("minProperties", "maxProperties") and "sources" in err.absolute_path:
        return f"{where}: a source is exactly one of 'directory: DIR' or 'ndjson: FILE'"
    if err.validator in ("minProperties", "maxProperties") and "reservations" in err.absolute_path:
        return f"{where}: reservations is exactly one of 'csv: FILE' or 'table: ledger'"
    if err.validator == "enum" and "basis" in err.absolute_path:
        return f"{where}: basis must be one of {', '.join(BASES)}, not {err.instance!r}"
    return f"{where}: {err.message}"


def load_config(path: str | Path) -> DatafangstConfig:
    """Read and check ``datafangst.yaml``; ConfigError with located issues when it cannot be used."""
    p = Path(path)
    src = str(p)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Issue("DFG001", f"cannot read the configuration ({exc.__class__.__name__})", file=src)])
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError([Issue("DFG001", f"not valid YAML: {getattr(exc, 'problem', None) or exc}", file=src,
                                 line=mark.line + 1 if mark else None,
                                 column=mark.column + 1 if mark else None)]) from None
    if data is None:
        data = {}
    errors = sorted(jsonschema.Draft202012Validator(CONFIG_SCHEMA).iter_errors(data),
                    key=lambda e: (list(map(str, e.absolute_path)), e.validator))
    if errors:
        issues = []
        for err in errors[:20]:
            node = _node_at(root, list(err.absolute_path))
            issues.append(Issue("DFG002", _explain(err), file=src,
                                line=node.start_mark.line + 1 if node is not None else 1,
                                column=node.start_mark.column + 1 if node is not None else 1))
        raise ConfigError(issues)
    base = p.resolve().parent

    def at(*keys: Any) -> tuple[int | None, int | None]:
        node = _node_at(root, list(keys))
        return (node.start_mark.line + 1, node.start_mark.column + 1) if node is not None else (None, None)

    problems: list[Issue] = []

    def resolve(value: str, keys: tuple[Any, ...], *, must_exist: bool, kind: str = "any") -> Path:
        q = Path(value).expanduser()
        q = q if q.is_absolute() else base / q
        if must_exist:
            ok = q.is_dir() if kind == "dir" else q.is_file() if kind == "file" else q.exists()
            if not ok:
                line, col = at(*keys)
                what = {"dir": "folder", "file": "file"}.get(kind, "file or folder")
                problems.append(Issue("DFG003", f"{'/'.join(map(str, keys))}: no such {what}: {value}", file=src,
                                      line=line, column=col))
        return q

    sources = []
    for i, s in enumerate(data["sources"]):
        kind, value = next(iter(s.items()))
        sources.append(Source(kind, resolve(value, ("sources", i, kind), must_exist=True,
                                            kind="dir" if kind == "directory" else "file")))
    cfg = DatafangstConfig(
        path=p.resolve(),
        sources=sources,
        outbox=resolve(data["outbox"], ("outbox",), must_exist=False),
        quarantine=resolve(data.get("quarantine", "quarantine"), ("quarantine",), must_exist=False),
        ledger=resolve(data["ledger"], ("ledger",), must_exist=False),
        identity_csv=resolve(data["identity"]["csv"], ("identity", "csv"), must_exist=True, kind="file"),
        registries={name: v["basis"] for name, v in data["registries"].items()},
        templates=[resolve(t, ("templates", i), must_exist=True) for i, t in enumerate(data.get("templates", []))],
        mappings=[resolve(m, ("mappings", i), must_exist=True) for i, m in enumerate(data.get("mappings", []))],
        validate=data.get("validate", True),
        fsync=data.get("fsync", True),
    )
    res = data.get("reservations")
    if res is not None and "csv" in res:
        cfg.reservations_csv = resolve(res["csv"], ("reservations", "csv"), must_exist=True, kind="file")
    elif res is not None:
        cfg.reservations_table = True
    if problems:
        raise ConfigError(problems)
    return cfg


__all__ = ["BASES", "CONFIG_SCHEMA", "ConfigError", "DatafangstConfig", "Source", "load_config"]
