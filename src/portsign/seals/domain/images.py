"""Checking uploaded seal images and storing seal PNGs.

A seal image is laid over a contract page, so it must be a PNG with a transparent background:
an opaque white square would hide the text under it. Uploads are judged by content (see
common/uploads): size, type, pixel budget against decompression bombs, then transparency.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from decimal import Decimal

from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image

from portsign.common.errors import Invalid
from portsign.common.uploads import StoredFile, read_checked, store_bytes

MAX_SEAL_BYTES = 2 * 2**20
MAX_SEAL_PIXELS = 4_000_000  # 2000 × 2000
MIN_SEAL_SIDE = 64
MIN_TRANSPARENT_SHARE = 0.2  # a seal leaves most of its square see-through
FOLDER = "seals"


@dataclass(frozen=True)
class SealImage:
    data: bytes
    width: int
    height: int


def _bad(field: str, code: str, message: str) -> Invalid:
    return Invalid(message, code=code, fields={field: message})


def check_seal_upload(upload: UploadedFile | None, *, field: str = "file") -> SealImage:
    """A PNG of sensible size with a transparent background, else a clear 400/413."""
    data, _kind = read_checked(upload, allowed={"png"}, max_bytes=MAX_SEAL_BYTES, field=field)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_SEAL_PIXELS:
                raise _bad(
                    field,
                    "file_too_many_pixels",
                    _("The seal image is too large: at most 2000 × 2000 pixels."),
                )
            if min(image.size) < MIN_SEAL_SIDE:
                raise _bad(
                    field,
                    "seal_too_small",
                    _("The seal image is too small: at least 64 pixels on each side."),
                )
            rgba = image.convert("RGBA")
    _check_transparency(rgba, field)
    return SealImage(data=data, width=rgba.width, height=rgba.height)


def _check_transparency(image: Image.Image, field: str) -> None:
    alpha = image.getchannel("A")
    histogram = alpha.histogram()
    pixels = image.width * image.height
    clear = sum(histogram[:16]) / pixels
    inked = sum(histogram[128:]) / pixels
    if clear < MIN_TRANSPARENT_SHARE:
        raise _bad(
            field,
            "seal_opaque",
            _(
                "The image has an opaque background. Upload a PNG whose background is "
                "transparent, or upload a scan under seal pre-processing and PortSign will cut "
                "the seal out for you."
            ),
        )
    if inked < 0.005:
        raise _bad(field, "seal_empty", _("The image is almost entirely transparent."))


def store_seal_png(data: bytes) -> StoredFile:
    return store_bytes(data, folder=FOLDER, kind="png")


def size_mm(width_px: int, height_px: int, *, width_mm: Decimal) -> tuple[Decimal, Decimal]:
    """Physical size from a chosen width, keeping the image's aspect ratio."""
    height = (width_mm * height_px / width_px).quantize(Decimal("0.1"))
    return width_mm, max(height, Decimal("1.0"))
