"""Data-value validators: fixtures per data type (valid and each kind of invalid), properties, corpus sanity."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openehr_kit.am.model import (
    ArchetypeInternalRef,
    CAttribute,
    CBoolean,
    CCodePhrase,
    CComplexObject,
    CDateTime,
    CDuration,
    CDvOrdinal,
    CDvQuantity,
    CDvScale,
    CInteger,
    CodePhrase,
    ConstraintRef,
    CPrimitiveObject,
    CQuantityItem,
    CReal,
    CString,
    Interval,
    OrdinalItem,
    ScaleItem,
    Terminology,
)
from openehr_kit.diagnostics import REGISTRY
from openehr_kit.rm.instance import RMObject
from openehr_kit.validation.datavalues import DATA_VALUE_TYPES, check_data_value, uri_problem
from openehr_kit.validation.report import Reporter, Where

TERMS = Terminology(
    original_language="en",
    term_definitions={
        "en": {
            "at1000": {"text": "Standing"},
            "at1001": {"text": "Sitting"},
            "at1002": {"text": "Lying"},
            "at0014": {"text": "None"},
            "at0015": {"text": "Mild"},
            "at0016": {"text": "Severe "},  # a trailing blank in the template
            "at0099": {"text": "Only in English"},
        },
        "de": {
            "at1000": {"text": "Stehend"},
            "at1001": {"text": "Sitzend"},
            "at1002": {"text": "Liegend"},
        },
    },
)
W = Where("/data[at0001]/items[at0004]/value", "/content/0/data/items/0/value", label="Position", terminology=TERMS)


def obj(rm_type: str, **attrs: Any) -> RMObject:
    return RMObject(rm_type, attrs)


def cp(terminology: str, code: str) -> RMObject:
    return obj("CODE_PHRASE", terminology_id=obj("TERMINOLOGY_ID", value=terminology), code_string=code)


def coded(value: str, code: str, terminology: str = "local") -> RMObject:
    return obj("DV_CODED_TEXT", value=value, defining_code=cp(terminology, code))


def prim(rm: str, item: Any) -> CPrimitiveObject:
    return CPrimitiveObject(rm, item=item)


def complex_(rm: str, **attrs: Any) -> CComplexObject:
    return CComplexObject(rm, attributes=[CAttribute(name, children=[c]) for name, c in attrs.items()])


def run(constraint: Any, value: RMObject, where: Where = W) -> Reporter:
    rep = Reporter()
    check_data_value(constraint, value, where, rep)
    for issue in rep.issues:
        assert issue.code in REGISTRY, issue
        assert "RMObject(" not in issue.message and " object at 0x" not in issue.message
    return rep


def codes(constraint: Any, value: RMObject, where: Where = W) -> list[str]:
    return [i.code for i in run(constraint, value, where).issues]


def messages(constraint: Any, value: RMObject, where: Where = W) -> list[str]:
    return [i.message for i in run(constraint, value, where).issues]


# ---------------------------------------------------------------------------------------------------------------
# DV_TEXT / DV_CODED_TEXT / CODE_PHRASE

POSITION = complex_(
    "DV_CODED_TEXT", defining_code=CCodePhrase("CODE_PHRASE", terminology_id="local", code_list=["at1000", "at1001", "at1002"])
)


def test_dv_text() -> None:
    assert codes(None, obj("DV_TEXT", value="free text\nwith lines")) == []
    assert codes(None, obj("DV_TEXT")) == ["VAL006"]
    assert codes(None, obj("DV_TEXT", value=12)) == ["VAL123"]
    assert codes(None, obj("DV_TEXT", value="  ")) == ["VAL126"]
    listed = complex_("DV_TEXT", value=prim("STRING", CString(list=["left", "right"])))
    assert codes(listed, obj("DV_TEXT", value="left")) == []
    assert messages(listed, obj("DV_TEXT", value="middle")) == ['Position: value "middle" is not allowed; allowed: "left", "right"']
    patterned = complex_("DV_TEXT", value=prim("STRING", CString(pattern="\\d{3}")))
    assert codes(patterned, obj("DV_TEXT", value="12a")) == ["VAL109"]
    # a DV_TEXT constraint also applies to a DV_CODED_TEXT value (a subtype)
    assert codes(listed, coded("middle", "at1000")) == ["VAL109", "VAL108"]


def test_coded_text_valid_and_in_list() -> None:
    assert codes(POSITION, coded("Sitting", "at1001")) == []


def test_coded_text_code_not_in_list() -> None:
    rep = run(POSITION, coded("Sitting", "at0099"))
    assert [i.code for i in rep.issues] == ["VAL106"]
    assert rep.issues[0].message == (
        "Position: code at0099 is not in the allowed list (at1000 Standing, at1001 Sitting, at1002 Lying)"
    )
    assert rep.issues[0].instance_path == "/content/0/data/items/0/value/defining_code/code_string"


def test_coded_text_wrong_terminology() -> None:
    rep = run(POSITION, coded("Sitting", "123", "SNOMED-CT"))
    assert [i.code for i in rep.issues] == ["VAL107"]
    assert 'terminology "SNOMED-CT" is not allowed here; expected local' in rep.issues[0].message


def test_coded_text_term_text() -> None:
    rep = run(POSITION, coded("Sittng", "at1001"))
    assert [i.code for i in rep.issues] == ["VAL108"]
    assert rep.issues[0].message == 'Position: value "Sittng" is not the term text "Sitting" of code at1001'
    assert rep.issues[0].instance_path.endswith("/value/value")
    # intrinsic: the text is checked even without a constraint, when the terminology is known
    assert codes(None, coded("Sittng", "at1001")) == ["VAL108"]
    # white space differences are not errors
    assert codes(None, coded("Severe", "at0016")) == []
    assert codes(None, coded(" Sitting ", "at1001")) == []


def test_coded_text_language_rules() -> None:
    german = Where(W.template_path, W.instance_path, label="Position", terminology=TERMS, language="de")
    assert codes(POSITION, coded("Sitzend", "at1001"), german) == []
    # the text of another language the archetype defines is accepted (DV_TEXT.language: a text may be in a
    # language other than the composition's), e.g. the English term in a German composition
    assert codes(POSITION, coded("Sitting", "at1001"), german) == []
    # a text in no language is VAL108; the message names the composition language's text
    rep = run(POSITION, coded("Sitzt", "at1001"), german)
    assert [i.code for i in rep.issues] == ["VAL108"]
    assert rep.issues[0].message == 'Position: value "Sitzt" is not the term text "Sitzend" of code at1001'
    assert rep.issues[0].expected == "Sitzend"
    # a code without a text in the composition language: the original language's text in the message
    assert codes(None, coded("Only in English", "at0099"), german) == []
    assert messages(None, coded("Only in German", "at0099"), german) == [
        'Position: value "Only in German" is not the term text "Only in English" of code at0099'
    ]
    # a language the terminology lacks entirely: any language it has
    swedish = Where(W.template_path, W.instance_path, terminology=TERMS, language="sv")
    assert codes(None, coded("Sitting", "at1001"), swedish) == []
    assert codes(None, coded("Sitzend", "at1001"), swedish) == []
    assert codes(None, coded("Sittande", "at1001"), swedish) == ["VAL108"]


def test_coded_text_term_in_another_language_corpus(shared: Path) -> None:
    """cistec body weight: the English term of at0028 in a German composition is the term, not an error."""
    from openehr_kit.opt.loader import load_opt
    from openehr_kit.validation.validator import validate_file

    corpus = shared / "corpus"
    template = load_opt(corpus / "opt/ehrbase-integration-tests/valid_templates/all_types/cistec.openehr.body_weight.v1.opt")
    result = validate_file(corpus / "compositions/ehrbase-integration-tests/cistec.openehr.body_weight.v1/canonical_json/"
                           "composition_feeder_audit_in_element.json", template)
    assert [i for i in result.issues if i.code == "VAL108"] == []


def test_coded_text_open_list_and_external_value_set() -> None:
    any_local = complex_("DV_CODED_TEXT", defining_code=CCodePhrase("CODE_PHRASE", terminology_id="local"))
    assert codes(any_local, coded("Lying", "at1002")) == []
    snomed_any = complex_("DV_CODED_TEXT", defining_code=CCodePhrase("CODE_PHRASE", terminology_id="SNOMED-CT"))
    assert codes(snomed_any, coded("whatever text", "22298006", "SNOMED-CT")) == []  # external: no text check
    assert codes(snomed_any, coded("x", "22298006", "SNOMED-CT(2003)")) == []  # the version does not matter
    ac = complex_("DV_CODED_TEXT", defining_code=ConstraintRef("CODE_PHRASE", reference="ac0001"))
    assert codes(ac, coded("Anything", "C0001", "ICD10")) == []
    value_set = complex_(
        "DV_CODED_TEXT",
        defining_code=CCodePhrase("CODE_PHRASE", terminology_id="LOINC", reference_set_uri="terminology://fhir.hl7.org/ValueSet/x"),
    )
    assert codes(value_set, coded("Hb", "718-7", "LOINC")) == []


def test_coded_text_alternative_code_constraints() -> None:
    c = CComplexObject(
        "DV_CODED_TEXT",
        attributes=[
            CAttribute(
                "defining_code",
                children=[
                    CCodePhrase("CODE_PHRASE", terminology_id="local", code_list=["at1000"]),
                    CCodePhrase("CODE_PHRASE", terminology_id="SNOMED-CT", code_list=["22298006"]),
                ],
            )
        ],
    )
    assert codes(c, coded("Standing", "at1000")) == []
    assert codes(c, coded("MI", "22298006", "SNOMED-CT")) == []
    assert codes(c, coded("Sitting", "at1001")) == ["VAL106"]
    assert codes(c, coded("x", "1", "LOINC")) == ["VAL107"]


def test_coded_text_openehr_terms() -> None:
    pytest.importorskip("openehr_kit.terminology.openehr")
    category = complex_("DV_CODED_TEXT", defining_code=CCodePhrase("CODE_PHRASE", terminology_id="openehr", code_list=["433"]))
    assert codes(category, coded("event", "433", "openehr")) == []
    assert codes(category, coded("persistent", "433", "openehr")) == ["VAL108"]
    msg = messages(category, coded("persistent", "433", "openehr"))[0]
    assert 'value "persistent" is not the openEHR term text "event" of code 433' in msg
    rep = run(category, coded("persistent", "431", "openehr"))
    assert [i.code for i in rep.issues] == ["VAL106"]
    assert "431 persistent" in rep.issues[0].message and "433 event" in rep.issues[0].message
    # German compositions carry the English rubric (no German translation of the openEHR terminology)
    german = Where(W.template_path, W.instance_path, language="de")
    assert codes(None, coded("event", "433", "openehr"), german) == []
    # the rubric in any bundled language is accepted (Spanish in a German composition); the message gives the
    # rubric in the composition language
    assert codes(None, coded("evento", "433", "openehr"), german) == []
    spanish = Where(W.template_path, W.instance_path, language="es")
    assert codes(None, coded("event", "433", "openehr"), spanish) == []
    assert messages(None, coded("Ereignis", "433", "openehr"), spanish) == [
        'value "Ereignis" is not the openEHR term text "evento" of code 433'
    ]
    # an unknown openEHR code under a template constraint (any openEHR code)
    any_openehr = complex_("DV_CODED_TEXT", defining_code=CCodePhrase("CODE_PHRASE", terminology_id="openehr"))
    assert codes(any_openehr, coded("nonsense", "999999", "openehr")) == ["VAL122"]


def test_coded_text_malformed() -> None:
    assert codes(None, obj("DV_CODED_TEXT", value="x")) == ["VAL006"]
    assert codes(None, obj("DV_CODED_TEXT", value="x", defining_code=obj("CODE_PHRASE", code_string="at1"))) == ["VAL006"]
    assert codes(None, obj("DV_CODED_TEXT", value="x", defining_code="at0001")) == ["VAL123"]
    bad = obj("DV_CODED_TEXT", value="x", defining_code=obj("CODE_PHRASE", terminology_id=obj("TERMINOLOGY_ID", value="local"), code_string=5))
    assert codes(None, bad) == ["VAL123"]


def test_code_phrase_standalone() -> None:
    lang = CCodePhrase("CODE_PHRASE", terminology_id="ISO_639-1", code_list=["en", "de"])
    assert codes(lang, cp("ISO_639-1", "en")) == []
    assert codes(lang, cp("ISO_639-1", "fr")) == ["VAL106"]
    assert codes(lang, cp("ISO_639-2", "en")) == ["VAL107"]
    assert codes(None, obj("CODE_PHRASE", terminology_id=obj("TERMINOLOGY_ID", value="x"))) == ["VAL006"]


# ---------------------------------------------------------------------------------------------------------------
# DV_QUANTITY / DV_COUNT / DV_PROPORTION

BP = CDvQuantity(
    "DV_QUANTITY",
    list=[
        CQuantityItem("mm[Hg]", Interval(0.0, 1000.0), Interval(0, 0)),
        CQuantityItem("kPa", Interval(0.0, 133.0), Interval(1, 1)),
    ],
)


def qty(magnitude: Any, units: Any, **kw: Any) -> RMObject:
    return obj("DV_QUANTITY", magnitude=magnitude, units=units, **kw)


def test_quantity_valid() -> None:
    assert codes(BP, qty(120.0, "mm[Hg]")) == []
    assert codes(BP, qty(120, "mm[Hg]")) == []
    assert codes(BP, qty(12.5, "kPa")) == []
    assert codes(CDvQuantity("DV_QUANTITY"), qty(5, "anything")) == []  # no list: any unit


def test_quantity_unit_not_allowed() -> None:
    rep = run(BP, qty(120.0, "mmHg"))
    assert [i.code for i in rep.issues] == ["VAL101"]
    assert rep.issues[0].message == 'Position: unit "mmHg" is not allowed; allowed: mm[Hg], kPa'
    assert rep.issues[0].instance_path.endswith("/value/units")


def test_quantity_magnitude_range() -> None:
    assert messages(BP, qty(1200.0, "mm[Hg]")) == ["Position: magnitude 1200.0 mm[Hg] is above the maximum 1000.0"]
    assert codes(BP, qty(-1, "mm[Hg]")) == ["VAL102"]
    assert codes(BP, qty(133.5, "kPa")) == ["VAL102"]
    exclusive = CDvQuantity("DV_QUANTITY", list=[CQuantityItem("1", Interval(0.0, 1.0, False, True))])
    assert codes(exclusive, qty(0.0, "1")) == ["VAL102"]


def test_quantity_precision() -> None:
    assert codes(BP, qty(120.5, "mm[Hg]")) == ["VAL103"]
    assert codes(BP, qty(12.55, "kPa")) == ["VAL103"]
    assert codes(BP, qty(12.5, "kPa", precision=2)) == ["VAL103"]
    assert codes(None, qty(12.5, "kPa", precision=0)) == ["VAL103"]
    assert codes(None, qty(12.5, "kPa", precision=-2)) == ["VAL103"]
    assert codes(None, qty(12.5, "kPa", precision=-1)) == []


def test_quantity_malformed() -> None:
    assert codes(None, obj("DV_QUANTITY", units="kg")) == ["VAL006"]
    assert codes(BP, qty("120", "mm[Hg]")) == ["VAL123"]
    assert codes(BP, qty(True, "mm[Hg]")) == ["VAL123"]
    assert codes(BP, qty(float("nan"), "mm[Hg]")) == ["VAL123"]
    assert codes(None, qty(1.0, None)) == ["VAL006"]


def test_quantity_as_complex_object() -> None:
    c = complex_(
        "DV_QUANTITY",
        magnitude=prim("REAL", CReal(range=Interval(0.0, 10.0))),
        units=prim("STRING", CString(list=["kg"])),
    )
    assert codes(c, qty(5.0, "kg")) == []
    assert codes(c, qty(11.0, "kg")) == ["VAL102"]
    assert codes(c, qty(5.0, "g")) == ["VAL101"]


def test_quantity_normal_range_is_checked() -> None:
    bad_range = obj(
        "DV_INTERVAL",
        lower=qty(10.0, "kg"),
        upper=qty(5.0, "kg"),
        lower_unbounded=False,
        upper_unbounded=False,
    )
    rep = run(None, qty(7.0, "kg", normal_range=bad_range))
    assert [i.code for i in rep.issues] == ["VAL125"]
    assert rep.issues[0].instance_path.endswith("/value/normal_range")


def test_count() -> None:
    c = complex_("DV_COUNT", magnitude=prim("INTEGER", CInteger(range=Interval(0, 10))))
    assert codes(c, obj("DV_COUNT", magnitude=3)) == []
    assert codes(c, obj("DV_COUNT", magnitude=3.0)) == []  # an integral float: JSON writers differ
    assert codes(c, obj("DV_COUNT", magnitude=11)) == ["VAL104"]
    assert messages(c, obj("DV_COUNT", magnitude=11)) == ["Position: magnitude 11 is above the maximum 10"]
    assert codes(c, obj("DV_COUNT", magnitude=3.5)) == ["VAL123"]
    assert codes(c, obj("DV_COUNT")) == ["VAL006"]


def prop(n: Any, d: Any, t: Any, **kw: Any) -> RMObject:
    return obj("DV_PROPORTION", numerator=n, denominator=d, type=t, **kw)


@pytest.mark.parametrize(
    "value, expected",
    [
        (prop(975.5, 949.2, 0), []),
        (prop(0.5, 1, 1), []),
        (prop(50, 100, 2), []),
        (prop(1, 3, 3), []),
        (prop(5, 4, 4), []),
        (prop(0.5, 2, 1), ["VAL105"]),  # unitary: denominator 1
        (prop(50, 10, 2), ["VAL105"]),  # percent: denominator 100
        (prop(1.5, 3, 3), ["VAL105"]),  # fraction: whole numbers
        (prop(1, 2.5, 4), ["VAL105"]),
        (prop(1, 0, 0), ["VAL105"]),  # no zero denominator
        (prop(1, 2, 7), ["VAL105"]),  # not a proportion kind
        (prop(1.5, 2, 0, precision=0), ["VAL105"]),
        (prop("1", 2, 0), ["VAL123"]),
        (obj("DV_PROPORTION", numerator=1, type=0), ["VAL006"]),
    ],
)
def test_proportion_intrinsic(value: RMObject, expected: list[str]) -> None:
    assert codes(None, value) == expected


def test_proportion_constraint() -> None:
    c = complex_(
        "DV_PROPORTION",
        numerator=prim("REAL", CReal(range=Interval(0.0, 100.0))),
        type=prim("INTEGER", CInteger(list=[2])),
    )
    assert codes(c, prop(50, 100, 2)) == []
    assert codes(c, prop(150, 100, 2)) == ["VAL105"]
    assert codes(c, prop(0.5, 1, 1)) == ["VAL105"]


def test_computed_attribute_is_never_required() -> None:
    # minimal_action2.opt gives DV_PROPORTION.is_integral existence 1..1; it is an RM function, never serialised
    c = CComplexObject(
        "DV_PROPORTION",
        attributes=[
            CAttribute("is_integral", existence=Interval(1, 1), children=[prim("BOOLEAN", CBoolean(true_valid=True, false_valid=True))]),
            CAttribute("type", existence=Interval(1, 1), children=[prim("INTEGER", CInteger(list=[0]))]),
        ],
    )
    assert codes(c, prop(1, 2, 0)) == []
    # a non-computed attribute the template makes mandatory is still required
    c.attributes.append(CAttribute("precision", existence=Interval(1, 1), children=[prim("INTEGER", CInteger(list=[0]))]))
    assert codes(c, prop(1, 2, 0)) == ["VAL005"]


# ---------------------------------------------------------------------------------------------------------------
# DV_ORDINAL / DV_SCALE

ORD = CDvOrdinal(
    "DV_ORDINAL",
    list=[
        OrdinalItem(0, CodePhrase("local", "at0014")),
        OrdinalItem(1, CodePhrase("local", "at0015")),
        OrdinalItem(2, CodePhrase("local", "at0016")),
    ],
)


def ordinal(value: Any, text: str, code: str) -> RMObject:
    return obj("DV_ORDINAL", value=value, symbol=coded(text, code))


def test_ordinal() -> None:
    assert codes(ORD, ordinal(1, "Mild", "at0015")) == []
    rep = run(ORD, ordinal(5, "Mild", "at0015"))
    assert [i.code for i in rep.issues] == ["VAL110"]
    assert "ordinal value 5 is not one of the allowed values (0 None, 1 Mild, 2 Severe )" in rep.issues[0].message
    rep = run(ORD, ordinal(1, "None", "at0014"))
    assert [i.code for i in rep.issues] == ["VAL110"]
    assert "symbol local::at0014 does not belong to ordinal value 1, whose symbol is local::at0015 Mild" in rep.issues[0].message
    assert (rep.issues[0].expected, rep.issues[0].found) == ("local::at0015", "local::at0014")
    assert codes(ORD, ordinal(1, "Mild!", "at0015")) == ["VAL108"]
    assert codes(None, ordinal(1, "Mild!", "at0015")) == ["VAL108"]
    assert codes(ORD, obj("DV_ORDINAL", value=1)) == ["VAL006"]
    assert codes(ORD, ordinal("1", "Mild", "at0015")) == ["VAL123"]


def test_ordinal_value_shared_by_two_symbols() -> None:
    # NEWS2: value 3 belongs to both at0021 and at0064; either pair is valid, a third symbol is not
    news = CDvOrdinal(
        "DV_ORDINAL",
        list=[
            OrdinalItem(0, CodePhrase("local", "at0014")),
            OrdinalItem(3, CodePhrase("local", "at0015")),
            OrdinalItem(3, CodePhrase("local", "at0016")),
        ],
    )
    assert codes(news, ordinal(3, "Mild", "at0015")) == []
    assert codes(news, ordinal(3, "Severe", "at0016")) == []
    rep = run(news, ordinal(3, "None", "at0014"))
    assert [i.code for i in rep.issues] == ["VAL110"]
    assert ("symbol local::at0014 does not belong to ordinal value 3, whose symbol is local::at0015 Mild or "
            "local::at0016 Severe ") in rep.issues[0].message


def test_ordinal_symbol_terminology_is_part_of_the_pair() -> None:
    external = obj("DV_ORDINAL", value=1, symbol=coded("Mild", "at0015", "external"))
    rep = run(ORD, external)
    assert [i.code for i in rep.issues] == ["VAL110"]
    assert "symbol external::at0015 does not belong to ordinal value 1, whose symbol is local::at0015 Mild" in rep.issues[0].message


def test_scale() -> None:
    c = CDvScale("DV_SCALE", list=[ScaleItem(0.5, CodePhrase("local", "at0014")), ScaleItem(1.5, CodePhrase("local", "at0015"))])
    assert codes(c, obj("DV_SCALE", value=1.5, symbol=coded("Mild", "at0015"))) == []
    assert codes(c, obj("DV_SCALE", value=2.5, symbol=coded("Mild", "at0015"))) == ["VAL110"]
    assert codes(c, obj("DV_SCALE", value=0.5, symbol=coded("Mild", "at0015"))) == ["VAL110"]
    shared_value = CDvScale("DV_SCALE", list=[ScaleItem(0.5, CodePhrase("local", "at0014")), ScaleItem(0.5, CodePhrase("local", "at0015"))])
    assert codes(shared_value, obj("DV_SCALE", value=0.5, symbol=coded("Mild", "at0015"))) == []
    assert codes(shared_value, obj("DV_SCALE", value=0.5, symbol=coded("Mild", "at0015", "external"))) == ["VAL110"]


# ---------------------------------------------------------------------------------------------------------------
# DV_BOOLEAN, temporal values


def test_boolean() -> None:
    only_true = complex_("DV_BOOLEAN", value=prim("BOOLEAN", CBoolean(true_valid=True, false_valid=False)))
    assert codes(only_true, obj("DV_BOOLEAN", value=True)) == []
    assert codes(only_true, obj("DV_BOOLEAN", value=False)) == ["VAL111"]
    assert codes(None, obj("DV_BOOLEAN", value="true")) == ["VAL123"]
    assert codes(None, obj("DV_BOOLEAN")) == ["VAL006"]


def test_date_time() -> None:
    c = complex_("DV_DATE_TIME", value=prim("DATE_TIME", CDateTime(pattern="yyyy-mm-ddTHH:MM:SS")))
    assert codes(c, obj("DV_DATE_TIME", value="2024-03-05T10:15:00+01:00")) == []
    assert codes(c, obj("DV_DATE_TIME", value="2024-03-05")) == ["VAL113"]
    assert codes(c, obj("DV_DATE_TIME", value="2024-02-30T10:15:00")) == ["VAL112"]
    assert codes(None, obj("DV_DATE_TIME", value="2024-03-05T101500")) == ["VAL112"]
    assert codes(None, obj("DV_DATE_TIME", value="2024-03-05T10")) == []
    assert codes(None, obj("DV_DATE_TIME", value=20240305)) == ["VAL123"]
    assert codes(None, obj("DV_DATE_TIME")) == ["VAL006"]
    msg = messages(None, obj("DV_DATE_TIME", value="2023-02-29T10:00:00"))[0]
    assert msg == 'Position: "2023-02-29T10:00:00" is not a valid ISO 8601 date-time: day 29 does not exist in 2023-02 (2023 is not a leap year)'


def test_date_and_time() -> None:
    assert codes(None, obj("DV_DATE", value="2024-03")) == []
    assert codes(None, obj("DV_DATE", value="2024-03-05T10:00")) == ["VAL112"]
    assert codes(None, obj("DV_TIME", value="10:15:30.5Z")) == []
    assert codes(None, obj("DV_TIME", value="25:00")) == ["VAL112"]


def test_duration() -> None:
    c = complex_("DV_DURATION", value=prim("DURATION", CDuration(pattern="PTHMS", range=Interval("PT0S", "PT24H"))))
    assert codes(c, obj("DV_DURATION", value="PT1H30M")) == []
    assert codes(c, obj("DV_DURATION", value="P1D")) == ["VAL115"]
    assert codes(c, obj("DV_DURATION", value="PT25H")) == ["VAL115"]
    assert codes(c, obj("DV_DURATION", value="1 hour")) == ["VAL115"]
    assert codes(None, obj("DV_DURATION", value="-P1D")) == []


# ---------------------------------------------------------------------------------------------------------------
# DV_IDENTIFIER, DV_URI, DV_EHR_URI, DV_MULTIMEDIA, DV_PARSABLE, DV_STATE


def test_identifier() -> None:
    assert codes(None, obj("DV_IDENTIFIER", id="64992602", issuer="Hospital", assigner="Hospital", type="LOCALID")) == []
    assert codes(None, obj("DV_IDENTIFIER", id="123")) == []  # issuer, assigner, type optional (RM 1.1.0)
    assert codes(None, obj("DV_IDENTIFIER", issuer="x")) == ["VAL116"]
    assert codes(None, obj("DV_IDENTIFIER", id=" ")) == ["VAL116"]
    assert codes(None, obj("DV_IDENTIFIER", id="1", type="")) == ["VAL116"]
    assert codes(None, obj("DV_IDENTIFIER", id=1)) == ["VAL123"]
    c = complex_("DV_IDENTIFIER", id=prim("STRING", CString(pattern="\\d{8}")))
    assert codes(c, obj("DV_IDENTIFIER", id="64992602")) == []
    assert codes(c, obj("DV_IDENTIFIER", id="6499")) == ["VAL116"]


@pytest.mark.parametrize(
    "text, ok",
    [
        ("https://cabolabs.com", True),
        ("http://example.org/a%20b?x=1#frag", True),
        ("urn:oid:1.2.3", True),
        ("mailto:a@b.org", True),
        ("www.iana.org", True),  # a relative reference is a URI-reference in RFC 3986
        ("/path/only", True),
        ("http://exa mple.org", False),
        ("http://example.org/ü", False),
        ("http://example.org/%zz", False),
        ("1http://x", False),
        ("", False),
    ],
)
def test_uri_syntax(text: str, ok: bool) -> None:
    assert (uri_problem(text) is None) is ok
    assert codes(None, obj("DV_URI", value=text)) == ([] if ok else ["VAL117"])


def test_ehr_uri() -> None:
    assert codes(None, obj("DV_EHR_URI", value="ehr:/target1")) == []
    assert codes(None, obj("DV_EHR_URI", value="ehr://7d44b88c/compositions/1")) == []
    assert codes(None, obj("DV_EHR_URI", value="https://x.org")) == ["VAL117"]


def media(**kw: Any) -> RMObject:
    return obj("DV_MULTIMEDIA", **kw)


def test_multimedia() -> None:
    png = cp("IANA_media-types", "image/png")
    assert codes(None, media(media_type=png, data="iVBORw0KGgo=", size=1494)) == []
    assert codes(None, media(media_type=png, uri=obj("DV_URI", value="https://x.org/a.png"), size=1)) == []
    assert codes(None, media(media_type=png, size=1)) == ["VAL118"]  # neither data nor uri
    assert codes(None, media(data="x", size=1)) == ["VAL118"]  # no media type
    assert codes(None, media(media_type=png, data="x", size=-1)) == ["VAL118"]
    assert codes(None, media(media_type=png, uri=obj("DV_URI", value="bad uri"), size=1)) == ["VAL117"]
    assert codes(None, media(media_type=cp("mime", "image/png"), data="x", size=1)) == ["VAL118"]
    only_pdf = complex_("DV_MULTIMEDIA", media_type=CCodePhrase("CODE_PHRASE", terminology_id="IANA_media-types", code_list=["application/pdf"]))
    assert codes(only_pdf, media(media_type=png, data="x", size=1)) == ["VAL106"]


def test_multimedia_media_type_registry() -> None:
    iso = pytest.importorskip("openehr_kit.terminology.iso")
    assert iso.is_media_type("image/png")
    assert codes(None, media(media_type=cp("IANA_media-types", "pdf"), data="x", size=1)) == ["VAL118"]


def test_parsable() -> None:
    assert codes(None, obj("DV_PARSABLE", value="P1D", formalism="ISO8601")) == []
    assert codes(None, obj("DV_PARSABLE", value="", formalism="ISO8601")) == ["VAL119"]
    assert codes(None, obj("DV_PARSABLE", value="x")) == ["VAL119"]


def test_state() -> None:
    assert codes(None, obj("DV_STATE", value=coded("Standing", "at1000"), is_terminal=False)) == []
    assert codes(None, obj("DV_STATE", value=coded("Standing", "at1000"))) == ["VAL120"]
    assert codes(None, obj("DV_STATE", is_terminal=True)) == ["VAL120"]


# ---------------------------------------------------------------------------------------------------------------
# DV_INTERVAL


def interval(lower: Any = None, upper: Any = None, **flags: Any) -> RMObject:
    attrs: dict[str, Any] = {"lower_unbounded": lower is None, "upper_unbounded": upper is None}
    if lower is not None:
        attrs["lower"] = lower
        attrs["lower_included"] = True
    if upper is not None:
        attrs["upper"] = upper
        attrs["upper_included"] = True
    attrs.update(flags)
    return RMObject("DV_INTERVAL<DV_COUNT>", attrs)


def count(n: Any) -> RMObject:
    return obj("DV_COUNT", magnitude=n)


def test_interval_valid() -> None:
    assert codes(None, interval(count(1), count(5))) == []
    assert codes(None, interval(count(1))) == []
    assert codes(None, interval(qty(1.0, "kg"), qty(1.0, "kg"))) == []
    dt = lambda s: obj("DV_DATE_TIME", value=s)  # noqa: E731
    assert codes(None, interval(dt("2024-01-01T10:00:00+01:00"), dt("2024-01-01T09:30:00Z"))) == []


def test_interval_invalid() -> None:
    assert codes(None, interval(count(5), count(1))) == ["VAL125"]
    dt = lambda s: obj("DV_DATE_TIME", value=s)  # noqa: E731
    # 21:22+07:00 is 14:22Z, after 21:22+08:00 = 13:22Z
    assert codes(None, interval(dt("2019-01-28T21:22:49+07:00"), dt("2019-01-28T21:22:49+08:00"))) == ["VAL125"]
    assert codes(None, interval(count(1), count(5), lower_unbounded=True, lower_included=False)) == ["VAL125"]
    assert codes(None, interval(count(1), upper_unbounded=False)) == ["VAL125"]
    assert codes(None, interval(upper=count(5), lower_included=True)) == ["VAL125"]
    assert codes(None, interval(qty(1.0, "kg"), count(5))) == ["VAL125"]
    assert codes(None, interval(count("x"), count(5))) == ["VAL123"]  # the bound itself is checked as DV_COUNT
    assert codes(None, interval(count(1), count(5), lower_included="yes")) == ["VAL123"]


def test_interval_bounds_use_the_constraint() -> None:
    c = complex_("DV_INTERVAL<DV_COUNT>", upper=complex_("DV_COUNT", magnitude=prim("INTEGER", CInteger(range=Interval(0, 10)))))
    assert codes(c, interval(count(1), count(5))) == []
    rep = run(c, interval(count(1), count(50)))
    assert [i.code for i in rep.issues] == ["VAL104"]
    assert rep.issues[0].instance_path == "/content/0/data/items/0/value/upper/magnitude"
    assert rep.issues[0].template_path.endswith("/value/upper/magnitude")


# ---------------------------------------------------------------------------------------------------------------
# dispatch and robustness


def test_constraint_for_another_type_is_ignored() -> None:
    assert codes(BP, count(3)) == []  # the walker reports the RM type (VAL007)
    assert codes(ArchetypeInternalRef("DV_QUANTITY", target_path="/x"), qty(1, "kg")) == []
    assert codes(CComplexObject("DV_QUANTITY", any_allowed=True), qty(1, "kg")) == []


def test_not_a_data_value_and_unknown_types() -> None:
    rep = Reporter()
    check_data_value(None, "text", W, rep)  # type: ignore[arg-type]
    assert [i.code for i in rep.issues] == ["VAL123"]
    assert codes(None, obj("DV_SOMETHING_NEW", value=1)) == []
    assert {"DV_TEXT", "DV_CODED_TEXT", "CODE_PHRASE", "DV_INTERVAL", "DV_SCALE"} <= DATA_VALUE_TYPES


@pytest.mark.parametrize("rm_type", sorted(DATA_VALUE_TYPES))
@pytest.mark.parametrize("junk", [None, 1, "x", [], True, {"a": 1}])
def test_junk_attributes_never_crash(rm_type: str, junk: Any) -> None:
    attrs = {name: junk for name in ("value", "magnitude", "units", "defining_code", "symbol", "numerator", "denominator",
                                      "type", "precision", "id", "lower", "upper", "media_type", "data", "uri", "size",
                                      "formalism", "is_terminal", "items", "terminology_id", "code_string",
                                      "lower_unbounded", "upper_unbounded", "normal_range", "thumbnail")}
    rep = Reporter()
    check_data_value(None, RMObject(rm_type, {k: v for k, v in attrs.items() if v is not None}), W, rep)
    check_data_value(POSITION, RMObject(rm_type, {}), W, rep)
    assert all(i.code in REGISTRY for i in rep.issues)


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6))
def test_magnitude_inside_range_iff_no_val102(magnitude: float) -> None:
    item = CQuantityItem("kg", Interval(0.0, 500.0, True, False))
    c = CDvQuantity("DV_QUANTITY", list=[item])
    got = codes(c, qty(magnitude, "kg"))
    inside = 0.0 <= magnitude < 500.0
    assert ("VAL102" in got) is not inside
    assert set(got) <= {"VAL102"}


# ---------------------------------------------------------------------------------------------------------------
# corpus sanity: intrinsic checks over every data value of every canonical JSON composition

#: intrinsic findings believed real, by file name -> codes (see the report in the module docstring of datavalues)
KNOWN_CORPUS_FINDINGS: dict[str, set[str]] = {
    "Test_dv_interval_dv_count_open_constraint.v0__.json": {"VAL125"},  # lower 200 > upper 100
    "Test_dv_interval_dv_quantity_open_constraint.v0__.json": {"VAL125"},  # lower above upper
    "datetime_tests.json": {"VAL125"},  # 21:22+07:00 (14:22Z) after 21:22+08:00 (13:22Z)
    "gecco_personendaten.json": {"VAL125"},  # bounds given while lower/upper_unbounded are true
    "simple_composition_dvinterval.json": {"VAL125"},  # upper_unbounded false but no upper
    "minimal_observation_1.composition.json": {"VAL108"},  # "bother" for openEHR relationship 23 "brother"
    "minimal_observation_2.composition.json": {"VAL108"},
    "minimal_observation_3.composition.json": {"VAL108"},
    "minimal_observation_4.composition.json": {"VAL108"},
    "nested.en.v1.same_template_id_and_uid_updated.json": {"VAL108"},  # "brother" for 24 "sister"
}
KNOWN_PREFIXES = {"Composition-mii-exa-test-data-patient-": {"VAL006"}}  # context/start_time without a value


def _language(comp: RMObject) -> str:
    lang = comp.get("language")
    code = lang.get("code_string") if isinstance(lang, RMObject) else None
    return code if isinstance(code, str) else "en"


def test_corpus_intrinsic_checks_do_not_crash(shared: Path) -> None:
    from openehr_kit.diagnostics import ParseError
    from openehr_kit.rm.canonical_json import read_json_composition

    files = sorted((shared / "corpus" / "compositions").rglob("*.json"))
    files = [f for f in files if "canonical_json" in f.parts]
    if not files:
        pytest.skip("no canonical JSON compositions in the shared corpus")
    read = values = 0
    findings: dict[str, set[str]] = {}
    for f in files:
        try:
            comp = read_json_composition(f.read_bytes(), source=str(f))
        except ParseError:
            continue
        read += 1
        rep = Reporter(file=str(f))
        lang = _language(comp)
        stack = [comp]
        while stack:
            o = stack.pop()
            for _attr, _i, child in o.children():
                if child.base_type in DATA_VALUE_TYPES:
                    values += 1
                    check_data_value(None, child, Where("", child.location, language=lang), rep)
                else:
                    stack.append(child)
        if rep.issues:
            findings[f.name] = findings.get(f.name, set()) | {i.code for i in rep.issues}
    assert read > 100 and values > 5000
    unexpected = {}
    for name, found in findings.items():
        known = KNOWN_CORPUS_FINDINGS.get(name) or next((v for p, v in KNOWN_PREFIXES.items() if name.startswith(p)), set())
        if not found <= known:
            unexpected[name] = found - known
    assert not unexpected, f"intrinsic findings not reviewed yet: {unexpected}"


# ---------------------------------------------------------------------------------------------------------------
# the fast paths (common, valid values accepted without building anything) decide exactly as the full checks:
# values at each boundary of a fast path


@pytest.mark.parametrize(
    "constraint, value, expected",
    [
        (None, obj("DV_TEXT", value="x"), []),
        (None, obj("DV_TEXT", value=" \t"), ["VAL126"]),
        (None, obj("DV_TEXT", value=""), ["VAL126"]),
        (POSITION, coded("Sitting", "at1001"), []),
        (POSITION, coded(" Sitting  ", "at1001"), []),  # white space normalised
        (POSITION, coded("Sitting", "at9999"), ["VAL106"]),
        (POSITION, coded("Sitting", "at1001", "local(1.0)"), []),  # the terminology's version does not matter
        (POSITION, coded("  ", "at1001"), ["VAL126", "VAL108"]),
        (None, coded("Sitting", "at1001", "SNOMED-CT"), []),
        (None, coded("nonsense", "999999", "openehr"), []),  # unknown openEHR code, no constraint: RM rules' call
        (complex_("DV_CODED_TEXT", defining_code=CCodePhrase("CODE_PHRASE", terminology_id="openehr")),
         coded("nonsense", "999999", "openehr"), ["VAL122"]),
        (ConstraintRef("CODE_PHRASE", reference="ac0001"), coded("Anything", "C1", "ICD10"), []),
        (None, obj("DV_CODED_TEXT", value="x", defining_code=obj("CODE_PHRASE", terminology_id="local", code_string="at1001")), ["VAL108"]),
        (BP, qty(1000.0, "mm[Hg]"), []),
        (BP, qty(1000.5, "mm[Hg]"), ["VAL102", "VAL103"]),
        (BP, qty(120.5, "mm[Hg]"), ["VAL103"]),  # precision 0
        (BP, qty(120, "mm[Hg]", precision=0), []),
        (BP, qty(True, "mm[Hg]"), ["VAL123"]),
        (BP, qty(float("inf"), "mm[Hg]"), ["VAL123"]),
        (BP, qty(120, "cm"), ["VAL101"]),
        (None, qty(120, "cm", normal_range=obj("DV_INTERVAL", lower=qty(1, "cm"), upper=qty(0, "cm"))), ["VAL125"]),
        (None, count(3), []),
        (None, count(3.0), []),
        (None, count(3.5), ["VAL123"]),
        (None, count(True), ["VAL123"]),
        (None, obj("DV_DATE_TIME", value="2024-01-01T10:00:00Z"), []),
        (None, obj("DV_DATE_TIME", value="2024-01-01T10:00:00+0100"), ["VAL112"]),  # mixed basic/extended
        (None, obj("DV_DATE_TIME", value=20240101), ["VAL123"]),
        (None, cp("ISO_639-1", "en"), []),
        (None, cp("ISO_639-1", ""), ["VAL123"]),
        (None, obj("CODE_PHRASE", terminology_id="ISO_639-1", code_string="en"), []),  # a plain-string id
    ],
)
def test_fast_paths_decide_as_the_full_checks(constraint: Any, value: RMObject, expected: list[str]) -> None:
    assert codes(constraint, value) == expected
