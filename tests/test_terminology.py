"""The bundled openEHR terminology and ISO/IANA code sets: known facts from the openEHR Support Terminology."""

from __future__ import annotations

import pytest

from openehr_kit import terminology as t
from openehr_kit.terminology import _openehr_data as data
from openehr_kit.terminology import openehr as oe


@pytest.mark.parametrize(
    ("code", "text"),
    [("431", "persistent"), ("433", "event"), ("451", "episodic"), ("815", "report"), ("225", "home"),
     ("227", "emergency care"), ("238", "other care"), ("802", "mental healthcare"), ("253", "unknown"),
     ("271", "no information"), ("532", "completed"), ("245", "active"), ("166", "cancel"), ("548", "finish"),
     ("146", "mean"), ("640", "actual"), ("193", "not specified"), ("216", "face-to-face communication"),
     ("0", "self"), ("240", "signed"), ("669", "public health")],
)
def test_known_english_rubrics(code: str, text: str) -> None:
    assert t.rubric(code) == text


def test_group_membership() -> None:
    assert t.codes_in_group("composition_category") == {"431", "433", "451", "815"}
    assert t.codes_in_group("composition category") == t.codes_in_group("composition_category")
    assert t.codes_in_group("Composition Category") == t.codes_in_group("composition_category")
    assert "253" in t.codes_in_group("null flavours") and "253" in t.codes_in_group("null_flavours")
    assert t.codes_in_group("null_flavours") == {"253", "271", "272", "273"}
    assert t.codes_in_group("Group_id_null_flavour") == t.codes_in_group("null_flavours")  # RM constant spelling
    assert len(t.codes_in_group("setting")) == 14
    assert len(t.codes_in_group("instruction_states")) == 10
    assert len(t.codes_in_group("instruction transitions")) == 20
    assert t.codes_in_group("participation_function") == {"253"}
    assert "999" not in t.codes_in_group("setting")


def test_code_sets_are_reachable_too() -> None:
    assert t.codes_in_group("normal_statuses") == {"HHH", "HH", "H", "N", "L", "LL", "LLL"}
    assert "SHA-256" in t.codes_in_group("integrity check algorithms")
    assert "gzip" in t.codes_in_group("openehr_compression_algorithms")


def test_unknown_group_is_an_error_not_an_empty_set() -> None:
    with pytest.raises(KeyError, match="no openEHR terminology group"):
        t.codes_in_group("composition_categories")


def test_group_of() -> None:
    assert t.group_of("433") == "composition_category"
    assert t.group_of("225") == "setting"
    assert t.group_of("253") == "null_flavours"  # also in audit change type, participation function, ...
    assert set(t.groups_of("253")) == {"null_flavours", "audit_change_type", "participation_function",
                                       "subject_relationship"}
    assert t.group_of("532") == "instruction_states"
    assert t.group_of("99999") is None


def test_rubric_depends_on_group_where_the_terminology_says_so() -> None:
    assert t.rubric("532", group="instruction_states") == "completed"
    assert t.rubric("532", group="version lifecycle state") == "complete"
    assert t.rubric("431", group="setting") is None  # not in that group
    assert t.rubric("99999") is None


def test_every_code_in_every_group_has_an_english_rubric() -> None:
    for gid in t.group_ids():
        codes = t.codes_in_group(gid)
        assert codes, gid
        for code in codes:
            text = t.rubric(code, "en", gid)
            assert text and text.strip() == text, (gid, code)
            assert code.isdigit(), (gid, code)


def test_translations_only_cover_known_codes_and_carry_no_placeholders() -> None:
    for lang, groups in data.TRANSLATIONS.items():
        for gid, codes in groups.items():
            assert gid in data.GROUPS, (lang, gid)
            for code, text in codes.items():
                assert code in data.GROUPS[gid][1], (lang, gid, code)
                assert "(en)" not in text and not text.startswith("*"), (lang, gid, code, text)


def test_other_languages_and_fallback() -> None:
    assert t.rubric("433", "es") == "evento"
    assert t.rubric("225", "es") == "hogar"
    assert t.rubric("433", "pt-BR") == "evento"  # region falls back to the base language
    assert t.rubric("532", "pt", "instruction_states") == "concluído"
    assert t.rubric("815", "es") == "report"  # added after the translation: English
    # no published German or Norwegian translation: English, which is what such compositions carry
    assert t.rubric("433", "de") == "event"
    assert t.rubric("238", "nb") == "other care"
    assert t.accepted_rubrics("433", "es") == {"evento", "event"}
    assert t.accepted_rubrics("433", "de") == {"event"}
    assert t.accepted_rubrics("99999", "de") == frozenset()


def test_describe_for_messages() -> None:
    assert t.describe("225") == "225 home"
    assert t.describe("999") == "999"
    assert t.describe_group("composition_category") == "431 persistent, 451 episodic, 433 event, 815 report"
    assert t.describe_group("setting", limit=2) == "225 home, 227 emergency care, ..."


# ---------------------------------------------------------------------------------------------------------------
# Instruction State Machine


def test_every_transition_leads_to_an_instruction_state() -> None:
    assert set(data.ISM_TRANSITION_TARGET) == set(t.codes_in_group("instruction_transitions"))
    assert set(data.ISM_TRANSITION_TARGET.values()) <= t.codes_in_group("instruction_states")


@pytest.mark.parametrize(
    ("transition", "state"),
    [("535", "526"), ("536", "526"), ("537", "527"), ("538", "526"), ("166", "528"), ("542", "527"),
     ("539", "529"), ("534", "529"), ("540", "245"), ("541", "532"), ("543", "245"), ("544", "530"),
     ("545", "530"), ("546", "245"), ("547", "531"), ("548", "532"), ("549", "533"), ("550", "531"),
     ("551", "532"), ("552", "528")],
)
def test_ism_targets(transition: str, state: str) -> None:
    assert t.ism_target_state(transition) == state
    assert t.ism_transition_allowed(state, transition) is True


def test_ism_transition_allowed() -> None:
    assert t.ism_transition_allowed("532", "548") is True  # finish -> completed
    assert t.ism_transition_allowed("245", "166") is False  # cancel does not lead to active
    assert t.ism_transition_allowed("526", "540") is False  # start leads to active, not planned
    assert t.ism_transition_allowed("245", "999") is None  # not an ISM transition
    assert t.ism_transitions_into("245") == {"540", "543", "546"}
    assert t.ism_is_terminal("532") and not t.ism_is_terminal("533")


# ---------------------------------------------------------------------------------------------------------------
# ISO / IANA


@pytest.mark.parametrize("code", ["en", "de", "nb", "nn", "no", "se", "pt-br", "pt-BR", "en-GB", "en-cb", "zh-tw"])
def test_languages(code: str) -> None:
    assert t.is_language(code)


@pytest.mark.parametrize("code", ["", "EN", "english", "eng", "xx", "en-XX", "en_GB", "en-", "qq", None])
def test_not_languages(code: str) -> None:
    assert not t.is_language(code)


@pytest.mark.parametrize("code", ["NO", "SE", "DE", "GB", "US", "AX", "SS", "AN"])
def test_territories(code: str) -> None:
    assert t.is_territory(code)


@pytest.mark.parametrize("code", ["no", "UK", "EU", "XK", "ZZ", "NOR", ""])
def test_not_territories(code: str) -> None:
    assert not t.is_territory(code)


def test_iso_set_sizes() -> None:
    from openehr_kit.terminology import _iso_data as iso_data

    assert len(iso_data.ISO_3166_1) == 249  # all officially assigned alpha-2 codes
    assert len(iso_data.ISO_639_1) == 184  # 183 current + bh


@pytest.mark.parametrize(
    "name", ["UTF-8", "utf-8", "ISO-8859-1", "ISO_8859-1:1987", "latin1", "US-ASCII", "UTF-16LE", "windows-1252",
             "ISO-10646-UTF-1", "Shift_JIS", "KOI8-R"],
)
def test_charsets(name: str) -> None:
    assert t.is_charset(name)


@pytest.mark.parametrize("name", ["UTF8", "Unicode", "utf-9", "", "latin"])
def test_not_charsets(name: str) -> None:
    assert not t.is_charset(name)


@pytest.mark.parametrize(
    "name", ["image/png", "application/pdf", "video/H261", "application/fhir+json", "text/plain",
             "application/vnd.example.some-thing+xml", "model/stl", "font/woff2"],
)
def test_media_types(name: str) -> None:
    assert t.is_media_type(name)


@pytest.mark.parametrize("name", ["png", "image/", "/png", "foo/bar", "text/plain; charset=UTF-8", "image/ png", ""])
def test_not_media_types(name: str) -> None:
    assert not t.is_media_type(name)


def test_common_media_types_are_valid_media_types() -> None:
    from openehr_kit.terminology import iso

    for name in iso.common_media_types():
        assert t.is_media_type(name), name
    assert t.is_common_media_type("IMAGE/PNG") and not t.is_common_media_type("image/x-unknown")


def test_all_rubrics_every_language() -> None:
    assert oe.all_rubrics("433") == {"event", "evento"}
    assert oe.all_rubrics("532", "instruction_states") >= {"completed", "concluído"}
    assert "complete" not in oe.all_rubrics("532", "instruction_states")  # the version lifecycle state's rubric
    assert oe.all_rubrics("99999") == frozenset()


def test_lookups_are_cached() -> None:
    # asked for every coded value of every composition: the second call is a cache hit, not a new computation
    for fn in (oe.rubric, oe.codes_in_group, oe.describe_group, oe.describe, oe._key, oe._languages):
        assert hasattr(fn, "cache_info"), fn
    before = oe.rubric.cache_info().hits
    oe.rubric("433", "de")
    oe.rubric("433", "de")
    assert oe.rubric.cache_info().hits >= before + 1
    before = oe.describe_group.cache_info().hits
    oe.describe_group("setting", limit=8)
    oe.describe_group("setting", limit=8)
    assert oe.describe_group.cache_info().hits >= before + 1
    assert oe.codes_in_group("composition_category") is oe.codes_in_group("composition_category")
