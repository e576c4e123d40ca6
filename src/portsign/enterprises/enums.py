from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class EnterpriseStatus(models.TextChoices):
    UNVERIFIED = "unverified", pgettext_lazy("enterprise", "Not verified")
    VERIFYING = "verifying", pgettext_lazy("enterprise", "Verification in progress")
    VERIFIED = "verified", pgettext_lazy("enterprise", "Verified")
    EXPIRED = "expired", pgettext_lazy("enterprise", "Expired (materials not completed)")


# Legal moves between statuses; anything else is a 409 (DESIGN rule 2).
ENTERPRISE_TRANSITIONS: dict[str, set[str]] = {
    EnterpriseStatus.UNVERIFIED: {
        EnterpriseStatus.VERIFYING,
        EnterpriseStatus.EXPIRED,
        EnterpriseStatus.VERIFIED,
    },
    EnterpriseStatus.VERIFYING: {
        EnterpriseStatus.UNVERIFIED,
        EnterpriseStatus.VERIFIED,
        EnterpriseStatus.EXPIRED,
    },
    EnterpriseStatus.VERIFIED: set(),
    EnterpriseStatus.EXPIRED: set(),
}


class VerificationMethod(models.TextChoices):
    MICRO_DEPOSIT = "micro_deposit", _("Micro-deposit to the corporate account")
    REVERSE_DEPOSIT = "reverse_deposit", _("Payment from the corporate account")
    LEGAL_REP_CARRIER3 = "legal_rep_carrier3", _("Legal representative's mobile number")
    LEGAL_REP_FACE = "legal_rep_face", _("Legal representative's face recognition")
    AUTHORIZATION_LETTER = "authorization_letter", _("Stamped authorization letter (manual review)")
    # After another method failed, a PortSign reviewer checks the materials (人工审核, SPEC B1).
    MANUAL_REVIEW = "manual_review", _("Manual review of the materials")


class DepositStatus(models.TextChoices):
    PAYING = "paying", pgettext_lazy("deposit", "Paying the small amount")
    AWAITING_AMOUNT = "awaiting_amount", pgettext_lazy("deposit", "Waiting for the amount")
    AWAITING_PAYMENT = "awaiting_payment", pgettext_lazy("deposit", "Waiting for the payment")
    VERIFIED = "verified", pgettext_lazy("deposit", "Verified")
    FAILED = "failed", pgettext_lazy("deposit", "Failed")
    EXPIRED = "expired", pgettext_lazy("deposit", "Expired")


class Permission(models.TextChoices):
    """What a role may do inside an enterprise."""

    MANAGE_MEMBERS = "manage_members", _("Manage members and roles")
    MANAGE_ENTERPRISE = "manage_enterprise", _("Manage enterprise information")
    MANAGE_SEALS = "manage_seals", _("Manage seals")
    USE_SEALS = "use_seals", _("Apply seals (sign for the enterprise)")
    SEND_CONTRACTS = "send_contracts", _("Send contracts")
    APPROVE = "approve", _("Approve seal use")
    VIEW_CONTRACTS = "view_contracts", _("View the enterprise's contracts")


class BuiltinRole(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    SEAL_MANAGER = "seal_manager", _("Seal manager")
    SIGNER = "signer", _("Signer")
    APPROVER = "approver", _("Approver")
    MEMBER = "member", _("Member")


BUILTIN_PERMISSIONS: dict[str, list[str]] = {
    BuiltinRole.ADMIN: list(Permission.values),
    BuiltinRole.SEAL_MANAGER: [Permission.MANAGE_SEALS, Permission.VIEW_CONTRACTS],
    BuiltinRole.SIGNER: [
        Permission.USE_SEALS,
        Permission.SEND_CONTRACTS,
        Permission.VIEW_CONTRACTS,
    ],
    BuiltinRole.APPROVER: [Permission.APPROVE, Permission.VIEW_CONTRACTS],
    BuiltinRole.MEMBER: [Permission.VIEW_CONTRACTS],
}


class JoinStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("join", "Waiting for approval")
    APPROVED = "approved", pgettext_lazy("join", "Approved")
    REJECTED = "rejected", pgettext_lazy("join", "Rejected")
    WITHDRAWN = "withdrawn", pgettext_lazy("join", "Withdrawn")


JOIN_TRANSITIONS: dict[str, set[str]] = {
    JoinStatus.PENDING: {JoinStatus.APPROVED, JoinStatus.REJECTED, JoinStatus.WITHDRAWN},
    JoinStatus.APPROVED: set(),
    JoinStatus.REJECTED: set(),
    JoinStatus.WITHDRAWN: set(),
}


class LegalRepStatus(models.TextChoices):
    AWAITING_CODE = "awaiting_code", pgettext_lazy("legal_rep", "Waiting for the code")
    AWAITING_FACE = "awaiting_face", pgettext_lazy("legal_rep", "Waiting for face recognition")
    VERIFIED = "verified", pgettext_lazy("legal_rep", "Verified")
    FAILED = "failed", pgettext_lazy("legal_rep", "Failed")
