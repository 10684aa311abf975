"""``lint_paths``: find the files, read the whole set, run the rules, then filter by configuration and suppressions.

The set is read first (every archetype and OPT) because some rules need it: a slot pattern is checked against the
archetypes linted with it, a specialised archetype against its parent, a mapping against its template.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from openehr_kit.am.adl import MAX_ADL_BYTES, parse_adl
from openehr_kit.am.model import Archetype
from openehr_kit.diagnostics import Issue, ParseError, Severity
from openehr_kit.lint.checks import LintSet, check_adl, check_opt_rules
from openehr_kit.lint.config import LintConfig, severity_at_least
from openehr_kit.lint.locate import parse_suppressions
from openehr_kit.opt.model import OperationalTemplate
from openehr_kit.textio import decode_text, read_bytes

SUFFIXES = (".adl", ".oet", ".opt", ".yaml", ".yml")
_SKIP_DIRS = {"node_modules", "__pycache__", "venv", ".venv"}
_SYNTAX = {"adl": "adl", "oet": "xml", "opt": "xml", "mapping": "yaml"}
_MAX_BYTES = 64 * 1024 * 1024
_MAPPING_KEY_RE = re.compile(r"^(template|template_id|format)\s*:", re.M)
UNREADABLE = frozenset({"TXT002", "TXT003"})


@dataclass
class FileReport:
    path: str
    kind: str
    issues: list[Issue] = field(default_factory=list)


@dataclass
class LintReport:
    files: list[FileReport]
    config: LintConfig
    seconds: float = 0.0
    #: paths given that do not exist (usage error)
    missing: list[str] = field(default_factory=list)

    @property
    def findings(self) -> list[Issue]:
        return [i for f in self.files for i in f.issues]

    @property
    def unreadable(self) -> bool:
        return bool(self.missing) or any(i.code in UNREADABLE for i in self.findings)

    def exit_code(self) -> int:
        """0 clean, 1 a finding at or above the configured severity, 2 unreadable input."""
        if self.unreadable:
            return 2
        threshold = self.config.min_severity
        return 1 if any(severity_at_least(i.severity, threshold) for i in self.findings) else 0

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for i in self.findings:
            out[i.code] = out.get(i.code, 0) + 1
        return dict(sorted(out.items()))


# ---------------------------------------------------------------------------------------------------------------
# collecting files


def collect(paths: Sequence[str | Path]) -> tuple[list[Path], list[str]]:
    """Files with a lintable suffix: named directly, or below directories (hidden folders skipped)."""
    files: list[Path] = []
    missing: list[str] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                rel = f.relative_to(p).parts
                if any(part.startswith(".") or part in _SKIP_DIRS for part in rel[:-1]):
                    continue
                if f.is_file() and f.suffix.lower() in SUFFIXES:
                    files.append(f)
        elif p.is_file():
            files.append(p)
        else:
            missing.append(str(p))
    return list(dict.fromkeys(files)), missing


def _kind(path: Path, text: str | None) -> str | None:
    suffix = path.suffix.lower()
    if suffix == ".adl":
        return "adl"
    if suffix == ".oet":
        return "oet"
    if suffix == ".opt":
        return "opt"
    if suffix in (".yaml", ".yml") and text is not None:
        return "mapping" if _looks_like_mapping(text) else None
    return None


def _looks_like_mapping(text: str) -> bool:
    """A registry mapping has ``template`` (or ``template_id``) and ``format`` at the top level."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        # a broken mapping must still be reported (MAP001), so fall back to its top-level keys
        keys = set(_MAPPING_KEY_RE.findall(text))
        return "format" in keys and bool(keys & {"template", "template_id"})
    return isinstance(data, dict) and "format" in data and ("template" in data or "template_id" in data)


# ---------------------------------------------------------------------------------------------------------------
# the run


@dataclass
class _Input:
    path: Path
    kind: str
    text: str
    data: bytes
    archetype: Archetype | None = None
    template: OperationalTemplate | None = None
    issues: list[Issue] = field(default_factory=list)


def lint_paths(paths: Sequence[str | Path], config: LintConfig | None = None) -> LintReport:
    """Lint every file under ``paths`` with ``config`` (defaults when None)."""
    start = time.perf_counter()
    config = config or LintConfig()
    files, missing = collect(paths)
    lset = LintSet(config)
    inputs: list[_Input] = []
    reports: list[FileReport] = []
    for f in files:
        name = str(f)
        try:
            data = read_bytes(f, max_bytes=MAX_ADL_BYTES if f.suffix.lower() == ".adl" else _MAX_BYTES)
            text = decode_text(data, name)
        except ParseError as exc:
            issue = exc.to_issue()
            issue.file = issue.file or name
            kind = _kind(f, None) or "unknown"
            reports.append(FileReport(name, kind, _filter([issue], None, config, name)))
            continue
        kind = _kind(f, text)
        if kind is None:
            continue
        inputs.append(_Input(f, kind, text, data))

    # read the set: archetypes and templates first, as other files' rules look them up
    for inp in inputs:
        if inp.kind == "adl":
            lset.adl_files.append(inp.path)
            lset.archetype_ids.add(inp.path.stem)
            try:
                inp.archetype = parse_adl(inp.text, source=str(inp.path))
            except ParseError as exc:
                inp.issues.append(_located(exc.to_issue(), inp.path))
                continue
            except Exception as exc:  # noqa: BLE001 - one bad file must not stop the run
                inp.issues.append(_internal(inp.path, "reading", exc))
                continue
            lset.archetype_ids.add(inp.archetype.archetype_id)
            lset.archetypes.setdefault(inp.archetype.archetype_id, inp.archetype)
        elif inp.kind == "opt":
            from openehr_kit.opt.checks import check_and_load_opt

            try:
                found, template = check_and_load_opt(inp.data)
            except Exception as exc:  # noqa: BLE001
                inp.issues.append(_internal(inp.path, "reading", exc))
                continue
            inp.issues.extend(_located(i, inp.path) for i in found)
            if template is not None:
                template.source = str(inp.path)
                inp.template = template
                lset.templates.setdefault(template.template_id, template)

    lset.archetype_ids |= _known_archetype_ids(inputs, config)

    for inp in inputs:
        try:
            if inp.kind == "adl" and inp.archetype is not None:
                inp.issues.extend(check_adl(inp.archetype, inp.text, lset))
            elif inp.kind == "opt" and inp.template is not None:
                inp.issues.extend(check_opt_rules(inp.template, lset))
            elif inp.kind == "oet":
                from openehr_kit.lint.sources import check_oet

                inp.issues.extend(check_oet(inp.path, lset))
            elif inp.kind == "mapping":
                from openehr_kit.lint.sources import check_mapping_file

                inp.issues.extend(check_mapping_file(inp.path, inp.text, lset))
        except Exception as exc:  # noqa: BLE001 - a crashing rule is reported, the other files go on
            inp.issues.append(_internal(inp.path, "checking", exc))
        name = str(inp.path)
        for i in inp.issues:
            i.file = i.file or name
        reports.append(FileReport(name, inp.kind, _filter(inp.issues, inp, config, name)))
    reports.sort(key=lambda r: r.path)
    return LintReport(reports, config, time.perf_counter() - start, missing)


def _known_archetype_ids(inputs: list[_Input], config: LintConfig) -> set[str]:
    """Archetype ids the repository has beyond the linted files (by file name): the folders of the linted
    archetypes and the configured archetype folders. A pre-commit run passes only the changed files; the slot and
    specialisation rules must still see the rest of the repository."""
    folders = {inp.path.parent for inp in inputs if inp.kind == "adl"} | set(config.archetype_dirs)
    ids: set[str] = set()
    for folder in folders:
        if not folder.is_dir():
            continue
        pattern = "*.adl" if folder not in config.archetype_dirs else "**/*.adl"
        ids |= {f.stem for f in folder.glob(pattern)}
    return ids


def _located(issue: Issue, path: Path) -> Issue:
    issue.file = str(path)
    return issue


def _internal(path: Path, what: str, exc: BaseException) -> Issue:
    return Issue("LNT001", f"lint failed {what} this file: {type(exc).__name__}: {exc}", file=str(path))


def _filter(issues: Iterable[Issue], inp: _Input | None, config: LintConfig, name: str) -> list[Issue]:
    """Configuration (select/ignore, per-file ignores) and inline suppressions; unknown suppression codes."""
    issues = list(issues)
    if inp is not None:
        sup = parse_suppressions(inp.text, _SYNTAX[inp.kind])
        issues = [i for i in issues if not sup.suppresses(i.code, i.line)]
        issues += [Issue("LNT002", f"the suppression names {code}, which is no registered code (or prefix)",
                         file=name, line=line) for line, code in sup.unknown]
    kept = [i for i in issues if config.enabled(i.code, name)]
    # one finding once: rules that meet the same problem from two sides report it once
    unique: dict[tuple[Any, ...], Issue] = {}
    for i in kept:
        unique.setdefault((i.code, i.line, i.column, i.message), i)
    return sorted(unique.values(), key=lambda i: (i.line or 0, i.column or 0, i.code))


def severity_counts(issues: Iterable[Issue]) -> dict[str, int]:
    out = {s.value: 0 for s in Severity}
    for i in issues:
        if i.severity is not None:
            out[i.severity.value] += 1
    return out


__all__ = ["FileReport", "LintReport", "SUFFIXES", "collect", "lint_paths", "severity_counts"]
