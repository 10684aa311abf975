"""Syntax facts of the code systems registries use: SNOMED CT ids (Verhoeff check digit), ICD-10, ICD-O-3, NCSP.

Only the *form* of a code is checked here, never whether the code exists in a release: that needs the terminology
itself, which lint does not have. Every function returns ``None`` for a well-formed code and otherwise a short
reason that goes into the finding's message.
"""

from __future__ import annotations

import re

# Verhoeff's dihedral group D5 tables: multiplication, permutation (position i uses row i mod 8) and inverse.
_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
def _permutations() -> tuple[tuple[int, ...], ...]:
    # rows 0 and 1 are given; row i applies row 1 to row i-1 (F(i, j) = F(i-1, F(1, j))), as the SNOMED CT
    # release file specification derives them, so no hand-typed table can hold a typo
    rows = [tuple(range(10)), (1, 5, 7, 6, 2, 8, 3, 0, 9, 4)]
    while len(rows) < 8:
        rows.append(tuple(rows[-1][rows[1][j]] for j in range(10)))
    return tuple(rows)


_P = _permutations()
_INV = (0, 4, 3, 2, 1, 5, 6, 7, 8, 9)


def verhoeff_valid(digits: str) -> bool:
    """True when the last digit of ``digits`` is the Verhoeff check digit of the others."""
    c = 0
    for i, ch in enumerate(reversed(digits)):
        c = _D[c][_P[i % 8][int(ch)]]
    return c == 0


def verhoeff_digit(digits: str) -> int:
    """The Verhoeff check digit to append to ``digits``."""
    c = 0
    for i, ch in enumerate(reversed(digits)):
        c = _D[c][_P[(i + 1) % 8][int(ch)]]
    return _INV[c]


#: SCTID partition identifiers (the two digits before the check digit): short-format and extension
#: concept/description/relationship ids; anything else is not an SCTID
_PARTITIONS = frozenset({"00", "01", "02", "10", "11", "12"})


def sctid_problem(code: str) -> str | None:
    """Why ``code`` is not a well-formed SNOMED CT identifier (6 to 18 digits, no leading zero, a known
    partition identifier, and a valid Verhoeff check digit), or None."""
    if not code.isdigit() or not code.isascii():
        return "an SCTID has digits only"
    if not 6 <= len(code) <= 18:
        return f"an SCTID has 6 to 18 digits, this has {len(code)}"
    if code[0] == "0":
        return "an SCTID has no leading zero"
    if code[-3:-1] not in _PARTITIONS:
        return f"partition identifier {code[-3:-1]} is not one SNOMED CT defines"
    if not verhoeff_valid(code):
        return f"the check digit is wrong (Verhoeff gives {verhoeff_digit(code[:-1])}, not {code[-1]})"
    return None


# ICD-10 (WHO): a letter, two digits, optionally a dot and one or more digits; the dagger/asterisk marks of
# dual classification may follow. A range (A00-A09) is well formed when both ends are.
_ICD10_RE = re.compile(r"[A-Z]\d{2}(?:\.\d+)?[\u2020*]?")
_ICD10_DOTLESS_RE = re.compile(r"([A-Z]\d{2})(\d+)")


def icd10_problem(code: str) -> str | None:
    """Why ``code`` is not a well-formed WHO ICD-10 code (``A00``, ``S72.0``, ``E10.65``), or None."""
    parts = code.split("-") if code.count("-") == 1 else [code]
    for part in parts:
        if _ICD10_RE.fullmatch(part):
            continue
        m = _ICD10_DOTLESS_RE.fullmatch(part)
        if m:
            return f"{part} lacks the dot after the category: write {m.group(1)}.{m.group(2)}"
        return f"{part} is not of the form A00 or A00.0 (a capital letter, two digits, optional .digits)"
    return None


# ICD-O-3: morphology is four digits, a slash and the behaviour digit (0, 1, 2, 3, 6 or 9);
# topography is C, two digits, a dot and one digit (C00.0 to C80.9).
_ICDO_MORPH_RE = re.compile(r"\d{4}/\d")
_ICDO_TOPO_RE = re.compile(r"C\d{2}\.\d")


def icdo3_problem(code: str) -> str | None:
    """Why ``code`` is neither an ICD-O-3 morphology (``8140/3``) nor a topography (``C61.9``), or None."""
    if _ICDO_MORPH_RE.fullmatch(code):
        if code[-1] not in "012369":
            return f"behaviour code {code[-1]} is not one of 0, 1, 2, 3, 6, 9"
        return None
    if _ICDO_TOPO_RE.fullmatch(code):
        if int(code[1:3]) > 80:
            return f"topography {code} is beyond C80.9"
        return None
    return f"{code} is neither a morphology (dddd/d, e.g. 8140/3) nor a topography (Cdd.d, e.g. C61.9)"


# NCSP (NOMESCO Classification of Surgical Procedures): three capital letters and two digits (JDB10, NFB49);
# national versions (NCSP-N, NCSP-D) may add one letter for a subdivision.
_NCSP_RE = re.compile(r"[A-Z]{3}\d{2}[A-Z]?")


def ncsp_problem(code: str) -> str | None:
    """Why ``code`` is not a well-formed NCSP procedure code (``NFB49``, three letters and two digits), or None."""
    if _NCSP_RE.fullmatch(code):
        return None
    return f"{code} is not of the form AAA00 (three capital letters, two digits, an optional national letter)"


def code_system(terminology_id: str) -> str | None:
    """Which checked code system a terminology id names: ``snomed``, ``icd10``, ``icdo3``, ``ncsp`` or None.

    Versions in brackets (``SNOMED-CT(2003)``) are ignored. National ICD-10 modifications with another code
    syntax (ICD-10-CM, ICD-10-AM, ICD-10-PCS) are left alone rather than misjudged.
    """
    base = terminology_id.split("(", 1)[0]
    key = re.sub(r"[^A-Z0-9]", "", base.upper())
    if key.startswith("SNOMED") or key in ("SCT", "SCTID"):
        return "snomed"
    if key.startswith("ICDO"):
        return "icdo3"
    if key.startswith("ICD10"):
        rest = key[5:]
        if any(tag in rest for tag in ("CM", "AM", "PCS", "CA", "GM")):
            return None
        return "icd10"
    if key.startswith("NCSP"):
        return "ncsp"
    return None


#: code system -> (lint code, syntax check)
CHECKS = {
    "snomed": ("LNT140", sctid_problem),
    "icd10": ("LNT141", icd10_problem),
    "icdo3": ("LNT142", icdo3_problem),
    "ncsp": ("LNT143", ncsp_problem),
}

_SNOMED_URI_RE = re.compile(r"snomed\.info/(?:id/|sct/\d+/?.*?id/)?(\d+)")


def code_from_uri(uri: str) -> str | None:
    """The concept id in a SNOMED CT URI (``http://snomed.info/id/123456``), or None."""
    m = _SNOMED_URI_RE.search(uri)
    return m.group(1) if m else None


def code_problem(terminology_id: str, code: str) -> tuple[str, str] | None:
    """(lint code, reason) when ``code`` is malformed for the code system ``terminology_id`` names."""
    system = code_system(terminology_id)
    if system is None:
        return None
    lint_code, check = CHECKS[system]
    # a post-coordinated or described id (``123456|term|``) is checked on its focus concept only
    focus = code.strip()
    if system == "snomed":
        focus = re.split(r"[|:{]", focus, maxsplit=1)[0].strip()
    problem = check(focus)
    return (lint_code, problem) if problem else None
