"""Sealed secrets (webhook signing secrets): envelope-encrypted like keys, rotated with them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings

from portsign.pki import vault
from portsign.pki.models import KeyRecord

SECRET = b"whsec_a-secret-nobody-may-read-at-rest"


def test_a_sealed_secret_opens_and_is_not_stored_in_clear():
    record = vault.seal_secret(SECRET)
    assert vault.open_secret(record.id) == SECRET
    stored = KeyRecord.objects.get(pk=record.id)
    assert stored.algorithm == "secret"
    row = b"".join([bytes(stored.sealed_key), bytes(stored.wrapped_dek), stored.kek_id.encode()])
    assert SECRET not in row
    assert SECRET[6:20] not in row


def test_kek_rotation_rewraps_secrets_too():
    record = vault.seal_secret(SECRET)
    old = vault.read_kek()
    assert vault.rotate_kek(os.urandom(32)) == 1
    assert vault.read_kek() != old
    assert KeyRecord.objects.get(pk=record.id).kek_id == vault.kek_id(vault.read_kek())
    assert vault.open_secret(record.id) == SECRET


def test_a_wrong_kek_cannot_open_a_secret():
    record = vault.seal_secret(SECRET)
    Path(settings.PKI_KEK_FILE).write_bytes(os.urandom(32))
    with pytest.raises(vault.VaultError):
        vault.open_secret(record.id)


def test_secrets_and_keys_are_not_interchangeable():
    record = vault.seal_secret(SECRET)
    with pytest.raises(KeyRecord.DoesNotExist):
        vault.load_private_key(record.id)
    _key, key_record = vault.new_key("ecp256")
    with pytest.raises(KeyRecord.DoesNotExist):
        vault.open_secret(key_record.id)
    vault.discard_secret(key_record.id)  # only secrets are discarded
    assert KeyRecord.objects.filter(pk=key_record.id).exists()
    vault.discard_secret(record.id)
    assert not KeyRecord.objects.filter(pk=record.id).exists()
