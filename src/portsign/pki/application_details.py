"""What a certificate application says (seed 003 信息确认): certificate, invoice and mailing
information. Each rule lives here once; the API, the console and renewals all pass through
`clean_details`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from django.utils.translation import gettext as _

from portsign.accounts.models import User
from portsign.accounts.validators import normalize_email, normalize_phone
from portsign.common.errors import Conflict, Invalid
from portsign.common.text import clean_text
from portsign.enterprises.enums import EnterpriseStatus
from portsign.enterprises.models import Enterprise
from portsign.pki.models import CertificateApplication

Medium = CertificateApplication.Medium
TERMS = (1, 2, 3)
DEFAULT_TERM = 2
# Chinese taxpayer identification numbers are 15, 18 or 20 characters (old tax registration
# numbers, unified social credit codes, numbers derived from ID documents).
_TAX_NUMBER = re.compile(r"^[0-9A-Z]{15,20}$")


@dataclass(frozen=True)
class ApplicationForm:
    """The applicant's raw answers, as typed into a form or sent to the API."""

    term_years: int | str | None = DEFAULT_TERM
    medium: str = Medium.CLOUD
    invoice_title: str = ""
    invoice_tax_number: str = ""
    invoice_email: str = ""
    mail_recipient: str = ""
    mail_phone: str = ""
    mail_address: str = ""

    @classmethod
    def from_post(cls, data: Mapping[str, str], *, default_term: int | None) -> ApplicationForm:
        """A console form's fields; an absent term is *default_term* (None when renewing:
        keep the old certificate's term)."""
        return cls(
            term_years=data.get("term_years") or default_term,
            medium=data.get("medium") or Medium.CLOUD,
            invoice_title=data.get("invoice_title", ""),
            invoice_tax_number=data.get("invoice_tax_number", ""),
            invoice_email=data.get("invoice_email", ""),
            mail_recipient=data.get("mail_recipient", ""),
            mail_phone=data.get("mail_phone", ""),
            mail_address=data.get("mail_address", ""),
        )


@dataclass(frozen=True)
class Mailing:
    recipient: str
    phone: str
    address: str


@dataclass(frozen=True)
class Details:
    """The checked answers, ready to store."""

    term_years: int
    medium: str
    invoice_title: str
    invoice_tax_number: str
    invoice_email: str
    mailing: Mailing | None


def require_verified(enterprise: Enterprise) -> None:
    """Only a verified enterprise gets certificates (and authorization codes for them)."""
    if enterprise.status != EnterpriseStatus.VERIFIED:
        raise Conflict(
            _("Verify the enterprise before applying for its certificate."),
            code="enterprise_not_verified",
        )


def _invalid(field: str, code: str, message: str) -> Invalid:
    return Invalid(message, code=code, fields={field: message})


def check_term(value: int | str | None) -> int:
    """1, 2 or 3 years; the issued certificate's validity follows it."""
    text = "" if value is None else str(value).strip()
    if not text.isdigit() or int(text) not in TERMS:
        raise _invalid("term_years", "term_invalid", _("Choose a term of 1, 2 or 3 years."))
    return int(text)


def check_medium(value: str) -> str:
    if value not in Medium.values:
        raise _invalid(
            "medium", "medium_invalid", _("Choose the medium: cloud certificate or UKey.")
        )
    return value


def invoice_title_for(*, applicant: User, enterprise: Enterprise | None, given: str) -> str:
    """Seed 003: "发票抬头默认为证书申请单位，不可修改" — an enterprise's invoice goes to the
    enterprise, whatever was typed; a person's defaults to their verified name."""
    if enterprise is not None:
        return enterprise.name
    return clean_text(
        given or applicant.name,
        field="invoice_title",
        min_length=1,
        max_length=100,
        code="invoice_invalid",
        message=_("Invoice title: up to 100 characters."),
    )


def check_tax_number(value: str) -> str:
    """Optional; when given, 15 to 20 letters and digits (spaces ignored, upper-cased)."""
    clean = "".join((value or "").split()).upper()
    if clean and not _TAX_NUMBER.match(clean):
        raise _invalid(
            "invoice_tax_number",
            "invoice_tax_number_invalid",
            _("A tax number has 15 to 20 letters and digits."),
        )
    return clean


def check_invoice_email(value: str) -> str:
    """Optional; where the electronic invoice is sent."""
    if not (value or "").strip():
        return ""
    return normalize_email(value, field="invoice_email")


def check_mailing(
    *, medium: str, applicant: User, recipient: str, phone: str, address: str
) -> Mailing | None:
    """Seed 003: a cloud certificate needs no mailing ("云证书不需填写邮寄信息"); a UKey is
    mailed, by default to the handler (经办人) — the applicant — at an address they give."""
    if medium != Medium.UKEY:
        return None
    name = clean_text(
        recipient or applicant.name,
        field="mail_recipient",
        min_length=1,
        max_length=50,
        code="mail_recipient_invalid",
        message=_("Enter the recipient's name (1 to 50 characters)."),
    )
    number = normalize_phone(phone or applicant.phone or "", field="mail_phone")
    place = clean_text(
        address,
        field="mail_address",
        min_length=5,
        max_length=200,
        code="mail_address_invalid",
        message=_("Enter the mailing address for the UKey (5 to 200 characters)."),
    )
    return Mailing(recipient=name, phone=number, address=place)


def clean_details(
    form: ApplicationForm, *, applicant: User, enterprise: Enterprise | None
) -> Details:
    medium = check_medium(form.medium)
    return Details(
        term_years=check_term(form.term_years),
        medium=medium,
        invoice_title=invoice_title_for(
            applicant=applicant, enterprise=enterprise, given=form.invoice_title
        ),
        invoice_tax_number=check_tax_number(form.invoice_tax_number),
        invoice_email=check_invoice_email(form.invoice_email),
        mailing=check_mailing(
            medium=medium,
            applicant=applicant,
            recipient=form.mail_recipient,
            phone=form.mail_phone,
            address=form.mail_address,
        ),
    )
