"""A card's PIN (EPORT.md §3.1–3.2): every use the platform sees goes through `use_pin`.

The PIN starts as 88888888 and must be changed before any other use; CARD_PIN_TRIES (5)
consecutive wrong PINs lock the card, counted by the platform for every use it sees (and the
token's own lock is honoured where its module has one); only the office (a legal-person card)
or the enterprise's legal-person card (an operator card) unlocks, which resets the PIN to
88888888. PortSign never stores, logs or sends a PIN: it passes it to the card reader on
stdin and forgets it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portsign.accounts.models import User
from portsign.common import ratelimit
from portsign.common.errors import Conflict, Invalid, NotFound
from portsign.eport.domain import cards, tokens
from portsign.eport.enums import CardAction, CardStatus
from portsign.eport.models import Card
from portsign.pki.vault import open_secret

T = TypeVar("T")
# 8 to 16 letters or digits (UKey PINs), not the initial one, not one character repeated.
_PIN_SHAPE = re.compile(r"[A-Za-z0-9]{8,16}")


def check_new_pin(pin: str, *, old: str) -> None:
    if not _PIN_SHAPE.fullmatch(pin or ""):
        message = _("A PIN is 8 to 16 letters or digits.")
        raise Invalid(message, code="pin_invalid", fields={"new_pin": message})
    if pin == tokens.INITIAL_PIN or len(set(pin)) == 1 or pin == old:
        message = _("Choose a PIN that is not the initial one, the old one or one digit repeated.")
        raise Invalid(message, code="pin_weak", fields={"new_pin": message})


def refuse_unusable(card: Card) -> None:
    """A lost, frozen, locked or cancelled card cannot be used (sign, sign in, PIN change)."""
    if card.status != CardStatus.ACTIVE:
        raise Conflict(
            _("Card %(number)s is %(status)s and cannot be used.")
            % {"number": card.number, "status": card.get_status_display()},
            code="card_unusable",
        )
    if card.pin_locked:
        raise Conflict(
            _(
                "Card %(number)s is locked after too many wrong PINs. Ask for it to be unlocked: "
                "the office unlocks a legal-person card, the legal-person card an operator card."
            )
            % {"number": card.number},
            code="card_locked",
        )
    if cards.expired(card):
        raise Conflict(
            _("Card %(number)s has expired.") % {"number": card.number}, code="card_expired"
        )


def _wrong_pin(card: Card) -> Invalid:
    """Count one wrong PIN (committed even though the caller fails) and say what is left."""
    with transaction.atomic():
        Card.objects.filter(pk=card.pk).update(pin_failures=F("pin_failures") + 1)
        card.refresh_from_db(fields=["pin_failures", "pin_locked"])
        if card.pin_failures >= settings.CARD_PIN_TRIES and not card.pin_locked:
            _lock(card)
    left = max(0, settings.CARD_PIN_TRIES - card.pin_failures)
    if left == 0:
        message = _("Wrong PIN. The card is now locked.")
    else:
        message = ngettext(
            "Wrong PIN (%(failures)d wrong in a row). %(left)d try left before the card locks.",
            "Wrong PIN (%(failures)d wrong in a row). %(left)d tries left before the card locks.",
            left,
        ) % {"failures": card.pin_failures, "left": left}
    return Invalid(
        message,
        code="pin_incorrect",
        fields={"pin": message, "failures": card.pin_failures, "remaining": left},
    )


def _lock(card: Card) -> None:
    Card.objects.filter(pk=card.pk).update(pin_locked=True)
    card.pin_locked = True
    cards.log(card, None, CardAction.LOCK, detail=f"{card.pin_failures}")


def use_pin(card: Card, pin: str, operation: Callable[[], T], *, initial_ok: bool = False) -> T:
    """Run a token *operation* that presents *pin*, counting what the platform sees. Must run
    outside a transaction, so a wrong PIN stays counted when the caller's work fails."""
    card.refresh_from_db()
    refuse_unusable(card)
    if card.pin_must_change and not initial_ok:
        raise Conflict(_("Change the card's initial PIN before using it."), code="card_pin_initial")
    if not pin:
        message = _("Enter the card's PIN.")
        raise Invalid(message, code="pin_required", fields={"pin": message})
    try:
        result = operation()
    except tokens.TokenError as exc:
        if exc.code == "pin_incorrect":
            raise _wrong_pin(card) from exc
        if exc.code == "pin_locked":  # the token counted on its own
            with transaction.atomic():
                _lock(card)
            refuse_unusable(card)
        raise cards.reader_failed(exc) from exc
    if card.pin_failures:
        Card.objects.filter(pk=card.pk).update(pin_failures=0)
        card.pin_failures = 0
    return result


def held_card(actor: User, card_id: str) -> Card:
    """A card *actor* holds; anyone else's is not found (the holder alone knows its PIN)."""
    card = cards.visible_card(actor, card_id)
    if card.holder_id != actor.id:
        raise NotFound()
    return card


def limit_pin_changes(actor: User, card_id: str) -> None:
    """PIN changes of one card by one person: 20 an hour (keyed by both, so a stranger's tries
    never lock the holder out)."""
    ratelimit.enforce(
        scope="card_pin",
        key=f"{actor.id}:{card_id}",
        limit=20,
        window_seconds=3600,
        message=_("Too many PIN changes for this card; try again later."),
        code="rate_limited",
    )


def change_pin(*, actor: User, card_id: str, pin: str, new_pin: str) -> Card:
    """The holder changes the PIN (first of all the initial 88888888)."""
    card = held_card(actor, card_id)
    check_new_pin(new_pin, old=pin)
    use_pin(
        card,
        pin,
        lambda: tokens.change_pin(label=card.number, pin=pin, new_pin=new_pin),
        initial_ok=True,
    )
    with transaction.atomic():
        Card.objects.filter(pk=card.pk).update(pin_must_change=False)
        card.pin_must_change = False
        cards.log(card, actor, CardAction.CHANGE_PIN)
    return card


def reset_to_initial(card: Card) -> None:
    """The security officer sets the PIN back to 88888888 (unlock, extension)."""
    if not card.so_pin_id:
        raise Conflict(_("The card is cancelled."), code="card_state")
    so_pin = open_secret(card.so_pin_id).decode()
    try:
        tokens.reset_pin(label=card.number, so_pin=so_pin)
    except tokens.TokenError as exc:
        raise cards.reader_failed(exc) from exc
    Card.objects.filter(pk=card.pk).update(pin_failures=0, pin_locked=False, pin_must_change=True)
    card.pin_failures, card.pin_locked, card.pin_must_change = 0, False, True
