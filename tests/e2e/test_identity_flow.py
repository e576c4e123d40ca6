"""Register → real name → enterprise → micro-deposit → invite a colleague → role change."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from tests.backoffice.test_letter_review import _png
from tests.helpers import last_code, outbox, synthetic_id_number, synthetic_uscc

pytestmark = pytest.mark.e2e

PASSWORD = "Harbour#2026"


def _register(page, phone: str, name: str, url: str = "/account/register/") -> None:
    page.goto(url)
    page.get_by_test_id("account").fill(phone)
    page.get_by_test_id("send-code").click()
    expect(page.locator(".code-status .ok")).to_be_visible()
    page.get_by_test_id("code").fill(last_code("+86" + phone))
    page.get_by_test_id("name").fill(name)
    page.get_by_test_id("password").fill(PASSWORD)
    page.get_by_test_id("password2").fill(PASSWORD)
    page.get_by_test_id("accept_terms").check()
    page.get_by_test_id("submit").click()


def test_enterprise_onboarding_and_invitation(page, browser, live_server):
    _register(page, "13800000031", "港口管理员")
    expect(page).to_have_url(re.compile(r"/console/$"))

    page.goto("/account/me/")
    page.locator("#verification [data-testid=name]").fill("港口管理员")
    page.locator("#verification [data-testid=id_number]").fill(synthetic_id_number(31))
    page.get_by_test_id("verify-submit").click()
    expect(page.get_by_test_id("realname-status")).to_contain_text("已认证")

    page.goto("/console/enterprise/")
    page.locator("form [data-testid=name]").fill("示例港务物流有限公司")
    page.get_by_test_id("uscc").fill(synthetic_uscc(31))
    page.get_by_test_id("legal_rep_name").fill("示例法人")
    page.get_by_test_id("create-enterprise").click()
    expect(page.get_by_test_id("enterprise-status")).to_have_text("未认证")

    # Every verification method needs the licence and both sides of the ID card first.
    for testid in ("licence", "id_front", "id_back"):
        page.get_by_test_id(testid).set_input_files(
            {"name": f"{testid}.png", "mimeType": "image/png", "buffer": _png()}
        )
    page.locator("#materials [data-testid=legal_rep_id_number]").fill(synthetic_id_number(33))
    page.get_by_test_id("materials-submit").click()
    expect(page.get_by_test_id("missing-materials")).to_have_count(0)

    page.get_by_test_id("bank_name").fill("示例银行连云港分行")
    page.get_by_test_id("bank_account").fill("6222000000310001")
    page.get_by_test_id("deposit-start").click()
    amount = outbox("6222000000310001")[-1].data["amount"]
    page.get_by_test_id("deposit-amount").fill(amount)
    page.get_by_test_id("deposit-confirm").click()
    expect(page.get_by_test_id("enterprise-status")).to_have_text("已认证")

    page.get_by_test_id("invite-account").fill("13800000032")
    page.get_by_test_id("invite-submit").click()
    expect(page.locator(".flash")).to_contain_text("邀请已发送")
    invite_path = urlparse(outbox("+8613800000032")[-1].data["url"]).path

    colleague_context = browser.new_context(locale="zh-CN", base_url=live_server.url)
    colleague = colleague_context.new_page()
    colleague.goto(invite_path)
    colleague.get_by_test_id("invite-register").click()
    _register(colleague, "13800000032", "理货员同事", url=colleague.url)
    expect(colleague.get_by_test_id("accept-invitation")).to_be_visible()
    colleague.get_by_test_id("accept-invitation").click()
    expect(colleague.locator("h1")).to_have_text("示例港务物流有限公司")

    page.reload()
    row = page.locator("tr[data-member='理货员同事']")
    expect(row).to_contain_text("普通成员")
    row.get_by_test_id("role-select").select_option(label="签署人")
    row.get_by_test_id("role-save").click()
    expect(page.locator("tr[data-member='理货员同事'] [data-testid=role-select]")).to_have_value(
        re.compile(r".+")
    )
    colleague.reload()
    expect(colleague.locator("dl.facts")).to_contain_text("签署人")
    colleague_context.close()
