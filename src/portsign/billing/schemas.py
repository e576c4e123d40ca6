"""Shapes of the billing API (API.md "Quotas and billing"). Amounts are yuan as decimal text
("99.00"), never floats; names are unique across PortSign's OpenAPI."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema

from portsign.billing.models import Invoice, Order, Package, Usage
from portsign.billing.payments import yuan


class PackageOut(Schema):
    id: str
    name: str
    kind: str = Field(description="corporate (对公) | personal (对私)")
    contracts: int
    price: str = Field(description="CNY, e.g. 99.00")

    @staticmethod
    def of(package: Package) -> PackageOut:
        return PackageOut(
            id=package.id,
            name=package.name,
            kind=package.kind,
            contracts=package.contracts,
            price=yuan(package.price_fen),
        )


class QuotaKindOut(Schema):
    remaining: int
    used: int


class QuotaOut(Schema):
    corporate: QuotaKindOut
    personal: QuotaKindOut


class OrderIn(Schema):
    package_id: str


class OrderInvoiceOut(Schema):
    id: str
    title: str
    tax_number: str
    email: str
    status: str
    requested_at: dt.datetime

    @staticmethod
    def of(invoice: Invoice) -> OrderInvoiceOut:
        return OrderInvoiceOut(
            id=invoice.id,
            title=invoice.title,
            tax_number=invoice.tax_number,
            email=invoice.email,
            status=invoice.status,
            requested_at=invoice.requested_at,
        )


class OrderOut(Schema):
    id: str
    package_id: str
    kind: str
    contracts: int
    amount: str = Field(description="CNY, e.g. 99.00")
    status: str = Field(description="pending | paid | failed | refunded")
    provider: str
    created_at: dt.datetime
    paid_at: dt.datetime | None
    invoice: OrderInvoiceOut | None
    pay_url: str | None = Field(None, description="the cashier, while the order awaits payment")

    @staticmethod
    def of(order: Order, pay_url: str | None = None) -> OrderOut:
        invoice = getattr(order, "invoice", None)
        return OrderOut(
            id=order.id,
            package_id=order.package_id,
            kind=order.kind,
            contracts=order.contracts,
            amount=yuan(order.amount_fen),
            status=order.status,
            provider=order.provider,
            created_at=order.created_at,
            paid_at=order.paid_at,
            invoice=OrderInvoiceOut.of(invoice) if invoice else None,
            pay_url=pay_url,
        )


class OrderPageOut(Schema):
    items: list[OrderOut]
    total: int


class OrderInvoiceIn(Schema):
    title: str = Field("", description="persons only; an enterprise's invoice names it")
    tax_number: str = Field("", description="an enterprise's defaults to its USCC")
    email: str = ""


class UsageOut(Schema):
    at: dt.datetime
    contract_id: str | None
    order_id: str | None
    kind: str
    delta: int
    balance: int
    reason: str

    @staticmethod
    def of(row: Usage) -> UsageOut:
        return UsageOut(
            at=row.at,
            contract_id=row.contract_id,
            order_id=row.order_id,
            kind=row.kind,
            delta=row.delta,
            balance=row.balance,
            reason=row.reason,
        )


class UsagePageOut(Schema):
    items: list[UsageOut]
    total: int


class UsageChartOut(Schema):
    days: list[str] = Field(description="ISO dates, one per day of the range")
    corporate: list[int] = Field(description="corporate contracts sent each day")
    personal: list[int] = Field(description="personal contracts sent each day")
