"""A card's lifecycle (SPEC E4, EPORT.md §3.2): one choke point, `act`, for every move.

Each move is mirrored onto the card's certificate in the same transaction, so OCSP and the CRL
say it at once: 挂失 and 冻结 put it on hold (certificateHold), 解挂 and 解冻 release it, 注销
revokes it (cessationOfOperation, or keyCompromise for a card lost for good). 延期 issues a
new certificate for the same card key and supersedes the old one; 补办 (replace) issues a new
card on a new token and cancels the old. Who acts: the office for a legal-person card; the
enterprise signed in with its legal-person card for an operator card.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portsign.accounts.models import User
from portsign.common.errors import Conflict, Forbidden
from portsign.eport.domain import card_pins, cards, tokens
from portsign.eport.enums import CardAction, CardKind, CardStatus
from portsign.eport.models import Card, CardCertificate, CardPermission
from portsign.pki import issuance


@dataclass(frozen=True)
class Move:
    allowed_from: tuple[str, ...]
    to: str
    certificate: str  # suspend | release | revoke


MOVES: dict[str, Move] = {
    CardAction.REPORT_LOSS: Move((CardStatus.ACTIVE,), CardStatus.LOST, "suspend"),
    CardAction.CANCEL_LOSS: Move((CardStatus.LOST,), CardStatus.ACTIVE, "release"),
    CardAction.FREEZE: Move((CardStatus.ACTIVE,), CardStatus.FROZEN, "suspend"),
    CardAction.UNFREEZE: Move((CardStatus.FROZEN,), CardStatus.ACTIVE, "release"),
    CardAction.CANCEL: Move(
        (CardStatus.ACTIVE, CardStatus.LOST, CardStatus.FROZEN), CardStatus.CANCELLED, "revoke"
    ),
}


def authorise(actor: User, card: Card, acting: Card | None) -> None:
    """The office for a legal-person card; for an operator card, the holder of the same
    enterprise's legal-person card, signed in with it (*acting*)."""
    if card.kind == CardKind.LEGAL_PERSON:
        cards.require_office(actor, card.enterprise)
        return
    if (
        acting is None
        or acting.kind != CardKind.LEGAL_PERSON
        or acting.enterprise_id != card.enterprise_id
        or acting.holder_id != actor.id
        or acting.status != CardStatus.ACTIVE
    ):
        raise Forbidden(
            _("Sign in with the enterprise's legal-person card to manage its operator cards."),
            code="legal_person_card_required",
        )


def _locked(actor: User, card_id: str, acting: Card | None) -> Card:
    card = cards.visible_card(actor, card_id, lock=True)
    authorise(actor, card, acting)
    return card


def _refuse(card: Card, action: str) -> Conflict:
    return Conflict(
        _("Card %(number)s is %(status)s: “%(action)s” is not possible.")
        % {
            "number": card.number,
            "status": card.get_status_display(),
            "action": CardAction(action).label,
        },
        code="card_state",
    )


def _mirror(card: Card, move: Move, *, actor: User, lost_for_good: bool) -> None:
    cert_id = card.certificate_id
    if move.certificate == "suspend":
        issuance.suspend(cert_id, actor_id=actor.id)
    elif move.certificate == "release":
        issuance.release(cert_id, actor_id=actor.id)
    else:
        reason = "key_compromise" if lost_for_good else "cessation_of_operation"
        issuance.revoke(cert_id, reason=reason, actor_id=actor.id)


def act(
    *,
    actor: User,
    card_id: str,
    action: str,
    acting: Card | None = None,
    lost_for_good: bool = False,
) -> Card:
    """Move the card and its certificate together; a move from the wrong state is 409 (so of
    two concurrent moves one wins: the row lock makes the second see the first's result)."""
    move = MOVES[action]
    with transaction.atomic():
        card = _locked(actor, card_id, acting)
        if card.status not in move.allowed_from:
            raise _refuse(card, action)
        if action == CardAction.CANCEL and lost_for_good and card.status != CardStatus.LOST:
            raise Conflict(
                _("Only a card reported lost can be cancelled as lost for good."),
                code="card_not_lost",
            )
        _mirror(card, move, actor=actor, lost_for_good=lost_for_good)
        card.status = move.to
        card.save(update_fields=["status"])
        detail = "key_compromise" if lost_for_good else ""
        cards.log(card, actor, action, detail=detail)
        if move.to == CardStatus.CANCELLED:
            transaction.on_commit(lambda: cards.forget_so_pin(card))
    card.refresh_from_db()
    return card


def extend(*, actor: User, card_id: str, acting: Card | None = None) -> Card:
    """延期: only before expiry, a new certificate for CARD_YEARS on the same card key, the PIN
    reset to 88888888 (seed 004), the old certificate superseded."""
    with transaction.atomic():
        card = _locked(actor, card_id, acting)
        if card.status != CardStatus.ACTIVE:
            raise _refuse(card, CardAction.EXTEND)
        if cards.expired(card):
            raise Conflict(
                _(
                    "Card %(number)s expired on %(date)s: a card can only be extended before it "
                    "expires. Apply for a new card."
                )
                % {"number": card.number, "date": timezone.localtime(card.certificate.not_after)},
                code="card_expired",
            )
        old = x509.load_pem_x509_certificate(card.certificate.certificate_pem.encode())
        # Ten more years from the current end: extending early loses no days (seed 004: from
        # 60 days before expiry).
        ca, renewed = cards.certify(
            public_key=old.public_key(),
            subject=old.subject,
            not_after=old.not_valid_after_utc + dt.timedelta(days=365 * settings.CARD_YEARS),
        )
        card_pins.reset_to_initial(card)
        der = renewed.public_bytes(serialization.Encoding.DER)
        try:
            tokens.store_certificate(label=card.number, pin=tokens.INITIAL_PIN, certificate_der=der)
        except tokens.TokenError as exc:
            raise cards.reader_failed(exc) from exc
        issued = issuance.record_certificate(ca=ca, certificate=renewed, key=None)
        previous = card.certificate_id
        issuance.revoke(previous, reason="superseded", actor_id=actor.id)
        CardCertificate.objects.filter(certificate_id=previous).update(superseded_at=timezone.now())
        CardCertificate.objects.create(card=card, certificate=issued)
        card.certificate = issued
        card.expiry_reminded_at = None
        card.save(update_fields=["certificate", "expiry_reminded_at"])
        cards.log(card, actor, CardAction.EXTEND, detail=issued.serial)
    card.refresh_from_db()
    return card


def unlock(*, actor: User, card_id: str, acting: Card | None = None) -> Card:
    """解锁: the PIN back to 88888888 (to be changed again), the count of wrong PINs cleared."""
    with transaction.atomic():
        card = _locked(actor, card_id, acting)
        if card.status == CardStatus.CANCELLED:
            raise _refuse(card, CardAction.UNLOCK)
        if not card.pin_locked:
            raise Conflict(
                _("Card %(number)s is not locked.") % {"number": card.number},
                code="card_not_locked",
            )
        card_pins.reset_to_initial(card)
        cards.log(card, actor, CardAction.UNLOCK)
    card.refresh_from_db()
    return card


def replace(*, actor: User, card_id: str, acting: Card | None = None) -> Card:
    """补办 a faulty card: a new card on a new token with a new certificate and number, the
    old card cancelled (its certificate revoked), the operator's permissions carried over."""
    card = cards.visible_card(actor, card_id)
    authorise(actor, card, acting)
    if card.status == CardStatus.CANCELLED:
        raise _refuse(card, CardAction.REPLACE)
    who = cards.Holder(
        card.kind, card.holder, card.holder_name, card.holder_id_number, card.operator
    )
    with transaction.atomic():
        old = _locked(actor, card_id, acting)
        if old.status == CardStatus.CANCELLED:
            raise _refuse(old, CardAction.REPLACE)
        issuance.revoke(old.certificate_id, reason="superseded", actor_id=actor.id)
        old.status = CardStatus.CANCELLED
        old.save(update_fields=["status"])
        cards.log(old, actor, CardAction.REPLACE)
        new = cards.make_card(
            actor=actor, enterprise=old.enterprise, who=who, medium=old.medium, replaces=old
        )
        CardPermission.objects.bulk_create(
            CardPermission(card=new, subsystem=p.subsystem, action=p.action, district=p.district)
            for p in old.permissions.all()
        )
        transaction.on_commit(lambda: cards.forget_so_pin(old))
    return new
