from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from tests.helpers import Person, make_enterprise, make_person, verify_person


def pdf_bytes(pages: int = 2, *, label: str = "Contract") -> bytes:
    """An A4 PDF (at 72 dpi) with *pages* pages, each with a line of text and its number."""
    images = []
    for number in range(1, pages + 1):
        page = Image.new("RGB", (595, 842), "white")
        ImageDraw.Draw(page).text((72, 72), f"{label} page {number}", fill="black")
        images.append(page)
    out = io.BytesIO()
    images[0].save(out, format="PDF", save_all=True, append_images=images[1:], resolution=72)
    return out.getvalue()


def upload(person: Person, path: str, content: bytes, name: str = "contract.pdf", **fields):
    return person.api.client.post(
        "/api/v1" + path,
        {"file": SimpleUploadedFile(name, content), **fields},
        headers={"Authorization": f"Bearer {person.token}", "Accept-Language": "en"},
    )


def create_draft(person: Person, **fields) -> dict:
    values = {"title": "集装箱理货协议", **fields}
    response = upload(person, "/contracts", pdf_bytes(), **values)
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def dave() -> Person:
    return make_person("+8613800000004", "Dave Test")


@pytest.fixture
def verified_alice(alice) -> Person:
    verify_person(alice, 51)
    return alice


@pytest.fixture
def verified_bob(bob) -> Person:
    verify_person(bob, 52)
    return bob


@pytest.fixture
def acme_and_globex(alice, bob):
    return make_enterprise(alice, "Acme Port Logistics Co., Ltd.", 1), make_enterprise(
        bob, "Globex Tally Co., Ltd.", 2
    )


def give_certificate(person: Person, enterprise=None):
    """An issued cloud certificate for *enterprise* (or *person*), as after an approved
    application."""
    from django.utils import timezone

    from portsign.pki import issuance
    from portsign.pki.ca import init_hierarchy
    from portsign.pki.models import CertificateApplication

    init_hierarchy()
    if enterprise is not None:
        subject = issuance.enterprise_name(name=enterprise.name, uscc=enterprise.uscc)
    else:
        subject = issuance.person_name(name=person.user.name, id_number=person.user.id_number)
    certificate = issuance.issue_certificate(subject=subject)
    return CertificateApplication.objects.create(
        applicant=person.user,
        enterprise=enterprise,
        status="issued",
        certificate=certificate,
        decided_at=timezone.now(),
    )


def contract_seal(person: Person, enterprise) -> str:
    response = person.api.post(f"/enterprises/{enterprise.id}/seals", {"type": "contract"})
    assert response.status_code == 201, response.content
    return response.json()["id"]
