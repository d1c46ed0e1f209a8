"""Unified social credit codes (GB 32100-2015) and resident ID numbers (GB 11643-1999): what is
accepted, how it is normalised, and the stable reason given for each kind of rejection."""

from datetime import date, timedelta

import pytest

from server.errors import DomainError
from server.registry.errors import INVALID_CREDIT_CODE, INVALID_RESIDENT_ID
from server.registry.identifiers import (
    CREDIT_CODE_ALPHABET,
    CREDIT_CODE_WEIGHTS,
    credit_code_check_char,
    mask_resident_id,
    resident_id_check_char,
    validate_credit_code,
    validate_resident_id,
)

TODAY = date(2025, 6, 15)


def reason_of(excinfo: pytest.ExceptionInfo[DomainError]) -> str:
    return excinfo.value.details["reason"]


# --- Unified social credit code -------------------------------------------------------------------
# Real, published codes (public registration data), checked by hand against the standard.
HUAWEI = "914403001922038216"  # 华为技术有限公司
TENCENT = "91440300708461136T"  # 深圳市腾讯计算机系统有限公司
XIAOMI = "91110108551385082Q"  # 小米科技有限责任公司
FUZHOU_EXAMPLE = "91350100M000100Y43"  # the sample widely used to illustrate the standard (Fuzhou)


def test_credit_code_weights_are_the_standards():
    assert CREDIT_CODE_WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    assert len(CREDIT_CODE_ALPHABET) == 31
    assert not set("IOZSV") & set(CREDIT_CODE_ALPHABET)


def test_credit_code_check_char_worked_example():
    # Huawei by hand: the values of 91440300192203821 times the weights sum to 831;
    # 831 mod 31 = 25 and 31 - 25 = 6, the character with value 6 is "6".
    values = [CREDIT_CODE_ALPHABET.index(char) for char in HUAWEI[:17]]
    total = sum(value * weight for value, weight in zip(values, CREDIT_CODE_WEIGHTS, strict=True))
    assert total == 831
    assert credit_code_check_char(HUAWEI[:17]) == "6"


@pytest.mark.parametrize("code", [HUAWEI, TENCENT, XIAOMI, FUZHOU_EXAMPLE])
def test_real_credit_codes_are_valid(code):
    assert validate_credit_code(code) == code


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  914403001922038216\n", HUAWEI),
        ("91440300708461136t", TENCENT),
        ("91350100m000100y43", FUZHOU_EXAMPLE),
    ],
)
def test_credit_code_is_normalised(raw, expected):
    assert validate_credit_code(raw) == expected


def test_check_char_31_maps_to_zero():
    # (31 - 0) % 31 == 0: a weighted sum divisible by 31 gives check char "0", not an index error.
    first17 = "0" * 17
    assert credit_code_check_char(first17) == "0"
    assert validate_credit_code(first17 + "0") == "0" * 18


@pytest.mark.parametrize("code", ["", "9144030019220382", "91440300192203821", "9144030019220382160"])
def test_credit_code_wrong_length(code):
    with pytest.raises(DomainError) as excinfo:
        validate_credit_code(code)
    assert excinfo.value.error is INVALID_CREDIT_CODE
    assert excinfo.value.details == {"reason": "length", "length": len(code), "expected_length": 18}


@pytest.mark.parametrize(
    "code",
    [
        "91440300I92203821" + "6",  # I is not in the alphabet
        "91440300O92203821" + "6",  # O
        "91440300Z92203821" + "6",  # Z
        "91440300S92203821" + "6",  # S
        "91440300V92203821" + "6",  # V
        "91440300-92203821" + "6",
        "9144030019220382 6",
        "９14403001922038216",  # full-width digit
    ],
)
def test_credit_code_bad_characters(code):
    assert len(code) == 18
    with pytest.raises(DomainError) as excinfo:
        validate_credit_code(code)
    assert reason_of(excinfo) == "characters"


@pytest.mark.parametrize(
    "code",
    [
        "914403001922038217",  # Huawei with the wrong check char
        "91440300708461136U",  # Tencent with the wrong check char
        "91110108MA01X5Y36Q",  # plausible-looking but the check char should be H
        "91110108MA007J3P0U",  # once used as seed data; the check char should be B
    ],
)
def test_credit_code_wrong_check_char(code):
    with pytest.raises(DomainError) as excinfo:
        validate_credit_code(code)
    assert reason_of(excinfo) == "check_digit"


def test_every_single_character_substitution_is_caught():
    # 31 is prime and no weight is 0 mod 31, so any one wrong character changes the check char.
    for position in range(18):
        for char in CREDIT_CODE_ALPHABET:
            if char == HUAWEI[position]:
                continue
            typo = HUAWEI[:position] + char + HUAWEI[position + 1 :]
            with pytest.raises(DomainError):
                validate_credit_code(typo)


def test_every_adjacent_transposition_is_caught():
    # The weights of neighbouring positions differ, so swapping two different characters is caught.
    for position in range(16):
        a, b = HUAWEI[position], HUAWEI[position + 1]
        if a == b:
            continue
        swapped = HUAWEI[:position] + b + a + HUAWEI[position + 2 :]
        with pytest.raises(DomainError):
            validate_credit_code(swapped)


@pytest.mark.parametrize("value", [None, 914403001922038216, b"914403001922038216"])
def test_credit_code_must_be_text(value):
    with pytest.raises(DomainError) as excinfo:
        validate_credit_code(value)
    assert reason_of(excinfo) == "type"


def test_credit_code_error_messages():
    with pytest.raises(DomainError) as excinfo:
        validate_credit_code("914403001922038217")
    error = excinfo.value
    assert INVALID_CREDIT_CODE.code == "invalid_credit_code"
    assert INVALID_CREDIT_CODE.status == 400
    assert error.error.message("zh-hans", **error.params) == "统一社会信用代码无效：校验位不正确，请核对"
    assert error.error.message("en", **error.params) == (
        "Invalid unified social credit code: the check character does not match; please check it"
    )


# --- Resident identity number ---------------------------------------------------------------------
STANDARD_EXAMPLE = "11010519491231002X"  # GB 11643-1999 Appendix A


def resident_id(first17: str) -> str:
    """A number with a correct check char, to test the other rules in isolation."""
    return first17 + resident_id_check_char(first17)


def test_resident_id_check_char_worked_example():
    # The standard's own example: 11010519491231002 weighs to 167; 167 mod 11 = 2 -> "X".
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(digit) * weight for digit, weight in zip("11010519491231002", weights, strict=True))
    assert total == 167
    assert resident_id_check_char("11010519491231002") == "X"


@pytest.mark.parametrize(
    "number",
    [
        STANDARD_EXAMPLE,
        resident_id("51092219900101302"),
        resident_id("44030420000229123"),  # 29 February of a leap year
        resident_id("65010219000101001"),  # the earliest birth date accepted
        resident_id("83000019900101001"),  # residence permit for Taiwan residents
        resident_id("91000019900101001"),  # foreigners' permanent residence ID card (2023)
        resident_id("81000019900101001"),  # Hong Kong
    ],
)
def test_valid_resident_ids(number):
    assert validate_resident_id(number, today=TODAY) == number


def test_lowercase_x_is_accepted_and_uppercased():
    assert validate_resident_id("11010519491231002x", today=TODAY) == STANDARD_EXAMPLE
    assert validate_resident_id("  11010519491231002x ", today=TODAY) == STANDARD_EXAMPLE


def test_birth_date_today_is_accepted():
    number = resident_id("110105" + TODAY.strftime("%Y%m%d") + "001")
    assert validate_resident_id(number, today=TODAY) == number


@pytest.mark.parametrize(
    "number",
    ["", "11010519491231002", "11010519491231002X1", "110105491231002"],  # the last: a 15-digit number
)
def test_resident_id_wrong_length(number):
    with pytest.raises(DomainError) as excinfo:
        validate_resident_id(number, today=TODAY)
    assert excinfo.value.error is INVALID_RESIDENT_ID
    assert excinfo.value.details == {"reason": "length", "length": len(number), "expected_length": 18}


@pytest.mark.parametrize(
    "number",
    [
        "1101051949123100XX",  # X only as the check char
        "11010519491231002A",
        "110105-9491231002X",
        "1101051949 231002X",  # inner spaces are not stripped
        "１10105194912310020",  # full-width digit
    ],
)
def test_resident_id_bad_characters(number):
    with pytest.raises(DomainError) as excinfo:
        validate_resident_id(number, today=TODAY)
    assert reason_of(excinfo) == "characters"


@pytest.mark.parametrize("number", ["110105194912310021", "110105194912310020", "11010519491231003X"])
def test_resident_id_wrong_check_char(number):
    with pytest.raises(DomainError) as excinfo:
        validate_resident_id(number, today=TODAY)
    assert reason_of(excinfo) == "check_digit"


@pytest.mark.parametrize(
    "province",
    [0, 10, 16, 20, 24, 30, 38, 40, 47, 49, 55, 60, 66, 70, 72, 80, 84, 90, 92, 99],
)
def test_resident_id_unknown_province(province):
    with pytest.raises(DomainError) as excinfo:
        validate_resident_id(resident_id(f"{province:02d}010519900101001"), today=TODAY)
    assert reason_of(excinfo) == "region"


@pytest.mark.parametrize(
    "province",
    [11, 15, 21, 23, 31, 37, 41, 46, 50, 54, 61, 65, 71, 81, 82, 83, 91],
)
def test_resident_id_every_province_range_edge_is_accepted(province):
    number = resident_id(f"{province:02d}010519900101001")
    assert validate_resident_id(number, today=TODAY) == number


@pytest.mark.parametrize(
    "birth",
    [
        "19900230",  # 30 February
        "19000229",  # 1900 was not a leap year
        "19901301",  # month 13
        "19900001",  # month 0
        "19900100",  # day 0
        "18991231",  # before 1900
        "18800101",  # GB 11643-1999 Appendix A's own 1880 example is out of our range too
        (TODAY + timedelta(days=1)).strftime("%Y%m%d"),  # tomorrow
        "29990101",
    ],
)
def test_resident_id_bad_birth_date(birth):
    with pytest.raises(DomainError) as excinfo:
        validate_resident_id(resident_id("110105" + birth + "001"), today=TODAY)
    assert reason_of(excinfo) == "birth_date"


def test_future_birth_date_without_explicit_today():
    with pytest.raises(DomainError) as excinfo:
        validate_resident_id(resident_id("11010529990101001"))
    assert reason_of(excinfo) == "birth_date"
    assert validate_resident_id(STANDARD_EXAMPLE) == STANDARD_EXAMPLE


@pytest.mark.parametrize("value", [None, 110105194912310020, ["11010519491231002X"]])
def test_resident_id_must_be_text(value):
    with pytest.raises(DomainError) as excinfo:
        validate_resident_id(value, today=TODAY)
    assert reason_of(excinfo) == "type"


def test_resident_id_errors_never_echo_the_number():
    for bad in ("110105194912310021", resident_id("99010519900101001"), "1101051949123100"):
        with pytest.raises(DomainError) as excinfo:
            validate_resident_id(bad, today=TODAY)
        error = excinfo.value
        assert bad not in str(error.details)
        assert bad not in str(error)
        assert bad not in str(error.params)


def test_resident_id_error_messages():
    with pytest.raises(DomainError) as excinfo:
        validate_resident_id(resident_id("11010519900230001"), today=TODAY)
    error = excinfo.value
    assert INVALID_RESIDENT_ID.code == "invalid_resident_id"
    assert INVALID_RESIDENT_ID.status == 400
    assert error.error.message("zh-hans", **error.params) == "居民身份证号码无效：出生日期无效"
    assert error.error.message("en", **error.params) == (
        "Invalid resident identity card number: the birth date is not a valid date"
    )


# --- Masking --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("510922199001013027", "5109**********3027"),
        ("11010519491231002x", "1101**********002X"),
        (" 11010519491231002X ", "1101**********002X"),
        ("123456789", "1234*6789"),
        ("12345678", "********"),
        ("1234", "****"),
        ("", ""),
    ],
)
def test_mask_resident_id(number, masked):
    assert mask_resident_id(number) == masked


def test_mask_keeps_length_and_hides_the_birth_date():
    masked = mask_resident_id(STANDARD_EXAMPLE)
    assert len(masked) == 18
    assert "19491231" not in masked
