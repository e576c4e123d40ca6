"""Signing through the open API (SPEC D5, API.md): the palette, the intent (a code, a QR code
confirmed on a phone, or a face liveness check), the signing act, and 完成签署 for a party that
signs in several acts. Paths sit under /contracts like the rest of a contract's."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from portsign.accounts.backends import signed_in_user
from portsign.accounts.domain.codes import mask_address
from portsign.common.api_auth import AUTH
from portsign.common.errors import Invalid
from portsign.common.qr import qr_svg
from portsign.contracts.api import ContractOut, _load
from portsign.contracts.domain import batch_signing, signing
from portsign.contracts.domain import contracts as domain
from portsign.contracts.models import SigningIntent

router = Router(tags=["contracts"], auth=AUTH)

FINISH = Field(
    True,
    description="end this party's part with this act (完成签署); false to sign again later, "
    "then POST /contracts/{id}/sign/finish",
)


class MarksIn(Schema):
    acting_as: str = "personal"
    marks: list[dict[str, Any]]
    finish: bool = FINISH


class SignIn(MarksIn):
    code: str = Field("", description="the intent code; or intent_id after a QR or face check")
    intent_id: str = ""


class ActingIn(Schema):
    acting_as: str = "personal"


class QrIntentOut(Schema):
    intent_id: str
    expires_at: dt.datetime
    confirm_url: str
    qr_svg: str


class FaceIntentOut(Schema):
    intent_id: str
    expires_at: dt.datetime
    face_url: str = Field(description="the provider's liveness page, to open on a phone")
    qr_svg: str


class IntentStatusOut(Schema):
    intent_id: str
    confirmed: bool
    used: bool
    expired: bool
    failure: str = Field("", description="face_mismatch when the liveness check failed")


class IntentOut(Schema):
    intent_id: str
    expires_at: dt.datetime
    sent_to: str


class PaletteItem(Schema):
    id: str
    type: str
    name: str
    label: str = Field(description="unique within the palette: name, kind, and if needed a tail")
    required: bool = Field(description="this kind (company seals: one of them) must be applied")
    image_url: str
    width_mm: float
    height_mm: float


@router.get(
    "/contracts/{contract_id}/palette",
    response=list[PaletteItem],
    summary="The seals and signatures you may apply here",
)
def palette(
    request: HttpRequest, contract_id: str, acting_as: str = "personal"
) -> list[PaletteItem]:
    actor = signed_in_user(request)
    contract = domain.visible_contract(actor=actor, contract_id=contract_id)
    return [
        PaletteItem(
            id=entry.seal.id,
            type=entry.seal.kind,
            name=entry.seal.name,
            label=entry.label,
            required=entry.required,
            image_url=f"/api/v1/seals/{entry.seal.id}/image.png",
            width_mm=float(entry.seal.width_mm),
            height_mm=float(entry.seal.height_mm),
        )
        for entry in signing.palette(actor=actor, contract=contract, acting_as=acting_as)
    ]


@router.post(
    "/contracts/{contract_id}/sign/codes",
    response={202: IntentOut},
    summary="Send the intent code for exactly these marks",
)
def sign_code(request: HttpRequest, contract_id: str, payload: MarksIn) -> Status[IntentOut]:
    actor = signed_in_user(request)
    intent = signing.request_intent(
        actor=actor,
        contract_id=contract_id,
        acting_as=payload.acting_as,
        marks=payload.marks,
        finish=payload.finish,
    )
    return Status(
        202,
        IntentOut(
            intent_id=intent.id,
            expires_at=intent.expires_at,
            sent_to=mask_address(actor.phone or actor.email or ""),
        ),
    )


@router.post(
    "/contracts/{contract_id}/sign", response=ContractOut, summary="Sign with the intent code"
)
def sign(request: HttpRequest, contract_id: str, payload: SignIn) -> ContractOut:
    actor = signed_in_user(request)
    signing.sign(
        actor=actor,
        contract_id=contract_id,
        acting_as=payload.acting_as,
        marks=payload.marks,
        code=payload.code,
        intent_id=payload.intent_id,
        finish=payload.finish,
    )
    return ContractOut.of(_load(actor, contract_id), versions=True)


@router.post(
    "/contracts/{contract_id}/sign/finish",
    response=ContractOut,
    summary="Finish your party's part after signing in several acts (完成签署)",
)
def finish(request: HttpRequest, contract_id: str, payload: ActingIn) -> ContractOut:
    actor = signed_in_user(request)
    signing.finish(actor=actor, contract_id=contract_id, acting_as=payload.acting_as)
    return ContractOut.of(_load(actor, contract_id), versions=True)


def _intent(
    request: HttpRequest, contract_id: str, payload: MarksIn, method: signing.Method
) -> SigningIntent:
    return signing.request_intent(
        actor=signed_in_user(request),
        contract_id=contract_id,
        acting_as=payload.acting_as,
        marks=payload.marks,
        finish=payload.finish,
        method=method,
    )


@router.post(
    "/contracts/{contract_id}/sign/qr",
    response={202: QrIntentOut},
    summary="Confirm these marks by scanning a QR code on a signed-in phone",
)
def sign_qr(request: HttpRequest, contract_id: str, payload: MarksIn) -> Status[QrIntentOut]:
    intent = _intent(request, contract_id, payload, signing.Method.QR)
    url = f"{settings.PUBLIC_URL}/console/contracts/confirm/{intent.id}/"
    return Status(
        202,
        QrIntentOut(
            intent_id=intent.id, expires_at=intent.expires_at, confirm_url=url, qr_svg=qr_svg(url)
        ),
    )


@router.post(
    "/contracts/{contract_id}/sign/face",
    response={202: FaceIntentOut},
    summary="Confirm these marks by a face liveness check (刷脸) against your verified identity",
)
def sign_face(request: HttpRequest, contract_id: str, payload: MarksIn) -> Status[FaceIntentOut]:
    intent = _intent(request, contract_id, payload, signing.Method.FACE)
    url = intent.face_url
    return Status(
        202,
        FaceIntentOut(
            intent_id=intent.id, expires_at=intent.expires_at, face_url=url, qr_svg=qr_svg(url)
        ),
    )


@router.get(
    "/contracts/{contract_id}/sign/intents/{intent_id}",
    response=IntentStatusOut,
    summary="Whether the phone (QR) or the face check has confirmed",
)
def intent_status(request: HttpRequest, contract_id: str, intent_id: str) -> IntentStatusOut:
    intent = signing.poll_intent(actor=signed_in_user(request), intent_id=intent_id)
    if intent.contract_id != contract_id:
        raise Invalid(_("This confirmation belongs to another contract."), code="intent_contract")
    now = timezone.now()
    return IntentStatusOut(
        intent_id=intent.id,
        confirmed=intent.confirmed_at is not None,
        used=intent.used_at is not None,
        expired=intent.expires_at <= now,
        failure=intent.failure,
    )


# -- 批量签署: several contracts, one seal, one code -------------------------------------------


class BatchIn(Schema):
    acting_as: str = "personal"
    contract_ids: list[str]
    seal_id: str = Field(description="placed on every seal area of your party in each contract")
    date: bool = Field(True, description="also the date stamp on the party's date areas")


class BatchItemOut(Schema):
    contract_id: str
    marks: int


class BatchOut(Schema):
    batch_id: str
    expires_at: dt.datetime
    sent_to: str
    items: list[BatchItemOut]


class BatchSignIn(Schema):
    code: str


class BatchResultOut(Schema):
    contract_id: str
    title: str
    status: str = Field(description="signed | failed")
    error: str


@router.post(
    "/signing-batches",
    response={202: BatchOut},
    summary="Batch signing: check every contract's act and send one code for the exact list",
)
def batch_code(request: HttpRequest, payload: BatchIn) -> Status[BatchOut]:
    actor = signed_in_user(request)
    batch = batch_signing.request_batch(
        actor=actor,
        acting_as=payload.acting_as,
        contract_ids=payload.contract_ids,
        seal_id=payload.seal_id,
        date=payload.date,
    )
    return Status(
        202,
        BatchOut(
            batch_id=batch.id,
            expires_at=batch.expires_at,
            sent_to=mask_address(actor.phone or actor.email or ""),
            items=[
                BatchItemOut(contract_id=item["contract"], marks=len(item["marks"]))
                for item in batch.items
            ],
        ),
    )


@router.post(
    "/signing-batches/{batch_id}/sign",
    response=list[BatchResultOut],
    summary="Sign every contract of the batch with its one code; each reports signed or failed",
)
def batch_sign(request: HttpRequest, batch_id: str, payload: BatchSignIn) -> list[BatchResultOut]:
    results = batch_signing.sign_batch(
        actor=signed_in_user(request), batch_id=batch_id, code=payload.code
    )
    return [
        BatchResultOut(contract_id=r.contract_id, title=r.title, status=r.status, error=r.error)
        for r in results
    ]
