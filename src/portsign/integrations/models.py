"""Enterprise API keys (API.md "Enterprise API keys", SPEC B6)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from portsign.common.ids import new_id


class ApiKey(models.Model):
    """A bearer key a platform uses to act as an enterprise, within its scopes.

    Only the key's SHA-256 is stored; the prefix lets an administrator recognise it. The key
    acts through a service account of its own (`user`): a member of the enterprise whose role
    carries the scopes' permissions, so every endpoint's tenancy and permission checks apply to
    it exactly as to a person, and the audit trail names it like any actor. Revoking keeps the
    row (audit events point at its id) and deactivates the membership.
    """

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.CASCADE, related_name="api_keys"
    )
    # PROTECT: the service account is the key's identity in contracts and the audit log.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="enterprise_api_key"
    )
    name = models.CharField(max_length=40)
    scopes = models.JSONField(default=list)  # values of enums.ApiKeyScope, canonical order
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["enterprise", "created_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class Binding(models.Model):
    """A person's consent that a business platform (an OAuth client) acts for them — as one
    of their enterprises, or as themselves when `enterprise` is empty (SPEC B6, seed 000's
    "账号绑定"). One live binding per person and platform: binding again replaces it.

    The platform's tokens are DOT's own rows for (user, application); they count only while
    the binding is live, and revoking it deletes them (integrations.domain.bindings).
    """

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="platform_bindings"
    )
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="platform_bindings",
    )
    application = models.ForeignKey(
        "oauth2_provider.Application", on_delete=models.CASCADE, related_name="bindings"
    )
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "application"],
                condition=models.Q(revoked_at__isnull=True),
                name="one_live_binding_per_platform",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.application_id}"


class SigningReturn(models.Model):
    """A platform's request to have its user sent back after signing a contract (seed 002's
    "return to the calling platform"): where to, and the platform's opaque `state`."""

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    binding = models.ForeignKey(Binding, on_delete=models.CASCADE, related_name="returns")
    contract_id = models.CharField(max_length=26)
    return_url = models.URLField(max_length=500)
    state = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    returned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
