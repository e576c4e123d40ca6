"""Bank gateways for transfer verification (SPEC B2): pay out a micro-deposit, and look up
an incoming payment that quotes a reference.

The sandbox bank is the embedded default. It is real code with state: payouts land in the
sandbox outbox under the receiving account number (data {"amount": "0.37"}); incoming payments
are made on the sandbox bank page or `POST /api/v1/sandbox/bank/transfers` and kept there too.
Magic input (docs/sandbox.md): an account number ending in 0000 does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Protocol

from django.conf import settings

from portsign.common.models import SandboxMessage

PLATFORM_ACCOUNT = "PORTSIGN-PLATFORM"


class BankError(Exception):
    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class IncomingPayment:
    from_account: str
    amount: Decimal
    reference: str


class BankGateway(Protocol):
    def pay(
        self, *, account: str, account_name: str, bank_name: str, amount: Decimal, memo: str
    ) -> str:
        """Transfer *amount* to the account; return the bank's transaction id."""
        ...

    def find_incoming(self, *, reference: str) -> IncomingPayment | None:
        """The payment into the platform account that quotes *reference*, if any."""
        ...


class SandboxBank:
    def pay(
        self, *, account: str, account_name: str, bank_name: str, amount: Decimal, memo: str
    ) -> str:
        if account.endswith("0000"):
            raise BankError("the receiving account does not exist", code="account_not_found")
        row = SandboxMessage.objects.create(
            to=account,
            channel="bank",
            subject=bank_name,
            text=f"{account_name}: {memo}",
            data={"amount": f"{amount:.2f}", "memo": memo, "payer": PLATFORM_ACCOUNT},
        )
        return f"sandbox-bank-{row.pk}"

    def find_incoming(self, *, reference: str) -> IncomingPayment | None:
        row = (
            SandboxMessage.objects.filter(
                to=PLATFORM_ACCOUNT, channel="bank", data__reference=reference
            )
            .order_by("-id")
            .first()
        )
        if row is None:
            return None
        return IncomingPayment(
            str(row.data.get("from_account", "")),
            Decimal(str(row.data.get("amount", "0"))),
            reference,
        )

    def receive(self, *, from_account: str, amount: Decimal, reference: str) -> None:
        """The sandbox stand-in for an enterprise paying the platform from its bank."""
        if from_account.endswith("0000"):
            raise BankError("the paying account does not exist", code="account_not_found")
        SandboxMessage.objects.create(
            to=PLATFORM_ACCOUNT,
            channel="bank",
            text=f"incoming {reference}",
            data={"from_account": from_account, "amount": f"{amount:.2f}", "reference": reference},
        )


@cache
def bank_gateway() -> SandboxBank:
    # Production adapters (bank-enterprise direct connection) plug in here; until one exists
    # a production instance refuses transfer verification rather than pretend to pay.
    if not settings.SANDBOX:
        raise BankError("no bank adapter is configured", code="bank_unavailable")
    return SandboxBank()
