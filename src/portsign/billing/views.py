"""Console pages of billing (充值管理: 账户余额, 我的订单, 使用记录 — seed 000) for the session's
acting identity, the payment providers' notification endpoint, and the sandbox cashier."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from portsign.accounts.backends import signed_in_user
from portsign.billing.domain import invoices, orders, queries, quotas
from portsign.billing.domain.wallets import managed_wallet, order_of, readable_wallet
from portsign.billing.enums import InvoiceStatus, OrderStatus
from portsign.billing.models import Invoice, Order, SandboxTrade
from portsign.billing.payments import PaymentError, sandbox, yuan
from portsign.common.errors import DomainError, NotFound
from portsign.common.forms import run_action, show_error
from portsign.common.paging import page_from_query
from portsign.enterprises.views import ACTING_SESSION_KEY

PAGE_SIZE = 20


def _acting_id(request: HttpRequest) -> str:
    acting = str(request.session.get(ACTING_SESSION_KEY, "personal"))
    return "" if acting == "personal" else acting


def _may_manage(request: HttpRequest, enterprise_id: str) -> bool:
    try:
        managed_wallet(actor=signed_in_user(request), enterprise_id=enterprise_id)
    except DomainError:
        return False
    return True


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    enterprise_id = _acting_id(request)
    try:
        wallet = readable_wallet(actor=signed_in_user(request), enterprise_id=enterprise_id)
        first, last = queries.chart_range(None, None)
        chart_from = request.GET.get("from", first.isoformat())
        chart_to = request.GET.get("to", last.isoformat())
    except NotFound as exc:
        raise Http404 from exc
    manage = _may_manage(request, enterprise_id)
    usage = queries.usage_of(wallet)
    total = usage.count()
    page = page_from_query(request)
    context = {
        "active": "billing",
        "quota": quotas.quota(wallet),
        "packages": [(p, yuan(p.price_fen)) for p in orders.packages()],
        "orders": [(o, yuan(o.amount_fen)) for o in orders.orders_of(wallet)[:50]]
        if manage
        else [],
        "may_manage": manage,
        "usage": usage[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
        "usage_total": total,
        "page": page,
        "pages": list(range(1, min(50, (total + PAGE_SIZE - 1) // PAGE_SIZE) + 1)),
        "chart_from": chart_from,
        "chart_to": chart_to,
        "chart_url": reverse("api:billing_enterprise_chart", args=[enterprise_id])
        if enterprise_id
        else reverse("api:billing_my_chart"),
        "labels": json.dumps(
            {"corporate": _("Corporate contracts"), "personal": _("Personal contracts")}
        ),
    }
    return render(request, "billing/index.html", context)


@login_required
@require_POST
def order(request: HttpRequest) -> HttpResponse:
    try:
        created = orders.create_order(
            actor=signed_in_user(request),
            package_id=request.POST.get("package_id", ""),
            enterprise_id=_acting_id(request),
        )
    except NotFound as exc:
        raise Http404 from exc
    except DomainError as exc:
        show_error(request, exc)
        return redirect("billing:index")
    return redirect(orders.pay_url(created, site=settings.PUBLIC_URL))


@login_required
@require_POST
def pay(request: HttpRequest, order_id: str) -> HttpResponse:
    """Back to the cashier with an order still awaiting payment (or failed: pay again)."""
    try:
        found = order_of(actor=signed_in_user(request), order_id=order_id)
    except NotFound as exc:
        raise Http404 from exc
    if found.status not in (OrderStatus.PENDING, OrderStatus.FAILED):
        messages.error(request, _("This order is already paid."))
        return redirect("billing:index")
    return redirect(orders.pay_url(found, site=settings.PUBLIC_URL))


@login_required
def returned(request: HttpRequest, order_id: str) -> HttpResponse:
    """The provider's return URL: ask it about the order if its notice has not come yet."""
    try:
        found = orders.refresh_order(actor=signed_in_user(request), order_id=order_id)
    except NotFound as exc:
        raise Http404 from exc
    if found.status == OrderStatus.PAID:
        messages.success(
            request,
            _("Paid: %(n)d contracts were added to your quota.") % {"n": found.contracts},
        )
    elif found.status == OrderStatus.FAILED:
        messages.error(request, _("The payment failed. You can pay the order again."))
    else:
        messages.info(
            request, _("The payment is not confirmed yet. Refresh the order in a moment.")
        )
    return redirect("billing:index")


@login_required
@require_POST
def invoice(request: HttpRequest, order_id: str) -> HttpResponse:
    data = request.POST
    return run_action(
        request,
        lambda: invoices.request_invoice(
            actor=signed_in_user(request),
            order_id=order_id,
            title=data.get("title", ""),
            tax_number=data.get("tax_number", ""),
            email=data.get("email", ""),
        ),
        _("The invoice was requested."),
        reverse("billing:index"),
    )


def _staff(request: HttpRequest) -> None:
    if not signed_in_user(request).is_staff:
        raise Http404


@login_required
@require_GET
def office(request: HttpRequest) -> HttpResponse:
    """PortSign staff: paid orders to refund, invoices to issue (newest first)."""
    _staff(request)
    paid = Order.objects.filter(status=OrderStatus.PAID).select_related(
        "wallet__enterprise", "wallet__user", "package"
    )
    waiting = Invoice.objects.filter(status=InvoiceStatus.REQUESTED).select_related("order")
    context = {
        "orders": [(o, yuan(o.amount_fen)) for o in paid.order_by("-paid_at")[:100]],
        "invoices": waiting.order_by("requested_at")[:100],
    }
    return render(request, "billing/office.html", context)


@login_required
@require_POST
def refund(request: HttpRequest, order_id: str) -> HttpResponse:
    _staff(request)
    return run_action(
        request,
        lambda: orders.refund_order(actor=signed_in_user(request), order_id=order_id),
        _("The order was refunded and its contracts taken back."),
        reverse("billing:office"),
    )


@login_required
@require_POST
def issue(request: HttpRequest, invoice_id: str) -> HttpResponse:
    _staff(request)
    return run_action(
        request,
        lambda: invoices.issue_invoice(actor=signed_in_user(request), invoice_id=invoice_id),
        _("The invoice is marked issued."),
        reverse("billing:office"),
    )


@csrf_exempt  # the provider's server posts here; its signature, not a cookie, proves it
@require_POST
def notify(request: HttpRequest, provider_name: str) -> HttpResponse:
    params = {key: request.POST.get(key, "") for key in request.POST}
    acknowledgement = orders.receive_notice(provider_name=provider_name, params=params)
    if acknowledgement is not None:
        return HttpResponse(acknowledgement, content_type="text/plain")
    return HttpResponse("fail", status=400, content_type="text/plain")


def _sandbox_trade(order_id: str) -> SandboxTrade:
    trade = SandboxTrade.objects.filter(out_trade_no=order_id).first() if settings.SANDBOX else None
    if trade is None:
        raise Http404
    return trade


def sandbox_cashier(request: HttpRequest, order_id: str) -> HttpResponse:
    """The sandbox's cashier page: pay, decline, or pay with a late or doubled notification."""
    trade = _sandbox_trade(order_id)
    if request.method == "POST":
        try:
            sandbox.settle(order_id=order_id, action=request.POST.get("action", ""))
        except PaymentError as exc:
            messages.error(request, str(exc))
            return redirect("billing:sandbox_cashier", order_id)
        orders.deliver_sandbox_notices()
        return redirect("billing:returned", order_id)
    return render(
        request,
        "billing/sandbox_cashier.html",
        {
            "trade": trade,
            "amount": yuan(trade.amount_fen),
            "late": settings.SANDBOX_PAYMENT_LATE_SECONDS,
        },
    )
