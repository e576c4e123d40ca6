"""Bulk send (批量发送, issue 6 §2): one template × a CSV or XLSX of rows → one contract per row.

The upload is checked as a whole (size, type, columns, row count) and stored as a job with one
row record per data row; processing runs after commit in the background (`queue`). Each row
makes and sends its contract in its own transaction, which also marks the row sent and links
the contract: a row is either untouched or done, so a job interrupted anywhere can simply run
again. A bad row records its error and the batch continues. Counters (`done`, `failed`) move in
the row's transaction, so the status endpoint's progress is exact at every moment.

Idempotent on retry: the job's key is a hash of template, sender, file and options, so uploading
the same file again returns the same job (and resumes it if it was interrupted).

Columns: each field's key (or its label), each of the enterprise's business fields (业务字段) not
named by a field, by key or label, `<role>.account` and `<role>.enterprise` for every role (the
sender's own role may be left out), and optionally `title` and `deadline`. A row with
`<role>.enterprise` names an enterprise party; without it, a person. A required field or business
field needs its column; a row whose cell is empty fails on its own.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import logging
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from portsign.accounts.models import User
from portsign.common import jobs
from portsign.common.audit import record_event
from portsign.common.errors import DomainError, Invalid, NotFound, TooLarge
from portsign.contracts.domain import template_values, templates
from portsign.contracts.models import BusinessField
from portsign.contracts.template_models import (
    BulkSend,
    BulkSendRow,
    BulkStatus,
    RowStatus,
    Template,
    TemplateField,
)
from portsign.enterprises.enums import Permission
from portsign.enterprises.rules import enterprise_for

log = logging.getLogger(__name__)

TASK = "contracts.bulk_send"  # the Celery task (contracts/tasks.py) by name

CHUNK = 50  # rows fetched at a time; counters move per row
XLSX_MAX_UNPACKED = 50 * 2**20  # a small XLSX may unpack to gigabytes of XML
STALE_AFTER = dt.timedelta(minutes=2)  # a running job silent this long was interrupted
LOCK_RETRIES = 3  # SQLite may report "locked" under concurrent writers: try the row again
ACCOUNT, ENTERPRISE = "account", "enterprise"
OPTIONAL_COLUMNS = ("title", "deadline")


# -- reading the sheet -------------------------------------------------------------------------


@dataclass(frozen=True)
class Sheet:
    headers: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (row number as the spreadsheet shows it, cells)


def _bad(code: str, message: str) -> Invalid:
    return Invalid(message, code=code, fields={"file": message})


def read_file(upload: UploadedFile | None) -> tuple[bytes, str]:
    if upload is None:
        raise _bad("file_required", _("Choose a CSV or XLSX file to upload."))
    limit = settings.BULK_SEND_MAX_MB * 2**20
    data = upload.read(limit + 1)
    if len(data) > limit:
        message = _("The file is larger than %(mb)d MB.") % {"mb": settings.BULK_SEND_MAX_MB}
        raise TooLarge(message, code="file_too_large", fields={"file": message})
    return data, (upload.name or "rows.csv")[-200:]


def parse_sheet(data: bytes) -> Sheet:
    """The first sheet of an XLSX file, or a CSV (UTF-8, or GB18030 as Chinese Excel saves it):
    a header row, then data rows; rows with every cell empty are skipped."""
    lines = _xlsx_rows(data) if data.startswith(b"PK\x03\x04") else _csv_rows(data)
    header = next(lines, None)
    if header is None or not any(cell for cell in header):
        raise _bad("bulk_empty", _("The file has no header row."))
    headers = [cell.strip().lstrip("\ufeff") for cell in header]
    rows: list[tuple[int, dict[str, str]]] = []
    for number, cells in enumerate(lines, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(rows) >= settings.BULK_SEND_MAX_ROWS:
            raise Invalid(
                _("The file has more than %(n)d rows. Split it into smaller files.")
                % {"n": settings.BULK_SEND_MAX_ROWS},
                code="too_many_rows",
                fields={"file": _("Too many rows.")},
            )
        if len(cells) > len(headers) and any(c.strip() for c in cells[len(headers) :]):
            raise _bad(
                "bulk_columns",
                _("Row %(row)d has more cells than the header has columns.") % {"row": number},
            )
        rows.append((number, {h: c.strip() for h, c in zip(headers, cells, strict=False) if h}))
    if not rows:
        raise _bad("bulk_empty", _("The file has no data rows under its header."))
    return Sheet(headers=[h for h in headers if h], rows=rows)


def _csv_rows(data: bytes) -> Iterator[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise _bad("file_type", _("Upload a CSV file (UTF-8 or GBK) or an XLSX workbook."))
    if "\x00" in text:
        raise _bad("file_type", _("Upload a CSV file (UTF-8 or GBK) or an XLSX workbook."))
    try:
        yield from csv.reader(io.StringIO(text, newline=""))
    except csv.Error as exc:
        raise _bad("file_type", _("The CSV file is malformed.")) from exc


def _xlsx_rows(data: bytes) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > XLSX_MAX_UNPACKED:
            raise _bad("file_too_large", _("The workbook is too large once unpacked."))
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise _bad("file_type", _("Upload a CSV file (UTF-8 or GBK) or an XLSX workbook.")) from exc
    try:
        sheet = book.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [_cell(value) for value in values]
    finally:
        book.close()


def _cell(value: object) -> str:
    """A spreadsheet cell as the text a person typed: dates ISO, whole numbers without ".0"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{Decimal(repr(value)):f}"
    return str(value)


# -- columns -----------------------------------------------------------------------------------


def field_column(fields: list[TemplateField], header: str) -> TemplateField | None:
    return next((f for f in fields if header in (f.key, f.label)), None)


def business_columns(template: Template, fields: list[TemplateField]) -> list[BusinessField]:
    """The enterprise's business fields that no field of the template names (those that one
    does come with the field's value)."""
    keys = {f.key for f in fields}
    return [
        b for b in template_values.business_fields_of(template.enterprise_id) if b.key not in keys
    ]


def business_column(business: list[BusinessField], header: str) -> BusinessField | None:
    return next((b for b in business if header in (b.key, b.label)), None)


def sample_headers(template: Template) -> list[str]:
    """The header row of a sheet for *template* (what the sample CSV holds)."""
    fields = templates.sender_fields(template)
    headers = [f.key for f in fields] + [b.key for b in business_columns(template, fields)]
    for role in template.roles.all():
        if not role.is_sender:
            headers += [f"{role.name}.{ENTERPRISE}", f"{role.name}.{ACCOUNT}"]
    return [*headers, *OPTIONAL_COLUMNS]


def check_columns(template: Template, headers: list[str]) -> None:
    fields = templates.sender_fields(template)
    business = business_columns(template, fields)
    roles = list(template.roles.all())
    party_columns = {f"{r.name}.{part}" for r in roles for part in (ACCOUNT, ENTERPRISE)}
    if len(set(headers)) != len(headers):
        raise _bad("bulk_columns", _("Two columns have the same name."))
    unknown = [
        h
        for h in headers
        if field_column(fields, h) is None
        and business_column(business, h) is None
        and h not in party_columns
        and h not in OPTIONAL_COLUMNS
    ]
    # A business field a field of the template names comes in that field's column.
    present = {f.key for f in fields if f.key in headers or f.label in headers}
    present |= {b.key for b in business if b.key in headers or b.label in headers}
    required = [f.key for f in fields if f.required] + [
        b.key for b in template_values.business_fields_of(template.enterprise_id) if b.required
    ]
    missing = [key for key in dict.fromkeys(required) if key not in present]
    missing += [
        f"{r.name}.{ACCOUNT}"
        for r in roles
        if not r.is_sender and f"{r.name}.{ACCOUNT}" not in headers
    ]
    if unknown or missing:
        parts = []
        if missing:
            parts.append(_("missing columns: %(names)s") % {"names": ", ".join(missing)})
        if unknown:
            parts.append(_("unknown columns: %(names)s") % {"names": ", ".join(unknown)})
        raise Invalid(
            _("The columns do not fit the template (%(problems)s). Download the sample file.")
            % {"problems": "; ".join(parts)},
            code="bulk_columns",
            fields={"file": "; ".join(parts)},
        )


# -- starting a job ----------------------------------------------------------------------------


def batch_key(*, template: Template, actor: User, sha256: str, title: str, deadline: str) -> str:
    parts = [template.id, actor.id, template.enterprise_id, sha256, title, deadline]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def start(
    *,
    actor: User,
    template_id: str,
    upload: UploadedFile | None,
    acting_as: str = "",
    title: str = "",
    deadline: dt.datetime | None = None,
) -> tuple[BulkSend, bool]:
    """The job for this upload, and whether it is new. The same upload again gives the same
    job (resumed if it was interrupted) and creates nothing."""
    template = templates.template_for(actor=actor, template_id=template_id, acting_as=acting_as)
    data, name = read_file(upload)
    sha256 = hashlib.sha256(data).hexdigest()
    clean_title = " ".join(title.split())[:100]
    key = batch_key(
        template=template,
        actor=actor,
        sha256=sha256,
        title=clean_title,
        deadline=deadline.isoformat() if deadline else "",
    )
    existing = BulkSend.objects.filter(batch_key=key).first()
    if existing is not None:
        _resume_if_stale(existing)
        return existing, False
    templates.require_ready(template)
    sheet = parse_sheet(data)
    check_columns(template, sheet.headers)
    try:
        with transaction.atomic():
            job = BulkSend.objects.create(
                template=template,
                sender=actor,
                sender_enterprise_id=template.enterprise_id,
                batch_key=key,
                file_name=name,
                file_sha256=sha256,
                title=clean_title,
                deadline=deadline,
                total=len(sheet.rows),
            )
            BulkSendRow.objects.bulk_create(
                BulkSendRow(job=job, row=number, values=cells) for number, cells in sheet.rows
            )
            _audit(job, "bulk_send.created", {"rows": str(job.total), "file": name})
            transaction.on_commit(lambda: queue(job.id))
    except IntegrityError:  # the same upload, concurrently
        return BulkSend.objects.get(batch_key=key), False
    return job, True


def _resume_if_stale(job: BulkSend) -> None:
    """Run an unfinished job again when nothing has moved it for a while (a restart)."""
    if job.status == BulkStatus.FINISHED:
        return
    moment = job.heartbeat_at or job.created_at
    if moment < timezone.now() - STALE_AFTER:
        queue(job.id)


# -- running a job -----------------------------------------------------------------------------


def process(job_id: str) -> BulkSend | None:
    """Make and send the contract of every pending row. Safe to run again, or twice at once:
    each row is claimed under a lock and done once."""
    job = BulkSend.objects.select_related("sender").filter(pk=job_id).first()
    if job is None or job.status == BulkStatus.FINISHED:
        return job
    with translation.override(job.sender.language or settings.LANGUAGE_CODE):
        now = timezone.now()
        if BulkSend.objects.filter(pk=job.pk, status=BulkStatus.QUEUED).update(
            status=BulkStatus.RUNNING, started_at=now, heartbeat_at=now
        ):
            _audit(job, "bulk_send.started", {"rows": str(job.total)})
        while True:
            pending = list(
                job.rows.filter(status=RowStatus.PENDING)
                .order_by("row")
                .values_list("id", flat=True)[:CHUNK]
            )
            if not pending:
                break
            for row_id in pending:
                _run_row(job, row_id)
        _finish(job)
    job.refresh_from_db()
    return job


def _run_row(job: BulkSend, row_id: int) -> None:
    for attempt in range(LOCK_RETRIES):
        try:
            _send_row(job, row_id)
            return
        except DomainError as exc:
            _fail_row(job, row_id, exc.code, str(exc.message))
            return
        except OperationalError:
            if attempt + 1 < LOCK_RETRIES:
                time.sleep(0.5 * (attempt + 1))
                continue
            log.exception("bulk send %s row %s: database busy", job.id, row_id)
        except Exception:  # one broken row must not stop the batch
            log.exception("bulk send %s row %s failed", job.id, row_id)
        _fail_row(job, row_id, "internal_error", _("Something went wrong on our side."))
        return


def _send_row(job: BulkSend, row_id: int) -> None:
    row = BulkSendRow.objects.get(pk=row_id)
    if row.status != RowStatus.PENDING:
        return
    request = _row_request(job, row.values)
    # Checking and drawing outside the transaction: it takes a moment and needs no lock.
    prepared = templates.prepare_contract(
        actor=job.sender,
        template_id=job.template_id,
        acting_as=job.sender_enterprise_id,
        values=request.values,
        parties=request.parties,
        business_fields=request.business_fields,
    )
    with transaction.atomic():
        row = BulkSendRow.objects.select_for_update().get(pk=row_id)
        if row.status != RowStatus.PENDING:  # another run did it meanwhile
            return
        contract = templates.make_contract(
            actor=job.sender,
            prepared=prepared,
            title=request.title or job.title,
            deadline=request.deadline or job.deadline,
            send=True,
        )
        now = timezone.now()
        row.status, row.contract, row.processed_at = RowStatus.SENT, contract, now
        row.save(update_fields=["status", "contract", "processed_at"])
        BulkSend.objects.filter(pk=job.pk).update(done=F("done") + 1, heartbeat_at=now)
        _audit(job, "bulk_send.row_sent", {"row": str(row.row), "contract": contract.id})


def _fail_row(job: BulkSend, row_id: int, code: str, message: str) -> None:
    with transaction.atomic():
        now = timezone.now()
        changed = BulkSendRow.objects.filter(pk=row_id, status=RowStatus.PENDING).update(
            status=RowStatus.FAILED, error_code=code[:40], error=message[:500], processed_at=now
        )
        if changed:
            BulkSend.objects.filter(pk=job.pk).update(failed=F("failed") + 1, heartbeat_at=now)
            row = BulkSendRow.objects.get(pk=row_id)
            _audit(job, "bulk_send.row_failed", {"row": str(row.row), "error": code})


def _finish(job: BulkSend) -> None:
    with transaction.atomic():
        if job.rows.filter(status=RowStatus.PENDING).exists():
            return  # another run is still at it and will finish the job
        changed = BulkSend.objects.filter(pk=job.pk, status=BulkStatus.RUNNING).update(
            status=BulkStatus.FINISHED, finished_at=timezone.now()
        )
        if changed:
            job.refresh_from_db()
            _audit(job, "bulk_send.finished", {"done": str(job.done), "failed": str(job.failed)})


@dataclass(frozen=True)
class RowRequest:
    values: dict[str, str]
    business_fields: dict[str, str]
    parties: list[dict[str, str]]
    title: str
    deadline: dt.datetime | None


def _row_request(job: BulkSend, cells: dict[str, str]) -> RowRequest:
    """A row's cells as the arguments of one contract from the template."""
    template = job.template
    fields = templates.sender_fields(template)
    business = business_columns(template, fields)
    values: dict[str, str] = {}
    business_fields: dict[str, str] = {}
    for header, cell in cells.items():
        field = field_column(fields, header)
        if field is not None:
            values[field.key] = cell
        elif (named := business_column(business, header)) is not None:
            business_fields[named.key] = cell
    parties = []
    for role in template.roles.all():
        account = cells.get(f"{role.name}.{ACCOUNT}", "")
        enterprise = cells.get(f"{role.name}.{ENTERPRISE}", "")
        if role.is_sender and not (account or enterprise):
            continue  # the sender's own role: the sender signs
        parties.append(
            {
                "role": role.name,
                "kind": "enterprise" if enterprise else "person",
                "account": account,
                "enterprise_name": enterprise,
            }
        )
    return RowRequest(
        values=values,
        business_fields=business_fields,
        parties=parties,
        title=cells.get("title", ""),
        deadline=parse_deadline(cells.get("deadline", "")),
    )


def parse_deadline(raw: str) -> dt.datetime | None:
    """A deadline cell: a date (its last second, local time) or an ISO date and time."""
    if not raw:
        return None
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        try:
            moment = dt.datetime.fromisoformat(raw)
        except ValueError as exc:
            message = _("The deadline is a date like 2026-12-31.")
            raise Invalid(message, code="deadline_format", fields={"deadline": message}) from exc
        return moment if timezone.is_aware(moment) else timezone.make_aware(moment)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(23, 59, 59)))


def _audit(job: BulkSend, action: str, data: dict[str, str]) -> None:
    record_event(
        action=action,
        actor_id=job.sender_id,
        acting_as=job.sender_enterprise_id,
        object_type="bulk_send",
        object_id=job.id,
        data={"template": job.template_id, **data},
    )


def queue(job_id: str) -> None:
    """Run the job as settings.BULK_SEND_RUNNER says (`common.jobs`): one at a time in the
    embedded thread, since SQLite has one writer anyway."""
    jobs.submit(TASK, job_id, run=process, runner=settings.BULK_SEND_RUNNER)


def progress(job: BulkSend) -> int:
    """Percent of rows handled, sent or failed."""
    return 100 if not job.total else (job.done + job.failed) * 100 // job.total


def row_errors(job: BulkSend) -> list[BulkSendRow]:
    return list(job.rows.filter(status=RowStatus.FAILED).order_by("row"))


def jobs_of(template: Template, limit: int = 20) -> list[BulkSend]:
    return list(template.bulk_sends.order_by("-created_at")[:limit])


def job_for(*, actor: User, job_id: str) -> BulkSend:
    """A job *actor* may follow: members of its enterprise who may send contracts (else 404)."""
    job = BulkSend.objects.select_related("template").filter(pk=job_id).first()
    if job is None:
        raise NotFound()
    enterprise_for(
        user=actor, enterprise_id=job.sender_enterprise_id, permission=Permission.SEND_CONTRACTS
    )
    return job


def as_dict(job: BulkSend, *, rows: bool = False) -> dict[str, Any]:
    """The job's status as the API and the progress page show it."""
    body: dict[str, Any] = {
        "id": job.id,
        "template_id": job.template_id,
        "template": job.template.name,
        "file_name": job.file_name,
        "status": job.status,
        "total": job.total,
        "done": job.done,
        "failed": job.failed,
        "pending": job.total - job.done - job.failed,
        "progress": progress(job),
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "errors": [
            {"row": r.row, "code": r.error_code, "message": r.error} for r in row_errors(job)
        ],
    }
    if rows:
        body["rows"] = [
            {"row": r.row, "status": r.status, "contract_id": r.contract_id, "error": r.error}
            for r in job.rows.order_by("row")
        ]
    return body
