"""The values of a template's fields (issue 6 §1), and the business values that come with them.

A value is given as the API, a console form or a spreadsheet cell has it; `clean_values` checks
it against its field and gives the stored form (text and numbers as text, dates ISO, checkboxes
bool), `stamps` what is drawn for it on the page.

Business fields (业务字段) are the sending enterprise's own, on every contract it sends
(contracts.create_draft checks them). A contract from a template takes them from the template's
values of the same key, from values and spreadsheet columns named after a business field rather
than a template field, and from `business_fields` given explicitly (which wins). They are checked
by the same rule as any draft's, before the PDF is drawn.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from portsign.common.errors import Invalid
from portsign.contracts.domain import contracts
from portsign.contracts.domain.flatten import Stamp
from portsign.contracts.models import BusinessField
from portsign.contracts.template_models import DateFormat, FieldKind, FilledBy, TemplateField
from portsign.enterprises.models import Enterprise

# Spreadsheet cells say yes and no in many ways; a Chinese form ticks with √ and crosses with ×.
TRUE_WORDS = {"1", "true", "yes", "y", "on", "√", "✓", "是", "勾选"}
FALSE_WORDS = {"0", "false", "no", "n", "off", "×", "✗", "否", "不勾选"}


def _text_value(field: TemplateField, raw: object) -> str:
    value = str(raw).strip()
    if any(unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\t\n" for ch in value):
        raise ValueError(_("Remove the invisible control characters from this text."))
    if len(value) > (field.max_length or 0):
        raise ValueError(
            _("%(label)s has at most %(n)d characters.")
            % {"label": field.label, "n": field.max_length or 0}
        )
    return value


def _number_value(field: TemplateField, raw: object) -> str:
    text = str(raw).strip().replace(",", "") if not isinstance(raw, bool) else "x"
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise ValueError(_("%(label)s must be a number.") % {"label": field.label})
    places = max(0, -int(value.as_tuple().exponent))
    if field.decimals is not None and places > field.decimals:
        raise ValueError(
            _("%(label)s has at most %(n)d decimal places.")
            % {"label": field.label, "n": field.decimals}
        )
    if field.min_value is not None and value < field.min_value:
        raise ValueError(
            _("%(label)s is at least %(min)s.")
            % {"label": field.label, "min": _plain(field.min_value)}
        )
    if field.max_value is not None and value > field.max_value:
        raise ValueError(
            _("%(label)s is at most %(max)s.")
            % {"label": field.label, "max": _plain(field.max_value)}
        )
    return f"{value:f}"


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}"


_DATE_PATTERNS = {
    DateFormat.ISO: re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    DateFormat.SLASH: re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    DateFormat.CHINESE: re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
}


def _date_value(field: TemplateField, raw: object) -> str:
    """An ISO date; given as ISO (API, spreadsheets) or in the field's own format."""
    if isinstance(raw, dt.datetime):
        return raw.date().isoformat()
    if isinstance(raw, dt.date):
        return raw.isoformat()
    text = str(raw).strip()
    for pattern in (_DATE_PATTERNS[DateFormat.ISO], _DATE_PATTERNS[DateFormat(field.date_format)]):
        match = pattern.match(text)
        if match:
            try:
                return dt.date(*(int(part) for part in match.groups())).isoformat()
            except ValueError:
                break
    raise ValueError(
        _("%(label)s must be a date like %(example)s.")
        % {"label": field.label, "example": DateFormat(field.date_format).label}
    )


def _checkbox_value(field: TemplateField, raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    word = str(raw).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(_("%(label)s is true or false.") % {"label": field.label})


_PARSERS = {
    FieldKind.TEXT: _text_value,
    FieldKind.NUMBER: _number_value,
    FieldKind.DATE: _date_value,
    FieldKind.CHECKBOX: _checkbox_value,
}


def blank(raw: object) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def clean_values(fields: Sequence[TemplateField], raw: Mapping[str, Any]) -> dict[str, Any]:
    """Checked values by key (text and numbers as text, dates ISO, checkboxes bool). Every
    problem is reported at once under `fields.<key>`; the code is the first problem's."""
    known = {f.key for f in fields}
    problems: dict[str, str] = {}
    codes: list[str] = []
    for key in sorted(set(raw) - known):
        problems[f"fields.{key}"] = _("This template has no field “%(key)s”.") % {"key": key}
        codes.append("field_unknown")
    clean: dict[str, Any] = {}
    for field in fields:
        value = raw.get(field.key)
        if blank(value):
            if field.required:
                problems[f"fields.{field.key}"] = _("%(label)s is required.") % {
                    "label": field.label
                }
                codes.append("field_required")
            continue
        try:
            clean[field.key] = _PARSERS[FieldKind(field.kind)](field, value)
        except ValueError as exc:
            problems[f"fields.{field.key}"] = str(exc)
            codes.append("field_invalid")
    if problems:
        first = next(iter(problems.values()))
        message = first if len(problems) == 1 else _("Some fields are missing or invalid.")
        raise Invalid(message, code=codes[0], fields=problems)
    return clean


def printed(field: TemplateField, value: Any) -> str:
    """A value as it is printed on the page."""
    if field.kind == FieldKind.DATE:
        day = dt.date.fromisoformat(value)
        if field.date_format == DateFormat.CHINESE:
            return f"{day.year}年{day.month}月{day.day}日"
        if field.date_format == DateFormat.SLASH:
            return day.strftime("%Y/%m/%d")
        return day.isoformat()
    return str(value)


def stamps(fields: Sequence[TemplateField], values: Mapping[str, Any]) -> list[Stamp]:
    """What to draw for *values*: text, or a tick for a ticked checkbox (unticked: nothing)."""
    drawn: list[Stamp] = []
    for field in fields:
        if field.key not in values:
            continue
        value = values[field.key]
        if field.kind == FieldKind.CHECKBOX and not value:
            continue
        drawn.append(
            Stamp(
                page=field.page,
                x=field.x,
                y=field.y,
                width=field.width,
                height=field.height,
                text="" if field.kind == FieldKind.CHECKBOX else printed(field, value),
                tick=field.kind == FieldKind.CHECKBOX,
            )
        )
    return drawn


def refuse_party_values(fields: Sequence[TemplateField], raw: Mapping[str, Any]) -> None:
    """A value for a party's field is not the sender's to give: say so, rather than "unknown"."""
    problems = {
        f"fields.{f.key}": _("%(label)s is filled in by %(role)s after sending.")
        % {"label": f.label, "role": f.role.name if f.role else "?"}
        for f in fields
        if f.filled_by == FilledBy.PARTY and not blank(raw.get(f.key))
    }
    if problems:
        first = next(iter(problems.values()))
        raise Invalid(first, code="field_filled_by_party", fields=problems)


# -- business values ---------------------------------------------------------------------------


def business_fields_of(enterprise_id: str) -> list[BusinessField]:
    return list(BusinessField.objects.filter(enterprise_id=enterprise_id).order_by("key"))


def split_business(
    fields: Sequence[TemplateField], values: Mapping[str, Any], business: set[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """*values* as the template's, and the business values among them: a key that names no field
    of the template but a business field (as a bulk-send column may) is not "unknown"."""
    own = {f.key for f in fields}
    taken = {k: v for k, v in values.items() if k not in own and k in business}
    return {k: v for k, v in values.items() if k not in taken}, taken


def business_values(
    enterprise: Enterprise,
    business: set[str],
    clean: Mapping[str, Any],
    given: Mapping[str, Any],
) -> dict[str, str]:
    """The contract's business values, checked by the rule every draft follows: those of the
    template's values whose key is a business field's, then *given* (which wins)."""
    merged = {k: str(v) for k, v in clean.items() if k in business}
    return contracts._business_fields(enterprise, {**merged, **given})
