"""Telling holders that a certificate expires soon (run by `manage.py cleanup`).

Each issued certificate gets one notice, settings.CERTIFICATE_EXPIRY_NOTICE_DAYS before its
expiry: the application records when it was sent, and a conditional update claims it, so
overlapping runs never send twice. A certificate already renewed needs no notice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from portsign.common.audit import record_event
from portsign.pki.applications import notify_holder
from portsign.pki.models import CertificateApplication, IssuedCertificate

Status = CertificateApplication.Status


def _due(now: datetime) -> list[CertificateApplication]:
    horizon = now + timedelta(days=settings.CERTIFICATE_EXPIRY_NOTICE_DAYS)
    return list(
        CertificateApplication.objects.select_related("certificate", "applicant", "enterprise")
        .filter(
            status=Status.ISSUED,
            expiry_notified_at__isnull=True,
            certificate__status=IssuedCertificate.Status.VALID,
            certificate__not_after__gt=now,
            certificate__not_after__lte=horizon,
        )
        .exclude(renewals__status__in=(Status.PENDING, Status.ISSUED))
        .order_by("certificate__not_after")
    )


def _notice(application: CertificateApplication) -> str:
    cert = application.certificate
    assert cert is not None
    holder = application.enterprise.name if application.enterprise else application.applicant.name
    return _(
        "[PortSign] The certificate of %(holder)s (serial %(serial)s) expires on %(date)s. "
        "Renew it in PortSign."
    ) % {
        "holder": holder,
        "serial": cert.serial,
        "date": timezone.localtime(cert.not_after).date().isoformat(),
    }


def send_expiry_notices(*, now: datetime | None = None) -> int:
    """Queue one notice for every certificate entering the notice window; returns how many."""
    now = now or timezone.now()
    sent = 0
    for application in _due(now):
        with transaction.atomic():
            claimed = CertificateApplication.objects.filter(
                pk=application.pk, expiry_notified_at__isnull=True
            ).update(expiry_notified_at=now)
            if not claimed:
                continue  # another run got there first
            # In the holder's own language: the command runs outside any request.
            with override(application.applicant.language or settings.LANGUAGE_CODE):
                notify_holder(
                    application.applicant,
                    subject=str(_("Certificate expires soon")),
                    text=_notice(application),
                )
            record_event(
                action="certificate.expiry_notice_sent",
                object_type="certificate_application",
                object_id=application.id,
                data={"serial": application.certificate.serial if application.certificate else ""},
            )
        sent += 1
    return sent
