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
    AgreementStatus,
    AuthorityKind,
    AuthorityLevel,
    CardAction,
    CardKind,
    CardMedium,
    CardStatus,
    DocumentType,
    EntrustmentSide,
    EntrustmentStatus,
    FilingKind,
    FilingStatus,
    OperatorStatus,
    ReviewState,
)


class Authority(models.Model):
    """审核单位: national ⊃ province ⊃ city, by GB/T 2260 division code (460000, 460100)."""

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    kind = models.CharField(max_length=12, choices=AuthorityKind.choices)
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
    unit = models.CharField(max_length=12, blank=True)  # a joint-review unit's decision
    opinion = models.CharField(max_length=500, blank=True)
    auto = models.BooleanField(default=False)

    class Meta:
        ordering = ["at", "id"]


class JointReview(models.Model):
    """One unit's decision on a 三证合一 change (E3): the office and each 联审单位."""

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    filing = models.ForeignKey(Filing, on_delete=models.CASCADE, related_name="joint_reviews")
    unit = models.CharField(max_length=12, choices=AuthorityKind.choices)
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


class District(models.Model):
    """关区 (EPORT.md §4.3): XX00 is a direct customs (直属海关), XX01… its offices. Loaded
    from `eport/data/customs_districts.csv`; the back office assigns each direct customs to
    the customs authority whose reviewers act for it."""

    code = models.CharField(primary_key=True, max_length=4)
    name = models.CharField(max_length=50)
    direct = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="offices"
    )  # empty for a direct customs itself
    authority = models.ForeignKey(
        Authority, null=True, blank=True, on_delete=models.PROTECT, related_name="districts"
    )

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class PaperlessAgreement(models.Model):
    """通关无纸化三方协议 (SPEC E6, seed 001): one per enterprise and direct customs district,
    signed with the enterprise's legal-person card and decided by that customs."""

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.PROTECT, related_name="paperless_agreements"
    )
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="agreements")
    status = models.CharField(max_length=16, choices=AgreementStatus.choices)
    card = models.ForeignKey(Card, on_delete=models.PROTECT, related_name="agreements")
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(auto_now_add=True)
    # The signed PDF in the default storage.
    path = models.CharField(max_length=300)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    received_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    opinion = models.CharField(max_length=500, blank=True)
    terminated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-signed_at", "id"]
        constraints = [
            # A district already signed (and not returned or terminated) cannot be signed again.
            models.UniqueConstraint(
                fields=["enterprise", "district"],
                condition=models.Q(status__in=["sent_to_customs", "received", "approved"]),
                name="eport_agreement_live_once",
            )
        ]
        indexes = [models.Index(fields=["district", "status", "signed_at"])]


class AgreementEvent(models.Model):
    """The agreement's history as the enterprise and customs see it (the audit log has it too)."""

    id = models.BigAutoField(primary_key=True)
    agreement = models.ForeignKey(
        PaperlessAgreement, on_delete=models.CASCADE, related_name="events"
    )
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=10)  # sign | receive | approve | return | terminate
    status = models.CharField(max_length=16, choices=AgreementStatus.choices)  # after it
    opinion = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]


class Broker(models.Model):
    """A customs broker (报关企业) whose 报关单位信息登记 the brokers association approved: only
    such an enterprise is found, initiates or confirms declaration entrustments."""

    enterprise = models.OneToOneField(
        "enterprises.Enterprise", primary_key=True, on_delete=models.PROTECT, related_name="broker"
    )
    customs_code = models.CharField(max_length=10, unique=True)  # 海关注册编码
    organization_code = models.CharField(max_length=9)  # 组织机构代码 (USCC positions 9–17)
    filing = models.ForeignKey(Filing, on_delete=models.PROTECT, related_name="+")
    registered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["customs_code"]


class AutoConfirmation(models.Model):
    """自动确认: a consignor's standing authorization to confirm one broker's entrustments at
    once, signed with this enterprise seal (recorded, revocable)."""

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    consignor = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.PROTECT, related_name="+"
    )
    broker = models.ForeignKey(Broker, on_delete=models.PROTECT, related_name="+")
    seal = models.ForeignKey("seals.Seal", on_delete=models.PROTECT, related_name="+")
    authorized_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    card = models.ForeignKey(Card, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["consignor", "broker"],
                condition=models.Q(revoked_at__isnull=True),
                name="eport_auto_confirmation_once",
            )
        ]


class Entrustment(models.Model):
    """代理报关委托 (SPEC E6): a 代理报关委托书 with one or more 委托报关协议, as a contract of
    the consignor and the broker signed with their operator cards."""

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    number = models.CharField(max_length=24, unique=True)  # 委托书编号, quoted in declarations
    consignor = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.PROTECT, related_name="entrustments_given"
    )
    broker = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.PROTECT, related_name="entrustments_taken"
    )
    initiator = models.CharField(max_length=10, choices=EntrustmentSide.choices)
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    valid_until = models.DateField()
    status = models.CharField(max_length=24, choices=EntrustmentStatus.choices)
    goods = models.JSONField(default=list)  # the 委托报关协议, as cleaned
    # Where each side's signature goes in the PDF: {"consignor": {page, x, y, width, height}}.
    boxes = models.JSONField(default=dict)
    contract = models.OneToOneField(
        "contracts.Contract", on_delete=models.PROTECT, related_name="entrustment"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    initiator_card = models.ForeignKey(Card, on_delete=models.PROTECT, related_name="+")
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmer_card = models.ForeignKey(
        Card, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    auto_confirmation = models.ForeignKey(
        AutoConfirmation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [
            models.Index(fields=["consignor", "status", "created_at"]),
            models.Index(fields=["broker", "status", "created_at"]),
            models.Index(fields=["status", "valid_until"]),
        ]


class EntrustmentEvent(models.Model):
    id = models.BigAutoField(primary_key=True)
    entrustment = models.ForeignKey(Entrustment, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=12)  # create | confirm | refuse | revoke | expire
    status = models.CharField(max_length=24, choices=EntrustmentStatus.choices)
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]
