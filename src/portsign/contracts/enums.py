"""Contract and party statuses, and the one table of legal contract transitions (SPEC D3)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ContractStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("contract", "Draft")
    SIGNING = "signing", pgettext_lazy("contract", "Signing")
    COMPLETED = "completed", pgettext_lazy("contract", "Completed")
    EXPIRED = "expired", pgettext_lazy("contract", "Expired unsigned")
    REVOKED = "revoked", pgettext_lazy("contract", "Revoked")
    REJECTED = "rejected", pgettext_lazy("contract", "Rejected")
    VOIDED = "voided", pgettext_lazy("contract", "Voided")


# Every legal move; anything else is a 409 (DESIGN rule 2).
CONTRACT_TRANSITIONS: dict[str, set[str]] = {
    ContractStatus.DRAFT: {ContractStatus.SIGNING},
    ContractStatus.SIGNING: {
        ContractStatus.COMPLETED,
        ContractStatus.EXPIRED,
        ContractStatus.REVOKED,
        ContractStatus.REJECTED,
    },
    # Only by a void statement that every party signed (issue 6 §4).
    ContractStatus.COMPLETED: {ContractStatus.VOIDED},
    ContractStatus.EXPIRED: set(),
    ContractStatus.REVOKED: set(),
    ContractStatus.REJECTED: set(),
    ContractStatus.VOIDED: set(),
}
OPEN_STATUSES = (ContractStatus.DRAFT, ContractStatus.SIGNING)


class PartyKind(models.TextChoices):
    ENTERPRISE = "enterprise", _("Enterprise")
    PERSON = "person", _("Person")


class PartyStatus(models.TextChoices):
    WAITING = "waiting", pgettext_lazy("party", "Waiting for earlier parties")
    PENDING = "pending", pgettext_lazy("party", "To sign")
    SIGNED = "signed", pgettext_lazy("party", "Signed")
    REJECTED = "rejected", pgettext_lazy("party", "Rejected")


class Ordering(models.TextChoices):
    SEQUENTIAL = "sequential", _("In order")
    PARALLEL = "parallel", _("In parallel")


class Box(models.TextChoices):
    """The lists of SPEC D4, for the acting identity."""

    TO_SIGN = "to_sign", _("Waiting for me")
    OTHERS_TO_SIGN = "others_to_sign", _("Waiting for others")
    COMPLETED = "completed", _("Completed")
    SENT = "sent", _("Sent by me")
    DRAFTS = "drafts", _("Drafts")
    DUE_SOON = "due_soon", _("Deadline soon")
    TO_APPROVE = "to_approve", _("Waiting for my approval")
    VOIDED = "voided", _("Voided")
    EXPIRING = "expiring", _("Validity ends soon")
