"""Managing enterprise API keys (API.md "Enterprise API keys"): administrators create them
(shown once, stored hashed), list them with prefix and last use, and revoke them at once."""

from __future__ import annotations

import hashlib
import json

import pytest

from portsign.accounts.models import User
from portsign.api import api as ninja_api
from portsign.common.errors import Forbidden
from portsign.enterprises.models import Membership, Role
from portsign.integrations.domain import keys
from portsign.integrations.models import ApiKey
from tests.helpers import Api, assert_isolated, error_code
from tests.integrations.conftest import create_key, key_caller
from tests.seals.conftest import add_member


def _path(enterprise, key_id: str = "") -> str:
    return f"/enterprises/{enterprise.id}/api-keys" + (f"/{key_id}" if key_id else "")


def test_the_key_is_shown_once_and_only_its_hash_is_stored(alice, acme):
    created = create_key(alice, acme, ["contracts:write", "contracts:read"])
    raw = created["key"]
    assert raw.startswith("psk_")
    assert len(raw) == 4 + 43
    row = ApiKey.objects.get()
    assert created == {
        "id": row.id,
        "name": "EDI platform",
        "prefix": raw[:12],
        "scopes": ["contracts:read", "contracts:write"],
        "user_id": row.user_id,
        "created_by": {"id": alice.user.id, "name": "Alice Test"},
        "created_at": created["created_at"],
        "last_used_at": None,
        "revoked_at": None,
        "key": raw,
    }
    assert row.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in json.dumps(list(ApiKey.objects.values()), default=str)

    listed = alice.api.get(_path(acme))
    assert listed.status_code == 200
    assert raw not in listed.content.decode()
    assert listed.json() == [{k: v for k, v in created.items() if k != "key"}]


def test_each_key_acts_through_a_service_account_of_its_own(alice, acme):
    created = create_key(alice, acme, ["contracts:write"])
    key = ApiKey.objects.select_related("user").get()
    user = key.user
    assert (user.name, user.phone, user.email) == (
        "API key: EDI platform",
        None,
        f"key-{key.id.lower()}@keys.portsign.invalid",
    )
    assert not user.is_active
    assert not user.has_usable_password()
    assert not user.is_real_name_verified
    member = Membership.objects.select_related("role").get(user=user)
    assert (member.enterprise_id, member.is_active) == (acme.id, True)
    assert (member.role.key, member.role.builtin, member.role.name) == (
        f"apikey-{key.id}",
        False,
        f"API key {created['prefix']}",
    )
    assert member.role.permissions == ["send_contracts", "view_contracts"]


@pytest.mark.parametrize(
    ("scopes", "permissions"),
    [
        (["contracts:read"], ["view_contracts"]),
        (["contracts:write"], ["send_contracts", "view_contracts"]),
        (["webhooks"], ["manage_enterprise"]),
        (
            ["webhooks", "contracts:read", "contracts:write"],
            ["manage_enterprise", "send_contracts", "view_contracts"],
        ),
    ],
)
def test_scopes_become_the_role_permissions(alice, acme, scopes, permissions):
    create_key(alice, acme, scopes)
    assert Role.objects.get(key__startswith="apikey-").permissions == permissions


def test_unknown_or_missing_scopes_are_refused_by_name(alice, acme):
    english = Api(alice.token, language="en")
    bad = english.post(_path(acme), {"name": "x", "scopes": ["contracts:read", "seals", "admin"]})
    assert bad.status_code == 400
    assert error_code(bad) == "scope_invalid"
    assert bad.json()["error"]["fields"] == {
        "scopes": "Unknown scopes: admin, seals. Choose from: contracts:read, contracts:write, "
        "webhooks."
    }
    empty = english.post(_path(acme), {"name": "x", "scopes": []})
    assert (empty.status_code, error_code(empty)) == (400, "scope_invalid")
    assert not ApiKey.objects.exists()
    assert not User.objects.filter(email__endswith="@keys.portsign.invalid").exists()


@pytest.mark.parametrize("name", ["", "   ", "x" * 41, "a\u202eb"])
def test_a_key_needs_a_name(alice, acme, name):
    response = alice.api.post(_path(acme), {"name": name, "scopes": ["contracts:read"]})
    assert response.status_code == 400
    assert error_code(response) in {"api_key_name_invalid", "text_control_characters"}
    assert set(response.json()["error"]["fields"]) == {"name"}
    assert not ApiKey.objects.exists()


def test_only_administrators_manage_keys(alice, acme, dave):
    add_member(acme, dave, "signer")
    created = create_key(alice, acme, ["contracts:read"])
    for response in (
        dave.api.post(_path(acme), {"name": "mine", "scopes": ["contracts:read"]}),
        dave.api.get(_path(acme)),
        dave.api.delete(_path(acme, created["id"])),
    ):
        assert (response.status_code, error_code(response)) == (403, "permission_denied")
    assert ApiKey.objects.get().revoked_at is None


def test_nobody_gives_a_key_more_than_they_hold(alice, acme, dave):
    role = Role.objects.create(
        enterprise=acme,
        key="custom-hr",
        name="HR",
        permissions=["manage_members", "view_contracts"],
    )
    Membership.objects.create(enterprise=acme, user=dave.user, role=role)
    assert create_key(dave, acme, ["contracts:read"])["scopes"] == ["contracts:read"]
    refused = dave.api.post(_path(acme), {"name": "x", "scopes": ["contracts:write"]})
    assert (refused.status_code, error_code(refused)) == (403, "permission_above_yours")


def test_another_enterprise_is_a_404(alice, acme, bob, globex):
    created = create_key(alice, acme, ["contracts:read"])
    assert_isolated(alice, bob, "GET", _path(acme))
    theirs = bob.api.post(_path(acme), {"name": "x", "scopes": ["contracts:read"]})
    assert (theirs.status_code, error_code(theirs)) == (404, "not_found")
    for path in (_path(acme, created["id"]), _path(globex, created["id"])):
        response = bob.api.delete(path)
        assert (response.status_code, error_code(response)) == (404, "not_found")
    assert ApiKey.objects.get().revoked_at is None
    assert bob.api.get(_path(globex)).json() == []


def test_revoking_keeps_the_row_and_disables_the_member(alice, acme):
    created = create_key(alice, acme, ["contracts:read"])
    assert alice.api.delete(_path(acme, created["id"])).status_code == 204
    key = ApiKey.objects.get()
    assert key.revoked_at is not None
    assert key.revoked_by_id == alice.user.id
    assert not Membership.objects.get(user_id=key.user_id).is_active
    (listed,) = alice.api.get(_path(acme)).json()
    assert listed["revoked_at"] is not None
    # Revoking again changes nothing; an unknown key is a 404.
    assert alice.api.delete(_path(acme, created["id"])).status_code == 204
    assert ApiKey.objects.get().revoked_at == key.revoked_at
    assert alice.api.delete(_path(acme, "01NOSUCHKEY")).status_code == 404


def test_a_key_cannot_manage_keys_even_with_a_widened_role(alice, acme):
    caller = key_caller(create_key(alice, acme, ["contracts:write", "webhooks"]))
    refused = caller.api.post(_path(acme), {"name": "child", "scopes": ["contracts:read"]})
    assert (refused.status_code, error_code(refused)) == (403, "api_key_scope")
    # Even if an administrator gave the key's account the admin role in the member list:
    Membership.objects.filter(user=caller.user).update(
        role=Role.objects.get(enterprise=acme, key="admin")
    )
    assert error_code(caller.api.get(_path(acme))) == "api_key_scope"
    with pytest.raises(Forbidden) as caught:
        keys.create_key(actor=caller.user, enterprise_id=acme.id, name="x", scopes=["webhooks"])
    assert caught.value.code == "permission_denied"
    assert ApiKey.objects.count() == 1


def test_an_enterprise_has_a_limited_number_of_active_keys(alice, acme, settings):
    settings.API_KEY_MAX_PER_ENTERPRISE = 2
    first = create_key(alice, acme, ["contracts:read"], name="one")
    create_key(alice, acme, ["contracts:read"], name="two")
    over = alice.api.post(_path(acme), {"name": "three", "scopes": ["contracts:read"]})
    assert (over.status_code, error_code(over)) == (409, "api_key_limit")
    assert alice.api.delete(_path(acme, first["id"])).status_code == 204
    assert create_key(alice, acme, ["contracts:read"], name="three")["name"] == "three"


def test_the_openapi_documents_three_operations():
    paths = ninja_api.get_openapi_schema()["paths"]
    keyed = {p: sorted(item) for p, item in paths.items() if "/api-keys" in p}
    assert keyed == {
        "/api/v1/enterprises/{enterprise_id}/api-keys": ["get", "post"],
        "/api/v1/enterprises/{enterprise_id}/api-keys/{key_id}": ["delete"],
    }
    created = paths["/api/v1/enterprises/{enterprise_id}/api-keys"]["post"]["responses"][201]
    assert created["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ApiKeyCreated"
    }
