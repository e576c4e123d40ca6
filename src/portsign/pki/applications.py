"""Certificate applications and their lifecycle (SPEC C5, API.md "certificates", seed 003).

An application carries certificate information (term, medium), invoice and mailing
information (`application_details`), materials (`materials`) and, for a handler who is not an
enterprise administrator, an authorization code (`authorizations`). The applicant confirms
with an SMS/e-mail code (purpose `certificate`, sent to their own address). Approval follows
settings.CERTIFICATE_APPROVAL; a cloud certificate is then issued, a UKey goes to offline
delivery. Renewal is a new application naming the old one. Identity goes into the subject
only as verified: the enterprise's name and credit code, or the person's verified name with a
pseudonymous serialNumber (never the ID number).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from cryptography import x509
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
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
from portsign.common.errors import Conflict, Forbidden, Invalid, NotFound
from portsign.common.notify.outbox import queue_message
from portsign.common.text import clean_text
from portsign.enterprises.enums import Permission
from portsign.enterprises.models import Department, Enterprise, Membership
from portsign.enterprises.rules import enterprise_for, membership_of
from portsign.pki import authorizations, issuance, materials
from portsign.pki.application_details import (
    ApplicationForm,
    Details,
    clean_details,
    require_verified,
)
from portsign.pki.models import (
    CertificateApplication,
    CertificateAuthorization,
    CertificateMaterial,
    IssuedCertificate,
)

REVIEW_KIND = "certificate_application"
STATUS_LABELS = {
    "pending": pgettext_lazy("certificate", "Waiting for approval"),
    "issued": pgettext_lazy("certificate", "Issued"),
    "pending_delivery": pgettext_lazy("certificate", "Approved, UKey to be mailed"),
    "rejected": pgettext_lazy("certificate", "Rejected"),
    "suspended": pgettext_lazy("certificate", "Suspended"),
    "revoked": pgettext_lazy("certificate", "Revoked"),
    "expired": pgettext_lazy("certificate", "Expired"),
}
Status = CertificateApplication.Status
Medium = CertificateApplication.Medium
# A certificate may be renewed from this long before it expires, and any time after.
RENEWAL_WINDOW = timedelta(days=60)
# Statuses of a renewal that stand in the way of another one.
_LIVE_RENEWAL = (Status.PENDING, Status.ISSUED)


def _require_real_name(actor: User) -> None:
    if not actor.is_real_name_verified:
        raise Conflict(_("Verify your real name first."), code="real_name_required")


def _applying_for(
    actor: User, enterprise_id: str | None, authorization_code: str
) -> tuple[Enterprise | None, CertificateAuthorization | None]:
    """The enterprise applied for and, for a member who is not an administrator, the
    authorization code that lets them apply as its handler (checked, not yet spent)."""
    if not enterprise_id:
        return None, None
    membership = membership_of(user=actor, enterprise_id=enterprise_id)  # 404 for outsiders
    enterprise = membership.enterprise
    require_verified(enterprise)
    if Permission.MANAGE_ENTERPRISE in membership.role.permissions:
        return enterprise, None  # administrators need no code, and do not spend one
    if not authorizations.normalize(authorization_code):
        raise Forbidden(
            _(
                "Only an administrator may apply for the enterprise's certificate without an "
                "authorization code. Ask an administrator for one."
            ),
            code="authorization_code_required",
        )
    return enterprise, authorizations.usable_authorization(
        enterprise_id=enterprise.id, raw_code=authorization_code
    )


def _confirm_with_code(actor: User, code: str) -> None:
    """The applicant signs the application with a code sent to themselves (证书申请签名)."""
    consume_code(
        account=own_code_account(actor, CodePurpose.CERTIFICATE),
        purpose=CodePurpose.CERTIFICATE,
        code=code,
    )


def apply(
    *,
    actor: User,
    enterprise_id: str | None,
    code: str,
    form: ApplicationForm | None = None,
    authorization_code: str = "",
    material_ids: Sequence[str] = (),
    department_id: str = "",
) -> CertificateApplication:
    _require_real_name(actor)
    enterprise, authorization = _applying_for(actor, enterprise_id, authorization_code)
    department = _department(enterprise, department_id)
    details = clean_details(form or ApplicationForm(), applicant=actor, enterprise=enterprise)
    claimed = materials.claim_materials(actor=actor, material_ids=material_ids)
    _confirm_with_code(actor, code)
    application = _create(
        actor=actor,
        enterprise=enterprise,
        details=details,
        authorization=authorization,
        claimed=claimed,
        department=department,
    )
    return _decide_now_if_auto(application)


def _department(enterprise: Enterprise | None, department_id: str) -> Department | None:
    """The live department of *enterprise* a certificate is applied for ("" for none)."""
    if not department_id:
        return None
    department = (
        Department.objects.filter(
            pk=department_id, enterprise=enterprise, deleted_at__isnull=True
        ).first()
        if enterprise is not None
        else None
    )
    if department is None:
        message = _("Choose a department of this enterprise.")
        raise Invalid(message, code="department_invalid", fields={"department_id": message})
    return department


def _create(
    *,
    actor: User,
    enterprise: Enterprise | None,
    details: Details,
    claimed: Sequence[CertificateMaterial],
    authorization: CertificateAuthorization | None = None,
    renews: CertificateApplication | None = None,
    department: Department | None = None,
) -> CertificateApplication:
    mailing = details.mailing
    with transaction.atomic():
        if renews is not None:
            _lock_for_renewal(renews)
        if authorization is not None:
            authorizations.use_authorization(authorization, user=actor)
        application = CertificateApplication.objects.create(
            applicant=actor,
            enterprise=enterprise,
            term_years=details.term_years,
            medium=details.medium,
            invoice_title=details.invoice_title,
            invoice_tax_number=details.invoice_tax_number,
            invoice_email=details.invoice_email,
            mail_recipient=mailing.recipient if mailing else "",
            mail_phone=mailing.phone if mailing else "",
            mail_address=mailing.address if mailing else "",
            authorization=authorization,
            renews=renews,
            # A renewal keeps the department, as it keeps the subject.
            department=renews.department if renews is not None else department,
        )
        attached = materials.attach(application, claimed)
        record_event(
            action="certificate.renewal_applied" if renews else "certificate.applied",
            actor_id=actor.id,
            acting_as=enterprise.id if enterprise else "personal",
            object_type="certificate_application",
            object_id=application.id,
            data={
                "term_years": details.term_years,
                "medium": details.medium,
                "renews": renews.id if renews else "",
                "authorization": authorization.id if authorization else "",
                # Only a department's certificate names one: other events keep their shape.
                **({"department": application.department_id} if application.department_id else {}),
                "materials": [m.sha256 for m in attached],
            },
        )
        if _policy(application) == "back_office":
            backoffice.submit_review(
                kind=REVIEW_KIND,
                subject_id=application.id,
                title=enterprise.name if enterprise else actor.name,
                files=materials.review_files(attached),
                details=_review_details(application),
                submitted_by=actor,
            )
    return application


def _review_details(application: CertificateApplication) -> dict[str, str]:
    details = {
        "applicant": application.applicant.name,
        "kind": "enterprise" if application.enterprise_id else "person",
        "term_years": str(application.term_years),
        "medium": application.medium,
        "invoice_title": application.invoice_title,
        "handler_authorized": "yes" if application.authorization_id else "no",
        "renewal": "yes" if application.renews_id else "no",
    }
    if application.medium == Medium.UKEY:
        details["mail_recipient"] = application.mail_recipient
        details["mail_address"] = application.mail_address
    return details


def _decide_now_if_auto(application: CertificateApplication) -> CertificateApplication:
    if _policy(application) == "auto":
        return _decide(application, approver=None)
    return application


def _policy(application: CertificateApplication) -> str:
    policy = str(settings.CERTIFICATE_APPROVAL)
    if policy == "enterprise_admin" and application.enterprise_id is None:
        return "auto"  # a person's own certificate has no enterprise administrator
    return policy


def _decide(application: CertificateApplication, approver: User | None) -> CertificateApplication:
    """Approval: a cloud certificate is issued now; a UKey goes to offline delivery."""
    if application.status != Status.PENDING:  # before making a key nobody would use
        raise Conflict(_("This application was already decided."), code="already_decided")
    if application.medium == Medium.UKEY:
        return _settle(application, approver, status=Status.PENDING_DELIVERY, certificate=None)
    certificate = issuance.issue_certificate(
        subject=_subject(application), years=application.term_years
    )
    return _settle(application, approver, status=Status.ISSUED, certificate=certificate)


def _subject(application: CertificateApplication) -> x509.Name:
    """A renewal keeps its certificate's subject exactly; a new one names the verified
    enterprise or person."""
    old = application.renews.certificate if application.renews else None
    if old is not None:
        return x509.load_pem_x509_certificate(old.certificate_pem.encode()).subject
    if application.enterprise:
        return issuance.enterprise_name(
            name=application.enterprise.name,
            uscc=application.enterprise.uscc,
            department=application.department.name if application.department else "",
        )
    return issuance.person_name(
        name=application.applicant.name, id_number=application.applicant.id_number
    )


def _settle(
    application: CertificateApplication,
    approver: User | None,
    *,
    status: str,
    certificate: IssuedCertificate | None,
) -> CertificateApplication:
    with transaction.atomic():
        locked = CertificateApplication.objects.select_for_update().get(pk=application.pk)
        if locked.status != Status.PENDING:
            raise Conflict(_("This application was already decided."), code="already_decided")
        locked.status, locked.certificate = status, certificate
        locked.decided_by, locked.decided_at = approver, timezone.now()
        locked.save(update_fields=["status", "certificate", "decided_by", "decided_at"])
        record_event(
            action="certificate.issued" if certificate else "certificate.approved_for_delivery",
            actor_id=approver.id if approver else "",
            object_type="certificate_application",
            object_id=locked.id,
            data={"serial": certificate.serial if certificate else "", "medium": locked.medium},
        )
        _notify_decision(locked)
    return locked


def notify_holder(user: User, *, subject: str, text: str) -> None:
    """An SMS to the applicant's phone, else an e-mail (inside the caller's transaction)."""
    to, channel = (user.phone, "sms") if user.phone else (user.email or "", "email")
    queue_message(to=to, channel=channel, subject=subject, text=text)


def _notify_decision(application: CertificateApplication) -> None:
    if application.certificate is not None:
        text = _("[PortSign] Your certificate has been issued (serial %(serial)s).") % {
            "serial": application.certificate.serial
        }
        notify_holder(application.applicant, subject=str(_("Certificate issued")), text=text)
        return
    text = _(
        "[PortSign] Your UKey certificate application was approved. The UKey will be mailed "
        "to %(recipient)s."
    ) % {"recipient": application.mail_recipient}
    notify_holder(application.applicant, subject=str(_("Certificate approved")), text=text)


def _holder(application: CertificateApplication) -> str:
    return application.enterprise.name if application.enterprise else application.applicant.name


def _notify_rejection(application: CertificateApplication) -> None:
    text = _("【PortSign】Your certificate application for %(holder)s was rejected: %(reason)s") % {
        "holder": _holder(application),
        "reason": application.decision_reason,
    }
    notify_holder(
        application.applicant, subject=str(_("Certificate application rejected")), text=text
    )


def _reject(application_id: str, decider: User, reason: str, *, via: str) -> CertificateApplication:
    """The one place an application is rejected: lock, check, save, audit, tell the applicant."""
    with transaction.atomic():
        locked = CertificateApplication.objects.select_for_update().filter(pk=application_id).get()
        if locked.status != Status.PENDING:
            raise Conflict(_("This application was already decided."), code="already_decided")
        locked.status, locked.decision_reason = Status.REJECTED, reason[:300]
        locked.decided_by, locked.decided_at = decider, timezone.now()
        locked.save(update_fields=["status", "decision_reason", "decided_by", "decided_at"])
        record_event(
            action="certificate.rejected",
            actor_id=decider.id,
            acting_as=str(locked.enterprise_id or "personal"),
            object_type="certificate_application",
            object_id=locked.id,
            data={"reason": locked.decision_reason, "via": via},
        )
        _notify_rejection(
            CertificateApplication.objects.select_related("enterprise", "applicant").get(
                pk=locked.pk
            )
        )
    return locked


def application_for(*, actor: User, application_id: str) -> CertificateApplication:
    """The application if the actor applied for it or may manage its enterprise; else 404."""
    application = (
        CertificateApplication.objects.select_related("enterprise", "certificate", "applicant")
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


def _managed(*, actor: User, application_id: str) -> CertificateApplication:
    """An application the actor may manage: their own personal one, or one of an enterprise
    they administer (permission manage_enterprise)."""
    application = application_for(actor=actor, application_id=application_id)
    if application.enterprise_id:
        enterprise_for(
            user=actor,
            enterprise_id=str(application.enterprise_id),
            permission=Permission.MANAGE_ENTERPRISE,
        )
    return application


def personal_applications(*, actor: User) -> QuerySet[CertificateApplication]:
    return (
        CertificateApplication.objects.select_related("certificate", "applicant")
        .filter(enterprise__isnull=True, applicant=actor)
        .order_by("-created_at")
    )


def enterprise_applications(*, actor: User, enterprise_id: str) -> QuerySet[CertificateApplication]:
    membership_of(user=actor, enterprise_id=enterprise_id)  # any member sees them, like one
    return (
        CertificateApplication.objects.select_related("certificate", "applicant", "department")
        .filter(enterprise_id=enterprise_id)
        .order_by("-created_at")
    )


def decided_by_enterprise_admin(application: CertificateApplication) -> bool:
    """Whether an administrator of the application's enterprise approves or rejects it."""
    return _policy(application) == "enterprise_admin"


def _for_enterprise_admin(actor: User, application_id: str) -> CertificateApplication:
    application = application_for(actor=actor, application_id=application_id)
    if not decided_by_enterprise_admin(application):
        raise Forbidden(
            _("Applications are approved automatically or by PortSign reviewers."),
            code="approval_not_yours",
        )
    enterprise_for(
        user=actor,
        enterprise_id=str(application.enterprise_id),
        permission=Permission.MANAGE_MEMBERS,
    )
    return application


def approve(*, actor: User, application_id: str) -> CertificateApplication:
    return _decide(_for_enterprise_admin(actor, application_id), approver=actor)


def reject(*, actor: User, application_id: str, reason: str) -> CertificateApplication:
    """An enterprise administrator rejects an application (policy enterprise_admin), with a
    reason the applicant is told."""
    application = _for_enterprise_admin(actor, application_id)
    clean = clean_text(
        reason,
        field="reason",
        min_length=2,
        max_length=300,
        code="reason_required",
        message=_("Give the applicant a reason for the rejection (2 to 300 characters)."),
    )
    return _reject(application.id, actor, clean, via="enterprise_admin")


def change_status(
    *, actor: User, application_id: str, action: str, reason: str = "unspecified"
) -> CertificateApplication:
    """suspend | release | revoke by the holder (person) or an enterprise administrator."""
    application = _managed(actor=actor, application_id=application_id)
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


def public_status(application: CertificateApplication, now: datetime | None = None) -> str:
    """API.md status: pending | issued | pending_delivery | rejected | suspended | revoked |
    expired (a valid certificate past its not_after)."""
    if application.status != Status.ISSUED or application.certificate is None:
        return str(application.status)
    cert = application.certificate
    if cert.status == IssuedCertificate.Status.VALID and cert.not_after <= (now or timezone.now()):
        return "expired"
    names: dict[str, str] = {
        IssuedCertificate.Status.VALID: "issued",
        IssuedCertificate.Status.SUSPENDED: "suspended",
        IssuedCertificate.Status.REVOKED: "revoked",
    }
    return names[cert.status]


@dataclass(frozen=True)
class Row:
    """One application as console pages list it."""

    application: CertificateApplication
    status: str  # public_status
    label: str  # its translated name
    renewable: bool
    decidable: bool  # pending, and for an administrator of its enterprise to decide


def rows(found: Iterable[CertificateApplication]) -> list[Row]:
    now = timezone.now()
    listed = []
    for application in found:
        status = public_status(application, now)
        listed.append(
            Row(
                application=application,
                status=status,
                label=str(STATUS_LABELS[status]),
                renewable=renewal_problem(application, now) is None,
                decidable=status == Status.PENDING and decided_by_enterprise_admin(application),
            )
        )
    return listed


# -- renewal ------------------------------------------------------------------------------------


def renewal_problem(
    application: CertificateApplication, now: datetime | None = None
) -> Conflict | None:
    """Why the application's certificate cannot be renewed now, or None."""
    cert = application.certificate
    if application.status != Status.ISSUED or cert is None:
        return Conflict(
            _("No certificate has been issued for this application."), code="not_issued"
        )
    if cert.status == IssuedCertificate.Status.REVOKED:
        return Conflict(
            _("A revoked certificate cannot be renewed. Apply for a new one."),
            code="certificate_revoked",
        )
    if cert.status == IssuedCertificate.Status.SUSPENDED:
        return Conflict(
            _("The certificate is suspended. Release it before renewing it."),
            code="certificate_suspended",
        )
    opens = cert.not_after - RENEWAL_WINDOW
    if (now or timezone.now()) < opens:
        return Conflict(
            _("Renewal opens %(days)d days before expiry, on %(date)s.")
            % {"days": RENEWAL_WINDOW.days, "date": timezone.localtime(opens).date().isoformat()},
            code="renewal_too_early",
        )
    if application.renewals.filter(status__in=_LIVE_RENEWAL).exists():
        return Conflict(
            _("This certificate was already renewed, or its renewal awaits approval."),
            code="already_renewed",
        )
    return None


def _lock_for_renewal(old: CertificateApplication) -> None:
    """Recheck under a lock on the old application, so two renewals cannot both pass."""
    # No select_related: PostgreSQL refuses FOR UPDATE on the nullable side of an outer join.
    locked = CertificateApplication.objects.select_for_update().get(pk=old.pk)
    problem = renewal_problem(locked)
    if problem is not None:
        raise problem


def renew(
    *,
    actor: User,
    application_id: str,
    code: str,
    form: ApplicationForm | None = None,
    material_ids: Sequence[str] = (),
) -> CertificateApplication:
    """A new certificate (same subject, new key, the chosen term) through a new application
    that names the old one. The old certificate stays valid until its own expiry; signing
    uses the newest. Confirmed with a certificate code like an application."""
    old = _managed(actor=actor, application_id=application_id)
    _require_real_name(actor)
    if old.enterprise is not None:
        require_verified(old.enterprise)
    problem = renewal_problem(old)
    if problem is not None:
        raise problem
    given = form or ApplicationForm()
    details = clean_details(
        replace(
            given,
            # Unless another term is chosen, the old one; the medium is always the old one:
            # only cloud certificates are issued (and so renewed) by PortSign.
            term_years=old.term_years if given.term_years in (None, "") else given.term_years,
            medium=old.medium,
        ),
        applicant=actor,
        enterprise=old.enterprise,
    )
    claimed = materials.claim_materials(actor=actor, material_ids=material_ids)
    _confirm_with_code(actor, code)
    application = _create(
        actor=actor, enterprise=old.enterprise, details=details, claimed=claimed, renews=old
    )
    return _decide_now_if_auto(application)


# -- back office --------------------------------------------------------------------------------


def _review_approved(review: Review, reviewer: User) -> None:
    _decide(CertificateApplication.objects.get(pk=review.subject_id), approver=reviewer)


def _review_returned(review: Review, reviewer: User) -> None:
    _reject(review.subject_id, reviewer, review.opinion, via="back_office")


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
        {
            "applicant": gettext_lazy("Applicant (handler)"),
            "kind": gettext_lazy("Holder"),
            "term_years": gettext_lazy("Term (years)"),
            "medium": gettext_lazy("Medium"),
            "invoice_title": gettext_lazy("Invoice title"),
            "handler_authorized": gettext_lazy("Applied with an authorization code"),
            "renewal": gettext_lazy("Renewal"),
            "mail_recipient": gettext_lazy("Recipient"),
            "mail_address": gettext_lazy("Mailing address"),
            materials.LICENCE: gettext_lazy("Business licence"),
            materials.MATERIAL: gettext_lazy("Material"),
        },
    )
)


def signing_certificate(
    *,
    enterprise_id: str | None = None,
    user_id: str | None = None,
    department_id: str | None = None,
) -> IssuedCertificate | None:
    """The newest usable cloud certificate of an enterprise (of one of its departments with
    *department_id*; never a department's without it), or of a person (personal
    application): issued, valid, in date, with its key in the vault. After a renewal that is
    the new certificate; the old one stays valid for verifiers until it expires."""
    rows = CertificateApplication.objects.filter(
        status=Status.ISSUED,
        medium=Medium.CLOUD,
        certificate__status=IssuedCertificate.Status.VALID,
        certificate__not_after__gt=timezone.now(),
        certificate__not_before__lte=timezone.now(),
        certificate__key__isnull=False,
    )
    if enterprise_id is not None:
        rows = rows.filter(enterprise_id=enterprise_id, department_id=department_id)
    else:
        rows = rows.filter(enterprise__isnull=True, applicant_id=user_id)
    application = rows.select_related("certificate").order_by("-decided_at").first()
    return application.certificate if application else None
