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


class FilingKind(models.TextChoices):
    ENTERPRISE_INFO = "enterprise_info", _("Unified enterprise information (三证合一)")
    CUSTOMS = "customs", _("Customs filing")
    FOREX = "forex", _("Foreign-exchange filing")
    COMMERCE = "commerce", _("Foreign-trade operator filing")
    OPERATOR = "operator", _("Operator pre-registration")
    OPERATOR_DEREGISTRATION = "operator_deregistration", _("Operator deregistration")
    ENTERPRISE_INFO_CHANGE = "enterprise_info_change", _("Change of enterprise information")


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
