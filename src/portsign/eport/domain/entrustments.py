"""代理报关委托 (SPEC E6, seed 001, EPORT.md §4.2): a consignor (经营单位) entrusts a registered
customs broker (报关企业) with its declarations in a customs district, for a validity chosen
by the initiator. Either side initiates, the other confirms; each signs the entrustment — a
contract of the two enterprises on our engine (`contracts.domain.managed`) — with an operator
card holding 委托书确认, the card key signing on its token. A consignor may let one broker's
entrustments be confirmed at once (自动确认) under a recorded standing authorization, signed
then with the consignor's enterprise seal and certificate.

    create                                  → awaiting_confirmation   the initiator signed
    confirm   awaiting_confirmation         → effective               the other side signed
    refuse    awaiting_confirmation         → refused                 the other side
    revoke    awaiting (initiator) / effective (either side) → revoked
    expire    awaiting / effective, after valid_until  → expired       `cleanup`

The consignor needs an approved paperless agreement with the district's customs (part 2).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from portsign.accounts.models import User
from portsign.common.audit import record_event
from portsign.common.errors import Conflict, Forbidden, Invalid, NotFound
from portsign.common.notify.outbox import queue_message
from portsign.common.text import clean_text
from portsign.contracts.domain import managed
from portsign.contracts.domain import signing as contract_signing
from portsign.contracts.enums import ContractStatus, PartyStatus
from portsign.enterprises.models import Enterprise, EnterpriseStatus, Membership
from portsign.eport import events
from portsign.eport.domain import (
    agreements,
    brokers,
    card_permissions,
    card_pins,
    districts,
    tokens,
)
from portsign.eport.domain.entrustment_documents import EntrustmentFacts, entrustment_pdf
from portsign.eport.domain.entrustment_goods import clean_goods
from portsign.eport.enums import CardKind, CardStatus, EntrustmentSide, EntrustmentStatus
from portsign.eport.models import Card, District, Entrustment, EntrustmentEvent
from portsign.pki import pades

S = EntrustmentStatus
PERMISSION = "declaration.entrustment"  # 报关单 · 委托书确认 (seed 004 附件2)
_EVENTS = {
    "create": events.ENTRUSTMENT_CREATED,
    "confirm": events.ENTRUSTMENT_EFFECTIVE,
    "refuse": events.ENTRUSTMENT_REFUSED,
    "revoke": events.ENTRUSTMENT_REVOKED,
    "expire": events.ENTRUSTMENT_EXPIRED,
}


# -- who acts ---------------------------------------------------------------------------------


def _member(user: User, enterprise_id: str) -> bool:
    return Membership.objects.filter(
        user=user, enterprise_id=enterprise_id, is_active=True
    ).exists()


def side_of(actor: User, entrustment: Entrustment, acting: Card | None = None) -> str:
    """Which side *actor* acts for: the side of the card the session was opened with, else the
    side they are a member of (the consignor's if both); anyone else: 404."""
    sides = [
        side
        for side, enterprise_id in (
            (EntrustmentSide.CONSIGNOR, entrustment.consignor_id),
            (EntrustmentSide.BROKER, entrustment.broker_id),
        )
        if _member(actor, enterprise_id)
    ]
    if not sides:
        raise NotFound()
    for side in sides:
        if acting is not None and acting.enterprise_id == enterprise_of(entrustment, side).id:
            return side
    return sides[0]


def enterprise_of(entrustment: Entrustment, side: str) -> Enterprise:
    return entrustment.consignor if side == EntrustmentSide.CONSIGNOR else entrustment.broker


def other(side: str) -> str:
    return (
        EntrustmentSide.BROKER if side == EntrustmentSide.CONSIGNOR else EntrustmentSide.CONSIGNOR
    )


def may_confirm(card: Card, district: District) -> bool:
    """An operator card with 委托书确认, for every district or this one (or its customs)."""
    if card.kind != CardKind.OPERATOR or PERMISSION not in card_permissions.granted(card):
        return False
    scoped = card_permissions.districts_of(card)
    return not scoped or district.code in scoped or (district.direct_id or "") in scoped


def signing_card(
    actor: User, acting: Card | None, enterprise: Enterprise, district: District | None = None
) -> Card:
    """The operator card the session was opened with, of *enterprise*, allowed to sign
    entrustments in *district*; otherwise refused with the reason. Without a district (the
    pages, before one is chosen): allowed to sign entrustments somewhere."""
    if acting is None or acting.enterprise_id != enterprise.id or acting.holder_id != actor.id:
        raise Forbidden(
            _("Sign in with an operator card of %(enterprise)s to sign entrustments.")
            % {"enterprise": enterprise.name},
            code="operator_card_required",
        )
    if district is None:
        _refuse_unfit(acting)
    elif not may_confirm(acting, district):
        raise Forbidden(
            _(
                "Card %(number)s does not hold the permission “Confirm entrustments” "
                "for %(district)s."
            )
            % {"number": acting.number, "district": district},
            code="card_permission_missing",
        )
    return acting


def _refuse_unfit(card: Card) -> None:
    if card.kind != CardKind.OPERATOR:
        raise Forbidden(
            _("Entrustments are signed with an operator card, not the legal-person card."),
            code="operator_card_required",
        )
    if PERMISSION not in card_permissions.granted(card):
        raise Forbidden(
            _("Card %(number)s does not hold the permission “Confirm entrustments”.")
            % {"number": card.number},
            code="card_permission_missing",
        )


# -- reading ----------------------------------------------------------------------------------


def visible(
    actor: User, entrustment_id: str, acting: Card | None = None
) -> tuple[Entrustment, str]:
    found = (
        Entrustment.objects.select_related("consignor", "broker", "district", "contract")
        .filter(pk=entrustment_id)
        .first()
    )
    if found is None:
        raise NotFound()
    return found, side_of(actor, found, acting)


@dataclass(frozen=True)
class Filters:
    enterprise_id: str
    role: str = ""  # consignor | broker | "" (both)
    status: str = ""
    number: str = ""
    counterpart: str = ""  # part of the other enterprise's name


def listed(actor: User, filters: Filters) -> QuerySet[Entrustment]:
    """An enterprise's entrustments, given and taken, for its members; newest first."""
    if not _member(actor, filters.enterprise_id):
        raise NotFound()
    given, taken = Q(consignor_id=filters.enterprise_id), Q(broker_id=filters.enterprise_id)
    rows = Entrustment.objects.filter(
        {"consignor": given, "broker": taken}.get(filters.role, given | taken)
    )
    if filters.role and filters.role not in EntrustmentSide.values:
        message = _("Choose consignor or broker.")
        raise Invalid(message, code="role_invalid", fields={"role": message})
    if filters.status:
        if filters.status not in S.values:
            message = _("Unknown status.")
            raise Invalid(message, code="status_invalid", fields={"status": message})
        rows = rows.filter(status=filters.status)
    if filters.number.strip():
        rows = rows.filter(number__startswith=filters.number.strip())
    if filters.counterpart.strip():
        name = filters.counterpart.strip()[:100]
        rows = rows.filter(
            (given & Q(broker__name__icontains=name)) | (taken & Q(consignor__name__icontains=name))
        )
    return rows.select_related("consignor", "broker", "district", "contract").order_by(
        "-created_at", "-id"
    )


# -- creating ---------------------------------------------------------------------------------


def _valid_until(raw: dt.date | None) -> dt.date:
    today = timezone.localdate()
    latest = today + dt.timedelta(days=settings.ENTRUSTMENT_MAX_DAYS)
    if raw is None or not today <= raw <= latest:
        message = _("The validity ends between today and %(latest)s.") % {
            "latest": latest.isoformat()
        }
        raise Invalid(message, code="valid_until_invalid", fields={"valid_until": message})
    return raw


def _consignor(enterprise_id: str) -> Enterprise:
    found = Enterprise.objects.filter(pk=enterprise_id, status=EnterpriseStatus.VERIFIED).first()
    if found is None:
        raise NotFound(_("No verified enterprise has this id."))
    return found


def _number(district: District) -> str:
    """委托书编号: the district, the date, six random digits (unique: retried on a clash)."""
    for _attempt in range(5):
        number = f"{district.code}{timezone.localdate():%Y%m%d}{secrets.randbelow(10**6):06d}"
        if not Entrustment.objects.filter(number=number).exists():
            return number
    raise Conflict(_("Try again."), code="busy")  # pragma: no cover -- 10⁶ numbers a day


def _mark(box: dict[str, float]) -> pades.Mark:
    """A date stamp in the side's box of the entrustment's PDF."""
    return pades.Mark(
        page=int(box["page"]),
        x=box["x"] + box["width"] * 0.4,
        y=box["y"] + box["height"] * 0.3,
        width=box["width"] * 0.45,
        png=None,
        text=timezone.localdate().isoformat(),
    )


def _card_signature(card: Card, pin: str, box: dict[str, float]) -> Callable[[bytes, str], bytes]:
    """What `sign_managed` calls to sign for a side with its operator card."""

    def make(pdf: bytes, field: str) -> bytes:
        return pades.sign_approval(
            pdf,
            certificate_id=card.certificate_id,
            marks=[_mark(box)],
            field_name=field,
            reason=f"代理报关委托 · 操作员卡 {card.number}",
            signer_name=card.holder_name,
            token_sign=lambda data: tokens.sign(label=card.number, pin=pin, message=data),
        )

    return make


def _require_agreement(consignor: Enterprise, district: District) -> None:
    if not agreements.has_approved(consignor.id, district.code):
        raise Conflict(
            _(
                "%(enterprise)s has no approved paperless agreement with the customs of "
                "%(district)s; declarations there cannot be entrusted yet."
            )
            % {"enterprise": consignor.name, "district": district},
            code="agreement_required",
        )


@dataclass(frozen=True)
class NewEntrustment:
    consignor_id: str
    broker_id: str
    district: str
    valid_until: dt.date | None
    goods: list[dict[str, object]]
    accept_terms: bool
    pin: str


def create(*, actor: User, acting: Card | None, new: NewEntrustment) -> Entrustment:
    """The initiator fills in the 委托书 and its 协议, accepts the general terms and signs with
    its operator card; the other side is asked to confirm (or it is confirmed at once)."""
    broker = brokers.registered(new.broker_id)  # an unregistered broker: 404
    consignor = _consignor(new.consignor_id)
    if acting is not None and acting.enterprise_id in (consignor.id, broker.enterprise_id):
        initiator = (
            EntrustmentSide.CONSIGNOR
            if acting.enterprise_id == consignor.id
            else EntrustmentSide.BROKER
        )
    else:
        raise Forbidden(
            _("Sign in with an operator card of the consignor or the broker to entrust."),
            code="operator_card_required",
        )
    own = consignor if initiator == EntrustmentSide.CONSIGNOR else broker.enterprise
    if not _member(actor, own.id):
        raise NotFound()
    if consignor.id == broker.enterprise_id:
        raise Invalid(_("An enterprise cannot entrust itself."), code="same_enterprise")
    district = districts.district(new.district)
    card = signing_card(actor, acting, own, district)
    if not new.accept_terms:
        message = _("Read the general terms of the entrustment agreement and accept them.")
        raise Invalid(message, code="terms_not_accepted", fields={"accept_terms": message})
    valid_until = _valid_until(new.valid_until)
    goods = clean_goods(new.goods)
    _require_agreement(consignor, district)
    number = _number(district)
    pdf, boxes = entrustment_pdf(
        EntrustmentFacts(
            number=number,
            consignor=consignor.name,
            consignor_uscc=consignor.uscc,
            broker=broker.enterprise.name,
            broker_customs_code=broker.customs_code,
            district=f"{district.name}（{district.code}）",
            valid_until=valid_until,
            initiator="委托方" if initiator == EntrustmentSide.CONSIGNOR else "被委托方",
            goods=goods,
        )
    )
    where = {name: vars(box) for name, box in boxes.items()}
    others = _signers(broker.enterprise if initiator == EntrustmentSide.CONSIGNOR else consignor)
    sign = _card_signature(card, new.pin, where[initiator])
    # One card operation: the PIN is presented with the signature itself, before anything is
    # written, so a wrong or locked card leaves no contract (use_pin counts wrong PINs).
    contract, _parties = managed.open_contract(
        managed_by="eport",
        sender=actor,
        sender_enterprise=own,
        title=f"代理报关委托书 {number}",
        pdf=pdf,
        parties=[
            managed.EnterpriseParty(consignor, actor if own == consignor else others[0]),
            managed.EnterpriseParty(broker.enterprise, actor if own != consignor else others[0]),
        ],
        deadline=_end_of(valid_until),
        valid_until=valid_until,
        first=managed.FirstSignature(
            party=0 if initiator == EntrustmentSide.CONSIGNOR else 1,
            actor=actor,
            make=lambda pdf, field: card_pins.use_pin(card, new.pin, lambda: sign(pdf, field)),
            certificate_ids=[card.certificate_id],
            abandoned="发起方签名未完成",
        ),
    )
    with transaction.atomic():
        entrustment = Entrustment.objects.create(
            number=number,
            consignor=consignor,
            broker=broker.enterprise,
            initiator=initiator,
            district=district,
            valid_until=valid_until,
            status=S.AWAITING_CONFIRMATION,
            goods=goods,
            boxes=where,
            contract=contract,
            created_by=actor,
            initiator_card=card,
        )
        _log(entrustment, actor, "create")
        _tell(entrustment, other(initiator), _("to confirm"), others)
    if initiator == EntrustmentSide.BROKER:
        from portsign.eport.domain import auto_confirmations  # it builds on this module

        auto_confirmations.confirm_if_authorized(entrustment)
    entrustment.refresh_from_db()
    return entrustment


def _end_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


def _signers(enterprise: Enterprise) -> list[User]:
    """Who is told on the other side: holders of its operator cards allowed to confirm, else
    its main administrator."""
    cards = (
        Card.objects.filter(enterprise=enterprise, kind=CardKind.OPERATOR, status=CardStatus.ACTIVE)
        .select_related("holder")
        .prefetch_related("permissions")  # `granted` reads them: two queries for any number
    )
    holders = [card.holder for card in cards if PERMISSION in card_permissions.granted(card)]
    return holders or [enterprise.main_admin]


# -- the other side, and the end --------------------------------------------------------------


def _locked(entrustment_id: str) -> Entrustment:
    return (
        Entrustment.objects.select_for_update(of=("self",))
        .select_related("consignor", "broker", "district", "contract")
        .get(pk=entrustment_id)
    )


def _refuse_state(entrustment: Entrustment, allowed: tuple[str, ...], verb: str) -> None:
    if entrustment.status not in allowed:
        raise Conflict(
            _("An entrustment that is “%(status)s” cannot be %(verb)s.")
            % {"status": entrustment.get_status_display(), "verb": verb},
            code="entrustment_state",
        )


def _refuse_expired(entrustment: Entrustment) -> None:
    if entrustment.valid_until < timezone.localdate():
        raise Conflict(
            _("Entrustment %(number)s expired on %(day)s.")
            % {"number": entrustment.number, "day": entrustment.valid_until.isoformat()},
            code="entrustment_expired",
        )


def confirm(*, actor: User, acting: Card | None, entrustment_id: str, pin: str) -> Entrustment:
    """接受: the other side signs with its operator card; the entrustment takes effect."""
    entrustment, side = visible(actor, entrustment_id, acting)
    if side == entrustment.initiator:
        raise Forbidden(_("The other side confirms this entrustment."), code="not_the_confirmer")
    _refuse_state(entrustment, (S.AWAITING_CONFIRMATION,), _("confirmed"))
    _refuse_expired(entrustment)
    card = signing_card(actor, acting, enterprise_of(entrustment, side), entrustment.district)
    party = entrustment.contract.parties.get(enterprise=enterprise_of(entrustment, side))
    card_pins.use_pin(
        card,
        pin,
        lambda: contract_signing.sign_managed(
            contract_id=entrustment.contract_id,
            party_id=party.id,
            actor=actor,
            make=_card_signature(card, pin, entrustment.boxes[side]),
            certificate_ids=[card.certificate_id],
        ),
    )
    return became_effective(entrustment.id, actor=actor, card=card)


def became_effective(
    entrustment_id: str, *, actor: User, card: Card | None = None, auto: object = None
) -> Entrustment:
    """After the confirming signature: 已生效 (a second confirmation finds it so: 409)."""
    with transaction.atomic():
        entrustment = _locked(entrustment_id)
        _refuse_state(entrustment, (S.AWAITING_CONFIRMATION,), _("confirmed"))
        unsigned = entrustment.contract.parties.exclude(status=PartyStatus.SIGNED).exists()
        if unsigned:  # pragma: no cover -- sign_managed returned, so both parties signed
            raise Conflict(_("The confirmation is not signed."), code="entrustment_state")
        entrustment.status = S.EFFECTIVE
        entrustment.confirmed_by = actor
        entrustment.confirmer_card = card
        entrustment.auto_confirmation = auto  # type: ignore[assignment]
        entrustment.decided_at = timezone.now()
        entrustment.save()
        _log(entrustment, actor, "confirm", detail="auto" if auto else "")
        _tell(entrustment, entrustment.initiator, _("effective"))
    return entrustment


def _reason(raw: str, *, required: bool) -> str:
    return clean_text(
        raw,
        field="reason",
        min_length=2 if required else 0,
        max_length=300,
        message=_("Give a reason (2 to 300 characters).")
        if required
        else _("At most 300 characters."),
        code="reason_required",
    )


def refuse(*, actor: User, acting: Card | None, entrustment_id: str, reason: str) -> Entrustment:
    """拒绝: the side asked to confirm refuses, with a reason, using its operator card."""
    entrustment, side = visible(actor, entrustment_id, acting)  # before the reason: a 404
    clean = _reason(reason, required=True)
    if side == entrustment.initiator:
        raise Forbidden(_("The other side confirms this entrustment."), code="not_the_confirmer")
    _refuse_expired(entrustment)
    signing_card(actor, acting, enterprise_of(entrustment, side), entrustment.district)
    return _end(entrustment.id, actor, "refuse", clean, (S.AWAITING_CONFIRMATION,))


def revoke(
    *, actor: User, acting: Card | None, entrustment_id: str, reason: str = ""
) -> Entrustment:
    """撤销: the initiator withdraws one awaiting confirmation; either side ends one in effect."""
    entrustment, side = visible(actor, entrustment_id, acting)
    clean = _reason(reason, required=False)
    _refuse_expired(entrustment)
    signing_card(actor, acting, enterprise_of(entrustment, side), entrustment.district)
    if side != entrustment.initiator and entrustment.status == S.AWAITING_CONFIRMATION:
        raise Forbidden(
            _("Only the initiator withdraws an entrustment awaiting confirmation; refuse it."),
            code="not_the_initiator",
        )
    return _end(entrustment.id, actor, "revoke", clean, (S.AWAITING_CONFIRMATION, S.EFFECTIVE))


_ENDS = {"refuse": S.REFUSED, "revoke": S.REVOKED, "expire": S.EXPIRED}
_CONTRACT_ENDS = {
    "refuse": ContractStatus.REJECTED,
    "revoke": ContractStatus.REVOKED,
    "expire": ContractStatus.EXPIRED,
}


def _end(
    entrustment_id: str, actor: User | None, action: str, reason: str, allowed: tuple[str, ...]
) -> Entrustment:
    words = {"refuse": _("refused"), "revoke": _("revoked"), "expire": _("expired")}
    with transaction.atomic():
        entrustment = _locked(entrustment_id)
        _refuse_state(entrustment, allowed, words[action])
        entrustment.status = _ENDS[action]
        entrustment.reason = reason
        entrustment.decided_at = timezone.now()
        entrustment.save(update_fields=["status", "reason", "decided_at"])
        # An unconfirmed entrustment's contract ends with it; a confirmed one stays completed,
        # the signed record of what was in effect.
        managed.close(
            entrustment.contract_id,
            _CONTRACT_ENDS[action],
            actor_id=actor.id if actor else "",
            reason=reason,
        )
        _log(entrustment, actor, action, detail=reason)
        for side in EntrustmentSide.values:
            _tell(entrustment, side, entrustment.get_status_display())
    return entrustment


def expire_overdue(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """已过期: entrustments past their validity's end (run by `cleanup`)."""
    today = timezone.localdate(now) if now else timezone.localdate()
    due = list(
        Entrustment.objects.filter(
            status__in=(S.AWAITING_CONFIRMATION, S.EFFECTIVE), valid_until__lt=today
        ).values_list("id", flat=True)[:limit]
    )
    expired = 0
    for entrustment_id in due:
        try:
            _end(entrustment_id, None, "expire", "", (S.AWAITING_CONFIRMATION, S.EFFECTIVE))
            expired += 1
        except Conflict:  # moved meanwhile
            continue
    return expired


# -- history, notices, webhooks ---------------------------------------------------------------


def _log(entrustment: Entrustment, actor: User | None, action: str, *, detail: str = "") -> None:
    EntrustmentEvent.objects.create(
        entrustment=entrustment, actor=actor, action=action, status=entrustment.status,
        detail=detail[:300],
    )  # fmt: skip
    record_event(
        action=f"eport.entrustment_{action}",
        actor_id=actor.id if actor else "",
        object_type="eport_entrustment",
        object_id=entrustment.id,
        data={"number": entrustment.number, "status": entrustment.status, "detail": detail[:300]},
    )
    events.publish(
        _EVENTS[action],
        [entrustment.consignor_id, entrustment.broker_id],
        {"entrustment": payload(entrustment)},
    )


def payload(entrustment: Entrustment) -> dict[str, object]:
    return {
        "id": entrustment.id,
        "number": entrustment.number,
        "status": entrustment.status,
        "initiator": entrustment.initiator,
        "consignor": {"id": entrustment.consignor_id, "name": entrustment.consignor.name},
        "broker": {"id": entrustment.broker_id, "name": entrustment.broker.name},
        "district": entrustment.district_id,
        "valid_until": entrustment.valid_until.isoformat(),
        "contract_id": entrustment.contract_id,
    }


def _tell(
    entrustment: Entrustment, side: str, what: str, signers: list[User] | None = None
) -> None:
    """Text the side's signers (*signers* when the caller already has them)."""
    enterprise = enterprise_of(entrustment, side)
    text = _(
        "【PortSign】Declaration entrustment %(number)s (%(consignor)s → %(broker)s): %(what)s."
    ) % {
        "number": entrustment.number,
        "consignor": entrustment.consignor.name,
        "broker": entrustment.broker.name,
        "what": what,
    }
    for user in _signers(enterprise) if signers is None else signers:
        to, channel = (user.phone, "sms") if user.phone else (user.email or "", "email")
        if to:
            queue_message(to=to, channel=channel, subject=_("Declaration entrustment"), text=text)
