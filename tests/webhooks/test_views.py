"""The console's webhooks pages (回调地址): the same rules as the API, through forms."""

from __future__ import annotations

import re

from django.test import Client

from portsign.webhooks.domain import deliveries
from portsign.webhooks.models import Delivery, Endpoint
from tests.seals.conftest import add_member
from tests.webhooks.conftest import draft_between, expected_signature, send

SECRET = re.compile(r"whsec_[A-Za-z0-9_-]{20,}")


def _client(person) -> Client:
    client = Client()
    client.force_login(person.user, backend="portsign.accounts.backends.AccountBackend")
    return client


def test_add_shows_the_secret_once_then_rotate_disable_delete(receiver, alice, bob, charlie, acme):
    web = _client(alice)
    base = f"/console/webhooks/enterprise/{acme.id}/"
    assert base in web.get(f"/console/enterprise/{acme.id}/").content.decode()
    assert web.get(base).status_code == 200

    added = web.post(base + "create/", {"url": receiver.url(), "events": ["sent", "completed"]})
    assert added.status_code == 200
    assert added["Cache-Control"] == "no-store"
    (secret,) = SECRET.findall(added.content.decode())
    endpoint = Endpoint.objects.get()
    assert (endpoint.url, endpoint.events, endpoint.active) == (
        receiver.url(),
        ["sent", "completed"],
        True,
    )
    page = web.get(base).content.decode()
    assert receiver.url() in page
    assert "whsec_" not in page  # shown once

    rotated = web.post(f"/console/webhooks/{endpoint.id}/rotate/")
    assert rotated["Cache-Control"] == "no-store"
    (new_secret,) = SECRET.findall(rotated.content.decode())
    assert (
        '<section class="card" data-testid="new-secret">\n  <h2>签名密钥</h2>\n'
        f"  <p>{receiver.url()} 的签名密钥只显示这一次。"
        "请复制到接收方配置中，港签无法再次显示。</p>\n"
        f'  <p class="alert ok"><code data-testid="secret">{new_secret}</code></p>\n</section>'
    ) in rotated.content.decode()
    assert new_secret != secret
    assert "whsec_" not in web.get(base).content.decode()

    refused = web.post(base + "create/", {"url": "http://8.8.8.8/hook", "events": ["sent"]})
    assert refused.status_code == 302
    assert Endpoint.objects.count() == 1

    edited = web.post(
        f"/console/webhooks/{endpoint.id}/update/",
        {"url": receiver.url("/other"), "events_shown": "1", "events": ["revoked"]},
    )
    assert edited.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.events) == (receiver.url("/other"), ["revoked"])
    web.post(f"/console/webhooks/{endpoint.id}/update/", {"active": "off"})
    endpoint.refresh_from_db()
    assert endpoint.active is False

    assert _client(bob).get(base).status_code == 404
    assert _client(bob).post(f"/console/webhooks/{endpoint.id}/delete/").status_code == 404
    add_member(acme, charlie, "signer")
    assert _client(charlie).get(base).status_code == 403
    assert base not in _client(charlie).get(f"/console/enterprise/{acme.id}/").content.decode()

    assert web.post(f"/console/webhooks/{endpoint.id}/delete/").status_code == 302
    assert not Endpoint.objects.exists()


def test_the_delivery_log_pages_and_sends_a_failed_delivery_again(
    receiver, alice, bob, acme, globex
):
    web = _client(alice)
    added = web.post(
        f"/console/webhooks/enterprise/{acme.id}/create/",
        {"url": receiver.url(), "events": ["sent"]},
    )
    (secret,) = SECRET.findall(added.content.decode())
    endpoint = Endpoint.objects.get()
    receiver.status = 500
    send(alice, draft_between(alice, acme, globex))
    row = Delivery.objects.get()
    while row.status == "pending":  # the whole schedule, on an injected clock
        deliveries.deliver_due(clock=lambda due=row.next_attempt_at: due)
        row.refresh_from_db()
    log = f"/console/webhooks/{endpoint.id}/"
    page = web.get(log).content.decode()
    assert f'data-delivery="{row.id}"' in page
    assert "HTTP 500" in page
    assert f"/console/webhooks/{endpoint.id}/deliveries/{row.id}/redeliver/" in page

    receiver.status = 204
    again = web.post(f"/console/webhooks/{endpoint.id}/deliveries/{row.id}/redeliver/")
    assert again.status_code == 302
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("delivered", 1)
    assert "/redeliver/" not in web.get(log).content.decode()
    last = receiver.requests[-1]
    assert last.json["id"] == row.id
    assert last.headers["X-PortSign-Signature"] == expected_signature(secret, last)

    for n in range(21):
        Delivery.objects.create(
            endpoint=endpoint, event="sent", contract_id=f"C{n:025d}", payload="{}"
        )
    assert "?page=2" in web.get(log).content.decode()
    assert f'data-delivery="{row.id}"' in web.get(log + "?page=2").content.decode()
    assert _client(bob).get(log).status_code == 404
