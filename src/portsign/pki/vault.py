"""The key vault (DESIGN "keys"): private keys exist in clear only in process memory.

Envelope encryption: each key gets a random 256-bit data key (DEK) that seals the key with
AES-256-GCM; the DEK is sealed with the key-encryption key (KEK). The KEK lives outside the
database — a file in DATA_DIR with mode 0600 in embedded mode — so a copy of the database alone
reveals nothing. Rotating the KEK re-wraps the small DEKs, never the keys themselves. The
record id is bound as associated data, so sealed blobs cannot be swapped between records.

Parsing a key costs ~50 ms; keys are loaded once per process and cached.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import transaction

from portsign.pki.models import KeyRecord

ALGORITHMS = ("rsa2048", "rsa3072", "ecp256")


class VaultError(Exception):
    """The vault cannot open a key (wrong or missing KEK, tampered record)."""


def _kek_path() -> Path:
    return Path(settings.PKI_KEK_FILE)


def read_kek() -> bytes:
    """The current KEK, created (mode 0600) on first use in embedded mode."""
    path = _kek_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(AESGCM.generate_key(bit_length=256))
    kek = path.read_bytes()
    if len(kek) != 32:
        raise VaultError("the key-encryption key must be exactly 32 bytes")
    return kek


def kek_id(kek: bytes) -> str:
    return hashlib.sha256(kek).hexdigest()[:16]


def _seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _open(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(sealed[:12], sealed[12:], aad)
    except Exception as exc:  # InvalidTag: wrong KEK or tampered record
        raise VaultError("a sealed key could not be opened") from exc


def generate_private_key(algorithm: str) -> PrivateKeyTypes:
    if algorithm == "ecp256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm in ("rsa2048", "rsa3072"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(algorithm[3:]))
    raise ValueError(f"unknown key algorithm {algorithm!r}")


def store_private_key(key: PrivateKeyTypes, *, algorithm: str) -> KeyRecord:
    kek = read_kek()
    record = KeyRecord(algorithm=algorithm, kek_id=kek_id(kek))
    aad = record.id.encode()
    dek = AESGCM.generate_key(bit_length=256)
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    record.sealed_key = _seal(dek, der, aad)
    record.wrapped_dek = _seal(kek, dek, aad)
    record.save(force_insert=True)
    return record


def new_key(algorithm: str) -> tuple[PrivateKeyTypes, KeyRecord]:
    key = generate_private_key(algorithm)
    return key, store_private_key(key, algorithm=algorithm)


def _kek_for(record: KeyRecord) -> bytes:
    """The KEK that wrapped *record*: the current one, or — after a rotation interrupted
    between its commit and its final rename — the new one still waiting beside it."""
    current = read_kek()
    if record.kek_id == kek_id(current):
        return current
    pending = _kek_path().with_suffix(".new")
    if pending.exists() and record.kek_id == kek_id(pending.read_bytes()):
        return pending.read_bytes()
    raise VaultError("no key-encryption key matches this record")


@lru_cache(maxsize=4096)
def load_private_key(record_id: str) -> PrivateKeyTypes:
    """The key of *record_id*, parsed once per process."""
    record = KeyRecord.objects.get(pk=record_id)
    aad = record.id.encode()
    dek = _open(_kek_for(record), bytes(record.wrapped_dek), aad)
    der = _open(dek, bytes(record.sealed_key), aad)
    return serialization.load_der_private_key(der, password=None)


def rotate_kek(new_kek: bytes) -> int:
    """Re-wrap every data key under *new_kek*, then make it the KEK. Returns the count.

    Crash-safe: the new KEK is written beside the old one first, the re-wrap commits in one
    transaction, and only then does the new file replace the old; every record names the KEK
    that wrapped it, so each step leaves all keys readable.
    """
    if len(new_kek) != 32:
        raise VaultError("the new key-encryption key must be exactly 32 bytes")
    old = read_kek()
    path = _kek_path()
    pending = path.with_suffix(".new")
    fd = os.open(pending, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(new_kek)
    count = 0
    with transaction.atomic():
        for record in KeyRecord.objects.select_for_update().filter(kek_id=kek_id(old)):
            aad = record.id.encode()
            dek = _open(old, bytes(record.wrapped_dek), aad)
            record.wrapped_dek, record.kek_id = _seal(new_kek, dek, aad), kek_id(new_kek)
            record.save(update_fields=["wrapped_dek", "kek_id"])
            count += 1
    pending.replace(path)
    load_private_key.cache_clear()
    return count
