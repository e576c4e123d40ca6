"""What a PAdES approval signature looks like in the PDF: the marks, their appearances and the
signature field with its widgets (used by `portsign.pki.pades`, which re-exports `Mark` and
`SigningError`).

Marks. Every mark of a call (seal, signature image, date stamp, on any page) is a widget
annotation of the one signature field being signed, each with its own appearance stream, in
the incremental revision the signature covers. The first image mark is the field's first
widget. Alternative measured and rejected: extra marks as Stamp annotations (Print|ReadOnly|
Locked) in the signed revision. That revision itself validates, but when a LATER party adds
its revision with Stamp annotations, pyHanko's difference analysis (0.38) refuses them for
every earlier signature ("The newly added annotations ... were not recognised": modification
level OTHER, docmdp_ok False, bottom_line False) although their bytes are intact. Widgets of a
new signature field are accepted (level FORM_FILLING, docmdp_ok True), multiple widgets
included, so every earlier signature stays valid.

Field structure (issue 13; measured with pyHanko 0.38, poppler's pdfsig 22.12, mupdf's
`mutool sign -v` 1.21, on two parties with 1-3 widgets each, the B-LTA revision, and an
invisible signature). The field carries /FT /Sig, /T and /V; each widget is a kid with
/Parent -> the field, NO /T and NO /FT of its own, the same /V (the signature dictionary) as
the field, and is listed in its page's /Annots (an invisible signature: one 0x0 widget on
page 1). ISO 32000-1 12.7.3.2 allows this: field dictionaries without /T under a common parent
are representations of the same field. What each reader needs:
* mupdf finds signatures only through the pages' widgets, takes /FT through /Parent, and reads
  /V/ByteRange and /V/Contents from the widget object itself (pdf_signature_byte_range). Kids
  without /Parent: no signature at all (nothing printed); /Parent without /V on the kid:
  "Digest error: Signature invalidated by change to document." for every widget.
* poppler with /Parent but no /V on the kid takes each widget for a child field without a
  value: "The signature form field is not signed." With /V on the kid: "Signature is Valid."
  (once per widget, all named after the field).
* pyHanko skips kids without /T when it enumerates fields, so it sees one field; its
  difference analysis accepts the structure for earlier signatures (form filling, then LTA
  updates). Kids with their own /FT /Sig and /V but no /Parent also satisfy all three, but
  ISO 32000-1 12.5.6.19 (Table 188) requires /Parent on a widget that is one of several kids.
mupdf 1.21 does not check RFC 3161 document timestamps (/Type /DocTimeStamp): it prints
"Signature is not signed." for them; openssl ts -verify does check them (tests/verifiers.py).

Coordinates come as a browser UI sends them: fractions of the displayed page (crop box, after
/Rotate), origin top-left; the height follows from the image's aspect ratio. Date stamps are
rendered with Pillow in Noto Sans CJK (no font embedding needed, any script prints).
"""

from __future__ import annotations

import hashlib
import io
import math
import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.utils.translation import gettext as _
from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name, pdf_string
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader

from portsign.common.errors import Invalid

MAX_IMAGE_PIXELS = 4096 * 4096  # a 300-dpi seal is ~500 px wide; refuse decompression bombs
DATE_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
DATE_INK = (20, 20, 30)
# Annotation flags (ISO 32000-1 12.5.3): Print | Locked. ReadOnly is ignored on widgets (the
# field's own flag governs them), and a signed field is never editable anyway.
WIDGET_FLAGS = 4 | 128
_EPSILON = 1e-6


class SigningError(Invalid):
    """Bad input to the PAdES engine; `code` says which (see each raise)."""

    code = "pdf_invalid"


@dataclass(frozen=True)
class Mark:
    """One thing placed on a page, in fractions of the displayed page, origin top-left."""

    page: int  # 1-based
    x: float
    y: float
    width: float
    png: bytes | None  # transparent PNG (seal, signature); None with `text` for a date stamp
    text: str = ""  # e.g. "2026-11-23"


# --- images and appearances ------------------------------------------------------------------


@dataclass(frozen=True)
class _Image:
    width: int
    height: int
    rgb: bytes  # Flate-compressed, 8 bits per component
    alpha: bytes | None  # Flate-compressed soft mask, None when fully opaque


_IMAGES: OrderedDict[str, _Image] = OrderedDict()
_IMAGES_LOCK = threading.Lock()  # server threads share the cache
_IMAGE_CACHE_SIZE = 256


def _decode_png(png: bytes) -> _Image:
    try:
        opened = Image.open(io.BytesIO(png))
        if opened.width * opened.height > MAX_IMAGE_PIXELS:
            raise SigningError(_("The mark image is too large."), code="image_invalid")
        image = opened.convert("RGBA")
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise SigningError(_("A mark image is not a valid PNG."), code="image_invalid") from exc
    alpha = image.getchannel("A")
    opaque = alpha.getextrema() == (255, 255)
    return _Image(
        width=image.width,
        height=image.height,
        rgb=zlib.compress(image.convert("RGB").tobytes()),
        alpha=None if opaque else zlib.compress(alpha.tobytes()),
    )


def _image(png: bytes) -> _Image:
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


@lru_cache(maxsize=8)
def _date_font(size: int) -> ImageFont.FreeTypeFont:
    # The .ttc bundles regional variants; the Simplified Chinese one shapes dates like 年月日.
    for index in range(10):
        try:
            candidate = ImageFont.truetype(DATE_FONT, size, index=index)
        except OSError:
            break
        if (candidate.getname()[0] or "").endswith(" SC"):
            return candidate
    return ImageFont.truetype(DATE_FONT, size)


@lru_cache(maxsize=512)
def _text_image(text: str) -> _Image:
    """A date stamp as a transparent image: 64 px text (5.4 mm at 300 dpi), tight margins."""
    font = _date_font(64)
    left, top, right, bottom = (round(v) for v in font.getbbox(text))
    pad = 8
    canvas = Image.new("RGBA", (right - left + 2 * pad, bottom - top + 2 * pad), (*DATE_INK, 0))
    ImageDraw.Draw(canvas).text((pad - left, pad - top), text, font=font, fill=(*DATE_INK, 255))
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG")
    return _decode_png(buffer.getvalue())


def _mark_image(mark: Mark) -> _Image:
    if mark.png is not None:
        return _image(mark.png)
    if mark.text.strip():
        return _text_image(mark.text.strip())
    raise SigningError(_("A mark needs an image or a text."), code="mark_empty")


def _image_xobject(writer: IncrementalPdfFileWriter, image: _Image) -> generic.IndirectObject:
    return image_xobject(
        writer, width=image.width, height=image.height, rgb=image.rgb, alpha=image.alpha
    )


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


# Appearance matrices that undo the page's /Rotate, so a mark reads upright as displayed.
_ROTATION_MATRIX = {0: (1, 0, 0, 1), 90: (0, 1, -1, 0), 180: (-1, 0, 0, -1), 270: (0, -1, 1, 0)}


def _appearance(
    writer: IncrementalPdfFileWriter,
    image_ref: generic.IndirectObject,
    width: float,
    height: float,
    rotate: int,
) -> generic.IndirectObject:
    content = b"q %.4f 0 0 %.4f 0 0 cm /Im Do Q" % (width, height)
    return writer.add_object(
        generic.StreamObject(
            {
                pdf_name("/Type"): pdf_name("/XObject"),
                pdf_name("/Subtype"): pdf_name("/Form"),
                pdf_name("/BBox"): _numbers((0, 0, width, height)),
                pdf_name("/Matrix"): _numbers((*_ROTATION_MATRIX[rotate], 0, 0)),
                pdf_name("/Resources"): generic.DictionaryObject(
                    {pdf_name("/XObject"): generic.DictionaryObject({pdf_name("/Im"): image_ref})}
                ),
            },
            stream_data=content,
        )
    )


def _numbers(values: Iterable[float]) -> generic.ArrayObject:
    return generic.ArrayObject(generic.FloatObject(round(v, 4)) for v in values)


# --- page geometry ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Page:
    ref: generic.IndirectObject
    box: tuple[float, float, float, float]  # crop box in user space: llx, lly, urx, ury
    rotate: int  # 0, 90, 180 or 270 (clockwise, as displayed)

    @property
    def displayed_size(self) -> tuple[float, float]:
        llx, lly, urx, ury = self.box
        width, height = urx - llx, ury - lly
        return (height, width) if self.rotate in (90, 270) else (width, height)

    def to_user(self, u: float, v: float) -> tuple[float, float]:
        """A displayed point (from the top-left, y down, in points) in user space."""
        llx, lly, urx, ury = self.box
        if self.rotate == 90:
            return llx + v, lly + u
        if self.rotate == 180:
            return urx - u, lly + v
        if self.rotate == 270:
            return urx - v, ury - u
        return llx + u, ury - v


def inherited(page: generic.DictionaryObject, key: str) -> Any:
    """A page attribute, looked up the page tree as ISO 32000-1 7.7.3.4 says (also used by
    contracts' form flattening)."""
    node: Any = page
    for _depth in range(64):  # a cycle in /Parent must not hang us
        if not isinstance(node, generic.DictionaryObject):
            return None
        if key in node:
            return node[key]
        if "/Parent" not in node:
            return None
        node = node["/Parent"]
    return None


def _page(writer: IncrementalPdfFileWriter, number: int, count: int) -> _Page:
    if not 1 <= number <= count:
        raise SigningError(
            _("Page %(page)d does not exist; the document has %(count)d pages.")
            % {"page": number, "count": count},
            code="page_out_of_range",
        )
    ref, _resources = writer.find_page_for_modification(number - 1)
    page = ref.get_object()
    media = inherited(page, "/MediaBox")
    crop = inherited(page, "/CropBox") or media
    try:
        llx, lly, urx, ury = (float(v) for v in crop)
        rotate = int(inherited(page, "/Rotate") or 0) % 360
    except (TypeError, ValueError) as exc:
        raise SigningError(_("The page has no valid size."), code="pdf_invalid") from exc
    if rotate not in _ROTATION_MATRIX or urx <= llx or ury <= lly:
        raise SigningError(_("The page has no valid size."), code="pdf_invalid")
    return _Page(ref=ref, box=(llx, lly, urx, ury), rotate=rotate)


def _placement(mark: Mark, page: _Page, image: _Image) -> tuple[list[float], float, float]:
    """The widget's /Rect, and the mark's displayed width and height in points."""
    page_width, page_height = page.displayed_size
    width = mark.width * page_width
    height = width * image.height / image.width
    values = (mark.x, mark.y, mark.width)
    inside = (
        all(math.isfinite(v) for v in values)
        and mark.x >= 0
        and mark.y >= 0
        and mark.width > 0
        and mark.x + mark.width <= 1 + _EPSILON
        and mark.y + height / page_height <= 1 + _EPSILON
    )
    if not inside:
        raise SigningError(
            _("A mark on page %(page)d lies outside the page.") % {"page": mark.page},
            code="mark_outside_page",
        )
    left, top = mark.x * page_width, mark.y * page_height
    corners = [page.to_user(left, top), page.to_user(left + width, top + height)]
    xs, ys = [c[0] for c in corners], [c[1] for c in corners]
    return [min(xs), min(ys), max(xs), max(ys)], width, height


# --- the signature field ---------------------------------------------------------------------


def check_field_name(reader: PdfFileReader, field_name: str) -> None:
    if not field_name or "." in field_name or len(field_name) > 100:
        raise SigningError(
            _("A field name is 1 to 100 characters without dots."), code="field_name_invalid"
        )
    try:
        fields = reader.root["/AcroForm"]["/Fields"]
    except KeyError:
        fields = ()
    if any(f.get_object().raw_get("/T") == field_name for f in fields):
        raise SigningError(
            _("The document already has a field named %(name)s.") % {"name": field_name},
            code="field_exists",
        )


@dataclass(frozen=True)
class Field:
    """A signature field being written: its reference, and its widgets (the kids)."""

    ref: generic.IndirectObject
    widgets: tuple[generic.DictionaryObject, ...]

    def link_value(self, signature_ref: generic.IndirectObject) -> None:
        """Give every widget the field's value, the signature dictionary: each kid is a
        representation of the one field (ISO 32000-1 12.7.3.2), and poppler and mupdf read /V
        from the widget itself (see the module doc). Call before the revision is written."""
        for widget in self.widgets:
            widget[pdf_name("/V")] = signature_ref


def add_field(writer: IncrementalPdfFileWriter, field_name: str, marks: list[Mark]) -> Field:
    """The signature field with one widget per mark, image marks first (see module doc)."""
    field = generic.DictionaryObject(
        {
            pdf_name("/FT"): pdf_name("/Sig"),
            pdf_name("/T"): pdf_string(field_name),
            pdf_name("/Kids"): generic.ArrayObject(),
        }
    )
    field_ref = writer.add_object(field)
    count = int(writer.root["/Pages"]["/Count"])
    ordered = sorted(marks, key=lambda m: m.png is None)  # stable: keeps the caller's order
    images: dict[_Image, generic.IndirectObject] = {}  # one XObject per distinct image
    widgets: list[tuple[generic.IndirectObject, generic.DictionaryObject]] = []
    for mark in ordered:
        page = _page(writer, mark.page, count)
        image = _mark_image(mark)
        rect, width, height = _placement(mark, page, image)
        if image not in images:
            images[image] = _image_xobject(writer, image)
        appearance = _appearance(writer, images[image], width, height, page.rotate)
        widgets.append((page.ref, _widget(field_ref, page.ref, rect, appearance)))
    if not widgets:  # an invisible signature still has a widget (ISO 32000-1 12.7.4.5)
        first_page = _page(writer, 1, count).ref
        widgets.append((first_page, _widget(field_ref, first_page, [0, 0, 0, 0], None)))
    for page_ref, widget in widgets:
        widget_ref = writer.add_object(widget)
        field["/Kids"].append(widget_ref)
        writer.register_annotation(page_ref, widget_ref)  # in the page's /Annots
    _register_field(writer, field_ref)
    return Field(ref=field_ref, widgets=tuple(widget for _page_ref, widget in widgets))


def _widget(
    field_ref: generic.IndirectObject,
    page_ref: generic.IndirectObject,
    rect: list[float],
    appearance: generic.IndirectObject | None,
) -> generic.DictionaryObject:
    """A kid of the field: no /T and no /FT of its own (both come from /Parent)."""
    widget = generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/Annot"),
            pdf_name("/Subtype"): pdf_name("/Widget"),
            pdf_name("/Parent"): field_ref,
            pdf_name("/Rect"): _numbers(rect),
            pdf_name("/F"): generic.NumberObject(WIDGET_FLAGS),
            pdf_name("/P"): page_ref,
        }
    )
    if appearance is not None:
        widget[pdf_name("/AP")] = generic.DictionaryObject({pdf_name("/N"): appearance})
    return widget


def _register_field(writer: IncrementalPdfFileWriter, field_ref: generic.IndirectObject) -> None:
    root = writer.root
    if "/AcroForm" not in root:
        root[pdf_name("/AcroForm")] = writer.add_object(
            generic.DictionaryObject({pdf_name("/Fields"): generic.ArrayObject()})
        )
        writer.update_root()
    form = root["/AcroForm"]
    if "/Fields" not in form:
        form[pdf_name("/Fields")] = generic.ArrayObject()
    fields = form["/Fields"]
    fields.append(field_ref)
    writer.update_container(fields)
    writer.update_container(form)
