"""Enterprise verification through the legal representative (SPEC B2).

carrier3: a code goes to the legal representative's phone; entering it shows the legal
representative takes part, then the carrier confirms name + ID number + phone belong together.
face: the legal representative completes a liveness check on their own phone.
Provider calls happen outside transactions (DESIGN rule 5).
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portsign.accounts.domain.codes import consume_code, issue_code, mask_address
from portsign.accounts.enums import CodePurpose
from portsign.accounts.models import User
from portsign.accounts.realname.base import Answer, Outcome
from portsign.accounts.realname.registry import realname_provider
from portsign.accounts.validators import Account, normalize_phone, require_mainland_mobile
from portsign.common.audit import record_event
from portsign.common.cn_ids import mask_id_number, normalize_id_number
from portsign.common.errors import Conflict, Invalid, NotFound
from portsign.enterprises.domain.enterprises import (
    open_for_method,
    open_for_verification,
    set_enterprise_status,
)
from portsign.enterprises.enums import (
    EnterpriseStatus,
    LegalRepStatus,
    Permission,
    VerificationMethod,
)
from portsign.enterprises.models import Enterprise, LegalRepVerification
from portsign.enterprises.rules import enterprise_for

_METHODS = {
    "carrier3": VerificationMethod.LEGAL_REP_CARRIER3,
    "face": VerificationMethod.LEGAL_REP_FACE,
}


def start_legal_rep(
    *, actor: User, enterprise_id: str, method: str, legal_rep_id_number: str, phone: str = ""
) -> LegalRepVerification:
    enterprise = open_for_method(actor=actor, enterprise_id=enterprise_id)
    if method not in _METHODS:
        raise Invalid(
            _("Use carrier3 or face."),
            code="method_invalid",
            fields={"method": _("Unknown method.")},
        )
    rep_id = normalize_id_number(legal_rep_id_number, field="legal_rep_id_number")
    attempt = LegalRepVerification(
        enterprise=enterprise, method=_METHODS[method], legal_rep_id_number=rep_id, created_by=actor
    )
    try:
        _check_enterprise_elements(enterprise)
    except Conflict as exc:
        if exc.code == "enterprise_mismatch":
            _record_registry_failure(attempt, actor)
        raise
    if method == "carrier3":
        attempt.phone = require_mainland_mobile(normalize_phone(phone, field="phone"))
        attempt.status = LegalRepStatus.AWAITING_CODE
        issue_code(
            to=attempt.phone,
            purpose=CodePurpose.LEGAL_REP,
            binding=enterprise.id,
            actor_id=actor.id,
        )
    else:
        session = realname_provider().start_face(
            name=enterprise.legal_rep_name,
            id_number=rep_id,
            return_url=f"{settings.PUBLIC_URL}/console/enterprise/{enterprise.id}/",
        )
        attempt.status = LegalRepStatus.AWAITING_FACE
        attempt.face_session_id, attempt.face_url = session.session_id, session.url
    with transaction.atomic():
        attempt.save(force_insert=True)
        if enterprise.status == EnterpriseStatus.UNVERIFIED:
            set_enterprise_status(
                enterprise_id=enterprise.id, status=EnterpriseStatus.VERIFYING, actor_id=actor.id
            )
        _audit(attempt, actor, "enterprise.legal_rep_started")
    return attempt


def _record_registry_failure(attempt: LegalRepVerification, actor: User) -> None:
    """The registry does not name this legal representative: a failed attempt, which opens
    the manual review (the registry may lag behind a recent change of legal representative)."""
    attempt.status, attempt.failure = LegalRepStatus.FAILED, "not_legal_rep"
    attempt.completed_at = timezone.now()
    with transaction.atomic():
        attempt.save(force_insert=True)
        _audit(attempt, actor, "enterprise.legal_rep_failed")


def _check_enterprise_elements(enterprise: Enterprise) -> None:
    """The legal representative only speaks for *this* enterprise if the registry says they
    are its legal representative: name + credit code + legal representative must match."""
    answer = realname_provider().enterprise3(
        name=enterprise.name, uscc=enterprise.uscc, legal_rep_name=enterprise.legal_rep_name
    )
    if answer.outcome == Outcome.MATCH:
        return
    if answer.outcome == Outcome.MISMATCH:
        raise Conflict(
            _(
                "The business registry does not list %(rep)s as the legal representative of "
                "%(enterprise)s with this credit code. Check the enterprise's details."
            )
            % {"rep": enterprise.legal_rep_name, "enterprise": enterprise.name},
            code="enterprise_mismatch",
        )
    raise Conflict(
        _(
            "The business registry check is unavailable right now. Try again later or use "
            "another verification method."
        ),
        code="registry_unavailable",
    )


def current_legal_rep(*, actor: User, enterprise_id: str) -> LegalRepVerification:
    enterprise_for(user=actor, enterprise_id=enterprise_id, permission=Permission.MANAGE_ENTERPRISE)
    attempt = (
        LegalRepVerification.objects.select_related("enterprise")
        .filter(enterprise_id=enterprise_id)
        .order_by("-created_at")
        .first()
    )
    if attempt is None:
        raise NotFound(_("No legal-representative verification has been started."))
    return attempt


def confirm_legal_rep_code(*, actor: User, enterprise_id: str, code: str) -> LegalRepVerification:
    attempt = current_legal_rep(actor=actor, enterprise_id=enterprise_id)
    if attempt.status != LegalRepStatus.AWAITING_CODE:
        raise Conflict(_("This verification is not waiting for a code."), code="not_open")
    open_for_verification(actor=actor, enterprise_id=enterprise_id)
    consume_code(
        account=Account("sms", attempt.phone),
        purpose=CodePurpose.LEGAL_REP,
        code=code,
        binding=enterprise_id,
    )
    answer = realname_provider().carrier3(
        name=attempt.enterprise.legal_rep_name,
        id_number=attempt.legal_rep_id_number,
        phone=attempt.phone,
    )
    return _conclude(attempt, answer, actor)


def refresh_legal_rep(*, actor: User, enterprise_id: str) -> LegalRepVerification:
    attempt = current_legal_rep(actor=actor, enterprise_id=enterprise_id)
    if attempt.status != LegalRepStatus.AWAITING_FACE:
        return attempt
    answer = realname_provider().face_result(session_id=attempt.face_session_id)
    # Not finished yet, or the provider could not answer this time: ask again later rather
    # than fail an attempt the person may well have passed.
    if answer.outcome in (Outcome.PENDING, Outcome.ERROR):
        return attempt
    return _conclude(attempt, answer, actor)


def _conclude(attempt: LegalRepVerification, answer: Answer, actor: User) -> LegalRepVerification:
    matched = answer.outcome == Outcome.MATCH
    with transaction.atomic():
        attempt = (
            LegalRepVerification.objects.select_for_update()
            .select_related("enterprise")
            .get(pk=attempt.pk)
        )
        if attempt.status not in (LegalRepStatus.AWAITING_CODE, LegalRepStatus.AWAITING_FACE):
            return attempt  # a concurrent refresh concluded it already
        attempt.status = LegalRepStatus.VERIFIED if matched else LegalRepStatus.FAILED
        attempt.failure = "" if matched else ("provider_error" if answer.retryable else "mismatch")
        attempt.provider_code, attempt.completed_at = answer.provider_code[:64], timezone.now()
        attempt.save(update_fields=["status", "failure", "provider_code", "completed_at"])
        if matched and not _verify_enterprise(attempt, actor):
            matched = False
            attempt.status, attempt.failure = LegalRepStatus.FAILED, "enterprise_closed"
            attempt.save(update_fields=["status", "failure"])
        _audit(
            attempt,
            actor,
            "enterprise.legal_rep_verified" if matched else "enterprise.legal_rep_failed",
        )
    return attempt


def _verify_enterprise(attempt: LegalRepVerification, actor: User) -> bool:
    """Verify the enterprise; False when it can no longer be (lapsed, or its credit code was
    verified by another enterprise meanwhile): the attempt then ends failed, not stuck."""
    enterprise = attempt.enterprise
    try:
        with transaction.atomic():
            enterprise.legal_rep_id_number = attempt.legal_rep_id_number
            enterprise.save(update_fields=["legal_rep_id_number"])
            set_enterprise_status(
                enterprise_id=enterprise.id,
                status=EnterpriseStatus.VERIFIED,
                actor_id=actor.id,
                verified_at=attempt.completed_at,
                verification_method=attempt.method,
            )
    except Conflict:
        return False
    return True


def _audit(attempt: LegalRepVerification, actor: User, action: str) -> None:
    record_event(
        action=action,
        actor_id=actor.id,
        acting_as=attempt.enterprise_id,
        object_type="legal_rep_verification",
        object_id=attempt.id,
        data={
            "method": attempt.method,
            "legal_rep_id_number": mask_id_number(attempt.legal_rep_id_number),
            "phone": mask_address(attempt.phone) if attempt.phone else "",
            "provider_code": attempt.provider_code,
            "failure": attempt.failure,
        },
    )
