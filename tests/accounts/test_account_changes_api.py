"""Registration and account changes: password, phone, e-mail, reset (SPEC A1, A3, A4)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from portsign.accounts.models import ApiToken, SignInThrottle, User
from portsign.common.audit import verify_chain
from portsign.common.models import AuditEvent
from tests.helpers import PASSWORD, Api, error_code, last_code

NEW_PHONE = "+8613800000030"
NEW_EMAIL = "dave@example.cn"
NEW_PASSWORD = "Quayside#77"


def send(api: Api, to: str, purpose: str):
    response = api.post("/auth/codes", {"to": to, "purpose": purpose})
    assert response.status_code == 202, response.content
    return last_code(to)


def register(api: Api, account: str, password: str = NEW_PASSWORD, code: str = "000000"):
    return api.post(
        "/auth/register",
        {"account": account, "code": code, "name": "Dave Test", "password": password},
    )


def password_login(account: str, password: str):
    api = Api()
    captcha_id = api.get("/auth/captcha").json()["captcha_id"]
    answer = api.get(f"/sandbox/captcha/{captcha_id}").json()["answer"]
    return api.post(
        "/auth/login",
        {"account": account, "password": password, "captcha_id": captcha_id, "captcha": answer},
    )


# -- registration -------------------------------------------------------------------------------


def test_register_returns_user_and_working_token(api):
    code = send(api, NEW_PHONE, "register")
    response = register(api, "13800000030", code=code)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["user"]["phone"] == NEW_PHONE
    assert body["user"]["email"] is None
    assert body["user"]["name"] == "Dave Test"
    assert body["user"]["real_name"] == {
        "status": "unverified",
        "name": None,
        "id_number": None,
        "method": None,
        "verified_at": None,
    }
    me = Api(body["token"]).get("/me")
    assert me.status_code == 200
    me_body = me.json()
    assert me_body.pop("acting_as")["kind"] == "personal"
    assert me_body == body["user"]


def test_register_stores_user_and_audits(api):
    code = send(api, NEW_PHONE, "register")
    user_id = register(api, NEW_PHONE, code=code).json()["user"]["id"]
    user = User.objects.get(pk=user_id)
    assert user.phone == NEW_PHONE
    assert user.check_password(NEW_PASSWORD)
    assert user.terms_accepted_at is not None
    event = AuditEvent.objects.get(action="user.registered")
    assert event.object_id == user_id
    assert event.data == {"account": "+86138****0030"}


def test_register_with_email(api):
    code = send(api, NEW_EMAIL, "register")
    response = register(api, NEW_EMAIL, code=code)
    assert response.status_code == 201, response.content
    assert response.json()["user"]["email"] == NEW_EMAIL
    assert response.json()["user"]["phone"] is None


def test_registered_password_signs_in(api):
    register(api, NEW_PHONE, code=send(api, NEW_PHONE, "register"))
    assert password_login(NEW_PHONE, NEW_PASSWORD).status_code == 200


def test_register_without_accepting_terms_is_refused(api):
    code = send(api, NEW_PHONE, "register")
    response = api.post(
        "/auth/register",
        {
            "account": NEW_PHONE,
            "code": code,
            "name": "Dave",
            "password": NEW_PASSWORD,
            "accept_terms": False,
        },
    )
    assert response.status_code == 400
    assert error_code(response) == "terms_required"
    assert not User.objects.filter(phone=NEW_PHONE).exists()


def test_register_with_blank_name_is_refused(api):
    response = api.post(
        "/auth/register",
        {"account": NEW_PHONE, "code": "000000", "name": "  ", "password": NEW_PASSWORD},
    )
    assert response.status_code == 400
    assert error_code(response) == "name_invalid"


@pytest.mark.parametrize(
    "password",
    [
        "Abcde1!",  # 7 characters
        "Abcdefgh12345678!",  # 17 characters
        "abcdefgh1",  # only 2 classes: lower + digit
        "ABCDEFGH!",  # only 2 classes: upper + symbol
        "Abc def12",  # a space
        "Abcdéf12!",  # not ASCII
    ],
)
def test_weak_password_is_refused(api, password):
    code = send(api, NEW_PHONE, "register")
    response = register(api, NEW_PHONE, password, code=code)
    assert response.status_code == 400
    assert error_code(response) == "password_weak"
    assert list(response.json()["error"]["fields"]) == ["password"]
    assert not User.objects.exists()


def test_weak_password_does_not_spend_the_code(api):
    code = send(api, NEW_PHONE, "register")
    assert error_code(register(api, NEW_PHONE, "abcdefgh1", code=code)) == "password_weak"
    assert register(api, NEW_PHONE, code=code).status_code == 201


@pytest.mark.parametrize("password", ["Abcdef1!", "Abcdefgh1234567!", "abcdef1!", "ABCDEF1!"])
def test_boundary_passwords_are_accepted(api, password):
    code = send(api, NEW_PHONE, "register")
    assert register(api, NEW_PHONE, password, code=code).status_code == 201


# -- change password ----------------------------------------------------------------------------


def test_change_password_with_wrong_current_is_refused(alice):
    response = alice.api.post(
        "/me/password", {"current_password": "Wrong#Pass1", "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 400
    assert error_code(response) == "password_wrong"
    assert list(response.json()["error"]["fields"]) == ["current_password"]
    alice.user.refresh_from_db()
    assert alice.user.check_password(PASSWORD)
    assert alice.api.get("/me").status_code == 200


def test_change_password_revokes_all_tokens(alice, bob):
    other = password_login(alice.account, PASSWORD).json()["token"]
    response = alice.api.post(
        "/me/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 200, response.content
    assert response.json()["id"] == alice.user.id
    assert alice.api.get("/me").status_code == 401
    assert Api(other).get("/me").status_code == 401
    assert bob.api.get("/me").status_code == 200
    assert not ApiToken.objects.filter(user=alice.user, revoked_at__isnull=True).exists()


def test_change_password_is_audited_and_new_password_works(alice):
    alice.api.post("/me/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert (
        AuditEvent.objects.filter(action="user.password_changed", actor_id=alice.user.id).count()
        == 1
    )
    revoked = AuditEvent.objects.get(action="token.revoked_all")
    assert revoked.data == {"count": 1, "reason": "password_changed"}
    assert error_code(password_login(alice.account, PASSWORD)) == "credentials_wrong"
    assert password_login(alice.account, NEW_PASSWORD).status_code == 200


def test_change_password_to_weak_is_refused(alice):
    response = alice.api.post(
        "/me/password", {"current_password": PASSWORD, "new_password": "short1A"}
    )
    assert response.status_code == 400
    assert error_code(response) == "password_weak"
    assert list(response.json()["error"]["fields"]) == ["new_password"]


def test_change_password_to_same_is_refused(alice):
    response = alice.api.post(
        "/me/password", {"current_password": PASSWORD, "new_password": PASSWORD}
    )
    assert response.status_code == 400
    assert error_code(response) == "password_unchanged"


# -- change phone -------------------------------------------------------------------------------


def test_change_phone_with_code_sent_to_new_number(alice):
    code = send(alice.api, NEW_PHONE, "change_phone")
    response = alice.api.post(
        "/me/phone", {"current_password": PASSWORD, "new_phone": "13800000030", "code": code}
    )
    assert response.status_code == 200, response.content
    assert response.json()["phone"] == NEW_PHONE
    alice.user.refresh_from_db()
    assert alice.user.phone == NEW_PHONE
    event = AuditEvent.objects.get(action="user.phone_changed")
    assert event.data == {"from": "+86138****0001", "to": "+86138****0030"}


def test_changed_phone_is_the_new_sign_in_account(alice):
    code = send(alice.api, NEW_PHONE, "change_phone")
    alice.api.post(
        "/me/phone", {"current_password": PASSWORD, "new_phone": NEW_PHONE, "code": code}
    )
    assert password_login(NEW_PHONE, PASSWORD).status_code == 200
    assert error_code(password_login(alice.account, PASSWORD)) == "credentials_wrong"


def test_change_phone_needs_the_current_password(alice):
    code = send(alice.api, NEW_PHONE, "change_phone")
    response = alice.api.post(
        "/me/phone", {"current_password": "Wrong#Pass1", "new_phone": NEW_PHONE, "code": code}
    )
    assert response.status_code == 400
    assert error_code(response) == "password_wrong"
    alice.user.refresh_from_db()
    assert alice.user.phone == alice.account


def test_change_phone_with_wrong_code_is_refused(alice):
    code = send(alice.api, NEW_PHONE, "change_phone")
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    response = alice.api.post(
        "/me/phone", {"current_password": PASSWORD, "new_phone": NEW_PHONE, "code": wrong}
    )
    assert error_code(response) == "code_wrong"
    alice.user.refresh_from_db()
    assert alice.user.phone == alice.account


def test_change_phone_code_for_a_taken_number_is_409(alice, bob):
    response = alice.api.post("/auth/codes", {"to": bob.account, "purpose": "change_phone"})
    assert response.status_code == 409
    assert error_code(response) == "account_exists"


def test_change_phone_to_a_taken_number_is_409(alice, bob):
    response = alice.api.post(
        "/me/phone", {"current_password": PASSWORD, "new_phone": bob.account, "code": "123456"}
    )
    assert response.status_code == 409
    assert error_code(response) == "account_exists"
    alice.user.refresh_from_db()
    assert alice.user.phone == alice.account


def test_change_phone_to_number_taken_after_the_code_was_sent_is_409(api, alice):
    code = send(alice.api, NEW_PHONE, "change_phone")
    User.objects.create_user(password=PASSWORD, name="Eve Test", phone=NEW_PHONE)
    response = alice.api.post(
        "/me/phone", {"current_password": PASSWORD, "new_phone": NEW_PHONE, "code": code}
    )
    assert response.status_code == 409
    assert error_code(response) == "account_exists"


def test_change_phone_with_a_register_code_is_refused(api, alice):
    code = send(api, NEW_PHONE, "register")
    response = alice.api.post(
        "/me/phone", {"current_password": PASSWORD, "new_phone": NEW_PHONE, "code": code}
    )
    assert response.status_code == 400
    assert error_code(response) == "code_not_requested"


def test_change_phone_without_auth_is_401(api):
    response = api.post(
        "/me/phone", {"current_password": PASSWORD, "new_phone": NEW_PHONE, "code": "123456"}
    )
    assert response.status_code == 401
    assert error_code(response) == "unauthorized"


# -- change e-mail ------------------------------------------------------------------------------


def test_change_email_with_code_sent_to_new_address(alice):
    code = send(alice.api, NEW_EMAIL, "change_email")
    response = alice.api.post(
        "/me/email", {"current_password": PASSWORD, "new_email": NEW_EMAIL, "code": code}
    )
    assert response.status_code == 200, response.content
    assert response.json()["email"] == NEW_EMAIL
    assert response.json()["phone"] == alice.account
    event = AuditEvent.objects.get(action="user.email_changed")
    assert event.data == {"from": "", "to": "d***@example.cn"}


def test_change_email_to_a_taken_address_is_409(alice, charlie):
    response = alice.api.post(
        "/me/email",
        {"current_password": PASSWORD, "new_email": "CHARLIE@example.cn", "code": "123456"},
    )
    assert response.status_code == 409
    assert error_code(response) == "account_exists"


def test_change_email_to_invalid_address_is_400(alice):
    response = alice.api.post(
        "/me/email", {"current_password": PASSWORD, "new_email": "not-an-address", "code": "123456"}
    )
    assert response.status_code == 400
    assert error_code(response) == "email_invalid"
    assert list(response.json()["error"]["fields"]) == ["new_email"]


# -- reset password -----------------------------------------------------------------------------


def test_reset_password_by_code_revokes_tokens_and_unlocks(api, alice):
    SignInThrottle.objects.create(
        address=alice.account, failures=3, locked_until=timezone.now() + timedelta(minutes=10)
    )
    code = send(api, alice.account, "reset")
    response = api.post(
        "/auth/reset", {"account": alice.account, "code": code, "password": NEW_PASSWORD}
    )
    assert response.status_code == 200, response.content
    assert response.json()["id"] == alice.user.id
    assert alice.api.get("/me").status_code == 401
    assert not SignInThrottle.objects.filter(address=alice.account).exists()
    assert password_login(alice.account, NEW_PASSWORD).status_code == 200


def test_reset_password_is_audited(api, alice):
    code = send(api, alice.account, "reset")
    api.post("/auth/reset", {"account": alice.account, "code": code, "password": NEW_PASSWORD})
    assert (
        AuditEvent.objects.filter(action="user.password_reset", object_id=alice.user.id).count()
        == 1
    )
    assert AuditEvent.objects.get(action="token.revoked_all").data == {
        "count": 1,
        "reason": "password_reset",
    }
    assert verify_chain().ok


def test_reset_password_with_wrong_code_changes_nothing(api, alice):
    code = send(api, alice.account, "reset")
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    response = api.post(
        "/auth/reset", {"account": alice.account, "code": wrong, "password": NEW_PASSWORD}
    )
    assert error_code(response) == "code_wrong"
    alice.user.refresh_from_db()
    assert alice.user.check_password(PASSWORD)
    assert alice.api.get("/me").status_code == 200


def test_reset_code_is_single_use(api, alice):
    code = send(api, alice.account, "reset")
    body = {"account": alice.account, "code": code, "password": NEW_PASSWORD}
    assert api.post("/auth/reset", body).status_code == 200
    response = api.post("/auth/reset", {**body, "password": "Another#Pw9"})
    assert response.status_code == 400
    assert error_code(response) == "code_used"


def test_reset_with_weak_password_is_refused(api, alice):
    code = send(api, alice.account, "reset")
    response = api.post(
        "/auth/reset", {"account": alice.account, "code": code, "password": "weakpass"}
    )
    assert error_code(response) == "password_weak"
