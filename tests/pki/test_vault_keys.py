"""Keys read back from the vault are parsed without cryptography's RSA key validation (issue 17:
30-60 ms per RSA-2048 key); keys from anywhere else keep it; the vault's AES-GCM is what makes
that safe, so a changed or swapped sealed key never loads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from asn1crypto import keys as asn1_keys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from portsign.pki import issuance, pades, vault, vendor_keys
from portsign.pki.models import KeyRecord
from portsign.pki.signer import signer_for
from tests.pki.pdf_samples import make_pdf
from tests.verifiers import assert_verifiers_accept

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture
def enterprise(hierarchy):
    return issuance.issue_certificate(
        subject=issuance.enterprise_name(name="示例港务有限公司", uscc="91310000717860235R")
    )


@pytest.fixture
def loader_calls(monkeypatch) -> list[dict[str, Any]]:
    """The keyword arguments of every load_der_private_key call, which still runs."""
    calls: list[dict[str, Any]] = []
    real = serialization.load_der_private_key

    def spy(data: bytes, *args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return real(data, *args, **kwargs)

    monkeypatch.setattr(serialization, "load_der_private_key", spy)
    vault.load_private_key.cache_clear()
    signer_for.cache_clear()
    return calls


def _broken_rsa_pem() -> bytes:
    """A PKCS#8 RSA key whose CRT coefficient (q^-1 mod p) is off by one."""
    good = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_numbers()
    broken = asn1_keys.RSAPrivateKey(
        {
            "version": "two-prime",
            "modulus": good.public_numbers.n,
            "public_exponent": good.public_numbers.e,
            "private_exponent": good.d,
            "prime1": good.p,
            "prime2": good.q,
            "exponent1": good.dmp1,
            "exponent2": good.dmq1,
            "coefficient": good.iqmp + 1,
        }
    )
    der = asn1_keys.PrivateKeyInfo.wrap(broken, "rsa").dump()
    return serialization.load_der_private_key(
        der, password=None, unsafe_skip_rsa_key_validation=True
    ).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def test_a_vault_key_is_parsed_once_without_validation(enterprise, loader_calls):
    first = vault.load_private_key(enterprise.key_id)

    assert vault.load_private_key(enterprise.key_id) is first
    assert loader_calls == [{"password": None, "unsafe_skip_rsa_key_validation": True}]


def test_a_vault_key_is_the_key_a_validating_parse_gives(enterprise, loader_calls):
    record = KeyRecord.objects.get(pk=enterprise.key_id)
    validated = serialization.load_der_private_key(vault._open(record), password=None)
    loaded = vault.load_private_key(enterprise.key_id)
    assert isinstance(loaded, rsa.RSAPrivateKey)
    assert isinstance(validated, rsa.RSAPrivateKey)

    assert loaded.private_numbers() == validated.private_numbers()
    # RSA PKCS#1 v1.5 is deterministic: the same signature, byte for byte.
    data = b"signed attributes"
    assert loaded.sign(data, padding.PKCS1v15(), hashes.SHA256()) == validated.sign(
        data, padding.PKCS1v15(), hashes.SHA256()
    )


def test_a_signer_built_from_the_vault_signs_and_every_verifier_accepts(
    enterprise, loader_calls, tmp_path
):
    signed = pades.sign_approval(
        make_pdf(2), certificate_id=enterprise.id, marks=[], field_name="Enterprise"
    )

    assert {"password": None, "unsafe_skip_rsa_key_validation": True} in loader_calls
    report = pades.verify(signed)
    assert (report.intact, report.valid) == (True, True)
    assert [(s.field_name, s.certificate_status) for s in report.signatures] == [
        ("Enterprise", "good")
    ]
    assert_verifiers_accept(signed, tmp_path, ["Enterprise"])


def test_a_broken_key_from_outside_is_still_rejected(tmp_path):
    key_file = tmp_path / "merchant.pem"
    key_file.write_bytes(_broken_rsa_pem())

    with pytest.raises(ValueError, match="Invalid private key"):
        vendor_keys.rsa2_sign(key_file=str(key_file), message="out_trade_no=1")


def test_only_the_vault_skips_key_validation():
    skipping = sorted(
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if "unsafe_skip_rsa_key_validation" in path.read_text(encoding="utf-8")
    )

    assert skipping == ["portsign/pki/vault.py"]


def test_a_changed_sealed_key_does_not_load(enterprise):
    record = KeyRecord.objects.get(pk=enterprise.key_id)
    sealed = bytearray(record.sealed_key)
    sealed[len(sealed) // 2] ^= 0x01
    record.sealed_key = bytes(sealed)
    record.save(update_fields=["sealed_key"])
    vault.load_private_key.cache_clear()

    with pytest.raises(vault.VaultError):
        vault.load_private_key(enterprise.key_id)


def test_a_sealed_key_moved_to_another_record_does_not_load(enterprise, hierarchy):
    record = KeyRecord.objects.get(pk=enterprise.key_id)
    other = KeyRecord.objects.get(pk=hierarchy["issuing"].key_id)
    other.sealed_key, other.wrapped_dek, other.kek_id = (
        record.sealed_key,
        record.wrapped_dek,
        record.kek_id,
    )
    other.save(update_fields=["sealed_key", "wrapped_dek", "kek_id"])
    vault.load_private_key.cache_clear()

    with pytest.raises(vault.VaultError):
        vault.load_private_key(other.id)
