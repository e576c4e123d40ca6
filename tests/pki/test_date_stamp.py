"""The date stamp (issue 13 item 10): 2026年12月02日 in seal red, a CJK face, fitted to a box
DATE_ASPECT (0.3) times as high as wide, the box the signing page draws. Before, it was black
Latin digits in a 64 px image taller than that box, overflowing what the signer placed."""

from __future__ import annotations

import io
import zlib

import pytest
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader

from portsign.common.pdf_render import render
from portsign.pki import appearances, issuance, pades
from portsign.pki.pades import Mark
from tests.pki.pdf_samples import A4, make_pdf

DPI = 288  # 4 px a point: a 2 % stamp is 47.6 px wide
SCALE = DPI / 72
X, Y = 0.2, 0.5


@pytest.fixture
def enterprise(hierarchy):
    return issuance.issue_certificate(
        subject=issuance.enterprise_name(name="示例港务有限公司", uscc="91310000717860235R")
    )


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("2026-12-02", "2026年12月02日"),  # month and day in two digits
        ("2026-11-23", "2026年11月23日"),
        ("2027-01-01", "2027年01月01日"),
        ("2026年11月23日", "2026年11月23日"),  # not ISO: stamped as given
    ],
)
def test_the_iso_date_is_written_the_chinese_way(text, shown):
    assert appearances.date_text(text) == shown


@pytest.mark.parametrize(
    ("width_pt", "pixels"),
    [
        (11.9, (240, 72)),  # 2 % of A4: the floor keeps it sharp when zoomed
        (95.2, (400, 120)),  # 16 %, the signing page's default: 396.7 px at 300 dpi, to 400
        (357.0, (1490, 447)),  # 60 %: 1487.5 px, to 1490
    ],
)
def test_the_image_has_the_box_aspect_exactly(width_pt, pixels):
    assert appearances.date_pixels(width_pt) == pixels
    assert pixels[1] / pixels[0] == appearances.DATE_ASPECT


def _rgba(image: appearances.PdfImage) -> Image.Image:
    rgb = Image.frombytes("RGB", (image.width, image.height), zlib.decompress(image.rgb))
    assert image.alpha is not None
    rgb.putalpha(Image.frombytes("L", rgb.size, zlib.decompress(image.alpha)))
    return rgb


@pytest.mark.parametrize("width_pt", [11.9, 95.2, 357.0])
def test_the_stamp_image_is_red_and_fills_its_box_inside_the_padding(width_pt):
    image = _rgba(appearances.date_stamp("2026-12-02", width_pt))
    width, height = image.size
    left, top, right, bottom = image.getchannel("A").getbbox()

    # One flat colour: seal red, never black; the shape lives in alpha.
    assert {p[:3] for p in image.get_flattened_data() if p[3]} == {appearances.DATE_INK}
    # Inside the padding (4 % of the width, 12 % of the height on each side) ...
    assert left >= 0.04 * width - 1
    assert right <= 0.96 * width + 1
    assert top >= 0.12 * height - 1
    assert bottom <= 0.88 * height + 1
    # ... centred, and as large as the width allows: the width is what limits 11 characters.
    assert abs((left + right) / 2 - width / 2) <= 1
    assert abs((top + bottom) / 2 - height / 2) <= 1
    assert right - left >= 0.88 * width


def _signed(enterprise, width: float) -> bytes:
    return pades.sign_approval(
        make_pdf(1, lines=0),  # a page with only its title: nothing black near the stamp
        certificate_id=enterprise.id,
        marks=[Mark(page=1, x=X, y=Y, width=width, png=None, text="2026-12-02")],
        field_name="Enterprise",
    )


def _widget_rect(pdf: bytes) -> list[float]:
    reader = PdfFileReader(io.BytesIO(pdf))
    (field,) = reader.root["/AcroForm"]["/Fields"]
    (kid,) = field.get_object()["/Kids"]
    return [round(float(v), 4) for v in kid.get_object()["/Rect"]]


def _reddish(pixel: tuple[int, int, int]) -> bool:
    red, green, blue = pixel
    return red > 150 and red - green > 60 and red - blue > 60


def _greyish(pixel: tuple[int, int, int]) -> bool:
    """Dark and colourless: black text or its anti-aliased edge."""
    red, green, blue = pixel
    return max(pixel) < 200 and max(abs(red - green), abs(red - blue), abs(green - blue)) < 40


@pytest.mark.parametrize(
    ("width", "rect"),
    [
        # A4 is 595 x 842 pt: the box is width * 595 wide, 0.3 of that high, its top at 421.
        (0.02, [119.0, 417.43, 130.9, 421.0]),
        (0.16, [119.0, 392.44, 214.2, 421.0]),
        (0.6, [119.0, 313.9, 476.0, 421.0]),
    ],
)
def test_the_signed_stamp_is_red_and_stays_inside_its_box(enterprise, width, rect):
    pdf = _signed(enterprise, width)
    assert _widget_rect(pdf) == rect
    page = Image.open(io.BytesIO(render(pdf, 0, dpi=DPI, max_pixels=10**8))).convert("RGB")
    assert page.size == (round(A4[0] * SCALE), round(A4[1] * SCALE))
    left, top = X * A4[0] * SCALE, Y * A4[1] * SCALE
    right, bottom = left + width * A4[0] * SCALE, top + 0.3 * width * A4[0] * SCALE
    # Around the box and 10 px beyond it: every red pixel inside, no black pixel anywhere.
    around = (round(left) - 10, round(top) - 10, round(right) + 10, round(bottom) + 10)
    red, grey = [], 0
    region = page.crop(around)
    for index, pixel in enumerate(region.get_flattened_data()):
        x, y = around[0] + index % region.width, around[1] + index // region.width
        if _reddish(pixel):
            red.append((x, y))
        grey += _greyish(pixel)

    assert grey == 0
    assert len(red) > 0.02 * (right - left) * (bottom - top)
    xs, ys = [x for x, _y in red], [y for _x, y in red]
    assert min(xs) >= left - 1
    assert max(xs) <= right + 1
    assert min(ys) >= top - 1
    assert max(ys) <= bottom + 1
    assert max(xs) - min(xs) >= 0.85 * (right - left)  # the text spans the box: sized from it
    if width >= 0.16:  # large enough for solid strokes: their core is the seal red itself
        assert any(all(abs(a - b) <= 12 for a, b in zip(pixel, appearances.DATE_INK, strict=True))
                   for pixel in region.get_flattened_data())  # fmt: skip
