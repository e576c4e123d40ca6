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
/Rotate), origin top-left; the height follows from the image's aspect ratio (a date stamp's:
appearances.DATE_ASPECT). Images, the date stamp and the appearance streams: appearances.py.

A paging seal (骑缝章, `Mark.paging`) is one widget per page of the document, all kids of the
same field as the act's other marks, so it changes nothing the verifiers see but the widget
count: slice i of N of the seal image sits on page i flush against the page's right edge, at
the same height fraction, so that the fanned pages recombine the seal. Its size in points
comes from page 1's displayed width and is kept on every page (a slice must be as wide on a
narrower page for the pieces to join); each page's own box and /Rotate place its slice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name, pdf_string
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader

from portsign.pki.appearances import (
    ROTATION_MATRIX,
    PdfImage,
    SigningError,
    appearance,
    date_stamp,
    image_xobject,
    numbers,
    pdf_image_xobject,
    png_image,
)

__all__ = [
    "Field",
    "Mark",
    "SigningError",
    "add_field",
    "check_field_name",
    "image_xobject",
    "inherited",
]

# Annotation flags (ISO 32000-1 12.5.3): Print | Locked. ReadOnly is ignored on widgets (the
# field's own flag governs them), and a signed field is never editable anyway.
WIDGET_FLAGS = 4 | 128
_EPSILON = 1e-6


@dataclass(frozen=True)
class Mark:
    """One thing placed on a page, in fractions of the displayed page, origin top-left.

    A paging seal (`paging=True`, with `png`): `page` and `x` are ignored; it is cut into one
    vertical slice per page, each flush against its page's right edge; `y` is its top on every
    page and `width` the WHOLE seal's width, both fractions (width: of page 1)."""

    page: int  # 1-based
    x: float
    y: float
    width: float
    png: bytes | None  # transparent PNG (seal, signature); None with `text` for a date stamp
    text: str = ""  # a date stamp: the ISO date ("2026-12-02"), stamped as 2026年12月02日
    paging: bool = False  # 骑缝章: see above


def _mark_image(mark: Mark, width_pt: float) -> PdfImage:
    if mark.png is not None:
        return png_image(mark.png)
    if mark.text.strip():
        return date_stamp(mark.text.strip(), round(width_pt, 2))
    raise SigningError(_("A mark needs an image or a text."), code="mark_empty")


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
    if rotate not in ROTATION_MATRIX or urx <= llx or ury <= lly:
        raise SigningError(_("The page has no valid size."), code="pdf_invalid")
    return _Page(ref=ref, box=(llx, lly, urx, ury), rotate=rotate)


def _user_rect(page: _Page, left: float, top: float, width: float, height: float) -> list[float]:
    """A displayed box (points from the top-left) as a /Rect in user space."""
    corners = [page.to_user(left, top), page.to_user(left + width, top + height)]
    xs, ys = [c[0] for c in corners], [c[1] for c in corners]
    return [min(xs), min(ys), max(xs), max(ys)]


def _outside(page_number: int) -> SigningError:
    return SigningError(
        _("A mark on page %(page)d lies outside the page.") % {"page": page_number},
        code="mark_outside_page",
    )


@dataclass(frozen=True)
class _Planned:
    """One widget to write: where it goes, and what its appearance shows."""

    page: _Page
    rect: list[float]
    image: PdfImage
    size: tuple[float, float]  # the whole image's displayed width and height in points
    part: tuple[int, int] = (0, 1)  # slice i of n (a paging seal), or the whole image


def _placement(mark: Mark, page: _Page) -> _Planned:
    page_width, page_height = page.displayed_size
    if not (all(math.isfinite(v) for v in (mark.x, mark.y, mark.width)) and mark.width > 0):
        raise _outside(mark.page)
    width = mark.width * page_width
    image = _mark_image(mark, width)  # a date stamp is drawn for its box
    height = width * image.height / image.width
    inside = (
        mark.x >= 0
        and mark.y >= 0
        and mark.x + mark.width <= 1 + _EPSILON
        and mark.y + height / page_height <= 1 + _EPSILON
    )
    if not inside:
        raise _outside(mark.page)
    rect = _user_rect(page, mark.x * page_width, mark.y * page_height, width, height)
    return _Planned(page=page, rect=rect, image=image, size=(width, height))


def _paging(writer: IncrementalPdfFileWriter, mark: Mark, count: int) -> list[_Planned]:
    """A 骑缝章's slices, one per page in page order (see the module doc)."""
    if mark.png is None:
        raise SigningError(_("A paging seal needs a seal image."), code="mark_empty")
    pages = [_page(writer, number, count) for number in range(1, count + 1)]
    if not (all(math.isfinite(v) for v in (mark.y, mark.width)) and 0 < mark.width <= 1):
        raise _outside(1)
    image = png_image(mark.png)
    width = mark.width * pages[0].displayed_size[0]
    height = width * image.height / image.width
    piece = width / count
    planned = []
    for index, page in enumerate(pages):
        page_width, page_height = page.displayed_size
        if mark.y < 0 or mark.y + height / page_height > 1 + _EPSILON or piece > page_width:
            raise _outside(index + 1)
        rect = _user_rect(page, page_width - piece, mark.y * page_height, piece, height)
        planned.append(_Planned(page, rect, image, (width, height), (index, count)))
    return planned


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
    planned: list[_Planned] = []
    for mark in ordered:
        if mark.paging:
            planned.extend(_paging(writer, mark, count))
        else:
            planned.append(_placement(mark, _page(writer, mark.page, count)))
    images: dict[PdfImage, generic.IndirectObject] = {}  # one XObject per distinct image
    widgets: list[tuple[generic.IndirectObject, generic.DictionaryObject]] = []
    for plan in planned:
        if plan.image not in images:
            images[plan.image] = pdf_image_xobject(writer, plan.image)
        shown = appearance(writer, images[plan.image], plan.size, plan.page.rotate, plan.part)
        widgets.append((plan.page.ref, _widget(field_ref, plan.page.ref, plan.rect, shown)))
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
            pdf_name("/Rect"): numbers(rect),
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
