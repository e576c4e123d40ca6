"""`/api/v1/eport/districts`, `…/paperless-agreements` (API.md "E-Port identity office"):
the customs district table and the 通关无纸化三方协议 of an enterprise and of customs."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Router
from ninja.responses import Status

from portsign.accounts.backends import signed_in_user
from portsign.common.api_auth import AUTH
from portsign.eport.customs_schemas import (
    AgreementOut,
    AgreementPageOut,
    AgreementsIn,
    DistrictOut,
    OpinionIn,
    TermsOut,
)
from portsign.eport.domain import agreements, districts, filings
from portsign.eport.domain.agreement_documents import TERMS, TITLE
from portsign.eport.domain.card_sign_in import acting_card

router = Router(tags=["eport customs"], auth=AUTH)


def _page(rows: object, page: int, page_size: int) -> AgreementPageOut:
    items, total = filings.paginate(rows, page, page_size)  # type: ignore[arg-type]
    return AgreementPageOut(
        items=[AgreementOut.of(a) for a in items], total=total, page=page, page_size=page_size
    )


@router.get("/districts", response=list[DistrictOut], summary="Search the customs districts")
def search_districts(request: HttpRequest, q: str = "", direct: bool = False) -> list[DistrictOut]:
    """By code prefix or part of the name; `direct=true` for the direct customs (XX00) only."""
    return [DistrictOut.of(d) for d in districts.search(q, direct_only=direct)]


@router.get(
    "/paperless-agreements/terms",
    response=TermsOut,
    summary="The paperless agreement's terms, to read and accept before signing",
)
def agreement_terms(request: HttpRequest) -> TermsOut:
    return TermsOut(title=TITLE, terms=list(TERMS))


@router.get(
    "/enterprises/{enterprise_id}/paperless-agreements/districts",
    response=list[DistrictOut],
    summary="The direct customs districts the enterprise may still sign",
)
def signable(request: HttpRequest, enterprise_id: str) -> list[DistrictOut]:
    enterprise = agreements.readable_enterprise(signed_in_user(request), enterprise_id)
    return [DistrictOut.of(d) for d in agreements.signable_districts(enterprise)]


@router.post(
    "/enterprises/{enterprise_id}/paperless-agreements",
    response={201: list[AgreementOut]},
    summary="三方协议签约: one agreement per district, signed with the legal-person card",
)
def sign_agreements(
    request: HttpRequest, enterprise_id: str, payload: AgreementsIn
) -> Status[list[AgreementOut]]:
    made = agreements.sign(
        actor=signed_in_user(request),
        enterprise_id=enterprise_id,
        district_codes=payload.districts,
        accept_terms=payload.accept_terms,
        pin=payload.pin,
        acting=acting_card(request),
    )
    return Status(201, [AgreementOut.of(a) for a in made])


@router.get(
    "/enterprises/{enterprise_id}/paperless-agreements",
    response=AgreementPageOut,
    summary="三方协议查询: the enterprise's agreements with their status",
)
def list_agreements(
    request: HttpRequest, enterprise_id: str, status: str = "", page: int = 1, page_size: int = 20
) -> AgreementPageOut:
    rows = agreements.of_enterprise(
        actor=signed_in_user(request), enterprise_id=enterprise_id, status=status
    )
    return _page(rows, page, page_size)


@router.get(
    "/customs/paperless-agreements",
    response=AgreementPageOut,
    summary="The agreements of the districts the caller reviews for (customs)",
)
def customs_queue(
    request: HttpRequest, status: str = "", page: int = 1, page_size: int = 20
) -> AgreementPageOut:
    return _page(
        agreements.customs_queue(actor=signed_in_user(request), status=status), page, page_size
    )


@router.get(
    "/paperless-agreements/{agreement_id}",
    response=AgreementOut,
    summary="An agreement with its history",
)
def get_agreement(request: HttpRequest, agreement_id: str) -> AgreementOut:
    found = agreements.visible_agreement(signed_in_user(request), agreement_id)
    return AgreementOut.of(found, history=True)


@router.get(
    "/paperless-agreements/{agreement_id}/document.pdf",
    summary="The signed agreement (PDF, signed with the legal-person card)",
)
def agreement_document(request: HttpRequest, agreement_id: str) -> HttpResponse:
    found = agreements.visible_agreement(signed_in_user(request), agreement_id)
    response = HttpResponse(agreements.document(found), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="paperless-agreement-{found.district_id}-{found.id}.pdf"'
    )
    return response


@router.post(
    "/paperless-agreements/{agreement_id}/receive",
    response=AgreementOut,
    summary="海关入库: customs receives the agreement",
)
def receive(request: HttpRequest, agreement_id: str) -> AgreementOut:
    done = agreements.receive(actor=signed_in_user(request), agreement_id=agreement_id)
    return AgreementOut.of(done, history=True)


@router.post(
    "/paperless-agreements/{agreement_id}/approve",
    response=AgreementOut,
    summary="签约海关审批通过: customs approves",
)
def approve(request: HttpRequest, agreement_id: str, payload: OpinionIn) -> AgreementOut:
    done = agreements.approve(
        actor=signed_in_user(request), agreement_id=agreement_id, opinion=payload.opinion
    )
    return AgreementOut.of(done, history=True)


@router.post(
    "/paperless-agreements/{agreement_id}/return",
    response=AgreementOut,
    summary="Customs returns the agreement with an opinion",
)
def return_agreement(request: HttpRequest, agreement_id: str, payload: OpinionIn) -> AgreementOut:
    done = agreements.return_agreement(
        actor=signed_in_user(request), agreement_id=agreement_id, opinion=payload.opinion
    )
    return AgreementOut.of(done, history=True)


@router.post(
    "/paperless-agreements/{agreement_id}/terminate",
    response=AgreementOut,
    summary="三方协议解约: the legal-person card terminates, no review",
)
def terminate(request: HttpRequest, agreement_id: str) -> AgreementOut:
    done = agreements.terminate(
        actor=signed_in_user(request), agreement_id=agreement_id, acting=acting_card(request)
    )
    return AgreementOut.of(done, history=True)
