"""Verification by authorization letter: materials, letter, back-office review, resubmission."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from portsign.common.models import AuditEvent
from tests.helpers import make_enterprise, synthetic_id_number


def _png(size=(400, 300)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "white").save(buffer, format="PNG")
    return buffer.getvalue()


def _pdf() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (200, 280), "white").save(buffer, format="PDF")
    return buffer.getvalue()


PDF = _pdf()


@pytest.fixture
def draft(alice):
    return make_enterprise(alice, "Draft Shipping Co., Ltd.", 7, verified=False)


@pytest.fixture
def reviewer(charlie):
    charlie.user.is_staff = True
    charlie.user.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(charlie.user, backend="portsign.accounts.backends.AccountBackend")
    return client


def _upload_materials(alice, draft, content=None, name="licence.png"):
    client = alice.api.client
    return client.post(
        f"/api/v1/enterprises/{draft.id}/materials",
        {
            "licence": SimpleUploadedFile(name, content or _png()),
            "id_front": SimpleUploadedFile("front.png", _png()),
            "id_back": SimpleUploadedFile("back.png", _png((300, 200))),
            "legal_rep_id_number": synthetic_id_number(70),
        },
        headers={"Authorization": f"Bearer {alice.token}"},
    )


def _submit_letter(alice, draft, content=PDF):
    return alice.api.client.post(
        f"/api/v1/enterprises/{draft.id}/verification/letter",
        {"letter": SimpleUploadedFile("letter.pdf", content)},
        headers={"Authorization": f"Bearer {alice.token}"},
    )


def test_letter_pdf_is_generated(alice, draft):
    response = alice.api.get(f"/enterprises/{draft.id}/authorization-letter.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")


def test_letter_needs_the_licence_first(alice, draft):
    response = _submit_letter(alice, draft)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "materials_required"
    assert set(response.json()["error"]["fields"]) == {"licence", "id_front", "id_back"}


@pytest.mark.parametrize(
    ("content", "code", "status"),
    [
        (b"GIF89a not allowed", "file_type", 400),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "file_corrupt", 400),
        (b"%PDF-1.4 no end marker", "file_corrupt", 400),
        (b"%PDF-1.4\n%%EOF", "file_corrupt", 400),
        # Not a PDF at all, whatever bytes it holds: PDFium, not a byte search, decides.
        (b"%PDF-1.4 /Encrypt <<>> %%EOF", "file_corrupt", 400),
        (b"%PDF-" + b"0" * (10 * 2**20), "file_too_large", 413),
    ],
)
def test_bad_licences_are_refused(alice, draft, content, code, status):
    response = _upload_materials(alice, draft, content)
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    draft.refresh_from_db()
    assert draft.licence_path == ""


def test_image_bomb_is_refused(alice, draft):
    bomb = io.BytesIO()
    Image.new("1", (9000, 9000)).save(bomb, format="PNG")  # tiny file, 81 megapixels
    response = _upload_materials(alice, draft, bomb.getvalue())
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "file_too_many_pixels"


def test_review_approve_verifies_the_enterprise(alice, draft, reviewer):
    assert _upload_materials(alice, draft).status_code == 200
    submitted = _submit_letter(alice, draft)
    assert submitted.status_code == 201
    review_id = submitted.json()["id"]
    assert alice.api.get(f"/enterprises/{draft.id}").json()["status"] == "verifying"
    assert "Draft Shipping" in reviewer.get("/console/backoffice/").content.decode()
    assert reviewer.get(f"/console/backoffice/{review_id}/").status_code == 200
    assert reviewer.get(f"/console/backoffice/{review_id}/files/1/").status_code == 200

    no_opinion = reviewer.post(
        f"/console/backoffice/{review_id}/decide/", {"decision": "approve", "opinion": ""}
    )
    assert no_opinion.status_code == 302
    assert alice.api.get(f"/enterprises/{draft.id}/verification/letter").json()["status"] == (
        "pending"
    )

    reviewer.post(
        f"/console/backoffice/{review_id}/decide/",
        {"decision": "approve", "opinion": "材料齐全，盖章清晰"},
    )
    enterprise = alice.api.get(f"/enterprises/{draft.id}").json()
    assert enterprise["status"] == "verified"
    assert enterprise["verification_method"] == "authorization_letter"
    actions = list(AuditEvent.objects.filter(object_id=review_id).values_list("action", flat=True))
    assert actions == [
        "review.submitted",
        "review.opened",
        "review.opened",
        "review.file_viewed",
        "review.approved",
    ]


def test_returned_letter_shows_the_reason_and_can_be_resubmitted(alice, draft, reviewer):
    _upload_materials(alice, draft)
    review_id = _submit_letter(alice, draft).json()["id"]
    assert _submit_letter(alice, draft).json()["error"]["code"] == "review_pending"
    reviewer.post(
        f"/console/backoffice/{review_id}/decide/",
        {"decision": "return", "opinion": "公章不清晰，请重新上传"},
    )
    status = alice.api.get(f"/enterprises/{draft.id}/verification/letter").json()
    assert (status["status"], status["opinion"]) == ("returned", "公章不清晰，请重新上传")
    assert alice.api.get(f"/enterprises/{draft.id}").json()["status"] == "verifying"
    again = _submit_letter(alice, draft, PDF + b" ")
    assert again.status_code == 201
    assert again.json()["status"] == "pending"


def test_non_staff_cannot_see_the_queue_or_files(alice, bob, draft):
    _upload_materials(alice, draft)
    review_id = _submit_letter(alice, draft).json()["id"]
    client = Client()
    client.force_login(bob.user, backend="portsign.accounts.backends.AccountBackend")
    assert client.get("/console/backoffice/").status_code == 404
    assert client.get(f"/console/backoffice/{review_id}/files/0/").status_code == 404
    assert bob.api.get(f"/enterprises/{draft.id}/verification/letter").status_code == 404


def test_reviewer_cannot_decide_on_their_own_enterprise(alice, draft, bob):
    _upload_materials(alice, draft)
    review_id = _submit_letter(alice, draft).json()["id"]
    alice.user.is_staff = True
    alice.user.save(update_fields=["is_staff"])
    own = Client()
    own.force_login(alice.user, backend="portsign.accounts.backends.AccountBackend")
    own.post(
        f"/console/backoffice/{review_id}/decide/",
        {"decision": "approve", "opinion": "自己批准自己"},
    )
    assert alice.api.get(f"/enterprises/{draft.id}").json()["status"] == "verifying"
    assert not AuditEvent.objects.filter(action="review.approved").exists()


def test_malformed_multipart_is_400(alice, draft):
    response = alice.api.client.generic(
        "POST",
        f"/api/v1/enterprises/{draft.id}/materials",
        data=b"garbage",
        content_type="multipart/form-data",
        headers={"Authorization": f"Bearer {alice.token}"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_body"


def test_declared_oversized_request_is_refused_unread(alice, draft):
    response = alice.api.client.generic(
        "POST",
        f"/api/v1/enterprises/{draft.id}/materials",
        data=b"x",
        content_type="multipart/form-data; boundary=zz",
        headers={"Authorization": f"Bearer {alice.token}", "Content-Length": str(50 * 2**20)},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
