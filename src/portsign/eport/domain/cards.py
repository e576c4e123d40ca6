"""E-Port cards (SPEC E4, seed 004, EPORT.md §3): issuance, who may see and act on a card, and
the comprehensive query (综合查询).

A card is a PKCS#11 token: its key pair is generated on the token, the request for its
certificate is signed there, and the key never leaves it. The office (the reviewers of the
authority the enterprise's filings are addressed to) issues cards; the PIN starts as 88888888
and must be changed by the holder before any other use (`card_pins`). The lifecycle is in
`card_lifecycle`, sign-in in `card_sign_in`.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from portsign.accounts.models import User
from portsign.common.audit import record_event
from portsign.common.errors import Busy, Conflict, Forbidden, Invalid, NotFound
from portsign.common.notify.outbox import queue_message
from portsign.common.paging import check_page
from portsign.enterprises.enums import Permission
from portsign.enterprises.models import Enterprise, Membership
from portsign.eport.domain import authorities, tokens
from portsign.eport.enums import (
    ONBOARDING,
    CardAction,
    CardKind,
    CardMedium,
    CardStatus,
    FilingStatus,
    OperatorStatus,
)
from portsign.eport.models import Authority, Card, CardCertificate, CardEvent, Filing, Operator
from portsign.pki import issuance
from portsign.pki.login_certificates import parse_csr
from portsign.pki.models import CertificateAuthority, IssuedCertificate
from portsign.pki.vault import discard_secret, seal_secret

LEGAL_PERSON = "legal_person"  # API.md: `holder` is this or an operator's id


def _now() -> dt.datetime:
    return timezone.now()


# -- who may see and act ---------------------------------------------------------------------


def office_of(enterprise: Enterprise) -> Authority:
    """The office the enterprise's filings are addressed to: it issues and manages its cards."""
    return authorities.addressed_to(enterprise.uscc)


def is_office_reviewer(actor: User, enterprise: Enterprise) -> bool:
    return office_of(enterprise).reviewers.filter(user=actor).exists()


def manages(actor: User, enterprise_id: str) -> bool:
    membership = (
        Membership.objects.select_related("role")
        .filter(enterprise_id=enterprise_id, user=actor, is_active=True)
        .first()
    )
    return membership is not None and Permission.MANAGE_ENTERPRISE in membership.role.permissions


def visible_cards(actor: User) -> QuerySet[Card]:
    """Cards *actor* may read: those of enterprises they manage, their own, and those of the
    enterprises whose office they (or an authority above it) review for."""
    managed = Membership.objects.filter(user=actor, is_active=True).values_list(
        "enterprise_id", "role__permissions"
    )
    enterprise_ids = [
        e for e, permissions in managed if Permission.MANAGE_ENTERPRISE in permissions
    ]
    reviewed = authorities.visible_ids(actor)
    office_enterprises = (
        Filing.objects.filter(authority_id__in=reviewed).values_list("enterprise_id", flat=True)
        if reviewed
        else []
    )
    return Card.objects.filter(
        Q(enterprise_id__in=enterprise_ids)
        | Q(holder=actor)
        | Q(enterprise_id__in=list(office_enterprises))
    ).select_related("enterprise", "operator", "holder", "certificate")


def visible_card(actor: User, card_id: str, *, lock: bool = False) -> Card:
    """A card *actor* may read; any other is not found."""
    rows = visible_cards(actor)
    if lock:
        rows = rows.select_for_update(of=("self",))
    card = rows.filter(pk=card_id).first()
    if card is None:
        raise NotFound()
    return card


def require_office(actor: User, enterprise: Enterprise) -> None:
    if not is_office_reviewer(actor, enterprise):
        raise Forbidden(
            _("Only the E-Port office of %(enterprise)s may do this.")
            % {"enterprise": enterprise.name},
            code="office_only",
        )


# -- issuance ---------------------------------------------------------------------------------


def missing_onboarding(enterprise: Enterprise) -> list[str]:
    """The onboarding filings (seed 004 §2) not approved yet: cards come after them."""
    approved = set(
        Filing.objects.filter(
            enterprise=enterprise, kind__in=ONBOARDING, status=FilingStatus.APPROVED
        ).values_list("kind", flat=True)
    )
    return [str(kind) for kind in ONBOARDING if kind not in approved]


def live_cards(enterprise: Enterprise) -> QuerySet[Card]:
    return Card.objects.filter(enterprise=enterprise).exclude(status=CardStatus.CANCELLED)


def legal_person_card(enterprise: Enterprise) -> Card | None:
    return live_cards(enterprise).filter(kind=CardKind.LEGAL_PERSON).first()


@dataclass(frozen=True)
class Holder:
    kind: str
    user: User
    name: str
    id_number: str
    operator: Operator | None


def _same_person(a: str, b: str) -> bool:
    return bool(a) and a.strip().upper() == b.strip().upper()


def _account_of(enterprise: Enterprise, id_number: str) -> User | None:
    """The enterprise's verified member with this ID number: the account that holds the card."""
    for membership in Membership.objects.select_related("user").filter(
        enterprise=enterprise, is_active=True, user__real_name_verified_at__isnull=False
    ):
        if _same_person(membership.user.id_number, id_number):
            return membership.user
    return None


def _legal_person_holder(enterprise: Enterprise) -> Holder:
    missing = missing_onboarding(enterprise)
    if missing:
        raise Conflict(
            _("The onboarding filings are not all approved yet: %(kinds)s.")
            % {"kinds": ", ".join(missing)},
            code="onboarding_not_approved",
        )
    if legal_person_card(enterprise) is not None:
        raise Conflict(
            _("The enterprise already has a legal-person card; replace it instead."),
            code="legal_person_card_exists",
        )
    # Part 1: the main administrator holds the legal-person card's place; the card is theirs.
    user = enterprise.main_admin
    if not user.is_real_name_verified:
        raise Conflict(
            _("The main administrator must verify their real name first."),
            code="holder_not_verified",
        )
    return Holder(CardKind.LEGAL_PERSON, user, user.name, user.id_number, None)


def _operator_holder(enterprise: Enterprise, operator_id: str) -> Holder:
    operator = Operator.objects.filter(pk=operator_id, enterprise=enterprise).first()
    if operator is None:
        raise NotFound(_("No such operator in this enterprise."), code="operator_not_found")
    if operator.status != OperatorStatus.ACTIVE:
        raise Conflict(_("The operator is not registered."), code="operator_not_registered")
    if live_cards(enterprise).filter(operator=operator).exists():
        raise Conflict(
            _("This operator already has a card; replace it instead."),
            code="operator_card_exists",
        )
    user = _account_of(enterprise, operator.id_number)
    if user is None:
        raise Conflict(
            _(
                "The operator has no PortSign account in this enterprise: they must register, "
                "verify their real name with ID number %(masked)s and join the enterprise first."
            )
            % {"masked": f"{operator.id_number[:4]}**********{operator.id_number[-4:]}"},
            code="operator_account_missing",
        )
    legal = legal_person_card(enterprise)
    if legal is not None and legal.holder_id == user.id:
        raise Conflict(
            _("The legal-person card holder cannot also hold an operator card."),
            code="holder_is_legal_person",
        )
    return Holder(CardKind.OPERATOR, user, operator.name, operator.id_number, operator)


def resolve_holder(enterprise: Enterprise, holder: str) -> Holder:
    if holder == LEGAL_PERSON:
        return _legal_person_holder(enterprise)
    return _operator_holder(enterprise, holder)


def next_number(enterprise: Enterprise, kind: str) -> str:
    """Card numbers: the enterprise's 6-digit division (USCC positions 3–8), 1 for a
    legal-person card or 2 for an operator card, and a 7-digit sequence (UNVERIFIED format:
    no public source gives E-Port's own)."""
    prefix = enterprise.uscc[2:8] + ("1" if kind == CardKind.LEGAL_PERSON else "2")
    last = (
        Card.objects.filter(number__startswith=prefix)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    sequence = int(last[len(prefix) :]) + 1 if last else 1
    return f"{prefix}{sequence:07d}"


def card_subject(*, holder: Holder, enterprise: Enterprise, number: str) -> x509.Name:
    """The holder (verified name, pseudonymous serialNumber), the enterprise (O and
    organizationIdentifier), the card number (OU) and the card's role (title)."""
    person = issuance.person_name(name=holder.user.name, id_number=holder.user.id_number)
    role = "法人卡" if holder.kind == CardKind.LEGAL_PERSON else "操作员卡"
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, enterprise.name),
            x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, f"NTRCN-{enterprise.uscc}"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"E-Port card {number}"),
            x509.NameAttribute(NameOID.TITLE, role),
            *person.get_attributes_for_oid(NameOID.COMMON_NAME),
            *person.get_attributes_for_oid(NameOID.SERIAL_NUMBER),
        ]
    )


def certify(
    *,
    public_key: CertificatePublicKeyTypes,
    subject: x509.Name,
    not_after: dt.datetime | None = None,
) -> tuple[CertificateAuthority, x509.Certificate]:
    """A card certificate: sign-in and signing (content commitment), CARD_YEARS long."""
    return issuance.sign_certificate(
        subject=subject,
        public_key=public_key,
        years=settings.CARD_YEARS,
        client_auth=True,
        content_commitment=True,
        not_after=not_after,
    )


def reader_failed(exc: tokens.TokenError) -> Busy:
    return Busy(
        _("The card could not be written (%(code)s). Nothing was issued; try again.")
        % {"code": exc.code},
        code="card_reader_failed",
        retry_after=5,
    )


def issue(*, actor: User, enterprise_id: str, holder: str, medium: str = CardMedium.UKEY) -> Card:
    """A new card on a new token (seed 004 §3): 法人卡 after onboarding, 操作员卡 for a
    registered operator. Only the enterprise's office issues."""
    enterprise = Enterprise.objects.filter(pk=enterprise_id).select_related("main_admin").first()
    if enterprise is None or not is_office_reviewer(actor, enterprise):
        raise NotFound()
    if medium not in CardMedium.values:
        message = _("Choose UKey or IC card.")
        raise Invalid(message, code="medium_invalid", fields={"medium": message})
    who = resolve_holder(enterprise, holder)
    return make_card(actor=actor, enterprise=enterprise, who=who, medium=medium)


def make_card(
    *, actor: User, enterprise: Enterprise, who: Holder, medium: str, replaces: Card | None = None
) -> Card:
    number = next_number(enterprise, who.kind)
    so_pin = secrets.token_urlsafe(12)
    try:
        created = tokens.create(label=number, so_pin=so_pin)
        ca, certificate = certify(
            public_key=parse_csr(created.csr_pem),
            subject=card_subject(holder=who, enterprise=enterprise, number=number),
        )
        der = certificate.public_bytes(serialization.Encoding.DER)
        tokens.store_certificate(label=number, pin=tokens.INITIAL_PIN, certificate_der=der)
    except tokens.TokenError as exc:
        if exc.code == "token_exists":  # another issuance took this number a moment ago
            raise Conflict(
                _("Another card was issued at the same moment; try again."), code="card_busy"
            ) from exc
        raise reader_failed(exc) from exc
    try:
        with transaction.atomic():
            sealed = seal_secret(so_pin.encode())
            issued = issuance.record_certificate(ca=ca, certificate=certificate, key=None)
            card = Card.objects.create(
                enterprise=enterprise,
                number=number,
                kind=who.kind,
                medium=medium,
                operator=who.operator,
                holder=who.user,
                holder_name=who.name,
                holder_id_number=who.id_number,
                token_serial=created.serial,
                so_pin=sealed,
                certificate=issued,
                issued_by=actor,
                replaces=replaces,
            )
            CardCertificate.objects.create(card=card, certificate=issued)
            log(card, actor, CardAction.ISSUE, detail=issued.serial)
    except IntegrityError as exc:
        raise Conflict(
            _("Another card was issued at the same moment; try again."), code="card_busy"
        ) from exc
    return card


def log(card: Card, actor: User | None, action: str, *, detail: str = "") -> None:
    """The card's history row and its audit event (never a PIN: none reaches this far)."""
    CardEvent.objects.create(
        card=card, actor=actor, action=action, status=card.status, detail=detail[:200]
    )
    record_event(
        action=f"eport.card_{action}",
        actor_id=actor.id if actor else "",
        object_type="eport_card",
        object_id=card.id,
        data={"number": card.number, "status": card.status, "detail": detail[:200]},
    )


def forget_so_pin(card: Card) -> None:
    """A cancelled card's token is never unlocked again: its SO PIN goes."""
    sealed = card.so_pin_id
    if sealed:
        Card.objects.filter(pk=card.pk).update(so_pin=None)
        discard_secret(sealed)


# -- reading ----------------------------------------------------------------------------------


def expired(card: Card) -> bool:
    return card.certificate.not_after <= _now()


def certificate_of(card: Card) -> IssuedCertificate:
    return card.certificate


@dataclass(frozen=True)
class CardFilters:
    enterprise_id: str = ""
    number: str = ""
    holder_name: str = ""
    id_number: str = ""
    kind: str = ""
    status: str = ""  # a CardStatus, or "locked" / "expired"
    expires_from: dt.date | None = None
    expires_to: dt.date | None = None


def search(*, actor: User, filters: CardFilters) -> QuerySet[Card]:
    rows = visible_cards(actor)
    if filters.enterprise_id:
        rows = rows.filter(enterprise_id=filters.enterprise_id)
    if filters.number:
        rows = rows.filter(number__startswith=filters.number.strip())
    if filters.holder_name:
        rows = rows.filter(holder_name__icontains=filters.holder_name.strip())
    if filters.id_number:
        rows = rows.filter(holder_id_number__iexact=filters.id_number.strip())
    if filters.kind:
        rows = rows.filter(kind=filters.kind)
    if filters.status == "locked":
        rows = rows.filter(pin_locked=True)
    elif filters.status == "expired":
        rows = rows.filter(certificate__not_after__lte=_now())
    elif filters.status:
        rows = rows.filter(status=filters.status)
    if filters.expires_from:
        rows = rows.filter(certificate__not_after__date__gte=filters.expires_from)
    if filters.expires_to:  # inclusive: a same-day range finds that day's cards
        rows = rows.filter(certificate__not_after__date__lte=filters.expires_to)
    return rows.order_by("number")


def page_of(rows: QuerySet[Card], page: int, page_size: int = 20) -> tuple[list[Card], int]:
    check_page(page)
    total = rows.count()
    start = (page - 1) * page_size
    return list(rows[start : start + page_size]), total


def expiring(*, within_days: int | None = None) -> QuerySet[Card]:
    """Cards in use whose certificate ends within the notice period (not yet ended)."""
    days = within_days if within_days is not None else settings.CARD_EXPIRY_NOTICE_DAYS
    now = _now()
    return Card.objects.filter(
        status=CardStatus.ACTIVE,
        certificate__not_after__gt=now,
        certificate__not_after__lte=now + dt.timedelta(days=days),
    ).select_related("holder", "certificate", "enterprise")


# -- 不见面审批: mailing the card ---------------------------------------------------------------


def record_mailing(
    *, actor: User, card_id: str, tracking_number: str, recipient: str, phone: str, address: str
) -> Card:
    """The office records the EMS parcel the card travels in."""
    visible_card(actor, card_id)  # another's card is a 404 before anything is judged
    fields = {
        "tracking_number": (tracking_number or "").strip().upper(),
        "recipient": (recipient or "").strip(),
        "phone": (phone or "").strip(),
        "address": (address or "").strip(),
    }
    limits = {"tracking_number": 30, "recipient": 50, "phone": 30, "address": 200}
    bad = {k: _("Required, at most %(n)d characters.") % {"n": limits[k]} for k, v in
           fields.items() if not v or len(v) > limits[k]}  # fmt: skip
    if bad:
        raise Invalid(_("Fill in the mailing details."), code="mail_invalid", fields=bad)
    with transaction.atomic():
        card = visible_card(actor, card_id, lock=True)
        require_office(actor, card.enterprise)
        if card.received_at is not None:
            raise Conflict(
                _("The enterprise has already received this card."), code="card_received"
            )
        card.tracking_number = fields["tracking_number"]
        card.mail_recipient, card.mail_phone = fields["recipient"], fields["phone"]
        card.mail_address, card.mailed_at = fields["address"], _now()
        card.save(
            update_fields=[
                "tracking_number", "mail_recipient", "mail_phone", "mail_address", "mailed_at"
            ]
        )  # fmt: skip
        log(card, actor, CardAction.MAIL, detail=card.tracking_number)
    return card


def may_confirm_receipt(actor: User, card: Card) -> bool:
    """A manager of the card's enterprise, or its holder."""
    return card.holder_id == actor.id or manages(actor, card.enterprise_id)


def confirm_receipt(*, actor: User, card_id: str) -> Card:
    """The enterprise (a manager of it, or the holder) confirms the card arrived."""
    with transaction.atomic():
        card = visible_card(actor, card_id, lock=True)
        if not may_confirm_receipt(actor, card):
            raise NotFound()
        if card.mailed_at is None:
            raise Conflict(_("The card has not been mailed yet."), code="card_not_mailed")
        if card.received_at is None:
            card.received_at = _now()
            card.save(update_fields=["received_at"])
            log(card, actor, CardAction.RECEIVE)
    return card


def remind_expiring(*, now: dt.datetime) -> int:
    """Tell each holder once that their card expires within the notice period (run by
    cleanup); an extension clears the mark, so the new certificate is reminded of in turn."""
    sent = 0
    for card in expiring().filter(expiry_reminded_at__isnull=True):
        if not Card.objects.filter(pk=card.pk, expiry_reminded_at__isnull=True).update(
            expiry_reminded_at=now
        ):
            continue  # another cleanup took it
        user = card.holder
        to, channel = (user.phone, "sms") if user.phone else (user.email or "", "email")
        if not to:
            continue
        text = _(
            "【PortSign】Your E-Port %(kind)s %(number)s expires on %(date)s. Have it extended "
            "before then."
        ) % {
            "kind": card.get_kind_display(),
            "number": card.number,
            "date": timezone.localdate(card.certificate.not_after).isoformat(),
        }
        queue_message(to=to, channel=channel, subject=_("E-Port card expires soon"), text=text)
        sent += 1
    return sent
