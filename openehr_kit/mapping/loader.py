"""Reading a mapping file: YAML (composed with line marks) -> JSON Schema check -> typed :class:`Mapping`.

Every problem is reported with the line and column in the YAML file where it is written (MAP001 YAML syntax,
MAP002 schema), so a registry team can fix the file without reading code.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from openehr_kit.diagnostics import Issue, ParseError
from openehr_kit.mapping.model import TRANSFORMS, Condition, FieldMap, Mapping, Pos

SCHEMA_PATH = Path(__file__).resolve().parent / "mapping.schema.json"
MAX_BYTES = 2_000_000


@functools.lru_cache(maxsize=1)
def mapping_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def _validator() -> jsonschema.protocols.Validator:
    return jsonschema.Draft202012Validator(mapping_schema())


class _Marked:
    """A YAML document as plain data plus the position of every value, keyed by its path of keys/indexes."""

    def __init__(self) -> None:
        self.marks: dict[tuple[Any, ...], Pos] = {}
        self.duplicates: list[tuple[tuple[Any, ...], Pos]] = []
        self._ctor = yaml.SafeLoader("")

    def convert(self, node: yaml.Node, path: tuple[Any, ...] = ()) -> Any:
        self.marks[path] = Pos(node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = self._ctor.construct_object(key_node) if isinstance(key_node, yaml.ScalarNode) else None
                if isinstance(key, bool):  # `true:` in a boolean map means the string "true"
                    key = "true" if key else "false"
                key = str(key) if key is not None else "<complex key>"
                if key in out:
                    self.duplicates.append((path + (key,), Pos(key_node.start_mark.line + 1,
                                                              key_node.start_mark.column + 1)))
                    continue
                out[key] = self.convert(value_node, path + (key,))
                self.marks.setdefault(path + (key, "<key>"), Pos(key_node.start_mark.line + 1,
                                                                 key_node.start_mark.column + 1))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(v, path + (i,)) for i, v in enumerate(node.value)]
        return self._ctor.construct_object(node)

    def pos(self, path: tuple[Any, ...]) -> Pos:
        while path and path not in self.marks:
            path = path[:-1]
        return self.marks.get(path, Pos())


def load_mapping_text(text: str, *, source: str | None = None) -> tuple[Mapping | None, list[Issue]]:
    """Parse and schema-check a mapping; (None, issues) when it cannot be used."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        return None, [Issue("MAP001", f"not valid YAML: {exc.problem or exc}", file=source, line=line, column=col)]
    except yaml.YAMLError as exc:
        return None, [Issue("MAP001", f"not valid YAML: {exc}", file=source)]
    if node is None:
        return None, [Issue("MAP002", "the mapping file is empty", file=source, line=1, column=1)]
    marked = _Marked()
    try:
        data = marked.convert(node)
    except (yaml.YAMLError, ValueError, TypeError) as exc:
        return None, [Issue("MAP001", f"not valid YAML: {exc}", file=source)]
    issues: list[Issue] = []
    dup_fields: list[tuple[str, Pos]] = []
    for path, pos in marked.duplicates:
        if len(path) == 2 and path[0] == "fields":
            dup_fields.append((str(path[1]), pos))
        else:
            issues.append(Issue("MAP002", f"key {'/'.join(map(str, path))} is written twice", file=source,
                                line=pos.line, column=pos.column))
    errors = sorted(_validator().iter_errors(data), key=lambda e: (marked.pos(tuple(e.absolute_path)).line or 0))
    for err in errors:
        path = tuple(err.absolute_path)
        pos = marked.marks.get(path + ("<key>",)) or marked.pos(path)  # the key's line reads best
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            allowed = set(err.schema.get("properties", {}))
            extra = [k for k in err.instance if k not in allowed]
            if extra:  # point at the unknown key itself
                pos = marked.marks.get(path + (extra[0], "<key>"), pos)
        where = "/".join(str(p) for p in path) or "(top level)"
        issues.append(Issue("MAP002", f"{where}: {_explain(err)}", file=source, line=pos.line, column=pos.column))
    if issues:
        return None, issues
    mapping = _build(data, marked, source)
    mapping.duplicates = dup_fields
    return mapping, []


def _explain(err: jsonschema.ValidationError) -> str:
    """A shorter message for the schema's oneOf of transforms (jsonschema's own is a dump of the instance)."""
    if err.validator == "oneOf" and isinstance(err.instance, dict):
        keys = [k for k in TRANSFORMS if k in err.instance]
        if len(keys) == 0 and "source" in err.instance or not keys and set(err.instance) & {"source", "when"}:
            return f"a field needs exactly one transform ({', '.join(TRANSFORMS)})"
        if len(keys) > 1:
            return f"a field takes exactly one transform, found {', '.join(keys)}"
        if "source" in err.instance and "field" in err.instance:
            return "a condition names either a source or a field, not both"
        best = jsonschema.exceptions.best_match(err.context) if err.context else None
        if best is not None:
            return best.message
    if err.validator == "pattern":
        return f"{err.instance!r} is not well formed (expected a path like /content[openEHR-EHR-...]/data[at0001]/items[at0002])" \
            if "[" in str(err.validator_value) and "/" in str(err.validator_value) else f"{err.instance!r} does not match {err.validator_value}"
    if err.validator == "additionalProperties":
        return err.message.replace("Additional properties are not allowed", "unknown key(s)")
    return err.message


def _pos(marked: _Marked, path: tuple[Any, ...]) -> Pos:
    return marked.pos(path)


def _conditions(raw: Any, marked: _Marked, path: tuple[Any, ...]) -> tuple[Condition, ...]:
    items = raw if isinstance(raw, list) else [raw]
    out = []
    for i, c in enumerate(items):
        p = path + ((i,) if isinstance(raw, list) else ())
        codes = tuple(c.get("codes", ())) + ((c["code"],) if "code" in c else ())
        alts = _conditions(c["any"], marked, p + ("any",)) if "any" in c else ()
        out.append(Condition(source=c.get("source"), present=c.get("present"), codes=codes, value=c.get("value"),
                             field=c.get("field"), values=tuple(c.get("in", ())), any=alts, pos=_pos(marked, p)))
    return tuple(out)


def _field(target: str, raw: dict[str, Any], marked: _Marked, path: tuple[Any, ...]) -> FieldMap:
    transform = next(k for k in TRANSFORMS if k in raw)
    fm = FieldMap(
        target=target, transform=transform, options=raw[transform], source=raw.get("source"),
        ignore=tuple(raw.get("ignore", ())), default=raw.get("default"), pos=_pos(marked, path),
        note=raw.get("note", ""),
    )
    if "when" in raw:
        fm.when = _conditions(raw["when"], marked, path + ("when",))
    if transform == "derived":
        for i, arg in enumerate(raw["derived"]["args"]):
            if isinstance(arg, dict):
                fm.args.append(_field(f"{target}.args[{i}]", arg, marked, path + ("derived", "args", i)))
            else:
                fm.args.append(arg)
    return fm


def _build(data: dict[str, Any], marked: _Marked, source: str | None) -> Mapping:
    fields = [_field(name, raw, marked, ("fields", name)) for name, raw in data["fields"].items()]
    return Mapping(
        mapping_id=data["mapping"], template_id=data["template"]["id"], template_uid=data["template"].get("uid"),
        template_version=data["template"].get("version"), format_id=data["format"]["id"],
        format_version=data["format"]["version"], fields=fields, for_each=data.get("for_each"),
        paired=dict(data.get("paired", {})), description=data.get("description", ""), source_file=source,
        pos={k: _pos(marked, (k,)) for k in data},
    )


def load_mapping(path: str | Path) -> Mapping:
    """Read a mapping file; ParseError (MAP001/MAP002/TXT00x) with the first located problem."""
    mapping, issues = load_mapping_file(path)
    if mapping is None:
        first = issues[0]
        raise ParseError(first.code, first.message, file=first.file, line=first.line, column=first.column)
    return mapping


def load_mapping_file(path: str | Path) -> tuple[Mapping | None, list[Issue]]:
    """Read a mapping file, collecting every located problem."""
    p = Path(path)
    source = str(p)
    try:
        data = p.read_bytes()
    except OSError:
        return None, [Issue("TXT002", "cannot read the mapping file (missing, a directory, or no permission)",
                            file=source)]
    if len(data) > MAX_BYTES:
        return None, [Issue("TXT003", f"the mapping file is larger than {MAX_BYTES} bytes", file=source)]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [Issue("TXT001", f"not valid UTF-8 at byte {exc.start}", file=source)]
    return load_mapping_text(text, source=source)


__all__ = ["load_mapping", "load_mapping_file", "load_mapping_text", "mapping_schema"]
