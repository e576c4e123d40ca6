"""Issue 11 item 14: every anonymous captcha request wrote a row, without limit."""

from __future__ import annotations

from portsign.accounts.models import Captcha
from tests.helpers import error_code


def test_an_address_gets_only_so_many_captchas_an_hour(api, settings):
    settings.CAPTCHA_IP_HOURLY_LIMIT = 3
    for _ in range(3):
        assert api.get("/auth/captcha").status_code == 200
    limited = api.get("/auth/captcha")
    assert (limited.status_code, error_code(limited)) == (429, "captcha_rate_limited")
    assert 1 <= int(limited["Retry-After"]) <= 3600
    assert Captcha.objects.count() == 3


def test_another_address_is_not_held_back(api, settings):
    settings.CAPTCHA_IP_HOURLY_LIMIT = 1
    assert api.get("/auth/captcha").status_code == 200
    other = api.client.get("/api/v1/auth/captcha", REMOTE_ADDR="198.51.100.7")
    assert other.status_code == 200


def test_the_console_says_so_instead_of_failing(client, settings):
    settings.CAPTCHA_IP_HOURLY_LIMIT = 1
    assert client.get("/account/login/").status_code == 200
    page = client.get("/account/login/")
    assert page.status_code == 429
    assert "图形验证码请求过多" in page.content.decode()
    partial = client.get("/account/captcha/")
    assert partial.status_code == 429
    assert "图形验证码请求过多" in partial.content.decode()
    assert Captcha.objects.count() == 1
