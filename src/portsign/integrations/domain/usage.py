"""One use of an enterprise API key, as the bearer authentication sees it.

Order matters: the rate limit comes before the audit row, so a flood of refused requests
cannot flood the audit log; the audit row comes before the scope check, so a refused attempt
is on record too. The row names the method and path only: never the key, the query string
or the body, which may carry personal data.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portsign.common.audit import record_event
from portsign.common.ratelimit import enforce
from portsign.integrations.domain.keys import key_for_token
from portsign.integrations.models import ApiKey
from portsign.integrations.rules import require_in_scope

# last_used_at is written at most this often per key, not on every request.
TOUCH_INTERVAL = timedelta(minutes=1)
RATE_WINDOW_SECONDS = 60


def use_key(*, raw: str, method: str, path: str) -> ApiKey | None:
    """The key *raw* names, counted, audited and checked against its scopes; None when it is
    no live key (→ 401). Raises RateLimited (429) or Forbidden (403, out of scope)."""
    key = key_for_token(raw)
    if key is None:
        return None
    enforce(
        scope="api_key",
        key=key.id,
        limit=settings.API_KEY_RATE_PER_MINUTE,
        window_seconds=RATE_WINDOW_SECONDS,
        message=_("Too many requests with this API key. Wait a moment and try again."),
        code="api_key_rate_limited",
    )
    _touch(key)
    record_event(
        action="api_key.used",
        actor_id=key.user_id,
        acting_as=key.enterprise_id,
        object_type="api_key",
        object_id=key.id,
        data={"method": method.upper(), "path": path[:300]},
    )
    require_in_scope(scopes=key.scopes, method=method, path=path)
    return key


def _touch(key: ApiKey) -> None:
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= TOUCH_INTERVAL:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
