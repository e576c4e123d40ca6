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


class ErrorOut(Schema):
    """Every error answer of the API (API.md conventions)."""

    error: ErrorDetail
