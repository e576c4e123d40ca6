"""Permissions of an operator card (SPEC E5, seed 004 附件2, EPORT.md §3.3).

The catalogue is (subsystem, action) pairs, optionally scoped by customs district. Only the
enterprise's legal-person card grants or withdraws them: a change is a filing (kind
`card_permissions`) addressed to the enterprise's office, declared at once and applied when it
is approved (at once where the office auto-approves). A session opened with an operator card
sees every subsystem, greyed out with the reason where it may not use it (seed 001's FAQ:
"出口收汇 呈灰色": initial PIN not changed / not registered / no permission).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portsign.accounts.models import User
from portsign.common.audit import record_event
from portsign.common.errors import Conflict, Invalid
from portsign.eport.domain import authorities, card_lifecycle, cards, filings
from portsign.eport.enums import (
    CardAction,
    CardKind,
    CardStatus,
    FilingKind,
    FilingStatus,
    OperatorStatus,
)
from portsign.eport.models import Card, CardPermission, Filing, FilingEvent


@dataclass(frozen=True)
class Action:
    code: str
    official: str  # the E-Port's own word, printed on the registration form
    label: Promise


@dataclass(frozen=True)
class Subsystem:
    code: str
    official: str
    label: Promise
    actions: tuple[Action, ...]


CATALOGUE: tuple[Subsystem, ...] = (
    Subsystem(
        "declaration",
        "报关单",
        gettext_lazy("Customs declarations"),
        (
            Action("upload", "上载", gettext_lazy("Upload")),
            Action("review", "审核申报", gettext_lazy("Review for declaration")),
            Action("confirm", "申报确认", gettext_lazy("Confirm declaration")),
            Action("entrustment", "委托书确认", gettext_lazy("Confirm entrustments")),
            Action(
                "remote_filing", "异地报关备案申请", gettext_lazy("Apply for remote declaration")
            ),
        ),
    ),
    Subsystem(
        "payment",
        "网上支付",
        gettext_lazy("Online payment"),
        (
            Action("view", "查阅", gettext_lazy("View")),
            Action("payer", "指定缴款单位", gettext_lazy("Designate the paying unit")),
            Action("first_review", "支付初审", gettext_lazy("First payment review")),
            Action("second_review", "支付复审", gettext_lazy("Second payment review")),
            Action("confirm", "支付确认", gettext_lazy("Confirm payment")),
        ),
    ),
    Subsystem(
        "express",
        "快件管理",
        gettext_lazy("Express consignments"),
        (
            Action("entry", "录入", gettext_lazy("Entry")),
            Action("declare", "申报", gettext_lazy("Declare")),
        ),
    ),
    Subsystem(
        "export_receipts",
        "出口收汇",
        gettext_lazy("Export receipts"),
        (
            Action("entry", "录入", gettext_lazy("Entry")),
            Action("declare", "申报", gettext_lazy("Declare")),
        ),
    ),
)
CODES = {f"{s.code}.{a.code}" for s in CATALOGUE for a in s.actions}
_DISTRICT = re.compile(r"[0-9]{4}")


def catalogue() -> list[dict[str, object]]:
    return [
        {
            "code": s.code,
            "label": str(s.label),
            "actions": [{"code": f"{s.code}.{a.code}", "label": str(a.label)} for a in s.actions],
        }
        for s in CATALOGUE
    ]


def clean_permissions(raw: Iterable[str]) -> list[str]:
    codes = sorted({str(code).strip() for code in raw if str(code).strip()})
    unknown = [code for code in codes if code not in CODES]
    if unknown:
        message = _("Unknown permissions: %(codes)s.") % {"codes": ", ".join(unknown)}
        raise Invalid(message, code="permission_unknown", fields={"permissions": message})
    return codes


def clean_districts(raw: Iterable[str]) -> list[str]:
    districts = sorted({str(code).strip() for code in raw if str(code).strip()})
    bad = [code for code in districts if not _DISTRICT.fullmatch(code)]
    if bad:
        message = _("A customs district code is 4 digits: %(codes)s.") % {"codes": ", ".join(bad)}
        raise Invalid(message, code="district_invalid", fields={"districts": message})
    return districts


def granted(card: Card) -> list[str]:
    return sorted({f"{p.subsystem}.{p.action}" for p in card.permissions.all()})


def districts_of(card: Card) -> list[str]:
    return sorted({p.district for p in card.permissions.all() if p.district})


def request_change(
    *, actor: User, card_id: str, permissions: list[str], districts: list[str], acting: Card | None
) -> Filing:
    """The legal-person card asks for the operator card's permissions to become exactly
    *permissions* (in *districts*, or everywhere): a filing to the office, applied on approval."""
    from portsign.eport.domain import reviews  # reviews dispatch back to `on_decided`

    cards.visible_card(actor, card_id)  # another's card is a 404 before anything is judged
    codes, scoped = clean_permissions(permissions), clean_districts(districts)
    with transaction.atomic():
        card = cards.visible_card(actor, card_id, lock=True)
        if card.kind != CardKind.OPERATOR:
            raise Conflict(_("Permissions belong to operator cards."), code="not_an_operator_card")
        card_lifecycle.authorise(actor, card, acting)
        if card.status == CardStatus.CANCELLED:
            raise Conflict(_("The card is cancelled."), code="card_state")
        open_ = Filing.objects.filter(
            enterprise=card.enterprise,
            kind=FilingKind.CARD_PERMISSIONS,
            status=FilingStatus.DECLARED,
            data__card_number=card.number,
        )
        if open_.exists():
            raise Conflict(
                _("A permission change of this card is waiting for the office."),
                code="filings_in_flight",
            )
        filing = Filing.objects.create(
            enterprise=card.enterprise,
            kind=FilingKind.CARD_PERMISSIONS,
            authority=authorities.addressed_to(card.enterprise.uscc),
            data={
                "card_number": card.number,
                "permissions": ",".join(codes),
                "districts": ",".join(scoped),
            },
            operator=card.operator,
            created_by=actor,
        )
        FilingEvent.objects.create(
            filing=filing, actor=actor, action="created", status=FilingStatus.DRAFT
        )
        filings.move(filing, "declare", actor=actor)
        reviews.on_declared(filing)
    filing.refresh_from_db()
    return filing


def on_decided(filing: Filing) -> None:
    """An approved permission filing becomes the card's permissions (in its transaction)."""
    if filing.kind != FilingKind.CARD_PERMISSIONS or filing.status != FilingStatus.APPROVED:
        return
    card = Card.objects.filter(number=filing.data.get("card_number", "")).first()
    if card is None or card.status == CardStatus.CANCELLED:
        return
    codes = [c for c in filing.data.get("permissions", "").split(",") if c]
    scoped = [d for d in filing.data.get("districts", "").split(",") if d] or [""]
    card.permissions.all().delete()
    CardPermission.objects.bulk_create(
        CardPermission(
            card=card, subsystem=code.split(".")[0], action=code.split(".")[1], district=d
        )
        for code in codes
        for d in scoped
    )
    cards.log(card, filing.decided_by, CardAction.PERMISSIONS, detail=",".join(codes))
    record_event(
        action="eport.card_permissions_applied",
        actor_id=filing.decided_by_id or "",
        object_type="eport_card",
        object_id=card.id,
        data={"filing": filing.id, "permissions": codes, "districts": scoped},
    )


@dataclass(frozen=True)
class SubsystemState:
    code: str
    label: str
    enabled: bool
    reason: str
    actions: list[dict[str, object]]


def subsystems_for(card: Card) -> list[SubsystemState]:
    """What an operator-card session may open: every subsystem, greyed out with the reason."""
    mine = set(granted(card)) if card.kind == CardKind.OPERATOR else CODES
    blocker = ""
    if card.pin_must_change:
        blocker = _("The card's initial PIN has not been changed.")
    elif card.operator is not None and card.operator.status != OperatorStatus.ACTIVE:
        blocker = _("The operator is not registered.")
    states = []
    for subsystem in CATALOGUE:
        actions = [
            {
                "code": f"{subsystem.code}.{a.code}",
                "label": str(a.label),
                "granted": f"{subsystem.code}.{a.code}" in mine,
            }
            for a in subsystem.actions
        ]
        any_granted = any(a["granted"] for a in actions)
        reason = blocker or ("" if any_granted else _("The card has no permission for it."))
        states.append(
            SubsystemState(subsystem.code, str(subsystem.label), not reason, reason, actions)
        )
    return states
