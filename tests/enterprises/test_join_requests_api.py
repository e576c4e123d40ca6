"""Applying to join an enterprise and deciding on it through the API (SPEC B4)."""

from __future__ import annotations

import pytest

from portsign.common.models import AuditEvent
from portsign.enterprises.models import JoinRequest, Membership
from tests.helpers import error_code, make_enterprise, verify_person

REASON = "I handle customs declarations"


def apply(person, enterprise, reason=REASON):
    return person.api.post(f"/enterprises/{enterprise.id}/join-requests", {"reason": reason})


def decide(person, request_id: str, action: str, reason: str | None = None):
    body = {} if reason is None else {"reason": reason}
    return person.api.post(f"/join-requests/{request_id}/{action}", body)


@pytest.fixture
def verified_bob(bob):
    return verify_person(bob, 2)


@pytest.fixture
def pending(acme, verified_bob) -> str:
    response = apply(verified_bob, acme)
    assert response.status_code == 201, response.content
    return response.json()["id"]


# -- applying -------------------------------------------------------------------------------------


def test_apply_requires_real_name(acme, bob):
    response = apply(bob, acme)
    assert response.status_code == 409
    assert error_code(response) == "real_name_required"
    assert not JoinRequest.objects.exists()


def test_apply(acme, verified_bob):
    response = apply(verified_bob, acme)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "pending"
    assert body["reason"] == REASON
    assert body["decision_reason"] == ""
    assert body["decided_at"] is None
    assert body["user_id"] == verified_bob.user.id
    assert body["applicant_name"] == "Bob Test"
    assert body["enterprise"] == {"id": acme.id, "name": acme.name, "uscc": acme.uscc}
    assert AuditEvent.objects.get(action="join.requested").object_id == body["id"]


def test_apply_does_not_make_a_member(acme, verified_bob, pending):
    assert verified_bob.api.get(f"/enterprises/{acme.id}").status_code == 404
    assert not Membership.objects.filter(enterprise=acme, user=verified_bob.user).exists()


def test_duplicate_pending(acme, verified_bob, pending):
    response = apply(verified_bob, acme)
    assert response.status_code == 409
    assert error_code(response) == "join_pending"
    assert JoinRequest.objects.count() == 1


def test_already_member(acme, alice):
    response = apply(alice, acme)
    assert response.status_code == 409
    assert error_code(response) == "already_member"


def test_approved_member_cannot_apply_again(acme, alice, verified_bob, pending):
    decide(alice, pending, "approve")
    response = apply(verified_bob, acme)
    assert response.status_code == 409
    assert error_code(response) == "already_member"


def test_unverified_enterprise_is_not_found(alice, verified_bob):
    draft = make_enterprise(alice, "Draft Stevedoring Co., Ltd.", 8, verified=False)
    response = apply(verified_bob, draft)
    assert response.status_code == 404
    assert error_code(response) == "not_found"
    assert not JoinRequest.objects.exists()


def test_unknown_enterprise_is_not_found(verified_bob):
    response = verified_bob.api.post(
        "/enterprises/01UNKNOWNENTERPRISE0000000/join-requests", {"reason": REASON}
    )
    assert response.status_code == 404


@pytest.mark.parametrize("reason", ["", "x", "y" * 301])
def test_reason_length(acme, verified_bob, reason):
    response = apply(verified_bob, acme, reason=reason)
    assert response.status_code == 400
    assert error_code(response) == "reason_invalid"


# -- deciding -------------------------------------------------------------------------------------


def test_admin_lists_requests(acme, alice, verified_bob, pending):
    response = alice.api.get(f"/enterprises/{acme.id}/join-requests")
    assert response.status_code == 200
    listed = response.json()
    assert [(j["id"], j["status"], j["user_id"]) for j in listed] == [
        (pending, "pending", verified_bob.user.id)
    ]


def test_non_admin_member_cannot_list(acme, alice, verified_bob, pending):
    decide(alice, pending, "approve")
    response = verified_bob.api.get(f"/enterprises/{acme.id}/join-requests")
    assert response.status_code == 403
    assert error_code(response) == "permission_denied"


def test_approve(acme, alice, verified_bob, pending):
    response = decide(alice, pending, "approve")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "approved"
    assert body["decided_at"] is not None
    member = Membership.objects.get(enterprise=acme, user=verified_bob.user)
    assert member.role.key == "member"
    assert member.is_active is True
    assert verified_bob.api.get(f"/enterprises/{acme.id}").status_code == 200


def test_approve_is_audited(acme, alice, verified_bob, pending):
    decide(alice, pending, "approve")
    event = AuditEvent.objects.get(action="join.approved")
    assert event.object_id == pending
    assert event.actor_id == alice.user.id
    added = AuditEvent.objects.get(action="member.added")
    assert added.data == {"user": verified_bob.user.id, "via": "join_request"}


def test_approve_twice(acme, alice, pending):
    decide(alice, pending, "approve")
    response = decide(alice, pending, "approve")
    assert response.status_code == 409
    assert error_code(response) == "illegal_transition"
    assert Membership.objects.filter(enterprise=acme).count() == 2


def test_reject_with_reason(acme, alice, verified_bob, pending):
    response = decide(alice, pending, "reject", "Not an employee of ours")
    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    assert response.json()["decision_reason"] == "Not an employee of ours"
    assert not Membership.objects.filter(enterprise=acme, user=verified_bob.user).exists()
    event = AuditEvent.objects.get(action="join.rejected")
    assert event.data == {"reason": "Not an employee of ours"}


@pytest.mark.parametrize("reason", [None, "", " x "])
def test_reject_without_reason(acme, alice, pending, reason):
    response = decide(alice, pending, "reject", reason)
    assert response.status_code == 400
    assert error_code(response) == "reason_required"
    assert JoinRequest.objects.get(pk=pending).status == "pending"


def test_approve_after_reject(acme, alice, pending):
    decide(alice, pending, "reject", "Not an employee of ours")
    response = decide(alice, pending, "approve")
    assert response.status_code == 409
    assert error_code(response) == "illegal_transition"


def test_reapply_after_reject(acme, alice, verified_bob, pending):
    decide(alice, pending, "reject", "Not an employee of ours")
    assert apply(verified_bob, acme).status_code == 201


def test_non_admin_member_cannot_decide(acme, alice, verified_bob, pending, charlie):
    decide(alice, pending, "approve")
    verify_person(charlie, 3)
    other = apply(charlie, acme).json()["id"]
    response = decide(verified_bob, other, "approve")
    assert response.status_code == 403
    assert error_code(response) == "permission_denied"
    assert JoinRequest.objects.get(pk=other).status == "pending"


def test_applicant_cannot_approve_own_request(pending, verified_bob):
    response = decide(verified_bob, pending, "approve")
    assert response.status_code == 404
    assert JoinRequest.objects.get(pk=pending).status == "pending"


def test_decide_unknown_request(alice, acme):
    response = decide(alice, "01UNKNOWNREQUEST0000000000", "approve")
    assert response.status_code == 404


# -- withdrawing ----------------------------------------------------------------------------------


def test_withdraw(acme, verified_bob, pending):
    response = verified_bob.api.post(f"/join-requests/{pending}/withdraw")
    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"
    assert AuditEvent.objects.filter(action="join.withdrawn", object_id=pending).count() == 1


def test_reapply_after_withdraw(acme, verified_bob, pending):
    verified_bob.api.post(f"/join-requests/{pending}/withdraw")
    response = apply(verified_bob, acme)
    assert response.status_code == 201
    assert response.json()["id"] != pending
    assert response.json()["status"] == "pending"


def test_withdraw_twice(acme, verified_bob, pending):
    verified_bob.api.post(f"/join-requests/{pending}/withdraw")
    response = verified_bob.api.post(f"/join-requests/{pending}/withdraw")
    assert response.status_code == 409
    assert error_code(response) == "illegal_transition"


def test_approve_withdrawn(acme, alice, verified_bob, pending):
    verified_bob.api.post(f"/join-requests/{pending}/withdraw")
    response = decide(alice, pending, "approve")
    assert response.status_code == 409
    assert error_code(response) == "illegal_transition"
    assert not Membership.objects.filter(enterprise=acme, user=verified_bob.user).exists()


def test_withdraw_someone_elses_request(acme, alice, pending):
    response = alice.api.post(f"/join-requests/{pending}/withdraw")
    assert response.status_code == 404
    assert JoinRequest.objects.get(pk=pending).status == "pending"


def test_withdraw_approved(acme, alice, verified_bob, pending):
    decide(alice, pending, "approve")
    response = verified_bob.api.post(f"/join-requests/{pending}/withdraw")
    assert response.status_code == 409
    assert error_code(response) == "illegal_transition"


# -- my requests ----------------------------------------------------------------------------------


def test_my_requests_with_status_and_decision(acme, alice, verified_bob, pending):
    decide(alice, pending, "reject", "Not an employee of ours")
    again = apply(verified_bob, acme).json()["id"]
    response = verified_bob.api.get("/join-requests")
    assert response.status_code == 200
    listed = [(j["id"], j["status"], j["decision_reason"]) for j in response.json()]
    assert listed == [
        (again, "pending", ""),
        (pending, "rejected", "Not an employee of ours"),
    ]


def test_my_requests_only_mine(acme, alice, pending, charlie):
    assert charlie.api.get("/join-requests").json() == []
    assert alice.api.get("/join-requests").json() == []
