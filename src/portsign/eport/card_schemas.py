"""API shapes of E-Port cards (API.md "Cards")."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Schema
from pydantic import Field

from portsign.eport.domain import card_permissions, cards
from portsign.eport.models import Card, CardEvent


def masked(id_number: str) -> str:
    """An ID number as lists show it: the first 4 and last 4 characters."""
    if len(id_number) <= 8:
        return "*" * len(id_number)
    return f"{id_number[:4]}{'*' * (len(id_number) - 8)}{id_number[-4:]}"


class CardIn(Schema):
    enterprise_id: str
    holder: str = Field(description='"legal_person" or the id of a registered operator')
    medium: str = Field("ukey", description="ukey | ic")


class CardEventOut(Schema):
    at: datetime
    action: str
    action_label: str
    status: str
    actor: str
    detail: str

    @staticmethod
    def of(e: CardEvent) -> CardEventOut:
        return CardEventOut(
            at=e.at,
            action=e.action,
            action_label=str(e.get_action_display()),
            status=e.status,
            actor=e.actor.name if e.actor else "",
            detail=e.detail if e.action in ("issue", "extend") else "",
        )


class CardOut(Schema):
    id: str
    number: str
    kind: str = Field(description="legal_person | operator")
    kind_label: str
    medium: str = Field(description="ukey | ic")
    status: str = Field(description="active | lost | frozen | cancelled")
    status_label: str
    pin_locked: bool
    pin_must_change: bool = Field(description="the initial PIN 88888888 is still set")
    pin_failures: int = Field(description="consecutive wrong PINs the platform has seen")
    expired: bool
    not_after: datetime
    certificate_id: str
    certificate_serial: str
    enterprise_id: str
    enterprise_name: str
    holder_name: str
    holder_id_number: str = Field(description="masked")
    operator_id: str | None
    issued_at: datetime
    first_sign_in_at: datetime | None
    tracking_number: str
    mailed_at: datetime | None
    received_at: datetime | None
    replaces_id: str | None
    permissions: list[str]
    districts: list[str]

    @staticmethod
    def of(card: Card) -> CardOut:
        return CardOut(
            id=card.id,
            number=card.number,
            kind=card.kind,
            kind_label=str(card.get_kind_display()),
            medium=card.medium,
            status=card.status,
            status_label=str(card.get_status_display()),
            pin_locked=card.pin_locked,
            pin_must_change=card.pin_must_change,
            pin_failures=card.pin_failures,
            expired=cards.expired(card),
            not_after=card.certificate.not_after,
            certificate_id=card.certificate_id,
            certificate_serial=card.certificate.serial,
            enterprise_id=card.enterprise_id,
            enterprise_name=card.enterprise.name,
            holder_name=card.holder_name,
            holder_id_number=masked(card.holder_id_number),
            operator_id=card.operator_id,
            issued_at=card.issued_at,
            first_sign_in_at=card.first_sign_in_at,
            tracking_number=card.tracking_number,
            mailed_at=card.mailed_at,
            received_at=card.received_at,
            replaces_id=card.replaces_id,
            permissions=card_permissions.granted(card),
            districts=card_permissions.districts_of(card),
        )


class CardDetailOut(CardOut):
    history: list[CardEventOut]

    @staticmethod
    def of_detail(card: Card) -> CardDetailOut:
        return CardDetailOut(
            **CardOut.of(card).dict(),
            history=[CardEventOut.of(e) for e in card.events.select_related("actor")],
        )


class CardPageOut(Schema):
    items: list[CardOut]
    total: int
    page: int
    page_size: int


class CardCancelIn(Schema):
    lost_for_good: bool = Field(
        False, description="a lost card that will not be found: revoked for keyCompromise"
    )


class PinChangeIn(Schema):
    pin: str = Field(description="the current PIN (88888888 at first)")
    new_pin: str = Field(description="8 to 16 letters or digits")


class CardLoginIn(Schema):
    number: str
    pin: str


class PermissionsIn(Schema):
    permissions: list[str] = Field(
        description='codes of GET /eport/permissions, e.g. "payment.view"'
    )
    districts: list[str] = Field(default_factory=list, description="4-digit customs districts")


class PermissionChangeOut(Schema):
    filing_id: str
    filing_status: str = Field(description="declared, or approved where the office auto-approves")
    card: CardOut


class PermissionActionOut(Schema):
    code: str
    label: str


class SubsystemCatalogueOut(Schema):
    code: str
    label: str
    actions: list[PermissionActionOut]


class SubsystemStateOut(Schema):
    code: str
    label: str
    enabled: bool
    reason: str = Field(description="why it is greyed out; empty when enabled")
    actions: list[dict[str, object]]


class MailIn(Schema):
    tracking_number: str = Field(description="the EMS tracking number")
    recipient: str
    phone: str
    address: str


class CardQuery(Schema):
    enterprise_id: str = ""
    number: str = ""
    holder_name: str = ""
    id_number: str = ""
    kind: str = ""
    status: str = Field("", description="active | lost | frozen | cancelled | locked | expired")
    expires_from: date | None = None
    expires_to: date | None = None
    page: int = 1
