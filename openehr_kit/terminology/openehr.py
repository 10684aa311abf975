"""The openEHR support terminology: groups, rubrics, code sets and the Instruction State Machine.

Everything is bundled (see :mod:`openehr_kit.terminology._openehr_data` for sources), so validation needs no
terminology server. Groups are named by openid (``composition_category``) or English name
(``composition category``), case-insensitively, with spaces and underscores interchangeable.
"""

from __future__ import annotations

import functools

from openehr_kit.terminology._openehr_data import (
    CODE_SETS,
    GROUPS,
    ISM_TERMINAL_STATES,
    ISM_TRANSITION_TARGET,
    PRIMARY_GROUP,
    TRANSLATIONS,
)

TERMINOLOGY_ID = "openehr"

# A few spellings the RM constants and older terminology files use (``Group_id_null_flavour``).
_ALIASES = {
    "null_flavour": "null_flavours",
    "instruction_state": "instruction_states",
    "instruction_transition": "instruction_transitions",
    "ism_states": "instruction_states",
    "ism_transitions": "instruction_transitions",
}


@functools.lru_cache(maxsize=512)
def _key(name: str) -> str:
    """Normalised group / code set name (cached: asked with the same few names for every coded value)."""
    key = "_".join(name.strip().lower().replace("-", " ").replace("_", " ").split())
    if key.startswith("group_id_"):
        key = key[len("group_id_") :]
    elif key.startswith("code_set_id_"):
        key = key[len("code_set_id_") :]
    return _ALIASES.get(key, key)


# openid for every accepted spelling; English names normalise to the openid already except where they differ
_GROUP_IDS: dict[str, str] = {}
for _gid, (_name, _codes) in GROUPS.items():
    _GROUP_IDS[_gid] = _gid
    _GROUP_IDS[_key(_name)] = _gid
_CODE_SET_IDS: dict[str, str] = {}
for _sid, (_name, _ext, _codes2) in CODE_SETS.items():
    _CODE_SET_IDS[_sid] = _sid
    _CODE_SET_IDS[_key(_name)] = _sid
    _CODE_SET_IDS[_key(_ext)] = _sid

_GROUP_CODES: dict[str, frozenset[str]] = {gid: frozenset(codes) for gid, (_n, codes) in GROUPS.items()}
_CODE_SET_CODES: dict[str, frozenset[str]] = {sid: frozenset(codes) for sid, (_n, _e, codes) in CODE_SETS.items()}

# code -> every group holding it, in source order (a few codes, e.g. 253 unknown, sit in several)
_GROUPS_OF: dict[str, tuple[str, ...]] = {}
for _gid, (_name, _codes) in GROUPS.items():
    for _code in _codes:
        _GROUPS_OF[_code] = _GROUPS_OF.get(_code, ()) + (_gid,)


def group_id(group: str) -> str | None:
    """The openid of a group given by openid or English name; None if there is no such group."""
    hit = _GROUP_IDS.get(group)  # an openid as given: no normalising needed
    return hit if hit is not None else _GROUP_IDS.get(_key(group))


def group_ids() -> tuple[str, ...]:
    """The openids of all vocabulary groups, in terminology order."""
    return tuple(GROUPS)


def group_name(group: str) -> str:
    """The English name of a group (``composition category``)."""
    gid = _require_group(group)
    return GROUPS[gid][0]


def _require_group(group: str) -> str:
    gid = group_id(group)
    if gid is None:
        raise KeyError(f"no openEHR terminology group {group!r} (known: {', '.join(GROUPS)})")
    return gid


@functools.lru_cache(maxsize=256)
def codes_in_group(group: str) -> frozenset[str]:
    """The codes of a vocabulary group (by openid or English name); the openEHR code sets
    (``normal_statuses``, ``compression_algorithms``, ``integrity_check_algorithms``) are accepted too.
    Unknown names raise KeyError so that a misspelt group never silently accepts nothing."""
    gid = group_id(group)
    if gid is not None:
        return _GROUP_CODES[gid]
    sid = _CODE_SET_IDS.get(_key(group))
    if sid is not None:
        return _CODE_SET_CODES[sid]
    raise KeyError(f"no openEHR terminology group or code set {group!r} (known: {', '.join(GROUPS)})")


def has_code(group: str, code: str) -> bool:
    """Whether ``code`` belongs to ``group`` (openid or English name)."""
    return code in codes_in_group(group)


def group_of(code: str) -> str | None:
    """The openid of the group a code belongs to; for the few codes in several groups, the one compositions
    use (253 -> null_flavours, 532 -> instruction_states, 523 -> version_lifecycle_state). None if unknown."""
    groups = _GROUPS_OF.get(code)
    if not groups:
        return None
    return PRIMARY_GROUP.get(code, groups[0])


def groups_of(code: str) -> tuple[str, ...]:
    """Every group holding ``code`` (openids, terminology order); empty if unknown."""
    return _GROUPS_OF.get(code, ())


@functools.lru_cache(maxsize=256)
def _languages(language: str) -> tuple[str, ...]:
    """``pt-BR`` -> (``pt-br``, ``pt``): the exact tag first, then its base language."""
    lang = language.strip().lower().replace("_", "-")
    base = lang.split("-", 1)[0]
    return (lang, base) if base != lang else (lang,)


@functools.lru_cache(maxsize=4096)
def rubric(code: str, language: str = "en", group: str | None = None) -> str | None:
    """The rubric of an openEHR code in ``language`` (English where no published translation has it);
    None if the code is not in the terminology (or not in ``group`` when one is given).

    ``group`` matters only for the few codes whose rubric differs by group (532: ``completed`` as an
    instruction state, ``complete`` as a version lifecycle state)."""
    gid = _require_group(group) if group is not None else group_of(code)
    if gid is None:
        return None
    english = GROUPS[gid][1].get(code)
    if english is None:
        return None
    for lang in _languages(language):
        translated = TRANSLATIONS.get(lang, {}).get(gid, {}).get(code)
        if translated is not None:
            return translated
    return english


@functools.lru_cache(maxsize=1024)
def accepted_rubrics(code: str, language: str = "en", group: str | None = None) -> frozenset[str]:
    """Texts a ``DV_CODED_TEXT.value`` may carry for this code in a composition written in ``language``:
    the rubric in that language (if translated) and always the English rubric, because systems commonly
    write English rubrics into non-English compositions. Empty if the code is unknown."""
    english = rubric(code, "en", group)
    if english is None:
        return frozenset()
    local = rubric(code, language, group)
    return frozenset({english, local} if local else {english})


# (group openid, code) -> the code's rubric in every bundled language, English included
_ALL_RUBRICS: dict[tuple[str, str], frozenset[str]] = {}
for _gid, (_name, _codes) in GROUPS.items():
    for _code, _english in _codes.items():
        _texts = {_english}
        for _by_group in TRANSLATIONS.values():
            _t = _by_group.get(_gid, {}).get(_code)
            if _t is not None:
                _texts.add(_t)
        _ALL_RUBRICS[(_gid, _code)] = frozenset(_texts)


def all_rubrics(code: str, group: str | None = None) -> frozenset[str]:
    """The rubrics of an openEHR code in every language bundled here (English always): the texts a
    ``DV_CODED_TEXT.value`` may carry for the code whatever the composition language, since the RM lets a text
    be in a language other than its entry's (``DV_TEXT.language``). Empty if the code is unknown (in ``group``)."""
    gid = _require_group(group) if group is not None else group_of(code)
    if gid is None:
        return frozenset()
    return _ALL_RUBRICS.get((gid, code), frozenset())


def translated_languages() -> tuple[str, ...]:
    """Languages with published translations bundled here (English is the source language)."""
    return ("en", *TRANSLATIONS)


@functools.lru_cache(maxsize=1024)
def describe(code: str, group: str | None = None, language: str = "en") -> str:
    """``"225 home"``: a code with its rubric, for messages; the bare code if unknown."""
    text = rubric(code, language, group)
    return f"{code} {text}" if text else code


@functools.lru_cache(maxsize=256)
def describe_group(group: str, language: str = "en", limit: int | None = None) -> str:
    """``"225 home, 227 emergency care, ..."``: a group's codes with rubrics, for "expected one of" lists."""
    gid = _require_group(group)
    items = [f"{c} {rubric(c, language, gid)}" for c in GROUPS[gid][1]]
    if limit is not None and len(items) > limit:
        items = items[:limit] + ["..."]
    return ", ".join(items)


# ---------------------------------------------------------------------------------------------------------------
# Instruction State Machine


def ism_target_state(transition_code: str) -> str | None:
    """The instruction state a transition leads to (``166`` cancel -> ``528`` cancelled); None if unknown."""
    return ISM_TRANSITION_TARGET.get(transition_code)


def ism_transition_allowed(current_state_code: str, transition_code: str) -> bool | None:
    """Whether an ACTION may record ``transition_code`` with ``current_state_code``: the ISM transition must
    lead to that state (ISM_TRANSITION.transition is "the transition which occurred to arrive in the
    current_state"). None if the transition code is not an ISM transition."""
    target = ISM_TRANSITION_TARGET.get(transition_code)
    if target is None:
        return None
    return target == current_state_code


def ism_transitions_into(state_code: str) -> frozenset[str]:
    """The transition codes that lead into a state (for example generators picking a consistent pair)."""
    return frozenset(t for t, s in ISM_TRANSITION_TARGET.items() if s == state_code)


def ism_is_terminal(state_code: str) -> bool:
    """Whether the state is terminal (cancelled, aborted, completed)."""
    return state_code in ISM_TERMINAL_STATES
