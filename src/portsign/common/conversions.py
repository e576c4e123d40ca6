"""Word documents converted by a worker, with progress (issue 11 item 4).

`start` checks the upload as far as it can without LibreOffice (size, a Word file, zip bombs,
declared pages), stores it and answers at once with a queued Conversion; a job (`common.jobs`,
WORD_CONVERSIONS of them at a time) converts it, moving `status` and `progress` through
queued (0) → converting (20) → checking the PDF (80) → done (100), or failed with the error a
synchronous upload would have answered. The owner then names the conversion where a file is
expected (`result_pdf`). Only the owner sees it; `cleanup` drops it and its files after a day.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from portsign.common import jobs, uploads, word
from portsign.common import pdf as pdf_checks
from portsign.common.errors import Conflict, DomainError, Invalid, NotFound
from portsign.common.models import Conversion

if TYPE_CHECKING:  # accounts sits above common
    from portsign.accounts.models import User

log = logging.getLogger(__name__)

TASK = "common.convert_word"  # the Celery task (common/tasks.py) by name
KEEP = dt.timedelta(days=1)
Status = Conversion.Status


def start(*, actor: User, upload: UploadedFile | None, field: str = "file") -> Conversion:
    """Check and store a Word upload and queue its conversion."""
    data = uploads.read_bytes(upload, max_bytes=settings.CONTRACT_MAX_MB * 2**20, field=field)
    if not word.is_word(data):
        message = _("Only Word documents (.doc, .docx) are converted; upload a PDF directly.")
        raise Invalid(message, code="file_type", fields={field: message})
    word.check_word(data, max_pages=settings.CONTRACT_MAX_PAGES, field=field)
    name = (getattr(upload, "name", "") or "document.docx").strip()[:200]
    conversion = Conversion(owner=actor, name=name)
    conversion.source_path = default_storage.save(
        f"conversions/{conversion.id}/source", ContentFile(data)
    )
    conversion.save()
    transaction.on_commit(lambda: queue(conversion.id))
    return conversion


def queue(conversion_id: str) -> None:
    jobs.submit(
        TASK,
        conversion_id,
        run=run,
        runner=settings.CONVERSION_RUNNER,
        threads=settings.WORD_CONVERSIONS,
    )


def run(conversion_id: str) -> None:
    """Convert one queued conversion (a second run of a claimed or finished one does nothing,
    unless its worker died: a claim older than twice the time limit is taken over)."""
    if not _claim(conversion_id):
        return
    conversion = Conversion.objects.select_related("owner").get(pk=conversion_id)
    # Errors are kept as text for the owner to read, so they are written in the owner's language.
    with translation.override(conversion.owner.language or settings.LANGUAGE_CODE):
        _convert(conversion)


def _convert(conversion: Conversion) -> None:
    conversion_id = conversion.id
    try:
        with default_storage.open(conversion.source_path) as handle:
            data = handle.read()
        pdf = word.convert(data, max_pages=settings.CONTRACT_MAX_PAGES, wait=True)
        _update(conversion_id, progress=80)
        pages = pdf_checks.inspect(pdf)
        if pages > settings.CONTRACT_MAX_PAGES:
            message = _("The document has %(pages)d pages; at most %(max)d are allowed.") % {
                "pages": pages,
                "max": settings.CONTRACT_MAX_PAGES,
            }
            raise Invalid(message, code="too_many_pages")
    except DomainError as exc:
        _finish(conversion_id, error=exc)
        return
    except Exception:  # storage, or a converter bug: the row must not stay "converting"
        log.exception("conversion %s failed", conversion_id)
        _finish(
            conversion_id,
            error=Invalid(_("The Word document could not be converted."), code="conversion_failed"),
        )
        return
    result = default_storage.save(f"conversions/{conversion_id}/result.pdf", ContentFile(pdf))
    _update(
        conversion_id,
        status=Status.DONE,
        progress=100,
        pages=pages,
        result_path=result,
        finished_at=timezone.now(),
    )


def _claim(conversion_id: str) -> bool:
    now = timezone.now()
    dead = now - dt.timedelta(seconds=2 * settings.WORD_CONVERSION_SECONDS)
    queued = Conversion.objects.filter(pk=conversion_id, status=Status.QUEUED)
    stale = Conversion.objects.filter(
        pk=conversion_id, status=Status.CONVERTING, started_at__lt=dead
    )
    claim = {"status": Status.CONVERTING, "progress": 20, "started_at": now}
    return bool(queued.update(**claim) or stale.update(**claim))


def _update(conversion_id: str, **values: object) -> None:
    Conversion.objects.filter(pk=conversion_id).update(**values)


def _finish(conversion_id: str, *, error: DomainError) -> None:
    _update(
        conversion_id,
        status=Status.FAILED,
        progress=100,
        error_code=error.code,
        error_message=str(error.message)[:300],
        finished_at=timezone.now(),
    )


def get(*, actor: User, conversion_id: str) -> Conversion:
    """The actor's own conversion; anyone else's is not found."""
    found = Conversion.objects.filter(pk=conversion_id, owner=actor).first()
    if found is None:
        raise NotFound(_("No such conversion."))
    return found


def result_pdf(*, actor: User, conversion_id: str, field: str = "conversion") -> bytes:
    """The converted PDF of the actor's finished conversion, or why there is none yet."""
    conversion = get(actor=actor, conversion_id=conversion_id)
    if conversion.status == Status.FAILED:
        raise Invalid(
            conversion.error_message, code=conversion.error_code, fields={field: conversion.name}
        )
    if conversion.status != Status.DONE:
        raise Conflict(_("The Word document is still being converted."), code="conversion_pending")
    with default_storage.open(conversion.result_path) as handle:
        data: bytes = handle.read()
    return data


def resume_stale(*, now: dt.datetime) -> int:
    """Queue again what a restarted process lost: conversions queued or claimed longer ago than
    a conversion may take twice (`cleanup`; `run` takes over a dead claim)."""
    dead = now - dt.timedelta(seconds=2 * settings.WORD_CONVERSION_SECONDS)
    stale = list(
        Conversion.objects.filter(
            Q(status=Status.QUEUED, created_at__lt=dead)
            | Q(status=Status.CONVERTING, started_at__lt=dead)
        ).values_list("id", flat=True)
    )
    for conversion_id in stale:
        queue(conversion_id)
    return len(stale)


def forget_old(*, now: dt.datetime) -> int:
    """Drop conversions older than a day, with their files (`cleanup`)."""
    old = list(Conversion.objects.filter(created_at__lt=now - KEEP))
    for conversion in old:
        for path in (conversion.source_path, conversion.result_path):
            if path:
                default_storage.delete(path)
        conversion.delete()
    return len(old)
