"""An enterprise's webhook endpoints: register, change, rotate the secret, delete.

Managing webhooks needs `manage_enterprise`; another enterprise's endpoint is 404 (tenancy
first). The signing secret is sealed in the vault and returned once, by the call that made it.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portsign.accounts.models import User
from portsign.common.audit import record_event
from portsign.common.errors import Conflict, Invalid, NotFound
from portsign.contracts.events import EVENTS
from portsign.enterprises.enums import Permission
from portsign.enterprises.models import Enterprise
from portsign.enterprises.rules import enterprise_for
from portsign.eport import events as eport_events
from portsign.pki.vault import discard_secret, seal_secret
from portsign.webhooks.domain import targets
from portsign.webhooks.domain.signature import new_secret
from portsign.webhooks.models import Endpoint

EVENT_LABELS: dict[str, Promise] = {
    "sent": gettext_lazy("Sent for signing"),
    "signed": gettext_lazy("Signed by a party"),
    "completed": gettext_lazy("Completed"),
    "rejected": gettext_lazy("Rejected"),
    "revoked": gettext_lazy("Revoked"),
    "expired": gettext_lazy("Expired unsigned"),
    "voided": gettext_lazy("Voided"),
    eport_events.APPROVED: gettext_lazy("E-Port filing approved"),
    eport_events.RETURNED: gettext_lazy("E-Port filing returned"),
    eport_events.AGREEMENT_SIGNED: gettext_lazy("Paperless agreement signed"),
    eport_events.AGREEMENT_RECEIVED: gettext_lazy("Paperless agreement received by customs"),
    eport_events.AGREEMENT_APPROVED: gettext_lazy("Paperless agreement approved"),
    eport_events.AGREEMENT_RETURNED: gettext_lazy("Paperless agreement returned"),
    eport_events.AGREEMENT_TERMINATED: gettext_lazy("Paperless agreement terminated"),
    eport_events.ENTRUSTMENT_CREATED: gettext_lazy("Declaration entrustment awaiting confirmation"),
    eport_events.ENTRUSTMENT_EFFECTIVE: gettext_lazy("Declaration entrustment effective"),
    eport_events.ENTRUSTMENT_REFUSED: gettext_lazy("Declaration entrustment refused"),
    eport_events.ENTRUSTMENT_REVOKED: gettext_lazy("Declaration entrustment revoked"),
    eport_events.ENTRUSTMENT_EXPIRED: gettext_lazy("Declaration entrustment expired"),
}
# What an endpoint may subscribe to: contract events (the default) and E-Port events.
ALL_EVENTS = (*EVENTS, *eport_events.EVENTS)


def manageable_enterprise(*, actor: User, enterprise_id: str) -> Enterprise:
    return enterprise_for(
        user=actor, enterprise_id=enterprise_id, permission=Permission.MANAGE_ENTERPRISE
    )


def manageable_endpoint(*, actor: User, endpoint_id: str) -> Endpoint:
    """The endpoint, when the actor manages its enterprise; 404 outside the enterprise."""
    endpoint = Endpoint.objects.select_related("enterprise").filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound()
    manageable_enterprise(actor=actor, enterprise_id=endpoint.enterprise_id)
    return endpoint


def endpoints_of(*, actor: User, enterprise_id: str) -> QuerySet[Endpoint]:
    enterprise = manageable_enterprise(actor=actor, enterprise_id=enterprise_id)
    return Endpoint.objects.filter(enterprise=enterprise)


def clean_events(raw: Iterable[str]) -> list[str]:
    """The subscribed events in their canonical order; unknown names or none at all are 400."""
    wanted = set(raw)
    unknown = sorted(wanted - set(ALL_EVENTS))
    if unknown or not wanted:
        message = _("Choose one or more of: %(events)s.") % {"events": ", ".join(ALL_EVENTS)}
        raise Invalid(message, code="webhook_events", fields={"events": message})
    return [name for name in ALL_EVENTS if name in wanted]


def create_endpoint(
    *, actor: User, enterprise_id: str, url: str, events: Iterable[str] | None = None
) -> tuple[Endpoint, str]:
    """A new endpoint and its signing secret, which is not shown again."""
    enterprise = manageable_enterprise(actor=actor, enterprise_id=enterprise_id)
    clean_url = targets.check_url(url)  # may resolve the host: outside the transaction
    names = clean_events(EVENTS if events is None else events)
    secret = new_secret()
    with transaction.atomic():
        # The enterprise row is the lock that makes the endpoint limit hold under concurrency.
        Enterprise.objects.select_for_update().filter(pk=enterprise.pk).first()
        if Endpoint.objects.filter(enterprise=enterprise).count() >= settings.WEBHOOK_MAX_ENDPOINTS:
            raise Conflict(
                _("An enterprise has at most %(n)d webhook endpoints.")
                % {"n": settings.WEBHOOK_MAX_ENDPOINTS},
                code="webhook_limit",
            )
        endpoint = Endpoint.objects.create(
            enterprise=enterprise,
            url=clean_url,
            events=names,
            secret=seal_secret(secret.encode()),
            created_by=actor,
        )
        _audit(endpoint, actor, "webhook.created", {"url": clean_url, "events": names})
    return endpoint, secret


def update_endpoint(
    *,
    actor: User,
    endpoint_id: str,
    url: str | None = None,
    events: Iterable[str] | None = None,
    active: bool | None = None,
) -> Endpoint:
    manageable_endpoint(actor=actor, endpoint_id=endpoint_id)
    clean_url = targets.check_url(url) if url is not None else None
    names = clean_events(events) if events is not None else None
    with transaction.atomic():
        endpoint = Endpoint.objects.select_for_update().get(pk=endpoint_id)
        changes: dict[str, object] = {}
        if clean_url is not None:
            endpoint.url = changes["url"] = clean_url
        if names is not None:
            endpoint.events = changes["events"] = names
        if active is not None:
            endpoint.active = changes["active"] = active
        if changes:
            endpoint.save(update_fields=list(changes))
            _audit(endpoint, actor, "webhook.updated", changes)
    return endpoint


def rotate_secret(*, actor: User, endpoint_id: str) -> tuple[Endpoint, str]:
    """A new signing secret, used from the next attempt on; the old one is destroyed."""
    manageable_endpoint(actor=actor, endpoint_id=endpoint_id)
    secret = new_secret()
    with transaction.atomic():
        endpoint = Endpoint.objects.select_for_update().get(pk=endpoint_id)
        old = endpoint.secret_id
        endpoint.secret = seal_secret(secret.encode())
        endpoint.secret_rotated_at = timezone.now()
        endpoint.save(update_fields=["secret", "secret_rotated_at"])
        discard_secret(old)
        _audit(endpoint, actor, "webhook.secret_rotated", {})
    return endpoint, secret


def delete_endpoint(*, actor: User, endpoint_id: str) -> None:
    """The endpoint, its delivery log and its secret go; pending deliveries are not sent."""
    manageable_endpoint(actor=actor, endpoint_id=endpoint_id)
    with transaction.atomic():
        endpoint = Endpoint.objects.select_for_update().filter(pk=endpoint_id).first()
        if endpoint is None:
            raise NotFound()
        _audit(endpoint, actor, "webhook.deleted", {"url": endpoint.url})
        secret_id = endpoint.secret_id
        endpoint.delete()
        discard_secret(secret_id)


def _audit(endpoint: Endpoint, actor: User, action: str, data: dict[str, object]) -> None:
    record_event(
        action=action,
        actor_id=actor.id,
        acting_as=endpoint.enterprise_id,
        object_type="webhook",
        object_id=endpoint.id,
        data=data,
    )
