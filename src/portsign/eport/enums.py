"""The E-Port identity office's vocabularies (SPEC E1–E3, EPORT.md §3.4, seeds 001 and 004)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AuthorityLevel(models.TextChoices):
    NATIONAL = "national", _("National")
    PROVINCE = "province", _("Province")
    CITY = "city", _("City")


class AuthorityKind(models.TextChoices):
    """The E-Port office that receives filings (数据分中心 / 操作中心), and the joint-review units
    (联审单位) that also decide a 三证合一 change."""

    OFFICE = "office", _("E-Port office")
    CUSTOMS = "customs", _("Customs")
    FOREX = "forex", _("Foreign exchange bureau")
    COMMERCE = "commerce", _("Commerce department")
    # 报关协会: confirms a customs broker's 报关单位信息登记 (EPORT.md §4.2).
    ASSOCIATION = "association", _("Customs brokers association")


class FilingKind(models.TextChoices):
    ENTERPRISE_INFO = "enterprise_info", _("Unified enterprise information (三证合一)")
    CUSTOMS = "customs", _("Customs filing")
    FOREX = "forex", _("Foreign-exchange filing")
    COMMERCE = "commerce", _("Foreign-trade operator filing")
    OPERATOR = "operator", _("Operator pre-registration")
    OPERATOR_DEREGISTRATION = "operator_deregistration", _("Operator deregistration")
    ENTERPRISE_INFO_CHANGE = "enterprise_info_change", _("Change of enterprise information")
    CARD_PERMISSIONS = "card_permissions", _("Operator card permissions")
    BROKER_REGISTRATION = "broker_registration", _("Customs broker registration (报关单位信息登记)")


# The four onboarding filings an enterprise makes once each (seed 004 §2).
ONBOARDING = (FilingKind.ENTERPRISE_INFO, FilingKind.CUSTOMS, FilingKind.FOREX, FilingKind.COMMERCE)


class FilingStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("filing", "Saved")
    DECLARED = "declared", pgettext_lazy("filing", "Declared")
    APPROVED = "approved", pgettext_lazy("filing", "Approved")
    RETURNED = "returned", pgettext_lazy("filing", "Returned")


class DocumentType(models.TextChoices):
    BUSINESS_LICENCE = "business_licence", _("Business licence (营业执照)")
    CUSTOMS_REGISTRATION = "customs_registration", _("Customs registration certificate")
    TRADE_OPERATOR_FORM = "trade_operator_form", _("Foreign-trade operator filing form")
    LEGAL_PERSON_ID = "legal_person_id", _("Legal person's ID document")
    OPERATOR_ID = "operator_id", _("Operator's ID document")
    CARD_FORM = "card_form", _("IC card registration form")
    COURIER_FORM = "courier_form", _("Courier hand-over form")
    OTHER = "other", _("Other")


class ReviewState(models.TextChoices):
    PENDING = "pending", pgettext_lazy("joint review", "Waiting")
    APPROVED = "approved", pgettext_lazy("joint review", "Approved")
    RETURNED = "returned", pgettext_lazy("joint review", "Returned")


class OperatorStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("operator", "Registered")
    DEREGISTERING = "deregistering", pgettext_lazy("operator", "Deregistration declared")
    DEREGISTERED = "deregistered", pgettext_lazy("operator", "Deregistered")


class CardKind(models.TextChoices):
    LEGAL_PERSON = "legal_person", _("Legal-person card")
    OPERATOR = "operator", _("Operator card")


class CardMedium(models.TextChoices):
    UKEY = "ukey", _("UKey (IKEY)")
    IC = "ic", _("IC card")


class CardStatus(models.TextChoices):
    """The card's lifecycle (EPORT.md §3.2). A locked PIN and expiry are shown beside it:
    a lost card may also be locked, and any card expires."""

    ACTIVE = "active", pgettext_lazy("card", "In use")
    LOST = "lost", pgettext_lazy("card", "Reported lost")
    FROZEN = "frozen", pgettext_lazy("card", "Frozen")
    CANCELLED = "cancelled", pgettext_lazy("card", "Cancelled")


class CardAction(models.TextChoices):
    ISSUE = "issue", pgettext_lazy("card action", "Issued")
    REPORT_LOSS = "report_loss", pgettext_lazy("card action", "Reported lost")
    CANCEL_LOSS = "cancel_loss", pgettext_lazy("card action", "Loss report cancelled")
    FREEZE = "freeze", pgettext_lazy("card action", "Frozen")
    UNFREEZE = "unfreeze", pgettext_lazy("card action", "Unfrozen")
    CANCEL = "cancel", pgettext_lazy("card action", "Cancelled")
    EXTEND = "extend", pgettext_lazy("card action", "Extended")
    REPLACE = "replace", pgettext_lazy("card action", "Replaced")
    LOCK = "lock", pgettext_lazy("card action", "Locked by wrong PINs")
    UNLOCK = "unlock", pgettext_lazy("card action", "Unlocked")
    CHANGE_PIN = "change_pin", pgettext_lazy("card action", "PIN changed")
    PERMISSIONS = "permissions", pgettext_lazy("card action", "Permissions changed")
    MAIL = "mail", pgettext_lazy("card action", "Mailed")
    RECEIVE = "receive", pgettext_lazy("card action", "Receipt confirmed")


class AgreementStatus(models.TextChoices):
    """通关无纸化三方协议, with the seed's own words (seed 001, EPORT.md §4.1)."""

    SENT_TO_CUSTOMS = "sent_to_customs", pgettext_lazy("agreement", "Signed, sent to customs")
    RECEIVED = "received", pgettext_lazy("agreement", "Received by customs")
    APPROVED = "approved", pgettext_lazy("agreement", "Approved by customs")
    RETURNED = "returned", pgettext_lazy("agreement", "Returned by customs")
    TERMINATED = "terminated", pgettext_lazy("agreement", "Terminated")


# The statuses that hold the district: it is no longer offered for signing.
LIVE_AGREEMENT = (
    AgreementStatus.SENT_TO_CUSTOMS,
    AgreementStatus.RECEIVED,
    AgreementStatus.APPROVED,
)


class EntrustmentStatus(models.TextChoices):
    """代理报关委托 (EPORT.md §4.2; the names are the suggested ones, UNVERIFIED there)."""

    AWAITING_CONFIRMATION = (
        "awaiting_confirmation",
        pgettext_lazy("entrustment", "Awaiting confirmation"),
    )
    EFFECTIVE = "effective", pgettext_lazy("entrustment", "Effective")
    REVOKED = "revoked", pgettext_lazy("entrustment", "Revoked")
    REFUSED = "refused", pgettext_lazy("entrustment", "Refused")
    EXPIRED = "expired", pgettext_lazy("entrustment", "Expired")


class EntrustmentSide(models.TextChoices):
    CONSIGNOR = "consignor", _("Consignor (经营单位)")
    BROKER = "broker", _("Customs broker (报关企业)")
