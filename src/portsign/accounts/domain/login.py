"""Sign-in by one-time code or by password + image captcha (SPEC A2, A6). Certificate
sign-in lives with the certificates (pki/login_certificates.py) and audits through here.

Password failures are counted per *address* (SignInThrottle), known or not: after
PASSWORD_MAX_FAILURES the password route of that address is locked for PASSWORD_LOCK_SECONDS,
and with CAPTCHA_AFTER_FAILURES > 0 the captcha is demanded after that many failures. Unknown
accounts behave exactly like known ones, so neither reveals which accounts exist. Sign-in by
code keeps working while locked, so a person is never stranded by someone guessing.
Run outside any transaction: a failure must be recorded even though sign-in fails.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portsign.accounts.domain.captcha import check_captcha
from portsign.accounts.domain.codes import consume_code, find_user, mask_address
from portsign.accounts.enums import CodePurpose
from portsign.accounts.models import SignInThrottle, User
from portsign.accounts.validators import parse_account
from portsign.common.audit import record_event
from portsign.common.errors import Invalid, RateLimited


def login_with_code(*, account: str, code: str) -> User:
    parsed = parse_account(account)
    user = find_user(parsed)
    try:
        consume_code(account=parsed, purpose=CodePurpose.LOGIN, code=code)
    except Invalid as exc:
        audit_login_failed(user=user, method="code", reason=exc.code, address=parsed.address)
        raise
    if user is None or not user.is_active:
        raise Invalid(_("This account cannot sign in."), code="account_disabled")
    audit_login_succeeded(user=user, method="code")
    return user


def captcha_required(address: str) -> bool:
    if settings.CAPTCHA_AFTER_FAILURES == 0:
        return True
    throttle = SignInThrottle.objects.filter(address=address).first()
    return throttle is not None and throttle.failures >= settings.CAPTCHA_AFTER_FAILURES


def login_with_password(
    *, account: str, password: str, captcha_id: str = "", captcha: str = ""
) -> User:
    parsed = parse_account(account)
    user = find_user(parsed)
    _refuse_if_locked(parsed.address)
    if captcha_required(parsed.address) or captcha_id:
        try:
            check_captcha(captcha_id=captcha_id, answer=captcha)
        except Invalid as exc:
            audit_login_failed(
                user=user, method="password", reason=exc.code, address=parsed.address
            )
            raise
    if user is None or not user.is_active or not user.check_password(password or ""):
        _count_failure(user, parsed.address)
        raise Invalid(
            _("The account or password is wrong."),
            code="credentials_wrong",
            fields={"password": _("The account or password is wrong.")},
        )
    clear_throttle(user=user)
    audit_login_succeeded(user=user, method="password")
    return user


def clear_throttle(*, user: User) -> None:
    """Forget failures and locks of the user's addresses (after sign-in or a reset)."""
    SignInThrottle.objects.filter(address__in=[a for a in (user.phone, user.email) if a]).delete()


def _refuse_if_locked(address: str) -> None:
    throttle = SignInThrottle.objects.filter(address=address).first()
    if throttle is None or throttle.locked_until is None:
        return
    wait = int((throttle.locked_until - timezone.now()).total_seconds())
    if wait > 0:
        raise RateLimited(
            _(
                "Too many wrong passwords. Password sign-in is locked for %(minutes)d more "
                "minutes; you can sign in with an SMS or e-mail code instead."
            )
            % {"minutes": (wait + 59) // 60},
            retry_after=wait,
            code="password_locked",
        )


def _count_failure(user: User | None, address: str) -> None:
    with transaction.atomic():
        throttle, _created = SignInThrottle.objects.select_for_update().get_or_create(
            address=address
        )
        throttle.failures += 1
        audit_login_failed(
            user=user, method="password", reason="credentials_wrong", address=address
        )
        if throttle.failures >= settings.PASSWORD_MAX_FAILURES:
            until = timezone.now() + timedelta(seconds=settings.PASSWORD_LOCK_SECONDS)
            throttle.failures, throttle.locked_until = 0, until
            record_event(
                action="login.locked",
                actor_id=user.id if user else "",
                object_type="user",
                object_id=user.id if user else "",
                data={"account": mask_address(address), "until": until.isoformat()},
            )
        throttle.save()


def audit_login_failed(
    *,
    user: User | None,
    method: str,
    reason: str,
    address: str = "",
    details: Mapping[str, str] | None = None,
) -> None:
    """The one shape of a failed sign-in event, whatever the method."""
    data: dict[str, str] = {"method": method, "reason": reason, **(details or {})}
    if address:
        data["account"] = mask_address(address)
    record_event(
        action="login.failed",
        actor_id=user.id if user else "",
        object_type="user",
        object_id=user.id if user else "",
        data=data,
    )


def audit_login_succeeded(
    *, user: User, method: str, details: Mapping[str, str] | None = None
) -> None:
    record_event(
        action="login.succeeded",
        actor_id=user.id,
        object_type="user",
        object_id=user.id,
        data={"method": method, **(details or {})},
    )


def record_logout(*, user: User) -> None:
    record_event(action="logout", actor_id=user.id, object_type="user", object_id=user.id)
