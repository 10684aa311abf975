"""One composition through validate -> map -> fill/check -> serialise -> write, with one outcome per composition.

This is the library form of ``openehr-kit export`` (and the step issue 8's delivery pipeline reuses). A
composition that is invalid against its template, or whose mapping fails, or whose message breaks the format's
rules, is reported with the reason and nothing is written for it.
"""

from __future__ import annotations

import csv
import datetime as _dt
import functools
from dataclasses import dataclass, field
from pathlib import Path

from openehr_kit.diagnostics import Issue, ParseError, Severity
from openehr_kit.fsutil import atomic_write_bytes
from openehr_kit.mapping.engine import apply_mapping
from openehr_kit.mapping.exports import ExportContext, Rendered, render
from openehr_kit.mapping.formats import ExportFormat, find_format
from openehr_kit.mapping.identity import mask
from openehr_kit.mapping.model import Mapping
from openehr_kit.opt.model import OperationalTemplate
from openehr_kit.rm.instance import RMObject


@dataclass(slots=True)
class Outcome:
    """What happened to one composition: the messages written (file names) or the issues that stopped it."""

    source: str
    written: list[str] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    rendered: list[Rendered] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(i.severity is Severity.ERROR for i in self.issues)


def composition_uid(comp: RMObject) -> str | None:
    uid = comp.attrs.get("uid")
    v = uid.attrs.get("value") if isinstance(uid, RMObject) else None
    return v if isinstance(v, str) else None


def export_composition(comp: RMObject, mapping: Mapping, template: OperationalTemplate, ctx: ExportContext, *,
                       fmt: ExportFormat | None = None, source: str = "", validate: bool = True,
                       today: _dt.date | None = None) -> Outcome:
    """Validate, map and render every message of one composition (nothing is written here)."""
    from openehr_kit.validation.validator import validate_composition

    out = Outcome(source)
    fmt = fmt or find_format(mapping.format_id, mapping.format_version)
    if fmt is None:
        out.issues.append(Issue("MAP012", f"export format {mapping.format_id} {mapping.format_version} is not known",
                                file=source))
        return out
    if validate:
        try:
            problems = [i for i in validate_composition(comp, template, file=source) if i.severity is Severity.ERROR]
        except Exception as exc:  # noqa: BLE001 - a validator bug must not stop the batch
            problems = [Issue("VAL018", f"internal error while validating ({type(exc).__name__})", file=source)]
        if problems:
            first = problems[0]
            more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
            out.issues.append(Issue("EXP005", f"not valid against {template.template_id}: {first.code} "
                                              f"{first.message}{more}", file=source,
                                    template_path=first.template_path))
            return out
    if ctx.composition_uid is None:
        ctx.composition_uid = composition_uid(comp)
    try:
        messages = apply_mapping(mapping, comp, template, fmt)
    except Exception as exc:  # noqa: BLE001 - report, never a traceback
        out.issues.append(Issue("MAP102", f"mapping failed ({type(exc).__name__}: {exc})", file=source))
        return out
    for msg in messages:
        if msg.issues:
            for i in msg.issues:
                i.file = source
            out.issues.extend(msg.issues)
            continue
        r = render(fmt, msg.values, ctx, entry_key=msg.entry_key, today=today, where=source)
        out.rendered.append(r)
        out.issues.extend(r.issues)
    return out


def write_outcome(out: Outcome, outdir: Path) -> None:
    """Write every rendered message atomically; only when the whole composition is clean (all or nothing)."""
    if not out.ok:
        return
    for r in out.rendered:
        if r.data is None:  # pragma: no cover - render gives data exactly when it has no issues
            continue
        target = outdir / r.file_name
        try:
            atomic_write_bytes(target, r.data)
        except OSError as exc:
            out.issues.append(Issue("EXP007", f"cannot write {target}: {exc.strerror or exc}", file=out.source))
            return
        out.written.append(str(target))


# ---------------------------------------------------------------------------------------------------------------
# patient identity for a batch


@dataclass(slots=True)
class IdentityRow:
    national_id: str
    patient_name: str | None = None


def read_national_id_map(path: str | Path) -> dict[str, IdentityRow]:
    """A CSV with a header: ``composition`` (file name, path or composition uid), ``national_id`` and optionally
    ``patient_name``. ParseError (EXP009) with the line for a malformed file; identifiers are never echoed."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ParseError("EXP009", f"cannot read the national id map ({exc.__class__.__name__})", file=str(p)) from None
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        raise ParseError("EXP009", "the national id map is empty", file=str(p), line=1)
    header = [h.strip().lower() for h in rows[0]]
    if "composition" not in header or "national_id" not in header:
        raise ParseError("EXP009", "the first line must name the columns composition,national_id[,patient_name]",
                         file=str(p), line=1)
    ci, ni = header.index("composition"), header.index("national_id")
    pi = header.index("patient_name") if "patient_name" in header else None
    out: dict[str, IdentityRow] = {}
    for n, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) <= max(ci, ni, pi or 0):
            raise ParseError("EXP009", f"line {n} has {len(row)} columns, {len(header)} expected", file=str(p), line=n)
        key = row[ci].strip()
        if key in out:
            raise ParseError("EXP009", f"composition {key!r} is listed twice", file=str(p), line=n)
        out[key] = IdentityRow(row[ni].strip(), row[pi].strip() if pi is not None and row[pi].strip() else None)
    return out


def identity_for(ids: dict[str, IdentityRow], path: Path, comp: RMObject | None) -> IdentityRow | None:
    plain = path.name.replace(".flat.json", ".json")  # a FLAT file shares its canonical twin's row
    for key in (str(path), path.name, plain, path.stem, composition_uid(comp) if comp is not None else None):
        if key and key in ids:
            return ids[key]
    uid = composition_uid(comp) if comp is not None else None
    if uid and uid.split("::")[0] in ids:
        return ids[uid.split("::")[0]]
    return None


@functools.lru_cache(maxsize=32)
def bundled_template(template_id: str) -> OperationalTemplate | None:
    """The project's template with this id from ``templates/`` (file named after the id's middle part first)."""
    from openehr_kit.content import content_dir
    from openehr_kit.opt.loader import load_opt

    folder = content_dir("templates")
    parts = template_id.split(".")
    guess = folder / f"{parts[1]}.opt" if len(parts) >= 2 else None
    candidates = ([guess] if guess and guess.is_file() else []) + sorted(folder.glob("*.opt"))
    for p in candidates:
        try:
            t = load_opt(p)
        except ParseError:
            continue
        if t.template_id == template_id:
            return t
    return None


__all__ = ["IdentityRow", "Outcome", "bundled_template", "composition_uid", "export_composition", "identity_for",
           "mask", "read_national_id_map", "write_outcome"]
