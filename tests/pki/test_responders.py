"""Tests of pki/responders.py against the real OpenSSL command line.

Requests are made by `openssl ocsp` and `openssl ts -query`, answered by the responders, and the
answers are checked by `openssl ocsp` and `openssl ts -verify`: an independent implementation, so
an encoding mistake shared by the responder and a Python parser cannot pass unnoticed. Exact
values (serials, policy, nonces, times) are then read back with cryptography and asn1crypto.

The root CA is RSA-2048; the OCSP and TSA signer keys run once as RSA and once as ECDSA P-256.
"""

from __future__ import annotations

import base64
import hashlib
import shlex
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from asn1crypto import core as asn1_core
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificatePublicKeyTypes,
)
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from portsign.pki.responders import (
    CertStatus,
    Responder,
    ocsp_request_from_get,
    ocsp_response,
    timestamp_response,
)

# These are pure functions; the suite's autouse database fixture is irrelevant to them.
PROPERTY = hsettings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
EE_SERIAL = 0x4E2D_56FD_6E2F
TSA_POLICY = "1.3.6.1.4.1.55555.1.3"
TST_SERIAL = 0x5EC0DE42
REVOKED_AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

Lookup = Callable[[int], CertStatus]


# --- PKI made for the test -------------------------------------------------------------------


@dataclass(frozen=True)
class Pki:
    directory: Path  # ca.pem, ee.pem, ocsp.pem, tsa.pem
    ca: x509.Certificate
    ca_key: rsa.RSAPrivateKey
    ee: x509.Certificate
    ocsp: Responder
    tsa: Responder


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "PortSign Test"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _new_key(kind: str) -> CertificateIssuerPrivateKeyTypes:
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def _issue(
    common_name: str,
    public_key: CertificatePublicKeyTypes,
    *,
    issuer: x509.Certificate | None,
    issuer_key: CertificateIssuerPrivateKeyTypes,
    serial: int,
    extensions: list[tuple[x509.ExtensionType, bool]],
) -> x509.Certificate:
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(issuer.subject if issuer else _name(common_name))
        .public_key(public_key)
        .serial_number(serial)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    if issuer is not None:
        aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key())
        builder = builder.add_extension(aki, critical=False)
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(issuer_key, hashes.SHA256())


def _key_usage(*, digital_signature: bool = False, ca: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _make_ca(common_name: str, key: CertificateIssuerPrivateKeyTypes) -> x509.Certificate:
    return _issue(
        common_name,
        key.public_key(),
        issuer=None,
        issuer_key=key,
        serial=1,
        extensions=[
            (x509.BasicConstraints(ca=True, path_length=None), True),
            (_key_usage(ca=True), True),
        ],
    )


def _signer(
    common_name: str,
    kind: str,
    ca: x509.Certificate,
    ca_key: rsa.RSAPrivateKey,
    serial: int,
    extensions: list[tuple[x509.ExtensionType, bool]],
) -> Responder:
    key = _new_key(kind)
    certificate = _issue(
        common_name,
        key.public_key(),
        issuer=ca,
        issuer_key=ca_key,
        serial=serial,
        extensions=[(_key_usage(digital_signature=True), True), *extensions],
    )
    return Responder(certificate=certificate, key=key)


def _write_pem(path: Path, certificate: x509.Certificate) -> None:
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


@pytest.fixture(scope="module", params=["rsa", "ecdsa"])
def pki(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Pki:
    kind: str = request.param
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = _make_ca("PortSign Test Root CA", ca_key)
    ee_key = ec.generate_private_key(ec.SECP256R1())
    ee = _issue(
        "ee", ee_key.public_key(), issuer=ca, issuer_key=ca_key, serial=EE_SERIAL, extensions=[]
    )
    ocsp_signer = _signer(
        "PortSign Test OCSP",
        kind,
        ca,
        ca_key,
        serial=2,
        extensions=[
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), False),
            # id-pkix-ocsp-nocheck: clients need not ask about the responder's own status.
            (x509.OCSPNoCheck(), False),
        ],
    )
    tsa = _signer(
        "PortSign Test TSA",
        kind,
        ca,
        ca_key,
        serial=3,
        extensions=[(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), True)],
    )
    directory = tmp_path_factory.mktemp(f"pki-{kind}")
    for name, certificate in [
        ("ca", ca),
        ("ee", ee),
        ("ocsp", ocsp_signer.certificate),
        ("tsa", tsa.certificate),
    ]:
        _write_pem(directory / f"{name}.pem", certificate)
    return Pki(directory, ca, ca_key, ee, ocsp_signer, tsa)


@pytest.fixture
def now() -> datetime:
    # OpenSSL checks thisUpdate/nextUpdate and certificate validity against the real clock.
    # Microseconds are kept on purpose: genTime must carry them without trailing zeros.
    return datetime.now(UTC).replace(microsecond=123400)


@pytest.fixture
def work(pki: Pki, tmp_path: Path) -> Path:
    """A directory holding ca.pem, ee.pem, ocsp.pem and tsa.pem, where openssl runs."""
    for pem in pki.directory.glob("*.pem"):
        shutil.copy(pem, tmp_path)
    return tmp_path


def openssl(command: str, *, cwd: Path, ok: bool = True) -> str:
    """Run `openssl <command>`; return stdout and stderr together (verdicts go to stderr)."""
    result = subprocess.run(
        ["openssl", *shlex.split(command)], cwd=cwd, capture_output=True, text=True, check=False
    )
    output = result.stdout + result.stderr
    assert (result.returncode == 0) == ok, output
    return output


# --- OCSP ------------------------------------------------------------------------------------


def _fixed(status: CertStatus) -> Lookup:
    return lambda _serial: status


def _respond(pki: Pki, request_der: bytes, now: datetime, lookup: Lookup | None = None) -> bytes:
    return ocsp_response(
        request_der,
        issuer=pki.ca,
        responder=pki.ocsp,
        lookup=lookup or _fixed(CertStatus("good")),
        now=now,
    )


def _answer(pki: Pki, work: Path, request: str, now: datetime, lookup: Lookup) -> None:
    """Answer work/<request> into work/resp.der."""
    (work / "resp.der").write_bytes(_respond(pki, (work / request).read_bytes(), now, lookup))


# -cert makes `openssl ocsp` build its own request to match the answer against; -no_nonce keeps
# it from adding a fresh nonce that no saved response can carry. Nonces are checked with -reqin.
CHECK_RESPONSE = (
    "ocsp {digest} -respin resp.der -issuer ca.pem -cert ee.pem -CAfile ca.pem -resp_text -no_nonce"
)


def _key_sha1(certificate: x509.Certificate) -> bytes:
    # The SubjectKeyIdentifier method (1) is exactly RFC 6960's KeyHash: SHA-1 of the key bits.
    return x509.SubjectKeyIdentifier.from_public_key(certificate.public_key()).digest


def _status_of(der: bytes) -> ocsp.OCSPResponseStatus:
    return ocsp.load_der_ocsp_response(der).response_status


@pytest.mark.parametrize("digest", ["-sha1", "-sha256"])
def test_ocsp_good_response_verifies_with_openssl(
    pki: Pki, work: Path, now: datetime, digest: str
) -> None:
    seen: list[int] = []

    def lookup(serial: int) -> CertStatus:
        seen.append(serial)
        return CertStatus("good")

    # The CertID digest option must come before the -cert it applies to.
    openssl(f"ocsp {digest} -issuer ca.pem -cert ee.pem -reqout req.der -no_nonce", cwd=work)
    _answer(pki, work, "req.der", now, lookup)

    # openssl looks the status up by the CertID it computes itself, so this also checks that
    # the response echoes the request's CertID hash algorithm.
    output = openssl(CHECK_RESPONSE.format(digest=digest), cwd=work)
    assert "Response verify OK" in output
    assert "ee.pem: good" in output
    assert seen == [EE_SERIAL]

    response = ocsp.load_der_ocsp_response((work / "resp.der").read_bytes())
    assert response.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    assert response.certificate_status is ocsp.OCSPCertStatus.GOOD
    assert response.serial_number == EE_SERIAL
    assert response.hash_algorithm.name == digest.removeprefix("-")
    assert response.this_update_utc == now.replace(microsecond=0)
    assert response.next_update_utc == now.replace(microsecond=0) + timedelta(hours=1)
    assert response.responder_key_hash == _key_sha1(pki.ocsp.certificate)
    assert response.responder_name is None
    assert response.certificates == [pki.ocsp.certificate]
    assert isinstance(response.signature_hash_algorithm, hashes.SHA256)
    assert list(response.extensions) == []


def test_ocsp_revoked_response_carries_time_and_reason(pki: Pki, work: Path, now: datetime) -> None:
    revoked = CertStatus("revoked", REVOKED_AT, x509.ReasonFlags.key_compromise)
    openssl("ocsp -issuer ca.pem -cert ee.pem -reqout req.der -no_nonce", cwd=work)
    _answer(pki, work, "req.der", now, _fixed(revoked))

    output = openssl(CHECK_RESPONSE.format(digest=""), cwd=work)
    assert "Response verify OK" in output
    assert "ee.pem: revoked" in output
    assert "Reason: keyCompromise" in output
    assert "Revocation Time: Jan  2 03:04:05 2026 GMT" in output

    response = ocsp.load_der_ocsp_response((work / "resp.der").read_bytes())
    assert response.certificate_status is ocsp.OCSPCertStatus.REVOKED
    assert response.revocation_time_utc == REVOKED_AT
    assert response.revocation_reason is x509.ReasonFlags.key_compromise


def test_ocsp_unknown_serial(pki: Pki, work: Path, now: datetime) -> None:
    openssl("ocsp -issuer ca.pem -cert ee.pem -reqout req.der -no_nonce", cwd=work)
    _answer(pki, work, "req.der", now, _fixed(CertStatus("unknown")))

    output = openssl(CHECK_RESPONSE.format(digest=""), cwd=work)
    assert "Response verify OK" in output
    assert "ee.pem: unknown" in output


def _nonce(extensions: x509.Extensions) -> bytes:
    return extensions.get_extension_for_class(x509.OCSPNonce).value.nonce


def test_ocsp_echoes_the_nonce(pki: Pki, work: Path, now: datetime) -> None:
    openssl("ocsp -issuer ca.pem -cert ee.pem -reqout req.der", cwd=work)  # nonce by default
    _answer(pki, work, "req.der", now, _fixed(CertStatus("good")))

    sent = _nonce(ocsp.load_der_ocsp_request((work / "req.der").read_bytes()).extensions)
    echoed = _nonce(ocsp.load_der_ocsp_response((work / "resp.der").read_bytes()).extensions)
    assert len(sent) == 16
    assert echoed == sent
    # With -reqin, openssl compares the request's nonce with the response's.
    verdict = openssl("ocsp -reqin req.der -respin resp.der -CAfile ca.pem", cwd=work)
    assert "Response verify OK" in verdict
    assert "nonce" not in verdict.lower()
    # Control: the same response fails for another request, so openssl really compared them.
    openssl("ocsp -issuer ca.pem -cert ee.pem -reqout other.der", cwd=work)
    mismatch = openssl("ocsp -reqin other.der -respin resp.der -CAfile ca.pem", cwd=work, ok=False)
    assert "Nonce Verify error" in mismatch


def test_ocsp_for_another_ca_is_unauthorized(pki: Pki, work: Path, now: datetime) -> None:
    other_key = ec.generate_private_key(ec.SECP256R1())
    other_ca = _make_ca("Someone Else's CA", other_key)
    other_ee = _issue(
        "other",
        other_key.public_key(),
        issuer=other_ca,
        issuer_key=other_key,
        serial=9,
        extensions=[],
    )
    _write_pem(work / "other-ca.pem", other_ca)
    _write_pem(work / "other-ee.pem", other_ee)
    openssl("ocsp -issuer other-ca.pem -cert other-ee.pem -reqout req.der", cwd=work)
    lookup_calls: list[int] = []

    def lookup(serial: int) -> CertStatus:
        lookup_calls.append(serial)
        return CertStatus("good")

    _answer(pki, work, "req.der", now, lookup)

    assert _status_of((work / "resp.der").read_bytes()) is ocsp.OCSPResponseStatus.UNAUTHORIZED
    assert lookup_calls == []
    output = openssl("ocsp -respin resp.der -noverify", cwd=work, ok=False)
    assert "Responder Error: unauthorized (6)" in output


@pytest.mark.parametrize("wrong", ["name", "key"])
def test_ocsp_needs_both_issuer_hashes_to_match(pki: Pki, now: datetime, wrong: str) -> None:
    # A CA with the same name but another key (or the same key under another name) is not us.
    sha1 = hashes.SHA1()  # noqa: S303 - RFC 6960 clients still default to SHA-1 CertIDs
    name_hash = hashlib.sha1(pki.ca.subject.public_bytes()).digest()  # noqa: S324
    key_hash = _key_sha1(pki.ca)
    if wrong == "name":
        name_hash = hashlib.sha1(b"another name").digest()  # noqa: S324
    else:
        key_hash = hashlib.sha1(b"another key").digest()  # noqa: S324
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate_by_hash(name_hash, key_hash, EE_SERIAL, sha1)
        .build()
        .public_bytes(serialization.Encoding.DER)
    )
    assert _status_of(_respond(pki, request, now)) is ocsp.OCSPResponseStatus.UNAUTHORIZED


@pytest.mark.parametrize("algorithm", ["md5", "sha3_256"])
def test_ocsp_unsupported_cert_id_hash_is_unauthorized(
    pki: Pki, now: datetime, algorithm: str
) -> None:
    # Correct hashes of our CA, but with an algorithm we cannot recompute or echo.
    ca = asn1_x509.Certificate.load(pki.ca.public_bytes(serialization.Encoding.DER))
    key_bits = ca["tbs_certificate"]["subject_public_key_info"]["public_key"].contents[1:]
    cert_id = {
        "hash_algorithm": {"algorithm": algorithm},
        "issuer_name_hash": hashlib.new(algorithm, ca.subject.dump()).digest(),
        "issuer_key_hash": hashlib.new(algorithm, key_bits).digest(),
        "serial_number": EE_SERIAL,
    }
    request = asn1_ocsp.OCSPRequest({"tbs_request": {"request_list": [{"req_cert": cert_id}]}})
    assert _status_of(_respond(pki, request.dump(), now)) is ocsp.OCSPResponseStatus.UNAUTHORIZED


def test_ocsp_truncated_request_is_malformed(pki: Pki, work: Path, now: datetime) -> None:
    openssl("ocsp -issuer ca.pem -cert ee.pem -reqout req.der", cwd=work)
    request = (work / "req.der").read_bytes()
    for candidate in [request[:cut] for cut in range(len(request))] + [request + b"\x00"]:
        der = _respond(pki, candidate, now)
        assert _status_of(der) is ocsp.OCSPResponseStatus.MALFORMED_REQUEST, candidate
    (work / "resp.der").write_bytes(der)
    output = openssl("ocsp -respin resp.der -noverify", cwd=work, ok=False)
    assert "Responder Error: malformedrequest (1)" in output


@PROPERTY
@given(st.binary(max_size=300))
def test_ocsp_garbage_is_malformed(pki: Pki, garbage: bytes) -> None:
    der = _respond(pki, garbage, datetime.now(UTC))
    assert _status_of(der) is ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def _request_for_ee(pki: Pki, *extensions: tuple[x509.ExtensionType, bool]) -> bytes:
    builder = ocsp.OCSPRequestBuilder().add_certificate(pki.ee, pki.ca, hashes.SHA256())
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.build().public_bytes(serialization.Encoding.DER)


def test_ocsp_critical_unknown_request_extension_is_malformed(pki: Pki, now: datetime) -> None:
    unknown = x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.55555.9"), b"\x05\x00")
    request = _request_for_ee(pki, (unknown, True))
    assert _status_of(_respond(pki, request, now)) is ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    # The same extension, not critical, is ignored (RFC 6960 4.4).
    request = _request_for_ee(pki, (unknown, False))
    assert _status_of(_respond(pki, request, now)) is ocsp.OCSPResponseStatus.SUCCESSFUL


def test_ocsp_programming_errors_raise(pki: Pki, now: datetime) -> None:
    request = _request_for_ee(pki)
    with pytest.raises(ValueError, match="revoked_at"):
        _respond(pki, request, now, _fixed(CertStatus("revoked")))
    with pytest.raises(ValueError, match="unknown certificate status"):
        _respond(pki, request, now, _fixed(CertStatus("suspended")))
    with pytest.raises(ValueError, match="timezone-aware"):
        _respond(pki, request, now.replace(tzinfo=None))


def test_ocsp_get_form_round_trip(pki: Pki, work: Path, now: datetime) -> None:
    openssl("ocsp -issuer ca.pem -cert ee.pem -reqout req.der -no_nonce", cwd=work)
    der = (work / "req.der").read_bytes()
    encoded = base64.b64encode(der).decode()
    assert ocsp_request_from_get(quote(encoded, safe="")) == der
    # Django hands views an already-unquoted path; that must decode the same.
    assert ocsp_request_from_get(encoded) == der

    (work / "resp.der").write_bytes(_respond(pki, ocsp_request_from_get(quote(encoded)), now))
    assert "ee.pem: good" in openssl(CHECK_RESPONSE.format(digest=""), cwd=work)


@pytest.mark.parametrize(
    ("component", "expected"),
    [
        ("%2B%2F8%3D", b"\xfb\xff"),  # "+/8=" with every special character escaped
        ("%2b%2f8%3d", b"\xfb\xff"),  # lower-case escapes
        ("+/8=", b"\xfb\xff"),  # "+" is a literal plus in a path, never a space
        ("MAA%3D", b"\x30\x00"),
    ],
)
def test_ocsp_get_form_decodes_escapes(component: str, expected: bytes) -> None:
    assert ocsp_request_from_get(component) == expected


@pytest.mark.parametrize(
    "component",
    ["", "%3D%3D%3D%3D", "MAA", "MA A=", "not base64!", "%", "%FF%FE", "MAA=\n", "中文"],
)
def test_ocsp_get_form_rejects_invalid(component: str) -> None:
    with pytest.raises(ValueError, match="OCSP GET request"):
        ocsp_request_from_get(component)


# --- Time-stamping ---------------------------------------------------------------------------

VERIFY_TOKEN = "ts -verify -in resp.tsr -queryfile req.tsq -CAfile ca.pem -untrusted tsa.pem"


def _stamp_der(pki: Pki, request_der: bytes, now: datetime) -> bytes:
    return timestamp_response(
        request_der, responder=pki.tsa, serial=TST_SERIAL, now=now, policy_oid=TSA_POLICY
    )


def _query_and_stamp(pki: Pki, work: Path, now: datetime, options: str) -> None:
    """Make work/req.tsq over work/file.txt with openssl, answer it into work/resp.tsr."""
    (work / "file.txt").write_text("Bill of lading PS-2026-0001\n", encoding="utf-8")
    openssl(f"ts -query -data file.txt {options} -out req.tsq", cwd=work)
    (work / "resp.tsr").write_bytes(_stamp_der(pki, (work / "req.tsq").read_bytes(), now))


def _granted(der: bytes) -> Any:
    """The SignedData of a granted TimeStampResp."""
    response = tsp.TimeStampResp.load(der)
    assert response["status"]["status"].native == "granted"
    return response["time_stamp_token"]["content"]


def _rejection(der: bytes) -> dict[str, Any]:
    # asn1crypto 1.5 wrongly requires timeStampToken, so parse the status alone; strict=True
    # proves nothing (no token) follows it.
    status: dict[str, Any] = tsp.PKIStatusInfo.load(
        asn1_core.Sequence.load(der).contents, strict=True
    ).native
    assert status["status"] == "rejection"
    return status


@pytest.mark.parametrize("digest", ["sha256", "sha384", "sha512"])
def test_timestamp_verifies_with_openssl(pki: Pki, work: Path, now: datetime, digest: str) -> None:
    _query_and_stamp(pki, work, now, f"-{digest} -cert")

    assert "Verification: OK" in openssl(VERIFY_TOKEN, cwd=work)
    by_data = "ts -verify -in resp.tsr -data file.txt -CAfile ca.pem -untrusted tsa.pem"
    assert "Verification: OK" in openssl(by_data, cwd=work)
    text = openssl("ts -reply -in resp.tsr -text", cwd=work)
    assert "Status: Granted." in text
    assert f"Serial number: 0x{TST_SERIAL:X}" in text
    assert f"Policy OID: {TSA_POLICY}" in text
    assert f"Hash Algorithm: {digest}" in text
    assert "Accuracy: 0x01 seconds" in text

    request = tsp.TimeStampReq.load((work / "req.tsq").read_bytes())
    signed_data = _granted((work / "resp.tsr").read_bytes())
    encapsulated = signed_data["encap_content_info"]
    assert encapsulated["content_type"].dotted == "1.2.840.113549.1.9.16.1.4"
    tst_info = encapsulated["content"].parsed
    assert tst_info["version"].native == "v1"
    assert tst_info["policy"].dotted == TSA_POLICY
    assert tst_info["serial_number"].native == TST_SERIAL
    assert tst_info["gen_time"].native == now
    assert tst_info["gen_time"].contents.endswith(b".1234Z")  # no trailing zeros (RFC 3161)
    assert tst_info["accuracy"].native == {"seconds": 1, "millis": None, "micros": None}
    assert tst_info["ordering"].native is False
    assert tst_info["message_imprint"].dump() == request["message_imprint"].dump()
    document = (work / "file.txt").read_bytes()
    assert (
        tst_info["message_imprint"]["hashed_message"].native
        == hashlib.new(digest, document).digest()
    )
    assert request["nonce"].native is not None
    assert tst_info["nonce"].native == request["nonce"].native
    assert tst_info["tsa"].name == "directory_name"
    assert tst_info["tsa"].chosen.untag().dump() == pki.tsa.certificate.subject.public_bytes()

    certificates = [choice.chosen.dump() for choice in signed_data["certificates"]]
    assert certificates == [pki.tsa.certificate.public_bytes(serialization.Encoding.DER)]
    (signer_info,) = signed_data["signer_infos"]
    _check_signer_info(signer_info, pki.tsa.certificate, tst_info.dump(), now)


def _check_signer_info(
    signer_info: Any, certificate: x509.Certificate, econtent: bytes, now: datetime
) -> None:
    sid = signer_info["sid"].chosen
    assert sid["serial_number"].native == certificate.serial_number
    assert sid["issuer"].dump() == certificate.issuer.public_bytes()
    assert signer_info["digest_algorithm"]["algorithm"].native == "sha256"
    attributes = {attr["type"].native: attr["values"] for attr in signer_info["signed_attrs"]}
    assert set(attributes) == {
        "content_type",
        "message_digest",
        "signing_time",
        "signing_certificate_v2",
    }
    assert attributes["content_type"][0].native == "tst_info"
    assert attributes["message_digest"][0].native == hashlib.sha256(econtent).digest()
    assert attributes["signing_time"][0].native == now.replace(microsecond=0)
    (ess,) = attributes["signing_certificate_v2"][0]["certs"]
    assert ess["hash_algorithm"]["algorithm"].native == "sha256"
    assert ess["cert_hash"].native == certificate.fingerprint(hashes.SHA256())
    assert ess["issuer_serial"]["serial_number"].native == certificate.serial_number
    _verify_cms_signature(signer_info, certificate)


def _verify_cms_signature(signer_info: Any, certificate: x509.Certificate) -> None:
    # The signature covers the signed attributes as a universal SET, not their [0] tag.
    signed = signer_info["signed_attrs"].untag().dump()
    signature = signer_info["signature"].native
    public_key = certificate.public_key()
    algorithm = signer_info["signature_algorithm"]["algorithm"].native
    if isinstance(public_key, rsa.RSAPublicKey):
        assert algorithm == "sha256_rsa"
        public_key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
    else:
        assert isinstance(public_key, ec.EllipticCurvePublicKey)
        assert algorithm == "sha256_ecdsa"
        public_key.verify(signature, signed, ec.ECDSA(hashes.SHA256()))


def test_timestamp_without_cert_req_omits_the_certificate(
    pki: Pki, work: Path, now: datetime
) -> None:
    _query_and_stamp(pki, work, now, "-sha256 -no_nonce")

    # RFC 3161 2.4.1: no certReq, no certificates; the verifier gets it from -untrusted.
    assert "Verification: OK" in openssl(VERIFY_TOKEN, cwd=work)
    signed_data = _granted((work / "resp.tsr").read_bytes())
    assert signed_data["certificates"].native is None
    assert signed_data["encap_content_info"]["content"].parsed["nonce"].native is None


def test_timestamp_with_our_policy_is_granted(pki: Pki, work: Path, now: datetime) -> None:
    _query_and_stamp(pki, work, now, f"-sha256 -cert -tspolicy {TSA_POLICY}")

    assert "Verification: OK" in openssl(VERIFY_TOKEN, cwd=work)


def test_timestamp_with_another_policy_is_rejected(pki: Pki, work: Path, now: datetime) -> None:
    _query_and_stamp(pki, work, now, "-sha256 -cert -tspolicy 1.2.3.4.5")

    text = openssl("ts -reply -in resp.tsr -text", cwd=work)
    assert "Status: Rejected." in text
    assert "Failure info: the requested TSA policy is not supported by the TSA" in text
    assert "TST info:\nNot included." in text
    status = _rejection((work / "resp.tsr").read_bytes())
    assert status["fail_info"] == {"unaccepted_policy"}
    assert status["status_string"] == ["policy 1.2.3.4.5 is not offered"]


def test_timestamp_sha1_is_rejected(pki: Pki, work: Path, now: datetime) -> None:
    _query_and_stamp(pki, work, now, "-sha1 -cert")

    text = openssl("ts -reply -in resp.tsr -text", cwd=work)
    assert "Status: Rejected." in text
    assert "Failure info: unrecognized or unsupported algorithm identifier" in text
    status = _rejection((work / "resp.tsr").read_bytes())
    assert status["fail_info"] == {"bad_alg"}
    assert status["status_string"] == [
        "unsupported hash algorithm sha1; use sha256, sha384 or sha512"
    ]


def _request(**overrides: Any) -> bytes:
    fields: dict[str, Any] = {
        "version": "v1",
        "message_imprint": {
            "hash_algorithm": {"algorithm": "sha256"},
            "hashed_message": hashlib.sha256(b"x").digest(),
        },
        "cert_req": True,
    }
    der: bytes = tsp.TimeStampReq(fields | overrides).dump()
    return der


def test_timestamp_of_a_hand_made_request_is_granted(pki: Pki, now: datetime) -> None:
    # Control for the refusals below, which each change one field of this request.
    signed_data = _granted(_stamp_der(pki, _request(nonce=2**64 + 5), now))
    assert signed_data["encap_content_info"]["content"].parsed["nonce"].native == 2**64 + 5


SHORT_IMPRINT = {"hash_algorithm": {"algorithm": "sha256"}, "hashed_message": b"\x00" * 20}
AN_EXTENSION = {"extn_id": "1.3.6.1.4.1.55555.9", "critical": False, "extn_value": b"x"}


@pytest.mark.parametrize(
    ("overrides", "fail_info"),
    [
        ({"version": 2}, "bad_request"),
        ({"message_imprint": SHORT_IMPRINT}, "bad_data_format"),
        ({"extensions": [AN_EXTENSION]}, "unaccepted_extensions"),
    ],
)
def test_timestamp_refuses_requests_it_cannot_honour(
    pki: Pki, now: datetime, overrides: dict[str, Any], fail_info: str
) -> None:
    assert _rejection(_stamp_der(pki, _request(**overrides), now))["fail_info"] == {fail_info}


def test_timestamp_malformed_request_is_rejected(pki: Pki, work: Path, now: datetime) -> None:
    _query_and_stamp(pki, work, now, "-sha256 -cert")
    query = (work / "req.tsq").read_bytes()
    for candidate in [query[:cut] for cut in range(len(query))] + [query + b"\x00"]:
        der = _stamp_der(pki, candidate, now)
        status = _rejection(der)
        assert status["fail_info"] == {"bad_request"}, candidate
        assert status["status_string"] == ["malformed TimeStampReq"]
    (work / "resp.tsr").write_bytes(der)
    text = openssl("ts -reply -in resp.tsr -text", cwd=work)
    assert "Status: Rejected." in text
    assert "Failure info: transaction not permitted or supported" in text  # OpenSSL's badRequest


@PROPERTY
@given(st.binary(max_size=300))
def test_timestamp_garbage_is_rejected(pki: Pki, garbage: bytes) -> None:
    assert _rejection(_stamp_der(pki, garbage, datetime.now(UTC)))["fail_info"] == {"bad_request"}


@pytest.mark.parametrize(
    "eku",
    [
        None,
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), False),
        (
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.TIME_STAMPING, ExtendedKeyUsageOID.CODE_SIGNING]
            ),
            True,
        ),
    ],
    ids=["no-eku", "not-critical", "extra-purpose"],
)
def test_tsa_certificate_needs_critical_time_stamping_eku(
    pki: Pki, now: datetime, eku: tuple[x509.ExtensionType, bool] | None
) -> None:
    bad = _signer(
        "Bad TSA", "ecdsa", pki.ca, pki.ca_key, serial=99, extensions=[eku] if eku else []
    )
    with pytest.raises(ValueError, match="timeStamping"):
        timestamp_response(
            _request(), responder=bad, serial=TST_SERIAL, now=now, policy_oid=TSA_POLICY
        )


def test_timestamp_programming_errors_raise(pki: Pki, now: datetime) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        _stamp_der(pki, _request(), now.replace(tzinfo=None))
    with pytest.raises(ValueError, match="serial"):
        timestamp_response(_request(), responder=pki.tsa, serial=0, now=now, policy_oid=TSA_POLICY)
