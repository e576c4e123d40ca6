"""Register with the code from the sandbox outbox, sign out, sign in by password + captcha."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.helpers import last_code

pytestmark = pytest.mark.e2e

PHONE = "13800000010"
PASSWORD = "Harbour#2026"


def _captcha_answer(page) -> str:
    captcha_id = page.get_by_test_id("captcha_id").input_value()
    response = page.request.get(f"/api/v1/sandbox/captcha/{captcha_id}")
    assert response.status == 200
    return response.json()["answer"]


def test_register_sign_out_sign_in(page):
    page.goto("/account/register/")
    expect(page.locator("h1")).to_have_text("注册港签 PortSign 账号")
    page.get_by_test_id("account").fill(PHONE)
    page.get_by_test_id("send-code").click()
    expect(page.locator(".code-status .ok")).to_be_visible()
    expect(page.get_by_test_id("send-code")).to_be_disabled()
    page.get_by_test_id("code").fill(last_code("+86" + PHONE))
    page.get_by_test_id("name").fill("测试经办人")
    page.get_by_test_id("password").fill(PASSWORD)
    page.get_by_test_id("password2").fill(PASSWORD)
    page.get_by_test_id("accept_terms").check()
    page.get_by_test_id("submit").click()

    expect(page).to_have_url(re.compile(r"/console/$"))
    expect(page.get_by_test_id("console-title")).to_contain_text("测试经办人")
    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(re.compile(r"/account/login/"))

    page.get_by_test_id("account").fill(PHONE)
    page.get_by_test_id("password").fill(PASSWORD)
    page.get_by_test_id("captcha").fill("WRONG")
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("form-error")).to_have_text("图形验证码错误。")

    page.get_by_test_id("password").fill(PASSWORD)
    page.get_by_test_id("captcha").fill(_captcha_answer(page))
    page.get_by_test_id("submit").click()
    expect(page).to_have_url(re.compile(r"/console/$"))
    expect(page.get_by_test_id("current-user")).to_have_text("测试经办人")
    for section in ("个人中心", "企业控制台", "合同管理", "验签"):
        expect(page.locator(".mainnav")).to_contain_text(section)


def test_language_switch_to_english(page):
    page.goto("/account/login/")
    page.get_by_role("button", name="English").click()
    expect(page.locator("h1")).to_have_text("Sign in to PortSign")
    page.get_by_role("button", name="中文").click()
    expect(page.locator("h1")).to_have_text("登录港签 PortSign")
