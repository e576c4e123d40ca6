"""Fixed-window rate limits shared by every worker (a row per scope, client and window).

One rule for anonymous, CPU-costly or row-writing endpoints (public verification, captchas):
count the request, and refuse it with 429 and Retry-After once the window's allowance is spent.
"""

from __future__ import annotations

import time

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.functional import Promise

from portsign.common.errors import RateLimited
from portsign.common.models import RateCounter


def count_request(*, scope: str, key: str, window_seconds: int) -> tuple[int, int]:
    """Count one request; (requests in this window so far, seconds until the window ends)."""
    now = int(time.time())
    start = now - now % window_seconds
    where = {"scope": scope, "key": key[:128] or "unknown", "window": start}
    with transaction.atomic():
        if not RateCounter.objects.filter(**where).update(count=F("count") + 1):
            try:
                with transaction.atomic():
                    RateCounter.objects.create(count=1, **where)
            except IntegrityError:  # another worker opened the window first
                RateCounter.objects.filter(**where).update(count=F("count") + 1)
        count = RateCounter.objects.values_list("count", flat=True).get(**where)
    return count, start + window_seconds - now


def enforce(
    *, scope: str, key: str, limit: int, window_seconds: int, message: str | Promise, code: str
) -> None:
    """Count one request and raise RateLimited(*code*) if it is over *limit* in its window."""
    count, left = count_request(scope=scope, key=key, window_seconds=window_seconds)
    if count > limit:
        raise RateLimited(message, code=code, retry_after=max(1, left))


def forget_old(*, now: float | None = None, keep_seconds: int = 86400) -> int:
    """Delete counters of windows that began more than *keep_seconds* ago (run by cleanup)."""
    cutoff = int(now if now is not None else time.time()) - keep_seconds
    return RateCounter.objects.filter(window__lt=cutoff).delete()[0]
