"""Creating drafts (D1): checked PDF uploads, Word conversion, types, business fields, limits."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess

import pytest
from django.utils import timezone

from portsign.common.models import AuditEvent
from portsign.contracts.models import BusinessField, Contract, ContractType, Document
from tests.contracts.conftest import create_draft, pdf_bytes, upload
from tests.contracts.test_hostile_pdfs import encrypted
from tests.helpers import error_code
from tests.seals.conftest import add_member


def test_personal_draft_from_a_pdf(verified_alice):
    body = create_draft(verified_alice, deadline="2099-12-31T18:00:00+08:00")
    assert (body["status"], body["title"], body["pages"], body["sender"]) == (
        "draft",
        "集装箱理货协议",
        2,
        "Alice Test",
    )
    assert body["sender_enterprise"] is None
    assert body["deadline"] == "2099-12-31T10:00:00Z"
    contract = Contract.objects.get(pk=body["id"])
    assert contract.body_id == contract.current_id
    assert AuditEvent.objects.filter(object_id=contract.id, action="contract.created").count() == 1


def test_same_pdf_is_stored_once(verified_alice):
    content = pdf_bytes()  # Pillow stamps the creation time: build the bytes once
    for _ in range(2):
        assert upload(verified_alice, "/contracts", content, title="x").status_code == 201
    assert Document.objects.count() == 1
    assert Contract.objects.count() == 2


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (b"hello, not a pdf", 400, "file_type"),
        (b"%PDF-1.7\n1 0 obj garbage", 400, "file_corrupt"),
        # Really encrypted (a dangling /Encrypt reference alone is not: PDFium reads the file
        # as plain, and so does everything after it).
        (encrypted(user_password=""), 400, "file_encrypted"),
    ],
)
def test_bad_files(verified_alice, content, status, code):
    response = upload(verified_alice, "/contracts", content, title="x")
    assert response.status_code == status, response.content
    assert error_code(response) == code
    assert Contract.objects.count() == 0


def test_limits(verified_alice, settings):
    settings.CONTRACT_MAX_PAGES = 2
    many = upload(verified_alice, "/contracts", pdf_bytes(3), title="x")
    assert many.status_code == 400
    assert error_code(many) == "too_many_pages"
    assert "3 pages; at most 2" in many.json()["error"]["message"]
    settings.CONTRACT_MAX_MB = 1
    big = upload(verified_alice, "/contracts", b"%PDF-1.7\n" + b"0" * (2**20 + 10), title="x")
    assert big.status_code == 413
    assert error_code(big) == "file_too_large"
    missing = verified_alice.api.client.post(
        "/api/v1/contracts",
        {"title": "x"},
        headers={"Authorization": f"Bearer {verified_alice.token}"},
    )
    assert missing.status_code == 400
    assert error_code(missing) == "file_required"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"title": ""}, "title_required"),
        ({"deadline": "2001-01-01T00:00:00+08:00"}, "deadline_past"),
        ({"deadline": "next friday"}, "deadline_format"),
        ({"ordering": "random"}, "ordering"),
        ({"type": "理货"}, "contract_type"),
    ],
)
def test_bad_fields(verified_alice, fields, code):
    response = upload(verified_alice, "/contracts", pdf_bytes(), **{"title": "x", **fields})
    assert response.status_code == 400, response.content
    assert error_code(response) == code


def test_unverified_person_cannot_send_personally(alice):
    response = upload(alice, "/contracts", pdf_bytes(), title="x")
    assert response.status_code == 409
    assert error_code(response) == "real_name_required"


def test_enterprise_draft_with_type_and_business_fields(alice, acme):
    ContractType.objects.create(enterprise=acme, name="理货合同")
    BusinessField.objects.create(enterprise=acme, key="vessel", label="船名", required=True)
    BusinessField.objects.create(enterprise=acme, key="teu", label="箱量", kind="number")
    BusinessField.objects.create(enterprise=acme, key="eta", label="预计到港", kind="date")
    good = create_draft(
        alice,
        acting_as=acme.id,
        type="理货合同",
        fields='{"vessel": "MSC TEST", "teu": "120", "eta": "2026-12-01"}',
    )
    assert (good["type"], good["sender_enterprise"]) == ("理货合同", acme.name)
    assert good["business_fields"] == {"vessel": "MSC TEST", "teu": "120", "eta": "2026-12-01"}
    for fields, key in (
        ('{"teu": "120"}', "fields.vessel"),
        ('{"vessel": "A", "teu": "many"}', "fields.teu"),
        ('{"vessel": "A", "eta": "tomorrow"}', "fields.eta"),
        ('{"vessel": "A", "colour": "red"}', "fields"),
        ("[1, 2]", "fields"),
    ):
        response = upload(
            alice, "/contracts", pdf_bytes(), title="x", acting_as=acme.id, fields=fields
        )
        assert response.status_code == 400, fields
        assert error_code(response) == "business_field"
        assert key in response.json()["error"]["fields"]


def test_enterprise_sender_needs_the_permission(alice, bob, acme, globex):
    add_member(acme, bob, "member")
    refused = upload(bob, "/contracts", pdf_bytes(), title="x", acting_as=acme.id)
    assert refused.status_code == 403
    assert error_code(refused) == "permission_denied"
    stranger = upload(alice, "/contracts", pdf_bytes(), title="x", acting_as=globex.id)
    assert stranger.status_code == 404


def test_word_file_is_converted(verified_alice, tmp_path):
    source = tmp_path / "contract.txt"
    source.write_text("港口作业合同\n甲方：测试港务\n乙方：测试物流\n", encoding="utf-8")
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{tmp_path}/p",
            "--headless",
            "--convert-to",
            "docx",
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    docx = (tmp_path / "contract.docx").read_bytes()
    assert docx.startswith(b"PK")
    response = upload(verified_alice, "/contracts", docx, "contract.docx", title="港口作业合同")
    assert response.status_code == 201, response.content
    stored = Document.objects.get()
    assert stored.pages == 1
    assert Contract.objects.get().body.sha256 == stored.sha256


def test_word_without_converter_is_a_clear_error(verified_alice, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    response = upload(
        verified_alice, "/contracts", b"PK\x03\x04" + b"\0" * 100, "c.docx", title="x"
    )
    assert response.status_code == 400
    assert error_code(response) == "conversion_unavailable"


def test_damaged_word_file_is_refused(verified_alice):
    response = upload(
        verified_alice, "/contracts", b"PK\x03\x04" + b"\0" * 100, "c.docx", title="x"
    )
    assert response.status_code == 400
    assert error_code(response) == "conversion_failed"


def test_attachments_only_on_drafts(verified_alice):
    body = create_draft(verified_alice)
    added = upload(
        verified_alice,
        f"/contracts/{body['id']}/attachments",
        pdf_bytes(3, label="Annex"),
        name="附件一",
    )
    assert added.status_code == 201, added.content
    assert Contract.objects.get().attachments.get().name == "附件一"
    Contract.objects.filter(pk=body["id"]).update(
        status="signing", deadline=timezone.now() + dt.timedelta(days=1)
    )
    late = upload(verified_alice, f"/contracts/{body['id']}/attachments", pdf_bytes(1))
    assert late.status_code == 409
    assert error_code(late) == "not_draft"


def test_contract_types_and_business_fields_are_managed_per_enterprise(alice, bob, acme, globex):
    from django.test import Client

    added = alice.api.post(f"/enterprises/{acme.id}/contract-types", {"name": "理货合同"})
    assert added.status_code == 201
    again = alice.api.post(f"/enterprises/{acme.id}/contract-types", {"name": "理货合同"})
    assert again.status_code == 409
    assert error_code(again) == "contract_type_exists"
    field = alice.api.post(
        f"/enterprises/{acme.id}/business-fields",
        {"key": "vessel", "label": "船名", "required": True},
    )
    assert field.status_code == 201
    assert field.json() == {
        "id": field.json()["id"],
        "key": "vessel",
        "label": "船名",
        "kind": "text",
        "required": True,
    }
    bad = alice.api.post(f"/enterprises/{acme.id}/business-fields", {"key": "9x", "label": "x"})
    assert bad.status_code == 400
    assert error_code(bad) == "business_field_key"
    assert [t["name"] for t in alice.api.get(f"/enterprises/{acme.id}/contract-types").json()] == [
        "理货合同"
    ]
    assert bob.api.get(f"/enterprises/{acme.id}/contract-types").status_code == 404
    assert bob.api.delete(f"/contract-types/{added.json()['id']}").status_code == 404
    made = create_draft(
        alice, acting_as=acme.id, type="理货合同", fields='{"vessel": "COSCO TEST"}'
    )
    assert (made["type"], made["business_fields"]) == ("理货合同", {"vessel": "COSCO TEST"})
    web = Client()
    web.force_login(alice.user, backend="portsign.accounts.backends.AccountBackend")
    web.post("/console/enterprise/acting/", {"acting_as": acme.id})
    page = web.get("/console/contracts/settings/").content.decode()
    assert "理货合同" in page
    assert "vessel" in page
    web.post("/console/contracts/settings/", {"what": "add_type", "name": "港口作业合同"})
    assert ContractType.objects.filter(enterprise=acme).count() == 2
    web.post("/console/contracts/settings/", {"what": "add_rule", "contract_type": "港口作业合同"})
    assert "合同类型: 港口作业合同" in web.get("/console/contracts/settings/").content.decode()
    assert alice.api.delete(f"/business-fields/{field.json()['id']}").status_code == 204
    assert BusinessField.objects.filter(enterprise=acme).count() == 0
