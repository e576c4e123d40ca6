"""Statuses and kinds of billing (SPEC D7): quotas are counted in contracts, orders in fen."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class QuotaKind(models.TextChoices):
    """对公合同 — a contract with another enterprise among its parties; 对私合同 — with persons
    only (seed 000: "可发: 对公合同 5 份 对私合同 10 份")."""

    CORPORATE = "corporate", _("Corporate contracts")
    PERSONAL = "personal", _("Personal contracts")


class UsageReason(models.TextChoices):
    GRANT = "grant", _("Free allotment on verification")
    REVERSE_PAYMENT = "reverse_payment", _("Bought with the verification payment")
    PURCHASE = "purchase", _("Recharge")
    REFUND = "refund", _("Order refunded")
    SEND = "send", _("Contract sent")
    RETURN = "return", _("Contract revoked before anyone signed")


class OrderStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("order", "Awaiting payment")
    PAID = "paid", pgettext_lazy("order", "Paid")
    FAILED = "failed", pgettext_lazy("order", "Payment failed")
    REFUNDED = "refunded", pgettext_lazy("order", "Refunded")


# A failed payment can still succeed later: a payer may retry at the provider's cashier with
# the same trade, and the provider then tells us `paid` (a late notification).
ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    OrderStatus.PENDING: frozenset({OrderStatus.PAID, OrderStatus.FAILED}),
    OrderStatus.FAILED: frozenset({OrderStatus.PAID}),
    OrderStatus.PAID: frozenset({OrderStatus.REFUNDED}),
    OrderStatus.REFUNDED: frozenset(),
}


class InvoiceStatus(models.TextChoices):
    REQUESTED = "requested", pgettext_lazy("invoice", "Requested")
    ISSUED = "issued", pgettext_lazy("invoice", "Issued")
