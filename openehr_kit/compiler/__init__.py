"""The template compiler: Ocean template sources (``.oet``) and ADL 1.4 archetypes -> OPT 1.4 operational templates.

``compile_template(oet, [archetype dirs])`` gives an ``OperationalTemplate``; ``compile_to_opt`` its XML.
"""

from openehr_kit.compiler.compile import (
    CompileError,
    CompileResult,
    compile_template,
    compile_to_opt,
    compile_with_issues,
)
from openehr_kit.compiler.opt_writer import write_opt

__all__ = ["CompileError", "CompileResult", "compile_template", "compile_to_opt", "compile_with_issues", "write_opt"]
