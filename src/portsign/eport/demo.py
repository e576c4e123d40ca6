"""E-Port demo for `make run`: the Jiangsu office and its Lianyungang city office, a reviewer,
and the first demo enterprise halfway through onboarding (its 三证合一 declared and waiting
for the city's review, its customs filing saved as a draft)."""

from __future__ import annotations

from dataclasses import dataclass

from portsign.accounts.models import User
from portsign.enterprises.demo import demo_id_number
from portsign.enterprises.models import Enterprise
from portsign.eport.domain import authorities, filings
from portsign.eport.enums import AuthorityKind, FilingKind, FilingStatus
from portsign.eport.models import Authority, Filing

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
