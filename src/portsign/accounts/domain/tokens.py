"""API bearer tokens: issued at sign-in, expire, listed and revoked by their owner."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from portsign.accounts.models import ApiToken, User
from portsign.common.audit import record_event
from portsign.common.errors import NotFound
from portsign.common.request_context import current_origin

TOKEN_PREFIX = "pst_"  # noqa: S105 - a public marker, not a secret
# last_used_at is written at most this often per token, not on every request.
_TOUCH_INTERVAL = timedelta(minutes=5)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token(*, user: User, name: str = "api") -> tuple[ApiToken, str]:
    """Create a token; the raw value is returned once and never stored."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name[:100] or "api",
            token_hash=_digest(raw),
            prefix=raw[:12],
            created_at=now,
            expires_at=now + timedelta(days=settings.TOKEN_TTL_DAYS),
            created_ip=current_origin().ip,
        )
        record_event(
            action="token.issued",
            actor_id=user.id,
            object_type="token",
            object_id=token.id,
            data={"name": token.name},
        )
    return token, raw


def user_for_token(raw: str) -> tuple[User, ApiToken] | None:
    if not raw.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=_digest(raw), revoked_at__isnull=True)
        .first()
    )
    now = timezone.now()
    if token is None or token.expires_at <= now or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > _TOUCH_INTERVAL:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user, token


def tokens_of(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at")


def revoke_token(*, user: User, token_id: str) -> ApiToken:
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().filter(pk=token_id, user=user).first()
        if token is None:
            raise NotFound()
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            record_event(
                action="token.revoked", actor_id=user.id, object_type="token", object_id=token.id
            )
    return token


def revoke_all_tokens(*, user: User, reason: str) -> int:
    count = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if count:
        record_event(
            action="token.revoked_all",
            actor_id=user.id,
            object_type="user",
            object_id=user.id,
            data={"count": count, "reason": reason},
        )
    return count
