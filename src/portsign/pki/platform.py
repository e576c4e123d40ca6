"""PortSign's own signing certificate: the platform signs what it vouches for (evidence reports)
with a certificate from its issuing CA, like any signer, so anyone can verify those files too."""

from __future__ import annotations

from cryptography import x509
from cryptography.x509.oid import NameOID
from django.utils import timezone

from portsign.pki import issuance
from portsign.pki.models import IssuedCertificate

PLATFORM_NAME = "港签 PortSign 平台"


def platform_subject() -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "PortSign"),
            x509.NameAttribute(NameOID.COMMON_NAME, PLATFORM_NAME),
        ]
    )


def platform_certificate_id() -> str:
    """The platform certificate in force, issued on first use (and again once it lapses)."""
    subject = platform_subject().rfc4514_string()
    current = (
        IssuedCertificate.objects.filter(
            subject=subject,
            status=IssuedCertificate.Status.VALID,
            not_after__gt=timezone.now(),
            key__isnull=False,
        )
        .order_by("-not_after")
        .first()
    )
    if current is not None:
        return current.id
    # Two first uses at once would issue two; both are valid and the newer one is used after.
    return issuance.issue_certificate(subject=platform_subject(), years=5).id
