"""Issue 6 workflow on contracts: reminders (催签) and deadline extension, internal approval of
seal use (需要我审批), voiding a completed contract (已作废), and the validity box (即将过期)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from portsign.contracts.models import Contract, Involvement, SealApproval
from tests.contracts.conftest import (
    contract_seal,
    create_draft,
    give_certificate,
    pdf_bytes,
    upload,
)
from tests.contracts.test_signing import _marks, _sign
from tests.helpers import error_code, outbox
from tests.seals.conftest import add_member


@pytest.fixture
def deal(alice, bob, acme, globex):
    give_certificate(alice, acme)
    give_certificate(bob, globex)
    seals = {"acme": contract_seal(alice, acme), "globex": contract_seal(bob, globex)}
    contract = create_draft(alice, acting_as=acme.id)
    for account, enterprise in (("13800000002", globex), ("13800000001", acme)):
        alice.api.post(
            f"/contracts/{contract['id']}/parties",
            {"kind": "enterprise", "account": account, "enterprise_name": enterprise.name},
        )
    alice.api.post(f"/contracts/{contract['id']}/send")
    return contract["id"], seals


def _box(person, box, acting_as):
    return person.api.get(f"/contracts?box={box}&acting_as={acting_as}").json()


# -- reminders and deadline ----------------------------------------------------------------------


def test_manual_reminder_is_rate_limited(deal, alice, bob):
    contract_id, _seals = deal
    before = len(outbox("+8613800000002"))
    first = alice.api.post(f"/contracts/{contract_id}/remind")
    assert first.status_code == 200
    assert first.json() == {"count": 1}
    assert outbox("+8613800000002")[-1].data["event"] == "reminder"
    assert len(outbox("+8613800000002")) == before + 1
    again = alice.api.post(f"/contracts/{contract_id}/remind")
    assert again.status_code == 429
    assert error_code(again) == "remind_too_soon"
    assert again["Retry-After"] == "3600"
    assert bob.api.post(f"/contracts/{contract_id}/remind").status_code == 403


def test_automatic_reminder_goes_once_before_the_deadline(deal, settings):
    contract_id, _seals = deal
    Contract.objects.filter(pk=contract_id).update(deadline=timezone.now() + dt.timedelta(hours=30))
    call_command("cleanup")
    assert outbox("+8613800000002")[-1].data["event"] == "to_sign"  # not yet: 30 h > 24 h
    Contract.objects.filter(pk=contract_id).update(deadline=timezone.now() + dt.timedelta(hours=20))
    call_command("cleanup")
    call_command("cleanup")
    reminders = [m for m in outbox("+8613800000002") if m.data.get("event") == "auto_reminder"]
    assert len(reminders) == 1
    # Acme signs second: it is waiting, not pending, so it gets no reminder.
    assert [m for m in outbox("+8613800000001") if m.data.get("event") == "auto_reminder"] == []


def test_deadline_extension(deal, alice):
    contract_id, _seals = deal
    later = (timezone.now() + dt.timedelta(days=40)).replace(microsecond=0)
    response = alice.api.post(f"/contracts/{contract_id}/deadline", {"deadline": later.isoformat()})
    assert response.status_code == 200, response.content
    assert dt.datetime.fromisoformat(response.json()["deadline"]) == later
    past = alice.api.post(
        f"/contracts/{contract_id}/deadline", {"deadline": "2001-01-01T00:00:00+08:00"}
    )
    assert past.status_code == 400
    assert error_code(past) == "deadline_past"
    alice.api.post(f"/contracts/{contract_id}/revoke", {})
    closed = alice.api.post(f"/contracts/{contract_id}/deadline", {"deadline": later.isoformat()})
    assert closed.status_code == 409
    assert error_code(closed) == "not_signing"


# -- internal approval ---------------------------------------------------------------------------


def test_seal_needing_approval_cannot_be_applied_before_it(deal, bob, dave, globex):
    contract_id, seals = deal
    rule = bob.api.post(f"/enterprises/{globex.id}/approval-rules", {"seal_id": seals["globex"]})
    assert rule.status_code == 201, rule.content
    add_member(globex, dave, "approver")
    refused = (
        _sign(bob, contract_id, globex.id, _marks(seals["globex"]))
        if False
        else bob.api.post(
            f"/contracts/{contract_id}/sign/codes",
            {"acting_as": globex.id, "marks": _marks(seals["globex"])},
        )
    )
    assert refused.status_code == 409
    assert error_code(refused) == "approval_required"
    asked = bob.api.post(
        f"/contracts/{contract_id}/approvals",
        {"acting_as": globex.id, "seal_id": seals["globex"], "note": "请审批"},
    )
    assert asked.status_code == 201, asked.content
    approval_id = asked.json()["id"]
    own = bob.api.post(f"/approvals/{approval_id}/approve", {"comment": "ok"})
    assert own.status_code == 409
    assert error_code(own) == "approver_is_requester"
    assert [c["id"] for c in _box(dave, "to_approve", globex.id)["items"]] == [contract_id]
    assert outbox("+8613800000004")[-1].data["event"] == "approval"
    no_reason = dave.api.post(f"/approvals/{approval_id}/reject", {"comment": ""})
    assert no_reason.status_code == 400
    assert error_code(no_reason) == "comment_required"
    approved = dave.api.post(f"/approvals/{approval_id}/approve", {"comment": "同意用印"})
    assert approved.status_code == 200
    assert (approved.json()["status"], approved.json()["decided_by"]) == ("approved", "Dave Test")
    assert _box(dave, "to_approve", globex.id)["total"] == 0
    twice = dave.api.post(f"/approvals/{approval_id}/reject", {"comment": "改主意了"})
    assert twice.status_code == 409
    assert error_code(twice) == "already_decided"
    signed = _sign(bob, contract_id, globex.id, _marks(seals["globex"]))
    assert signed.status_code == 200, signed.content


def test_rejected_approval_blocks_and_rules_by_contract_type(deal, bob, dave, globex, acme, alice):
    from portsign.contracts.models import ContractType

    contract_id, seals = deal
    kind = ContractType.objects.create(enterprise=globex, name="理货合同")
    Contract.objects.filter(pk=contract_id).update(contract_type=kind)
    assert (
        bob.api.post(
            f"/enterprises/{globex.id}/approval-rules", {"contract_type": "理货合同"}
        ).status_code
        == 201
    )
    add_member(globex, dave, "approver")
    approval_id = bob.api.post(
        f"/contracts/{contract_id}/approvals", {"acting_as": globex.id, "seal_id": seals["globex"]}
    ).json()["id"]
    dave.api.post(f"/approvals/{approval_id}/reject", {"comment": "金额不对"})
    refused = bob.api.post(
        f"/contracts/{contract_id}/sign/codes",
        {"acting_as": globex.id, "marks": _marks(seals["globex"])},
    )
    assert refused.status_code == 409
    assert error_code(refused) == "approval_required"
    assert SealApproval.objects.get().comment == "金额不对"
    bad = bob.api.post(f"/enterprises/{globex.id}/approval-rules", {"seal_id": seals["acme"]})
    assert bad.status_code == 400
    assert error_code(bad) == "approval_rule_subject"
    assert alice.api.get(f"/enterprises/{globex.id}/approval-rules").status_code == 404


# -- void ----------------------------------------------------------------------------------------


def _complete(deal, alice, bob, acme, globex):
    contract_id, seals = deal
    assert _sign(bob, contract_id, globex.id, _marks(seals["globex"])).status_code == 200
    assert _sign(alice, contract_id, acme.id, _marks(seals["acme"])).json()["status"] == "completed"
    return contract_id, seals


def test_void_after_completion(deal, alice, bob, acme, globex, api, settings):
    contract_id, seals = _complete(deal, alice, bob, acme, globex)
    early = alice.api.post(f"/contracts/{contract_id}/void", {"acting_as": acme.id, "reason": ""})
    assert early.status_code == 400
    proposed = bob.api.post(
        f"/contracts/{contract_id}/void",
        {"acting_as": globex.id, "reason": "业务取消，双方协商作废"},
    )
    assert proposed.status_code == 201, proposed.content
    statement = proposed.json()
    assert (statement["status"], statement["voids"], statement["ordering"]) == (
        "signing",
        contract_id,
        "parallel",
    )
    assert statement["title"] == "作废声明：集装箱理货协议"
    assert [p["status"] for p in statement["parties"]] == ["pending", "pending"]
    again = alice.api.post(
        f"/contracts/{contract_id}/void", {"acting_as": acme.id, "reason": "再来一次"}
    )
    assert again.status_code == 409
    assert error_code(again) == "void_pending"
    _sign(alice, statement["id"], acme.id, _marks(seals["acme"]))
    assert alice.api.get(f"/contracts/{contract_id}").json()["status"] == "completed"
    done = _sign(bob, statement["id"], globex.id, _marks(seals["globex"]))
    assert done.json()["status"] == "completed"
    original = alice.api.get(f"/contracts/{contract_id}").json()
    assert original["status"] == "voided"
    assert [c["id"] for c in _box(alice, "voided", acme.id)["items"]] == [contract_id]
    pdf = alice.api.get(f"/contracts/{statement['id']}/document.pdf").content
    from tests.contracts.test_signing import _file

    report = api.client.post("/api/v1/verify", {"file": _file(pdf)}).json()
    assert (report["intact"], report["valid"]) == (True, True)
    revoke_voided = alice.api.post(f"/contracts/{contract_id}/revoke", {})
    assert revoke_voided.status_code == 409


def test_only_completed_contracts_and_parties_may_void(deal, alice, charlie, acme):
    contract_id, _seals = deal
    early = alice.api.post(
        f"/contracts/{contract_id}/void", {"acting_as": acme.id, "reason": "不要了"}
    )
    assert early.status_code == 409
    assert error_code(early) == "not_completed"
    assert (
        charlie.api.post(f"/contracts/{contract_id}/void", {"reason": "不要了"}).status_code == 404
    )


def test_expiring_box(alice, acme):
    soon = (timezone.localdate() + dt.timedelta(days=10)).isoformat()
    later = (timezone.localdate() + dt.timedelta(days=200)).isoformat()
    ids = []
    for valid_until in (soon, later):
        response = upload(
            alice, "/contracts", pdf_bytes(), title="x", acting_as=acme.id, valid_until=valid_until
        )
        assert response.status_code == 201
        assert response.json()["valid_until"] == valid_until
        ids.append(response.json()["id"])
    # Completed by hand, around move_status: the boxes' copy of the status too.
    Contract.objects.filter(pk__in=ids).update(status="completed")
    Involvement.objects.filter(contract_id__in=ids).update(status="completed")
    assert [c["id"] for c in _box(alice, "expiring", acme.id)["items"]] == [ids[0]]
    bad = upload(alice, "/contracts", pdf_bytes(), title="x", valid_until="someday")
    assert bad.status_code == 400
    assert error_code(bad) == "valid_until_format"
