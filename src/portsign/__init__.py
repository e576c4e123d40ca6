"""PortSign: electronic contracts and identity for the port and trade community."""

from .celery import app as celery_app

__all__ = ["celery_app"]
