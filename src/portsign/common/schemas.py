"""API schemas shared by several apps. OpenAPI names components by class name, so a shape
used in two apps lives here once instead of as two same-named classes (one of which the
published schema would silently drop)."""

from __future__ import annotations

from typing import Any

from ninja import Schema


class CountOut(Schema):
    count: int


class ErrorDetail(Schema):
    code: str
    message: str
    fields: dict[str, Any]
    link: str | None = None  # where to resolve it (402 quota_exhausted: the recharge page)


class ErrorOut(Schema):
    """Every error answer of the API (API.md conventions)."""

    error: ErrorDetail


# OpenAPI request bodies for multipart forms (read from request.POST/FILES, which ninja does
# not describe by itself).
FILE = {"type": "string", "format": "binary"}
TEXT = {"type": "string"}
CONVERSION = {
    "type": "string",
    "description": "instead of file: the id of your finished Word conversion (POST /conversions)",
}


def multipart_body(required: list[str], **properties: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI request body for a multipart form with these fields."""
    schema = {"type": "object", "required": required, "properties": properties}
    return {"requestBody": {"content": {"multipart/form-data": {"schema": schema}}}}
