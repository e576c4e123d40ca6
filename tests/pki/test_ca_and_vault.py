"""CA hierarchy, key vault and CRLs, checked with the OpenSSL command line."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings
from django.test import Client

from portsign.common.errors import Conflict
from portsign.common.models import AuditEvent
from portsign.pki import issuance, vault
from portsign.pki.ca import init_hierarchy
from portsign.pki.models import CertificateAuthority, IssuedCertificate, KeyRecord


def _openssl(*args: str, stdin: bytes | None = None) -> str:
    result = subprocess.run(["openssl", *args], input=stdin, capture_output=True, check=False)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode()


def _cert(ca) -> x509.Certificate:
    return x509.load_pem_x509_certificate(ca.certificate_pem.encode())


def test_init_is_idempotent(hierarchy):
    again = {ca.role: ca for ca in init_hierarchy()}
    assert {r: ca.certificate_pem for r, ca in again.items()} == {
        r: ca.certificate_pem for r, ca in hierarchy.items()
    }
    assert CertificateAuthority.objects.count() == 4
    assert AuditEvent.objects.filter(action="pki.ca_created").count() == 4


def test_chain_and_extensions(hierarchy, tmp_path: Path):
    for role, ca in hierarchy.items():
        (tmp_path / f"{role}.pem").write_text(ca.certificate_pem)
    for role in ("issuing", "ocsp", "tsa"):
        out = _openssl(
            "verify",
            "-CAfile",
            str(tmp_path / "root.pem"),
            "-untrusted",
            str(tmp_path / "issuing.pem"),
            str(tmp_path / f"{role}.pem"),
        )
        assert out.strip() == f"{tmp_path / (role + '.pem')}: OK"
    assert _cert(hierarchy["ocsp"]).issuer == _cert(hierarchy["issuing"]).subject
    tsa = _cert(hierarchy["tsa"]).extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert tsa.critical is True
    assert list(tsa.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
    ocsp = _cert(hierarchy["ocsp"])
    assert list(ocsp.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.OCSP_SIGNING
    ]
    assert ocsp.extensions.get_extension_for_class(x509.OCSPNoCheck)
    root = _cert(hierarchy["root"])
    assert root.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == ("PortSign Root CA")


def test_issued_certificate_points_at_this_server(hierarchy):
    cert = issuance.issue_certificate(
        subject=issuance.enterprise_name(name="示例港务有限公司", uscc="91310000717860235R")
    )
    parsed = x509.load_pem_x509_certificate(cert.certificate_pem.encode())
    aia = parsed.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    assert [d.access_location.value for d in aia] == [
        f"{settings.PUBLIC_URL}/pki/ocsp",
        f"{settings.PUBLIC_URL}/pki/ca/issuing.pem",
    ]
    cdp = parsed.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert cdp[0].full_name[0].value == f"{settings.PUBLIC_URL}/pki/crl/issuing.crl"
    org_id = parsed.subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)[0].value
    assert org_id == "NTRCN-91310000717860235R"


def test_person_certificate_never_shows_the_id_number(hierarchy):
    id_number = "11010119900307123X"
    cert = issuance.issue_certificate(
        subject=issuance.person_name(name="测试人员", id_number=id_number)
    )
    assert id_number not in cert.certificate_pem
    parsed = x509.load_pem_x509_certificate(cert.certificate_pem.encode())
    serial_attr = parsed.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value
    assert serial_attr.startswith("PSN-")
    assert id_number not in serial_attr


def test_crl_lists_revoked_and_held_serials_with_reasons(hierarchy, tmp_path: Path):
    subject = issuance.person_name(name="测试", id_number="11010119900307123X")
    _good, bad, held = (issuance.issue_certificate(subject=subject) for _ in range(3))
    issuance.revoke(bad.id, reason="key_compromise")
    issuance.suspend(held.id)
    response = Client().get("/pki/crl/issuing.crl")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pkix-crl"
    (tmp_path / "issuing.crl").write_bytes(response.content)
    (tmp_path / "issuing.pem").write_text(hierarchy["issuing"].certificate_pem)
    text = _openssl(
        "crl",
        "-inform",
        "DER",
        "-in",
        str(tmp_path / "issuing.crl"),
        "-noout",
        "-text",
        "-CAfile",
        str(tmp_path / "issuing.pem"),
    )
    listed = {int(h, 16) for h in re.findall(r"Serial Number: ([0-9A-F]+)", text)}
    assert listed == {int(bad.serial, 16), int(held.serial, 16)}
    assert "Key Compromise" in text
    assert "Certificate Hold" in text
    assert "X509v3 CRL Number: \n                3" in text.replace("\r", "")


def test_crl_number_grows_and_release_unlists(hierarchy):
    cert = issuance.issue_certificate(subject=issuance.person_name(name="A", id_number="1"))
    issuance.suspend(cert.id)
    issuance.release(cert.id)
    hierarchy["issuing"].refresh_from_db()
    assert hierarchy["issuing"].crl_number == 3
    crl = x509.load_der_x509_crl(Client().get("/pki/crl/issuing.crl").content)
    assert crl.get_revoked_certificate_by_serial_number(int(cert.serial, 16)) is None
    issuance.revoke(cert.id, reason="superseded")
    with pytest.raises(Conflict, match="revoked"):
        issuance.release(cert.id)


def test_ca_list_and_pem(hierarchy):
    listing = Client().get("/pki/ca/").json()
    assert [(c["name"], c["role"]) for c in listing] == [
        ("root", "root"),
        ("issuing", "issuing"),
        ("ocsp", "ocsp"),
        ("tsa", "tsa"),
    ]
    assert listing[0]["crl_url"].endswith("/pki/crl/root.crl")
    assert "crl_url" not in listing[2]
    pem = Client().get("/pki/ca/root.pem")
    assert pem.content.decode() == hierarchy["root"].certificate_pem
    assert Client().get("/pki/ca/nope.pem").status_code == 404
    assert Client().get("/pki/crl/ocsp.crl").status_code == 404


def test_no_private_key_is_readable_at_rest(hierarchy, tmp_path: Path):
    issuance.issue_certificate(subject=issuance.person_name(name="B", id_number="2"))
    markers = (b"PRIVATE KEY", b"\x30\x82")  # PEM armour; DER PKCS#8 starts 30 82 … 02 01 00
    database = (
        Path(settings.DATABASES["default"]["NAME"])
        if "sqlite" in settings.DATABASES["default"]["ENGINE"]
        else None
    )
    blobs = [bytes(r.sealed_key) + bytes(r.wrapped_dek) for r in KeyRecord.objects.all()]
    for blob in blobs:
        assert b"PRIVATE KEY" not in blob
        assert b"\x02\x01\x00\x30" not in blob  # PKCS#8 version + algorithm header
    for path in Path(settings.DATA_DIR).rglob("*"):
        if path.is_file() and path.name != "kek":
            assert markers[0] not in path.read_bytes(), path
    if database is not None and database.exists():
        assert b"PRIVATE KEY" not in database.read_bytes()
    assert IssuedCertificate.objects.count() == 1


def test_kek_rotation_rewraps_and_keys_still_load(hierarchy):
    records = list(KeyRecord.objects.values_list("id", flat=True))
    before = [vault.load_private_key(r).public_key().public_numbers() for r in records]
    old = vault.read_kek()
    assert vault.rotate_kek(os.urandom(32)) == 4
    assert vault.read_kek() != old
    assert set(KeyRecord.objects.values_list("kek_id", flat=True)) == {
        vault.kek_id(vault.read_kek())
    }
    after = [vault.load_private_key(r).public_key().public_numbers() for r in records]
    assert after == before


def test_wrong_kek_cannot_open_keys(hierarchy):
    record = KeyRecord.objects.first()
    vault.load_private_key.cache_clear()
    Path(settings.PKI_KEK_FILE).write_bytes(os.urandom(32))
    with pytest.raises(vault.VaultError):
        vault.load_private_key(record.id)


def test_rotation_after_an_interrupted_one_keeps_every_key(hierarchy, monkeypatch):
    """A rotation that committed but died before its rename leaves `kek.new` as the only KEK of
    the re-wrapped records; the next rotation must finish it, not overwrite it."""
    from portsign.pki import kek

    records = list(KeyRecord.objects.values_list("id", flat=True))
    before = [vault.load_private_key(r).public_key().public_numbers() for r in records]
    monkeypatch.setattr(kek._PendingFileKek, "activate", lambda self: None)  # dies before rename
    vault.rotate_kek(os.urandom(32))
    monkeypatch.undo()
    pending = Path(settings.PKI_KEK_FILE).with_suffix(".new")
    assert pending.exists()
    assert vault.rotate_kek(os.urandom(32)) == 4
    assert not pending.exists()
    vault.load_private_key.cache_clear()
    assert [vault.load_private_key(r).public_key().public_numbers() for r in records] == before


def test_a_rolled_back_rotation_leaves_a_pending_file_that_may_be_replaced(hierarchy):
    pending = Path(settings.PKI_KEK_FILE).with_suffix(".new")
    pending.write_bytes(os.urandom(32))  # written, then the re-wrap rolled back
    current = vault.read_kek()
    assert vault.rotate_kek(os.urandom(32)) == 4
    assert vault.read_kek() not in (current, b"")
    vault.load_private_key.cache_clear()
    assert vault.load_private_key(KeyRecord.objects.first().id) is not None
