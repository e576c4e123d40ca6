"""Cross-cutting tables: the hash-chained audit log, the notification outbox, Word conversions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from portsign.common.ids import new_id


class AuditEvent(models.Model):
    """One state change. Append-only: each row carries the SHA-256 of its predecessor."""

    seq = models.BigAutoField(primary_key=True)
    at = models.DateTimeField()
    actor_id = models.CharField(max_length=64, blank=True)
    acting_as = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    ip = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["actor_id", "at"]),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"


class AuditHead(models.Model):
    """A single row naming the newest event; locking it serialises appends to the chain
    and lets `audit verify` notice a deleted tail."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)


class Notification(models.Model):
    """Outbox row: written inside the business transaction, delivered after commit."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        # Past a notice budget: not sent on its own, waiting for the recipient's digest.
        HELD = "held", _("Held for a digest")
        # Told to the recipient in a digest instead.
        DIGESTED = "digested", _("Sent in a digest")

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    channel = models.CharField(max_length=8)
    to = models.CharField(max_length=254)
    # Who caused a notice ("e:<enterprise>" or "u:<user>"), for the notice budgets; empty
    # for what a person asked for themselves (codes), which has limits of its own.
    sender = models.CharField(max_length=40, blank=True)
    subject = models.CharField(max_length=200, blank=True)
    text = models.TextField()
    # Template parameters. May hold a one-time code: masked in every API that lists rows.
    data = models.JSONField(default=dict)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    provider_id = models.CharField(max_length=100, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["to", "created_at"]),
            models.Index(fields=["sender", "created_at"]),
        ]


class SandboxMessage(models.Model):
    """What the outside world received from a sandbox gateway (SMS inbox, mailbox, bank)."""

    id = models.BigAutoField(primary_key=True)
    to = models.CharField(max_length=254, db_index=True)
    channel = models.CharField(max_length=16)
    subject = models.CharField(max_length=200, blank=True)
    text = models.TextField()
    data = models.JSONField(default=dict)
    sent_at = models.DateTimeField(auto_now_add=True)


class IdempotencyRecord(models.Model):
    """The first answer to a write sent with an Idempotency-Key (API.md conventions)."""

    id = models.BigAutoField(primary_key=True)
    principal = models.CharField(max_length=64)  # who sent it: token hash, user or IP
    key = models.CharField(max_length=100)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=300)
    fingerprint = models.CharField(max_length=64)  # SHA-256 of the request body
    status = models.PositiveSmallIntegerField(null=True)  # null while the first is running
    # Who runs the write and until when: a claim whose lease lapsed (its worker died) is taken
    # over by the next retry; the holder saves its answer only while it still holds the lease.
    lease = models.CharField(max_length=32, blank=True)
    lease_until = models.DateTimeField(null=True)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(default=b"")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["principal", "key"], name="idempotency_unique_key")
        ]


class SandboxFaceSession(models.Model):
    """A liveness session of the sandbox real-name provider, confirmed on /sandbox/face/."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting for the person")
        PASSED = "passed", _("Passed")
        REJECTED = "rejected", _("Not the same person")

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    name = models.CharField(max_length=50)
    id_number_masked = models.CharField(max_length=18)
    return_url = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    created_at = models.DateTimeField(auto_now_add=True)


class SandboxBankAccount(models.Model):
    """An account the sandbox bank knows: the holder's name is fixed at the first transfer, so
    a later transfer naming another holder fails as it would at a real bank."""

    number = models.CharField(primary_key=True, max_length=40)
    holder = models.CharField(max_length=100)
    opened_at = models.DateTimeField(auto_now_add=True)


class RateCounter(models.Model):
    """Requests of one kind from one client in one fixed window, shared by every worker.

    Kept in the database so the limit holds across processes in embedded mode too, where the
    cache is per process (LocMem): one address once got twice its verify allowance that way.
    """

    id = models.BigAutoField(primary_key=True)
    scope = models.CharField(max_length=32)  # what is counted, e.g. "verify"
    key = models.CharField(max_length=128)  # who is counted, e.g. an IP address
    window = models.BigIntegerField()  # the window's start, in seconds since the epoch
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "key", "window"], name="rate_counter_unique_window"
            )
        ]
        indexes = [models.Index(fields=["window"], name="rate_counter_window")]


class Conversion(models.Model):
    """A Word document being converted to PDF by a worker (issue 11 item 4).

    The upload answers at once with this row; the console follows `status` and `progress` and
    then names the conversion instead of a file when it creates the draft or attachment.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", pgettext_lazy("conversion", "Waiting for a converter")
        CONVERTING = "converting", pgettext_lazy("conversion", "Converting")
        DONE = "done", pgettext_lazy("conversion", "Converted")
        FAILED = "failed", pgettext_lazy("conversion", "Failed")

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    source_path = models.CharField(max_length=300)
    result_path = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)  # percent, by stage
    pages = models.PositiveIntegerField(null=True, blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]
