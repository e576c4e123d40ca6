"""The key vault (DESIGN "keys"): private keys exist in clear only in process memory.

Envelope encryption: each key gets a random 256-bit data key (DEK) that seals the key with
AES-256-GCM; the DEK is wrapped by the key-encryption key (KEK). The KEK lives outside the
database — a 0600 file in DATA_DIR in embedded mode, or a non-extractable key inside a PKCS#11
token (see pki/kek.py) — so a copy of the database alone reveals nothing. Rotating the KEK
re-wraps the small DEKs, never the keys themselves. The record id is bound as associated data,
so sealed blobs cannot be swapped between records.

Keys are parsed once per process and cached, and without cryptography's RSA key validation
(`load_private_key`): the check costs 30-60 ms per RSA-2048 key, holding the GIL.

Other secrets PortSign must be able to read back (webhook signing secrets) are sealed the same
way in a `KeyRecord` of algorithm "secret" (`seal_secret` / `open_secret`), so a KEK rotation
re-wraps them with the keys and no second scheme exists.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import transaction

from portsign.pki import kek
from portsign.pki.kek import VaultError as VaultError
from portsign.pki.kek import seal, unseal
from portsign.pki.models import KeyRecord

ALGORITHMS = ("rsa2048", "rsa3072", "ecp256")
# The algorithm of a record that holds a secret rather than a private key.
SECRET_ALGORITHM = "secret"  # noqa: S105 (a label, not a password)


def read_kek() -> bytes:
    """The current file KEK (embedded mode), created (mode 0600) on first use."""
    return kek.FileKek(Path(settings.PKI_KEK_FILE)).read()


def kek_id(key_encryption_key: bytes) -> str:
    """The id recorded for a file KEK."""
    return kek.file_kek_id(key_encryption_key)


def generate_private_key(algorithm: str) -> PrivateKeyTypes:
    if algorithm == "ecp256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm in ("rsa2048", "rsa3072"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(algorithm[3:]))
    raise ValueError(f"unknown key algorithm {algorithm!r}")


def _store(plaintext: bytes, *, algorithm: str) -> KeyRecord:
    record = KeyRecord(algorithm=algorithm)
    aad = record.id.encode()
    dek = AESGCM.generate_key(bit_length=256)
    record.sealed_key = seal(dek, plaintext, aad)
    # The id and the wrapped DEK come from one call, so a rotation in between cannot pair
    # a blob with the wrong KEK's id.
    record.kek_id, record.wrapped_dek = kek.backend().wrap(dek, aad)
    record.save(force_insert=True)
    return record


def _open(record: KeyRecord) -> bytes:
    aad = record.id.encode()
    dek = kek.backend().unwrap(record.kek_id, bytes(record.wrapped_dek), aad)
    return unseal(dek, bytes(record.sealed_key), aad)


def store_private_key(key: PrivateKeyTypes, *, algorithm: str) -> KeyRecord:
    """Seal *key*: one cryptography generated, or loaded with its validation (the default),
    since `load_private_key` reads it back without validating it again."""
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return _store(der, algorithm=algorithm)


def new_key(algorithm: str) -> tuple[PrivateKeyTypes, KeyRecord]:
    key = generate_private_key(algorithm)
    return key, store_private_key(key, algorithm=algorithm)


@lru_cache(maxsize=4096)
def load_private_key(record_id: str) -> PrivateKeyTypes:
    """The key of *record_id*, parsed once per process."""
    record = KeyRecord.objects.exclude(algorithm=SECRET_ALGORITHM).get(pk=record_id)
    return _parse_sealed_key(_open(record))


def _parse_sealed_key(der: bytes) -> PrivateKeyTypes:
    """A key read back from the vault, parsed without cryptography's RSA key validation.

    That validation (primality and consistency of p, q, d and the CRT values; 30-60 ms per
    RSA-2048 key, ~90 ms RSA-3072, holding the GIL, on each first use of a signer in a worker)
    guards against a key from outside whose parameters are wrong, with which OpenSSL "may
    hang, crash, or otherwise misbehave" (cryptography's documentation of the flag; with a
    wrong CRT value a signature can give away the factors). A vault key is not from outside:
    its bytes are the PKCS#8 that `store_private_key` wrote from a key object cryptography
    generated (`new_key`) or validated on loading, and `unseal` (AES-256-GCM, the record id as
    associated data) fails unless they are exactly those bytes of this record. Keys from
    anywhere else (vendor key files, a client's PKCS#12) keep the validating default."""
    return serialization.load_der_private_key(
        der, password=None, unsafe_skip_rsa_key_validation=True
    )


def seal_secret(secret: bytes) -> KeyRecord:
    """Keep *secret* (e.g. a webhook signing secret) under envelope encryption."""
    return _store(secret, algorithm=SECRET_ALGORITHM)


def open_secret(record_id: str) -> bytes:
    """The secret sealed in *record_id*. Not cached: a secret is read once per use, and a
    rotated secret must not live on in memory."""
    return _open(KeyRecord.objects.get(pk=record_id, algorithm=SECRET_ALGORITHM))


def discard_secret(record_id: str) -> None:
    """Delete a secret that is no longer used (rotated, or its owner deleted)."""
    KeyRecord.objects.filter(pk=record_id, algorithm=SECRET_ALGORITHM).delete()


def rotate_kek(new_kek: bytes | None = None) -> int:
    """Re-wrap every data key under a new KEK, then make it current. Returns the count.

    *new_kek* is the next file KEK (random when omitted); a PKCS#11 KEK is generated inside
    the token instead. Crash-safe: the new KEK is created beside the old one first, the re-wrap
    commits in one transaction, and only then does the new KEK replace the old; every record
    names the KEK that wrapped it, so each step leaves all keys readable.
    """
    backend = kek.backend()
    pending = backend.begin_rotation(new_kek)
    count = 0
    with transaction.atomic():
        # Every record not yet under the new KEK: besides the current KEK's records this
        # takes in any left under an older one (a worker that wrapped just before a rotation).
        for record in KeyRecord.objects.select_for_update().exclude(kek_id=pending.kek_id):
            aad = record.id.encode()
            try:
                dek = backend.unwrap(record.kek_id, bytes(record.wrapped_dek), aad)
            except VaultError as exc:  # nothing is re-wrapped: the transaction rolls back
                raise VaultError(f"key record {record.id}: {exc}") from exc
            record.wrapped_dek, record.kek_id = pending.wrap(dek, aad), pending.kek_id
            record.save(update_fields=["wrapped_dek", "kek_id"])
            count += 1
    pending.activate()
    load_private_key.cache_clear()
    return count
