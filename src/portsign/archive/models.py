"""The archive cabinet (档案柜, SPEC 000): contracts an enterprise signed outside PortSign.

Each item is the signed or scanned PDF (stored content-addressed like every contract document)
with the facts the ledger (台账) lists. Items are soft-deleted: the audit log names them, and
the document stays readable for whoever keeps the audit trail.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from portsign.common.ids import new_id


class ArchivedContract(models.Model):
    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.CASCADE, related_name="archived_contracts"
    )
    # Who filed it; one-click transfer hands the item to the successor of a departing member.
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(max_length=200)
    contract_type = models.CharField(max_length=40, blank=True)  # free text, like 合同类型
    counterparties = models.JSONField(default=list)  # the other parties' names, in order
    # The names again, one a line: what `counterparty` and `q` search in, on any database.
    counterparty_text = models.TextField(blank=True)
    amount = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default="CNY")
    signed_on = models.DateField()
    valid_from = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)
    external_number = models.CharField(max_length=64, blank=True)  # the outside system's number
    notes = models.TextField(blank=True)
    document = models.ForeignKey(
        "contracts.Document", on_delete=models.PROTECT, related_name="archived_contracts"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-signed_on", "-created_at", "-id"]
        indexes = [
            models.Index(fields=["enterprise", "-signed_on"]),
            models.Index(fields=["enterprise", "uploaded_by"]),
        ]

    def __str__(self) -> str:
        return self.title
