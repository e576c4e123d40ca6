"""Contracts plug into one-click transfer (一键转交, SPEC B5): what a departing member holds of
the enterprise's contract work goes to the successor the administrator names for each kind.

- `contract`: drafts and contracts being signed that the member sent for the enterprise;
- `signing_party`: the enterprise's parties the member is asked to sign for, not yet signed;
- `template`: the enterprise's templates the member made (not archived);
- `bulk_send`: the member's bulk sends for the enterprise.

Finished contracts keep their sender (they are history); the enterprise's viewers still see
them, the departed member no longer does (`contracts.visible_to`).
"""

from __future__ import annotations

from django.db.models import QuerySet

from portsign.contracts.domain import involvement
from portsign.contracts.enums import OPEN_STATUSES, PartyKind, PartyStatus
from portsign.contracts.models import Contract, Party
from portsign.contracts.template_models import BulkSend, Template
from portsign.enterprises.models import Membership
from portsign.enterprises.transfer import Transferable, register


def _contracts(member: Membership) -> QuerySet[Contract]:
    return Contract.objects.filter(
        sender_id=member.user_id,
        sender_enterprise_id=member.enterprise_id,
        status__in=OPEN_STATUSES,
    )


def _move_contracts(source: Membership, target: Membership, actor_id: str) -> list[str]:
    moved = list(_contracts(source))
    for contract in moved:
        Contract.objects.filter(pk=contract.pk).update(sender_id=target.user_id)
        contract.sender_id = target.user_id
        involvement.refresh(contract)  # the boxes follow the sender
    return [c.id for c in moved]


def _parties(member: Membership) -> QuerySet[Party]:
    return Party.objects.filter(
        kind=PartyKind.ENTERPRISE,
        enterprise_id=member.enterprise_id,
        user_id=member.user_id,
        status__in=(PartyStatus.WAITING, PartyStatus.PENDING),
        contract__status__in=OPEN_STATUSES,
    )


def _move_parties(source: Membership, target: Membership, actor_id: str) -> list[str]:
    moved = list(_parties(source).select_related("contract"))
    address = target.user.phone or target.user.email or ""
    for party in moved:
        Party.objects.filter(pk=party.pk).update(user_id=target.user_id, account=address)
        involvement.refresh(party.contract)
    return [p.id for p in moved]


def _templates(member: Membership) -> QuerySet[Template]:
    return Template.objects.filter(
        created_by_id=member.user_id, enterprise_id=member.enterprise_id, archived_at__isnull=True
    )


def _move_templates(source: Membership, target: Membership, actor_id: str) -> list[str]:
    ids = list(_templates(source).values_list("id", flat=True))
    Template.objects.filter(pk__in=ids).update(created_by_id=target.user_id)
    return ids


def _bulk_sends(member: Membership) -> QuerySet[BulkSend]:
    return BulkSend.objects.filter(
        sender_id=member.user_id, sender_enterprise_id=member.enterprise_id
    )


def _move_bulk_sends(source: Membership, target: Membership, actor_id: str) -> list[str]:
    ids = list(_bulk_sends(source).values_list("id", flat=True))
    BulkSend.objects.filter(pk__in=ids).update(sender_id=target.user_id)
    return ids


register(Transferable("contract", lambda m: _contracts(m).count(), _move_contracts))
register(Transferable("signing_party", lambda m: _parties(m).count(), _move_parties))
register(Transferable("template", lambda m: _templates(m).count(), _move_templates))
register(Transferable("bulk_send", lambda m: _bulk_sends(m).count(), _move_bulk_sends))
