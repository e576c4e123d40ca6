"""Payment providers behind one small interface (DESIGN rule 9).

A provider takes the payer to its cashier, tells us the outcome by a signed notification
(asynchronously: late, more than once, or never), answers a query for a trade, and refunds.
`sandbox` is the embedded default (real state, real failure modes); `alipay` speaks
alipay.trade.page.pay with RSA2 signatures.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal, Protocol

from django.conf import settings

Outcome = Literal["paid", "failed", "refunded"]


@dataclass(frozen=True)
class Checkout:
    order_id: str
    amount_fen: int
    subject: str
    notify_url: str
    return_url: str


@dataclass(frozen=True)
class Notice:
    """What a provider says about one of our orders, after its signature was checked."""

    order_id: str
    trade_no: str
    outcome: Outcome
    amount_fen: int


class InvalidNotice(Exception):
    """A notification whose signature, merchant or fields do not check out."""


class PaymentError(Exception):
    """The provider refused or could not be reached; `code` says which."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


class PaymentProvider(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def acknowledgement(self) -> str:
        """What the notification endpoint answers once a notice was read (the provider stops
        retrying when it sees exactly this)."""
        ...

    def checkout_url(self, checkout: Checkout) -> str: ...

    def read_notice(self, params: Mapping[str, str]) -> Notice | None:
        """The notice in *params*, None for a status we do not act on; InvalidNotice if forged."""
        ...

    def query(self, *, order_id: str) -> Notice | None: ...

    def refund(self, *, order_id: str, amount_fen: int) -> None: ...


def yuan(fen: int) -> str:
    """12345 → "123.45": how providers write amounts."""
    return f"{fen // 100}.{fen % 100:02d}"


def fen(yuan_text: str) -> int:
    """ "123.45" → 12345, exactly; InvalidNotice for anything else."""
    try:
        amount = Decimal(yuan_text)
    except InvalidOperation as exc:
        raise InvalidNotice(f"amount {yuan_text!r}") from exc
    cents = amount * 100
    if cents != cents.to_integral_value() or cents < 0:
        raise InvalidNotice(f"amount {yuan_text!r}")
    return int(cents)


def provider(name: str | None = None) -> PaymentProvider:
    chosen = name or settings.PAYMENT_PROVIDER
    if chosen == "sandbox":
        from portsign.billing.payments.sandbox import SandboxPayments

        return SandboxPayments()
    if chosen == "alipay":
        from portsign.billing.payments.alipay import AlipayPayments

        return AlipayPayments.from_settings()
    raise LookupError(f"unknown payment provider {chosen!r}")
