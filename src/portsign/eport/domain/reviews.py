"""审核工作台 (E1, E3): the reviewers' queue, decisions, auto-approval and joint review.

Only the addressed authority decides a filing; the authorities above it read it. A 三证合一
change is decided by the office and each joint-review unit (customs, forex, commerce), each with
its own state: any return returns the filing, the last approval approves it. An opinion is
always required. A decision tells the applicant (through the outbox) and the enterprise's
webhooks (`eport.filing.approved|returned`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from portsign.accounts.models import User
from portsign.common.errors import Conflict, Forbidden, Invalid, NotFound
from portsign.common.notify.outbox import queue_message
from portsign.common.text import clean_text
from portsign.eport.domain import authorities, brokers, card_permissions, filings, operators
from portsign.eport.enums import AuthorityKind, FilingKind, FilingStatus, ReviewState
from portsign.eport.models import Authority, Filing, JointReview

JOINT_UNITS = (
    AuthorityKind.OFFICE,
    AuthorityKind.CUSTOMS,
    AuthorityKind.FOREX,
    AuthorityKind.COMMERCE,
)


def _opinion(raw: str) -> str:
    return clean_text(
        raw,
        field="opinion",
        min_length=1,
        max_length=500,
        message=_("Write the review opinion (up to 500 characters)."),
        code="opinion_required",
    )


def auto_opinion(authority: Authority) -> str:
    return _("Approved automatically: %(authority)s approves filings addressed to it.") % {
        "authority": authority.name
    }


def on_declared(filing: Filing) -> None:
    """After 申报 (in its transaction): open the joint reviews of a change, and approve at once
    what the addressed authority auto-approves."""
    if filing.kind == FilingKind.ENTERPRISE_INFO_CHANGE:
        filing.joint_reviews.all().delete()
        for unit in JOINT_UNITS:
            try:
                authority = authorities.addressed_to(filing.enterprise.uscc, unit)
            except Conflict:
                authority = filing.authority  # no such unit registered: the office decides
            JointReview.objects.create(filing=filing, unit=unit, authority=authority)
        if filing.authority.auto_approve:
            # Its own part, and the part of every unit it stands in for (none registered).
            own = filing.joint_reviews.filter(authority=filing.authority)
            for own_unit in own.values_list("unit", flat=True):
                _decide_unit(filing, own_unit, None, True, auto_opinion(filing.authority))
        return
    if filing.authority.auto_approve:
        _conclude(filing, None, True, auto_opinion(filing.authority), auto=True)


# -- the queue ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    kind: str = ""
    status: str = ""
    enterprise: str = ""  # part of the name
    uscc: str = ""
    declared_from: dt.datetime | None = None
    declared_to: dt.datetime | None = None


def _visible(actor: User) -> Q:
    own = [a.id for a in authorities.reviewing(actor)]
    return Q(authority_id__in=authorities.visible_ids(actor)) | Q(
        joint_reviews__authority_id__in=own
    )


def queue(*, actor: User, filters: Filters, page: int = 1, page_size: int = 20) -> filings.Page:
    """The filings the actor's authorities decide or oversee, newest declaration first."""
    rows = Filing.objects.filter(_visible(actor)).exclude(status=FilingStatus.DRAFT).distinct()
    if filters.kind:
        rows = rows.filter(kind=filters.kind)
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.enterprise.strip():
        rows = rows.filter(enterprise__name__icontains=filters.enterprise.strip())
    if filters.uscc.strip():
        rows = rows.filter(enterprise__uscc__startswith=filters.uscc.strip().upper())
    if filters.declared_from:
        rows = rows.filter(declared_at__gte=filters.declared_from)
    if filters.declared_to:
        rows = rows.filter(declared_at__lte=filters.declared_to)
    rows = rows.select_related("enterprise", "authority", "operator").order_by(
        "-declared_at", "-id"
    )
    items, total = filings.paginate(rows, page, page_size)
    return filings.Page(items, total, page, page_size)


def reviewed_filing(
    actor: User, filing_id: str, *, lock: bool = False, drafts: bool = False
) -> Filing:
    """A filing the actor may read as a reviewer; any other (and drafts) is not found.

    With *drafts* (a decision), a draft of the actor's authorities is found too, so that
    approving or returning it is the state machine's 409 rather than a 404: a filing returned
    and being edited again, for one, is still the reviewer's to know of."""
    rows = Filing.objects.select_related("enterprise", "authority", "operator")
    if lock:
        rows = rows.select_for_update(of=("self",))
    rows = rows.filter(pk=filing_id)
    filing = (rows if drafts else rows.exclude(status=FilingStatus.DRAFT)).first()
    if filing is None or not Filing.objects.filter(_visible(actor), pk=filing.pk).exists():
        raise NotFound()
    return filing


def deciding_units(actor: User, filing: Filing) -> list[str]:
    """What the actor may decide on *filing* now: "" for the filing itself, or joint units."""
    own = {a.id for a in authorities.reviewing(actor)}
    if filing.status != FilingStatus.DECLARED:
        return []
    if filing.kind == FilingKind.ENTERPRISE_INFO_CHANGE:
        return [
            review.unit
            for review in filing.joint_reviews.filter(state=ReviewState.PENDING)
            if review.authority_id in own
        ]
    return [""] if filing.authority_id in own else []


# -- decisions ---------------------------------------------------------------------------------


def decide(*, actor: User, filing_id: str, approve: bool, opinion: str, unit: str = "") -> Filing:
    """Approve or return, with an opinion. A change needs the joint unit the actor decides for
    (the only one if the actor's authority holds just one)."""
    text = _opinion(opinion)
    with transaction.atomic():
        filing = reviewed_filing(actor, filing_id, lock=True, drafts=True)
        filings.next_status(filing, "approve" if approve else "return")  # 409 unless declared
        units = deciding_units(actor, filing)
        if not units:
            raise Forbidden(
                _("Only the authority the filing is addressed to decides it."),
                code="not_addressed",
            )
        if filing.kind != FilingKind.ENTERPRISE_INFO_CHANGE:
            _conclude(filing, actor, approve, text)
            return filing
        chosen = unit or (units[0] if len(units) == 1 else "")
        if chosen not in units:
            message = _("Choose the unit you decide for: %(units)s.") % {"units": ", ".join(units)}
            raise Invalid(message, code="unit_required", fields={"unit": message})
        _decide_unit(filing, chosen, actor, approve, text)
    return filing


def _decide_unit(
    filing: Filing, unit: str, actor: User | None, approve: bool, opinion: str
) -> None:
    review = filing.joint_reviews.select_for_update().get(unit=unit)
    review.state = ReviewState.APPROVED if approve else ReviewState.RETURNED
    review.opinion, review.decided_by, review.decided_at = opinion, actor, timezone.now()
    review.save()
    if not approve:
        _conclude(filing, actor, False, opinion, unit=unit)
    elif not filing.joint_reviews.exclude(state=ReviewState.APPROVED).exists():
        _conclude(filing, actor, True, opinion, unit=unit, auto=actor is None)
    else:
        filing.events.create(
            actor=actor,
            action="unit_approved",
            status=filing.status,
            unit=unit,
            opinion=opinion,
            auto=actor is None,
        )


def _conclude(
    filing: Filing,
    actor: User | None,
    approve: bool,
    opinion: str,
    *,
    unit: str = "",
    auto: bool = False,
) -> None:
    filings.move(
        filing,
        "approve" if approve else "return",
        actor=actor,
        opinion=opinion,
        auto=auto,
        unit=unit,
    )
    operators.on_decided(filing)
    card_permissions.on_decided(filing)
    brokers.on_decided(filing)
    _tell_applicant(filing)
    from portsign.eport import events

    events.filing_decided(filing)


def _tell_applicant(filing: Filing) -> None:
    user = filing.created_by
    to, channel = (user.phone, "sms") if user.phone else (user.email or "", "email")
    if not to:
        return
    what = {"kind": filing.get_kind_display(), "enterprise": filing.enterprise.name}
    if filing.status == FilingStatus.APPROVED:
        subject = _("E-Port filing approved")
        text = _("【PortSign】%(enterprise)s: your E-Port filing “%(kind)s” was approved.") % what
    else:
        subject = _("E-Port filing returned")
        text = _(
            "【PortSign】%(enterprise)s: your E-Port filing “%(kind)s” was returned: %(opinion)s"
        ) % {**what, "opinion": filing.opinion}
    queue_message(to=to, channel=channel, subject=subject, text=text)
