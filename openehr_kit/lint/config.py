"""Lint configuration: ``[tool.openehr-kit.lint]`` in the nearest ``pyproject.toml``, then command-line options.

Codes are selected by prefix, as ruff does: ``LNT1`` selects every ``LNT1xx``, ``ARC`` every archetype-semantics
code. The longest matching prefix wins between ``select`` and ``ignore``, so ``select = ["LNT"]`` with
``ignore = ["LNT160"]`` keeps every LNT code but LNT160.

    [tool.openehr-kit.lint]
    select = ["ARC", "OPT", "TPL", "MAP", "LNT"]
    ignore = ["LNT160"]
    required_languages = ["nb", "en"]
    archetypes = ["archetypes"]          # where .oet sources find their archetypes (relative to pyproject.toml)
    templates = ["templates"]            # where mappings find their OPTs
    min_severity = "error"               # the exit code fails at or above this severity
    per_file_ignores = {"legacy/*.adl" = ["LNT160"]}
"""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from openehr_kit.diagnostics import Severity

SEVERITIES = {s.value: s for s in Severity}


class ConfigError(ValueError):
    """A configuration that cannot be used (exit code 2)."""


@dataclass(frozen=True, slots=True)
class LintConfig:
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    required_languages: tuple[str, ...] = ()
    archetype_dirs: tuple[Path, ...] = ()
    template_dirs: tuple[Path, ...] = ()
    min_severity: Severity = Severity.ERROR
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: the pyproject.toml the configuration came from (None: defaults only)
    source: Path | None = None
    root: Path | None = None

    def enabled(self, code: str, file: str | None = None) -> bool:
        """Whether ``code`` is reported (for ``file``): longest prefix of select/ignore wins, select wins ties."""
        ignores = list(self.ignore)
        if file is not None and self.per_file_ignores:
            rel = _relative(file, self.root)
            for pattern, codes in self.per_file_ignores:
                if fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(Path(file).name, pattern):
                    ignores.extend(codes)
        sel = max((len(p) for p in self.select if code.startswith(p)), default=-1 if self.select else 0)
        ign = max((len(p) for p in ignores if code.startswith(p)), default=-1)
        return sel >= 0 and sel >= ign

    def with_options(self, *, select: tuple[str, ...] | None = None, ignore: tuple[str, ...] | None = None,
                     extend_ignore: tuple[str, ...] = (), required_languages: tuple[str, ...] | None = None,
                     min_severity: str | None = None, archetype_dirs: tuple[Path, ...] = ()) -> LintConfig:
        """Command-line options on top of the file: ``select``/``ignore`` replace, the rest extends."""
        out = self
        if select:
            out = replace(out, select=_codes(select))
        if ignore:
            out = replace(out, ignore=_codes(ignore))
        if extend_ignore:
            out = replace(out, ignore=out.ignore + _codes(extend_ignore))
        if required_languages:
            out = replace(out, required_languages=tuple(required_languages))
        if min_severity:
            out = replace(out, min_severity=_severity(min_severity))
        if archetype_dirs:
            out = replace(out, archetype_dirs=out.archetype_dirs + tuple(archetype_dirs))
        return out


def _relative(file: str, root: Path | None) -> str:
    p = Path(file).resolve()
    if root is not None:
        try:
            return p.relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return Path(file).as_posix()


def _codes(values: Any) -> tuple[str, ...]:
    """Codes or prefixes from a list or comma-separated strings, upper-cased."""
    if isinstance(values, str):
        values = [values]
    out: list[str] = []
    for v in values:
        if not isinstance(v, str):
            raise ConfigError(f"a code must be a string, not {v!r}")
        out.extend(part.strip().upper() for part in v.split(",") if part.strip())
    return tuple(out)


def _severity(value: Any) -> Severity:
    if not isinstance(value, str) or value.lower() not in SEVERITIES:
        raise ConfigError(f"min_severity must be one of {', '.join(SEVERITIES)}, not {value!r}")
    return SEVERITIES[value.lower()]


def find_pyproject(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` with a ``[tool.openehr-kit]`` table, walking up from ``start``."""
    here = start.resolve()
    if here.is_file():
        here = here.parent
    for d in (here, *here.parents):
        candidate = d / "pyproject.toml"
        if candidate.is_file():
            try:
                data = tomllib.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                continue
            if "openehr-kit" in data.get("tool", {}):
                return candidate
    return None


def load_config(start: Path | None = None, *, pyproject: Path | None = None) -> LintConfig:
    """The configuration in force for paths at ``start`` (or from an explicit ``pyproject``)."""
    path = pyproject or (find_pyproject(start) if start is not None else None)
    if path is None:
        return LintConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    tool = data.get("tool", {}).get("openehr-kit", {})
    lint = tool.get("lint", {})
    if not isinstance(lint, dict):
        raise ConfigError(f"{path}: [tool.openehr-kit] lint must be a table")
    # keys may be written with dashes or underscores, as in most Python tools
    lint = {k.replace("-", "_"): v for k, v in lint.items()}
    known = {"select", "ignore", "extend_ignore", "required_languages", "archetypes", "templates", "min_severity",
             "per_file_ignores"}
    unknown = sorted(set(lint) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) in [tool.openehr-kit.lint]: {', '.join(unknown)}")
    root = path.parent
    pfi = lint.get("per_file_ignores", {})
    if not isinstance(pfi, dict):
        raise ConfigError(f"{path}: per_file_ignores must be a table of glob = [codes]")
    langs = lint.get("required_languages", [])
    if not isinstance(langs, list) or not all(isinstance(x, str) for x in langs):
        raise ConfigError(f"{path}: required_languages must be a list of language codes")
    return LintConfig(
        select=_codes(lint.get("select", [])),
        ignore=_codes(lint.get("ignore", [])) + _codes(lint.get("extend_ignore", [])),
        required_languages=tuple(langs),
        archetype_dirs=tuple(root / d for d in _strings(lint.get("archetypes", []), path, "archetypes")),
        template_dirs=tuple(root / d for d in _strings(lint.get("templates", []), path, "templates")),
        min_severity=_severity(lint.get("min_severity", "error")),
        per_file_ignores=tuple((str(k), _codes(v)) for k, v in pfi.items()),
        source=path,
        root=root,
    )


def _strings(value: Any, path: Path, key: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise ConfigError(f"{path}: {key} must be a list of directories")
    return value


def severity_at_least(severity: Severity | None, threshold: Severity) -> bool:
    return severity is not None and severity.rank >= threshold.rank


__all__ = ["ConfigError", "LintConfig", "SEVERITIES", "find_pyproject", "load_config", "severity_at_least"]
