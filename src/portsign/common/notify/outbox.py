"""The notification outbox (DESIGN rule 5).

`queue_message` writes a row inside the caller's transaction and schedules delivery after
commit, so a rolled-back change never sends an SMS and a slow gateway never holds a lock.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portsign.common.models import Notification
from portsign.common.notify.base import DeliveryError, Gateway, OutgoingMessage

MAX_ATTEMPTS = 5
# A pending row this old has lost its task (or is between retries long overdue).
STUCK_AFTER = dt.timedelta(minutes=10)


@cache
def gateway_for(channel: str) -> Gateway:
    """The configured gateway of a channel, built once per process."""
    if channel == "sms":
        if settings.SMS_GATEWAY == "aliyun":
            from portsign.common.notify.aliyun import AliyunSmsGateway

            config: dict[str, Any] = dict(settings.ALIYUN_SMS)
            return AliyunSmsGateway(**config)
        from portsign.common.notify.sandbox import SandboxSmsGateway

        return SandboxSmsGateway()
    if channel == "email":
        if settings.EMAIL_GATEWAY == "smtp":
            from portsign.common.notify.smtp import SmtpEmailGateway

            return SmtpEmailGateway()
        from portsign.common.notify.sandbox import SandboxEmailGateway

        return SandboxEmailGateway()
    raise ValueError(f"unknown channel {channel!r}")


def queue_message(
    *,
    to: str,
    channel: str,
    subject: str,
    text: str,
    data: dict[str, str] | None = None,
    sender: str = "",
) -> Notification:
    if is_undeliverable(to):  # an API key's service account: nobody reads that address
        return Notification.objects.create(
            to=to,
            channel=channel,
            subject=subject,
            text=text,
            data=data or {},
            sender=sender,
            status=Notification.Status.FAILED,
            last_error="reserved address (.invalid): not sent",
        )
    note = Notification.objects.create(
        to=to, channel=channel, subject=subject, text=text, data=data or {}, sender=sender
    )
    transaction.on_commit(lambda: _schedule(note.id))
    return note


def is_undeliverable(to: str) -> bool:
    """An address under the reserved `.invalid` top-level domain (RFC 2606), which PortSign
    gives the service accounts of enterprise API keys."""
    return to.lower().endswith(".invalid")


def _schedule(notification_id: str) -> None:
    from portsign.common.tasks import task_deliver_notification

    task_deliver_notification.delay(notification_id=notification_id)


def send_now(
    *, to: str, channel: str, subject: str, text: str, data: dict[str, str] | None = None
) -> Notification:
    """A message someone is waiting for (a one-time code), sent in this request, once.

    Codes are not queued behind notices, and a failure is not retried later: a code that
    arrives minutes late is worse than a clear "not sent, try again". The caller reads the
    returned row's status (SENT or FAILED) and tells the person. Call outside transactions:
    no lock may be held while the vendor is called.
    """
    note = Notification.objects.create(
        to=to, channel=channel, subject=subject, text=text, data=data or {}
    )
    deliver_notification(notification_id=note.id, final=True)
    note.refresh_from_db()
    return note


def relay_stuck(*, now: dt.datetime) -> int:
    """Queue again what a lost task left pending (a broker restart, a killed worker): rows
    pending longer than STUCK_AFTER with attempts left (`cleanup`). Delivery is idempotent."""
    stuck = list(
        Notification.objects.filter(
            status=Notification.Status.PENDING,
            created_at__lt=now - STUCK_AFTER,
            attempts__lt=MAX_ATTEMPTS,
        ).values_list("id", flat=True)[:1000]
    )
    for notification_id in stuck:
        _schedule(notification_id)
    return len(stuck)


def within_notice_budget(*, to: str, sender: str) -> bool:
    """Whether one more notice from *sender* to *to* fits both hourly budgets.

    Only notices caused by someone else count (rows with a sender); a soft limit: two
    concurrent sends may both pass the last free slot, which is harmless.
    """
    since = timezone.now() - dt.timedelta(hours=1)
    recent = Notification.objects.filter(created_at__gte=since).exclude(sender="")
    return (
        recent.filter(to=to).count() < settings.NOTICE_RECIPIENT_HOURLY_LIMIT
        and recent.filter(sender=sender).count() < settings.NOTICE_SENDER_HOURLY_LIMIT
    )


def queue_notice(
    *,
    to: str,
    channel: str,
    subject: str,
    text: str,
    sender: str,
    data: dict[str, str] | None = None,
) -> Notification:
    """A notice that *sender* ("e:<id>" / "u:<id>") causes someone else to receive.

    Unlike a code a person asks for, these can be made to flood any number (50 contracts to
    one phone in five seconds), so each recipient and each sender has an hourly budget. A
    notice past either is kept as HELD, not sent, and `send_digests` later tells the
    recipient once about everything held for them: nothing is lost, nobody is bombed.
    """
    if within_notice_budget(to=to, sender=sender):
        return queue_message(
            to=to, channel=channel, subject=subject, text=text, data=data, sender=sender
        )
    return Notification.objects.create(
        to=to,
        channel=channel,
        subject=subject,
        text=text,
        data=data or {},
        sender=sender,
        status=Notification.Status.HELD,
    )


def send_digests() -> int:
    """One message per recipient about the notices held for them; returns how many went.

    Run by `cleanup` (hourly), so a recipient gets at most one digest an hour on top of
    their budget. Digests carry no sender and so count against no budget.
    """
    held = Notification.objects.filter(status=Notification.Status.HELD).order_by("created_at")
    sent = 0
    for to, channel in held.values_list("to", "channel").distinct().order_by():
        with transaction.atomic():
            rows = list(held.select_for_update().filter(to=to, channel=channel))
            if not rows:
                continue  # another cleanup took them
            subjects = list(dict.fromkeys(row.subject for row in rows if row.subject))
            url = f"{settings.PUBLIC_URL}/console/contracts/"
            text = _(
                "PortSign: %(count)d more notices for you, e.g. %(subjects)s. See them all: %(url)s"
            ) % {"count": len(rows), "subjects": "; ".join(subjects[:3]), "url": url}
            queue_message(
                to=to,
                channel=channel,
                subject=_("%(count)d notices from PortSign") % {"count": len(rows)},
                text=text,
                data={"event": "digest", "count": str(len(rows)), "url": url},
            )
            Notification.objects.filter(pk__in=[row.pk for row in rows]).update(
                status=Notification.Status.DIGESTED, text="", data={}
            )
            sent += 1
    return sent


def deliver_notification(*, notification_id: str, final: bool = False) -> bool:
    """Try to deliver one pending notification. Returns True when a retry may help; with
    *final* this attempt is the last one either way."""
    note = Notification.objects.filter(pk=notification_id).first()
    if note is None or note.status != Notification.Status.PENDING:
        return False  # already delivered or given up: delivery is idempotent
    message = OutgoingMessage(
        to=note.to, channel=note.channel, subject=note.subject, text=note.text, data=note.data
    )
    # Claim this attempt with a compare-and-set instead of a row lock: no lock may be held
    # while the gateway talks to the vendor, and a redelivered task must not send twice.
    claimed = Notification.objects.filter(
        pk=note.pk, status=Notification.Status.PENDING, attempts=note.attempts
    ).update(attempts=note.attempts + 1)
    if not claimed:
        return False
    note.attempts += 1
    try:
        note.provider_id = gateway_for(note.channel).send(message)[:100]
    except DeliveryError as exc:
        note.last_error = f"{exc.provider_code} {exc}".strip()[:300]
        give_up = final or exc.permanent or note.attempts >= MAX_ATTEMPTS
        if give_up:
            note.status = Notification.Status.FAILED
            _forget_secrets(note)
        note.save(update_fields=["attempts", "last_error", "status", "text", "data"])
        return not give_up
    note.status, note.sent_at = Notification.Status.SENT, timezone.now()
    _forget_secrets(note)
    note.save(update_fields=["attempts", "provider_id", "status", "sent_at", "text", "data"])
    return False


def _forget_secrets(note: Notification) -> None:
    """Once delivery has ended, the row keeps who/when/how but not codes or link tokens."""
    note.data = {key: "***" for key in note.data}
    note.text = ""
