"""Request-wide middleware: origin for the audit log, and the user's language preference."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.translation import gettext as _

from portsign.common.request_context import Origin, reset_origin, set_origin
from portsign.common.text import all_storable


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


class ConsoleLocaleMiddleware(LocaleMiddleware):
    """Chinese unless the person chose otherwise.

    The API follows Accept-Language (integrators ask for English explicitly). Web pages do not:
    a Chinese clerk on an English-language browser still gets the Chinese console, and switches
    with the language button (cookie, and her saved preference once signed in).
    """

    def process_request(self, request: HttpRequest) -> None:
        if request.path.startswith("/api/"):
            super().process_request(request)
            return
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


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


class ApiErrorShapeMiddleware:
    """Answers the router gives before reaching the API (unknown path, wrong method) get the
    same JSON error shape as everything else under /api/."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith("/api/") or response.status_code not in (404, 405):
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        from portsign.common.errors import error_body

        if response.status_code == 404:
            return JsonResponse(error_body("not_found", _("Not found.")), status=404)
        shaped = JsonResponse(
            error_body("method_not_allowed", _("This method is not allowed here.")), status=405
        )
        shaped["Allow"] = response.get("Allow", "")
        return shaped


class ApiTextMiddleware:
    """Refuse, before any view, API input holding text no database can store (issue 11).

    One place for every endpoint, including those that read their JSON themselves: a lone
    surrogate or NUL in the JSON body (keys too) or NUL in the query string is a 400
    `invalid_text`. Form fields need no check: Django decodes them with replacement, and the
    free-text cleaner refuses control characters.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/") and not self._storable(request):
            from portsign.common.errors import error_body

            message = _(
                "The request holds characters that cannot be stored "
                "(a broken UTF-16 surrogate or NUL). Remove them and send it again."
            )
            return JsonResponse(error_body("invalid_text", message), status=400)
        return self.get_response(request)

    @staticmethod
    def _storable(request: HttpRequest) -> bool:
        if not all_storable(dict(request.GET.lists())):
            return False
        if request.content_type != "application/json":
            return True
        try:
            body = request.body
        except RequestDataTooBig:
            return True  # the view answers 413 in the API's shape
        if b"\\u" not in body:
            return True  # JSON spells a surrogate or NUL only as an escape
        try:
            decoded = json.loads(body)
        except ValueError:
            return True  # not JSON: the endpoint answers malformed_body
        return all_storable(decoded)


class RequestSizeMiddleware:
    """Refuse a body larger than MAX_REQUEST_BYTES before reading it.

    Django keeps file uploads out of DATA_UPLOAD_MAX_MEMORY_SIZE and would stream a huge upload
    to disk before any view could refuse it; the declared Content-Length settles it up front.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.MAX_REQUEST_BYTES:
            from portsign.common.errors import error_body

            message = _("The upload is larger than %(mb)d MB.") % {
                "mb": settings.MAX_REQUEST_BYTES // 2**20
            }
            if request.path.startswith("/api/"):
                return JsonResponse(error_body("too_large", message), status=413)
            return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
