"""The certificate sign-in protocol (SPEC A2), shared by the server and `portsign login`.

Django-free on purpose: the command-line client imports it without settings or a database.

The holder signs `login_message(challenge, audience)`:

    PortSign login v1\\n
    challenge=<the challenge, base64 as received>\\n
    audience=<host[:port] the client connected to, lower case>

The fixed first line keeps a signature made for any other purpose (a document, another
protocol) from ever counting as a sign-in; the audience keeps a challenge that another site
relayed from being accepted here. Signatures: RSA PKCS#1 v1.5 or ECDSA (DER), both SHA-256.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

LABEL = b"PortSign login v1\n"
# Key types a login certificate may have: what UKey cards and SoftHSM/OpenSC tokens generate.
ALGORITHMS = ("rsa2048", "rsa3072", "ecp256")


def login_message(*, challenge: str, audience: str) -> bytes:
    return (
        LABEL
        + b"challenge="
        + challenge.encode("ascii")
        + b"\naudience="
        + audience.lower().encode("utf-8")
    )


def audience_of(url: str) -> str:
    """The audience a client signs for: the host[:port] of the URL it talks to."""
    return urlsplit(url).netloc.lower()


def algorithm_of(public_key: PublicKeyTypes) -> str | None:
    """rsa2048 | rsa3072 | ecp256 for an acceptable login key, else None."""
    if isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size in (2048, 3072):
        return f"rsa{public_key.key_size}"
    if isinstance(public_key, ec.EllipticCurvePublicKey) and isinstance(
        public_key.curve, ec.SECP256R1
    ):
        return "ecp256"
    return None


def signature_is_valid(public_key: PublicKeyTypes, message: bytes, signature: bytes) -> bool:
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
            return True
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
            return True
    except (InvalidSignature, ValueError):
        return False
    return False


def sign_with_key(private_key: PrivateKeyTypes, message: bytes) -> bytes:
    """The holder's side of `signature_is_valid`, for a key in a file."""
    if isinstance(private_key, rsa.RSAPrivateKey):
        return private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        return private_key.sign(message, ec.ECDSA(hashes.SHA256()))
    raise ValueError("only RSA and ECDSA keys can sign in")
