"""The world of a declaration entrustment: a consignor (Alice's Haikou enterprise) with an
approved paperless agreement for 青岛 (4200) and an operator card allowed to confirm
entrustments; a registered broker (Bob's Sanya enterprise) with the same; made-up people."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from portsign.eport.domain.authorities import add_reviewer, create_authority
from tests.eport.card_helpers import (
    NEW_PIN,
    CardWorld,
    card_session,
    change_pin,
    onboard_fully,
    operator_member,
)
from tests.eport.conftest import decide, declared, ok, operator_form
from tests.eport.customs_helpers import QINGDAO, Customs, legal_person_session, sign
from tests.helpers import Api, Person, make_person, synthetic_id_number

BROKER_CUSTOMS_CODE = "4602980001"


@dataclass
class Side:
    enterprise: Any
    admin: Person
    legal: Api  # a session of its legal-person card
    legal_card: dict[str, Any]
    operator: Person
    operator_card: dict[str, Any]
    session: Api  # a session of its operator card


@dataclass
class Trade:
    consignor: Side
    broker: Side
    customs: Customs
    association: Person


def grant_entrustments(legal: Api, card: dict[str, Any], office: Person) -> None:
    """委托书确认 for every district, filed by the legal-person card, approved by the office."""
    body = {"permissions": ["declaration.entrustment"], "districts": []}
    filed = ok(legal.request("PUT", f"/eport/cards/{card['id']}/permissions", body))
    decide(office, filed["filing_id"], "approve", "同意授权。")


def operator_side(
    enterprise, admin: Person, office: Person, legal: Api, legal_card: dict, operator: Person,
    operator_id: str,
) -> Side:  # fmt: skip
    card = ok(
        office.api.post("/eport/cards", {"enterprise_id": enterprise.id, "holder": operator_id}),
        201,
    )
    ok(change_pin(operator, card["id"]))
    grant_entrustments(legal, card, office)
    return Side(enterprise, admin, legal, legal_card, operator, card, card_session(card["number"]))


def approved_agreement(customs: Customs, legal: Api, enterprise_id: str) -> None:
    made = ok(sign(legal, enterprise_id, [QINGDAO]), 201)[0]
    ok(customs.qingdao.api.post(f"/eport/paperless-agreements/{made['id']}/receive"))
    ok(customs.qingdao.api.post(f"/eport/paperless-agreements/{made['id']}/approve", {}))


def registered_broker(bob: Person, sanya, province_reviewer: Person) -> Person:
    """Bob's enterprise onboarded and registered with the Hainan brokers association."""
    national = create_authority(kind="association", code="100000", name="中国报关协会", parent=None)
    hainan = create_authority(
        kind="association", code="460000", name="海南省报关协会", parent=national
    )
    association = make_person("+8613800000081", "Association Reviewer Test")
    add_reviewer(authority=hainan, user=association.user)
    onboard_fully(bob, sanya, province_reviewer)
    data = {
        "customs_code": BROKER_CUSTOMS_CODE,
        "contact_name": "报关联系人",
        "contact_phone": "0898-88000001",
    }
    filing = declared(bob, sanya, "broker_registration", data)
    decide(association, filing["id"], "approve", "报关协会确认。")
    return association


def trade_world(
    world: CardWorld, customs: Customs, bob: Person, sanya, province_reviewer, *, agreement=True
) -> Trade:
    """Both sides ready; without *agreement*, the consignor has not signed its paperless
    agreement for 4200 yet (the browser test does that through the pages)."""
    association = registered_broker(bob, sanya, province_reviewer)
    # The consignor: its legal-person card signs the agreement, then grants Olivia's card.
    legal_card, legal = legal_person_session(world)
    if agreement:
        approved_agreement(customs, legal, world.enterprise.id)
    consignor = operator_side(
        world.enterprise, world.admin, world.reviewer, legal, legal_card, world.operator_person,
        world.operator_id,
    )  # fmt: skip
    return Trade(consignor, broker_side(bob, sanya, province_reviewer), customs, association)


def broker_side(bob: Person, sanya, office: Person) -> Side:
    """The broker's legal-person card, and Bruno, its operator, with his card."""
    body = {"enterprise_id": sanya.id, "holder": "legal_person"}
    legal_card = ok(office.api.post("/eport/cards", body), 201)
    ok(change_pin(bob, legal_card["id"]))
    legal = card_session(legal_card["number"])
    bruno = operator_member(sanya, "+8613800000082", "Bruno Broker Test", 62)
    form = operator_form(
        62, name=bruno.user.name, id_number=synthetic_id_number(62), birth_date="1990-03-07"
    )
    # An enterprise with a legal-person card files in that card's session.
    filing = ok(
        legal.post("/eport/filings", {"enterprise_id": sanya.id, "kind": "operator", "data": form}),
        201,
    )
    ok(legal.post(f"/eport/filings/{filing['id']}/declare"))
    operator_id = decide(office, filing["id"], "approve", "同意。")["operator"]["id"]
    return operator_side(sanya, bob, office, legal, legal_card, bruno, operator_id)


def goods(**changes: Any) -> dict[str, Any]:
    row = {
        "goods_name": "冷冻带鱼",
        "hs_code": "0303890090",
        "total_price": "125000.00",
        "currency": "USD",
        "trade_mode": "一般贸易",
        "import_export_date": "2026-12-20",
        "bill_of_lading": "QDHK2026120001",
        "packages": "1200",
        "weight_kg": "24000",
        "packing": "纸箱",
        "origin_destination": "挪威/青岛",
    }
    row.update(changes)
    return row


def entrust(session: Api, trade: Trade, **changes: Any):
    body = {
        "consignor_id": trade.consignor.enterprise.id,
        "broker_id": trade.broker.enterprise.id,
        "district": "4201",
        "valid_until": (timezone.localdate() + dt.timedelta(days=90)).isoformat(),
        "goods": [goods()],
        "accept_terms": True,
        "pin": NEW_PIN,
    }
    body.update(changes)
    return session.post("/eport/entrustments", body)
