"""The stand-alone verifier of an evidence package (verification/offline_verify.py, shipped in
the zip as verify.py), and `portsign verify` on a package and on a PDF, with no server and no
network.

The happy path runs the script from the unpacked package in a subprocess with a clean
environment: no DJANGO_SETTINGS_MODULE, a temporary cwd, and a sitecustomize that makes any
import of django or portsign, and any network connection, fail. Tampering runs in process
(`run_files`, the same code as the script's main) to keep the many runs cheap.

A completed contract takes ~20 s to make here, so its package is made once (by the first test
that needs it) and kept in `_MADE` with the lines it must verify to: they are worked out while
that test's database still holds PortSign's root (times from pades.verify, PortSign's own
verifier).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from asn1crypto import cms, pem
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.core.management import call_command

from portsign.common.aio import run_sync
from portsign.contracts.domain.evidence_package import canonical_json, chain_link
from portsign.pki import pades
from portsign.pki.signer import root_certificate
from portsign.verification import offline_verify
from tests.contracts.test_evidence_package import completed_package, unzip
from tests.contracts.test_workflow import deal  # noqa: F401 -- a fixture
from tests.verification.conftest import signed  # noqa: F401 -- a fixture

SEALS = ("manifest-timestamp.der", "manifest.sig")
VALID = "VERDICT: VALID (验证通过)"
INVALID = "VERDICT: INVALID (验证未通过)"


@dataclass(frozen=True)
class Made:
    contract_id: str
    content: bytes
    files: dict[str, bytes]
    lines: list[str]  # the verdict lines, without the header naming the input
    root_pem: bytes


_MADE: list[Made] = []


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _token_time(der: bytes) -> str:
    info = cms.ContentInfo.load(der)["content"]["encap_content_info"]["content"].parsed
    return _utc(info["gen_time"].native)


def _pdf_lines(name: str, pdf: bytes) -> list[str]:
    report = pades.verify(pdf)
    archived = report.timestamps[-1].timestamp
    lines = [f"      {name}: validated as at its archive time {_utc(archived)}"]
    for s in report.signatures:
        if s.kind == "timestamp":
            lines.append(
                f'OK    {name}: document timestamp "{s.field_name}" at {_utc(s.timestamp)}: valid'
            )
        else:
            lines.append(
                f'OK    {name}: signature "{s.field_name}" by {s.signer}, '
                f"time-stamped {_utc(s.timestamp)}: valid"
            )
    return lines


def _expected(files: dict[str, bytes]) -> list[str]:
    manifest = json.loads(files["manifest.json"])
    sealed_at = _token_time(files["manifest-timestamp.der"])
    chained = json.loads(files["audit/events.json"])
    lines = [
        f"contract: {manifest['contract']['id']} 集装箱理货协议",
        "root: Common Name: PortSign Root CA, Organization: PortSign, Country: CN",
        f"root SHA-256: {root_certificate().sha256.hex()}",
        "OK    manifest-timestamp.der: RFC 3161 token over manifest.json by PortSign "
        f"Timestamping Authority at {sealed_at}",
        "OK    manifest.sig: manifest.json and manifest-timestamp.der signed by 港签 PortSign "
        f"平台, certificate valid at {sealed_at}",
        *(f"OK    {name}: SHA-256 matches manifest.json" for name in sorted(manifest["files"])),
        f"OK    audit/events.json: hash chain of 8 entries intact, head {chained[-1]['hash']}",
        "OK    intents/intents.json: 2 intent verifications (sms 2), 2 used to sign",
        *_pdf_lines("contract.pdf", files["contract.pdf"]),
        *_pdf_lines("evidence-report.pdf", files["evidence-report.pdf"]),
    ]
    for spec in manifest["timestamps"]:
        lines.append(
            f"OK    {spec['file']}: RFC 3161 token of {_token_time(files[spec['file']])} over "
            f'the {spec["stamps"]} "{spec["field"]}" in {spec["pdf"]}'
        )
    return [*lines, VALID]


@pytest.fixture
def made(request) -> Made:
    if not _MADE:
        contract, content = completed_package(request)
        files = unzip(content)
        root_pem = pem.armor("CERTIFICATE", root_certificate().dump())
        _MADE.append(Made(contract.id, content, files, _expected(files), root_pem))
    return _MADE[0]


def _flipped(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def _unpack(files: dict[str, bytes], into: Path) -> Path:
    for name, data in files.items():
        (into / name).parent.mkdir(parents=True, exist_ok=True)
        (into / name).write_bytes(data)
    return into


GUARD = """
import socket
import sys


class _Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("django", "portsign"):
            raise ImportError(f"the stand-alone verifier imported {name}")
        return None


def _no_network(*args, **kwargs):
    raise OSError("no network in this test")


sys.meta_path.insert(0, _Refuse())
socket.socket.connect = _no_network
socket.socket.connect_ex = _no_network
socket.create_connection = _no_network
socket.getaddrinfo = _no_network
"""


def _clean_run(args: list[str], cwd: Path, guard: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd), "LANG": "C.UTF-8", "PYTHONPATH": str(guard)}
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_script_verifies_the_package_alone_and_offline(made, tmp_path):
    guard = tmp_path / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(GUARD)
    # The guard works: django is installed, and a connection would be tried.
    refused = _clean_run(["-c", "import django"], tmp_path, guard)
    assert "the stand-alone verifier imported django" in refused.stderr
    offline = _clean_run(
        ["-c", "import socket; socket.create_connection(('a', 1))"], tmp_path, guard
    )
    assert "no network in this test" in offline.stderr

    unpacked = _unpack(made.files, tmp_path / f"evidence-{made.contract_id}")
    assert sorted(p.name for p in unpacked.iterdir())[-1] == "verify.py"
    result = _clean_run(["verify.py", "."], unpacked, guard)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [
        f"PortSign evidence package verifier: evidence-{made.contract_id}",
        *made.lines,
    ]
    # The zip itself, from elsewhere, pinned to PortSign's root.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "package.zip").write_bytes(made.content)
    (elsewhere / "root.pem").write_bytes(made.root_pem)
    pinned = _clean_run(
        [str(unpacked / "verify.py"), "--root", "root.pem", "package.zip"], elsewhere, guard
    )
    assert (pinned.returncode, pinned.stderr) == (0, "")
    assert pinned.stdout.splitlines() == [
        "PortSign evidence package verifier: package.zip",
        *made.lines[:3],
        "OK    certificates/root.pem: the root certificate given with --root",
        *made.lines[3:],
    ]
    # Not a package at all.
    (elsewhere / "notes.zip").write_bytes(b"not a zip")
    unreadable = _clean_run([str(unpacked / "verify.py"), "notes.zip"], elsewhere, guard)
    assert unreadable.returncode == 2
    assert unreadable.stdout.splitlines()[-1] == "VERDICT: UNREADABLE (无法读取)"


def test_a_flipped_byte_in_any_file_is_caught_and_named(made):
    listed = json.loads(made.files["manifest.json"])["files"]
    assert set(made.files) == {*listed, "manifest.json", *SEALS}
    # Revocation data made in the same second for both PDFs is stored once: 2 to 4 CRLs.
    assert 24 <= len(made.files) <= 26  # 16 files, 3 OCSP answers, the seal, and those CRLs
    outcomes = {}
    for name in sorted(made.files):
        data = made.files[name]
        code, lines = offline_verify.run_files({**made.files, name: _flipped(data, len(data) // 2)})
        failures = [line for line in lines if line.startswith("FAIL")]
        assert lines[-1] == INVALID, (name, failures)
        outcomes[name] = (code, failures)
    for name, (code, failures) in outcomes.items():
        if name in ("manifest.json", *SEALS):
            continue
        assert code == 1
        assert f"FAIL  {name}: SHA-256 differs from manifest.json: the file was altered" in (
            failures
        ), (name, failures)
    # The manifest: the token no longer stamps it, so the signature fails too; the flipped
    # byte may also sit in a file's hash (where it falls depends on the serial numbers' length).
    code, failures = outcomes["manifest.json"]
    assert code == 1
    assert failures[:2] == [
        "FAIL  manifest.json: its SHA-256 is not the one time-stamped in manifest-timestamp.der",
        "FAIL  manifest.sig: the platform signature over manifest.json and "
        "manifest-timestamp.der does not verify (InvalidSignature: )",
    ]
    assert all(line.endswith(": the file was altered") for line in failures[2:]), failures
    code, failures = outcomes["manifest.sig"]
    assert (code, failures) == (
        1,
        [
            "FAIL  manifest.sig: the platform signature over manifest.json and "
            "manifest-timestamp.der does not verify (InvalidSignature: )"
        ],
    )
    code, failures = outcomes["manifest-timestamp.der"]
    assert code == 1
    assert failures[-1] == (
        "FAIL  manifest.sig: the platform signature over manifest.json and "
        "manifest-timestamp.der does not verify (InvalidSignature: )"
    )


def test_no_byte_of_the_seal_can_change_unnoticed(made):
    """Every byte of the token and the signature, and every 13th of the manifest, flipped in
    turn: the seal check (token, then signature) fails each time."""
    files = made.files
    manifest = json.loads(files["manifest.json"])
    material = offline_verify.load_material(files, manifest, offline_verify.Result())

    async def seal_fails(tampered: dict[str, bytes]) -> bool:
        result = offline_verify.Result()
        await offline_verify.check_seal(tampered, manifest, material, result)
        return result.failed

    async def every_flip() -> list[tuple[str, int]]:
        unnoticed = []
        for name, step in (
            ("manifest.sig", 1),
            ("manifest-timestamp.der", 1),
            ("manifest.json", 13),
        ):
            for at in range(0, len(files[name]), step):
                if not await seal_fails({**files, name: _flipped(files[name], at)}):
                    unnoticed.append((name, at))
        return unnoticed

    assert run_sync(lambda: seal_fails(files)) is False
    assert run_sync(every_flip) == []


def _rewritten_audit(files: dict[str, bytes], chained: list[dict], *, rechain: bool) -> dict:
    if rechain:
        link = "0" * 64
        for item in chained:
            link = item["hash"] = chain_link(link, item["entry"])
    return {**files, "audit/events.json": canonical_json(chained)}


def test_a_tampered_audit_entry_breaks_the_chain(made):
    chained = json.loads(made.files["audit/events.json"])
    seq = chained[4]["entry"]["seq"]
    assert chained[4]["entry"]["action"] == "contract.party_signed"
    chained[4]["entry"]["data"]["sha256"] = "0" * 64
    code, lines = offline_verify.run_files(_rewritten_audit(made.files, chained, rechain=False))
    assert code == 1
    assert [line for line in lines if line.startswith("FAIL")] == [
        "FAIL  audit/events.json: SHA-256 differs from manifest.json: the file was altered",
        f"FAIL  audit/events.json: entry 5 (record #{seq}) does not match its chain hash: the "
        "entry was altered, removed or reordered",
    ]
    # Rewritten with a fresh chain, it no longer ends at the head the platform signed.
    code, lines = offline_verify.run_files(_rewritten_audit(made.files, chained, rechain=True))
    assert code == 1
    failing = [line for line in lines if line.startswith("FAIL")]
    assert failing[0] == (
        "FAIL  audit/events.json: SHA-256 differs from manifest.json: the file was altered"
    )
    assert failing[1].startswith("FAIL  audit/events.json: the chain ends at ")
    assert failing[1].endswith(", not at the head signed in manifest.json")
    assert chained[-1]["hash"] != json.loads(made.files["manifest.json"])["audit"]["head"]
    assert failing[1] == (
        f"FAIL  audit/events.json: the chain ends at {chained[-1]['hash']}, not at the head "
        "signed in manifest.json"
    )
    # An entry removed.
    shorter = json.loads(made.files["audit/events.json"])
    del shorter[2]
    code, lines = offline_verify.run_files(_rewritten_audit(made.files, shorter, rechain=False))
    assert code == 1
    assert (
        f"FAIL  audit/events.json: entry 3 (record #{shorter[2]['entry']['seq']}) does not match "
        "its chain hash: the entry was altered, removed or reordered"
    ) in lines


def test_extra_missing_and_unreadable_files(made):
    extra = offline_verify.run_files({**made.files, "certificates/extra.pem": made.root_pem})
    assert extra[0] == 1
    assert "FAIL  certificates/extra.pem: not listed in manifest.json" in extra[1]
    missing = {k: v for k, v in made.files.items() if k != "contract.pdf"}
    code, lines = offline_verify.run_files(missing)
    assert code == 1
    assert "FAIL  contract.pdf: listed in manifest.json but missing" in lines
    assert offline_verify.run_files({"contract.pdf": b"%PDF-"}) == (
        2,
        [
            "FAIL  manifest.json: missing, this is not an evidence package",
            "VERDICT: UNREADABLE (无法读取)",
        ],
    )
    code, lines = offline_verify.run_files({**made.files, "manifest.json": b"{not json"})
    assert code == 2
    assert lines[0].startswith("FAIL  manifest.json: unreadable, not valid JSON")


def _foreign_root(path: Path) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Some Other Root")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return path


def test_portsign_verify_runs_the_package_verifier(made, tmp_path, capsys):
    package = tmp_path / "evidence.zip"
    package.write_bytes(made.content)
    call_command("verify", str(package))
    assert capsys.readouterr().out.splitlines() == [
        "PortSign evidence package verifier: evidence.zip",
        *made.lines,
    ]
    unpacked = _unpack(made.files, tmp_path / "unpacked")
    call_command("verify", str(unpacked))
    assert capsys.readouterr().out.splitlines()[-1] == VALID
    with pytest.raises(SystemExit) as pinned_elsewhere:
        call_command("verify", str(package), root=_foreign_root(tmp_path / "other.pem"))
    assert pinned_elsewhere.value.code == 1
    out = capsys.readouterr().out.splitlines()
    assert "FAIL  certificates/root.pem: not the root certificate given with --root" in out
    assert out[-1] == INVALID
    tampered = dict(made.files)
    tampered["contract.pdf"] = _flipped(tampered["contract.pdf"], 100)
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(broken, "w") as archive:
        for name, data in tampered.items():
            archive.writestr(name, data)
    with pytest.raises(SystemExit) as invalid:
        call_command("verify", str(broken))
    assert invalid.value.code == 1
    assert capsys.readouterr().out.splitlines()[-1] == INVALID


def test_portsign_verify_on_a_pdf_needs_no_network(signed, tmp_path, capsys, monkeypatch):  # noqa: F811
    import socket

    def no_network(*args, **kwargs):
        raise OSError("no network in this test")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    pdf = tmp_path / "signed.pdf"
    pdf.write_bytes(signed)
    call_command("verify", str(pdf))
    report = json.loads(capsys.readouterr().out)
    assert (report["intact"], report["valid"]) == (True, True)
    assert [(s["kind"], s["signer"], s["valid"]) for s in report["signatures"]] == [
        ("approval", "示例港务有限公司", True),
        ("timestamp", "PortSign Timestamping Authority", True),
    ]


def test_the_verifier_runs_where_an_event_loop_is_already_running(made):
    """Playwright's sync API keeps a loop running in the test worker's thread for the rest of
    the session (CI failed on it), as an async caller does: asyncio.run alone refuses that.
    The loop here runs in a thread of the test's own, so the test holds wherever it runs."""

    async def inside_a_loop() -> tuple[int, list[str]]:
        return offline_verify.run_files(made.files)

    with ThreadPoolExecutor(max_workers=1) as pool:
        code, lines = pool.submit(lambda: asyncio.run(inside_a_loop())).result()
    assert code == offline_verify.VALID
    assert lines == made.lines
