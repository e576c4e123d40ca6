"""Personal real-name verification (SPEC A5).

The provider call happens outside any transaction (DESIGN rule 5); its answer is then recorded
in one transaction together with the identity it proves. A verified identity is locked: the
name and ID number only change through a new successful verification.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portsign.accounts.domain.codes import mask_address
from portsign.accounts.enums import VerificationMethod, VerificationStatus
from portsign.accounts.models import PersonVerification, User
from portsign.accounts.realname.base import Answer, Outcome
from portsign.accounts.realname.registry import provider_name, realname_provider
from portsign.accounts.validators import check_name, normalize_phone, require_mainland_mobile
from portsign.common.audit import record_event
from portsign.common.cn_ids import mask_id_number, normalize_bank_card, normalize_id_number
from portsign.common.errors import Invalid, NotFound, RateLimited


def _method(raw: str) -> VerificationMethod:
    if raw not in VerificationMethod.values:
        choices = ", ".join(VerificationMethod.values)
        raise Invalid(
            _("Unknown verification method. Use one of: %(choices)s.") % {"choices": choices},
            code="method_invalid",
            fields={"method": _("Unknown method.")},
        )
    return VerificationMethod(raw)


def _check_daily_limit(user: User) -> None:
    since = timezone.now() - timedelta(days=1)
    if (
        PersonVerification.objects.filter(user=user, created_at__gte=since).count()
        >= settings.PERSON_VERIFICATION_DAILY_LIMIT
    ):
        raise RateLimited(
            _("Too many verification attempts today. Try again tomorrow."),
            retry_after=86400,
            code="verification_daily_limit",
        )


def _own_phone(user: User, phone: str) -> str:
    if not user.phone:
        problem = _("Add a mobile number to your account first (personal centre).")
        raise Invalid(problem, code="phone_required", fields={"phone": problem})
    if phone and normalize_phone(phone, field="phone") != user.phone:
        problem = _(
            "Use your account's own mobile number; change it in the personal centre "
            "first if needed."
        )
        raise Invalid(problem, code="phone_not_yours", fields={"phone": problem})
    return user.phone


def _mask_card(card: str) -> str:
    return card[:4] + "*" * (len(card) - 8) + card[-4:]


def verify_person(
    *,
    user: User,
    method: str,
    name: str,
    id_number: str,
    phone: str = "",
    card_number: str = "",
) -> PersonVerification:
    """Check the person's elements with the provider; on a match the identity is theirs.

    carrier3 and bank4 check the account's own mobile number (proven by the sign-in code), so
    nobody can take on another person's identity with leaked name/ID/phone triples; for bank4
    it must be the number reserved with the bank. face: returns a pending verification whose
    `face_url` the person opens on a phone; `refresh_person_verification` collects the result.
    """
    chosen = _method(method)
    clean_name = check_name(name)
    clean_id = normalize_id_number(id_number)
    clean_phone = (
        ""
        if chosen == VerificationMethod.FACE
        else require_mainland_mobile(_own_phone(user, phone))
    )
    card = normalize_bank_card(card_number) if chosen == VerificationMethod.BANK4 else ""
    _check_daily_limit(user)
    provider = realname_provider()
    attempt = PersonVerification(
        user=user,
        method=chosen,
        name=clean_name,
        id_number=clean_id,
        phone_masked=mask_address(clean_phone) if clean_phone else "",
        card_masked=_mask_card(card) if card else "",
        provider=provider_name(),
    )
    if chosen == VerificationMethod.FACE:
        session = provider.start_face(
            name=clean_name,
            id_number=clean_id,
            return_url=settings.PUBLIC_URL + "/account/me/",
        )
        attempt.face_session_id, attempt.face_url = session.session_id, session.url
        with transaction.atomic():
            attempt.save(force_insert=True)
            _audit(attempt, "person.verification_started")
        return attempt
    if chosen == VerificationMethod.CARRIER3:
        answer = provider.carrier3(name=clean_name, id_number=clean_id, phone=clean_phone)
    else:
        answer = provider.bank4(
            name=clean_name, id_number=clean_id, card_number=card, phone=clean_phone
        )
    return _conclude(attempt, answer)


def refresh_person_verification(*, user: User, verification_id: str) -> PersonVerification:
    """Collect the result of a pending face verification (no-op once it has ended)."""
    attempt = PersonVerification.objects.filter(pk=verification_id, user=user).first()
    if attempt is None:
        raise NotFound()
    if attempt.status != VerificationStatus.PENDING:
        return attempt
    answer = realname_provider().face_result(session_id=attempt.face_session_id)
    # Not finished yet, or the provider could not answer this time: ask again later rather
    # than fail an attempt the person may well have passed.
    if answer.outcome in (Outcome.PENDING, Outcome.ERROR):
        return attempt
    return _conclude(attempt, answer)


def latest_verification(*, user: User) -> PersonVerification | None:
    return PersonVerification.objects.filter(user=user).order_by("-created_at").first()


def _conclude(attempt: PersonVerification, answer: Answer) -> PersonVerification:
    attempt.provider_code = answer.provider_code[:64]
    attempt.provider_request_id = answer.request_id[:64]
    attempt.completed_at = timezone.now()
    matched = answer.outcome == Outcome.MATCH
    attempt.status = VerificationStatus.VERIFIED if matched else VerificationStatus.FAILED
    if not matched:
        attempt.failure = "provider_error" if answer.retryable else "mismatch"
    with transaction.atomic():
        attempt.save()
        if matched:
            _lock_identity(attempt)
        _audit(
            attempt,
            "person.verified" if matched else "person.verification_failed",
            outcome=answer.outcome.value,
        )
    return attempt


# Called inside the transaction that verifies a person (billing grants the free allotment).
_ON_VERIFIED: list[Callable[[User], None]] = []


def on_verified(listener: Callable[[User], None]) -> None:
    if listener not in _ON_VERIFIED:
        _ON_VERIFIED.append(listener)


def _lock_identity(attempt: PersonVerification) -> None:
    user = User.objects.select_for_update().get(pk=attempt.user_id)
    user.name, user.id_number = attempt.name, attempt.id_number
    user.real_name_verified_at, user.real_name_method = attempt.completed_at, attempt.method
    user.save(update_fields=["name", "id_number", "real_name_verified_at", "real_name_method"])
    attempt.user = user
    for listener in _ON_VERIFIED:
        listener(user)


def _audit(attempt: PersonVerification, action: str, **extra: str) -> None:
    record_event(
        action=action,
        actor_id=attempt.user_id,
        object_type="person_verification",
        object_id=attempt.id,
        data={
            "method": attempt.method,
            "id_number": mask_id_number(attempt.id_number),
            "provider": attempt.provider,
            "provider_code": attempt.provider_code,
            **extra,
        },
    )


def failure_reason(attempt: PersonVerification) -> str:
    """A sentence for the person explaining a failed attempt."""
    if attempt.status != VerificationStatus.FAILED:
        return ""
    if attempt.failure == "provider_error":
        return str(_("The verification service is unavailable right now. Try again later."))
    return str(
        _("The information does not match the authoritative records. Check it and try again.")
    )
