"""Recharge through the sandbox cashier: paid exactly once whatever the notifications do,
failures, late notices answered by a query, refunds and invoices."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from portsign.billing.domain import invoices, orders
from portsign.billing.models import Order, PaymentNotice, SandboxTrade, Usage, Wallet
from portsign.billing.payments import PaymentError, sandbox
from portsign.billing.payments.sandbox import SandboxPayments
from portsign.common.errors import Conflict, Invalid, NotFound
from portsign.common.models import AuditEvent


@pytest.fixture
def order(alice, acme) -> Order:
    created = orders.create_order(
        actor=alice.user, package_id="corporate-10", enterprise_id=acme.id
    )
    orders.pay_url(created, site="http://testserver")  # opens the sandbox trade
    return created


def _remaining(acme) -> int:
    return Wallet.objects.get(enterprise=acme).corporate_remaining


def _pay(order: Order, action: str = "pay") -> Order:
    sandbox.settle(order_id=order.id, action=action)
    orders.deliver_sandbox_notices()
    order.refresh_from_db()
    return order


def test_the_packages_are_on_sale():
    rows = [(p.id, p.kind, p.contracts, p.price_fen) for p in orders.packages()]
    assert rows == [
        ("corporate-10", "corporate", 10, 5000),
        ("corporate-50", "corporate", 50, 22000),
        ("corporate-200", "corporate", 200, 80000),
        ("personal-20", "personal", 20, 4000),
        ("personal-100", "personal", 100, 18000),
    ]


def test_an_order_copies_the_package_and_waits(order, alice):
    assert (order.status, order.kind, order.contracts, order.amount_fen, order.provider) == (
        "pending",
        "corporate",
        10,
        5000,
        "sandbox",
    )
    url = orders.pay_url(order, site="http://testserver")
    assert url == f"/console/billing/sandbox/cashier/{order.id}/"
    assert SandboxTrade.objects.get(out_trade_no=order.id).amount_fen == 5000
    assert (
        AuditEvent.objects.filter(action="billing.order_created", object_id=order.id).count() == 1
    )


def test_an_unknown_package_is_refused(alice, acme):
    with pytest.raises(Invalid) as caught:
        orders.create_order(actor=alice.user, package_id="gold", enterprise_id=acme.id)
    assert caught.value.code == "package"


def test_paying_credits_the_contracts_exactly_once(order, acme):
    assert _remaining(acme) == 5
    _pay(order, "pay_twice")
    assert (order.status, _remaining(acme)) == ("paid", 15)
    assert order.trade_no.startswith("SBX")
    notices = PaymentNotice.objects.filter(order=order).order_by("id")
    assert [(n.outcome, n.applied, n.detail) for n in notices] == [
        ("paid", True, ""),
        ("paid", False, "duplicate"),
    ]
    purchase = Usage.objects.get(order=order)
    assert (purchase.reason, purchase.delta, purchase.balance) == ("purchase", 10, 15)
    with pytest.raises(PaymentError) as caught:
        sandbox.settle(order_id=order.id, action="pay")
    assert caught.value.code == "sandbox_trade_closed"


def test_a_declined_payment_fails_and_can_be_paid_again(order, acme):
    _pay(order, "fail")
    assert (order.status, _remaining(acme)) == ("failed", 5)
    _pay(order, "pay")
    assert (order.status, _remaining(acme)) == ("paid", 15)


def test_a_late_notice_is_answered_by_a_query_and_then_ignored(order, acme, alice):
    sandbox.settle(order_id=order.id, action="pay_late")
    assert orders.deliver_sandbox_notices() == 0  # not due yet
    assert Order.objects.get(pk=order.id).status == "pending"
    refreshed = orders.refresh_order(actor=alice.user, order_id=order.id)
    assert (refreshed.status, _remaining(acme)) == ("paid", 15)
    later = timezone.now() + dt.timedelta(seconds=121)
    assert orders.deliver_sandbox_notices(now=later) == 1
    assert _remaining(acme) == 15
    assert PaymentNotice.objects.get(order=order).detail == "duplicate"


def test_a_forged_notice_changes_nothing(order, acme):
    params = {"out_trade_no": order.id, "trade_no": "SBX1", "status": "paid", "amount_fen": "5000"}
    assert (
        orders.receive_notice(provider_name="sandbox", params={**params, "sign": "0" * 64}) is None
    )
    assert orders.receive_notice(provider_name="nobody", params=params) is None
    assert Order.objects.get(pk=order.id).status == "pending"
    assert list(PaymentNotice.objects.values_list("outcome", flat=True)) == ["rejected", "rejected"]


def test_the_notify_endpoint_answers_the_provider(order, acme):
    sandbox.settle(order_id=order.id, action="pay")
    trade = SandboxTrade.objects.get(out_trade_no=order.id)
    params = sandbox._notice_params(trade)  # what the cashier would post
    client = Client(enforce_csrf_checks=True)
    answer = client.post("/console/billing/notify/sandbox/", params)
    assert (answer.status_code, answer.content) == (200, b"success")
    assert _remaining(acme) == 15
    forged = client.post("/console/billing/notify/sandbox/", {**params, "amount_fen": "1"})
    assert (forged.status_code, forged.content) == (400, b"fail")


def test_a_notice_for_another_amount_is_not_applied(order, acme):
    SandboxTrade.objects.filter(out_trade_no=order.id).update(amount_fen=1)
    _pay(order)
    assert (order.status, _remaining(acme)) == ("pending", 5)
    assert PaymentNotice.objects.get(order=order).detail == "amount 1 != 5000"


def test_the_back_office_refunds_an_unused_order(order, acme, alice, bob):
    _pay(order)
    with pytest.raises(NotFound):
        orders.refund_order(actor=bob.user, order_id=order.id)
    bob.user.is_staff = True
    bob.user.save()
    refunded = orders.refund_order(actor=bob.user, order_id=order.id)
    assert (refunded.status, _remaining(acme)) == ("refunded", 5)
    assert SandboxTrade.objects.get(out_trade_no=order.id).status == "refunded"
    refund = Usage.objects.get(order=order, reason="refund")
    assert (refund.delta, refund.balance) == (-10, 5)
    with pytest.raises(Conflict) as caught:
        orders.refund_order(actor=bob.user, order_id=order.id)
    assert caught.value.code == "order_not_paid"


def test_a_used_order_is_not_refunded(order, acme, bob):
    _pay(order)
    Wallet.objects.filter(enterprise=acme).update(corporate_remaining=9)
    bob.user.is_staff = True
    bob.user.save()
    with pytest.raises(Conflict) as caught:
        orders.refund_order(actor=bob.user, order_id=order.id)
    assert caught.value.code == "order_used"
    assert SandboxTrade.objects.get(out_trade_no=order.id).status == "paid"


def test_the_sandbox_refuses_refunding_an_unpaid_trade(order):
    with pytest.raises(PaymentError) as caught:
        SandboxPayments().refund(order_id=order.id, amount_fen=5000)
    assert caught.value.code == "trade_not_paid"


def test_an_invoice_names_the_enterprise_and_is_asked_once(order, acme, alice):
    with pytest.raises(Conflict) as caught:
        invoices.request_invoice(actor=alice.user, order_id=order.id)
    assert caught.value.code == "order_not_paid"
    _pay(order)
    invoice = invoices.request_invoice(
        actor=alice.user, order_id=order.id, title="Something else", email="finance@acme.test"
    )
    assert (invoice.title, invoice.tax_number, invoice.status) == (
        acme.name,
        acme.uscc,
        "requested",
    )
    with pytest.raises(Conflict) as caught:
        invoices.request_invoice(actor=alice.user, order_id=order.id)
    assert caught.value.code == "invoice_exists"


@pytest.mark.parametrize(
    ("tax_number", "email", "code"),
    [
        ("12345", "", "tax_number"),
        ("91310000MA0000000X", "", "uscc_checksum"),
        ("", "bad", "email"),
    ],
)
def test_invoice_fields_are_checked(order, alice, tax_number, email, code):
    _pay(order)
    with pytest.raises(Invalid) as caught:
        invoices.request_invoice(
            actor=alice.user, order_id=order.id, tax_number=tax_number, email=email
        )
    assert caught.value.code == code


def test_opening_orders_is_rate_limited(alice, acme, settings):
    from portsign.common.errors import RateLimited

    settings.ORDERS_PER_HOUR = 2
    for _ in range(2):
        orders.create_order(actor=alice.user, package_id="corporate-10", enterprise_id=acme.id)
    with pytest.raises(RateLimited) as caught:
        orders.create_order(actor=alice.user, package_id="corporate-10", enterprise_id=acme.id)
    assert caught.value.code == "order_rate_limited"
    assert Order.objects.count() == 2
