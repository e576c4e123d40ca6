"""Flattening values into page content: where they land (also on rotated and cropped pages),
that they are extractable text, and that the original content cannot move them."""

from __future__ import annotations

import io

import pypdfium2 as pdfium
import pytest
from PIL import ImageChops, ImageStat

from portsign.contracts.domain import documents
from portsign.contracts.domain.flatten import Stamp, flatten


def _pdf(rotation: int = 0, crop: tuple[float, float, float, float] | None = None) -> bytes:
    """A blank A4 page, rewritten by PDFium as templates are."""
    document = pdfium.PdfDocument.new()
    page = document.new_page(595, 842)
    page.set_rotation(rotation)
    if crop:
        page.set_cropbox(*crop)
    out = io.BytesIO()
    document.save(out)
    document.close()
    return documents.merge(out.getvalue(), [])


def _render(pdf: bytes):
    document = pdfium.PdfDocument(pdf)
    try:
        return document[0].render(scale=1).to_pil().convert("L")
    finally:
        document.close()


def _ink(pdf: bytes) -> tuple[float, float, float, float]:
    """The bounding box of dark pixels on the displayed page, as fractions of it."""
    image = _render(pdf)
    left, top, right, bottom = image.point(lambda v: 255 if v < 128 else 0).getbbox()
    return left / image.width, top / image.height, right / image.width, bottom / image.height


def _ink_image(pdf: bytes):
    image = _render(pdf)
    return image.crop(image.point(lambda v: 255 if v < 128 else 0).getbbox())


def _text(pdf: bytes) -> str:
    document = pdfium.PdfDocument(pdf)
    try:
        return document[0].get_textpage().get_text_range()
    finally:
        document.close()


STAMP = Stamp(page=1, x=0.5, y=0.5, width=0.4, height=0.05, text="装卸费 12.50 元")


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_values_land_where_they_are_seen_upright(rotation):
    filled = flatten(_pdf(rotation), [STAMP])
    assert _text(filled) == "装卸费 12.50 元"
    left, top, right, bottom = _ink(filled)
    assert 0.5 <= left < 0.52
    assert top >= 0.5
    assert bottom <= 0.551
    assert right < 0.9
    # Upright and not mirrored: the same picture as on an unrotated page.
    upright = _ink_image(flatten(_pdf(0), [STAMP]))
    seen = _ink_image(filled)
    assert abs(seen.width - upright.width) <= 2
    assert abs(seen.height - upright.height) <= 2
    difference = ImageChops.difference(seen.resize(upright.size), upright)
    assert ImageStat.Stat(difference).mean[0] < 40


def test_a_cropped_page_counts_from_its_crop_box():
    stamp = Stamp(page=1, x=0.0, y=0.0, width=1.0, height=0.05, text="顶部")
    left, top, _right, bottom = _ink(flatten(_pdf(crop=(100, 100, 495, 742)), [stamp]))
    assert (left < 0.02, top < 0.05, bottom <= 0.051) == (True, True, True)


def test_unbalanced_original_content_cannot_move_the_values():
    """Content that scales everything by 3 and never restores the graphics state."""
    content = b"3 0 0 3 0 0 cm 0 g 0 0 5 5 re f"
    raw = (
        b"%%PDF-1.4\n1 0 obj <</Type/Catalog/Pages 2 0 R>> endobj\n"
        b"2 0 obj <</Type/Pages/Kids[3 0 R]/Count 1>> endobj\n"
        b"3 0 obj <</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R"
        b"/Resources<<>>>> endobj\n"
        b"4 0 obj <</Length %d>> stream\n%s\nendstream endobj\ntrailer <</Root 1 0 R>>\n%%%%EOF"
        % (len(content), content)
    )
    filled = flatten(documents.merge(raw, []), [STAMP])
    image = _render(filled)
    box = (round(0.5 * image.width), round(0.5 * image.height), image.width, image.height)
    ink = image.crop(box).point(lambda v: 255 if v < 128 else 0).getbbox()
    assert ink is not None
    assert (ink[0] < 0.02 * image.width, ink[1] < 0.05 * image.height) == (True, True)


def test_a_tick_and_an_empty_list():
    blank = _pdf()
    assert flatten(blank, []) == blank
    ticked = flatten(blank, [Stamp(page=1, x=0.1, y=0.8, width=0.04, height=0.03, tick=True)])
    assert _text(ticked) == "√"
    left, top, right, bottom = _ink(ticked)
    assert (left >= 0.1, right <= 0.141, top >= 0.8, bottom <= 0.831) == (True, True, True, True)
