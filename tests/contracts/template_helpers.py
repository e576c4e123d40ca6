"""Shared by the template and bulk-send tests: a tally-agreement template for Acme."""

from __future__ import annotations

import copy
import io
import json

import pypdfium2 as pdfium
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.contracts.conftest import pdf_bytes

DEFINITION = {
    "name": "集装箱理货协议",
    "description": "每航次理货",
    "roles": [{"name": "乙方", "order": 1}, {"name": "甲方", "order": 2, "is_sender": True}],
    "fields": [
        {
            "key": "vessel",
            "label": "船名航次",
            "kind": "text",
            "required": True,
            "max_length": 30,
            "page": 1,
            "x": 0.1,
            "y": 0.2,
            "width": 0.5,
            "height": 0.03,
        },
        {
            "key": "teu",
            "label": "箱量",
            "kind": "number",
            "required": True,
            "filled_by": "api",
            "min_value": 1,
            "max_value": 10000,
            "decimals": 0,
            "page": 1,
            "x": 0.1,
            "y": 0.3,
            "width": 0.3,
            "height": 0.03,
        },
        {
            "key": "start",
            "label": "开始日期",
            "kind": "date",
            "date_format": "YYYY年M月D日",
            "page": 1,
            "x": 0.1,
            "y": 0.4,
            "width": 0.3,
            "height": 0.03,
        },
        {
            "key": "hazardous",
            "label": "含危险品",
            "kind": "checkbox",
            "page": 2,
            "x": 0.1,
            "y": 0.1,
            "width": 0.04,
            "height": 0.03,
        },
    ],
    "areas": [
        {
            "role": "乙方",
            "kind": "seal",
            "page": 2,
            "x": 0.55,
            "y": 0.7,
            "width": 0.25,
            "height": 0.15,
        },
        {
            "role": "甲方",
            "kind": "seal",
            "page": 2,
            "x": 0.1,
            "y": 0.7,
            "width": 0.25,
            "height": 0.15,
        },
        {
            "role": "甲方",
            "kind": "date",
            "page": 2,
            "x": 0.1,
            "y": 0.88,
            "width": 0.2,
            "height": 0.04,
        },
    ],
}


def definition(**changes) -> dict:
    """A copy of DEFINITION with top-level *changes*."""
    value = copy.deepcopy(DEFINITION)
    value.update(changes)
    return value


def create_template(person, enterprise, spec: dict | None = None, *, pages: int = 2):
    """POST /templates (multipart) → the response."""
    return person.api.client.post(
        "/api/v1/templates",
        {
            "file": SimpleUploadedFile("tally.pdf", pdf_bytes(pages, label="Tally agreement")),
            "name": (spec or DEFINITION)["name"],
            "acting_as": enterprise.id,
            "definition": json.dumps(spec or DEFINITION),
        },
        headers={"Authorization": f"Bearer {person.token}", "Accept-Language": "en"},
    )


def make_template(person, enterprise, spec: dict | None = None) -> dict:
    response = create_template(person, enterprise, spec)
    assert response.status_code == 201, response.content
    return response.json()


def pdf_text(pdf: bytes) -> str:
    document = pdfium.PdfDocument(pdf)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


def sheet(rows: list[list[str]]) -> bytes:
    import csv

    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()
