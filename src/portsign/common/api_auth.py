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
    """A personal token (`pst_…`, from sign-in), an enterprise API key (`psk_…`), or a
    platform's OAuth access token (anything else: integrations.oauth_auth)."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        # Imported here: tokens belong to accounts, keys to integrations, both above common.
        from portsign.accounts.domain.tokens import TOKEN_PREFIX, user_for_token
        from portsign.integrations.domain.keys import KEY_PREFIX

        if token.startswith(KEY_PREFIX):
            return _key_user(request, token)
        if not token.startswith(TOKEN_PREFIX):
            return _platform_user(request, token)
        found = user_for_token(token)
        if found is None:
            return None
        request.user, request.api_token = found  # type: ignore[attr-defined]
        activate_user_language(request, found[0].language)
        return found[0]


def _key_user(request: HttpRequest, token: str) -> Any:
    """The key's service account acts; the request is counted (429 over the key's rate),
    audited and held to the key's scopes (403) by integrations.domain.usage."""
    from portsign.integrations.domain.usage import use_key

    key = use_key(raw=token, method=request.method or "", path=request.path)
    if key is None:
        return None
    request.user, request.api_token = key.user, None  # type: ignore[attr-defined]
    request.api_key = key  # type: ignore[attr-defined]
    activate_user_language(request, key.user.language)
    return key.user


def _platform_user(request: HttpRequest, token: str) -> Any:
    """The person who bound the platform acts, held to the bound identity (403/404); no live
    binding (revoked, expired, unknown token) is None → 401 (seed 000: bind before signing
    through the platform)."""
    from portsign.integrations.oauth_auth import use_oauth_token

    binding = use_oauth_token(raw=token, request=request)
    if binding is None:
        return None
    request.user, request.api_token = binding.user, None  # type: ignore[attr-defined]
    request.oauth_binding = binding  # type: ignore[attr-defined]
    activate_user_language(request, binding.user.language)
    return binding.user


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
