"""Celery application. Without a broker every task runs eagerly in-process (embedded mode)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portsign.settings")

app = Celery("portsign")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
