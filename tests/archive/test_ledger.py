"""The ledger (台账) of the archive cabinet: an XLSX with Chinese headers, one row per item,
amounts as numbers and dates as dates, filtered like the list."""

from __future__ import annotations

import datetime as dt
import hashlib
import io

from django.utils import timezone
from openpyxl import load_workbook

from portsign.archive.domain.ledger import HEADERS
from portsign.archive.models import ArchivedContract
from tests.archive.conftest import filed, post_item
from tests.contracts.conftest import pdf_bytes


def _sheet(response):
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "attachment" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["档案台账"]
    return [list(row) for row in book.active.iter_rows(values_only=True)]


def test_the_ledger_lists_every_item_with_typed_values(alice, acme):
    content = pdf_bytes(label="ledger")
    first = post_item(alice, acme.id, content).json()
    second = filed(
        alice,
        acme.id,
        title='=HYPERLINK("http://evil")',
        counterparties=["甲公司"],
        amount=None,
        type=None,
        signed_on="2025-12-01",
        valid_from=None,
        valid_until=None,
        external_number=None,
        notes=None,
        currency="USD",
    )
    rows = _sheet(alice.api.get(f"/enterprises/{acme.id}/archive/ledger.xlsx"))
    assert rows[0] == [
        "档案编号",
        "合同名称",
        "合同类型",
        "相对方",
        "金额",
        "币种",
        "签订日期",
        "生效日期",
        "到期日期",
        "外部合同编号",
        "备注",
        "上传人",
        "上传时间",
        "文件SHA-256",
    ]
    assert rows[0] == HEADERS
    created = timezone.localtime(ArchivedContract.objects.get(pk=first["id"]).created_at)
    assert rows[1] == [
        first["id"],
        "集装箱堆存协议",
        "仓储合同",
        "连云港港口物流有限公司、Globex Tally Co., Ltd.",
        12500.5,
        "CNY",
        dt.datetime(2026, 3, 15),
        dt.datetime(2026, 4, 1),
        dt.datetime(2027, 3, 31),
        "LYG-2026-0042",
        "纸质原件存档于财务部",
        "Alice Test",
        created.replace(tzinfo=None, microsecond=0),
        hashlib.sha256(content).hexdigest(),
    ]
    # A title that looks like a formula stays text; blanks are empty cells.
    assert rows[2][:9] == [
        second["id"],
        '=HYPERLINK("http://evil")',
        None,
        "甲公司",
        None,
        "USD",
        dt.datetime(2025, 12, 1),
        None,
        None,
    ]
    assert len(rows) == 3


def test_number_and_date_formats(alice, acme):
    filed(alice, acme.id)
    response = alice.api.get(f"/enterprises/{acme.id}/archive/ledger.xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet["E2"].data_type == "n"
    assert sheet["E2"].number_format == "#,##0.00"
    assert sheet["G2"].is_date
    assert sheet["G2"].number_format == "yyyy-mm-dd"
    assert sheet["B2"].data_type == "s"


def test_the_ledger_has_the_lists_filters_and_leaves_deleted_items_out(alice, acme):
    kept = filed(alice, acme.id, title="堆存协议", type="仓储合同", signed_on="2026-01-10")
    filed(alice, acme.id, title="理货服务合同", type="服务合同", signed_on="2026-02-20")
    gone = filed(alice, acme.id, title="作废协议", type="仓储合同", signed_on="2026-01-11")
    assert alice.api.delete(f"/archive/{gone['id']}").status_code == 204
    path = f"/enterprises/{acme.id}/archive/ledger.xlsx"
    rows = _sheet(alice.api.get(path + "?type=仓储合同"))
    assert [row[0] for row in rows[1:]] == [kept["id"]]
    assert len(_sheet(alice.api.get(path + "?q=理货"))) == 2
    assert len(_sheet(alice.api.get(path + "?signed_to=2026-01-31"))) == 2
    assert len(_sheet(alice.api.get(path))) == 3
    bad = alice.api.get(path + "?signed_to=31.01.2026")
    assert (bad.status_code, list(bad.json()["error"]["fields"])) == (400, ["signed_to"])
