"""The 委托报关协议 rows of an entrustment: each field checked, errors named by row and field
(`goods[0].hs_code`), so a form can put each message next to its input."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from portsign.common.errors import Invalid
from portsign.eport.domain import forms

MAX_ROWS = 20
# ISO 4217 codes customs declarations use most (币制); others are refused rather than guessed.
CURRENCIES = (
    "CNY", "USD", "EUR", "JPY", "HKD", "GBP", "KRW", "SGD", "AUD", "CAD", "CHF", "RUB",
    "MOP", "TWD", "NZD", "THB", "MYR", "SEK", "DKK", "NOK", "INR", "IDR", "PHP", "VND",
)  # fmt: skip
_HS = re.compile(r"[0-9]{10}")  # ASCII digits only: \d takes full-width ４ too


def _hs_code(raw: str, field: str) -> str:
    value = raw.strip().replace(".", "").replace(" ", "")
    if not _HS.fullmatch(value):
        message = _("An HS code has 10 digits (e.g. 8471300000).")
        raise Invalid(message, code="hs_code_invalid", fields={field: message})
    return value


def _currency(raw: str, field: str) -> str:
    value = raw.strip().upper()
    if value not in CURRENCIES:
        message = _("A currency code such as CNY or USD (ISO 4217).")
        raise Invalid(message, code="currency_invalid", fields={field: message})
    return value


def _count(raw: str, field: str) -> str:
    value = raw.strip()
    if not re.fullmatch(r"[1-9][0-9]{0,8}", value):
        message = _("A whole number of packages, at least 1.")
        raise Invalid(message, code="packages_invalid", fields={field: message})
    return value


CHECKS: dict[str, forms.Checker] = {
    "goods_name": forms.text(100),
    "hs_code": _hs_code,
    "total_price": forms.money,
    "currency": _currency,
    "trade_mode": forms.text(30),
    "import_export_date": forms.date,
    "bill_of_lading": forms.text(40),
    "packages": _count,
    "weight_kg": forms.money,
    "packing": forms.text(30),
    "origin_destination": forms.text(50),
}


def clean_goods(raw: object) -> list[dict[str, str]]:
    """One to MAX_ROWS rows, every field given and valid."""
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_ROWS:
        message = _("Give one to %(n)d entrustment agreements.") % {"n": MAX_ROWS}
        raise Invalid(message, code="goods_required", fields={"goods": message})
    return [_row(index, row) for index, row in enumerate(raw)]


def _row(index: int, row: object) -> dict[str, str]:
    if not isinstance(row, Mapping):
        message = _("Each entrustment agreement is an object of fields.")
        raise Invalid(message, code="goods_invalid", fields={f"goods[{index}]": message})
    cleaned: dict[str, str] = {}
    for key, check in CHECKS.items():
        field = f"goods[{index}].{key}"
        value: Any = row.get(key, "")
        text = "" if value is None else str(value)
        if not text.strip():
            message = _("Required.")
            raise Invalid(message, code="field_required", fields={field: message})
        cleaned[key] = check(text, field)
    return cleaned
