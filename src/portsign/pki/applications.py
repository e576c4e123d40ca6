"""Cloud-certificate applications and their lifecycle (SPEC C5, API.md "certificates").

The applicant confirms with an SMS/e-mail code (purpose `certificate`, sent to their own
address). Approval follows settings.CERTIFICATE_APPROVAL. Issuance notifies the applicant.
Identity goes into the subject only as verified: the enterprise's name and credit code, or the
person's verified name with a pseudonymous serialNumber (never the ID number).
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from portsign.accounts.domain.codes import consume_code, own_code_account
from portsign.accounts.enums import CodePurpose
from portsign.accounts.models import User
from portsign.backoffice import domain as backoffice
from portsign.backoffice.models import Review
from portsign.backoffice.registry import ReviewKind, register
from portsign.common.audit import record_event
from portsign.common.errors import Conflict, Forbidden, NotFound
from portsign.common.notify.outbox import queue_message
from portsign.common.text import clean_text
from portsign.enterprises.enums import EnterpriseStatus, Permission
from portsign.enterprises.models import Membership
from portsign.enterprises.rules import enterprise_for, membership_of
from portsign.pki import issuance
from portsign.pki.models import CertificateApplication, IssuedCertificate

REVIEW_KIND = "certificate_application"
STATUS_LABELS = {
    "pending": pgettext_lazy("certificate", "Waiting for approval"),
    "issued": pgettext_lazy("certificate", "Issued"),
    "rejected": pgettext_lazy("certificate", "Rejected"),
    "suspended": pgettext_lazy("certificate", "Suspended"),
    "revoked": pgettext_lazy("certificate", "Revoked"),
}
Status = CertificateApplication.Status


def apply(
    *,
    actor: User,
    enterprise_id: str | None,
    code: str,
    invoice_title: str = "",
    invoice_tax_number: str = "",
) -> CertificateApplication:
    if not actor.is_real_name_verified:
        raise Conflict(_("Verify your real name first."), code="real_name_required")
    enterprise = None
    if enterprise_id:
        enterprise = enterprise_for(
            user=actor, enterprise_id=enterprise_id, permission=Permission.MANAGE_ENTERPRISE
        )
        if enterprise.status != EnterpriseStatus.VERIFIED:
            raise Conflict(
                _("Verify the enterprise before applying for its certificate."),
                code="enterprise_not_verified",
            )
    title = clean_text(
        invoice_title,
        field="invoice_title",
        min_length=0,
        max_length=100,
        code="invoice_invalid",
        message=_("Invoice title: up to 100 characters."),
    )
    tax = clean_text(
        invoice_tax_number,
        field="invoice_tax_number",
        min_length=0,
        max_length=20,
        code="invoice_invalid",
        message=_("Invoice tax number: up to 20 characters."),
    )
    consume_code(
        account=own_code_account(actor, CodePurpose.CERTIFICATE),
        purpose=CodePurpose.CERTIFICATE,
        code=code,
    )
    with transaction.atomic():
        application = CertificateApplication.objects.create(
            applicant=actor, enterprise=enterprise, invoice_title=title, invoice_tax_number=tax
        )
        record_event(
            action="certificate.applied",
            actor_id=actor.id,
            acting_as=enterprise.id if enterprise else "personal",
            object_type="certificate_application",
            object_id=application.id,
        )
        if _policy(application) == "back_office":
            backoffice.submit_review(
                kind=REVIEW_KIND,
                subject_id=application.id,
                title=enterprise.name if enterprise else actor.name,
                files=[],
                details={"applicant": actor.name, "kind": "enterprise" if enterprise else "person"},
                submitted_by=actor,
            )
    if _policy(application) == "auto":
        return _issue(application, approver=None)
    return application


def _policy(application: CertificateApplication) -> str:
    policy = str(settings.CERTIFICATE_APPROVAL)
    if policy == "enterprise_admin" and application.enterprise_id is None:
        return "auto"  # a person's own certificate has no enterprise administrator
    return policy


def _issue(application: CertificateApplication, approver: User | None) -> CertificateApplication:
    subject = (
        issuance.enterprise_name(name=application.enterprise.name, uscc=application.enterprise.uscc)
        if application.enterprise
        else issuance.person_name(
            name=application.applicant.name, id_number=application.applicant.id_number
        )
    )
    certificate = issuance.issue_certificate(subject=subject)
    with transaction.atomic():
        locked = CertificateApplication.objects.select_for_update().get(pk=application.pk)
        if locked.status != Status.PENDING:
            raise Conflict(_("This application was already decided."), code="already_decided")
        locked.status, locked.certificate = Status.ISSUED, certificate
        locked.decided_by, locked.decided_at = approver, timezone.now()
        locked.save(update_fields=["status", "certificate", "decided_by", "decided_at"])
        record_event(
            action="certificate.issued",
            actor_id=approver.id if approver else "",
            object_type="certificate_application",
            object_id=locked.id,
            data={"serial": certificate.serial},
        )
        _notify(locked)
    return locked


def _notify(application: CertificateApplication) -> None:
    user = application.applicant
    to, channel = (user.phone, "sms") if user.phone else (user.email or "", "email")
    text = _("[PortSign] Your certificate has been issued (serial %(serial)s).") % {
        "serial": application.certificate.serial if application.certificate else ""
    }
    queue_message(to=to, channel=channel, subject=str(_("Certificate issued")), text=text)


def application_for(*, actor: User, application_id: str) -> CertificateApplication:
    """The application if the actor applied for it or may manage its enterprise; else 404."""
    application = (
        CertificateApplication.objects.select_related("enterprise", "certificate")
        .filter(pk=application_id)
        .first()
    )
    if application is None:
        raise NotFound()
    if application.enterprise_id is None:
        if application.applicant_id != actor.id:
            raise NotFound()
        return application
    membership_of(user=actor, enterprise_id=application.enterprise_id)  # 404 for outsiders
    return application


def approve(*, actor: User, application_id: str) -> CertificateApplication:
    application = application_for(actor=actor, application_id=application_id)
    if _policy(application) != "enterprise_admin":
        raise Forbidden(
            _("Applications are approved automatically or by PortSign reviewers."),
            code="approval_not_yours",
        )
    enterprise_for(
        user=actor,
        enterprise_id=str(application.enterprise_id),
        permission=Permission.MANAGE_MEMBERS,
    )
    return _issue(application, approver=actor)


def change_status(
    *, actor: User, application_id: str, action: str, reason: str = "unspecified"
) -> CertificateApplication:
    """suspend | release | revoke by the holder (person) or an enterprise administrator."""
    application = application_for(actor=actor, application_id=application_id)
    if application.enterprise_id:
        enterprise_for(
            user=actor,
            enterprise_id=str(application.enterprise_id),
            permission=Permission.MANAGE_ENTERPRISE,
        )
    if application.certificate is None:
        raise Conflict(_("No certificate has been issued for this application."), code="not_issued")
    cert_id = application.certificate.id
    if action == "suspend":
        issuance.suspend(cert_id, actor_id=actor.id)
    elif action == "release":
        issuance.release(cert_id, actor_id=actor.id)
    else:
        issuance.revoke(cert_id, reason=reason, actor_id=actor.id)
    application.certificate.refresh_from_db()
    return application


def public_status(application: CertificateApplication) -> str:
    """API.md status: pending | issued | rejected | suspended | revoked."""
    if application.status != Status.ISSUED or application.certificate is None:
        return str(application.status)
    names: dict[str, str] = {
        IssuedCertificate.Status.VALID: "issued",
        IssuedCertificate.Status.SUSPENDED: "suspended",
        IssuedCertificate.Status.REVOKED: "revoked",
    }
    return names[application.certificate.status]


def _review_approved(review: Review, reviewer: User) -> None:
    _issue(CertificateApplication.objects.get(pk=review.subject_id), approver=reviewer)


def _review_returned(review: Review, reviewer: User) -> None:
    CertificateApplication.objects.filter(pk=review.subject_id).update(
        status=Status.REJECTED,
        decided_by=reviewer,
        decided_at=timezone.now(),
        decision_reason=review.opinion[:300],
    )


def _is_member(review: Review, reviewer: User) -> bool:
    application = CertificateApplication.objects.get(pk=review.subject_id)
    return (
        application.applicant_id == reviewer.id
        or Membership.objects.filter(
            enterprise_id=application.enterprise_id, user=reviewer
        ).exists()
    )


register(
    ReviewKind(
        REVIEW_KIND,
        gettext_lazy("Certificate application"),
        _review_approved,
        _review_returned,
        _is_member,
    )
)


def signing_certificate(
    *, enterprise_id: str | None = None, user_id: str | None = None
) -> IssuedCertificate | None:
    """The newest usable cloud certificate of an enterprise, or of a person (personal
    application): issued, valid, in date, with its key in the vault."""
    rows = CertificateApplication.objects.filter(
        status=Status.ISSUED,
        certificate__status=IssuedCertificate.Status.VALID,
        certificate__not_after__gt=timezone.now(),
        certificate__not_before__lte=timezone.now(),
        certificate__key__isnull=False,
    )
    if enterprise_id is not None:
        rows = rows.filter(enterprise_id=enterprise_id)
    else:
        rows = rows.filter(enterprise__isnull=True, applicant_id=user_id)
    application = rows.select_related("certificate").order_by("-decided_at").first()
    return application.certificate if application else None
