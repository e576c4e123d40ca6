"""Documents drawn as text PDFs with reportlab: A4, real text in an embedded CJK font (so values
can be selected, copied and searched), tables that flow onto further pages, and a page number
under every page. The caller gives every string in the language the document is written in; this
module translates nothing. Used by the evidence report (contracts) and the E-Port card office's
printable forms (eport).

The font is AR PL UKai (fonts-arphic-ukai, the same file as `seals.render.HANDWRITING_FONT`),
subfont 0 of its TrueType collection (UKai CN, simplified forms). reportlab embeds only TrueType
outlines: the Noto Sans/Serif CJK the rest of PortSign draws with are OpenType collections with
CFF (PostScript) outlines, which reportlab refuses ("postscript outlines are not supported"),
and UKai is the only TrueType CJK font PortSign's image installs. reportlab subsets it and
writes a ToUnicode map, so `pdftotext` gives back the text as written. Its Latin glyphs are all
half an em wide, which keeps a SHA-256 (64 hex digits) at a known width: such a cell is drawn on
one line, at the largest size up to the body's that fits its column.

UKai has no ☑ or ☐ (U+2611, U+2610). A `Check` is therefore drawn with reportlab's lines (a
square, and a tick in it when ticked) over an invisible □ (U+25A1, which UKai has) marked with
the PDF ActualText ☑ or ☐: the page shows a box, and pdftotext, PDFium and copy-paste read ☑/☐.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

# common imports no app: the path is seals.render.HANDWRITING_FONT's.
FONT_FILE = "/usr/share/fonts/truetype/arphic/ukai.ttc"
FONT = "PortSign-UKai"
MARGIN = 50.0  # points, each side
FRAME_WIDTH = A4[0] - 2 * MARGIN
BODY_SIZE = 9.0
PADDING = 4.0
GREY = colors.HexColor("#666666")
RULE = colors.HexColor("#bbbbbb")
SHADE = colors.HexColor("#f0f0f0")
INK = colors.HexColor("#000000")
# A hash, serial or key: one token of hex digits, never broken across lines.
_TOKEN = re.compile(r"[0-9a-fA-F]{16,}")
_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")
TICKED, UNTICKED = "☑", "☐"  # what a Check reads as in the text layer


@dataclass(frozen=True)
class Check:
    """A check box in a table cell, ticked or not, with an optional label after it
    ("☑ IKEY"). Reads as ☑ or ☐ (then the label) in the text layer."""

    ticked: bool
    label: str = ""


# A table cell: text (lines split at "\n"), one check box, or several on a line ("☐ IC卡 ☑ IKEY").
Cell = str | Check | tuple[Check, ...]


@dataclass(frozen=True)
class Grid:
    """A table: optional header row, rows of cells, column widths as fractions of the frame.
    Without a header it is a list of label/value pairs: the columns in *label_columns* shaded
    (the first by default; (0, 2) for two pairs a row). A row with fewer cells than columns
    spans its last cell over the rest."""

    rows: Sequence[tuple[Cell, ...]]
    widths: tuple[float, ...] = (0.26, 0.74)
    header: tuple[str, ...] | None = None
    label_columns: tuple[int, ...] = (0,)


@dataclass(frozen=True)
class Signoff:
    """Boxes left blank for a signature, a seal or a date written by hand: rows of boxes, each
    labelled in its top-left corner ("申请单位签章：", "日期：  年  月  日"), *height* points
    tall, kept together on one page."""

    rows: Sequence[tuple[str, ...]]
    widths: tuple[float, ...] = (0.6, 0.4)
    height: float = 60.0
    # Names for the first row's boxes ("" for none): `render_placed` says where they landed,
    # so a signature can be put in its box.
    anchors: tuple[str, ...] = ()


Block = Grid | Signoff | str  # a string is a paragraph


@dataclass(frozen=True)
class Section:
    title: str  # "" for none: the blocks follow the previous section without a heading
    blocks: Sequence[Block] = field(default_factory=list)


@dataclass(frozen=True)
class Document:
    title: str
    preamble: list[str]  # grey lines under the title
    sections: list[Section]
    footer: str  # left of the page number
    author: str
    subtitle: str = ""  # centred under the title ("(1式3份)")
    # Right of the footer, with %(page)d and %(pages)d: "第 %(page)d 页 / 共 %(pages)d 页".
    page_marker: str = "%(page)d / %(pages)d"


@cache
def _font() -> str:
    pdfmetrics.registerFont(TTFont(FONT, FONT_FILE, subfontIndex=0))
    return FONT


def _style(size: float = BODY_SIZE, *, cjk: bool = True, **extra: Any) -> ParagraphStyle:
    return ParagraphStyle(
        f"text-pdf-{size}",
        fontName=_font(),
        fontSize=size,
        leading=size * 1.4,
        # Chinese breaks between any two characters; Latin alone (a name) only at spaces.
        wordWrap="CJK" if cjk else None,
        **extra,
    )


class _Checks(Flowable):
    """Check boxes with their labels, left to right, onto a further line when one is full."""

    def __init__(self, checks: Sequence[Check]) -> None:
        super().__init__()
        self.checks = tuple(checks)
        self.box = BODY_SIZE * 0.85
        self.leading = BODY_SIZE * 1.4
        self.placed: list[tuple[float, int, Check]] = []

    def _item_width(self, check: Check) -> float:
        label = pdfmetrics.stringWidth(check.label, _font(), BODY_SIZE) if check.label else 0.0
        return self.box + (3 + label if check.label else 0.0)

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        gap = BODY_SIZE * 1.5
        self.placed, x, line, widest = [], 0.0, 0, 0.0
        for check in self.checks:
            width = self._item_width(check)
            if x > 0 and x + width > available_width:
                x, line = 0.0, line + 1
            self.placed.append((x, line, check))
            widest = max(widest, x + width)
            x += width + gap
        self.width, self.height = widest, self.leading * (line + 1)
        return self.width, self.height

    def draw(self) -> None:
        canvas = self.canv
        for x, line, check in self.placed:
            baseline = self.height - line * self.leading - BODY_SIZE  # as a Paragraph's
            # The text layer: an invisible □ read as ☑ or ☐ (ActualText, UTF-16BE).
            marker = (TICKED if check.ticked else UNTICKED).encode("utf-16-be").hex().upper()
            canvas.saveState()  # the render mode (3: invisible) is graphics state
            canvas.addLiteral(f"/Span <</ActualText <FEFF{marker}>>> BDC")
            text = canvas.beginText(x, baseline)
            text.setTextRenderMode(3)
            text.setFont(_font(), self.box)
            text.textOut("□")
            canvas.drawText(text)
            canvas.addLiteral("EMC")
            canvas.restoreState()
            # What the page shows.
            bottom = baseline - BODY_SIZE * 0.1
            canvas.saveState()
            canvas.setStrokeColor(INK)
            canvas.setLineWidth(0.7)
            canvas.rect(x, bottom, self.box, self.box, stroke=1, fill=0)
            if check.ticked:
                canvas.setLineWidth(1.1)
                tick = canvas.beginPath()
                tick.moveTo(x + self.box * 0.18, bottom + self.box * 0.52)
                tick.lineTo(x + self.box * 0.42, bottom + self.box * 0.2)
                tick.lineTo(x + self.box * 0.86, bottom + self.box * 0.86)
                canvas.drawPath(tick, stroke=1, fill=0)
            canvas.restoreState()
            if check.label:
                canvas.setFont(_font(), BODY_SIZE)
                canvas.setFillColor(INK)
                canvas.drawString(x + self.box + 3, baseline, check.label)


def _cell(value: Cell, width: float) -> Flowable:
    if isinstance(value, Check):
        return _Checks((value,))
    if isinstance(value, tuple):
        return _Checks(value)
    inner = width - 2 * PADDING
    if _TOKEN.fullmatch(value):
        size = BODY_SIZE
        while size > 5 and pdfmetrics.stringWidth(value, _font(), size) > inner:
            size -= 0.25
        return Paragraph(escape(value), _style(size, splitLongWords=0))
    lines = [escape(line) for line in (value or "—").splitlines()]
    return Paragraph("<br/>".join(lines), _style(cjk=bool(_CJK.search(value))))


def _rules() -> list[tuple[Any, ...]]:
    return [
        ("GRID", (0, 0), (-1, -1), 0.5, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), PADDING),
        ("RIGHTPADDING", (0, 0), (-1, -1), PADDING),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]


def _grid(grid: Grid) -> Table:
    widths = [FRAME_WIDTH * w for w in grid.widths]
    commands = _rules()
    rows: list[list[Flowable | str]] = []
    spans: list[tuple[Any, ...]] = []
    first = 1 if grid.header is not None else 0
    for index, row in enumerate(grid.rows, start=first):
        if not 0 < len(row) <= len(widths):
            raise ValueError(f"a row of {len(row)} cells in a grid of {len(widths)} columns")
        cells: list[Flowable | str] = [_cell(c, w) for c, w in zip(row, widths, strict=False)]
        if len(row) < len(widths):  # the last cell spans the rest of the row
            cells[-1] = _cell(row[-1], FRAME_WIDTH * sum(grid.widths[len(row) - 1 :]))
            cells += [""] * (len(widths) - len(row))
            commands.append(("SPAN", (len(row) - 1, index), (-1, index)))
            spans.append(("BACKGROUND", (len(row) - 1, index), (-1, index), colors.white))
        rows.append(cells)
    if grid.header is not None:
        rows.insert(0, [_cell(c, w) for c, w in zip(grid.header, widths, strict=True)])
        commands.append(("BACKGROUND", (0, 0), (-1, 0), SHADE))
    else:
        for column in grid.label_columns:
            commands.append(("BACKGROUND", (column, 0), (column, -1), SHADE))
    commands += spans  # a spanning value is never shaded as a label
    return Table(
        rows,
        colWidths=widths,
        repeatRows=1 if grid.header is not None else 0,  # the header again on each page
        style=TableStyle(commands),
        hAlign="LEFT",
    )


def _signoff(signoff: Signoff) -> Table:
    widths = [FRAME_WIDTH * w for w in signoff.widths]
    rows = [
        [Paragraph(escape(label), _style(cjk=bool(_CJK.search(label)))) for label in row]
        for row in signoff.rows
    ]
    table = Table(
        rows,
        colWidths=widths,
        rowHeights=[signoff.height] * len(rows),
        style=TableStyle(_rules()),
        hAlign="LEFT",
    )
    return table


@dataclass(frozen=True)
class Box:
    """Where a named signoff box landed: 1-based page, and fractions of the A4 page from its
    top-left corner (pki.pades.Mark's geometry)."""

    page: int
    x: float
    y: float
    width: float
    height: float


class _Anchor(Flowable):
    """Zero-size: drawn just above a signoff's table, records where its named boxes are."""

    def __init__(self, signoff: Signoff, found: dict[str, Box]) -> None:
        super().__init__()
        self.signoff, self.found = signoff, found
        self.width = self.height = 0

    def draw(self) -> None:
        left, top = self.canv.absolutePosition(0, 0)
        page = self.canv._doctemplate.page  # reportlab's current page number, 1-based
        x = left
        for name, width in zip(self.signoff.anchors, self.signoff.widths, strict=False):
            if name:
                self.found[name] = Box(
                    page=page,
                    x=x / A4[0],
                    y=(A4[1] - top) / A4[1],
                    width=FRAME_WIDTH * width / A4[0],
                    height=self.signoff.height / A4[1],
                )
            x += FRAME_WIDTH * width


def _block(block: Block, found: dict[str, Box]) -> Flowable | list[Flowable]:
    if isinstance(block, str):
        return Paragraph(escape(block), _style())
    if isinstance(block, Signoff):
        return [_Anchor(block, found), _signoff(block)] if block.anchors else _signoff(block)
    return _grid(block)


def _story(document: Document, found: dict[str, Box]) -> list[Any]:
    title = _style(20, alignment=TA_CENTER, spaceAfter=14)
    heading = _style(13, spaceBefore=12, spaceAfter=6)
    story: list[Any] = [Paragraph(escape(document.title), title)]
    if document.subtitle:
        story.append(Paragraph(escape(document.subtitle), _style(11, alignment=TA_CENTER)))
        story.append(Spacer(1, 10))
    story += [Paragraph(escape(line), _style(textColor=GREY)) for line in document.preamble]
    for section in document.sections:
        first: list[Any] = [Paragraph(escape(section.title), heading)] if section.title else []
        for block in section.blocks:
            made = _block(block, found)
            flowables = made if isinstance(made, list) else [made]
            if first:  # a heading is never left alone at the foot of a page
                story.append(KeepTogether([*first, *flowables]))
                first = []
            elif isinstance(block, Signoff):  # (a KeepTogether inside one breaks the page)
                story.append(KeepTogether(flowables))
            else:
                story += flowables
            story.append(Spacer(1, 6))
        story += first
    return story


def _canvas_class(footer: str, page_marker: str) -> type[Canvas]:
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
                marker = page_marker % {"page": number, "pages": total}
                self.drawRightString(A4[0] - MARGIN, MARGIN / 2, marker)
                super().showPage()
            super().save()

    return NumberedCanvas


def render(document: Document) -> bytes:
    return render_placed(document)[0]


def render_placed(document: Document) -> tuple[bytes, dict[str, Box]]:
    """The PDF, and where each named signoff box is in it."""
    found: dict[str, Box] = {}
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
    canvas = _canvas_class(document.footer, document.page_marker)
    template.build(_story(document, found), canvasmaker=canvas)
    return out.getvalue(), found
