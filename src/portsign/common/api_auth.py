"""Who calls the open API: a bearer token or the console's session (API.md "Auth").

Shared by every app's router, so it lives below them in `common` (routers importing it from the
root `portsign/api.py`, which imports the routers, was an import cycle).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import HttpBearer, SessionAuth

from portsign.common.middleware import activate_user_language


class BearerAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        # Imported here: tokens belong to accounts, which sits above common.
        from portsign.accounts.domain.tokens import user_for_token

        found = user_for_token(token)
        if found is None:
            return None
        request.user, request.api_token = found  # type: ignore[attr-defined]
        activate_user_language(request, found[0].language)
        return found[0]


class SessionUser(SessionAuth):
    """The web console calls the same API with its session cookie (CSRF checked).

    Without a session cookie there is nothing to protect, so the caller gets a plain 401
    rather than a CSRF complaint.
    """

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.COOKIES.get(settings.SESSION_COOKIE_NAME):
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        request.api_token = None  # type: ignore[attr-defined]
        return user


AUTH = [BearerAuth(), SessionUser()]


def optional_user(request: HttpRequest) -> Any:
    """The caller's user on endpoints that work signed in or not, else None."""
    for method in AUTH:
        try:
            user = method(request)
        except HttpError:
            user = None
        if user:
            return user
    return None
