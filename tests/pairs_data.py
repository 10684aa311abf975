"""Reading ``shared/corpus/pairs.tsv`` (composition, template, expected verdict) and validating its rows.

Shared by ``tests/test_validate_pairs.py`` (which pins the verdict of every row) and ``bench/report_pairs.py``
(which prints the agreement report).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from openehr_kit.diagnostics import ParseError, Severity
from openehr_kit.opt.loader import load_opt
from openehr_kit.opt.model import OperationalTemplate
from openehr_kit.validation.validator import ValidationResult, validate_file

PAIRS = "corpus/pairs.tsv"
COMPOSITIONS_PREFIX = "shared/corpus/compositions/"
CANONICAL = frozenset({"canonical_json", "canonical_xml"})


@dataclass(frozen=True)
class PairRow:
    key: str  # composition path below corpus/compositions/ (unique per row)
    composition: Path
    fmt: str
    claimed_template_id: str
    opts: tuple[Path, ...]  # present OPTs, preferred first
    expected: str  # valid / invalid / unknown
    basis: str


@dataclass
class RowOutcome:
    row: PairRow
    #: checked / flat (a later issue) / no-opt (no OPT present or none loads)
    status: str
    result: ValidationResult | None = None
    template: Path | None = None
    error_codes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def accepted(self) -> bool:
        return self.status == "checked" and not self.error_codes


def _resolve(shared: Path, entry: str) -> Path | None:
    entry = entry.strip()
    if not entry.startswith("shared/"):
        return None  # NONE, DROPPED-FOR-SIZE:...
    p = shared / entry[len("shared/"):]
    return p if p.exists() else None


def pair_rows(shared: Path) -> list[PairRow]:
    rows = []
    with open(shared / PAIRS, encoding="utf-8", newline="") as fh:
        for rec in csv.DictReader(fh, delimiter="\t"):
            comp = rec["composition_path"]
            opt_col = next(k for k in rec if k.startswith("matching_opt"))
            opts = tuple(p for p in (_resolve(shared, e) for e in rec[opt_col].split(";")) if p is not None)
            rows.append(PairRow(
                key=comp[len(COMPOSITIONS_PREFIX):] if comp.startswith(COMPOSITIONS_PREFIX) else comp,
                composition=shared / comp[len("shared/"):],
                fmt=rec["format"],
                claimed_template_id=rec["claimed_template_id"],
                opts=opts,
                expected=rec["expected"],
                basis=rec.get("expected_basis") or "",
            ))
    return rows


class TemplateCache:
    """OPTs loaded once per run; one that does not load is remembered as None."""

    def __init__(self) -> None:
        self._cache: dict[Path, OperationalTemplate | None] = {}

    def get(self, path: Path) -> OperationalTemplate | None:
        if path not in self._cache:
            try:
                self._cache[path] = load_opt(path)
            except ParseError:
                self._cache[path] = None
        return self._cache[path]


def evaluate(row: PairRow, templates: TemplateCache) -> RowOutcome:
    """Validate one row against its preferred OPT that loads (FLAT/STRUCTURED rows are deferred)."""
    if row.fmt not in CANONICAL:
        return RowOutcome(row, "flat")
    for opt in row.opts:
        tmpl = templates.get(opt)
        if tmpl is None:
            continue
        result = validate_file(row.composition, tmpl)
        codes = tuple(sorted({i.code for i in result.issues if i.severity is Severity.ERROR}))
        return RowOutcome(row, "checked", result, opt, codes)
    return RowOutcome(row, "no-opt")


def evaluate_all(shared: Path) -> Iterator[RowOutcome]:
    templates = TemplateCache()
    for row in pair_rows(shared):
        yield evaluate(row, templates)
