"""Request-wide middleware: origin for the audit log, and the user's language preference."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from portsign.common.request_context import Origin, reset_origin, set_origin


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or the nearest X-Forwarded-For hop when behind a trusted proxy."""
    if settings.TRUST_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return str(request.META.get("REMOTE_ADDR", ""))


class OriginMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = set_origin(Origin(client_ip(request), request.META.get("HTTP_USER_AGENT", "")))
        try:
            return self.get_response(request)
        finally:
            reset_origin(token)


def activate_user_language(request: HttpRequest, language: str) -> None:
    """A signed-in user's saved choice wins over the browser's Accept-Language."""
    if language:
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


class UserLanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            activate_user_language(request, user.language)
        return self.get_response(request)
