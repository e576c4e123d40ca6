"""What a mark looks like in the PDF: decoded images (cached), the date stamp, and the form
XObjects that widgets show (used by `portsign.pki.pades_fields`).

Date stamp (issue 13 item 10). The caller passes the ISO date (`timezone.localdate()
.isoformat()`); it is written 2026年12月02日 in seal red, Noto Serif CJK Bold SC, centred in a
box DATE_ASPECT (0.3) times as high as it is wide, the ratio the signing page gives its date
mark (contracts/detail.html, data-ratio). The font size is computed from the box: the text's
measured width and height must fit inside the padded box, so the stamp fits at any mark width
(2 %-60 % of the page and beyond). Before, the stamp was black Latin digits in a 64 px image
whose aspect followed the text, taller than the UI's box, so it overflowed what the signer
placed. The image is drawn at 300 dpi of the box it fills (at least DATE_MIN_PX wide, so
small stamps stay sharp when zoomed), which keeps the stroke weight the same at every size.

Paging seal 骑缝章 (issue 13 item 11): one seal image cut into N vertical slices, one per page;
`appearance(..., part=(i, n))` shows slice i by drawing the whole image shifted left under a
clip, so all slices share one image XObject.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import math
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

from django.utils.translation import gettext as _
from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from portsign.common.errors import Invalid

MAX_IMAGE_PIXELS = 4096 * 4096  # a 300-dpi seal is ~500 px wide; refuse decompression bombs
# A serif CJK face, like the seals' lettering; the sans face is the fallback.
DATE_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/arphic/ukai.ttc",
)
DATE_INK = (220, 20, 30)  # seals.render.SEAL_RED: the stamp reads as part of the seal
DATE_ASPECT = 0.3  # height / width of a date mark's box, as the signing page draws it
DATE_DPI = 300
DATE_MIN_PX = 240
DATE_MAX_PX = 2400  # 20 cm at 300 dpi: a mark as wide as an A3 page in landscape
DATE_PAD = (0.04, 0.12)  # paper left free inside the box, as fractions of width and height


class SigningError(Invalid):
    """Bad input to the PAdES engine; `code` says which (see each raise)."""

    code = "pdf_invalid"


@dataclass(frozen=True)
class PdfImage:
    width: int
    height: int
    rgb: bytes  # Flate-compressed, 8 bits per component
    alpha: bytes | None  # Flate-compressed soft mask, None when fully opaque


_IMAGES: OrderedDict[str, PdfImage] = OrderedDict()
_IMAGES_LOCK = threading.Lock()  # server threads share the cache
_IMAGE_CACHE_SIZE = 256


def _from_pillow(image: Image.Image) -> PdfImage:
    alpha = image.getchannel("A")
    opaque = alpha.getextrema() == (255, 255)
    return PdfImage(
        width=image.width,
        height=image.height,
        rgb=zlib.compress(image.convert("RGB").tobytes()),
        alpha=None if opaque else zlib.compress(alpha.tobytes()),
    )


def _decode_png(png: bytes) -> PdfImage:
    try:
        opened = Image.open(io.BytesIO(png))
        if opened.width * opened.height > MAX_IMAGE_PIXELS:
            raise SigningError(_("The mark image is too large."), code="image_invalid")
        image = opened.convert("RGBA")
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise SigningError(_("A mark image is not a valid PNG."), code="image_invalid") from exc
    return _from_pillow(image)


def png_image(png: bytes) -> PdfImage:
    """The decoded image, cached by content: a seal is placed thousands of times."""
    key = hashlib.sha256(png).hexdigest()
    with _IMAGES_LOCK:
        found = _IMAGES.get(key)
        if found is not None:
            _IMAGES.move_to_end(key)
            return found
    found = _decode_png(png)  # outside the lock: a race only decodes twice
    with _IMAGES_LOCK:
        _IMAGES[key] = found
        if len(_IMAGES) > _IMAGE_CACHE_SIZE:
            _IMAGES.popitem(last=False)
    return found


# --- the date stamp --------------------------------------------------------------------------


def date_text(text: str) -> str:
    """An ISO date as a Chinese date stamp reads: 2026-12-02 -> 2026年12月02日 (month and day
    in two digits, as date stamps are engraved). Any other text is stamped as given."""
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return text
    return f"{day.year:04d}年{day.month:02d}月{day.day:02d}日"


@lru_cache(maxsize=64)
def _date_font(size: int) -> ImageFont.FreeTypeFont:
    # The .ttc files bundle regional variants; the Simplified Chinese one shapes 年月日 as
    # mainland readers expect.
    for path in DATE_FONTS:
        for index in range(10):
            try:
                candidate = ImageFont.truetype(path, size, index=index)
            except OSError:
                break
            if (candidate.getname()[0] or "").endswith((" SC", " CN")):
                return candidate
    return ImageFont.truetype(DATE_FONTS[0], size)


def date_pixels(width_pt: float) -> tuple[int, int]:
    """The stamp image's size for a box *width_pt* wide: 300 dpi of the box, a multiple of 10
    pixels wide so that the height is exactly DATE_ASPECT of it (no stretching in the PDF)."""
    wanted = width_pt / 72 * DATE_DPI if math.isfinite(width_pt) else DATE_MIN_PX
    width = 10 * math.ceil(min(max(wanted, DATE_MIN_PX), DATE_MAX_PX) / 10)
    return width, round(width * DATE_ASPECT)


def _ink(text: str, size: int) -> Image.Image:
    """*text* drawn at *size* as a coverage mask cropped to its ink: the font's own boxes
    include side bearings (日 leaves paper on its right), which would shift the stamp."""
    face = _date_font(size)
    left, top, right, bottom = face.getbbox(text)
    mask = Image.new("L", (math.ceil(right - left) + 4, math.ceil(bottom - top) + 4), 0)
    ImageDraw.Draw(mask).text((2 - left, 2 - top), text, font=face, fill=255)
    return mask.crop(mask.getbbox() or (0, 0, 1, 1))


def date_font_size(text: str, width: int, height: int) -> int:
    """The largest font size (pixels) at which *text*'s ink fits the padded box."""
    room_w = width * (1 - 2 * DATE_PAD[0])
    room_h = height * (1 - 2 * DATE_PAD[1])
    probe = _ink(text, 100)
    size = max(1, math.floor(100 * min(room_w / probe.width, room_h / probe.height)))
    while size > 1:  # hinting and rounding: confirm at the chosen size
        ink = _ink(text, size)
        if ink.width <= room_w and ink.height <= room_h:
            break
        size -= 1
    return size


@lru_cache(maxsize=512)
def date_stamp(text: str, width_pt: float) -> PdfImage:
    """The date stamp for a box *width_pt* wide, as a transparent image whose ink is centred."""
    shown = date_text(text)
    width, height = date_pixels(width_pt)
    ink = _ink(shown, date_font_size(shown, width, height))
    alpha = Image.new("L", (width, height), 0)
    alpha.paste(ink, ((width - ink.width) // 2, (height - ink.height) // 2))
    canvas = Image.new("RGBA", (width, height), (*DATE_INK, 0))
    canvas.putalpha(alpha)
    return _from_pillow(canvas)


# --- PDF objects -----------------------------------------------------------------------------


def image_xobject(
    writer: IncrementalPdfFileWriter, *, width: int, height: int, rgb: bytes, alpha: bytes | None
) -> generic.IndirectObject:
    """An image XObject from Flate-compressed 8-bit RGB and an optional soft mask (also used
    by contracts' form flattening)."""

    def stream(colour_space: str, data: bytes) -> generic.StreamObject:
        return generic.StreamObject(
            {
                pdf_name("/Type"): pdf_name("/XObject"),
                pdf_name("/Subtype"): pdf_name("/Image"),
                pdf_name("/Width"): generic.NumberObject(width),
                pdf_name("/Height"): generic.NumberObject(height),
                pdf_name("/ColorSpace"): pdf_name(colour_space),
                pdf_name("/BitsPerComponent"): generic.NumberObject(8),
                pdf_name("/Filter"): pdf_name("/FlateDecode"),
            },
            encoded_data=data,  # already compressed: pyHanko writes it as is
        )

    picture = stream("/DeviceRGB", rgb)
    if alpha is not None:
        picture[pdf_name("/SMask")] = writer.add_object(stream("/DeviceGray", alpha))
    return writer.add_object(picture)


def pdf_image_xobject(writer: IncrementalPdfFileWriter, image: PdfImage) -> generic.IndirectObject:
    return image_xobject(
        writer, width=image.width, height=image.height, rgb=image.rgb, alpha=image.alpha
    )


# Appearance matrices that undo the page's /Rotate, so a mark reads upright as displayed.
ROTATION_MATRIX = {0: (1, 0, 0, 1), 90: (0, 1, -1, 0), 180: (-1, 0, 0, -1), 270: (0, -1, 1, 0)}


def numbers(values: tuple[float, ...] | list[float]) -> generic.ArrayObject:
    return generic.ArrayObject(generic.FloatObject(round(v, 4)) for v in values)


def appearance(
    writer: IncrementalPdfFileWriter,
    image_ref: generic.IndirectObject,
    size: tuple[float, float],
    rotate: int,
    part: tuple[int, int] = (0, 1),
) -> generic.IndirectObject:
    """A form XObject showing the image at *size* (displayed points, the whole image), or of
    *part* = (i, n) only vertical slice i of n: the box is 1/n of the width and the image is
    drawn shifted left by i slices, clipped to the box (a paging seal's piece on one page)."""
    width, height = size
    index, count = part
    box_width = width / count
    shift = -index * box_width if index else 0.0  # never "-0.0000"
    content = b"q 0 0 %.4f %.4f re W n %.4f 0 0 %.4f %.4f 0 cm /Im Do Q" % (
        box_width,
        height,
        width,
        height,
        shift,
    )
    return writer.add_object(
        generic.StreamObject(
            {
                pdf_name("/Type"): pdf_name("/XObject"),
                pdf_name("/Subtype"): pdf_name("/Form"),
                pdf_name("/BBox"): numbers((0, 0, box_width, height)),
                pdf_name("/Matrix"): numbers((*ROTATION_MATRIX[rotate], 0, 0)),
                pdf_name("/Resources"): generic.DictionaryObject(
                    {pdf_name("/XObject"): generic.DictionaryObject({pdf_name("/Im"): image_ref})}
                ),
            },
            stream_data=content,
        )
    )
