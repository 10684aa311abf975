"""The validator's fast paths decide exactly as the full checks they stand in for.

Dates and date-times accepted by one regex (and the month's length) against the ISO parsers; verdicts that remember
accepted contents against values that are equal but not the same (1 and True); checks compiled from a template's
first validation against later validations of the same compositions.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openehr_kit.am.model import CAttribute, CComplexObject, CInteger, CPrimitiveObject, Interval
from openehr_kit.rm.canonical_json import read_canonical_json
from openehr_kit.rm.instance import RMObject
from openehr_kit.validation import validator as V
from openehr_kit.validation.datavalues import quiet_check
from openehr_kit.validation.primitives import (
    IsoError,
    date_problem,
    date_time_problem,
    parse_date,
    parse_date_time,
)
from openehr_kit.validation.report import Reporter, Where


def _parse_problem(parse, text: str) -> str | None:  # type: ignore[no-untyped-def]
    try:
        parse(text)
    except IsoError as exc:
        return str(exc)
    return None


@pytest.mark.parametrize("year", ["2023", "2024", "1900", "2000"])
def test_every_day_of_every_month_as_the_parsers_say(year: str) -> None:
    for month in range(0, 14):
        for day in range(0, 33):
            date = f"{year}-{month:02d}-{day:02d}"
            assert date_problem(date) == _parse_problem(parse_date, date), date
            for time in ("T00:00:00", "T23:59:59.5Z", "T10:05:00+02:00", "T24:00:00", "T10:60:00", "T10:05:00+24:00"):
                assert date_time_problem(date + time) == _parse_problem(parse_date_time, date + time), date + time


_DIGIT = st.sampled_from("0123456789")


@settings(max_examples=400, deadline=None)
@given(st.tuples(st.text(_DIGIT, min_size=4, max_size=4), st.text(_DIGIT, min_size=2, max_size=2),
                 st.text(_DIGIT, min_size=2, max_size=2), st.text(st.sampled_from("0123456789T:+-.,Z"), max_size=14)))
def test_date_fast_paths_agree_with_the_parsers(parts: tuple[str, str, str, str]) -> None:
    y, m, d, rest = parts
    for text in (f"{y}-{m}-{d}", f"{y}-{m}-{d}{rest}"):
        assert date_problem(text) == _parse_problem(parse_date, text)
        assert date_time_problem(text) == _parse_problem(parse_date_time, text)


def test_a_remembered_verdict_tells_equal_values_of_other_types_apart() -> None:
    magnitude = CAttribute("magnitude", Interval(1, 1), [
        CPrimitiveObject("INTEGER", None, Interval(1, 1), CInteger(range=Interval(0, 10)))])
    verdict = quiet_check(CComplexObject("DV_COUNT", None, Interval(1, 1), [magnitude]), "DV_COUNT",
                          Where("", ""), Reporter())
    for _ in range(2):
        assert verdict(RMObject("DV_COUNT", {"magnitude": 1}))
        assert not verdict(RMObject("DV_COUNT", {"magnitude": True}))  # 1 == True, but a boolean is no count
        assert not verdict(RMObject("DV_COUNT", {"magnitude": 11}))
        assert not verdict(RMObject("DV_COUNT", {"magnitude": "1"}))


def test_first_validation_reports_as_later_ones() -> None:
    from openehr_kit.pipeline.exporter import load_templates
    from openehr_kit.pipeline.synthetic import iter_ndjson

    V._TABLE_CACHE.clear()  # the templates' checks are compiled anew, from the first composition on
    templates = load_templates([])
    lines = list(iter_ndjson(14, invalid_every=7))
    runs = []
    for _ in range(3):
        issues = []
        for line in lines:
            comp = read_canonical_json(json.loads(line)["composition"], root_type="COMPOSITION")
            found = V.validate_composition(comp, templates[V.composition_template_id(comp)])
            issues.append([(i.code, i.message, i.template_path, i.instance_path) for i in found])
        runs.append(issues)
    assert runs[0] == runs[1] == runs[2]
    assert any(runs[0]) and not all(runs[0])  # the invalid compositions are reported, the others are not
