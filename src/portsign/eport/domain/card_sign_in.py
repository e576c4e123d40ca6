"""Card sign-in (seed 001: "将IC卡插入 … 输入登录密码"): the holder signs a server challenge with
the card key, through the certificate sign-in protocol (`pki.login_certificates`), and the
session acts for the card's enterprise with the card's role.

`holder_of` is registered with that protocol (apps.py), so `portsign login --pkcs11-module …`
and the console's card sign-in reach the same checks: the card in use and its PIN not locked
or initial; the enterprise's first sign-in with its legal-person card; operator cards only once
the enterprise information is approved.
"""

from __future__ import annotations

import base64
from collections.abc import Callable

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from portsign.accounts.domain.challenges import new_challenge
from portsign.accounts.models import User
from portsign.common import ratelimit
from portsign.common.errors import DomainError, Forbidden, Unauthorized
from portsign.eport.domain import card_pins, cards, filings, tokens
from portsign.eport.enums import CardKind, CardStatus
from portsign.eport.models import Card, CardCertificate
from portsign.pki import login_certificates
from portsign.pki.login_protocol import login_message
from portsign.pki.models import IssuedCertificate


def _refused(message: str, code: str) -> Unauthorized:
    return Unauthorized(message, code=code)


def card_of_certificate(issued: IssuedCertificate) -> Card | None:
    """The card whose current certificate *issued* is (a superseded one is no card's)."""
    binding = CardCertificate.objects.select_related("card").filter(certificate=issued).first()
    if binding is None or binding.card.certificate_id != issued.id:
        return None
    return binding.card


def check_may_sign_in(card: Card) -> None:
    try:
        card_pins.refuse_unusable(card)
    except DomainError as exc:
        raise _refused(str(exc.message), exc.code) from exc
    if card.pin_must_change:
        raise _refused(
            _("Change the card's initial PIN before signing in with it."), "card_pin_initial"
        )
    if card.kind == CardKind.LEGAL_PERSON:
        return
    enterprise = card.enterprise
    if filings.current_info_filing(enterprise) is None:
        raise _refused(
            _("Operator cards can sign in once the enterprise information is approved."),
            "enterprise_info_not_approved",
        )
    legal = cards.legal_person_card(enterprise)
    if legal is None or legal.first_sign_in_at is None:
        raise _refused(
            _("The enterprise's first sign-in must be with its legal-person card."),
            "legal_person_card_first",
        )


def holder_of(issued: IssuedCertificate) -> User | None:
    """The account a card certificate signs in (None: not a card's)."""
    card = card_of_certificate(issued)
    if card is None:
        if CardCertificate.objects.filter(certificate=issued).exists():
            raise _refused(_("This card certificate has been replaced."), "certificate_revoked")
        return None
    check_may_sign_in(card)
    if card.first_sign_in_at is None:
        Card.objects.filter(pk=card.pk, first_sign_in_at__isnull=True).update(
            first_sign_in_at=timezone.now()
        )
    return card.holder


def acting_card(request: HttpRequest) -> Card | None:
    """The card the request's session or token was opened with, if it is in use now."""
    issued = login_certificates.signed_in_certificate(request)
    if issued is None:
        return None
    card = card_of_certificate(issued)
    if card is None or card.status != CardStatus.ACTIVE or card.pin_locked:
        return None
    if cards.expired(card):  # a session opened before the card expired acts no longer
        return None
    if getattr(request, "user", None) is not None and card.holder_id != request.user.id:
        return None
    return card


def session_card_problem(request: HttpRequest, user: User) -> DomainError | None:
    """Why the card this session was opened with can no longer act (locked, lost, frozen,
    expired…), if it is the signed-in person's card; None if there is no such card. The
    console says this, where `acting_card` only stops acting for it."""
    issued = login_certificates.signed_in_certificate(request)
    card = card_of_certificate(issued) if issued is not None else None
    if card is None or card.holder_id != user.id:
        return None
    try:
        card_pins.refuse_unusable(card)
    except DomainError as exc:
        return exc
    return None


def card_refusal(
    request: HttpRequest, user: User, acting: Card | None, rule: Callable[[], object]
) -> DomainError | None:
    """Why this session may not act with its card (None: it may), for the pages to say before
    the form is filled in: what is wrong with the session's card when it cannot act, else the
    refusal *rule* (the domain's own check, the one the act itself makes) raises."""
    if acting is None:
        problem = session_card_problem(request, user)
        if problem is not None:
            return problem
    try:
        rule()
    except Forbidden as exc:
        return exc
    return None


def limit_sign_ins(ip: str) -> None:
    """Card sign-ins from one address: 30 in 10 minutes (the API's and the console's)."""
    ratelimit.enforce(
        scope="card_login",
        key=ip,
        limit=30,
        window_seconds=600,
        message=_("Too many card sign-ins from this address; try again later."),
        code="rate_limited",
    )


def sign_in_with_card(*, number: str, pin: str, host: str) -> tuple[User, IssuedCertificate]:
    """The console's card sign-in: the platform's card reader signs the challenge with the
    card key (the PIN goes to the token, nowhere else), then the protocol checks it."""
    card = Card.objects.select_related("certificate", "enterprise").filter(number=number).first()
    if card is None:
        raise _refused(_("No card has this number."), "card_unknown")
    challenge = new_challenge()
    message = login_message(challenge=challenge.challenge, audience=host)
    try:
        signature = card_pins.use_pin(
            card, pin, lambda: tokens.sign(label=card.number, pin=pin, message=message)
        )
    except DomainError as exc:
        if exc.status == 400:  # a wrong PIN: its count and the tries left
            raise
        raise _refused(str(exc.message), exc.code) from exc
    return login_certificates.login_with_certificate(
        challenge_id=challenge.id,
        certificate_pem=card.certificate.certificate_pem,
        signature=base64.b64encode(signature).decode(),
        host=host,
    )
