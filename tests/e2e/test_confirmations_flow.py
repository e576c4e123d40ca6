"""Irreversible actions ask first, in Chromium (issue 13 item 6): the confirmation names what
will happen; declining changes nothing, agreeing acts."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portsign.contracts.models import Contract
from portsign.seals.models import Seal
from tests.contracts.conftest import contract_seal, create_draft
from tests.e2e.test_seals_flow import _signed_in
from tests.helpers import make_enterprise, make_person

pytestmark = pytest.mark.e2e


def _answer(page, accept: bool) -> list[str]:
    asked: list[str] = []

    def reply(dialog) -> None:
        asked.append(dialog.message)
        if accept:
            dialog.accept()
        else:
            dialog.dismiss()

    page.once("dialog", reply)
    return asked


def test_revoking_asks_first_and_declining_changes_nothing(browser, live_server):
    sender = make_person("+8613800000091", "发起人")
    partner = make_person("+8613800000092", "签署人")
    acme = make_enterprise(sender, "示例港务集团有限公司", 91)
    globex = make_enterprise(partner, "示例外轮理货有限公司", 92)
    contract = create_draft(sender, acting_as=acme.id, title="堆存协议")
    sender.api.post(
        f"/contracts/{contract['id']}/parties",
        {"kind": "enterprise", "account": "13800000092", "enterprise_name": globex.name},
    )
    assert sender.api.post(f"/contracts/{contract['id']}/send").status_code == 200
    context, page = _signed_in(browser, live_server, sender.user, acting_as=acme.id)
    try:
        page.goto(f"/console/contracts/{contract['id']}/")
        asked = _answer(page, accept=False)
        page.get_by_test_id("contract-revoke").click()
        expect(page.get_by_test_id("contract-status")).to_have_text("签署中")
        assert asked == ["撤销《堆存协议》？各签署方都会收到通知，合同不能再签署。"]
        assert Contract.objects.get(pk=contract["id"]).status == "signing"

        asked = _answer(page, accept=True)
        page.get_by_test_id("contract-revoke").click()
        expect(page.get_by_test_id("contract-status")).to_have_text("合同已撤销")
        assert len(asked) == 1
    finally:
        context.close()


def test_deleting_a_seal_asks_first(browser, live_server):
    owner = make_person("+8613800000093", "印章管理员")
    acme = make_enterprise(owner, "示例港务集团有限公司", 93)
    seal_id = contract_seal(owner, acme)
    name = Seal.objects.get(pk=seal_id).name
    context, page = _signed_in(browser, live_server, owner.user, acting_as=acme.id)
    try:
        page.goto(f"/console/seals/enterprise/{acme.id}/")
        page.get_by_text("管理", exact=True).first.click()  # the seal's <details>
        asked = _answer(page, accept=False)
        page.get_by_role("button", name="删除").first.click()
        expect(page.get_by_role("button", name="删除").first).to_be_visible()
        assert asked == [f"删除“{name}”？删除后不能再使用；已签署的合同不受影响。"]
        assert Seal.objects.filter(pk=seal_id, deleted_at__isnull=True).exists()
    finally:
        context.close()
