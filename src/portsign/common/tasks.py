"""Thin tasks (DESIGN rule 6): fetch, call the domain, retry with back-off."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings

from portsign.common import conversions
from portsign.common.notify.outbox import MAX_ATTEMPTS, deliver_notification


@shared_task(bind=True, max_retries=MAX_ATTEMPTS)
def task_deliver_notification(self: Any, *, notification_id: str) -> None:
    retry = deliver_notification(notification_id=notification_id)
    if retry:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            # Embedded mode: no broker to wait with; retry at once, bounded by MAX_ATTEMPTS.
            task_deliver_notification.apply(kwargs={"notification_id": notification_id})
            return
        raise self.retry(countdown=2**self.request.retries * 5)


@shared_task(name=conversions.TASK, acks_late=True)
def task_convert_word(*, job_id: str) -> None:
    conversions.run(job_id)
