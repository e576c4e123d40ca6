"""Certificate API (API.md "Seals and certificates": certificates)."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import File, Router, Schema, Status
from ninja.files import UploadedFile as NinjaUploadedFile
from pydantic import Field

from portsign.accounts.backends import signed_in_user
from portsign.common.api_auth import AUTH
from portsign.pki import applications, authorizations, materials
from portsign.pki.application_details import DEFAULT_TERM, ApplicationForm
from portsign.pki.models import (
    CertificateApplication,
    CertificateAuthorization,
    CertificateMaterial,
)

router = Router(tags=["certificates"], auth=AUTH)


class ApplyIn(Schema):
    code: str = Field(description="Code from /auth/codes with purpose certificate")
    term_years: int = Field(DEFAULT_TERM, description="1, 2 or 3; the certificate's validity")
    medium: str = Field(
        "cloud",
        description="cloud (key in PortSign's vault; the only medium that signs on PortSign) "
        "| ukey (a hardware token mailed to the applicant; fulfilled offline)",
    )
    invoice_title: str = Field(
        "",
        description="Persons only (default: the verified name); an enterprise's invoice "
        "title is always the enterprise's name",
    )
    invoice_tax_number: str = Field("", description="Optional; 15–20 letters and digits")
    invoice_email: str = Field("", description="Optional; where the e-invoice goes")
    mail_recipient: str = Field("", description="ukey only; default: the applicant")
    mail_phone: str = Field("", description="ukey only; mainland mobile; default: the applicant's")
    mail_address: str = Field("", description="ukey only, required: 5–200 characters")
    authorization_code: str = Field(
        "",
        description="Enterprise applications by a member who is not an administrator: a "
        "code from POST /enterprises/{id}/certificate-authorizations",
    )
    material_ids: list[str] = Field(
        default_factory=list, description="Ids from POST /certificate-materials"
    )
    department_id: str = Field(
        "",
        description="Enterprise applications only: a department's certificate (subject "
        "OU=<department>), which its department seals sign with",
    )

    def form(self) -> ApplicationForm:
        return ApplicationForm(
            term_years=self.term_years,
            medium=self.medium,
            invoice_title=self.invoice_title,
            invoice_tax_number=self.invoice_tax_number,
            invoice_email=self.invoice_email,
            mail_recipient=self.mail_recipient,
            mail_phone=self.mail_phone,
            mail_address=self.mail_address,
        )


class RenewIn(Schema):
    code: str = Field(description="Code from /auth/codes with purpose certificate")
    term_years: int | None = Field(None, description="1, 2 or 3; default: the old term")
    invoice_title: str = ""
    invoice_tax_number: str = ""
    invoice_email: str = ""
    material_ids: list[str] = Field(default_factory=list)

    def form(self) -> ApplicationForm:
        return ApplicationForm(
            term_years=self.term_years,
            invoice_title=self.invoice_title,
            invoice_tax_number=self.invoice_tax_number,
            invoice_email=self.invoice_email,
        )


class MaterialOut(Schema):
    id: str
    label: str = Field(description="business_licence (from enterprise verification) | material")
    kind: str = Field(description="jpeg | png | pdf")
    size: int | None
    sha256: str

    @staticmethod
    def of(material: CertificateMaterial) -> MaterialOut:
        return MaterialOut(
            id=material.id,
            label=material.label,
            kind=material.kind,
            size=material.size,
            sha256=material.sha256,
        )


class InvoiceOut(Schema):
    title: str
    tax_number: str
    email: str


class MailingOut(Schema):
    recipient: str
    phone: str
    address: str


class CertificateOut(Schema):
    id: str
    status: str = Field(
        description="pending | issued | pending_delivery (ukey approved, mailed offline) | "
        "rejected | suspended | revoked | expired"
    )
    serial: str | None
    not_after: datetime | None
    pem: str | None
    enterprise_id: str | None
    department_id: str | None = Field(description="set for a department's certificate")
    term_years: int
    medium: str
    invoice: InvoiceOut
    mailing: MailingOut | None
    materials: list[MaterialOut]
    renews: str | None = Field(description="The application whose certificate this renews")
    renewable: bool = Field(
        description="In its renewal window and renewable (renewing also needs the right to)"
    )
    created_at: datetime

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
            department_id=application.department_id,
            term_years=application.term_years,
            medium=application.medium,
            invoice=InvoiceOut(
                title=application.invoice_title,
                tax_number=application.invoice_tax_number,
                email=application.invoice_email,
            ),
            mailing=MailingOut(
                recipient=application.mail_recipient,
                phone=application.mail_phone,
                address=application.mail_address,
            )
            if application.medium == CertificateApplication.Medium.UKEY
            else None,
            materials=[
                MaterialOut.of(m) for m in application.materials.order_by("position", "created_at")
            ],
            renews=application.renews_id,
            renewable=applications.renewal_problem(application) is None,
            created_at=application.created_at,
        )


class RevokeIn(Schema):
    reason: str = Field(
        "unspecified",
        description="unspecified | key_compromise | "
        "affiliation_changed | superseded | cessation_of_operation",
    )


class AuthorizationOut(Schema):
    id: str
    status: str = Field(description="active | used | expired")
    created_at: datetime
    expires_at: datetime
    created_by: str
    used_at: datetime | None
    used_by: str | None

    @staticmethod
    def of(row: CertificateAuthorization) -> AuthorizationOut:
        return AuthorizationOut(
            id=row.id,
            status=authorizations.status_of(row),
            created_at=row.created_at,
            expires_at=row.expires_at,
            created_by=row.created_by.name,
            used_at=row.used_at,
            used_by=row.used_by.name if row.used_by else None,
        )


class NewAuthorizationOut(Schema):
    id: str
    code: str = Field(description="Shown only now; PortSign keeps only a hash")
    expires_at: datetime


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
                form=payload.form(),
                authorization_code=payload.authorization_code,
                material_ids=payload.material_ids,
                department_id=payload.department_id,
            )
        ),
    )


@router.get(
    "/enterprises/{enterprise_id}/certificates",
    response=list[CertificateOut],
    summary="The enterprise's certificate applications (members)",
)
def list_enterprise(request: HttpRequest, enterprise_id: str) -> list[CertificateOut]:
    rows = applications.enterprise_applications(
        actor=signed_in_user(request), enterprise_id=enterprise_id
    )
    return [CertificateOut.of(row) for row in rows[:100]]


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
                form=payload.form(),
                material_ids=payload.material_ids,
            )
        ),
    )


@router.get(
    "/me/certificates",
    response=list[CertificateOut],
    summary="My personal certificate applications",
)
def list_personal(request: HttpRequest) -> list[CertificateOut]:
    rows = applications.personal_applications(actor=signed_in_user(request))
    return [CertificateOut.of(row) for row in rows[:100]]


@router.post(
    "/certificate-materials",
    response={201: MaterialOut},
    summary="Upload a material (JPEG, PNG or PDF up to 10 MB) for a certificate application",
)
def upload_material(request: HttpRequest, file: File[NinjaUploadedFile]) -> Status[MaterialOut]:
    material = materials.upload_material(actor=signed_in_user(request), upload=file)
    return Status(201, MaterialOut.of(material))


@router.post(
    "/enterprises/{enterprise_id}/certificate-authorizations",
    response={201: NewAuthorizationOut},
    summary="Issue a single-use certificate authorization code (administrators)",
)
def issue_authorization(request: HttpRequest, enterprise_id: str) -> Status[NewAuthorizationOut]:
    row, code = authorizations.issue_authorization(
        actor=signed_in_user(request), enterprise_id=enterprise_id
    )
    return Status(201, NewAuthorizationOut(id=row.id, code=code, expires_at=row.expires_at))


@router.get(
    "/enterprises/{enterprise_id}/certificate-authorizations",
    response=list[AuthorizationOut],
    summary="The enterprise's certificate authorization codes (without the codes)",
)
def list_authorizations(request: HttpRequest, enterprise_id: str) -> list[AuthorizationOut]:
    rows = authorizations.authorizations_of(
        actor=signed_in_user(request), enterprise_id=enterprise_id
    )
    return [AuthorizationOut.of(row) for row in rows[:100]]


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


class CertificateRejectIn(Schema):
    reason: str = Field(description="Told to the applicant (2 to 300 characters)")


@router.post(
    "/certificates/{application_id}/reject",
    response=CertificateOut,
    summary="Reject an application with a reason (enterprise administrators, per policy)",
)
def reject(
    request: HttpRequest, application_id: str, payload: CertificateRejectIn
) -> CertificateOut:
    return CertificateOut.of(
        applications.reject(
            actor=signed_in_user(request), application_id=application_id, reason=payload.reason
        )
    )


@router.post(
    "/certificates/{application_id}/renew",
    response={201: CertificateOut},
    summary="Renew a certificate within 60 days of its expiry, or after it (a new application)",
)
def renew(request: HttpRequest, application_id: str, payload: RenewIn) -> Status[CertificateOut]:
    return Status(
        201,
        CertificateOut.of(
            applications.renew(
                actor=signed_in_user(request),
                application_id=application_id,
                code=payload.code,
                form=payload.form(),
                material_ids=payload.material_ids,
            )
        ),
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
