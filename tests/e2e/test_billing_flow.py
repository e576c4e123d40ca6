"""Recharge in Chromium (issue 16 point 3): sending with no corporate contracts left is refused
with the recharge link; the administrator buys a package at the sandbox cashier, the balance
rises, the contract is sent, and the usage chart (uPlot) shows it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portsign.billing.domain.catalogue import ensure_default_packages
from portsign.billing.models import Order
from tests.contracts.conftest import create_draft
from tests.e2e.test_seals_flow import _signed_in
from tests.helpers import make_enterprise, make_person

pytestmark = pytest.mark.e2e


def test_recharge_send_and_see_the_chart(browser, live_server, settings):
    settings.BILLING_FREE = {
        "enterprise": {"corporate": 0, "personal": 10},
        "person": {"corporate": 0, "personal": 0},
    }
    ensure_default_packages()
    sender = make_person("+8613800000061", "充值管理员")
    partner = make_person("+8613800000062", "合作方管理员")
    acme = make_enterprise(sender, "示例港务物流有限公司", 61)
    globex = make_enterprise(partner, "示例船务代理有限公司", 62)
    contract_id = create_draft(sender, acting_as=acme.id)["id"]
    added = sender.api.post(
        f"/contracts/{contract_id}/parties",
        {"kind": "enterprise", "account": "+8613800000062", "enterprise_name": globex.name},
    )
    assert added.status_code == 201, added.content

    context, page = _signed_in(browser, live_server, sender.user, acting_as=acme.id)
    page.goto(f"/console/contracts/{contract_id}/")
    page.get_by_test_id("contract-send").click()
    flash = page.locator(".flash")
    expect(flash).to_contain_text("对公合同份数已用完，无法发送本合同。请先充值。")
    expect(page.get_by_test_id("contract-status")).to_have_text("草稿")
    flash.get_by_role("link", name="立即充值").click()

    expect(page.get_by_test_id("quota-corporate")).to_have_text("0")
    page.get_by_test_id("buy-corporate-10").click()
    expect(page.get_by_test_id("cashier")).to_be_visible()
    page.get_by_test_id("cashier-pay").click()
    expect(page.locator(".flash")).to_contain_text("支付成功：已增加 10 份合同。")
    expect(page.get_by_test_id("quota-corporate")).to_have_text("10")
    expect(page.get_by_test_id("orders").get_by_test_id("order-status")).to_have_text("已支付")
    order = Order.objects.get(wallet__enterprise=acme)
    assert (order.status, order.amount_fen, order.contracts) == ("paid", 5000, 10)

    page.goto(f"/console/contracts/{contract_id}/")
    page.get_by_test_id("contract-send").click()
    expect(page.get_by_test_id("contract-status")).to_have_text("签署中")

    page.goto("/console/billing/")
    expect(page.get_by_test_id("quota-corporate")).to_have_text("9")
    chart = page.get_by_test_id("usage-chart")
    expect(chart).to_have_attribute("data-state", "ready")
    expect(chart).to_have_attribute("data-corporate", "1")
    expect(chart).to_have_attribute("data-personal", "0")
    expect(chart.locator("canvas")).to_have_count(1)
    expect(page.get_by_test_id("chart-summary")).to_have_text("对公合同 1 · 对私合同 0")
    usage = page.get_by_test_id("usage")
    expect(usage.locator("tbody tr").first).to_contain_text("发送合同")
    context.close()
