"""Checking and storing uploaded documents (licences, letters, scans).

A file is judged by its content, never by its name or declared type: images must open and
verify in Pillow within a pixel budget (decompression bombs are refused before decoding), PDFs
must pass `common.pdf.inspect` (open in PDFium, pages of a sane size, not encrypted). Accepted
files are stored content-addressed (SHA-256), so identical uploads share one immutable object.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image

from portsign.common import pdf
from portsign.common.errors import Invalid, TooLarge

MAX_IMAGE_PIXELS = 40_000_000  # ~ an A4 scan at 600 dpi; anything larger is refused
_KINDS = {"jpeg": "jpg", "png": "png", "pdf": "pdf"}


@dataclass(frozen=True)
class StoredFile:
    path: str
    sha256: str
    kind: str  # jpeg | png | pdf
    size: int


def _sniff(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"%PDF-"):
        return "pdf"
    return None


def _check_image(data: bytes, field: str) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > MAX_IMAGE_PIXELS:
                    raise _bad(
                        field,
                        "file_too_many_pixels",
                        _("The image is too large (more than 40 megapixels)."),
                    )
                image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _bad(
            field, "file_too_many_pixels", _("The image is too large (more than 40 megapixels).")
        ) from exc
    except Invalid:
        raise
    except Exception as exc:  # Pillow raises many types for damaged files
        raise _bad(field, "file_corrupt", _("The image is damaged and cannot be read.")) from exc


def _check_pdf(data: bytes, field: str) -> None:
    pdf.inspect(data, field=field)


def _bad(field: str, code: str, message: str) -> Invalid:
    return Invalid(message, code=code, fields={field: message})


def read_bytes(upload: UploadedFile | None, *, max_bytes: int, field: str = "file") -> bytes:
    """The upload's bytes, or a clear error when there is none or it is larger than allowed."""
    if upload is None:
        raise _bad(field, "file_required", _("Choose a file to upload."))
    if upload.size is not None and upload.size > max_bytes:
        raise _too_large(max_bytes, field)
    data: bytes = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _too_large(max_bytes, field)
    return data


def read_checked(
    upload: UploadedFile | None,
    *,
    allowed: set[str],
    max_bytes: int,
    field: str = "file",
) -> tuple[bytes, str]:
    """The upload's bytes and kind, once its size, type and content have passed."""
    data = read_bytes(upload, max_bytes=max_bytes, field=field)
    kind = _sniff(data[:16])
    if kind not in allowed:
        names = "/".join(sorted(k.upper() for k in allowed))
        raise _bad(field, "file_type", _("Upload a %(types)s file.") % {"types": names})
    if kind == "pdf":
        _check_pdf(data, field)
    else:
        _check_image(data, field)
    return data, kind


def _too_large(max_bytes: int, field: str) -> TooLarge:
    if max_bytes >= 2**20:
        size = _("%(mb)d MB") % {"mb": max_bytes // 2**20}
    else:
        size = _("%(kb)d KB") % {"kb": max_bytes // 2**10}
    return TooLarge(
        _("The file is larger than %(size)s.") % {"size": size},
        code="file_too_large",
        fields={field: _("Too large.")},
    )


def store_bytes(data: bytes, *, folder: str, kind: str) -> StoredFile:
    """Store *data* content-addressed; identical content is stored once."""
    digest = hashlib.sha256(data).hexdigest()
    path = f"{folder}/{digest[:2]}/{digest}.{_KINDS[kind]}"
    if not default_storage.exists(path):
        default_storage.save(path, ContentFile(data))
    return StoredFile(path=path, sha256=digest, kind=kind, size=len(data))


def check_and_store(
    upload: UploadedFile | None,
    *,
    folder: str,
    allowed: set[str],
    max_bytes: int,
    field: str = "file",
) -> StoredFile:
    data, kind = read_checked(upload, allowed=allowed, max_bytes=max_bytes, field=field)
    return store_bytes(data, folder=folder, kind=kind)
