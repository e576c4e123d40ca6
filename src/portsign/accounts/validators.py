"""Input rules for accounts, each in one place, each with a message naming the problem."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from portsign.accounts.enums import Channel
from portsign.common.errors import Invalid
from portsign.common.text import clean_text

# Mainland mobile prefixes in use (MIIT numbering plan): 13x, 145-149, 150-153/155-159,
# 162/165-167, 170-178, 18x, 190-193/195-199.
_CN_MOBILE = re.compile(r"^1(3\d|4[5-9]|5[0-35-9]|6[2567]|7[0-8]|8\d|9[0-35-9])\d{8}$")
PASSWORD_MIN, PASSWORD_MAX = 8, 16
_SYMBOLS = set(string.punctuation)


@dataclass(frozen=True)
class Account:
    channel: str  # Channel value
    address: str  # "+8613800000000" or a lower-cased e-mail address


def normalize_phone(raw: str, *, field: str = "account") -> str:
    digits = re.sub(r"[\s-]", "", raw or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not digits.isdigit() or len(digits) != 11:
        raise Invalid(
            _("A mainland mobile number has 11 digits."),
            code="phone_invalid",
            fields={field: _("A mainland mobile number has 11 digits.")},
        )
    if not _CN_MOBILE.match(digits):
        raise Invalid(
            _("This is not a valid mainland mobile number prefix."),
            code="phone_invalid",
            fields={field: _("This is not a valid mainland mobile number prefix.")},
        )
    return "+86" + digits


def normalize_email(raw: str, *, field: str = "account") -> str:
    value = (raw or "").strip()
    try:
        validate_email(value)
    except ValidationError as exc:
        raise Invalid(
            _("Enter a valid e-mail address."),
            code="email_invalid",
            fields={field: _("Enter a valid e-mail address.")},
        ) from exc
    # Lower-cased whole: no mail provider in our market treats the local part by case, and one
    # spelling per address keeps codes, sign-in and uniqueness consistent.
    return value.lower()


def parse_account(raw: str, *, field: str = "account") -> Account:
    """An account is a mainland mobile number or an e-mail address."""
    value = (raw or "").strip()
    if not value:
        raise Invalid(
            _("Enter a mobile number or e-mail address."),
            code="account_required",
            fields={field: _("Enter a mobile number or e-mail address.")},
        )
    if "@" in value:
        return Account(Channel.EMAIL, normalize_email(value, field=field))
    return Account(Channel.SMS, normalize_phone(value, field=field))


def check_password_policy(password: str, *, field: str = "password") -> None:
    """8–16 printable ASCII characters with at least 3 of: upper, lower, digit, symbol."""
    problem = _password_problem(password or "")
    if problem:
        raise Invalid(problem, code="password_weak", fields={field: problem})


def _password_problem(password: str) -> str | None:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        return str(_("The password must be 8 to 16 characters long."))
    if any(ch not in string.printable or ch in string.whitespace for ch in password):
        return str(_("The password may contain only letters, digits and symbols, no spaces."))
    classes = [
        any(ch.isupper() for ch in password),
        any(ch.islower() for ch in password),
        any(ch.isdigit() for ch in password),
        any(ch in _SYMBOLS for ch in password),
    ]
    if sum(classes) < 3:
        return str(
            _(
                "The password needs at least 3 of: upper-case letters, lower-case letters, "
                "digits, symbols."
            )
        )
    return None


def check_name(name: str, *, field: str = "name") -> str:
    return clean_text(
        name,
        field=field,
        min_length=1,
        max_length=50,
        code="name_invalid",
        message=_("Enter your name (1 to 50 characters)."),
    )
