"""Webhook endpoints of an enterprise and the outbox of their deliveries (issue 6 §7)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portsign.common.ids import new_id


class Endpoint(models.Model):
    """A callback URL an enterprise registered, and the contract events it wants."""

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.CASCADE, related_name="webhooks"
    )
    url = models.CharField(max_length=500)
    events = models.JSONField(default=list)  # names from domain.endpoints.ALL_EVENTS
    active = models.BooleanField(default=True)
    # The signing secret, sealed in the vault: never stored in clear, shown once.
    secret = models.ForeignKey("pki.KeyRecord", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    secret_rotated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]


class Delivery(models.Model):
    """One event for one endpoint: written in the event's transaction, sent after commit.

    The body is fixed when the row is written, so every attempt sends the same bytes and the
    same delivery id; only the timestamp (and so the signature) differs between attempts.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=24)
    contract_id = models.CharField(max_length=26, blank=True)  # blank for E-Port filing events
    payload = models.TextField()  # the exact JSON body
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # When the next attempt is due; while an attempt runs, the end of its lease.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    last_response = models.CharField(max_length=200, blank=True)  # the receiver's first words
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["endpoint", "-created_at"]),
        ]
