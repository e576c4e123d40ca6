"""Transfer verification of an enterprise (SPEC B2).

Micro-deposit: PortSign pays a random 0.01–0.99 CNY to the corporate account; a member enters
the amount (DEPOSIT_MAX_TRIES tries, DEPOSIT_VALID_DAYS days). Reverse deposit: the enterprise
pays 0.01 CNY from its corporate account to PortSign quoting a reference code. Either way,
proving control of the corporate account verifies the enterprise.

Bank calls happen outside transactions (DESIGN rule 5). Wrong amounts are counted in their own
transaction before the error is raised, so callers must not wrap these in one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portsign.accounts.models import User
from portsign.common.audit import record_event
from portsign.common.cn_ids import normalize_cny_amount
from portsign.common.errors import Conflict, Invalid, NotFound
from portsign.common.text import clean_text
from portsign.enterprises.bank import BankError, bank_gateway
from portsign.enterprises.domain.enterprises import (
    open_for_method,
    refuse_if_lapsed,
    set_enterprise_status,
)
from portsign.enterprises.enums import (
    DepositStatus,
    EnterpriseStatus,
    Permission,
    VerificationMethod,
)
from portsign.enterprises.models import DepositVerification, Enterprise
from portsign.enterprises.rules import enterprise_for

REVERSE_AMOUNT = Decimal("0.01")
_OPEN = [DepositStatus.AWAITING_AMOUNT, DepositStatus.AWAITING_PAYMENT]
_TRANSFER_METHODS = (VerificationMethod.MICRO_DEPOSIT, VerificationMethod.REVERSE_DEPOSIT)


def _amount_hash(verification_id: str, amount: Decimal) -> str:
    message = f"{verification_id}:{amount:.2f}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def _clean_account(bank_name: str, bank_account: str) -> tuple[str, str]:
    name = clean_text(
        bank_name,
        field="bank_name",
        min_length=2,
        max_length=100,
        code="bank_account_invalid",
        message=_("Enter the name of the bank and branch."),
    )
    account = "".join((bank_account or "").split()).replace("-", "")
    if not (account.isascii() and account.isdigit() and 8 <= len(account) <= 32):
        problem = _("A corporate account number has 8 to 32 digits.")
        raise Invalid(problem, code="bank_account_invalid", fields={"bank_account": problem})
    return name, account


def start_deposit(
    *, actor: User, enterprise_id: str, method: str, bank_name: str, bank_account: str
) -> DepositVerification:
    if method not in _TRANSFER_METHODS:
        raise Invalid(
            _("Use micro_deposit or reverse_deposit."),
            code="method_invalid",
            fields={"method": _("Unknown method.")},
        )
    enterprise = open_for_method(actor=actor, enterprise_id=enterprise_id)
    name, account = _clean_account(bank_name, bank_account)
    _refuse_too_many_starts(enterprise)
    verification = DepositVerification(
        enterprise=enterprise,
        method=method,
        bank_name=name,
        bank_account=account,
        created_by=actor,
        expires_at=timezone.now() + timedelta(days=settings.DEPOSIT_VALID_DAYS),
    )
    amount = Decimal(secrets.randbelow(99) + 1) / 100
    if method == VerificationMethod.MICRO_DEPOSIT:
        verification.status = DepositStatus.PAYING
        verification.amount_hash = _amount_hash(verification.id, amount)
    else:
        verification.status = DepositStatus.AWAITING_PAYMENT
        verification.reference = "".join(secrets.choice("0123456789") for _ in range(8))
    with transaction.atomic():
        for superseded in DepositVerification.objects.select_for_update().filter(
            enterprise=enterprise, status__in=_OPEN
        ):
            superseded.status = DepositStatus.FAILED
            superseded.save(update_fields=["status"])
            _audit(superseded, actor, "enterprise.deposit_superseded")
        verification.save(force_insert=True)
        if enterprise.status == EnterpriseStatus.UNVERIFIED:
            set_enterprise_status(
                enterprise_id=enterprise.id, status=EnterpriseStatus.VERIFYING, actor_id=actor.id
            )
        _audit(verification, actor, "enterprise.deposit_started")
    if method == VerificationMethod.MICRO_DEPOSIT:
        _pay(verification, enterprise, amount, actor)  # after commit: a record exists first
    return verification


def _refuse_too_many_starts(enterprise: Enterprise) -> None:
    """Each micro-deposit allows a few guesses of 99 amounts; capping the attempts keeps
    guessing hopeless. Past the cap the enterprise verifies another way."""
    started = DepositVerification.objects.filter(
        enterprise=enterprise, method=VerificationMethod.MICRO_DEPOSIT
    ).count()
    if started >= settings.DEPOSIT_MAX_STARTS:
        raise Conflict(
            _(
                "Transfer verification was tried too often. Verify through the legal "
                "representative or with a stamped authorization letter instead."
            ),
            code="deposit_attempts_exhausted",
        )


def _pay(
    verification: DepositVerification, enterprise: Enterprise, amount: Decimal, actor: User
) -> None:
    """Pay the micro-deposit; the verification id makes a retried payout pay once."""
    try:
        bank_gateway().pay(
            account=verification.bank_account,
            account_name=enterprise.name,
            bank_name=verification.bank_name,
            amount=amount,
            memo=str(_("PortSign enterprise verification")),
            request_id=verification.id,
        )
    except BankError as exc:
        with transaction.atomic():
            DepositVerification.objects.filter(pk=verification.pk).update(
                status=DepositStatus.FAILED
            )
            verification.status = DepositStatus.FAILED
            _audit(verification, actor, "enterprise.deposit_payout_refused", failure=exc.code)
        raise bank_refusal(exc) from exc
    DepositVerification.objects.filter(pk=verification.pk, status=DepositStatus.PAYING).update(
        status=DepositStatus.AWAITING_AMOUNT
    )
    verification.status = DepositStatus.AWAITING_AMOUNT


def bank_refusal(exc: BankError) -> Invalid:
    """The bank's refusal in the person's language."""
    messages = {
        "account_not_found": _("The bank says this account does not exist. Check the number."),
        "account_name_mismatch": _(
            "The bank says the account is not held under the "
            "enterprise's name. Use the enterprise's corporate account."
        ),
        "bank_unavailable": _("Bank transfers are not available on this PortSign instance."),
    }
    message = messages.get(exc.code, _("The bank refused the transfer."))
    return Invalid(message, code="bank_" + exc.code, fields={"bank_account": message})


def current_deposit(*, actor: User, enterprise_id: str) -> DepositVerification:
    enterprise = enterprise_for(
        user=actor, enterprise_id=enterprise_id, permission=Permission.MANAGE_ENTERPRISE
    )
    verification = enterprise.deposit_verifications.order_by("-created_at").first()
    if verification is None:
        raise NotFound(_("No transfer verification has been started."))
    return verification


def confirm_amount(*, actor: User, enterprise_id: str, amount: str) -> DepositVerification:
    """Check the amount the member read on the corporate account statement."""
    value = normalize_cny_amount(amount)
    verification = current_deposit(actor=actor, enterprise_id=enterprise_id)
    refuse_if_lapsed(verification.enterprise)
    with transaction.atomic():
        verification = DepositVerification.objects.select_for_update().get(pk=verification.id)
        failure = _judge_amount(verification, value)
        if failure is None:
            _succeed(verification, actor)
        else:
            _audit(verification, actor, "enterprise.deposit_failed_try", failure=failure.code)
    if failure is not None:
        raise failure
    return verification


def _judge_amount(verification: DepositVerification, value: Decimal) -> Conflict | Invalid | None:
    if verification.status != DepositStatus.AWAITING_AMOUNT:
        return Conflict(
            _("This verification is not waiting for an amount. Start a new one."),
            code="deposit_not_open",
        )
    if verification.expires_at <= timezone.now():
        verification.status = DepositStatus.EXPIRED
        verification.save(update_fields=["status"])
        return Conflict(
            _("The transfer verification expired. Start a new one."), code="deposit_expired"
        )
    if hmac.compare_digest(verification.amount_hash, _amount_hash(verification.id, value)):
        return None
    verification.tries += 1
    left = settings.DEPOSIT_MAX_TRIES - verification.tries
    if left <= 0:
        verification.status = DepositStatus.FAILED
    verification.save(update_fields=["tries", "status"])
    if left <= 0:
        return Conflict(
            _("The amount was wrong too many times. Start a new transfer verification."),
            code="deposit_failed",
        )
    return Invalid(
        _("The amount is wrong. %(left)d tries left.") % {"left": left},
        code="amount_wrong",
        fields={"amount": _("Wrong amount.")},
    )


def check_reverse_payment(*, actor: User, enterprise_id: str) -> DepositVerification:
    """Look for the enterprise's payment quoting the reference; verify when it arrived."""
    verification = current_deposit(actor=actor, enterprise_id=enterprise_id)
    if verification.status != DepositStatus.AWAITING_PAYMENT:
        raise Conflict(
            _("This verification is not waiting for a payment."), code="deposit_not_open"
        )
    refuse_if_lapsed(verification.enterprise)
    if verification.expires_at <= timezone.now():
        with transaction.atomic():
            verification.status = DepositStatus.EXPIRED
            verification.save(update_fields=["status"])
            _audit(verification, actor, "enterprise.deposit_expired")
        raise Conflict(
            _("The transfer verification expired. Start a new one."), code="deposit_expired"
        )
    payment = bank_gateway().find_incoming(reference=verification.reference)
    if payment is None:
        raise Conflict(
            _("No payment quoting reference %(ref)s has arrived yet.")
            % {"ref": verification.reference},
            code="payment_not_received",
        )
    if (payment.from_account, payment.from_name, payment.amount) != (
        verification.bank_account,
        verification.enterprise.name,
        REVERSE_AMOUNT,
    ):
        raise Conflict(
            _(
                "The payment quoting this reference came from another account, another "
                "account holder or for another amount."
            ),
            code="payment_mismatch",
        )
    with transaction.atomic():
        verification = DepositVerification.objects.select_for_update().get(pk=verification.id)
        if verification.status == DepositStatus.AWAITING_PAYMENT:
            _succeed(verification, actor)
    return verification


def _succeed(verification: DepositVerification, actor: User) -> None:
    now = timezone.now()
    verification.status, verification.completed_at = DepositStatus.VERIFIED, now
    verification.save(update_fields=["status", "completed_at"])
    set_enterprise_status(
        enterprise_id=verification.enterprise_id,
        status=EnterpriseStatus.VERIFIED,
        actor_id=actor.id,
        verified_at=now,
        verification_method=verification.method,
    )
    _audit(verification, actor, "enterprise.deposit_verified")


def _audit(verification: DepositVerification, actor: User, action: str, **extra: str) -> None:
    record_event(
        action=action,
        actor_id=actor.id,
        acting_as=verification.enterprise_id,
        object_type="deposit_verification",
        object_id=verification.id,
        data={
            "method": verification.method,
            "bank_account": "****" + verification.bank_account[-4:],
            "tries": verification.tries,
            **extra,
        },
    )


def make_sandbox_payment(*, from_account: str, from_name: str, amount: str, reference: str) -> None:
    """The sandbox bank's counter (page and API): an enterprise pays PortSign."""
    value = normalize_cny_amount(amount)
    payer = "".join((from_account or "").split())
    name = clean_text(
        from_name,
        field="from_name",
        min_length=2,
        max_length=100,
        code="from_name_invalid",
        message=_("Enter the account holder's name."),
    )
    try:
        bank_gateway().receive(
            from_account=payer, from_name=name, amount=value, reference=(reference or "").strip()
        )
    except BankError as exc:
        raise bank_refusal(exc) from exc
