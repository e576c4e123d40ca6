"""Certificate authorization codes (证书授权码, seed 003 资料上传).

An enterprise administrator issues a code; a member who is not an administrator types it
when applying for the enterprise's certificate as its handler (经办人). Codes are single use,
expire after settings.CERTIFICATE_AUTH_CODE_DAYS, and are stored only as a keyed hash: the
administrator sees a code once, when it is issued.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from portsign.accounts.models import User
from portsign.common.audit import record_event
from portsign.common.errors import Invalid
from portsign.enterprises.enums import Permission
from portsign.enterprises.rules import enterprise_for
from portsign.pki.application_details import require_verified
from portsign.pki.models import CertificateAuthorization

# No 0/O, 1/I/L: the code is read aloud or copied from a screen by hand.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 10


def _digest(code: str) -> str:
    # Keyed: 10 characters of 31 are too few to survive an offline guess at a plain hash.
    return salted_hmac(
        "portsign.pki.certificate-authorization", code, algorithm="sha256"
    ).hexdigest()


def normalize(raw: str) -> str:
    """As typed: spaces and dashes ignored, any case."""
    return "".join((raw or "").split()).replace("-", "").upper()


def issue_authorization(*, actor: User, enterprise_id: str) -> tuple[CertificateAuthorization, str]:
    """A new code for the enterprise; returns the row and the code (never stored)."""
    enterprise = enterprise_for(
        user=actor, enterprise_id=enterprise_id, permission=Permission.MANAGE_ENTERPRISE
    )
    require_verified(enterprise)
    code = "".join(secrets.choice(ALPHABET) for _i in range(LENGTH))
    with transaction.atomic():
        row = CertificateAuthorization.objects.create(
            enterprise=enterprise,
            code_hash=_digest(code),
            created_by=actor,
            expires_at=timezone.now() + timedelta(days=settings.CERTIFICATE_AUTH_CODE_DAYS),
        )
        record_event(
            action="certificate.authorization_issued",
            actor_id=actor.id,
            acting_as=enterprise.id,
            object_type="certificate_authorization",
            object_id=row.id,
            data={"expires_at": row.expires_at.isoformat()},
        )
    return row, code


def authorizations_of(*, actor: User, enterprise_id: str) -> QuerySet[CertificateAuthorization]:
    enterprise_for(user=actor, enterprise_id=enterprise_id, permission=Permission.MANAGE_ENTERPRISE)
    return (
        CertificateAuthorization.objects.select_related("created_by", "used_by")
        .filter(enterprise_id=enterprise_id)
        .order_by("-created_at")
    )


def status_of(row: CertificateAuthorization, now: datetime | None = None) -> str:
    """active | used | expired."""
    if row.used_at is not None:
        return "used"
    if row.expires_at <= (now or timezone.now()):
        return "expired"
    return "active"


def _refusal(row: CertificateAuthorization | None) -> Invalid | None:
    """Why *row* cannot be used, or None; each reason has its own error code."""
    field = "authorization_code"
    if row is None:
        message = _("This authorization code is not valid for this enterprise.")
        return Invalid(message, code="authorization_code_wrong", fields={field: message})
    status = status_of(row)
    if status == "used":
        message = _("This authorization code was already used. Ask an administrator for a new one.")
        return Invalid(message, code="authorization_code_used", fields={field: message})
    if status == "expired":
        message = _("This authorization code has expired. Ask an administrator for a new one.")
        return Invalid(message, code="authorization_code_expired", fields={field: message})
    return None


def usable_authorization(*, enterprise_id: str, raw_code: str) -> CertificateAuthorization:
    """The enterprise's unused, unexpired authorization for *raw_code*; checked before the
    applicant's SMS code is spent, and again when it is used."""
    code = normalize(raw_code)
    row = (
        CertificateAuthorization.objects.filter(
            enterprise_id=enterprise_id, code_hash=_digest(code)
        ).first()
        if code
        else None
    )
    problem = _refusal(row)
    if problem is not None:
        raise problem
    assert row is not None
    return row


def use_authorization(authorization: CertificateAuthorization, *, user: User) -> None:
    """Spend the code. Call inside the transaction that creates the application."""
    row = CertificateAuthorization.objects.select_for_update().get(pk=authorization.pk)
    problem = _refusal(row)
    if problem is not None:  # used meanwhile by a concurrent application
        raise problem
    row.used_at, row.used_by = timezone.now(), user
    row.save(update_fields=["used_at", "used_by"])
    record_event(
        action="certificate.authorization_used",
        actor_id=user.id,
        acting_as=row.enterprise_id,
        object_type="certificate_authorization",
        object_id=row.id,
    )
