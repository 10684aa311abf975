"""Bundled terminology: the openEHR support terminology and the ISO/IANA code sets openEHR uses.

No terminology server is needed; the data are compact Python modules (see ``_openehr_data`` and ``_iso_data``
for their sources).
"""

from __future__ import annotations

from openehr_kit.terminology.iso import (
    CHARSETS_ID,
    LANGUAGES_ID,
    MEDIA_TYPES_ID,
    TERRITORIES_ID,
    is_charset,
    is_common_media_type,
    is_language,
    is_media_type,
    is_territory,
)
from openehr_kit.terminology.openehr import (
    TERMINOLOGY_ID,
    accepted_rubrics,
    codes_in_group,
    describe,
    describe_group,
    group_id,
    group_ids,
    group_name,
    group_of,
    groups_of,
    has_code,
    ism_is_terminal,
    ism_target_state,
    ism_transition_allowed,
    ism_transitions_into,
    rubric,
    translated_languages,
)

__all__ = [
    "CHARSETS_ID",
    "LANGUAGES_ID",
    "MEDIA_TYPES_ID",
    "TERMINOLOGY_ID",
    "TERRITORIES_ID",
    "accepted_rubrics",
    "codes_in_group",
    "describe",
    "describe_group",
    "group_id",
    "group_ids",
    "group_name",
    "group_of",
    "groups_of",
    "has_code",
    "is_charset",
    "is_common_media_type",
    "is_language",
    "is_media_type",
    "is_territory",
    "ism_is_terminal",
    "ism_target_state",
    "ism_transition_allowed",
    "ism_transitions_into",
    "rubric",
    "translated_languages",
]
