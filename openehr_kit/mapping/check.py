"""``check_mapping``: everything about a mapping that can be known before any composition is seen.

Against the template: every source path exists, its data type fits the transform, every code a mapped coded node
allows is mapped or explicitly ignored, units convert. Against the export format: every target exists and may be
mapped, produced values are in the field's code list and of the field's type, every required field is mapped,
no target is mapped twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from openehr_kit.am.model import CCodePhrase, CComplexObject, CDvOrdinal, CDvQuantity, CDvScale, CObject
from openehr_kit.diagnostics import Issue
from openehr_kit.mapping.engine import can_convert, parse_steps
from openehr_kit.mapping.formats import ExportFormat, FieldDef, find_format
from openehr_kit.mapping.model import Condition, FieldMap, Mapping, Pos
from openehr_kit.opt.model import OperationalTemplate
from openehr_kit.rm import schema as rm_schema

CODED = {"DV_CODED_TEXT", "DV_ORDINAL", "DV_SCALE", "CODE_PHRASE"}
NUMERIC = {"DV_QUANTITY", "DV_COUNT", "DV_PROPORTION", "DV_ORDINAL", "DV_SCALE"}
TEXTUAL = {"DV_TEXT", "DV_CODED_TEXT", "DV_IDENTIFIER", "DV_DATE", "DV_DATE_TIME", "DV_TIME", "DV_DURATION",
           "DV_BOOLEAN", "DV_COUNT", "DV_QUANTITY", "DV_URI", "DV_EHR_URI", "DV_PARSABLE"}
NULL_FLAVOURS = ("253", "271", "272", "273")

#: which data value types each transform accepts
ACCEPTS: dict[str, set[str]] = {
    "codes": CODED, "has_code": CODED, "copy_code": CODED, "boolean": {"DV_BOOLEAN"}, "text": TEXTUAL,
    "decimal": NUMERIC, "integer": NUMERIC, "date": {"DV_DATE", "DV_DATE_TIME"}, "datetime": {"DV_DATE_TIME"},
}


@dataclass(slots=True)
class Resolved:
    """What a source path reaches in the template: data value types, their constraints, whether it repeats."""

    path: str
    types: list[str]
    constraints: list[CObject | None]
    repeats: bool = False
    is_element: bool = False
    null_flavour: bool = False
    codes: list[str] | None = None  # every code the template allows, when it is an enumerable list
    units: list[str] = field(default_factory=list)


def _upper_many(node: CObject) -> bool:
    occ = node.occurrences
    return occ is not None and (occ.upper is None or occ.upper > 1)


def _rm_path_types(owner: str, steps: list[tuple[str, str | None, str | None]]) -> list[str] | None:
    t = owner
    for attr, key, _ in steps:
        if key is not None:
            return None
        a = rm_schema.attribute(t, attr)
        if a is None:
            return None
        t = a.type_name
    return [t]


def resolve(template: OperationalTemplate, path: str, base_multi: str | None = None) -> Resolved | None:
    """The data value(s) an absolute template path reaches, or None if the template has no such node."""
    steps = list(parse_steps(path))
    null_flavour = bool(steps) and steps[-1][0] == "null_flavour"
    if null_flavour:
        steps = steps[:-1]
    # the deepest prefix the template knows; the rest must be plain RM attributes (e.g. /time, /context/start_time)
    for cut in range(len(steps), -1, -1):
        prefix = _join(steps[:cut])
        nodes = template.nodes(prefix)
        if nodes:
            break
    else:  # pragma: no cover - the root always resolves
        return None
    repeats = False
    base_len = len(parse_steps(base_multi)) if base_multi else 0
    for i in range(base_len + 1, cut + 1):
        for n in template.nodes(_join(steps[:i])):
            if _upper_many(n):
                repeats = True
    rest = steps[cut:]
    if rest and rest[0][0] == "value" and len(rest) == 1 and nodes and nodes[0].rm_type_name == "ELEMENT":
        rest = []
    if rest:
        types = _rm_path_types(nodes[0].rm_type_name, rest)
        if types is None:
            return None
        return Resolved(path, types, [None], repeats)
    node = nodes[0]
    if null_flavour:
        if node.rm_type_name != "ELEMENT":
            return None
        return Resolved(path, ["DV_CODED_TEXT"], [None], repeats, True, True, list(NULL_FLAVOURS))
    if node.rm_type_name == "ELEMENT":
        value = node.attribute("value") if isinstance(node, CComplexObject) else None
        alts = list(value.children) if value is not None and value.children else []
        if not alts:
            return Resolved(path, ["DATA_VALUE"], [None], repeats, True)
        res = Resolved(path, [a.rm_type_name for a in alts], alts, repeats, True)
    else:
        res = Resolved(path, [n.rm_type_name for n in nodes], list(nodes), repeats)
    res.codes = _code_list(res.constraints)
    res.units = [u for c in res.constraints if isinstance(c, CDvQuantity) for u in (i.units for i in c.list)]
    return res


def _join(steps: list[tuple[str, str | None, str | None]]) -> str:
    if not steps:
        return "/"
    out = ""
    for attr, key, name in steps:
        out += f"/{attr}"
        if key is not None:
            out += f"[{key}" + (f" and name/value='{name}'" if name else "") + "]"
    return out


def _code_list(constraints: list[CObject | None]) -> list[str] | None:
    codes: list[str] = []
    enumerable = False
    for c in constraints:
        if isinstance(c, (CDvOrdinal, CDvScale)):
            codes += [i.symbol.code_string for i in c.list]
            enumerable = enumerable or bool(c.list)
        elif isinstance(c, CCodePhrase):
            codes += list(c.code_list)
            enumerable = enumerable or bool(c.code_list)
        elif isinstance(c, CComplexObject) and c.rm_type_name == "DV_CODED_TEXT":
            dc = c.attribute("defining_code")
            for cp in dc.children if dc else []:
                if isinstance(cp, CCodePhrase) and cp.code_list:
                    codes += list(cp.code_list)
                    enumerable = True
    return codes if enumerable else None


# ---------------------------------------------------------------------------------------------------------------


class _Checker:
    def __init__(self, mapping: Mapping, template: OperationalTemplate, fmt: ExportFormat | None) -> None:
        self.m = mapping
        self.t = template
        self.fmt = fmt
        self.issues: list[Issue] = []
        #: resolved source path -> (codes mapped or ignored, first field using it, resolved)
        self.coverage: dict[str, tuple[set[str], FieldMap, Resolved]] = {}

    def add(self, code: str, msg: str, pos: Pos, **kw: Any) -> None:
        self.issues.append(Issue(code, msg, file=self.m.source_file, line=pos.line, column=pos.column, **kw))

    def absolute(self, source: str, fm: FieldMap | Condition) -> str | None:
        if source.startswith("/"):
            return source
        if source.startswith("@"):
            name, _, rest = source[1:].partition("/")
            base = self.m.paired.get(name)
            if base is None:
                self.add("MAP016", f"{source}: no paired context named {name!r} (paired: "
                                   f"{', '.join(self.m.paired) or 'none'})", fm.pos)
                return None
            return f"{base}/{rest}"
        if not self.m.for_each:
            self.add("MAP016", f"{source}: a relative path needs for_each (or start it with /)", fm.pos)
            return None
        return f"{self.m.for_each}/{source}"

    def resolve(self, source: str, fm: FieldMap | Condition, target: str) -> Resolved | None:
        path = self.absolute(source, fm)
        if path is None:
            return None
        base = self.m.for_each
        if source.startswith("@"):
            base = self.m.paired.get(source[1:].partition("/")[0])
        elif source.startswith("/"):
            base = None
        res = resolve(self.t, path, base)
        if res is None:
            self.add("MAP003", f"{target}: source {source} does not exist in template {self.t.template_id}", fm.pos,
                     template_path=path)
        return res

    # --- per field -----------------------------------------------------------------------------------------

    def field(self, fm: FieldMap, fdef: FieldDef | None, top: bool = True) -> None:
        res: Resolved | None = None
        if fm.source is not None:
            res = self.resolve(fm.source, fm, fm.target)
        elif fm.transform not in ("constant", "derived"):
            self.add("MAP002", f"{fm.target}: the {fm.transform} transform needs a source", fm.pos)
        elif fm.transform == "constant" and fm.when == () and fdef is not None and fdef.type == "boolean":
            pass
        for c in fm.when:
            self.condition(c, fm)
        if res is not None:
            self.types(fm, res)
            by_type = fm.transform == "text" and isinstance(fm.options, dict) and "identifier_type" in fm.options
            if top and res.repeats and fm.transform not in ("has_code", "if_unknown") and not (fdef and fdef.repeat) \
                    and not by_type:
                self.add("MAP017", f"{fm.target}: {fm.source} can occur more than once in the template but the field "
                                   "takes one value (several different values are a mapping error at run time)",
                         fm.pos)
        if fm.transform == "derived":
            self.derived(fm)
        if top and fdef is not None:
            self.outputs(fm, fdef, res)

    def types(self, fm: FieldMap, res: Resolved) -> None:
        t = fm.transform
        if t == "if_unknown":
            if not res.is_element:
                self.add("MAP004", f"{fm.target}: if_unknown needs an ELEMENT (it reads its null_flavour)", fm.pos)
            return
        accepted = ACCEPTS.get(t)
        if accepted is None:
            return
        bad = [x for x in res.types if x not in accepted and x != "DATA_VALUE"]
        if t in ("codes", "copy_code", "has_code") and "free_text" in fm.ignore:
            bad = [x for x in bad if x != "DV_TEXT"]  # free text is explicitly left without a registry value
        if t == "integer" and isinstance(fm.options, dict) and fm.options.get("ordinal"):
            bad = [x for x in res.types if x not in ("DV_ORDINAL", "DV_SCALE")]
        if "DATA_VALUE" in res.types:
            bad.append("DATA_VALUE (any type)")
        if bad:
            self.add("MAP004", f"{fm.target}: the {t} transform cannot read {', '.join(bad)} at {fm.source} "
                               f"(it takes {', '.join(sorted(accepted))})", fm.pos, found=", ".join(res.types))
            return
        if t in ("codes", "has_code"):
            mapped = set(fm.options) if t == "codes" else {fm.options["code"]}
            mapped |= set(fm.ignore) - {"free_text"}
            self._note_codes(fm, res, mapped)
        if t in ("decimal", "integer") and isinstance(fm.options, dict) and fm.options.get("unit"):
            want = fm.options["unit"]
            for u in res.units:
                if not can_convert(u, want):
                    self.add("MAP013", f"{fm.target}: the template allows {u} at {fm.source}, which cannot be "
                                       f"converted to {want}", fm.pos)
            if "DV_QUANTITY" in res.types and not res.units:
                self.add("MAP013", f"{fm.target}: the template does not restrict the units at {fm.source}, so "
                                   f"conversion to {want} cannot be checked", fm.pos)

    def _note_codes(self, fm: FieldMap, res: Resolved, mapped: set[str]) -> None:
        known, first, _ = self.coverage.get(res.path, (set(), fm, res))
        self.coverage[res.path] = (known | mapped, first, res)
        if res.codes is not None:
            for code in sorted(mapped):
                bare = code.split("::")[-1]
                if bare not in res.codes and code != "free_text":
                    self.add("MAP006", f"{fm.target}: code {code} is not one the template allows at {fm.source} "
                                       f"({', '.join(res.codes)})", fm.pos)

    def condition(self, c: Condition, fm: FieldMap) -> None:
        for alt in c.any:
            self.condition(alt, fm)
        if c.field is not None:
            if self.fmt is not None and c.field not in self.fmt.by_name:
                self.add("MAP008", f"{fm.target}: when names field {c.field}, which {self.fmt.key} does not have",
                         c.pos)
            return
        if c.source is None:
            return
        res = self.resolve(c.source, c, fm.target)
        if res is None:
            return
        if c.codes:
            if not set(res.types) & CODED:
                self.add("MAP004", f"{fm.target}: when tests a code at {c.source}, which is not coded", c.pos)
            elif res.codes is not None:
                for code in c.codes:
                    if code.split("::")[-1] not in res.codes:
                        self.add("MAP006", f"{fm.target}: when tests code {code}, which the template does not allow "
                                           f"at {c.source}", c.pos)
        if c.value is not None and "DV_BOOLEAN" not in res.types:
            self.add("MAP004", f"{fm.target}: when tests a boolean value at {c.source}, which is not a DV_BOOLEAN",
                     c.pos)

    def derived(self, fm: FieldMap) -> None:
        fn = fm.options["fn"]
        n = len(fm.args)
        wants = {"bmi": (2, 2), "hours_between": (2, 2), "duration": (1, 1), "add": (1, 99), "first": (1, 99),
                 "priority": (1, 99)}[fn]
        if not wants[0] <= n <= wants[1]:
            self.add("MAP014", f"{fm.target}: {fn} takes {wants[0]}" + (f" to {wants[1]}" if wants[1] != wants[0]
                     and wants[1] < 99 else "" if wants[1] == wants[0] else " or more") + f" arguments, found {n}",
                     fm.pos)
        if fn == "priority" and not fm.options.get("order"):
            self.add("MAP014", f"{fm.target}: priority needs an order list", fm.pos)
        if fn == "duration" and fm.options.get("unit", "hours") not in ("hours", "minutes", "days", "months",
                                                                        "seconds"):
            self.add("MAP014", f"{fm.target}: duration unit must be hours, minutes, days, months or seconds", fm.pos)
        for a in fm.args:
            if isinstance(a, FieldMap):
                self.field(a, None, top=False)
                if fn == "duration" and a.source is not None:
                    res = resolve(self.t, self.absolute(a.source, a) or "", None) if self.absolute(a.source, a) else None
                    if res is not None and "DV_DURATION" not in res.types:
                        self.add("MAP004", f"{fm.target}: duration needs a DV_DURATION, {a.source} is "
                                           f"{', '.join(res.types)}", a.pos)
                if fn in ("bmi", "add") and a.transform not in ("decimal", "integer", "constant", "derived"):
                    self.add("MAP014", f"{fm.target}: {fn} needs numeric arguments (decimal or integer)", a.pos)
                if fn == "hours_between" and a.transform != "datetime":
                    self.add("MAP014", f"{fm.target}: hours_between needs datetime arguments", a.pos)
            elif fn in ("bmi", "add", "hours_between", "duration") and (isinstance(a, bool) or
                                                                         not isinstance(a, (int, float))):
                self.add("MAP014", f"{fm.target}: {fn} needs numbers, found {a!r}", fm.pos)

    # --- outputs vs the format ---------------------------------------------------------------------------------

    def outputs(self, fm: FieldMap, fdef: FieldDef, res: Resolved | None) -> None:
        produced: list[Any] = []
        kinds: set[str] = set()
        t, o = fm.transform, fm.options
        if t == "codes":
            produced += list(o.values())
        elif t == "boolean":
            produced += [o.get("true", True), o.get("false", False)] + ([o["unknown"]] if "unknown" in o else [])
        elif t == "has_code":
            produced += [o.get("true", True), o.get("false", False)]
        elif t in ("if_unknown", "constant"):
            produced.append(o)
        elif t in ("copy_code", "text"):
            kinds.add("text")
        elif t == "decimal":
            kinds.add("text" if o.get("separator") else ("integer" if o.get("places") == 0 else "number"))
        elif t == "integer":
            kinds.add("integer")
        elif t == "date":
            kinds.add("text" if o.get("format") else "date")
        elif t == "datetime":
            kinds.add("text" if o.get("format") else "datetime")
        elif t == "derived":
            if o["fn"] == "priority":
                produced += list(o.get("order", []))
            elif o["fn"] == "first":
                kinds.add("any")
            else:
                kinds.add("text" if o.get("separator") else ("integer" if o.get("places") == 0 else "number"))
        if fm.has_default:
            produced.append(fm.default)
        for v in produced:
            if v == "" and fdef.empty_allowed:
                continue  # "" is the explicit blank
            kinds.add(_kind(v))
            if fdef.type == "code" and fdef.codes is not None:
                text = ("true" if v else "false") if isinstance(v, bool) else str(v)
                if text not in fdef.codes:
                    self.add("MAP009", f"{fm.target}: value {v!r} is not in the format's code list for "
                                       f"{fdef.name} ({', '.join(list(fdef.codes)[:15])})", fm.pos)
        fits = {
            "text": {"text", "date", "datetime", "integer", "number", "code"},
            "code": {"text", "integer", "code"},
            "boolean": {"boolean"},
            "integer": {"integer"},
            "number": {"integer", "number"},
            "date": {"date", "text"},
            "datetime": {"datetime", "text"},
        }[fdef.type]
        for k in kinds - {"any"}:
            if k not in fits:
                self.add("MAP015", f"{fm.target}: the {t} transform gives {k} values but {fdef.name} is a "
                                   f"{fdef.type} field", fm.pos, expected=fdef.type, found=k)

    # --- the whole mapping -------------------------------------------------------------------------------------

    def run(self) -> list[Issue]:
        m = self.m
        if m.template_id != self.t.template_id:
            self.add("MAP011", f"the mapping is for template {m.template_id}, not {self.t.template_id}",
                     m.pos.get("template", Pos()), expected=m.template_id, found=self.t.template_id)
        if m.template_uid and self.t.uid and m.template_uid != self.t.uid:
            self.add("MAP011", f"the mapping is for template uid {m.template_uid}, the template has {self.t.uid}",
                     m.pos.get("template", Pos()))
        if self.fmt is None:
            self.add("MAP012", f"export format {m.format_id} version {m.format_version} is not known",
                     m.pos.get("format", Pos()))
        for name, pos in m.duplicates:
            self.add("MAP010", f"target field {name} is mapped more than once (the first one is used)", pos)
        for path_name, path in [("for_each", m.for_each)] + [(f"paired {k}", v) for k, v in m.paired.items()]:
            if path and not self.t.nodes(path):
                self.add("MAP003", f"{path_name} {path} does not exist in template {self.t.template_id}",
                         m.pos.get("for_each" if path_name == "for_each" else "paired", Pos()), template_path=path)
        for fm in m.fields:
            fdef = self.fmt.field(fm.target) if self.fmt else None
            if self.fmt is not None:
                if fdef is None:
                    self.add("MAP008", f"{fm.target} is not a field of {self.fmt.key}", fm.pos)
                elif not fdef.mappable:
                    why = "the registry's internal field" if fdef.internal_only else f"filled by the export ({fdef.fill})"
                    self.add("MAP008", f"{fm.target} is {why}; a mapping cannot set it", fm.pos)
            self.field(fm, fdef)
        for path, (mapped, fm, res) in self.coverage.items():
            if res.codes is None:
                continue
            missing = [c for c in res.codes if c not in mapped and not any(k.split("::")[-1] == c for k in mapped)]
            if missing:
                self.add("MAP005", f"{fm.target}: codes {', '.join(missing)} at {fm.source} are neither mapped nor "
                                   "ignored (list them under ignore: if the registry has no value for them)", fm.pos,
                         template_path=path)
        if self.fmt is not None:
            mapped_targets = {f.target for f in m.fields}
            for fdef in self.fmt.fields:
                if fdef.required and fdef.mappable and fdef.name not in mapped_targets:
                    self.add("MAP007", f"{fdef.name} ({fdef.label or 'no label'}) is required by {self.fmt.key} "
                                       "but has no source, constant or default", m.pos.get("fields", Pos()))
        return self.issues


def _kind(v: Any) -> str:
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    return "text"


def check_mapping(mapping: Mapping, template: OperationalTemplate,
                  export_format: ExportFormat | None = None) -> list[Issue]:
    """Every issue of the mapping against the template and the export format (the bundled one it names when
    ``export_format`` is not given)."""
    fmt = export_format or find_format(mapping.format_id, mapping.format_version)
    return _Checker(mapping, template, fmt).run()


__all__ = ["Resolved", "check_mapping", "resolve"]
