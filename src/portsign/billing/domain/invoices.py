"""Invoices for paid orders (发票, seed 003: the title defaults to the buyer and cannot be
changed for an enterprise; the tax number is its 统一社会信用代码)."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portsign.accounts.models import User
from portsign.billing.domain.wallets import order_of
from portsign.billing.enums import InvoiceStatus, OrderStatus
from portsign.billing.models import Invoice, Order
from portsign.common.audit import record_event
from portsign.common.cn_ids import normalize_uscc
from portsign.common.errors import Conflict, Invalid, NotFound
from portsign.common.text import clean_text

# Taxpayer numbers before 三证合一 were 15 or 20 characters; today they are the 18-character USCC.
_LEGACY_TAX_NUMBER = re.compile(r"[0-9A-Z]{15}|[0-9A-Z]{20}")


def _tax_number(raw: str) -> str:
    clean = "".join(raw.split()).upper()
    if len(clean) == 18:
        return normalize_uscc(clean, field="tax_number")
    if not _LEGACY_TAX_NUMBER.fullmatch(clean):
        message = _("A tax number has 18 characters (or 15 or 20 for old registrations).")
        raise Invalid(message, code="tax_number", fields={"tax_number": message})
    return clean


def _email(raw: str) -> str:
    clean = raw.strip()
    if clean:
        try:
            validate_email(clean)
        except ValidationError:
            message = _("Enter a valid e-mail address.")
            raise Invalid(message, code="email", fields={"email": message}) from None
    return clean


def _title(order: Order, raw: str) -> str:
    enterprise = order.wallet.enterprise
    if enterprise is not None:
        return enterprise.name  # an enterprise's invoice names the enterprise, always
    return clean_text(
        raw,
        field="title",
        min_length=1,
        max_length=100,
        message=_("The invoice title needs 1 to 100 characters."),
        code="title",
    )


def request_invoice(
    *, actor: User, order_id: str, title: str = "", tax_number: str = "", email: str = ""
) -> Invoice:
    order = order_of(actor=actor, order_id=order_id)
    if order.status != OrderStatus.PAID:
        raise Conflict(_("Invoices are issued for paid orders only."), code="order_not_paid")
    enterprise = order.wallet.enterprise
    number = _tax_number(tax_number or (enterprise.uscc if enterprise else ""))
    try:
        with transaction.atomic():
            invoice = Invoice.objects.create(
                order=order,
                title=_title(order, title),
                tax_number=number,
                email=_email(email),
                requested_by=actor,
            )
            record_event(
                action="billing.invoice_requested",
                actor_id=actor.id,
                acting_as=order.wallet.enterprise_id or "",
                object_type="order",
                object_id=order.id,
                data={"invoice": invoice.id},
            )
    except IntegrityError:
        raise Conflict(
            _("An invoice was already requested for this order."), code="invoice_exists"
        ) from None
    return invoice


def issue_invoice(*, actor: User, invoice_id: str) -> Invoice:
    """Back office: the invoice was issued (by the finance system, outside PortSign)."""
    if not actor.is_staff:
        raise NotFound()
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().filter(pk=invoice_id).first()
        if invoice is None:
            raise NotFound()
        if invoice.status == InvoiceStatus.ISSUED:
            raise Conflict(_("This invoice was already issued."), code="invoice_issued")
        invoice.status = InvoiceStatus.ISSUED
        invoice.issued_at = timezone.now()
        invoice.save(update_fields=["status", "issued_at"])
        record_event(
            action="billing.invoice_issued",
            actor_id=actor.id,
            object_type="order",
            object_id=invoice.order_id,
            data={"invoice": invoice.id},
        )
    return invoice
