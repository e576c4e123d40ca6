"""Contract quotas (对公/对私合同份数, SPEC D7): who pays for a contract, what it costs, and the
one place a quota changes (`_change`), which writes the usage row beside it.

Sending takes one contract of the contract's kind from the sender's wallet (the enterprise it
was sent as, else the person) inside the send's own transaction, so a refused charge leaves
the contract a draft. A revoke before anyone signed gives it back. Contracts the E-Port office
opens for its own procedures (`managed_by`) and void statements (part of the voided
contract's life) cost nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portsign.accounts.models import User
from portsign.billing.enums import QuotaKind, UsageReason
from portsign.billing.models import Order, Usage, Wallet
from portsign.common.audit import record_event
from portsign.common.errors import PaymentRequired
from portsign.contracts.enums import PartyKind, PartyStatus
from portsign.contracts.models import Contract
from portsign.enterprises.enums import VerificationMethod
from portsign.enterprises.models import Enterprise

# What counts as used (已用): sent contracts, less those given back.
_USED = {UsageReason.SEND: 1, UsageReason.RETURN: -1}


def wallet_of_enterprise(enterprise_id: str) -> Wallet:
    wallet, _created = Wallet.objects.get_or_create(enterprise_id=enterprise_id)
    return wallet


def wallet_of_user(user_id: str) -> Wallet:
    wallet, _created = Wallet.objects.get_or_create(user_id=user_id)
    return wallet


def remaining(wallet: Wallet, kind: str) -> int:
    return int(getattr(wallet, f"{kind}_remaining"))


def _change(
    wallet: Wallet,
    kind: str,
    delta: int,
    reason: UsageReason,
    *,
    contract: Contract | None = None,
    order: Order | None = None,
) -> Usage | None:
    """Add *delta* contracts of *kind* (negative: take), or None when the quota is short.
    A second change for the same contract or order and reason is a no-op returning None."""
    left, used = f"{kind}_remaining", f"{kind}_used"
    done = Usage.objects.filter(reason=reason)
    if (contract and done.filter(contract=contract).exists()) or (
        order and done.filter(order=order).exists()
    ):
        return None
    with transaction.atomic():
        rows = Wallet.objects.filter(pk=wallet.pk)
        if delta < 0:
            rows = rows.filter(**{f"{left}__gte": -delta})
        updates = {left: F(left) + delta}
        if reason in _USED:
            updates[used] = F(used) + _USED[reason]
        if not rows.update(**updates):
            return None
        wallet.refresh_from_db(fields=[left, used])
        try:
            with transaction.atomic():
                return Usage.objects.create(
                    wallet=wallet,
                    at=timezone.now(),
                    kind=kind,
                    delta=delta,
                    balance=remaining(wallet, kind),
                    reason=reason,
                    contract=contract,
                    order=order,
                )
        except IntegrityError:  # already charged, returned, credited or refunded
            transaction.set_rollback(True)
            return None


def credit(
    wallet: Wallet, kind: str, count: int, reason: UsageReason, *, order: Order | None = None
) -> Usage | None:
    return _change(wallet, kind, count, reason, order=order)


def kind_of(contract: Contract) -> QuotaKind:
    """对公 when another enterprise signs, 对私 when only persons (and the sender) do."""
    others = contract.parties.filter(kind=PartyKind.ENTERPRISE)
    if contract.sender_enterprise_id:
        others = others.exclude(enterprise_id=contract.sender_enterprise_id)
    return QuotaKind.CORPORATE if others.exists() else QuotaKind.PERSONAL


def payer_of(contract: Contract) -> Wallet:
    if contract.sender_enterprise_id:
        return wallet_of_enterprise(contract.sender_enterprise_id)
    return wallet_of_user(contract.sender_id)


def billable(contract: Contract) -> bool:
    return not contract.managed_by and contract.voids_id is None


def recharge_link() -> str:
    """The console's recharge page (it shows the acting identity's wallet)."""
    return reverse("billing:index")


_EXHAUSTED = {
    QuotaKind.CORPORATE: _("No corporate contracts are left to send this one. Recharge first."),
    QuotaKind.PERSONAL: _("No personal contracts are left to send this one. Recharge first."),
}


def charge_contract(contract: Contract) -> None:
    """Take one contract of its kind from the payer, else 402 quota_exhausted (which rolls
    the send back)."""
    if not billable(contract):
        return
    kind = kind_of(contract)
    wallet = payer_of(contract)
    if _change(wallet, kind, -1, UsageReason.SEND, contract=contract) is None:
        if Usage.objects.filter(contract=contract, reason=UsageReason.SEND).exists():
            return  # charged already (a retried send): not twice
        raise PaymentRequired(
            _EXHAUSTED[kind],
            code="quota_exhausted",
            link=recharge_link(),
            link_label=_("Recharge"),
        )


def return_contract(contract: Contract) -> None:
    """A revoke before any party signed gives the contract back to whoever paid for it."""
    charge = Usage.objects.filter(contract=contract, reason=UsageReason.SEND).first()
    if charge is None or contract.parties.filter(status=PartyStatus.SIGNED).exists():
        return
    _change(charge.wallet, charge.kind, 1, UsageReason.RETURN, contract=contract)


def _grant(wallet: Wallet, grants: dict[str, int], *, subject: str, object_id: str) -> None:
    if Usage.objects.filter(wallet=wallet, reason=UsageReason.GRANT).exists():
        return  # verified again after a lapse: the free allotment is given once
    for kind, count in grants.items():
        if count > 0:
            _change(wallet, kind, count, UsageReason.GRANT)
    record_event(
        action="billing.granted",
        object_type=subject,
        object_id=object_id,
        data={kind: str(count) for kind, count in grants.items()},
    )


def grant_enterprise(enterprise: Enterprise) -> None:
    """Seed 000: a verified enterprise may send 5 corporate and 10 personal contracts; seed
    002: the 0.01 CNY it paid to verify buys one more corporate contract."""
    wallet = wallet_of_enterprise(enterprise.id)
    _grant(
        wallet, settings.BILLING_FREE["enterprise"], subject="enterprise", object_id=enterprise.id
    )
    if enterprise.verification_method == VerificationMethod.REVERSE_DEPOSIT and not (
        Usage.objects.filter(wallet=wallet, reason=UsageReason.REVERSE_PAYMENT).exists()
    ):
        _change(wallet, QuotaKind.CORPORATE, 1, UsageReason.REVERSE_PAYMENT)


def grant_person(user: User) -> None:
    _grant(
        wallet_of_user(user.id), settings.BILLING_FREE["person"], subject="user", object_id=user.id
    )


def quota(wallet: Wallet) -> dict[str, dict[str, int]]:
    return {
        kind: {
            "remaining": remaining(wallet, kind),
            "used": int(getattr(wallet, f"{kind}_used")),
        }
        for kind in QuotaKind.values
    }


def take_back(wallet: Wallet, kind: str, count: int, *, order: Order) -> int:
    """Take up to *count* contracts back for a refunded order; how many were left to take."""
    with transaction.atomic():
        locked = Wallet.objects.select_for_update().get(pk=wallet.pk)
        taken = min(count, remaining(locked, kind))
        if taken:
            _change(locked, kind, -taken, UsageReason.REFUND, order=order)
    return taken
