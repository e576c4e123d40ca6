"""The back office's queue of manual reviews (后台审核)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import pgettext_lazy

from portsign.common.ids import new_id


class ReviewStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("review", "Waiting for review")
    APPROVED = "approved", pgettext_lazy("review", "Approved")
    RETURNED = "returned", pgettext_lazy("review", "Returned")


class Review(models.Model):
    """One submission a PortSign reviewer must look at, e.g. an authorization letter."""

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    kind = models.CharField(max_length=40)  # a key of backoffice.registry
    subject_id = models.CharField(max_length=26)  # the object the kind's handler acts on
    title = models.CharField(max_length=200)
    files = models.JSONField(default=list)  # [{"label", "path", "kind"}]
    details = models.JSONField(default=dict)  # facts shown to the reviewer
    status = models.CharField(
        max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.PENDING
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(auto_now_add=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    opinion = models.CharField(max_length=500, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "submitted_at"]),
            models.Index(fields=["kind", "subject_id"]),
        ]
