"""Members, roles, main-admin hand-over and one-click transfer through the API (SPEC B3, B5)."""

from __future__ import annotations

import pytest

from portsign.common.models import AuditEvent
from portsign.enterprises import transfer
from portsign.enterprises.models import Membership, Role
from tests.helpers import error_code, make_person, verify_person

KIND = "test_folders"


def join(person, enterprise, admin, sequence: int) -> str:
    """*person* applies to join and *admin* approves; return the new membership id."""
    if not person.user.is_real_name_verified:
        verify_person(person, sequence)
    applied = person.api.post(
        f"/enterprises/{enterprise.id}/join-requests", {"reason": "I work here"}
    )
    assert applied.status_code == 201, applied.content
    approved = admin.api.post(f"/join-requests/{applied.json()['id']}/approve", {})
    assert approved.status_code == 200, approved.content
    return Membership.objects.get(enterprise=enterprise, user=person.user).id


def members(person, enterprise) -> dict[str, dict]:
    response = person.api.get(f"/enterprises/{enterprise.id}/members")
    assert response.status_code == 200, response.content
    return {m["user_id"]: m for m in response.json()}


def role_id(enterprise, key: str) -> str:
    return Role.objects.get(enterprise=enterprise, key=key).id


def patch(person, enterprise, member_id: str, body: dict):
    return person.api.patch(f"/enterprises/{enterprise.id}/members/{member_id}", body)


def remove(person, enterprise, member_id: str):
    return person.api.delete(f"/enterprises/{enterprise.id}/members/{member_id}")


def main_admin_member(enterprise) -> str:
    return Membership.objects.get(enterprise=enterprise, user_id=enterprise.main_admin_id).id


@pytest.fixture
def bob_member(acme, alice, bob) -> str:
    return join(bob, acme, alice, 2)


@pytest.fixture
def dave():
    return make_person("+8613800000004", "Dave Test")


# -- members --------------------------------------------------------------------------------------


def test_approved_applicant_is_member(acme, alice, bob, bob_member):
    entry = members(alice, acme)[bob.user.id]
    assert entry["id"] == bob_member
    assert entry["role"]["key"] == "member"
    assert entry["is_active"] is True
    assert entry["is_main_admin"] is False
    assert entry["name"] == "Bob Test"
    assert entry["account"] != bob.account


def test_member_sees_enterprise_in_me(acme, bob, bob_member):
    enterprises = bob.api.get("/me").json()["enterprises"]
    assert [(e["id"], e["role"], e["is_main_admin"]) for e in enterprises] == [
        (acme.id, "member", False)
    ]


def test_member_may_list_members(acme, bob, bob_member):
    assert len(members(bob, acme)) == 2


def test_admin_changes_role(acme, alice, bob, bob_member):
    response = patch(alice, acme, bob_member, {"role_id": role_id(acme, "signer")})
    assert response.status_code == 200, response.content
    assert response.json()["role"]["key"] == "signer"
    assert bob.api.get("/me").json()["enterprises"][0]["role"] == "signer"


def test_role_change_is_audited(acme, alice, bob_member):
    patch(alice, acme, bob_member, {"role_id": role_id(acme, "approver")})
    event = AuditEvent.objects.filter(action="member.updated").get()
    assert event.object_id == bob_member
    assert event.actor_id == alice.user.id
    assert event.acting_as == acme.id
    assert event.data == {"role": "approver"}


def test_unknown_role(acme, alice, globex, bob_member):
    response = patch(alice, acme, bob_member, {"role_id": role_id(globex, "signer")})
    assert response.status_code == 400
    assert error_code(response) == "role_invalid"


def test_disable_member(acme, alice, bob, bob_member):
    response = patch(alice, acme, bob_member, {"is_active": False})
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert bob.api.get(f"/enterprises/{acme.id}").status_code == 404
    assert bob.api.get("/me").json()["enterprises"] == []
    event = AuditEvent.objects.filter(action="member.updated").get()
    assert event.data == {"is_active": False}


def test_enable_member(acme, alice, bob, bob_member):
    patch(alice, acme, bob_member, {"is_active": False})
    response = patch(alice, acme, bob_member, {"is_active": True})
    assert response.status_code == 200
    assert response.json()["is_active"] is True
    assert bob.api.get(f"/enterprises/{acme.id}").status_code == 200


def test_non_admin_cannot_change_members(acme, alice, bob, bob_member):
    response = patch(bob, acme, bob_member, {"role_id": role_id(acme, "admin")})
    assert response.status_code == 403
    assert error_code(response) == "permission_denied"
    assert Membership.objects.get(pk=bob_member).role.key == "member"


def test_main_admin_cannot_be_changed(acme, alice):
    response = patch(alice, acme, main_admin_member(acme), {"role_id": role_id(acme, "member")})
    assert response.status_code == 409
    assert error_code(response) == "main_admin_protected"
    assert Membership.objects.get(pk=main_admin_member(acme)).role.key == "admin"


def test_main_admin_cannot_be_disabled(acme, alice):
    response = patch(alice, acme, main_admin_member(acme), {"is_active": False})
    assert response.status_code == 409
    assert error_code(response) == "main_admin_protected"


def test_main_admin_cannot_be_removed(acme, alice):
    response = remove(alice, acme, main_admin_member(acme))
    assert response.status_code == 409
    assert error_code(response) == "main_admin_protected"
    assert Membership.objects.filter(enterprise=acme, user=alice.user).exists()


def test_remove_member(acme, alice, bob, bob_member):
    response = remove(alice, acme, bob_member)
    assert response.status_code == 204
    assert bob.user.id not in members(alice, acme)
    assert bob.api.get(f"/enterprises/{acme.id}").status_code == 404
    event = AuditEvent.objects.get(action="member.removed")
    assert event.object_id == bob_member
    assert event.data == {"user": bob.user.id}


def test_remove_unknown_member(acme, alice):
    response = remove(alice, acme, "01UNKNOWNMEMBER00000000000")
    assert response.status_code == 404
    assert error_code(response) == "not_found"


# -- roles ----------------------------------------------------------------------------------------


def create_role(person, enterprise, name="Contract clerk", permissions=None):
    return person.api.post(
        f"/enterprises/{enterprise.id}/roles",
        {"name": name, "permissions": permissions or ["view_contracts", "send_contracts"]},
    )


def test_create_custom_role(acme, alice):
    response = create_role(alice, acme)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "Contract clerk"
    assert body["builtin"] is False
    assert body["permissions"] == ["send_contracts", "view_contracts"]
    assert body["key"].startswith("custom-")
    assert len(alice.api.get(f"/enterprises/{acme.id}/roles").json()) == 6
    assert AuditEvent.objects.get(action="role.created").object_id == body["id"]


def test_custom_role_key_fits_its_column(acme, alice):
    key = create_role(alice, acme).json()["key"]
    assert len(key) <= Role._meta.get_field("key").max_length


def test_duplicate_role_name(acme, alice):
    create_role(alice, acme)
    response = create_role(alice, acme, permissions=["approve"])
    assert response.status_code == 409
    assert error_code(response) == "role_exists"
    assert Role.objects.filter(enterprise=acme, builtin=False).count() == 1


def test_same_role_name_in_another_enterprise(acme, alice, globex, bob):
    create_role(alice, acme)
    assert create_role(bob, globex).status_code == 201


def test_unknown_permission(acme, alice):
    response = create_role(alice, acme, permissions=["view_contracts", "launch_rockets"])
    assert response.status_code == 400
    assert error_code(response) == "permissions_invalid"
    assert response.json()["error"]["fields"]["permissions"] == "launch_rockets"
    assert not Role.objects.filter(enterprise=acme, builtin=False).exists()


def test_role_without_permissions(acme, alice):
    response = alice.api.post(f"/enterprises/{acme.id}/roles", {"name": "Empty", "permissions": []})
    assert response.status_code == 400
    assert error_code(response) == "permissions_invalid"


def test_non_admin_cannot_create_role(acme, bob, bob_member):
    response = create_role(bob, acme)
    assert response.status_code == 403
    assert error_code(response) == "permission_denied"


def test_custom_role_grants_its_permissions(acme, alice, bob, bob_member):
    custom = create_role(alice, acme, name="Approver only", permissions=["approve"]).json()
    patch(alice, acme, bob_member, {"role_id": custom["id"]})
    assert bob.api.get(f"/enterprises/{acme.id}").status_code == 200  # any member may look
    response = bob.api.get(f"/enterprises/{acme.id}/join-requests")
    assert response.status_code == 403
    assert error_code(response) == "permission_denied"


def test_delete_role_in_use(acme, alice, bob_member):
    custom = create_role(alice, acme).json()
    patch(alice, acme, bob_member, {"role_id": custom["id"]})
    response = alice.api.delete(f"/enterprises/{acme.id}/roles/{custom['id']}")
    assert response.status_code == 409
    assert error_code(response) == "role_in_use"
    assert Role.objects.filter(pk=custom["id"]).exists()


def test_delete_builtin_role(acme, alice):
    response = alice.api.delete(f"/enterprises/{acme.id}/roles/{role_id(acme, 'signer')}")
    assert response.status_code == 409
    assert error_code(response) == "role_in_use"


def test_delete_unused_role(acme, alice):
    custom = create_role(alice, acme).json()
    response = alice.api.delete(f"/enterprises/{acme.id}/roles/{custom['id']}")
    assert response.status_code == 204
    assert not Role.objects.filter(pk=custom["id"]).exists()
    assert AuditEvent.objects.get(action="role.deleted").data == {"name": "Contract clerk"}


def test_delete_unknown_role(acme, alice):
    response = alice.api.delete(f"/enterprises/{acme.id}/roles/01UNKNOWNROLE0000000000000")
    assert response.status_code == 404


# -- main administrator hand-over -----------------------------------------------------------------


def hand_over(person, enterprise, member_id: str):
    return person.api.post(f"/enterprises/{enterprise.id}/main-admin", {"member_id": member_id})


def test_hand_over_main_admin(acme, alice, bob, bob_member):
    response = hand_over(alice, acme, bob_member)
    assert response.status_code == 200, response.content
    assert response.json()["main_admin_id"] == bob.user.id
    listed = members(alice, acme)
    assert listed[bob.user.id]["is_main_admin"] is True
    assert listed[bob.user.id]["role"]["key"] == "admin"
    assert listed[alice.user.id]["is_main_admin"] is False
    event = AuditEvent.objects.get(action="enterprise.main_admin_handed_over")
    assert event.data == {"to": bob.user.id}


def test_old_main_admin_cannot_hand_over_again(acme, alice, bob, bob_member):
    hand_over(alice, acme, bob_member)
    response = hand_over(alice, acme, main_admin_member(acme))
    assert response.status_code == 403
    assert error_code(response) == "main_admin_only"


def test_new_main_admin_is_protected(acme, alice, bob, bob_member):
    hand_over(alice, acme, bob_member)
    response = patch(alice, acme, bob_member, {"is_active": False})
    assert response.status_code == 409
    assert error_code(response) == "main_admin_protected"


def test_old_main_admin_loses_protection(acme, alice, bob, bob_member):
    hand_over(alice, acme, bob_member)
    alice_member = Membership.objects.get(enterprise=acme, user=alice.user).id
    response = patch(bob, acme, alice_member, {"role_id": role_id(acme, "member")})
    assert response.status_code == 200
    assert response.json()["role"]["key"] == "member"


def test_successor_must_be_real_name_verified(acme, alice, dave):
    member = Membership.objects.create(
        enterprise=acme, user=dave.user, role=Role.objects.get(enterprise=acme, key="member")
    )
    response = hand_over(alice, acme, member.id)
    assert response.status_code == 409
    assert error_code(response) == "real_name_required"
    acme.refresh_from_db()
    assert acme.main_admin_id == alice.user.id


def test_successor_must_be_active(acme, alice, bob_member):
    patch(alice, acme, bob_member, {"is_active": False})
    response = hand_over(alice, acme, bob_member)
    assert response.status_code == 400
    assert error_code(response) == "successor_invalid"


def test_cannot_hand_over_to_oneself(acme, alice):
    response = hand_over(alice, acme, main_admin_member(acme))
    assert response.status_code == 400
    assert error_code(response) == "successor_invalid"


def test_other_admin_cannot_hand_over(acme, alice, bob, bob_member, dave):
    patch(alice, acme, bob_member, {"role_id": role_id(acme, "admin")})
    dave_member = join(dave, acme, alice, 4)
    response = hand_over(bob, acme, dave_member)
    assert response.status_code == 403
    assert error_code(response) == "main_admin_only"


# -- one-click transfer ---------------------------------------------------------------------------


@pytest.fixture
def folders():
    """A fake transferable kind: membership id -> folder ids it owns."""
    store: dict[str, list[str]] = {}

    def count(member: Membership) -> int:
        return len(store.get(member.id, []))

    def move(source: Membership, target: Membership, actor_id: str) -> list[str]:
        moved = store.pop(source.id, [])
        store.setdefault(target.id, []).extend(moved)
        return moved

    transfer.register(transfer.Transferable(kind=KIND, count=count, move=move))
    yield store
    transfer.unregister(KIND)


def test_member_owning_items_cannot_be_removed(acme, alice, bob_member, folders):
    folders[bob_member] = ["folder-1", "folder-2"]
    response = remove(alice, acme, bob_member)
    assert response.status_code == 409
    assert error_code(response) == "member_owns_items"
    assert response.json()["error"]["fields"] == {"items": {KIND: 2}}
    assert Membership.objects.filter(pk=bob_member).exists()


def test_member_without_items_is_removable_with_kind_registered(acme, alice, bob_member, folders):
    assert remove(alice, acme, bob_member).status_code == 204


def test_transfer_moves_items(acme, alice, bob_member, folders):
    folders[bob_member] = ["folder-1", "folder-2"]
    target = main_admin_member(acme)
    response = alice.api.post(
        f"/enterprises/{acme.id}/members/{bob_member}/transfer", {"to_member_id": target}
    )
    assert response.status_code == 200, response.content
    assert response.json() == {KIND: ["folder-1", "folder-2"]}
    assert folders == {target: ["folder-1", "folder-2"]}


def test_transfer_is_audited(acme, alice, bob_member, folders):
    folders[bob_member] = ["folder-1"]
    target = main_admin_member(acme)
    alice.api.post(
        f"/enterprises/{acme.id}/members/{bob_member}/transfer", {"to_member_id": target}
    )
    event = AuditEvent.objects.get(action="member.transferred")
    assert event.object_id == bob_member
    assert event.data == {"to": target, "targets": {}, "counts": {KIND: 1}}


def test_remove_after_transfer(acme, alice, bob, bob_member, folders):
    folders[bob_member] = ["folder-1", "folder-2"]
    alice.api.post(
        f"/enterprises/{acme.id}/members/{bob_member}/transfer",
        {"to_member_id": main_admin_member(acme)},
    )
    response = remove(alice, acme, bob_member)
    assert response.status_code == 204
    assert bob.user.id not in members(alice, acme)


def test_transfer_to_oneself_refused(acme, alice, bob_member, folders):
    folders[bob_member] = ["folder-1"]
    response = alice.api.post(
        f"/enterprises/{acme.id}/members/{bob_member}/transfer", {"to_member_id": bob_member}
    )
    assert response.status_code == 400
    assert error_code(response) == "transfer_target_invalid"
    assert folders == {bob_member: ["folder-1"]}


def test_transfer_to_disabled_member_refused(acme, alice, bob_member, dave, folders):
    dave_member = join(dave, acme, alice, 4)
    patch(alice, acme, dave_member, {"is_active": False})
    folders[bob_member] = ["folder-1"]
    response = alice.api.post(
        f"/enterprises/{acme.id}/members/{bob_member}/transfer", {"to_member_id": dave_member}
    )
    assert response.status_code == 400
    assert error_code(response) == "transfer_target_invalid"


def test_transfer_by_non_admin_refused(acme, alice, bob, bob_member, folders):
    folders[bob_member] = ["folder-1"]
    response = bob.api.post(
        f"/enterprises/{acme.id}/members/{bob_member}/transfer",
        {"to_member_id": main_admin_member(acme)},
    )
    assert response.status_code == 403
    assert error_code(response) == "permission_denied"
    assert folders == {bob_member: ["folder-1"]}


def test_each_moved_item_gets_its_own_audit_event(acme, alice, bob, bob_member, folders):
    folders[bob_member] = ["folder-1", "folder-2"]
    target = main_admin_member(acme)
    alice.api.post(
        f"/enterprises/{acme.id}/members/{bob_member}/transfer", {"to_member_id": target}
    )
    events = AuditEvent.objects.filter(action="item.transferred").order_by("seq")
    assert [(e.object_type, e.object_id) for e in events] == [
        (KIND, "folder-1"),
        (KIND, "folder-2"),
    ]
    assert events[0].data == {"from": bob.user.id, "to": alice.user.id}
    assert events[0].acting_as == acme.id


# -- no escalation ------------------------------------------------------------------------------


@pytest.fixture
def bob_member_manager(acme, alice, bob, bob_member) -> str:
    """bob holds a custom role that may manage members and nothing else."""
    managers = create_role(alice, acme, name="Member desk", permissions=["manage_members"])
    patch(alice, acme, bob_member, {"role_id": managers.json()["id"]})
    return bob_member


def test_nobody_changes_their_own_role(acme, bob, bob_member_manager):
    response = patch(bob, acme, bob_member_manager, {"role_id": role_id(acme, "admin")})
    assert response.status_code == 403
    assert error_code(response) == "cannot_change_self"


def test_cannot_grant_permissions_one_lacks(acme, bob, bob_member_manager):
    created = create_role(bob, acme, name="All powers", permissions=["manage_members", "approve"])
    assert created.status_code == 403
    assert error_code(created) == "permission_above_yours"
    invited = bob.api.post(
        f"/enterprises/{acme.id}/invitations",
        {"account": "13800000091", "role_id": role_id(acme, "admin")},
    )
    assert error_code(invited) == "permission_above_yours"
    allowed = create_role(bob, acme, name="Desk two", permissions=["manage_members"])
    assert allowed.status_code == 201


def test_role_given_to_an_invitation_cannot_be_deleted(acme, alice):
    custom = create_role(alice, acme, name="Invitee role").json()
    alice.api.post(
        f"/enterprises/{acme.id}/invitations", {"account": "13800000092", "role_id": custom["id"]}
    )
    response = alice.api.delete(f"/enterprises/{acme.id}/roles/{custom['id']}")
    assert response.status_code == 409
    assert error_code(response) == "role_in_use"
