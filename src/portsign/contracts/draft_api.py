"""`PATCH/DELETE /api/v1/contracts/{id}` and `PUT …/file` (SPEC D1): editing a draft.

Registered on the contracts router itself (`contracts.api.router`), because PATCH and DELETE
share the path of `GET /contracts/{id}` and Django resolves a path to one router's view."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Schema
from ninja.responses import Status

from portsign.accounts.backends import signed_in_user
from portsign.common.schemas import CONVERSION, FILE, multipart_body
from portsign.contracts.api import ContractOut, _load, router
from portsign.contracts.domain import drafts


class DraftPatchIn(Schema):
    title: str | None = Field(None, max_length=200)
    type: str | None = Field(None, description="a contract type's name; empty for none")
    deadline: dt.datetime | None = None
    valid_until: dt.date | None = None
    ordering: str | None = Field(None, description="sequential | parallel")
    fields: dict[str, Any] | None = Field(None, description="the business fields, all of them")


@router.patch("/{contract_id}", response=ContractOut, summary="Edit a draft")
def edit_draft(request: HttpRequest, contract_id: str, payload: DraftPatchIn) -> ContractOut:
    """Only the fields given change; `null` for `deadline` or `valid_until` clears it."""
    given = payload.model_fields_set
    changes = drafts.DraftChanges(
        **{
            name: getattr(payload, key)
            for key, name in (
                ("title", "title"),
                ("type", "contract_type"),
                ("deadline", "deadline"),
                ("valid_until", "valid_until"),
                ("ordering", "ordering"),
                ("fields", "business_fields"),
            )
            if key in given
        }
    )
    actor = signed_in_user(request)
    drafts.update(actor=actor, contract_id=contract_id, changes=changes)
    return ContractOut.of(_load(actor, contract_id))


@router.delete("/{contract_id}", response={204: None}, summary="Delete a draft")
def delete_draft(request: HttpRequest, contract_id: str) -> Status[None]:
    drafts.delete(actor=signed_in_user(request), contract_id=contract_id)
    return Status(204, None)


@router.post(
    "/{contract_id}/file",
    response=ContractOut,
    summary="Replace a draft's file",
    openapi_extra=multipart_body(
        [], file={**FILE, "description": "a PDF or Word file, or name a conversion"},
        conversion=CONVERSION,
    ),
)  # fmt: skip
def replace_file(request: HttpRequest, contract_id: str) -> ContractOut:
    actor = signed_in_user(request)
    drafts.replace_file(
        actor=actor,
        contract_id=contract_id,
        upload=request.FILES.get("file"),
        conversion=request.POST.get("conversion", ""),
    )
    return ContractOut.of(_load(actor, contract_id))
