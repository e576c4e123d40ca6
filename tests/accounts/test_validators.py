"""Unit tests of accounts/validators.py: accounts, passwords, names."""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from portsign.accounts.validators import (
    Account,
    check_name,
    check_password_policy,
    normalize_phone,
    parse_account,
)
from portsign.common.errors import Invalid

# Printable ASCII without whitespace: "!" (33) to "~" (126).
VISIBLE_ASCII = "".join(chr(c) for c in range(33, 127))
# These are pure functions; the suite's autouse database fixture is irrelevant to them.
PROPERTY = hsettings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def independent_classes(password: str) -> int:
    """Count character classes by code point ranges, not by str methods or `string`."""
    upper = any(65 <= ord(c) <= 90 for c in password)
    lower = any(97 <= ord(c) <= 122 for c in password)
    digit = any(48 <= ord(c) <= 57 for c in password)
    symbol = any(
        33 <= ord(c) <= 126
        and not (65 <= ord(c) <= 90 or 97 <= ord(c) <= 122 or 48 <= ord(c) <= 57)
        for c in password
    )
    return upper + lower + digit + symbol


def is_accepted(password: str) -> bool:
    """True if the policy accepts *password*; a refusal must be a well-formed password_weak."""
    try:
        check_password_policy(password)
    except Invalid as exc:
        problem = (exc.code, list(exc.fields))
    else:
        return True
    assert problem == ("password_weak", ["password"])
    return False


def invalid_code(raw: str) -> str:
    with pytest.raises(Invalid) as info:
        parse_account(raw)
    return info.value.code


# -- parse_account ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "13800000000",
        "+8613800000000",
        "008613800000000",
        "8613800000000",
        " 138 0000 0000 ",
        "138-0000-0000",
        "+86 138 0000 0000",
    ],
)
def test_phone_forms_normalise_to_e164(raw):
    assert parse_account(raw) == Account("sms", "+8613800000000")


@pytest.mark.parametrize("prefix", ["130", "145", "150", "162", "170", "178", "186", "191", "199"])
def test_assigned_prefixes_are_accepted(prefix):
    assert parse_account(prefix + "00000000").address == f"+86{prefix}00000000"


@pytest.mark.parametrize("prefix", ["120", "128", "100", "144", "154", "160", "179", "194", "238"])
def test_unassigned_prefixes_are_refused(prefix):
    assert invalid_code(prefix + "00000000") == "phone_invalid"


@pytest.mark.parametrize(
    "raw", ["1380000000", "138000000000", "1380000000a", "+85213800000000", "+86 1380000000"]
)
def test_wrong_length_or_characters_are_refused(raw):
    assert invalid_code(raw) == "phone_invalid"


def test_phone_error_names_the_field():
    with pytest.raises(Invalid) as info:
        parse_account("1380000000", field="to")
    assert list(info.value.fields) == ["to"]


def test_normalize_phone_uses_its_own_field_name():
    with pytest.raises(Invalid) as info:
        normalize_phone("12", field="new_phone")
    assert (info.value.code, list(info.value.fields)) == ("phone_invalid", ["new_phone"])


def test_email_is_lower_cased_whole():
    assert parse_account(" Dave@Example.CN ") == Account("email", "dave@example.cn")


@pytest.mark.parametrize(
    "raw", ["dave@", "@example.cn", "dave@example", "da ve@example.cn", "dave@@example.cn"]
)
def test_bad_email_is_refused(raw):
    assert invalid_code(raw) == "email_invalid"


@pytest.mark.parametrize("raw", ["", "   ", None])
def test_empty_account_is_refused(raw):
    assert invalid_code(raw) == "account_required"


# -- check_password_policy ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    [
        "Abcdef1!",
        "abcdef1!",
        "ABCDEF1!",
        "Abcdefg1",
        "Abcdefgh1234567!",
        "Portsign#2026",
        "a1!a1!a1",
        "~{}Az09|",
    ],
)
def test_strong_passwords_pass(password):
    assert is_accepted(password)


@pytest.mark.parametrize(
    "password",
    [
        "Abcde1!",
        "Abcdefgh12345678!",
        "abcdefgh",
        "abcdefg1",
        "ABCDEFG!",
        "12345678!",
        "Abcd efg1",
        "Abcdefg1\t",
        "Abcdefgé1",
        "Abcdefg１!",
        "",
        "Ａbcdefg1",
    ],
)
def test_weak_passwords_fail(password):
    assert not is_accepted(password)


def test_none_password_is_weak():
    assert not is_accepted(None)  # type: ignore[arg-type]


def test_password_error_names_the_given_field():
    with pytest.raises(Invalid) as info:
        check_password_policy("short", field="new_password")
    assert list(info.value.fields) == ["new_password"]


@PROPERTY
@given(
    st.text(alphabet=VISIBLE_ASCII, min_size=8, max_size=16).filter(
        lambda p: independent_classes(p) >= 3
    )
)
def test_any_visible_ascii_password_with_three_classes_passes(password):
    assert is_accepted(password)


@PROPERTY
@given(st.text(alphabet=VISIBLE_ASCII, min_size=8, max_size=16))
@example("aaaaaaaa")
@example("Aa1Aa1Aa")
@example("!!!!!!1a")
@example("~~~~~~A1")
def test_classifier_agrees_with_an_independent_count(password):
    assert is_accepted(password) == (independent_classes(password) >= 3)


@PROPERTY
@given(
    st.text(alphabet=VISIBLE_ASCII, min_size=0, max_size=30).filter(lambda p: not 8 <= len(p) <= 16)
)
def test_length_outside_8_to_16_always_fails(password):
    assert not is_accepted(password)


@PROPERTY
@given(
    st.text(alphabet=VISIBLE_ASCII, min_size=7, max_size=15),
    st.sampled_from([*string.whitespace, "é", "中", "\u00a0", "１"]),
    st.integers(min_value=0, max_value=15),
)
def test_any_space_or_non_ascii_character_fails(base, bad, where):
    password = base[:where] + bad + base[where:]
    assert not is_accepted(password)


# -- check_name ---------------------------------------------------------------------------------


def test_name_is_stripped():
    assert check_name("  张三  ") == "张三"


@pytest.mark.parametrize("name", ["", "   ", "x" * 51])
def test_bad_names_are_refused(name):
    with pytest.raises(Invalid) as info:
        check_name(name)
    assert info.value.code == "name_invalid"


def test_fifty_character_name_is_accepted():
    assert check_name("x" * 50) == "x" * 50
