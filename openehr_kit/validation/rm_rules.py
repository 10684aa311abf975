"""Reference model rules: the RM invariants a composition must keep whatever its template says.

``check_rm_rules`` is called by the structure walker for every non-data-value object, so it dispatches on the
RM type through a dict and returns at once for the many types without rules. Each rule checks only what is
present: missing mandatory attributes are the walker's business (VAL006), malformed data values the data-value
validators'. Facts from the openEHR EHR IM, Common IM and Data Structures IM (class invariants named in the
comments) and the bundled openEHR terminology.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from typing import Any, Callable

from openehr_kit.diagnostics import Severity
from openehr_kit.rm.instance import RMObject, base_type
from openehr_kit.terminology import iso
from openehr_kit.terminology import openehr as term
from openehr_kit.validation.report import Reporter, Where

Rule = Callable[[RMObject, Where, Reporter], None]

# what a code of each group is called in messages
_NOUN = {
    "composition_category": "composition category",
    "setting": "care setting",
    "null_flavours": "null flavour",
    "instruction_states": "instruction state",
    "instruction_transitions": "instruction transition",
    "event_math_function": "event math function",
    "participation_function": "participation function",
    "participation_mode": "participation mode",
    "subject_relationship": "subject relationship code",
}


def check_rm_rules(obj: RMObject, where: Where, rep: Reporter) -> None:
    """Check the RM invariants of ``obj`` (not of its children, which get their own call)."""
    rule = _RULES.get(obj.rm_type)
    if rule is None:
        if "<" not in obj.rm_type:  # the common case: a type without rules
            return
        rule = _RULES.get(base_type(obj.rm_type))
        if rule is None:
            return
    rule(obj, where, rep)


# ---------------------------------------------------------------------------------------------------------------
# helpers


def _code_of(value: Any) -> tuple[str | None, str | None]:
    """(terminology id, code string) of a CODE_PHRASE, or of a DV_CODED_TEXT's defining_code."""
    if not isinstance(value, RMObject):
        return None, None
    phrase = value.attrs.get("defining_code", value) if value.rm_type != "CODE_PHRASE" else value
    if not isinstance(phrase, RMObject):
        return None, None
    tid = phrase.attrs.get("terminology_id")
    tid_value = tid.attrs.get("value") if isinstance(tid, RMObject) else tid
    code = phrase.attrs.get("code_string")
    return (tid_value if isinstance(tid_value, str) else None), (code if isinstance(code, str) else None)


def _text_of(value: Any) -> str | None:
    text = value.attrs.get("value") if isinstance(value, RMObject) else None
    return text if isinstance(text, str) else None


def _child_where(where: Where, attr: str, child: Any) -> Where:
    """The location of an attribute's value: the child's own instance location and line when the reader set them."""
    w = where.at(attr)
    if isinstance(child, RMObject):
        if child.location:
            w = replace(w, instance_path=child.location)
        if child.line is not None:
            w = replace(w, line=child.line)
    return w


def _check_group(
    value: Any, group: str, what: str, code: str, where: Where, rep: Reporter, check_text: bool = False
) -> str | None:
    """A DV_CODED_TEXT the RM binds to an openEHR group: coded, in terminology ``openehr``, code in the group.
    Returns the code when it is valid (for further checks), else None.

    ``check_text`` also compares ``value`` with the term's rubric (composition language or English); it is
    used for RM-only objects (participations, PARTY_RELATED) that no template constraint, and so no
    data-value check, ever reaches."""
    if not isinstance(value, RMObject):
        return None
    tid, code_string = _code_of(value)
    if code_string is not None and tid == term.TERMINOLOGY_ID and code_string in term.codes_in_group(group):
        if check_text:
            _check_rubric(value, code_string, group, what, where, rep)
        return code_string  # the common, valid case: no message text built
    noun = _NOUN.get(group) or term.group_name(group)
    expected = "one of " + term.describe_group(group, limit=8)
    if code_string is None:
        rep.add(
            code,
            f"{what} is plain text {_text_of(value)!r}, not coded; the RM requires an openEHR {noun} code "
            f"(expected {expected})",
            where,
            expected=expected,
            found=_text_of(value),
        )
        return None
    if (tid or "").lower() != term.TERMINOLOGY_ID:
        rep.add(
            code,
            f"{what} is coded in terminology {tid!r} (code {code_string}); the RM requires the openEHR "
            f"terminology, group '{term.group_name(group)}' (expected {expected})",
            where,
            expected=f"openehr::{expected}",
            found=f"{tid}::{code_string}",
        )
        return None
    if code_string not in term.codes_in_group(group):
        known = term.rubric(code_string)
        home = term.group_of(code_string)
        elsewhere = f" ({code_string} is '{known}', a {term.group_name(home)} code)" if known and home else ""
        rep.add(
            code,
            f"{what} code {code_string} is not an openEHR {noun}{elsewhere} (expected {expected})",
            where,
            expected=expected,
            found=f"openehr::{code_string}",
        )
        return None
    if check_text:
        _check_rubric(value, code_string, group, what, where, rep)
    return code_string


def _check_rubric(value: RMObject, code_string: str, group: str, what: str, where: Where, rep: Reporter) -> None:
    """``DV_CODED_TEXT.value`` is the term's rubric in the composition language or in English."""
    text = _text_of(value)
    accepted = term.accepted_rubrics(code_string, where.language, group)
    if text is not None and accepted and text not in accepted:
        rubric = term.rubric(code_string, where.language, group)
        rep.add(
            "VAL108",
            f"{what} {code_string} reads {text!r}, but the openEHR term for {code_string} is {rubric!r}",
            where,
            expected=" or ".join(repr(r) for r in sorted(accepted)),
            found=repr(text),
        )


def _check_code_phrase(
    value: Any,
    what: str,
    code: str,
    terminology_id: str,
    valid: Callable[[str], bool],
    kind: str,
    hint: str,
    where: Where,
    rep: Reporter,
) -> None:
    """A CODE_PHRASE from an external code set (ISO 639-1, ISO 3166-1, IANA): a wrong code is an error; a valid
    code under another terminology id only a warning, since the code still names the value unambiguously."""
    if not isinstance(value, RMObject):
        return
    tid, code_string = _code_of(value)
    if code_string is None:
        return  # an empty CODE_PHRASE is the reader's / walker's finding
    if not valid(code_string):
        rep.add(
            code,
            f"{what} {code_string!r} is not {kind}{hint}",
            where,
            expected=f"{terminology_id} code",
            found=f"{tid}::{code_string}",
        )
    elif (tid or "").lower() != terminology_id.lower():
        rep.add(
            code,
            f"{what} {code_string!r} is given with terminology {tid!r}; openEHR identifies this code set as "
            f"{terminology_id!r}",
            where,
            expected=f"{terminology_id}::{code_string}",
            found=f"{tid}::{code_string}",
            severity=Severity.WARNING,
        )


def _check_language(obj: RMObject, where: Where, rep: Reporter) -> None:
    value = obj.attrs.get("language")
    _check_code_phrase(
        value, "language", "VAL203", iso.LANGUAGES_ID, iso.is_language, "an ISO 639-1 language code",
        " (two lower-case letters, e.g. en, de, nb, optionally with a region: pt-br)",
        _child_where(where, "language", value), rep,
    )


def _check_encoding(obj: RMObject, where: Where, rep: Reporter) -> None:
    value = obj.attrs.get("encoding")
    _check_code_phrase(
        value, "encoding", "VAL205", iso.CHARSETS_ID, iso.is_charset, "an IANA character set name",
        " (e.g. UTF-8)", _child_where(where, "encoding", value), rep,
    )


_TERRITORY_HINTS = {"UK": " (the United Kingdom is GB)", "EU": " (EU is a reserved code, not a country)"}


def _check_party(party: Any, attr: str, where: Where, rep: Reporter) -> None:
    """PARTY_RELATED.Relationship_valid, wherever a party proxy appears (subject, composer, performer...)."""
    if isinstance(party, RMObject) and party.rm_type == "PARTY_RELATED":
        rel = party.attrs.get("relationship")
        _check_group(rel, "subject_relationship", "relationship", "VAL210",
                     _child_where(_child_where(where, attr, party), "relationship", rel), rep, check_text=True)


def _check_participations(obj: RMObject, attr: str, where: Where, rep: Reporter) -> None:
    """PARTICIPATION.Function_valid and Mode_valid, for each participation in ``obj.attr``.

    Participations are checked from their parent because they are RM-only (not archetyped) objects a template
    walker need not visit."""
    items = obj.attrs.get(attr)
    if not isinstance(items, list):
        return
    for i, part in enumerate(items):
        if not isinstance(part, RMObject):
            continue
        pw = _child_where(where, attr, part)
        if not part.location:
            pw = where.at(attr, f"{attr}/{i}")
        function = part.attrs.get("function")
        # Function_valid applies only when the function is coded in the openEHR terminology: other
        # terminologies (local, SNOMED CT) are allowed for this DV_TEXT
        if isinstance(function, RMObject) and (_code_of(function)[0] or "").lower() == term.TERMINOLOGY_ID:
            _check_group(function, "participation_function", "participation function", "VAL210",
                         _child_where(pw, "function", function), rep, check_text=True)
        _check_party(part.attrs.get("performer"), "performer", pw, rep)
        mode = part.attrs.get("mode")
        if isinstance(mode, RMObject):
            _check_group(mode, "participation_mode", "participation mode", "VAL210",
                         _child_where(pw, "mode", mode), rep, check_text=True)


# ISO 8601 date-time with at least hours and minutes, extended or basic form; partial values are not compared
_FULL_DT = re.compile(r"\d{4}-?\d{2}-?\d{2}T\d{2}(:?\d{2})")


def _datetime_of(value: Any) -> datetime | None:
    """The instant of a DV_DATE_TIME, or None when absent, partial or unreadable (reported elsewhere)."""
    text = _text_of(value)
    if text is None or not _FULL_DT.match(text):
        return None
    try:
        return datetime.fromisoformat(text.replace(",", "."))
    except ValueError:
        return None


def _before(a: datetime, b: datetime) -> bool | None:
    """a < b, or None when only one of them has a time zone (their order is then unknown)."""
    if (a.tzinfo is None) != (b.tzinfo is None):
        return None
    return a < b


# ---------------------------------------------------------------------------------------------------------------
# rules per RM type


def _composition(obj: RMObject, where: Where, rep: Reporter) -> None:
    category = obj.attrs.get("category")
    # COMPOSITION.Category_validity
    cat = _check_group(category, "composition_category", "composition category", "VAL201",
                       _child_where(where, "category", category), rep)
    # COMPOSITION.Is_persistent_validity: is_persistent implies context = Void
    if cat == "431" and isinstance(obj.attrs.get("context"), RMObject):
        rep.add(
            "VAL212",
            "the composition is persistent (category 431 persistent) but has an event context; persistent "
            "compositions must not carry one",
            _child_where(where, "context", obj.attrs.get("context")),
            expected="no context",
            found="context",
        )
    _check_party(obj.attrs.get("composer"), "composer", where, rep)
    _check_language(obj, where, rep)  # COMPOSITION.Language_valid
    territory = obj.attrs.get("territory")  # COMPOSITION.Territory_valid
    tcode = _code_of(territory)[1]
    _check_code_phrase(
        territory, "territory", "VAL204", iso.TERRITORIES_ID, iso.is_territory, "an ISO 3166-1 country code",
        _TERRITORY_HINTS.get(tcode or "", " (two upper-case letters, e.g. DE, NO, SE)"),
        _child_where(where, "territory", territory), rep,
    )


def _event_context(obj: RMObject, where: Where, rep: Reporter) -> None:
    setting = obj.attrs.get("setting")
    _check_group(setting, "setting", "setting", "VAL202", _child_where(where, "setting", setting), rep)
    start, end = obj.attrs.get("start_time"), obj.attrs.get("end_time")
    t0, t1 = _datetime_of(start), _datetime_of(end)
    if t0 is not None and t1 is not None and _before(t1, t0):
        rep.add(
            "VAL211",
            f"the clinical session ends ({_text_of(end)}) before it starts ({_text_of(start)})",
            _child_where(where, "end_time", end),
            expected=f"end_time not before {_text_of(start)}",
            found=_text_of(end),
        )
    _check_participations(obj, "participations", where, rep)


def _entry(obj: RMObject, where: Where, rep: Reporter) -> None:
    _check_language(obj, where, rep)  # ENTRY.Language_valid
    _check_encoding(obj, where, rep)  # ENTRY.Encoding_valid
    subject = obj.attrs.get("subject")
    if subject is None:
        rep.add(
            "VAL006",
            f"the {obj.rm_type} has no subject; every entry must say whom it is about (PARTY_SELF for the patient)",
            where.at("subject"),
            expected="subject (PARTY_PROXY)",
            found="nothing",
        )
    else:
        _check_party(subject, "subject", where, rep)
    _check_party(obj.attrs.get("provider"), "provider", where, rep)
    _check_participations(obj, "other_participations", where, rep)


def _action(obj: RMObject, where: Where, rep: Reporter) -> None:
    _entry(obj, where, rep)
    ism = obj.attrs.get("ism_transition")
    if not isinstance(ism, RMObject):
        return  # a missing ism_transition is an RM existence error (the walker's VAL006)
    iw = _child_where(where, "ism_transition", ism)
    current = ism.attrs.get("current_state")
    transition = ism.attrs.get("transition")
    # ISM_TRANSITION.Current_state_valid and Transition_valid
    state = _check_group(current, "instruction_states", "current state", "VAL207",
                         _child_where(iw, "current_state", current), rep)
    trans = _check_group(transition, "instruction_transitions", "ISM transition", "VAL207",
                         _child_where(iw, "transition", transition), rep)
    # the transition is "the ISM transition which occurred to arrive in the current_state"
    if state is not None and trans is not None and term.ism_transition_allowed(state, trans) is False:
        target = term.ism_target_state(trans) or ""
        rep.add(
            "VAL207",
            f"the ISM transition {term.describe(trans, 'instruction_transitions')} leads to state "
            f"{term.describe(target, 'instruction_states')}, but the current state is "
            f"{term.describe(state, 'instruction_states')}",
            _child_where(iw, "current_state", current),
            expected=f"current_state {term.describe(target, 'instruction_states')}",
            found=term.describe(state, "instruction_states"),
        )


def _element(obj: RMObject, where: Where, rep: Reporter) -> None:
    value, null_flavour = obj.attrs.get("value"), obj.attrs.get("null_flavour")
    # ELEMENT.Is_null_valid + Null_flavour_indicated: is_null xor null_flavour = Void
    if value is not None and null_flavour is not None:
        rep.add(
            "VAL206",
            f"the element has a value and also a null flavour ({_text_of(null_flavour) or _code_of(null_flavour)[1]});"
            " a null flavour says why a value is missing, so it is only allowed without a value",
            _child_where(where, "null_flavour", null_flavour),
            expected="value or null_flavour, not both",
            found="value and null_flavour",
        )
    elif value is None and null_flavour is None:
        rep.add(
            "VAL206",
            "the element has neither a value nor a null flavour; an element without a value must say why "
            "(null_flavour, e.g. 253 unknown or 271 no information)",
            where.at("value"),
            expected="value or null_flavour",
            found="neither",
        )
    if null_flavour is not None:  # ELEMENT.Null_flavour_valid
        _check_group(null_flavour, "null_flavours", "null flavour", "VAL210",
                     _child_where(where, "null_flavour", null_flavour), rep)


def _history(obj: RMObject, where: Where, rep: Reporter) -> None:
    """EVENT.offset = time - HISTORY.origin: an event before the origin of its history has a negative offset,
    which contradicts "origin: time origin of this event history"."""
    events = obj.attrs.get("events")
    origin_value = obj.attrs.get("origin")
    origin = _datetime_of(origin_value)
    if origin is None or not isinstance(events, list):
        return
    for i, event in enumerate(events):
        if not isinstance(event, RMObject):
            continue
        time_value = event.attrs.get("time")
        t = _datetime_of(time_value)
        if t is None or not _before(t, origin):
            continue
        ew = _child_where(where, "events", event)
        if not event.location:
            ew = where.at("events", f"events/{i}")
        node = event.archetype_node_id
        if node:
            ew = replace(ew, template_path=where.template_path.rstrip("/") + f"/events[{node}]")
        label = event.name_value
        rep.add(
            "VAL208",
            f"event {label + ' ' if label else ''}at {_text_of(time_value)} lies before the origin of its history "
            f"({_text_of(origin_value)})",
            _child_where(ew, "time", time_value),
            expected=f"time not before {_text_of(origin_value)}",
            found=_text_of(time_value),
            # no RM invariant forbids it (offset is a DV_DURATION, which may be negative), but an event before
            # the time origin of its own history is almost always a recording error
            severity=Severity.WARNING,
        )


def _interval_event(obj: RMObject, where: Where, rep: Reporter) -> None:
    width = obj.attrs.get("width")
    text = _text_of(width)
    if text is not None and text.strip().startswith("-"):
        rep.add(
            "VAL209",
            f"the interval event has a negative width ({text}); the width is the length of the interval ending "
            "at the event time",
            _child_where(where, "width", width),
            expected="a duration of zero or more",
            found=text,
        )
    math = obj.attrs.get("math_function")  # INTERVAL_EVENT.Math_function_validity
    _check_group(math, "event_math_function", "math function", "VAL209",
                 _child_where(where, "math_function", math), rep)


_RULES: dict[str, Rule] = {
    "COMPOSITION": _composition,
    "EVENT_CONTEXT": _event_context,
    "OBSERVATION": _entry,
    "EVALUATION": _entry,
    "INSTRUCTION": _entry,
    "ADMIN_ENTRY": _entry,
    "ACTION": _action,
    "ELEMENT": _element,
    "HISTORY": _history,
    "INTERVAL_EVENT": _interval_event,
}
