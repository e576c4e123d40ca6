"""After sending (issue 6 §5): reminders (催签), automatic reminders before the deadline, and
extending the deadline while the contract is being signed."""

from __future__ import annotations

import datetime as dt
import math

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portsign.accounts.models import User
from portsign.common.audit import record_event
from portsign.common.dates import to_utc
from portsign.common.errors import Conflict, Invalid, RateLimited
from portsign.contracts.domain import fills
from portsign.contracts.domain.contracts import (
    contract_url,
    followed_contract,
    local_deadline,
    tell,
)
from portsign.contracts.enums import ContractStatus, PartyStatus
from portsign.contracts.models import Contract, Party


def _remind(contract: Contract, party: Party, *, automatic: bool) -> None:
    values = {
        "title": contract.title,
        "deadline": local_deadline(contract),
        "url": contract_url(contract),
    }
    if fills.pending_fill(party) is not None:
        subject = _("Reminder: a contract waits for you to fill in your part")
        text = _("Reminder: fill in your part of “%(title)s” by %(deadline)s: %(url)s") % values
    else:
        subject = _("Reminder: a contract waits for your signature")
        text = _("Reminder: “%(title)s” waits for your signature until %(deadline)s: %(url)s") % (
            values
        )
    tell(
        party.account,
        contract,
        subject=subject,
        text=text,
        event="auto_reminder" if automatic else "reminder",
    )


def remind(*, actor: User, contract_id: str) -> int:
    """The sender reminds every party whose turn it is; at most once per interval."""
    with transaction.atomic():
        contract = followed_contract(actor, contract_id, lock=True)
        if contract.status != ContractStatus.SIGNING:
            raise Conflict(_("Only a contract being signed can be reminded."), code="not_signing")
        now = timezone.now()
        interval = dt.timedelta(minutes=settings.CONTRACT_REMIND_MINUTES)
        if contract.reminded_at and now - contract.reminded_at < interval:
            wait = math.ceil((contract.reminded_at + interval - now).total_seconds())
            raise RateLimited(
                _(
                    "The parties were reminded recently. You can remind them again in %(minutes)d "
                    "minutes."
                )
                % {"minutes": max(1, wait // 60)},
                code="remind_too_soon",
                retry_after=wait,
            )
        pending = list(contract.parties.filter(status=PartyStatus.PENDING))
        for party in pending:
            _remind(contract, party, automatic=False)
        contract.reminded_at = now
        contract.save(update_fields=["reminded_at"])
        record_event(
            action="contract.reminded",
            actor_id=actor.id,
            acting_as=contract.sender_enterprise_id or "",
            object_type="contract",
            object_id=contract.id,
            data={"parties": str(len(pending))},
        )
    return len(pending)


def send_due_reminders(now: dt.datetime | None = None) -> int:
    """Remind pending parties once, CONTRACT_AUTO_REMIND_HOURS before the deadline. Run by
    `manage.py cleanup` (hourly in production) — no extra service in embedded mode."""
    moment = now or timezone.now()
    soon = moment + dt.timedelta(hours=settings.CONTRACT_AUTO_REMIND_HOURS)
    due = Party.objects.filter(
        status=PartyStatus.PENDING,
        auto_reminded_at__isnull=True,
        contract__status=ContractStatus.SIGNING,
        contract__deadline__gt=moment,
        contract__deadline__lte=soon,
    ).select_related("contract")
    sent = 0
    for party in due[:500]:
        with transaction.atomic():
            claimed = Party.objects.filter(pk=party.pk, auto_reminded_at__isnull=True).update(
                auto_reminded_at=moment
            )
            if not claimed:
                continue
            _remind(party.contract, party, automatic=True)
            record_event(
                action="contract.auto_reminded",
                object_type="contract",
                object_id=party.contract_id,
                data={"party": party.id},
            )
            sent += 1
    return sent


def extend_deadline(*, actor: User, contract_id: str, deadline: dt.datetime) -> Contract:
    """The sender moves the deadline while the contract is being signed."""
    deadline = to_utc(deadline, field="deadline", code="deadline_range")
    with transaction.atomic():
        contract = followed_contract(actor, contract_id, lock=True)
        if contract.status != ContractStatus.SIGNING:
            raise Conflict(
                _("Only the deadline of a contract being signed can be changed."),
                code="not_signing",
            )
        if deadline <= timezone.now():
            message = _("The signing deadline must be in the future.")
            raise Invalid(message, code="deadline_past", fields={"deadline": message})
        previous = contract.deadline
        contract.deadline = deadline
        contract.save(update_fields=["deadline"])
        # A moved deadline earns a fresh automatic reminder.
        contract.parties.update(auto_reminded_at=None)
        record_event(
            action="contract.deadline_changed",
            actor_id=actor.id,
            acting_as=contract.sender_enterprise_id or "",
            object_type="contract",
            object_id=contract.id,
            data={"from": previous.isoformat() if previous else "", "to": deadline.isoformat()},
        )
    return contract
