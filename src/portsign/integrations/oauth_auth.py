"""One use of a platform's OAuth access token, as the API's bearer authentication sees it.

As for API keys (domain/usage.py), order matters: the rate limit comes before the audit row,
so a flood of refused requests cannot flood the audit log; the audit row comes before the
binding's checks, so a refused attempt is on record too. The row names the method and path
only: never the token, the query string or the body.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from portsign.common.audit import record_event
from portsign.common.ratelimit import enforce
from portsign.integrations.domain.bindings import binding_for_token
from portsign.integrations.models import Binding
from portsign.integrations.oauth_rules import require_within_binding

RATE_WINDOW_SECONDS = 60


def use_oauth_token(*, raw: str, request: HttpRequest) -> Binding | None:
    """The live binding *raw* acts under, counted (RateLimited 429), audited and checked
    against it (Forbidden 403, NotFound 404); None when there is none (→ 401)."""
    binding = binding_for_token(raw)
    if binding is None:
        return None
    enforce(
        scope="oauth_binding",
        key=binding.id,
        # The same budget as an enterprise API key: both are a platform's server calling.
        limit=settings.API_KEY_RATE_PER_MINUTE,
        window_seconds=RATE_WINDOW_SECONDS,
        message=_("Too many requests from this platform. Wait a moment and try again."),
        code="binding_rate_limited",
    )
    record_event(
        action="binding.used",
        actor_id=binding.user_id,
        acting_as=binding.enterprise_id or "",
        object_type="binding",
        object_id=binding.id,
        data={"method": (request.method or "").upper(), "path": request.path[:300]},
    )
    require_within_binding(binding=binding, request=request)
    return binding
