"""Web pages: same domain rules as the API, sessions with CSRF, Chinese by default."""

from __future__ import annotations

import pytest
from django.test import Client

from portsign.accounts.domain.tokens import issue_token
from portsign.accounts.models import Captcha, User
from portsign.common.models import AuditEvent
from tests.helpers import PASSWORD, last_code


@pytest.fixture
def web() -> Client:
    return Client()


def _signed_in(person) -> Client:
    client = Client()
    client.force_login(person.user, backend="portsign.accounts.backends.AccountBackend")
    return client


def test_console_is_chinese_even_for_an_english_browser(web):
    page = web.get("/account/login/", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert page.status_code == 200
    assert "<h1>登录港签 PortSign</h1>" in page.content.decode()


def test_language_button_switches_to_english_and_back(web):
    response = web.post("/account/language/", {"language": "en", "next": "/account/login/"})
    assert response.status_code == 302
    assert response["Location"] == "/account/login/"
    assert "<h1>Sign in to PortSign</h1>" in web.get("/account/login/").content.decode()
    web.post("/account/language/", {"language": "zh-hans"})
    assert "<h1>登录港签 PortSign</h1>" in web.get("/account/login/").content.decode()


def test_signed_in_language_choice_is_saved(alice):
    client = _signed_in(alice)
    client.post("/account/language/", {"language": "en"})
    alice.user.refresh_from_db()
    assert alice.user.language == "en"
    fresh = _signed_in(alice)  # a new browser without the cookie follows the saved choice
    assert "<h1>Personal centre</h1>" in fresh.get("/account/me/").content.decode()


def test_register_through_the_web_form(web):
    web.post(
        "/account/send-code/", {"purpose": "register", "field": "account", "account": "13800000020"}
    )
    response = web.post(
        "/account/register/",
        {
            "account": "13800000020",
            "code": last_code("+8613800000020"),
            "name": "网页用户",
            "password": PASSWORD,
            "password2": PASSWORD,
            "accept_terms": "on",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/console/"
    assert "网页用户" in web.get("/console/").content.decode()
    assert User.objects.get(phone="+8613800000020").terms_accepted_at is not None


def test_register_without_terms_keeps_the_input(web):
    web.post("/account/send-code/", {"purpose": "register", "account": "13800000021"})
    response = web.post(
        "/account/register/",
        {
            "account": "13800000021",
            "code": last_code("+8613800000021"),
            "name": "未勾选",
            "password": PASSWORD,
            "password2": PASSWORD,
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "请阅读并同意服务协议。" in body
    assert 'value="13800000021"' in body
    assert not User.objects.filter(phone="+8613800000021").exists()


def test_password_sign_in_with_captcha(web, alice):
    web.get("/account/login/")
    captcha = Captcha.objects.order_by("-created_at").first()
    response = web.post(
        "/account/login/",
        {
            "method": "password",
            "account": alice.account,
            "password": PASSWORD,
            "captcha_id": captcha.id,
            "captcha": captcha.answer.lower(),
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/console/"


def test_wrong_password_shows_the_error_and_a_new_captcha(web, alice):
    web.get("/account/login/")
    captcha = Captcha.objects.order_by("-created_at").first()
    response = web.post(
        "/account/login/",
        {
            "method": "password",
            "account": alice.account,
            "password": "Wrong#2026x",
            "captcha_id": captcha.id,
            "captcha": captcha.answer,
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "账号或密码错误" in body
    assert Captcha.objects.filter(used=False).count() == 1


def test_sign_out_needs_post(alice):
    client = _signed_in(alice)
    assert client.get("/account/logout/").status_code == 405
    assert client.post("/account/logout/").status_code == 302
    assert client.get("/console/").status_code == 302
    assert AuditEvent.objects.filter(action="logout", actor_id=alice.user.id).count() == 1


def test_forms_refuse_posts_without_csrf(alice):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/account/login/", {"account": alice.account, "password": PASSWORD})
    assert response.status_code == 403


def test_revoking_someone_elses_token_in_the_console_is_404(alice, bob):
    bobs_token, _raw = issue_token(user=bob.user, name="bob-ci")
    client = _signed_in(alice)
    assert client.post(f"/account/me/tokens/{bobs_token.id}/revoke/").status_code == 404
    bobs_token.refresh_from_db()
    assert bobs_token.revoked_at is None
    mine = _signed_in(bob).post(f"/account/me/tokens/{bobs_token.id}/revoke/")
    assert mine.status_code == 302


def test_change_password_in_the_console_keeps_this_session(alice):
    client = _signed_in(alice)
    response = client.post(
        "/account/me/password/", {"current_password": PASSWORD, "new_password": "Another#2026"}
    )
    assert response.status_code == 302
    assert client.get("/account/me/").status_code == 200
    alice.user.refresh_from_db()
    assert alice.user.check_password("Another#2026")


def test_back_office_section_is_for_staff_only(alice, bob):
    assert _signed_in(alice).get("/console/backoffice/").status_code == 404
    bob.user.is_staff = True
    bob.user.save(update_fields=["is_staff"])
    page = _signed_in(bob).get("/console/backoffice/")
    assert page.status_code == 200
    assert 'data-testid="review-queue"' in page.content.decode()


def test_console_links_every_section(alice):
    page = _signed_in(alice).get("/console/").content.decode()
    for url in ("/console/enterprise/", "/console/seals/", "/console/contracts/", "/verify/"):
        assert f'href="{url}"' in page


def test_sandbox_outbox_page_lists_messages(web):
    web.post("/account/send-code/", {"purpose": "register", "account": "13800000022"})
    page = web.get("/sandbox/outbox/?to=13800000022").content.decode()
    assert last_code("+8613800000022") in page


def test_session_api_write_without_csrf_token_is_403(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice.user, backend="portsign.accounts.backends.AccountBackend")
    response = client.patch("/api/v1/me", data='{"name": "x"}', content_type="application/json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"
    assert client.get("/api/v1/me").json()["name"] == "Alice Test"
