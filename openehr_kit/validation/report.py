"""Collecting validation issues: where each one is (template path, instance path) and what it says.

Every validator writes into a ``Reporter`` through ``Where``, the location of the value being checked, so that
issues carry both the template path (AQL form) of the violated constraint and the instance location (JSON
pointer for JSON, XPath-like for XML), and messages can name the node by its term text.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from openehr_kit.am.model import Terminology
from openehr_kit.diagnostics import Issue, Severity


@dataclass(frozen=True, slots=True)
class Where:
    """The location of the value under check."""

    template_path: str
    instance_path: str
    #: the clinical name of the node (term text of the ELEMENT or its name/value), for messages
    label: str | None = None
    #: the terminology of the archetype root in force (local at-codes resolve here)
    terminology: Terminology | None = None
    #: the composition's language (term texts are compared in it)
    language: str = "en"
    line: int | None = None

    def at(self, attribute: str, instance_step: str | None = None, constraint: bool = True) -> Where:
        """One RM attribute deeper: ``/value`` + ``/magnitude``; instance paths follow the instance's own form."""
        tp = self.template_path.rstrip("/") + "/" + attribute if constraint else self.template_path
        step = attribute if instance_step is None else instance_step
        ip = self.instance_path.rstrip("/") + "/" + step if step else self.instance_path
        return replace(self, template_path=tp, instance_path=ip)

    def named(self, label: str | None) -> Where:
        return replace(self, label=label) if label else self


@dataclass(slots=True)
class Reporter:
    """Collects every issue (validation never stops at the first)."""

    file: str | None = None
    issues: list[Issue] = field(default_factory=list)

    def add(
        self,
        code: str,
        message: str,
        where: Where,
        *,
        expected: object = None,
        found: object = None,
        severity: Severity | None = None,
    ) -> None:
        label = f"{where.label}: " if where.label and not message.startswith(where.label) else ""
        self.issues.append(
            Issue(
                code,
                label + message,
                severity=severity,
                file=self.file,
                line=where.line,
                template_path=where.template_path,
                instance_path=where.instance_path,
                expected=None if expected is None else str(expected),
                found=None if found is None else str(found),
            )
        )

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity is Severity.ERROR]
