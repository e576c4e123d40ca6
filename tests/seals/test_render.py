"""Generated seals: transparent 300-dpi PNGs in one seal red, with legible lettering.

Legibility is checked by reading the image back: each character cell on the arc is turned
upright and compared against every candidate glyph (the name's characters plus look-alike
distractors); the right character must win every time.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageStat

from portsign.seals import render

NAME = "宁波测试港口物流有限公司"
DISTRACTORS = "国际贸易集团码头船务代理运输海关中心上海深圳"


def _open(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def _visible_colours(image: Image.Image) -> set[tuple[int, int, int]]:
    return {tuple(p[:3]) for p in image.get_flattened_data() if p[3]}


def _normalised(tile: Image.Image) -> Image.Image:
    box = tile.point(lambda v: 255 if v > 96 else 0).getbbox()
    assert box is not None, "an empty character cell"
    return tile.crop(box).resize((32, 32), Image.Resampling.BILINEAR)


def _template(char: str, size: int) -> Image.Image:
    face = render.font(render.SERIF_FONT, size)
    tile = Image.new("L", (size * 2, size * 2), 0)
    ImageDraw.Draw(tile).text((size, size), char, font=face, fill=255, anchor="mm")
    return _normalised(tile)


def _read(image: Image.Image, glyph: render.Glyph, candidates: str) -> str:
    """The candidate character that best matches the glyph drawn at *glyph*'s place."""
    alpha = image.getchannel("A")
    # Cut a square around the character, turn it upright, keep the character's own box.
    half = max(glyph.width, glyph.height) * 0.8
    square = alpha.crop(
        (round(glyph.x - half), round(glyph.y - half), round(glyph.x + half), round(glyph.y + half))
    )
    upright = square.rotate(-glyph.angle, resample=Image.Resampling.BICUBIC)
    c = upright.width / 2
    box = (
        round(c - glyph.width / 2),
        round(c - glyph.height / 2),
        round(c + glyph.width / 2),
        round(c + glyph.height / 2),
    )
    upright = _normalised(upright.crop(box))
    size = max(24, round(glyph.size))

    def distance(char: str) -> float:
        return ImageStat.Stat(ImageChops.difference(upright, _template(char, size))).mean[0]

    return min(candidates, key=distance)


def _assert_legible(rendered: render.Rendered, text: str) -> None:
    image = _open(rendered.png)
    drawn = [g for g in rendered.glyphs if g.char in text]
    assert "".join(g.char for g in drawn[: len(text)]) == text
    candidates = "".join(sorted(set(text + DISTRACTORS)))
    read = "".join(_read(image, glyph, candidates) for glyph in drawn[: len(text)])
    assert read == text


def _assert_seal_image(rendered: render.Rendered, width_px: int, height_px: int) -> Image.Image:
    image = _open(rendered.png)
    assert image.format == "PNG"
    assert image.mode == "RGBA"
    assert image.size == (width_px, height_px)
    assert tuple(round(v) for v in image.info["dpi"]) == (300, 300)
    # One flat colour: every visible pixel is seal red; the shape lives in alpha alone.
    assert _visible_colours(image) == {render.SEAL_RED}
    alpha = image.getchannel("A")
    assert alpha.getextrema() == (0, 255)
    for corner in ((0, 0), (width_px - 1, 0), (0, height_px - 1), (width_px - 1, height_px - 1)):
        assert alpha.getpixel(corner) == 0
    return image


def test_contract_seal_is_a_transparent_red_disc_with_star_and_legible_name():
    rendered = render.round_seal(name=NAME, kind_text="合同专用章", code="3302030012345")
    image = _assert_seal_image(rendered, 496, 496)  # 42 mm at 300 dpi
    alpha = image.getchannel("A")
    assert alpha.getpixel((248, 248)) == 255  # the star's centre
    assert alpha.getpixel((248, 16)) == 255  # the ring at the top
    assert alpha.getpixel((150, 150)) == 0  # paper between the name and the star
    _assert_legible(rendered, NAME)
    _assert_legible(rendered, "合同专用章")
    codes = [g.char for g in rendered.glyphs if g.char.isdigit()]
    assert "".join(codes) == "3302030012345"


def test_name_reads_left_to_right_over_the_top():
    rendered = render.round_seal(name=NAME, kind_text="")
    name = rendered.glyphs[: len(NAME)]
    xs = [g.x for g in name]
    assert xs[0] < 248 < xs[-1]
    assert name[0].y > name[len(NAME) // 2].y  # the middle character sits at the top
    assert name[0].angle > 0 > name[-1].angle  # turned to follow the arc


def test_official_seal_has_no_kind_text_and_hr_seal_has_it():
    official = render.round_seal(name="甲乙测试公司", kind_text="")
    assert "".join(g.char for g in official.glyphs) == "甲乙测试公司"
    hr = render.round_seal(name="甲乙测试公司", kind_text="人事专用章", diameter_mm=40)
    _assert_seal_image(hr, 472, 472)
    _assert_legible(hr, "人事专用章")


def test_long_names_still_fit_inside_the_ring():
    long_name = "宁波测试港口国际集装箱码头物流供应链管理有限公司"
    rendered = render.round_seal(name=long_name, kind_text="合同专用章")
    image = _assert_seal_image(rendered, 496, 496)
    for glyph in rendered.glyphs:
        assert 0 < glyph.x < image.width
        assert 0 < glyph.y < image.height
    _assert_legible(rendered, long_name)


def test_finance_seal_oval_and_square():
    oval = render.oval_seal(name=NAME, kind_text="财务专用章", code="3302030012345")
    _assert_seal_image(oval, 532, 354)
    _assert_legible(oval, NAME)
    square = render.square_seal(text=NAME + "财务专用章", side_mm=25)
    _assert_seal_image(square, 295, 295)


def test_legal_rep_seal_reads_in_columns_from_the_right():
    assert render.legal_rep_text("张测") == "张测之印"
    assert render.legal_rep_text("欧阳测试") == "欧阳测试"
    rendered = render.square_seal(text="张测之印", side_mm=20)
    _assert_seal_image(rendered, 236, 236)
    places = {g.char: (g.x, g.y) for g in rendered.glyphs}
    assert places["张"][0] > places["之"][0]  # first column on the right
    assert places["张"][1] < places["测"][1]  # read downwards
    _assert_legible(rendered, "张测之印")


@pytest.mark.parametrize("name", ["王测试", "Test Person"])
def test_signature_is_ink_on_transparent(name):
    rendered = render.signature(name)
    image = _open(rendered.png)
    assert image.mode == "RGBA"
    assert _visible_colours(image) == {render.INK}
    alpha = image.getchannel("A")
    assert alpha.getpixel((0, 0)) == 0
    assert alpha.getextrema()[1] == 255
    assert image.width > image.height
    assert 20 < rendered.width_mm < 120
