"""E-Port identity office fixtures: authorities (national ⊃ Hainan ⊃ Haikou), their reviewers,
enterprises in chosen divisions, and complete forms of every kind (made-up people only)."""

from __future__ import annotations

from typing import Any

import pytest

from portsign.enterprises.domain import deposits, enterprises
from portsign.eport.domain.authorities import add_reviewer, create_authority
from portsign.eport.models import Authority
from tests.helpers import (
    Person,
    give_materials,
    make_person,
    outbox,
    synthetic_id_number,
    synthetic_uscc,
    verify_person,
)

HAIKOU = "460100"
SANYA = "460200"  # no city office registered: its enterprises go to the province


def make_enterprise_in(owner: Person, name: str, sequence: int, region: str):
    """A verified enterprise of division *region* (USCC positions 3–8), owner its main admin."""
    if not owner.user.is_real_name_verified:
        verify_person(owner, sequence)
    enterprise = enterprises.create_enterprise(
        actor=owner.user,
        name=name,
        uscc=synthetic_uscc(sequence, region=region),
        legal_rep_name="Legal Rep",
    )
    give_materials(owner, enterprise, sequence)
    account = f"62220000{sequence:08d}1"
    deposits.start_deposit(
        actor=owner.user,
        enterprise_id=enterprise.id,
        method="micro_deposit",
        bank_name="Test Bank Branch",
        bank_account=account,
    )
    amount = outbox(account)[-1].data["amount"]
    deposits.confirm_amount(actor=owner.user, enterprise_id=enterprise.id, amount=amount)
    enterprise.refresh_from_db()
    return enterprise


class Offices:
    def __init__(self) -> None:
        self.national = create_authority(
            kind="office", code="100000", name="中国电子口岸数据中心", parent=None
        )
        self.province = create_authority(
            kind="office", code="460000", name="海南电子口岸数据分中心", parent=self.national
        )
        self.city = create_authority(
            kind="office", code="460100", name="海口电子口岸操作中心", parent=self.province
        )
        self.shanghai = create_authority(
            kind="office", code="310000", name="上海电子口岸数据分中心", parent=self.national
        )

    def refresh(self) -> None:
        for authority in (self.national, self.province, self.city, self.shanghai):
            authority.refresh_from_db()


@pytest.fixture
def offices() -> Offices:
    return Offices()


def reviewer_of(authority: Authority, account: str, name: str) -> Person:
    person = make_person(account, name)
    add_reviewer(authority=authority, user=person.user)
    return person


@pytest.fixture
def city_reviewer(offices) -> Person:
    return reviewer_of(offices.city, "+8613800000021", "City Reviewer Test")


@pytest.fixture
def province_reviewer(offices) -> Person:
    return reviewer_of(offices.province, "+8613800000022", "Province Reviewer Test")


@pytest.fixture
def shanghai_reviewer(offices) -> Person:
    return reviewer_of(offices.shanghai, "+8613800000023", "Shanghai Reviewer Test")


@pytest.fixture
def haikou(alice, offices):
    """Alice's verified enterprise in Haikou (460100): filed with the city office."""
    return make_enterprise_in(alice, "海口椰风国际贸易有限公司", 31, HAIKOU)


@pytest.fixture
def sanya(bob, offices):
    """Bob's verified enterprise in Sanya (460200): no city office, so the province."""
    return make_enterprise_in(bob, "三亚蓝湾报关行有限公司", 32, SANYA)


LEGAL_PERSON_ID = synthetic_id_number(80, birth="19750101", region="460100")


def enterprise_info(enterprise, **changes: str) -> dict[str, str]:
    data = {
        "name": enterprise.name,
        "uscc": enterprise.uscc,
        "enterprise_type": "3",
        "registered_capital": "500",
        "capital_unit": "wan_yuan",
        "legal_person_name": "Legal Rep",
        "legal_person_id_type": "resident_id",
        "legal_person_id_number": LEGAL_PERSON_ID,
        "address": "海南省海口市龙华区滨海大道1号",
        "business_scope": "货物进出口；报关代理",
        "aic_authority_code": "460100",
    }
    data.update(changes)
    return data


def operator_form(sequence: int = 40, **changes: str) -> dict[str, str]:
    data = {
        "card_medium": "ikey",
        "name": "张三丰",
        "sex": "male",
        "education": "本科",
        "id_type": "resident_id",
        "id_number": synthetic_id_number(sequence, birth="19880512", region="460100"),
        "birth_date": "1988-05-12",
        "nationality": "中国",
        "position": "报关主管",
        "household_address": "海南省海口市美兰区海甸五西路2号",
        "user_address": "海南省海口市龙华区滨海大道1号",
        "postcode": "570100",
        "email": "operator@example.cn",
        "phone": "0898-66000001",
    }
    data.update(changes)
    return data


FORMS: dict[str, dict[str, str]] = {
    "customs": {"customs_code": "4601960001", "receipt_number": "HK2026-0001"},
    "forex": {"forex_bureau_code": "460000"},
    "commerce": {"commerce_authority_code": "4601", "registration_form_number": "01234567"},
}


def ok(response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.content
    return response.json() if response.content else {}


def new_filing(
    person: Person, enterprise, kind: str, data: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    body = {"enterprise_id": enterprise.id, "kind": kind, "data": data or {}, **extra}
    return ok(person.api.post("/eport/filings", body), 201)


def declared(person: Person, enterprise, kind: str, data: dict[str, Any], **extra) -> dict:
    filing = new_filing(person, enterprise, kind, data, **extra)
    return ok(person.api.post(f"/eport/filings/{filing['id']}/declare"))


def decide(reviewer: Person, filing_id: str, verb: str, opinion: str, **extra) -> dict:
    return ok(
        reviewer.api.post(f"/eport/filings/{filing_id}/{verb}", {"opinion": opinion, **extra})
    )


def onboarded(person: Person, enterprise, reviewer: Person) -> dict:
    """An approved 三证合一 (enterprise_info)."""
    filing = declared(person, enterprise, "enterprise_info", enterprise_info(enterprise))
    return decide(reviewer, filing["id"], "approve", "材料齐全，同意。")


def register_operator(person: Person, enterprise, reviewer: Person, sequence: int = 40, **form):
    """An operator in the register, through an approved operator filing: (filing, operator)."""
    filing = declared(person, enterprise, "operator", operator_form(sequence, **form))
    approved = decide(reviewer, filing["id"], "approve", "同意。")
    return approved, approved["operator"]


def actions(filing: dict[str, Any]) -> list[str]:
    return [event["action"] for event in filing["history"]]


@pytest.fixture
def world(alice, haikou, city_reviewer):
    """The card office's world (`card_helpers.CardWorld`)."""
    from tests.eport.card_helpers import card_world  # it builds on this module

    return card_world(alice, haikou, city_reviewer)


@pytest.fixture
def district_table(db) -> None:
    """The customs district table: migration 0003 loads it, and every test's flush (tests run
    with real transactions) empties it again."""
    from portsign.eport.domain import districts

    districts.load()
