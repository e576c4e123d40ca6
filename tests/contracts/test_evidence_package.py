"""The offline evidence package (证据包, issue 13 "Beyond the anchors"): what the zip holds, how
it is downloaded (API and console, audited), and who may not have it.

The stand-alone verifier's own tests are in tests/verification/test_offline_verify.py; they
reuse `completed_package` from here.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import zipfile
from pathlib import Path

import pytest
from asn1crypto import cms, pem
from django.test import Client

from portsign.common.models import AuditEvent
from portsign.contracts.domain import documents
from portsign.contracts.domain.evidence_package import (
    GENESIS,
    canonical_json,
    chain_link,
    mask_account,
    mask_mobile,
)
from portsign.contracts.models import Contract, SigningIntent
from portsign.pki import pades
from portsign.pki.ca import Role, authority, certificate_of
from portsign.pki.platform import PLATFORM_NAME, platform_certificate_id, platform_subject
from portsign.pki.signer import root_certificate, signer_for, to_asn1
from portsign.verification import offline_verify
from tests.contracts.test_workflow import _complete, deal  # noqa: F401 -- a fixture
from tests.helpers import Api, assert_isolated, error_code, make_enterprise, make_person

SEALS = {"manifest.json", "manifest-timestamp.der", "manifest.sig"}


def completed_package(request: pytest.FixtureRequest) -> tuple[Contract, bytes]:
    """A two-party contract signed by both (B-LTA), and its package downloaded by its sender
    (alice, for Acme) through the API."""
    contract_id, _seals = _complete(
        *(request.getfixturevalue(name) for name in ("deal", "alice", "bob", "acme", "globex"))
    )
    alice = request.getfixturevalue("alice")
    response = alice.api.get(f"/contracts/{contract_id}/evidence-package")
    assert response.status_code == 200, response.content
    return Contract.objects.get(pk=contract_id), response.content


def unzip(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def token_of(der: bytes) -> cms.SignedData:
    return cms.ContentInfo.load(der)["content"]


def imprint(der: bytes) -> bytes:
    info = token_of(der)["encap_content_info"]["content"].parsed
    return info["message_imprint"]["hashed_message"].native


def test_the_package_holds_the_evidence_and_its_manifest(request, alice, tmp_path):
    contract, content = completed_package(request)
    files = unzip(content)
    manifest = json.loads(files["manifest.json"])
    assert files["manifest.json"] == canonical_json(manifest)
    pdf = documents.read_document(contract.current)
    assert files["contract.pdf"] == pdf
    assert manifest["contract"] == {
        "id": contract.id,
        "title": "集装箱理货协议",
        "status": "completed",
        "completed_at": contract.completed_at.isoformat(timespec="microseconds").replace(
            "+00:00", "Z"
        ),
        "sha256": contract.current.sha256,
    }
    # Every file but the manifest and its seal is listed with its SHA-256.
    assert set(manifest["files"]) == set(files) - SEALS
    for name, digest in manifest["files"].items():
        assert hashlib.sha256(files[name]).hexdigest() == digest, name
    assert files["verify.py"] == Path(offline_verify.__file__).read_bytes()

    # The evidence report is PortSign's signed and archived one.
    report = pades.verify(files["evidence-report.pdf"])
    assert [(s.kind, s.signer, s.valid) for s in report.signatures] == [
        ("approval", PLATFORM_NAME, True),
        ("timestamp", "PortSign Timestamping Authority", True),
    ]

    # Every RFC 3161 token of both PDFs, with what it stamps.
    checked = pades.verify(pdf)
    fields = [s.field_name for s in checked.signatures]
    assert [s.kind for s in checked.signatures] == ["approval", "approval", "timestamp"]
    assert manifest["timestamps"] == [
        {
            "file": f"timestamps/contract-01-{fields[0]}-signature.der",
            "pdf": "contract.pdf",
            "field": fields[0],
            "stamps": "signature",
        },
        {
            "file": f"timestamps/contract-02-{fields[1]}-signature.der",
            "pdf": "contract.pdf",
            "field": fields[1],
            "stamps": "signature",
        },
        {
            "file": "timestamps/contract-03-document.der",
            "pdf": "contract.pdf",
            "field": fields[2],
            "stamps": "document",
        },
        {
            "file": "timestamps/report-01-PortSign-Evidence-signature.der",
            "pdf": "evidence-report.pdf",
            "field": "PortSign-Evidence",
            "stamps": "signature",
        },
        {
            "file": "timestamps/report-02-document.der",
            "pdf": "evidence-report.pdf",
            "field": report.signatures[1].field_name,
            "stamps": "document",
        },
    ]

    # The root alone, and a full chain (leaf, issuing CA, root) per end-entity certificate.
    root = root_certificate()
    assert files["certificates/root.pem"] == pem.armor("CERTIFICATE", root.dump())
    platform = signer_for(platform_certificate_id()).signing_cert
    chain = files[manifest["signature"]["certificate"]]
    assert [der for _type, _headers, der in pem.unarmor(chain, multiple=True)] == [
        platform.dump(),
        to_asn1(certificate_of(authority(Role.ISSUING))).dump(),
        root.dump(),
    ]
    assert manifest["signature"]["certificate"] == f"certificates/{platform.serial_number:x}.pem"
    chains = {n for n in files if n.startswith("certificates/")} - {"certificates/root.pem"}
    subjects = {
        offline_verify.certificates_in(files[n])[0].subject.native["common_name"] for n in chains
    }
    assert subjects == {
        "Acme Port Logistics Co., Ltd.",
        "Globex Tally Co., Ltd.",
        PLATFORM_NAME,
        "PortSign OCSP Responder",
        "PortSign Timestamping Authority",
    }
    assert len(manifest["revocation"]["crls"]) >= 2  # the root's and the issuing CA's
    assert len(manifest["revocation"]["ocsps"]) >= 3  # each party's and the platform's
    assert set(manifest["revocation"]["crls"] + manifest["revocation"]["ocsps"]) == {
        n for n in files if n.startswith("revocation/")
    }

    # The seal: a token over the manifest, and the platform's signature over both, which
    # openssl checks with nothing but the platform's public key.
    assert (
        imprint(files["manifest-timestamp.der"]) == hashlib.sha256(files["manifest.json"]).digest()
    )
    assert manifest["signature"]["algorithm"] == "sha256_rsa"
    (tmp_path / "platform.pem").write_bytes(pem.armor("CERTIFICATE", platform.dump()))
    (tmp_path / "sealed").write_bytes(files["manifest.json"] + files["manifest-timestamp.der"])
    (tmp_path / "manifest.sig").write_bytes(files["manifest.sig"])
    key = subprocess.run(
        ["openssl", "x509", "-in", "platform.pem", "-pubkey", "-noout"],
        cwd=tmp_path,
        capture_output=True,
        check=True,
    ).stdout
    (tmp_path / "platform.pub").write_bytes(key)
    openssl = ["openssl", "dgst", "-sha256", "-verify", "platform.pub", "-signature"]
    checked_sig = subprocess.run(
        [*openssl, "manifest.sig", "sealed"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert checked_sig.stdout.strip() == "Verified OK"

    # The download is audited with the manifest's hash, after the evidence report it issued.
    actions = list(
        AuditEvent.objects.filter(object_type="contract", object_id=contract.id)
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions[-2:] == ["contract.evidence_report", "contract.evidence_package"]
    last = AuditEvent.objects.filter(object_id=contract.id).order_by("-seq").first()
    assert (last.actor_id, last.data) == (
        alice.user.id,
        {
            "manifest_sha256": hashlib.sha256(files["manifest.json"]).hexdigest(),
            "final_sha256": contract.current.sha256,
        },
    )


def test_audit_events_are_canonical_and_chained(request):
    contract, content = completed_package(request)
    files = unzip(content)
    manifest = json.loads(files["manifest.json"])
    chained = json.loads(files["audit/events.json"])
    assert files["audit/events.json"] == canonical_json(chained)
    events = list(
        AuditEvent.objects.filter(object_type="contract", object_id=contract.id).order_by("seq")
    )[:-1]  # the package's own download comes after it was made
    assert [item["entry"]["seq"] for item in chained] == [e.seq for e in events]
    assert [item["entry"]["action"] for item in chained] == [
        "contract.created",
        "contract.party_added",
        "contract.party_added",
        "contract.signing",
        "contract.party_signed",
        "contract.party_signed",
        "contract.completed",
        "contract.evidence_report",
    ]
    first = chained[0]["entry"]
    assert first == {
        "seq": events[0].seq,
        "at": events[0].at.isoformat(timespec="microseconds").replace("+00:00", "Z"),
        "actor_id": events[0].actor_id,
        "acting_as": events[0].acting_as,
        "action": "contract.created",
        "object_type": "contract",
        "object_id": contract.id,
        "ip": events[0].ip,
        "user_agent": events[0].user_agent,
        "data": events[0].data,
        "log_prev_hash": events[0].prev_hash,
        "log_hash": events[0].hash,
    }
    link = GENESIS
    for item in chained:
        expected = hashlib.sha256(link.encode() + canonical_json(item["entry"])).hexdigest()
        assert item["hash"] == expected == chain_link(link, item["entry"])
        link = expected
    assert manifest["audit"] == {
        "file": "audit/events.json",
        "genesis": GENESIS,
        "head": link,
        "entries": 8,
    }


def test_intent_verifications_are_recorded_masked(request, alice, bob, acme, globex):
    contract, content = completed_package(request)
    records = json.loads(unzip(content)["intents/intents.json"])
    intents = list(SigningIntent.objects.filter(contract=contract).order_by("created_at"))
    assert [
        (r["intent_id"], r["signer_name"], r["account"], r["method"], r["enterprise_id"])
        for r in records
    ] == [
        (intents[0].id, "Bob Test", "138****0002", "sms", globex.id),
        (intents[1].id, "Alice Test", "138****0001", "sms", acme.id),
    ]
    assert [r["digest"] for r in records] == [i.digest for i in intents]
    assert [r["marks"] for r in records] == [i.marks for i in intents]
    assert all(r["used_at"] for r in records)
    text = (
        unzip(content)["intents/intents.json"].decode()
        + unzip(content)["audit/events.json"].decode()
    )
    for number in ("13800000001", "13800000002"):
        assert number not in text


def test_masking():
    assert mask_account("+8613800000001") == "138****0001"
    assert mask_account("alice@example.cn") == "a***@example.cn"
    assert mask_mobile("party +8613912345678, 13712345678; id 01J13800000001X") == (
        "party 139****5678, 137****5678; id 01J13800000001X"
    )


def test_the_platform_subject_is_the_one_the_verifier_expects():
    subject = {a.oid._name: a.value for a in platform_subject()}
    assert (subject["commonName"], subject["organizationName"]) == (
        offline_verify.PLATFORM_COMMON_NAME,
        offline_verify.PLATFORM_ORGANIZATION,
    )


def test_only_a_completed_contract_visible_to_the_caller(deal, alice, charlie):  # noqa: F811
    contract_id, _seals = deal
    path = f"/contracts/{contract_id}/evidence-package"
    early = Api(alice.token, language="en").get(path)
    assert early.status_code == 409
    assert error_code(early) == "not_completed"
    assert early.json()["error"]["message"] == (
        "An evidence package is made once the contract is completed."
    )
    # Another enterprise's member, and someone with no enterprise: 404 as for a missing one.
    make_enterprise(charlie, "Initech Shipping Co., Ltd.", 3)
    assert_isolated(alice, charlie, "GET", path, owner_status=409)
    outsider = make_person("outsider@example.cn", "Outsider Test")
    assert outsider.api.get(path).status_code == 404
    assert alice.api.get("/contracts/01NOSUCHCONTRACT000000000/evidence-package").status_code == 404
    assert not AuditEvent.objects.filter(action="contract.evidence_package").exists()


def test_console_download(request, alice, bob, acme, globex):
    contract, _content = completed_package(request)
    client = Client()
    client.force_login(alice.user, backend="portsign.accounts.backends.AccountBackend")
    url = f"/console/contracts/{contract.id}/evidence-package/"
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="evidence-{contract.id}.zip"'
    code, lines = offline_verify.run_files(unzip(response.content))
    assert (code, lines[-1]) == (0, "VERDICT: VALID (验证通过)")
    stranger = make_person("stranger@example.cn", "Stranger Test")
    other = Client()
    other.force_login(stranger.user, backend="portsign.accounts.backends.AccountBackend")
    assert other.get(url).status_code == 404
    assert Client().get(url).status_code == 302  # to sign-in


def test_console_refuses_before_completion(deal, alice):  # noqa: F811
    contract_id, _seals = deal
    client = Client()
    client.force_login(alice.user, backend="portsign.accounts.backends.AccountBackend")
    response = client.get(f"/console/contracts/{contract_id}/evidence-package/")
    assert response.status_code == 302
    assert response["Location"] == f"/console/contracts/{contract_id}/"


def test_openapi_documents_the_download(api):
    schema = api.client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/contracts/{contract_id}/evidence-package"]["get"]
    assert operation["summary"] == "The offline evidence package (证据包) of a completed contract"
    assert "application/zip" in operation["responses"]["200"]["content"]
    assert "409" in operation["responses"]
