"""The CMS signatureAlgorithm of SHA-256 signatures: one answer for every signer of ours."""

from __future__ import annotations

import pytest
from asn1crypto import algos
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from portsign.pki.responders import cms_signature_algorithm, sha256_signature_algorithm
from portsign.pki.signer import TokenSigner


def _der(algorithm: dict) -> bytes:
    return algos.SignedDigestAlgorithm(algorithm).dump()


def test_a_card_and_a_vault_rsa_key_sign_with_the_same_algorithm():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    card = TokenSigner(sign=lambda data: b"")
    # sha256WithRSAEncryption (1.2.840.113549.1.1.11) with explicit NULL parameters.
    expected = bytes.fromhex("300d06092a864886f70d01010b0500")
    assert _der(card.cms_algorithm()) == expected
    assert _der(cms_signature_algorithm(key)) == expected


def test_an_ecdsa_key_has_no_parameters():
    key = ec.generate_private_key(ec.SECP256R1())
    # ecdsa-with-SHA256 (1.2.840.10045.4.3.2), parameters absent.
    assert _der(cms_signature_algorithm(key)) == bytes.fromhex("300a06082a8648ce3d040302")


def test_another_kind_of_key_is_refused():
    with pytest.raises(TypeError, match="not dsa"):
        sha256_signature_algorithm("dsa")
