"""Contract documents: checked uploads, Word conversion, attachment merging, page previews.

A contract body must be a real, unencrypted PDF within size and page limits. Word files are
converted by LibreOffice headless when it is installed; otherwise the upload is refused with a
clear error. Every PDF is stored once, content-addressed, and never changed: each signing
produces a new Document.
"""

from __future__ import annotations

import hashlib
import io
import logging

import pypdfium2 as pdfium
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw

from portsign.accounts.models import User
from portsign.common import conversions, uploads, word
from portsign.common import pdf as pdf_checks
from portsign.common.errors import Invalid
from portsign.contracts.models import Document
from portsign.seals.render import SANS_FONT, font

PREVIEW_DPI = 96
PREVIEW_A4 = (794, 1123)  # an A4 page at PREVIEW_DPI, in pixels
# Part of the cache path: bumped when the rendering changes (v2 draws the form layer, the
# seals), so no preview cached by an older renderer is shown again.
PREVIEW_VERSION = "v2"

log = logging.getLogger(__name__)


def _bad(field: str, code: str, message: str) -> Invalid:
    return Invalid(message, code=code, fields={field: message})


def read_upload(upload: UploadedFile | None, *, field: str = "file") -> bytes:
    return uploads.read_bytes(upload, max_bytes=settings.CONTRACT_MAX_MB * 2**20, field=field)


def uploaded_pdf(
    actor: User, upload: UploadedFile | None, conversion: str = "", *, field: str = "file"
) -> bytes:
    """The PDF a user gave: the Word document they had converted (named by *conversion*,
    `common.conversions`), else the uploaded file (a Word file converted right here)."""
    if conversion:
        return conversions.result_pdf(actor=actor, conversion_id=conversion)
    return to_pdf(read_upload(upload, field=field), field=field)


def to_pdf(data: bytes, *, field: str = "file") -> bytes:
    """*data* as PDF bytes: PDFs pass through, Word files are converted, anything else fails."""
    if data.startswith(b"%PDF-"):
        return data
    if word.is_word(data):
        return word.convert(data, max_pages=settings.CONTRACT_MAX_PAGES, field=field)
    raise _bad(field, "file_type", _("Upload a PDF or a Word document."))


def count_pages(pdf: bytes, *, field: str = "file") -> int:
    """Pages of a PDF that passes `common.pdf.inspect`, within the page limit."""
    pages = pdf_checks.inspect(pdf, field=field)
    if pages > settings.CONTRACT_MAX_PAGES:
        raise _bad(
            field,
            "too_many_pages",
            _("The document has %(pages)d pages; at most %(max)d are allowed.")
            % {"pages": pages, "max": settings.CONTRACT_MAX_PAGES},
        )
    return pages


def store_pdf(pdf: bytes, *, field: str = "file") -> Document:
    """Check and store *pdf*; the same bytes give the same Document."""
    pages = count_pages(pdf, field=field)
    digest = hashlib.sha256(pdf).hexdigest()
    existing = Document.objects.filter(sha256=digest).first()
    if existing is not None:
        return existing
    path = f"contracts/{digest[:2]}/{digest}.pdf"
    if not default_storage.exists(path):
        default_storage.save(path, ContentFile(pdf))
    try:
        with transaction.atomic():
            return Document.objects.create(sha256=digest, path=path, pages=pages, size=len(pdf))
    except IntegrityError:  # the same file stored by a concurrent request
        return Document.objects.get(sha256=digest)


def read_document(document: Document) -> bytes:
    with default_storage.open(document.path) as handle:
        data: bytes = handle.read()
    return data


def merge(body: bytes, attachments: list[bytes]) -> bytes:
    """The body followed by every page of each attachment, as one PDF written by PDFium."""
    merged = pdfium.PdfDocument(body)
    try:
        for data in attachments:
            extra = pdfium.PdfDocument(data)
            try:
                merged.import_pages(extra)
            finally:
                extra.close()
        out = io.BytesIO()
        merged.save(out)
    finally:
        merged.close()
    return out.getvalue()


def prepare(body: bytes, attachments: list[bytes], *, field: str = "file") -> bytes:
    """What parties sign or fill: checked inputs merged, and made signable.

    Always written out again, attachments or not: signing appends incremental updates, which
    needs a clean cross-reference table that real-world PDFs do not all have, and PDFium's
    repair can leave references pyHanko refuses (`common.pdf.make_signable`).
    """
    return pdf_checks.make_signable(merge(body, attachments), field=field)


def preview_png(document: Document, page: int) -> bytes:
    """Page *page* (1-based) as PNG, rendered once and cached beside the document."""
    if not 1 <= page <= document.pages:
        raise Invalid(
            _("The document has pages 1 to %(n)d.") % {"n": document.pages}, code="page_range"
        )
    path = f"previews/{PREVIEW_VERSION}/{document.sha256[:2]}/{document.sha256}-{page}.png"
    if default_storage.exists(path):
        with default_storage.open(path) as handle:
            cached: bytes = handle.read()
        return cached
    try:
        png = pdf_checks.render_page(read_document(document), page - 1, dpi=PREVIEW_DPI)
    except pdf_checks.RenderFailed:
        # Kept like a page, so a page that cannot be drawn costs one attempt, not one a view.
        log.warning("page %d of document %s cannot be rendered", page, document.sha256)
        png = unavailable_png()
    default_storage.save(path, ContentFile(png))
    return png


def unavailable_png() -> bytes:
    """A grey A4-shaped card saying the page cannot be previewed (shown instead of it)."""
    image = Image.new("RGB", (PREVIEW_A4[0], PREVIEW_A4[1]), "#eeeeee")
    draw = ImageDraw.Draw(image)
    text = str(_("This page cannot be previewed. Download the PDF to read it."))
    draw.text((40, PREVIEW_A4[1] // 2), text, fill="#555555", font=font(SANS_FONT, 18))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
