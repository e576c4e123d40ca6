"""Seals API (API.md "Seals and certificates"). Handlers only translate; rules live in domain/."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pydantic
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.errors import ValidationError

from portsign.accounts.backends import signed_in_user
from portsign.common.api_auth import AUTH
from portsign.common.errors import Invalid
from portsign.common.paging import page_from_query
from portsign.common.schemas import CountOut
from portsign.seals.domain import holders, scans
from portsign.seals.domain import seals as seal_domain
from portsign.seals.models import Seal, SealGrant, SealScan, SealUse

router = Router(tags=["seals"], auth=AUTH)
PAGE_SIZE = 20


class SealOut(Schema):
    id: str
    enterprise_id: str | None
    department_id: str | None = Field(description="the department holding the seal, if any")
    type: str = Field(description="official | contract | finance | legal_rep | hr | signature")
    name: str
    shape: str
    code: str
    source: str = Field(description="generated | uploaded | extracted | drawn")
    status: str = Field(description="active | disabled")
    width_mm: float
    height_mm: float
    image_url: str
    image_sha256: str
    created_at: datetime

    @staticmethod
    def of(seal: Seal) -> SealOut:
        return SealOut(
            id=seal.id,
            enterprise_id=seal.enterprise_id,
            department_id=seal.department_id,
            type=seal.kind,
            name=seal.name,
            shape=seal.shape,
            code=seal.code,
            source=seal.source,
            status=seal.status,
            width_mm=float(seal.width_mm),
            height_mm=float(seal.height_mm),
            image_url=f"/api/v1/seals/{seal.id}/image.png",
            image_sha256=seal.image_sha256,
            created_at=seal.created_at,
        )


class GenerateIn(Schema):
    type: str
    source: str = Field("generate", description="generate (multipart uploads send a file)")
    name: str = ""
    shape: str = Field("", description="finance: oval | square")
    code: str = Field("", description="optional 13-digit seal code on the lower arc")


class SignatureIn(Schema):
    source: str = Field("generate", description="generate (multipart uploads are drawn)")
    name: str = ""


class SealPatch(Schema):
    name: str | None = None
    code: str | None = None
    shape: str | None = None
    status: str | None = Field(None, description="active | disabled")
    department_id: str | None = Field(
        None, description='a department of the enterprise to hold the seal; "" for none'
    )


class HoldersIn(Schema):
    member_ids: list[str] = []
    role_ids: list[str] = []


class HolderOut(Schema):
    seal_id: str
    seal_name: str
    member_id: str | None
    member_name: str | None
    role_id: str | None
    role_name: str | None
    granted_at: datetime

    @staticmethod
    def of(grant: SealGrant) -> HolderOut:
        member, role = grant.member, grant.role
        return HolderOut(
            seal_id=grant.seal_id,
            seal_name=grant.seal.name,
            member_id=member.id if member else None,
            member_name=member.user.name if member else None,
            role_id=role.id if role else None,
            role_name=role.name if role else None,
            granted_at=grant.created_at,
        )


class UseOut(Schema):
    id: str
    user_name: str
    subject_type: str
    subject_id: str
    ip: str | None
    used_at: datetime


class UsesPage(Schema):
    items: list[UseOut]
    total: int
    page: int
    page_size: int


class ScanOut(Schema):
    id: str
    enterprise_id: str
    type: str
    name: str
    status: str = Field(description="processing | awaiting | completed | returned")
    reason: str
    width_mm: float | None
    height_mm: float | None
    extracted_url: str | None
    seal_id: str | None
    created_at: datetime

    @staticmethod
    def of(scan: SealScan) -> ScanOut:
        return ScanOut(
            id=scan.id,
            enterprise_id=scan.enterprise_id,
            type=scan.kind,
            name=scan.name,
            status=scan.status,
            reason=scan.reason,
            width_mm=float(scan.width_mm) if scan.width_mm is not None else None,
            height_mm=float(scan.height_mm) if scan.height_mm is not None else None,
            extracted_url=f"/api/v1/seal-scans/{scan.id}/extracted.png"
            if scan.extracted_path
            else None,
            seal_id=scan.seal_id,
            created_at=scan.created_at,
        )


def _is_multipart(request: HttpRequest) -> bool:
    return (request.content_type or "").startswith("multipart/")


def _json_body(request: HttpRequest, schema: type[Schema]) -> Any:
    """The JSON body parsed into *schema*, with the API's usual 400/422 errors."""
    try:
        raw = json.loads(request.body or b"{}")
    except ValueError as exc:
        raise Invalid(_("The request body is not valid JSON."), code="malformed_body") from exc
    try:
        return schema.model_validate(raw)
    except pydantic.ValidationError as exc:
        raise ValidationError(
            [dict(error, loc=("body", "payload", *error["loc"])) for error in exc.errors()]
        ) from exc


def _png(path: str, sha256: str) -> HttpResponse:
    with default_storage.open(path) as handle:
        response = HttpResponse(handle.read(), content_type="image/png")
    response["Cache-Control"] = "private, max-age=300"
    response["ETag"] = f'"{sha256}"'
    return response


# -- enterprise seals --------------------------------------------------------------------------


@router.post(
    "/enterprises/{enterprise_id}/seals",
    response={201: SealOut},
    summary="Create a seal: JSON to generate one, or multipart with a transparent PNG",
)
def create_seal(request: HttpRequest, enterprise_id: str) -> Status[SealOut]:
    actor = signed_in_user(request)
    if _is_multipart(request):
        seal = seal_domain.create_uploaded_seal(
            actor=actor,
            enterprise_id=enterprise_id,
            kind=request.POST.get("type", ""),
            upload=request.FILES.get("file"),
            name=request.POST.get("name", ""),
            width_mm=request.POST.get("width_mm"),
        )
        return Status(201, SealOut.of(seal))
    payload: GenerateIn = _json_body(request, GenerateIn)
    if payload.source != "generate":
        message = _("Send generate, or upload the image as multipart form data.")
        raise Invalid(message, code="seal_source", fields={"source": message})
    seal = seal_domain.create_generated_seal(
        actor=actor,
        enterprise_id=enterprise_id,
        kind=payload.type,
        name=payload.name,
        shape=payload.shape,
        code=payload.code,
    )
    return Status(201, SealOut.of(seal))


@router.get("/enterprises/{enterprise_id}/seals", response=list[SealOut], summary="Seals")
def list_seals(request: HttpRequest, enterprise_id: str) -> list[SealOut]:
    rows = seal_domain.seals_of(actor=signed_in_user(request), enterprise_id=enterprise_id)
    return [SealOut.of(seal) for seal in rows]


@router.get(
    "/enterprises/{enterprise_id}/seal-holders",
    response=list[HolderOut],
    summary="Who holds which seal",
)
def enterprise_holders(request: HttpRequest, enterprise_id: str) -> list[HolderOut]:
    rows = holders.holdings_of(actor=signed_in_user(request), enterprise_id=enterprise_id)
    return [HolderOut.of(grant) for grant in rows]


@router.get("/seals/{seal_id}", response=SealOut, summary="A seal or signature")
def get_seal(request: HttpRequest, seal_id: str) -> SealOut:
    seal, _membership = seal_domain.visible_seal(actor=signed_in_user(request), seal_id=seal_id)
    return SealOut.of(seal)


@router.get("/seals/{seal_id}/image.png", summary="The seal's image (transparent PNG, 300 dpi)")
def seal_image(request: HttpRequest, seal_id: str) -> HttpResponse:
    seal, _membership = seal_domain.visible_seal(actor=signed_in_user(request), seal_id=seal_id)
    return _png(seal.image_path, seal.image_sha256)


@router.patch("/seals/{seal_id}", response=SealOut, summary="Rename, redraw, disable or enable")
def update_seal(request: HttpRequest, seal_id: str, payload: SealPatch) -> SealOut:
    seal = seal_domain.update_seal(
        actor=signed_in_user(request),
        seal_id=seal_id,
        name=payload.name,
        code=payload.code,
        shape=payload.shape,
        status=payload.status,
        department_id=payload.department_id,
    )
    return SealOut.of(seal)


@router.post("/seals/{seal_id}/image", response=SealOut, summary="Replace the image (multipart)")
def replace_image(request: HttpRequest, seal_id: str) -> SealOut:
    seal = seal_domain.replace_image(
        actor=signed_in_user(request),
        seal_id=seal_id,
        upload=request.FILES.get("file"),
        width_mm=request.POST.get("width_mm"),
    )
    return SealOut.of(seal)


@router.delete("/seals/{seal_id}", response={204: None}, summary="Delete a seal")
def delete_seal(request: HttpRequest, seal_id: str) -> Status[None]:
    seal_domain.delete_seal(actor=signed_in_user(request), seal_id=seal_id)
    return Status(204, None)


@router.get("/seals/{seal_id}/holders", response=list[HolderOut], summary="Holders of a seal")
def seal_holders(request: HttpRequest, seal_id: str) -> list[HolderOut]:
    rows = holders.holders_of(actor=signed_in_user(request), seal_id=seal_id)
    return [HolderOut.of(grant) for grant in rows]


@router.post("/seals/{seal_id}/holders", response=CountOut, summary="Grant to members and roles")
def grant_seal(request: HttpRequest, seal_id: str, payload: HoldersIn) -> CountOut:
    added = holders.grant(
        actor=signed_in_user(request),
        seal_id=seal_id,
        member_ids=payload.member_ids,
        role_ids=payload.role_ids,
    )
    return CountOut(count=added)


@router.post("/seals/{seal_id}/holders/remove", response=CountOut, summary="Remove holders")
def remove_holders(request: HttpRequest, seal_id: str, payload: HoldersIn) -> CountOut:
    removed = holders.remove(
        actor=signed_in_user(request),
        seal_id=seal_id,
        member_ids=payload.member_ids,
        role_ids=payload.role_ids,
    )
    return CountOut(count=removed)


@router.get("/seals/{seal_id}/uses", response=UsesPage, summary="The seal's use log")
def seal_uses(request: HttpRequest, seal_id: str) -> UsesPage:
    page = page_from_query(request)
    rows = holders.uses_of(actor=signed_in_user(request), seal_id=seal_id)
    items: list[SealUse] = list(rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE])
    return UsesPage(
        items=[
            UseOut(
                id=use.id,
                user_name=use.user.name,
                subject_type=use.subject_type,
                subject_id=use.subject_id,
                ip=use.ip,
                used_at=use.created_at,
            )
            for use in items
        ],
        total=rows.count(),
        page=page,
        page_size=PAGE_SIZE,
    )


# -- personal signatures -----------------------------------------------------------------------


@router.get("/me/signatures", response=list[SealOut], summary="My signatures")
def my_signatures(request: HttpRequest) -> list[SealOut]:
    return [SealOut.of(seal) for seal in seal_domain.signatures_of(actor=signed_in_user(request))]


@router.post(
    "/me/signatures",
    response={201: SealOut},
    summary="Create a signature: JSON to generate one, or multipart with a drawn PNG",
)
def create_signature(request: HttpRequest) -> Status[SealOut]:
    actor = signed_in_user(request)
    if _is_multipart(request):
        seal = seal_domain.create_signature(
            actor=actor,
            source="drawn",
            upload=request.FILES.get("file"),
            name=request.POST.get("name", ""),
        )
    else:
        payload: SignatureIn = _json_body(request, SignatureIn)
        seal = seal_domain.create_signature(actor=actor, source=payload.source, name=payload.name)
    return Status(201, SealOut.of(seal))


# -- seal pre-processing -----------------------------------------------------------------------


@router.get(
    "/enterprises/{enterprise_id}/seal-collection-form.pdf",
    summary="The collection form to stamp and scan (签章采集表)",
)
def collection_form(request: HttpRequest, enterprise_id: str) -> HttpResponse:
    pdf = scans.collection_form_pdf(actor=signed_in_user(request), enterprise_id=enterprise_id)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="seal-collection-form.pdf"'
    return response


@router.post(
    "/enterprises/{enterprise_id}/seal-scans",
    response={202: ScanOut},
    summary="Upload a stamped scan; the seal is extracted automatically (multipart)",
)
def submit_scan(request: HttpRequest, enterprise_id: str) -> Status[ScanOut]:
    scan = scans.submit_scan(
        actor=signed_in_user(request),
        enterprise_id=enterprise_id,
        upload=request.FILES.get("file"),
        kind=request.POST.get("type", ""),
        name=request.POST.get("name", ""),
    )
    scan.refresh_from_db()  # in embedded mode extraction already ran after commit
    return Status(202, ScanOut.of(scan))


@router.get("/enterprises/{enterprise_id}/seal-scans", response=list[ScanOut], summary="Scans")
def list_scans(request: HttpRequest, enterprise_id: str) -> list[ScanOut]:
    rows = scans.scans_of(actor=signed_in_user(request), enterprise_id=enterprise_id)[:50]
    return [ScanOut.of(scan) for scan in rows]


@router.get("/seal-scans/{scan_id}", response=ScanOut, summary="A scan and its status")
def get_scan(request: HttpRequest, scan_id: str) -> ScanOut:
    return ScanOut.of(scans.visible_scan(actor=signed_in_user(request), scan_id=scan_id))


@router.get("/seal-scans/{scan_id}/extracted.png", summary="The extracted seal (transparent PNG)")
def extracted_image(request: HttpRequest, scan_id: str) -> HttpResponse:
    scan = scans.visible_scan(actor=signed_in_user(request), scan_id=scan_id)
    if not scan.extracted_path:
        raise Invalid(_("No seal has been extracted from this scan."), code="not_extracted")
    return _png(scan.extracted_path, scan.extracted_sha256)
