"""Sandbox gateways: real gateways whose "outside world" is the SandboxMessage table.

They validate like the vendors do and fail like them, triggered by documented magic inputs
(docs/sandbox.md), so failure paths can be exercised without a vendor account:
- an SMS to a number ending in 9990 is refused as an invalid number (permanent);
- an SMS to a number ending in 9991 meets a provider outage (temporary, retried);
- more than SANDBOX_SMS_HOURLY_LIMIT messages to one number within an hour are throttled
  (temporary), as vendors' flow control does;
- an e-mail to any address at bounce.invalid bounces (permanent).
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone

from portsign.common.models import SandboxMessage
from portsign.common.notify.base import DeliveryError, OutgoingMessage

SANDBOX_SMS_HOURLY_LIMIT = 20
_E164 = re.compile(r"^\+\d{8,15}$")


def _store(message: OutgoingMessage) -> str:
    row = SandboxMessage.objects.create(
        to=message.to,
        channel=message.channel,
        subject=message.subject,
        text=message.text,
        data=dict(message.data),
    )
    return f"sandbox-{row.pk}"


class SandboxSmsGateway:
    channel = "sms"

    def send(self, message: OutgoingMessage) -> str:
        if not _E164.match(message.to) or message.to.endswith("9990"):
            raise DeliveryError(
                "invalid mobile number", permanent=True, provider_code="MOBILE_NUMBER_ILLEGAL"
            )
        if message.to.endswith("9991"):
            raise DeliveryError("provider unavailable", permanent=False, provider_code="OUTAGE")
        since = timezone.now() - timedelta(hours=1)
        if (
            SandboxMessage.objects.filter(to=message.to, channel="sms", sent_at__gte=since).count()
            >= SANDBOX_SMS_HOURLY_LIMIT
        ):
            raise DeliveryError(
                "flow control", permanent=False, provider_code="BUSINESS_LIMIT_CONTROL"
            )
        return _store(message)


class SandboxEmailGateway:
    channel = "email"

    def send(self, message: OutgoingMessage) -> str:
        if message.to.lower().endswith("@bounce.invalid"):
            raise DeliveryError("mailbox unavailable", permanent=True, provider_code="550")
        return _store(message)
