"""Lint for template repositories: archetypes, template sources, OPTs and registry mappings (``openehr-kit lint``),
and the template diff with mapping impact (``openehr-kit diff``)."""

from openehr_kit.lint.config import LintConfig, load_config
from openehr_kit.lint.engine import LintReport, lint_paths
from openehr_kit.lint.rules import RULES, Rule

__all__ = ["LintConfig", "LintReport", "RULES", "Rule", "lint_paths", "load_config"]
