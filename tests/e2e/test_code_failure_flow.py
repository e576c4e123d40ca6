"""A signing code the carrier refuses, in Chromium (issue 13 item 3): the page says the text
message was not sent and offers the QR path, instead of "验证码已发送"."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portsign.common.notify.outbox import queue_message
from tests.contracts.conftest import contract_seal, create_draft, give_certificate
from tests.e2e.test_seals_flow import _signed_in
from tests.helpers import make_enterprise, make_person

pytestmark = pytest.mark.e2e


def test_a_refused_code_is_said_and_the_qr_path_offered(browser, live_server):
    sender = make_person("+8613800000081", "发起人")
    partner = make_person("+8613800000082", "理货签署人")
    acme = make_enterprise(sender, "示例港务集团有限公司", 81)
    globex = make_enterprise(partner, "示例外轮理货有限公司", 82)
    give_certificate(partner, globex)
    contract_seal(partner, globex)
    contract = create_draft(sender, acting_as=acme.id)
    sender.api.post(
        f"/contracts/{contract['id']}/parties",
        {"kind": "enterprise", "account": "13800000082", "enterprise_name": globex.name},
    )
    assert sender.api.post(f"/contracts/{contract['id']}/send").status_code == 200
    for i in range(20):  # the carrier's hourly flow control for the signer's number is used up
        queue_message(to="+8613800000082", channel="sms", subject="s", text=f"t{i}", data={})

    context, page = _signed_in(browser, live_server, partner.user, acting_as=globex.id)
    try:
        page.goto(f"/console/contracts/{contract['id']}/")
        target = page.get_by_test_id("sign-page-1")
        expect(target.locator("img")).to_be_visible()
        target.scroll_into_view_if_needed()
        box = target.bounding_box()
        page.get_by_test_id("palette-contract").drag_to(
            target, target_position={"x": box["width"] * 0.7, "y": 260}
        )
        page.get_by_test_id("sign-send-code").click()
        status = page.get_by_test_id("sign-status")
        expect(status).to_have_text("短信发送失败，请改用扫码确认或稍后重试。")
        expect(status).not_to_contain_text("验证码已发送")
        page.get_by_test_id("sign-qr").click()
        expect(page.get_by_test_id("sign-qr-box").locator("svg")).to_be_visible()
    finally:
        context.close()
