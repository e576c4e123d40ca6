"""Enterprises, their members and roles, join requests and verification attempts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from portsign.common.ids import new_id
from portsign.enterprises.enums import (
    BuiltinRole,
    DepositStatus,
    EnterpriseStatus,
    JoinStatus,
    LegalRepStatus,
    Permission,
    VerificationMethod,
)


class Enterprise(models.Model):
    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    name = models.CharField(max_length=100)
    uscc = models.CharField(max_length=18)
    legal_rep_name = models.CharField(max_length=50)
    status = models.CharField(
        max_length=12, choices=EnterpriseStatus.choices, default=EnterpriseStatus.UNVERIFIED
    )
    main_admin = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Basic information lapses if verification is not completed by then (seed 000).
    materials_deadline = models.DateTimeField()
    verified_at = models.DateTimeField(null=True, blank=True)
    verification_method = models.CharField(max_length=20, blank=True)
    # Materials (SPEC B1): the business licence, and the legal representative's ID number, or —
    # when the applicant acts as an agent without it — the agent's own verified ID. Every
    # verification method needs them first (issue 16 item 7).
    licence_path = models.CharField(max_length=200, blank=True)
    licence_sha256 = models.CharField(max_length=64, blank=True)
    legal_rep_id_number = models.CharField(max_length=18, blank=True)
    applicant_is_agent = models.BooleanField(default=False)
    # Both sides of the ID card of the legal representative — or of the agent, who applies
    # with their own card when the legal representative's is not available (seed 002).
    id_front_path = models.CharField(max_length=200, blank=True)
    id_front_sha256 = models.CharField(max_length=64, blank=True)
    id_back_path = models.CharField(max_length=200, blank=True)
    id_back_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            # The same credit code cannot be verified twice (SPEC B1).
            models.UniqueConstraint(
                fields=["uscc"], condition=Q(status="verified"), name="uscc_verified_once"
            )
        ]
        indexes = [models.Index(fields=["uscc"])]

    def __str__(self) -> str:
        return self.name


class Role(models.Model):
    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="roles")
    key = models.CharField(max_length=40)  # built-in key, or "custom-<id>"
    name = models.CharField(max_length=50)
    builtin = models.BooleanField(default=False)
    permissions = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "key"], name="role_key_unique"),
            models.UniqueConstraint(fields=["enterprise", "name"], name="role_name_unique"),
        ]

    @property
    def display_name(self) -> str:
        """Built-in roles read in the viewer's language; custom roles as their author named them."""
        if self.builtin and self.key in BuiltinRole.values:
            return str(BuiltinRole(self.key).label)
        return self.name

    @property
    def permission_labels(self) -> list[str]:
        return [str(Permission(p).label) for p in self.permissions if p in Permission.values]


class Membership(models.Model):
    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="memberships")
    is_active = models.BooleanField(default=True)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "user"], name="membership_unique")
        ]


class Department(models.Model):
    """A department (部门) of an enterprise, optionally inside another of the same enterprise.

    Members belong to any number of departments; a seal held by a department may be applied by
    its members (seals.Seal.department). Deleting only sets `deleted_at`, so seal history and
    audit events keep pointing here; a deleted department's name is free again.
    """

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="departments")
    name = models.CharField(max_length=50)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # A removed member (deleted Membership) leaves its departments with it: the through rows
    # cascade. A disabled member stays listed but cannot act (rules.membership_of).
    members = models.ManyToManyField(Membership, related_name="departments", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "name"],
                condition=Q(deleted_at__isnull=True),
                name="department_name_unique_live",
            )
        ]
        indexes = [models.Index(fields=["enterprise", "deleted_at"])]

    def __str__(self) -> str:
        return self.name


class JoinRequest(models.Model):
    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.CASCADE, related_name="join_requests"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="join_requests"
    )
    reason = models.CharField(max_length=300)
    status = models.CharField(max_length=10, choices=JoinStatus.choices, default=JoinStatus.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decision_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # One open request per person and enterprise; closed ones stay as history.
            models.UniqueConstraint(
                fields=["enterprise", "user"],
                condition=Q(status="pending"),
                name="one_pending_join_request",
            )
        ]


class DepositVerification(models.Model):
    """A bank-transfer verification of an enterprise (SPEC B2), either direction."""

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.CASCADE, related_name="deposit_verifications"
    )
    method = models.CharField(max_length=20, choices=VerificationMethod.choices)
    status = models.CharField(max_length=20, choices=DepositStatus.choices)
    bank_name = models.CharField(max_length=100)
    bank_account = models.CharField(max_length=40)
    # Micro-deposit: HMAC of the amount PortSign paid. Reverse: the reference code to quote.
    amount_hash = models.CharField(max_length=64, blank=True)
    reference = models.CharField(max_length=16, blank=True)
    tries = models.PositiveSmallIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)


class Invitation(models.Model):
    """An administrator's invitation to a phone or e-mail address (SPEC B4)."""

    class Status(models.TextChoices):
        PENDING = "pending"
        ACCEPTED = "accepted"
        REVOKED = "revoked"

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="invitations")
    address = models.CharField(max_length=254)  # normalized phone or e-mail
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["address", "status"])]


class LegalRepVerification(models.Model):
    """Verification through the legal representative in person (SPEC B2): the three carrier
    elements plus a code sent to their phone, or a face check they complete themselves."""

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.CASCADE, related_name="legal_rep_verifications"
    )
    method = models.CharField(max_length=20)
    status = models.CharField(max_length=16, choices=LegalRepStatus.choices)
    legal_rep_id_number = models.CharField(max_length=18)
    phone = models.CharField(max_length=20, blank=True)
    face_session_id = models.CharField(max_length=100, blank=True)
    face_url = models.CharField(max_length=500, blank=True)
    provider_code = models.CharField(max_length=64, blank=True)
    # mismatch | provider_error | enterprise_closed | not_legal_rep (the registry names another)
    failure = models.CharField(max_length=16, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
