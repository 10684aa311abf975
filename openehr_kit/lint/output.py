"""Lint reports as text (grouped by file), JSON, SARIF 2.1.0 and GitHub workflow annotations."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from openehr_kit import __version__
from openehr_kit.diagnostics import REGISTRY, Issue, Severity
from openehr_kit.lint.engine import LintReport, severity_counts
from openehr_kit.lint.rules import RULES_BY_CODE, help_text

FORMATS = ("text", "json", "sarif", "github")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_GITHUB_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _where(i: Issue) -> str:
    loc = i.file or ""
    if i.line is not None:
        loc += f":{i.line}"
        if i.column is not None:
            loc += f":{i.column}"
    return loc


def render_text(report: LintReport) -> str:
    """``file:line:col CODE [severity] message`` lines, grouped by file, then a summary line."""
    out: list[str] = []
    for f in report.files:
        if not f.issues:
            continue
        out.append(f"{f.path} ({f.kind})")
        for i in f.issues:
            sev = i.severity.value if i.severity else "error"
            path = f" [{i.template_path}]" if i.template_path and i.template_path not in i.message else ""
            out.append(f"  {_where(i)} {i.code} [{sev}] {i.message}{path}")
        out.append("")
    for m in report.missing:
        out.append(f"{m}: no such file or directory")
    counts = severity_counts(report.findings)
    n_files = len(report.files)
    with_findings = sum(1 for f in report.files if f.issues)
    out.append(f"{len(report.findings)} finding(s) ({counts['error']} error, {counts['warning']} warning, "
               f"{counts['info']} info) in {with_findings} of {n_files} file(s); {report.seconds:.2f} s")
    return "\n".join(out)


def render_json(report: LintReport) -> str:
    data = {
        "tool": "openehr-kit", "version": __version__,
        "files_checked": len(report.files),
        "seconds": round(report.seconds, 3),
        "summary": {"by_severity": severity_counts(report.findings), "by_code": report.counts()},
        "missing": report.missing,
        "findings": [i.to_dict() for i in report.findings],
    }
    return json.dumps(data, ensure_ascii=False, indent=2)


def _uri(path: str, base: Path | None) -> str:
    """A relative URI (forward slashes, percent-encoded) for a file; absolute ``file://`` outside ``base``."""
    p = Path(path)
    if base is not None:
        try:
            rel = p.resolve().relative_to(base.resolve())
            return quote(rel.as_posix())
        except ValueError:
            pass
    if not p.is_absolute():
        return quote(Path(os.path.normpath(path)).as_posix())
    return p.resolve().as_uri()


def render_sarif(report: LintReport, *, base: Path | None = None) -> str:
    """A SARIF 2.1.0 log with one run: the rules that fired (and every lint rule), results with locations."""
    base = base if base is not None else Path.cwd()
    codes = sorted(set(RULES_BY_CODE) | {i.code for i in report.findings})
    index = {c: n for n, c in enumerate(codes)}
    rules = []
    for c in codes:
        info = REGISTRY[c]
        rule = RULES_BY_CODE.get(c)
        entry: dict[str, Any] = {
            "id": c,
            "shortDescription": {"text": info.summary},
            "fullDescription": {"text": help_text(c) or info.summary},
            "help": {"text": help_text(c) or info.summary,
                     "markdown": f"**{c}** {info.summary}\n\n{help_text(c)}" +
                                 (f"\n\nExample:\n\n```\n{rule.example}\n```" if rule else "")},
            "defaultConfiguration": {"level": _SARIF_LEVEL[info.severity]},
            "properties": {"tags": [c[:3]]},
        }
        if rule is not None:
            entry["name"] = "".join(w.capitalize() for w in rule.name.split("-"))
        rules.append(entry)
    results = []
    for i in report.findings:
        sev = i.severity or REGISTRY[i.code].severity
        loc: dict[str, Any] = {}
        if i.file:
            phys: dict[str, Any] = {"artifactLocation": {"uri": _uri(i.file, base)}}
            if i.line is not None and i.line >= 1:
                region: dict[str, Any] = {"startLine": i.line}
                if i.column is not None and i.column >= 1:
                    region["startColumn"] = i.column
                phys["region"] = region
            loc["physicalLocation"] = phys
        if i.template_path:
            loc["logicalLocations"] = [{"fullyQualifiedName": i.template_path, "kind": "element"}]
        result: dict[str, Any] = {
            "ruleId": i.code,
            "ruleIndex": index[i.code],
            "level": _SARIF_LEVEL[sev],
            "message": {"text": i.message},
        }
        if loc:
            result["locations"] = [loc]
        results.append(result)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "openehr-kit", "version": __version__, "rules": rules}},
            "results": results,
            "columnKind": "unicodeCodePoints",
        }],
    }
    return json.dumps(log, ensure_ascii=False, indent=2)


def _gh_escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_escape_prop(s: str) -> str:
    return _gh_escape_data(s).replace(":", "%3A").replace(",", "%2C")


def render_github(report: LintReport) -> str:
    """``::error file=F,line=L,col=C,title=CODE::message`` workflow commands, one per finding."""
    out = []
    for i in report.findings:
        sev = i.severity or REGISTRY[i.code].severity
        props = []
        if i.file:
            props.append(f"file={_gh_escape_prop(i.file)}")
        if i.line is not None:
            props.append(f"line={i.line}")
            if i.column is not None:
                props.append(f"col={i.column}")
        props.append(f"title={_gh_escape_prop(i.code)}")
        msg = i.message + (f" [{i.template_path}]" if i.template_path and i.template_path not in i.message else "")
        out.append(f"::{_GITHUB_LEVEL[sev]} {','.join(props)}::{_gh_escape_data(msg)}")
    for m in report.missing:
        out.append(f"::error title=TXT002::{_gh_escape_data(m + ': no such file or directory')}")
    return "\n".join(out)


def render(report: LintReport, fmt: str) -> str:
    if fmt == "json":
        return render_json(report)
    if fmt == "sarif":
        return render_sarif(report)
    if fmt == "github":
        return render_github(report)
    return render_text(report)


__all__ = ["FORMATS", "render", "render_github", "render_json", "render_sarif", "render_text"]
