"""Shapes of the archive cabinet's API (档案柜). Names are unique across PortSign's OpenAPI."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Field, Schema

from portsign.archive.models import ArchivedContract

FILE = {"type": "string", "format": "binary"}
DATE = {"type": "string", "format": "date"}


class ArchivedContractOut(Schema):
    id: str
    enterprise_id: str
    title: str
    type: str = Field(description="the contract type, free text")
    counterparties: list[str]
    amount: Decimal | None
    currency: str = Field(description="ISO 4217 code")
    signed_on: dt.date
    valid_from: dt.date | None
    valid_until: dt.date | None
    external_number: str = Field(description="the contract's number in the outside system")
    notes: str
    uploaded_by: str = Field(description="the user id of who filed it (or received it by transfer)")
    uploaded_by_name: str
    sha256: str = Field(description="SHA-256 of the stored PDF")
    pages: int
    size: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def of(item: ArchivedContract) -> ArchivedContractOut:
        return ArchivedContractOut(
            id=item.id,
            enterprise_id=item.enterprise_id,
            title=item.title,
            type=item.contract_type,
            counterparties=list(item.counterparties),
            amount=item.amount,
            currency=item.currency,
            signed_on=item.signed_on,
            valid_from=item.valid_from,
            valid_until=item.valid_until,
            external_number=item.external_number,
            notes=item.notes,
            uploaded_by=item.uploaded_by_id,
            uploaded_by_name=item.uploaded_by.name,
            sha256=item.document.sha256,
            pages=item.document.pages,
            size=item.document.size,
            created_at=item.created_at,
            updated_at=item.updated_at,
        )


class ArchivePageOut(Schema):
    items: list[ArchivedContractOut]
    total: int
    page: int
    page_size: int


class ArchivePatchIn(Schema):
    """Only the fields given change; "" clears an optional one. Dates are ISO (2026-12-31),
    checked by the domain so a bad one is a 400 naming the field."""

    title: str | None = None
    type: str | None = None
    counterparties: list[str] | None = None
    amount: str | float | None = Field(None, description='e.g. "12500.00"; "" clears it')
    currency: str | None = None
    signed_on: str | None = Field(None, description="ISO date, not in the future")
    valid_from: str | None = None
    valid_until: str | None = None
    external_number: str | None = None
    notes: str | None = None


# The multipart body of `POST /enterprises/{enterprise_id}/archive`, for the OpenAPI schema.
FILE_ITEM_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "title", "counterparties", "signed_on"],
                    "properties": {
                        "file": {**FILE, "description": "the signed or scanned contract (PDF)"},
                        "title": {"type": "string", "maxLength": 200},
                        "type": {"type": "string", "description": "contract type, free text"},
                        "counterparties": {
                            "type": "array",
                            "items": {"type": "string"},
                            "description": "repeat the field, or one name a line",
                        },
                        "amount": {"type": "string", "description": "e.g. 12500.00"},
                        "currency": {"type": "string", "default": "CNY"},
                        "signed_on": {**DATE, "description": "not in the future"},
                        "valid_from": DATE,
                        "valid_until": DATE,
                        "external_number": {"type": "string", "maxLength": 64},
                        "notes": {"type": "string", "maxLength": 2000},
                    },
                }
            }
        }
    }
}

XLSX_OPENAPI: dict[str, Any] = {
    "responses": {
        200: {
            "description": "The ledger (台账) as an XLSX workbook",
            "content": {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                    "schema": FILE
                }
            },
        }
    }
}

PDF_OPENAPI: dict[str, Any] = {
    "responses": {
        200: {"description": "The archived PDF", "content": {"application/pdf": {"schema": FILE}}}
    }
}
