"""Tenancy: nothing of acme is reachable by anyone outside acme (SPEC F, API.md 404 rule).

Every enterprise endpoint is tried by charlie (no membership at all) and by bob (main
administrator of globex); both get exactly the 404 of a missing object, while alice, acme's main
administrator, gets the success status for the same request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from portsign.enterprises.models import Enterprise, JoinRequest, Membership, Role
from tests.helpers import (
    Api,
    Person,
    assert_isolated,
    error_code,
    give_materials,
    make_enterprise,
    make_person,
    outbox,
    verify_person,
)

DRAFT_ACCOUNT = "6222000000990001"


@dataclass
class World:
    alice: Person
    acme: Enterprise

    def join(self, account: str, name: str, sequence: int) -> tuple[Person, Membership]:
        """A real-name verified person who joined acme by an approved request."""
        person = verify_person(make_person(account, name), sequence)
        request = self.pending_request(person)
        approved = self.alice.api.post(f"/join-requests/{request}/approve", {})
        assert approved.status_code == 200, approved.content
        return person, Membership.objects.get(enterprise=self.acme, user=person.user)

    def member(self, account: str, name: str, sequence: int) -> Membership:
        return self.join(account, name, sequence)[1]

    def pending_request(self, person: Person) -> str:
        if not person.user.is_real_name_verified:
            verify_person(person, 50)
        response = person.api.post(
            f"/enterprises/{self.acme.id}/join-requests", {"reason": "I work here"}
        )
        assert response.status_code == 201, response.content
        return response.json()["id"]

    def alice_member(self) -> str:
        return Membership.objects.get(enterprise=self.acme, user=self.alice.user).id

    def draft(self) -> Enterprise:
        """An unverified enterprise of alice, its materials uploaded."""
        draft = make_enterprise(self.alice, "Draft Warehousing Co., Ltd.", 9, verified=False)
        return give_materials(self.alice, draft, 9)


Case = Callable[[World], tuple[str, str, Any, int]]


def detail(w: World):
    return "GET", f"/enterprises/{w.acme.id}", None, 200


def members_list(w: World):
    return "GET", f"/enterprises/{w.acme.id}/members", None, 200


def member_patch(w: World):
    dave = w.member("+8613800000004", "Dave Test", 4)
    return "PATCH", f"/enterprises/{w.acme.id}/members/{dave.id}", {"is_active": False}, 200


def member_delete(w: World):
    dave = w.member("+8613800000004", "Dave Test", 4)
    return "DELETE", f"/enterprises/{w.acme.id}/members/{dave.id}", None, 204


def member_transfer(w: World):
    dave = w.member("+8613800000004", "Dave Test", 4)
    path = f"/enterprises/{w.acme.id}/members/{dave.id}/transfer"
    return "POST", path, {"to_member_id": w.alice_member()}, 200


def roles_list(w: World):
    return "GET", f"/enterprises/{w.acme.id}/roles", None, 200


def role_create(w: World):
    body = {"name": "Clerk", "permissions": ["view_contracts"]}
    return "POST", f"/enterprises/{w.acme.id}/roles", body, 201


def role_delete(w: World):
    role = Role.objects.create(
        enterprise=w.acme, key="custom-test", name="Clerk", permissions=["view_contracts"]
    )
    return "DELETE", f"/enterprises/{w.acme.id}/roles/{role.id}", None, 204


def verification_get(w: World):
    return "GET", f"/enterprises/{w.acme.id}/verification", None, 200


def verification_start(w: World):
    draft = w.draft()
    body = {"method": "micro_deposit", "bank_name": "Test Bank", "bank_account": DRAFT_ACCOUNT}
    return "POST", f"/enterprises/{draft.id}/verification", body, 200


def verification_confirm(w: World):
    draft = w.draft()
    w.alice.api.post(
        f"/enterprises/{draft.id}/verification",
        {"method": "micro_deposit", "bank_name": "Test Bank", "bank_account": DRAFT_ACCOUNT},
    )
    amount = outbox(DRAFT_ACCOUNT)[-1].data["amount"]
    return "POST", f"/enterprises/{draft.id}/verification/confirm", {"amount": amount}, 200


def verification_check_payment(w: World):
    draft = w.draft()
    started = w.alice.api.post(
        f"/enterprises/{draft.id}/verification",
        {"method": "reverse_deposit", "bank_name": "Test Bank", "bank_account": DRAFT_ACCOUNT},
    ).json()
    paid = Api().post(
        "/sandbox/bank/transfers",
        {
            "from_account": DRAFT_ACCOUNT,
            "from_name": "Draft Warehousing Co., Ltd.",
            "amount": "0.01",
            "reference": started["reference"],
        },
    )
    assert paid.status_code == 201
    return "POST", f"/enterprises/{draft.id}/verification/check-payment", None, 200


def join_requests_list(w: World):
    return "GET", f"/enterprises/{w.acme.id}/join-requests", None, 200


def join_request_approve(w: World):
    request = w.pending_request(make_person("+8613800000005", "Erin Test"))
    return "POST", f"/join-requests/{request}/approve", {}, 200


def join_request_reject(w: World):
    request = w.pending_request(make_person("+8613800000005", "Erin Test"))
    return "POST", f"/join-requests/{request}/reject", {"reason": "Not known here"}, 200


def main_admin(w: World):
    dave = w.member("+8613800000004", "Dave Test", 4)
    return "POST", f"/enterprises/{w.acme.id}/main-admin", {"member_id": dave.id}, 200


CASES: list[Case] = [
    detail,
    members_list,
    member_patch,
    member_delete,
    member_transfer,
    roles_list,
    role_create,
    role_delete,
    verification_get,
    verification_start,
    verification_confirm,
    verification_check_payment,
    join_requests_list,
    join_request_approve,
    join_request_reject,
    main_admin,
]


@pytest.fixture
def world(alice, acme) -> World:
    return World(alice=alice, acme=acme)


@pytest.fixture(params=["charlie", "bob"])
def intruder(request) -> Person:
    if request.param == "bob":
        request.getfixturevalue("globex")
    return request.getfixturevalue(request.param)


@pytest.mark.parametrize("case", CASES, ids=[c.__name__ for c in CASES])
def test_endpoint_is_isolated(world, intruder, case):
    method, path, body, status = case(world)
    assert_isolated(world.alice, intruder, method, path, body, owner_status=status)


# -- the 404 does not reveal anything -------------------------------------------------------------


def test_foreign_and_missing_enterprise_look_the_same(acme, alice, bob, globex):
    foreign = bob.api.get(f"/enterprises/{acme.id}")
    missing = bob.api.get("/enterprises/01UNKNOWNENTERPRISE0000000")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()


def test_acme_member_id_through_globex_path(acme, alice, bob, globex):
    alice_member = Membership.objects.get(enterprise=acme, user=alice.user).id
    response = bob.api.patch(
        f"/enterprises/{globex.id}/members/{alice_member}", {"is_active": False}
    )
    assert response.status_code == 404
    assert error_code(response) == "not_found"
    assert Membership.objects.get(pk=alice_member).is_active is True


def test_acme_member_removal_through_globex_path(acme, alice, bob, globex):
    alice_member = Membership.objects.get(enterprise=acme, user=alice.user).id
    response = bob.api.delete(f"/enterprises/{globex.id}/members/{alice_member}")
    assert response.status_code == 404
    assert Membership.objects.filter(pk=alice_member).exists()


def test_acme_role_deletion_through_globex_path(acme, alice, bob, globex):
    role = Role.objects.create(
        enterprise=acme, key="custom-test", name="Clerk", permissions=["view_contracts"]
    )
    response = bob.api.delete(f"/enterprises/{globex.id}/roles/{role.id}")
    assert response.status_code == 404
    assert Role.objects.filter(pk=role.id).exists()


def test_acme_role_not_assignable_in_globex(acme, bob, globex, charlie):
    verify_person(charlie, 3)
    request = charlie.api.post(f"/enterprises/{globex.id}/join-requests", {"reason": "Hello"})
    bob.api.post(f"/join-requests/{request.json()['id']}/approve", {})
    member = Membership.objects.get(enterprise=globex, user=charlie.user)
    acme_admin = Role.objects.get(enterprise=acme, key="admin")
    response = bob.api.patch(
        f"/enterprises/{globex.id}/members/{member.id}", {"role_id": acme_admin.id}
    )
    assert response.status_code == 400
    assert error_code(response) == "role_invalid"
    member.refresh_from_db()
    assert member.role.enterprise_id == globex.id


def test_acme_member_not_a_transfer_target_for_globex(acme, alice, bob, globex):
    bob_member = Membership.objects.get(enterprise=globex, user=bob.user).id
    alice_member = Membership.objects.get(enterprise=acme, user=alice.user).id
    response = bob.api.post(
        f"/enterprises/{globex.id}/members/{bob_member}/transfer",
        {"to_member_id": alice_member},
    )
    assert response.status_code == 404


def test_acme_member_not_a_main_admin_successor_for_globex(acme, alice, bob, globex):
    alice_member = Membership.objects.get(enterprise=acme, user=alice.user).id
    response = bob.api.post(f"/enterprises/{globex.id}/main-admin", {"member_id": alice_member})
    assert response.status_code == 404
    globex.refresh_from_db()
    assert globex.main_admin_id == bob.user.id


def test_others_join_requests_are_not_listed(world, bob, globex):
    world.pending_request(make_person("+8613800000005", "Erin Test"))
    assert bob.api.get("/join-requests").json() == []
    assert bob.api.get(f"/enterprises/{globex.id}/join-requests").json() == []


def test_intruder_cannot_withdraw_request(world, bob, globex):
    request = world.pending_request(make_person("+8613800000005", "Erin Test"))
    response = bob.api.post(f"/join-requests/{request}/withdraw")
    assert response.status_code == 404
    assert JoinRequest.objects.get(pk=request).status == "pending"


def test_disabled_member_is_an_outsider(world):
    dave, member = world.join("+8613800000004", "Dave Test", 4)
    world.alice.api.patch(f"/enterprises/{world.acme.id}/members/{member.id}", {"is_active": False})
    response = dave.api.get(f"/enterprises/{world.acme.id}/members")
    assert response.status_code == 404
    assert error_code(response) == "not_found"


def test_removed_member_is_an_outsider(world):
    dave, member = world.join("+8613800000004", "Dave Test", 4)
    world.alice.api.delete(f"/enterprises/{world.acme.id}/members/{member.id}")
    response = dave.api.get(f"/enterprises/{world.acme.id}")
    assert response.status_code == 404
    assert error_code(response) == "not_found"


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("GET", ""), ("GET", "/members"), ("GET", "/roles"), ("GET", "/verification")],
)
def test_anonymous_gets_401(acme, method, suffix):
    response = Api().request(method, f"/enterprises/{acme.id}{suffix}")
    assert response.status_code == 401
    assert error_code(response) == "unauthorized"
