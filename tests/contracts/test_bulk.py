"""Bulk send (issue 6 §2): one template × a CSV/XLSX of rows → one sent contract per row, bad
rows reported without stopping the batch, the same upload twice sends nothing twice."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from portsign.common import jobs
from portsign.contracts.domain import bulk
from portsign.contracts.models import BulkSend, BulkSendRow, Contract
from tests.contracts.template_helpers import make_template, pdf_text, sheet
from tests.helpers import assert_isolated, error_code

HEADER = ["vessel", "箱量", "start", "hazardous", "乙方.enterprise", "乙方.account", "title"]
GLOBEX = "Globex Tally Co., Ltd."
ROWS = [
    HEADER,
    ["演示轮 V.001", "12", "2026-05-01", "是", GLOBEX, "13800000002", "理货协议 001"],
    ["演示轮 V.002", "many", "2026-05-02", "", GLOBEX, "13800000002", "理货协议 002"],
    ["演示轮 V.003", "30", "2026年5月3日", "否", "", "charlie@example.cn", ""],
]


@pytest.fixture(autouse=True)
def _inline(settings):
    settings.BULK_SEND_RUNNER = "inline"


def _upload(person, template_id: str, content: bytes, name: str = "rows.csv", **fields):
    return person.api.client.post(
        f"/api/v1/templates/{template_id}/bulk-sends",
        {"file": SimpleUploadedFile(name, content), **fields},
        headers={"Authorization": f"Bearer {person.token}", "Accept-Language": "en"},
    )


def test_three_rows_two_sent_one_bad_row_reported(alice, acme, globex):
    alice.user.language = "en"  # row errors are written in the sender's language
    alice.user.save(update_fields=["language"])
    template_id = make_template(alice, acme)["id"]
    response = _upload(alice, template_id, sheet(ROWS), deadline="2099-06-30")
    assert response.status_code == 202, response.content
    job = response.json()
    assert {k: job[k] for k in ("status", "total", "done", "failed", "pending", "progress")} == {
        "status": "finished",
        "total": 3,
        "done": 2,
        "failed": 1,
        "pending": 0,
        "progress": 100,
    }
    assert job["errors"] == [
        {"row": 3, "code": "field_invalid", "message": "箱量 must be a number."}
    ]
    contracts = list(Contract.objects.order_by("title"))
    assert [(c.title, c.status) for c in contracts] == [
        ("理货协议 001", "signing"),
        ("集装箱理货协议", "signing"),  # row 4 has no title: the template's name
    ]
    first, third = contracts
    assert [(p.position, p.kind, p.enterprise_id) for p in first.parties.all()] == [
        (1, "enterprise", globex.id),
        (2, "enterprise", acme.id),
    ]
    assert [(p.kind, p.account) for p in third.parties.all()] == [
        ("person", "charlie@example.cn"),
        ("enterprise", "+8613800000001"),
    ]
    assert timezone.localtime(first.deadline).isoformat() == "2099-06-30T23:59:59+08:00"
    assert "演示轮 V.001" in pdf_text(alice.api.get(f"/contracts/{first.id}/document.pdf").content)
    assert "2026年5月3日" in pdf_text(alice.api.get(f"/contracts/{third.id}/document.pdf").content)

    detail = alice.api.get(f"/bulk-sends/{job['id']}?rows=true").json()
    assert [(r["row"], r["status"], r["contract_id"]) for r in detail["rows"]] == [
        (2, "sent", first.id),
        (3, "failed", None),
        (4, "sent", third.id),
    ]
    assert [j["id"] for j in alice.api.get(f"/templates/{template_id}/bulk-sends").json()] == [
        job["id"]
    ]


def test_the_same_upload_again_is_the_same_job(alice, acme, globex):
    template_id = make_template(alice, acme)["id"]
    first = _upload(alice, template_id, sheet(ROWS))
    again = _upload(alice, template_id, sheet(ROWS))
    assert (again.status_code, again.json()["id"]) == (200, first.json()["id"])
    assert (again.json()["done"], again.json()["failed"]) == (2, 1)
    assert Contract.objects.count() == 2
    assert BulkSend.objects.count() == 1
    # Another file (or other options) is another job.
    other = _upload(alice, template_id, sheet(ROWS), title="另一批")
    assert other.status_code == 202
    assert other.json()["id"] != first.json()["id"]


def test_an_interrupted_job_resumes_without_duplicates(alice, acme, globex, monkeypatch):
    template_id = make_template(alice, acme)["id"]
    monkeypatch.setattr(bulk, "queue", lambda job_id: None)  # the worker never comes
    started = _upload(alice, template_id, sheet(ROWS))
    job = BulkSend.objects.get(pk=started.json()["id"])
    assert (job.status, job.done, job.failed) == ("queued", 0, 0)

    # Row 2 is sent, then the process dies.
    bulk._run_row(job, job.rows.get(row=2).id)
    status = alice.api.get(f"/bulk-sends/{job.id}").json()
    assert {k: status[k] for k in ("status", "done", "failed", "pending", "progress")} == {
        "status": "queued",
        "done": 1,
        "failed": 0,
        "pending": 2,
        "progress": 33,
    }
    monkeypatch.undo()
    # Re-uploading soon after finds it still moving: nothing is started twice.
    assert _upload(alice, template_id, sheet(ROWS)).json()["done"] == 1
    BulkSend.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - dt.timedelta(minutes=5))
    resumed = _upload(alice, template_id, sheet(ROWS))
    assert resumed.status_code == 200
    job.refresh_from_db()
    assert (job.status, job.done, job.failed) == ("finished", 2, 1)
    assert Contract.objects.count() == 2
    # Running it again changes nothing either.
    bulk.process(job.id)
    assert Contract.objects.count() == 2


def test_counters_move_row_by_row(alice, acme, globex, monkeypatch):
    template_id = make_template(alice, acme)["id"]
    seen: list[tuple[int, int]] = []
    real = bulk._run_row

    def spy(job, row_id):
        real(job, row_id)
        job_now = BulkSend.objects.get(pk=job.pk)
        seen.append((job_now.done, job_now.failed))

    monkeypatch.setattr(bulk, "_run_row", spy)
    _upload(alice, template_id, sheet(ROWS))
    assert seen == [(1, 0), (1, 1), (2, 1)]


def test_xlsx_with_typed_cells(alice, acme, globex):
    from openpyxl import Workbook

    book = Workbook()
    rows = book.active
    rows.append(["船名航次", "teu", "开始日期", "hazardous", "乙方.enterprise", "乙方.account"])
    rows.append(["演示轮 X.1", 40, dt.date(2026, 7, 1), True, GLOBEX, 13800000002])
    rows.append(["演示轮 X.2", 41.0, dt.datetime(2026, 7, 2), False, GLOBEX, "13800000002"])
    out = io.BytesIO()
    book.save(out)
    template_id = make_template(alice, acme)["id"]
    response = _upload(alice, template_id, out.getvalue(), name="rows.xlsx")
    assert response.status_code == 202, response.content
    assert (response.json()["done"], response.json()["errors"]) == (2, [])
    texts = [
        pdf_text(alice.api.get(f"/contracts/{c.id}/document.pdf").content)
        for c in Contract.objects.order_by("created_at")
    ]
    assert ["演示轮 X.1" in texts[0], "2026年7月1日" in texts[0], "41" in texts[1]] == [True] * 3


def test_gbk_csv_from_chinese_excel(alice, acme, globex):
    template_id = make_template(alice, acme)["id"]
    content = sheet(ROWS[:2]).decode().encode("gb18030")
    response = _upload(alice, template_id, content)
    assert (response.status_code, response.json()["done"]) == (202, 1)
    assert Contract.objects.get().title == "理货协议 001"


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (b"", 400, "bulk_empty"),
        (sheet([HEADER]), 400, "bulk_empty"),
        (sheet([["vessel", "乙方.account"], ["演示轮", "13800000002"]]), 400, "bulk_columns"),
        (sheet([[*HEADER, "colour"], [*ROWS[1], "red"]]), 400, "bulk_columns"),
        (sheet([HEADER, [*ROWS[1], "extra"]]), 400, "bulk_columns"),
        (sheet([["teu", "teu"], ["1", "2"]]), 400, "bulk_columns"),
        (b"PK\x03\x04not really a workbook", 400, "file_type"),
        (b"\x00\x01\x02\xff\xfe\x00", 400, "file_type"),
        (sheet(ROWS[:1] + ROWS[1:2] * 3), 400, "too_many_rows"),
    ],
)
def test_bad_files_make_no_job(alice, acme, settings, content, status, code):
    settings.BULK_SEND_MAX_ROWS = 2
    template_id = make_template(alice, acme)["id"]
    response = _upload(alice, template_id, content)
    assert response.status_code == status, response.content
    assert error_code(response) == code
    assert (BulkSend.objects.count(), BulkSendRow.objects.count()) == (0, 0)


def test_too_large_and_missing_file(alice, acme, settings):
    settings.BULK_SEND_MAX_MB = 1
    template_id = make_template(alice, acme)["id"]
    large = _upload(alice, template_id, b"vessel\n" + b"x" * 2**20)
    assert (large.status_code, error_code(large)) == (413, "file_too_large")
    missing = alice.api.client.post(
        f"/api/v1/templates/{template_id}/bulk-sends",
        {},
        headers={"Authorization": f"Bearer {alice.token}"},
    )
    assert (missing.status_code, error_code(missing)) == (400, "file_required")


def test_sample_csv_and_isolation(alice, bob, acme, globex):
    template_id = make_template(alice, acme)["id"]
    sample = alice.api.get(f"/templates/{template_id}/bulk-sends/sample.csv")
    assert sample.content.decode("utf-8-sig").splitlines() == [
        "vessel,teu,start,hazardous,乙方.enterprise,乙方.account,title,deadline"
    ]
    job_id = _upload(alice, template_id, sheet(ROWS)).json()["id"]
    assert_isolated(alice, bob, "GET", f"/bulk-sends/{job_id}")
    assert_isolated(alice, bob, "GET", f"/templates/{template_id}/bulk-sends/sample.csv")
    stolen = _upload(bob, template_id, sheet(ROWS))
    assert stolen.status_code == 404
    assert BulkSend.objects.count() == 1


def test_background_thread_runner(alice, acme, globex, settings):
    """Embedded mode's default: the upload returns at once, a thread sends the rows."""
    settings.BULK_SEND_RUNNER = "thread"
    template_id = make_template(alice, acme)["id"]
    response = _upload(alice, template_id, sheet(ROWS))
    assert response.status_code == 202
    assert jobs.wait_idle(120)
    job = BulkSend.objects.get()
    assert (job.status, job.done, job.failed) == ("finished", 2, 1)
    assert job.finished_at is not None
