"""Celery application. Without a broker every task runs eagerly in-process (embedded mode)."""

import gc
import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portsign.settings")

app = Celery("portsign")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_process_init.connect
def _freeze_startup_objects(**_kwargs: object) -> None:
    """As in wsgi.py: what a worker process loaded at start stays, out of the collector's way."""
    gc.freeze()
