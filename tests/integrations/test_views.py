"""The console's API keys page: the same rules as the API, through forms."""

from __future__ import annotations

import re

from django.test import Client

from portsign.integrations.models import ApiKey
from tests.seals.conftest import add_member

KEY = re.compile(r"psk_[A-Za-z0-9_-]{40,}")


def _client(person) -> Client:
    client = Client()
    client.force_login(person.user, backend="portsign.accounts.backends.AccountBackend")
    return client


def test_an_administrator_creates_a_key_sees_it_once_and_revokes_it(alice, acme):
    web = _client(alice)
    page = f"/console/integrations/enterprise/{acme.id}/api-keys/"
    assert web.get(page).status_code == 200
    made = web.post(page + "create/", {"name": "EDI", "scopes": ["contracts:read", "webhooks"]})
    assert made.status_code == 200
    assert made["Cache-Control"] == "no-store"
    (raw,) = KEY.findall(made.content.decode())
    assert (
        '<section class="card" data-testid="new-key">\n  <h2>新的 API 密钥</h2>\n'
        "  <p>密钥“EDI”仅此一次显示。请立即复制到平台的配置中；"
        "PortSign 只保存其指纹，无法再次显示。</p>\n"
        f'  <p class="alert ok"><code data-testid="key">{raw}</code></p>\n</section>'
    ) in made.content.decode()
    key = ApiKey.objects.get()
    assert (key.name, key.scopes, key.prefix) == ("EDI", ["contracts:read", "webhooks"], raw[:12])
    again = web.get(page).content.decode()
    assert key.prefix in again
    assert not KEY.findall(again)  # shown once

    refused = web.post(page + "create/", {"name": "x", "scopes": ["seals"]})
    assert refused.status_code == 302
    assert ApiKey.objects.count() == 1

    revoked = web.post(page + f"{key.id}/revoke/")
    assert revoked.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_the_page_is_for_administrators_of_the_enterprise(alice, acme, bob, charlie):
    page = f"/console/integrations/enterprise/{acme.id}/api-keys/"
    add_member(acme, charlie, "signer")
    assert _client(bob).get(page).status_code == 404
    assert _client(charlie).get(page).status_code == 403
    assert (
        _client(bob).post(page + "create/", {"name": "x", "scopes": ["webhooks"]}).status_code
        == 404
    )
    assert not ApiKey.objects.exists()
