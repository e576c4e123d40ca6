"""The webhook outbox: rows written in the event's transaction, sent after commit, retried.

Mirrors the notification outbox (common/notify/outbox.py): each attempt is claimed with a
compare-and-set on `attempts` instead of a row lock, so no transaction is open while the
receiver is called and a task that runs twice sends once. A claimed attempt also pushes
`next_attempt_at` out by a lease, so a sweep running at the same time leaves it alone, while an
attempt whose worker died is picked up again once the lease has run out.

Retries: Celery waits with a countdown in production; embedded mode has no broker to wait with,
so `manage.py webhooks deliver` and `manage.py cleanup` send whatever is due.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from portsign.accounts.domain.codes import mask_address
from portsign.accounts.models import User
from portsign.common.audit import record_event
from portsign.common.errors import Conflict, Invalid, NotFound
from portsign.contracts.enums import PartyKind
from portsign.contracts.events import ContractEvent
from portsign.contracts.models import Contract, Party
from portsign.pki.vault import open_secret
from portsign.webhooks import transport
from portsign.webhooks.domain import targets
from portsign.webhooks.domain.endpoints import manageable_endpoint
from portsign.webhooks.domain.signature import sign
from portsign.webhooks.models import Delivery, Endpoint

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
# Longer than any attempt can take (connect + read timeouts), so a sweep never starts a second
# attempt beside a running one; a crashed worker's attempt is retried after it.
LEASE = dt.timedelta(minutes=2)
USER_AGENT = "PortSign-Webhooks/1"


def retry_delays() -> list[int]:
    return list(settings.WEBHOOK_RETRY_SECONDS)


def max_attempts() -> int:
    return 1 + len(retry_delays())


# -- writing the outbox (inside the event's transaction) ---------------------------------------


def concerned_enterprises(contract: Contract) -> set[str]:
    """The sending enterprise and every party enterprise."""
    ids = set(
        contract.parties.filter(enterprise__isnull=False).values_list("enterprise_id", flat=True)
    )
    if contract.sender_enterprise_id:
        ids.add(contract.sender_enterprise_id)
    return {str(i) for i in ids}


def on_contract_event(event: ContractEvent) -> None:
    """The event-bus listener: one delivery per subscribed active endpoint, queued after commit."""
    endpoints = [
        endpoint
        for endpoint in Endpoint.objects.filter(
            enterprise_id__in=concerned_enterprises(event.contract), active=True
        )
        if event.name in endpoint.events  # a JSON list: filtered here, portable across databases
    ]
    if not endpoints:
        return
    now = timezone.now()
    body = event_body(event, now)
    for endpoint in endpoints:
        delivery = Delivery(
            endpoint=endpoint,
            event=event.name,
            contract_id=event.contract.id,
            next_attempt_at=now,  # due at once: a sweep sends it should the queued task be lost
        )
        delivery.payload = json.dumps(
            {"id": delivery.id, **body}, ensure_ascii=False, separators=(",", ":")
        )
        delivery.save(force_insert=True)
        _queue(delivery.id)


def on_eport_event(name: str, enterprise_id: str, body: dict[str, Any]) -> None:
    """An E-Port event (a filing decided, an agreement or entrustment moved) for the
    enterprise's subscribed endpoints."""
    endpoints = [
        endpoint
        for endpoint in Endpoint.objects.filter(enterprise_id=enterprise_id, active=True)
        if name in endpoint.events
    ]
    now = timezone.now()
    for endpoint in endpoints:
        delivery = Delivery(endpoint=endpoint, event=name, next_attempt_at=now)
        delivery.payload = json.dumps(
            {"id": delivery.id, "event": name, "created_at": now.isoformat(), **body},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        delivery.save(force_insert=True)
        _queue(delivery.id)


def _queue(delivery_id: str) -> None:
    from portsign.webhooks.tasks import task_deliver_webhook

    transaction.on_commit(lambda: task_deliver_webhook.delay(delivery_id=delivery_id))


def event_body(event: ContractEvent, now: dt.datetime) -> dict[str, Any]:
    """What receivers learn: names and statuses, masked accounts, no other personal data."""
    contract = event.contract
    sender = contract.sender_enterprise
    parties = list(contract.parties.select_related("enterprise", "user"))
    body: dict[str, Any] = {
        "event": event.name,
        "created_at": now.isoformat(),
        "contract": {
            "id": contract.id,
            "title": contract.title,
            "status": contract.status,
            "sender_enterprise": {"id": sender.id, "name": sender.name} if sender else None,
            "parties": [_party(p) for p in parties],
        },
    }
    # A rejection names its party in the event's detail rather than as the event's party.
    party_id = event.party.id if event.party else event.detail.get("party", "")
    party = next((p for p in parties if p.id == party_id), None)
    if party is not None:
        body["party"] = _party(party)
    return body


def _party(party: Party) -> dict[str, Any]:
    if party.kind == PartyKind.ENTERPRISE:
        name = party.enterprise.name if party.enterprise else party.enterprise_name
    else:
        name = party.user.name if party.user else mask_address(party.account)
    return {
        "id": party.id,
        "order": party.position,
        "kind": party.kind,
        "name": name,
        "account": mask_address(party.account),
        "status": party.status,
        "signed_at": party.signed_at.isoformat() if party.signed_at else None,
    }


# -- sending (after commit, never inside a transaction) ----------------------------------------


def attempt(delivery_id: str, *, clock: Clock = timezone.now) -> float | None:
    """Make the attempt that is due now. Returns the seconds until the next one is due, or
    None when nothing more will happen (delivered, failed, or another worker has it)."""
    if connection.in_atomic_block:
        # Calling a receiver inside a transaction would hold locks for up to the timeouts,
        # and a rollback could not take back what was sent.
        raise RuntimeError("webhook deliveries are sent after commit, never in a transaction")
    row = Delivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if row is None or row.status != Delivery.Status.PENDING:
        return None  # delivered, given up or deleted: delivery is idempotent
    now = clock()
    if row.next_attempt_at is not None and row.next_attempt_at > now:
        return (row.next_attempt_at - now).total_seconds()  # not yet, or another worker has it
    if not row.endpoint.active:
        Delivery.objects.filter(pk=row.pk, status=Delivery.Status.PENDING).update(
            status=Delivery.Status.FAILED,
            next_attempt_at=None,
            last_error="endpoint disabled",
        )
        return None
    claimed = Delivery.objects.filter(
        pk=row.pk, status=Delivery.Status.PENDING, attempts=row.attempts
    ).update(attempts=row.attempts + 1, next_attempt_at=now + LEASE)
    if not claimed:
        return None
    row.attempts += 1
    return _send(row, clock)


def _send(row: Delivery, clock: Clock) -> float | None:
    endpoint = row.endpoint
    body = row.payload.encode()
    timestamp = int(clock().timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-PortSign-Event": row.event,
        "X-PortSign-Delivery": row.id,
        "X-PortSign-Timestamp": str(timestamp),
        "X-PortSign-Signature": sign(open_secret(endpoint.secret_id), timestamp, body),
    }
    try:
        target, address = targets.address_for_delivery(endpoint.url)
        answer = transport.post(
            target, address, body, headers, timeout=settings.WEBHOOK_TIMEOUT_SECONDS
        )
    except Invalid as exc:  # the URL's host now resolves somewhere it may not go
        return _failed(row, clock(), error=f"{exc.code}: {exc.message}", status=None, text="")
    except transport.TransportError as exc:
        return _failed(row, clock(), error=str(exc), status=None, text="")
    if 200 <= answer.status < 300:
        Delivery.objects.filter(pk=row.pk, attempts=row.attempts).update(
            status=Delivery.Status.DELIVERED,
            next_attempt_at=None,
            delivered_at=clock(),
            last_status_code=answer.status,
            last_error="",
            last_response=answer.body,
        )
        return None
    return _failed(
        row, clock(), error=f"HTTP {answer.status}", status=answer.status, text=answer.body
    )


def _failed(
    row: Delivery, now: dt.datetime, *, error: str, status: int | None, text: str
) -> float | None:
    """Schedule the next attempt after attempt n by the n-th delay, or give up after the last."""
    delays = retry_delays()
    give_up = row.attempts >= max_attempts()
    delay = None if give_up else delays[row.attempts - 1]
    Delivery.objects.filter(pk=row.pk, attempts=row.attempts).update(
        status=Delivery.Status.FAILED if give_up else Delivery.Status.PENDING,
        next_attempt_at=None if delay is None else now + dt.timedelta(seconds=delay),
        last_status_code=status,
        last_error=error[:300],
        last_response=text,
    )
    log.info(
        "webhook delivery %s to endpoint %s, attempt %d: %s%s",
        row.id,
        row.endpoint_id,
        row.attempts,
        error,
        " (gave up)" if give_up else f" (next in {delay} s)",
    )
    return None if delay is None else float(delay)


def deliver_due(*, clock: Clock = timezone.now, limit: int = 200) -> int:
    """Attempt every pending delivery whose time has come (oldest first); returns how many."""
    due = list(
        Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=clock())
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
    )
    for delivery_id in due:
        attempt(delivery_id, clock=clock)
    return len(due)


def forget_old(*, now: dt.datetime | None = None) -> int:
    """Drop finished deliveries older than WEBHOOK_LOG_DAYS from the log."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.WEBHOOK_LOG_DAYS)
    return Delivery.objects.filter(
        status__in=(Delivery.Status.DELIVERED, Delivery.Status.FAILED), created_at__lt=cutoff
    ).delete()[0]


# -- the delivery log --------------------------------------------------------------------------


def deliveries_of(*, actor: User, endpoint_id: str) -> QuerySet[Delivery]:
    endpoint = manageable_endpoint(actor=actor, endpoint_id=endpoint_id)
    return endpoint.deliveries.order_by("-created_at", "-id")


def redeliver(*, actor: User, endpoint_id: str, delivery_id: str) -> Delivery:
    """Start a failed delivery again: same id and body, a fresh series of attempts."""
    endpoint = manageable_endpoint(actor=actor, endpoint_id=endpoint_id)
    rows = Delivery.objects.filter(pk=delivery_id, endpoint=endpoint)
    if not rows.exists():
        raise NotFound()
    if not endpoint.active:
        raise Conflict(_("Enable the endpoint first."), code="webhook_disabled")
    with transaction.atomic():
        restarted = rows.filter(status=Delivery.Status.FAILED).update(
            status=Delivery.Status.PENDING, attempts=0, next_attempt_at=timezone.now()
        )
        if not restarted:
            raise Conflict(_("Only a failed delivery can be sent again."), code="not_failed")
        record_event(
            action="webhook.redelivered",
            actor_id=actor.id,
            acting_as=endpoint.enterprise_id,
            object_type="webhook",
            object_id=endpoint.id,
            data={"delivery": delivery_id},
        )
        _queue(delivery_id)
    return rows.get()
