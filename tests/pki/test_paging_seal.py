"""The paging seal 骑缝章 in the engine (issue 13 item 11): one seal cut into N vertical slices,
slice i on page i flush against the right edge, every slice a kid widget of the signing act's
one signature field, so that fanned pages recombine the seal and every verifier still sees one
valid signature."""

from __future__ import annotations

import io
from functools import lru_cache

import pytest
from PIL import Image, ImageChops
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import PdfFileWriter

from portsign.common.pdf_render import render
from portsign.pki import issuance, pades
from portsign.pki.pades import Mark, SigningError
from portsign.seals.render import round_seal
from tests.pki.pdf_samples import make_pdf
from tests.verifiers import assert_verifiers_accept, signature_widgets

ENTERPRISE = "示例港务有限公司"
WIDTH, Y = 0.12, 0.3  # the whole seal: 0.12 x 595 = 71.4 pt, its top at 30 % of each page
SEAL_PT = 71.4
PIECE_PT = 23.8  # a third of it on a 3-page document


@pytest.fixture
def enterprise(hierarchy):
    return issuance.issue_certificate(
        subject=issuance.enterprise_name(name=ENTERPRISE, uscc="91310000717860235R")
    )


@lru_cache(maxsize=1)
def _seal() -> bytes:
    return round_seal(name=ENTERPRISE, kind_text="合同专用章").png  # 496 x 496 px, square


def _paging(**overrides) -> Mark:
    values = {"page": 0, "x": 0.0, "y": Y, "width": WIDTH, "png": _seal(), "paging": True}
    return Mark(**(values | overrides))


def _sign(enterprise, pdf: bytes, marks: list[Mark]) -> bytes:
    return pades.sign_approval(
        pdf, certificate_id=enterprise.id, marks=marks, field_name="Enterprise"
    )


def _annots(pdf: bytes) -> list[list[tuple[int, list[float]]]]:
    """Per page: (object number, /Rect) of each annotation, in /Annots order."""
    reader = PdfFileReader(io.BytesIO(pdf))
    pages = []
    for number in range(len(reader.root["/Pages"]["/Kids"])):
        page = reader.root["/Pages"]["/Kids"][number].get_object()
        pages.append(
            [
                (ref.idnum, [round(float(v), 4) for v in ref.get_object()["/Rect"]])
                for ref in page.get("/Annots", ())
            ]
        )
    return pages


def _red_mask(png: bytes) -> Image.Image:
    red, green, blue = Image.open(io.BytesIO(png)).convert("RGB").split()
    return ImageChops.multiply(
        red.point(lambda v: 255 if v > 180 else 0),
        ImageChops.multiply(
            green.point(lambda v: 255 if v < 120 else 0),
            blue.point(lambda v: 255 if v < 120 else 0),
        ),
    )


def _page_red(pdf: bytes, index: int, dpi: float = 72) -> Image.Image:
    return _red_mask(render(pdf, index, dpi=dpi, max_pixels=10**8))


# --- a 3-page document -------------------------------------------------------------------------


@pytest.fixture
def three_pages(enterprise) -> bytes:
    return _sign(
        enterprise,
        make_pdf(3),
        [
            Mark(page=3, x=0.55, y=0.75, width=0.25, png=_seal()),
            _paging(),
            Mark(page=3, x=0.1, y=0.9, width=0.2, png=None, text="2026-12-02"),
        ],
    )


def test_every_verifier_accepts_the_signature_with_its_slices(three_pages, tmp_path):
    widgets = signature_widgets(three_pages)
    reader = PdfFileReader(io.BytesIO(three_pages))
    field = reader.root["/AcroForm"]["/Fields"][0].get_object()

    # One field: the seal, three slices, the date; every kid has the field's /Parent and /V.
    assert list(widgets) == ["Enterprise"]
    assert len(widgets["Enterprise"]) == 5
    for kid in field["/Kids"]:
        widget = kid.get_object()
        assert (
            widget.raw_get("/Parent").idnum == reader.root["/AcroForm"]["/Fields"].raw_get(0).idnum
        )
        assert widget.raw_get("/V").idnum == field.raw_get("/V").idnum
        assert "/T" not in widget
        assert "/FT" not in widget
    assert [(s.field_name, s.valid) for s in pades.verify(three_pages).signatures] == [
        ("Enterprise", True)
    ]
    assert_verifiers_accept(
        three_pages, tmp_path, ["Enterprise"]
    )  # pyHanko, poppler, mupdf, openssl


def test_each_page_has_one_slice_flush_at_its_right_edge(three_pages):
    seal, slice_1, slice_2, slice_3, date = signature_widgets(three_pages)["Enterprise"]
    # A4 595 x 842: x from 595 - 23.8; top at 0.3 x 842 = 252.6, so y from 842 - 252.6 - 71.4.
    at_the_edge = [571.2, 518.0, 595.0, 589.4]

    assert _annots(three_pages) == [
        [(slice_1, at_the_edge)],
        [(slice_2, at_the_edge)],
        [
            (seal, [327.25, 61.75, 476.0, 210.5]),
            (slice_3, at_the_edge),
            (date, [59.5, 48.5, 178.5, 84.2]),
        ],
    ]


def test_the_fanned_slices_recombine_the_seal(three_pages):
    dpi = 144  # 2 px a point: the seal is 142.8 px, each slice 47.6 px
    scale = dpi / 72
    strips = []
    for index in range(3):
        red = _page_red(three_pages, index, dpi)
        width, height = red.size
        top = round(Y * height)
        left = width - PIECE_PT * scale
        box = red.crop((round(left), top, width, top + round(SEAL_PT * scale)))
        strips.append(box)
        # Red reaches the page's right edge, and none lies left of the slice.
        assert red.crop((width - 2, 0, width, height)).getbbox() is not None
        if index < 2:  # page 3 also carries the ordinary seal
            assert red.crop((0, 0, round(left) - 1, height)).getbbox() is None
    expected = _red_mask(_seal_on_white((sum(s.width for s in strips), strips[0].height)))
    # The pieces side by side are the seal; in another order they are not.
    assert _likeness(_side_by_side(strips), expected) > 0.8
    assert _likeness(_side_by_side(strips[::-1]), expected) < 0.6


def _side_by_side(strips: list[Image.Image]) -> Image.Image:
    whole = Image.new("L", (sum(s.width for s in strips), strips[0].height), 0)
    x = 0
    for strip in strips:
        whole.paste(strip, (x, 0))
        x += strip.width
    return whole


def _likeness(mask: Image.Image, expected: Image.Image) -> float:
    """Intersection over union of two red masks."""
    overlap = ImageChops.multiply(mask, expected).histogram()[255]
    union = ImageChops.lighter(mask, expected).histogram()[255]
    return overlap / union


def _seal_on_white(size: tuple[int, int]) -> bytes:
    seal = Image.open(io.BytesIO(_seal())).resize(size, Image.Resampling.LANCZOS)
    paper = Image.new("RGB", size, (255, 255, 255))
    paper.paste(seal, mask=seal.getchannel("A"))
    out = io.BytesIO()
    paper.save(out, format="PNG")
    return out.getvalue()


# --- one page; pages of different sizes and rotations ------------------------------------------


def test_on_one_page_the_whole_seal_sits_at_the_right_edge(enterprise):
    pdf = _sign(enterprise, make_pdf(1), [_paging()])

    assert _annots(pdf) == [
        [(signature_widgets(pdf)["Enterprise"][0], [523.6, 518.0, 595.0, 589.4])]
    ]
    left, top, right, bottom = _page_red(pdf, 0).getbbox()
    # The image is flush with the edge; the ring inside it sits 0.67 mm (1.1 pt) in from the
    # image's border, as a seal's ring does (render.round_seal).
    assert 593 <= right <= 595
    assert 523 <= left <= 526
    assert 252 <= top <= 255
    assert 321 <= bottom <= 325
    assert [s.valid for s in pades.verify(pdf).signatures] == [True]


def _mixed_pdf() -> bytes:
    """A4 portrait; A4 turned a quarter (/Rotate 90); a page whose crop box is offset."""
    writer = PdfFileWriter(stream_xrefs=False)
    layouts = [
        ([0, 0, 595, 842], None, 0),
        ([0, 0, 595, 842], None, 90),
        ([0, 0, 500, 700], [40, 50, 460, 645], 0),
    ]
    for media, crop, rotate in layouts:
        page = generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Page"),
                pdf_name("/MediaBox"): generic.ArrayObject(generic.NumberObject(v) for v in media),
                pdf_name("/Resources"): generic.DictionaryObject(),
                pdf_name("/Contents"): writer.add_object(generic.StreamObject(stream_data=b"")),
            }
        )
        if crop:
            page[pdf_name("/CropBox")] = generic.ArrayObject(generic.NumberObject(v) for v in crop)
        if rotate:
            page[pdf_name("/Rotate")] = generic.NumberObject(rotate)
        writer.insert_page(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_pages_of_other_sizes_and_rotations_use_their_own_box(enterprise):
    pdf = _sign(enterprise, _mixed_pdf(), [_paging()])
    one, two, three = signature_widgets(pdf)["Enterprise"]

    # The seal keeps page 1's size (71.4 pt, slices 23.8 pt) on every page, so the pieces join.
    assert _annots(pdf) == [
        [(one, [571.2, 518.0, 595.0, 589.4])],
        # Displayed 842 x 595: the displayed right edge is user-space y = 842 (the page's top
        # turned clockwise); the top at 0.3 x 595 = 178.5 is user-space x.
        [(two, [178.5, 818.2, 249.9, 842.0])],
        # Displayed 420 x 595 from the crop box at (40, 50): x from 460 - 23.8, y from
        # 645 - 178.5 - 71.4.
        [(three, [436.2, 395.1, 460.0, 466.5])],
    ]
    for index, (width, height) in enumerate([(595, 842), (842, 595), (420, 595)]):
        red = _page_red(pdf, index)
        assert red.size == (width, height)
        left, top, right, bottom = red.getbbox()
        # Slices 1 and 2 are cut through the seal: their red runs to the very edge. The last
        # one ends with the ring, 1.1 pt inside the image's border.
        assert right == width if index < 2 else width - 2 <= right <= width, index
        assert width - 25 <= left, index
        assert round(Y * height) - 1 <= top, index
        assert bottom <= round(Y * height + SEAL_PT) + 1, index
    assert [s.valid for s in pades.verify(pdf).signatures] == [True]


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"png": None, "text": "2026-12-02"}, "mark_empty"),
        ({"y": 0.95}, "mark_outside_page"),
        ({"y": -0.01}, "mark_outside_page"),
        ({"width": 0.0}, "mark_outside_page"),
        ({"width": 1.2}, "mark_outside_page"),
        ({"width": float("nan")}, "mark_outside_page"),
    ],
)
def test_bad_paging_marks_raise_signing_error(enterprise, overrides, code):
    with pytest.raises(SigningError) as raised:
        _sign(enterprise, make_pdf(2), [_paging(**overrides)])

    assert raised.value.code == code
