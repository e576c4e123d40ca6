"""The archive cabinet's items: file, find, change, delete (档案柜, SPEC 000).

Members who may view the enterprise's contracts (`view_contracts`) read the cabinet; those who
send contracts for it (`send_contracts`) file, change and delete items: filing an outside
contract is the same paperwork as sending one, and an administrator-only rule would leave the
signers who hold the paper unable to file it. Another enterprise's item is a 404, a deleted
one too. Every write is an audit event in the transaction of the change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from portsign.accounts.models import User
from portsign.archive.domain import metadata
from portsign.archive.models import ArchivedContract
from portsign.common.audit import record_event
from portsign.common.errors import NotFound
from portsign.common.paging import check_page
from portsign.contracts.domain import documents
from portsign.enterprises.enums import Permission
from portsign.enterprises.models import Enterprise
from portsign.enterprises.rules import enterprise_for

READ = Permission.VIEW_CONTRACTS
WRITE = Permission.SEND_CONTRACTS
MAX_PAGE_SIZE = 100
OBJECT_TYPE = "archive"  # also the one-click transfer kind (hooks.py)


@dataclass(frozen=True)
class Filters:
    """The list's and the ledger's search: all optional, combined with AND."""

    q: str = ""  # in the title, a counterparty or the outside number
    contract_type: str = ""
    counterparty: str = ""
    signed_from: dt.date | None = None
    signed_to: dt.date | None = None


@dataclass(frozen=True)
class Page:
    items: list[ArchivedContract]
    total: int
    page: int
    page_size: int


FILTER_NAMES = ("q", "type", "counterparty", "signed_from", "signed_to")


def parse_filters(query: Mapping[str, str]) -> Filters:
    """Filters from query text (FILTER_NAMES); a bad date is a 400 naming its parameter."""
    return Filters(
        q=query.get("q", "").strip(),
        contract_type=query.get("type", "").strip(),
        counterparty=query.get("counterparty", "").strip(),
        signed_from=metadata.date(query.get("signed_from", ""), "signed_from"),
        signed_to=metadata.date(query.get("signed_to", ""), "signed_to"),
    )


def readable_enterprise(*, actor: User, enterprise_id: str) -> Enterprise:
    return enterprise_for(user=actor, enterprise_id=enterprise_id, permission=READ)


def writable_enterprise(*, actor: User, enterprise_id: str) -> Enterprise:
    return enterprise_for(user=actor, enterprise_id=enterprise_id, permission=WRITE)


def _item(item_id: str) -> ArchivedContract:
    found = (
        ArchivedContract.objects.select_related("enterprise", "uploaded_by", "document")
        .filter(pk=item_id, deleted_at__isnull=True)
        .first()
    )
    if found is None:
        raise NotFound()
    return found


def visible_item(*, actor: User, item_id: str) -> ArchivedContract:
    """The item, for a reader of its enterprise; 404 for anyone outside it."""
    found = _item(item_id)
    readable_enterprise(actor=actor, enterprise_id=found.enterprise_id)
    return found


def writable_item(*, actor: User, item_id: str) -> ArchivedContract:
    found = _item(item_id)
    writable_enterprise(actor=actor, enterprise_id=found.enterprise_id)
    return found


def search(
    *, actor: User, enterprise_id: str, query: Mapping[str, str]
) -> QuerySet[ArchivedContract]:
    """The enterprise's items matching the filters in *query*, newest signing first. The
    enterprise is checked before the filters, so a stranger's probe is a 404 whatever it asks."""
    enterprise = readable_enterprise(actor=actor, enterprise_id=enterprise_id)
    filters = parse_filters(query)
    rows = ArchivedContract.objects.filter(enterprise=enterprise, deleted_at__isnull=True)
    if filters.q:
        rows = rows.filter(
            Q(title__icontains=filters.q)
            | Q(counterparty_text__icontains=filters.q)
            | Q(external_number__icontains=filters.q)
        )
    if filters.contract_type:
        rows = rows.filter(contract_type=filters.contract_type)
    if filters.counterparty:
        rows = rows.filter(counterparty_text__icontains=filters.counterparty)
    if filters.signed_from:
        rows = rows.filter(signed_on__gte=filters.signed_from)
    if filters.signed_to:
        rows = rows.filter(signed_on__lte=filters.signed_to)
    return rows.select_related("uploaded_by", "document")


def page_of(rows: QuerySet[ArchivedContract], page: int, page_size: int) -> Page:
    """One page of *rows*; the same bounds as the contract boxes."""
    check_page(page)
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        message = _("A page holds 1 to %(n)d items.") % {"n": MAX_PAGE_SIZE}
        raise metadata.bad("page_size", "page_size", message)
    start = (page - 1) * page_size
    return Page(
        items=list(rows[start : start + page_size]),
        total=rows.count(),
        page=page,
        page_size=page_size,
    )


def contract_types(*, actor: User, enterprise_id: str) -> list[str]:
    """The types in use in the cabinet, for the console's filter."""
    enterprise = readable_enterprise(actor=actor, enterprise_id=enterprise_id)
    rows = ArchivedContract.objects.filter(enterprise=enterprise, deleted_at__isnull=True)
    names = rows.exclude(contract_type="").values_list("contract_type", flat=True)
    return sorted(set(names))


def file_item(
    *,
    actor: User,
    enterprise_id: str,
    upload: UploadedFile | None,
    values: Mapping[str, object],
    parties: Iterable[object],
) -> ArchivedContract:
    """A new item: the upload checked and stored as a PDF, with its facts (`metadata.parse`).
    The enterprise first, the facts next, the file last: a stranger learns nothing, and a
    typo costs no upload check."""
    enterprise = writable_enterprise(actor=actor, enterprise_id=enterprise_id)
    facts = metadata.parse(values, parties)
    document = documents.store_pdf(documents.uploaded_pdf(actor, upload, ""))
    with transaction.atomic():
        item = ArchivedContract.objects.create(
            enterprise=enterprise,
            uploaded_by=actor,
            title=facts.title,
            contract_type=facts.contract_type,
            counterparties=facts.counterparties,
            counterparty_text="\n".join(facts.counterparties),
            amount=facts.amount,
            currency=facts.currency,
            signed_on=facts.signed_on,
            valid_from=facts.valid_from,
            valid_until=facts.valid_until,
            external_number=facts.external_number,
            notes=facts.notes,
            document=document,
        )
        _audit(item, actor, "archive.filed", {"title": item.title, "sha256": document.sha256})
    return item


def update_item(*, actor: User, item_id: str, values: Mapping[str, object]) -> ArchivedContract:
    """Change the facts named in *values* (`metadata.changes`); the PDF stays as filed."""
    writable_item(actor=actor, item_id=item_id)
    changes = metadata.changes(values)
    with transaction.atomic():
        item = _locked(item_id)
        for name, value in changes.items():
            setattr(item, name, value)
        metadata.check_period(item.valid_from, item.valid_until)
        if "counterparties" in changes:
            item.counterparty_text = "\n".join(item.counterparties)
            changes["counterparty_text"] = item.counterparty_text
        if changes:
            item.save(update_fields=[*changes, "updated_at"])
            _audit(item, actor, "archive.updated", _loggable(changes))
    return visible_item(actor=actor, item_id=item_id)


def delete_item(*, actor: User, item_id: str) -> None:
    """Soft delete: gone from the cabinet and the ledger, kept for the audit trail."""
    writable_item(actor=actor, item_id=item_id)
    with transaction.atomic():
        item = _locked(item_id)
        item.deleted_at = timezone.now()
        item.save(update_fields=["deleted_at", "updated_at"])
        _audit(item, actor, "archive.deleted", {"title": item.title})


def _locked(item_id: str) -> ArchivedContract:
    item = (
        ArchivedContract.objects.select_for_update()
        .filter(pk=item_id, deleted_at__isnull=True)
        .first()
    )
    if item is None:  # deleted by a concurrent request
        raise NotFound()
    return item


def _loggable(changes: dict[str, object]) -> dict[str, object]:
    """Changes as JSON values for the audit log (dates and amounts as text)."""
    return {name: _json(value) for name, value in changes.items() if name != "counterparty_text"}


def _json(value: object) -> object:
    if isinstance(value, dt.date):
        return value.isoformat()
    if value is None or isinstance(value, str | list):
        return value
    return str(value)  # a Decimal


def _audit(item: ArchivedContract, actor: User, action: str, data: dict[str, object]) -> None:
    record_event(
        action=action,
        actor_id=actor.id,
        acting_as=item.enterprise_id,
        object_type=OBJECT_TYPE,
        object_id=item.id,
        data=data,
    )
