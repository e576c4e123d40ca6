"""pyHanko signers backed by the vault (DESIGN rule 10: crypto only in pki/).

A signer holds the signer's certificate, its chain up to (not including) the root, and the
private key loaded once per process from the vault.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any, cast

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from pyhanko.sign.signers import Signer, SimpleSigner
from pyhanko_certvalidator.registry import SimpleCertificateStore

from portsign.pki.ca import Role, authority, certificate_of
from portsign.pki.models import IssuedCertificate
from portsign.pki.responders import cms_sign, cms_signature_algorithm, sha256_signature_algorithm
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

    def cms_algorithm(self) -> dict[str, Any]:
        """The CMS signatureAlgorithm of its SHA-256 signatures."""
        return cms_signature_algorithm(self.private_key)

    def sign_sha256(self, data: bytes) -> bytes:
        return cms_sign(self.private_key, data)

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        if digest_algorithm == "sha256" and mechanism in ("rsassa_pkcs1v15", "ecdsa"):
            return cms_sign(self.private_key, data)
        signature: bytes = super().sign_raw(data, digest_algorithm)
        return signature


class TokenSigner(Signer):
    """A signer whose RSA key stays on a PKCS#11 token (an E-Port card): *sign* computes
    RSA PKCS#1 v1.5 with SHA-256 over the data on the token, after its PIN was presented.
    pki/pades.py uses the same two methods of both signers."""

    def __init__(self, *, sign: Callable[[bytes], bytes], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._sign = sign

    def cms_algorithm(self) -> dict[str, Any]:
        """The CMS signatureAlgorithm of its SHA-256 signatures (RSA: `token_signer` checks)."""
        return sha256_signature_algorithm("rsa")

    def sign_sha256(self, data: bytes) -> bytes:
        return self._sign(data)

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        if digest_algorithm != "sha256":  # the token signs SHA-256 only
            raise ValueError(f"a card signs with SHA-256, not {digest_algorithm}")
        return self._sign(data)


def token_signer(issued_id: str, sign: Callable[[bytes], bytes]) -> TokenSigner:
    """A signer for an issued certificate whose key is on a token (card certificates have no
    key in the vault); built per use, since *sign* carries the PIN of this one use."""
    issued = IssuedCertificate.objects.get(pk=issued_id)
    certificate = to_asn1(x509.load_pem_x509_certificate(issued.certificate_pem.encode()))
    if certificate.public_key.algorithm != "rsa":
        raise ValueError(f"certificate {issued_id} is not an RSA certificate")
    chain = [to_asn1(certificate_of(authority(Role.ISSUING)))]
    return TokenSigner(
        sign=sign,
        signing_cert=certificate,
        cert_registry=SimpleCertificateStore.from_certs(chain),
    )


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
