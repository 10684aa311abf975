"""The quick paths of registry export against the slow ones they stand for, on generated messages.

render() writes KREMT XML and JSON from per-format layouts, answers check_values with a compiled plan, checks a
JSON message's schema with a compiled check (shorter still for values check_values passed) and keeps the verdicts
of national identity numbers. Each must give exactly what its reference gives: lxml's bytes, json.dumps' text,
the reporting walk's verdict, jsonschema's verdict and the uncached identity check.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from unittest import mock

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openehr_kit.mapping import exports
from openehr_kit.mapping.exports import ExportContext, check_values, fill_values, to_json_document
from openehr_kit.mapping.formats import ExportFormat, FieldDef, bundled_formats
from openehr_kit.mapping.identity import _verdict, check_digits, check_national_id

TODAY = dt.date(2026, 6, 1)
CREATED = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.timezone.utc)
FORMATS = bundled_formats()
XML_KEYS = sorted(k for k, f in FORMATS.items() if f.serialisation == "kremt-xml")
JSON_KEYS = sorted(k for k, f in FORMATS.items() if f.serialisation == "json")
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)

#: text with what escaping and encoding care about: quotes, backslashes, markup, control and line characters,
#: Norwegian letters and characters outside the BMP
NASTY = '"\\<>&\'\x00\x01\x1f\x7f\x85\u2028\ufffeæøåÆØÅ\U0001F600'
texts = st.text(alphabet=st.one_of(st.characters(codec="utf-8"), st.sampled_from(NASTY)), max_size=24)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True), texts,
                    st.just(""), st.just([]))


def plausible(f: FieldDef) -> st.SearchStrategy[Any]:
    """Values that mostly pass the field's rules, now and then anything."""
    good: st.SearchStrategy[Any]
    if f.type == "code" and f.codes:
        good = st.sampled_from(list(f.codes))
    elif f.type == "boolean":
        good = st.booleans()
    elif f.type == "integer":
        good = st.integers(int(f.minimum if f.minimum is not None else -5), int(f.maximum if f.maximum is not None else 500))
    elif f.type == "number":
        good = st.floats(f.minimum if f.minimum is not None else -5.0, f.maximum if f.maximum is not None else 500.0)
    elif f.type == "date":
        good = st.dates(dt.date(1990, 1, 1), dt.date(2027, 12, 31)).map(dt.date.isoformat)
    elif f.type == "datetime":
        good = st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2027, 12, 31)).map(
            lambda d: d.isoformat(timespec="seconds") + "Z")
    elif f.pattern:
        good = st.from_regex(f.pattern, fullmatch=True)
    else:
        good = st.text(max_size=f.max_length or 40)
    if f.repeat:
        good = st.one_of(st.lists(good, min_size=1, max_size=3), good)
    return st.one_of(good, good, good, scalars)


def message_values(fmt: ExportFormat) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional={f.name: plausible(f) for f in fmt.fields
                                               if f.fill is None and not f.internal_only})


def context(kind: str = "N", **kw: Any) -> ExportContext:
    kw.setdefault("message_version", 0 if kind == "N" else 1)
    return ExportContext(national_id="01010012356", patient_name="Æøå Pasient", created=CREATED,
                         composition_uid="c::s::1", message_kind=kind, **kw)


def complete(fmt: ExportFormat, values: dict[str, Any], ctx: ExportContext) -> dict[str, Any]:
    filled, _ = fill_values(fmt, ctx)
    return {**values, **filled}


def walk(fmt: ExportFormat, values: dict[str, Any]) -> list[Any]:
    """check_values by its reporting walk alone."""
    with mock.patch.object(exports._CheckPlan, "fits", lambda self, values, today: False):
        return check_values(fmt, values, today=TODAY)


@pytest.mark.parametrize("key", XML_KEYS)
@SETTINGS
@given(data=st.data())
def test_xml_layout_writes_what_lxml_writes(key: str, data: st.DataObject) -> None:
    fmt = FORMATS[key]
    values = complete(fmt, data.draw(message_values(fmt)), context(data.draw(st.sampled_from("NMC"))))
    plan = exports._xml_plan(fmt)
    assert plan is not None
    quick = plan.render(values)
    try:
        reference = exports._to_xml_lxml(fmt, values)
    except ValueError:  # lxml refuses the text: the layout must leave it to lxml
        assert quick is None
        return
    assert quick is None or quick == reference


@pytest.mark.parametrize("key", JSON_KEYS)
@SETTINGS
@given(data=st.data())
def test_json_layout_writes_what_json_dumps_writes(key: str, data: st.DataObject) -> None:
    fmt = FORMATS[key]
    ctx = context(data.draw(st.sampled_from("NMC")), message_id=data.draw(st.one_of(texts, st.just("m-1"))))
    doc = to_json_document(fmt, data.draw(message_values(fmt)), ctx, ctx.message_id or "id",
                           data.draw(st.one_of(texts, st.just(""))))
    assert exports._message_json_text(fmt, doc) == json.dumps(doc, ensure_ascii=False, indent=2)


@pytest.mark.parametrize("key", JSON_KEYS)
@SETTINGS
@given(data=st.data())
def test_schema_check_of_checked_values_agrees_with_jsonschema(key: str, data: st.DataObject) -> None:
    fmt = FORMATS[key]
    ctx = context(data.draw(st.sampled_from("NMC")), message_version=data.draw(st.sampled_from([0, 1, -1, 2.0])))
    values = complete(fmt, data.draw(message_values(fmt)), ctx)
    if ctx.message_kind != "C" and check_values(fmt, values, today=TODAY):
        return  # render stops at check_values' issues
    doc = to_json_document(fmt, values, ctx, "m-1", "e")
    quick = exports._schema_problems(fmt, doc, values_checked=True)
    reference = list(jsonschema.Draft202012Validator(exports.json_schema(fmt)).iter_errors(doc))
    assert [(e.message, list(e.absolute_path)) for e in quick] == \
        [(e.message, list(e.absolute_path)) for e in reference]


@pytest.mark.parametrize("key", sorted(FORMATS))
@SETTINGS
@given(data=st.data())
def test_check_plan_says_fits_only_when_the_walk_finds_nothing(key: str, data: st.DataObject) -> None:
    fmt = FORMATS[key]
    values = complete(fmt, data.draw(message_values(fmt)), context())
    reported = walk(fmt, values)
    if exports._check_plan(fmt).fits(values, TODAY):
        assert reported == []
    assert check_values(fmt, values, today=TODAY) == reported


number_schemas = st.fixed_dictionaries(
    {"type": st.sampled_from(["integer", "number", "boolean", "string"])},
    optional={"minimum": st.integers(-3, 3), "maximum": st.floats(-3, 3), "title": st.just("t")})


@SETTINGS
@given(schema=number_schemas, instance=scalars)
def test_compiled_number_and_boolean_checks_agree_with_jsonschema(schema: dict[str, Any], instance: Any) -> None:
    check = exports.compile_schema_check(schema)
    assert check is not None
    assert check(instance) == jsonschema.Draft202012Validator(schema).is_valid(instance)


@SETTINGS
@given(instance=st.dictionaries(st.sampled_from("abcdefg"), scalars, max_size=7))
def test_compiled_properties_check_agrees_with_jsonschema(instance: dict[str, Any]) -> None:
    for names in ("a", "abc", "abcdefg"):  # fewer and more properties than the instance has members
        schema = {"properties": {n: {"type": "integer", "minimum": 0} for n in names}}
        check = exports.compile_schema_check(schema)
        assert check is not None
        assert check(instance) == jsonschema.Draft202012Validator(schema).is_valid(instance)


def some_ids() -> st.SearchStrategy[Any]:
    built = st.builds(lambda d, m, y, i: f"{d:02d}{m:02d}{y:02d}{i:03d}", st.integers(1, 71), st.integers(1, 12),
                      st.integers(0, 99), st.integers(0, 999)).map(lambda nine: nine + (check_digits(nine) or "00"))
    return st.one_of(built, st.text("0123456789", min_size=11, max_size=11), st.text(max_size=13),
                     st.integers(), st.none())


@SETTINGS
@given(value=some_ids())
def test_national_id_verdicts_are_the_same_from_the_cache(value: Any) -> None:
    for _ in range(2):  # worked out, then (for an 11-character text) from the cache
        assert check_national_id(value) == _verdict(value)
