"""Registration and account changes (SPEC A1, A3, A4). Every change is audited."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portsign.accounts.domain.codes import consume_code, find_user, mask_address
from portsign.accounts.domain.login import clear_throttle
from portsign.accounts.domain.tokens import revoke_all_tokens
from portsign.accounts.enums import Channel, CodePurpose
from portsign.accounts.models import User
from portsign.accounts.validators import (
    Account,
    check_name,
    check_password_policy,
    normalize_email,
    normalize_phone,
    parse_account,
)
from portsign.common.audit import record_event
from portsign.common.errors import Conflict, Invalid


def _taken() -> Conflict:
    return Conflict(
        _("This number or address is already registered."),
        code="account_exists",
        fields={"account": _("Already registered.")},
    )


def register_user(
    *, account: str, code: str, name: str, password: str, accept_terms: bool = True
) -> User:
    parsed = parse_account(account)
    clean_name = check_name(name)
    check_password_policy(password)
    if not accept_terms:
        raise Invalid(
            _("Please read and accept the terms of service."),
            code="terms_required",
            fields={"accept_terms": _("Required.")},
        )
    if find_user(parsed) is not None:
        raise _taken()
    consume_code(account=parsed, purpose=CodePurpose.REGISTER, code=code)
    address = (
        {"phone": parsed.address} if parsed.channel == Channel.SMS else {"email": parsed.address}
    )
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                password=password, name=clean_name, terms_accepted_at=timezone.now(), **address
            )
            record_event(
                action="user.registered",
                actor_id=user.id,
                object_type="user",
                object_id=user.id,
                data={"account": mask_address(parsed.address)},
            )
    except IntegrityError as exc:  # a concurrent registration won the race
        raise _taken() from exc
    return user


def reset_password(*, account: str, code: str, password: str) -> User:
    parsed = parse_account(account)
    check_password_policy(password)
    user = find_user(parsed)
    consume_code(account=parsed, purpose=CodePurpose.RESET, code=code)
    if user is None:  # issue_code refuses unknown accounts, so only a deleted user lands here
        raise Invalid(
            _("No account is registered with this number or address."),
            code="account_not_registered",
        )
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        clear_throttle(user=user)
        revoke_all_tokens(user=user, reason="password_reset")
        record_event(
            action="user.password_reset", actor_id=user.id, object_type="user", object_id=user.id
        )
    return user


def _require_password(user: User, password: str, field: str = "current_password") -> None:
    if not user.check_password(password or ""):
        raise Invalid(
            _("The current password is wrong."),
            code="password_wrong",
            fields={field: _("The current password is wrong.")},
        )


def change_password(*, user: User, current_password: str, new_password: str) -> User:
    _require_password(user, current_password)
    check_password_policy(new_password, field="new_password")
    if current_password == new_password:
        raise Invalid(
            _("The new password must differ from the current one."),
            code="password_unchanged",
            fields={"new_password": _("Same as the current password.")},
        )
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        revoke_all_tokens(user=user, reason="password_changed")
        record_event(
            action="user.password_changed", actor_id=user.id, object_type="user", object_id=user.id
        )
    return user


def change_phone(*, user: User, current_password: str, new_phone: str, code: str) -> User:
    """Re-verify the person (password) and the new number (a code sent to it)."""
    return _change_address(
        user=user,
        current_password=current_password,
        field="phone",
        address=normalize_phone(new_phone, field="new_phone"),
        code=code,
        purpose=CodePurpose.CHANGE_PHONE,
        channel=Channel.SMS,
    )


def change_email(*, user: User, current_password: str, new_email: str, code: str) -> User:
    return _change_address(
        user=user,
        current_password=current_password,
        field="email",
        address=normalize_email(new_email, field="new_email"),
        code=code,
        purpose=CodePurpose.CHANGE_EMAIL,
        channel=Channel.EMAIL,
    )


def _change_address(
    *,
    user: User,
    current_password: str,
    field: str,
    address: str,
    code: str,
    purpose: CodePurpose,
    channel: str,
) -> User:
    _require_password(user, current_password)
    account = Account(channel, address)
    existing = find_user(account)
    if existing is not None:
        raise _taken()
    consume_code(account=account, purpose=purpose, code=code)
    old = getattr(user, field) or ""
    try:
        with transaction.atomic():
            setattr(user, field, address)
            user.save(update_fields=[field])
            record_event(
                action=f"user.{field}_changed",
                actor_id=user.id,
                object_type="user",
                object_id=user.id,
                data={"from": mask_address(old) if old else "", "to": mask_address(address)},
            )
    except IntegrityError as exc:
        raise _taken() from exc
    return user


def set_language(*, user: User, language: str) -> User:
    allowed = {code for code, _name in settings.LANGUAGES} | {""}
    if language not in allowed:
        raise Invalid(
            _("Unsupported language."),
            code="language_invalid",
            fields={"language": _("Unsupported language.")},
        )
    if user.language != language:
        with transaction.atomic():
            user.language = language
            user.save(update_fields=["language"])
            record_event(
                action="user.language_changed",
                actor_id=user.id,
                object_type="user",
                object_id=user.id,
                data={"language": language},
            )
    return user


def rename_user(*, user: User, name: str) -> User:
    clean = check_name(name)
    if user.is_real_name_verified and clean != user.name:
        raise Conflict(
            _("Your name is locked by real-name verification. Verify again to change it."),
            code="identity_locked",
            fields={"name": _("Locked by real-name verification.")},
        )
    if clean != user.name:
        with transaction.atomic():
            old, user.name = user.name, clean
            user.save(update_fields=["name"])
            record_event(
                action="user.renamed",
                actor_id=user.id,
                object_type="user",
                object_id=user.id,
                data={"from": old, "to": clean},
            )
    return user
