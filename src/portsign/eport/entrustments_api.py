"""`/api/v1/eport/brokers`, `…/entrustments` (API.md "E-Port identity office"): registered
customs brokers and 代理报关委托, signed with operator cards."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Router
from ninja.responses import Status

from portsign.accounts.backends import signed_in_user
from portsign.common.api_auth import AUTH
from portsign.contracts.domain import documents
from portsign.eport.customs_schemas import (
    AutoConfirmationIn,
    AutoConfirmationOut,
    BrokerOut,
    EntrustmentIn,
    EntrustmentOut,
    EntrustmentPageOut,
    EntrustmentReasonIn,
    PinIn,
    TermsOut,
)
from portsign.eport.domain import auto_confirmations, brokers, entrustments, filings
from portsign.eport.domain.card_sign_in import acting_card
from portsign.eport.domain.entrustment_documents import TERMS, TERMS_TITLE

router = Router(tags=["eport entrustments"], auth=AUTH)


@router.get("/brokers", response=list[BrokerOut], summary="Find a registered customs broker")
def search_brokers(request: HttpRequest, q: str = "") -> list[BrokerOut]:
    """By customs code, organization code (or USCC) or part of the name; at least 2 characters."""
    return [BrokerOut.of(b) for b in brokers.search(q)]


@router.get(
    "/entrustments/terms", response=TermsOut, summary="委托报关协议通用条款, to read and accept"
)
def entrustment_terms(request: HttpRequest) -> TermsOut:
    return TermsOut(title=TERMS_TITLE, terms=list(TERMS))


@router.post(
    "/entrustments",
    response={201: EntrustmentOut},
    summary="Entrust (or accept to be entrusted with) declarations, signed with an operator card",
)
def create_entrustment(request: HttpRequest, payload: EntrustmentIn) -> Status[EntrustmentOut]:
    actor = signed_in_user(request)
    made = entrustments.create(
        actor=actor,
        acting=acting_card(request),
        new=entrustments.NewEntrustment(
            consignor_id=payload.consignor_id,
            broker_id=payload.broker_id,
            district=payload.district,
            valid_until=payload.valid_until,
            goods=payload.goods,
            accept_terms=payload.accept_terms,
            pin=payload.pin,
        ),
    )
    return Status(201, EntrustmentOut.of(made, made.initiator, history=True))


@router.get("/entrustments", response=EntrustmentPageOut, summary="An enterprise's entrustments")
def list_entrustments(
    request: HttpRequest,
    enterprise_id: str,
    role: str = "",
    status: str = "",
    number: str = "",
    counterpart: str = "",
    page: int = 1,
    page_size: int = 20,
) -> EntrustmentPageOut:
    actor = signed_in_user(request)
    rows = entrustments.listed(
        actor, entrustments.Filters(enterprise_id, role, status, number, counterpart)
    )
    items, total = filings.paginate(rows, page, page_size)
    return EntrustmentPageOut(
        items=[
            EntrustmentOut.of(e, "consignor" if e.consignor_id == enterprise_id else "broker")
            for e in items
        ],
        total=total,
        page=page,
        page_size=page_size,
    )


def _out(request: HttpRequest, entrustment_id: str) -> EntrustmentOut:
    found, side = entrustments.visible(
        signed_in_user(request), entrustment_id, acting_card(request)
    )
    return EntrustmentOut.of(found, side, history=True)


@router.get("/entrustments/{entrustment_id}", response=EntrustmentOut, summary="An entrustment")
def get_entrustment(request: HttpRequest, entrustment_id: str) -> EntrustmentOut:
    return _out(request, entrustment_id)


@router.get(
    "/entrustments/{entrustment_id}/document.pdf",
    summary="The entrustment's signed PDF (the contract's current version)",
)
def entrustment_document(request: HttpRequest, entrustment_id: str) -> HttpResponse:
    found, _side = entrustments.visible(
        signed_in_user(request), entrustment_id, acting_card(request)
    )
    found.contract.refresh_from_db()
    response = HttpResponse(
        documents.read_document(found.contract.current), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'attachment; filename="entrustment-{found.number}.pdf"'
    return response


@router.post(
    "/entrustments/{entrustment_id}/confirm",
    response=EntrustmentOut,
    summary="The other side confirms, signing with its operator card",
)
def confirm(request: HttpRequest, entrustment_id: str, payload: PinIn) -> EntrustmentOut:
    entrustments.confirm(
        actor=signed_in_user(request),
        acting=acting_card(request),
        entrustment_id=entrustment_id,
        pin=payload.pin,
    )
    return _out(request, entrustment_id)


@router.post(
    "/entrustments/{entrustment_id}/refuse",
    response=EntrustmentOut,
    summary="The other side refuses, with a reason",
)
def refuse(
    request: HttpRequest, entrustment_id: str, payload: EntrustmentReasonIn
) -> EntrustmentOut:
    entrustments.refuse(
        actor=signed_in_user(request),
        acting=acting_card(request),
        entrustment_id=entrustment_id,
        reason=payload.reason,
    )
    return _out(request, entrustment_id)


@router.post(
    "/entrustments/{entrustment_id}/revoke",
    response=EntrustmentOut,
    summary="Revoke: the initiator before confirmation, either side once effective",
)
def revoke(
    request: HttpRequest, entrustment_id: str, payload: EntrustmentReasonIn
) -> EntrustmentOut:
    entrustments.revoke(
        actor=signed_in_user(request),
        acting=acting_card(request),
        entrustment_id=entrustment_id,
        reason=payload.reason,
    )
    return _out(request, entrustment_id)


@router.get(
    "/enterprises/{enterprise_id}/auto-confirmations",
    response=list[AutoConfirmationOut],
    summary="自动确认: the consignor's standing authorizations",
)
def list_auto(request: HttpRequest, enterprise_id: str) -> list[AutoConfirmationOut]:
    rows = auto_confirmations.of_consignor(
        actor=signed_in_user(request), consignor_id=enterprise_id
    )
    return [AutoConfirmationOut.of(row) for row in rows]


@router.post(
    "/enterprises/{enterprise_id}/auto-confirmations",
    response={200: None, 201: AutoConfirmationOut},
    summary="Switch auto-confirmation for a broker on (with a seal) or off (legal-person card)",
)
def set_auto(
    request: HttpRequest, enterprise_id: str, payload: AutoConfirmationIn
) -> Status[AutoConfirmationOut | None]:
    actor, acting = signed_in_user(request), acting_card(request)
    if not payload.enabled:
        auto_confirmations.switch_off(
            actor=actor, acting=acting, consignor_id=enterprise_id, broker_id=payload.broker_id
        )
        return Status(200, None)
    made = auto_confirmations.switch_on(
        actor=actor,
        acting=acting,
        consignor_id=enterprise_id,
        broker_id=payload.broker_id,
        seal_id=payload.seal_id,
    )
    return Status(201, AutoConfirmationOut.of(made))
