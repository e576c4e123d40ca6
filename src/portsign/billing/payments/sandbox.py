"""The sandbox payment provider: a cashier that keeps its own ledger (`SandboxTrade`) and
fails the ways real ones do — a declined payment, a notification that comes late or twice, a
refund of an unpaid trade. Its notifications are signed (HMAC-SHA256 under a key derived from
SECRET_KEY) and read back through the same path as a real provider's.

The cashier page (billing/views.py) calls `settle`; the notices it owes are handed over by
`due_notices`, which the billing domain delivers at once and, for late ones, from `cleanup`.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Mapping

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import get_random_string, salted_hmac

from portsign.billing.models import SandboxTrade
from portsign.billing.payments import Checkout, InvalidNotice, Notice, Outcome, PaymentError

ACTIONS = ("pay", "fail", "pay_late", "pay_twice")
_STATUS_OF_ACTION = {
    "pay": SandboxTrade.Status.PAID,
    "pay_late": SandboxTrade.Status.PAID,
    "pay_twice": SandboxTrade.Status.PAID,
    "fail": SandboxTrade.Status.FAILED,
}
_OUTCOME: dict[str, Outcome] = {
    SandboxTrade.Status.PAID: "paid",
    SandboxTrade.Status.FAILED: "failed",
    SandboxTrade.Status.REFUNDED: "refunded",
}


def _signature(params: Mapping[str, str]) -> str:
    canonical = "&".join(f"{key}={params[key]}" for key in sorted(params) if key != "sign")
    return salted_hmac("portsign.billing.sandbox", canonical, algorithm="sha256").hexdigest()


def _notice_params(trade: SandboxTrade) -> dict[str, str]:
    params = {
        "out_trade_no": trade.out_trade_no,
        "trade_no": trade.trade_no,
        "status": trade.status,
        "amount_fen": str(trade.amount_fen),
    }
    return {**params, "sign": _signature(params)}


def settle(*, order_id: str, action: str, now: dt.datetime | None = None) -> SandboxTrade:
    """The payer's choice at the cashier. A paid trade cannot fail or be paid again."""
    if action not in ACTIONS:
        raise PaymentError(f"unknown action {action!r}", code="sandbox_action")
    now = now or timezone.now()
    with transaction.atomic():
        trade = SandboxTrade.objects.select_for_update().filter(out_trade_no=order_id).first()
        if trade is None:
            raise PaymentError("no such trade", code="sandbox_no_trade")
        if trade.status not in (SandboxTrade.Status.CREATED, SandboxTrade.Status.FAILED):
            raise PaymentError("the trade is already paid", code="sandbox_trade_closed")
        trade.status = _STATUS_OF_ACTION[action]
        trade.notices_due = 2 if action == "pay_twice" else 1
        delay = settings.SANDBOX_PAYMENT_LATE_SECONDS if action == "pay_late" else 0
        trade.notify_at = now + dt.timedelta(seconds=delay)
        trade.save()
    return trade


def due_notices(*, now: dt.datetime | None = None) -> list[dict[str, str]]:
    """The notifications owed by now, each as many times as the cashier sends it; taken once."""
    now = now or timezone.now()
    sent: list[dict[str, str]] = []
    with transaction.atomic():
        due = SandboxTrade.objects.select_for_update().filter(notices_due__gt=0, notify_at__lte=now)
        for trade in due:
            sent += [_notice_params(trade)] * trade.notices_due
            trade.notices_sent += trade.notices_due
            trade.notices_due = 0
            trade.save(update_fields=["notices_sent", "notices_due", "updated_at"])
    return sent


class SandboxPayments:
    name = "sandbox"
    acknowledgement = "success"

    def checkout_url(self, checkout: Checkout) -> str:
        trade, _created = SandboxTrade.objects.get_or_create(
            out_trade_no=checkout.order_id,
            defaults={
                "trade_no": "SBX" + get_random_string(20, "0123456789"),
                "amount_fen": checkout.amount_fen,
            },
        )
        return reverse("billing:sandbox_cashier", args=[trade.out_trade_no])

    def read_notice(self, params: Mapping[str, str]) -> Notice | None:
        expected = _signature(params)
        if not hmac.compare_digest(expected, params.get("sign", "")):
            raise InvalidNotice("bad signature")
        status = params.get("status", "")
        if status not in _OUTCOME:
            return None
        try:
            amount = int(params.get("amount_fen", ""))
        except ValueError as exc:
            raise InvalidNotice("bad amount") from exc
        return Notice(
            order_id=params.get("out_trade_no", ""),
            trade_no=params.get("trade_no", ""),
            outcome=_OUTCOME[status],
            amount_fen=amount,
        )

    def query(self, *, order_id: str) -> Notice | None:
        trade = SandboxTrade.objects.filter(out_trade_no=order_id).first()
        if trade is None or trade.status not in _OUTCOME:
            return None
        return self.read_notice(_notice_params(trade))

    def refund(self, *, order_id: str, amount_fen: int) -> None:
        with transaction.atomic():
            trade = SandboxTrade.objects.select_for_update().filter(out_trade_no=order_id).first()
            if trade is None or trade.status not in (
                SandboxTrade.Status.PAID,
                SandboxTrade.Status.REFUNDED,
            ):
                raise PaymentError("the trade was not paid", code="trade_not_paid")
            if amount_fen != trade.amount_fen:
                raise PaymentError("refund amount differs from the payment", code="refund_amount")
            # Refunding again is answered like the first time, as real cashiers do for the same
            # refund request number: the caller may retry after a timeout.
            trade.status = SandboxTrade.Status.REFUNDED
            trade.save(update_fields=["status", "updated_at"])
