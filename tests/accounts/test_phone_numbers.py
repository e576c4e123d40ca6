"""Mobile numbers beyond the mainland (issue 16, point 10): Hong Kong, Macau and others.

Every number here is made up from the regions' example ranges; none is meant to reach anyone.
"""

from __future__ import annotations

import pytest
from django.utils import translation

from portsign.accounts.models import User
from portsign.accounts.validators import Account, normalize_phone, parse_account
from portsign.common.errors import Invalid
from portsign.common.models import Notification
from tests.helpers import Api, error_code, last_code, make_person, outbox

HK_MOBILE = "+85251234567"
MACAU_MOBILE = "+85366123456"
HK_NEW_ACCOUNT = "+85291230000"


def refusal(raw: str, field: str = "account") -> Invalid:
    with pytest.raises(Invalid) as info:
        parse_account(raw, field=field)
    assert info.value.code == "phone_invalid"
    assert list(info.value.fields) == [field]
    return info.value


def english(error: Invalid) -> str:
    with translation.override("en"):
        return str(error.message)


# -- normalisation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("13800000000", "+8613800000000"),
        ("+86 138 0000 0000", "+8613800000000"),
        ("+8613800000000", "+8613800000000"),
        ("0086 138 0000 0000", "+8613800000000"),
        ("8613800000000", "+8613800000000"),
        ("(138) 0000-0000", "+8613800000000"),
        ("１３８００００００００", "+8613800000000"),  # full-width digits from a Chinese IME
        (HK_MOBILE, HK_MOBILE),
        ("+852 5123 4567", HK_MOBILE),
        ("00852 5123 4567", HK_MOBILE),  # 00 is the mainland's international prefix
        ("＋852 5123-4567", HK_MOBILE),
        (MACAU_MOBILE, MACAU_MOBILE),
        ("+853 6612 3456", MACAU_MOBILE),
        ("+886 912 345 678", "+886912345678"),
        ("+65 8123 4567", "+6581234567"),
        ("+44 7911 123456", "+447911123456"),
    ],
)
def test_mobile_numbers_normalise_to_e164(raw, e164):
    assert parse_account(raw) == Account("sms", e164)
    assert normalize_phone(raw) == e164


def test_a_region_that_cannot_tell_mobiles_from_fixed_lines_is_accepted():
    # The North American plan shares ranges between mobiles and fixed lines.
    assert parse_account("+1 202 555 0123") == Account("sms", "+12025550123")


@pytest.mark.parametrize(
    "raw",
    [
        "+852 2123 4567",  # Hong Kong fixed line
        "+853 2821 2345",  # Macau fixed line
        "010-1234 5678",  # Beijing fixed line
        "+852 800 123 456",  # Hong Kong toll-free
    ],
)
def test_valid_numbers_that_are_not_mobiles_are_refused(raw):
    error = refusal(raw)
    assert english(error) == (
        "This is not a mobile number; enter one that can receive text messages."
    )


@pytest.mark.parametrize(
    "raw",
    [
        "+86 12345678901",  # 11 digits, but 123 is no mobile prefix
        "+86 128 0000 0000",
        "12800000000",
    ],
)
def test_mainland_numbers_outside_the_mobile_ranges_are_refused(raw):
    error = refusal(raw)
    assert english(error) == "This is not a valid mainland mobile number prefix."


@pytest.mark.parametrize("raw", ["1380000000", "138000000000", "+86 1380000000", "110", "95588"])
def test_mainland_numbers_of_the_wrong_length_keep_their_message(raw):
    error = refusal(raw)
    assert english(error) == "A mainland mobile number has 11 digits."


@pytest.mark.parametrize(
    "raw",
    [
        "abc",
        "+",
        "++8613800000000",
        "+8613800000abc",  # never read as keypad letters
        "1380000000a",
        "13800000000 ext 5",
        "tel:+8613800000000",
        "+86 138 0000 0000 #1",
        "1" * 40,
        "+852 5123 456",  # too short for Hong Kong
        "+852 5123 45678",  # too long for Hong Kong
        "+853 2123 4567",  # outside Macau's plan
        "+999 1234 5678",  # no such country code
    ],
)
def test_garbage_and_invalid_international_numbers_are_refused(raw):
    error = refusal(raw)
    assert english(error) == (
        "Enter a valid mobile number. Outside mainland China, start with + and the country "
        "code, such as +852 or +853."
    )


def test_refusals_name_the_callers_field():
    refusal("+852 2123 4567", field="to")
    with pytest.raises(Invalid) as info:
        normalize_phone("+852 2123 4567", field="new_phone")
    assert (info.value.code, list(info.value.fields)) == ("phone_invalid", ["new_phone"])


def test_an_email_is_still_an_email():
    assert parse_account(" Dave@Example.CN ") == Account("email", "dave@example.cn")
    assert parse_account("852@example.hk") == Account("email", "852@example.hk")


# -- through the API ----------------------------------------------------------------------------


def test_a_hong_kong_number_receives_a_code_and_registers(api):
    response = api.post("/auth/codes", {"to": "+852 9123 0000", "purpose": "register"})
    assert response.status_code == 202, response.content
    [message] = outbox(HK_NEW_ACCOUNT)
    assert message.channel == "sms"

    response = api.post(
        "/auth/register",
        {
            "account": "+852 9123 0000",
            "code": last_code(HK_NEW_ACCOUNT),
            "name": "Dave Test",
            "password": "Harbour#2026",
        },
    )
    assert response.status_code == 201, response.content
    assert User.objects.get(phone=HK_NEW_ACCOUNT).name == "Dave Test"
    assert Api(response.json()["token"]).get("/me").json()["phone"] == HK_NEW_ACCOUNT


def test_a_hong_kong_account_signs_in_by_code(api):
    person = make_person(HK_MOBILE, "Erin Test")
    response = api.post("/auth/codes", {"to": "+852 5123 4567", "purpose": "login"})
    assert response.status_code == 202, response.content
    response = api.post("/auth/login", {"account": "00852 51234567", "code": last_code(HK_MOBILE)})
    assert response.status_code == 200, response.content
    assert response.json()["user"]["id"] == person.user.id


def test_a_macau_number_receives_a_code(api):
    response = api.post("/auth/codes", {"to": "+853 6612 3456", "purpose": "register"})
    assert response.status_code == 202, response.content
    assert len(outbox(MACAU_MOBILE)) == 1


def test_a_hong_kong_fixed_line_gets_no_code():
    response = Api(language="en").post(
        "/auth/codes", {"to": "+852 2123 4567", "purpose": "register"}
    )
    assert response.status_code == 400
    assert error_code(response) == "phone_invalid"
    assert response.json()["error"]["fields"] == {
        "to": "This is not a mobile number; enter one that can receive text messages."
    }
    assert not Notification.objects.exists()


def test_a_hong_kong_account_is_sent_to_face_recognition_for_real_name():
    from portsign.accounts.models import PersonVerification

    person = make_person(HK_MOBILE, "Erin Test")
    english = Api(person.token, language="en")
    body = {"name": "Erin Test", "id_number": "110101199003070011", "method": "carrier3"}
    response = english.post("/me/verification", body)
    assert (response.status_code, error_code(response)) == (400, "phone_not_mainland")
    assert response.json()["error"]["fields"] == {
        "phone": "Mobile carrier and bank checks cover mainland China numbers only; "
        "choose face recognition."
    }
    assert not PersonVerification.objects.exists()


def test_masks_hide_all_but_the_last_four_digits_of_a_short_number():
    from portsign.accounts.domain.codes import mask_address

    assert mask_address("+8613812345678") == "+86138****5678"
    assert mask_address("+85251234567") == "+852****4567"
    assert mask_address("+85366123456") == "+853****3456"
