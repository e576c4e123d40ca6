"""`portsign login-certificate request` and `portsign login` against a live server.

The PKCS#12 path runs in this process. The PKCS#11 path runs in a subprocess with its own
SoftHSM2 token directory: a PKCS#11 library is initialised once per process, and each test
wants a fresh token.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import pkcs12

import portsign
from portsign import cli, clientcli
from portsign.pki.ca import init_hierarchy
from portsign.pki.models import LoginCertificate
from tests.helpers import Api, last_code, verify_person

SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def server(live_server):
    init_hierarchy()
    return live_server


@pytest.fixture
def verified_alice(alice):
    return verify_person(alice, 41)


def certificate_code(person) -> str:
    sent = person.api.post("/auth/codes", {"to": person.account, "purpose": "certificate"})
    assert sent.status_code == 202, sent.content
    return last_code(person.user.phone)


def secret_file(tmp_path: Path, name: str, value: str) -> Path:
    path = tmp_path / name
    path.write_text(value + "\n")
    return path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = clientcli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def request_p12(capsys, server, person, p12: Path, password_file: Path, *extra: str):
    return run(
        capsys,
        "login-certificate",
        "request",
        "--url",
        server.url,
        "--token",
        person.token,
        "--code",
        certificate_code(person),
        "--key-out",
        str(p12),
        "--password-file",
        str(password_file),
        *extra,
    )


# -- PKCS#12 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["rsa2048", "ecp256"])
def test_request_then_login_with_a_pkcs12_file(server, verified_alice, tmp_path, capsys, algorithm):
    p12, password = tmp_path / "me.p12", secret_file(tmp_path, "pw", PASSWORD)
    status, out, err = request_p12(
        capsys, server, verified_alice, p12, password, "--algorithm", algorithm
    )
    assert (status, err) == (0, "")
    issued = json.loads(out)
    assert issued["stored"] == str(p12)
    binding = LoginCertificate.objects.select_related("certificate").get(pk=issued["id"])
    assert (binding.user_id, binding.certificate.serial) == (
        verified_alice.user.id,
        issued["serial"],
    )
    assert stat.S_IMODE(p12.stat().st_mode) == 0o600
    key, cert, _chain = pkcs12.load_key_and_certificates(p12.read_bytes(), PASSWORD.encode())
    assert cert is not None
    assert key is not None
    assert format(cert.serial_number, "x") == issued["serial"]
    assert cert.public_key() == key.public_key()

    status, out, err = run(
        capsys, "login", "--url", server.url, "--pkcs12", str(p12), "--password-file", str(password)
    )
    assert (status, err) == (0, "")
    token = json.loads(out)
    assert token["user"]["id"] == verified_alice.user.id
    assert Api(token["token"]).get("/me").json()["id"] == verified_alice.user.id


def test_login_after_unbinding_is_refused(server, verified_alice, tmp_path, capsys):
    p12, password = tmp_path / "me.p12", secret_file(tmp_path, "pw", PASSWORD)
    status, out, _err = request_p12(capsys, server, verified_alice, p12, password)
    assert status == 0
    binding_id = json.loads(out)["id"]
    assert verified_alice.api.delete(f"/me/login-certificates/{binding_id}").status_code == 204

    status, out, err = run(
        capsys, "login", "--url", server.url, "--pkcs12", str(p12), "--password-file", str(password)
    )
    assert (status, out) == (1, "")
    assert "(certificate_revoked, HTTP 401)" in err


def test_wrong_pkcs12_password(server, verified_alice, tmp_path, capsys):
    p12, password = tmp_path / "me.p12", secret_file(tmp_path, "pw", PASSWORD)
    assert request_p12(capsys, server, verified_alice, p12, password)[0] == 0
    wrong = secret_file(tmp_path, "wrong", "not it")
    status, out, err = run(
        capsys, "login", "--url", server.url, "--pkcs12", str(p12), "--password-file", str(wrong)
    )
    assert (status, out) == (1, "")
    assert "wrong password or not a PKCS#12 file" in err


def test_an_existing_key_file_is_never_overwritten(server, verified_alice, tmp_path, capsys):
    p12, password = tmp_path / "me.p12", secret_file(tmp_path, "pw", PASSWORD)
    p12.write_bytes(b"precious")
    status, _out, err = request_p12(capsys, server, verified_alice, p12, password)
    assert status == 1
    assert "exists" in err
    assert p12.read_bytes() == b"precious"
    assert not LoginCertificate.objects.exists()


def test_server_refusal_is_reported(server, alice, tmp_path, capsys):
    """An unverified person: the server's reason reaches stderr, and no file is written."""
    p12, password = tmp_path / "me.p12", secret_file(tmp_path, "pw", PASSWORD)
    status, out, err = run(
        capsys,
        "login-certificate",
        "request",
        "--url",
        server.url,
        "--token",
        alice.token,
        "--code",
        "123456",
        "--key-out",
        str(p12),
        "--password-file",
        str(password),
    )
    assert (status, out) == (1, "")
    assert "(real_name_required, HTTP 409)" in err
    assert not p12.exists()


def test_key_file_needs_a_password(tmp_path, capsys):
    with pytest.raises(SystemExit) as exited:
        clientcli.main(
            [
                "login-certificate",
                "request",
                "--url",
                "http://x",
                "--token",
                "t",
                "--code",
                "1",
                "--key-out",
                str(tmp_path / "k.p12"),
            ]
        )
    assert exited.value.code == 2
    assert "--password-file" in capsys.readouterr().err


def test_pkcs11_needs_its_options(capsys):
    with pytest.raises(SystemExit) as exited:
        clientcli.main(["login", "--url", "http://x", "--pkcs11-module", SOFTHSM_MODULE])
    assert exited.value.code == 2
    assert "--token-label, --key-label, --pin-file" in capsys.readouterr().err


def test_portsign_command_dispatches_login_to_the_client(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["portsign", "login", "--url", "ftp://x", "--pkcs12", "f"])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == 1
    assert "--url must start with http:// or https://" in capsys.readouterr().err


# -- PKCS#11 (SoftHSM2) --------------------------------------------------------------------------

needs_softhsm = pytest.mark.skipif(
    not (shutil.which("softhsm2-util") and Path(SOFTHSM_MODULE).exists()),
    reason="SoftHSM2 is not installed",
)


@pytest.fixture
def softhsm(tmp_path) -> dict[str, str]:
    """A fresh SoftHSM2 token "ukey" (user PIN in a file) and the environment to reach it."""
    tokens = tmp_path / "tokens"
    tokens.mkdir()
    conf = tmp_path / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    env = {
        **os.environ,
        "SOFTHSM2_CONF": str(conf),
        # This worktree's code, whatever the virtualenv's editable install points at.
        "PYTHONPATH": str(Path(portsign.__file__).parents[1]),
        "LANG": "C.UTF-8",
    }
    subprocess.run(
        [
            "softhsm2-util",
            "--init-token",
            "--free",
            "--label",
            "ukey",
            "--pin",
            "123456",
            "--so-pin",
            "12345678",
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    return {**env, "PIN_FILE": str(secret_file(tmp_path, "pin", "123456"))}


def portsign_command(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from portsign.cli import main; main()", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def token_options(env: dict[str, str]) -> list[str]:
    return [
        "--pkcs11-module",
        SOFTHSM_MODULE,
        "--token-label",
        "ukey",
        "--key-label",
        "portsign",
        "--pin-file",
        env["PIN_FILE"],
    ]


_LIST_OBJECTS = """
import json, sys, pkcs11
from pkcs11 import Attribute, ObjectClass
token = pkcs11.lib(sys.argv[1]).get_token(token_label="ukey")
with token.open(user_pin="123456") as session:
    rows = []
    for obj in session.get_objects({Attribute.LABEL: "portsign"}):
        row = {"class": obj.object_class.name, "id": obj[Attribute.ID].hex()}
        if obj.object_class == ObjectClass.PRIVATE_KEY:
            row["sensitive"] = obj[Attribute.SENSITIVE]
            row["extractable"] = obj[Attribute.EXTRACTABLE]
        rows.append(row)
print(json.dumps(sorted(rows, key=lambda r: r["class"])))
"""


@needs_softhsm
@pytest.mark.parametrize("algorithm", ["ecp256", "rsa2048"])
def test_request_then_login_with_a_pkcs11_token(server, verified_alice, softhsm, algorithm):
    requested = portsign_command(
        softhsm,
        "login-certificate",
        "request",
        "--url",
        server.url,
        "--token",
        verified_alice.token,
        "--code",
        certificate_code(verified_alice),
        "--algorithm",
        algorithm,
        *token_options(softhsm),
    )
    assert requested.returncode == 0, requested.stderr
    issued = json.loads(requested.stdout)
    assert issued["stored"] == "pkcs11:token=ukey;object=portsign"
    binding = LoginCertificate.objects.select_related("certificate").get(pk=issued["id"])
    assert binding.user_id == verified_alice.user.id
    assert binding.certificate.key_id is None

    listed = subprocess.run(
        [sys.executable, "-c", _LIST_OBJECTS, SOFTHSM_MODULE],
        env=softhsm,
        capture_output=True,
        text=True,
        check=True,
    )
    objects = json.loads(listed.stdout)
    assert [o["class"] for o in objects] == ["CERTIFICATE", "PRIVATE_KEY", "PUBLIC_KEY"]
    assert len({o["id"] for o in objects}) == 1  # paired by CKA_ID
    assert (objects[1]["sensitive"], objects[1]["extractable"]) == (True, False)

    signed_in = portsign_command(softhsm, "login", "--url", server.url, *token_options(softhsm))
    assert signed_in.returncode == 0, signed_in.stderr
    token = json.loads(signed_in.stdout)
    assert token["user"]["id"] == verified_alice.user.id
    assert Api(token["token"]).get("/me").status_code == 200


@needs_softhsm
def test_pkcs11_refusal_leaves_the_token_clean(server, alice, softhsm):
    """The server refuses (unverified person): the generated key pair is removed again."""
    refused = portsign_command(
        softhsm,
        "login-certificate",
        "request",
        "--url",
        server.url,
        "--token",
        alice.token,
        "--code",
        "123456",
        *token_options(softhsm),
    )
    assert refused.returncode == 1
    assert "(real_name_required, HTTP 409)" in refused.stderr
    listed = subprocess.run(
        [sys.executable, "-c", _LIST_OBJECTS, SOFTHSM_MODULE],
        env=softhsm,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(listed.stdout) == []
