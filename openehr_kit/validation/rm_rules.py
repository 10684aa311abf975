"""Reference model rules: the RM invariants a composition must keep whatever its template says.

``check_rm_rules`` is called by the structure walker for the objects whose RM type is in ``RULE_TYPES`` (others
have no rules, so the walker skips the call). Each rule checks only what is present: missing mandatory
attributes are the walker's business (VAL006), malformed data values the data-value validators'. Facts from the
openEHR EHR IM, Common IM and Data Structures IM (class invariants named in the comments) and the bundled
openEHR terminology.

One report per problem: this module owns the *membership* of RM-bound codes (category, setting, null flavour,
ISM states and transitions, participation function and mode, relationship, math function; language, territory,
encoding). The *term text* of every coded value (VAL108) is owned by the data-value checker, which the walker
runs on every DV_CODED_TEXT it reaches, participations and parties included. ``check_rm_rules`` returns the
values whose code it rejected, so that the walker does not report the same code again from the template's
constraint (VAL106/VAL107/VAL122), nor a text compared with a code already known to be wrong (VAL108).

Speed: the location of a finding (a ``Where``) and every message are built only when an issue is reported;
``where`` may be given as a ``Where`` or as a function returning one, called only then.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any, Union

from openehr_kit.diagnostics import Severity
from openehr_kit.rm.instance import RMObject, base_type
from openehr_kit.terminology import iso
from openehr_kit.terminology import openehr as term
from openehr_kit.validation.report import Reporter, Where

#: where the object under check is: a Where, or a function building it (called only when reporting)
WhereArg = Union[Where, Callable[[], Where]]
#: a location builder for a value below the object, called only when reporting
Loc = Callable[[], Where]
Rule = Callable[[RMObject, WhereArg, Reporter, list[RMObject]], None]

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


def check_rm_rules(obj: RMObject, where: WhereArg, rep: Reporter) -> list[RMObject]:
    """Check the RM invariants of ``obj`` (not of its children, which get their own call).

    Returns the coded values (DV_CODED_TEXT / CODE_PHRASE below ``obj``) whose code a rule rejected: their code
    is reported here, so template checks of the same code must not report it again."""
    rule = _RULES.get(obj.rm_type)
    if rule is None:
        if "<" not in obj.rm_type:  # the common case: a type without rules
            return []
        rule = _RULES.get(base_type(obj.rm_type))
        if rule is None:
            return []
    rejected: list[RMObject] = []
    rule(obj, where, rep, rejected)
    return rejected


# ---------------------------------------------------------------------------------------------------------------
# helpers


def _resolve(where: WhereArg) -> Where:
    return where if isinstance(where, Where) else where()


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


def _child_where(where: WhereArg, attr: str, child: Any) -> Where:
    """The location of an attribute's value: the child's own instance location and line when the reader set them."""
    w = _resolve(where).at(attr)
    if isinstance(child, RMObject):
        if child.location:
            w = replace(w, instance_path=child.location)
        if child.line is not None:
            w = replace(w, line=child.line)
    return w


def _child(where: WhereArg, attr: str, child: Any) -> Loc:
    """A deferred ``_child_where``: the location is built only if an issue is reported there."""
    return lambda: _child_where(where, attr, child)


def _check_group(
    value: Any, group: str, what: str, code: str, where: WhereArg, attr: str, rep: Reporter,
    rejected: list[RMObject],
) -> str | None:
    """A DV_CODED_TEXT the RM binds to an openEHR group: coded, in terminology ``openehr``, code in the group.
    Returns the code when it is valid (for further checks), else None (the value is added to ``rejected``).
    ``where.attr`` is the value's place (its location is built only when reporting).

    The valid case is two dict look-ups; the expected-codes list and the message are built only when reporting.
    The term text is not compared here (the data-value checker owns VAL108)."""
    if not isinstance(value, RMObject):
        return None
    tid, code_string = _code_of(value)
    if code_string is not None and tid == term.TERMINOLOGY_ID and code_string in term.codes_in_group(group):
        return code_string
    rejected.append(value)
    loc = _child(where, attr, value)
    noun = _NOUN.get(group) or term.group_name(group)
    expected = "one of " + term.describe_group(group, limit=8)
    if code_string is None:
        rep.add(
            code,
            f"{what} is plain text {_text_of(value)!r}, not coded; the RM requires an openEHR {noun} code "
            f"(expected {expected})",
            loc(),
            expected=expected,
            found=_text_of(value),
        )
    elif (tid or "").lower() != term.TERMINOLOGY_ID:
        rep.add(
            code,
            f"{what} is coded in terminology {tid!r} (code {code_string}); the RM requires the openEHR "
            f"terminology, group '{term.group_name(group)}' (expected {expected})",
            loc(),
            expected=f"openehr::{expected}",
            found=f"{tid}::{code_string}",
        )
    else:
        known = term.rubric(code_string)
        home = term.group_of(code_string)
        elsewhere = f" ({code_string} is '{known}', a {term.group_name(home)} code)" if known and home else ""
        rep.add(
            code,
            f"{what} code {code_string} is not an openEHR {noun}{elsewhere} (expected {expected})",
            loc(),
            expected=expected,
            found=f"openehr::{code_string}",
        )
    return None


def _check_code_phrase(
    value: Any,
    what: str,
    code: str,
    terminology_id: str,
    valid: Callable[[str], bool],
    kind: str,
    hint: str | Callable[[str], str],
    where: WhereArg,
    attr: str,
    rep: Reporter,
    rejected: list[RMObject],
) -> None:
    """A CODE_PHRASE from an external code set (ISO 639-1, ISO 3166-1, IANA): a wrong code is an error; a valid
    code under another terminology id only a warning, since the code still names the value unambiguously.
    ``where.attr`` is the value's place (its location is built only when reporting)."""
    if not isinstance(value, RMObject):
        return
    tid, code_string = _code_of(value)
    if code_string is None:
        return  # an empty CODE_PHRASE is the reader's / walker's finding
    if tid == terminology_id and valid(code_string):
        return  # the common case
    loc = _child(where, attr, value)
    if not valid(code_string):
        rejected.append(value)
        rep.add(
            code,
            f"{what} {code_string!r} is not {kind}{hint(code_string) if callable(hint) else hint}",
            loc(),
            expected=f"{terminology_id} code",
            found=f"{tid}::{code_string}",
        )
    elif tid != terminology_id and (tid or "").lower() != terminology_id.lower():
        rep.add(
            code,
            f"{what} {code_string!r} is given with terminology {tid!r}; openEHR identifies this code set as "
            f"{terminology_id!r}",
            loc(),
            expected=f"{terminology_id}::{code_string}",
            found=f"{tid}::{code_string}",
            severity=Severity.WARNING,
        )


def _check_language(obj: RMObject, where: WhereArg, rep: Reporter, rejected: list[RMObject]) -> None:
    value = obj.attrs.get("language")
    _check_code_phrase(
        value, "language", "VAL203", iso.LANGUAGES_ID, iso.is_language, "an ISO 639-1 language code",
        " (two lower-case letters, e.g. en, de, nb, optionally with a region: pt-br)",
        where, "language", rep, rejected,
    )


def _check_encoding(obj: RMObject, where: WhereArg, rep: Reporter, rejected: list[RMObject]) -> None:
    value = obj.attrs.get("encoding")
    _check_code_phrase(
        value, "encoding", "VAL205", iso.CHARSETS_ID, iso.is_charset, "an IANA character set name",
        " (e.g. UTF-8)", where, "encoding", rep, rejected,
    )


_TERRITORY_HINTS = {"UK": " (the United Kingdom is GB)", "EU": " (EU is a reserved code, not a country)"}


def _territory_hint(code: str) -> str:
    return _TERRITORY_HINTS.get(code, " (two upper-case letters, e.g. DE, NO, SE)")


def _check_party(party: Any, where: WhereArg, attr: str, rep: Reporter, rejected: list[RMObject]) -> None:
    """PARTY_RELATED.Relationship_valid, wherever a party proxy appears (subject, composer, performer...);
    ``where.attr`` is the party's place."""
    if isinstance(party, RMObject) and party.rm_type == "PARTY_RELATED":
        rel = party.attrs.get("relationship")
        _check_group(rel, "subject_relationship", "relationship", "VAL210", _child(where, attr, party),
                     "relationship", rep, rejected)


def _check_participations(obj: RMObject, attr: str, where: WhereArg, rep: Reporter, rejected: list[RMObject]) -> None:
    """PARTICIPATION.Function_valid and Mode_valid, for each participation in ``obj.attr``.

    Participations are checked from their parent because they are RM-only (not archetyped) objects whose rules
    need no template."""
    items = obj.attrs.get(attr)
    if not isinstance(items, list):
        return
    for i, part in enumerate(items):
        if not isinstance(part, RMObject):
            continue
        pw = _participation_loc(where, attr, part, i)
        pattrs = part.attrs
        function = pattrs.get("function")
        # Function_valid applies only when the function is coded in the openEHR terminology: other
        # terminologies (local, SNOMED CT) are allowed for this DV_TEXT
        if isinstance(function, RMObject) and (_code_of(function)[0] or "").lower() == term.TERMINOLOGY_ID:
            _check_group(function, "participation_function", "participation function", "VAL210",
                         pw, "function", rep, rejected)
        performer = pattrs.get("performer")
        _check_party(performer, pw, "performer", rep, rejected)
        mode = pattrs.get("mode")
        if isinstance(mode, RMObject):
            _check_group(mode, "participation_mode", "participation mode", "VAL210",
                         pw, "mode", rep, rejected)


def _participation_loc(where: WhereArg, attr: str, part: RMObject, i: int) -> Loc:
    def build() -> Where:
        if part.location:
            return _child_where(where, attr, part)
        return _resolve(where).at(attr, f"{attr}/{i}")
    return build


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


def _composition(obj: RMObject, where: WhereArg, rep: Reporter, rejected: list[RMObject]) -> None:
    attrs = obj.attrs
    category = attrs.get("category")
    # COMPOSITION.Category_validity
    cat = _check_group(category, "composition_category", "composition category", "VAL201",
                       where, "category", rep, rejected)
    # COMPOSITION.Is_persistent_validity: is_persistent implies context = Void
    if cat == "431" and isinstance(attrs.get("context"), RMObject):
        rep.add(
            "VAL212",
            "the composition is persistent (category 431 persistent) but has an event context; persistent "
            "compositions must not carry one",
            _child_where(where, "context", attrs.get("context")),
            expected="no context",
            found="context",
        )
    composer = attrs.get("composer")
    _check_party(composer, where, "composer", rep, rejected)
    _check_language(obj, where, rep, rejected)  # COMPOSITION.Language_valid
    territory = attrs.get("territory")  # COMPOSITION.Territory_valid
    _check_code_phrase(
        territory, "territory", "VAL204", iso.TERRITORIES_ID, iso.is_territory, "an ISO 3166-1 country code",
        _territory_hint, where, "territory", rep, rejected,
    )


def _event_context(obj: RMObject, where: WhereArg, rep: Reporter, rejected: list[RMObject]) -> None:
    attrs = obj.attrs
    setting = attrs.get("setting")
    _check_group(setting, "setting", "setting", "VAL202", where, "setting", rep, rejected)
    end = attrs.get("end_time")
    if end is not None:  # no end time (the common case): nothing to compare
        start = attrs.get("start_time")
        t0, t1 = _datetime_of(start), _datetime_of(end)
        if t0 is not None and t1 is not None and _before(t1, t0):
            rep.add(
                "VAL211",
                f"the clinical session ends ({_text_of(end)}) before it starts ({_text_of(start)})",
                _child_where(where, "end_time", end),
                expected=f"end_time not before {_text_of(start)}",
                found=_text_of(end),
            )
    _check_participations(obj, "participations", where, rep, rejected)


def _entry(obj: RMObject, where: WhereArg, rep: Reporter, rejected: list[RMObject]) -> None:
    _check_language(obj, where, rep, rejected)  # ENTRY.Language_valid
    _check_encoding(obj, where, rep, rejected)  # ENTRY.Encoding_valid
    attrs = obj.attrs
    subject = attrs.get("subject")
    if subject is None:
        rep.add(
            "VAL006",
            f"the {obj.rm_type} has no subject; every entry must say whom it is about (PARTY_SELF for the patient)",
            _resolve(where).at("subject"),
            expected="subject (PARTY_PROXY)",
            found="nothing",
        )
    else:
        _check_party(subject, where, "subject", rep, rejected)
    provider = attrs.get("provider")
    _check_party(provider, where, "provider", rep, rejected)
    _check_participations(obj, "other_participations", where, rep, rejected)


def _action(obj: RMObject, where: WhereArg, rep: Reporter, rejected: list[RMObject]) -> None:
    _entry(obj, where, rep, rejected)
    ism = obj.attrs.get("ism_transition")
    if not isinstance(ism, RMObject):
        return  # a missing ism_transition is an RM existence error (the walker's VAL006)
    iw = _child(where, "ism_transition", ism)
    current = ism.attrs.get("current_state")
    transition = ism.attrs.get("transition")
    # ISM_TRANSITION.Current_state_valid and Transition_valid
    state = _check_group(current, "instruction_states", "current state", "VAL207", iw, "current_state", rep,
                         rejected)
    trans = _check_group(transition, "instruction_transitions", "ISM transition", "VAL207", iw, "transition", rep,
                         rejected)
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


def _element(obj: RMObject, where: WhereArg, rep: Reporter, rejected: list[RMObject]) -> None:
    attrs = obj.attrs
    value, null_flavour = attrs.get("value"), attrs.get("null_flavour")
    # ELEMENT.Is_null_valid + Null_flavour_indicated: is_null xor null_flavour = Void
    if null_flavour is None:
        if value is None:
            rep.add(
                "VAL206",
                "the element has neither a value nor a null flavour; an element without a value must say why "
                "(null_flavour, e.g. 253 unknown or 271 no information)",
                _resolve(where).at("value"),
                expected="value or null_flavour",
                found="neither",
            )
        return  # the common case: a value and no null flavour
    if value is not None:
        rep.add(
            "VAL206",
            f"the element has a value and also a null flavour ({_text_of(null_flavour) or _code_of(null_flavour)[1]});"
            " a null flavour says why a value is missing, so it is only allowed without a value",
            _child_where(where, "null_flavour", null_flavour),
            expected="value or null_flavour, not both",
            found="value and null_flavour",
        )
    # ELEMENT.Null_flavour_valid
    _check_group(null_flavour, "null_flavours", "null flavour", "VAL210", where, "null_flavour", rep, rejected)


def _history(obj: RMObject, where: WhereArg, rep: Reporter, rejected: list[RMObject]) -> None:
    """EVENT.offset = time - HISTORY.origin: an event before the origin of its history has a negative offset,
    which contradicts "origin: time origin of this event history"."""
    events = obj.attrs.get("events")
    origin_value = obj.attrs.get("origin")
    if not isinstance(events, list) or not events:
        return
    origin_text = _text_of(origin_value)
    origin: datetime | None = None
    for i, event in enumerate(events):
        if not isinstance(event, RMObject):
            continue
        time_value = event.attrs.get("time")
        if _text_of(time_value) == origin_text:
            continue  # the common case: the event at the origin itself; no date to parse
        if origin is None:
            origin = _datetime_of(origin_value)
            if origin is None:
                return
        t = _datetime_of(time_value)
        if t is None or not _before(t, origin):
            continue
        w = _resolve(where)
        ew = _child_where(w, "events", event)
        if not event.location:
            ew = w.at("events", f"events/{i}")
        node = event.archetype_node_id
        if node:
            ew = replace(ew, template_path=w.template_path.rstrip("/") + f"/events[{node}]")
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


def _interval_event(obj: RMObject, where: WhereArg, rep: Reporter, rejected: list[RMObject]) -> None:
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
    _check_group(math, "event_math_function", "math function", "VAL209", where, "math_function", rep, rejected)


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

#: the RM types (base names, without generic arguments) that have rules: the walker calls ``check_rm_rules`` for
#: these only
RULE_TYPES: frozenset[str] = frozenset(_RULES)


# ---------------------------------------------------------------------------------------------------------------
# Quiet verdicts (the walker's compiled checks, which only need to know whether anything would be reported)

#: a location-less place for rules run quietly: nothing run there is ever reported
_NOWHERE = Where("", "")

#: codes already found valid (bounded by the code sets themselves), so an entry's language and encoding are a
#: set look-up each
_LANGUAGES_OK: set[str] = set()
_CHARSETS_OK: set[str] = set()
_TERRITORIES_OK: set[str] = set()


def _phrase_quiet(value: Any, terminology_id: str, known: set[str], valid: Callable[[str], bool]) -> bool:
    """Whether ``_check_code_phrase`` would accept ``value`` at once (its common case: the right terminology and a
    valid code, or no value); False means "not sure", never "wrong"."""
    if value is None:
        return True
    if type(value) is not RMObject or value.rm_type != "CODE_PHRASE":
        return False
    attrs = value.attrs
    tid = attrs.get("terminology_id")
    code = attrs.get("code_string")
    if type(tid) is not RMObject or type(code) is not str or tid.attrs.get("value") != terminology_id:
        return False
    if code in known:
        return True
    if valid(code):
        known.add(code)
        return True
    return False


def _group_code(value: Any, codes: frozenset[str]) -> str | None:
    """The code of a DV_CODED_TEXT that ``_check_group`` accepts at once (openEHR terminology, a code of the
    group), else None ("not sure", never "wrong")."""
    if type(value) is RMObject and value.rm_type == "DV_CODED_TEXT":
        phrase = value.attrs.get("defining_code")
        if type(phrase) is RMObject:
            attrs = phrase.attrs
            tid = attrs.get("terminology_id")
            code = attrs.get("code_string")
            if (type(tid) is RMObject and tid.attrs.get("value") == term.TERMINOLOGY_ID and type(code) is str
                    and code in codes):
                return code  # type: ignore[no-any-return]
    return None


def _not_related(party: Any) -> bool:
    """Whether ``_check_party`` has nothing to check: the party is not a PARTY_RELATED."""
    return not isinstance(party, RMObject) or party.rm_type != "PARTY_RELATED"


def quiet_rule(rm_type: str, scratch: Reporter) -> Callable[[RMObject], bool] | None:
    """A predicate telling whether ``check_rm_rules`` would report nothing for an object of ``rm_type`` (None: the
    type has no rules). The common valid ELEMENT, entry (a valid language and encoding, a subject, no related
    party or participation; an ACTION's ISM state and transition), composition and event context are accepted
    with a few look-ups; anything else runs the rule itself into ``scratch``, whose issues are dropped again:
    the verdict is always the rule's own."""
    rule = _RULES.get(rm_type) or _RULES.get(base_type(rm_type))
    if rule is None:
        return None

    def run(obj: RMObject) -> bool:
        rule(obj, _NOWHERE, scratch, [])
        if scratch.issues:
            scratch.issues.clear()
            return False
        return True

    if rule is _element:
        def element(obj: RMObject) -> bool:
            attrs = obj.attrs
            if attrs.get("null_flavour") is None and attrs.get("value") is not None:
                return True
            return run(obj)
        return element
    languages, is_language = iso.LANGUAGES_ID, iso.is_language
    if rule is _entry or rule is _action:
        charsets, is_charset = iso.CHARSETS_ID, iso.is_charset
        states = term.codes_in_group("instruction_states")
        transitions = term.codes_in_group("instruction_transitions")

        def entry(obj: RMObject) -> bool:
            attrs = obj.attrs
            if not (attrs.get("subject") is not None and attrs.get("other_participations") is None
                    and _phrase_quiet(attrs.get("language"), languages, _LANGUAGES_OK, is_language)
                    and _phrase_quiet(attrs.get("encoding"), charsets, _CHARSETS_OK, is_charset)
                    and _not_related(attrs.get("subject")) and _not_related(attrs.get("provider"))):
                return run(obj)
            if rule is _entry:
                return True
            # an ACTION's ISM transition: a current state, and a transition (if any) that leads to it
            ism = attrs.get("ism_transition")
            if type(ism) is not RMObject:
                return run(obj)
            state = _group_code(ism.attrs.get("current_state"), states)
            transition = ism.attrs.get("transition")
            if state is None or (transition is not None and (
                    (trans := _group_code(transition, transitions)) is None
                    or term.ism_transition_allowed(state, trans) is False)):
                return run(obj)
            return True
        return entry
    if rule is _composition:
        categories = term.codes_in_group("composition_category")
        territories, is_territory = iso.TERRITORIES_ID, iso.is_territory

        def composition(obj: RMObject) -> bool:
            attrs = obj.attrs
            category = _group_code(attrs.get("category"), categories)
            if (category is not None and (category != "431" or not isinstance(attrs.get("context"), RMObject))
                    and _not_related(attrs.get("composer"))
                    and _phrase_quiet(attrs.get("language"), languages, _LANGUAGES_OK, is_language)
                    and _phrase_quiet(attrs.get("territory"), territories, _TERRITORIES_OK, is_territory)):
                return True
            return run(obj)
        return composition
    if rule is _event_context:
        settings = term.codes_in_group("setting")

        def event_context(obj: RMObject) -> bool:
            attrs = obj.attrs
            if (attrs.get("end_time") is None and attrs.get("participations") is None
                    and _group_code(attrs.get("setting"), settings) is not None):
                return True
            return run(obj)
        return event_context
    return run
