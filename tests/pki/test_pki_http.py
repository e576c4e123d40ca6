"""OCSP and TSA over HTTP, asked by the real OpenSSL client against a live PortSign."""

from __future__ import annotations

import subprocess
import urllib.request
from pathlib import Path

import pytest

from portsign.pki import issuance


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["openssl", *args], capture_output=True, text=True, check=False, timeout=60
    )


@pytest.fixture
def pems(hierarchy, tmp_path: Path) -> Path:
    (tmp_path / "root.pem").write_text(hierarchy["root"].certificate_pem)
    (tmp_path / "chain.pem").write_text(
        hierarchy["root"].certificate_pem + hierarchy["issuing"].certificate_pem
    )
    (tmp_path / "issuing.pem").write_text(hierarchy["issuing"].certificate_pem)
    (tmp_path / "tsa.pem").write_text(hierarchy["tsa"].certificate_pem)
    return tmp_path


def _ocsp(live_server, pems: Path, cert_pem: str) -> str:
    (pems / "ee.pem").write_text(cert_pem)
    result = _run(
        "ocsp",
        "-issuer",
        str(pems / "issuing.pem"),
        "-cert",
        str(pems / "ee.pem"),
        "-url",
        f"{live_server.url}/pki/ocsp",
        "-CAfile",
        str(pems / "chain.pem"),
    )
    assert result.returncode == 0, result.stderr
    return result.stdout + result.stderr


def test_openssl_ocsp_good_and_revoked(live_server, pems):
    subject = issuance.person_name(name="OCSP Test", id_number="1")
    good = issuance.issue_certificate(subject=subject)
    bad = issuance.issue_certificate(subject=subject)
    issuance.revoke(bad.id, reason="key_compromise")
    good_out = _ocsp(live_server, pems, good.certificate_pem)
    assert "Response verify OK" in good_out
    assert "ee.pem: good" in good_out
    bad_out = _ocsp(live_server, pems, bad.certificate_pem)
    assert "Response verify OK" in bad_out
    assert "ee.pem: revoked" in bad_out
    assert "Reason: keyCompromise" in bad_out


def test_openssl_ts_verify_accepts_our_token(live_server, pems):
    (pems / "data.txt").write_text("集装箱理货协议 v1")
    query = _run(
        "ts",
        "-query",
        "-data",
        str(pems / "data.txt"),
        "-sha256",
        "-cert",
        "-out",
        str(pems / "req.tsq"),
    )
    assert query.returncode == 0, query.stderr
    request = urllib.request.Request(
        f"{live_server.url}/pki/tsa",
        data=(pems / "req.tsq").read_bytes(),
        headers={"Content-Type": "application/timestamp-query"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        (pems / "resp.tsr").write_bytes(response.read())
    verify = _run(
        "ts",
        "-verify",
        "-in",
        str(pems / "resp.tsr"),
        "-queryfile",
        str(pems / "req.tsq"),
        "-CAfile",
        str(pems / "root.pem"),
        "-untrusted",
        str(pems / "tsa.pem"),
    )
    assert "Verification: OK" in verify.stdout, verify.stdout + verify.stderr
    text = _run("ts", "-reply", "-in", str(pems / "resp.tsr"), "-text").stdout
    assert "Policy OID: 1.3.6.1.4.1.61234.1.1" in text


def test_tsa_refuses_other_content_types(client, hierarchy):
    response = client.post("/pki/tsa", data=b"x", content_type="text/plain")
    assert response.status_code == 415
