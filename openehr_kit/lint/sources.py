"""Lint rules on template sources (``.oet``) and registry mappings (``.yaml``): they run the compiler and the
mapping check, and add the staleness of compiled OPTs."""

from __future__ import annotations

from pathlib import Path

from openehr_kit.diagnostics import Issue, ParseError, Severity
from openehr_kit.lint.checks import LintSet
from openehr_kit.opt.model import OperationalTemplate


def archetype_sources(oet: Path, lset: LintSet) -> list[Path]:
    """Where an ``.oet`` finds its archetypes: the configured directories, else an ``archetypes`` folder beside
    the template or above it (the project layout), else the archetypes linted in this run."""
    if lset.config.archetype_dirs:
        return list(lset.config.archetype_dirs)
    for d in list(oet.resolve().parents)[:4]:
        candidate = d / "archetypes"
        if candidate.is_dir():
            return [candidate]
    return list(lset.adl_files)


def _repository(dirs: list[Path], lset: LintSet):  # type: ignore[no-untyped-def]
    from openehr_kit.compiler.flatten import ArchetypeRepository

    key = ("repo", tuple(dirs))
    repo = lset.cache.get(key)
    if repo is None:
        repo = ArchetypeRepository.of(dirs)
        lset.cache[key] = repo
    return repo


def check_oet(path: Path, lset: LintSet) -> list[Issue]:
    """Compile the source (TPL issues) and compare it with the compiled OPT beside it (LNT180)."""
    from openehr_kit.compiler import compile_with_issues, write_opt

    repo = _repository(archetype_sources(path, lset), lset)
    result = compile_with_issues(path, repo)
    issues = list(result.issues)
    for i in issues:
        i.file = i.file or str(path)
    opt_path = path.with_suffix(".opt")
    if result.template is None or result.errors or not opt_path.is_file():
        return issues
    result.template.source = str(path)
    compiled = write_opt(result.template)
    try:
        existing = opt_path.read_bytes()
    except OSError:
        return issues
    if compiled == existing:
        return issues
    # the bytes differ: a stale OPT, or only another tool's serialisation; the template diff tells them apart
    from openehr_kit.lint.diff import diff_templates
    from openehr_kit.opt.loader import parse_opt

    try:
        checked_in = parse_opt(existing, source=str(opt_path))
    except ParseError:
        return issues  # the OPT's own lint reports why it cannot be read
    changes = diff_templates(checked_in, result.template)
    if changes:
        shown = "; ".join(str(c) for c in changes[:3])
        more = f" (+{len(changes) - 3} more)" if len(changes) > 3 else ""
        issues.append(Issue("LNT180", f"{opt_path.name} differs from a fresh compile of {path.name}: {shown}{more}; "
                                      f"recompile with openehr-kit template compile {path.name} -o {opt_path.name}",
                            file=str(path), line=1, column=1))
    return issues


def find_template(template_id: str, mapping_path: Path, lset: LintSet) -> OperationalTemplate | None:
    """The mapping's template: in the linted set, in the configured template folders, in a ``templates`` folder
    near the mapping, or among the project's bundled templates."""
    if template_id in lset.templates:
        return lset.templates[template_id]
    dirs = list(lset.config.template_dirs)
    for d in list(mapping_path.resolve().parents)[:3]:
        dirs += [d / "templates", d]
    for d in dirs:
        for t in _opts_in(d, lset):
            if t.template_id == template_id:
                return t
    try:
        from openehr_kit.mapping.pipeline import bundled_template
    except ImportError:
        return None
    return bundled_template(template_id)


def _opts_in(folder: Path, lset: LintSet) -> list[OperationalTemplate]:
    key = ("opts", folder)
    cached = lset.cache.get(key)
    if cached is None:
        from openehr_kit.opt.loader import load_opt

        cached = []
        if folder.is_dir():
            for p in sorted(folder.glob("*.opt")):
                try:
                    cached.append(load_opt(p))
                except (ParseError, OSError):
                    continue
        lset.cache[key] = cached
    return cached  # type: ignore[return-value]


def check_mapping_file(path: Path, text: str, lset: LintSet) -> list[Issue]:
    """The mapping check (MAP issues) against the mapping's template and the export format it names."""
    try:
        from openehr_kit.mapping.check import check_mapping
        from openehr_kit.mapping.loader import load_mapping_text
    except ImportError:  # the mapping layer is optional for lint
        return []
    mapping, issues = load_mapping_text(text, source=str(path))
    if mapping is None:
        return issues
    template = find_template(mapping.template_id, path, lset)
    if template is None:
        pos = mapping.pos.get("template")
        return issues + [Issue("EXP010", f"no template {mapping.template_id} in the linted set, beside the mapping "
                                         "or in the project, so the mapping is not checked against it",
                               severity=Severity.WARNING, file=str(path), line=pos.line if pos else None,
                               column=pos.column if pos else None)]
    return issues + check_mapping(mapping, template)


__all__ = ["archetype_sources", "check_mapping_file", "check_oet", "find_template"]
