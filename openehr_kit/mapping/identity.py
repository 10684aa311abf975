"""Norwegian national identity numbers: fødselsnummer and D-number validation, and masking for output.

An identity number is 11 digits: a birth date (DDMMYY), a three-digit individual number, and two mod-11 check
digits. A D-number adds 40 to the day. The check digits use the weights 3,7,6,1,8,9,4,5,2 (k1) and
5,4,3,2,7,6,5,4,3,2 (k2); a remainder of 0 gives the digit 0, and a computed digit of 10 means that no valid
number has these first digits.

Identifiers are personal data: nothing in openehr-kit logs or prints one unmasked; use :func:`mask`.
"""

from __future__ import annotations

import datetime as _dt
import functools
import operator
from dataclasses import dataclass

K1_WEIGHTS = (3, 7, 6, 1, 8, 9, 4, 5, 2)
K2_WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


def check_digit(digits: str, weights: tuple[int, ...]) -> int | None:
    """The mod-11 check digit for ``digits`` (as many as ``weights``); None when it would be 10 (no valid number)."""
    total = sum(map(operator.mul, weights, map(int, digits)))  # a digit without a weight is never read
    rest = 11 - total % 11
    if rest == 11:
        return 0
    if rest == 10:
        return None
    return rest


def check_digits(first_nine: str) -> str | None:
    """Both check digits for the first nine digits, or None when no valid number starts with them."""
    k1 = check_digit(first_nine, K1_WEIGHTS)
    if k1 is None:
        return None
    k2 = check_digit(first_nine + str(k1), K2_WEIGHTS)
    if k2 is None:
        return None
    return f"{k1}{k2}"


@dataclass(frozen=True, slots=True)
class IdCheck:
    """The outcome of checking an identity number: ``ok``, the kind and, when not ok, why (never the number)."""

    ok: bool
    kind: str = ""  # "fødselsnummer" or "D-nummer"
    reason: str = ""


#: how many verdicts check_national_id keeps (least recently used ones go first); a delivery run sees each
#: patient's number once per message, so a patient's later messages reuse the verdict
VERDICT_CACHE_SIZE = 4096


def check_national_id(value: str) -> IdCheck:
    """Check a fødselsnummer or D-number: 11 digits, a real birth date (day + 40 for a D-number), check digits."""
    # only plain text of the right length is cached: a str subclass could have its own __eq__ or digit tests, and
    # any other length is refused at once anyway (and a long text is not worth keeping)
    if type(value) is str and len(value) == 11:
        return _cached_verdict(value)
    return _verdict(value)


def _verdict(value: str) -> IdCheck:
    """check_national_id, worked out."""
    if not isinstance(value, str) or len(value) != 11 or not value.isascii() or not value.isdigit():
        return IdCheck(False, reason="an identity number has exactly 11 digits")
    day, month, year2 = int(value[0:2]), int(value[2:4]), int(value[4:6])
    kind = "fødselsnummer"
    if day > 40:
        kind, day = "D-nummer", day - 40
    if not _is_date(day, month, year2):
        return IdCheck(False, kind, "the first six digits are not a valid birth date (DDMMYY)")
    expected = check_digits(value[:9])
    if expected is None or expected != value[9:]:
        return IdCheck(False, kind, "the check digits are wrong")
    return IdCheck(True, kind)


#: the verdicts (IdCheck is frozen, so one object can be handed out again); kept in memory only, never shown
_cached_verdict = functools.lru_cache(maxsize=VERDICT_CACHE_SIZE)(_verdict)


def is_valid_national_id(value: str) -> bool:
    return check_national_id(value).ok


def _is_date(day: int, month: int, year2: int) -> bool:
    # the century comes from the individual number; 2000 is a leap year and 1900 is not, so accept 29 February
    # when either century makes it a real date
    for century in (1900, 2000):
        try:
            _dt.date(century + year2, month, day)
            return True
        except ValueError:
            continue
    return False


def mask(value: object) -> str:
    """A masked form safe for logs and reports: at most the first two digits (``12*********``)."""
    text = "" if value is None else str(value)
    if not text:
        return "(none)"
    keep = 2 if len(text) >= 8 else 0
    return text[:keep] + "*" * (len(text) - keep)


__all__ = ["IdCheck", "check_digit", "check_digits", "check_national_id", "is_valid_national_id", "mask"]
