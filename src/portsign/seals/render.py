"""Drawing seal and signature images (SPEC C1–C2).

Every image is a transparent PNG at 300 dpi in one flat seal red (or ink black for signatures),
sized in millimetres like the physical seal, so a mark placed on an A4 page prints at its true
size. Drawing happens on a 4× coverage mask that is then scaled down with Lanczos filtering:
edges stay smooth at any zoom, and the colour stays uniform (alpha carries the shape).

Layouts follow Chinese practice (GA 241): round official / contract / HR seals with a
five-pointed star, the enterprise name along the upper arc and the seal's kind written
horizontally below the star, an optional 13-digit seal code along the lower arc; an oval or
square finance seal; a square legal-representative seal with the name read in columns from the
right. Text is set in Noto Serif CJK (Debian fonts-noto-cjk); generated personal signatures use
AR PL UKai (fonts-arphic-ukai), a brush-written 楷体 face.
"""

from __future__ import annotations

import io
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageChops, ImageDraw, ImageFont

DPI = 300
SCALE = 4  # supersampling factor of the drawing mask
SEAL_RED = (220, 20, 30)
INK = (20, 20, 30)
# Paper between the ring's inner edge and the arc lettering: 0.5 mm, as the 发票专用章 rule
# (国家税务总局公告2011年第7号) sets it and seal makers keep it on every round and oval seal.
ARC_GAP_MM = 0.5
SERIF_FONT = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc"
SANS_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
HANDWRITING_FONT = "/usr/share/fonts/truetype/arphic/ukai.ttc"

Font = ImageFont.FreeTypeFont
# A point on a text path: (x, y, direction of writing in radians, y pointing down).
Curve = Callable[[float], tuple[float, float]]


@dataclass(frozen=True)
class Glyph:
    """Where one character was drawn (final pixels): used by tests to read the seal back."""

    char: str
    x: float
    y: float
    angle: float  # degrees, counter-clockwise as in PIL's rotate
    size: float  # font size in final pixels
    width: float  # the drawn character's box before rotation, in final pixels
    height: float


@dataclass(frozen=True)
class Rendered:
    png: bytes
    width_mm: float
    height_mm: float
    glyphs: tuple[Glyph, ...]


def px(mm: float) -> int:
    """Millimetres to pixels of the supersampled mask."""
    return round(mm / 25.4 * DPI * SCALE)


@lru_cache(maxsize=64)
def font(path: str, size: int) -> Font:
    # TTC files bundle several regional variants; pick the Simplified Chinese one.
    for index in range(8):
        try:
            candidate = ImageFont.truetype(path, size, index=index)
        except OSError:
            break
        family = candidate.getname()[0] or ""
        if family.endswith((" SC", " CN")):
            return candidate
    return ImageFont.truetype(path, size)


class _Canvas:
    """A coverage mask plus the list of glyphs drawn on it."""

    def __init__(self, width_mm: float, height_mm: float) -> None:
        self.width_mm, self.height_mm = width_mm, height_mm
        self.mask = Image.new("L", (px(width_mm), px(height_mm)), 0)
        self.draw = ImageDraw.Draw(self.mask)
        self.glyphs: list[Glyph] = []

    def char(self, char: str, x: float, y: float, size: int, angle: float, squeeze: float) -> None:
        """Draw *char* centred on (x, y), rotated counter-clockwise by *angle* degrees and
        narrowed to *squeeze* of its width (seal lettering is tall and narrow)."""
        face = font(SERIF_FONT, size)
        tile = Image.new("L", (size * 2, size * 2), 0)
        ImageDraw.Draw(tile).text((size, size), char, font=face, fill=255, anchor="mm")
        tile = tile.crop(tile.getbbox() or (0, 0, 1, 1))
        if squeeze != 1.0:
            tile = tile.resize(
                (max(1, round(tile.width * squeeze)), tile.height), Image.Resampling.LANCZOS
            )
        box_w, box_h = tile.size
        tile = tile.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
        left, top = round(x - tile.width / 2), round(y - tile.height / 2)
        region = (left, top, left + tile.width, top + tile.height)
        self.mask.paste(ImageChops.lighter(self.mask.crop(region), tile), region)
        self.glyphs.append(
            Glyph(char, x / SCALE, y / SCALE, angle, size / SCALE, box_w / SCALE, box_h / SCALE)
        )

    def text_along(
        self, text: str, curve: Curve, start: float, end: float, size: int, squeeze: float
    ) -> None:
        """Set *text* along *curve* between parameters *start* and *end*, characters centred
        at equal arc lengths and turned to follow the curve."""
        samples = 720
        params = [start + (end - start) * i / samples for i in range(samples + 1)]
        points = [curve(t) for t in params]
        lengths = [0.0]
        for (x0, y0), (x1, y1) in itertools.pairwise(points):
            lengths.append(lengths[-1] + math.hypot(x1 - x0, y1 - y0))
        count = len(text)
        for i, char in enumerate(text):
            target = lengths[-1] * (i / (count - 1) if count > 1 else 0.5)
            j = min(range(len(lengths)), key=lambda k: abs(lengths[k] - target))
            a, b = points[max(j - 1, 0)], points[min(j + 1, samples)]
            direction = math.atan2(b[1] - a[1], b[0] - a[0])
            self.char(char, *points[j], size, -math.degrees(direction), squeeze)

    def horizontal(self, text: str, cx: float, cy: float, size: int, max_width: float) -> None:
        """A horizontal line of *text* centred on (cx, cy), squeezed to fit *max_width*."""
        if not text:
            return
        pitch = size * 1.02
        squeeze = min(1.0, max_width / (pitch * len(text)))
        step = pitch * squeeze
        first = cx - step * (len(text) - 1) / 2
        for i, char in enumerate(text):
            self.char(char, first + i * step, cy, size, 0.0, squeeze)

    def star(self, cx: float, cy: float, radius: float) -> None:
        inner = radius * math.sin(math.radians(18)) / math.sin(math.radians(126))
        points = []
        for k in range(10):
            r = radius if k % 2 == 0 else inner
            theta = math.radians(-90 + 36 * k)
            points.append((cx + r * math.cos(theta), cy + r * math.sin(theta)))
        self.draw.polygon(points, fill=255)

    def finish(self, colour: tuple[int, int, int]) -> Rendered:
        size = (round(self.mask.width / SCALE), round(self.mask.height / SCALE))
        alpha = self.mask.resize(size, Image.Resampling.LANCZOS)
        image = Image.new("RGBA", size, (*colour, 0))
        image.putalpha(alpha)
        out = io.BytesIO()
        image.save(out, format="PNG", dpi=(DPI, DPI), optimize=True)
        return Rendered(out.getvalue(), self.width_mm, self.height_mm, tuple(self.glyphs))


def _arc_size(count: int, radius: float, span_degrees: float, largest: float) -> tuple[int, float]:
    """Font size and horizontal squeeze for *count* characters over an arc: large names shrink
    to a floor, then get narrower, as engravers do."""
    pitch = radius * math.radians(span_degrees) / max(count - 1, 1)
    size = min(largest, pitch * 1.05)
    floor = largest * 0.62
    if size >= floor:
        return round(size), 1.0
    return round(floor), max(0.45, pitch * 0.98 / floor)


def _ink_box(text: str, size: int, squeeze: float) -> tuple[float, float]:
    """The largest inked box (width, height) of *text*'s characters as `_Canvas.char` draws
    them: each is cropped to its ink, narrowed by *squeeze* and centred on its path point."""
    face = font(SERIF_FONT, size)
    widths, heights = [0.0], [0.0]
    for char in set(text):
        left, top, right, bottom = face.getbbox(char)
        widths.append((right - left) * squeeze)
        heights.append(bottom - top)
    return max(widths), max(heights)


def _inside_ring(
    centre: tuple[float, float],
    axes: tuple[float, float],
    box: tuple[float, float],
    *,
    lower: bool = False,
) -> Curve:
    """A text path inside a ring whose inner edge is the ellipse *axes* (semi-axes, mask
    pixels) about *centre*, set so that every character box *box* keeps ARC_GAP_MM of paper
    to that edge: its centre goes inward along the normal by the gap, half its height, and the
    sagitta the ring's curve makes over half its width (a box's outer corners are what reach
    the ring first). *lower*: the bottom arc, parameter 0 at 6 o'clock, read left to right."""
    (cx, cy), (a, b), (width, height) = centre, axes, box
    # Two final pixels more (0.17 mm): the Lanczos reduction blurs the ring's edge and the
    # glyph's edge by about half a pixel each, and positions round to a pixel.
    gap = px(ARC_GAP_MM) + 2 * SCALE

    def point(t: float) -> tuple[float, float]:
        sin, cos = math.sin(t), math.cos(t)
        x, y = (cx - a * sin, cy + b * cos) if lower else (cx + a * sin, cy - b * cos)
        nx, ny = (x - cx) / a**2, (y - cy) / b**2  # the outward normal of the ellipse
        norm = math.hypot(nx, ny)
        radius = (a * a * cos * cos + b * b * sin * sin) ** 1.5 / (a * b)  # of curvature
        room = radius - gap
        sagitta = room - math.sqrt(max(room * room - width * width / 4, 0.0))
        inset = gap + height / 2 + sagitta
        return x - inset * nx / norm, y - inset * ny / norm

    return point


def _ring(canvas: _Canvas, width: float, height: float, ring: float) -> tuple[float, float]:
    """Draw the ring (an ellipse outline inside the canvas); return its inner semi-axes. PIL
    draws an outline inward from the box, so the inner edge lies round(ring) inside it."""
    canvas.draw.ellipse(
        (ring / 2, ring / 2, width - ring / 2, height - ring / 2), outline=255, width=round(ring)
    )
    inset = ring / 2 + round(ring)
    return width / 2 - inset, height / 2 - inset


def round_seal(*, name: str, kind_text: str, code: str = "", diameter_mm: float = 42) -> Rendered:
    """公章 / 合同专用章 / 人事专用章: ring, star, name on the upper arc, kind below the star."""
    canvas = _Canvas(diameter_mm, diameter_mm)
    d = px(diameter_mm)
    c = d / 2
    inner = _ring(canvas, d, d, d * 0.032)
    span = min(230.0, 60.0 + 18.0 * len(name))
    size, squeeze = _arc_size(len(name), c * 0.72, span, d * 0.155)
    upper = _inside_ring((c, c), inner, _ink_box(name, size, squeeze))
    half = math.radians(span / 2)
    canvas.text_along(name, upper, -half, half, size, squeeze)
    canvas.star(c, c, d * 0.17)
    canvas.horizontal(kind_text, c, c + d * 0.26, round(d * 0.09), d * 0.5)
    if code:
        code_size = round(d * 0.052)
        lower = _inside_ring((c, c), inner, _ink_box(code, code_size, 0.8), lower=True)
        code_half = math.radians(min(84.0, 6.5 * len(code)) / 2)
        canvas.text_along(code, lower, code_half, -code_half, code_size, 0.8)
    return canvas.finish(SEAL_RED)


def oval_seal(*, name: str, kind_text: str, code: str = "") -> Rendered:
    """财务专用章, oval: 45 × 30 mm, name along the upper arc, kind across the middle."""
    width_mm, height_mm = 45.0, 30.0
    canvas = _Canvas(width_mm, height_mm)
    w, h = px(width_mm), px(height_mm)
    inner = _ring(canvas, w, h, h * 0.04)
    cx, cy = w / 2, h / 2
    size = round(min(h * 0.17, (w * 1.1) / max(len(name), 1)))
    squeeze = min(1.0, (w * 1.3) / (size * 1.05 * max(len(name), 1)))
    upper = _inside_ring((cx, cy), inner, _ink_box(name, size, squeeze))
    half = math.radians(min(200.0, 50.0 + 14.0 * len(name)) / 2)
    canvas.text_along(name, upper, -half, half, size, squeeze)
    canvas.horizontal(kind_text, cx, cy + h * 0.08, round(h * 0.17), w * 0.5)
    if code:
        code_size = round(h * 0.075)
        lower = _inside_ring((cx, cy), inner, _ink_box(code, code_size, 0.8), lower=True)
        canvas.text_along(code, lower, math.radians(32), -math.radians(32), code_size, 0.8)
    return canvas.finish(SEAL_RED)


def _columns(text: str, columns: int) -> list[str]:
    """*text* cut into columns read top to bottom, in reading order (the first goes right)."""
    rows = math.ceil(len(text) / columns)
    return [text[i * rows : (i + 1) * rows] for i in range(columns)]


def square_seal(*, text: str, side_mm: float) -> Rendered:
    """A square seal with *text* in two columns read from the right (法定代表人章 and the square
    财务专用章 when its text is short)."""
    canvas = _Canvas(side_mm, side_mm)
    s = px(side_mm)
    ring = s * 0.06
    canvas.draw.rectangle(
        (ring / 2, ring / 2, s - ring / 2, s - ring / 2), outline=255, width=round(ring)
    )
    columns = max(2, math.ceil(math.sqrt(len(text))))
    grid = _columns(text, columns)
    rows = max(len(col) for col in grid)
    inner = s - 2 * ring - s * 0.08
    cell_w, cell_h = inner / columns, inner / rows
    size = round(min(cell_w, cell_h) * 0.95)
    squeeze = min(1.0, cell_w * 0.95 / size)
    for ci, col in enumerate(grid):
        for ri, char in enumerate(col):
            # Centre each glyph in its cell.
            x = s - ring - s * 0.04 - cell_w * (ci + 0.5)
            y = ring + s * 0.04 + cell_h * (ri + 0.5)
            canvas.char(char, x, y, size, 0.0, squeeze)
    return canvas.finish(SEAL_RED)


def legal_rep_text(name: str) -> str:
    """法定代表人章 wording: two-character names become 某某之印, three 某某某印, longer stay."""
    if len(name) == 2:
        return f"{name}之印"
    if len(name) == 3:
        return f"{name}印"
    return name


def signature(name: str) -> Rendered:
    """A personal signature written in a brush 楷体 face, in ink, on a transparent ground."""
    size = px(12)
    face = font(HANDWRITING_FONT, size)
    left, top, right, bottom = face.getbbox(name)
    margin = px(2)
    per_mm = DPI * SCALE / 25.4
    canvas = _Canvas((right - left + 2 * margin) / per_mm, (bottom - top + 2 * margin) / per_mm)
    canvas.draw.text((margin - left, margin - top), name, font=face, fill=255)
    return canvas.finish(INK)
