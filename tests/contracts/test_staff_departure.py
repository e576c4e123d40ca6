"""Staff departure (issue 16 point 4, SPEC B5): a member who leaves hands over her contracts,
signing turns, templates and bulk sends; once removed she reaches none of the enterprise's
contracts, and an administrator revokes and reminds any contract of the enterprise."""

from __future__ import annotations

import pytest

from portsign.common.models import AuditEvent
from portsign.contracts.models import Contract, Party
from portsign.contracts.template_models import Template
from tests.contracts.conftest import create_draft
from tests.contracts.template_helpers import make_template
from tests.helpers import error_code, make_person, verify_person
from tests.seals.conftest import add_member


@pytest.fixture
def dave(acme):
    """A signer of Acme who sends contracts for it."""
    person = verify_person(make_person("+8613800000004", "Dave Test"), 4)
    add_member(acme, person, "signer")
    return person


def _sent(sender, acme, globex) -> str:
    contract = create_draft(sender, acting_as=acme.id)
    sender.api.post(
        f"/contracts/{contract['id']}/parties",
        {"kind": "enterprise", "account": "13800000002", "enterprise_name": globex.name},
    )
    assert sender.api.post(f"/contracts/{contract['id']}/send").status_code == 200
    return contract["id"]


def _member_id(enterprise, person) -> str:
    return enterprise.memberships.get(user=person.user).id


def test_a_member_who_sent_contracts_hands_them_over_before_leaving(alice, acme, globex, dave):
    sent = _sent(dave, acme, globex)
    draft = create_draft(dave, acting_as=acme.id)["id"]
    member = _member_id(acme, dave)
    refused = alice.api.delete(f"/enterprises/{acme.id}/members/{member}")
    assert (refused.status_code, error_code(refused)) == (409, "member_owns_items")
    assert refused.json()["error"]["fields"]["items"] == {"contract": 2}
    to = _member_id(acme, alice)
    moved = alice.api.post(
        f"/enterprises/{acme.id}/members/{member}/transfer", {"to_member_id": to}
    )
    assert moved.status_code == 200, moved.content
    assert sorted(moved.json()["contract"]) == sorted([sent, draft])
    assert set(Contract.objects.filter(pk__in=[sent, draft]).values_list("sender", flat=True)) == {
        alice.user.id
    }
    events = AuditEvent.objects.filter(action="item.transferred", object_type="contract")
    assert sorted(events.values_list("object_id", flat=True)) == sorted([sent, draft])
    assert alice.api.delete(f"/enterprises/{acme.id}/members/{member}").status_code == 204


def test_a_removed_member_reaches_none_of_the_contracts_and_the_admin_revokes(
    alice, acme, globex, dave
):
    sent = _sent(dave, acme, globex)
    # Reproduced first: a member removed (here: disabled, as a removal after transfer leaves
    # her contracts with the successor) still opened and revoked what she had sent.
    member = acme.memberships.get(user=dave.user)
    member.is_active = False
    member.save(update_fields=["is_active"])
    assert dave.api.get(f"/contracts/{sent}").status_code == 404
    assert dave.api.post(f"/contracts/{sent}/revoke", {"reason": "离职"}).status_code == 404
    assert dave.api.post(f"/contracts/{sent}/remind").status_code == 404
    # The administrator reminds and revokes any contract of the enterprise.
    assert alice.api.post(f"/contracts/{sent}/remind").json() == {"count": 1}
    revoked = alice.api.post(f"/contracts/{sent}/revoke", {"reason": "经办人离职"})
    assert revoked.status_code == 200, revoked.content
    assert revoked.json()["status"] == "revoked"


def test_a_plain_member_may_not_revoke_a_colleagues_contract(alice, acme, globex, dave):
    sent = _sent(dave, acme, globex)
    erin = verify_person(make_person("+8613800000005", "Erin Test"), 5)
    add_member(acme, erin, "signer")
    refused = erin.api.post(f"/contracts/{sent}/revoke", {"reason": "试试"})
    assert (refused.status_code, error_code(refused)) == (403, "not_sender")


def test_signing_turns_and_templates_go_to_the_successor(alice, acme, globex, dave, bob):
    # Globex asks Dave to sign for Acme; Dave made a template of Acme's.
    contract = create_draft(bob, acting_as=globex.id)
    bob.api.post(
        f"/contracts/{contract['id']}/parties",
        {"kind": "enterprise", "account": dave.user.phone, "enterprise_name": acme.name},
    )
    assert bob.api.post(f"/contracts/{contract['id']}/send").status_code == 200
    party = Party.objects.get(contract_id=contract["id"])
    assert party.user_id == dave.user.id
    template = make_template(dave, acme)
    to = _member_id(acme, alice)
    moved = alice.api.post(
        f"/enterprises/{acme.id}/members/{_member_id(acme, dave)}/transfer", {"to_member_id": to}
    ).json()
    assert moved == {"signing_party": [party.id], "template": [template["id"]]}
    party.refresh_from_db()
    assert (party.user_id, party.account) == (alice.user.id, alice.user.phone)
    assert Template.objects.get(pk=template["id"]).created_by_id == alice.user.id


def test_the_administrator_chooses_who_receives_each_kind(alice, acme, globex, dave):
    sent = _sent(dave, acme, globex)
    template = make_template(dave, acme)
    erin = verify_person(make_person("+8613800000005", "Erin Test"), 5)
    add_member(acme, erin, "signer")
    path = f"/enterprises/{acme.id}/members/{_member_id(acme, dave)}/transfer"
    unknown = alice.api.post(path, {"to_member_id": _member_id(acme, alice), "targets": {"x": "y"}})
    assert (unknown.status_code, error_code(unknown)) == (400, "transfer_kind")
    to_self = alice.api.post(
        path,
        {"to_member_id": _member_id(acme, alice), "targets": {"template": _member_id(acme, dave)}},
    )
    assert (to_self.status_code, error_code(to_self)) == (400, "transfer_target_invalid")
    moved = alice.api.post(
        path,
        {"to_member_id": _member_id(acme, alice), "targets": {"template": _member_id(acme, erin)}},
    )
    assert moved.json() == {"contract": [sent], "template": [template["id"]]}
    assert Contract.objects.get(pk=sent).sender_id == alice.user.id
    assert Template.objects.get(pk=template["id"]).created_by_id == erin.user.id
    event = AuditEvent.objects.get(action="item.transferred", object_id=template["id"])
    assert event.data == {"from": dave.user.id, "to": erin.user.id}


def test_a_custom_role_is_renamed_and_its_permissions_changed(alice, acme, dave):
    made = alice.api.post(
        f"/enterprises/{acme.id}/roles", {"name": "单证员", "permissions": ["view_contracts"]}
    )
    assert made.status_code == 201, made.content
    role = made.json()["id"]
    edited = alice.api.patch(
        f"/enterprises/{acme.id}/roles/{role}",
        {"name": "单证主管", "permissions": ["view_contracts", "send_contracts"]},
    )
    assert edited.status_code == 200, edited.content
    assert (edited.json()["name"], sorted(edited.json()["permissions"])) == (
        "单证主管",
        ["send_contracts", "view_contracts"],
    )
    builtin = acme.roles.get(key="signer").id
    refused = alice.api.patch(f"/enterprises/{acme.id}/roles/{builtin}", {"name": "签署人"})
    assert (refused.status_code, error_code(refused)) == (409, "role_not_editable")
    bad = alice.api.patch(f"/enterprises/{acme.id}/roles/{role}", {"permissions": ["fly"]})
    assert (bad.status_code, error_code(bad)) == (400, "permissions_invalid")
    # A signer may not edit roles; a stranger gets 404.
    assert dave.api.patch(f"/enterprises/{acme.id}/roles/{role}", {"name": "x"}).status_code == 403
    event = AuditEvent.objects.filter(action="role.updated", object_id=role).get()
    assert event.data["name"] == "单证主管"


def test_the_contract_page_offers_the_administrator_remind_and_revoke(alice, acme, globex, dave):
    from django.test import Client

    sent = _sent(dave, acme, globex)
    web = Client()
    web.force_login(alice.user, backend="portsign.accounts.backends.AccountBackend")
    web.post("/console/enterprise/acting/", {"acting_as": acme.id})
    page = web.get(f"/console/contracts/{sent}/").content.decode()
    assert 'data-testid="contract-remind"' in page
    assert 'data-testid="contract-revoke"' in page
    erin = verify_person(make_person("+8613800000005", "Erin Test"), 5)
    add_member(acme, erin, "signer")
    other = Client()
    other.force_login(erin.user, backend="portsign.accounts.backends.AccountBackend")
    other.post("/console/enterprise/acting/", {"acting_as": acme.id})
    page = other.get(f"/console/contracts/{sent}/").content.decode()
    assert 'data-testid="contract-revoke"' not in page
