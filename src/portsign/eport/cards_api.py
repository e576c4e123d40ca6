"""`/api/v1/eport/cards…`: E-Port cards, their PINs, lifecycle and permissions (API.md "Cards")."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router
from ninja.responses import Status

from portsign.accounts.backends import signed_in_user
from portsign.accounts.domain import tokens as api_tokens
from portsign.accounts.schemas import TokenOut, UserOut
from portsign.common.api_auth import AUTH
from portsign.common.errors import NotFound
from portsign.common.middleware import client_ip
from portsign.eport.card_schemas import (
    CardCancelIn,
    CardDetailOut,
    CardIn,
    CardLoginIn,
    CardOut,
    CardPageOut,
    CardQuery,
    MailIn,
    PermissionChangeOut,
    PermissionsIn,
    PinChangeIn,
    SubsystemCatalogueOut,
    SubsystemStateOut,
)
from portsign.eport.domain import (
    card_lifecycle,
    card_permissions,
    card_pins,
    card_printouts,
    card_sign_in,
    cards,
)
from portsign.eport.enums import CardAction
from portsign.pki import login_certificates

router = Router(tags=["eport cards"], auth=AUTH)
PAGE_SIZE = 20


def _detail(request: HttpRequest, card_id: str) -> CardDetailOut:
    return CardDetailOut.of_detail(cards.visible_card(signed_in_user(request), card_id))


@router.post(
    "/cards", response={201: CardDetailOut}, summary="Issue a card on a new token (office)"
)
def issue_card(request: HttpRequest, payload: CardIn) -> Status[CardDetailOut]:
    card = cards.issue(
        actor=signed_in_user(request),
        enterprise_id=payload.enterprise_id,
        holder=payload.holder,
        medium=payload.medium,
    )
    return Status(201, CardDetailOut.of_detail(card))


@router.get("/cards", response=CardPageOut, summary="Comprehensive card query (综合查询)")
def list_cards(request: HttpRequest, query: Query[CardQuery]) -> CardPageOut:
    rows = cards.search(
        actor=signed_in_user(request),
        filters=cards.CardFilters(
            enterprise_id=query.enterprise_id,
            number=query.number,
            holder_name=query.holder_name,
            id_number=query.id_number,
            kind=query.kind,
            status=query.status,
            expires_from=query.expires_from,
            expires_to=query.expires_to,
        ),
    )
    items, total = cards.page_of(rows, query.page, PAGE_SIZE)
    return CardPageOut(
        items=[CardOut.of(c) for c in items], total=total, page=query.page, page_size=PAGE_SIZE
    )


@router.get("/cards/expiring", response=list[CardOut], summary="Cards expiring within 60 days")
def expiring_cards(request: HttpRequest) -> list[CardOut]:
    visible = cards.visible_cards(signed_in_user(request)).values_list("id", flat=True)
    return [CardOut.of(c) for c in cards.expiring().filter(id__in=visible).order_by("number")]


@router.get("/cards/{card_id}", response=CardDetailOut, summary="A card with its history")
def get_card(request: HttpRequest, card_id: str) -> CardDetailOut:
    return _detail(request, card_id)


def _lifecycle(request: HttpRequest, card_id: str, action: str, **extra: bool) -> CardDetailOut:
    card = card_lifecycle.act(
        actor=signed_in_user(request),
        card_id=card_id,
        action=action,
        acting=card_sign_in.acting_card(request),
        **extra,
    )
    return CardDetailOut.of_detail(card)


@router.post("/cards/{card_id}/report-loss", response=CardDetailOut, summary="挂失: report lost")
def report_loss(request: HttpRequest, card_id: str) -> CardDetailOut:
    return _lifecycle(request, card_id, CardAction.REPORT_LOSS)


@router.post("/cards/{card_id}/cancel-loss", response=CardDetailOut, summary="解挂")
def cancel_loss(request: HttpRequest, card_id: str) -> CardDetailOut:
    return _lifecycle(request, card_id, CardAction.CANCEL_LOSS)


@router.post("/cards/{card_id}/freeze", response=CardDetailOut, summary="冻结: freeze")
def freeze(request: HttpRequest, card_id: str) -> CardDetailOut:
    return _lifecycle(request, card_id, CardAction.FREEZE)


@router.post("/cards/{card_id}/unfreeze", response=CardDetailOut, summary="解冻: unfreeze")
def unfreeze(request: HttpRequest, card_id: str) -> CardDetailOut:
    return _lifecycle(request, card_id, CardAction.UNFREEZE)


@router.post("/cards/{card_id}/cancel", response=CardDetailOut, summary="注销: cancel the card")
def cancel(
    request: HttpRequest, card_id: str, payload: CardCancelIn | None = None
) -> CardDetailOut:
    lost_for_good = bool(payload and payload.lost_for_good)
    return _lifecycle(request, card_id, CardAction.CANCEL, lost_for_good=lost_for_good)


@router.post("/cards/{card_id}/extend", response=CardDetailOut, summary="延期: a new certificate")
def extend(request: HttpRequest, card_id: str) -> CardDetailOut:
    card = card_lifecycle.extend(
        actor=signed_in_user(request), card_id=card_id, acting=card_sign_in.acting_card(request)
    )
    return CardDetailOut.of_detail(card)


@router.post("/cards/{card_id}/unlock", response=CardDetailOut, summary="解锁: PIN to 88888888")
def unlock(request: HttpRequest, card_id: str) -> CardDetailOut:
    card = card_lifecycle.unlock(
        actor=signed_in_user(request), card_id=card_id, acting=card_sign_in.acting_card(request)
    )
    return CardDetailOut.of_detail(card)


@router.post(
    "/cards/{card_id}/replace", response={201: CardDetailOut}, summary="补办: a new card and token"
)
def replace(request: HttpRequest, card_id: str) -> Status[CardDetailOut]:
    card = card_lifecycle.replace(
        actor=signed_in_user(request), card_id=card_id, acting=card_sign_in.acting_card(request)
    )
    return Status(201, CardDetailOut.of_detail(card))


@router.post("/cards/{card_id}/pin", response=CardDetailOut, summary="The holder changes the PIN")
def change_pin(request: HttpRequest, card_id: str, payload: PinChangeIn) -> CardDetailOut:
    actor = signed_in_user(request)
    card_pins.limit_pin_changes(actor, card_id)
    card_pins.change_pin(actor=actor, card_id=card_id, pin=payload.pin, new_pin=payload.new_pin)
    return _detail(request, card_id)


@router.put(
    "/cards/{card_id}/permissions",
    response=PermissionChangeOut,
    summary="The legal-person card sets an operator card's permissions (a filing)",
)
def set_permissions(
    request: HttpRequest, card_id: str, payload: PermissionsIn
) -> PermissionChangeOut:
    actor = signed_in_user(request)
    filing = card_permissions.request_change(
        actor=actor,
        card_id=card_id,
        permissions=payload.permissions,
        districts=payload.districts,
        acting=card_sign_in.acting_card(request),
    )
    card = cards.visible_card(actor, card_id)
    return PermissionChangeOut(
        filing_id=filing.id, filing_status=filing.status, card=CardOut.of(card)
    )


@router.get(
    "/permissions", response=list[SubsystemCatalogueOut], summary="The permission catalogue"
)
def permission_catalogue(request: HttpRequest) -> list[dict[str, object]]:
    return card_permissions.catalogue()


@router.get(
    "/me/subsystems",
    response=list[SubsystemStateOut],
    summary="What the signed-in card may open (greyed out with the reason)",
)
def my_subsystems(request: HttpRequest) -> list[SubsystemStateOut]:
    card = card_sign_in.acting_card(request)
    if card is None:
        raise NotFound(_("This session was not opened with an E-Port card."), code="no_card")
    return [SubsystemStateOut(**vars(s)) for s in card_permissions.subsystems_for(card)]


@router.get("/me/card", response=CardDetailOut, summary="The card this session was opened with")
def my_card(request: HttpRequest) -> CardDetailOut:
    card = card_sign_in.acting_card(request)
    if card is None:
        raise NotFound(_("This session was not opened with an E-Port card."), code="no_card")
    return CardDetailOut.of_detail(card)


@router.post("/cards/{card_id}/mail", response=CardDetailOut, summary="The office mails the card")
def mail(request: HttpRequest, card_id: str, payload: MailIn) -> CardDetailOut:
    cards.record_mailing(actor=signed_in_user(request), card_id=card_id, **payload.dict())
    return _detail(request, card_id)


@router.post("/cards/{card_id}/receive", response=CardDetailOut, summary="Confirm receipt")
def receive(request: HttpRequest, card_id: str) -> CardDetailOut:
    cards.confirm_receipt(actor=signed_in_user(request), card_id=card_id)
    return _detail(request, card_id)


# Card sign-in needs no session: it opens one.
login_router = Router(tags=["eport cards"])


@login_router.post("/cards/login", response=TokenOut, summary="Sign in with an E-Port card")
def card_login(request: HttpRequest, payload: CardLoginIn) -> TokenOut:
    card_sign_in.limit_sign_ins(client_ip(request))
    user, certificate = card_sign_in.sign_in_with_card(
        number=payload.number.strip(), pin=payload.pin, host=request.get_host()
    )
    token, raw = api_tokens.issue_token(user=user, name="card")
    login_certificates.remember_sign_in(certificate, token=token)
    return TokenOut(token=raw, expires_at=token.expires_at, user=UserOut.of(user))


def _pdf(data: bytes, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@router.get(
    "/cards/{card_id}/registration-form.pdf",
    summary="The 中国电子口岸企业IC卡登记表 of the card (seed 004 附件2)",
)
def registration_form(request: HttpRequest, card_id: str) -> HttpResponse:
    card = cards.visible_card(signed_in_user(request), card_id)
    return _pdf(card_printouts.registration_form(card), f"card-{card.number}-registration.pdf")


@router.get(
    "/cards/{card_id}/courier-form.pdf",
    summary="The 快递交接单 of the parcel the card was mailed in (seed 004 附件3)",
)
def courier_form(request: HttpRequest, card_id: str) -> HttpResponse:
    card = cards.visible_card(signed_in_user(request), card_id)
    return _pdf(card_printouts.courier_form(card), f"card-{card.number}-courier.pdf")
