"""Certificate status for relying parties: the CRL of each CA and the OCSP lookup.

A CRL is built on request from the current revocations and signed by the CA's own key; its
cRLNumber is the CA's counter, raised on every revocation change, so each change yields a new
list without a scheduler.
"""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes

from portsign.pki.ca import certificate_of, signing_hash
from portsign.pki.models import CertificateAuthority, IssuedCertificate
from portsign.pki.responders import CertStatus
from portsign.pki.vault import load_private_key

CRL_VALIDITY = dt.timedelta(days=1)


def _reason(cert: IssuedCertificate) -> x509.ReasonFlags:
    """A suspension is published as certificateHold; a revocation with its stored reason."""
    if cert.status == IssuedCertificate.Status.SUSPENDED:
        return x509.ReasonFlags.certificate_hold
    return x509.ReasonFlags[cert.revocation_reason or "unspecified"]


def _revoked_entry(cert: IssuedCertificate) -> x509.RevokedCertificate:
    builder = (
        x509.RevokedCertificateBuilder()
        .serial_number(int(cert.serial, 16))
        .revocation_date(cert.revoked_at or dt.datetime.now(dt.UTC))
    )
    reason = _reason(cert)
    if reason != x509.ReasonFlags.unspecified:
        builder = builder.add_extension(x509.CRLReason(reason), critical=False)
    return builder.build()


def build_crl(ca: CertificateAuthority, *, now: dt.datetime | None = None) -> bytes:
    """The CA's current CRL, DER-encoded."""
    moment = now or dt.datetime.now(dt.UTC)
    issuer_cert = certificate_of(ca)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer_cert.subject)
        .last_update(moment)
        .next_update(moment + CRL_VALIDITY)
        .add_extension(x509.CRLNumber(ca.crl_number), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_cert.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
    )
    listed = IssuedCertificate.objects.filter(
        issuer=ca, status__in=[IssuedCertificate.Status.REVOKED, IssuedCertificate.Status.SUSPENDED]
    ).order_by("revoked_at")
    for cert in listed:
        builder = builder.add_revoked_certificate(_revoked_entry(cert))
    key: CertificateIssuerPrivateKeyTypes = load_private_key(ca.key_id)  # type: ignore[assignment]
    return builder.sign(key, signing_hash()).public_bytes(serialization.Encoding.DER)


def status_of_serial(ca: CertificateAuthority, serial: int) -> CertStatus:
    """What OCSP answers for *serial* of *ca*: good, revoked (with reason) or unknown."""
    cert = IssuedCertificate.objects.filter(issuer=ca, serial=format(serial, "x")).first()
    if cert is None:
        return CertStatus("unknown")
    if cert.status == IssuedCertificate.Status.VALID:
        return CertStatus("good")
    reason = _reason(cert)
    return CertStatus("revoked", cert.revoked_at, reason)
