"""签章采集表 layout: no element is drawn over another (the notes once covered the fifth box)."""

from __future__ import annotations

import itertools
from datetime import date

import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageChops, ImageDraw

from portsign.seals import collection_form as form
from portsign.seals.domain.seals import DEFAULT_NAMES, ENTERPRISE_KINDS

LABELS = [DEFAULT_NAMES[kind] for kind in ENTERPRISE_KINDS]
SHORT = "示例外轮理货有限公司"
LONG = "示例" * 50  # the longest name an enterprise may have (100 characters)


def _layout(name: str) -> list[form.Element]:
    return form.layout(name=name, uscc="91310000MA1FL00000", day=date(2026, 12, 2), labels=LABELS)


def _overlap(a: form.Box, b: form.Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("name", [SHORT, LONG])
def test_no_two_elements_overlap(name):
    elements = _layout(name)
    clashes = [
        (a.text or "frame", b.text or "frame")
        for a, b in itertools.combinations(elements, 2)
        if _overlap(a.bbox, b.bbox)
    ]
    assert clashes == []


@pytest.mark.parametrize("name", [SHORT, LONG])
def test_everything_is_inside_the_margins(name):
    for element in _layout(name):
        left, top, right, bottom = element.bbox
        assert form.MARGIN <= left < right <= form.PAGE[0] - form.MARGIN, element.text
        assert form.MARGIN <= top < bottom <= form.PAGE[1] - form.MARGIN, element.text


def test_one_55_mm_frame_per_seal_kind_with_its_label_centred_below():
    elements = _layout(SHORT)
    frames = [e for e in elements if not e.text]
    assert len(frames) == 5
    for frame in frames:
        left, top, right, bottom = frame.bbox
        assert (right - left, bottom - top) == (form.mm(55), form.mm(55))
    labels = [e for e in elements if e.text in LABELS]
    assert [e.text for e in labels] == [
        "公章",
        "合同专用章",
        "财务专用章",
        "法定代表人章",
        "人事专用章",
    ]
    for frame, label in zip(frames, labels, strict=True):
        assert label.xy == ((frame.bbox[0] + frame.bbox[2]) / 2, frame.bbox[3] + form.GAP)


def test_a_long_name_wraps_onto_more_lines():
    def lines(name: str) -> list[str]:
        return [e.text for e in _layout(name) if e.text.startswith("示例")]

    assert lines(SHORT) == [SHORT]
    wrapped = lines(LONG)
    assert "".join(wrapped) == LONG
    assert len(wrapped) == 3


def test_ink_falls_only_inside_the_laid_out_boxes():
    """The geometry checked above is what is drawn: no pixel is inked outside an element."""
    elements = _layout(LONG)
    ink = form.draw(elements).convert("L").point(lambda v: 255 if v < 250 else 0)
    covered = Image.new("L", form.PAGE, 0)
    for element in elements:
        ImageDraw.Draw(covered).rectangle(element.bbox, fill=255)
    assert ink.getbbox() is not None
    assert ImageChops.subtract(ink, covered).getbbox() is None


def test_the_pdf_is_one_a4_page():
    pdf = form.collection_form_pdf(
        name=SHORT, uscc="91310000MA1FL00000", day=date(2026, 12, 2), labels=LABELS
    )
    document = pdfium.PdfDocument(pdf)
    assert len(document) == 1
    assert tuple(round(v) for v in document[0].get_size()) == (595, 842)
