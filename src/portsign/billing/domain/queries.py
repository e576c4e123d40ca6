"""Reads of billing: usage records (使用记录) and the usage chart's series."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from portsign.billing.enums import QuotaKind, UsageReason
from portsign.billing.models import Usage, Wallet
from portsign.common.errors import Invalid

MAX_CHART_DAYS = 366


def usage_of(
    wallet: Wallet, *, start: dt.date | None = None, end: dt.date | None = None
) -> QuerySet[Usage]:
    rows = wallet.usage.order_by("-at", "-id")
    if start:
        rows = rows.filter(at__date__gte=start)
    if end:
        rows = rows.filter(at__date__lte=end)
    return rows


def chart_range(start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    """The chosen range, by default the last 30 days; at most a year, start before end."""
    last = end or timezone.localdate()
    first = start or last - dt.timedelta(days=29)
    if first > last or (last - first).days >= MAX_CHART_DAYS:
        message = _("Choose a range of 1 to %(n)d days, the start before the end.") % {
            "n": MAX_CHART_DAYS
        }
        raise Invalid(message, code="date_range", fields={"from": message})
    return first, last


def sent_per_day(wallet: Wallet, start: dt.date, end: dt.date) -> dict[str, object]:
    """Contracts sent per day and per kind (a revoked one still counts: it was sent)."""
    rows = (
        usage_of(wallet, start=start, end=end)
        .filter(reason=UsageReason.SEND)
        .order_by()  # no ordering columns in the GROUP BY
        .annotate(day=TruncDate("at", tzinfo=timezone.get_current_timezone()))
        .values("day", "kind")
        .annotate(n=Count("id"))
    )
    counts = Counter({(row["day"], row["kind"]): row["n"] for row in rows})
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    return {
        "days": [day.isoformat() for day in days],
        **{kind: [counts[(day, kind)] for day in days] for kind in QuotaKind.values},
    }
