"""The archive cabinet's API (档案柜, SPEC 000): file an outside contract's PDF with its facts,
search, correct, delete; bad input is a 400 naming the field; tenancy first."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.utils import timezone

from portsign.archive.models import ArchivedContract
from portsign.common.models import AuditEvent
from portsign.enterprises.models import Role
from tests.archive.conftest import FIELDS, filed, post_item
from tests.contracts.conftest import pdf_bytes
from tests.helpers import error_code, make_person
from tests.seals.conftest import add_member


def test_filing_stores_the_pdf_and_the_facts_exactly(alice, acme):
    content = pdf_bytes(3, label="Storage")
    response = post_item(alice, acme.id, content)
    assert response.status_code == 201, response.content
    body = response.json()
    item_id = body.pop("id")
    created, updated = body.pop("created_at"), body.pop("updated_at")
    assert created
    assert updated
    assert body == {
        "enterprise_id": acme.id,
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
        "uploaded_by": alice.user.id,
        "uploaded_by_name": "Alice Test",
        "sha256": hashlib.sha256(content).hexdigest(),
        "pages": 3,
        "size": len(content),
    }
    assert alice.api.get(f"/archive/{item_id}").json()["sha256"] == body["sha256"]
    document = alice.api.get(f"/archive/{item_id}/document.pdf")
    assert document.status_code == 200
    assert document["Content-Type"] == "application/pdf"
    assert document.content == content
    assert "attachment" in document["Content-Disposition"]
    event = AuditEvent.objects.get(action="archive.filed")
    assert (event.object_type, event.object_id, event.acting_as) == ("archive", item_id, acme.id)
    assert event.data["sha256"] == body["sha256"]


def test_counterparties_one_a_line_and_defaults(alice, acme):
    body = filed(
        alice,
        acme.id,
        counterparties="甲公司\n乙公司\n\n甲公司",
        amount=None,
        currency=None,
        type=None,
        valid_from=None,
        valid_until=None,
        external_number=None,
        notes=None,
    )
    assert body["counterparties"] == ["甲公司", "乙公司"]
    lines = filed(alice, acme.id, notes="  第一行  \r\n第二行   有空格 ")["notes"]
    assert lines == "第一行\n第二行 有空格"
    assert (body["amount"], body["currency"], body["type"]) == (None, "CNY", "")
    assert (body["valid_from"], body["valid_until"], body["external_number"]) == (None, None, "")


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"just some text, not a PDF", "file_type"),
        (b"%PDF-1.7\n1 0 obj <<>> broken", "file_corrupt"),
    ],
)
def test_a_file_that_is_not_a_good_pdf_is_refused_with_the_field(alice, acme, content, code):
    response = post_item(alice, acme.id, content)
    assert response.status_code == 400, response.content
    assert error_code(response) == code
    assert list(response.json()["error"]["fields"]) == ["file"]
    assert not ArchivedContract.objects.exists()


def test_a_missing_file_is_refused_with_the_field(alice, acme):
    response = alice.api.client.post(
        f"/api/v1/enterprises/{acme.id}/archive",
        {k: v for k, v in FIELDS.items()},
        headers={"Authorization": f"Bearer {alice.token}"},
    )
    assert response.status_code == 400
    assert (error_code(response), list(response.json()["error"]["fields"])) == (
        "file_required",
        ["file"],
    )


def test_an_oversized_file_is_refused_with_the_field(alice, acme, settings):
    settings.CONTRACT_MAX_MB = 1
    response = post_item(alice, acme.id, b"%PDF-1.7\n" + b"0" * (2**20 + 10))
    assert response.status_code == 413, response.content
    assert list(response.json()["error"]["fields"]) == ["file"]


def _tomorrow() -> str:
    return (timezone.localdate() + dt.timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"signed_on": "2026-13-01"}, "signed_on", "date_format"),
        ({"signed_on": None}, "signed_on", "required"),
        ({"signed_on": "tomorrow"}, "signed_on", "signed_in_future"),
        ({"valid_from": "15/03/2026"}, "valid_from", "date_format"),
        ({"valid_until": "2026-02-30"}, "valid_until", "date_format"),
        (
            {"valid_from": "2027-01-01", "valid_until": "2026-12-31"},
            "valid_until",
            "period_reversed",
        ),
        ({"amount": "twelve"}, "amount", "amount_format"),
        ({"amount": "-1"}, "amount", "amount_range"),
        ({"amount": "1.005"}, "amount", "amount_decimals"),
        ({"amount": "NaN"}, "amount", "amount_range"),
        ({"currency": "yuan"}, "currency", "currency_format"),
        ({"title": "  "}, "title", "required"),
        ({"title": "x" * 201}, "title", "too_long"),
        ({"counterparties": None}, "counterparties", "required"),
        ({"counterparties": ["x" * 101]}, "counterparties", "too_long"),
        ({"counterparties": [f"公司{n}" for n in range(21)]}, "counterparties", "too_many"),
        ({"title": "合同\x00"}, "title", "text_control_characters"),
        ({"counterparties": ["甲\u202e公司"]}, "counterparties", "text_control_characters"),
        ({"notes": "备注\x07"}, "notes", "text_control_characters"),
        ({"external_number": "x" * 65}, "external_number", "too_long"),
    ],
)
def test_bad_facts_are_a_400_naming_the_field(alice, acme, fields, field, code):
    if fields.get("signed_on") == "tomorrow":
        fields = {"signed_on": _tomorrow()}
    response = post_item(alice, acme.id, **fields)
    assert response.status_code == 400, response.content
    assert error_code(response) == code
    assert list(response.json()["error"]["fields"]) == [field]
    assert not ArchivedContract.objects.exists()


def test_today_is_a_valid_signing_date(alice, acme):
    today = timezone.localdate().isoformat()
    assert filed(alice, acme.id, signed_on=today)["signed_on"] == today


def _titles(person, enterprise_id: str, query: str = "") -> list[str]:
    response = person.api.get(f"/enterprises/{enterprise_id}/archive{query}")
    assert response.status_code == 200, response.content
    return [item["title"] for item in response.json()["items"]]


def test_search_by_each_filter(alice, acme):
    filed(
        alice,
        acme.id,
        title="堆存协议",
        counterparties=["连云港港口物流有限公司"],
        type="仓储合同",
        signed_on="2026-01-10",
        external_number="LYG-1",
    )
    filed(
        alice,
        acme.id,
        title="理货服务合同",
        counterparties=["Globex Tally Co., Ltd."],
        type="服务合同",
        signed_on="2026-02-20",
        external_number="EDI-77",
    )
    filed(
        alice,
        acme.id,
        title="运输协议",
        counterparties=["青岛船务", "连云港港口物流有限公司"],
        type="运输合同",
        signed_on="2026-03-30",
        external_number="",
    )
    assert _titles(alice, acme.id) == ["运输协议", "理货服务合同", "堆存协议"]
    assert _titles(alice, acme.id, "?q=理货") == ["理货服务合同"]  # title
    assert _titles(alice, acme.id, "?q=globex") == ["理货服务合同"]  # a counterparty
    assert _titles(alice, acme.id, "?q=EDI-77") == ["理货服务合同"]  # the outside number
    assert _titles(alice, acme.id, "?type=仓储合同") == ["堆存协议"]
    assert _titles(alice, acme.id, "?counterparty=连云港") == ["运输协议", "堆存协议"]
    assert _titles(alice, acme.id, "?signed_from=2026-02-20") == ["运输协议", "理货服务合同"]
    assert _titles(alice, acme.id, "?signed_to=2026-02-20") == ["理货服务合同", "堆存协议"]
    assert _titles(alice, acme.id, "?signed_from=2026-02-01&signed_to=2026-02-28") == [
        "理货服务合同"
    ]
    assert _titles(alice, acme.id, "?counterparty=连云港&type=运输合同") == ["运输协议"]
    bad = alice.api.get(f"/enterprises/{acme.id}/archive?signed_from=yesterday")
    assert (bad.status_code, list(bad.json()["error"]["fields"])) == (400, ["signed_from"])


def test_pages(alice, acme):
    for n in range(3):
        filed(alice, acme.id, title=f"合同{n}", signed_on=f"2026-01-0{n + 1}")
    first = alice.api.get(f"/enterprises/{acme.id}/archive?page_size=2").json()
    assert (first["total"], first["page"], first["page_size"]) == (3, 1, 2)
    assert [i["title"] for i in first["items"]] == ["合同2", "合同1"]
    second = alice.api.get(f"/enterprises/{acme.id}/archive?page_size=2&page=2").json()
    assert [i["title"] for i in second["items"]] == ["合同0"]
    too_big = alice.api.get(f"/enterprises/{acme.id}/archive?page_size=101")
    assert (too_big.status_code, error_code(too_big)) == (400, "page_size")
    assert alice.api.get(f"/enterprises/{acme.id}/archive?page=0").status_code == 400


def test_edit_then_delete(alice, acme):
    item = filed(alice, acme.id)
    path = f"/archive/{item['id']}"
    changed = alice.api.patch(
        path,
        {
            "title": "集装箱堆存协议（补充）",
            "amount": "9000",
            "valid_until": "",
            "counterparties": ["丙公司"],
        },
    )
    assert changed.status_code == 200, changed.content
    body = changed.json()
    assert (body["title"], body["amount"], body["valid_until"]) == (
        "集装箱堆存协议（补充）",
        "9000.00",
        None,
    )
    assert body["counterparties"] == ["丙公司"]
    assert (body["signed_on"], body["sha256"]) == (item["signed_on"], item["sha256"])  # untouched
    assert alice.api.get(f"/enterprises/{acme.id}/archive?counterparty=丙公司").json()["total"] == 1
    event = AuditEvent.objects.get(action="archive.updated")
    assert event.data == {
        "title": "集装箱堆存协议（补充）",
        "amount": "9000.00",
        "valid_until": None,
        "counterparties": ["丙公司"],
    }
    bad = alice.api.patch(path, {"signed_on": _tomorrow()})
    assert (bad.status_code, error_code(bad)) == (400, "signed_in_future")
    bad = alice.api.patch(path, {"valid_from": "2028-01-01", "valid_until": "2027-01-01"})
    assert (bad.status_code, list(bad.json()["error"]["fields"])) == (400, ["valid_until"])
    bad = alice.api.patch(path, {"amount": "abc"})
    assert (bad.status_code, list(bad.json()["error"]["fields"])) == (400, ["amount"])
    assert alice.api.patch(path, {"amount": 12.5}).json()["amount"] == "12.50"

    assert alice.api.delete(path).status_code == 204
    for answer in (
        alice.api.get(path),
        alice.api.patch(path, {"title": "x"}),
        alice.api.delete(path),
        alice.api.get(path + "/document.pdf"),
    ):
        assert answer.status_code == 404
    assert alice.api.get(f"/enterprises/{acme.id}/archive").json()["total"] == 0
    assert AuditEvent.objects.filter(action="archive.deleted", object_id=item["id"]).count() == 1
    assert ArchivedContract.objects.get(pk=item["id"]).deleted_at is not None


def test_another_enterprise_gets_404_on_every_path(alice, bob, acme, globex):
    item = filed(alice, acme.id)
    path = f"/archive/{item['id']}"
    for answer in (
        bob.api.get(path),
        bob.api.get(path + "/document.pdf"),
        bob.api.patch(path, {"title": "mine"}),
        bob.api.delete(path),
        bob.api.get(f"/enterprises/{acme.id}/archive"),
        bob.api.get(f"/enterprises/{acme.id}/archive/ledger.xlsx"),
        post_item(bob, acme.id),
    ):
        assert answer.status_code == 404, answer.content
        assert error_code(answer) == "not_found"
    assert bob.api.get(f"/enterprises/{globex.id}/archive").json()["total"] == 0
    assert ArchivedContract.objects.get(pk=item["id"]).title == FIELDS["title"]
    assert ArchivedContract.objects.count() == 1


def test_roles_read_with_view_contracts_and_write_with_send_contracts(alice, acme):
    item = filed(alice, acme.id)
    path = f"/archive/{item['id']}"
    member = make_person("+8613800000011", "Mia Member")
    add_member(acme, member, "member")  # view_contracts only
    assert member.api.get(path).status_code == 200
    assert member.api.get(f"/enterprises/{acme.id}/archive").json()["total"] == 1
    for answer in (
        member.api.patch(path, {"title": "x"}),
        member.api.delete(path),
        post_item(member, acme.id),
    ):
        assert (answer.status_code, error_code(answer)) == (403, "permission_denied")
    signer = make_person("+8613800000012", "Sid Signer")
    add_member(acme, signer, "signer")  # send_contracts
    assert signer.api.patch(path, {"notes": "已核对"}).status_code == 200
    assert filed(signer, acme.id)["uploaded_by"] == signer.user.id

    blind = make_person("+8613800000013", "Nia Nothing")
    role = Role.objects.create(enterprise=acme, key="blind", name="No contracts", permissions=[])
    acme.memberships.create(user=blind.user, role=role)
    for answer in (
        blind.api.get(path),
        blind.api.get(path + "/document.pdf"),
        blind.api.get(f"/enterprises/{acme.id}/archive"),
        blind.api.get(f"/enterprises/{acme.id}/archive/ledger.xlsx"),
    ):
        assert (answer.status_code, error_code(answer)) == (403, "permission_denied")


def test_not_signed_in_is_401(api, alice, acme):
    item = filed(alice, acme.id)
    assert api.get(f"/archive/{item['id']}").status_code == 401
