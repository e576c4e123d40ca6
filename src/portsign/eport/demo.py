"""E-Port demo for `make run`: the Jiangsu office and its Lianyungang city office, a reviewer,
and the first demo enterprise halfway through onboarding (its 三证合一 declared and waiting
for the city's review, its customs filing saved as a draft)."""

from __future__ import annotations

from dataclasses import dataclass

from portsign.accounts.models import User
from portsign.enterprises.demo import demo_id_number
from portsign.enterprises.models import Enterprise
from portsign.eport.domain import authorities, cards, districts, filings, reviews
from portsign.eport.enums import AuthorityKind, FilingKind, FilingStatus
from portsign.eport.models import Authority, Card, Filing

REVIEWER_EMAIL = "eport@portsign.example.cn"


@dataclass(frozen=True)
class EportDemo:
    city: Authority
    reviewer: User
    waiting: Filing


def seed_eport(enterprise: Enterprise) -> EportDemo:
    national = authorities.create_authority(
        kind=AuthorityKind.OFFICE, code="100000", name="中国电子口岸数据中心（演示）", parent=None
    )
    province = authorities.create_authority(
        kind=AuthorityKind.OFFICE, code="320000", name="江苏电子口岸（演示）", parent=national
    )
    city = authorities.create_authority(
        kind=AuthorityKind.OFFICE, code="320700", name="连云港电子口岸（演示）", parent=province
    )
    reviewer = User.objects.get(email=REVIEWER_EMAIL)
    authorities.add_reviewer(authority=city, user=reviewer)
    admin = enterprise.main_admin
    info = Filing.objects.filter(enterprise=enterprise, kind=FilingKind.ENTERPRISE_INFO).first()
    if info is None:
        info = filings.create(
            actor=admin,
            enterprise_id=enterprise.id,
            kind=FilingKind.ENTERPRISE_INFO,
            data={
                "enterprise_type": "1",
                "registered_capital": "5000",
                "capital_unit": "wan_yuan",
                "legal_person_id_type": "resident_id",
                "legal_person_id_number": demo_id_number(951),
                "address": "江苏省连云港市连云区演示路 1 号",
                "business_scope": "港口装卸、仓储、集装箱堆存（演示）",
                "aic_authority_code": "320700",
            },
        )
    if info.status == FilingStatus.DRAFT:
        filings.declare(actor=admin, filing_id=info.id)
        info.refresh_from_db()
    if not Filing.objects.filter(enterprise=enterprise, kind=FilingKind.CUSTOMS).exists():
        filings.create(
            actor=admin,
            enterprise_id=enterprise.id,
            kind=FilingKind.CUSTOMS,
            data={"customs_code": "3207960001"},
        )
    return EportDemo(city=city, reviewer=reviewer, waiting=info)


# The second demo enterprise is through onboarding and holds its legal-person card, so the
# card sign-in can be tried at once (after changing the initial PIN 88888888).
_ONBOARDING_FORMS: dict[str, dict[str, str]] = {
    FilingKind.ENTERPRISE_INFO: {
        "enterprise_type": "3",
        "registered_capital": "800",
        "capital_unit": "wan_yuan",
        "legal_person_id_type": "resident_id",
        "legal_person_id_number": demo_id_number(952),
        "address": "江苏省连云港市连云区演示路 2 号",
        "business_scope": "外轮理货、集装箱理货（演示）",
        "aic_authority_code": "320700",
    },
    FilingKind.CUSTOMS: {"customs_code": "3207980002", "receipt_number": "LYG2026-0002"},
    FilingKind.FOREX: {"forex_bureau_code": "320000"},
    FilingKind.COMMERCE: {
        "commerce_authority_code": "3207",
        "registration_form_number": "02345678",
    },
    # A registered customs broker too (报关单位信息登记, confirmed by the association).
    FilingKind.BROKER_REGISTRATION: {
        "customs_code": "3207980002",
        "contact_name": "演示联系人",
        "contact_phone": "0518-80000002",
    },
}


def seed_customs(reviewer: User) -> list[str]:
    """Customs for the paperless agreements (青岛 4200, 南京 2300) and the brokers association
    for broker registrations, all reviewed by the demo reviewer. The district codes it set."""
    districts.load()  # migration 0003 loaded it; a flushed test database has it no more
    national = authorities.create_authority(
        kind=AuthorityKind.CUSTOMS, code="100000", name="海关总署（演示）", parent=None
    )
    direct = {"4200": ("370000", "青岛海关（演示）"), "2300": ("320000", "南京海关（演示）")}
    for district, (code, name) in direct.items():
        customs = authorities.create_authority(
            kind=AuthorityKind.CUSTOMS, code=code, name=name, parent=national
        )
        authorities.add_reviewer(authority=customs, user=reviewer)
        districts.assign(code=district, authority=customs)
    association = authorities.create_authority(
        kind=AuthorityKind.ASSOCIATION, code="100000", name="中国报关协会（演示）", parent=None
    )
    jiangsu = authorities.create_authority(
        kind=AuthorityKind.ASSOCIATION,
        code="320000",
        name="江苏省报关协会（演示）",
        parent=association,
    )
    authorities.add_reviewer(authority=jiangsu, user=reviewer)
    return list(direct)


def seed_card(enterprise: Enterprise, reviewer: User) -> Card:
    """The enterprise onboarded (each filing approved by the demo reviewer) and its
    legal-person card issued on a token, unless it has one."""
    existing = cards.legal_person_card(enterprise)
    if existing is not None:
        return existing
    admin = enterprise.main_admin
    for kind, data in _ONBOARDING_FORMS.items():
        if Filing.objects.filter(enterprise=enterprise, kind=kind).exists():
            continue
        filing = filings.create(actor=admin, enterprise_id=enterprise.id, kind=kind, data=data)
        filings.declare(actor=admin, filing_id=filing.id)
        reviews.decide(actor=reviewer, filing_id=filing.id, approve=True, opinion="演示：同意。")
    return cards.issue(actor=reviewer, enterprise_id=enterprise.id, holder=cards.LEGAL_PERSON)
