"""Seal pre-processing (签章预处理): a stamped scan → extracted seal → review → usable seal."""

from __future__ import annotations

import io

import pypdfium2 as pdfium
import pytest
from django.test import Client
from PIL import Image

from portsign.backoffice.models import Review
from portsign.common.models import AuditEvent
from portsign.seals.domain import scans
from portsign.seals.models import SealScan
from tests.helpers import assert_isolated, error_code
from tests.seals.conftest import post_file
from tests.seals.test_extract import _scan, _stamp


@pytest.fixture
def reviewer(dave):
    dave.user.is_staff = True
    dave.user.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(dave.user, backend="portsign.accounts.backends.AccountBackend")
    return client


def _decide(reviewer: Client, scan_id: str, decision: str, opinion: str):
    review = Review.objects.get(kind=scans.SCAN_KIND, subject_id=scan_id)
    return reviewer.post(
        f"/console/backoffice/{review.id}/decide/", {"decision": decision, "opinion": opinion}
    )


def test_scan_is_extracted_then_confirmed_into_a_seal(alice, acme, reviewer):
    submitted = post_file(
        alice, f"/enterprises/{acme.id}/seal-scans", _scan(_stamp()), "form.jpg", type="contract"
    )
    assert submitted.status_code == 202, submitted.content
    body = submitted.json()
    # Embedded mode: extraction ran right after the upload committed.
    assert (body["status"], body["type"], body["name"], body["seal_id"]) == (
        "awaiting",
        "contract",
        "合同专用章",
        None,
    )
    assert 41.5 <= body["width_mm"] <= 44.5
    extracted = alice.api.get(body["extracted_url"].removeprefix("/api/v1"))
    assert extracted.status_code == 200
    image = Image.open(io.BytesIO(extracted.content))
    assert image.mode == "RGBA"
    assert image.getchannel("A").getpixel((0, 0)) == 0
    response = _decide(reviewer, body["id"], "approve", "印章清晰，确认可用")
    assert response.status_code == 302
    done = alice.api.get(f"/seal-scans/{body['id']}").json()
    assert done["status"] == "completed"
    seal = alice.api.get(f"/seals/{done['seal_id']}").json()
    assert (seal["source"], seal["type"], seal["enterprise_id"]) == (
        "extracted",
        "contract",
        acme.id,
    )
    assert seal["image_sha256"] == SealScan.objects.get(pk=body["id"]).extracted_sha256
    holders = alice.api.get(f"/seals/{seal['id']}/holders").json()
    assert [h["member_name"] for h in holders] == ["Alice Test"]
    actions = list(
        AuditEvent.objects.filter(object_id=body["id"])
        .values_list("action", flat=True)
        .order_by("seq")
    )
    assert actions == ["seal_scan.submitted", "seal_scan.extracted", "seal_scan.confirmed"]


def test_reviewer_returns_a_scan_with_a_reason(alice, acme, reviewer):
    scan_id = post_file(
        alice, f"/enterprises/{acme.id}/seal-scans", _scan(_stamp()), "f.jpg", type="hr"
    ).json()["id"]
    _decide(reviewer, scan_id, "return", "印章压线，请重新盖章")
    body = alice.api.get(f"/seal-scans/{scan_id}").json()
    assert (body["status"], body["reason"], body["seal_id"]) == (
        "returned",
        "印章压线，请重新盖章",
        None,
    )
    assert alice.api.get(f"/enterprises/{acme.id}/seals").json() == []


def test_scan_without_a_seal_is_returned_at_once(alice, acme):
    out = io.BytesIO()
    Image.new("RGB", (800, 1000), "white").save(out, format="PNG")
    body = post_file(
        alice, f"/enterprises/{acme.id}/seal-scans", out.getvalue(), "blank.png", type="contract"
    ).json()
    assert body["status"] == "returned"
    assert body["reason"].startswith("No red seal was found")
    assert body["extracted_url"] is None
    assert not Review.objects.filter(subject_id=body["id"]).exists()
    missing = alice.api.get(f"/seal-scans/{body['id']}/extracted.png")
    assert missing.status_code == 400
    assert error_code(missing) == "not_extracted"


def test_processing_twice_changes_nothing(alice, acme):
    scan_id = post_file(
        alice, f"/enterprises/{acme.id}/seal-scans", _scan(_stamp()), "f.jpg", type="contract"
    ).json()["id"]
    assert scans.process_scan(scan_id=scan_id) is None
    assert Review.objects.filter(subject_id=scan_id).count() == 1


def test_quota_is_checked_when_confirming(alice, acme, reviewer, settings):
    scan_id = post_file(
        alice, f"/enterprises/{acme.id}/seal-scans", _scan(_stamp()), "f.jpg", type="contract"
    ).json()["id"]
    settings.SEAL_QUOTA = 1
    alice.api.post(f"/enterprises/{acme.id}/seals", {"type": "hr"})
    _decide(reviewer, scan_id, "approve", "确认")
    assert alice.api.get(f"/seal-scans/{scan_id}").json()["status"] == "awaiting"
    assert Review.objects.get(subject_id=scan_id).status == "pending"


def test_bad_uploads_and_isolation(alice, bob, acme, globex):
    bad = post_file(alice, f"/enterprises/{acme.id}/seal-scans", b"hello", "x.txt", type="contract")
    assert bad.status_code == 400
    assert error_code(bad) == "file_type"
    kind = post_file(
        alice, f"/enterprises/{acme.id}/seal-scans", _scan(_stamp()), "f.jpg", type="round"
    )
    assert kind.status_code == 400
    assert error_code(kind) == "seal_type"
    assert SealScan.objects.count() == 0
    scan_id = post_file(
        alice, f"/enterprises/{acme.id}/seal-scans", _scan(_stamp()), "f.jpg", type="contract"
    ).json()["id"]
    assert_isolated(alice, bob, "GET", f"/seal-scans/{scan_id}")
    assert_isolated(alice, bob, "GET", f"/seal-scans/{scan_id}/extracted.png")
    assert_isolated(alice, bob, "GET", f"/enterprises/{acme.id}/seal-scans")


def test_collection_form_is_a_one_page_pdf(alice, acme):
    response = alice.api.get(f"/enterprises/{acme.id}/seal-collection-form.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    document = pdfium.PdfDocument(response.content)
    assert len(document) == 1
    width, height = document[0].get_size()
    assert (round(width), round(height)) == (595, 842)  # A4 in points
