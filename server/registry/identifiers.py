"""Validation of Chinese identifiers: the unified social credit code and the resident ID number.

Pure functions, no database: each normalises its input (strip, uppercase), returns the normalised
value, and raises ``DomainError`` with a stable ``details["reason"]`` when the value cannot be one.
Details never echo the submitted value, because a resident ID number is personal data.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from server.errors import DomainError
from server.registry.errors import INVALID_CREDIT_CODE, INVALID_RESIDENT_ID

# --- Unified social credit code (统一社会信用代码), GB 32100-2015 -----------------------------------------
# Code structure: 18 characters = registration authority (1) + organisation type (1) + registering
# office's administrative division, GB/T 2260 (6) + subject identifier, the GB 11714 organisation
# code (9) + check character (1).
# Character set: the digits and the capital letters except I, O, Z, S, V (too easily confused with
# 1, 0, 2, 5, U); a character's value in the check computation is its index in this alphabet.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_LENGTH = 18
# Check character (computed per GB/T 17710, modulus 31): the weight of position i (0-based) is
# 3^i mod 31, i.e. 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28.
CREDIT_CODE_WEIGHTS = tuple(pow(3, i, 31) for i in range(CREDIT_CODE_LENGTH - 1))

_CREDIT_REASONS = {
    "type": ("应为文本", "must be text"),
    "length": ("应为 18 位", "must be 18 characters long"),
    "characters": (
        "只能包含数字和除 I、O、Z、S、V 以外的大写字母",
        "may contain only digits and capital letters other than I, O, Z, S, V",
    ),
    "check_digit": ("校验位不正确，请核对", "the check character does not match; please check it"),
}


def credit_code_check_char(first17: str) -> str:
    """The check character (position 18) for the first 17 characters, per GB 32100-2015:
    C18 = 31 - (sum of value * weight) mod 31, where 31 itself maps to 0."""
    total = sum(
        CREDIT_CODE_ALPHABET.index(char) * weight
        for char, weight in zip(first17, CREDIT_CODE_WEIGHTS, strict=True)
    )
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def _credit_error(reason: str, **details: object) -> DomainError:
    reason_zh, reason_en = _CREDIT_REASONS[reason]
    return DomainError(
        INVALID_CREDIT_CODE, details={"reason": reason, **details}, reason_zh=reason_zh, reason_en=reason_en
    )


def validate_credit_code(code: str) -> str:
    """Return ``code`` stripped and uppercased if it is a well-formed unified social credit code.

    Only the structure and the check character are verified; whether the code was ever issued is
    for the registration authorities' lookup to say.
    """
    if not isinstance(code, str):
        raise _credit_error("type")
    normalised = code.strip().upper()
    if len(normalised) != CREDIT_CODE_LENGTH:
        raise _credit_error("length", length=len(normalised), expected_length=CREDIT_CODE_LENGTH)
    if any(char not in CREDIT_CODE_ALPHABET for char in normalised):
        raise _credit_error("characters")
    if credit_code_check_char(normalised[:17]) != normalised[17]:
        raise _credit_error("check_digit")
    return normalised


# --- Resident identity number (公民身份号码), GB 11643-1999 ---------------------------------------------
# Clause 5.1 (structure): 6-digit address code + 8-digit birth date (YYYYMMDD) + 3-digit sequence
# code + 1 check character.
RESIDENT_ID_LENGTH = 18
# Clause 5.5 (check code, ISO 7064:1983 MOD 11-2): weight of position i (1-based) is 2^(18-i) mod 11.
RESIDENT_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# Indexed by the weighted sum mod 11; 'X' stands for the value 10.
RESIDENT_ID_CHECK_CHARS = "10X98765432"
_DIGITS = frozenset("0123456789")
# Clause 5.2: the address code is a GB/T 2260 division code; its first two digits are the province.
# 71 Taiwan, 81 Hong Kong, 82 Macao; 83 is used by residence permits for Taiwan residents and 91 by
# the 2023 foreigners' permanent residence ID card, which follow the same 18-character scheme.
PROVINCE_CODES = frozenset(
    {
        *range(11, 16),
        *range(21, 24),
        *range(31, 38),
        *range(41, 47),
        *range(50, 55),
        *range(61, 66),
        71,
        81,
        82,
        83,
        91,
    }
)
# Clause 5.3: the birth date code is the date of birth as YYYYMMDD (GB/T 7408).
EARLIEST_BIRTH_YEAR = 1900
# Birth dates are Beijing dates; "in the future" must not depend on the server's time zone.
CHINA_TZ = ZoneInfo("Asia/Shanghai")

_RESIDENT_REASONS = {
    "type": ("应为文本", "must be text"),
    "length": ("应为 18 位", "must be 18 characters long"),
    "characters": (
        "前 17 位应为数字，最后一位应为数字或 X",
        "the first 17 characters must be digits and the last a digit or X",
    ),
    "check_digit": ("校验位不正确，请核对", "the check character does not match; please check it"),
    "region": ("地址码中的省级代码不存在", "the address code does not start with a valid province code"),
    "birth_date": ("出生日期无效", "the birth date is not a valid date"),
}


def resident_id_check_char(first17: str) -> str:
    """The check character for the first 17 digits (GB 11643-1999 clause 5.5)."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, RESIDENT_ID_WEIGHTS, strict=True))
    return RESIDENT_ID_CHECK_CHARS[total % 11]


def _resident_error(reason: str, **details: object) -> DomainError:
    reason_zh, reason_en = _RESIDENT_REASONS[reason]
    return DomainError(
        INVALID_RESIDENT_ID, details={"reason": reason, **details}, reason_zh=reason_zh, reason_en=reason_en
    )


def _birth_date(digits: str) -> date | None:
    try:
        return date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


def validate_resident_id(number: str, *, today: date | None = None) -> str:
    """Return ``number`` stripped and uppercased (a trailing 'x' becomes 'X') if it is a valid
    18-digit resident identity number; ``today`` (default: today in Beijing) bounds the birth date.

    The 15-digit numbers of the first-generation cards (GB 11643-1989) are not accepted: they
    expired with those cards in 2013.
    """
    if not isinstance(number, str):
        raise _resident_error("type")
    normalised = number.strip().upper()
    if len(normalised) != RESIDENT_ID_LENGTH:
        raise _resident_error("length", length=len(normalised), expected_length=RESIDENT_ID_LENGTH)
    body, check = normalised[:17], normalised[17]
    if not _DIGITS.issuperset(body) or check not in RESIDENT_ID_CHECK_CHARS:
        raise _resident_error("characters")
    # The check character first: a mistyped digit anywhere, including in the region or the birth
    # date, is then reported as the typo it most likely is.
    if resident_id_check_char(body) != check:
        raise _resident_error("check_digit")
    if int(body[:2]) not in PROVINCE_CODES:
        raise _resident_error("region")
    born = _birth_date(body[6:14])
    today = today or datetime.now(CHINA_TZ).date()
    if born is None or born.year < EARLIEST_BIRTH_YEAR or born > today:
        raise _resident_error("birth_date")
    return normalised


def mask_resident_id(number: str) -> str:
    """Show only the first 4 and the last 4 characters, e.g. '5109**********3027'.

    Values too short to keep 8 characters and still hide something are masked entirely, so a
    malformed value never leaks more than a well-formed one.
    """
    value = number.strip().upper()
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]
