"""Contract lists (SPEC D4): 待我签署, 待他人签署, 已完成, 我发起的, 草稿箱, 即将截止.

Each box is a filter on the contracts of the acting identity (the person, or one enterprise),
plus optional filters, newest first, paged with a total. Parties come in one prefetch query, so
a page costs a fixed number of queries whatever its size. The big boxes (everything the
identity sent or is a party of) read Involvement, one index range per identity and status;
the small ones (pending parties, drafts, approvals) the contract table.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from portsign.accounts.models import User
from portsign.common.dates import to_utc
from portsign.common.errors import Invalid
from portsign.common.paging import check_page
from portsign.contracts.domain import involvement
from portsign.contracts.domain.contracts import (
    claim_invitations,
    expire_overdue,
    link_enterprise_parties,
)
from portsign.contracts.domain.numbers import looks_like_number
from portsign.contracts.enums import Box, ContractStatus, PartyKind, PartyStatus
from portsign.contracts.models import Contract, Involvement, Party, PartyFill, SealApproval
from portsign.enterprises.enums import Permission
from portsign.enterprises.models import Membership
from portsign.enterprises.rules import require, resolve_acting_as

MAX_PAGE_SIZE = 100
_Row = TypeVar("_Row", Contract, Involvement)


@dataclass(frozen=True)
class Filters:
    q: str = ""  # a title (any part of it) or a contract number (its start), issue 13 item 7
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


# Boxes of everything the identity is involved in (a party of, or the sender of), read from
# Involvement: one identity and one status there is a range of the involvement_box index,
# newest first, so a page is a LIMIT on that range, and the total, filters included, an
# index-only count (the filter columns are copied there). Asking the contract table "a party of
# it OR sent by it" instead cannot use one index: PostgreSQL read every completed contract to
# find a busy enterprise's 33,000 (1M contracts: 1.5 s). 我发起的 reads the sender's rows
# (involvement_sent), where the contract table's own index still had to visit each contract
# for the sending identity and the filters (22,000 contracts: 0.3 s).
INVOLVED_BOXES: dict[str, str] = {
    Box.OTHERS_TO_SIGN: ContractStatus.SIGNING,
    Box.COMPLETED: ContractStatus.COMPLETED,
    Box.VOIDED: ContractStatus.VOIDED,
    Box.EXPIRING: ContractStatus.COMPLETED,
    Box.SENT: "",  # any status but draft
}


def _involved(box: str, user: User, enterprise_id: str | None) -> QuerySet[Involvement]:
    """The involvement rows of an INVOLVED_BOXES box for the acting identity."""
    rows = Involvement.objects.filter(identity=involvement.acting_identity(user.id, enterprise_id))
    if box == Box.SENT:
        return rows.filter(sender=user).exclude(status=ContractStatus.DRAFT)
    rows = rows.filter(status=INVOLVED_BOXES[box])
    if box == Box.OTHERS_TO_SIGN:
        party_q, _sent_q = _mine(user, enterprise_id)
        pending = Party.objects.filter(party_q, status=PartyStatus.PENDING)
        return rows.exclude(contract_id__in=pending.values("contract_id"))
    if box == Box.EXPIRING:
        today = timezone.localdate()
        until = today + dt.timedelta(days=settings.CONTRACT_EXPIRING_DAYS)
        return rows.filter(valid_until__gte=today, valid_until__lte=until)
    return rows


def _box(
    box: str, user: User, enterprise_id: str | None, may_approve: bool = False
) -> QuerySet[Contract]:
    """The other boxes, straight from the contract table: each is small (pending parties, a
    sender's drafts, approvals) and found through an index of its own."""
    party_q, sent_q = _mine(user, enterprise_id)
    # IN on my parties' contract ids, not a correlated EXISTS: the party indexes answer it,
    # where EXISTS made SQLite probe parties once per contract of the status (1M rows:
    # 2.8 s → 56 ms for 待我签署).
    pending = Q(
        pk__in=Party.objects.filter(party_q, status=PartyStatus.PENDING).values("contract_id")
    )
    rows = Contract.objects.all()
    if box == Box.TO_SIGN:
        return rows.filter(pending, status=ContractStatus.SIGNING)
    if box == Box.DUE_SOON:
        soon = timezone.now() + dt.timedelta(days=settings.CONTRACT_DUE_SOON_DAYS)
        return rows.filter(pending, status=ContractStatus.SIGNING, deadline__lte=soon)
    if box == Box.DRAFTS:
        return rows.filter(sent_q, sender=user, status=ContractStatus.DRAFT)
    if box == Box.TO_APPROVE:
        if enterprise_id is None or not may_approve:
            return rows.none()
        waiting = SealApproval.objects.filter(
            contract=OuterRef("pk"), party__enterprise_id=enterprise_id, status="pending"
        )
        return rows.filter(Exists(waiting), status=ContractStatus.SIGNING)
    message = _("Choose one of: %(boxes)s.") % {"boxes": ", ".join(Box.values)}
    raise Invalid(message, code="box", fields={"box": message})


def _filtered(rows: QuerySet[_Row], filters: Filters) -> QuerySet[_Row]:
    """*rows*, contracts or involvement rows (which copy the columns filtered on), narrowed."""
    if filters.contract_type:
        rows = rows.filter(contract_type__name=filters.contract_type)
    if filters.status:
        if filters.status not in ContractStatus.values:
            message = _("Unknown status.")
            raise Invalid(message, code="status", fields={"status": message})
        rows = rows.filter(status=filters.status)
    if filters.sent_from:
        rows = rows.filter(sent_at__gte=to_utc(filters.sent_from, field="sent_from"))
    if filters.sent_to:
        rows = rows.filter(sent_at__lt=to_utc(filters.sent_to, field="sent_to"))
    if filters.signed_from:
        rows = rows.filter(completed_at__gte=to_utc(filters.signed_from, field="signed_from"))
    if filters.signed_to:
        rows = rows.filter(completed_at__lt=to_utc(filters.signed_to, field="signed_to"))
    if filters.party:
        rows = _named(rows, filters.party.strip()[:100])
    if filters.q.strip():
        rows = _searched(rows, filters.q.strip()[:100])
    return rows


def _searched(rows: QuerySet[_Row], term: str) -> QuerySet[_Row]:
    """Rows of contracts whose number starts with *term* when it looks like one ("PS-2026-00"),
    else whose title contains it. Involvement rows join their contract for it: the search is
    on the identity's own rows, so the join probes contracts by primary key."""
    prefix = "contract__" if rows.model is Involvement else ""
    if looks_like_number(term):
        return rows.filter(**{f"{prefix}number__startswith": term.upper()})
    return rows.filter(**{f"{prefix}title__icontains": term})


def _named(rows: QuerySet[_Row], term: str) -> QuerySet[_Row]:
    """Rows of contracts with a party so named (enterprise name, person's name or account)."""
    named = Party.objects.filter(
        Q(enterprise_name__icontains=term) | Q(user__name__icontains=term) | Q(account=term),
        contract=OuterRef("contract_id" if rows.model is Involvement else "pk"),
    )
    # A scalar subquery, not EXISTS: PostgreSQL turns EXISTS into a semi-join and, for a big
    # box, hashes every party of every contract (1M contracts: 0.65–0.9 s); this probes only
    # the parties of the identity's own contracts, through the party's contract index, and
    # stops at the first match (unordered: Party's default order would sort them). Users are
    # joined per probe rather than matched in a hashed subquery, whose planning cost per probe
    # made PostgreSQL compile the count with JIT (+0.25 s at 1M).
    first = named.order_by().values("pk")[:1]
    return rows.alias(named_party=Subquery(first)).filter(named_party__isnull=False)


def todo_counts(user: User, memberships: list[Membership]) -> dict[str, int]:
    """What waits for *user* in each identity ("personal", then each enterprise id): 待我签署,
    plus 需要我审批 where their role approves seal use (the header's identity switcher)."""
    counts = {"personal": _box(Box.TO_SIGN, user, None).count()}
    for membership in memberships:
        enterprise_id = membership.enterprise_id
        count = _box(Box.TO_SIGN, user, enterprise_id).count()
        if Permission.APPROVE in membership.role.permissions:
            count += _box(Box.TO_APPROVE, user, enterprise_id, may_approve=True).count()
        counts[enterprise_id] = count
    return counts


def _viewer(actor: User, acting_as: str) -> tuple[Membership | None, str | None, bool]:
    """The acting membership (None: personally), its enterprise id, and whether it approves;
    404 for an identity that is not the actor's, 403 without the right to view contracts."""
    membership = resolve_acting_as(user=actor, acting_as=acting_as)
    if membership is None:
        return None, None, False
    require(membership, Permission.VIEW_CONTRACTS)
    return membership, membership.enterprise_id, Permission.APPROVE in membership.role.permissions


def box_counts(*, actor: User, acting_as: str = "personal") -> dict[str, int]:
    """How many contracts each box (tab) holds for the acting identity, without filters: one
    count per box, each on the index its listing uses, whatever the number of contracts."""
    _membership, enterprise_id, may_approve = _viewer(actor, acting_as)
    counts: dict[str, int] = {}
    for box in Box.values:
        if box in INVOLVED_BOXES:
            counts[box] = _involved(box, actor, enterprise_id).count()
        else:
            counts[box] = _box(box, actor, enterprise_id, may_approve).count()
    return counts


def signable(*, actor: User, acting_as: str, items: list[Contract]) -> set[str]:
    """The ids among *items* (parties prefetched, as list_box gives them) that the actor may
    sign now as the acting identity: its party is the one asked (待签), with nothing left to
    fill in first, and an enterprise role that may apply seals. At most two queries."""
    membership = resolve_acting_as(user=actor, acting_as=acting_as)
    if membership is not None and Permission.USE_SEALS not in membership.role.permissions:
        return set()
    mine: dict[str, str] = {}  # party id → contract id
    for contract in items:
        if contract.status != ContractStatus.SIGNING:
            continue
        for party in contract.parties.all():
            if party.status == PartyStatus.PENDING and (
                party.enterprise_id == membership.enterprise_id
                if membership is not None
                else party.kind == PartyKind.PERSON and party.user_id == actor.id
            ):
                mine[party.id] = contract.id
    if not mine:
        return set()
    filling = set(
        PartyFill.objects.filter(party_id__in=mine, filled_at__isnull=True).values_list(
            "party_id", flat=True
        )
    )
    return {contract_id for party_id, contract_id in mine.items() if party_id not in filling}


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
    membership, enterprise_id, may_approve = _viewer(actor, acting_as)
    if membership is not None:
        link_enterprise_parties(membership.enterprise)
    else:
        claim_invitations(actor)  # parties named by this account before it registered
    check_page(page)
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        message = _("A page holds 1 to %(n)d contracts.") % {"n": MAX_PAGE_SIZE}
        raise Invalid(message, code="page_size", fields={"page_size": message})
    start, stop = (page - 1) * page_size, page * page_size
    rows: QuerySet[Contract]
    if box in INVOLVED_BOXES:
        involved = _filtered(_involved(box, actor, enterprise_id), filters or Filters())
        total = involved.count()
        # The page's ids in a LIMITed subquery on the involvement index, then those contracts.
        ids = involved.order_by("-created_at", "-contract_id").values("contract_id")[start:stop]
        rows, start, stop = Contract.objects.filter(pk__in=ids), 0, page_size
    else:
        rows = _filtered(_box(box, actor, enterprise_id, may_approve), filters or Filters())
        total = rows.count()
    items = list(
        rows.select_related("sender", "sender_enterprise", "contract_type", "current")
        .prefetch_related(
            Prefetch("parties", queryset=Party.objects.select_related("user", "enterprise"))
        )
        .order_by("-created_at", "-id")[start:stop]
    )
    return Page(items=items, total=total, page=page, page_size=page_size)
