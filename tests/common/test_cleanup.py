"""`manage.py cleanup` removes only rows that can no longer be used."""

from __future__ import annotations

import io
from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone

from portsign.accounts.domain.captcha import new_captcha
from portsign.accounts.models import Captcha, LoginChallenge, SignInThrottle, VerificationCode
from portsign.common.models import RateCounter


def _code(created_at) -> VerificationCode:
    return VerificationCode.objects.create(
        target="+8613800000009",
        channel="sms",
        purpose="login",
        code_hash="x",
        created_at=created_at,
        expires_at=created_at + timedelta(minutes=5),
    )


def _challenge(created_at) -> LoginChallenge:
    return LoginChallenge.objects.create(
        challenge="x", created_at=created_at, expires_at=created_at + timedelta(minutes=2)
    )


def test_cleanup_keeps_live_rows_and_deletes_dead_ones():
    now = timezone.now()
    live_captcha, dead_captcha = new_captcha(ip="192.0.2.1"), new_captcha(ip="192.0.2.1")
    Captcha.objects.filter(pk=dead_captcha.pk).update(expires_at=now - timedelta(seconds=1))
    recent, old = _code(now - timedelta(hours=20)), _code(now - timedelta(days=3))
    counted, _stale = _challenge(now - timedelta(minutes=50)), _challenge(now - timedelta(hours=2))
    SignInThrottle.objects.create(address="a", locked_until=now - timedelta(minutes=1))
    SignInThrottle.objects.create(address="b", locked_until=now + timedelta(minutes=1))
    two_days_ago = int(now.timestamp()) - 2 * 86400
    RateCounter.objects.create(scope="verify", key="192.0.2.1", window=two_days_ago, count=3)
    out = io.StringIO()
    call_command("cleanup", stdout=out)
    expected = (
        "cleanup: captchas=1, codes=1, challenges=1, idempotency=0, rate_counters=1, locks=1, "
        "lapsed=0, "
        "completions_resumed=0, entrustments_expired=0, contracts_expired=0, reminders=0, "
        "webhooks_due=0, "
        "webhooks_forgotten=0, certificate_materials=0, certificate_notices=0, card_reminders=0, "
        "notifications_requeued=0, notice_digests=0, "
        "conversions_resumed=0, conversions_forgotten=0, oauth_tokens_cleared=0, "
        "payment_notices=0, audit_anchored=0"
    )
    assert out.getvalue().strip() == expected
    assert list(Captcha.objects.values_list("pk", flat=True)) == [live_captcha.pk]
    assert list(RateCounter.objects.values_list("scope", "count")) == [("captcha", 2)]
    assert list(VerificationCode.objects.values_list("pk", flat=True)) == [recent.pk]
    assert list(SignInThrottle.objects.values_list("address", flat=True)) == ["b"]
    assert not VerificationCode.objects.filter(pk=old.pk).exists()
    assert list(LoginChallenge.objects.values_list("pk", flat=True)) == [counted.pk]
