"""Unit tests of common/cn_ids.py: ID numbers, USCCs, bank cards and CNY amounts.

Valid identifiers are built here with independent check-character implementations (the ISO 7064
"powers of the radix" formulations rather than the standards' weight tables), so a wrong table in
the module fails these tests instead of agreeing with itself. All ID numbers are synthetic.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import translation
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from portsign.common.cn_ids import (
    id_number_birth_date,
    mask_id_number,
    normalize_bank_card,
    normalize_cny_amount,
    normalize_id_number,
    normalize_uscc,
    uscc_org_code,
)
from portsign.common.errors import Invalid

# These are pure functions; the suite's autouse database fixture is irrelevant to them.
PROPERTY = hsettings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

TODAY = date(2024, 6, 1)
DIGITS = "0123456789"
PROVINCES = [
    "11",
    "12",
    "13",
    "14",
    "15",
    "21",
    "22",
    "23",
    "31",
    "32",
    "33",
    "34",
    "35",
    "36",
    "37",
    "41",
    "42",
    "43",
    "44",
    "45",
    "46",
    "50",
    "51",
    "52",
    "53",
    "54",
    "61",
    "62",
    "63",
    "64",
    "65",
    "71",
    "81",
    "82",
    "83",
]
NOT_PROVINCES = [f"{n:02d}" for n in range(100) if f"{n:02d}" not in PROVINCES]
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


# -- independent check characters ---------------------------------------------------------------


def id_check(body: str) -> str:
    """ISO 7064 MOD 11-2: weight of the digit i places left of the check is 2**i mod 11."""
    total = sum(int(c) * pow(2, 17 - i, 11) for i, c in enumerate(body))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def uscc_check(body: str) -> str:
    """GB 32100: weight of position i (0-based) is 3**i mod 31; the check makes the sum 0 mod 31."""
    total = sum(USCC_CHARS.index(c) * pow(3, i, 31) for i, c in enumerate(body))
    return USCC_CHARS[-total % 31]


def org_check(body: str) -> str:
    """GB 11714: weights are 2**(8-i) mod 11; the check makes the sum 0 mod 11 (10 is X)."""
    total = sum(int(c, 36) * pow(2, 8 - i, 11) for i, c in enumerate(body))
    value = -total % 11
    return "X" if value == 10 else str(value)


def luhn_check(payload: str) -> str:
    """The digit that, appended to *payload*, makes its Luhn sum divisible by 10."""
    total = 0
    for i, c in enumerate(reversed(payload)):
        doubled = int(c) * (2 if i % 2 == 0 else 1)
        total += sum(int(d) for d in str(doubled))
    return str(-total % 10)


def make_id(region: str = "110101", birth: str = "19900307", seq: str = "123") -> str:
    body = region + birth + seq
    return body + id_check(body)


def make_uscc(prefix: str = "91110108", org_body: str = "55138508") -> str:
    body = prefix + org_body + org_check(org_body)
    return body + uscc_check(body)


def test_independent_implementations_agree_with_known_codes():
    for code in ["91310000717860235R", "91110108551385082Q", "91340600MA2PBM9HXD"]:
        assert make_uscc(code[:8], code[8:16]) == code
    assert luhn_check("411111111111111") == "1"


# -- helpers ------------------------------------------------------------------------------------


def refusal(func: Callable[..., object], raw: str, **kwargs: object) -> Invalid:
    with translation.override("en"), pytest.raises(Invalid) as info:
        func(raw, **kwargs)
    return info.value


def code_of(func: Callable[..., object], raw: str, **kwargs: object) -> str:
    return refusal(func, raw, **kwargs).code


# -- resident ID numbers ------------------------------------------------------------------------


def test_synthetic_id_number_is_accepted():
    number = make_id()
    assert number[:17] == "11010119900307123"
    assert normalize_id_number(number, today=TODAY) == number
    assert normalize_id_number(number) == number  # against the real today too


def id_ending_in_x() -> str:
    return next(n for n in (make_id(seq=f"{i:03d}") for i in range(1000)) if n.endswith("X"))


def test_id_number_is_normalized():
    number = id_ending_in_x()
    spaced = f" {number[:6]} {number[6:14]}\u3000{number[14:17]} x "
    assert normalize_id_number(spaced, today=TODAY) == number


@pytest.mark.parametrize("raw", ["", "1101011990030712", make_id()[:17], make_id() + "1"])
def test_id_number_length(raw):
    assert code_of(normalize_id_number, raw) == "id_number_length"


@pytest.mark.parametrize(
    "raw",
    [
        "1101011990030712AX",  # a letter in the body
        "X10101199003071234",  # X anywhere but last
        "11010119900307123Y",
        "１１0101199003071234",  # full-width digits
        "110101-19900307123",
    ],
)
def test_id_number_format(raw):
    assert code_of(normalize_id_number, raw) == "id_number_format"


def test_id_number_wrong_check_character():
    number = make_id()
    for wrong in set("0123456789X") - {number[-1]}:
        assert code_of(normalize_id_number, number[:17] + wrong, today=TODAY) == (
            "id_number_checksum"
        )


def test_transposed_digits_are_caught():
    number = make_id(seq="123")
    swapped = number[:14] + "213" + number[17]
    assert code_of(normalize_id_number, swapped, today=TODAY) == "id_number_checksum"


@pytest.mark.parametrize(
    "birth",
    [
        "19900230",
        "19901301",
        "19900001",
        "19900100",
        "19010229",
        "18991231",
        "20240602",
        "00000000",
    ],
)
def test_id_number_birth_date(birth):
    assert code_of(normalize_id_number, make_id(birth=birth), today=TODAY) == (
        "id_number_birth_date"
    )


@pytest.mark.parametrize("birth", ["19000101", "20000229", "20240601"])
def test_id_number_birth_date_bounds_are_accepted(birth):
    assert normalize_id_number(make_id(birth=birth), today=TODAY) == make_id(birth=birth)


def test_birth_date_in_the_future_against_the_real_today():
    tomorrow = (date.today() + timedelta(days=2)).strftime("%Y%m%d")
    assert code_of(normalize_id_number, make_id(birth=tomorrow)) == "id_number_birth_date"


@pytest.mark.parametrize("province", ["00", "10", "16", "20", "30", "47", "55", "70", "72", "84"])
def test_id_number_region(province):
    assert code_of(normalize_id_number, make_id(region=province + "0101"), today=TODAY) == (
        "id_number_region"
    )


@pytest.mark.parametrize("region", ["810000", "820000", "830000", "710000", "650102", "540102"])
def test_hong_kong_macao_taiwan_and_border_provinces_are_accepted(region):
    number = make_id(region=region)
    assert normalize_id_number(number, today=TODAY) == number


def test_id_number_birth_date_helper():
    assert id_number_birth_date(make_id(birth="19900307"), today=TODAY) == date(1990, 3, 7)
    assert code_of(id_number_birth_date, make_id(birth="19900230")) == "id_number_birth_date"


def test_mask_id_number():
    number = make_id()
    masked = mask_id_number(number)
    assert masked == number[:3] + "***********" + number[-4:]
    assert len(masked) == 18
    assert masked.startswith("110***********123")
    with_x = id_ending_in_x()
    assert mask_id_number(with_x.lower()) == with_x[:3] + "*" * 11 + with_x[-4:]
    assert mask_id_number("12345") == "*****"  # malformed input reveals nothing


@PROPERTY
@given(
    province=st.sampled_from(PROVINCES),
    rest=st.text(DIGITS, min_size=4, max_size=4),
    born=st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    seq=st.text(DIGITS, min_size=3, max_size=3),
    other=st.sampled_from("0123456789X"),
)
@example(province="11", rest="0101", born=date(1990, 3, 7), seq="123", other="0")
def test_id_check_character_property(province, rest, born, seq, other):
    body = province + rest + born.strftime("%Y%m%d") + seq
    good = id_check(body)
    assert normalize_id_number(body + good, today=TODAY) == body + good
    assert id_number_birth_date(body + good, today=TODAY) == born
    if other != good:
        assert code_of(normalize_id_number, body + other, today=TODAY) == "id_number_checksum"


@PROPERTY
@given(
    province=st.sampled_from(NOT_PROVINCES),
    rest=st.text(DIGITS, min_size=15, max_size=15),
)
def test_unknown_province_property(province, rest):
    body = province + rest
    assert code_of(normalize_id_number, body + id_check(body), today=TODAY) == "id_number_region"


# -- unified social credit codes ----------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    ["91310000717860235R", "91110108551385082Q", "91340600MA2PBM9HXD", "531000005000160090"],
)
def test_known_uscc_are_accepted(code):
    assert normalize_uscc(code) == code


def test_uscc_is_normalized():
    assert normalize_uscc(" 9134 0600 ma2p bm9h xd\n") == "91340600MA2PBM9HXD"


def test_uscc_org_code():
    assert uscc_org_code("91310000717860235R") == "717860235"
    assert uscc_org_code("91340600ma2pbm9hxd") == "MA2PBM9HX"
    assert code_of(uscc_org_code, "91110108551385082F") == "uscc_checksum"


@pytest.mark.parametrize("authority", ["1", "5", "9", "A", "N", "Y"])
def test_uscc_authority_is_not_restricted(authority):
    code = make_uscc(prefix=authority + "1110108")
    assert normalize_uscc(code) == code


def test_uscc_wrong_check_character():
    assert code_of(normalize_uscc, "91110108551385082F") == "uscc_checksum"


def test_uscc_valid_check_but_bad_org_code():
    # Its USCC check character (the final 8) is right, so the refusal really comes from the
    # organization code 90123456-7, whose own check character should be 8.
    code = "123456789012345678"
    assert uscc_check(code[:17]) == code[17] == "8"
    assert (code[8:16], code[16]) == ("90123456", "7")
    assert org_check("90123456") == "8"
    assert code_of(normalize_uscc, "123456789012345678") == "uscc_org_code"


def test_uscc_forbidden_character_is_named():
    error = refusal(normalize_uscc, "9111000060003IOZSV")
    assert error.code == "uscc_character"
    assert "“I”" in str(error.message)
    assert "position 14" in str(error.message)


@pytest.mark.parametrize("raw", ["", "9131000071786023", "91310000717860235R1"])
def test_uscc_length(raw):
    assert code_of(normalize_uscc, raw) == "uscc_length"


@PROPERTY
@given(
    prefix=st.text(USCC_CHARS, min_size=8, max_size=8),
    org_body=st.text(USCC_CHARS, min_size=8, max_size=8),
    other=st.sampled_from(USCC_CHARS),
)
def test_uscc_check_character_property(prefix, org_body, other):
    code = make_uscc(prefix, org_body)
    assert normalize_uscc(code) == code
    assert normalize_uscc(code.lower()) == code
    assert uscc_org_code(code) == code[8:17]
    if other != code[17]:
        assert code_of(normalize_uscc, code[:17] + other) == "uscc_checksum"


@PROPERTY
@given(
    prefix=st.text(USCC_CHARS, min_size=8, max_size=8),
    org_body=st.text(USCC_CHARS, min_size=8, max_size=8),
    other=st.sampled_from(USCC_CHARS),
)
def test_uscc_org_code_property(prefix, org_body, other):
    if other == org_check(org_body):
        return
    body = prefix + org_body + other
    assert code_of(normalize_uscc, body + uscc_check(body)) == "uscc_org_code"


@PROPERTY
@given(
    code=st.builds(make_uscc, st.text(USCC_CHARS, min_size=8, max_size=8)),
    position=st.integers(0, 17),
    bad=st.sampled_from("IOSVZ*é"),
)
def test_uscc_character_property(code, position, bad):
    error = refusal(normalize_uscc, code[:position] + bad + code[position + 1 :])
    assert error.code == "uscc_character"
    assert f"position {position + 1} " in str(error.message)


# -- bank cards ---------------------------------------------------------------------------------


def test_bank_card_is_normalized():
    number = "621700001234567890" + luhn_check("621700001234567890")
    spaced = f"{number[:4]} {number[4:8]}-{number[8:12]} {number[12:16]}-{number[16:]}"
    assert normalize_bank_card(spaced) == number
    assert normalize_bank_card("4111 1111 1111 1111") == "4111111111111111"


@pytest.mark.parametrize(
    "raw", ["", "41111111111", "4" * 20, "4111 1111 1111 111a", "4111.1111.1111.1111", "٤" * 16]
)
def test_bank_card_format(raw):
    assert code_of(normalize_bank_card, raw) == "bank_card_format"


def test_bank_card_checksum():
    assert code_of(normalize_bank_card, "4111 1111 1111 1112") == "bank_card_checksum"


@PROPERTY
@given(payload=st.text(DIGITS, min_size=11, max_size=18), other=st.sampled_from(DIGITS))
def test_luhn_property(payload, other):
    good = luhn_check(payload)
    assert normalize_bank_card(payload + good) == payload + good
    if other != good:
        assert code_of(normalize_bank_card, payload + other) == "bank_card_checksum"


# -- CNY amounts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0.37", "0.37"),
        ("0.3", "0.30"),
        (".37", "0.37"),
        (" 0.37 ", "0.37"),
        ("1", "1.00"),
        ("0", "0.00"),
        ("99999999.99", "99999999.99"),
    ],
)
def test_amount_accepted(raw, expected):
    amount = normalize_cny_amount(raw)
    assert amount == Decimal(expected)
    assert str(amount) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "-0.37",
        "-0",
        "0.371",
        "0.370",
        "abc",
        "",
        ".",
        "NaN",
        "nan",
        "Infinity",
        "-Infinity",
        "1e2",
        "1,000.00",
        "+0.37",
        "0x10",
        "０.37",
        "100000000",
        "99999999.991",
        "123456789012345678901234567890",
    ],
)
def test_amount_refused(raw):
    error = refusal(normalize_cny_amount, raw, field="deposit")
    assert error.code == "amount_invalid"
    assert list(error.fields) == ["deposit"]


@PROPERTY
@given(st.decimals(min_value=0, max_value=Decimal("99999999.99"), places=2))
def test_amount_round_trip_property(value):
    assert normalize_cny_amount(str(value)) == value
    assert normalize_cny_amount(f"{value:f}").as_tuple().exponent == -2


# -- messages -----------------------------------------------------------------------------------

FAILURES: list[tuple[Callable[..., object], str, dict[str, object], str, str]] = [
    (normalize_id_number, "1101", {}, "id_number_length", "18 characters"),
    (normalize_id_number, "1101011990030712AX", {}, "id_number_format", "17 digits"),
    (normalize_id_number, make_id()[:17] + "0", {}, "id_number_checksum", "check character"),
    (normalize_id_number, make_id(birth="19900230"), {}, "id_number_birth_date", "calendar"),
    (normalize_id_number, make_id(birth="18991231"), {}, "id_number_birth_date", "1900"),
    (
        normalize_id_number,
        make_id(birth="20240602"),
        {"today": TODAY},
        "id_number_birth_date",
        "future",
    ),
    (normalize_id_number, make_id(region="990101"), {}, "id_number_region", "province"),
    (normalize_uscc, "9131", {}, "uscc_length", "18 characters"),
    (normalize_uscc, "9111000060003IOZSV", {}, "uscc_character", "position 14"),
    (normalize_uscc, "91110108551385082F", {}, "uscc_checksum", "check character"),
    (normalize_uscc, "123456789012345678", {}, "uscc_org_code", "organization code"),
    (normalize_bank_card, "1234", {}, "bank_card_format", "12 to 19 digits"),
    (normalize_bank_card, "4111111111111112", {}, "bank_card_checksum", "check digit"),
    (normalize_cny_amount, "-1", {}, "amount_invalid", "negative"),
    (normalize_cny_amount, "abc", {}, "amount_invalid", "not a number"),
    (normalize_cny_amount, "0.371", {}, "amount_invalid", "decimal places"),
    (normalize_cny_amount, "100000000", {}, "amount_invalid", "larger"),
]


@pytest.mark.parametrize(("func", "raw", "kwargs", "code", "phrase"), FAILURES)
def test_each_failure_names_its_problem(func, raw, kwargs, code, phrase):
    with translation.override("en"):
        error = refusal(func, raw, field="the_field", **kwargs)
        assert phrase in str(error.message)
    assert error.code == code
    assert error.fields == {"the_field": error.message}


def test_messages_differ_per_failure():
    messages = [str(refusal(func, raw, **kwargs).message) for func, raw, kwargs, *_ in FAILURES]
    assert len(set(messages)) == len(messages)


def test_default_field_names():
    assert list(refusal(normalize_id_number, "1").fields) == ["id_number"]
    assert list(refusal(normalize_uscc, "1").fields) == ["uscc"]
    assert list(refusal(normalize_bank_card, "1").fields) == ["card_number"]
    assert list(refusal(normalize_cny_amount, "x").fields) == ["amount"]
