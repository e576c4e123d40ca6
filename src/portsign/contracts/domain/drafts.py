"""Editing and deleting a draft (SPEC D1, issue 16 point 5): while a contract is a draft its
sender changes its title, type, deadline, validity, ordering, business fields and file, or
deletes it. Each change is checked by the rule the draft was created with (contracts.py) and
audited; anything but a draft is a 409."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _

from portsign.accounts.models import User
from portsign.common.errors import Conflict, Invalid
from portsign.contracts.domain import documents, involvement
from portsign.contracts.domain.contracts import (
    _audit,
    _business_fields,
    _contract_type,
    _deadline,
    _require_draft,
    _title,
    own_contract,
)
from portsign.contracts.enums import Ordering
from portsign.contracts.models import Contract, SigningArea
from portsign.contracts.template_models import TemplateContract

_UNSET: Any = object()


@dataclass(frozen=True)
class DraftChanges:
    """What to change; a field left as `_UNSET` stays as it is."""

    title: Any = _UNSET
    contract_type: Any = _UNSET  # a type name, "" for none
    deadline: Any = _UNSET  # dt.datetime or None
    valid_until: Any = _UNSET  # dt.date or None
    ordering: Any = _UNSET
    business_fields: Any = _UNSET  # the whole set, checked against the enterprise's fields


def update(*, actor: User, contract_id: str, changes: DraftChanges) -> Contract:
    with transaction.atomic():
        contract = own_contract(actor, contract_id, lock=True)
        _require_draft(contract)
        changed: list[str] = []
        if changes.title is not _UNSET:
            contract.title = _title(str(changes.title or ""))
            changed.append("title")
        if changes.contract_type is not _UNSET:
            name = str(changes.contract_type or "")
            contract.contract_type = _contract_type(contract.sender_enterprise, name)
            changed.append("contract_type")
        if changes.deadline is not _UNSET:
            contract.deadline = _deadline(changes.deadline)
            changed.append("deadline")
        if changes.valid_until is not _UNSET:
            contract.valid_until = _valid_until(changes.valid_until)
            changed.append("valid_until")
        if changes.ordering is not _UNSET:
            contract.ordering = _ordering(str(changes.ordering))
            changed.append("ordering")
        if changes.business_fields is not _UNSET:
            given = changes.business_fields
            if not isinstance(given, dict):
                message = _("Business fields are a JSON object.")
                raise Invalid(message, code="business_field", fields={"fields": message})
            contract.business_fields = _business_fields(contract.sender_enterprise, given)
            changed.append("business_fields")
        if changed:
            contract.save(update_fields=changed)
            involvement.refresh(contract)  # the boxes show the title and type
            _audit(contract, actor, "contract.draft_edited", {"fields": ",".join(changed)})
    return contract


def _valid_until(raw: object) -> dt.date | None:
    if raw is None or isinstance(raw, dt.date):
        return raw
    message = _("Use a date like 2027-12-31.")
    raise Invalid(message, code="valid_until_format", fields={"valid_until": message})


def _ordering(raw: str) -> str:
    if raw not in Ordering.values:
        message = _("Choose sequential or parallel.")
        raise Invalid(message, code="ordering", fields={"ordering": message})
    return raw


def replace_file(
    *, actor: User, contract_id: str, upload: UploadedFile | None, conversion: str = ""
) -> Contract:
    """A new body for the draft. Signing areas past its last page go; a draft made from a
    template keeps the template's file (its fields are drawn on it)."""
    _require_draft(own_contract(actor, contract_id))  # before any file is read or converted
    body = documents.store_pdf(documents.uploaded_pdf(actor, upload, conversion))
    with transaction.atomic():
        contract = own_contract(actor, contract_id, lock=True)
        _require_draft(contract)
        if TemplateContract.objects.filter(contract=contract).exists():
            raise Conflict(
                _("This draft was made from a template; its file cannot be replaced."),
                code="template_draft",
            )
        old = contract.body.sha256
        contract.body = contract.current = body
        contract.save(update_fields=["body", "current"])
        dropped = SigningArea.objects.filter(
            party__contract=contract, page__gt=body.pages
        ).delete()[0]
        _audit(
            contract,
            actor,
            "contract.file_replaced",
            {
                "from": old,
                "to": body.sha256,
                "pages": str(body.pages),
                "areas_dropped": str(dropped),
            },
        )
    return contract


def delete(*, actor: User, contract_id: str) -> None:
    """A draft nobody was asked to sign yet goes, with its parties, attachments and areas (the
    stored files stay: they are shared by content)."""
    with transaction.atomic():
        contract = own_contract(actor, contract_id, lock=True)
        _require_draft(contract)
        _audit(contract, actor, "contract.draft_deleted", {"title": contract.title})
        try:
            contract.delete()
        except ProtectedError as exc:  # something outside contracts points at it
            raise Conflict(_("This draft is in use and cannot be deleted."), code="in_use") from exc
