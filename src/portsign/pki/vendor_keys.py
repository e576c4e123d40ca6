"""RSA-SHA256 ("RSA2") signatures with a vendor's keys, e.g. a payment provider's.

These keys are not PortSign's: the merchant key is the one the vendor registered for our
account, and the vendor's public key checks what it sends us. They live in files the operator
provides (mode 0600), never in the database, and are parsed once per process.
"""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def _pem(text: str) -> bytes:
    """A PEM block, or the bare base64 body vendors' consoles hand out (Alipay's do)."""
    clean = text.strip()
    if clean.startswith("-----BEGIN"):
        return clean.encode()
    return b"-----BEGIN PUBLIC KEY-----\n" + clean.encode() + b"\n-----END PUBLIC KEY-----\n"


@lru_cache(maxsize=8)
def _private_key(path: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path} is not an RSA private key")
    return key


@lru_cache(maxsize=8)
def _public_key(path: str) -> rsa.RSAPublicKey:
    key = serialization.load_pem_public_key(_pem(Path(path).read_text()))
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError(f"{path} is not an RSA public key")
    return key


def rsa2_sign(*, key_file: str, message: str) -> str:
    """Base64 of the PKCS#1 v1.5 SHA-256 signature of the UTF-8 *message*."""
    signature = _private_key(key_file).sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


def rsa2_valid(*, public_key_file: str, message: str, signature: str) -> bool:
    try:
        raw = base64.b64decode(signature, validate=True)
        _public_key(public_key_file).verify(
            raw, message.encode(), padding.PKCS1v15(), hashes.SHA256()
        )
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True
