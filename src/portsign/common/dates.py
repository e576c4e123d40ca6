"""Date-times from callers: one rule for turning them into UTC, the form the database keeps.

A valid ISO 8601 value can still fall off the calendar once moved to UTC (9999-12-31T23:00-05:00
is year 10000 there); comparing or storing it used to raise OverflowError and answer 500.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _

from portsign.common.errors import Invalid


def to_utc(value: dt.datetime, *, field: str, code: str = "date_range") -> dt.datetime:
    """*value* (naive means the server's zone) in UTC, or Invalid(*code*) if it has no UTC date."""
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        message = _("This date is outside the calendar we can keep (years 1 to 9999 in UTC).")
        raise Invalid(message, code=code, fields={field: message}) from None
