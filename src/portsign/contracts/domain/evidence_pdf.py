"""The evidence report drawn as a text PDF with reportlab: A4, real text in an embedded CJK font
(so hashes can be selected, copied and searched), tables that flow onto further pages, and
"第 n 页 / 共 m 页" under every page.

The font is AR PL UKai (`seals.render.HANDWRITING_FONT`, fonts-arphic-ukai), subfont 0 of its
TrueType collection (UKai CN, simplified forms). reportlab embeds only TrueType outlines: the
Noto Sans/Serif CJK the rest of PortSign draws with are OpenType collections with CFF
(PostScript) outlines, which reportlab refuses ("postscript outlines are not supported"), and
UKai is the only TrueType CJK font PortSign's image installs. reportlab subsets it and writes a
ToUnicode map, so `pdftotext` gives back the text as written. Its Latin glyphs are all half an
em wide, which keeps a SHA-256 (64 hex digits) at a known width: such a cell is drawn on one
line, at the largest size up to the body's that fits its column.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from xml.sax.saxutils import escape

from django.utils.translation import pgettext
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from portsign.seals.render import HANDWRITING_FONT

FONT = "PortSign-UKai"
MARGIN = 50.0  # points, each side
FRAME_WIDTH = A4[0] - 2 * MARGIN
BODY_SIZE = 9.0
PADDING = 4.0
GREY = colors.HexColor("#666666")
RULE = colors.HexColor("#bbbbbb")
SHADE = colors.HexColor("#f0f0f0")
# A hash, serial or key: one token of hex digits, never broken across lines.
_TOKEN = re.compile(r"[0-9a-fA-F]{16,}")
_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


@dataclass(frozen=True)
class Grid:
    """A table: optional header row, rows of cells, column widths as fractions of the frame.
    Without a header it is a list of label/value pairs (the first column shaded)."""

    rows: Sequence[tuple[str, ...]]
    widths: tuple[float, ...] = (0.26, 0.74)
    header: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Section:
    title: str
    blocks: Sequence[Grid | str] = field(default_factory=list)  # a string is a paragraph


@dataclass(frozen=True)
class Document:
    title: str
    preamble: list[str]
    sections: list[Section]
    footer: str  # left of the page number
    author: str


@cache
def _font() -> str:
    pdfmetrics.registerFont(TTFont(FONT, HANDWRITING_FONT, subfontIndex=0))
    return FONT


def _style(size: float = BODY_SIZE, *, cjk: bool = True, **extra: Any) -> ParagraphStyle:
    return ParagraphStyle(
        f"evidence-{size}",
        fontName=_font(),
        fontSize=size,
        leading=size * 1.4,
        # Chinese breaks between any two characters; Latin alone (a name) only at spaces.
        wordWrap="CJK" if cjk else None,
        **extra,
    )


def _cell(text: str, width: float) -> Paragraph:
    inner = width - 2 * PADDING
    if _TOKEN.fullmatch(text):
        size = BODY_SIZE
        while size > 5 and pdfmetrics.stringWidth(text, _font(), size) > inner:
            size -= 0.25
        return Paragraph(escape(text), _style(size, splitLongWords=0))
    lines = [escape(line) for line in (text or "—").splitlines()]
    return Paragraph("<br/>".join(lines), _style(cjk=bool(_CJK.search(text))))


def _grid(grid: Grid) -> Table:
    widths = [FRAME_WIDTH * w for w in grid.widths]
    rows = [[_cell(c, w) for c, w in zip(row, widths, strict=True)] for row in grid.rows]
    commands: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.5, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), PADDING),
        ("RIGHTPADDING", (0, 0), (-1, -1), PADDING),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if grid.header is not None:
        rows.insert(0, [_cell(c, w) for c, w in zip(grid.header, widths, strict=True)])
        commands.append(("BACKGROUND", (0, 0), (-1, 0), SHADE))
    else:
        commands.append(("BACKGROUND", (0, 0), (0, -1), SHADE))
    return Table(
        rows,
        colWidths=widths,
        repeatRows=1 if grid.header is not None else 0,  # the header again on each page
        style=TableStyle(commands),
        hAlign="LEFT",
    )


def _story(document: Document) -> list[Any]:
    title = _style(20, alignment=TA_CENTER, spaceAfter=14)
    heading = _style(13, spaceBefore=12, spaceAfter=6)
    story: list[Any] = [Paragraph(escape(document.title), title)]
    story += [Paragraph(escape(line), _style(textColor=GREY)) for line in document.preamble]
    for section in document.sections:
        first: list[Any] = [Paragraph(escape(section.title), heading)]
        for block in section.blocks:
            flowable = (
                Paragraph(escape(block), _style()) if isinstance(block, str) else _grid(block)
            )
            if first:  # a heading is never left alone at the foot of a page
                story.append(KeepTogether([*first, flowable]))
                first = []
            else:
                story.append(flowable)
            story.append(Spacer(1, 6))
        story += first
    return story


def _canvas_class(footer: str) -> type[Canvas]:
    class NumberedCanvas(Canvas):
        """Holds each page back until the last, to write "page n of m" on every one."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._held: list[dict[str, Any]] = []

        def showPage(self) -> None:  # reportlab's name
            self._held.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._held)
            for number, state in enumerate(self._held, start=1):
                self.__dict__.update(state)
                self.setFont(_font(), 8)
                self.setFillColor(GREY)
                self.drawString(MARGIN, MARGIN / 2, footer)
                marker = pgettext("evidence report", "Page %(page)d of %(pages)d") % {
                    "page": number,
                    "pages": total,
                }
                self.drawRightString(A4[0] - MARGIN, MARGIN / 2, marker)
                super().showPage()
            super().save()

    return NumberedCanvas


def render(document: Document) -> bytes:
    out = io.BytesIO()
    template = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=document.title,
        author=document.author,
        creator=document.author,
    )
    template.build(_story(document), canvasmaker=_canvas_class(document.footer))
    return out.getvalue()
