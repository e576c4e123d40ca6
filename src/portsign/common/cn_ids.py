"""Validation of Chinese identifiers: resident ID numbers, unified social credit codes (USCC),
bank card numbers and CNY micro-deposit amounts.

Every ``normalize_*`` function is pure: it returns the normalized value or raises
:class:`~portsign.common.errors.Invalid` with a stable ``code`` and a message naming the problem,
keyed in ``fields`` by the caller's ``field``.

No check here proves that an identifier was ever issued; they only catch typing mistakes and
obviously made-up values.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from portsign.common.errors import Invalid

__all__ = [
    "AMOUNT_MAX",
    "ID_NUMBER_PROVINCES",
    "USCC_ALPHABET",
    "id_number_birth_date",
    "id_number_check_char",
    "luhn_is_valid",
    "mask_id_number",
    "normalize_bank_card",
    "normalize_cny_amount",
    "normalize_id_number",
    "normalize_uscc",
    "org_code_check_char",
    "uscc_check_char",
    "uscc_org_code",
]

# Birth dates on Chinese documents are dates in China, whatever the server's time zone.
CHINA_TZ = ZoneInfo("Asia/Shanghai")

_WHITESPACE = re.compile(r"\s+")


def _invalid(field: str, code: str, message: str | Promise) -> Invalid:
    return Invalid(message, code=code, fields={field: message})


def _compact(raw: str) -> str:
    """*raw* without any whitespace (also the ideographic space U+3000)."""
    return _WHITESPACE.sub("", raw)


# -- resident identity number (GB 11643-1999) ---------------------------------------------------

ID_NUMBER_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_NUMBER_CHECK_CHARS = "10X98765432"
ID_NUMBER_EARLIEST_BIRTH = date(1900, 1, 1)
_ID_NUMBER_FORMAT = re.compile(r"[0-9]{17}[0-9X]")

# First two digits of the address code: the province-level divisions of GB/T 2260
# (11-15 North, 21-23 North-east, 31-37 East, 41-46 Central-South, 50-54 South-west,
# 61-65 North-west, 71 Taiwan, 81 Hong Kong, 82 Macao), plus 83. Since 2018 the Residence Permit
# for Hong Kong, Macao and Taiwan Residents carries a citizen identity number in the same
# format, with address codes 810000 (Hong Kong), 820000 (Macao) and 830000 (Taiwan); 83 is not a
# GB/T 2260 code but is therefore a real prefix, so we accept it. 71 (Taiwan province in
# GB/T 2260) is kept as the standard lists it, although no mainland card is known to use it.
ID_NUMBER_PROVINCES: frozenset[str] = frozenset(
    f"{n:02d}"
    for n in (
        *range(11, 16),
        *range(21, 24),
        *range(31, 38),
        *range(41, 47),
        *range(50, 55),
        *range(61, 66),
        71,
        81,
        82,
        83,
    )
)


def id_number_check_char(body: str) -> str:
    """The GB 11643-1999 check character (0-9 or X) of the 17-digit *body*."""
    total = sum(int(c) * w for c, w in zip(body, ID_NUMBER_WEIGHTS, strict=True))
    return ID_NUMBER_CHECK_CHARS[total % 11]


def _birth_date(number: str, field: str, today: date | None) -> date:
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise _invalid(
            field,
            "id_number_birth_date",
            _("The birth date in the ID number (digits 7-14) is not a real calendar date."),
        ) from None
    if born > (today or datetime.now(CHINA_TZ).date()):
        raise _invalid(
            field,
            "id_number_birth_date",
            _("The birth date in the ID number (digits 7-14) is in the future."),
        )
    if born < ID_NUMBER_EARLIEST_BIRTH:
        raise _invalid(
            field,
            "id_number_birth_date",
            _("The birth date in the ID number (digits 7-14) is before 1900."),
        )
    return born


def _check_id_number(raw: str, field: str, today: date | None) -> tuple[str, date]:
    number = _compact(raw).replace("x", "X")
    if len(number) != 18:
        raise _invalid(
            field,
            "id_number_length",
            _("An ID number has 18 characters; this one has %(length)d.") % {"length": len(number)},
        )
    if not _ID_NUMBER_FORMAT.fullmatch(number):
        raise _invalid(
            field,
            "id_number_format",
            _("An ID number is 17 digits followed by a digit or the letter X."),
        )
    # Region and birth date come before the checksum: when one of them is wrong the checksum
    # usually fails too, and naming the specific part helps the user more.
    if number[:2] not in ID_NUMBER_PROVINCES:
        raise _invalid(
            field,
            "id_number_region",
            _("The ID number does not start with a known province code (%(code)s).")
            % {"code": number[:2]},
        )
    born = _birth_date(number, field, today)
    if id_number_check_char(number[:17]) != number[17]:
        raise _invalid(
            field,
            "id_number_checksum",
            _(
                "The check character (the last one) of the ID number is wrong; please check for "
                "a typo."
            ),
        )
    return number, born


def normalize_id_number(raw: str, *, field: str = "id_number", today: date | None = None) -> str:
    """A resident (or HK/Macao/Taiwan residence permit) identity number, 18 characters.

    *today* (default: today in China) bounds the birth date; pass it to make tests repeatable.
    """
    return _check_id_number(raw, field, today)[0]


def id_number_birth_date(
    id_number: str, *, field: str = "id_number", today: date | None = None
) -> date:
    """The birth date in *id_number*, which is fully validated first."""
    return _check_id_number(id_number, field, today)[1]


def mask_id_number(id_number: str) -> str:
    """First 3 and last 4 characters, 11 asterisks between, e.g. ``110***********123X``.

    Never raises, so it is safe in logs: anything that is not 18 characters long (after removing
    whitespace) is masked completely.
    """
    number = _compact(id_number).replace("x", "X")
    if len(number) != 18:
        return "*" * len(number)
    return number[:3] + "*" * 11 + number[-4:]


# -- unified social credit code (GB 32100-2015) -------------------------------------------------

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_USCC_VALUES = {c: i for i, c in enumerate(USCC_ALPHABET)}
# GB 11714-1997: digits are worth 0-9, letters A=10 ... Z=35.
_ORG_CODE_VALUES = {c: int(c, 36) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}


def uscc_check_char(body: str) -> str:
    """The GB 32100-2015 check character of the first 17 characters of a USCC."""
    total = sum(_USCC_VALUES[c] * w for c, w in zip(body, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def org_code_check_char(body: str) -> str:
    """The GB 11714-1997 check character (0-9 or X) of an 8-character organization code body."""
    total = sum(_ORG_CODE_VALUES[c] * w for c, w in zip(body, ORG_CODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def normalize_uscc(raw: str, *, field: str = "uscc") -> str:
    """A unified social credit code, 18 upper-case characters.

    The first character (registration authority) is deliberately not restricted beyond the
    alphabet: codes of authorities such as A, N or Y are real.
    """
    code = _compact(raw).upper()
    if len(code) != 18:
        raise _invalid(
            field,
            "uscc_length",
            _("A unified social credit code has 18 characters; this one has %(length)d.")
            % {"length": len(code)},
        )
    for position, char in enumerate(code, start=1):
        if char not in _USCC_VALUES:
            raise _invalid(
                field,
                "uscc_character",
                _(
                    "The character “%(char)s” at position %(position)d is not allowed in a "
                    "unified social credit code (only digits and capital letters except I, O, S, "
                    "V and Z)."
                )
                % {"char": char, "position": position},
            )
    if uscc_check_char(code[:17]) != code[17]:
        raise _invalid(
            field,
            "uscc_checksum",
            _(
                "The check character (the last one) of the unified social credit code is wrong; "
                "please check for a typo."
            ),
        )
    if org_code_check_char(code[8:16]) != code[16]:
        raise _invalid(
            field,
            "uscc_org_code",
            _(
                "Positions 9-17 of the unified social credit code, the organization code, fail "
                "their own check; please check for a typo."
            ),
        )
    return code


def uscc_org_code(uscc: str) -> str:
    """The organization code (positions 9-17, 9 characters) of *uscc*, validated first."""
    return normalize_uscc(uscc)[8:17]


# -- bank card number ---------------------------------------------------------------------------

_BANK_CARD_SEPARATORS = re.compile(r"[\s-]+")
_BANK_CARD_FORMAT = re.compile(r"[0-9]{12,19}")


def luhn_is_valid(digits: str) -> bool:
    """True if the ASCII digit string *digits* passes the Luhn (mod 10) check."""
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def normalize_bank_card(raw: str, *, field: str = "card_number") -> str:
    """A bank card number: 12-19 digits once spaces and dashes are removed, Luhn-valid."""
    number = _BANK_CARD_SEPARATORS.sub("", raw)
    if not _BANK_CARD_FORMAT.fullmatch(number):
        raise _invalid(
            field,
            "bank_card_format",
            _("A bank card number is 12 to 19 digits (spaces and dashes are ignored)."),
        )
    if not luhn_is_valid(number):
        raise _invalid(
            field,
            "bank_card_checksum",
            _("The bank card number fails its check digit; please check for a typo."),
        )
    return number


# -- CNY amount ---------------------------------------------------------------------------------

AMOUNT_MAX = Decimal("99999999.99")
_CENT = Decimal("0.01")
# Digits with an optional decimal point, at least one digit: "0.37", ".37", "1", "1.".
_AMOUNT_FORMAT = re.compile(r"(?P<units>[0-9]*)(?:\.(?P<cents>[0-9]*))?")


def _amount_match(text: str) -> re.Match[str] | None:
    match = _AMOUNT_FORMAT.fullmatch(text)
    return match if match and (match["units"] or match["cents"]) else None


def normalize_cny_amount(raw: str, *, field: str = "amount") -> Decimal:
    """An amount in yuan such as ``0.37`` or ``.37``, returned as a Decimal with 2 places.

    Only plain decimal notation is accepted: no sign, exponent, thousands separator, NaN or
    Infinity. "0.370" is refused like "0.371": more than 2 decimal places is refused as typed.
    """
    text = raw.strip()
    match = _amount_match(text)
    if match is None:
        if text.startswith("-") and _amount_match(text[1:].lstrip()):
            message = _("The amount must not be negative.")
        else:
            message = _("The amount is not a number such as 0.37.")
    elif len(match["cents"] or "") > 2:
        message = _("The amount has more than 2 decimal places (fen).")
    elif Decimal(text) > AMOUNT_MAX:
        message = _("The amount is larger than 99999999.99.")
    else:
        return Decimal(text).quantize(_CENT)
    raise _invalid(field, "amount_invalid", message)
