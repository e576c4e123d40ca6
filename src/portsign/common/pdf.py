"""Untrusted PDFs: the one place that decides what PortSign accepts, and how it renders and
rewrites a document it did not write.

- `inspect` runs at every upload: PDFium must open the file, it must have pages, it must not be
  encrypted (asked of PDFium's security handler, so `/Encr#79pt` and other spellings of the
  name cannot slip past a byte search), and every page must be a size a viewer can show.
- `render_page` draws a page to a fixed pixel budget in a child process that limits its own
  memory and CPU (common/pdf_render.py): a 461-byte file with a 14,400 pt page or a content
  stream that decodes to gigabytes costs that child its life, not a server worker 3 GB.
- `make_signable` turns PDFium's rewrite of a file into one pyHanko reads strictly: PDFium
  repairs broken cross-reference tables but keeps references to objects it dropped (a
  dangling /Info), which pyHanko's strict reader, and so every signature, refused with a 500.
"""

from __future__ import annotations

import io
import subprocess
import sys
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from django.conf import settings
from django.utils.translation import gettext as _
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import copy_into_new_writer

from portsign.common.errors import Invalid

# ISO 32000-1 Annex C: 14,400 units (200 in, 5.08 m) is the largest page side a conforming
# writer declares; a page larger than that, or smaller than 3 pt (~1 mm), is no document.
MAX_PAGE_POINTS = 14_400.0
MIN_PAGE_POINTS = 3.0
# A page is rendered at the dpi asked for, but never to more pixels than this (64 MB of BGRA):
# an A4 page at 200 dpi is 3.9 million.
RENDER_MAX_PIXELS = 16_000_000
RENDER_CPU_SECONDS = 20
RENDER_WALL_SECONDS = 60  # a child blocked on I/O is stopped too
# Objects walked when checking a rewrite; a contract has a few thousand.
MAX_OBJECTS = 500_000
# What reading a hostile or broken PDF with pyHanko can raise; RecursionError: objects nested
# thousands deep exhaust its recursive parser. Shared with the PAdES engine (pki/pades.py).
PDF_READ_ERRORS = (
    PdfError,
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    AttributeError,
    RecursionError,
)


class RenderFailed(Exception):
    """The page could not be drawn within the limits (or the child died trying)."""


def _bad(field: str, code: str, message: str) -> Invalid:
    return Invalid(message, code=code, fields={field: message})


def _encrypted_error(field: str) -> Invalid:
    return _bad(
        field, "file_encrypted", _("The PDF is password-protected. Upload an unprotected copy.")
    )


def _open(data: bytes, field: str) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if pdfium_c.FPDF_GetLastError() == pdfium_c.FPDF_ERR_PASSWORD:
            raise _encrypted_error(field) from exc
        raise _bad(field, "file_corrupt", _("The PDF is incomplete or damaged.")) from exc


def inspect(data: bytes, *, field: str = "file") -> int:
    """The number of pages of a PDF PortSign can show and sign; else a clear field error."""
    document = _open(data, field)
    try:
        # -1 means no security handler. Owner-password files open without a password, yet
        # their content is encrypted and an incremental signature cannot be added to them.
        if pdfium_c.FPDF_GetSecurityHandlerRevision(document) != -1:
            raise _encrypted_error(field)
        pages = len(document)
        if pages < 1:
            raise _bad(field, "file_corrupt", _("The PDF has no pages."))
        for index in range(pages):
            _check_page_size(document, index, field)
    finally:
        document.close()
    return pages


def _check_page_size(document: pdfium.PdfDocument, index: int, field: str) -> None:
    # PDFium reads the size without loading the page's content.
    width, height = document.get_page_size(index)
    if all(MIN_PAGE_POINTS <= side <= MAX_PAGE_POINTS for side in (width, height)):
        return
    message = _(
        "Page %(page)d measures %(width).0f × %(height).0f pt; pages must be between "
        "%(min).0f and %(max).0f pt (5.08 m) on each side."
    ) % {
        "page": index + 1,
        "width": width,
        "height": height,
        "min": MIN_PAGE_POINTS,
        "max": MAX_PAGE_POINTS,
    }
    raise _bad(field, "page_size", message)


def render_page(data: bytes, index: int, *, dpi: float) -> bytes:
    """Page *index* (0-based) as PNG, at *dpi* or lower to stay within the pixel budget."""
    command = [
        sys.executable,
        "-m",
        "portsign.common.pdf_render",
        str(index),
        str(dpi),
        str(RENDER_MAX_PIXELS),
        str(settings.PDF_RENDER_MEMORY_MB * 2**20),
        str(RENDER_CPU_SECONDS),
    ]
    try:
        # The arguments are ours; the document travels on stdin as data.
        done = subprocess.run(  # noqa: S603
            command, input=data, capture_output=True, timeout=RENDER_WALL_SECONDS, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise RenderFailed("render timed out") from exc
    if done.returncode != 0 or not done.stdout.startswith(b"\x89PNG"):
        raise RenderFailed(f"render exited with {done.returncode}")
    return done.stdout


def make_signable(pdf: bytes, *, field: str = "file") -> bytes:
    """*pdf* (as PDFium wrote it) in a form pyHanko's strict reader accepts.

    A clean file is returned unchanged. Otherwise pyHanko reads it leniently (a missing object
    becomes null) and writes every reachable object out again; a file that is still not clean
    is refused, before anyone is asked to sign it.
    """
    if _strictly_readable(pdf):
        return pdf
    try:
        writer = copy_into_new_writer(PdfFileReader(io.BytesIO(pdf), strict=False))
        out = io.BytesIO()
        writer.write(out)
        repaired = out.getvalue()
    except PDF_READ_ERRORS:
        repaired = b""
    if repaired and _strictly_readable(repaired):
        return repaired
    raise _bad(
        field,
        "file_unsignable",
        _("The PDF's structure is damaged beyond repair. Save it again as PDF and upload it."),
    )


def _strictly_readable(pdf: bytes) -> bool:
    """Whether every object reachable from the trailer resolves in pyHanko's strict mode."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=True)
        trailer = reader.trailer
        keys = trailer.keys()  # a TrailerDictionary is not iterable
        pending: list[Any] = [trailer.raw_get(key) for key in keys]
        return _walk(pending)
    except PDF_READ_ERRORS:
        return False


def _walk(pending: list[Any]) -> bool:
    seen: set[tuple[int, int]] = set()
    while pending:
        value = pending.pop()
        if isinstance(value, generic.IndirectObject):
            if (value.idnum, value.generation) in seen:
                continue
            seen.add((value.idnum, value.generation))
            if len(seen) > MAX_OBJECTS:
                return False
            value = value.get_object()  # strict: a missing object raises
        if isinstance(value, generic.DictionaryObject):  # streams too
            pending.extend(value.raw_get(key) for key in value)
        elif isinstance(value, generic.ArrayObject):
            pending.extend(value.raw_get(index) for index in range(len(value)))
    return True
