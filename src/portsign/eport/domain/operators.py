"""The enterprise's operator register (E2).

An approved `operator` filing enters the operator (or, naming one, changes it); a declared
deregistration makes the operator read-only, its approval deregisters it and its return gives
the operator back. Operators are numbered 操作员统一编号 = the enterprise's 9-character
organization code + a 4-digit sequence.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Max
from django.utils import timezone

from portsign.accounts.models import User
from portsign.common import cn_ids
from portsign.enterprises.models import Enterprise
from portsign.eport.domain import filings
from portsign.eport.enums import FilingKind, FilingStatus, OperatorStatus
from portsign.eport.models import Filing, Operator


def on_decided(filing: Filing) -> None:
    """Apply a decided operator filing to the register (inside the decision's transaction)."""
    approved = filing.status == FilingStatus.APPROVED
    if filing.kind == FilingKind.OPERATOR and approved:
        if filing.operator is None:
            filing.operator = _register(filing.enterprise, filing.data)
            filing.save(update_fields=["operator"])
        else:
            _copy(filing.operator, filing.data)
            filing.operator.save()
    elif filing.kind == FilingKind.OPERATOR_DEREGISTRATION and filing.operator:
        operator = filing.operator
        if approved:
            operator.status, operator.deregistered_at = OperatorStatus.DEREGISTERED, timezone.now()
        else:
            operator.status = OperatorStatus.ACTIVE
        operator.save(update_fields=["status", "deregistered_at"])


def _register(enterprise: Enterprise, data: dict[str, str]) -> Operator:
    prefix = cn_ids.uscc_org_code(enterprise.uscc)
    last = Operator.objects.filter(number__startswith=prefix).aggregate(n=Max("number"))["n"]
    sequence = int(last[len(prefix) :]) + 1 if last else 1
    operator = Operator(enterprise=enterprise, number=f"{prefix}{sequence:04d}")
    _copy(operator, data)
    operator.save()
    return operator


def _copy(operator: Operator, data: dict[str, str]) -> None:
    operator.data = dict(data)
    operator.name = data.get("name", "")
    operator.id_number = data.get("id_number", "")
    operator.phone = data.get("phone", "")
    operator.position = data.get("position", "")


@dataclass(frozen=True)
class Query:
    number: str = ""
    status: str = ""
    name: str = ""  # fuzzy: any part of the name
    id_number: str = ""
    phone: str = ""
    position: str = ""


@dataclass(frozen=True)
class OperatorPage:
    items: list[Operator]
    total: int
    page: int
    page_size: int


def search(
    *, actor: User, enterprise_id: str, query: Query, page: int = 1, page_size: int = 20
) -> OperatorPage:
    """查询 with every condition of seed 001 (empty conditions are 重置: everything)."""
    enterprise = filings.office_enterprise(actor, enterprise_id, write=False)
    rows = Operator.objects.filter(enterprise=enterprise)
    if query.number.strip():
        rows = rows.filter(number__startswith=query.number.strip().upper())
    if query.status:
        rows = rows.filter(status=query.status)
    if query.name.strip():
        rows = rows.filter(name__icontains=query.name.strip())
    if query.id_number.strip():
        rows = rows.filter(id_number__iexact=query.id_number.strip())
    if query.phone.strip():
        rows = rows.filter(phone__contains=query.phone.strip())
    if query.position.strip():
        rows = rows.filter(position__icontains=query.position.strip())
    items, total = filings.paginate(rows.order_by("number"), page, page_size)
    return OperatorPage(items, total, page, page_size)


def in_flight(operator: Operator) -> list[Filing]:
    return list(
        operator.filings.filter(status__in=(FilingStatus.DRAFT, FilingStatus.DECLARED)).order_by(
            "created_at"
        )
    )
