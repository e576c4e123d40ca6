"""Thin tasks (DESIGN rule 6): fetch, call the domain, retry with back-off."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings

from portsign.webhooks.domain.deliveries import attempt


# The retry schedule bounds the attempts (the domain gives up after the last one), not Celery.
@shared_task(bind=True, max_retries=None)
def task_deliver_webhook(self: Any, *, delivery_id: str) -> None:
    retry_in = attempt(delivery_id)
    if retry_in is not None and not settings.CELERY_TASK_ALWAYS_EAGER:
        raise self.retry(countdown=retry_in)
    # Embedded mode: no broker to wait with. The retry stays due in the table, and
    # `manage.py webhooks deliver` or `manage.py cleanup` sends it once its time has come.
