"""Recharge orders (我的订单): bought at a provider's cashier, marked paid exactly once.

`set_order_status` is the one place an order changes (lock, transition table, audit, quota):
a notice for an order already in that state changes nothing, so duplicate and late
notifications are harmless. The provider is asked (`refresh_order`) when its notice is late.
No provider call happens inside a transaction (DESIGN rule 5).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portsign.accounts.models import User
from portsign.billing.domain import quotas
from portsign.billing.domain.wallets import managed_wallet, order_of
from portsign.billing.enums import ORDER_TRANSITIONS, OrderStatus, UsageReason
from portsign.billing.models import Order, Package, PaymentNotice, Wallet
from portsign.billing.payments import (
    Checkout,
    InvalidNotice,
    Notice,
    PaymentError,
    provider,
    sandbox,
)
from portsign.common.audit import record_event
from portsign.common.errors import Conflict, Invalid, NotFound
from portsign.common.ratelimit import enforce

log = logging.getLogger(__name__)


def packages() -> QuerySet[Package]:
    return Package.objects.filter(active=True)


def _package(package_id: str) -> Package:
    found = packages().filter(pk=package_id).first()
    if found is None:
        message = _("There is no package “%(id)s”.") % {"id": package_id}
        raise Invalid(message, code="package", fields={"package_id": message})
    return found


def _subject(order: Order) -> str:
    return f"PortSign {order.package.name}"


def pay_url(order: Order, *, site: str) -> str:
    """Where the payer pays: the provider's cashier, which reports back to *site*."""
    notify = site + reverse("billing:notify", args=[order.provider])
    back = site + reverse("billing:returned", args=[order.id])
    checkout = Checkout(order.id, order.amount_fen, _subject(order), notify, back)
    return provider(order.provider).checkout_url(checkout)


def create_order(*, actor: User, package_id: str, enterprise_id: str = "") -> Order:
    wallet = managed_wallet(actor=actor, enterprise_id=enterprise_id)
    package = _package(package_id)
    # Orders cost nothing to open; a scripted loop would still fill the table and the cashier.
    enforce(
        scope="billing_order",
        key=actor.id,
        limit=settings.ORDERS_PER_HOUR,
        window_seconds=3600,
        message=_("Too many orders in an hour. Pay or wait for the ones you opened."),
        code="order_rate_limited",
    )
    with transaction.atomic():
        order = Order.objects.create(
            wallet=wallet,
            package=package,
            kind=package.kind,
            contracts=package.contracts,
            amount_fen=package.price_fen,
            provider=settings.PAYMENT_PROVIDER,
            created_by=actor,
        )
        _audit(order, "billing.order_created", actor_id=actor.id)
    return order


def orders_of(wallet: Wallet) -> QuerySet[Order]:
    return wallet.orders.select_related("package", "invoice").order_by("-created_at")


def _audit(order: Order, action: str, *, actor_id: str = "", **data: str) -> None:
    record_event(
        action=action,
        actor_id=actor_id,
        acting_as=order.wallet.enterprise_id or "",
        object_type="order",
        object_id=order.id,
        data={"status": order.status, "amount_fen": str(order.amount_fen), **data},
    )


def set_order_status(
    order: Order, to: OrderStatus, *, trade_no: str = "", actor_id: str = ""
) -> bool:
    """Move a row the caller locked; credit or take back its contracts. False if already there."""
    if order.status == to:
        return False
    if to not in ORDER_TRANSITIONS[order.status]:
        raise Conflict(
            _("An order that is %(status)s cannot become %(to)s.")
            % {"status": OrderStatus(order.status).label, "to": OrderStatus(to).label},
            code="illegal_transition",
        )
    now = timezone.now()
    order.status = to
    order.trade_no = trade_no or order.trade_no
    if to == OrderStatus.PAID:
        order.paid_at = now
        quotas.credit(order.wallet, order.kind, order.contracts, UsageReason.PURCHASE, order=order)
    else:
        order.closed_at = now
    order.save(update_fields=["status", "trade_no", "paid_at", "closed_at"])
    _audit(order, f"billing.order_{to}", actor_id=actor_id, trade_no=order.trade_no)
    return True


def _apply(provider_name: str, notice: Notice) -> tuple[Order | None, bool, str]:
    """(order, changed, why not) for a verified notice."""
    with transaction.atomic():
        order = (
            Order.objects.select_for_update(of=("self",))
            .select_related("wallet")
            .filter(pk=notice.order_id, provider=provider_name)
            .first()
        )
        if order is None:
            return None, False, "unknown order"
        if notice.amount_fen != order.amount_fen:
            return order, False, f"amount {notice.amount_fen} != {order.amount_fen}"
        if notice.outcome == "refunded":
            return order, False, "refunds are recorded by refund_order"
        if notice.outcome == "failed" and order.status != OrderStatus.PENDING:
            return order, False, "late failure"  # a paid order stays paid
        if order.status == OrderStatus.REFUNDED:
            return order, False, "late payment of a refunded order"
        target = OrderStatus.PAID if notice.outcome == "paid" else OrderStatus.FAILED
        changed = set_order_status(order, target, trade_no=notice.trade_no)
        return order, changed, "" if changed else "duplicate"


def receive_notice(*, provider_name: str, params: Mapping[str, str]) -> str | None:
    """A provider's notification (signed form fields): the acknowledgement to answer once it
    was read (the provider stops retrying), None when forged or unreadable."""
    try:
        chosen = provider(provider_name)
        notice = chosen.read_notice(params)
    except (InvalidNotice, LookupError) as exc:
        PaymentNotice.objects.create(
            provider=provider_name[:12], outcome="rejected", detail=str(exc)[:200]
        )
        log.warning("payment notice from %s rejected: %s", provider_name, exc)
        return None
    if notice is None:
        return chosen.acknowledgement
    order, changed, why = _apply(provider_name, notice)
    PaymentNotice.objects.create(
        provider=provider_name,
        order=order,
        trade_no=notice.trade_no[:64],
        outcome=notice.outcome,
        applied=changed,
        detail=why[:200],
    )
    return chosen.acknowledgement


def refresh_order(*, actor: User, order_id: str) -> Order:
    """The payer is back from the cashier and the notice has not come: ask the provider."""
    order = order_of(actor=actor, order_id=order_id)
    if order.status == OrderStatus.PENDING:
        try:
            notice = provider(order.provider).query(order_id=order.id)
        except (PaymentError, InvalidNotice) as exc:
            log.warning("query of order %s failed: %s", order.id, getattr(exc, "code", exc))
            notice = None
        if notice is not None and notice.order_id == order.id:
            _apply(order.provider, notice)
        order.refresh_from_db()
    return order


def refund_order(*, actor: User, order_id: str) -> Order:
    """Back office: give the money back and take the order's contracts back. The provider is
    called first (outside any transaction; its refund is idempotent per order), then the
    order and the quota change together."""
    if not actor.is_staff:
        raise NotFound()
    order = Order.objects.select_related("wallet").filter(pk=order_id).first()
    if order is None:
        raise NotFound()
    if order.status != OrderStatus.PAID:
        raise Conflict(_("Only a paid order can be refunded."), code="order_not_paid")
    if quotas.remaining(order.wallet, order.kind) < order.contracts:
        raise Conflict(
            _("The contracts this order bought are partly used; it cannot be refunded."),
            code="order_used",
        )
    try:
        provider(order.provider).refund(order_id=order.id, amount_fen=order.amount_fen)
    except PaymentError as exc:
        raise Conflict(
            _("The payment provider refused the refund: %(reason)s") % {"reason": str(exc)},
            code=exc.code,
        ) from exc
    with transaction.atomic():
        order = (
            Order.objects.select_for_update(of=("self",)).select_related("wallet").get(pk=order_id)
        )
        if set_order_status(order, OrderStatus.REFUNDED, actor_id=actor.id):
            taken = quotas.take_back(order.wallet, order.kind, order.contracts, order=order)
            if taken < order.contracts:  # spent between the check and now: recorded, not hidden
                _audit(
                    order,
                    "billing.refund_short",
                    actor_id=actor.id,
                    short=str(order.contracts - taken),
                )
    return order


def deliver_sandbox_notices(*, now: dt.datetime | None = None) -> int:
    """Hand the sandbox cashier's owed notifications to `receive_notice`, as its HTTP calls
    would (late ones once their time comes: `cleanup` runs this)."""
    notices = sandbox.due_notices(now=now)
    for params in notices:
        receive_notice(provider_name="sandbox", params=params)
    return len(notices)
