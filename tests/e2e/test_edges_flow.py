"""Edges in Chromium (issue 13 item 14): a Chinese 404 page with a way home, the home page's
to-dos linking to the contract that waits, and the API docs linked from the console."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.contracts.conftest import create_draft
from tests.e2e.test_seals_flow import _signed_in
from tests.helpers import make_person, verify_person

pytestmark = pytest.mark.e2e


def test_404_todos_and_api_docs(browser, live_server):
    sender = verify_person(make_person("+8613800000091", "发起人"), 91)
    signer = make_person("+8613800000092", "签署人")
    contract_id = create_draft(sender, title="集装箱理货协议")["id"]
    sender.api.post(
        f"/contracts/{contract_id}/parties", {"kind": "person", "account": signer.account}
    )
    assert sender.api.post(f"/contracts/{contract_id}/send").status_code == 200

    context, page = _signed_in(browser, live_server, signer.user)
    try:
        missing = page.goto("/console/no-such-page/")
        assert missing is not None
        assert missing.status == 404
        expect(page.locator("h1")).to_have_text("页面不存在")
        expect(page.get_by_test_id("error-page")).to_contain_text("地址可能有误")
        page.get_by_test_id("error-home").click()  # / → the signed-in home page
        expect(page).to_have_url(re.compile(r"/console/$"))

        expect(page.get_by_test_id("todo-count-to_sign")).to_have_text("1")
        page.get_by_test_id("todo-item").filter(has_text="集装箱理货协议").click()
        expect(page).to_have_url(re.compile(rf"/console/contracts/{contract_id}/$"))

        docs = page.get_by_test_id("nav-api-docs")
        expect(docs).to_have_text("API 文档")
        expect(docs).to_have_attribute("href", "/api/v1/docs")
        docs.click()
        expect(page).to_have_title("PortSign API")
        expect(page.locator("#swagger-ui")).to_be_attached()
    finally:
        context.close()
