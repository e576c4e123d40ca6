"""One-time codes (SPEC A1–A4, A6): issue, rate-limit, verify.

Codes are stored as an HMAC so a database reader cannot use them. Only the newest code of a
target and purpose counts: asking for a new code retires the old one.

`consume_code` must run outside any transaction: a wrong attempt has to be counted even
though the caller's action then fails.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

import phonenumbers
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from portsign.accounts.enums import (
    EXISTING_ACCOUNT_PURPOSES,
    NEW_ADDRESS_PURPOSES,
    PUBLIC_PURPOSES,
    SIGNED_IN_PURPOSES,
    Channel,
    CodePurpose,
)
from portsign.accounts.models import User, VerificationCode
from portsign.accounts.validators import Account, parse_account
from portsign.common.audit import record_event
from portsign.common.errors import Busy, Conflict, Invalid, NotFound, RateLimited, Unauthorized
from portsign.common.models import Notification
from portsign.common.notify.outbox import send_now
from portsign.common.request_context import current_origin


@dataclass(frozen=True)
class IssuedCode:
    account: Account
    expires_in: int
    resend_after: int

    @property
    def minutes(self) -> int:
        return self.expires_in // 60


def hash_code(code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), code.encode(), hashlib.sha256).hexdigest()


def mask_address(address: str) -> str:
    """+8613812345678 → +86138****5678; +85251234567 → +852****4567 (a short number keeps only
    its country code and last four digits); alice@example.cn → a***@example.cn."""
    if "@" in address:
        local, _at, domain = address.partition("@")
        return f"{local[:1]}***@{domain}"
    if address.startswith("+86"):
        return address[:6] + "****" + address[-4:]
    try:
        country = str(phonenumbers.parse(address).country_code)
    except phonenumbers.NumberParseException:
        country = ""
    return f"+{country}****{address[-4:]}" if country else "****" + address[-4:]


def find_user(account: Account) -> User | None:
    lookup = (
        {"phone": account.address}
        if account.channel == Channel.SMS
        else {"email": account.address}  # stored lower-cased, so the unique index serves
    )
    return User.objects.filter(**lookup).first()


def _check_purpose(account: Account, purpose: CodePurpose) -> None:
    if purpose in EXISTING_ACCOUNT_PURPOSES and find_user(account) is None:
        raise NotFound(
            _("No account is registered with this number or address."),
            code="account_not_registered",
            fields={"to": _("Not registered.")},
        )
    if purpose in NEW_ADDRESS_PURPOSES and find_user(account) is not None:
        raise Conflict(
            _("This number or address is already registered."),
            code="account_exists",
            fields={"to": _("Already registered.")},
        )
    wanted = {CodePurpose.CHANGE_PHONE: Channel.SMS, CodePurpose.CHANGE_EMAIL: Channel.EMAIL}
    if purpose in wanted and account.channel != wanted[purpose]:
        raise Invalid(
            _(
                "This code must go to a mobile number for a new number, or to a "
                "mailbox for a new e-mail address."
            ),
            code="wrong_channel",
        )


def _check_limits(account: Account, ip: str, purpose: CodePurpose, binding: str) -> None:
    """Resend interval, daily cap per address, hourly cap per network.

    Signing codes (purpose `sign`) are asked for by a signed-in person, each for one act: their
    resend interval counts only codes for the same act, they have their own (higher) daily cap,
    and the anonymous per-network cap does not apply — a clerk signs dozens of contracts a day
    from one office.
    """
    now = timezone.now()
    signing = purpose == CodePurpose.SIGN
    same_kind = VerificationCode.objects.filter(target=account.address)
    same_kind = (
        same_kind.filter(purpose=CodePurpose.SIGN)
        if signing
        else same_kind.exclude(purpose=CodePurpose.SIGN)
    )
    recent = same_kind.filter(binding=binding) if signing else same_kind
    last = recent.order_by("-created_at").first()
    if last is not None:
        wait = settings.CODE_RESEND_SECONDS - int((now - last.created_at).total_seconds())
        if wait > 0:
            raise RateLimited(
                _("Please wait %(seconds)d seconds before asking for a new code.")
                % {"seconds": wait},
                retry_after=wait,
                code="code_resend_too_soon",
            )
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    sent_today = same_kind.filter(created_at__gte=midnight).count()
    limit = settings.CODE_SIGN_DAILY_LIMIT if signing else settings.CODE_DAILY_LIMIT
    if sent_today >= limit:
        tomorrow = midnight + timedelta(days=1)
        raise RateLimited(
            _("Too many codes were sent to this number or address today. Try again tomorrow."),
            retry_after=int((tomorrow - now).total_seconds()),
            code="code_daily_limit",
        )
    if (
        ip
        and not signing
        and VerificationCode.objects.filter(ip=ip, created_at__gte=now - timedelta(hours=1))
        .exclude(purpose=CodePurpose.SIGN)
        .count()
        >= settings.CODE_IP_HOURLY_LIMIT
    ):
        raise RateLimited(
            _("Too many codes were requested from your network. Try again later."),
            retry_after=3600,
            code="code_ip_limit",
        )


def _message_text(purpose: CodePurpose, code: str) -> tuple[str, str]:
    minutes = settings.CODE_TTL_SECONDS // 60
    subject = _("PortSign verification code")
    text = _(
        "[PortSign] Your code for %(purpose)s is %(code)s, valid for %(minutes)d minutes. "
        "Never tell anyone this code."
    ) % {"purpose": purpose.label, "code": code, "minutes": minutes}
    return str(subject), text


def issue_code(
    *, to: str, purpose: CodePurpose, binding: str = "", actor_id: str = ""
) -> IssuedCode:
    """Send a fresh 6-digit code to *to* for *purpose*; retire older ones."""
    account = parse_account(to, field="to")
    _check_purpose(account, purpose)
    ip = current_origin().ip
    code = f"{secrets.randbelow(10**6):06d}"
    now = timezone.now()
    with transaction.atomic():
        _check_limits(account, ip, purpose, binding)
        # Only the newest code counts — per act for bound codes, so a signer can have codes
        # for two contracts in flight at once.
        VerificationCode.objects.filter(
            target=account.address,
            purpose=purpose,
            binding=binding,
            used_at__isnull=True,
            burned=False,
        ).update(burned=True)
        row = VerificationCode.objects.create(
            target=account.address,
            channel=account.channel,
            purpose=purpose,
            binding=binding,
            code_hash=hash_code(code),
            created_at=now,
            expires_at=now + timedelta(seconds=settings.CODE_TTL_SECONDS),
            ip=ip,
        )
        record_event(
            action="code.sent",
            actor_id=actor_id,
            object_type="code",
            object_id=row.id,
            data={"to": mask_address(account.address), "purpose": purpose.value},
        )
    # Sent here, after commit and before answering: the person is told the truth (issue 13).
    subject, text = _message_text(purpose, code)
    note = send_now(
        to=account.address,
        channel=account.channel,
        subject=subject,
        text=text,
        data={"code": code, "purpose": str(purpose.value)},
    )
    if note.status != Notification.Status.SENT:
        _not_delivered(row, account, purpose, actor_id, note.last_error)
    return IssuedCode(account, settings.CODE_TTL_SECONDS, settings.CODE_RESEND_SECONDS)


def _not_delivered(
    row: VerificationCode, account: Account, purpose: CodePurpose, actor_id: str, error: str
) -> None:
    """The code never reached the person: burn it, record why, and say so (503)."""
    with transaction.atomic():
        VerificationCode.objects.filter(pk=row.pk).update(burned=True)
        record_event(
            action="code.not_delivered",
            actor_id=actor_id,
            object_type="code",
            object_id=row.id,
            data={"to": mask_address(account.address), "error": error[:100]},
        )
    if account.channel != "sms":
        message, code = _("The e-mail could not be delivered. Try again later."), "email_failed"
    elif purpose == CodePurpose.SIGN:
        message = _(
            "The text message could not be sent. Confirm by scanning the QR code, "
            "or try again later."
        )
        code = "sms_failed"
    else:
        message, code = _("The text message could not be sent. Try again later."), "sms_failed"
    raise Busy(message, code=code, retry_after=settings.CODE_RESEND_SECONDS)


def request_code(*, to: str, purpose: str, actor: User | None) -> IssuedCode:
    """A code asked for by a person (API /auth/codes, web "send code" buttons)."""
    allowed = PUBLIC_PURPOSES | SIGNED_IN_PURPOSES
    if purpose not in allowed:
        choices = ", ".join(sorted(p.value for p in allowed))
        raise Invalid(
            _("Unknown purpose. Use one of: %(choices)s.") % {"choices": choices},
            code="purpose_invalid",
            fields={"purpose": _("Unknown purpose.")},
        )
    chosen = CodePurpose(purpose)
    if chosen in SIGNED_IN_PURPOSES and actor is None:
        raise Unauthorized(_("Sign in first."))
    if chosen == CodePurpose.CERTIFICATE and actor is not None and not _is_own(actor, to):
        raise Invalid(
            _("A certificate code goes to your own mobile number or e-mail."),
            code="not_your_account",
            fields={"to": _("Not your account.")},
        )
    return issue_code(to=to, purpose=chosen, actor_id=actor.id if actor else "")


def _is_own(user: User, raw: str) -> bool:
    return parse_account(raw, field="to").address in (user.phone, user.email)


def own_code_account(user: User, purpose: CodePurpose) -> Account:
    """The user's own address that their newest *purpose* code went to (phone or e-mail):
    codes a signed-in person asks for themselves (certificates) may use either."""
    addresses = [a for a in (user.phone, user.email) if a]
    latest = (
        VerificationCode.objects.filter(target__in=addresses, purpose=purpose)
        .order_by("-created_at")
        .first()
    )
    target = latest.target if latest else addresses[0]
    return Account(Channel.SMS if target == user.phone else Channel.EMAIL, target)


def _code_error(message: str, code: str) -> Invalid:
    return Invalid(message, code=code, fields={"code": message})


def consume_code(*, account: Account, purpose: CodePurpose, code: str, binding: str = "") -> None:
    """Accept *code* once, or raise a clear error and count the failed attempt.

    Every guess counts, whatever it is bound to: a guess sent with other marks than the code
    was sent for is counted against the live codes it could be aimed at, and is answered the
    same whether it matched one of them or not, so it can neither brute-force a code nor learn
    that it hit one (issue 11: 300 such guesses used to leave the counter at 0).
    """
    if not (code or "").isdigit() or len(code) != 6:
        raise _code_error(_("The code has 6 digits."), "code_format")
    with transaction.atomic():
        rows = VerificationCode.objects.select_for_update().filter(
            target=account.address, purpose=purpose
        )
        row = (rows.filter(binding=binding) if binding else rows).order_by("-created_at").first()
        if row is None and binding and rows.exists():
            failure: Invalid | None = _unbound_guess(rows)
        else:
            failure = _judge(row, code, binding)
        if failure is None and row is not None:
            row.used_at = timezone.now()
            row.save(update_fields=["used_at"])
    if failure is not None:
        raise failure


def _count_attempt(row: VerificationCode) -> bool:
    """Count one wrong attempt on *row*; True when that burns it."""
    row.attempts += 1
    row.burned = row.attempts >= settings.CODE_MAX_ATTEMPTS
    row.save(update_fields=["attempts", "burned"])
    return row.burned


def _unbound_guess(rows: QuerySet[VerificationCode]) -> Invalid:
    """A guess for an act no code was sent for: counted on every live code of this address
    and purpose, and answered without comparing it to any of them."""
    for live in rows.filter(used_at__isnull=True, burned=False, expires_at__gt=timezone.now()):
        _count_attempt(live)
    return _code_error(
        _(
            "No code was sent to confirm exactly this (it may have been sent for other marks "
            "or another contract). Ask for a new code."
        ),
        "code_binding",
    )


def _burned() -> Invalid:
    return _code_error(
        _("Too many wrong attempts: this code no longer works. Ask for a new code."),
        "code_burned",
    )


def _judge(row: VerificationCode | None, code: str, binding: str) -> Invalid | None:
    """The error for *code* against the newest *row*, or None; counts a wrong attempt."""
    if row is None:
        return _code_error(
            _("No code was requested for this purpose. Ask for a code first."), "code_not_requested"
        )
    matches = hmac.compare_digest(row.code_hash, hash_code(code)) and row.binding == binding
    if row.used_at is not None:
        if matches:
            return _code_error(
                _("This code has already been used. Ask for a new code."), "code_used"
            )
        return _code_error(_("The code is wrong. Ask for a new code."), "code_wrong")
    if row.burned:
        return _burned()
    if row.expires_at <= timezone.now():
        return _code_error(_("The code has expired. Ask for a new code."), "code_expired")
    if matches:
        return None
    # A wrong code, or the right one bound to something else: the same count and answer.
    if _count_attempt(row):
        return _burned()
    left = settings.CODE_MAX_ATTEMPTS - row.attempts
    return _code_error(
        _("The code is wrong. %(left)d attempts left.") % {"left": left}, "code_wrong"
    )
