"""POST /api/v1/auth/login, captcha and logout (SPEC A2, A6)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from portsign.accounts.models import Captcha, SignInThrottle, User
from portsign.common.models import AuditEvent, SandboxMessage
from tests.helpers import PASSWORD, Api, error_code, last_code

UNKNOWN_PHONE = "+8613800000020"


def throttle(person) -> SignInThrottle:
    return SignInThrottle.objects.get(address=person.account)


def failures(person) -> int:
    row = SignInThrottle.objects.filter(address=person.account).first()
    return row.failures if row else 0


def new_captcha(api: Api) -> tuple[str, str]:
    response = api.get("/auth/captcha")
    assert response.status_code == 200
    captcha_id = response.json()["captcha_id"]
    answer = api.get(f"/sandbox/captcha/{captcha_id}").json()["answer"]
    return captcha_id, answer


def password_login(api: Api, account: str, password: str = PASSWORD, *, captcha: str = ""):
    captcha_id, answer = new_captcha(api)
    return api.post(
        "/auth/login",
        {
            "account": account,
            "password": password,
            "captcha_id": captcha_id,
            "captcha": captcha or answer,
        },
    )


def code_login(api: Api, account: str):
    assert api.post("/auth/codes", {"to": account, "purpose": "login"}).status_code == 202
    return api.post("/auth/login", {"account": account, "code": last_code(account)})


def wrong_answer(answer: str) -> str:
    return "2222" if answer != "2222" else "3333"


def lock(api: Api, account: str) -> None:
    for _ in range(5):
        assert error_code(password_login(api, account, "Wrong#Pass1")) == "credentials_wrong"


def me_status(token: str) -> int:
    return Api(token).get("/me").status_code


# -- by code ------------------------------------------------------------------------------------


def test_login_by_code_returns_a_working_token(api, alice):
    response = code_login(api, alice.account)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token"].startswith("pst_")
    assert body["user"]["id"] == alice.user.id
    me = Api(body["token"]).get("/me")
    assert me.status_code == 200
    assert me.json()["phone"] == alice.account


def test_login_by_code_is_audited(api, alice):
    code_login(api, alice.account)
    event = AuditEvent.objects.get(action="login.succeeded")
    assert event.actor_id == alice.user.id
    assert event.data == {"method": "code"}


def test_login_by_code_with_email(api, charlie):
    response = code_login(api, charlie.account)
    assert response.status_code == 200, response.content
    assert response.json()["user"]["email"] == charlie.account


def test_login_with_wrong_code_is_audited_as_failure(api, alice):
    api.post("/auth/codes", {"to": alice.account, "purpose": "login"})
    code = last_code(alice.account)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    response = api.post("/auth/login", {"account": alice.account, "code": wrong})
    assert error_code(response) == "code_wrong"
    event = AuditEvent.objects.get(action="login.failed")
    assert event.data == {"account": "+86138****0001", "method": "code", "reason": "code_wrong"}


def test_login_without_code_or_password_is_400(api, alice):
    response = api.post("/auth/login", {"account": alice.account})
    assert response.status_code == 400
    assert error_code(response) == "credentials_missing"


# -- by password + captcha ----------------------------------------------------------------------


def test_captcha_is_a_png_data_uri(api):
    body = api.get("/auth/captcha").json()
    assert body["image"].startswith("data:image/png;base64,")
    assert Captcha.objects.filter(pk=body["captcha_id"]).exists()


def test_login_by_password_and_captcha(api, alice):
    response = password_login(api, alice.account)
    assert response.status_code == 200, response.content
    assert response.json()["user"]["id"] == alice.user.id
    assert me_status(response.json()["token"]) == 200
    assert AuditEvent.objects.get(action="login.succeeded").data == {"method": "password"}


def test_login_by_password_accepts_lower_case_captcha(api, alice):
    captcha_id, answer = new_captcha(api)
    response = api.post(
        "/auth/login",
        {
            "account": alice.account,
            "password": PASSWORD,
            "captcha_id": captcha_id,
            "captcha": answer.lower(),
        },
    )
    assert response.status_code == 200, response.content


def test_login_by_password_without_captcha_is_refused(api, alice):
    response = api.post("/auth/login", {"account": alice.account, "password": PASSWORD})
    assert response.status_code == 400
    assert error_code(response) == "captcha_invalid"


def test_wrong_captcha_is_refused(api, alice):
    _captcha_id, answer = new_captcha(api)
    response = password_login(api, alice.account, captcha=wrong_answer(answer))
    assert response.status_code == 400
    assert error_code(response) == "captcha_wrong"
    assert response.json()["error"]["fields"].keys() == {"captcha"}


def test_wrong_captcha_does_not_count_as_password_failure(api, alice):
    _captcha_id, answer = new_captcha(api)
    password_login(api, alice.account, "Wrong#Pass1", captcha=wrong_answer(answer))
    assert failures(alice) == 0


def test_captcha_is_single_use_after_success(api, alice):
    captcha_id, answer = new_captcha(api)
    body = {
        "account": alice.account,
        "password": PASSWORD,
        "captcha_id": captcha_id,
        "captcha": answer,
    }
    assert api.post("/auth/login", body).status_code == 200
    response = api.post("/auth/login", body)
    assert response.status_code == 400
    assert error_code(response) == "captcha_invalid"


def test_captcha_is_used_up_by_a_wrong_answer(api, alice):
    captcha_id, answer = new_captcha(api)
    body = {"account": alice.account, "password": PASSWORD, "captcha_id": captcha_id}
    assert error_code(api.post("/auth/login", {**body, "captcha": wrong_answer(answer)})) == (
        "captcha_wrong"
    )
    response = api.post("/auth/login", {**body, "captcha": answer})
    assert response.status_code == 400
    assert error_code(response) == "captcha_invalid"


def test_expired_captcha_is_refused(api, alice):
    captcha_id, answer = new_captcha(api)
    Captcha.objects.filter(pk=captcha_id).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = api.post(
        "/auth/login",
        {
            "account": alice.account,
            "password": PASSWORD,
            "captcha_id": captcha_id,
            "captcha": answer,
        },
    )
    assert response.status_code == 400
    assert error_code(response) == "captcha_expired"


def test_captcha_hook_is_absent_without_test_hooks(api, settings):
    captcha_id = api.get("/auth/captcha").json()["captcha_id"]
    settings.TEST_HOOKS = False
    response = api.get(f"/sandbox/captcha/{captcha_id}")
    assert response.status_code == 404
    assert error_code(response) == "not_found"


def test_wrong_password_is_credentials_wrong(api, alice):
    response = password_login(api, alice.account, "Wrong#Pass1")
    assert response.status_code == 400
    assert error_code(response) == "credentials_wrong"
    assert failures(alice) == 1
    event = AuditEvent.objects.get(action="login.failed")
    assert event.actor_id == alice.user.id
    assert event.data == {
        "account": "+86138****0001",
        "method": "password",
        "reason": "credentials_wrong",
    }


def test_unknown_account_gets_the_same_error_as_wrong_password(api, alice):
    wrong = password_login(api, alice.account, "Wrong#Pass1").json()["error"]
    unknown = password_login(api, UNKNOWN_PHONE, PASSWORD).json()["error"]
    assert unknown["code"] == "credentials_wrong"
    assert unknown == wrong


def test_fifth_wrong_password_locks_and_sixth_is_refused(api, alice):
    lock(api, alice.account)
    response = password_login(api, alice.account, PASSWORD)
    assert response.status_code == 429
    assert error_code(response) == "password_locked"
    assert 895 <= int(response["Retry-After"]) <= 900
    assert AuditEvent.objects.filter(action="login.locked", actor_id=alice.user.id).count() == 1
    assert not AuditEvent.objects.filter(action="login.succeeded").exists()


def test_fifth_wrong_password_itself_answers_credentials_wrong(api, alice):
    for _ in range(4):
        password_login(api, alice.account, "Wrong#Pass1")
    assert not AuditEvent.objects.filter(action="login.locked").exists()
    response = password_login(api, alice.account, "Wrong#Pass1")
    assert error_code(response) == "credentials_wrong"
    remaining = (throttle(alice).locked_until - timezone.now()).total_seconds()
    assert 895 <= remaining <= 900


def test_lock_message_names_minutes_and_the_code_alternative(alice):
    api = Api(language="en")
    lock(api, alice.account)
    message = password_login(api, alice.account).json()["error"]["message"]
    assert message == (
        "Too many wrong passwords. Password sign-in is locked for 15 more "
        "minutes; you can sign in with an SMS or e-mail code instead."
    )


def test_lock_settings_are_configurable(api, alice, settings):
    settings.PASSWORD_MAX_FAILURES = 2
    settings.PASSWORD_LOCK_SECONDS = 60
    for _ in range(2):
        password_login(api, alice.account, "Wrong#Pass1")
    response = password_login(api, alice.account)
    assert error_code(response) == "password_locked"
    assert 55 <= int(response["Retry-After"]) <= 60


def test_success_resets_the_failure_count(api, alice):
    for _ in range(4):
        password_login(api, alice.account, "Wrong#Pass1")
    assert password_login(api, alice.account).status_code == 200
    assert failures(alice) == 0
    password_login(api, alice.account, "Wrong#Pass1")
    assert password_login(api, alice.account).status_code == 200


def test_code_sign_in_still_works_while_locked(api, alice):
    lock(api, alice.account)
    response = code_login(api, alice.account)
    assert response.status_code == 200, response.content
    assert me_status(response.json()["token"]) == 200


def test_password_works_again_after_the_lock_expires(api, alice):
    lock(api, alice.account)
    SignInThrottle.objects.filter(address=alice.account).update(
        locked_until=timezone.now() - timedelta(seconds=1)
    )
    response = password_login(api, alice.account)
    assert response.status_code == 200, response.content
    assert not SignInThrottle.objects.filter(address=alice.account).exists()


def test_unknown_accounts_lock_like_known_ones(api, alice):
    # Otherwise a lock-out would tell an attacker which numbers have accounts.
    for account in (alice.account, UNKNOWN_PHONE):
        for _ in range(5):
            assert error_code(password_login(api, account, "Wrong#Pass1")) == "credentials_wrong"
    known = password_login(api, alice.account, "Wrong#Pass1")
    unknown = password_login(api, UNKNOWN_PHONE, "Wrong#Pass1")
    assert (known.status_code, error_code(known)) == (429, "password_locked")
    assert (unknown.status_code, error_code(unknown)) == (429, "password_locked")
    assert AuditEvent.objects.filter(action="login.locked").count() == 2


def test_inactive_user_cannot_sign_in_with_right_password(api, alice):
    User.objects.filter(pk=alice.user.pk).update(is_active=False)
    response = password_login(api, alice.account)
    assert response.status_code == 400
    assert error_code(response) == "credentials_wrong"


# -- logout -------------------------------------------------------------------------------------


def test_logout_revokes_the_bearer_token(alice, bob):
    response = alice.api.post("/auth/logout")
    assert response.status_code == 204
    me = alice.api.get("/me")
    assert me.status_code == 401
    assert error_code(me) == "unauthorized"
    assert bob.api.get("/me").status_code == 200
    assert AuditEvent.objects.filter(action="token.revoked", actor_id=alice.user.id).count() == 1
    assert AuditEvent.objects.filter(action="logout", actor_id=alice.user.id).count() == 1


def test_logout_keeps_other_tokens_of_the_same_user(api, alice):
    other = code_login(api, alice.account).json()["token"]
    assert alice.api.post("/auth/logout").status_code == 204
    assert me_status(other) == 200


def test_logout_without_token_is_401(api):
    response = api.post("/auth/logout")
    assert response.status_code == 401
    assert error_code(response) == "unauthorized"


def test_captcha_after_failures_does_not_reveal_which_accounts_exist(api, alice, settings):
    # With the captcha demanded only after N failures, a known and an unknown account that
    # both failed N times must still look the same to a caller who sends no captcha.
    settings.CAPTCHA_AFTER_FAILURES = 2
    for account in (alice.account, UNKNOWN_PHONE):
        for _ in range(2):
            password_login(api, account, "Wrong#Pass1")
    known = api.post("/auth/login", {"account": alice.account, "password": "Wrong#Pass1"})
    unknown = api.post("/auth/login", {"account": UNKNOWN_PHONE, "password": "Wrong#Pass1"})
    assert (known.status_code, error_code(known)) == (unknown.status_code, error_code(unknown))


def test_captcha_after_failures_lets_first_attempts_through_without_captcha(api, alice, settings):
    settings.CAPTCHA_AFTER_FAILURES = 2
    response = api.post("/auth/login", {"account": alice.account, "password": PASSWORD})
    assert response.status_code == 200, response.content


def test_email_sign_in_code_works_whatever_the_case_typed(api, charlie):
    # Accounts are looked up case-insensitively (register refuses Charlie@… as taken), so a
    # code requested for Charlie@example.cn belongs to charlie@example.cn's account.
    response = api.post("/auth/codes", {"to": "Charlie@example.cn", "purpose": "login"})
    assert response.status_code == 202
    code = SandboxMessage.objects.get().data["code"]
    response = api.post("/auth/login", {"account": charlie.account, "code": code})
    assert response.status_code == 200, response.content
