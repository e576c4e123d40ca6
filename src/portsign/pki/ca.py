"""PortSign's certificate authority hierarchy (issue 4 §1).

root CA ──┬── issuing CA (persons, enterprises) ── OCSP responder (delegated signer for the
          │                                          issuing CA, id-pkix-ocsp-nocheck)
          └── TSA (extended key usage timeStamping, critical — RFC 3161 §2.3)

Default algorithm RSA-2048 (PKI_ALGORITHM): every verifier we promise — Adobe Reader, NSS
(pdfsig), pyHanko, openssl — and the older Chinese e-government clients handle RSA; ECDSA P-256
(also supported) is refused by some older Acrobat versions. `init_hierarchy` is idempotent.
"""

from __future__ import annotations

import datetime as dt
from typing import cast

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificatePublicKeyTypes,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings
from django.db import transaction

from portsign.common.audit import record_event
from portsign.pki.models import CertificateAuthority
from portsign.pki.vault import load_private_key, new_key

Role = CertificateAuthority.Role
_YEARS: dict[str, int] = {Role.ROOT: 20, Role.ISSUING: 10, Role.OCSP: 2, Role.TSA: 6}
_NAMES: dict[str, str] = {
    Role.ROOT: "PortSign Root CA",
    Role.ISSUING: "PortSign Issuing CA",
    Role.OCSP: "PortSign OCSP Responder",
    Role.TSA: "PortSign Timestamping Authority",
}


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "PortSign"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def signing_hash() -> hashes.SHA256:
    return hashes.SHA256()


def crl_url(ca_name: str) -> str:
    return f"{settings.PUBLIC_URL}/pki/crl/{ca_name}.crl"


def ocsp_url() -> str:
    return f"{settings.PUBLIC_URL}/pki/ocsp"


def ca_cert_url(ca_name: str) -> str:
    return f"{settings.PUBLIC_URL}/pki/ca/{ca_name}.pem"


def certificate_of(ca: CertificateAuthority) -> x509.Certificate:
    return x509.load_pem_x509_certificate(ca.certificate_pem.encode())


def _key_usage(*, sign_certs: bool, digital_signature: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=sign_certs,
        crl_sign=sign_certs,
        encipher_only=False,
        decipher_only=False,
    )


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: CertificatePublicKeyTypes, years: int
) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365 * years))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def _role_extensions(
    builder: x509.CertificateBuilder, role: str, issuer_cert: x509.Certificate | None
) -> x509.CertificateBuilder:
    if role in (Role.ROOT, Role.ISSUING):
        builder = builder.add_extension(
            x509.BasicConstraints(ca=True, path_length=0 if role == Role.ISSUING else 1),
            critical=True,
        ).add_extension(_key_usage(sign_certs=True, digital_signature=False), critical=True)
    else:
        eku = (
            ExtendedKeyUsageOID.OCSP_SIGNING
            if role == Role.OCSP
            else (ExtendedKeyUsageOID.TIME_STAMPING)
        )
        builder = (
            builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(sign_certs=False, digital_signature=True), critical=True)
            # RFC 3161 §2.3: a TSA certificate's EKU must be critical; OCSP keeps it plain.
            .add_extension(x509.ExtendedKeyUsage([eku]), critical=role == Role.TSA)
        )
        if role == Role.OCSP:  # RFC 6960 §4.2.2.2.1: do not check the responder's status
            builder = builder.add_extension(x509.OCSPNoCheck(), critical=False)
    if issuer_cert is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_cert.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
        if role == Role.ISSUING:  # the root's CRL lists revoked intermediates
            builder = builder.add_extension(
                x509.CRLDistributionPoints(
                    [
                        x509.DistributionPoint(
                            full_name=[x509.UniformResourceIdentifier(crl_url("root"))],
                            relative_name=None,
                            reasons=None,
                            crl_issuer=None,
                        )
                    ]
                ),
                critical=False,
            )
    return builder


def _create(role: str, issuer: CertificateAuthority | None) -> CertificateAuthority:
    key, record = new_key(settings.PKI_ALGORITHM)
    issuer_cert = certificate_of(issuer) if issuer else None
    issuer_key: CertificateIssuerPrivateKeyTypes = (
        load_private_key(issuer.key_id) if issuer else key  # type: ignore[assignment]
    )
    subject = _name(_NAMES[role])
    public_key = cast(CertificatePublicKeyTypes, key.public_key())
    builder = _builder(
        subject, issuer_cert.subject if issuer_cert else subject, public_key, _YEARS[role]
    )
    certificate = _role_extensions(builder, role, issuer_cert).sign(issuer_key, signing_hash())
    ca = CertificateAuthority.objects.create(
        name=role,
        role=role,
        key=record,
        issuer=issuer,
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
    )
    record_event(
        action="pki.ca_created",
        object_type="ca",
        object_id=ca.name,
        data={
            "subject": certificate.subject.rfc4514_string(),
            "serial": format(certificate.serial_number, "x"),
        },
    )
    return ca


def init_hierarchy() -> list[CertificateAuthority]:
    """Create whatever part of the hierarchy is missing; return all four, root first."""
    with transaction.atomic():
        existing = {ca.role: ca for ca in CertificateAuthority.objects.select_for_update()}
        root = existing.get(Role.ROOT) or _create(Role.ROOT, None)
        issuing = existing.get(Role.ISSUING) or _create(Role.ISSUING, root)
        created = {
            Role.ROOT: root,
            Role.ISSUING: issuing,
            # RFC 6960 §4.2.2.2: a delegated responder is certified by the CA it answers for.
            Role.OCSP: existing.get(Role.OCSP) or _create(Role.OCSP, issuing),
            Role.TSA: existing.get(Role.TSA) or _create(Role.TSA, root),
        }
    return [created[r] for r in (Role.ROOT, Role.ISSUING, Role.OCSP, Role.TSA)]


def authority(role: str) -> CertificateAuthority:
    return CertificateAuthority.objects.select_related("key").get(role=role)
