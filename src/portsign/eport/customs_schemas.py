"""Schemas of `/api/v1/eport/districts`, `…/paperless-agreements` and `…/entrustments`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema

from portsign.eport.models import (
    AgreementEvent,
    AutoConfirmation,
    Broker,
    District,
    Entrustment,
    PaperlessAgreement,
)


class DistrictOut(Schema):
    code: str = Field(description="关区代码: 4 digits, XX00 the direct customs")
    name: str
    direct: str = Field(description="the direct customs' code (its own for a direct customs)")
    customs_authority: str | None = Field(description="the customs authority acting for it")

    @staticmethod
    def of(district: District) -> DistrictOut:
        authority = (district.direct or district).authority  # offices follow their customs
        return DistrictOut(
            code=district.code,
            name=district.name,
            direct=district.direct_id or district.code,
            customs_authority=authority.name if authority else None,
        )


class TermsOut(Schema):
    title: str
    terms: list[str]


class AgreementsIn(Schema):
    districts: list[str] = Field(description="direct customs codes (XX00)", max_length=50)
    accept_terms: bool = False
    pin: str = Field("", description="the legal-person card's PIN", max_length=32)


class OpinionIn(Schema):
    opinion: str = Field("", max_length=2000)


class AgreementEventOut(Schema):
    at: dt.datetime
    action: str
    status: str
    opinion: str
    actor: str

    @staticmethod
    def of(event: AgreementEvent) -> AgreementEventOut:
        return AgreementEventOut(
            at=event.at,
            action=event.action,
            status=event.status,
            opinion=event.opinion,
            actor=event.actor.name if event.actor else "",
        )


class AgreementOut(Schema):
    id: str
    enterprise_id: str
    enterprise_name: str
    district: str
    district_name: str
    status: str = Field(description="sent_to_customs | received | approved | returned | terminated")
    status_label: str
    card_number: str
    signed_at: dt.datetime
    received_at: dt.datetime | None
    decided_at: dt.datetime | None
    terminated_at: dt.datetime | None
    opinion: str
    sha256: str = Field(description="SHA-256 of the signed PDF")
    history: list[AgreementEventOut] | None = None

    @staticmethod
    def of(agreement: PaperlessAgreement, *, history: bool = False) -> AgreementOut:
        return AgreementOut(
            id=agreement.id,
            enterprise_id=agreement.enterprise_id,
            enterprise_name=agreement.enterprise.name,
            district=agreement.district_id,
            district_name=agreement.district.name,
            status=agreement.status,
            status_label=str(agreement.get_status_display()),
            card_number=agreement.card.number,
            signed_at=agreement.signed_at,
            received_at=agreement.received_at,
            decided_at=agreement.decided_at,
            terminated_at=agreement.terminated_at,
            opinion=agreement.opinion,
            sha256=agreement.sha256,
            history=[AgreementEventOut.of(e) for e in agreement.events.select_related("actor")]
            if history
            else None,
        )


class AgreementPageOut(Schema):
    items: list[AgreementOut]
    total: int
    page: int
    page_size: int


class BrokerOut(Schema):
    id: str = Field(description="the broker enterprise's id (broker_id)")
    name: str
    customs_code: str = Field(description="海关注册编码")
    organization_code: str = Field(description="组织机构代码")

    @staticmethod
    def of(broker: Broker) -> BrokerOut:
        return BrokerOut(
            id=broker.enterprise_id,
            name=broker.enterprise.name,
            customs_code=broker.customs_code,
            organization_code=broker.organization_code,
        )


class EntrustmentIn(Schema):
    consignor_id: str
    broker_id: str
    district: str = Field(description="申报关区: a 4-digit customs district code")
    valid_until: dt.date | None = Field(None, description="the 委托书's validity end")
    goods: list[dict[str, Any]] = Field(
        default_factory=list,
        description="委托报关协议: goods_name, hs_code, total_price, currency, trade_mode, "
        "import_export_date, bill_of_lading, packages, weight_kg, packing, origin_destination",
    )
    accept_terms: bool = False
    pin: str = Field("", max_length=32, description="the operator card's PIN")


class PinIn(Schema):
    pin: str = Field("", max_length=32)


class EntrustmentReasonIn(Schema):
    reason: str = Field("", max_length=2000)


class EntrustmentEventOut(Schema):
    at: dt.datetime
    action: str
    status: str
    detail: str
    actor: str


class EntrustmentOut(Schema):
    id: str
    number: str = Field(description="委托书编号, quoted by the broker in its declaration")
    status: str = Field(
        description="awaiting_confirmation | effective | revoked | refused | expired"
    )
    status_label: str
    initiator: str = Field(description="consignor | broker")
    my_side: str = Field(description="the caller's side")
    consignor_id: str
    consignor_name: str
    broker_id: str
    broker_name: str
    district: str
    valid_until: dt.date
    goods: list[dict[str, str]]
    contract_id: str
    auto_confirmed: bool
    reason: str
    created_at: dt.datetime
    decided_at: dt.datetime | None
    history: list[EntrustmentEventOut] | None = None

    @staticmethod
    def of(entrustment: Entrustment, side: str, *, history: bool = False) -> EntrustmentOut:
        return EntrustmentOut(
            id=entrustment.id,
            number=entrustment.number,
            status=entrustment.status,
            status_label=str(entrustment.get_status_display()),
            initiator=entrustment.initiator,
            my_side=side,
            consignor_id=entrustment.consignor_id,
            consignor_name=entrustment.consignor.name,
            broker_id=entrustment.broker_id,
            broker_name=entrustment.broker.name,
            district=entrustment.district_id,
            valid_until=entrustment.valid_until,
            goods=entrustment.goods,
            contract_id=entrustment.contract_id,
            auto_confirmed=entrustment.auto_confirmation_id is not None,
            reason=entrustment.reason,
            created_at=entrustment.created_at,
            decided_at=entrustment.decided_at,
            history=[
                EntrustmentEventOut(
                    at=e.at,
                    action=e.action,
                    status=e.status,
                    detail=e.detail,
                    actor=e.actor.name if e.actor else "",
                )
                for e in entrustment.events.select_related("actor")
            ]
            if history
            else None,
        )


class EntrustmentPageOut(Schema):
    items: list[EntrustmentOut]
    total: int
    page: int
    page_size: int


class AutoConfirmationIn(Schema):
    broker_id: str
    seal_id: str = ""
    enabled: bool = True


class AutoConfirmationOut(Schema):
    id: str
    broker_id: str
    broker_name: str
    seal_id: str
    authorized_by: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None

    @staticmethod
    def of(row: AutoConfirmation) -> AutoConfirmationOut:
        return AutoConfirmationOut(
            id=row.id,
            broker_id=row.broker_id,
            broker_name=row.broker.enterprise.name,
            seal_id=row.seal_id,
            authorized_by=row.authorized_by.name,
            created_at=row.created_at,
            revoked_at=row.revoked_at,
        )
