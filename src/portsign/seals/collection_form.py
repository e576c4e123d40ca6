"""签章采集表: the A4 page an enterprise stamps (one box per seal kind) and scans in colour.

The page is laid out first, as a list of elements with the exact box each one covers, and
then drawn from that list: the layout flows top to bottom (a long enterprise name wraps and
pushes the rest down), so nothing can be drawn over anything else, and the tests check the
very boxes that are drawn. The old fixed positions put the notes over the fifth seal box.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from PIL import Image, ImageDraw

from portsign.seals.render import SERIF_FONT, font

DPI = 150
PAGE = (round(210 / 25.4 * DPI), round(297 / 25.4 * DPI))  # A4


def mm(value: float) -> int:
    return round(value / 25.4 * DPI)


MARGIN = mm(12)
BOX = mm(55)  # room for a 42 mm seal stamped a little off centre
COLUMNS = 3
GAP = mm(6)  # between one block and the next
TITLE_SIZE, BODY_SIZE, SMALL_SIZE = 44, 24, 20
NOTES = (
    "1. 请在对应方框内加盖红色印章，勿压线，勿叠盖。",
    "2. 请用彩色扫描（不低于 200 dpi），上传 PNG、JPEG 或 PDF 文件。",
    "3. 上传后系统自动抠取印章，经审核确认后即可使用。",
)

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Element:
    """Text drawn at *xy* with *anchor* (Pillow's), or a frame when *text* is empty."""

    bbox: Box
    text: str = ""
    xy: tuple[float, float] = (0, 0)
    size: int = 0
    anchor: str = "la"


def _text(text: str, xy: tuple[float, float], size: int, anchor: str = "la") -> Element:
    left, top, right, bottom = font(SERIF_FONT, size).getbbox(text, anchor=anchor)
    x, y = round(xy[0]), round(xy[1])
    box = (x + math.floor(left), y + math.floor(top), x + math.ceil(right), y + math.ceil(bottom))
    return Element(box, text, xy, size, anchor)


def _wrap(text: str, size: int, width: int) -> list[str]:
    """*text* cut into lines no wider than *width* (Chinese breaks between any characters)."""
    face, lines, line = font(SERIF_FONT, size), [], ""
    for char in text:
        if line and face.getlength(line + char) > width:
            lines.append(line)
            line = char
        else:
            line += char
    return [*lines, line]


def _lines(lines: Sequence[str], top: int, size: int, indent: int = 0) -> list[Element]:
    """Left-aligned lines from *top* down, 1.6 font sizes apart."""
    step = round(size * 1.6)
    return [
        _text(line, (MARGIN + indent, top + i * step), size, "lt") for i, line in enumerate(lines)
    ]


def _bottom(elements: Sequence[Element]) -> int:
    return max(element.bbox[3] for element in elements)


def _grid(labels: Sequence[str], top: int) -> list[Element]:
    """One frame per label, COLUMNS a row, each row centred, the label under its frame."""
    width = PAGE[0] - 2 * MARGIN
    pitch = (width - BOX) / (COLUMNS - 1)  # first frame on the left margin, last on the right
    elements: list[Element] = []
    row_height = BOX + GAP + BODY_SIZE + 2 * GAP
    for start in range(0, len(labels), COLUMNS):
        row = labels[start : start + COLUMNS]
        first = MARGIN + (width - BOX - pitch * (len(row) - 1)) / 2
        y = top + (start // COLUMNS) * row_height
        for i, label in enumerate(row):
            x = round(first + i * pitch)
            elements.append(Element((x, y, x + BOX, y + BOX)))
            elements.append(_text(label, (x + BOX / 2, y + BOX + GAP), BODY_SIZE, "mt"))
    return elements


def layout(*, name: str, uscc: str, day: date, labels: Sequence[str]) -> list[Element]:
    """Every element of the page, top to bottom."""
    width = PAGE[0] - 2 * MARGIN
    elements = [_text("电子签章采集表", (PAGE[0] / 2, MARGIN + mm(8)), TITLE_SIZE, "mt")]
    prefix = "企业名称："
    indent = round(font(SERIF_FONT, BODY_SIZE).getlength(prefix))
    name_lines = _wrap(name, BODY_SIZE, width - indent)
    top = _bottom(elements) + 2 * GAP
    elements.append(_text(prefix, (MARGIN, top), BODY_SIZE, "lt"))
    elements += _lines(name_lines, top, BODY_SIZE, indent)
    step = round(BODY_SIZE * 1.6)
    top += step * len(name_lines)
    elements += _lines([f"统一社会信用代码：{uscc}", f"日期：{day:%Y年%m月%d日}"], top, BODY_SIZE)
    elements += _grid(labels, _bottom(elements) + 2 * GAP)
    elements += _lines(NOTES, _bottom(elements) + 2 * GAP, SMALL_SIZE)
    return elements


def draw(elements: Sequence[Element]) -> Image.Image:
    page = Image.new("RGB", PAGE, "white")
    canvas = ImageDraw.Draw(page)
    for element in elements:
        if element.text:
            face = font(SERIF_FONT, element.size)
            canvas.text(element.xy, element.text, font=face, fill="black", anchor=element.anchor)
        else:
            canvas.rectangle(element.bbox, outline="black", width=2)
    return page


def collection_form_pdf(*, name: str, uscc: str, day: date, labels: Sequence[str]) -> bytes:
    out = io.BytesIO()
    draw(layout(name=name, uscc=uscc, day=day, labels=labels)).save(
        out, format="PDF", resolution=DPI
    )
    return out.getvalue()
