"""Calling the API with an enterprise API key: it acts as its enterprise within its scopes,
never reaches another enterprise, stops at once when revoked, is audited and rate-limited."""

from __future__ import annotations

import json
import logging
import types
from datetime import timedelta

import pytest
from django.utils import timezone

from portsign.common import ratelimit
from portsign.common.audit import verify_chain
from portsign.common.models import AuditEvent
from portsign.enterprises.models import Enterprise, Membership
from portsign.integrations.models import ApiKey
from tests.contracts.conftest import create_draft, pdf_bytes, upload
from tests.helpers import error_code
from tests.integrations.conftest import create_key, key_caller, make_key


def _drafts(caller, enterprise) -> list[str]:
    response = caller.api.get(f"/contracts?box=drafts&acting_as={enterprise.id}")
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def test_a_write_key_creates_and_sends_a_contract_as_its_enterprise(alice, acme, globex):
    caller = make_key(alice, acme, ["contracts:write"])
    contract = create_draft(caller, acting_as=acme.id)
    assert (contract["sender"], contract["sender_enterprise"]) == (
        "API key: EDI platform",
        acme.name,
    )
    assert _drafts(caller, acme) == [contract["id"]]
    party = caller.api.post(
        f"/contracts/{contract['id']}/parties",
        {"kind": "enterprise", "account": "13800000002", "enterprise_name": globex.name},
    )
    assert party.status_code == 201, party.content
    sent = caller.api.post(f"/contracts/{contract['id']}/send")
    assert (sent.status_code, sent.json()["status"]) == (200, "signing"), sent.content
    # Without acting_as a key is its own service account, which may send nothing.
    personal = upload(caller, "/contracts", pdf_bytes(), title="x")
    assert (personal.status_code, error_code(personal)) == (409, "real_name_required")


def test_a_read_key_lists_contracts_but_cannot_create_them(alice, acme):
    caller = make_key(alice, acme, ["contracts:read"])
    listed = caller.api.get(f"/contracts?box=completed&acting_as={acme.id}")
    assert (listed.status_code, listed.json()["total"]) == (200, 0)
    refused = upload(caller, "/contracts", pdf_bytes(), title="x", acting_as=acme.id)
    assert (refused.status_code, error_code(refused)) == (403, "api_key_scope")
    assert caller.api.get("/contracts?box=drafts&acting_as=" + acme.id).status_code == 200


def test_the_role_enforces_the_scope_too(alice, acme):
    # Even on a route the key's scopes open, its role decides: a read key's role cannot send.
    caller = make_key(alice, acme, ["contracts:read"])
    ApiKey.objects.filter(user=caller.user).update(scopes=["contracts:read", "contracts:write"])
    refused = upload(caller, "/contracts", pdf_bytes(), title="x", acting_as=acme.id)
    assert (refused.status_code, error_code(refused)) == (403, "permission_denied")


def test_a_webhooks_key_registers_webhooks_and_nothing_else(alice, acme):
    caller = make_key(alice, acme, ["webhooks"])
    made = caller.api.post(f"/enterprises/{acme.id}/webhooks", {"url": "http://127.0.0.1:9/hook"})
    assert made.status_code == 201, made.content
    assert [e["id"] for e in caller.api.get(f"/enterprises/{acme.id}/webhooks").json()] == [
        made.json()["id"]
    ]
    # Its role holds manage_enterprise (what webhooks need), but the scope opens only webhooks.
    for method, path in (
        ("POST", f"/enterprises/{acme.id}/verification"),
        ("GET", f"/enterprises/{acme.id}/certificate-authorizations"),
        ("POST", "/eport/filings"),
        ("GET", f"/contracts?box=drafts&acting_as={acme.id}"),
    ):
        response = caller.api.request(method, path, {})
        assert (response.status_code, error_code(response)) == (403, "api_key_scope"), path
    writer = make_key(alice, acme, ["contracts:write"], name="writer")
    refused = writer.api.post(f"/enterprises/{acme.id}/webhooks", {"url": "http://127.0.0.1:9/x"})
    assert (refused.status_code, error_code(refused)) == (403, "api_key_scope")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/auth/tokens"),
        ("POST", "/auth/tokens"),
        ("PATCH", "/me"),
        ("POST", "/me/verification"),
        ("POST", "/me/password"),
        ("POST", "/enterprises"),
        ("GET", "/join-requests"),
        ("POST", "/invitations/sometoken/accept"),
        ("GET", "/enterprises/{acme}/members"),
        ("POST", "/enterprises/{acme}/roles"),
        ("POST", "/contracts/{contract}/sign"),
        ("POST", "/contracts/{contract}/sign/codes"),
        ("POST", "/signing-batches"),
    ],
)
def test_personal_and_people_routes_are_closed_to_keys(alice, acme, method, path):
    caller = make_key(alice, acme, ["contracts:write", "contracts:read", "webhooks"])
    contract = create_draft(alice, acting_as=acme.id)
    path = path.format(acme=acme.id, contract=contract["id"])
    response = caller.api.request(method, path, {})
    assert (response.status_code, error_code(response)) == (403, "api_key_scope")


def test_me_says_what_the_key_may_do(alice, acme):
    caller = make_key(alice, acme, ["contracts:write"])
    me = caller.api.get(f"/me?acting_as={acme.id}").json()
    assert me["name"] == "API key: EDI platform"
    assert me["acting_as"]["enterprise_id"] == acme.id
    assert me["acting_as"]["permissions"] == ["send_contracts", "view_contracts"]


def test_a_key_never_reaches_another_enterprise(alice, acme, bob, globex):
    theirs = create_draft(bob, acting_as=globex.id)
    hook = bob.api.post(f"/enterprises/{globex.id}/webhooks", {"url": "http://127.0.0.1:9/b"})
    caller = make_key(alice, acme, ["contracts:write", "contracts:read", "webhooks"])
    for method, path in (
        ("GET", f"/contracts/{theirs['id']}"),
        ("GET", f"/contracts/{theirs['id']}/document.pdf"),
        ("POST", f"/contracts/{theirs['id']}/send"),
        ("GET", f"/contracts?box=drafts&acting_as={globex.id}"),
        ("GET", f"/enterprises/{globex.id}"),
        ("GET", f"/enterprises/{globex.id}/webhooks"),
        ("POST", f"/enterprises/{globex.id}/webhooks"),
        ("GET", f"/webhooks/{hook.json()['id']}"),
        ("DELETE", f"/webhooks/{hook.json()['id']}"),
    ):
        response = caller.api.request(method, path, {"url": "http://127.0.0.1:9/c"})
        assert (response.status_code, error_code(response)) == (404, "not_found"), path
    refused = upload(caller, "/contracts", pdf_bytes(), title="x", acting_as=globex.id)
    assert (refused.status_code, error_code(refused)) == (404, "not_found")
    assert bob.api.get(f"/webhooks/{hook.json()['id']}").status_code == 200


def test_a_revoked_key_is_refused_at_once(alice, acme):
    created = create_key(alice, acme, ["contracts:read"])
    caller = key_caller(created)
    assert caller.api.get(f"/contracts?box=completed&acting_as={acme.id}").status_code == 200
    assert alice.api.delete(f"/enterprises/{acme.id}/api-keys/{created['id']}").status_code == 204
    refused = caller.api.get(f"/contracts?box=completed&acting_as={acme.id}")
    assert (refused.status_code, error_code(refused)) == (401, "unauthorized")


def test_a_wrong_key_is_a_401(alice, acme):
    caller = make_key(alice, acme, ["contracts:read"])
    caller.api.token = caller.token[:-2] + ("AA" if not caller.token.endswith("AA") else "BB")
    assert caller.api.get("/me").status_code == 401


def test_a_lapsed_enterprise_or_a_disabled_member_stops_the_key(alice, acme):
    caller = make_key(alice, acme, ["contracts:read"])
    member = Membership.objects.get(user=caller.user)
    disabled = alice.api.patch(f"/enterprises/{acme.id}/members/{member.id}", {"is_active": False})
    assert disabled.status_code == 200, disabled.content
    assert caller.api.get("/me").status_code == 401
    Membership.objects.filter(pk=member.pk).update(is_active=True)
    assert caller.api.get("/me").status_code == 200
    Enterprise.objects.filter(pk=acme.pk).update(status="expired")
    assert caller.api.get("/me").status_code == 401


def test_last_use_is_recorded_to_the_minute(alice, acme):
    created = create_key(alice, acme, ["contracts:read"])
    caller = key_caller(created)
    before = timezone.now()
    assert caller.api.get("/me").status_code == 200
    used = ApiKey.objects.get().last_used_at
    assert used is not None
    assert used >= before
    (listed,) = alice.api.get(f"/enterprises/{acme.id}/api-keys").json()
    assert listed["last_used_at"] is not None
    recent = timezone.now() - timedelta(seconds=30)
    ApiKey.objects.update(last_used_at=recent)
    caller.api.get("/me")
    assert ApiKey.objects.get().last_used_at == recent  # not a write per request
    ApiKey.objects.update(last_used_at=recent - timedelta(minutes=1))
    caller.api.get("/me")
    assert ApiKey.objects.get().last_used_at > recent


def test_every_use_is_audited_and_the_key_is_never_written_down(alice, acme, caplog):
    caplog.set_level(logging.DEBUG)
    created = create_key(alice, acme, ["contracts:read"])
    caller = key_caller(created)
    caller.api.get(f"/contracts?box=completed&acting_as={acme.id}")
    caller.api.get(f"/enterprises/{acme.id}/members")  # refused, and still on record
    caller.api.get("/contracts/01NOSUCHCONTRACT")
    used = AuditEvent.objects.filter(action="api_key.used").order_by("seq")
    assert [(e.actor_id, e.acting_as, e.object_type, e.object_id) for e in used] == [
        (caller.user.id, acme.id, "api_key", created["id"])
    ] * 3
    assert [e.data for e in used] == [
        {"method": "GET", "path": "/api/v1/contracts"},
        {"method": "GET", "path": f"/api/v1/enterprises/{acme.id}/members"},
        {"method": "GET", "path": "/api/v1/contracts/01NOSUCHCONTRACT"},
    ]
    made = AuditEvent.objects.get(action="api_key.created")
    assert (made.actor_id, made.object_id) == (alice.user.id, created["id"])
    assert made.data == {
        "name": "EDI platform",
        "scopes": ["contracts:read"],
        "prefix": created["prefix"],
    }
    dumped = json.dumps(list(AuditEvent.objects.values()), default=str)
    secret = created["key"][len(created["prefix"]) :]
    for text in (dumped, caplog.text):
        assert created["key"] not in text
        assert secret not in text
    assert verify_chain().ok


def test_each_key_is_rate_limited_on_its_own(alice, acme, settings, monkeypatch):
    settings.API_KEY_RATE_PER_MINUTE = 3
    # One fixed clock: the four calls must fall into one minute's window.
    monkeypatch.setattr(ratelimit, "time", types.SimpleNamespace(time=lambda: 1_800_000_010.0))
    first = make_key(alice, acme, ["contracts:read"], name="first")
    second = make_key(alice, acme, ["contracts:read"], name="second")
    for _ in range(3):
        assert first.api.get("/me").status_code == 200
    limited = first.api.get("/me")
    assert (limited.status_code, error_code(limited)) == (429, "api_key_rate_limited")
    assert limited["Retry-After"] == "50"
    assert second.api.get("/me").status_code == 200
    assert alice.api.get("/me").status_code == 200
    # The refused call is not audited: a flood cannot flood the audit log.
    first_key = ApiKey.objects.get(name="first")
    assert AuditEvent.objects.filter(action="api_key.used", object_id=first_key.id).count() == 3


def test_a_repeated_write_with_an_idempotency_key_runs_once(alice, acme, globex):
    caller = make_key(alice, acme, ["contracts:write"])
    contract = create_draft(caller, acting_as=acme.id)
    body = {"kind": "enterprise", "account": "13800000002", "enterprise_name": globex.name}
    headers = {"Idempotency-Key": "party-1"}
    first = caller.api.post(f"/contracts/{contract['id']}/parties", body, headers=headers)
    again = caller.api.post(f"/contracts/{contract['id']}/parties", body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert len(caller.api.get(f"/contracts/{contract['id']}").json()["parties"]) == 1
