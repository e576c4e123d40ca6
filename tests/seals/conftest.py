from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from portsign.enterprises.models import Membership, Role
from tests.helpers import Person, make_person


def seal_png(size: tuple[int, int] = (300, 300), *, opaque: bool = False) -> bytes:
    """A red ring on a transparent (or white) ground."""
    image = Image.new("RGBA", size, (255, 255, 255, 255 if opaque else 0))
    ImageDraw.Draw(image).ellipse(
        (10, 10, size[0] - 10, size[1] - 10), outline=(220, 20, 30, 255), width=12
    )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def post_file(person: Person, path: str, content: bytes, name: str = "seal.png", **fields: str):
    return person.api.client.post(
        "/api/v1" + path,
        {"file": SimpleUploadedFile(name, content), **fields},
        headers={"Authorization": f"Bearer {person.token}", "Accept-Language": "en"},
    )


def add_member(enterprise, person: Person, role_key: str) -> Membership:
    role = Role.objects.get(enterprise=enterprise, key=role_key)
    return Membership.objects.create(enterprise=enterprise, user=person.user, role=role)


@pytest.fixture
def dave() -> Person:
    return make_person("+8613800000004", "Dave Test")


@pytest.fixture
def contract_seal(alice, acme):
    response = alice.api.post(f"/enterprises/{acme.id}/seals", {"type": "contract"})
    assert response.status_code == 201, response.content
    return response.json()
