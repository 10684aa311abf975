"""Shared plumbing of the check-style commands: finding files, per-file results, output and exit codes.

Exit codes (documented in the README): 0 all good, 1 some input invalid, 2 usage error or unreadable input.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from openehr_kit.diagnostics import Issue, ParseError, Severity

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2

#: codes that mean "could not read the input at all" rather than "read it and it is wrong"
UNREADABLE_CODES = frozenset({"TXT002", "TXT003"})


@dataclass
class FileResult:
    path: str
    issues: list[Issue] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(i.severity is Severity.ERROR for i in self.issues)

    @property
    def unreadable(self) -> bool:
        return any(i.code in UNREADABLE_CODES for i in self.issues)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"path": self.path, "ok": self.ok}
        data.update(self.extra)
        data["issues"] = [i.to_dict() for i in self.issues]
        return data


def collect_files(paths: Sequence[str], suffixes: Iterable[str]) -> tuple[list[Path], list[FileResult]]:
    """Files named directly, plus files with a matching suffix below directories (sorted, recursive).

    A path that does not exist becomes an unreadable-input result rather than stopping the batch.
    """
    wanted = tuple(s.lower() for s in suffixes)
    files: list[Path] = []
    missing: list[FileResult] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.name.lower().endswith(wanted)))
        elif p.exists():
            files.append(p)
        else:
            missing.append(FileResult(str(p), [Issue("TXT002", "no such file or directory", file=str(p))]))
    return files, missing


def run_checks(files: Sequence[Path], check: Callable[[Path], FileResult]) -> list[FileResult]:
    """Run ``check`` on every file; a ParseError or an unexpected failure becomes that file's result."""
    results = []
    for f in files:
        try:
            results.append(check(f))
        except ParseError as exc:
            issue = exc.to_issue()
            issue.file = issue.file or str(f)
            results.append(FileResult(str(f), [issue]))
    return results


def exit_code(results: Sequence[FileResult]) -> int:
    if any(r.unreadable for r in results):
        return EXIT_USAGE
    if any(not r.ok for r in results):
        return EXIT_INVALID
    return EXIT_OK


def emit_results(results: Sequence[FileResult], fmt: str, *, noun: str = "file", show_warnings: bool = True) -> None:
    if fmt == "json":
        click.echo(json.dumps([r.to_dict() for r in results], ensure_ascii=False, indent=2))
        return
    failing = 0
    for r in results:
        shown = [i for i in r.issues if show_warnings or i.severity is Severity.ERROR]
        if r.ok and not shown:
            continue
        if not r.ok:
            failing += 1
        errors = [i for i in shown if i.severity is Severity.ERROR]
        head = errors[0] if errors else shown[0]
        status = "FAIL" if not r.ok else "warn"
        more = f" (+{len(shown) - 1} more)" if len(shown) > 1 else ""
        click.echo(f"{status} {_where(r.path, head)}: {head.code} {head.message}{more}")
    total = len(results)
    click.echo(f"{total - failing} of {total} {noun}s ok, {failing} failing")


def _where(path: str, issue: Issue) -> str:
    loc = path
    if issue.line is not None:
        loc += f":{issue.line}"
        if issue.column is not None:
            loc += f":{issue.column}"
    return loc


def check_batch(
    paths: Sequence[str],
    suffixes: Sequence[str],
    check: Callable[[Path], FileResult],
    fmt: str,
    *,
    noun: str,
    errors_only: bool = False,
) -> None:
    """The whole of a check command: find files, check each (the batch goes on), report, exit with the code."""
    files, missing = collect_files(paths, suffixes)
    results = missing + run_checks(files, check)
    if not results:
        click.echo(f"error: no {' or '.join(suffixes)} files found", err=True)
        sys.exit(EXIT_USAGE)
    emit_results(results, fmt, noun=noun, show_warnings=not errors_only)
    sys.exit(exit_code(results))


def load_or_exit(load: Callable[[str], Any], file: str) -> Any:
    """``load(file)``, or the located message on stderr and exit 2 (unreadable) or 1 (invalid)."""
    try:
        return load(file)
    except ParseError as exc:
        click.echo(str(exc.to_issue()), err=True)
        sys.exit(EXIT_USAGE if exc.code in UNREADABLE_CODES else EXIT_INVALID)


def fail_usage(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_USAGE)
