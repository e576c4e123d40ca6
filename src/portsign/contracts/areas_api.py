"""Signing areas on an uploaded contract's draft (issue 13 item 11): the sender draws where each
party seals, signs or dates. The signer sees them as `suggested_marks`; 批量签署 uses them."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from portsign.accounts.backends import signed_in_user
from portsign.common.api_auth import AUTH
from portsign.contracts.domain import areas
from portsign.contracts.domain.contracts import visible_contract
from portsign.contracts.models import SigningArea

router = Router(tags=["contracts"], auth=AUTH)


class SigningAreaIn(Schema):
    party_id: str
    kind: str = Field("seal", description="seal | signature | date")
    page: int
    x: float = Field(description="left edge, fraction of the page width")
    y: float = Field(description="top edge, fraction of the page height")
    width: float
    height: float


class SigningAreaOut(Schema):
    id: str
    party_id: str
    kind: str
    page: int
    x: float
    y: float
    width: float
    height: float

    @staticmethod
    def of(area: SigningArea) -> SigningAreaOut:
        return SigningAreaOut(
            id=area.id,
            party_id=area.party_id,
            kind=area.kind,
            page=area.page,
            x=area.x,
            y=area.y,
            width=area.width,
            height=area.height,
        )


@router.get(
    "/contracts/{contract_id}/areas",
    response=list[SigningAreaOut],
    summary="The signing areas the sender drew on an uploaded contract",
)
def list_areas(request: HttpRequest, contract_id: str) -> list[SigningAreaOut]:
    contract = visible_contract(actor=signed_in_user(request), contract_id=contract_id)
    rows = SigningArea.objects.filter(party__contract_id=contract.id).order_by("page", "y", "x")
    return [SigningAreaOut.of(row) for row in rows]


@router.post(
    "/contracts/{contract_id}/areas",
    response={201: SigningAreaOut},
    summary="Draw a signing area for a party on the draft",
)
def add_area(
    request: HttpRequest, contract_id: str, payload: SigningAreaIn
) -> Status[SigningAreaOut]:
    area = areas.add_area(
        actor=signed_in_user(request),
        contract_id=contract_id,
        party_id=payload.party_id,
        kind=payload.kind,
        page=payload.page,
        x=payload.x,
        y=payload.y,
        width=payload.width,
        height=payload.height,
    )
    return Status(201, SigningAreaOut.of(area))


@router.delete(
    "/contracts/{contract_id}/areas/{area_id}",
    response={204: None},
    summary="Remove a signing area from the draft",
)
def remove_area(request: HttpRequest, contract_id: str, area_id: str) -> Status[None]:
    areas.remove_area(actor=signed_in_user(request), contract_id=contract_id, area_id=area_id)
    return Status(204, None)
