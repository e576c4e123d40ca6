"""The contract flow in Chromium (issue 5 §11): the sender uploads a PDF, adds a partner
enterprise and sends; the partner's signer drags the contract seal and a date stamp onto page 1
and confirms with the SMS code; the sender signs; the contract is 已完成; the downloaded PDF
verifies on the public verification page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.contracts.conftest import contract_seal, give_certificate, pdf_bytes
from tests.e2e.test_seals_flow import _signed_in
from tests.helpers import last_code, make_enterprise, make_person, red_pixels
from tests.verifiers import assert_verifiers_accept

pytestmark = pytest.mark.e2e


def _sign_here(page, contract_id: str, account: str) -> None:
    page.goto(f"/console/contracts/{contract_id}/")
    target = page.get_by_test_id("sign-page-1")
    expect(target.locator("img")).to_be_visible()
    target.scroll_into_view_if_needed()
    box = target.bounding_box()
    # Within the first screenful of the page, so the drop lands where the mouse is.
    page.get_by_test_id("palette-contract").drag_to(
        target, target_position={"x": box["width"] * 0.7, "y": 260}
    )
    page.get_by_test_id("palette-date").drag_to(
        target, target_position={"x": box["width"] * 0.7, "y": 420}
    )
    expect(page.get_by_test_id("placed-mark")).to_have_count(2)
    page.get_by_test_id("sign-send-code").click()
    expect(page.get_by_test_id("sign-status")).to_contain_text("验证码已发送")
    page.get_by_test_id("sign-code").fill(last_code(account))
    page.get_by_test_id("sign-confirm").click()
    expect(page.get_by_test_id("sign-page-1")).to_have_count(0, timeout=30000)  # reloaded, signed


def test_send_sign_sign_verify(browser, live_server, tmp_path):
    sender = make_person("+8613800000051", "发起人")
    partner = make_person("+8613800000052", "理货签署人")
    acme = make_enterprise(sender, "示例港务集团有限公司", 51)
    globex = make_enterprise(partner, "示例外轮理货有限公司", 52)
    give_certificate(sender, acme)
    give_certificate(partner, globex)
    contract_seal(sender, acme)
    contract_seal(partner, globex)
    body = tmp_path / "tally-agreement.pdf"
    body.write_bytes(pdf_bytes(2, label="Container tally agreement"))

    context, page = _signed_in(browser, live_server, sender.user, acting_as=acme.id)
    page.goto("/console/contracts/new/")
    page.get_by_test_id("contract-file").set_input_files(str(body))
    page.get_by_test_id("contract-title").fill("集装箱理货协议")
    page.get_by_test_id("contract-create").click()
    expect(page.get_by_test_id("contract-status")).to_have_text("草稿")
    contract_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    for name, account in ((globex.name, "13800000052"), (acme.name, "13800000051")):
        page.get_by_test_id("party-enterprise").fill(name)
        page.get_by_test_id("party-account").fill(account)
        page.get_by_test_id("party-add").click()
        expect(page.locator(".flash")).to_contain_text("签署方已添加")
    page.get_by_test_id("contract-send").click()
    expect(page.get_by_test_id("contract-status")).to_have_text("签署中")

    other, partner_page = _signed_in(browser, live_server, partner.user, acting_as=globex.id)
    partner_page.goto("/console/contracts/?box=to_sign")
    partner_page.get_by_role("link", name="集装箱理货协议").click()
    _sign_here(partner_page, contract_id, "+8613800000052")
    expect(partner_page.get_by_test_id("contract-status")).to_have_text("签署中")
    expect(partner_page.locator(".flash")).to_contain_text("签署成功")
    trail = partner_page.get_by_test_id("trail")
    expect(trail).to_contain_text(f"理货签署人（代表 {globex.name}）")
    expect(trail).not_to_contain_text("contract.party_signed")
    other.close()

    # The sender sees the partner's seal on the page before stamping (issue 13 item 1).
    page.goto(f"/console/contracts/{contract_id}/")
    source = page.get_by_test_id("sign-page-1").locator("img").get_attribute("src")
    assert red_pixels(page.request.get(source).body()) > 2000

    _sign_here(page, contract_id, "+8613800000051")
    expect(page.get_by_test_id("contract-status")).to_have_text("已完成")
    with page.expect_download() as download:
        page.get_by_test_id("download-pdf").click()
    signed = tmp_path / "signed.pdf"
    download.value.save_as(signed)
    # Independent verifiers: pyHanko's CLI and poppler's pdfsig accept both parties' signatures.
    (tmp_path / "verifiers").mkdir()
    assert_verifiers_accept(
        signed.read_bytes(), tmp_path / "verifiers", ["PortSign-2-E", "PortSign-3-E"]
    )

    page.goto("/verify/")
    page.get_by_test_id("verify-file").set_input_files(str(signed))
    page.get_by_test_id("verify-submit").click()
    expect(page.get_by_test_id("verify-verdict")).to_have_text(
        "所有签名均有效，文档签署后未被修改。"
    )
    expect(page.get_by_test_id("verify-signature")).to_have_count(3)  # two parties + archive stamp
    context.close()
