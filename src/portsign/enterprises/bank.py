"""Bank gateways for transfer verification (SPEC B2): pay out a micro-deposit, and look up
an incoming payment that quotes a reference.

A real bank refuses a transfer whose account name does not match the account, and names the
payer of an incoming transfer; both are how a transfer proves that the corporate account belongs
to the enterprise. The sandbox bank (embedded default) models that with state: an account's
holder is fixed at its first transfer (SandboxBankAccount), payouts land in the sandbox outbox
under the account number (data {"amount": "0.37"}), and incoming payments are made on
/sandbox/bank/ or `POST /api/v1/sandbox/bank/transfers`. Magic input (docs/sandbox.md): an
account number ending in 0000 does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Protocol

from django.conf import settings
from django.db import transaction

from portsign.common.models import SandboxBankAccount, SandboxMessage

PLATFORM_ACCOUNT = "PORTSIGN-PLATFORM"


class BankError(Exception):
    """A refusal by the bank. `code` is stable; the text is for logs, not for people."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class IncomingPayment:
    from_account: str
    from_name: str
    amount: Decimal
    reference: str


class BankGateway(Protocol):
    def pay(
        self,
        *,
        account: str,
        account_name: str,
        bank_name: str,
        amount: Decimal,
        memo: str,
        request_id: str,
    ) -> str:
        """Transfer *amount* to the account held by *account_name*; return the bank's
        transaction id. Idempotent per *request_id*."""
        ...

    def find_incoming(self, *, reference: str) -> IncomingPayment | None:
        """The payment into the platform account that quotes *reference*, if any."""
        ...


class SandboxBank:
    def _check_account(self, number: str, holder: str) -> None:
        if number.endswith("0000"):
            raise BankError("the account does not exist", code="account_not_found")
        with transaction.atomic():
            account, _created = SandboxBankAccount.objects.get_or_create(
                number=number, defaults={"holder": holder}
            )
        if account.holder != holder:
            raise BankError(
                "the account name does not match the account", code="account_name_mismatch"
            )

    def pay(
        self,
        *,
        account: str,
        account_name: str,
        bank_name: str,
        amount: Decimal,
        memo: str,
        request_id: str,
    ) -> str:
        done = SandboxMessage.objects.filter(
            channel="bank", to=account, data__request_id=request_id
        ).first()
        if done is not None:
            return f"sandbox-bank-{done.pk}"
        self._check_account(account, account_name)
        row = SandboxMessage.objects.create(
            to=account,
            channel="bank",
            subject=bank_name,
            text=f"{account_name}: {memo}",
            data={
                "amount": f"{amount:.2f}",
                "memo": memo,
                "payer": PLATFORM_ACCOUNT,
                "request_id": request_id,
            },
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
            str(row.data.get("from_name", "")),
            Decimal(str(row.data.get("amount", "0"))),
            reference,
        )

    def receive(
        self, *, from_account: str, from_name: str, amount: Decimal, reference: str
    ) -> None:
        """The sandbox stand-in for an enterprise paying the platform from its bank."""
        self._check_account(from_account, from_name)
        SandboxMessage.objects.create(
            to=PLATFORM_ACCOUNT,
            channel="bank",
            text=f"incoming {reference}",
            data={
                "from_account": from_account,
                "from_name": from_name,
                "amount": f"{amount:.2f}",
                "reference": reference,
            },
        )


@cache
def bank_gateway() -> SandboxBank:
    # Production adapters (bank-enterprise direct connection) plug in here; until one exists
    # a production instance refuses transfer verification rather than pretend to pay.
    if not settings.SANDBOX:
        raise BankError("no bank adapter is configured", code="bank_unavailable")
    return SandboxBank()
