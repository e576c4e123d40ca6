"""Input rules for accounts, each in one place, each with a message naming the problem."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from portsign.accounts.enums import Channel
from portsign.common.errors import Invalid
from portsign.common.text import clean_text

# Numbers typed without a country code are mainland China numbers.
DEFAULT_REGION = "CN"
_MAINLAND_CODE = 86
# What can receive a text message. FIXED_LINE_OR_MOBILE is the plan's own answer for regions
# whose mobile and fixed numbers share ranges (the US, Canada, ...), so it is accepted too.
_MOBILE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})
# Separators people type between digit groups; anything else but digits and a leading "+" is
# refused rather than guessed at (phonenumbers would read letters as keypad digits).
_SEPARATORS = re.compile(r"[\s\-().]")
_MAX_DIGITS = 17  # E.164 allows 15 digits; room for a 00 international prefix
PASSWORD_MIN, PASSWORD_MAX = 8, 16
_SYMBOLS = set(string.punctuation)
_INTERNATIONAL_HINT = _(
    "Enter a valid mobile number. Outside mainland China, start with + and the country code, "
    "such as +852 or +853."
)


@dataclass(frozen=True)
class Account:
    channel: str  # Channel value
    address: str  # E.164 ("+8613800000000", "+85251234567") or a lower-cased e-mail address


def _phone_invalid(message: str | Promise, field: str) -> Invalid:
    return Invalid(message, code="phone_invalid", fields={field: message})


def normalize_phone(raw: str, *, field: str = "account") -> str:
    """*raw* as an E.164 mobile number ("+8613800000000", "+85251234567").

    Without a country code a number is read as a mainland China one; a number that is not a
    valid mobile number of its region (fixed lines, service numbers, unassigned ranges) is
    refused with ``phone_invalid`` naming *field*.
    """
    compact = _SEPARATORS.sub("", raw or "")
    digits = compact[1:] if compact.startswith(("+", "\uff0b")) else compact
    if not digits.isdecimal() or len(digits) > _MAX_DIGITS:
        raise _phone_invalid(_INTERNATIONAL_HINT, field)
    try:
        number = phonenumbers.parse(compact, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise _phone_invalid(_INTERNATIONAL_HINT, field) from None
    if not phonenumbers.is_valid_number(number):
        if number.country_code != _MAINLAND_CODE:
            raise _phone_invalid(_INTERNATIONAL_HINT, field)
        if len(str(number.national_number)) != 11:
            raise _phone_invalid(_("A mainland mobile number has 11 digits."), field)
        raise _phone_invalid(_("This is not a valid mainland mobile number prefix."), field)
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise _phone_invalid(
            _("This is not a mobile number; enter one that can receive text messages."), field
        )
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


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
    """An account is a mobile number (mainland China unless it has a country code) or an
    e-mail address."""
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


def require_mainland_mobile(phone: str, *, field: str = "phone") -> str:
    """*phone* (E.164) if it is a mainland number: the carrier and bank checks of real-name
    verification cover mainland operators only, so a +852/+853 number is told to use face
    recognition instead of being sent to a check that cannot answer."""
    if not phone.startswith("+86"):
        message = _(
            "Mobile carrier and bank checks cover mainland China numbers only; "
            "choose face recognition."
        )
        raise Invalid(message, code="phone_not_mainland", fields={field: message})
    return phone
