"""Plain text documents PortSign writes itself (void statements, evidence reports) as A4 PDF
pages: Noto CJK text laid out with Pillow at 150 dpi, wrapped by measured width."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageDraw

from portsign.seals.render import SANS_FONT, SERIF_FONT, font

PAGE = (1240, 1754)  # A4 at 150 dpi
MARGIN = 130


@dataclass(frozen=True)
class Line:
    text: str
    size: int = 20
    bold: bool = False  # titles: serif, centred
    gap: int = 10


def _wrap(draw: ImageDraw.ImageDraw, text: str, size: int) -> list[str]:
    face = font(SANS_FONT, size)
    width = PAGE[0] - 2 * MARGIN
    lines, current = [], ""
    for char in text:
        if draw.textlength(current + char, font=face) > width:
            lines.append(current)
            current = char.lstrip()
        else:
            current += char
    return [*lines, current]


def render(lines: list[Line], *, footer: str = "") -> bytes:
    pages: list[Image.Image] = []
    page = draw = None
    y = PAGE[1]
    for line in lines:
        parts = [""] if not line.text else None
        for part in parts or _wrap(ImageDraw.Draw(Image.new("L", (1, 1))), line.text, line.size):
            if page is None or draw is None or y + line.size > PAGE[1] - MARGIN:
                page = Image.new("RGB", PAGE, "white")
                draw = ImageDraw.Draw(page)
                pages.append(page)
                y = MARGIN
            if part:
                face = font(SERIF_FONT if line.bold else SANS_FONT, line.size)
                x = (PAGE[0] - draw.textlength(part, font=face)) / 2 if line.bold else MARGIN
                draw.text((x, y), part, font=face, fill="black")
            y += line.size + line.gap
    for number, image in enumerate(pages, start=1):
        marker = f"{footer}  {number}/{len(pages)}".strip()
        face = font(SANS_FONT, 16)
        ImageDraw.Draw(image).text((MARGIN, PAGE[1] - 80), marker, font=face, fill="#666666")
    out = io.BytesIO()
    pages[0].save(out, format="PDF", resolution=150, save_all=True, append_images=pages[1:])
    return out.getvalue()
