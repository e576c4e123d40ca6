from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.contracts.conftest import pdf_bytes
from tests.helpers import Person

FIELDS = {
    "title": "集装箱堆存协议",
    "type": "仓储合同",
    "counterparties": ["连云港港口物流有限公司", "Globex Tally Co., Ltd."],
    "amount": "12500.50",
    "currency": "CNY",
    "signed_on": "2026-03-15",
    "valid_from": "2026-04-01",
    "valid_until": "2027-03-31",
    "external_number": "LYG-2026-0042",
    "notes": "纸质原件存档于财务部",
}


def post_item(person: Person, enterprise_id: str, content: bytes | None = None, **fields):
    """POST a multipart upload to the cabinet; *fields* override FIELDS (None drops one)."""
    values = {**FIELDS, **fields}
    data = {k: v for k, v in values.items() if v is not None}
    if content is None:
        content = pdf_bytes(label=str(values.get("title")))
    data["file"] = SimpleUploadedFile("scan.pdf", content)
    return person.api.client.post(
        f"/api/v1/enterprises/{enterprise_id}/archive",
        data,
        headers={"Authorization": f"Bearer {person.token}", "Accept-Language": "en"},
    )


def filed(person: Person, enterprise_id: str, **fields) -> dict:
    response = post_item(person, enterprise_id, **fields)
    assert response.status_code == 201, response.content
    return response.json()
