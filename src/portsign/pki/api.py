"""Certificate API (API.md "Seals and certificates": certificates)."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from portsign.accounts.backends import signed_in_user
from portsign.api import AUTH
from portsign.pki import applications
from portsign.pki.models import CertificateApplication

router = Router(tags=["certificates"], auth=AUTH)


class ApplyIn(Schema):
    code: str = Field(description="Code from /auth/codes with purpose certificate")
    invoice_title: str = ""
    invoice_tax_number: str = ""


class CertificateOut(Schema):
    id: str
    status: str = Field(description="pending | issued | rejected | suspended | revoked")
    serial: str | None
    not_after: datetime | None
    pem: str | None
    enterprise_id: str | None

    @staticmethod
    def of(application: CertificateApplication) -> CertificateOut:
        cert = application.certificate
        return CertificateOut(
            id=application.id,
            status=applications.public_status(application),
            serial=cert.serial if cert else None,
            not_after=cert.not_after if cert else None,
            pem=cert.certificate_pem if cert else None,
            enterprise_id=application.enterprise_id,
        )


class RevokeIn(Schema):
    reason: str = Field(
        "unspecified",
        description="unspecified | key_compromise | "
        "affiliation_changed | superseded | cessation_of_operation",
    )


@router.post(
    "/enterprises/{enterprise_id}/certificates",
    response={201: CertificateOut},
    summary="Apply for the enterprise's certificate",
)
def apply_enterprise(
    request: HttpRequest, enterprise_id: str, payload: ApplyIn
) -> Status[CertificateOut]:
    return Status(
        201,
        CertificateOut.of(
            applications.apply(
                actor=signed_in_user(request),
                enterprise_id=enterprise_id,
                code=payload.code,
                invoice_title=payload.invoice_title,
                invoice_tax_number=payload.invoice_tax_number,
            )
        ),
    )


@router.post(
    "/me/certificates", response={201: CertificateOut}, summary="Apply for my personal certificate"
)
def apply_personal(request: HttpRequest, payload: ApplyIn) -> Status[CertificateOut]:
    return Status(
        201,
        CertificateOut.of(
            applications.apply(
                actor=signed_in_user(request),
                enterprise_id=None,
                code=payload.code,
                invoice_title=payload.invoice_title,
                invoice_tax_number=payload.invoice_tax_number,
            )
        ),
    )


@router.get("/certificates/{application_id}", response=CertificateOut, summary="A certificate")
def get_certificate(request: HttpRequest, application_id: str) -> CertificateOut:
    return CertificateOut.of(
        applications.application_for(actor=signed_in_user(request), application_id=application_id)
    )


@router.post(
    "/certificates/{application_id}/approve",
    response=CertificateOut,
    summary="Approve an application (enterprise administrators, per policy)",
)
def approve(request: HttpRequest, application_id: str) -> CertificateOut:
    return CertificateOut.of(
        applications.approve(actor=signed_in_user(request), application_id=application_id)
    )


def _change(
    request: HttpRequest, application_id: str, action: str, reason: str = "unspecified"
) -> CertificateOut:
    return CertificateOut.of(
        applications.change_status(
            actor=signed_in_user(request),
            application_id=application_id,
            action=action,
            reason=reason,
        )
    )


@router.post(
    "/certificates/{application_id}/suspend",
    response=CertificateOut,
    summary="Suspend (hold) a certificate",
)
def suspend(request: HttpRequest, application_id: str) -> CertificateOut:
    return _change(request, application_id, "suspend")


@router.post(
    "/certificates/{application_id}/release",
    response=CertificateOut,
    summary="Release a suspended certificate",
)
def release(request: HttpRequest, application_id: str) -> CertificateOut:
    return _change(request, application_id, "release")


@router.post(
    "/certificates/{application_id}/revoke",
    response=CertificateOut,
    summary="Revoke a certificate (final)",
)
def revoke(request: HttpRequest, application_id: str, payload: RevokeIn) -> CertificateOut:
    return _change(request, application_id, "revoke", payload.reason)
