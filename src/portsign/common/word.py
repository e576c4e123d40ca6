"""Word documents to PDF with LibreOffice, bounded (issue 11 item 4).

A conversion is a large native program chewing on an untrusted file, so:
- the file is looked at first: a .docx is a zip, refused when it unpacks past a bound (a zip
  bomb) or declares more pages than allowed (docProps/app.xml), before LibreOffice sees it;
- at most WORD_CONVERSIONS run at once on a host (slots are flock()ed files, so every worker
  process shares them); a request that finds them all busy gets 503 with Retry-After at once
  instead of holding a server thread in a queue, a worker (`common.conversions`) waits;
- LibreOffice starts in its own session (process group) and the whole group is killed when it
  overruns WORD_CONVERSION_SECONDS, so no soffice.bin survives as an orphan.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from portsign.common.errors import Busy, Invalid

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .doc
MAX_UNPACKED_BYTES = 200 * 2**20
MAX_ZIP_ENTRIES = 10_000
_PAGES = re.compile(rb"<(?:\w+:)?Pages>\s*(\d{1,9})\s*</(?:\w+:)?Pages>")


def _bad(field: str, code: str, message: str) -> Invalid:
    return Invalid(message, code=code, fields={field: message})


def _failed(field: str) -> Invalid:
    return _bad(field, "conversion_failed", _("The Word document could not be converted."))


def is_word(data: bytes) -> bool:
    return data.startswith((ZIP_MAGIC, OLE_MAGIC))


def check_word(data: bytes, *, max_pages: int, field: str = "file") -> None:
    """Refuse a .docx that unpacks too large or declares more than *max_pages* pages."""
    if not data.startswith(ZIP_MAGIC):
        return  # a legacy .doc: bounded by the timeout and the page count after conversion
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            if len(entries) > MAX_ZIP_ENTRIES or (
                sum(entry.file_size for entry in entries) > MAX_UNPACKED_BYTES
            ):
                raise _bad(
                    field,
                    "file_corrupt",
                    _("The Word document unpacks to far more than a contract needs."),
                )
            declared = _declared_pages(archive)
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise _failed(field) from exc
    if declared is not None and declared > max_pages:
        raise _bad(
            field,
            "too_many_pages",
            _("The document has %(pages)d pages; at most %(max)d are allowed.")
            % {"pages": declared, "max": max_pages},
        )


def _declared_pages(archive: zipfile.ZipFile) -> int | None:
    try:
        with archive.open("docProps/app.xml") as handle:
            found = _PAGES.search(handle.read(64 * 1024))
    except KeyError:
        return None
    return int(found.group(1)) if found else None


@contextlib.contextmanager
def conversion_slot(*, wait: float = 0) -> Iterator[None]:
    """Hold one of the host's WORD_CONVERSIONS slots. A request (*wait* 0) that finds none free
    gets Busy at once; a worker waits up to *wait* seconds for one."""
    folder = Path(settings.DATA_DIR) / "conversion-slots"
    folder.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait
    while True:
        fd = _free_slot(folder)
        if fd is not None:
            break
        if time.monotonic() >= deadline:
            raise Busy(
                _("Other Word documents are being converted right now. Try again in a minute."),
                code="conversion_busy",
                retry_after=30,
            )
        time.sleep(0.5)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _free_slot(folder: Path) -> int | None:
    """A locked slot file's descriptor, or None when every slot is taken."""
    for index in range(settings.WORD_CONVERSIONS):
        fd = os.open(folder / f"{index}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return fd
    return None


def convert(data: bytes, *, max_pages: int, field: str = "file", wait: bool = False) -> bytes:
    """*data* (a .docx or .doc) as PDF bytes, or Invalid/Busy with a clear reason. A worker
    (*wait*) queues for a slot as long as a conversion may take; a request does not."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise _bad(
            field,
            "conversion_unavailable",
            _(
                "Word files cannot be converted on this server. Save the document as PDF and "
                "upload that."
            ),
        )
    check_word(data, max_pages=max_pages, field=field)
    slot = conversion_slot(wait=10 * settings.WORD_CONVERSION_SECONDS if wait else 0)
    with slot, tempfile.TemporaryDirectory(prefix="portsign-convert-") as folder:
        source = Path(folder) / "contract.docx"
        source.write_bytes(data)
        command = [
            soffice,
            f"-env:UserInstallation=file://{folder}/profile",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            folder,
            str(source),
        ]
        if not _run_in_own_group(command, timeout=settings.WORD_CONVERSION_SECONDS):
            raise _failed(field)
        result = Path(folder) / "contract.pdf"
        if not result.exists():
            raise _failed(field)
        return result.read_bytes()


def _run_in_own_group(command: list[str], *, timeout: int) -> bool:
    """Run *command* as the leader of a new process group; kill the group if it overruns.
    True when it exited 0 in time."""
    # The arguments are ours; the document is a file LibreOffice opens, not a command.
    process = subprocess.Popen(  # noqa: S603
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        return process.wait(timeout=timeout) == 0
    except subprocess.TimeoutExpired:
        return False
    finally:
        # Also after a clean exit: LibreOffice may leave helpers behind in its group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
