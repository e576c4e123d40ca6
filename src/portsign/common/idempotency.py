"""Idempotency-Key for API writes: a repeat of a write returns the first result.

The first request claims the key by inserting a row (unique per sender); a concurrent repeat
finds the row still unanswered and gets 409 instead of running the write twice. Answers of
5xx are not kept, so a failed write can be retried with the same key.

Only signed-in callers get replays, keyed by their *current* credential (a revoked token
replays nothing: the request goes through and meets 401). Credential endpoints under
/api/v1/auth/ are excluded because their answers carry raw bearer tokens, which are never
stored anywhere; so is issuing a certificate authorization code, shown once and kept only as
a hash. Other answers marked `Cache-Control: no-store` (a webhook's signing secret, shown once)
are not kept either: a repeat learns that the write was done, not its answer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from portsign.common.errors import error_body
from portsign.common.models import IdempotencyRecord

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
MAX_STORED_BODY = 1_000_000
EXCLUDED_PREFIX = "/api/v1/auth/"
EXCLUDED_SUFFIX = "/certificate-authorizations"


def _principal(request: HttpRequest) -> str | None:
    """Who sends this write, by a credential that is valid now; None for anonymous callers."""
    authorization = request.META.get("HTTP_AUTHORIZATION", "")
    if authorization.startswith("Bearer "):
        from portsign.accounts.domain.tokens import user_for_token

        found = user_for_token(authorization.removeprefix("Bearer ").strip())
        return f"token:{found[1].id}" if found else None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return None


def _error(status: int, code: str, message: str) -> HttpResponse:
    return JsonResponse(error_body(code, message), status=status)


class IdempotencyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key or request.method not in WRITE_METHODS or not request.path.startswith("/api/"):
            return self.get_response(request)
        if request.path.startswith(EXCLUDED_PREFIX) or request.path.endswith(EXCLUDED_SUFFIX):
            return self.get_response(request)
        principal = _principal(request)
        if principal is None:
            return self.get_response(request)
        if len(key) > 100:
            return _error(
                400,
                "idempotency_key_invalid",
                _("The Idempotency-Key header is longer than 100 characters."),
            )
        fingerprint = hashlib.sha256(request.body).hexdigest()
        lookup = {"principal": principal, "key": key}
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    method=request.method or "",
                    path=request.path[:300],
                    fingerprint=fingerprint,
                    **lookup,
                )
        except IntegrityError:
            return self._replay(IdempotencyRecord.objects.get(**lookup), request, fingerprint)
        response = self.get_response(request)
        self._remember(record, response)
        return response

    @staticmethod
    def _replay(record: IdempotencyRecord, request: HttpRequest, fingerprint: str) -> HttpResponse:
        if (record.method, record.path, record.fingerprint) != (
            request.method,
            request.path[:300],
            fingerprint,
        ):
            return _error(
                422,
                "idempotency_key_reused",
                _("This Idempotency-Key was already used for a different request."),
            )
        if record.status is None:
            return _error(
                409,
                "request_in_progress",
                _("The first request with this Idempotency-Key is still running."),
            )
        response = HttpResponse(
            bytes(record.body), status=record.status, content_type=record.content_type or None
        )
        response["Idempotent-Replayed"] = "true"
        return response

    @staticmethod
    def _remember(record: IdempotencyRecord, response: HttpResponse) -> None:
        body = getattr(response, "content", b"")
        if response.status_code >= 500 or len(body) > MAX_STORED_BODY:
            record.delete()  # let the client retry the write with the same key
            return
        if "no-store" in response.get("Cache-Control", ""):
            # The key stays used, so a repeat cannot make a second endpoint and secret.
            response = _error(
                409,
                "answer_not_kept",
                _(
                    "The first request with this Idempotency-Key succeeded, but its answer "
                    "held a secret and was not kept."
                ),
            )
            body = response.content
        record.status = response.status_code
        record.content_type = response.get("Content-Type", "")
        record.body = body
        record.save(update_fields=["status", "content_type", "body"])
