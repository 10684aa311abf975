"""Canonical composition (:class:`RMObject`) -> FLAT (simSDT) JSON, the inverse of :mod:`.to_canonical`.

The walk follows the web template: for each spec it follows the precomputed RM steps down from the parent's RM
object, picks the objects that belong to it (by archetype node id; same-slot siblings by name or data value
type) and writes their keys. Keys come out as EHRbase writes them: explicit paths (no ``ctx/``), ``|code``,
``|value`` and ``|terminology`` for coded texts, ``_uid``/``_name``/``_link``/... where the composition has them.
Content no spec describes is left out and, when an ``issues`` list is given, reported (FLT012).
"""

from __future__ import annotations

from typing import Any

from openehr_kit.diagnostics import Issue
from openehr_kit.flat import _values as V
from openehr_kit.flat._index import CHOICE, LOCATABLE, FlatIndex, Spec, event_time_spec, flat_index
from openehr_kit.opt.model import OperationalTemplate
from openehr_kit.rm.instance import RMObject

__all__ = ["composition_to_flat"]

_ENTRY_TYPES = frozenset({"OBSERVATION", "EVALUATION", "INSTRUCTION", "ACTION", "ADMIN_ENTRY"})
_EVENTS = frozenset({"EVENT", "POINT_EVENT", "INTERVAL_EVENT"})


class _Prefix:
    """A spec view whose owner is the step before the last (to reach the event holding ``time``)."""

    def __init__(self, spec: Spec) -> None:
        self.steps = spec.steps
        self.owner = len(spec.steps) - 1


def composition_to_flat(
    comp: RMObject,
    template: OperationalTemplate,
    *,
    web_template: dict[str, Any] | None = None,
    issues: list[Issue] | None = None,
) -> dict[str, Any]:
    """The FLAT document of ``comp`` (keys in walk order, the way EHRbase writes them)."""
    index = flat_index(template, web_template)
    writer = _Writer(index, comp, issues)
    out: dict[str, Any] = {}
    root = index.root
    writer.locatable(comp, root, root.id, out)
    return out


class _Writer:
    def __init__(self, index: FlatIndex, comp: RMObject, issues: list[Issue] | None) -> None:
        self.index = index
        self.issues = issues
        lang = comp.attrs.get("language")
        code = lang.attrs.get("code_string") if isinstance(lang, RMObject) else None
        self.lang = code if isinstance(code, str) and code else index.language
        self.claimed: set[int] = set()

    # --- LOCATABLE nodes ---------------------------------------------------------------------------------------

    def locatable(self, obj: RMObject, spec: Spec, prefix: str, out: dict[str, Any]) -> None:
        self.specials(obj, spec, prefix, out)
        self.children(obj, spec, prefix, out)
        self.event_extras(obj, spec, prefix, out)

    def event_extras(self, obj: RMObject, spec: Spec, prefix: str, out: dict[str, Any]) -> None:
        """INTERVAL_EVENT width/math_function where the web template has no node for them (the template says
        EVENT), on the event node or on the node a single event was lifted into; HISTORY origin when it is not
        the first event's time."""
        event = obj if obj.rm_type in _EVENTS else None
        history = None
        tspec = event_time_spec(spec)
        if event is None and tspec is not None:
            holders = self._holders(obj, _Prefix(tspec))
            event = holders[0] if holders and holders[0].rm_type in _EVENTS else None
        if event is not None and event.rm_type == "INTERVAL_EVENT":
            if "width" not in spec.by_id and isinstance(event.attrs.get("width"), RMObject):
                out[f"{prefix}/width"] = event.attrs["width"].attrs.get("value")
            if "math_function" not in spec.by_id and isinstance(event.attrs.get("math_function"), RMObject):
                V.write_coded(event.attrs["math_function"], f"{prefix}/math_function", out)
            if "sample_count" in event.attrs:
                out[f"{prefix}|sample_count"] = event.attrs["sample_count"]
        if obj.rm_type == "OBSERVATION":
            history = obj.attrs.get("data")
            if isinstance(history, RMObject) and isinstance(history.attrs.get("origin"), RMObject):
                times = [e.attrs["time"].attrs.get("value") for e in history.attrs.get("events") or ()
                         if isinstance(e, RMObject) and isinstance(e.attrs.get("time"), RMObject)]
                origin = history.attrs["origin"].attrs.get("value")
                if not times or origin != min(times):
                    out[f"{prefix}/history_origin"] = origin

    def children(self, obj: RMObject, spec: Spec, prefix: str, out: dict[str, Any]) -> None:
        groups: dict[int, list[Spec]] = {}
        assignment = self._assign(obj, spec)
        for cspec in spec.children:
            if cspec.steps[0].attr == "instruction_details":
                continue  # written as _instruction_details by the ACTION
            items = assignment.get(id(cspec), [])
            for i, item in enumerate(items):
                cprefix = f"{prefix}/{cspec.id}:{i}" if cspec.repeats else f"{prefix}/{cspec.id}"
                if not cspec.repeats and i > 0:
                    self._lost(item, f"more than one '{cspec.id}', which occurs at most once")
                    continue
                self.node(item, cspec, cprefix, out)
        del groups

    def node(self, item: Any, spec: Spec, prefix: str, out: dict[str, Any]) -> None:
        if spec.kind in (LOCATABLE, CHOICE):
            if isinstance(item, RMObject):
                self.locatable(item, spec, prefix, out)
            return
        if spec.owner < len(spec.steps) - 1:
            # a collapsed ELEMENT: its value, then the ELEMENT's own attributes
            element = item
            value = element.attrs.get("value") if isinstance(element, RMObject) else None
            V.write_dv(value, prefix, out, spec)
            if isinstance(element, RMObject):
                self.specials(element, spec, prefix, out)
            return
        V.write_dv(item, prefix, out, spec)

    # --- which RM objects belong to which spec ---------------------------------------------------------------

    def _assign(self, obj: RMObject, spec: Spec) -> dict[int, list[Any]]:
        """For each child spec, the RM objects (or values) it writes, in instance order."""
        slots: dict[tuple, list[Spec]] = {}
        for cspec in spec.children:
            sig = tuple((s.attr, s.key) for s in cspec.steps[:cspec.owner + 1])
            slots.setdefault(sig, []).append(cspec)
        out: dict[int, list[Any]] = {}
        unclaimed: dict[int, RMObject] = {}
        seen_ok: set[int] = set()
        for sig, members in slots.items():
            first = members[0]
            holders = self._holders(obj, first)
            ostep = first.steps[first.owner]
            for holder in holders:
                value = holder.attrs.get(ostep.attr)
                items = value if isinstance(value, list) else ([] if value is None else [value])
                for item in items:
                    if ostep.key is not None and (not isinstance(item, RMObject) or item.archetype_node_id != ostep.key):
                        if isinstance(item, RMObject) and item.archetype_node_id and id(item) not in seen_ok:
                            unclaimed[id(item)] = item
                        continue
                    seen_ok.add(id(item))
                    unclaimed.pop(id(item), None)
                    target = self._pick(item, members) if len(members) > 1 else first
                    if target is not None:
                        out.setdefault(id(target), []).append(item)
        for item in unclaimed.values():
            if id(item) not in seen_ok:
                self._lost(item, f"{item.rm_type} '{item.archetype_node_id}' ({item.name_value}) has no node in "
                                 "the web template")
        return out

    def _holders(self, obj: RMObject, spec: Spec) -> list[RMObject]:
        current = [obj]
        for step in spec.steps[:spec.owner]:
            nxt: list[RMObject] = []
            for holder in current:
                value = holder.attrs.get(step.attr)
                items = value if isinstance(value, list) else ([] if value is None else [value])
                for item in items:
                    if not isinstance(item, RMObject):
                        continue
                    if step.key is not None and item.archetype_node_id != step.key:
                        continue
                    if step.name is not None and item.name_value not in (None, step.name) and not self._unique(step):
                        continue
                    nxt.append(item)
            current = nxt
        return current

    def _unique(self, step: Any) -> bool:
        return True

    def _pick(self, item: Any, members: list[Spec]) -> Spec | None:
        """The one spec of a shared slot an item belongs to: by name (LOCATABLEs) or by data value type."""
        if not isinstance(item, RMObject):
            return members[0]
        if all(m.kind not in (LOCATABLE, CHOICE) and m.owner == len(m.steps) - 1 for m in members):
            # data value alternatives (ELEMENT choice children): by RM type
            base = item.base_type
            for m in members:
                if m.rm_type.split("<", 1)[0] == base:
                    return m
            if base == "DV_CODED_TEXT":
                for m in members:
                    if m.rm_type == "DV_TEXT":
                        return m
            return None
        name = item.name_value
        code = None
        nm = item.attrs.get("name")
        if isinstance(nm, RMObject) and isinstance(nm.attrs.get("defining_code"), RMObject):
            code = nm.attrs["defining_code"].attrs.get("code_string")
        for m in members:
            if code is not None and m.name_code is not None and m.name_code[1] == code:
                return m
        for m in members:
            if name is not None and (name == m.name or name in m.names.values()):
                return m
        for m in members:
            if m.steps[m.owner].name is None:
                return m
        return members[0]

    def _lost(self, item: Any, why: str) -> None:
        if self.issues is not None:
            loc = item.location if isinstance(item, RMObject) else ""
            self.issues.append(Issue("FLT012", f"left out of the FLAT output: {why}", instance_path=loc or None))

    # --- underscore attributes -------------------------------------------------------------------------------

    def specials(self, obj: RMObject, spec: Spec, prefix: str, out: dict[str, Any]) -> None:
        a = obj.attrs
        t = obj.rm_type
        uid = a.get("uid")
        if isinstance(uid, RMObject):
            out[f"{prefix}/_uid"] = uid.attrs.get("value")
        name = a.get("name")
        if isinstance(name, RMObject):
            default = spec.local_name(self.lang)
            coded = isinstance(name.attrs.get("defining_code"), RMObject)
            expected_code = spec.name_code[1] if spec.name_code else None
            code = name.attrs["defining_code"].attrs.get("code_string") if coded else None
            if name.attrs.get("value") != default or code != expected_code:
                if coded:
                    V.write_coded(name, f"{prefix}/_name", out)
                else:
                    out[f"{prefix}/_name"] = name.attrs.get("value")
        for i, link in enumerate(a.get("links") or ()):
            if isinstance(link, RMObject):
                p = f"{prefix}/_link:{i}"
                out[f"{p}|meaning"] = V.text_of(link.attrs.get("meaning"))
                out[f"{p}|type"] = V.text_of(link.attrs.get("type"))
                out[f"{p}|target"] = V.text_of(link.attrs.get("target"))
        if isinstance(a.get("feeder_audit"), RMObject):
            V.write_feeder_audit(a["feeder_audit"], f"{prefix}/_feeder_audit", out)
        if t in _ENTRY_TYPES:
            if isinstance(a.get("provider"), RMObject):
                V.write_party(a["provider"], f"{prefix}/_provider", out)
            for i, p in enumerate(a.get("other_participations") or ()):
                V.write_participation(p, f"{prefix}/_other_participation:{i}", out)
            if isinstance(a.get("workflow_id"), RMObject):
                V.write_object_ref(a["workflow_id"], f"{prefix}/_work_flow_id", out)
            if isinstance(a.get("guideline_id"), RMObject):
                V.write_object_ref(a["guideline_id"], f"{prefix}/_guideline_id", out)
        if t == "ACTION" and isinstance(a.get("instruction_details"), RMObject):
            d = a["instruction_details"].attrs
            ref = d.get("instruction_id")
            p = f"{prefix}/_instruction_details"
            if isinstance(ref, RMObject):
                out[f"{p}|composition_uid"] = V.text_of(ref.attrs.get("id"))
                if "path" in ref.attrs:
                    out[f"{p}|path"] = ref.attrs["path"]
            if "activity_id" in d:
                out[f"{p}|activity_id"] = d["activity_id"]
        if t == "INSTRUCTION" and isinstance(a.get("wf_definition"), RMObject):
            out[f"{prefix}/_wf_definition|value"] = a["wf_definition"].attrs.get("value")
            out[f"{prefix}/_wf_definition|formalism"] = a["wf_definition"].attrs.get("formalism")
        if t == "ISM_TRANSITION":
            for i, r in enumerate(a.get("reason") or ()):
                out[f"{prefix}/_reason:{i}"] = V.text_of(r)
        if t == "EVENT_CONTEXT":
            if isinstance(a.get("end_time"), RMObject):
                out[f"{prefix}/_end_time"] = a["end_time"].attrs.get("value")
            if isinstance(a.get("health_care_facility"), RMObject):
                V.write_party(a["health_care_facility"], f"{prefix}/_health_care_facility", out)
            for i, p in enumerate(a.get("participations") or ()):
                V.write_participation(p, f"{prefix}/_participation:{i}", out)
            if a.get("location") is not None:
                out[f"{prefix}/_location"] = a["location"]
        if t == "ELEMENT":
            if isinstance(a.get("null_flavour"), RMObject):
                V.write_coded(a["null_flavour"], f"{prefix}/_null_flavour", out)
            if isinstance(a.get("null_reason"), RMObject):
                out[f"{prefix}/_null_reason"] = a["null_reason"].attrs.get("value")
