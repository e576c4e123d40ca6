"""Quotas, recharge orders, usage and invoices (SPEC D7).

A wallet holds an enterprise's or a person's contract quota: how many corporate (对公) and
personal (对私) contracts it may still send. Every change of a quota is one `Usage` row with the
balance after it, so the usage record (使用记录) and the chart read history, never recompute it.
Money is kept in fen (分, integer): 0.01 CNY is 1, and nothing is ever rounded.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from portsign.billing.enums import InvoiceStatus, OrderStatus, QuotaKind, UsageReason
from portsign.common.ids import new_id


class Wallet(models.Model):
    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    enterprise = models.OneToOneField(
        "enterprises.Enterprise",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="wallet",
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="wallet",
    )
    corporate_remaining = models.PositiveIntegerField(default=0)
    corporate_used = models.PositiveIntegerField(default=0)
    personal_remaining = models.PositiveIntegerField(default=0)
    personal_used = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(enterprise__isnull=True, user__isnull=False)
                | Q(enterprise__isnull=False, user__isnull=True),
                name="wallet_belongs_to_enterprise_or_person",
            )
        ]


class Package(models.Model):
    """What a recharge buys (套餐): a number of contracts of one kind for a price."""

    id = models.CharField(primary_key=True, max_length=40)  # stable, e.g. "corporate-50"
    name = models.CharField(max_length=60)
    kind = models.CharField(max_length=10, choices=QuotaKind.choices)
    contracts = models.PositiveIntegerField()
    price_fen = models.PositiveIntegerField()
    active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]


class Order(models.Model):
    """A recharge order (我的订单). The package's contracts and price are copied in: a later
    change of the package never changes what was bought."""

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="orders")
    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=QuotaKind.choices)
    contracts = models.PositiveIntegerField()
    amount_fen = models.PositiveIntegerField()
    status = models.CharField(
        max_length=10, choices=OrderStatus.choices, default=OrderStatus.PENDING
    )
    provider = models.CharField(max_length=12)  # sandbox | alipay
    trade_no = models.CharField(max_length=64, blank=True)  # the provider's trade number
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)  # failed or refunded

    class Meta:
        indexes = [models.Index(fields=["wallet", "-created_at"])]


class PaymentNotice(models.Model):
    """Every notification a payment provider sent, verified or not: duplicates and late ones
    are kept too, so support can see what the provider said and when."""

    provider = models.CharField(max_length=12)
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="notices"
    )
    trade_no = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=12)  # paid | failed | refunded | rejected
    applied = models.BooleanField(default=False)  # whether this notice changed the order
    detail = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["order", "received_at"])]


class Usage(models.Model):
    """One change of a quota (使用记录): a grant, a purchase, a refund, a send, a return."""

    wallet = models.ForeignKey(Wallet, on_delete=models.CASCADE, related_name="usage")
    at = models.DateTimeField(db_index=True)
    kind = models.CharField(max_length=10, choices=QuotaKind.choices)
    delta = models.IntegerField()
    balance = models.PositiveIntegerField()  # what remained of this kind after the change
    reason = models.CharField(max_length=16, choices=UsageReason.choices)
    contract = models.ForeignKey(
        "contracts.Contract", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="usage"
    )

    class Meta:
        indexes = [models.Index(fields=["wallet", "at"])]
        constraints = [
            # A contract is charged once and given back at most once; an order is credited
            # once and refunded at most once — whatever retries or duplicate notices do.
            models.UniqueConstraint(
                fields=["contract", "reason"],
                condition=Q(contract__isnull=False),
                name="usage_once_per_contract_and_reason",
            ),
            models.UniqueConstraint(
                fields=["order", "reason"],
                condition=Q(order__isnull=False),
                name="usage_once_per_order_and_reason",
            ),
        ]


class Invoice(models.Model):
    """An invoice asked for a paid order (发票): the title and the buyer's tax number."""

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="invoice")
    title = models.CharField(max_length=100)
    tax_number = models.CharField(max_length=20)
    email = models.EmailField(blank=True)
    status = models.CharField(
        max_length=10, choices=InvoiceStatus.choices, default=InvoiceStatus.REQUESTED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    issued_at = models.DateTimeField(null=True, blank=True)


class SandboxTrade(models.Model):
    """The sandbox payment provider's own ledger: what a real cashier would keep on its side."""

    class Status(models.TextChoices):
        CREATED = "created"
        PAID = "paid"
        FAILED = "failed"
        REFUNDED = "refunded"

    trade_no = models.CharField(primary_key=True, max_length=32)
    out_trade_no = models.CharField(max_length=26, unique=True)  # our order id
    amount_fen = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CREATED)
    notices_due = models.PositiveIntegerField(default=0)  # owed, sent once notify_at passes
    notices_sent = models.PositiveIntegerField(default=0)
    notify_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
