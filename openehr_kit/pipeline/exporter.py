"""The one boundary between delivery and the registry formats: an :class:`Exporter`.

Delivery needs two things from the mapping/format layer, in two steps, because whether a message is new, a
correction or an annulment depends on the ledger, which the exporter does not see:

1. ``map(composition, template)`` -> the registry messages the composition gives (:class:`Mapped`: registry,
   a stable message key and id, and a hash of the registry content), or :class:`ExportFailed`;
2. ``render(mapped, context)`` -> the serialised, format-checked bytes for one message kind and version
   (:class:`ExportedMessage`), or :class:`ExportFailed`. An annulment renders a ``Mapped`` with ``values=None``.

:class:`MappingExporter` implements it over :mod:`openehr_kit.mapping` (the project's mappings and formats).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from openehr_kit.diagnostics import Issue, ParseError, Severity
from openehr_kit.opt.model import OperationalTemplate
from openehr_kit.rm.instance import RMObject


class ExportFailed(Exception):
    """Mapping or rendering failed for a composition; ``issue`` says why (quarantine reason)."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(str(issue))
        self.issue = issue


@dataclass(slots=True)
class Mapped:
    """One registry message a composition gives, before it is rendered for a kind and version."""

    registry: str
    message_key: str  # stable across composition versions: format key + repeating entry key
    message_id: str  # stable across composition versions
    values_hash: str  # hash of the registry content, to tell a real correction from an unchanged message
    supports_annulment: bool
    values: dict[str, Any] | None = None  # None: an annulment (no content)
    state: Any = None  # exporter-private (format, entry key...)


@dataclass(slots=True)
class DeliveryContext:
    """What rendering needs besides the mapped values (never logged: it holds the national id)."""

    national_id: str
    patient_name: str | None
    kind: str  # N, M or C
    message_version: int
    composition_uid: str
    created: _dt.datetime = field(default_factory=lambda: _dt.datetime.now(_dt.timezone.utc))

    def __repr__(self) -> str:
        return f"DeliveryContext(national_id=<masked>, kind={self.kind!r}, version={self.message_version})"


@dataclass(slots=True)
class ExportedMessage:
    registry: str
    message_key: str
    message_id: str
    kind: str
    message_version: int
    payload: bytes
    content_type: str
    file_name: str  # fixed by message id and version: the same message always lands under the same name


class Exporter(Protocol):
    def registries(self) -> dict[str, list[str]]:
        """template id -> the registries its mappings deliver to."""
        ...

    def map(self, composition: RMObject, template: OperationalTemplate) -> list[Mapped]:
        ...

    def annulment(self, registry: str, message_key: str, message_id: str) -> Mapped | None:
        """A content-less Mapped for annulling a message delivered earlier (None: the format cannot annul)."""
        ...

    def render(self, mapped: Mapped, ctx: DeliveryContext) -> ExportedMessage:
        ...


#: json.dumps(values, sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":")) without making an
#: encoder per call (the hashes are stored in ledgers: the text must never change)
_HASH_TEXT = json.JSONEncoder(sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":")).encode


def values_hash(values: dict[str, Any]) -> str:
    return hashlib.sha256(_HASH_TEXT(values).encode("utf-8")).hexdigest()


class MappingExporter:
    """The exporter over the project's mapping engine and registry formats (issue 7)."""

    def __init__(self, mapping_paths: list[Path], templates: dict[str, OperationalTemplate]) -> None:
        """Load and check every mapping; ExportFailed (DFG004) when one cannot be used."""
        from openehr_kit.content import content_dir
        from openehr_kit.mapping.check import check_mapping
        from openehr_kit.mapping.engine import apply_mapping
        from openehr_kit.mapping.exports import ExportContext, new_message_id, render
        from openehr_kit.mapping.formats import find_format
        from openehr_kit.mapping.loader import load_mapping_file

        # the mapping layer's functions, imported once here rather than on every map() and render()
        self._apply_mapping = apply_mapping
        self._new_message_id = new_message_id
        self._render = render
        self._export_context = ExportContext

        files: list[Path] = []
        for p in mapping_paths or [content_dir("mappings")]:
            files.extend(sorted(p.glob("*.yaml")) + sorted(p.glob("*.yml")) if p.is_dir() else [p])
        self.by_template: dict[str, list[tuple[Any, Any]]] = {}
        self.formats: dict[str, Any] = {}
        for f in files:
            m, issues = load_mapping_file(f)
            if m is None:
                first = issues[0] if issues else None
                raise ExportFailed(Issue("DFG004", f"mapping {f} cannot be loaded: {first}", file=str(f)))
            template = templates.get(m.template_id)
            if template is None:
                continue  # a mapping for a template this configuration does not read: unused
            fmt = find_format(m.format_id, m.format_version)
            if fmt is None:
                raise ExportFailed(Issue("DFG004", f"mapping {f}: export format {m.format_id} {m.format_version} "
                                                   "is not known", file=str(f)))
            errors = [i for i in check_mapping(m, template) if i.severity is Severity.ERROR]
            if errors:
                raise ExportFailed(Issue("DFG004", f"mapping {f} does not pass its check ({len(errors)} errors; "
                                                   f"run 'openehr-kit mapping check'): {errors[0]}", file=str(f)))
            self.by_template.setdefault(m.template_id, []).append((m, fmt))
            self.formats[fmt.key] = fmt
        #: by_template with what map() asks of each format worked out once: (mapping, format, key, registry,
        #: whether it can annul)
        self._maps = {t: [(m, fmt, fmt.key, fmt.registry, fmt.supports_annulment) for m, fmt in ms]
                      for t, ms in self.by_template.items()}

    def registries(self) -> dict[str, list[str]]:
        return {t: sorted({fmt.registry for _, fmt in ms}) for t, ms in self.by_template.items()}

    def map(self, composition: RMObject, template: OperationalTemplate) -> list[Mapped]:
        apply_mapping, new_message_id = self._apply_mapping, self._new_message_id
        uid = _uid(composition)
        out: list[Mapped] = []
        for m, fmt, fmt_key, registry, annuls in self._maps.get(template.template_id, ()):
            try:
                messages = apply_mapping(m, composition, template, fmt)
            except Exception as exc:  # noqa: BLE001 - a mapping bug quarantines, never a traceback
                raise ExportFailed(Issue("DFG105", f"{m.mapping_id}: mapping failed ({type(exc).__name__})")) \
                    from None
            for msg in messages:
                if msg.issues:
                    first = msg.issues[0]
                    raise ExportFailed(Issue("DFG105", f"{m.mapping_id}: {first.code} {first.message}",
                                             instance_path=first.instance_path))
                entry = msg.entry_key
                # msg.values is this message's own dict (apply_mapping makes a new one per message and keeps
                # none): the Mapped takes it over instead of a copy
                out.append(Mapped(registry, f"{fmt_key}#{entry}", new_message_id(uid, fmt_key, entry),
                                  values_hash(msg.values), annuls, msg.values, (fmt, entry)))
        return out

    def annulment(self, registry: str, message_key: str, message_id: str) -> Mapped | None:
        fmt_key, _, entry = message_key.partition("#")
        fmt = self.formats.get(fmt_key)
        if fmt is None or not fmt.supports_annulment:
            return None
        return Mapped(registry, message_key, message_id, "", True, None, (fmt, entry))

    def render(self, mapped: Mapped, ctx: DeliveryContext) -> ExportedMessage:
        render = self._render
        fmt, entry = mapped.state
        ectx = self._export_context(national_id=ctx.national_id, patient_name=ctx.patient_name, message_kind=ctx.kind,
                             message_version=ctx.message_version, message_id=mapped.message_id,
                             created=ctx.created, composition_uid=ctx.composition_uid)
        try:
            r = render(fmt, mapped.values or {}, ectx, entry_key=entry)
        except Exception as exc:  # noqa: BLE001
            raise ExportFailed(Issue("DFG105", f"{fmt.key}: rendering failed ({type(exc).__name__})")) from None
        if r.issues or r.data is None:
            first = r.issues[0] if r.issues else Issue("DFG105", "no message produced")
            raise ExportFailed(Issue("DFG105", f"{fmt.key}: {first.code} {first.message}",
                                     instance_path=first.instance_path))
        ctype = "application/xml" if fmt.serialisation == "kremt-xml" else "application/json"
        return ExportedMessage(mapped.registry, mapped.message_key, mapped.message_id, ctx.kind,
                               ctx.message_version, r.data, ctype, r.file_name)


def _uid(comp: RMObject) -> str | None:
    uid = comp.attrs.get("uid")
    v = uid.attrs.get("value") if isinstance(uid, RMObject) else None
    return v if isinstance(v, str) else None


def load_templates(paths: list[Path]) -> dict[str, OperationalTemplate]:
    """template id -> template, from .opt files and folders (default: the bundled templates)."""
    from openehr_kit.content import content_dir
    from openehr_kit.opt.loader import load_opt

    files: list[Path] = []
    for p in paths or [content_dir("templates")]:
        files.extend(sorted(p.glob("*.opt")) if p.is_dir() else [p])
    out: dict[str, OperationalTemplate] = {}
    for f in files:
        try:
            t = load_opt(f)
        except ParseError as exc:
            raise ExportFailed(Issue("DFG003", f"template {f} cannot be loaded: {exc.to_issue()}", file=str(f))) \
                from None
        out.setdefault(t.template_id, t)
    return out


__all__ = ["DeliveryContext", "ExportFailed", "ExportedMessage", "Exporter", "Mapped", "MappingExporter",
           "load_templates", "values_hash"]
