"""Creating, finding and expiring enterprises through the API (SPEC B1, B3)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from portsign.common.models import AuditEvent
from portsign.enterprises.models import Enterprise, Membership
from tests.helpers import error_code, give_materials, outbox, synthetic_uscc, verify_person

BUILTIN_KEYS = ["admin", "approver", "member", "seal_manager", "signer"]


def create(person, uscc: str, name: str = "Test Shipping Agency Co., Ltd."):
    return person.api.post(
        "/enterprises", {"name": name, "uscc": uscc, "legal_rep_name": "Legal Rep"}
    )


@pytest.fixture
def verified_alice(alice):
    return verify_person(alice, 1)


@pytest.fixture
def draft(verified_alice):
    """An unverified enterprise of alice, created through the API."""
    response = create(verified_alice, synthetic_uscc(40))
    assert response.status_code == 201, response.content
    return response.json()


# -- create ---------------------------------------------------------------------------------------


def test_create_requires_real_name(alice):
    response = create(alice, synthetic_uscc(40))
    assert response.status_code == 409
    assert error_code(response) == "real_name_required"
    assert not Enterprise.objects.exists()


def test_create_requires_sign_in(api):
    response = api.post(
        "/enterprises", {"name": "Nobody Co", "uscc": synthetic_uscc(40), "legal_rep_name": "Rep"}
    )
    assert response.status_code == 401


def test_create_returns_unverified(verified_alice, draft):
    assert draft["status"] == "unverified"
    assert draft["name"] == "Test Shipping Agency Co., Ltd."
    assert draft["uscc"] == synthetic_uscc(40)
    assert draft["legal_rep_name"] == "Legal Rep"
    assert draft["main_admin_id"] == verified_alice.user.id
    assert draft["verified_at"] is None
    assert draft["verification_method"] == ""
    assert draft["materials_deadline"]


def test_creator_is_main_admin_with_admin_role(verified_alice, draft):
    members = verified_alice.api.get(f"/enterprises/{draft['id']}/members").json()
    assert len(members) == 1
    assert members[0]["user_id"] == verified_alice.user.id
    assert members[0]["role"]["key"] == "admin"
    assert members[0]["is_main_admin"] is True
    assert members[0]["is_active"] is True


def test_builtin_roles_exist(verified_alice, draft):
    response = verified_alice.api.get(f"/enterprises/{draft['id']}/roles")
    assert response.status_code == 200
    roles = response.json()
    assert len(roles) == 5
    assert sorted(r["key"] for r in roles) == BUILTIN_KEYS
    assert all(r["builtin"] for r in roles)


def test_admin_role_has_every_permission(verified_alice, draft):
    roles = verified_alice.api.get(f"/enterprises/{draft['id']}/roles").json()
    by_key = {r["key"]: r for r in roles}
    assert sorted(by_key["admin"]["permissions"]) == sorted(
        [
            "manage_members",
            "manage_enterprise",
            "manage_seals",
            "use_seals",
            "send_contracts",
            "approve",
            "view_contracts",
        ]
    )
    assert by_key["member"]["permissions"] == ["view_contracts"]


def test_create_is_audited(verified_alice, draft):
    event = AuditEvent.objects.get(action="enterprise.created")
    assert event.object_id == draft["id"]
    assert event.actor_id == verified_alice.user.id
    assert event.data == {"name": draft["name"], "uscc": draft["uscc"]}


def test_detail(verified_alice, draft):
    response = verified_alice.api.get(f"/enterprises/{draft['id']}")
    assert response.status_code == 200
    assert response.json()["id"] == draft["id"]
    assert response.json()["status"] == "unverified"


def test_name_too_short(verified_alice):
    response = create(verified_alice, synthetic_uscc(40), name="X")
    assert response.status_code == 400
    assert error_code(response) == "name_invalid"


# -- credit codes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "uscc",
    ["91310000717860235R", "91110108551385082Q", "91340600MA2PBM9HXD", "531000005000160090"],
)
def test_valid_uscc_accepted(verified_alice, uscc):
    response = create(verified_alice, uscc)
    assert response.status_code == 201, response.content
    assert response.json()["uscc"] == uscc


def test_uscc_is_normalized(verified_alice):
    response = create(verified_alice, " 91340600ma2pbm9hxd ")
    assert response.status_code == 201
    assert response.json()["uscc"] == "91340600MA2PBM9HXD"


@pytest.mark.parametrize(
    ("uscc", "code"),
    [
        ("91110108551385082F", "uscc_checksum"),
        ("123456789012345678", "uscc_org_code"),
        ("9111000060003IOZSV", "uscc_character"),
        ("9111010855138508", "uscc_length"),
    ],
)
def test_invalid_uscc_refused(verified_alice, uscc, code):
    response = create(verified_alice, uscc)
    assert response.status_code == 400
    assert error_code(response) == code
    assert "uscc" in response.json()["error"]["fields"]
    assert not Enterprise.objects.exists()


def test_verified_uscc_cannot_be_created_again(acme, alice):
    response = create(alice, acme.uscc)
    assert response.status_code == 409
    assert error_code(response) == "uscc_already_verified"
    assert Enterprise.objects.filter(uscc=acme.uscc).count() == 1


def test_verified_uscc_refused_for_someone_else(acme, bob):
    verify_person(bob, 2)
    response = create(bob, acme.uscc)
    assert response.status_code == 409
    assert error_code(response) == "uscc_already_verified"


def test_unverified_uscc_may_be_created_twice(verified_alice, draft, bob):
    verify_person(bob, 2)
    assert create(bob, draft["uscc"]).status_code == 201


def test_second_verification_of_same_uscc_refused(verified_alice, bob):
    verify_person(bob, 2)
    first = create(verified_alice, synthetic_uscc(41)).json()
    second = create(bob, synthetic_uscc(41)).json()
    give_materials(verified_alice, Enterprise.objects.get(pk=first["id"]), 41)
    give_materials(bob, Enterprise.objects.get(pk=second["id"]), 42)
    bank = {"method": "micro_deposit", "bank_name": "Test Bank Branch"}
    verified_alice.api.post(
        f"/enterprises/{first['id']}/verification", {**bank, "bank_account": "6222000000410001"}
    )
    bob.api.post(
        f"/enterprises/{second['id']}/verification", {**bank, "bank_account": "6222000000410002"}
    )
    amount_1 = outbox("6222000000410001")[-1].data["amount"]
    amount_2 = outbox("6222000000410002")[-1].data["amount"]
    ok = verified_alice.api.post(
        f"/enterprises/{first['id']}/verification/confirm", {"amount": amount_1}
    )
    assert ok.status_code == 200
    refused = bob.api.post(
        f"/enterprises/{second['id']}/verification/confirm", {"amount": amount_2}
    )
    assert refused.status_code == 409
    assert error_code(refused) == "uscc_already_verified"
    assert Enterprise.objects.get(pk=second["id"]).status == "verifying"


# -- search ---------------------------------------------------------------------------------------


def test_search_by_name_fragment(acme, bob):
    response = bob.api.get("/enterprises/search?q=port%20logi")
    assert response.status_code == 200
    assert response.json() == [{"id": acme.id, "name": acme.name, "uscc": acme.uscc}]


def test_search_by_exact_uscc(acme, bob):
    response = bob.api.get(f"/enterprises/search?q={acme.uscc}")
    assert [e["id"] for e in response.json()] == [acme.id]


def test_search_by_lowercase_uscc(acme, bob):
    response = bob.api.get(f"/enterprises/search?q={acme.uscc.lower()}")
    assert [e["id"] for e in response.json()] == [acme.id]


def test_search_skips_unverified(verified_alice, draft, bob):
    assert bob.api.get("/enterprises/search?q=Shipping").json() == []
    assert bob.api.get(f"/enterprises/search?q={draft['uscc']}").json() == []


def test_search_short_query_finds_nothing(acme, bob):
    assert bob.api.get("/enterprises/search?q=A").json() == []


# -- expiry ---------------------------------------------------------------------------------------


def lapse(enterprise_id: str) -> None:
    Enterprise.objects.filter(pk=enterprise_id).update(
        materials_deadline=timezone.now() - timedelta(minutes=1)
    )


def test_start_verification_after_deadline_expires(verified_alice, draft):
    lapse(draft["id"])
    response = verified_alice.api.post(
        f"/enterprises/{draft['id']}/verification",
        {"method": "micro_deposit", "bank_name": "Test Bank Branch", "bank_account": "62220040001"},
    )
    assert response.status_code == 409
    assert error_code(response) == "enterprise_expired"
    assert Enterprise.objects.get(pk=draft["id"]).status == "expired"
    assert outbox("62220040001") == []


def test_expired_detail_shows_expired(verified_alice, draft):
    lapse(draft["id"])
    verified_alice.api.post(
        f"/enterprises/{draft['id']}/verification",
        {"method": "micro_deposit", "bank_name": "Test Bank Branch", "bank_account": "62220040001"},
    )
    assert verified_alice.api.get(f"/enterprises/{draft['id']}").json()["status"] == "expired"
    event = AuditEvent.objects.filter(action="enterprise.status_changed").last()
    assert event.data == {"from": "unverified", "to": "expired"}


def test_expired_enterprise_stays_expired(verified_alice, draft):
    lapse(draft["id"])
    body = {"method": "micro_deposit", "bank_name": "Test Bank Branch", "bank_account": "622200401"}
    verified_alice.api.post(f"/enterprises/{draft['id']}/verification", body)
    Enterprise.objects.filter(pk=draft["id"]).update(
        materials_deadline=timezone.now() + timedelta(days=1)
    )
    response = verified_alice.api.post(f"/enterprises/{draft['id']}/verification", body)
    assert response.status_code == 409
    assert error_code(response) == "enterprise_expired"


def test_verified_enterprise_does_not_lapse(acme, alice):
    lapse(acme.id)
    response = alice.api.get(f"/enterprises/{acme.id}/verification")
    assert response.status_code == 200
    assert Enterprise.objects.get(pk=acme.id).status == "verified"


# -- /me ------------------------------------------------------------------------------------------


def test_me_lists_enterprises_with_role(acme, alice):
    enterprises = alice.api.get("/me").json()["enterprises"]
    assert len(enterprises) == 1
    entry = enterprises[0]
    assert entry["id"] == acme.id
    assert entry["name"] == acme.name
    assert entry["status"] == "verified"
    assert entry["role"] == "admin"
    assert entry["is_main_admin"] is True


def test_me_lists_several_enterprises(acme, alice, draft):
    ids = [e["id"] for e in alice.api.get("/me").json()["enterprises"]]
    assert ids == [acme.id, draft["id"]]


def test_me_hides_expired_enterprise(verified_alice, draft):
    lapse(draft["id"])
    verified_alice.api.post(
        f"/enterprises/{draft['id']}/verification",
        {"method": "micro_deposit", "bank_name": "Test Bank Branch", "bank_account": "62220040001"},
    )
    assert verified_alice.api.get("/me").json()["enterprises"] == []


def test_me_without_enterprises(bob):
    assert bob.api.get("/me").json()["enterprises"] == []
    assert not Membership.objects.filter(user=bob.user).exists()
