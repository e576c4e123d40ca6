"""Seals and personal signatures (SPEC C1–C4), their holders, their uses, and seal scans."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from portsign.common.ids import new_id


class SealKind(models.TextChoices):
    OFFICIAL = "official", _("Official seal")
    CONTRACT = "contract", _("Contract seal")
    FINANCE = "finance", _("Finance seal")
    LEGAL_REP = "legal_rep", _("Legal representative's seal")
    HR = "hr", _("HR seal")
    SIGNATURE = "signature", _("Personal signature")


class SealSource(models.TextChoices):
    GENERATED = "generated", pgettext_lazy("seal source", "Generated")
    UPLOADED = "uploaded", pgettext_lazy("seal source", "Uploaded")
    EXTRACTED = "extracted", pgettext_lazy("seal source", "Extracted from a scan")
    DRAWN = "drawn", pgettext_lazy("seal source", "Drawn by hand")


class SealStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("seal", "In use")
    DISABLED = "disabled", pgettext_lazy("seal", "Disabled")


class Seal(models.Model):
    """An enterprise seal, or (with `owner` instead of `enterprise`) a personal signature.

    Deleting only sets `deleted_at`: the use log and signed contracts keep pointing here.
    """

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="seals",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="signatures",
    )
    # A department seal (部门印章, seed 003): still the enterprise's seal, held by one of its
    # departments, whose members may apply it (domain/holders.py).
    department = models.ForeignKey(
        "enterprises.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="seals",
    )
    kind = models.CharField(max_length=12, choices=SealKind.choices)
    name = models.CharField(max_length=40)  # the label people pick it by
    shape = models.CharField(max_length=8, blank=True)  # round | oval | square (generated)
    code = models.CharField(max_length=13, blank=True)  # 13-digit seal code on the lower arc
    source = models.CharField(max_length=10, choices=SealSource.choices)
    status = models.CharField(max_length=10, choices=SealStatus.choices, default=SealStatus.ACTIVE)
    image_path = models.CharField(max_length=200)
    image_sha256 = models.CharField(max_length=64)
    # Physical size, so a mark prints at the seal's true size.
    width_mm = models.DecimalField(max_digits=5, decimal_places=1)
    height_mm = models.DecimalField(max_digits=5, decimal_places=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(enterprise__isnull=True, owner__isnull=False)
                | Q(enterprise__isnull=False, owner__isnull=True),
                name="seal_belongs_to_enterprise_or_person",
            ),
            models.CheckConstraint(
                condition=Q(department__isnull=True) | Q(enterprise__isnull=False),
                name="department_seal_is_an_enterprise_seal",
            ),
        ]
        indexes = [
            models.Index(fields=["enterprise", "deleted_at"]),
            models.Index(fields=["owner", "deleted_at"]),
        ]

    def __str__(self) -> str:
        return self.name


class SealGrant(models.Model):
    """A seal held by one member (持有人) or by everyone in a role (持有角色)."""

    seal = models.ForeignKey(Seal, on_delete=models.CASCADE, related_name="grants")
    member = models.ForeignKey(
        "enterprises.Membership", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    role = models.ForeignKey(
        "enterprises.Role", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(member__isnull=True, role__isnull=False)
                | Q(member__isnull=False, role__isnull=True),
                name="grant_to_member_or_role",
            ),
            models.UniqueConstraint(
                fields=["seal", "member"],
                condition=Q(member__isnull=False),
                name="grant_member_once",
            ),
            models.UniqueConstraint(
                fields=["seal", "role"], condition=Q(role__isnull=False), name="grant_role_once"
            ),
        ]


class SealUse(models.Model):
    """One application of a seal or signature (SPEC C4: every use is logged)."""

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    seal = models.ForeignKey(Seal, on_delete=models.PROTECT, related_name="uses")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The document the seal went on (a contract id once contracts exist) and what it was for.
    subject_type = models.CharField(max_length=20)
    subject_id = models.CharField(max_length=26)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["seal", "-created_at"])]


class ScanStatus(models.TextChoices):
    PROCESSING = "processing", pgettext_lazy("seal scan", "Processing")
    AWAITING_CONFIRMATION = "awaiting", pgettext_lazy("seal scan", "Waiting for confirmation")
    COMPLETED = "completed", pgettext_lazy("seal scan", "Completed")
    RETURNED = "returned", pgettext_lazy("seal scan", "Returned")


class SealScan(models.Model):
    """Seal pre-processing (签章预处理, SPEC C3): a scanned collection form whose red seal is
    extracted automatically, then confirmed by a reviewer before it becomes a usable seal."""

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.PROTECT, related_name="seal_scans"
    )
    kind = models.CharField(max_length=12, choices=SealKind.choices)
    name = models.CharField(max_length=40)
    status = models.CharField(
        max_length=10, choices=ScanStatus.choices, default=ScanStatus.PROCESSING
    )
    scan_path = models.CharField(max_length=200)
    scan_sha256 = models.CharField(max_length=64)
    extracted_path = models.CharField(max_length=200, blank=True)
    extracted_sha256 = models.CharField(max_length=64, blank=True)
    width_mm = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    height_mm = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    reason = models.CharField(max_length=300, blank=True)  # why it was returned
    seal = models.OneToOneField(
        Seal, null=True, blank=True, on_delete=models.PROTECT, related_name="scan"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["enterprise", "-created_at"])]
