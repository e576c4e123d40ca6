"""The billing API (API.md "Quotas and billing"). Handlers translate; rules live in domain/.

Each wallet route comes twice: under /enterprises/{id} for an enterprise's wallet and under
/me for the caller's own (contracts sent as a person).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from portsign.accounts.backends import signed_in_user
from portsign.billing.domain import invoices, orders, queries, quotas
from portsign.billing.domain.wallets import managed_wallet, order_of, readable_wallet
from portsign.billing.enums import OrderStatus
from portsign.billing.models import Order, Wallet
from portsign.billing.schemas import (
    OrderIn,
    OrderInvoiceIn,
    OrderInvoiceOut,
    OrderOut,
    OrderPageOut,
    PackageOut,
    QuotaKindOut,
    QuotaOut,
    UsageChartOut,
    UsageOut,
    UsagePageOut,
)
from portsign.common.api_auth import AUTH
from portsign.common.errors import Invalid
from portsign.common.paging import check_page

router = Router(tags=["billing"], auth=AUTH)
MAX_PAGE_SIZE = 100


def _date(raw: str, field: str) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        message = _("Write the date as YYYY-MM-DD.")
        raise Invalid(message, code="date", fields={field: message}) from None


def _page(rows: QuerySet, page: int, page_size: int) -> tuple[list, int]:
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        message = _("page_size is 1 to %(n)d.") % {"n": MAX_PAGE_SIZE}
        raise Invalid(message, code="page_size", fields={"page_size": message})
    start = (check_page(page) - 1) * page_size
    return list(rows[start : start + page_size]), rows.count()


def _order_out(order: Order) -> OrderOut:
    url = None
    if order.status == OrderStatus.PENDING:
        url = orders.pay_url(order, site=settings.PUBLIC_URL)
    return OrderOut.of(order, url)


@router.get("/billing/packages", response=list[PackageOut], summary="The packages on sale (套餐)")
def list_packages(request: HttpRequest) -> list[PackageOut]:
    return [PackageOut.of(package) for package in orders.packages()]


def _quota(wallet: Wallet) -> QuotaOut:
    counts = quotas.quota(wallet)
    return QuotaOut(
        corporate=QuotaKindOut(**counts["corporate"]),
        personal=QuotaKindOut(**counts["personal"]),
    )


@router.get(
    "/enterprises/{enterprise_id}/quota",
    response=QuotaOut,
    summary="The enterprise's contract quota (any member)",
)
def enterprise_quota(request: HttpRequest, enterprise_id: str) -> QuotaOut:
    return _quota(readable_wallet(actor=signed_in_user(request), enterprise_id=enterprise_id))


@router.get("/me/quota", response=QuotaOut, summary="Your own contract quota (sending as a person)")
def my_quota(request: HttpRequest) -> QuotaOut:
    return _quota(readable_wallet(actor=signed_in_user(request)))


def _create(request: HttpRequest, payload: OrderIn, enterprise_id: str = "") -> Status[OrderOut]:
    order = orders.create_order(
        actor=signed_in_user(request), package_id=payload.package_id, enterprise_id=enterprise_id
    )
    return Status(201, _order_out(order))


@router.post(
    "/enterprises/{enterprise_id}/orders",
    response={201: OrderOut},
    summary="Recharge: order a package; pay at `pay_url` (administrators)",
)
def create_enterprise_order(
    request: HttpRequest, enterprise_id: str, payload: OrderIn
) -> Status[OrderOut]:
    return _create(request, payload, enterprise_id)


@router.post("/me/orders", response={201: OrderOut}, summary="Recharge your own quota")
def create_my_order(request: HttpRequest, payload: OrderIn) -> Status[OrderOut]:
    return _create(request, payload)


def _orders(wallet: Wallet, page: int, page_size: int) -> OrderPageOut:
    rows, total = _page(orders.orders_of(wallet), page, page_size)
    return OrderPageOut(items=[_order_out(order) for order in rows], total=total)


@router.get(
    "/enterprises/{enterprise_id}/orders",
    response=OrderPageOut,
    summary="The enterprise's orders, newest first (administrators)",
)
def enterprise_orders(
    request: HttpRequest, enterprise_id: str, page: int = 1, page_size: int = 20
) -> OrderPageOut:
    wallet = managed_wallet(actor=signed_in_user(request), enterprise_id=enterprise_id)
    return _orders(wallet, page, page_size)


@router.get("/me/orders", response=OrderPageOut, summary="Your own orders, newest first")
def my_orders(request: HttpRequest, page: int = 1, page_size: int = 20) -> OrderPageOut:
    return _orders(managed_wallet(actor=signed_in_user(request)), page, page_size)


@router.get("/billing/orders/{order_id}", response=OrderOut, summary="One order")
def get_order(request: HttpRequest, order_id: str) -> OrderOut:
    return _order_out(order_of(actor=signed_in_user(request), order_id=order_id))


@router.post(
    "/billing/orders/{order_id}/refresh",
    response=OrderOut,
    summary="Ask the payment provider about an order still awaiting payment (查询支付结果)",
)
def refresh_order(request: HttpRequest, order_id: str) -> OrderOut:
    return _order_out(orders.refresh_order(actor=signed_in_user(request), order_id=order_id))


@router.post(
    "/billing/orders/{order_id}/invoice",
    response={201: OrderInvoiceOut},
    summary="Ask for the invoice of a paid order (once per order)",
)
def request_invoice(
    request: HttpRequest, order_id: str, payload: OrderInvoiceIn
) -> Status[OrderInvoiceOut]:
    invoice = invoices.request_invoice(
        actor=signed_in_user(request),
        order_id=order_id,
        title=payload.title,
        tax_number=payload.tax_number,
        email=payload.email,
    )
    return Status(201, OrderInvoiceOut.of(invoice))


def _usage(wallet: Wallet, start: str, end: str, page: int, page_size: int) -> UsagePageOut:
    rows = queries.usage_of(wallet, start=_date(start, "from"), end=_date(end, "to"))
    found, total = _page(rows, page, page_size)
    return UsagePageOut(items=[UsageOut.of(row) for row in found], total=total)


@router.get(
    "/enterprises/{enterprise_id}/usage",
    response=UsagePageOut,
    summary="Usage records (使用记录): every change of the quota, newest first (any member)",
)
def enterprise_usage(
    request: HttpRequest,
    enterprise_id: str,
    start: str = Query("", alias="from", description="from this date (YYYY-MM-DD)"),
    end: str = Query("", alias="to", description="to this date (YYYY-MM-DD)"),
    page: int = 1,
    page_size: int = 20,
) -> UsagePageOut:
    wallet = readable_wallet(actor=signed_in_user(request), enterprise_id=enterprise_id)
    return _usage(wallet, start, end, page, page_size)


@router.get("/me/usage", response=UsagePageOut, summary="Your own usage records")
def my_usage(
    request: HttpRequest,
    start: str = Query("", alias="from"),
    end: str = Query("", alias="to"),
    page: int = 1,
    page_size: int = 20,
) -> UsagePageOut:
    return _usage(readable_wallet(actor=signed_in_user(request)), start, end, page, page_size)


def _chart(wallet: Wallet, start: str, end: str) -> UsageChartOut:
    first, last = queries.chart_range(_date(start, "from"), _date(end, "to"))
    return UsageChartOut(**queries.sent_per_day(wallet, first, last))  # type: ignore[arg-type]


@router.get(
    "/enterprises/{enterprise_id}/usage/chart",
    response=UsageChartOut,
    summary="Contracts sent per day and per kind over a range (default: the last 30 days)",
    url_name="billing_enterprise_chart",
)
def enterprise_chart(
    request: HttpRequest,
    enterprise_id: str,
    start: str = Query("", alias="from"),
    end: str = Query("", alias="to"),
) -> UsageChartOut:
    wallet = readable_wallet(actor=signed_in_user(request), enterprise_id=enterprise_id)
    return _chart(wallet, start, end)


@router.get(
    "/me/usage/chart",
    response=UsageChartOut,
    summary="Your contracts sent per day",
    url_name="billing_my_chart",
)
def my_chart(
    request: HttpRequest, start: str = Query("", alias="from"), end: str = Query("", alias="to")
) -> UsageChartOut:
    return _chart(readable_wallet(actor=signed_in_user(request)), start, end)
