"""Materials of a certificate application (seed 003 资料上传): uploads named by id, the
enterprise's business licence reused, and the back-office reviewer sees them all."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from portsign.backoffice import domain as backoffice
from portsign.common.models import AuditEvent
from portsign.pki.models import CertificateMaterial
from tests.helpers import error_code, verify_person
from tests.pki.certificate_helpers import apply, forget_licence, give_licence, pdf, png, upload


@pytest.fixture(autouse=True)
def _quick_codes(settings):
    settings.CODE_RESEND_SECONDS = 0


def test_an_upload_is_checked_stored_and_described(hierarchy, alice):
    content = pdf()
    response = upload(alice, content, "scan.pdf")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body == {
        "id": body["id"],
        "label": "material",
        "kind": "pdf",
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
    }
    row = CertificateMaterial.objects.get(pk=body["id"])
    assert (row.uploaded_by_id, row.application_id) == (alice.user.id, None)
    assert AuditEvent.objects.filter(
        action="certificate.material_uploaded", object_id=body["id"]
    ).exists()


def test_a_file_that_is_no_image_or_pdf_is_refused(hierarchy, alice):
    response = upload(alice, b"hello, not a scan", "notes.txt")
    assert (response.status_code, error_code(response)) == (400, "file_type")


def test_a_file_over_10_mb_is_refused(hierarchy, alice, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = None
    big = png() + b"\0" * (10 * 2**20)
    response = upload(alice, big)
    assert (response.status_code, error_code(response)) == (413, "file_too_large")


def test_materials_and_the_licence_go_with_the_application(hierarchy, acme, alice):
    licence = give_licence(acme)
    first, second = upload(alice, png()).json(), upload(alice, pdf(), "b.pdf").json()
    body = apply(alice, acme, material_ids=[second["id"], first["id"]]).json()
    assert [(m["label"], m["kind"], m["sha256"]) for m in body["materials"]] == [
        ("business_licence", "png", licence.sha256),
        ("material", "pdf", second["sha256"]),
        ("material", "png", first["sha256"]),
    ]
    assert body["materials"][0]["size"] == licence.size
    assert alice.api.get(f"/certificates/{body['id']}").json()["materials"] == body["materials"]
    event = AuditEvent.objects.get(action="certificate.applied", object_id=body["id"])
    assert event.data["materials"] == [licence.sha256, second["sha256"], first["sha256"]]


def test_without_a_licence_only_the_uploads_are_attached(hierarchy, acme, alice):
    forget_licence(acme)
    first = upload(alice, png()).json()
    body = apply(alice, acme, material_ids=[first["id"]]).json()
    assert [m["label"] for m in body["materials"]] == ["material"]


def test_a_personal_application_attaches_no_licence(hierarchy, acme, alice):
    give_licence(acme)
    verify_person(alice, 21)
    assert apply(alice).json()["materials"] == []


def test_someone_elses_or_an_attached_material_is_refused(hierarchy, acme, alice, bob):
    theirs = upload(bob, png()).json()
    response = apply(alice, acme, material_ids=[theirs["id"]])
    assert response.status_code == 400
    assert error_code(response) == "material_invalid"
    mine = upload(alice, png()).json()
    assert apply(alice, acme, material_ids=[mine["id"]]).status_code == 201
    again = apply(alice, acme, material_ids=[mine["id"]])
    assert error_code(again) == "material_invalid"


def test_at_most_ten_files_go_with_one_application(hierarchy, acme, alice):
    ids = [upload(alice, png(colour=(i, 0, 0))).json()["id"] for i in range(11)]
    response = apply(alice, acme, material_ids=ids)
    assert response.status_code == 400
    assert error_code(response) == "materials_too_many"


def test_parked_uploads_are_bounded(hierarchy, alice):
    for i in range(20):
        assert upload(alice, png(colour=(i, 1, 1))).status_code == 201
    response = upload(alice, png(colour=(99, 1, 1)))
    assert (response.status_code, error_code(response)) == (409, "materials_too_many")


def test_the_back_office_reviewer_sees_the_materials(hierarchy, acme, alice, charlie, settings):
    settings.CERTIFICATE_APPROVAL = "back_office"
    licence = give_licence(acme)
    extra = upload(alice, pdf(), "extra.pdf").json()
    body = apply(alice, acme, material_ids=[extra["id"]]).json()
    assert body["status"] == "pending"
    charlie.user.is_staff = True
    charlie.user.save(update_fields=["is_staff"])
    review = backoffice.review_queue(reviewer=charlie.user).get()
    assert [(f["label"], f["path"]) for f in review.files] == [
        ("business_licence", licence.path),
        ("material", CertificateMaterial.objects.get(pk=extra["id"]).path),
    ]
    assert review.details["term_years"] == "2"
    assert review.details["medium"] == "cloud"


def test_cleanup_forgets_uploads_no_application_used(hierarchy, acme, alice):
    forget_licence(acme)  # only the uploads are the application's materials
    stale, fresh = upload(alice, png()).json(), upload(alice, pdf(), "b.pdf").json()
    used = upload(alice, png(colour="blue")).json()
    apply(alice, acme, material_ids=[used["id"]])
    CertificateMaterial.objects.filter(pk__in=[stale["id"], used["id"]]).update(
        created_at=timezone.now() - timedelta(hours=25)
    )
    out = io.StringIO()
    call_command("cleanup", stdout=out)
    assert "certificate_materials=1," in out.getvalue()
    assert set(CertificateMaterial.objects.values_list("pk", flat=True)) == {
        fresh["id"],
        used["id"],
    }
