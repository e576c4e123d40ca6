"""Departments inside an enterprise (issue 16 point 9): CRUD, nesting without cycles, members,
permissions, isolation, audit, and a removed member leaving its departments."""

from __future__ import annotations

import pytest

from portsign.common.models import AuditEvent
from portsign.enterprises.models import Department, Membership, Role
from tests.helpers import Api, assert_isolated, error_code, make_person


def add_member(enterprise, person, role_key: str) -> Membership:
    role = Role.objects.get(enterprise=enterprise, key=role_key)
    return Membership.objects.create(enterprise=enterprise, user=person.user, role=role)


def create(person, enterprise, name: str, parent_id: str | None = None):
    body = {"name": name} if parent_id is None else {"name": name, "parent_id": parent_id}
    return person.api.post(f"/enterprises/{enterprise.id}/departments", body)


def made(person, enterprise, name: str, parent_id: str | None = None) -> str:
    response = create(person, enterprise, name, parent_id)
    assert response.status_code == 201, response.content
    return response.json()["id"]


def path(enterprise, department_id: str, member_id: str = "") -> str:
    base = f"/enterprises/{enterprise.id}/departments/{department_id}"
    return f"{base}/members/{member_id}" if member_id else base


def listed(person, enterprise) -> list[dict]:
    response = person.api.get(f"/enterprises/{enterprise.id}/departments")
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def dave():
    return make_person("+8613800000004", "Dave Test")


# -- create, list, rename, move, delete ----------------------------------------------------------


def test_create_list_rename_and_delete(alice, acme):
    created = create(alice, acme, "  操作部 ")
    assert created.status_code == 201, created.content
    body = created.json()
    assert set(body) == {
        "id",
        "name",
        "parent_id",
        "member_count",
        "members",
        "seals",
        "created_at",
    }
    assert (body["name"], body["parent_id"], body["member_count"]) == ("操作部", None, 0)
    assert (body["members"], body["seals"]) == ([], [])
    dept = body["id"]
    made(alice, acme, "财务部")
    assert [d["name"] for d in listed(alice, acme)] == ["操作部", "财务部"]

    renamed = alice.api.patch(path(acme, dept), {"name": "码头操作部"})
    assert renamed.status_code == 200, renamed.content
    assert renamed.json()["name"] == "码头操作部"
    assert Department.objects.get(pk=dept).name == "码头操作部"

    deleted = alice.api.delete(path(acme, dept))
    assert deleted.status_code == 204
    assert Department.objects.get(pk=dept).deleted_at is not None
    assert [d["name"] for d in listed(alice, acme)] == ["财务部"]
    assert alice.api.patch(path(acme, dept), {"name": "x"}).status_code == 404
    assert alice.api.delete(path(acme, dept)).status_code == 404
    # A deleted department's name is free again.
    assert create(alice, acme, "码头操作部").status_code == 201

    actions = list(
        AuditEvent.objects.filter(object_type="department", object_id=dept)
        .order_by("seq")
        .values_list("action", "acting_as", "actor_id")
    )
    assert actions == [
        ("department.created", acme.id, alice.user.id),
        ("department.updated", acme.id, alice.user.id),
        ("department.deleted", acme.id, alice.user.id),
    ]
    assert AuditEvent.objects.get(action="department.updated", object_id=dept).data == {
        "name": "码头操作部"
    }


def test_names_are_unique_among_live_departments_and_checked(alice, acme):
    made(alice, acme, "操作部")
    en = Api(alice.token, language="en")
    taken = en.post(f"/enterprises/{acme.id}/departments", {"name": "操作部"})
    assert taken.status_code == 409
    assert error_code(taken) == "department_exists"
    assert taken.json()["error"]["message"] == "A department with this name exists."
    assert taken.json()["error"]["fields"] == {"name": "Taken."}
    empty = en.post(f"/enterprises/{acme.id}/departments", {"name": "   "})
    assert empty.status_code == 400
    assert error_code(empty) == "department_name_invalid"
    assert empty.json()["error"]["message"] == "A department name has 1 to 50 characters."
    too_long = en.post(f"/enterprises/{acme.id}/departments", {"name": "部" * 51})
    assert error_code(too_long) == "department_name_invalid"
    other = made(alice, acme, "财务部")
    clash = en.patch(path(acme, other), {"name": "操作部"})
    assert clash.status_code == 409
    assert error_code(clash) == "department_exists"
    assert Department.objects.get(pk=other).name == "财务部"


def test_sub_departments_move_without_cycles(alice, acme):
    ops = made(alice, acme, "操作部")
    yard = made(alice, acme, "堆场组", parent_id=ops)
    gate = made(alice, acme, "闸口班", parent_id=yard)
    assert {d["name"]: d["parent_id"] for d in listed(alice, acme)} == {
        "操作部": None,
        "堆场组": ops,
        "闸口班": yard,
    }
    en = Api(alice.token, language="en")
    for parent in (ops, gate):  # under itself, under its own grandchild
        response = en.patch(path(acme, ops), {"parent_id": parent})
        assert response.status_code == 400, response.content
        assert error_code(response) == "department_cycle"
        assert response.json()["error"]["message"] == (
            "A department cannot sit inside itself or one of its sub-departments."
        )
    assert Department.objects.get(pk=ops).parent_id is None
    # Move the gate team to the top level, then under the operations department again.
    top = alice.api.patch(path(acme, gate), {"parent_id": ""})
    assert top.status_code == 200, top.content
    assert top.json()["parent_id"] is None
    back = alice.api.patch(path(acme, gate), {"parent_id": ops})
    assert back.json()["parent_id"] == ops
    # An unknown parent is bad input.
    unknown = en.post(f"/enterprises/{acme.id}/departments", {"name": "x", "parent_id": "nope"})
    assert unknown.status_code == 400
    assert error_code(unknown) == "department_parent_invalid"
    # A department with live sub-departments is not deleted.
    refused = en.delete(path(acme, ops))
    assert refused.status_code == 409
    assert error_code(refused) == "department_has_children"
    assert refused.json()["error"]["message"] == (
        "Move or delete this department's sub-departments first."
    )
    assert alice.api.delete(path(acme, gate)).status_code == 204
    assert alice.api.delete(path(acme, yard)).status_code == 204
    assert alice.api.delete(path(acme, ops)).status_code == 204


def test_another_enterprises_department_cannot_be_a_parent(alice, bob, acme, globex):
    theirs = made(bob, globex, "操作部")
    response = create(alice, acme, "堆场组", parent_id=theirs)
    assert response.status_code == 400
    assert error_code(response) == "department_parent_invalid"
    assert Department.objects.filter(enterprise=acme).count() == 0


# -- members ------------------------------------------------------------------------------------


def test_add_and_remove_members(alice, bob, charlie, acme):
    dept = made(alice, acme, "操作部")
    bob_member = add_member(acme, bob, "signer")
    charlie_member = add_member(acme, charlie, "member")
    added = alice.api.request("PUT", path(acme, dept, bob_member.id))
    assert added.status_code == 200, added.content
    assert added.json()["member_count"] == 1
    assert added.json()["members"] == [{"id": bob_member.id, "name": "Bob Test"}]
    again = alice.api.request("PUT", path(acme, dept, bob_member.id))
    assert again.json()["member_count"] == 1
    alice.api.request("PUT", path(acme, dept, charlie_member.id))
    assert listed(alice, acme)[0]["member_count"] == 2
    # Every member sees the departments; only member managers change them.
    assert listed(charlie, acme)[0]["member_count"] == 2

    removed = alice.api.delete(path(acme, dept, bob_member.id))
    assert removed.status_code == 204
    assert listed(alice, acme)[0]["members"] == [{"id": charlie_member.id, "name": "Charlie Test"}]
    assert alice.api.delete(path(acme, dept, bob_member.id)).status_code == 204  # not in it
    assert list(
        AuditEvent.objects.filter(object_type="department", action__startswith="department.member")
        .order_by("seq")
        .values_list("action", "data")
    ) == [
        ("department.member_added", {"member": bob_member.id}),
        ("department.member_added", {"member": charlie_member.id}),
        ("department.member_removed", {"member": bob_member.id}),
    ]


def test_only_members_of_the_same_enterprise_join(alice, bob, acme, globex):
    dept = made(alice, acme, "操作部")
    bob_at_globex = Membership.objects.get(enterprise=globex, user=bob.user)
    response = alice.api.request("PUT", path(acme, dept, bob_at_globex.id))
    assert response.status_code == 404
    assert error_code(response) == "not_found"
    assert alice.api.delete(path(acme, dept, bob_at_globex.id)).status_code == 404
    assert Department.objects.get(pk=dept).members.count() == 0


def test_a_member_removed_from_the_enterprise_leaves_its_departments(alice, bob, acme):
    ops, finance = made(alice, acme, "操作部"), made(alice, acme, "财务部")
    bob_member = add_member(acme, bob, "member")
    for dept in (ops, finance):
        alice.api.request("PUT", path(acme, dept, bob_member.id))
    assert [d["member_count"] for d in listed(alice, acme)] == [1, 1]
    removed = alice.api.delete(f"/enterprises/{acme.id}/members/{bob_member.id}")
    assert removed.status_code == 204, removed.content
    assert [(d["name"], d["member_count"]) for d in listed(alice, acme)] == [
        ("操作部", 0),
        ("财务部", 0),
    ]
    assert Department.members.through.objects.count() == 0


def test_deleting_a_department_empties_it(alice, bob, acme):
    dept = made(alice, acme, "操作部")
    bob_member = add_member(acme, bob, "member")
    alice.api.request("PUT", path(acme, dept, bob_member.id))
    assert alice.api.delete(path(acme, dept)).status_code == 204
    assert list(bob_member.departments.all()) == []
    assert AuditEvent.objects.get(action="department.deleted").data == {
        "name": "操作部",
        "members": [bob_member.id],
    }


# -- permissions and isolation ------------------------------------------------------------------


def test_managing_departments_takes_the_member_management_permission(alice, bob, acme):
    dept = made(alice, acme, "操作部")
    bob_member = add_member(acme, bob, "signer")
    en = Api(bob.token, language="en")
    attempts = [
        en.post(f"/enterprises/{acme.id}/departments", {"name": "财务部"}),
        en.patch(path(acme, dept), {"name": "x"}),
        en.delete(path(acme, dept)),
        en.request("PUT", path(acme, dept, bob_member.id)),
        en.delete(path(acme, dept, bob_member.id)),
    ]
    assert [(r.status_code, error_code(r)) for r in attempts] == [(403, "permission_denied")] * 5
    assert attempts[0].json()["error"]["message"] == (
        f"Your role in {acme.name} does not allow this: Manage members and roles."
    )
    assert listed(bob, acme)[0]["name"] == "操作部"  # but he sees them
    assert Department.objects.filter(enterprise=acme).count() == 1


def test_another_enterprises_departments_are_404(alice, bob, acme, globex):
    dept = made(alice, acme, "操作部")
    bob_own = made(bob, globex, "理货部")
    alice_member = Membership.objects.get(enterprise=acme, user=alice.user)
    assert_isolated(alice, bob, "GET", f"/enterprises/{acme.id}/departments")
    assert_isolated(alice, bob, "PATCH", path(acme, dept), {"name": "操作一部"})
    assert_isolated(alice, bob, "PUT", path(acme, dept, alice_member.id), owner_status=200)
    assert_isolated(alice, bob, "DELETE", path(acme, dept, alice_member.id), owner_status=204)
    assert_isolated(alice, bob, "DELETE", path(acme, dept), owner_status=204)
    refused = bob.api.post(f"/enterprises/{acme.id}/departments", {"name": "x"})
    assert refused.status_code == 404
    # His own enterprise around alice's department: still a 404.
    assert bob.api.patch(path(globex, dept), {"name": "x"}).status_code == 404
    assert bob.api.delete(path(globex, dept)).status_code == 404
    assert bob.api.request("PUT", path(globex, bob_own, alice_member.id)).status_code == 404
    assert Department.objects.get(pk=bob_own).members.count() == 0
    assert Department.objects.get(pk=dept).name == "操作一部"


def test_departments_nest_at_most_ten_levels(alice, acme):
    parent = None
    for level in range(1, 11):
        parent = made(alice, acme, f"第{level}级", parent_id=parent)
    response = Api(alice.token, language="en").post(
        f"/enterprises/{acme.id}/departments", {"name": "第11级", "parent_id": parent}
    )
    assert response.status_code == 400
    assert error_code(response) == "department_too_deep"
    assert response.json()["error"]["message"] == "Departments nest at most 10 levels deep."
    assert Department.objects.filter(enterprise=acme).count() == 10
