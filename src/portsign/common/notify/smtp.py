"""Production e-mail through Django's SMTP backend (settings EMAIL_*)."""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.mail import EmailMessage

from portsign.common.notify.base import DeliveryError, OutgoingMessage


class SmtpEmailGateway:
    channel = "email"

    def send(self, message: OutgoingMessage) -> str:
        email = EmailMessage(
            subject=message.subject,
            body=message.text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.to],
        )
        try:
            email.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError("recipient refused", permanent=True, provider_code="550") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(type(exc).__name__, permanent=False) from exc
        return email.extra_headers.get("Message-ID", "")
