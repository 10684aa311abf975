"""The compiled mapping engine keeps nothing between compositions or between the entries of one composition.

A mapping is compiled once into a plan that reads every source path of a composition up front (root paths once,
paths below the for_each entry again for each entry). These tests pin that down: each entry's message is what a
composition holding only that entry gives, and a plan reused over many compositions gives what a fresh one gives.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from openehr_kit.content import content_dir
from openehr_kit.mapping.engine import apply_mapping
from openehr_kit.mapping.loader import load_mapping
from openehr_kit.mapping.pipeline import bundled_template
from openehr_kit.rm.canonical_json import read_canonical_json
from openehr_kit.rm.instance import RMObject

EXAMPLES = content_dir("templates") / "examples"
MAPPINGS = sorted(content_dir("mappings").glob("*.yaml"))
ASSESSMENT = "openEHR-EHR-EVALUATION.fracture_clinical_assessment.v0"
TREATMENT = "openEHR-EHR-ACTION.fracture_treatment.v0"


def _read(path: Path) -> RMObject:
    return read_canonical_json(json.loads(path.read_text(encoding="utf-8")), root_type="COMPOSITION")


def _drop_items(entry: RMObject, node_ids: set[str]) -> None:
    """Remove the ELEMENTs with these node ids anywhere below the entry."""
    for value in entry.attrs.values():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, RMObject):
                _drop_items(item, node_ids)
    items = entry.attrs.get("items")
    if isinstance(items, list):
        items[:] = [i for i in items if not (isinstance(i, RMObject) and i.attrs.get("archetype_node_id") in node_ids)]


def _with_content(comp: RMObject, content: list[Any]) -> RMObject:
    out = copy.deepcopy(comp)
    out.attrs["content"] = copy.deepcopy(content)
    return out


def test_each_entry_is_mapped_on_its_own() -> None:
    m = load_mapping(content_dir("mappings") / "nfr-fracture_registration.yaml")
    template = bundled_template(m.template_id)
    comp = _read(EXAMPLES / "fracture_registration" / "fracture_ankle_nonoperative.json")
    content = comp.attrs["content"]
    assessment = next(c for c in content if c.attrs.get("archetype_node_id") == ASSESSMENT)
    treatment = next(c for c in content if c.attrs.get("archetype_node_id") == TREATMENT)
    others = [c for c in content if c is not assessment and c is not treatment]
    # a second fracture without side, mechanism and AO location: its message must not take the first one's values
    second = copy.deepcopy(assessment)
    _drop_items(second, {"at0018", "at0008", "at0021"})
    both = _with_content(comp, [assessment, second, treatment, copy.deepcopy(treatment), *others])

    msgs = apply_mapping(m, both, template)
    alone = [apply_mapping(m, _with_content(comp, [a, treatment, *others]), template)[0] for a in (assessment, second)]
    assert [msg.entry_key for msg in msgs] == ["0", "1"]
    assert msgs[0].values == alone[0].values and msgs[0].issues == alone[0].issues
    assert msgs[1].values == alone[1].values and msgs[1].issues == alone[1].issues
    assert "side" in msgs[0].values and "side" not in msgs[1].values


def test_a_reused_plan_gives_what_a_fresh_one_gives() -> None:
    comps = [_read(p) for p in sorted(EXAMPLES.rglob("*.json"))
             if not p.name.endswith((".flat.json", ".expected.json")) and "content" in p.read_text(encoding="utf-8")]
    assert len(comps) > 20
    for path in MAPPINGS:
        reused = load_mapping(path)
        fresh = load_mapping(path)
        template = bundled_template(reused.template_id)
        for comp in comps:  # the compositions of other templates give MAP104 with either
            fresh.compiled = None
            assert repr(apply_mapping(reused, comp, template)) == repr(apply_mapping(fresh, comp, template))
