"""Archive cabinet API (档案柜, SPEC 000). Handlers only translate; rules live in domain/.

The upload is multipart (the PDF and its facts in one request), read from the request like
`POST /contracts`, so that a bad date or amount is the domain's 400 naming the field rather
than ninja's 422.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from ninja import Query, Router, Status

from portsign.accounts.backends import signed_in_user
from portsign.archive.domain import items, ledger
from portsign.archive.models import ArchivedContract
from portsign.archive.schemas import (
    FILE_ITEM_OPENAPI,
    PDF_OPENAPI,
    XLSX_OPENAPI,
    ArchivedContractOut,
    ArchivePageOut,
    ArchivePatchIn,
)
from portsign.common.api_auth import AUTH
from portsign.contracts.domain import documents

router = Router(tags=["archive"], auth=AUTH)
Q_HELP = "in the title, a counterparty's name or the outside contract number"


def _query(q: str, type: str, counterparty: str, signed_from: str, signed_to: str) -> dict:
    return {
        "q": q,
        "type": type,
        "counterparty": counterparty,
        "signed_from": signed_from,
        "signed_to": signed_to,
    }


def download(data: bytes, content_type: str, name: str) -> HttpResponse:
    """An attachment named *name* (Chinese names too, RFC 6266); the API's and the console's."""
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, name) or "attachment"
    response["Cache-Control"] = "private, no-store"
    return response


def pdf_download(item: ArchivedContract) -> HttpResponse:
    return download(documents.read_document(item.document), "application/pdf", f"{item.title}.pdf")


@router.post(
    "/enterprises/{enterprise_id}/archive",
    response={201: ArchivedContractOut},
    summary="File a contract signed outside PortSign: its PDF and facts (multipart)",
    openapi_extra=FILE_ITEM_OPENAPI,
)
def file_item(request: HttpRequest, enterprise_id: str) -> Status[ArchivedContractOut]:
    data = request.POST
    item = items.file_item(
        actor=signed_in_user(request),
        enterprise_id=enterprise_id,
        upload=request.FILES.get("file"),
        values={name: data.get(name, "") for name in data},
        parties=data.getlist("counterparties"),
    )
    return Status(201, ArchivedContractOut.of(item))


@router.get(
    "/enterprises/{enterprise_id}/archive",
    response=ArchivePageOut,
    summary="Search the archive cabinet, newest signing first",
)
def list_items(
    request: HttpRequest,
    enterprise_id: str,
    q: str = Query("", description=Q_HELP),
    type: str = Query("", description="the contract type, exactly"),
    counterparty: str = Query("", description="part of a counterparty's name"),
    signed_from: str = Query("", description="signed on or after (ISO date)"),
    signed_to: str = Query("", description="signed on or before (ISO date)"),
    page: int = 1,
    page_size: int = 20,
) -> ArchivePageOut:
    rows = items.search(
        actor=signed_in_user(request),
        enterprise_id=enterprise_id,
        query=_query(q, type, counterparty, signed_from, signed_to),
    )
    found = items.page_of(rows, page, page_size)
    return ArchivePageOut(
        items=[ArchivedContractOut.of(item) for item in found.items],
        total=found.total,
        page=found.page,
        page_size=found.page_size,
    )


@router.get(
    "/enterprises/{enterprise_id}/archive/ledger.xlsx",
    summary="The ledger (台账) as XLSX: one row per item, with the list's filters",
    openapi_extra=XLSX_OPENAPI,
)
def export_ledger(
    request: HttpRequest,
    enterprise_id: str,
    q: str = Query("", description=Q_HELP),
    type: str = "",
    counterparty: str = "",
    signed_from: str = "",
    signed_to: str = "",
) -> HttpResponse:
    actor = signed_in_user(request)
    rows = items.search(
        actor=actor,
        enterprise_id=enterprise_id,
        query=_query(q, type, counterparty, signed_from, signed_to),
    )
    enterprise = items.readable_enterprise(actor=actor, enterprise_id=enterprise_id)
    return download(ledger.ledger(rows), ledger.CONTENT_TYPE, ledger.filename(enterprise.name))


@router.get("/archive/{item_id}", response=ArchivedContractOut, summary="An archived contract")
def get_item(request: HttpRequest, item_id: str) -> ArchivedContractOut:
    return ArchivedContractOut.of(
        items.visible_item(actor=signed_in_user(request), item_id=item_id)
    )


@router.patch(
    "/archive/{item_id}",
    response=ArchivedContractOut,
    summary="Correct an archived contract's facts (the PDF stays as filed)",
)
def update_item(request: HttpRequest, item_id: str, payload: ArchivePatchIn) -> ArchivedContractOut:
    item = items.update_item(
        actor=signed_in_user(request),
        item_id=item_id,
        values=payload.model_dump(exclude_unset=True),
    )
    return ArchivedContractOut.of(item)


@router.delete("/archive/{item_id}", response={204: None}, summary="Delete an archived contract")
def delete_item(request: HttpRequest, item_id: str) -> Status[None]:
    items.delete_item(actor=signed_in_user(request), item_id=item_id)
    return Status(204, None)


@router.get(
    "/archive/{item_id}/document.pdf",
    summary="The archived contract's PDF",
    openapi_extra=PDF_OPENAPI,
)
def item_document(request: HttpRequest, item_id: str) -> HttpResponse:
    return pdf_download(items.visible_item(actor=signed_in_user(request), item_id=item_id))
