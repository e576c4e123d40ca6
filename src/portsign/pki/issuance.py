"""Issuing, suspending, releasing and revoking end-entity certificates.

Certificates carry this server's CRL distribution point and OCSP/CA-issuers URLs, so any
verifier can check their status online. A person's subject never holds the ID number in clear:
serialNumber is a salted SHA-256 (stable per person, useless to a reader).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import cast

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificateIssuerPublicKeyTypes,
    CertificatePublicKeyTypes,
)
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from portsign.common.audit import record_event
from portsign.common.errors import Conflict, Invalid
from portsign.pki.ca import (
    Role,
    authority,
    ca_cert_url,
    certificate_of,
    crl_url,
    ocsp_url,
    signing_hash,
)
from portsign.pki.models import CertificateAuthority, IssuedCertificate, KeyRecord
from portsign.pki.vault import load_private_key, new_key

Status = IssuedCertificate.Status
# Revocation reasons a caller may give (RFC 5280 CRLReason, minus hold which is `suspend`).
REASONS = (
    "unspecified",
    "key_compromise",
    "affiliation_changed",
    "superseded",
    "cessation_of_operation",
)


def person_name(*, name: str, id_number: str) -> x509.Name:
    pseudonym = hashlib.sha256(f"{settings.SECRET_KEY}:{id_number}".encode()).hexdigest()[:32]
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, f"PSN-{pseudonym}"),
        ]
    )


def enterprise_name(*, name: str, uscc: str, department: str = "") -> x509.Name:
    """The enterprise's subject; a department's certificate adds OU=<department>."""
    unit = [x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, department)] if department else []
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
            *unit,
            x509.NameAttribute(NameOID.COMMON_NAME, name),
            # ETSI EN 319 412-1 organizationIdentifier: "NTR" + country + registration number.
            x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, f"NTRCN-{uscc}"),
        ]
    )


def _issuer_key(issuer: x509.Certificate) -> CertificateIssuerPublicKeyTypes:
    return cast(CertificateIssuerPublicKeyTypes, issuer.public_key())


def _key_usage(*, content_commitment: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=content_commitment,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def _end_entity(
    builder: x509.CertificateBuilder,
    issuer: x509.Certificate,
    *,
    client_auth: bool,
    content_commitment: bool,
) -> x509.CertificateBuilder:
    builder = (
        builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(content_commitment=content_commitment), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(_issuer_key(issuer)), critical=False
        )
        .add_extension(
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        full_name=[x509.UniformResourceIdentifier(crl_url("issuing"))],
                        relative_name=None,
                        reasons=None,
                        crl_issuer=None,
                    )
                ]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(
                        AuthorityInformationAccessOID.OCSP,
                        x509.UniformResourceIdentifier(ocsp_url()),
                    ),
                    x509.AccessDescription(
                        AuthorityInformationAccessOID.CA_ISSUERS,
                        x509.UniformResourceIdentifier(ca_cert_url("issuing")),
                    ),
                ]
            ),
            critical=False,
        )
    )
    if client_auth:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
    return builder


def sign_certificate(
    *,
    subject: x509.Name,
    public_key: CertificatePublicKeyTypes,
    years: int = 2,
    client_auth: bool = False,
    content_commitment: bool | None = None,
    not_after: dt.datetime | None = None,
) -> tuple[CertificateAuthority, x509.Certificate]:
    """A certificate for *public_key* signed by the issuing CA; nothing is stored yet.

    A signing (cloud) certificate commits its holder to documents; a login certificate only
    authenticates, so it carries clientAuth and no non-repudiation (content commitment). An
    E-Port card's does both: its holder signs in and signs with it (*content_commitment*).
    *not_after*, when given, replaces the end of the *years* from now (a card's extension).
    Signing happens outside any transaction: with the CA key in a token it is slow I/O.
    """
    if content_commitment is None:
        content_commitment = not client_auth
    ca = authority(Role.ISSUING)
    issuer = certificate_of(ca)
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(not_after or now + dt.timedelta(days=365 * years))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    ca_key = cast(CertificateIssuerPrivateKeyTypes, load_private_key(ca.key_id))
    certificate = _end_entity(
        builder, issuer, client_auth=client_auth, content_commitment=content_commitment
    ).sign(ca_key, signing_hash())
    return ca, certificate


def record_certificate(
    *, ca: CertificateAuthority, certificate: x509.Certificate, key: KeyRecord | None
) -> IssuedCertificate:
    """Store and audit an issued certificate; *key* is empty when only its holder has it."""
    with transaction.atomic():
        issued = IssuedCertificate.objects.create(
            issuer=ca,
            serial=format(certificate.serial_number, "x"),
            subject=certificate.subject.rfc4514_string(),
            key=key,
            certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
            not_before=certificate.not_valid_before_utc,
            not_after=certificate.not_valid_after_utc,
        )
        record_event(
            action="pki.certificate_issued",
            object_type="certificate",
            object_id=issued.id,
            data={"serial": issued.serial, "key_held_by": "vault" if key else "holder"},
        )
    return issued


def issue_certificate(*, subject: x509.Name, years: int = 2) -> IssuedCertificate:
    """A fresh key in the vault and a certificate for it from the issuing CA."""
    key, record = new_key(settings.PKI_ALGORITHM)
    public_key = cast(CertificatePublicKeyTypes, key.public_key())
    ca, certificate = sign_certificate(subject=subject, public_key=public_key, years=years)
    return record_certificate(ca=ca, certificate=certificate, key=record)


def _change_status(
    cert_id: str, *, to: str, allowed_from: tuple[str, ...], reason: str = "", actor_id: str = ""
) -> IssuedCertificate:
    """The one place a certificate's status changes: lock, check, bump the CRL, audit."""
    with transaction.atomic():
        cert = IssuedCertificate.objects.select_for_update().get(pk=cert_id)
        if cert.status not in allowed_from:
            raise Conflict(
                _("The certificate is %(status)s; this change is not possible.")
                % {"status": cert.status},
                code="illegal_transition",
            )
        old, cert.status = cert.status, to
        cert.revoked_at = None if to == Status.VALID else timezone.now()
        cert.revocation_reason = reason if to == Status.REVOKED else ""
        cert.save(update_fields=["status", "revoked_at", "revocation_reason"])
        CertificateAuthority.objects.filter(pk=cert.issuer_id).update(
            crl_number=F("crl_number") + 1
        )
        record_event(
            action="pki.certificate_status_changed",
            actor_id=actor_id,
            object_type="certificate",
            object_id=cert.id,
            data={"serial": cert.serial, "from": old, "to": to, "reason": reason},
        )
    return cert


def revoke(cert_id: str, *, reason: str = "unspecified", actor_id: str = "") -> IssuedCertificate:
    if reason not in REASONS:
        raise Invalid(
            _("Unknown revocation reason. Use one of: %(reasons)s.")
            % {"reasons": ", ".join(REASONS)},
            code="reason_invalid",
            fields={"reason": _("Unknown reason.")},
        )
    return _change_status(
        cert_id,
        to=Status.REVOKED,
        allowed_from=(Status.VALID, Status.SUSPENDED),
        reason=reason,
        actor_id=actor_id,
    )


def suspend(cert_id: str, *, actor_id: str = "") -> IssuedCertificate:
    return _change_status(
        cert_id, to=Status.SUSPENDED, allowed_from=(Status.VALID,), actor_id=actor_id
    )


def release(cert_id: str, *, actor_id: str = "") -> IssuedCertificate:
    return _change_status(
        cert_id, to=Status.VALID, allowed_from=(Status.SUSPENDED,), actor_id=actor_id
    )
