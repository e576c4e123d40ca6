"""The ledger (台账) of the archive cabinet as an XLSX workbook: one row per item.

Headers are Chinese whatever the reader's language: the ledger is handed to auditors and
filed with the paper. Amounts are numbers and dates are dates, so the sheet sums and sorts;
text that looks like a formula stays text (a title "=HYPERLINK(…)" must not run in Excel).
The PDF's SHA-256 ties each row to the exact file in the cabinet.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from portsign.archive.models import ArchivedContract

HEADERS = [
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
WIDTHS = [28, 36, 14, 36, 16, 8, 12, 12, 12, 20, 30, 14, 20, 66]
DATE_FORMAT = "yyyy-mm-dd"
TIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
AMOUNT_FORMAT = "#,##0.00"
SHEET = "档案台账"
CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Value = str | Decimal | dt.date | dt.datetime | None


def _cell(sheet: WriteOnlyWorksheet, value: Value) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # openpyxl would write it as a formula
    elif isinstance(value, Decimal):
        cell.number_format = AMOUNT_FORMAT
    elif isinstance(value, dt.datetime):
        cell.number_format = TIME_FORMAT
    elif isinstance(value, dt.date):
        cell.number_format = DATE_FORMAT
    return cell


def row_of(item: ArchivedContract) -> list[Value]:
    """An item's ledger row, in HEADERS' order. Times in the server's zone, without it:
    spreadsheets have no time zones."""
    uploaded = timezone.localtime(item.created_at).replace(tzinfo=None, microsecond=0)
    return [
        item.id,
        item.title,
        item.contract_type,
        "、".join(item.counterparties),
        item.amount,
        item.currency,
        item.signed_on,
        item.valid_from,
        item.valid_until,
        item.external_number,
        item.notes,
        item.uploaded_by.name,
        uploaded,
        item.document.sha256,
    ]


def workbook_bytes(rows: Iterable[ArchivedContract]) -> bytes:
    """The ledger of *rows*, written streaming so a large cabinet stays small in memory."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET)
    for index, width in enumerate(WIDTHS):
        sheet.column_dimensions[get_column_letter(index + 1)].width = width
    sheet.freeze_panes = "A2"
    sheet.append(HEADERS)
    for item in rows:
        sheet.append([_cell(sheet, value) for value in row_of(item)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def ledger(rows: QuerySet[ArchivedContract]) -> bytes:
    return workbook_bytes(rows.select_related("uploaded_by", "document").iterator())


def filename(enterprise_name: str) -> str:
    return f"{enterprise_name}-档案台账-{timezone.localdate().isoformat()}.xlsx"
