"""Issue 6 in Chromium: a seal that needs approval is approved by an approver before the signer
applies it; the completed contract is then voided through a void statement both parties sign."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portsign.contracts.domain import approvals
from portsign.contracts.domain.documents import read_document
from portsign.contracts.models import Contract
from tests.contracts.conftest import contract_seal, give_certificate, pdf_bytes
from tests.e2e.test_contract_flow import _sign_here
from tests.e2e.test_seals_flow import _signed_in
from tests.helpers import make_enterprise, make_person
from tests.seals.conftest import add_member
from tests.verifiers import assert_verifiers_accept

pytestmark = pytest.mark.e2e


def test_approve_a_seal_use_then_void(browser, live_server, tmp_path, settings):
    sender = make_person("+8613800000061", "港务经办")
    signer = make_person("+8613800000062", "理货经办")
    approver = make_person("+8613800000063", "理货审批人")
    port = make_enterprise(sender, "示例码头有限公司", 61)
    tally = make_enterprise(signer, "示例理货服务有限公司", 62)
    add_member(tally, approver, "approver")
    give_certificate(sender, port)
    give_certificate(signer, tally)
    contract_seal(sender, port)
    seal_id = contract_seal(signer, tally)
    approvals.add_rule(actor=signer.user, enterprise_id=tally.id, seal_id=seal_id)
    body = tmp_path / "operation.pdf"
    body.write_bytes(pdf_bytes(1, label="Port operation contract"))

    context, page = _signed_in(browser, live_server, sender.user, acting_as=port.id)
    page.goto("/console/contracts/new/")
    page.get_by_test_id("contract-file").set_input_files(str(body))
    page.get_by_test_id("contract-title").fill("港口作业合同")
    page.get_by_test_id("contract-create").click()
    # The id is read from the URL of the page the upload lands on: wait for that page first.
    expect(page.get_by_test_id("contract-status")).to_have_text("草稿")
    contract_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    for name, account in ((tally.name, "13800000062"), (port.name, "13800000061")):
        page.get_by_test_id("party-enterprise").fill(name)
        page.get_by_test_id("party-account").fill(account)
        page.get_by_test_id("party-add").click()
        # Only the page the add lands on lists this party: the next party is typed there, not
        # into the page the click is leaving (its flash would say the same as the new one's).
        expect(page.locator(f'[data-testid="parties"] tr[data-party="{name}"]')).to_have_count(1)
    page.get_by_test_id("contract-send").click()
    expect(page.get_by_test_id("contract-status")).to_have_text("签署中")

    signer_context, signer_page = _signed_in(browser, live_server, signer.user, acting_as=tally.id)
    signer_page.goto(f"/console/contracts/{contract_id}/")
    signer_page.get_by_test_id("approval-ask").click()
    expect(signer_page.get_by_test_id("approval-status")).to_have_text("待审批")

    approver_context, approver_page = _signed_in(
        browser, live_server, approver.user, acting_as=tally.id
    )
    approver_page.goto("/console/contracts/?box=to_approve")
    approver_page.get_by_role("link", name="港口作业合同").click()
    expect(approver_page.get_by_test_id("approval-status")).to_have_text("待审批")
    # Approving is a form POST answered by a redirect back to this page, and the page the click
    # leaves shows the very 待审批 the decision replaces. Wait for the navigation the click
    # starts, then read the page it brought: its flash says whether the decision was taken
    # (an error there names the reason), its table what was decided.
    with approver_page.expect_navigation(wait_until="commit"):
        approver_page.get_by_test_id("approval-approve").click()
    expect(approver_page.locator(".flash")).to_contain_text("审核已通过")
    expect(approver_page.get_by_test_id("approval-status")).to_have_text("已通过")
    approver_context.close()

    _sign_here(signer_page, contract_id, "+8613800000062")
    _sign_here(page, contract_id, "+8613800000061")
    expect(page.get_by_test_id("contract-status")).to_have_text("已完成")

    page.locator("#void input[name=reason]").fill("作业计划取消，双方同意作废")
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.get_by_test_id("contract-void").click()
    expect(page.get_by_test_id("contract-status")).to_have_text("签署中")  # the statement
    assert asked == [
        "发起作废《港口作业合同》？作废声明将发给各签署方签署；各方签署后，合同即作废。"
    ]
    statement_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    assert Contract.objects.get(pk=statement_id).voids_id == contract_id
    # The seal needs approval on every contract, the statement included (shown above in the
    # browser; here through the same domain calls).
    request = approvals.request_approval(
        actor=signer.user, contract_id=statement_id, acting_as=tally.id, seal_id=seal_id
    )
    approvals.decide(actor=approver.user, approval_id=request.id, approve=True, comment="同意")
    _sign_here(signer_page, statement_id, "+8613800000062")
    _sign_here(page, statement_id, "+8613800000061")
    expect(page.get_by_test_id("contract-status")).to_have_text("已完成")
    page.goto(f"/console/contracts/{contract_id}/")
    expect(page.get_by_test_id("contract-status")).to_have_text("已作废")
    expect(page.get_by_test_id("void-statement")).to_have_count(1)
    signer_context.close()
    context.close()
    # Both signed PDFs pass the independent verifiers.
    for number, made in enumerate((contract_id, statement_id)):
        folder = tmp_path / f"verify-{number}"
        folder.mkdir()
        pdf = read_document(Contract.objects.get(pk=made).current)
        assert_verifiers_accept(pdf, folder, ["PortSign-2-E", "PortSign-3-E"])
