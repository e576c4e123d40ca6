"""pyHanko signers backed by the vault (DESIGN rule 10: crypto only in pki/).

A signer holds the signer's certificate, its chain up to (not including) the root, and the
private key loaded once per process from the vault.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, cast

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from pyhanko.sign.signers import SimpleSigner
from pyhanko_certvalidator.registry import SimpleCertificateStore

from portsign.pki.ca import Role, authority, certificate_of
from portsign.pki.models import IssuedCertificate
from portsign.pki.responders import cms_sign
from portsign.pki.vault import load_private_key


def to_asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def root_certificate() -> asn1_x509.Certificate:
    """The trust anchor verifiers are told to trust."""
    return to_asn1(certificate_of(authority(Role.ROOT)))


class VaultSigner(SimpleSigner):
    """A SimpleSigner that keeps the parsed key: pyHanko's own re-parses its PrivateKeyInfo for
    every signature, which costs ~45 ms for an RSA key (cryptography checks the key each time).
    """

    def __init__(self, *, private_key: CertificateIssuerPrivateKeyTypes, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.private_key = private_key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        if digest_algorithm == "sha256" and mechanism in ("rsassa_pkcs1v15", "ecdsa"):
            return cms_sign(self.private_key, data)
        signature: bytes = super().sign_raw(data, digest_algorithm)
        return signature


@lru_cache(maxsize=1024)
def signer_for(issued_id: str) -> VaultSigner:
    """A signer for an issued certificate; built once per process (parsing keys is costly)."""
    issued = IssuedCertificate.objects.get(pk=issued_id)
    if issued.key_id is None:  # a login certificate: its key never reached PortSign
        raise ValueError(f"certificate {issued_id} has no key in the vault")
    key = load_private_key(issued.key_id)
    key_info = asn1_keys.PrivateKeyInfo.load(
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    certificate = to_asn1(x509.load_pem_x509_certificate(issued.certificate_pem.encode()))
    chain = [to_asn1(certificate_of(authority(Role.ISSUING)))]
    return VaultSigner(
        private_key=cast(CertificateIssuerPrivateKeyTypes, key),
        signing_cert=certificate,
        signing_key=key_info,
        cert_registry=SimpleCertificateStore.from_certs(chain),
    )
