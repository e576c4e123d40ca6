"""Contract templates (模板) with fill-in fields and signing areas, the contracts made from them,
and bulk sends (批量发送) of one template to many rows (issue 6 §1–2).

Imported at the end of `contracts/models.py`, so these are models of the contracts app.
Positions are fractions of the displayed page, origin top-left, like signing marks.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from portsign.common.ids import new_id
from portsign.contracts.enums import Ordering


class FieldKind(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    CHECKBOX = "checkbox", _("Checkbox")


class FilledBy(models.TextChoices):
    """Who gives a field's value: the sender's side when the contract is made, or a signing
    party (the field's role) after it is sent and before anyone signs — a value written after
    the first signature would break that signature."""

    SENDER = "sender", _("The sender")
    API = "api", _("The sending platform (API)")
    PARTY = "party", _("A signing party")


class DateFormat(models.TextChoices):
    ISO = "YYYY-MM-DD", "2026-05-01"
    SLASH = "YYYY/MM/DD", "2026/05/01"
    CHINESE = "YYYY年M月D日", "2026年5月1日"


class AreaKind(models.TextChoices):
    SEAL = "seal", _("Seal")
    SIGNATURE = "signature", _("Signature")
    DATE = "date", _("Date stamp")


class Template(models.Model):
    """An enterprise's contract template: a PDF with fields and signing areas per role."""

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.CASCADE, related_name="contract_templates"
    )
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    document = models.ForeignKey("contracts.Document", on_delete=models.PROTECT, related_name="+")
    contract_type = models.ForeignKey(
        "contracts.ContractType", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ordering = models.CharField(
        max_length=10, choices=Ordering.choices, default=Ordering.SEQUENTIAL
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Deleting archives: contracts and bulk sends made from it keep pointing at it.
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "name"],
                condition=Q(archived_at__isnull=True),
                name="template_name_once",
            )
        ]


class TemplateRole(models.Model):
    """A signing role (甲方, 乙方 …); its order is the party's signing order."""

    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="roles")
    name = models.CharField(max_length=20)
    order = models.PositiveIntegerField()
    # The sending enterprise itself signs in this role: its party is added automatically.
    is_sender = models.BooleanField(default=False)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["template", "name"], name="template_role_once")
        ]


class TemplateField(models.Model):
    """A fill-in field drawn onto the page before anyone signs."""

    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="fields")
    position = models.PositiveIntegerField()  # the order fields are listed in
    key = models.CharField(max_length=40)
    label = models.CharField(max_length=40)
    kind = models.CharField(max_length=10, choices=FieldKind.choices, default=FieldKind.TEXT)
    required = models.BooleanField(default=False)
    filled_by = models.CharField(max_length=10, choices=FilledBy.choices, default=FilledBy.SENDER)
    # The role whose party fills the field in (filled_by = party only).
    role = models.ForeignKey(
        TemplateRole, null=True, blank=True, on_delete=models.CASCADE, related_name="fields"
    )
    max_length = models.PositiveIntegerField(null=True, blank=True)  # text
    min_value = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    max_value = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    decimals = models.PositiveIntegerField(null=True, blank=True)  # number: most decimal places
    date_format = models.CharField(
        max_length=12, choices=DateFormat.choices, default=DateFormat.ISO
    )
    page = models.PositiveIntegerField()
    x = models.FloatField()
    y = models.FloatField()
    width = models.FloatField()
    height = models.FloatField()

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["template", "key"], name="template_field_once")
        ]


class TemplateArea(models.Model):
    """Where a role is expected to seal, sign or date: a suggested mark on the signing page."""

    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="areas")
    role = models.ForeignKey(TemplateRole, on_delete=models.CASCADE, related_name="areas")
    kind = models.CharField(max_length=10, choices=AreaKind.choices, default=AreaKind.SEAL)
    page = models.PositiveIntegerField()
    x = models.FloatField()
    y = models.FloatField()
    width = models.FloatField()
    height = models.FloatField()

    class Meta:
        ordering = ["page", "y", "id"]


class TemplateContract(models.Model):
    """A contract made from a template: the values drawn into it and the suggested marks of
    each party (by party id), copied so later template edits change nothing here."""

    contract = models.OneToOneField(
        "contracts.Contract", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    template = models.ForeignKey(Template, on_delete=models.PROTECT, related_name="contracts")
    values = models.JSONField(default=dict)
    suggested_marks = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)


class PartyFill(models.Model):
    """The fields one party of a contract fills in (filled_by = party): after sending, before
    anyone signs. While any is unfilled, only the parties that fill are asked (待我签署) and
    nobody can sign; each fill draws its values into a new version; the last one starts the
    signing. The field definitions are copied, so later template edits change nothing here."""

    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.CASCADE, related_name="fills"
    )
    party = models.OneToOneField("contracts.Party", on_delete=models.CASCADE, related_name="fill")
    role = models.CharField(max_length=20)
    fields = models.JSONField()  # [{key, label, kind, required, …, page, x, y, width, height}]
    values = models.JSONField(default=dict)
    filled_at = models.DateTimeField(null=True, blank=True)
    filled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["contract", "filled_at"])]


class BulkStatus(models.TextChoices):
    QUEUED = "queued", pgettext_lazy("bulk send", "Queued")
    RUNNING = "running", pgettext_lazy("bulk send", "Sending")
    FINISHED = "finished", pgettext_lazy("bulk send", "Finished")


class RowStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("bulk row", "Waiting")
    SENT = "sent", pgettext_lazy("bulk row", "Sent")
    FAILED = "failed", pgettext_lazy("bulk row", "Failed")


class BulkSend(models.Model):
    """One template × one uploaded sheet of rows → one contract per row, sent."""

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    template = models.ForeignKey(Template, on_delete=models.PROTECT, related_name="bulk_sends")
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sender_enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.PROTECT, related_name="+"
    )
    # SHA-256 of template, sender, file and options: the same upload finds the same job.
    batch_key = models.CharField(max_length=64, unique=True)
    file_name = models.CharField(max_length=200)
    file_sha256 = models.CharField(max_length=64)
    title = models.CharField(max_length=100, blank=True)  # default title of the contracts
    deadline = models.DateTimeField(null=True, blank=True)  # default signing deadline
    status = models.CharField(max_length=10, choices=BulkStatus.choices, default=BulkStatus.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Touched after every row; a job unfinished and silent for long was interrupted.
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["template", "-created_at"])]


class BulkSendRow(models.Model):
    job = models.ForeignKey(BulkSend, on_delete=models.CASCADE, related_name="rows")
    row = models.PositiveIntegerField()  # as the spreadsheet numbers it: the header is row 1
    values = models.JSONField()  # column → cell text
    status = models.CharField(max_length=10, choices=RowStatus.choices, default=RowStatus.PENDING)
    # Set in the transaction that created the contract, so a retry never makes a second one.
    contract = models.ForeignKey(
        "contracts.Contract", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    error_code = models.CharField(max_length=40, blank=True)
    error = models.CharField(max_length=500, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["row"]
        constraints = [models.UniqueConstraint(fields=["job", "row"], name="bulk_row_once")]
        indexes = [models.Index(fields=["job", "status", "row"])]


__all__ = [
    "AreaKind",
    "BulkSend",
    "BulkSendRow",
    "BulkStatus",
    "DateFormat",
    "FieldKind",
    "FilledBy",
    "PartyFill",
    "RowStatus",
    "Template",
    "TemplateArea",
    "TemplateContract",
    "TemplateField",
    "TemplateRole",
]
