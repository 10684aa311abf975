"""Registry mappings (template -> registry export format), their check, the engine and the export formats.

See docs/mapping-language.md. Modules: ``model``/``loader`` (the mapping language), ``check`` (``mapping check``),
``engine`` (``apply_mapping``), ``formats`` (export format definitions), ``exports`` (message rules and
serialisation), ``identity`` (fødselsnummer/D-number), ``pipeline`` (one composition end to end).
"""
