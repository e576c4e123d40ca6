"""What each filing kind's form holds and how each field is checked (SPEC E1–E3).

A form is a flat JSON object of strings. Saving a draft (暂存) checks every field that is
filled in; declaring (申报) also needs every required one. Fields come from seed 004 (附件2, the
IC card registration form: operator, 报关员 and 核销员 sections) and seed 001 (三证合一: type
"9 其他" with free text, capital in 元 or 万元). One place for the rules: the API, the console
and the reviewer all see the same checks and the same labels.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portsign.common import cn_ids
from portsign.common.errors import Invalid
from portsign.common.text import clean_text, is_storable
from portsign.eport.enums import FilingKind

Checker = Callable[[str, str], str]


@dataclass(frozen=True)
class Field:
    key: str
    label: Promise
    check: Checker
    required: bool = True
    choices: tuple[tuple[str, Promise], ...] = ()
    section: str = ""  # an optional section: required fields only once any of it is filled


def _bad(field: str, code: str, message: str) -> Invalid:
    return Invalid(message, code=code, fields={field: message})


def text(max_length: int) -> Checker:
    def check(raw: str, field: str) -> str:
        message = _("At most %(n)d characters.") % {"n": max_length}
        return clean_text(
            raw, field=field, min_length=1, max_length=max_length, message=message, code="too_long"
        )

    return check


def digits(length: int) -> Checker:
    def check(raw: str, field: str) -> str:
        value = raw.strip()
        if not re.fullmatch(rf"[0-9]{{{length}}}", value):  # ASCII: \d takes ４ and ٤ too
            raise _bad(field, "code_format", _("A code of %(n)d digits.") % {"n": length})
        return value

    return check


def choice(options: tuple[tuple[str, Promise], ...]) -> Checker:
    def check(raw: str, field: str) -> str:
        value = raw.strip()
        if value not in {key for key, _label in options}:
            names = ", ".join(key for key, _label in options)
            raise _bad(field, "choice", _("Choose one of: %(choices)s.") % {"choices": names})
        return value

    return check


def uscc(raw: str, field: str) -> str:
    return cn_ids.normalize_uscc(raw, field=field)


def customs_code(raw: str, field: str) -> str:
    """海关注册编码: 10 characters, the first four the registering district's division."""
    value = raw.strip().upper()
    if not re.fullmatch(r"[0-9]{4}[0-9A-Z]{6}", value):
        raise _bad(
            field,
            "customs_code",
            _("A customs registration code has 10 characters: 4 digits, then digits or letters."),
        )
    return value


def date(raw: str, field: str) -> str:
    try:
        return dt.date.fromisoformat(raw.strip()).isoformat()
    except ValueError as exc:
        raise _bad(field, "date_format", _("A date as YYYY-MM-DD.")) from exc


def money(raw: str, field: str) -> str:
    try:
        value = Decimal(raw.strip().replace(",", ""))
    except InvalidOperation as exc:
        raise _bad(field, "amount_format", _("An amount such as 500 or 1200.50.")) from exc
    # The size first: quantizing 1e400 would overflow the context (InvalidOperation, a 500).
    if not value.is_finite() or not Decimal(0) < value < Decimal("1e15"):
        raise _bad(field, "amount_format", _("An amount such as 500 or 1200.50."))
    if value != value.quantize(Decimal("0.01")):
        raise _bad(field, "amount_format", _("An amount such as 500 or 1200.50."))
    return format(value.normalize(), "f")


def email(raw: str, field: str) -> str:
    value = raw.strip()
    if len(value) > 254 or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        raise _bad(field, "email_format", _("An e-mail address such as name@example.cn."))
    return value


def phone(raw: str, field: str) -> str:
    value = raw.strip()
    if not re.fullmatch(r"\+?[0-9\- ]{5,20}", value):
        raise _bad(field, "phone_format", _("A phone number: digits, spaces, - and a leading +."))
    return value


YES_NO = (("yes", gettext_lazy("Yes")), ("no", gettext_lazy("No")))
SEX = (("male", gettext_lazy("Male")), ("female", gettext_lazy("Female")))
ID_TYPES = (
    ("resident_id", gettext_lazy("Resident identity card")),
    ("passport", gettext_lazy("Passport")),
    ("hk_macao_permit", gettext_lazy("Mainland travel permit for Hong Kong and Macao residents")),
    ("taiwan_permit", gettext_lazy("Mainland travel permit for Taiwan residents")),
    ("foreign_permanent", gettext_lazy("Foreign permanent resident ID card")),
)
# 企业类型. Seed 001 names only "9 其他" (with free text); the others follow the usual
# registration categories (UNVERIFIED labels, EPORT.md §3.4).
ENTERPRISE_TYPES = (
    ("1", gettext_lazy("1 State-owned")),
    ("2", gettext_lazy("2 Collective")),
    ("3", gettext_lazy("3 Private")),
    ("4", gettext_lazy("4 Sino-foreign joint venture")),
    ("5", gettext_lazy("5 Sino-foreign cooperative")),
    ("6", gettext_lazy("6 Wholly foreign-owned")),
    ("7", gettext_lazy("7 Individual business")),
    ("8", gettext_lazy("8 Joint-stock")),
    ("9", gettext_lazy("9 Other")),
)
CAPITAL_UNITS = (
    ("yuan", gettext_lazy("yuan (元)")),
    ("wan_yuan", gettext_lazy("10,000 yuan (万元)")),
)
CARD_MEDIA = (("ic", gettext_lazy("IC card")), ("ikey", gettext_lazy("IKEY (UKey)")))

_ENTERPRISE = (
    Field("name", gettext_lazy("Enterprise name"), text(100)),
    Field("uscc", gettext_lazy("Unified social credit code"), uscc),
    Field(
        "org_code",
        gettext_lazy("Former organization code (if registered under one)"),
        text(10),
        required=False,
    ),
    Field(
        "enterprise_type",
        gettext_lazy("Enterprise type"),
        choice(ENTERPRISE_TYPES),
        choices=ENTERPRISE_TYPES,
    ),
    Field("enterprise_type_other", gettext_lazy("Other enterprise type"), text(50), required=False),
    Field("registered_capital", gettext_lazy("Registered capital"), money),
    Field(
        "capital_unit", gettext_lazy("Capital unit"), choice(CAPITAL_UNITS), choices=CAPITAL_UNITS
    ),
    Field("legal_person_name", gettext_lazy("Legal person"), text(50)),
    Field(
        "legal_person_id_type",
        gettext_lazy("Legal person's ID type"),
        choice(ID_TYPES),
        choices=ID_TYPES,
    ),
    Field("legal_person_id_number", gettext_lazy("Legal person's ID number"), text(30)),
    Field("address", gettext_lazy("Address"), text(200)),
    Field("business_scope", gettext_lazy("Business scope"), text(1000)),
    Field("aic_authority_code", gettext_lazy("Market-regulation review unit code"), digits(6)),
)

FIELDS: dict[str, tuple[Field, ...]] = {
    FilingKind.ENTERPRISE_INFO: _ENTERPRISE,
    FilingKind.ENTERPRISE_INFO_CHANGE: _ENTERPRISE,
    FilingKind.CUSTOMS: (
        Field("customs_code", gettext_lazy("Customs registration code"), customs_code),
        Field(
            "receipt_number",
            gettext_lazy("Filing receipt number (备案回执)"),
            text(40),
            required=False,
        ),
    ),
    FilingKind.FOREX: (
        Field("forex_bureau_code", gettext_lazy("Competent forex bureau code"), digits(6)),
    ),
    FilingKind.COMMERCE: (
        Field("commerce_authority_code", gettext_lazy("Commerce authority code"), digits(4)),
        Field(
            "registration_form_number",
            gettext_lazy("Foreign-trade operator filing form number"),
            text(40),
            required=False,
        ),
    ),
    FilingKind.OPERATOR: (
        Field("card_medium", gettext_lazy("Card medium"), choice(CARD_MEDIA), choices=CARD_MEDIA),
        Field("name", gettext_lazy("Name"), text(50)),
        Field("sex", gettext_lazy("Sex"), choice(SEX), choices=SEX),
        Field("education", gettext_lazy("Education"), text(30), required=False),
        Field("id_type", gettext_lazy("ID type"), choice(ID_TYPES), choices=ID_TYPES),
        Field("id_number", gettext_lazy("ID number"), text(30)),
        Field("birth_date", gettext_lazy("Date of birth"), date),
        Field("nationality", gettext_lazy("Nationality (region)"), text(30)),
        Field("position", gettext_lazy("Position"), text(50)),
        Field("household_address", gettext_lazy("Household address"), text(200)),
        Field("user_address", gettext_lazy("Address"), text(200)),
        Field("postcode", gettext_lazy("Postcode"), digits(6)),
        Field("email", gettext_lazy("E-mail"), email),
        Field("phone", gettext_lazy("Phone"), phone),
        Field("fax", gettext_lazy("Fax"), phone, required=False),
        # 报关员备案信息 (optional section)
        Field(
            "declarant_exam_score",
            gettext_lazy("Declarant: exam score"),
            text(10),
            required=False,
            section="declarant",
        ),
        Field(
            "declarant_barcode",
            gettext_lazy("Declarant: barcode"),
            text(30),
            required=False,
            section="declarant",
        ),
        Field(
            "declarant_certificate",
            gettext_lazy("Declarant: certificate number"),
            text(30),
            section="declarant",
        ),
        Field(
            "declarant_category",
            gettext_lazy("Declarant: category"),
            text(30),
            required=False,
            section="declarant",
        ),
        Field(
            "declarant_issued_on",
            gettext_lazy("Declarant: issued on"),
            date,
            required=False,
            section="declarant",
        ),
        Field(
            "declarant_valid_until",
            gettext_lazy("Declarant: registration valid until"),
            date,
            required=False,
            section="declarant",
        ),
        Field(
            "declarant_note",
            gettext_lazy("Declarant: remarks"),
            text(200),
            required=False,
            section="declarant",
        ),
        # 核销员备案信息 (optional section)
        Field(
            "verifier_certificate",
            gettext_lazy("Verification clerk: certificate number"),
            text(30),
            section="verifier",
        ),
        Field(
            "verifier_note",
            gettext_lazy("Verification clerk: remarks"),
            text(200),
            required=False,
            section="verifier",
        ),
    ),
    FilingKind.OPERATOR_DEREGISTRATION: (Field("reason", gettext_lazy("Reason"), text(200)),),
    # 报关单位信息登记, confirmed by the brokers association (EPORT.md §4.2).
    FilingKind.BROKER_REGISTRATION: (
        Field("customs_code", gettext_lazy("Customs registration code"), customs_code),
        Field("contact_name", gettext_lazy("Contact person"), text(50)),
        Field("contact_phone", gettext_lazy("Contact phone"), phone),
    ),
    # Made by `card_permissions.request_change` from the legal-person card's choice, never typed.
    FilingKind.CARD_PERMISSIONS: (
        Field("card_number", gettext_lazy("Card number"), text(20)),
        Field("permissions", gettext_lazy("Permissions"), text(2000), required=False),
        Field("districts", gettext_lazy("Customs districts"), text(500), required=False),
    ),
}


def clean(kind: str, data: Mapping[str, Any], *, complete: bool) -> dict[str, str]:
    """*data* checked field by field; with *complete* (declaring) every required field too."""
    fields = {field.key: field for field in FIELDS[kind]}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        message = _("Unknown fields: %(fields)s.") % {"fields": ", ".join(unknown)}
        raise Invalid(message, code="unknown_field", fields={key: message for key in unknown})
    cleaned: dict[str, str] = {}
    for key, raw in data.items():
        if raw is None or raw == "":
            continue
        if not isinstance(raw, str | int | float) or isinstance(raw, bool):
            raise _bad(key, "text_type", _("Must be text."))
        if not is_storable(str(raw)):
            raise _bad(key, "text_unstorable", _("This text has characters that cannot be kept."))
        cleaned[key] = fields[key].check(str(raw), key)
    _cross_check(kind, cleaned)
    if complete:
        _require(kind, cleaned)
    return cleaned


def _require(kind: str, cleaned: dict[str, str]) -> None:
    filled_sections = {f.section for f in FIELDS[kind] if f.section and f.key in cleaned}
    missing = [
        f.key
        for f in FIELDS[kind]
        if f.required and f.key not in cleaned and (not f.section or f.section in filled_sections)
    ]
    if cleaned.get("enterprise_type") == "9" and "enterprise_type_other" not in cleaned:
        missing.append("enterprise_type_other")  # "9 其他" needs its free text
    if missing:
        message = _("Fill in every required field before declaring.")
        raise Invalid(
            message,
            code="fields_required",
            fields={key: _("This field is required.") for key in missing},
        )


def _cross_check(kind: str, cleaned: dict[str, str]) -> None:
    """Rules across fields: a resident ID number is checked (and its birth date must match)."""
    for type_key, number_key in (
        ("legal_person_id_type", "legal_person_id_number"),
        ("id_type", "id_number"),
    ):
        if cleaned.get(type_key) == "resident_id" and number_key in cleaned:
            cleaned[number_key] = cn_ids.normalize_id_number(cleaned[number_key], field=number_key)
    if kind == FilingKind.OPERATOR and cleaned.get("id_type") == "resident_id":
        number, born = cleaned.get("id_number"), cleaned.get("birth_date")
        if number and born and cn_ids.id_number_birth_date(number).isoformat() != born:
            raise _bad(
                "birth_date",
                "birth_date_mismatch",
                _("The date of birth differs from the one in the ID number."),
            )
    if cleaned.get("enterprise_type") not in (None, "9") and "enterprise_type_other" in cleaned:
        cleaned.pop("enterprise_type_other")  # only "9 其他" has free text


def describe(kind: str) -> list[dict[str, Any]]:
    """The form's fields for the console and the API (labels in the request's language)."""
    return [
        {
            "key": f.key,
            "label": str(f.label),
            "required": f.required,
            "section": f.section,
            "choices": [{"value": value, "label": str(label)} for value, label in f.choices],
        }
        for f in FIELDS[kind]
    ]
