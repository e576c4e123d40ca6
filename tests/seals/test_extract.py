"""Seal pre-processing: the red seal comes out of a synthetic scan, cropped and transparent."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageStat

from portsign.seals import render
from portsign.seals.extract import NoSealFound, extract_seal

SEAL_AT = (900, 1500)  # where the synthetic stamp lands on the page (200 dpi)


def _stamp() -> Image.Image:
    """A 42 mm contract seal as a 200-dpi stamp, slightly turned, as a hand would press it."""
    seal = Image.open(
        io.BytesIO(render.round_seal(name="宁波测试港口物流有限公司", kind_text="合同专用章").png)
    )
    seal = seal.resize((331, 331), Image.Resampling.LANCZOS)
    return seal.rotate(7, expand=True, resample=Image.Resampling.BICUBIC)


def _scan(stamp: Image.Image, *, fmt: str = "JPEG", stray: bool = True) -> bytes:
    page = Image.new("RGB", (1654, 2339), (246, 244, 238))  # A4 at 200 dpi, off-white paper
    draw = ImageDraw.Draw(page)
    for y in range(200, 1400, 60):  # black print
        draw.rectangle((150, y, 1500, y + 14), fill=(30, 30, 30))
    draw.line((300, 1600, 700, 1650), fill=(20, 40, 160), width=5)  # a blue pen signature
    if stray:
        draw.rectangle((1200, 300, 1300, 306), fill=(200, 30, 30))  # a red tick elsewhere
    page.paste(stamp, SEAL_AT, stamp)
    page = page.filter(ImageFilter.GaussianBlur(0.8))  # scanner softness
    out = io.BytesIO()
    page.save(out, format=fmt, quality=85, dpi=(200, 200), resolution=200)
    return out.getvalue()


def _overlap(extracted: bytes, stamp: Image.Image, box: tuple[int, int, int, int]) -> float:
    """Intersection over union of the extracted seal's shape and the stamp's."""
    found = Image.open(io.BytesIO(extracted)).getchannel("A").point(lambda v: 255 if v > 127 else 0)
    truth = Image.new("L", (1654, 2339), 0)
    truth.paste(stamp.getchannel("A").point(lambda v: 255 if v > 127 else 0), SEAL_AT)
    truth = truth.crop(box)
    both = ImageStat.Stat(ImageChops.multiply(found, truth)).sum[0]
    either = ImageStat.Stat(ImageChops.lighter(found, truth)).sum[0]
    return both / either


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "PDF"])
def test_red_seal_is_extracted_from_a_scan(fmt):
    stamp = _stamp()
    result = extract_seal(_scan(stamp, fmt=fmt), "pdf" if fmt == "PDF" else "image")
    image = Image.open(io.BytesIO(result.png))
    assert image.mode == "RGBA"
    # Found where it was stamped (to a few pixels), not stretched to the stray red tick.
    ink = stamp.getchannel("A").point(lambda v: 255 if v > 127 else 0).getbbox()
    truth = (SEAL_AT[0] + ink[0], SEAL_AT[1] + ink[1], SEAL_AT[0] + ink[2], SEAL_AT[1] + ink[3])
    for found, expected in zip(result.box, truth, strict=True):
        assert abs(found - expected) <= 8
    # A 42 mm seal, give or take the half-millimetre margin and the scanner's blur.
    assert 41.5 <= result.width_mm <= 44.5
    alpha = image.getchannel("A")
    for corner in ((0, 0), (image.width - 1, 0), (0, image.height - 1)):
        assert alpha.getpixel(corner) == 0
    assert _overlap(result.png, stamp, result.box) > 0.8
    # What is left is red: black print and blue ink were dropped.
    r, g, b, _a = ImageStat.Stat(image, mask=alpha.point(lambda v: 255 if v > 200 else 0)).mean
    assert r > 150
    assert g < 110
    assert b < 110


def test_a_scan_without_red_is_refused():
    page = Image.new("RGB", (800, 1000), "white")
    ImageDraw.Draw(page).rectangle((100, 100, 700, 140), fill="black")
    out = io.BytesIO()
    page.save(out, format="PNG")
    with pytest.raises(NoSealFound):
        extract_seal(out.getvalue(), "image")


def test_a_few_red_specks_are_not_a_seal():
    page = Image.new("RGB", (800, 1000), "white")
    ImageDraw.Draw(page).rectangle((100, 100, 120, 104), fill=(220, 20, 20))
    out = io.BytesIO()
    page.save(out, format="PNG")
    with pytest.raises(NoSealFound):
        extract_seal(out.getvalue(), "image")
