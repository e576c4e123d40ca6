"""Contract lists (SPEC D4): 待我签署, 待他人签署, 已完成, 我发起的, 草稿箱, 即将截止.

Each box is a filter on the contracts of the acting identity (the person, or one enterprise),
plus optional filters, newest first, paged with a total. Parties come in one prefetch query, so
a page costs a fixed number of queries whatever its size.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from portsign.accounts.models import User
from portsign.common.errors import Invalid
from portsign.contracts.domain.contracts import (
    claim_invitations,
    expire_overdue,
    link_enterprise_parties,
)
from portsign.contracts.enums import Box, ContractStatus, PartyKind, PartyStatus
from portsign.contracts.models import Contract, Party, SealApproval
from portsign.enterprises.enums import Permission
from portsign.enterprises.rules import require, resolve_acting_as

MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class Filters:
    contract_type: str = ""
    status: str = ""
    sent_from: dt.datetime | None = None
    sent_to: dt.datetime | None = None
    signed_from: dt.datetime | None = None
    signed_to: dt.datetime | None = None
    party: str = ""


@dataclass(frozen=True)
class Page:
    items: list[Contract]
    total: int
    page: int
    page_size: int


def _mine(user: User, enterprise_id: str | None) -> tuple[Q, Q]:
    """(my party's row, contracts I sent) for the acting identity."""
    if enterprise_id is None:
        party = Q(kind=PartyKind.PERSON, user=user)
        sent = Q(sender=user, sender_enterprise__isnull=True)
    else:
        party = Q(kind=PartyKind.ENTERPRISE, enterprise_id=enterprise_id)
        sent = Q(sender_enterprise_id=enterprise_id)
    return party, sent


def _box(
    box: str, user: User, enterprise_id: str | None, may_approve: bool = False
) -> QuerySet[Contract]:
    party_q, sent_q = _mine(user, enterprise_id)
    # IN on my parties' contract ids, not a correlated EXISTS: the party indexes answer it,
    # where EXISTS made SQLite probe parties once per contract of the status (1M rows:
    # 2.8 s → 56 ms for 待我签署).
    mine = Party.objects.filter(party_q).values("contract_id")
    pending = Q(pk__in=mine.filter(status=PartyStatus.PENDING))
    involved = Q(pk__in=mine) | sent_q
    rows = Contract.objects.all()
    if box == Box.TO_SIGN:
        return rows.filter(pending, status=ContractStatus.SIGNING)
    if box == Box.DUE_SOON:
        soon = timezone.now() + dt.timedelta(days=settings.CONTRACT_DUE_SOON_DAYS)
        return rows.filter(pending, status=ContractStatus.SIGNING, deadline__lte=soon)
    if box == Box.OTHERS_TO_SIGN:
        return rows.filter(involved, ~pending, status=ContractStatus.SIGNING)
    if box == Box.COMPLETED:
        return rows.filter(involved, status=ContractStatus.COMPLETED)
    if box == Box.SENT:
        return rows.filter(sent_q, sender=user).exclude(status=ContractStatus.DRAFT)
    if box == Box.DRAFTS:
        return rows.filter(sent_q, sender=user, status=ContractStatus.DRAFT)
    if box == Box.VOIDED:
        return rows.filter(involved, status=ContractStatus.VOIDED)
    if box == Box.EXPIRING:
        today = timezone.localdate()
        until = today + dt.timedelta(days=settings.CONTRACT_EXPIRING_DAYS)
        return rows.filter(
            involved,
            status=ContractStatus.COMPLETED,
            valid_until__gte=today,
            valid_until__lte=until,
        )
    if box == Box.TO_APPROVE:
        if enterprise_id is None or not may_approve:
            return rows.none()
        waiting = SealApproval.objects.filter(
            contract=OuterRef("pk"), party__enterprise_id=enterprise_id, status="pending"
        )
        return rows.filter(Exists(waiting), status=ContractStatus.SIGNING)
    message = _("Choose one of: %(boxes)s.") % {"boxes": ", ".join(Box.values)}
    raise Invalid(message, code="box", fields={"box": message})


def _filtered(rows: QuerySet[Contract], filters: Filters) -> QuerySet[Contract]:
    if filters.contract_type:
        rows = rows.filter(contract_type__name=filters.contract_type)
    if filters.status:
        if filters.status not in ContractStatus.values:
            message = _("Unknown status.")
            raise Invalid(message, code="status", fields={"status": message})
        rows = rows.filter(status=filters.status)
    if filters.sent_from:
        rows = rows.filter(sent_at__gte=filters.sent_from)
    if filters.sent_to:
        rows = rows.filter(sent_at__lt=filters.sent_to)
    if filters.signed_from:
        rows = rows.filter(completed_at__gte=filters.signed_from)
    if filters.signed_to:
        rows = rows.filter(completed_at__lt=filters.signed_to)
    if filters.party:
        term = filters.party.strip()[:100]
        named = Party.objects.filter(
            Q(enterprise_name__icontains=term) | Q(user__name__icontains=term) | Q(account=term),
            contract=OuterRef("pk"),
        )
        rows = rows.filter(Exists(named))
    return rows


def list_box(
    *,
    actor: User,
    box: str,
    acting_as: str = "personal",
    filters: Filters | None = None,
    page: int = 1,
    page_size: int = 20,
) -> Page:
    expire_overdue()
    membership = resolve_acting_as(user=actor, acting_as=acting_as)
    if membership is not None:
        require(membership, Permission.VIEW_CONTRACTS)
        link_enterprise_parties(membership.enterprise)
    else:
        claim_invitations(actor)  # parties named by this account before it registered
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        message = _("Pages start at 1 and hold 1 to %(n)d contracts.") % {"n": MAX_PAGE_SIZE}
        raise Invalid(message, code="page", fields={"page": message})
    may_approve = membership is not None and Permission.APPROVE in membership.role.permissions
    rows = _filtered(
        _box(box, actor, membership.enterprise_id if membership else None, may_approve),
        filters or Filters(),
    )
    total = rows.count()
    items = list(
        rows.select_related("sender", "sender_enterprise", "contract_type", "current")
        .prefetch_related(
            Prefetch("parties", queryset=Party.objects.select_related("user", "enterprise"))
        )
        .order_by("-created_at", "-id")[(page - 1) * page_size : page * page_size]
    )
    return Page(items=items, total=total, page=page, page_size=page_size)
