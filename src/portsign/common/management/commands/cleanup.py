"""`manage.py cleanup`: delete short-lived rows nobody can use any more.

Expired captchas, one-time codes past the daily-limit window, certificate sign-in challenges
past the hourly-limit window, old idempotency answers, finished sign-in locks, old webhook
deliveries and certificate uploads no application used only grow otherwise. It also sends
webhook retries that are due (embedded mode has no broker to wait with) and the one-time notice
to holders of certificates that expire soon. Safe to run at any time; `make run` runs it on
start, production should schedule it (e.g. hourly).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand
from django.db.models import Q
from django.utils import timezone

from portsign.accounts.models import Captcha, LoginChallenge, SignInThrottle, VerificationCode
from portsign.billing.domain.orders import deliver_sandbox_notices
from portsign.common import conversions
from portsign.common.models import IdempotencyRecord
from portsign.common.notify.outbox import relay_stuck, send_digests
from portsign.common.ratelimit import forget_old as forget_old_counters
from portsign.contracts.domain.contracts import expire_overdue as expire_contracts
from portsign.contracts.domain.followup import send_due_reminders
from portsign.contracts.domain.signing import resume_completions
from portsign.enterprises.domain.enterprises import expire_overdue
from portsign.eport.domain.cards import remind_expiring as remind_expiring_cards
from portsign.eport.domain.entrustments import expire_overdue as expire_entrustments
from portsign.integrations.domain.bindings import clear_expired_tokens
from portsign.pki.anchors import anchor_head
from portsign.pki.expiry import send_expiry_notices
from portsign.pki.materials import drop_unattached
from portsign.webhooks.domain.deliveries import deliver_due, forget_old

# Codes are kept two days: the daily limit counts today's codes in Asia/Shanghai time.
CODE_RETENTION = timedelta(days=2)
IDEMPOTENCY_RETENTION = timedelta(hours=24)
# Challenges live minutes, but the per-IP hourly limit counts the last hour's.
CHALLENGE_RETENTION = timedelta(hours=1)


class Command(BaseCommand):
    help = (
        "Delete expired captchas, old one-time codes and sign-in challenges, old idempotency "
        "answers, rate counters of past windows and stale locks; "
        "let unverified enterprises past their deadline lapse, complete contracts every party "
        "signed whose completion was cut short, and let overdue contracts expire; "
        "send due webhook retries, drop old webhook deliveries, forget unused certificate "
        "uploads and tell holders of certificates expiring soon; send one digest per recipient of "
        "the notices held past their hourly budget; time-stamp the audit head."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        counts = {
            "captchas": Captcha.objects.filter(Q(expires_at__lt=now) | Q(used=True)).delete()[0],
            "codes": VerificationCode.objects.filter(created_at__lt=now - CODE_RETENTION).delete()[
                0
            ],
            "challenges": LoginChallenge.objects.filter(
                created_at__lt=now - CHALLENGE_RETENTION
            ).delete()[0],
            "idempotency": IdempotencyRecord.objects.filter(
                created_at__lt=now - IDEMPOTENCY_RETENTION
            ).delete()[0],
            "rate_counters": forget_old_counters(),
            "locks": SignInThrottle.objects.filter(locked_until__lt=now).delete()[0],
            # Enterprises past their materials deadline lapse on access anyway; this keeps
            # lists and counts right without waiting for someone to look.
            "lapsed": expire_overdue(now=now),
            # Contracts every party signed whose completion (B-LTA) was cut short by a crash.
            "completions_resumed": resume_completions(now=now),
            # 代理报关委托 past their validity's end become 已过期 (with their contracts).
            "entrustments_expired": expire_entrustments(now=now),
            # Contracts past their signing deadline become 逾期未签 (also on access); never one
            # every party signed.
            "contracts_expired": expire_contracts(now=now),
            # 催签 before the deadline, once per party.
            "reminders": send_due_reminders(now=now),
            # Webhook retries whose time has come: embedded mode has no broker to wait with.
            "webhooks_due": deliver_due(),
            "webhooks_forgotten": forget_old(now=now),
            # Certificate materials uploaded a day ago and named by no application.
            "certificate_materials": drop_unattached(now=now),
            # One notice per certificate, CERTIFICATE_EXPIRY_NOTICE_DAYS before it expires.
            "certificate_notices": send_expiry_notices(now=now),
            # One reminder per E-Port card certificate, CARD_EXPIRY_NOTICE_DAYS before it ends.
            "card_reminders": remind_expiring_cards(now=now),
            # Notifications whose delivery task was lost, queued again.
            "notifications_requeued": relay_stuck(now=now),
            # Contract notices held past a budget, told to each recipient in one message.
            "notice_digests": send_digests(),
            # Word conversions a restarted process lost, queued again.
            "conversions_resumed": conversions.resume_stale(now=now),
            # Word conversions a day old, with their files (named by no draft after that long).
            "conversions_forgotten": conversions.forget_old(now=now),
            # OAuth grants and tokens of bound platforms past their lifetime.
            "oauth_tokens_cleared": clear_expired_tokens(),
            # The sandbox cashier's late payment notifications whose time has come.
            "payment_notices": deliver_sandbox_notices(now=now),
            # The audit head, time-stamped by our TSA into file storage when it moved.
            "audit_anchored": anchor_head(),
        }
        self.stdout.write("cleanup: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
