"""Contracts, their parties, documents and versions (SPEC D1–D6)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from portsign.common.ids import new_id
from portsign.contracts.enums import ContractStatus, Ordering, PartyKind, PartyStatus


class Document(models.Model):
    """An immutable PDF, stored content-addressed: a contract body, an attachment, a version."""

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    sha256 = models.CharField(max_length=64, unique=True)
    path = models.CharField(max_length=200)
    pages = models.PositiveIntegerField()
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)


class ContractType(models.Model):
    """An enterprise's own list of contract types (合同类型)."""

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.CASCADE, related_name="contract_types"
    )
    name = models.CharField(max_length=40)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "name"], name="contract_type_once")
        ]


class BusinessField(models.Model):
    """A business field (业务字段) an enterprise records on its contracts."""

    class Kind(models.TextChoices):
        TEXT = "text"
        NUMBER = "number"
        DATE = "date"

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.CASCADE, related_name="business_fields"
    )
    key = models.SlugField(max_length=40)
    label = models.CharField(max_length=40)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.TEXT)
    required = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "key"], name="business_field_once")
        ]


class Contract(models.Model):
    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    # 合同编号 for people, e.g. PS-2026-000123: given once at creation (domain/numbers.py) and
    # never changed. The id stays the key of URLs and the API.
    number = models.CharField(max_length=20, unique=True, editable=False)
    title = models.CharField(max_length=100)
    contract_type = models.ForeignKey(
        ContractType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The sender, and the identity they acted for (None: personally).
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sender_enterprise = models.ForeignKey(
        "enterprises.Enterprise", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=ContractStatus.choices, default=ContractStatus.DRAFT
    )
    ordering = models.CharField(
        max_length=10, choices=Ordering.choices, default=Ordering.SEQUENTIAL
    )
    deadline = models.DateTimeField(null=True, blank=True)
    business_fields = models.JSONField(default=dict)
    body = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="+")
    # The latest version: the body with attachments once sent, then each signed revision.
    current = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=300, blank=True)  # why revoked or rejected
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Set while one party's signature is being made, so parallel signers take turns.
    busy_until = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)  # the sender's last 催签
    # The agreement's own validity (有效期), for the 即将过期 box; not the signing deadline.
    valid_until = models.DateField(null=True, blank=True)
    # The app that runs this contract's signing ("eport": a declaration entrustment, signed
    # with E-Port cards); its parties sign, reject and revoke there, never here.
    managed_by = models.CharField(max_length=10, blank=True)
    # A void statement (作废声明) points at the contract it voids once completed.
    voids = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="void_statements"
    )

    class Meta:
        indexes = [
            models.Index(fields=["sender_enterprise", "status", "-created_at"]),
            models.Index(fields=["sender", "status", "-created_at"]),
            models.Index(fields=["status", "deadline"]),
        ]


class ContractNumberCounter(models.Model):
    """The last contract number given in one year (Beijing time). Its row is updated inside the
    transaction that creates the contract, so concurrent creations queue on it and a rolled back
    creation gives its number back: numbers have no gaps and never repeat."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)


class Attachment(models.Model):
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="attachments")
    name = models.CharField(max_length=100)
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["position"]


class Party(models.Model):
    """A signing party: an enterprise (any member allowed to apply its seals signs for it) or a
    person. Parties named by an account that has no PortSign account yet are invited, and
    matched when that account registers."""

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="parties")
    position = models.PositiveIntegerField()  # signing order, from 1
    kind = models.CharField(max_length=10, choices=PartyKind.choices)
    account = models.CharField(max_length=254)  # phone (E.164) or e-mail of the person to notify
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    enterprise_name = models.CharField(max_length=100, blank=True)
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # What this party must apply (SPEC D2).
    needs_seal = models.BooleanField(default=True)
    needs_legal_rep_seal = models.BooleanField(default=False)
    needs_signature = models.BooleanField(default=False)
    status = models.CharField(
        max_length=10, choices=PartyStatus.choices, default=PartyStatus.WAITING
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=300, blank=True)
    auto_reminded_at = models.DateTimeField(null=True, blank=True)  # before the deadline
    # Seal kinds applied in acts that did not finish the party's part (SPEC D5 完成签署):
    # space-separated; the requirements are checked against them and the finishing act.
    applied_kinds = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["position", "id"]
        indexes = [
            models.Index(fields=["user", "status"]),
            models.Index(fields=["enterprise", "status"]),
            models.Index(fields=["account", "status"]),
            # Parties named before their enterprise joined, linked when it is verified.
            models.Index(
                fields=["enterprise_name"],
                condition=Q(kind="enterprise", enterprise__isnull=True),
                name="party_unlinked_enterprise",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="person", enterprise__isnull=True) | Q(kind="enterprise"),
                name="person_party_has_no_enterprise",
            )
        ]


# Involvement columns the box filters read besides the status.
FILTERED = ["contract_type", "sent_at", "completed_at", "valid_until"]


class Involvement(models.Model):
    """Who has a contract in their boxes (SPEC D4), one row per contract and identity: its
    sender identity and each linked party's. Denormalised so a box page for one identity is a
    range scan of one index with LIMIT, and its total, filters included, an index-only count, at
    a million contracts; the alternative, "a party of it OR its sender", cannot use one index and
    made PostgreSQL read every completed contract (1.5 s for a busy enterprise's 已完成), and
    filtering on the contract's own columns read each of the identity's contracts (0.2–0.3 s).

    Kept in sync by domain/involvement.py, called where what it copies changes: the contract's
    status and times (move_status, the one place they change), its parties (drafts, void
    statements) and their linking to an account or enterprise (claim_invitations,
    link_enterprise_parties). Sender, type, created_at and valid_until are set at creation."""

    # "e:<enterprise id>" or "u:<user id>" (ids are 26 characters).
    identity = models.CharField(max_length=28)
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="involvements")
    # On the sender identity's row only: the member (or person) who sent it, for 我发起的.
    # No index of its own: involvement_sent starts with it.
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    # Copies of the contract's columns that boxes and their filters read.
    status = models.CharField(max_length=10, choices=ContractStatus.choices)
    created_at = models.DateTimeField()  # the boxes' order
    # No index of its own either: only deleting a contract type (rare, by an administrator)
    # looks rows up by it, to empty it as on the contract.
    contract_type = models.ForeignKey(
        ContractType,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["identity", "contract"], name="involvement_once")
        ]
        # The filter columns are INCLUDEd (PostgreSQL; SQLite ignores it and reads the row) so
        # a filtered total never leaves the index.
        indexes = [
            # A box: one identity, one status, newest first (the contract id breaks ties).
            models.Index(
                fields=["identity", "status", "-created_at", "-contract"],
                include=FILTERED,
                name="involvement_box",
            ),
            # 我发起的: what this member sent for this identity, any status but draft.
            models.Index(
                fields=["sender", "identity", "-created_at", "-contract"],
                include=["status", *FILTERED],
                condition=Q(sender__isnull=False),
                name="involvement_sent",
            ),
        ]


class Version(models.Model):
    """Each document state of a contract, oldest first; every one is kept."""

    class Kind(models.TextChoices):
        PREPARED = "prepared"  # the body with its attachments, as sent
        FILLED = "filled"  # a party's fill-in values drawn in, before anyone signs
        SIGNED = "signed"  # after one party's act
        ARCHIVED = "archived"  # validation data and a document timestamp added (B-LTA)

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="+")
    party = models.ForeignKey(
        Party, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "number"], name="version_number_once")
        ]


class SigningIntent(models.Model):
    """The marks a signer chose and the intent code sent for exactly them (SPEC D5)."""

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="intents")
    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    marks = models.JSONField()
    digest = models.CharField(max_length=64)  # the code's binding: contract, party and marks
    # Space-separated ids of the seals and signatures in `marks`, for "is this seal in use?".
    seal_ids = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    # Confirmation by QR code: the signer opens the link on a phone where they are signed in.
    by_qr = models.BooleanField(default=False)
    # Confirmation by face liveness through the real-name provider (刷脸): its session.
    face_session_id = models.CharField(max_length=64, blank=True)
    face_url = models.URLField(max_length=500, blank=True)  # the provider's page for it
    failure = models.CharField(max_length=20, blank=True)  # face_mismatch: ended, unconfirmed
    # Whether the act ends the party's part (完成签署); bound into `digest` with the marks.
    finish = models.BooleanField(default=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)


class SigningArea(models.Model):
    """Where the sender expects a party of an uploaded contract to seal, sign or date (issue 13
    item 11): a suggested mark on the signing page, and where 批量签署 places the seal.
    Contracts made from a template carry their template's areas instead."""

    class Kind(models.TextChoices):
        SEAL = "seal", _("Seal")
        SIGNATURE = "signature", _("Signature")
        DATE = "date", _("Date stamp")

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="areas")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.SEAL)
    page = models.PositiveIntegerField()
    x = models.FloatField()  # fractions of the displayed page, origin top-left
    y = models.FloatField()
    width = models.FloatField()
    height = models.FloatField()

    class Meta:
        ordering = ["page", "y", "x"]


class SigningBatch(models.Model):
    """批量签署 (SPEC D5, issue 13 item 16): one intent code for an exact list of (contract,
    party, marks), the same seal placed by each contract's signing areas."""

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    acting_as = models.CharField(max_length=26)
    items = models.JSONField()  # [{"contract": id, "party": id, "marks": [...]}] in order
    digest = models.CharField(max_length=64)  # the code's binding: the whole list
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    results = models.JSONField(default=list)  # [{"contract", "status", "error"}] once used


class ApprovalRule(models.Model):
    """需要审批: applying this seal — or any seal on contracts of this type — must first be
    approved by a member with the approver permission (issue 6 §3)."""

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.CASCADE, related_name="approval_rules"
    )
    seal = models.ForeignKey(
        "seals.Seal", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    contract_type = models.ForeignKey(
        ContractType, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(seal__isnull=False) | Q(contract_type__isnull=False),
                name="approval_rule_has_a_subject",
            )
        ]


class SealApproval(models.Model):
    """A request to apply a seal on one contract for one party, and its decision."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("approval", "Waiting for approval")
        APPROVED = "approved", pgettext_lazy("approval", "Approved")
        REJECTED = "rejected", pgettext_lazy("approval", "Refused")

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="approvals")
    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="+")
    seal = models.ForeignKey("seals.Seal", on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    comment = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "party", "seal"], name="one_approval_per_seal"
            )
        ]
        indexes = [models.Index(fields=["status", "party"])]


# Templates and bulk sends live in their own module (issue 6 §1–2); imported here so they are
# models of this app.
from portsign.contracts.template_models import (  # noqa: E402, F401
    BulkSend,
    BulkSendRow,
    PartyFill,
    Template,
    TemplateArea,
    TemplateContract,
    TemplateField,
    TemplateRole,
)
