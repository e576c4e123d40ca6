"""POST /api/v1/auth/codes (SPEC A1, A6): sending, rate limits, purposes, storage."""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone

from portsign.accounts.domain.codes import hash_code
from portsign.accounts.models import VerificationCode
from portsign.common.models import AuditEvent, Notification
from tests.helpers import Api, error_code, last_code, outbox

NEW_PHONE = "+8613800000010"
NEW_EMAIL = "dave@example.cn"


def send(api: Api, to: str, purpose: str = "register"):
    return api.post("/auth/codes", {"to": to, "purpose": purpose})


def age_codes(target: str, seconds: int) -> None:
    """Pretend every code sent to *target* was sent *seconds* earlier."""
    for row in VerificationCode.objects.filter(target=target):
        row.created_at -= timedelta(seconds=seconds)
        row.expires_at -= timedelta(seconds=seconds)
        row.save(update_fields=["created_at", "expires_at"])


def test_send_code_returns_202_with_timings(api):
    response = send(api, NEW_PHONE)
    assert response.status_code == 202, response.content
    assert response.json() == {"expires_in": 300, "resend_after": 60}


def test_sms_lands_in_outbox_with_six_digit_code(api):
    send(api, NEW_PHONE)
    messages = outbox(NEW_PHONE)
    assert len(messages) == 1
    assert messages[0].channel == "sms"
    code = messages[0].data["code"]
    assert re.fullmatch(r"\d{6}", code)
    assert code in messages[0].text


def test_send_code_is_audited_with_masked_address(api):
    send(api, NEW_PHONE)
    event = AuditEvent.objects.get(action="code.sent")
    assert event.data == {"to": "+86138****0010", "purpose": "register"}


def test_code_is_stored_only_as_hmac(api):
    send(api, NEW_PHONE)
    code = last_code(NEW_PHONE)
    row = VerificationCode.objects.get(target=NEW_PHONE)
    assert row.code_hash != code
    assert code not in row.code_hash
    assert row.code_hash == hash_code(code)
    assert len(row.code_hash) == 64


def test_unnormalised_number_is_stored_in_e164(api):
    response = send(api, "138 0000 0010")
    assert response.status_code == 202, response.content
    assert VerificationCode.objects.get().target == NEW_PHONE
    assert len(outbox(NEW_PHONE)) == 1


def test_resend_within_window_is_rate_limited(api):
    assert send(api, NEW_PHONE).status_code == 202
    response = send(api, NEW_PHONE)
    assert response.status_code == 429
    assert error_code(response) == "code_resend_too_soon"
    assert 1 <= int(response["Retry-After"]) <= 60
    assert VerificationCode.objects.filter(target=NEW_PHONE).count() == 1
    assert len(outbox(NEW_PHONE)) == 1


def test_resend_window_counts_down(api):
    send(api, NEW_PHONE)
    age_codes(NEW_PHONE, 45)
    response = send(api, NEW_PHONE)
    assert response.status_code == 429
    assert 14 <= int(response["Retry-After"]) <= 15


def test_resend_window_applies_across_purposes(api, alice):
    assert send(alice.api, alice.account, "certificate").status_code == 202
    response = send(api, alice.account, "login")
    assert response.status_code == 429
    assert error_code(response) == "code_resend_too_soon"


def test_resend_after_window_retires_previous_code(api):
    send(api, NEW_PHONE)
    first = last_code(NEW_PHONE)
    age_codes(NEW_PHONE, 61)
    assert send(api, NEW_PHONE).status_code == 202
    rows = VerificationCode.objects.filter(target=NEW_PHONE).order_by("created_at")
    assert [row.burned for row in rows] == [True, False]
    second = last_code(NEW_PHONE)
    assert rows[1].code_hash == hash_code(second)
    assert rows[0].code_hash == hash_code(first)


def test_daily_cap_refuses_eleventh_code(api, settings):
    settings.CODE_RESEND_SECONDS = 0
    for _ in range(10):
        assert send(api, NEW_PHONE).status_code == 202
    response = send(api, NEW_PHONE)
    assert response.status_code == 429
    assert error_code(response) == "code_daily_limit"
    now = timezone.localtime()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    expected = int((midnight - now).total_seconds())
    assert abs(int(response["Retry-After"]) - expected) <= 5
    assert len(outbox(NEW_PHONE)) == 10


def test_daily_cap_is_per_address(api, settings):
    settings.CODE_RESEND_SECONDS = 0
    for _ in range(10):
        send(api, NEW_PHONE)
    assert send(api, "+8613800000011").status_code == 202


def test_codes_sent_yesterday_do_not_count_towards_daily_cap(api, settings):
    settings.CODE_RESEND_SECONDS = 0
    for _ in range(10):
        send(api, NEW_PHONE)
    age_codes(NEW_PHONE, 24 * 3600)
    assert send(api, NEW_PHONE).status_code == 202


def test_unknown_purpose_is_400(api):
    response = send(api, NEW_PHONE, "launch_rockets")
    assert response.status_code == 400
    assert error_code(response) == "purpose_invalid"
    assert "purpose" in response.json()["error"]["fields"]
    assert not VerificationCode.objects.exists()


def test_sign_purpose_is_not_available_through_this_endpoint(alice):
    response = send(alice.api, alice.account, "sign")
    assert response.status_code == 400
    assert error_code(response) == "purpose_invalid"


def test_register_code_for_existing_account_is_409(api, alice):
    response = send(api, alice.account, "register")
    assert response.status_code == 409
    assert error_code(response) == "account_exists"
    assert outbox(alice.account) == []


def test_register_code_for_existing_email_ignores_case(api, charlie):
    response = send(api, "Charlie@Example.CN", "register")
    assert response.status_code == 409
    assert error_code(response) == "account_exists"


def test_login_code_for_unknown_account_is_404(api):
    response = send(api, NEW_PHONE, "login")
    assert response.status_code == 404
    assert error_code(response) == "account_not_registered"
    assert outbox(NEW_PHONE) == []


def test_reset_code_for_unknown_account_is_404(api):
    response = send(api, NEW_EMAIL, "reset")
    assert response.status_code == 404
    assert error_code(response) == "account_not_registered"


def test_login_code_for_existing_account(api, alice):
    assert send(api, alice.account, "login").status_code == 202
    assert re.fullmatch(r"\d{6}", last_code(alice.account))


def test_change_phone_code_without_auth_is_401(api):
    response = send(api, NEW_PHONE, "change_phone")
    assert response.status_code == 401
    assert error_code(response) == "unauthorized"
    assert not VerificationCode.objects.exists()


def test_change_phone_code_with_bad_token_is_401():
    response = send(Api("pst_not-a-real-token"), NEW_PHONE, "change_phone")
    assert response.status_code == 401
    assert error_code(response) == "unauthorized"


def test_change_phone_code_signed_in_goes_to_new_number(alice):
    response = send(alice.api, NEW_PHONE, "change_phone")
    assert response.status_code == 202, response.content
    assert VerificationCode.objects.get().purpose == "change_phone"
    assert len(outbox(NEW_PHONE)) == 1


def test_change_phone_code_to_an_email_is_refused(alice):
    response = send(alice.api, NEW_EMAIL, "change_phone")
    assert response.status_code == 400
    assert error_code(response) == "wrong_channel"


def test_change_email_code_to_a_phone_is_refused(alice):
    response = send(alice.api, NEW_PHONE, "change_email")
    assert response.status_code == 400
    assert error_code(response) == "wrong_channel"


def test_certificate_code_without_auth_is_401(api, alice):
    response = send(api, alice.account, "certificate")
    assert response.status_code == 401
    assert error_code(response) == "unauthorized"


def test_certificate_code_to_own_number(alice):
    response = send(alice.api, alice.account, "certificate")
    assert response.status_code == 202, response.content
    assert len(outbox(alice.account)) == 1


def test_certificate_code_to_own_number_as_typed_without_country_code(alice):
    # The same number parse_account accepts everywhere else: it is still alice's own.
    response = send(alice.api, "13800000001", "certificate")
    assert response.status_code == 202, response.content
    assert len(outbox(alice.account)) == 1


def test_certificate_code_to_own_email_with_upper_case_domain(charlie):
    # Domains are case-insensitive and parse_account lower-cases them: this is charlie's mailbox.
    response = send(charlie.api, "charlie@EXAMPLE.CN", "certificate")
    assert response.status_code == 202, response.content


def test_certificate_code_to_someone_elses_number_is_400(alice, bob):
    response = send(alice.api, bob.account, "certificate")
    assert response.status_code == 400
    assert error_code(response) == "not_your_account"
    assert "to" in response.json()["error"]["fields"]
    assert outbox(bob.account) == []


def test_ten_digit_number_is_invalid(api):
    response = send(api, "1380000001")
    assert response.status_code == 400
    assert error_code(response) == "phone_invalid"
    assert "to" in response.json()["error"]["fields"]


def test_unassigned_prefix_is_invalid(api):
    response = send(api, "12800000010")
    assert response.status_code == 400
    assert error_code(response) == "phone_invalid"
    assert not Notification.objects.exists()


def test_invalid_email_is_400(api):
    response = send(api, "dave@")
    assert response.status_code == 400
    assert error_code(response) == "email_invalid"


def test_email_code_lands_in_mailbox(api):
    response = send(api, NEW_EMAIL)
    assert response.status_code == 202, response.content
    messages = outbox(NEW_EMAIL)
    assert len(messages) == 1
    assert messages[0].channel == "email"
    assert re.fullmatch(r"\d{6}", messages[0].data["code"])
    assert messages[0].data["code"] in messages[0].text


def test_email_domain_is_lower_cased(api):
    send(api, "dave@EXAMPLE.CN")
    assert VerificationCode.objects.get().target == NEW_EMAIL
    assert len(outbox(NEW_EMAIL)) == 1


def test_missing_to_is_422(api):
    response = api.post("/auth/codes", {"purpose": "register"})
    assert response.status_code == 422
    assert error_code(response) == "validation_failed"
    assert list(response.json()["error"]["fields"]) == ["to"]


# -- using a code (via registration and code sign-in) -------------------------------------------

REGISTER_PASSWORD = "Harbour#2026"


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def register(api: Api, code: str, account: str = NEW_PHONE):
    return api.post(
        "/auth/register",
        {"account": account, "code": code, "name": "Dave Test", "password": REGISTER_PASSWORD},
    )


def test_wrong_code_counts_down_remaining_attempts():
    api = Api(language="en")
    send(api, NEW_PHONE)
    code = last_code(NEW_PHONE)
    response = register(api, other_code(code))
    assert response.status_code == 400
    assert error_code(response) == "code_wrong"
    assert response.json()["error"]["message"] == "The code is wrong. 4 attempts left."
    assert response.json()["error"]["fields"] == {"code": "The code is wrong. 4 attempts left."}
    response = register(api, other_code(code))
    assert response.json()["error"]["message"] == "The code is wrong. 3 attempts left."
    assert VerificationCode.objects.get().attempts == 2


def test_wrong_code_message_in_chinese_names_remaining_attempts(api):
    send(api, NEW_PHONE)
    response = register(api, other_code(last_code(NEW_PHONE)))
    assert error_code(response) == "code_wrong"
    message = response.json()["error"]["message"]
    assert re.search(r"[\u4e00-\u9fff]", message)
    assert re.findall(r"\d+", message) == ["4"]


def test_fifth_wrong_code_burns_it_and_then_the_right_code_fails(api):
    send(api, NEW_PHONE)
    code = last_code(NEW_PHONE)
    codes = [error_code(register(api, other_code(code))) for _ in range(5)]
    assert codes == ["code_wrong"] * 4 + ["code_burned"]
    response = register(api, code)
    assert response.status_code == 400
    assert error_code(response) == "code_burned"
    assert not AuditEvent.objects.filter(action="user.registered").exists()


def test_burned_code_is_not_counted_further(api):
    send(api, NEW_PHONE)
    code = last_code(NEW_PHONE)
    for _ in range(7):
        register(api, other_code(code))
    assert VerificationCode.objects.get().attempts == 5


def test_code_max_attempts_is_a_setting(api, settings):
    settings.CODE_MAX_ATTEMPTS = 2
    send(api, NEW_PHONE)
    code = last_code(NEW_PHONE)
    assert error_code(register(api, other_code(code))) == "code_wrong"
    assert error_code(register(api, other_code(code))) == "code_burned"


def test_new_code_after_burning_works(api):
    send(api, NEW_PHONE)
    code = last_code(NEW_PHONE)
    for _ in range(5):
        register(api, other_code(code))
    age_codes(NEW_PHONE, 61)
    send(api, NEW_PHONE)
    assert register(api, last_code(NEW_PHONE)).status_code == 201


def test_expired_code_is_refused(api):
    send(api, NEW_PHONE)
    code = last_code(NEW_PHONE)
    VerificationCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = register(api, code)
    assert response.status_code == 400
    assert error_code(response) == "code_expired"


def test_code_just_before_expiry_still_works(api):
    send(api, NEW_PHONE)
    code = last_code(NEW_PHONE)
    age_codes(NEW_PHONE, 290)
    assert register(api, code).status_code == 201


def test_code_is_single_use(api, alice):
    send(api, alice.account, "login")
    code = last_code(alice.account)
    body = {"account": alice.account, "code": code}
    assert api.post("/auth/login", body).status_code == 200
    response = api.post("/auth/login", body)
    assert response.status_code == 400
    assert error_code(response) == "code_used"


def test_wrong_code_after_use_is_code_wrong(api, alice):
    send(api, alice.account, "login")
    code = last_code(alice.account)
    api.post("/auth/login", {"account": alice.account, "code": code})
    response = api.post("/auth/login", {"account": alice.account, "code": other_code(code)})
    assert error_code(response) == "code_wrong"


def test_registration_code_is_not_a_sign_in_code(api):
    send(api, NEW_PHONE)
    code = last_code(NEW_PHONE)
    assert register(api, code).status_code == 201
    response = api.post("/auth/login", {"account": NEW_PHONE, "code": code})
    assert response.status_code == 400
    assert error_code(response) == "code_not_requested"


def test_registering_twice_with_the_same_code_is_409(api):
    send(api, NEW_PHONE)
    code = last_code(NEW_PHONE)
    assert register(api, code).status_code == 201
    response = register(api, code)
    assert response.status_code == 409
    assert error_code(response) == "account_exists"


def test_only_the_newest_code_counts(api):
    send(api, NEW_PHONE)
    first = last_code(NEW_PHONE)
    age_codes(NEW_PHONE, 61)
    send(api, NEW_PHONE)
    second = last_code(NEW_PHONE)
    if first != second:
        assert error_code(register(api, first)) == "code_wrong"
    assert register(api, second).status_code == 201


def test_code_without_request_is_refused(api):
    response = register(api, "123456")
    assert response.status_code == 400
    assert error_code(response) == "code_not_requested"


def test_code_of_wrong_shape_is_refused_without_counting(api):
    send(api, NEW_PHONE)
    response = register(api, "12345")
    assert response.status_code == 400
    assert error_code(response) == "code_format"
    assert VerificationCode.objects.get().attempts == 0
