"""Domain errors. Domain functions raise these; one handler turns them into API.md's format.

Messages are lazy translations so they come out in the requester's language.
"""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    status = 400
    code = "invalid"

    def __init__(
        self,
        message: str | Promise,
        *,
        code: str | None = None,
        fields: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(str(message))
        self.message = message
        if code:
            self.code = code
        self.fields = fields or {}


class Invalid(DomainError):
    status = 400
    code = "invalid"


class PaymentRequired(DomainError):
    """The holder's quota is used up; `link` is where to recharge."""

    status = 402
    code = "payment_required"

    def __init__(
        self, message: str | Promise, *, link: str, link_label: str | Promise, **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)
        self.link = link
        self.link_label = link_label


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    """Inside one's own tenant, but the role does not allow it. (Outside it: NotFound.)"""

    status = 403
    code = "forbidden"


class NotFound(DomainError):
    """Absent or not yours: tenants must not learn that another tenant's object exists."""

    status = 404
    code = "not_found"

    def __init__(self, message: str | Promise | None = None, **kwargs: Any) -> None:
        super().__init__(message or _("Not found."), **kwargs)


class Conflict(DomainError):
    """An illegal state transition or a duplicate."""

    status = 409
    code = "conflict"


class TooLarge(DomainError):
    status = 413
    code = "too_large"


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str | Promise, *, retry_after: int, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = max(1, int(retry_after))


class Busy(RateLimited):
    """The server is at its limit for this kind of work (e.g. Word conversions); try later."""

    status = 503
    code = "busy"


def error_body(
    code: str, message: str | Promise, fields: dict[str, Any] | None = None, *, link: str = ""
) -> dict:
    """API.md's error shape; `link` (when set) is the page that resolves it, e.g. recharge."""
    body: dict[str, Any] = {"code": code, "message": str(message), "fields": fields or {}}
    if link:
        body["link"] = link
    return {"error": body}
