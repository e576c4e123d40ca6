"""Webhook deliveries end to end against a real HTTP receiver: which events go where, the
signature, retries on schedule, no double send, delivery only after commit."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import threading
import time

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from portsign.contracts.domain import contracts as contract_domain
from portsign.webhooks.domain import deliveries
from portsign.webhooks.models import Delivery
from portsign.webhooks.tasks import task_deliver_webhook
from tests.contracts.conftest import contract_seal, give_certificate
from tests.contracts.test_signing import _marks, _sign
from tests.helpers import error_code
from tests.webhooks.conftest import draft_between, expected_signature, register, send

SCHEDULE = [10, 30, 120, 600, 3600, 21600]


def _rows(endpoint: dict) -> list[Delivery]:
    return list(Delivery.objects.filter(endpoint_id=endpoint["id"]).order_by("created_at", "id"))


def test_a_completed_two_party_contract_reaches_both_enterprises(
    receiver, alice, bob, acme, globex
):
    give_certificate(alice, acme)
    give_certificate(bob, globex)
    seals = {"acme": contract_seal(alice, acme), "globex": contract_seal(bob, globex)}
    mine = register(alice, acme, receiver.url("/acme"))
    theirs = register(bob, globex, receiver.url("/globex"))
    contract_id = draft_between(alice, acme, globex)
    send(alice, contract_id)
    assert _sign(bob, contract_id, globex.id, _marks(seals["globex"])).status_code == 200
    assert _sign(alice, contract_id, acme.id, _marks(seals["acme"])).status_code == 200

    for path, endpoint in (("/acme", mine), ("/globex", theirs)):
        got = receiver.at(path)
        assert [r.event for r in got] == ["sent", "signed", "signed", "completed"]
        assert [r.json.get("party", {}).get("name") for r in got] == [
            None,
            globex.name,
            acme.name,
            None,
        ]
        assert [r.json["contract"]["status"] for r in got] == [
            "signing",
            "signing",
            "signing",
            "completed",
        ]
        for r in got:
            assert r.headers["X-PortSign-Signature"] == expected_signature(endpoint["secret"], r)
            assert r.headers["X-PortSign-Delivery"] == r.json["id"]
            assert r.headers["X-PortSign-Event"] == r.json["event"]
            assert r.headers["Content-Type"] == "application/json"
        rows = _rows(endpoint)
        assert [(d.id, d.event, d.status, d.attempts, d.last_status_code) for d in rows] == [
            (r.json["id"], r.event, "delivered", 1, 204) for r in got
        ]
    assert len(receiver.requests) == 8

    completed = receiver.at("/acme")[-1]
    body = completed.json
    signed_at = [p["signed_at"] for p in body["contract"]["parties"]]
    assert all(signed_at)
    assert body == {
        "id": completed.headers["X-PortSign-Delivery"],
        "event": "completed",
        "created_at": body["created_at"],
        "contract": {
            "id": contract_id,
            "title": "集装箱理货协议",
            "status": "completed",
            "sender_enterprise": {"id": acme.id, "name": acme.name},
            "parties": [
                {
                    "id": body["contract"]["parties"][0]["id"],
                    "order": 1,
                    "kind": "enterprise",
                    "name": globex.name,
                    "account": "+86138****0002",
                    "status": "signed",
                    "signed_at": signed_at[0],
                },
                {
                    "id": body["contract"]["parties"][1]["id"],
                    "order": 2,
                    "kind": "enterprise",
                    "name": acme.name,
                    "account": "+86138****0001",
                    "status": "signed",
                    "signed_at": signed_at[1],
                },
            ],
        },
    }
    # No personal data beyond names: accounts are masked everywhere.
    for r in receiver.requests:
        assert b"13800000001" not in r.body
        assert b"13800000002" not in r.body


def test_the_signature_binds_the_timestamp_and_the_body(receiver, alice, bob, acme, globex):
    endpoint = register(alice, acme, receiver.url(), ["sent"])
    send(alice, draft_between(alice, acme, globex))
    (got,) = receiver.requests
    secret = endpoint["secret"]
    timestamp = int(got.headers["X-PortSign-Timestamp"])
    assert abs(timestamp - timezone.now().timestamp()) < 60
    assert got.headers["X-PortSign-Signature"] == expected_signature(secret, got)
    replayed = type(got)(
        got.path, {**got.headers, "X-PortSign-Timestamp": str(timestamp + 1)}, got.body
    )
    assert got.headers["X-PortSign-Signature"] != expected_signature(secret, replayed)
    tampered = type(got)(got.path, got.headers, got.body.replace(b"signing", b"complete"))
    assert got.headers["X-PortSign-Signature"] != expected_signature(secret, tampered)
    assert got.headers["X-PortSign-Signature"] != expected_signature(secret + "x", got)


def _at(moment: dt.datetime):
    """An injected clock standing at *moment*."""
    return lambda: moment


def test_a_failing_receiver_is_retried_on_schedule_and_reached_once_back(
    receiver, alice, bob, acme, globex
):
    endpoint = register(alice, acme, receiver.url(), ["sent"])
    receiver.status = 500
    before = timezone.now()
    send(alice, draft_between(alice, acme, globex))
    after = timezone.now()
    (row,) = _rows(endpoint)
    assert (row.status, row.attempts, row.last_status_code, row.last_error) == (
        "pending",
        1,
        500,
        "HTTP 500",
    )
    assert row.last_response == "x" * 200  # the receiver said 500 characters; 200 are kept
    delay = dt.timedelta(seconds=SCHEDULE[0])
    assert before + delay <= row.next_attempt_at <= after + delay

    moment = row.next_attempt_at
    for attempt, wait in enumerate(SCHEDULE[1:4], start=2):
        assert deliveries.deliver_due(clock=_at(moment - dt.timedelta(seconds=1))) == 0
        assert len(receiver.requests) == attempt - 1  # not a second early
        assert deliveries.deliver_due(clock=_at(moment)) == 1
        assert len(receiver.requests) == attempt
        row.refresh_from_db()
        assert (row.status, row.attempts) == ("pending", attempt)
        assert row.next_attempt_at == moment + dt.timedelta(seconds=wait)
        moment = row.next_attempt_at

    receiver.status = 200  # the receiver is back
    assert deliveries.deliver_due(clock=_at(moment)) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_status_code, row.last_error) == (
        "delivered",
        5,
        200,
        "",
    )
    assert (row.next_attempt_at, row.delivered_at) == (None, moment)
    assert deliveries.deliver_due(clock=_at(moment + dt.timedelta(days=1))) == 0
    # Five attempts of one delivery: the same id and body, each signed for its own timestamp.
    assert len(receiver.requests) == 5
    assert {r.headers["X-PortSign-Delivery"] for r in receiver.requests} == {row.id}
    assert {r.body for r in receiver.requests} == {row.payload.encode()}
    assert receiver.requests[-1].headers["X-PortSign-Timestamp"] == str(int(moment.timestamp()))
    for r in receiver.requests:
        assert r.headers["X-PortSign-Signature"] == expected_signature(endpoint["secret"], r)


def test_after_the_last_attempt_the_delivery_fails_and_can_be_sent_again(
    receiver, alice, bob, acme, globex
):
    endpoint = register(alice, acme, receiver.url(), ["sent"])
    receiver.status = 503
    send(alice, draft_between(alice, acme, globex))
    (row,) = _rows(endpoint)
    times = [row.next_attempt_at - dt.timedelta(seconds=SCHEDULE[0])]
    while row.status == "pending":
        times.append(row.next_attempt_at)
        assert deliveries.deliver_due(clock=_at(row.next_attempt_at)) == 1
        row.refresh_from_db()
    assert [b - a for a, b in itertools.pairwise(times)] == [
        dt.timedelta(seconds=s) for s in SCHEDULE
    ]
    assert (row.status, row.attempts, row.next_attempt_at, row.last_error) == (
        "failed",
        7,
        None,
        "HTTP 503",
    )
    assert len(receiver.requests) == 7
    assert deliveries.deliver_due(clock=_at(times[-1] + dt.timedelta(days=30))) == 0

    receiver.status = 204
    path = f"/webhooks/{endpoint['id']}/deliveries/{row.id}/redeliver"
    again = alice.api.post(path)
    assert again.status_code == 202, again.content
    assert (again.json()["status"], again.json()["attempts"]) == ("delivered", 1)
    assert len(receiver.requests) == 8
    assert receiver.requests[-1].json["id"] == row.id
    repeated = alice.api.post(path)
    assert (repeated.status_code, error_code(repeated)) == (409, "not_failed")
    assert len(receiver.requests) == 8


def test_a_task_that_runs_twice_sends_once(receiver, alice, bob, acme, globex):
    endpoint = register(alice, acme, receiver.url(), ["sent", "revoked"])
    contract_id = draft_between(alice, acme, globex)
    send(alice, contract_id)
    (row,) = _rows(endpoint)
    for _ in range(2):  # e.g. a broker redelivering the message
        task_deliver_webhook.apply(kwargs={"delivery_id": row.id})
    assert len(receiver.requests) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("delivered", 1)

    # An attempt in flight: a second run (task or sweep) leaves it to the first.
    receiver.hold = threading.Event()
    receiver.arrived.clear()
    worker = threading.Thread(
        target=lambda: (
            alice.api.post(f"/contracts/{contract_id}/revoke", {"reason": ""}),
            connection.close(),
        )
    )
    worker.start()
    assert receiver.arrived.wait(timeout=20)
    revoked = Delivery.objects.get(endpoint_id=endpoint["id"], event="revoked")
    assert (revoked.status, revoked.attempts) == ("pending", 1)
    assert revoked.next_attempt_at > timezone.now()  # the lease of the running attempt
    task_deliver_webhook.apply(kwargs={"delivery_id": revoked.id})
    assert deliveries.deliver_due() == 0
    receiver.hold.set()
    worker.join(timeout=20)
    assert [r.event for r in receiver.requests] == ["sent", "revoked"]
    revoked.refresh_from_db()
    assert (revoked.status, revoked.attempts) == ("delivered", 1)


def test_nothing_is_sent_for_a_change_that_rolls_back(receiver, alice, bob, acme, globex):
    endpoint = register(alice, acme, receiver.url())
    contract_id = draft_between(alice, acme, globex)
    send(alice, contract_id)
    assert [r.event for r in receiver.requests] == ["sent"]
    inside: list[tuple[int, int]] = []

    def revoke_then_fail() -> None:
        with transaction.atomic():
            contract_domain.revoke(actor=alice.user, contract_id=contract_id, reason="")
            # The row is written in the change's transaction, and nothing is sent before commit.
            inside.append((Delivery.objects.count(), len(receiver.requests)))
            raise RuntimeError("the change fails after the event")

    with pytest.raises(RuntimeError, match="the change fails"):
        revoke_then_fail()
    assert inside == [(2, 1)]
    assert Delivery.objects.count() == 1
    assert len(receiver.requests) == 1
    contract_domain.revoke(actor=alice.user, contract_id=contract_id, reason="")
    assert [r.event for r in receiver.requests] == ["sent", "revoked"]
    assert [d.status for d in _rows(endpoint)] == ["delivered", "delivered"]


def test_only_subscribed_events_reach_active_endpoints_of_concerned_enterprises(
    receiver, alice, bob, charlie, acme, globex
):
    from tests.helpers import make_enterprise

    register(alice, acme, receiver.url("/acme-completed"), ["completed"])
    register(alice, acme, receiver.url("/acme-rejected"), ["rejected"])
    register(bob, globex, receiver.url("/globex"), ["sent", "rejected"])
    off = register(bob, globex, receiver.url("/globex-off"))
    assert bob.api.patch(f"/webhooks/{off['id']}", {"active": False}).status_code == 200
    stranger = make_enterprise(charlie, "Initech Shipping Co., Ltd.", 3)
    register(charlie, stranger, receiver.url("/stranger"))
    contract_id = draft_between(alice, acme, globex)
    send(alice, contract_id)
    rejected = bob.api.post(
        f"/contracts/{contract_id}/reject", {"acting_as": globex.id, "reason": "价格有误"}
    )
    assert rejected.status_code == 200, rejected.content
    got = sorted((r.path, r.event) for r in receiver.requests)
    assert got == [("/acme-rejected", "rejected"), ("/globex", "rejected"), ("/globex", "sent")]
    assert {r.json["party"]["name"] for r in receiver.requests if r.event == "rejected"} == {
        globex.name
    }
    # The reason is the party's own words, not a name: it is not sent.
    assert "价格有误".encode() not in b"".join(r.body for r in receiver.requests)
    assert Delivery.objects.count() == 3
    assert not Delivery.objects.filter(endpoint_id=off["id"]).exists()


def test_cleanup_and_the_deliver_command_send_due_retries(receiver, alice, bob, acme, globex):
    endpoint = register(alice, acme, receiver.url(), ["sent"])
    receiver.status = 500
    send(alice, draft_between(alice, acme, globex))
    (row,) = _rows(endpoint)
    out = io.StringIO()
    call_command("webhooks", "deliver", stdout=out)
    assert out.getvalue() == "webhooks: 0 due deliveries attempted\n"  # 10 s are not up
    assert len(receiver.requests) == 1

    def make_due() -> None:
        Delivery.objects.filter(pk=row.pk).update(
            next_attempt_at=timezone.now() - dt.timedelta(seconds=1)
        )

    make_due()
    out = io.StringIO()
    call_command("webhooks", "deliver", stdout=out)
    assert out.getvalue() == "webhooks: 1 due deliveries attempted\n"
    row.refresh_from_db()
    assert (row.status, row.attempts, len(receiver.requests)) == ("pending", 2, 2)

    receiver.status = 204
    make_due()
    out = io.StringIO()
    call_command("cleanup", stdout=out)
    assert "webhooks_due=1, webhooks_forgotten=0" in out.getvalue()
    row.refresh_from_db()
    assert (row.status, row.attempts, len(receiver.requests)) == ("delivered", 3, 3)

    Delivery.objects.filter(pk=row.pk).update(created_at=timezone.now() - dt.timedelta(days=31))
    out = io.StringIO()
    call_command("cleanup", stdout=out)
    assert "webhooks_due=0, webhooks_forgotten=1" in out.getvalue()
    assert not Delivery.objects.exists()


def test_production_refuses_a_name_that_now_points_into_a_private_network(
    receiver, alice, bob, acme, globex, settings
):
    # Registered while testing (https needs no address check outside production) ...
    endpoint = register(alice, acme, f"https://localhost:{receiver.port}/hook", ["sent"])
    settings.PRODUCTION = True  # ... then delivered by a production server
    send(alice, draft_between(alice, acme, globex))
    (row,) = _rows(endpoint)
    assert (row.status, row.attempts, row.last_status_code) == ("pending", 1, None)
    assert row.last_error.startswith("webhook_url_private_address: ")
    assert receiver.requests == []


def test_disabling_an_endpoint_stops_its_pending_deliveries(receiver, alice, bob, acme, globex):
    endpoint = register(alice, acme, receiver.url(), ["sent"])
    receiver.status = 500
    send(alice, draft_between(alice, acme, globex))
    (row,) = _rows(endpoint)
    path = f"/webhooks/{endpoint['id']}"
    assert alice.api.patch(path, {"active": False}).status_code == 200
    assert deliveries.deliver_due(clock=_at(row.next_attempt_at)) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == ("failed", 1, "endpoint disabled")
    assert len(receiver.requests) == 1
    redeliver = f"{path}/deliveries/{row.id}/redeliver"
    refused = alice.api.post(redeliver)
    assert (refused.status_code, error_code(refused)) == (409, "webhook_disabled")
    receiver.status = 204
    assert alice.api.patch(path, {"active": True}).status_code == 200
    again = alice.api.post(redeliver)
    assert (again.status_code, again.json()["status"]) == (202, "delivered")
    assert len(receiver.requests) == 2


def test_a_slow_receiver_cannot_hold_a_worker(receiver, alice, bob, acme, globex, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    endpoint = register(alice, acme, receiver.url(), ["sent", "revoked"])
    receiver.hold = threading.Event()  # answers nothing until released
    contract_id = draft_between(alice, acme, globex)
    send(alice, contract_id)
    receiver.hold.set()
    receiver.hold = None
    (sent,) = _rows(endpoint)
    assert (sent.status, sent.last_error) == ("pending", "timed out")

    receiver.trickle = True  # a byte every 0.25 s: no read ever times out
    started = time.monotonic()
    assert deliveries.deliver_due(clock=_at(sent.next_attempt_at)) == 1
    assert 3 <= time.monotonic() - started < 6  # cut off after three timeouts
    sent.refresh_from_db()
    assert (sent.status, sent.attempts, sent.last_status_code, sent.last_error) == (
        "pending",
        2,
        None,
        "no complete answer within 3 s",
    )
