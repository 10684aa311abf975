"""FLAT (simSDT) JSON -> canonical composition (:class:`RMObject`), driven by the web template.

The FLAT keys are parsed into a tree (:mod:`._tree`); one walk over the web template's specs (:mod:`._index`)
then builds the RM objects, creating the containers the web template leaves out (HISTORY, ITEM_TREE, the single
EVENT, the ELEMENT of a data value) from the precomputed RM steps. ``ctx/`` keys and the RM's own defaults
(language, encoding, subject, times, HISTORY origin, ...) are applied in a last pass. Every RM object's
``location`` is the FLAT key prefix it came from, so the composition validator's issues name FLAT keys.
"""

from __future__ import annotations

import datetime as _dt
import difflib
from typing import Any

from openehr_kit.diagnostics import Issue
from openehr_kit.flat import _values as V
from openehr_kit.flat._index import CHOICE, LOCATABLE, VALUE, FlatIndex, Spec, Step, event_time_spec, flat_index
from openehr_kit.flat._tree import Consumer, FNode, parse_flat
from openehr_kit.opt.model import OperationalTemplate
from openehr_kit.rm import schema
from openehr_kit.rm.instance import RMObject

__all__ = ["flat_to_composition", "tree_to_composition", "CTX_KEYS"]

#: rm_version written into ARCHETYPED (what EHRbase writes; the project examples are pinned to it)
RM_VERSION = "1.0.4"

_ENTRY_TYPES = frozenset({"OBSERVATION", "EVALUATION", "INSTRUCTION", "ACTION", "ADMIN_ENTRY"})
_EVENT_TYPES = frozenset({"EVENT", "POINT_EVENT", "INTERVAL_EVENT"})
#: RM attributes coded in the openEHR terminology (a bare ``|code`` means openehr::code)
_OPENEHR_CODED = frozenset({"category", "setting", "math_function", "current_state", "transition",
                            "null_flavour"})
_STRUCTURES = frozenset({"ITEM_TREE", "ITEM_LIST", "ITEM_SINGLE", "ITEM_TABLE", "HISTORY"})
_ELEMENT_SPECIALS = frozenset({"_null_flavour", "_null_reason", "_uid", "_name", "_feeder_audit", "_link"})

#: ``ctx/`` keys EHRbase documents (indices ``:n`` stripped), with what they set
CTX_KEYS = frozenset({
    "language", "territory", "composer_name", "composer_id", "composer_self", "id_scheme", "id_namespace",
    "health_care_facility|name", "health_care_facility|id", "health_care_facility|id_scheme",
    "health_care_facility|id_namespace", "time", "end_time", "setting", "location", "history_origin",
    "participation_name", "participation_function", "participation_mode", "participation_id",
    "participation_id_scheme", "participation_id_namespace", "participation_identifiers",
    "participation_identifiers|id", "participation_identifiers|issuer", "participation_identifiers|assigner",
    "participation_identifiers|type", "provider_name", "provider_id", "work_flow_id|id", "work_flow_id|id_scheme",
    "work_flow_id|namespace", "work_flow_id|type", "encoding", "category", "action_ism_transition_current_state",
})


def flat_to_composition(
    flat: dict[str, Any],
    template: OperationalTemplate,
    *,
    web_template: dict[str, Any] | None = None,
    source: str | None = None,
) -> tuple[RMObject, list[Issue]]:
    """The composition a FLAT document describes, and the FLAT issues found reading it (FLTxxx).

    Conversion goes on past errors: the composition holds everything that could be read, so that the
    composition validator can report on it too (``validate_flat`` does both).
    """
    index = flat_index(template, web_template)
    consumer = Consumer(source)
    if not isinstance(flat, dict):
        consumer.issues.append(Issue("FLT007", "a FLAT document is a JSON object of path keys and values",
                                     file=source, instance_path=""))
        return RMObject("COMPOSITION", {}, location=index.root.id), consumer.issues
    tree, ctx = parse_flat(flat, consumer)
    comp = tree_to_composition(tree, ctx, index, consumer)
    return comp, consumer.issues


def tree_to_composition(tree: FNode, ctx: dict[str, tuple[Any, str]], index: FlatIndex,
                        consumer: Consumer) -> RMObject:
    """The shared back end of FLAT and STRUCTURED reading."""
    reader = _Reader(index, consumer, ctx)
    comp = reader.run(tree)
    # whatever nobody used: keys below a known node that no reader took
    for key in _all_keys(tree):
        if key not in consumer.used and key not in consumer.reported:
            consumer.reported.add(key)
            consumer.issue("FLT004", "nothing uses this key (no part of the conversion reads it here)", key)
    return comp


def _all_keys(tree: FNode) -> list[str]:
    return tree.keys()


class _Reader:
    """One conversion: the key table, the consumer, and the context defaults."""

    def __init__(self, index: FlatIndex, consumer: Consumer, ctx: dict[str, tuple[Any, str]]) -> None:
        self.index = index
        self.c = consumer
        self.raw_ctx = ctx
        self.ctx: dict[str, Any] = {}
        self.lang = index.language
        self.x = V.Ctx(consumer, self.lang)
        self.origins: dict[int, str] = {}
        self.suggestions: dict[str, str] = {}
        #: containers made on the way to a node (parent, attribute, object): pruned when left empty
        self.made: list[tuple[RMObject, str, RMObject]] = []
        #: id(RM object) -> its constraint object, for defaults the template fixes
        self.cobjs: dict[int, Any] = {}

    # --- entry ------------------------------------------------------------------------------------------------

    def run(self, tree: FNode) -> RMObject:
        root_spec = self.index.root
        self._read_ctx(tree)
        for rid, by_index in tree.kids.items():
            if rid != root_spec.id:
                for node in by_index.values():
                    self.c.report_all("FLT008", f"the key does not start with the template's root id "
                                      f"'{root_spec.id}'", node, expected=root_spec.id, found=rid)
        by_index = tree.kids.get(root_spec.id) or {}
        fn = by_index.get(None) or by_index.get(0) or FNode(root_spec.id)
        for idx, node in by_index.items():
            if idx is not None:
                for key in node.keys():
                    if key not in self.c.reported:
                        self.c.reported.add(key)
                        self.c.issue("FLT003", "the composition root does not repeat: no index", key)
        step = root_spec.steps[0]
        comp = RMObject("COMPOSITION", {}, location=root_spec.id)
        comp.attrs["name"] = self._name(root_spec, fn, root_spec.id)
        comp.attrs["archetype_node_id"] = step.key
        comp.attrs["archetype_details"] = V.mk(
            "ARCHETYPED", root_spec.id, archetype_id=V.mk("ARCHETYPE_ID", root_spec.id, value=step.key),
            template_id=V.mk("TEMPLATE_ID", root_spec.id, value=self.index.template.template_id),
            rm_version=RM_VERSION)
        self._fill(comp, root_spec, fn, root_spec.id)
        self._composition_defaults(comp, root_spec.id)
        self._defaults(comp)
        return comp

    # --- ctx ----------------------------------------------------------------------------------------------------

    def _read_ctx(self, tree: FNode) -> None:
        import re

        ctx: dict[str, Any] = {}
        parts: dict[int, dict[str, Any]] = {}
        for name, (value, key) in self.raw_ctx.items():
            m = re.fullmatch(r"participation_([a-z_]+?)(?::(\d+))?(\|[a-z_]+(?::\d+)?)?", name)
            if m:
                self.c.used.add(key)
                parts.setdefault(int(m.group(2) or 0), {})[m.group(1) + (m.group(3) or "")] = value
                continue
            base = re.sub(r":\d+", "", name)
            if base not in CTX_KEYS:
                self.c.reported.add(key)
                close = difflib.get_close_matches(base, sorted(CTX_KEYS), n=1)
                hint = f"; did you mean ctx/{close[0]}?" if close else ""
                self.c.issue("FLT010", f"unknown context key{hint}", key,
                             expected=f"ctx/{close[0]}" if close else None, found=key)
                continue
            self.c.used.add(key)
            ctx[name] = value
        self.ctx = ctx
        self.participations = [parts[i] for i in sorted(parts)]
        root = tree.kids.get(self.index.root.id, {})
        rfn = root.get(None) or root.get(0)
        lang = ctx.get("language")
        if lang is None and rfn is not None:
            lnode = rfn.kids.get("language", {}).get(None)
            if lnode is not None:
                lang = (lnode.attrs.get("code") or lnode.attrs.get("") or (None,))[0]
        if isinstance(lang, str) and lang:
            self.lang = lang
            self.x.lang = lang
        self.time = ctx.get("time")
        if self.time is None and rfn is not None:
            cnode = rfn.kids.get("context", {}).get(None)
            st = cnode.kids.get("start_time", {}).get(None) if cnode is not None else None
            if st is not None:
                self.time = (st.attrs.get("") or st.attrs.get("value") or (None,))[0]
        if self.time is None:
            self.time = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")

    # --- structure ----------------------------------------------------------------------------------------------

    def _fill(self, obj: RMObject, spec: Spec, fn: FNode, loc: str) -> None:
        """The children of ``spec`` given in ``fn`` into the RM object ``obj``."""
        inter: dict[str, RMObject] = {}
        for cspec in spec.children:
            by_index = fn.kids.get(cspec.id)
            if not by_index:
                continue
            for idx in sorted(by_index, key=lambda i: -1 if i is None else i):
                cfn = by_index[idx]
                if idx is None and cspec.repeats:
                    self.c.issue("FLT009", f"'{cspec.id}' repeats (max {self._max(cspec)}): give an index, "
                                 f"'{cspec.id}:0'; read as index 0", cfn.key, expected=f"{cspec.id}:0")
                elif idx is not None and not cspec.repeats:
                    for key in cfn.keys():
                        if key not in self.c.reported:
                            self.c.reported.add(key)
                            self.c.issue("FLT003", f"'{cspec.id}' occurs at most once: no index (':{idx}')",
                                         key, expected=cspec.id, found=f"{cspec.id}:{idx}")
                    continue
                self._attach(obj, cspec, cfn, inter, loc)
        for cid, by_index in fn.kids.items():
            if cid in spec.by_id:
                continue
            if cid.startswith("_"):
                for i, cfn in enumerate(self._ordered(by_index)):
                    if not self._special(obj, cid, cfn, loc, i):
                        self._unknown(spec, cid, cfn)
                continue
            for i, cfn in enumerate(self._ordered(by_index)):
                target = obj
                if cid in ("width", "math_function") and obj.rm_type not in _EVENT_TYPES:
                    target = self._dissolved_event(obj, spec, fn, inter) or obj
                if not self._special(target, cid, cfn, loc, i):
                    self._unknown(spec, cid, cfn)
        if obj.rm_type in _EVENT_TYPES and "sample_count" in fn.attrs:
            count = self.x.num(fn, "sample_count", int)
            if count is not None:
                obj.attrs["sample_count"] = count
        self._check_attrs(spec, fn, allowed=("raw",) if spec.kind == LOCATABLE else ())

    def _dissolved_event(self, obj: RMObject, spec: Spec, fn: FNode, inter: dict[str, RMObject]) -> RMObject | None:
        """The single EVENT the web template lifted into ``spec`` (found through its ``time`` child)."""
        tspec = event_time_spec(spec)
        if tspec is None:
            return None
        holder = obj
        key = ""
        for step in tspec.steps[:-1]:
            key += f"/{step.attr}[{step.key or ''}|{step.name or ''}]"
            got = inter.get(key)
            if got is None:
                got = self._new_object(step, None, fn.key)
                self._put(holder, step, got, fn.key)
                inter[key] = got
            holder = got
        return holder

    def _ordered(self, by_index: dict[int | None, FNode]) -> list[FNode]:
        return [by_index[i] for i in sorted(by_index, key=lambda i: -1 if i is None else i)]

    def _max(self, spec: Spec) -> str:
        return "*" if spec.max < 0 else str(spec.max)

    def _unknown(self, spec: Spec, cid: str, cfn: FNode) -> None:
        for key in cfn.keys():
            if key in self.c.reported:
                continue
            self.c.reported.add(key)
            suggestion = self.suggest(key, spec)
            hint = f"; closest valid path: {suggestion}" if suggestion else ""
            self.c.issue("FLT001", f"'{cid}' is not a node below '{spec.id}' in the web template{hint}", key,
                         expected=suggestion, found=key)

    def suggest(self, key: str, spec: Spec | None = None) -> str | None:
        """The valid key closest to ``key``: below the deepest node the key reached, each further segment is
        replaced by the most similar child id (edit similarity), and the suffix by the most similar one the
        node's type has. Segment-wise matching keeps it fast on thousand-key documents with many bad keys."""
        if spec is None:
            return None
        if len(_CLOSEST) > 50000:
            _CLOSEST.clear()
        path, bar, suffix = key.partition("|")
        segs = path.split("/")
        depth = 0
        s_: Spec | None = spec
        while s_ is not None:
            depth += 1
            s_ = s_.parent
        out = segs[:depth]
        current = spec
        for seg in segs[depth:]:
            if not current.children:
                break
            name, _, idx = seg.partition(":")
            ids = list(current.by_id)
            child = current.by_id.get(name)
            if child is None:
                memo_key = (id(current), name)
                best = _CLOSEST.get(memo_key)
                if best is None:
                    close = difflib.get_close_matches(name, ids, n=1, cutoff=0.0)
                    best = _CLOSEST[memo_key] = close[0] if close else ""
                if not best:
                    break
                child = current.by_id[best]
            out.append(child.id + (f":{idx if idx.isdigit() else 0}" if child.repeats else ""))
            current = child
        result = "/".join(out)
        if bar:
            memo_key = (id(current), "|" + suffix)
            best = _CLOSEST.get(memo_key)
            if best is None:
                valid = sorted(x for x in V.suffixes_for(current) if x)
                close = difflib.get_close_matches(suffix, valid, n=1, cutoff=0.0) if valid else []
                best = _CLOSEST[memo_key] = close[0] if close else ""
            if best:
                result += f"|{best}"
        return result if result != key else None

    def _check_attrs(self, spec: Spec, fn: FNode, allowed: tuple[str, ...] = ()) -> None:
        """Suffixes nobody read on a node: wrong for its data type (FLT002)."""
        valid = V.suffixes_for(spec)
        for suffix, (_value, key) in fn.attrs.items():
            if key in self.c.used or key in self.c.reported:
                continue
            if suffix in allowed:
                continue
            self.c.reported.add(key)
            if suffix in valid:
                self.c.issue("FLT004", "nothing uses this value", key)
                continue
            what = spec.rm_type if spec.kind == VALUE else f"a {spec.rm_type} node"
            shown = ", ".join(f"|{s}" if s else "(plain value)" for s in sorted(valid)) or "none (give its children)"
            self.c.issue("FLT002", f"|{suffix} is not an attribute of {what}; valid: {shown}" if suffix else
                         f"{what} takes no plain value; valid: {shown}", key,
                         expected=shown, found=f"|{suffix}" if suffix else "(plain value)")

    def _attach(self, parent: RMObject, spec: Spec, fn: FNode, inter: dict[str, RMObject], ploc: str) -> None:
        holder = parent
        key = ""
        for step in spec.steps[:spec.owner]:
            key += f"/{step.attr}[{step.key or ''}|{step.name or ''}]"
            got = inter.get(key)
            if got is None:
                got = self._new_object(step, None, ploc)
                self._put(holder, step, got, fn.key)
                inter[key] = got
                self.made.append((holder, step.attr, got))
            holder = got
        ostep = spec.steps[spec.owner]
        loc = fn.key
        if spec.kind in (LOCATABLE, CHOICE):
            if spec.steps[0].attr == "instruction_details" and not fn.kids and not fn.attrs:
                return
            raw = fn.attrs.get("raw")
            obj = None
            if raw is not None:
                self.c.used.add(raw[1])
                obj = V.read_raw(self.x, raw[0], raw[1], ostep.rm_type)
            if obj is None:
                obj = self._new_object(ostep, spec, loc, fn)
                self._fill(obj, spec, fn, loc)
                if spec.kind == CHOICE and "value" not in obj.attrs and "null_flavour" not in obj.attrs:
                    return  # nothing readable was given (the keys are reported)
                if not any(k in self.c.used for k in fn.keys()):
                    return  # every key below was wrong (and reported): no empty shell in the composition
            else:
                self._fill(obj, _NO_CHILDREN(spec), fn, loc)
            self._put(holder, ostep, obj, loc)
            return
        # a data value: held by an ELEMENT (the owner) or directly by an RM attribute
        value_step = spec.steps[-1]
        if spec.owner < len(spec.steps) - 1:
            element = self._new_object(ostep, spec, loc, fn)
            for st in spec.steps[spec.owner + 1:-1]:  # (none in practice) deeper containers
                mid = self._new_object(st, None, loc)
                self._put(element, st, mid, loc)
            value = self._read_value(spec, value_step, fn, loc)
            if value is not None:
                element.attrs["value"] = value
            for cid, by_index in fn.kids.items():
                if cid in _ELEMENT_SPECIALS:
                    for i, cfn in enumerate(self._ordered(by_index)):
                        self._special(element, cid, cfn, loc, i)
            if value is None and "null_flavour" not in element.attrs:
                if not fn.attrs and all(k in _ELEMENT_SPECIALS for k in fn.kids) and not fn.kids:
                    return
                if not any(k in self.c.used for k in fn.keys()):
                    self._value_leftovers(spec, fn)
                    return
            self._put(holder, ostep, element, loc)
        else:
            value = self._read_value(spec, value_step, fn, loc)
            if value is not None:
                if not value_step.container and value_step.attr in holder.attrs and holder.rm_type == "ELEMENT":
                    # a second data type for one ELEMENT (choice nodes): the first one given stays
                    for key in fn.keys():
                        if key not in self.c.reported:
                            self.c.reported.add(key)
                            self.c.issue("FLT004", "not used: this ELEMENT already has a value from another of "
                                         "its data type choices", key)
                    return
                self._put(holder, value_step, value, loc)
        self._value_leftovers(spec, fn)

    def _read_value(self, spec: Spec, step: Step, fn: FNode, loc: str) -> Any:
        rm_type = step.rm_type
        if rm_type == "STRING":
            return self.x.text(fn, "") if "" in fn.attrs else self.x.text(fn, "value")
        if rm_type in ("PARTY_PROXY", "PARTY_IDENTIFIED", "PARTY_SELF"):
            party = V.read_party(self.x, fn, loc, self_default=spec.id == "subject")
            if party is not None and party.rm_type == "PARTY_SELF" and spec.id != "subject":
                party = V.mk("PARTY_IDENTIFIED", loc, **party.attrs)
            return party
        if rm_type == "LOCATABLE_REF":
            return None
        if rm_type == "DV_CODED_TEXT" and step.key is None and step.attr in _OPENEHR_CODED:
            return V.read_coded(self.x, fn, loc, "openehr", spec)
        return V.read_dv(self.x, rm_type, fn, loc, spec)

    def _value_leftovers(self, spec: Spec, fn: FNode) -> None:
        self._check_attrs(spec, fn)
        for cid, by_index in fn.kids.items():
            if cid in spec.by_id:
                continue
            for cfn in by_index.values():
                if any(k not in self.c.used and k not in self.c.reported for k in cfn.keys()):
                    self._unknown(spec, cid, cfn)

    # --- RM objects --------------------------------------------------------------------------------------------

    def _new_object(self, step: Step, spec: Spec | None, loc: str, fn: FNode | None = None) -> RMObject:
        rm_type = step.rm_type
        if rm_type in ("EVENT", "POINT_EVENT") and fn is not None and ("width" in fn.kids or "math_function" in fn.kids):
            rm_type = "INTERVAL_EVENT"
        obj = RMObject(rm_type, {}, location=loc)
        if rm_type == "ACTIVITY" and step.cobj is not None:
            self.cobjs[id(obj)] = step.cobj
        if _is_locatable(rm_type):
            if spec is not None and fn is not None:
                obj.attrs["name"] = self._name(spec, fn, loc)
            else:
                obj.attrs["name"] = V.dv_text(self._term_name(step), loc)
            node_id = step.key or (spec.node_id if spec is not None else None) or "at0000"
            obj.attrs["archetype_node_id"] = node_id
            if "." in node_id and "-" in node_id:
                obj.attrs["archetype_details"] = V.mk(
                    "ARCHETYPED", loc, archetype_id=V.mk("ARCHETYPE_ID", loc, value=node_id), rm_version=RM_VERSION)
        return obj

    def _term_name(self, step: Step) -> str:
        if step.name:
            return step.name
        if step.terminology is not None and step.key:
            code = "at0000" if "." in step.key else step.key
            text = step.terminology.text(code, self.lang) or step.terminology.text(code, None)
            if text:
                return text
        return step.key or step.rm_type

    def _name(self, spec: Spec, fn: FNode, loc: str) -> RMObject:
        override = self.c.kid(fn, "_name") if "_name" in fn.kids else None
        if override is not None:
            if "code" in override.attrs:
                named = V.read_coded(self.x, override, loc)
                if named is not None:
                    return named
            text = self.x.text(override, "")
            if text is None:
                text = self.x.text(override, "value")
            return V.dv_text(text or spec.local_name(self.lang), loc)
        text = spec.local_name(self.lang)
        if spec.name_code is not None:
            return V.dv_coded(text, spec.name_code[0], spec.name_code[1], loc)
        return V.dv_text(text, loc)

    def _put(self, holder: RMObject, step: Step, obj: RMObject, key: str) -> None:
        attr = step.attr
        if step.container:
            lst = holder.attrs.get(attr)
            if not isinstance(lst, list):
                lst = holder.attrs[attr] = []
            lst.append(obj)
        else:
            holder.attrs[attr] = obj

    # --- underscore attributes -------------------------------------------------------------------------------

    def _special(self, obj: RMObject, cid: str, fn: FNode, loc: str, i: int) -> bool:
        """``_uid``, ``_name``, ``_link``, ... on ``obj``; False when ``cid`` means nothing on this RM type."""
        x = self.x
        t = obj.rm_type
        if cid == "_name":
            return True  # read with the object's name
        if cid == "_uid":
            value = x.text(fn, "")
            if value is not None:
                obj.attrs["uid"] = V.mk("OBJECT_VERSION_ID" if value.count("::") == 2 else "HIER_OBJECT_ID",
                                        loc, value=value)
            return True
        if cid == "_link":
            obj.attrs.setdefault("links", []).append(V.mk(
                "LINK", loc, meaning=V.dv_text(x.text(fn, "meaning") or "", loc),
                type=V.dv_text(x.text(fn, "type") or "", loc),
                target=V.mk("DV_EHR_URI", loc, value=x.text(fn, "target") or "")))
            return True
        if cid == "_feeder_audit" and _is_locatable(t):
            obj.attrs["feeder_audit"] = V.read_feeder_audit(x, fn, loc)
            return True
        if t in _ENTRY_TYPES:
            if cid == "_provider":
                party = V.read_party(x, fn, loc)
                if party is not None:
                    obj.attrs["provider"] = party
                return True
            if cid == "_other_participation":
                obj.attrs.setdefault("other_participations", []).append(V.read_participation(x, fn, loc))
                return True
            if cid in ("_work_flow_id", "_guideline_id"):
                ref = V.read_object_ref(x, fn, loc, "WORKFLOW" if cid == "_work_flow_id" else "GUIDELINE")
                if ref is not None:
                    obj.attrs["workflow_id" if cid == "_work_flow_id" else "guideline_id"] = ref
                return True
        if t == "ACTION" and cid == "_instruction_details":
            uid = x.text(fn, "composition_uid")
            path = x.text(fn, "path")
            activity = x.text(fn, "activity_id")
            ref = V.mk("LOCATABLE_REF", loc, id=V.mk("OBJECT_VERSION_ID" if uid and uid.count("::") == 2
                                                     else "HIER_OBJECT_ID", loc, value=uid or ""),
                       namespace="local", type="COMPOSITION", path=path)
            obj.attrs["instruction_details"] = V.mk("INSTRUCTION_DETAILS", loc, instruction_id=ref,
                                                    activity_id=activity or "")
            return True
        if t == "INSTRUCTION" and cid == "_wf_definition":
            obj.attrs["wf_definition"] = V.mk("DV_PARSABLE", loc, value=x.text(fn, "value") or x.text(fn, "") or "",
                                              formalism=x.text(fn, "formalism") or "")
            return True
        if t == "ISM_TRANSITION" and cid == "_reason":
            value = x.text(fn, "") or x.text(fn, "value")
            if value is not None:
                obj.attrs.setdefault("reason", []).append(V.dv_text(value, loc))
            return True
        if t == "EVENT_CONTEXT":
            if cid == "_end_time":
                value = x.text(fn, "")
                if value is not None:
                    obj.attrs["end_time"] = V.mk("DV_DATE_TIME", loc, value=value)
                return True
            if cid == "_health_care_facility":
                party = V.read_party(x, fn, loc)
                if party is not None:
                    obj.attrs["health_care_facility"] = V.mk("PARTY_IDENTIFIED", loc, **party.attrs)
                return True
            if cid == "_participation":
                obj.attrs.setdefault("participations", []).append(V.read_participation(x, fn, loc))
                return True
            if cid == "_location":
                value = x.text(fn, "")
                if value is not None:
                    obj.attrs["location"] = value
                return True
        if t in _EVENT_TYPES and cid in ("width", "math_function"):
            if obj.rm_type != "INTERVAL_EVENT":
                obj.rm_type = "INTERVAL_EVENT"
            if cid == "width":
                value = V.read_dv(x, "DV_DURATION", fn, loc)
            else:
                value = V.read_coded(x, fn, loc, "openehr")
            if value is not None:
                obj.attrs[cid] = value
            return True
        if t == "OBSERVATION" and cid == "history_origin":
            value = x.text(fn, "")
            if value is not None:
                self.origins[id(obj)] = value
            return True
        if t == "ELEMENT":
            if cid == "_null_flavour":
                coded = V.read_coded(x, fn, loc, "openehr")
                if coded is not None:
                    obj.attrs["null_flavour"] = coded
                return True
            if cid == "_null_reason":
                value = x.text(fn, "")
                if value is not None:
                    obj.attrs["null_reason"] = V.dv_text(value, loc)
                return True
        return False

    # --- defaults --------------------------------------------------------------------------------------------

    def _composition_defaults(self, comp: RMObject, loc: str) -> None:
        ctx = self.ctx
        a = comp.attrs
        if "language" not in a:
            a["language"] = V.code_phrase("ISO_639-1", self.lang, f"{loc}/language")
        if "territory" not in a:
            territory = ctx.get("territory")
            if territory is not None:
                a["territory"] = V.code_phrase("ISO_3166-1", territory, f"{loc}/territory")
            else:
                self.c.issue("FLT006", "no territory: give ctx/territory or "
                             f"{loc}/territory|code (ISO 3166-1, e.g. NO)", f"{loc}/territory|code")
        if "composer" not in a:
            composer = self._ctx_composer(f"{loc}/composer")
            if composer is not None:
                a["composer"] = composer
            else:
                self.c.issue("FLT006", f"no composer: give ctx/composer_name (or ctx/composer_self) or "
                             f"{loc}/composer|name", f"{loc}/composer|name")
        if "category" not in a:
            cat = self.index.root.by_id.get("category")
            code = "433"
            if cat is not None and len(cat.labels) == 1:
                code = next(iter(cat.labels))
            a["category"] = V.dv_coded(V.rubric(code, self.lang) or "event", "openehr", code, f"{loc}/category")
        category = V._code(a["category"].attrs.get("defining_code"))[1] if isinstance(a.get("category"), RMObject) else None
        if category == "431":
            return  # persistent compositions carry no context
        context = a.get("context")
        if not isinstance(context, RMObject):
            context = a["context"] = RMObject("EVENT_CONTEXT", {}, location=f"{loc}/context")
        cloc = context.location or f"{loc}/context"
        c = context.attrs
        if "start_time" not in c:
            c["start_time"] = V.mk("DV_DATE_TIME", f"{cloc}/start_time", value=self.time)
        if "setting" not in c:
            code = str(ctx.get("setting") or "238")
            if not code.isdigit():  # a rubric given instead of the code ("other care")
                code = V.code_for_rubric("setting", code) or code
            c["setting"] = V.dv_coded(V.rubric(code, self.lang) or V.rubric(code) or "other care", "openehr", code,
                                      f"{cloc}/setting")
        if "end_time" not in c and ctx.get("end_time"):
            c["end_time"] = V.mk("DV_DATE_TIME", f"{cloc}/_end_time", value=ctx["end_time"])
        if "health_care_facility" not in c and (ctx.get("health_care_facility|name") or ctx.get("health_care_facility|id")):
            hloc = f"{cloc}/_health_care_facility"
            c["health_care_facility"] = V.mk(
                "PARTY_IDENTIFIED", hloc, name=ctx.get("health_care_facility|name"),
                external_ref=self._ref(ctx.get("health_care_facility|id"),
                                       ctx.get("health_care_facility|id_scheme") or ctx.get("id_scheme"),
                                       ctx.get("health_care_facility|id_namespace") or ctx.get("id_namespace"), hloc))
        if "location" not in c and ctx.get("location"):
            c["location"] = ctx["location"]
        # EVENT_CONTEXT.participations stay as given: ctx/participation_* go to the entries (EHRbase's rule)

    @staticmethod
    def _action_archetype_default(cobj: Any) -> str:
        """The template's action_archetype_id constraint as a value (a regex over archetype ids), else /.*/."""
        from openehr_kit.am.model import CComplexObject, CPrimitiveObject, CString

        if isinstance(cobj, CComplexObject):
            attr = cobj.attribute("action_archetype_id")
            for child in attr.children if attr is not None else ():
                item = child.item if isinstance(child, CPrimitiveObject) else None
                if isinstance(item, CString):
                    if item.list:
                        return item.list[0]
                    if item.pattern:
                        return item.pattern.replace("\\.", ".")
        return "/.*/"

    def _ref(self, pid: Any, scheme: Any, namespace: Any, loc: str) -> RMObject | None:
        if pid is None:
            return None
        oid = V.mk("GENERIC_ID", loc, value=str(pid), scheme=scheme) if scheme else V.mk("HIER_OBJECT_ID", loc, value=str(pid))
        return V.mk("PARTY_REF", loc, id=oid, namespace=namespace or "DEMOGRAPHIC", type="PARTY")

    def _ctx_composer(self, loc: str) -> RMObject | None:
        ctx = self.ctx
        if ctx.get("composer_self") in (True, "true"):
            return V.mk("PARTY_SELF", loc, external_ref=self._ref(ctx.get("composer_id"), ctx.get("id_scheme"),
                                                                  ctx.get("id_namespace"), loc))
        if ctx.get("composer_name") is None and ctx.get("composer_id") is None:
            return None
        return V.mk("PARTY_IDENTIFIED", loc, name=ctx.get("composer_name"),
                    external_ref=self._ref(ctx.get("composer_id"), ctx.get("id_scheme"), ctx.get("id_namespace"), loc))

    def _ctx_participations(self, loc: str) -> list[RMObject]:
        out = []
        for i, p in enumerate(self.participations):
            ploc = f"{loc}/_other_participation:{i}"
            fn = FNode(ploc)
            for name, value in p.items():
                suffix = {"name": "name", "function": "function", "mode": "mode", "id": "id",
                          "id_scheme": "id_scheme", "id_namespace": "id_namespace"}.get(name)
                if suffix is not None:
                    fn.attrs[suffix] = (value, f"{ploc}|{suffix}")
            if "id" in p:
                fn.attrs.setdefault("id_scheme", (self.ctx.get("id_scheme"), f"{ploc}|id_scheme"))
                fn.attrs.setdefault("id_namespace", (self.ctx.get("id_namespace"), f"{ploc}|id_namespace"))
            part = V.read_participation(self.x, fn, ploc)
            idents = _ctx_identifiers(p, ploc)
            if idents and isinstance(part.attrs.get("performer"), RMObject):
                part.attrs["performer"].attrs["identifiers"] = idents
            out.append(part)
        return out

    def _prune(self) -> None:
        """Drop containers made for a node whose value was then not read (innermost first)."""
        for holder, attr, obj in reversed(self.made):
            if obj.rm_type in _STRUCTURES and not (obj.attrs.get("items") or obj.attrs.get("rows")
                                                   or obj.attrs.get("item") or obj.attrs.get("events")):
                value = holder.attrs.get(attr)
                if isinstance(value, list):
                    value[:] = [v for v in value if v is not obj]
                    if not value:
                        del holder.attrs[attr]
                elif value is obj:
                    del holder.attrs[attr]

    def _defaults(self, comp: RMObject) -> None:
        """RM attributes every instance needs, filled where the FLAT left them out."""
        self._prune()
        for obj in comp.walk():
            t = obj.rm_type
            loc = obj.location
            a = obj.attrs
            if t in _ENTRY_TYPES:
                if "language" not in a:
                    a["language"] = V.code_phrase("ISO_639-1", self.lang, f"{loc}/language")
                if "encoding" not in a:
                    a["encoding"] = V.code_phrase("IANA_character-sets", self.ctx.get("encoding") or "UTF-8",
                                                  f"{loc}/encoding")
                if "subject" not in a:
                    a["subject"] = RMObject("PARTY_SELF", {}, location=f"{loc}/subject")
                if "other_participations" not in a and self.participations:
                    a["other_participations"] = self._ctx_participations(loc)
                if "provider" not in a and (self.ctx.get("provider_name") or self.ctx.get("provider_id")):
                    a["provider"] = V.mk("PARTY_IDENTIFIED", f"{loc}/_provider", name=self.ctx.get("provider_name"),
                                         external_ref=self._ref(self.ctx.get("provider_id"), self.ctx.get("id_scheme"),
                                                                self.ctx.get("id_namespace"), f"{loc}/_provider"))
                if "workflow_id" not in a and self.ctx.get("work_flow_id|id"):
                    a["workflow_id"] = V.mk("OBJECT_REF", f"{loc}/_work_flow_id", id=V.mk(
                        "GENERIC_ID" if self.ctx.get("work_flow_id|id_scheme") else "HIER_OBJECT_ID", loc,
                        value=self.ctx["work_flow_id|id"], scheme=self.ctx.get("work_flow_id|id_scheme")),
                        namespace=self.ctx.get("work_flow_id|namespace") or "local",
                        type=self.ctx.get("work_flow_id|type") or "WORKFLOW")
            if t == "ACTION" and "time" not in a:
                a["time"] = V.mk("DV_DATE_TIME", f"{loc}/time", value=self.time)
            if t == "INSTRUCTION" and "narrative" not in a:
                a["narrative"] = V.dv_text(_name_text(obj) or "narrative", f"{loc}/narrative")
            if t == "ACTIVITY" and "action_archetype_id" not in a:
                a["action_archetype_id"] = self._action_archetype_default(self.cobjs.get(id(obj)))
            if t in _EVENT_TYPES and "time" not in a:
                a["time"] = V.mk("DV_DATE_TIME", f"{loc}/time", value=self.time)
            if t == "INTERVAL_EVENT":
                if "width" not in a:
                    a["width"] = V.mk("DV_DURATION", f"{loc}/width", value="PT0S")
                if "math_function" not in a:
                    a["math_function"] = V.dv_coded("actual", "openehr", "640", f"{loc}/math_function")
            if t == "OBSERVATION" and id(obj) in self.origins and isinstance(a.get("data"), RMObject):
                a["data"].attrs.setdefault("origin", V.mk("DV_DATE_TIME", f"{loc}/history_origin",
                                                          value=self.origins[id(obj)]))
            if t == "HISTORY" and "origin" not in a:
                times = [e.attrs["time"].attrs.get("value") for e in a.get("events") or ()
                         if isinstance(e, RMObject) and isinstance(e.attrs.get("time"), RMObject)]
                origin = self.ctx.get("history_origin") or (min(times) if times else self.time)
                a["origin"] = V.mk("DV_DATE_TIME", f"{loc}/origin", value=origin)
            if t == "ISM_TRANSITION" and "current_state" not in a:
                self.c.issue("FLT006", "the ACTION's careflow state is missing: give "
                             f"{loc}/current_state|code", f"{loc}/current_state|code")


def _ctx_identifiers(p: dict[str, Any], loc: str) -> list[RMObject]:
    """``ctx/participation_identifiers`` (``issuer::assigner::id::type;...``) or its ``|id:n`` parts."""
    out: list[RMObject] = []
    packed = p.get("identifiers")
    if isinstance(packed, str):
        for part in packed.split(";"):
            bits = part.split("::")
            if len(bits) == 4:
                out.append(V.mk("DV_IDENTIFIER", loc, issuer=bits[0], assigner=bits[1], id=bits[2], type=bits[3]))
    found: dict[int, dict[str, Any]] = {}
    import re

    for name, value in p.items():
        m = re.fullmatch(r"identifiers\|(id|issuer|assigner|type)(?::(\d+))?", name)
        if m:
            found.setdefault(int(m.group(2) or 0), {})[m.group(1)] = value
    for _, d in sorted(found.items()):
        out.append(V.mk("DV_IDENTIFIER", loc, issuer=d.get("issuer"), assigner=d.get("assigner"), id=d.get("id"),
                        type=d.get("type")))
    return out


def _name_text(obj: RMObject) -> str | None:
    return obj.name_value


_SUBTREES: dict[int, tuple[Spec, list[str]]] = {}
#: (id of a spec, misspelt child id or "|suffix") -> the closest valid one ("" if none); specs live as long as
#: their cached key table, so ids are stable; cleared when it grows large
_CLOSEST: dict[tuple[int, str], str] = {}


def _subtree_patterns(spec: Spec) -> list[str]:
    """Every key pattern at or below ``spec`` (cached per spec object)."""
    hit = _SUBTREES.get(id(spec))
    if hit is not None and hit[0] is spec:
        return hit[1]
    out: list[str] = []
    stack = [spec]
    while stack:
        s = stack.pop()
        out.append(s.pattern)
        out.extend(f"{s.pattern}|{suffix}" for suffix in V.suffixes_for(s) if suffix)
        stack.extend(s.children)
    if len(_SUBTREES) > 20000:
        _SUBTREES.clear()
    _SUBTREES[id(spec)] = (spec, out)
    return out


_LOCATABLE_CACHE: dict[str, bool] = {}


def _is_locatable(rm_type: str) -> bool:
    hit = _LOCATABLE_CACHE.get(rm_type)
    if hit is None:
        hit = _LOCATABLE_CACHE[rm_type] = schema.attribute(rm_type, "archetype_node_id") is not None
    return hit


def _NO_CHILDREN(spec: Spec) -> Spec:
    """A view of ``spec`` without children: a ``|raw`` object takes only underscore attributes on top."""
    clone = Spec(spec.id, spec.rm_type, spec.min, spec.max, spec.name, spec.names, spec.node_id, spec.aql,
                 spec.kind, spec.inputs, spec.in_context, spec.parent, spec.steps, spec.owner)
    clone.by_id = dict(spec.by_id)
    return clone
