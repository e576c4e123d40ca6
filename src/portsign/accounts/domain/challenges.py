"""Challenges for certificate sign-in (SPEC A2): random, short-lived, single use.

Every sign-in attempt uses up its challenge, a wrong signature included, so the attempts from
one network are bounded by CERT_LOGIN_IP_HOURLY_LIMIT — and nobody can lock someone else's
account by failing on purpose, as there is no per-account counter. `manage.py cleanup` deletes
challenges once the hourly limit no longer counts them.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portsign.accounts.models import LoginChallenge
from portsign.common.errors import RateLimited, Unauthorized
from portsign.common.request_context import current_origin


def new_challenge() -> LoginChallenge:
    ip = current_origin().ip
    now = timezone.now()
    with transaction.atomic():
        _check_limit(ip, now)
        return LoginChallenge.objects.create(
            challenge=base64.b64encode(secrets.token_bytes(32)).decode(),
            ip=ip,
            created_at=now,
            expires_at=now + timedelta(seconds=settings.CERT_LOGIN_CHALLENGE_SECONDS),
        )


def _check_limit(ip: str, now: datetime) -> None:
    if not ip:
        return
    since = now - timedelta(hours=1)
    recent = LoginChallenge.objects.filter(ip=ip, created_at__gte=since)
    if recent.count() >= settings.CERT_LOGIN_IP_HOURLY_LIMIT:
        oldest = recent.order_by("created_at").values_list("created_at", flat=True).first()
        wait = int(((oldest or now) + timedelta(hours=1) - now).total_seconds())
        raise RateLimited(
            _("Too many certificate sign-in attempts from your network. Try again later."),
            retry_after=wait,
            code="challenge_ip_limit",
        )


def consume_challenge(challenge_id: str) -> LoginChallenge:
    """Mark the challenge used, or raise why it cannot be. One conditional UPDATE decides, so
    of two simultaneous attempts with the same challenge exactly one gets it."""
    now = timezone.now()
    taken = LoginChallenge.objects.filter(
        pk=challenge_id, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    row = LoginChallenge.objects.filter(pk=challenge_id).first()
    if taken == 1 and row is not None:
        return row
    if row is None:
        raise Unauthorized(_("Unknown challenge. Ask for a new one."), code="challenge_unknown")
    if row.used_at is not None:
        raise Unauthorized(
            _("This challenge has already been used. Ask for a new one."), code="challenge_used"
        )
    raise Unauthorized(_("The challenge has expired. Ask for a new one."), code="challenge_expired")
