"""Idempotency-Key for API writes: a repeat of a write returns the first result.

The first request claims the key by inserting a row (unique per sender) with a lease; a
concurrent repeat finds the row unanswered and leased and gets 409 with Retry-After instead of
running the write twice. The write and its answer are saved in one transaction, so after a
crash there is either both (a retry replays the answer) or neither (the lease lapses and a
retry runs the write afresh). A holder that outlived its lease and lost it to a retry rolls its
write back. Answers of 5xx are not kept, so a failed write can be retried with the same key.

Only signed-in callers get replays, keyed by their *current* credential (a revoked token
replays nothing: the request goes through and meets 401). Credential endpoints under
/api/v1/auth/ are excluded because their answers carry raw bearer tokens, which are never
stored anywhere; so is issuing a certificate authorization code, shown once and kept only as
a hash. Other answers marked `Cache-Control: no-store` (a webhook's signing secret, shown once)
are not kept either: a repeat learns that the write was done, not its answer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import secrets
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
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
        # Imported here: tokens and keys belong to apps above common.
        from portsign.accounts.domain.tokens import user_for_token
        from portsign.integrations.domain.keys import KEY_PREFIX, key_for_token

        raw = authorization.removeprefix("Bearer ").strip()
        if raw.startswith(KEY_PREFIX):  # an enterprise API key (only read: BearerAuth counts)
            key = key_for_token(raw)
            return f"apikey:{key.id}" if key else None
        found = user_for_token(raw)
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
        claimed = self._claim(request, principal, key, fingerprint)
        if isinstance(claimed, HttpResponse):
            return claimed
        return self._run(claimed, request)

    def _claim(
        self, request: HttpRequest, principal: str, key: str, fingerprint: str
    ) -> IdempotencyRecord | HttpResponse:
        """Our lease on the key, or the answer a repeat gets instead of running the write."""
        lease, until = secrets.token_hex(16), _lease_end()
        lookup = {"principal": principal, "key": key}
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(
                    method=request.method or "",
                    path=request.path[:300],
                    fingerprint=fingerprint,
                    lease=lease,
                    lease_until=until,
                    **lookup,
                )
        except IntegrityError:
            pass
        record = IdempotencyRecord.objects.get(**lookup)
        if not self._same_request(record, request, fingerprint):
            return _error(
                422,
                "idempotency_key_reused",
                _("This Idempotency-Key was already used for a different request."),
            )
        if record.status is None and not _leased(record):
            # The first holder died (or outlived its lease): take the key over, unless another
            # retry or the holder's own commit got there first.
            taken = IdempotencyRecord.objects.filter(
                pk=record.pk, status__isnull=True, lease=record.lease
            ).update(lease=lease, lease_until=until)
            if taken:
                record.lease, record.lease_until = lease, until
                return record
            record.refresh_from_db()
        return self._replay(record)

    @staticmethod
    def _same_request(record: IdempotencyRecord, request: HttpRequest, fingerprint: str) -> bool:
        return (record.method, record.path, record.fingerprint) == (
            request.method,
            request.path[:300],
            fingerprint,
        )

    @staticmethod
    def _replay(record: IdempotencyRecord) -> HttpResponse:
        if record.status is None:
            response = _error(
                409,
                "request_in_progress",
                _("The first request with this Idempotency-Key is still running."),
            )
            response["Retry-After"] = str(_seconds_left(record))
            return response
        response = HttpResponse(
            bytes(record.body), status=record.status, content_type=record.content_type or None
        )
        response["Idempotent-Replayed"] = "true"
        return response

    def _run(self, record: IdempotencyRecord, request: HttpRequest) -> HttpResponse:
        """The write and its answer in one transaction; a 5xx leaves neither and frees the key."""
        with transaction.atomic():
            response = self.get_response(request)
            if response.status_code >= 500:
                transaction.set_rollback(True)
            elif not self._remember(record, response):
                transaction.set_rollback(True)
                return _error(
                    409,
                    "request_superseded",
                    _(
                        "This request ran past its time and a retry took it over; nothing of "
                        "it was kept. The retry's answer is the one that counts."
                    ),
                )
        if response.status_code >= 500:
            # let the client retry the write with the same key
            IdempotencyRecord.objects.filter(pk=record.pk, lease=record.lease).delete()
        return response

    @staticmethod
    def _remember(record: IdempotencyRecord, response: HttpResponse) -> bool:
        """Save the answer while we hold the lease; False if a retry took the key over."""
        kept = _kept_answer(response)
        return bool(
            IdempotencyRecord.objects.filter(
                pk=record.pk, status__isnull=True, lease=record.lease
            ).update(
                status=kept.status_code,
                content_type=kept.get("Content-Type", ""),
                body=getattr(kept, "content", b""),
            )
        )


def _kept_answer(response: HttpResponse) -> HttpResponse:
    """What a repeat gets: the answer itself, or a 409 saying the write was done.

    The key stays used either way, so a repeat can never make a second endpoint and secret, nor
    run a write whose answer was too large to keep.
    """
    if "no-store" in response.get("Cache-Control", ""):
        return _error(
            409,
            "answer_not_kept",
            _(
                "The first request with this Idempotency-Key succeeded, but its answer "
                "held a secret and was not kept."
            ),
        )
    if len(getattr(response, "content", b"")) > MAX_STORED_BODY:
        return _error(
            409,
            "answer_not_kept",
            _(
                "The first request with this Idempotency-Key succeeded, but its answer "
                "was too large to keep."
            ),
        )
    return response


def _lease_end() -> dt.datetime:
    return timezone.now() + dt.timedelta(seconds=settings.IDEMPOTENCY_LEASE_SECONDS)


def _leased(record: IdempotencyRecord) -> bool:
    return record.lease_until is not None and record.lease_until > timezone.now()


def _seconds_left(record: IdempotencyRecord) -> int:
    if record.lease_until is None:
        return 1
    return max(1, math.ceil((record.lease_until - timezone.now()).total_seconds()))
