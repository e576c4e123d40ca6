"""What an archived contract says about itself: parsed and checked once, for the API's
multipart form, its JSON patch and the console's forms alike.

Every refusal is a 400 naming the field (API.md "Errors"), never a 422 or a 500: a date or an
amount typed by hand is the commonest mistake of a ledger.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.translation import gettext as _

from portsign.common.errors import Invalid
from portsign.common.text import clean_text

MAX_TITLE = 200
MAX_TYPE = 40
MAX_PARTY = 100
MAX_PARTIES = 20
MAX_NUMBER = 64
MAX_NOTES = 2000
MAX_AMOUNT = Decimal("9999999999999999.99")  # what DecimalField(18, 2) holds
CURRENCY = re.compile(r"^[A-Z]{3}$")
DEFAULT_CURRENCY = "CNY"


@dataclass
class Metadata:
    """The facts of one item, as stored; see models.ArchivedContract."""

    title: str
    signed_on: dt.date
    counterparties: list[str]
    contract_type: str = ""
    amount: Decimal | None = None
    currency: str = DEFAULT_CURRENCY
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    external_number: str = ""
    notes: str = ""


def bad(name: str, code: str, message: str) -> Invalid:
    return Invalid(message, code=code, fields={name: message})


def text(
    raw: object, name: str, *, limit: int, required: bool = False, multiline: bool = False
) -> str:
    """*raw* tidied like all free text (`common.text`: control characters refused, runs of
    spaces one; *multiline* keeps the lines); too long or (when *required*) empty is a 400."""
    value = str(raw or "")
    # The shared cleaner refuses NUL and other invisible characters (PostgreSQL refuses NUL).
    single = clean_text(value, field=name, min_length=0, max_length=10**6, message="", code="")
    value = "\n".join(" ".join(line.split()) for line in value.splitlines()).strip()
    if not multiline:
        value = single
    if required and not value:
        raise bad(name, "required", _("This field is required."))
    if len(value) > limit:
        raise bad(name, "too_long", _("At most %(n)d characters.") % {"n": limit})
    return value


def date(raw: object, name: str) -> dt.date | None:
    """An ISO date (2026-12-31), or None when blank."""
    value = str(raw or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise bad(name, "date_format", _("Use a date like 2027-12-31.")) from exc


def signed_on(raw: object) -> dt.date:
    """The signing date: required, and not after today (an archive holds signed contracts)."""
    value = date(raw, "signed_on")
    if value is None:
        raise bad("signed_on", "required", _("This field is required."))
    if value > timezone.localdate():
        raise bad("signed_on", "signed_in_future", _("The signing date cannot be in the future."))
    return value


def amount(raw: object) -> Decimal | None:
    """A non-negative amount with at most two decimals, or None when blank."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool):
        raise bad("amount", "amount_format", _("Use an amount like 12500.00."))
    try:
        value = Decimal(str(raw).strip().replace(",", ""))
    except InvalidOperation as exc:
        raise bad("amount", "amount_format", _("Use an amount like 12500.00.")) from exc
    if not value.is_finite() or value < 0 or value > MAX_AMOUNT:
        raise bad("amount", "amount_range", _("The amount must be between 0 and 10¹⁶."))
    if value != value.quantize(Decimal("0.01")):
        raise bad("amount", "amount_decimals", _("An amount has at most two decimals."))
    return value.quantize(Decimal("0.01"))


def currency(raw: object) -> str:
    """An ISO 4217 code (CNY, USD…); blank is CNY."""
    value = str(raw or "").strip().upper() or DEFAULT_CURRENCY
    if not CURRENCY.match(value):
        raise bad("currency", "currency_format", _("Use a three-letter currency code, e.g. CNY."))
    return value


def counterparties(raw: Iterable[object]) -> list[str]:
    """The other parties' names: one per item or per line, blanks dropped, duplicates once."""
    names: list[str] = []
    for entry in raw:
        for line in str(entry or "").splitlines():
            name = text(line, "counterparties", limit=MAX_PARTY)
            if name and name not in names:
                names.append(name)
    if not names:
        raise bad("counterparties", "required", _("Name at least one counterparty."))
    if len(names) > MAX_PARTIES:
        message = _("At most %(n)d counterparties.") % {"n": MAX_PARTIES}
        raise bad("counterparties", "too_many", message)
    return names


def check_period(valid_from: dt.date | None, valid_until: dt.date | None) -> None:
    if valid_from and valid_until and valid_until < valid_from:
        message = _("The end of validity comes before its start.")
        raise bad("valid_until", "period_reversed", message)


def parse(values: Mapping[str, object], parties: Iterable[object]) -> Metadata:
    """A whole item's facts from a form (*values* by field name, *parties* the names)."""
    found = Metadata(
        title=text(values.get("title"), "title", limit=MAX_TITLE, required=True),
        signed_on=signed_on(values.get("signed_on")),
        counterparties=counterparties(parties),
        contract_type=text(values.get("type"), "type", limit=MAX_TYPE),
        amount=amount(values.get("amount")),
        currency=currency(values.get("currency")),
        valid_from=date(values.get("valid_from"), "valid_from"),
        valid_until=date(values.get("valid_until"), "valid_until"),
        external_number=text(values.get("external_number"), "external_number", limit=MAX_NUMBER),
        notes=text(values.get("notes"), "notes", limit=MAX_NOTES, multiline=True),
    )
    check_period(found.valid_from, found.valid_until)
    return found


def changes(values: Mapping[str, object]) -> dict[str, object]:
    """The model fields a patch sets, checked; a key absent (or None) is left as it is, and
    an empty optional value clears it."""
    parsers = {
        "title": lambda v: text(v, "title", limit=MAX_TITLE, required=True),
        "type": lambda v: text(v, "type", limit=MAX_TYPE),
        "counterparties": lambda v: counterparties(v if isinstance(v, list) else [v]),
        "amount": amount,
        "currency": currency,
        "signed_on": signed_on,
        "valid_from": lambda v: date(v, "valid_from"),
        "valid_until": lambda v: date(v, "valid_until"),
        "external_number": lambda v: text(v, "external_number", limit=MAX_NUMBER),
        "notes": lambda v: text(v, "notes", limit=MAX_NOTES, multiline=True),
    }
    found: dict[str, object] = {}
    for name, parse_one in parsers.items():
        if values.get(name) is not None:
            found["contract_type" if name == "type" else name] = parse_one(values[name])
    return found
