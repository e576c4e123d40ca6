"""Seal holders (持有人 / 持有角色), who may apply a seal, the use log, and one-click transfer."""

from __future__ import annotations

from portsign.common.models import AuditEvent
from portsign.common.request_context import Origin, reset_origin, set_origin
from portsign.enterprises.models import Role
from portsign.seals.domain import holders
from portsign.seals.models import Seal, SealGrant
from tests.helpers import assert_isolated, error_code
from tests.seals.conftest import add_member


def _holders(person, seal_id):
    return {
        (h["member_name"], h["role_name"])
        for h in person.api.get(f"/seals/{seal_id}/holders").json()
    }


def test_creator_holds_a_new_seal(alice, acme, contract_seal):
    assert _holders(alice, contract_seal["id"]) == {("Alice Test", None)}


def test_grant_to_members_and_roles_then_batch_remove(
    alice, bob, charlie, dave, acme, contract_seal
):
    seal_id = contract_seal["id"]
    bob_member = add_member(acme, bob, "signer")
    charlie_member = add_member(acme, charlie, "member")
    approver = Role.objects.get(enterprise=acme, key="approver")
    granted = alice.api.post(
        f"/seals/{seal_id}/holders",
        {"member_ids": [bob_member.id, charlie_member.id], "role_ids": [approver.id]},
    )
    assert granted.status_code == 200, granted.content
    assert granted.json() == {"count": 3}
    # Granting again adds nothing.
    again = alice.api.post(f"/seals/{seal_id}/holders", {"member_ids": [bob_member.id]})
    assert again.json() == {"count": 0}
    assert _holders(alice, seal_id) == {
        ("Alice Test", None),
        ("Bob Test", None),
        ("Charlie Test", None),
        (None, approver.name),
    }
    everyone = alice.api.get(f"/enterprises/{acme.id}/seal-holders").json()
    assert {h["seal_id"] for h in everyone} == {seal_id}
    assert len(everyone) == 4
    removed = alice.api.post(
        f"/seals/{seal_id}/holders/remove",
        {"member_ids": [bob_member.id, charlie_member.id], "role_ids": [approver.id]},
    )
    assert removed.json() == {"count": 3}
    assert _holders(alice, seal_id) == {("Alice Test", None)}
    actions = list(
        AuditEvent.objects.filter(object_id=seal_id, action__startswith="seal.grant").values_list(
            "action", flat=True
        )
    )
    assert actions == ["seal.granted", "seal.granted", "seal.grant_removed"]


def test_grant_refuses_outsiders_and_empty_requests(alice, bob, acme, globex, contract_seal):
    seal_id = contract_seal["id"]
    bob_in_globex = globex.memberships.get(user=bob.user)
    outsider = alice.api.post(f"/seals/{seal_id}/holders", {"member_ids": [bob_in_globex.id]})
    assert outsider.status_code == 400
    assert error_code(outsider) == "unknown_member"
    foreign_role = Role.objects.filter(enterprise=globex).first()
    role = alice.api.post(f"/seals/{seal_id}/holders", {"role_ids": [foreign_role.id]})
    assert role.status_code == 400
    assert error_code(role) == "unknown_role"
    empty = alice.api.post(f"/seals/{seal_id}/holders", {})
    assert empty.status_code == 400
    assert error_code(empty) == "holders_required"
    assert SealGrant.objects.filter(seal_id=seal_id).count() == 1
    assert_isolated(alice, bob, "POST", f"/seals/{seal_id}/holders/remove", {"member_ids": []})


def test_who_may_apply_a_seal(alice, bob, charlie, acme, contract_seal):
    seal = Seal.objects.get(pk=contract_seal["id"])
    alice_member = acme.memberships.get(user=alice.user)
    signer = add_member(acme, bob, "signer")
    viewer = add_member(acme, charlie, "member")
    assert holders.may_use(seal, alice_member)
    assert not holders.may_use(seal, signer)  # may apply seals, but does not hold this one
    holders.grant(actor=alice.user, seal_id=seal.id, member_ids=[signer.id, viewer.id], role_ids=[])
    seal.refresh_from_db()
    assert holders.may_use(seal, signer)
    assert not holders.may_use(seal, viewer)  # holds it, but the role cannot apply seals
    assert list(holders.usable_seals(signer)) == [seal]
    assert list(holders.usable_seals(viewer)) == []
    # By role: every signer holds it.
    holders.remove(actor=alice.user, seal_id=seal.id, member_ids=[signer.id], role_ids=[])
    holders.grant(actor=alice.user, seal_id=seal.id, member_ids=[], role_ids=[signer.role_id])
    assert holders.may_use(seal, signer)
    # A disabled seal is applied by nobody.
    alice.api.patch(f"/seals/{seal.id}", {"status": "disabled"})
    seal.refresh_from_db()
    assert not holders.may_use(seal, signer)
    assert list(holders.usable_seals(signer)) == []
    signer.is_active = False
    signer.save()
    assert not holders.may_use(seal, signer)


def test_every_use_is_logged_with_paging(alice, bob, acme, contract_seal):
    seal = Seal.objects.get(pk=contract_seal["id"])
    token = set_origin(Origin(ip="203.0.113.7", user_agent="test"))
    try:
        for number in range(23):
            holders.record_use(
                seal=seal, user=alice.user, subject_type="contract", subject_id=f"C{number:02d}"
            )
    finally:
        reset_origin(token)
    first = alice.api.get(f"/seals/{seal.id}/uses")
    assert first.status_code == 200
    body = first.json()
    assert (body["total"], body["page"], body["page_size"], len(body["items"])) == (23, 1, 20, 20)
    assert body["items"][0]["subject_id"] == "C22"  # newest first
    assert body["items"][0]["ip"] == "203.0.113.7"
    assert body["items"][0]["user_name"] == "Alice Test"
    second = alice.api.get(f"/seals/{seal.id}/uses?page=2").json()
    assert [u["subject_id"] for u in second["items"]] == ["C02", "C01", "C00"]
    bad = alice.api.get(f"/seals/{seal.id}/uses?page=0")
    assert bad.status_code == 400
    assert error_code(bad) == "page"
    assert AuditEvent.objects.filter(action="seal.used", object_id=seal.id).count() == 23
    add_member(acme, bob, "signer")
    denied = bob.api.get(f"/seals/{seal.id}/uses")
    assert denied.status_code == 403


def test_seals_block_removal_and_move_with_one_click_transfer(
    alice, bob, charlie, acme, contract_seal
):
    seal_id = contract_seal["id"]
    bob_member = add_member(acme, bob, "signer")
    charlie_member = add_member(acme, charlie, "signer")
    holders.grant(
        actor=alice.user,
        seal_id=seal_id,
        member_ids=[bob_member.id, charlie_member.id],
        role_ids=[],
    )
    refused = alice.api.delete(f"/enterprises/{acme.id}/members/{bob_member.id}")
    assert refused.status_code == 409
    assert error_code(refused) == "member_owns_items"
    assert refused.json()["error"]["fields"]["items"] == {"seal": 1}
    moved = alice.api.post(
        f"/enterprises/{acme.id}/members/{bob_member.id}/transfer",
        {"to_member_id": charlie_member.id},
    )
    assert moved.status_code == 200, moved.content
    assert moved.json()["seal"] == [seal_id]
    # Charlie held it already: still one grant for Charlie, none for Bob.
    assert SealGrant.objects.filter(seal_id=seal_id, member=charlie_member).count() == 1
    assert not SealGrant.objects.filter(member=bob_member).exists()
    assert (
        AuditEvent.objects.filter(
            action="item.transferred", object_type="seal", object_id=seal_id
        ).count()
        == 1
    )
    assert alice.api.delete(f"/enterprises/{acme.id}/members/{bob_member.id}").status_code == 204
