"""The webhooks API: URL rules with distinct codes, limits, tenancy, secrets shown once and
stored sealed, rotation, the paged delivery log."""

from __future__ import annotations

import logging

import pytest
from django.apps import apps

from portsign.contracts.events import EVENTS
from portsign.pki.models import KeyRecord
from portsign.webhooks.models import Delivery, Endpoint
from tests.helpers import assert_isolated, error_code
from tests.seals.conftest import add_member
from tests.webhooks.conftest import draft_between, expected_signature, register, send

EMBEDDED_REFUSED = [
    ("ftp://127.0.0.1/hook", "webhook_url_scheme"),
    ("javascript:alert(1)", "webhook_url_scheme"),
    ("127.0.0.1/hook", "webhook_url_scheme"),
    ("http://user:secret@127.0.0.1/hook", "webhook_url_credentials"),
    ("https://token@example.com/hook", "webhook_url_credentials"),
    ("https://", "webhook_url_invalid"),
    ("http://127.0.0.1:99999/hook", "webhook_url_invalid"),
    ("http://127.0.0.1/a hook", "webhook_url_invalid"),
    ("https://example.com/" + "a" * 500, "webhook_url_invalid"),
    ("http://8.8.8.8/hook", "webhook_url_https_required"),
    ("http://no-such-host.invalid/hook", "webhook_url_unresolvable"),
]
PRODUCTION_REFUSED = [
    ("http://8.8.8.8/hook", "webhook_url_https_required"),
    ("http://127.0.0.1/hook", "webhook_url_https_required"),
    ("https://127.0.0.1/hook", "webhook_url_private_address"),
    ("https://localhost/hook", "webhook_url_private_address"),
    ("https://10.0.0.8/hook", "webhook_url_private_address"),
    ("https://192.168.1.20:8443/hook", "webhook_url_private_address"),
    ("https://100.64.0.1/hook", "webhook_url_private_address"),
    ("https://169.254.169.254/latest/meta-data/", "webhook_url_private_address"),
    ("https://[::1]/hook", "webhook_url_private_address"),
    ("https://[::ffff:127.0.0.1]/hook", "webhook_url_private_address"),
    ("https://[fe80::1]/hook", "webhook_url_private_address"),
    ("https://0.0.0.0/hook", "webhook_url_private_address"),
    ("https://no-such-host.invalid/hook", "webhook_url_unresolvable"),
]


def _refused(person, enterprise, url: str):
    response = person.api.post(f"/enterprises/{enterprise.id}/webhooks", {"url": url})
    assert response.status_code == 400, response.content
    assert set(response.json()["error"]["fields"]) == {"url"}
    return error_code(response)


@pytest.mark.parametrize(("url", "code"), EMBEDDED_REFUSED)
def test_embedded_mode_refuses_bad_urls_with_distinct_codes(alice, acme, url, code):
    assert _refused(alice, acme, url) == code
    assert not Endpoint.objects.exists()


@pytest.mark.parametrize(("url", "code"), PRODUCTION_REFUSED)
def test_production_mode_refuses_http_and_private_addresses(alice, acme, settings, url, code):
    settings.PRODUCTION = True
    assert _refused(alice, acme, url) == code
    assert not Endpoint.objects.exists()


def test_what_each_mode_accepts(alice, acme, settings):
    for url in ("http://127.0.0.1:8080/hook", "http://192.168.1.20/hook", "https://8.8.8.8/x"):
        assert register(alice, acme, url)["url"] == url
    settings.PRODUCTION = True
    assert register(alice, acme, "https://8.8.8.8:8443/hook?k=v")["url"] == (
        "https://8.8.8.8:8443/hook?k=v"
    )


def test_events_are_checked_and_default_to_all(alice, acme):
    base = f"/enterprises/{acme.id}/webhooks"
    assert register(alice, acme, "http://127.0.0.1/a")["events"] == list(EVENTS)
    assert register(alice, acme, "http://127.0.0.1/b", ["completed", "sent", "sent"])["events"] == [
        "sent",
        "completed",
    ]
    for events in ([], ["sent", "archived"]):
        response = alice.api.post(base, {"url": "http://127.0.0.1/c", "events": events})
        assert (response.status_code, error_code(response)) == (400, "webhook_events")
        assert set(response.json()["error"]["fields"]) == {"events"}
    response = alice.api.post(base, {"url": "http://127.0.0.1/c", "events": "sent"})
    assert (response.status_code, error_code(response)) == (422, "validation_failed")


def test_an_enterprise_has_at_most_ten_endpoints(alice, acme):
    for n in range(10):
        register(alice, acme, f"http://127.0.0.1/hook{n}")
    response = alice.api.post(
        f"/enterprises/{acme.id}/webhooks", {"url": "http://127.0.0.1/eleven"}
    )
    assert (response.status_code, error_code(response)) == (409, "webhook_limit")
    assert Endpoint.objects.count() == 10


def test_patch_changes_url_events_and_active_with_the_same_rules(alice, acme):
    endpoint = register(alice, acme, "http://127.0.0.1/hook")
    path = f"/webhooks/{endpoint['id']}"
    changed = alice.api.patch(
        path, {"url": "http://127.0.0.1:9000/new", "events": ["completed"], "active": False}
    )
    assert changed.status_code == 200, changed.content
    body = changed.json()
    assert (body["url"], body["events"], body["active"]) == (
        "http://127.0.0.1:9000/new",
        ["completed"],
        False,
    )
    refused = alice.api.patch(path, {"url": "http://8.8.8.8/hook"})
    assert (refused.status_code, error_code(refused)) == (400, "webhook_url_https_required")
    assert alice.api.get(path).json()["url"] == "http://127.0.0.1:9000/new"


def test_another_enterprise_s_webhooks_are_404_and_members_need_the_permission(
    alice, bob, charlie, acme, globex
):
    endpoint = register(alice, acme, "http://127.0.0.1/hook")
    base = f"/webhooks/{endpoint['id']}"
    assert_isolated(alice, bob, "GET", f"/enterprises/{acme.id}/webhooks")
    assert_isolated(alice, bob, "GET", base)
    assert_isolated(alice, bob, "PATCH", base, {"active": True})
    assert_isolated(alice, bob, "GET", base + "/deliveries")
    assert_isolated(alice, bob, "POST", base + "/rotate-secret")
    assert_isolated(
        alice,
        bob,
        "POST",
        f"/enterprises/{acme.id}/webhooks",
        {"url": "http://127.0.0.1/x"},
        owner_status=201,
    )
    assert bob.api.get(f"/enterprises/{globex.id}/webhooks").json() == []
    assert_isolated(alice, bob, "DELETE", base, owner_status=204)
    assert not Endpoint.objects.filter(pk=endpoint["id"]).exists()

    # Inside the enterprise, a member whose role lacks manage_enterprise gets 403.
    add_member(acme, charlie, "signer")
    other = register(alice, acme, "http://127.0.0.1/y")
    for method, path in (
        ("GET", f"/enterprises/{acme.id}/webhooks"),
        ("GET", f"/webhooks/{other['id']}"),
        ("POST", f"/webhooks/{other['id']}/rotate-secret"),
    ):
        response = charlie.api.request(method, path)
        assert (response.status_code, error_code(response)) == (403, "permission_denied")


def _everything_stored() -> bytes:
    """Every value of every row of every table, as bytes."""
    chunks = []
    for model in apps.get_models():
        for row in model.objects.values():
            for value in row.values():
                if isinstance(value, bytes | memoryview):
                    chunks.append(bytes(value))
                else:
                    chunks.append(str(value).encode())
    return b"\n".join(chunks)


def test_secrets_are_sealed_shown_once_and_never_logged(receiver, alice, bob, acme, globex, caplog):
    caplog.set_level(logging.DEBUG)
    created = register(alice, acme, receiver.url(), ["sent", "revoked"])
    secret = created["secret"]
    assert secret.startswith("whsec_")
    assert len(secret) >= 40
    contract_id = draft_between(alice, acme, globex)
    send(alice, contract_id)
    receiver.status = 500  # a failed attempt is logged: without the secret
    assert alice.api.post(f"/contracts/{contract_id}/revoke", {"reason": ""}).status_code == 200
    base = f"/webhooks/{created['id']}"
    answers = [
        alice.api.get(f"/enterprises/{acme.id}/webhooks"),
        alice.api.get(base),
        alice.api.patch(base, {"events": ["sent", "revoked", "completed"]}),
        alice.api.get(base + "/deliveries"),
    ]
    for answer in answers:
        assert answer.status_code == 200, answer.content
        assert b'"secret"' not in answer.content  # no such field
        assert secret.encode() not in answer.content
    rotated = alice.api.post(base + "/rotate-secret").json()["secret"]
    stored = _everything_stored()
    for value in (secret, rotated):
        assert value.encode() not in stored
        assert value[6:].encode() not in stored
        assert value not in caplog.text
    assert "attempt 1: HTTP 500" in caplog.text  # the log did record the delivery
    assert KeyRecord.objects.filter(algorithm="secret").count() == 1


def test_rotating_the_secret_changes_the_signature(receiver, alice, bob, acme, globex):
    endpoint = register(alice, acme, receiver.url(), ["sent", "revoked"])
    old_secret = KeyRecord.objects.get(algorithm="secret").id
    contract_id = draft_between(alice, acme, globex)
    send(alice, contract_id)
    rotated = alice.api.post(f"/webhooks/{endpoint['id']}/rotate-secret")
    assert rotated.status_code == 200, rotated.content
    body = rotated.json()
    assert (body["id"], body["url"]) == (endpoint["id"], endpoint["url"])
    assert body["secret_rotated_at"] is not None
    assert body["secret"] != endpoint["secret"]
    assert alice.api.post(f"/contracts/{contract_id}/revoke", {"reason": ""}).status_code == 200
    before, after = receiver.requests
    assert before.headers["X-PortSign-Signature"] == expected_signature(endpoint["secret"], before)
    assert after.headers["X-PortSign-Signature"] == expected_signature(body["secret"], after)
    assert after.headers["X-PortSign-Signature"] != expected_signature(endpoint["secret"], after)
    assert not KeyRecord.objects.filter(pk=old_secret).exists()  # the old secret is destroyed


def test_deleting_an_endpoint_removes_its_log_and_its_secret(receiver, alice, bob, acme, globex):
    endpoint = register(alice, acme, receiver.url(), ["sent"])
    send(alice, draft_between(alice, acme, globex))
    assert Delivery.objects.count() == 1
    assert alice.api.delete(f"/webhooks/{endpoint['id']}").status_code == 204
    assert not Delivery.objects.exists()
    assert not KeyRecord.objects.filter(algorithm="secret").exists()
    assert alice.api.get(f"/webhooks/{endpoint['id']}").status_code == 404


def test_the_delivery_log_is_paged_newest_first(alice, acme):
    endpoint = register(alice, acme, "http://127.0.0.1/hook")
    rows = [
        Delivery.objects.create(
            endpoint_id=endpoint["id"],
            event="sent",
            contract_id=f"C{n:025d}",
            payload="{}",
            status="failed",
            attempts=7,
            last_status_code=500,
            last_error="HTTP 500",
        )
        for n in range(25)
    ]
    path = f"/webhooks/{endpoint['id']}/deliveries"
    first = alice.api.get(path).json()
    assert (first["total"], first["page"], first["page_size"], len(first["items"])) == (
        25,
        1,
        20,
        20,
    )
    assert first["items"][0]["id"] == rows[-1].id
    assert set(first["items"][0]) == {
        "id",
        "event",
        "contract_id",
        "status",
        "attempts",
        "last_status_code",
        "last_error",
        "last_response",
        "next_attempt_at",
        "delivered_at",
        "created_at",
    }
    second = alice.api.get(path + "?page=2").json()
    assert [i["id"] for i in second["items"]] == [r.id for r in reversed(rows[:5])]
    bad = alice.api.get(path + "?page=0")
    assert (bad.status_code, error_code(bad)) == (400, "page")


def test_answers_with_a_secret_are_not_cached_or_kept_for_idempotent_repeats(alice, acme):
    path = f"/enterprises/{acme.id}/webhooks"
    body = {"url": "http://127.0.0.1/hook"}
    first = alice.api.post(path, body, headers={"Idempotency-Key": "create-hook-1"})
    assert first.status_code == 201, first.content
    assert first["Cache-Control"] == "no-store"
    secret = first.json()["secret"]
    repeat = alice.api.post(path, body, headers={"Idempotency-Key": "create-hook-1"})
    assert (repeat.status_code, error_code(repeat)) == (409, "answer_not_kept")
    assert repeat["Idempotent-Replayed"] == "true"
    assert Endpoint.objects.count() == 1  # the repeat did not make a second endpoint
    rotate = f"/webhooks/{first.json()['id']}/rotate-secret"
    rotated = alice.api.post(rotate, headers={"Idempotency-Key": "rotate-1"})
    assert rotated["Cache-Control"] == "no-store"
    again = alice.api.post(rotate, headers={"Idempotency-Key": "rotate-1"})
    assert (again.status_code, error_code(again)) == (409, "answer_not_kept")
    stored = _everything_stored()
    assert secret.encode() not in stored
    assert rotated.json()["secret"].encode() not in stored
