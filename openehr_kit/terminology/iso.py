"""ISO and IANA code sets openEHR uses: languages, territories, character sets and media types.

Terminology ids as openEHR writes them in ``CODE_PHRASE.terminology_id``: ``ISO_639-1`` (languages),
``ISO_3166-1`` (territories), ``IANA_character-sets`` (encodings) and ``IANA_media-types`` (media types).
"""

from __future__ import annotations

import re

from openehr_kit.terminology._iso_data import (
    COMMON_MEDIA_TYPES,
    IANA_CHARSETS,
    ISO_639_1,
    ISO_3166_1,
    MEDIA_TOP_LEVEL_TYPES,
    OPENEHR_LANGUAGE_TAGS,
    OPENEHR_LEGACY_LANGUAGES,
    OPENEHR_LEGACY_TERRITORIES,
)

LANGUAGES_ID = "ISO_639-1"
TERRITORIES_ID = "ISO_3166-1"
CHARSETS_ID = "IANA_character-sets"
MEDIA_TYPES_ID = "IANA_media-types"

_LANGUAGES = ISO_639_1 | OPENEHR_LEGACY_LANGUAGES
_CHARSETS_LOWER = frozenset(name.lower() for name in IANA_CHARSETS)
_COMMON_MEDIA_LOWER = frozenset(name.lower() for name in COMMON_MEDIA_TYPES)
# RFC 6838 restricted-name: a letter or digit first, then up to 126 of letters, digits and ! # $ & - ^ _ . +
_RESTRICTED_NAME = r"[A-Za-z0-9][A-Za-z0-9!#$&\-^_.+]{0,126}"
_MEDIA_TYPE_RE = re.compile(rf"({_RESTRICTED_NAME})/({_RESTRICTED_NAME})")


def is_language(code: str) -> bool:
    """ISO 639-1 code (``en``, ``nb``, ``no``), optionally with an ISO 3166-1 region as openEHR writes them
    (``pt-br``, ``en-GB``; region case-insensitive). The language subtag must be lower case as ISO writes it."""
    if not isinstance(code, str):
        return False
    lang, sep, region = code.partition("-")
    if lang not in _LANGUAGES:
        return False
    if not sep:
        return True
    return region.upper() in ISO_3166_1 or code.lower() in OPENEHR_LANGUAGE_TAGS


def is_territory(code: str) -> bool:
    """ISO 3166-1 alpha-2 code as assigned (upper case: ``NO``, ``SE``), plus ``AN`` which openEHR still lists.
    Reserved codes such as ``UK`` or ``EU`` are not territories."""
    return isinstance(code, str) and (code in ISO_3166_1 or code in OPENEHR_LEGACY_TERRITORIES)


def is_charset(name: str) -> bool:
    """IANA character set by preferred name or common alias, case-insensitively (``UTF-8``, ``iso-8859-1``)."""
    return isinstance(name, str) and name.strip().lower() in _CHARSETS_LOWER


def is_media_type(name: str) -> bool:
    """A syntactically valid ``type/subtype`` (RFC 6838) with a registered top-level type; parameters
    (``; charset=...``) are not part of a media type code and are refused."""
    if not isinstance(name, str):
        return False
    m = _MEDIA_TYPE_RE.fullmatch(name)
    return m is not None and m.group(1).lower() in MEDIA_TOP_LEVEL_TYPES


def is_common_media_type(name: str) -> bool:
    """Whether the media type is in the table of common ones (openEHR code set and widely used types)."""
    return isinstance(name, str) and name.lower() in _COMMON_MEDIA_LOWER


def languages() -> frozenset[str]:
    """All ISO 639-1 codes accepted (without region forms)."""
    return _LANGUAGES


def territories() -> frozenset[str]:
    """All ISO 3166-1 alpha-2 codes accepted."""
    return ISO_3166_1 | OPENEHR_LEGACY_TERRITORIES


def charsets() -> tuple[str, ...]:
    """IANA character set names and aliases, as registered (mixed case)."""
    return IANA_CHARSETS


def common_media_types() -> tuple[str, ...]:
    """The table of common media types, openEHR code set first."""
    return COMMON_MEDIA_TYPES
