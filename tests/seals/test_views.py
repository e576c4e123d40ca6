"""Console pages for seals and signatures: the same rules as the API, through forms."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from portsign.seals.models import Seal, SealGrant, SealScan
from tests.helpers import verify_person
from tests.seals.conftest import add_member, seal_png
from tests.seals.test_extract import _scan, _stamp


def _client(person) -> Client:
    client = Client()
    client.force_login(person.user, backend="portsign.accounts.backends.AccountBackend")
    return client


@pytest.fixture
def web(alice):
    return _client(alice)


def test_pages_render_for_members_and_404_for_others(web, bob, acme, contract_seal):
    page = web.get(f"/console/seals/enterprise/{acme.id}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f"/api/v1/seals/{contract_seal['id']}/image.png" in html
    assert "合同专用章" in html
    assert web.get("/console/seals/").status_code == 200
    assert _client(bob).get(f"/console/seals/enterprise/{acme.id}/").status_code == 404
    assert (
        f"/console/seals/enterprise/{acme.id}/"
        in web.get(f"/console/enterprise/{acme.id}/").content.decode()
    )


def test_generate_upload_grant_disable_delete_through_forms(web, alice, bob, acme):
    base = f"/console/seals/enterprise/{acme.id}/"
    assert web.post(base + "create/", {"type": "official", "code": ""}).status_code == 302
    assert (
        web.post(
            base + "create/", {"type": "finance", "file": SimpleUploadedFile("f.png", seal_png())}
        ).status_code
        == 302
    )
    official, finance = Seal.objects.order_by("created_at")
    assert (official.kind, official.source, finance.kind, finance.source) == (
        "official",
        "generated",
        "finance",
        "uploaded",
    )
    bob_member = add_member(acme, bob, "signer")
    web.post(
        f"/console/seals/{official.id}/grant/",
        {"enterprise_id": acme.id, "member_ids": [bob_member.id]},
    )
    assert SealGrant.objects.filter(seal=official, member=bob_member).exists()
    web.post(
        f"/console/seals/{official.id}/remove-holders/",
        {"enterprise_id": acme.id, "member_ids": [bob_member.id]},
    )
    assert not SealGrant.objects.filter(seal=official, member=bob_member).exists()
    web.post(f"/console/seals/{official.id}/update/", {"status": "disabled", "back": base})
    official.refresh_from_db()
    assert official.status == "disabled"
    response = web.post(f"/console/seals/{finance.id}/delete/", {"back": base}, follow=True)
    assert response.redirect_chain[-1][0] == base
    assert Seal.objects.get(pk=finance.pk).deleted_at is not None


def test_errors_are_shown_not_raised(web, acme):
    response = web.post(
        f"/console/seals/enterprise/{acme.id}/create/",
        {"type": "contract", "file": SimpleUploadedFile("x.png", seal_png(opaque=True))},
        follow=True,
    )
    assert response.status_code == 200
    assert "透明" in response.content.decode()  # the Chinese message about the opaque background
    assert Seal.objects.count() == 0


def test_scan_upload_form(web, acme):
    response = web.post(
        f"/console/seals/enterprise/{acme.id}/scans/",
        {"type": "contract", "file": SimpleUploadedFile("form.jpg", _scan(_stamp()))},
        follow=True,
    )
    assert response.status_code == 200
    scan = SealScan.objects.get()
    assert scan.status == "awaiting"
    assert f"/api/v1/seal-scans/{scan.id}/extracted.png" in response.content.decode()


def test_signatures_page(web, alice):
    page = web.get("/console/seals/")
    assert "signature-generate" not in page.content.decode()  # not verified yet
    verify_person(alice, 21)
    web.post("/console/seals/signatures/")
    web.post(
        "/console/seals/signatures/", {"file": SimpleUploadedFile("s.png", seal_png((600, 240)))}
    )
    assert list(
        Seal.objects.filter(owner=alice.user)
        .values_list("source", flat=True)
        .order_by("created_at")
    ) == [
        "generated",
        "drawn",
    ]
