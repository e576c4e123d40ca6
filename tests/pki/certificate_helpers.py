"""Helpers for certificate-application tests: codes, applying, members, files, dates."""

from __future__ import annotations

import io
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from portsign.common.uploads import store_bytes
from portsign.enterprises.models import Membership, Role
from portsign.pki.models import CertificateApplication, IssuedCertificate
from tests.helpers import Person, last_code


def certificate_code(person: Person) -> str:
    response = person.api.post("/auth/codes", {"to": person.account, "purpose": "certificate"})
    assert response.status_code == 202, response.content
    return last_code(person.user.phone or person.user.email)


def apply(person: Person, enterprise=None, **fields):
    """POST an application; a fresh certificate code unless *code* is given."""
    path = f"/enterprises/{enterprise.id}/certificates" if enterprise else "/me/certificates"
    body = {"code": fields.pop("code", None) or certificate_code(person), **fields}
    return person.api.post(path, body)


def add_member(enterprise, person: Person, role_key: str = "member") -> Membership:
    role = Role.objects.get(enterprise=enterprise, key=role_key)
    return Membership.objects.create(enterprise=enterprise, user=person.user, role=role)


def png(size=(300, 200), colour="white") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def pdf() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (200, 280), "white").save(buffer, format="PDF")
    return buffer.getvalue()


def upload(person: Person, content: bytes, name: str = "material.png"):
    return person.api.client.post(
        "/api/v1/certificate-materials",
        {"file": SimpleUploadedFile(name, content)},
        headers={"Authorization": f"Bearer {person.token}"},
    )


def forget_licence(enterprise) -> None:
    """As if the enterprise had been verified before materials were required (issue 16)."""
    type(enterprise).objects.filter(pk=enterprise.pk).update(licence_path="", licence_sha256="")
    enterprise.refresh_from_db()


def give_licence(enterprise, content: bytes | None = None):
    """As if the licence had been uploaded during enterprise verification."""
    stored = store_bytes(content or png(colour="red"), folder="licences", kind="png")
    enterprise.licence_path, enterprise.licence_sha256 = stored.path, stored.sha256
    enterprise.save(update_fields=["licence_path", "licence_sha256"])
    return stored


def expire_in(application_id: str, days: float) -> IssuedCertificate:
    """Move the certificate's expiry to *days* from now (negative: in the past)."""
    application = CertificateApplication.objects.get(pk=application_id)
    assert application.certificate is not None
    IssuedCertificate.objects.filter(pk=application.certificate.pk).update(
        not_after=timezone.now() + timedelta(days=days)
    )
    application.certificate.refresh_from_db()
    return application.certificate
