"""The E-Port identity office (SPEC E1–E3): reviewing authorities, filings, operators.

Every office transaction is a Filing (API.md "E-Port identity office"): one row with a kind, its
data (the form, as JSON: each kind's fields are in `domain/forms.py`), its documents, the
authority it is addressed to, a status and its history.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from portsign.common.ids import new_id
from portsign.eport.enums import (
    AuthorityKind,
    AuthorityLevel,
    CardAction,
    CardKind,
    CardMedium,
    CardStatus,
    DocumentType,
    FilingKind,
    FilingStatus,
    OperatorStatus,
    ReviewState,
)


class Authority(models.Model):
    """审核单位: national ⊃ province ⊃ city, by GB/T 2260 division code (460000, 460100)."""

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    kind = models.CharField(max_length=10, choices=AuthorityKind.choices)
    code = models.CharField(max_length=6)
    name = models.CharField(max_length=100)
    level = models.CharField(max_length=10, choices=AuthorityLevel.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # Filings addressed to this authority itself (never its children's) are approved at once.
    auto_approve = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "code"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "code"], name="eport_authority_kind_code")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Reviewer(models.Model):
    """A PortSign user given the reviewer role of one authority by the back office."""

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    authority = models.ForeignKey(Authority, on_delete=models.CASCADE, related_name="reviewers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["authority", "user"], name="eport_reviewer_once")
        ]


class Operator(models.Model):
    """An operator in the enterprise's register (E2), entered when its filing is approved."""

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.CASCADE, related_name="eport_operators"
    )
    number = models.CharField(max_length=20, unique=True)  # 操作员统一编号, system-generated
    status = models.CharField(
        max_length=14, choices=OperatorStatus.choices, default=OperatorStatus.ACTIVE
    )
    # Searchable copies of the form's fields; `data` is the whole approved form.
    name = models.CharField(max_length=50)
    id_number = models.CharField(max_length=30)
    phone = models.CharField(max_length=30, blank=True)
    position = models.CharField(max_length=50, blank=True)
    data = models.JSONField(default=dict)
    registered_at = models.DateTimeField(auto_now_add=True)
    deregistered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["number"]


class Filing(models.Model):
    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.CASCADE, related_name="eport_filings"
    )
    kind = models.CharField(max_length=24, choices=FilingKind.choices)
    status = models.CharField(
        max_length=10, choices=FilingStatus.choices, default=FilingStatus.DRAFT
    )
    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, related_name="filings")
    data = models.JSONField(default=dict)
    # The operator a deregistration (or a change) is about.
    operator = models.ForeignKey(
        Operator, null=True, blank=True, on_delete=models.PROTECT, related_name="filings"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    declared_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    opinion = models.CharField(max_length=500, blank=True)
    auto_approved = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [
            models.Index(fields=["enterprise", "kind", "status"]),
            models.Index(fields=["authority", "status", "declared_at"]),
        ]


class FilingDocument(models.Model):
    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    filing = models.ForeignKey(Filing, on_delete=models.CASCADE, related_name="documents")
    type = models.CharField(max_length=24, choices=DocumentType.choices)
    name = models.CharField(max_length=200)
    path = models.CharField(max_length=300)
    sha256 = models.CharField(max_length=64)
    kind = models.CharField(max_length=4)  # jpeg | png | pdf
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]


class FilingEvent(models.Model):
    """The filing's history as its applicant and reviewers see it (the audit log has it too)."""

    id = models.BigAutoField(primary_key=True)
    filing = models.ForeignKey(Filing, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=20)  # created | edited | declared | approved | returned
    status = models.CharField(max_length=10, choices=FilingStatus.choices)  # after the action
    unit = models.CharField(max_length=10, blank=True)  # a joint-review unit's decision
    opinion = models.CharField(max_length=500, blank=True)
    auto = models.BooleanField(default=False)

    class Meta:
        ordering = ["at", "id"]


class JointReview(models.Model):
    """One unit's decision on a 三证合一 change (E3): the office and each 联审单位."""

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    filing = models.ForeignKey(Filing, on_delete=models.CASCADE, related_name="joint_reviews")
    unit = models.CharField(max_length=10, choices=AuthorityKind.choices)
    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(
        max_length=10, choices=ReviewState.choices, default=ReviewState.PENDING
    )
    opinion = models.CharField(max_length=500, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["filing", "unit"]
        constraints = [models.UniqueConstraint(fields=["filing", "unit"], name="eport_joint_once")]


class Card(models.Model):
    """An E-Port card (法人卡 / 操作员卡, seed 004): a PKCS#11 token whose key pair was made on
    it, with a certificate of ours for its holder. The token's label is the card number."""

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.PROTECT, related_name="eport_cards"
    )
    number = models.CharField(max_length=20, unique=True)
    kind = models.CharField(max_length=12, choices=CardKind.choices)
    medium = models.CharField(max_length=4, choices=CardMedium.choices, default=CardMedium.UKEY)
    status = models.CharField(max_length=10, choices=CardStatus.choices, default=CardStatus.ACTIVE)
    # The operator an operator card is for; empty for the legal-person card.
    operator = models.ForeignKey(
        Operator, null=True, blank=True, on_delete=models.PROTECT, related_name="cards"
    )
    # The PortSign account that holds the card (signs in and signs with it).
    holder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    holder_name = models.CharField(max_length=50)  # searchable copies
    holder_id_number = models.CharField(max_length=30)
    token_serial = models.CharField(max_length=32, blank=True)
    # The token's security-officer PIN, sealed in the vault: only the office's unlock uses it.
    # Empty once the card is cancelled.
    so_pin = models.ForeignKey(
        "pki.KeyRecord", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    certificate = models.ForeignKey(
        "pki.IssuedCertificate", on_delete=models.PROTECT, related_name="+"
    )
    # PIN state as the platform sees it; the PIN itself is never stored.
    pin_must_change = models.BooleanField(default=True)
    pin_failures = models.PositiveSmallIntegerField(default=0)
    pin_locked = models.BooleanField(default=False)
    replaces = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by"
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(auto_now_add=True)
    first_sign_in_at = models.DateTimeField(null=True, blank=True)
    # 不见面审批: mailed by the office, received by the enterprise.
    mail_recipient = models.CharField(max_length=50, blank=True)
    mail_phone = models.CharField(max_length=30, blank=True)
    mail_address = models.CharField(max_length=200, blank=True)
    tracking_number = models.CharField(max_length=30, blank=True)
    mailed_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    expiry_reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["number"]
        indexes = [models.Index(fields=["enterprise", "kind", "status"])]


class CardCertificate(models.Model):
    """Every certificate a card has had: the first, then one per extension."""

    id = models.BigAutoField(primary_key=True)
    card = models.ForeignKey(Card, on_delete=models.PROTECT, related_name="certificates")
    certificate = models.OneToOneField(
        "pki.IssuedCertificate", on_delete=models.PROTECT, related_name="card_binding"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    superseded_at = models.DateTimeField(null=True, blank=True)


class CardEvent(models.Model):
    """The card's history as the office and its enterprise see it (the audit log has it too)."""

    id = models.BigAutoField(primary_key=True)
    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=12, choices=CardAction.choices)
    status = models.CharField(max_length=10, choices=CardStatus.choices)  # after the action
    detail = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["at", "id"]


class CardPermission(models.Model):
    """A (subsystem, action) permission of an operator card (seed 004 附件2), granted by the
    enterprise's legal-person card; an empty district means every district."""

    id = models.BigAutoField(primary_key=True)
    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="permissions")
    subsystem = models.CharField(max_length=20)
    action = models.CharField(max_length=20)
    district = models.CharField(max_length=4, blank=True)

    class Meta:
        ordering = ["subsystem", "action", "district"]
        constraints = [
            models.UniqueConstraint(
                fields=["card", "subsystem", "action", "district"], name="eport_permission_once"
            )
        ]
