"""Documents of a filing: JPEG, PNG and PDF only, checked like every upload, nothing half-saved."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from portsign.eport.models import FilingDocument
from tests.contracts.conftest import pdf_bytes, upload
from tests.eport.conftest import FORMS, new_filing, ok
from tests.helpers import error_code


def image_bytes(fmt: str, size: tuple[int, int] = (40, 30), mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, "white").save(out, format=fmt)
    return out.getvalue()


@pytest.fixture
def draft(alice, haikou, offices) -> dict:
    return new_filing(alice, haikou, "customs", FORMS["customs"])


def path(filing: dict) -> str:
    return f"/eport/filings/{filing['id']}/documents"


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("licence.jpg", image_bytes("JPEG"), "jpeg"),
        ("licence.png", image_bytes("PNG"), "png"),
        ("licence.pdf", pdf_bytes(1, label="Licence"), "pdf"),
    ],
)
def test_jpeg_png_and_pdf_are_accepted(alice, draft, name, content, kind):
    response = upload(alice, path(draft), content, name, type="business_licence")
    document = ok(response, 201)
    assert (document["type"], document["name"], document["kind"], document["size"]) == (
        "business_licence",
        name,
        kind,
        len(content),
    )
    assert document["type_label"] == "Business licence (营业执照)"
    fetched = alice.api.get(f"{path(draft)}/{document['id']}")
    assert fetched.status_code == 200
    assert fetched.content == content
    assert fetched["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (b"PK\x03\x04 not a picture", 400, "file_type"),
        (b"%PDF-1.7\nthis is no PDF at all\n%%EOF", 400, None),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, 400, "file_corrupt"),
        (b"%PDF-" + b"0" * (10 * 2**20), 413, "file_too_large"),
    ],
)
def test_bad_files_are_refused_and_nothing_is_saved(alice, draft, content, status, code):
    response = upload(alice, path(draft), content, "bad.pdf", type="other")
    assert response.status_code == status, response.content
    if code:
        assert error_code(response) == code
    assert list(response.json()["error"]["fields"]) == ["file"]
    assert not FilingDocument.objects.exists()


def test_an_image_bomb_is_refused(alice, draft):
    bomb = image_bytes("PNG", size=(10_000, 10_000), mode="1")
    assert len(bomb) < 2**20
    response = upload(alice, path(draft), bomb, "bomb.png", type="other")
    assert response.status_code == 400
    assert error_code(response) == "file_too_many_pixels"
    assert not FilingDocument.objects.exists()


def test_a_document_needs_a_type_and_a_file(alice, draft):
    response = upload(alice, path(draft), image_bytes("PNG"), "a.png", type="passport_photo")
    assert response.status_code == 400
    assert error_code(response) == "document_type"
    assert list(response.json()["error"]["fields"]) == ["type"]
    response = alice.api.client.post(
        "/api/v1" + path(draft),
        {"type": "other"},
        headers={"Authorization": f"Bearer {alice.token}"},
    )
    assert response.status_code == 400
    assert error_code(response) == "file_required"
    assert not FilingDocument.objects.exists()


def test_no_documents_on_a_declared_filing(alice, draft):
    document = ok(upload(alice, path(draft), image_bytes("PNG"), "a.png", type="other"), 201)
    ok(alice.api.post(f"/eport/filings/{draft['id']}/declare"))
    response = upload(alice, path(draft), image_bytes("JPEG"), "b.jpg", type="other")
    assert response.status_code == 409
    assert error_code(response) == "filing_state"
    gone = alice.api.delete(f"{path(draft)}/{document['id']}")
    assert gone.status_code == 409
    assert FilingDocument.objects.count() == 1


def test_documents_are_removed_from_a_draft(alice, draft):
    document = ok(upload(alice, path(draft), image_bytes("PNG"), "a.png", type="other"), 201)
    assert alice.api.delete(f"{path(draft)}/{document['id']}").status_code == 204
    assert alice.api.get(f"{path(draft)}/{document['id']}").status_code == 404
    assert ok(alice.api.get(f"/eport/filings/{draft['id']}"))["documents"] == []


def test_another_enterprises_documents_are_not_found(alice, bob, sanya, draft):
    document = ok(upload(alice, path(draft), image_bytes("PNG"), "a.png", type="other"), 201)
    theirs = new_filing(bob, sanya, "customs", FORMS["customs"])
    for response in (
        bob.api.get(f"{path(draft)}/{document['id']}"),
        bob.api.delete(f"{path(draft)}/{document['id']}"),
        bob.api.get(f"{path(theirs)}/{document['id']}"),  # under bob's own filing
        bob.api.delete(f"{path(theirs)}/{document['id']}"),
        upload(bob, path(draft), image_bytes("PNG"), "x.png", type="other"),
    ):
        assert response.status_code == 404
        assert error_code(response) == "not_found"
    assert FilingDocument.objects.count() == 1


def test_the_file_is_stored_outside_the_transaction(alice, draft, monkeypatch):
    from django.core.files.storage import default_storage
    from django.db import connection

    from portsign.common import uploads

    depths = []

    class Recording:  # the real storage, noting how many atomic blocks were open at each write
        def exists(self, name):
            return default_storage.exists(name)

        def save(self, name, content):
            depths.append(len(connection.atomic_blocks))
            return default_storage.save(name, content)

    monkeypatch.setattr(uploads, "default_storage", Recording())
    content = image_bytes("PNG", (41, 30))
    ok(upload(alice, path(draft), content, "licence.png", type="business_licence"), 201)
    assert depths == [len(connection.atomic_blocks)]
    assert FilingDocument.objects.get().kind == "png"
