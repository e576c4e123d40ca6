"""Contract console pages: boxes, new draft, parties, send, revoke, reject — through forms."""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from portsign.contracts.models import Contract
from tests.contracts.conftest import pdf_bytes


def _web(person, acting_as: str = "personal") -> Client:
    client = Client()
    client.force_login(person.user, backend="portsign.accounts.backends.AccountBackend")
    if acting_as != "personal":
        client.post("/console/enterprise/acting/", {"acting_as": acting_as})
    return client


def test_draft_parties_send_and_boxes(alice, bob, acme, globex):
    web = _web(alice, acme.id)
    created = web.post(
        "/console/contracts/new/",
        {
            "file": SimpleUploadedFile("c.pdf", pdf_bytes()),
            "title": "港口作业合同",
            "deadline": "2099-01-31",
        },
    )
    contract = Contract.objects.get()
    assert created.status_code == 302
    assert created["Location"] == f"/console/contracts/{contract.id}/"
    assert (contract.sender_enterprise_id, contract.deadline.isoformat()) == (
        acme.id,
        "2099-01-31T15:59:59+00:00",
    )
    web.post(
        f"/console/contracts/{contract.id}/parties/",
        {
            "kind": "enterprise",
            "enterprise_name": globex.name,
            "account": "13800000002",
            "needs_seal": "on",
        },
    )
    assert contract.parties.get().enterprise_id == globex.id
    page = web.get(f"/console/contracts/{contract.id}/").content.decode()
    assert 'data-testid="contract-send"' in page
    assert f"/api/v1/contracts/{contract.id}/pages/2.png" in page
    web.post(f"/console/contracts/{contract.id}/send/")
    contract.refresh_from_db()
    assert contract.status == "signing"
    box = _web(bob, globex.id).get("/console/contracts/?box=to_sign").content.decode()
    assert "港口作业合同" in box
    assert 'data-contract="港口作业合同"' in box
    others = web.get("/console/contracts/?box=others_to_sign").content.decode()
    assert 'data-contract="港口作业合同"' in others


def test_reject_and_revoke_forms(alice, bob, acme, globex):
    web = _web(alice, acme.id)
    web.post(
        "/console/contracts/new/", {"file": SimpleUploadedFile("c.pdf", pdf_bytes()), "title": "甲"}
    )
    contract = Contract.objects.get()
    web.post(
        f"/console/contracts/{contract.id}/parties/",
        {
            "kind": "enterprise",
            "enterprise_name": globex.name,
            "account": "13800000002",
            "needs_seal": "on",
        },
    )
    web.post(f"/console/contracts/{contract.id}/send/")
    partner = _web(bob, globex.id)
    assert (
        'data-testid="contract-reject"'
        in partner.get(f"/console/contracts/{contract.id}/").content.decode()
    )
    partner.post(f"/console/contracts/{contract.id}/reject/", {"reason": "价格不对"})
    contract.refresh_from_db()
    assert (contract.status, contract.reason) == ("rejected", "价格不对")
    response = web.post(f"/console/contracts/{contract.id}/revoke/", {}, follow=True)
    assert response.status_code == 200  # an illegal move is a message, not an error page
    assert Contract.objects.get().status == "rejected"


def test_outsiders_get_404_and_errors_are_messages(alice, charlie):
    web = _web(alice)
    response = web.post("/console/contracts/new/", {"title": "x"}, follow=True)
    assert response.status_code == 200
    assert Contract.objects.count() == 0
    assert _web(charlie).get("/console/contracts/01M83CFSW1E5A5N0S00CK1PJY9/").status_code == 404


def test_followup_forms(alice, bob, acme, globex):
    from tests.contracts.conftest import contract_seal, give_certificate

    give_certificate(bob, globex)
    seal = contract_seal(bob, globex)
    web = _web(alice, acme.id)
    web.post(
        "/console/contracts/new/", {"file": SimpleUploadedFile("c.pdf", pdf_bytes()), "title": "乙"}
    )
    contract = Contract.objects.get()
    web.post(
        f"/console/contracts/{contract.id}/parties/",
        {
            "kind": "enterprise",
            "enterprise_name": globex.name,
            "account": "13800000002",
            "needs_seal": "on",
        },
    )
    web.post(f"/console/contracts/{contract.id}/send/")
    web.post(f"/console/contracts/{contract.id}/remind/")
    contract.refresh_from_db()
    assert contract.reminded_at is not None
    web.post(f"/console/contracts/{contract.id}/deadline/", {"deadline": "2099-06-30"})
    contract.refresh_from_db()
    assert contract.deadline.isoformat() == "2099-06-30T15:59:59+00:00"
    partner = _web(bob, globex.id)
    from portsign.contracts.domain import approvals

    approvals.add_rule(actor=bob.user, enterprise_id=globex.id, seal_id=seal)
    page = partner.get(f"/console/contracts/{contract.id}/").content.decode()
    assert 'data-testid="approval-ask"' in page
    partner.post(f"/console/contracts/{contract.id}/approvals/", {"seal_id": seal, "note": "请批"})
    assert contract.approvals.get().status == "pending"


def test_a_same_day_sent_range_finds_that_days_contracts(alice, bob, acme, globex):
    """Issue 13 item 7: "至" includes its own day (it used to be exclusive: nothing found)."""
    web = _web(alice, acme.id)
    web.post(
        "/console/contracts/new/",
        {"file": SimpleUploadedFile("c.pdf", pdf_bytes()), "title": "同日合同"},
    )
    contract = Contract.objects.get()
    web.post(
        f"/console/contracts/{contract.id}/parties/",
        {
            "kind": "enterprise",
            "enterprise_name": globex.name,
            "account": "13800000002",
            "needs_seal": "on",
        },
    )
    web.post(f"/console/contracts/{contract.id}/send/")
    contract.refresh_from_db()
    assert contract.status == "signing"
    day = timezone.localtime(contract.sent_at).date().isoformat()
    page = web.get(f"/console/contracts/?box=sent&sent_from={day}&sent_to={day}")
    assert "同日合同" in page.content.decode()
    before = (timezone.localtime(contract.sent_at).date() - dt.timedelta(days=1)).isoformat()
    earlier = web.get(f"/console/contracts/?box=sent&sent_from={before}&sent_to={before}")
    assert "同日合同" not in earlier.content.decode()


def test_a_contract_waiting_in_another_identity_offers_the_switch(alice, bob, acme, globex):
    """Issue 13 item 5: bob, acting as himself, opens a contract waiting for Globex."""
    web = _web(alice, acme.id)
    web.post(
        "/console/contracts/new/",
        {"file": SimpleUploadedFile("c.pdf", pdf_bytes()), "title": "理货协议"},
    )
    contract = Contract.objects.get()
    web.post(
        f"/console/contracts/{contract.id}/parties/",
        {
            "kind": "enterprise",
            "enterprise_name": globex.name,
            "account": "13800000002",
            "needs_seal": "on",
        },
    )
    web.post(f"/console/contracts/{contract.id}/send/")
    personal = _web(bob)
    page = personal.get(f"/console/contracts/{contract.id}/").content.decode()
    assert f"这份合同等待您以 {globex.name} 的身份签署" in page
    # The switcher shows where work waits, on every page.
    assert f"{globex.name} （1 项待办）</option>" in page
    assert ">个人</option>" in page
    assert f'name="acting_as" value="{globex.id}"' in page
    switched = personal.post(
        "/console/enterprise/acting/",
        {"acting_as": globex.id, "next": f"/console/contracts/{contract.id}/"},
    )
    assert switched["Location"] == f"/console/contracts/{contract.id}/"
    page = personal.get(f"/console/contracts/{contract.id}/").content.decode()
    assert 'data-testid="switch-identity"' not in page
    assert 'data-testid="sign-page-1"' in page
    outside = personal.post(
        "/console/enterprise/acting/", {"acting_as": globex.id, "next": "https://evil.example/"}
    )
    assert outside["Location"] != "https://evil.example/"
