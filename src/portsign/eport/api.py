"""`/api/v1/eport/…`: the E-Port identity office (API.md "E-Port identity office")."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router
from ninja.responses import Status

from portsign.accounts.backends import signed_in_user
from portsign.accounts.models import User
from portsign.common.api_auth import AUTH
from portsign.common.errors import Invalid, NotFound
from portsign.common.schemas import FILE, TEXT, multipart_body
from portsign.eport.domain import authorities, filings, forms, operators, reviews
from portsign.eport.domain.card_sign_in import acting_card
from portsign.eport.enums import DocumentType, FilingKind
from portsign.eport.models import Authority, Filing
from portsign.eport.schemas import (
    AuthorityOut,
    AutoApproveIn,
    FilingDataIn,
    FilingDecisionIn,
    FilingDocumentOut,
    FilingIn,
    FilingOut,
    FilingPageOut,
    FormFieldOut,
    OperatorOut,
    OperatorPageOut,
)

router = Router(tags=["eport"], auth=AUTH)


def readable_filing(actor: User, filing_id: str) -> tuple[Filing, list[str]]:
    """A filing its enterprise's managers or its reviewers may read, and what the actor may
    decide on it; anyone else gets 404."""
    try:
        return filings.own_filing(actor, filing_id), []
    except NotFound:
        filing = reviews.reviewed_filing(actor, filing_id)
        return filing, reviews.deciding_units(actor, filing)


def _out(actor: User, filing: Filing) -> FilingOut:
    filing.refresh_from_db()
    return FilingOut.of(filing, can_decide=readable_filing(actor, filing.id)[1])


@router.get("/authorities", response=list[AuthorityOut], summary="The reviewing authorities")
def list_authorities(request: HttpRequest) -> list[AuthorityOut]:
    return [AuthorityOut.of(a) for a in Authority.objects.all()]


@router.patch(
    "/authorities/{authority_id}",
    response=AuthorityOut,
    summary="Switch auto-approval of filings addressed to this authority (its reviewers only)",
)
def patch_authority(
    request: HttpRequest, authority_id: str, payload: AutoApproveIn
) -> AuthorityOut:
    authority = authorities.set_auto_approve(
        actor=signed_in_user(request), authority_id=authority_id, enabled=payload.auto_approve
    )
    return AuthorityOut.of(authority)


@router.get("/forms/{kind}", response=list[FormFieldOut], summary="The fields of a filing kind")
def form_fields(request: HttpRequest, kind: str) -> list[FormFieldOut]:
    if kind not in FilingKind.values:
        raise NotFound()
    return [FormFieldOut(**field) for field in forms.describe(kind)]


@router.post("/filings", response={201: FilingOut}, summary="Save a new filing as a draft (暂存)")
def create_filing(request: HttpRequest, payload: FilingIn) -> Status[FilingOut]:
    actor = signed_in_user(request)
    filing = filings.create(
        actor=actor,
        enterprise_id=payload.enterprise_id,
        kind=payload.kind,
        data=payload.data,
        operator_id=payload.operator_id,
        acting=acting_card(request),
    )
    return Status(201, _out(actor, filing))


@router.get("/filings", response=FilingPageOut, summary="An enterprise's filings")
def list_filings(
    request: HttpRequest,
    enterprise_id: str,
    kind: str = "",
    status: str = "",
    page: int = 1,
    page_size: int = 20,
) -> FilingPageOut:
    found = filings.list_filings(
        actor=signed_in_user(request),
        enterprise_id=enterprise_id,
        kind=kind,
        status=status,
        page=page,
        page_size=page_size,
    )
    return FilingPageOut(
        items=[FilingOut.of(f) for f in found.items],
        total=found.total,
        page=found.page,
        page_size=found.page_size,
    )


@router.get("/filings/{filing_id}", response=FilingOut, summary="A filing with its history")
def get_filing(request: HttpRequest, filing_id: str) -> FilingOut:
    filing, can_decide = readable_filing(signed_in_user(request), filing_id)
    return FilingOut.of(filing, can_decide=can_decide)


@router.patch("/filings/{filing_id}", response=FilingOut, summary="Edit a draft or returned filing")
def patch_filing(request: HttpRequest, filing_id: str, payload: FilingDataIn) -> FilingOut:
    actor = signed_in_user(request)
    return _out(
        actor,
        filings.update(
            actor=actor, filing_id=filing_id, data=payload.data, acting=acting_card(request)
        ),
    )


@router.delete("/filings/{filing_id}", response={204: None}, summary="Delete a draft")
def delete_filing(request: HttpRequest, filing_id: str) -> Status[None]:
    filings.delete(actor=signed_in_user(request), filing_id=filing_id, acting=acting_card(request))
    return Status(204, None)


@router.post(
    "/filings/{filing_id}/documents",
    response={201: FilingDocumentOut},
    summary="Attach a document (JPEG, PNG or PDF)",
    openapi_extra=multipart_body(
        ["file", "type"],
        file=FILE,
        type={**TEXT, "enum": list(DocumentType.values)},
    ),
)
def add_document(request: HttpRequest, filing_id: str) -> Status[FilingDocumentOut]:
    document = filings.add_document(
        actor=signed_in_user(request),
        filing_id=filing_id,
        upload=request.FILES.get("file"),
        doc_type=request.POST.get("type", ""),
        acting=acting_card(request),
    )
    return Status(201, FilingDocumentOut.of(document))


@router.get("/filings/{filing_id}/documents/{document_id}", summary="A document's file")
def get_document(request: HttpRequest, filing_id: str, document_id: str) -> HttpResponse:
    filing, _decide = readable_filing(signed_in_user(request), filing_id)
    document = filing.documents.filter(pk=document_id).first()
    if document is None:
        raise NotFound()
    types = {"jpeg": "image/jpeg", "png": "image/png", "pdf": "application/pdf"}
    response = HttpResponse(filings.document_bytes(document), content_type=types[document.kind])
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@router.delete(
    "/filings/{filing_id}/documents/{document_id}", response={204: None}, summary="Remove one"
)
def delete_document(request: HttpRequest, filing_id: str, document_id: str) -> Status[None]:
    filings.remove_document(
        actor=signed_in_user(request),
        filing_id=filing_id,
        document_id=document_id,
        acting=acting_card(request),
    )
    return Status(204, None)


@router.post("/filings/{filing_id}/declare", response=FilingOut, summary="Declare (申报)")
def declare(request: HttpRequest, filing_id: str) -> FilingOut:
    actor = signed_in_user(request)
    return _out(
        actor, filings.declare(actor=actor, filing_id=filing_id, acting=acting_card(request))
    )


@router.post("/filings/{filing_id}/approve", response=FilingOut, summary="Approve, with an opinion")
def approve(request: HttpRequest, filing_id: str, payload: FilingDecisionIn) -> FilingOut:
    actor = signed_in_user(request)
    filing = reviews.decide(
        actor=actor, filing_id=filing_id, approve=True, opinion=payload.opinion, unit=payload.unit
    )
    return _out(actor, filing)


@router.post("/filings/{filing_id}/return", response=FilingOut, summary="Return, with an opinion")
def return_filing(request: HttpRequest, filing_id: str, payload: FilingDecisionIn) -> FilingOut:
    actor = signed_in_user(request)
    filing = reviews.decide(
        actor=actor, filing_id=filing_id, approve=False, opinion=payload.opinion, unit=payload.unit
    )
    return _out(actor, filing)


def _when(raw: str, field: str, *, end: bool = False) -> dt.datetime | None:
    """A filter's bound: an ISO 8601 time (naive ones in the current time zone), or a date,
    which as the range's *end* takes in that whole day."""
    if not raw:
        return None
    try:
        if len(raw.strip()) == 10:
            day = dt.date.fromisoformat(raw.strip())
            when = dt.datetime.combine(day + dt.timedelta(days=1 if end else 0), dt.time())
            when -= dt.timedelta(microseconds=1) if end else dt.timedelta()
        else:
            when = dt.datetime.fromisoformat(raw.strip())
    except ValueError as exc:
        message = _("A date as YYYY-MM-DD, or an ISO 8601 time.")
        raise Invalid(message, code="date_format", fields={field: message}) from exc
    return timezone.make_aware(when) if timezone.is_naive(when) else when


@router.get("/reviews", response=FilingPageOut, summary="A reviewer's queue (审核工作台)")
def review_queue(
    request: HttpRequest,
    status: str = "",
    kind: str = "",
    enterprise: str = "",
    uscc: str = "",
    declared_from: str = "",
    declared_to: str = "",
    page: int = 1,
    page_size: int = 20,
) -> FilingPageOut:
    actor = signed_in_user(request)
    found = reviews.queue(
        actor=actor,
        filters=reviews.Filters(
            kind=kind,
            status=status,
            enterprise=enterprise,
            uscc=uscc,
            declared_from=_when(declared_from, "declared_from"),
            declared_to=_when(declared_to, "declared_to", end=True),
        ),
        page=page,
        page_size=page_size,
    )
    return FilingPageOut(
        items=[FilingOut.of(f, can_decide=reviews.deciding_units(actor, f)) for f in found.items],
        total=found.total,
        page=found.page,
        page_size=found.page_size,
    )


@router.get(
    "/enterprises/{enterprise_id}/operators",
    response=OperatorPageOut,
    summary="The enterprise's operators (查询, every condition optional)",
)
def list_operators(
    request: HttpRequest,
    enterprise_id: str,
    number: str = "",
    status: str = "",
    name: str = "",
    id_number: str = "",
    phone: str = "",
    position: str = "",
    page: int = 1,
    page_size: int = 20,
) -> OperatorPageOut:
    found = operators.search(
        actor=signed_in_user(request),
        enterprise_id=enterprise_id,
        query=operators.Query(
            number=number,
            status=status,
            name=name,
            id_number=id_number,
            phone=phone,
            position=position,
        ),
        page=page,
        page_size=page_size,
    )
    return OperatorPageOut(
        items=[OperatorOut.of(o) for o in found.items],
        total=found.total,
        page=found.page,
        page_size=found.page_size,
    )
