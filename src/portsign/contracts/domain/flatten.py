"""Flattening fill-in values into a PDF's page content (issue 6 §1), before anyone signs.

Each value is drawn as an image of its text in Noto Sans CJK (black, 300 dpi, transparent
background) — so it looks the same in every viewer and needs no embedded font — with the same
text underneath in invisible text (render mode 3, like the text layer of a scanned page), so
the values can be searched, copied and extracted. The invisible text uses Adobe's standard
STSong-Light with the UniGB-UCS2-H encoding and a ToUnicode map: no font file is embedded, and
none is needed because its glyphs are never painted.

All values of a page go into one form XObject appended to the page's content, wrapped so that
whatever graphics state the original content leaves behind cannot move them (`q` before it,
`Q` after). The result is written as an incremental update of a clean (PDFium-rewritten)
template: an ordinary unencrypted PDF that PAdES signatures are later appended to.
"""

from __future__ import annotations

import io
import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _
from PIL import Image, ImageDraw
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError

from portsign.common.errors import Invalid
from portsign.pki.pades_fields import image_xobject, inherited
from portsign.seals.render import SANS_FONT, Font, font

DPI = 300
INK = (0, 0, 0)
MAX_FONT_PT = 12.0  # a tall box still gets body-text size, not a headline
MIN_FONT_PT = 5.0
LINE_SPACING = 1.25
PADDING_PT = 1.0
RESOURCE_NAME = "PortSignFill"


@dataclass(frozen=True)
class Stamp:
    """One value to draw: its box (fractions of the displayed page, origin top-left), and its
    text, or a tick for a ticked checkbox."""

    page: int
    x: float
    y: float
    width: float
    height: float
    text: str = ""
    tick: bool = False


@dataclass(frozen=True)
class _Frame:
    """A page as displayed: its size in points, and the matrix from displayed space (origin
    bottom-left, y up) to the page's user space, which undoes /Rotate and the crop box."""

    width: float
    height: float
    matrix: tuple[float, float, float, float, float, float]


@dataclass(frozen=True)
class _Line:
    text: str
    x: float  # left of the line in points, inside the stamp's box
    baseline: float  # from the box's bottom, in points
    width: float  # drawn width in points
    size: float  # font size in points


def flatten(pdf: bytes, stamps: Sequence[Stamp]) -> bytes:
    """*pdf* with every stamp drawn onto its page."""
    if not stamps:
        return pdf
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        font_ref = _text_font(writer, (s.text for s in stamps))
        by_page: dict[int, list[Stamp]] = defaultdict(list)
        for stamp in stamps:
            by_page[stamp.page].append(stamp)
        for page, items in sorted(by_page.items()):
            _stamp_page(writer, page - 1, items, font_ref)
        out = io.BytesIO()
        writer.write(out)
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise Invalid(
            _("The template's PDF cannot be filled in. Upload it again as a plain PDF."),
            code="template_pdf",
        ) from exc
    return out.getvalue()


# -- page geometry -----------------------------------------------------------------------------


def _frame(page: generic.DictionaryObject) -> _Frame:
    box = inherited(page, "/CropBox") or inherited(page, "/MediaBox")
    llx, lly, urx, ury = (float(v) for v in box)
    rotate = int(inherited(page, "/Rotate") or 0) % 360
    if rotate not in (0, 90, 180, 270) or urx <= llx or ury <= lly:
        raise ValueError("bad page box")
    width, height = urx - llx, ury - lly
    if rotate in (90, 270):
        width, height = height, width

    def user(u: float, v: float) -> tuple[float, float]:
        """A displayed point (from the top-left, y down) in user space."""
        if rotate == 90:
            return llx + v, lly + u
        if rotate == 180:
            return urx - u, lly + v
        if rotate == 270:
            return urx - v, ury - u
        return llx + u, ury - v

    e, f = user(0, height)
    ax, ay = user(1, height)
    cx, cy = user(0, height - 1)
    return _Frame(width, height, (ax - e, ay - f, cx - e, cy - f, e, f))


# -- drawing -----------------------------------------------------------------------------------


def _stamp_page(
    writer: IncrementalPdfFileWriter,
    index: int,
    stamps: list[Stamp],
    font_ref: generic.IndirectObject,
) -> None:
    page_ref, resources = writer.find_page_for_modification(index)
    page = page_ref.get_object()
    frame = _frame(page)
    images: dict[str, generic.IndirectObject] = {}
    content: list[bytes] = []
    for number, stamp in enumerate(stamps):
        x, w = stamp.x * frame.width, stamp.width * frame.width
        h = stamp.height * frame.height
        y = frame.height - stamp.y * frame.height - h  # bottom of the box, y up
        picture, lines = _draw(stamp, w, h)
        name = f"/V{number}"
        images[name] = _image(writer, picture)
        content.append(b"q %.3f 0 0 %.3f %.3f %.3f cm %s Do Q" % (w, h, x, y, name.encode()))
        content.extend(_invisible(line, x, y) for line in lines)
    form = writer.add_object(
        generic.StreamObject(
            {
                pdf_name("/Type"): pdf_name("/XObject"),
                pdf_name("/Subtype"): pdf_name("/Form"),
                pdf_name("/BBox"): _numbers((0, 0, frame.width, frame.height)),
                pdf_name("/Matrix"): _numbers(frame.matrix),
                pdf_name("/Resources"): generic.DictionaryObject(
                    {
                        pdf_name("/XObject"): generic.DictionaryObject(
                            {pdf_name(k): v for k, v in images.items()}
                        ),
                        pdf_name("/Font"): generic.DictionaryObject({pdf_name("/F"): font_ref}),
                    }
                ),
            },
            stream_data=b"\n".join(content),
        )
    )
    name = _free_name(resources.get_object() if resources is not None else None)
    if "/Contents" not in page:  # an empty page: give it a content array to append to
        page[pdf_name("/Contents")] = writer.add_object(generic.ArrayObject())
        writer.mark_update(page_ref)
    writer.add_stream_to_page(
        index, writer.add_object(generic.StreamObject(stream_data=b"q")), prepend=True
    )
    writer.add_stream_to_page(
        index,
        writer.add_object(generic.StreamObject(stream_data=b"Q /%s Do" % name.encode())),
        resources=generic.DictionaryObject(
            {pdf_name("/XObject"): generic.DictionaryObject({pdf_name("/" + name): form})}
        ),
    )


def _free_name(resources: object) -> str:
    """A resource name the page does not use yet (a template filled twice keeps both)."""
    taken: set[str] = set()
    if isinstance(resources, generic.DictionaryObject) and "/XObject" in resources:
        taken = {str(k) for k in resources["/XObject"]}
    name, n = RESOURCE_NAME, 1
    while f"/{name}" in taken:
        n += 1
        name = f"{RESOURCE_NAME}{n}"
    return name


def _draw(stamp: Stamp, width: float, height: float) -> tuple[Image.Image, list[_Line]]:
    """The stamp's box as a transparent image, and the text lines drawn in it."""
    scale = DPI / 72
    canvas = Image.new("RGBA", (max(1, round(width * scale)), max(1, round(height * scale))))
    draw = ImageDraw.Draw(canvas)
    if stamp.tick:
        side = min(width, height) * 0.8
        left, top = PADDING_PT, (height - side) / 2
        points = [(0.1, 0.55), (0.4, 0.85), (0.92, 0.18)]
        draw.line(
            [((left + px * side) * scale, (top + py * side) * scale) for px, py in points],
            fill=(*INK, 255),
            width=max(2, round(side * scale / 9)),
            joint="curve",
        )
        return canvas, [_Line("√", left, (height - side) / 2, side, side)]
    size, rows = _fit(stamp.text, width - 2 * PADDING_PT, height)
    face = font(SANS_FONT, max(1, round(size * scale)))
    step = size * LINE_SPACING
    top = max(0.0, (height - len(rows) * step) / 2)
    lines: list[_Line] = []
    for number, text in enumerate(rows):
        # CJK glyphs span about -0.12 to 0.88 em around the baseline: centre them in the line.
        baseline = top + number * step + step / 2 + 0.38 * size  # from the box's top
        draw.text(
            (PADDING_PT * scale, baseline * scale), text, font=face, fill=(*INK, 255), anchor="ls"
        )
        lines.append(_Line(text, PADDING_PT, height - baseline, face.getlength(text) / scale, size))
    return canvas, lines


def _fit(text: str, width: float, height: float) -> tuple[float, list[str]]:
    """The largest font size (points) at which *text*, wrapped, fits the box; at the smallest
    size it may overflow below, which the template's designer sees in the preview."""
    size = max(MIN_FONT_PT, min(MAX_FONT_PT, height / LINE_SPACING))
    while True:
        face = font(SANS_FONT, max(1, round(size * DPI / 72)))
        rows = _wrap(text, face, width * DPI / 72)
        if len(rows) * size * LINE_SPACING <= height or size <= MIN_FONT_PT:
            return size, rows
        size = max(MIN_FONT_PT, size - 0.5)


def _wrap(text: str, face: Font, width: float) -> list[str]:
    """Lines no wider than *width* pixels, broken between any two characters (Chinese text has
    no spaces to break at), and at explicit line breaks."""
    rows: list[str] = []
    for paragraph in text.splitlines() or [""]:
        current = ""
        for char in paragraph:
            if current and face.getlength(current + char) > width:
                rows.append(current)
                current = char.lstrip() if char.isspace() else char
            else:
                current += char
        rows.append(current)
    return rows


def _image(writer: IncrementalPdfFileWriter, picture: Image.Image) -> generic.IndirectObject:
    # Ink is one colour: the shape lives in the soft mask, the colour plane is flat.
    colour = Image.new("RGB", picture.size, INK)
    return image_xobject(
        writer,
        width=picture.width,
        height=picture.height,
        rgb=zlib.compress(colour.tobytes()),
        alpha=zlib.compress(picture.getchannel("A").tobytes()),
    )


# -- the invisible text layer ------------------------------------------------------------------


def _ucs2(text: str) -> str:
    return "".join(ch for ch in text if ord(ch) <= 0xFFFF)


def _invisible(line: _Line, box_x: float, box_y: float) -> bytes:
    text = _ucs2(line.text)
    if not text.strip():
        return b""
    # STSong's own widths are unknown here (1000 units a glyph by default), so the line is
    # squeezed horizontally to the width actually drawn: selection follows the visible text.
    scaling = 100 * line.width / (len(text) * line.size) if line.width > 0 else 100
    return b"BT 3 Tr /F 1 Tf %.3f 0 0 %.3f %.3f %.3f Tm %.2f Tz <%s> Tj ET" % (
        line.size,
        line.size,
        box_x + line.x,
        box_y + line.baseline,
        scaling,
        text.encode("utf-16-be").hex().upper().encode(),
    )


def _text_font(writer: IncrementalPdfFileWriter, texts: Iterable[str]) -> generic.IndirectObject:
    """STSong-Light (Adobe-GB1, not embedded) with a ToUnicode map for the characters used."""
    highs = sorted({ord(ch) >> 8 for text in texts for ch in _ucs2(text)} | {0x22})  # √ is 221A
    ranges = " ".join(f"<{h:02X}00> <{h:02X}FF> <{h:02X}00>" for h in highs)
    cmap = (
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap "
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def "
        "/CMapName /PortSign-UCS2 def /CMapType 2 def "
        "1 begincodespacerange <0000> <FFFF> endcodespacerange "
        f"{len(highs)} beginbfrange {ranges} endbfrange "
        "endcmap CMapName currentdict /CMap defineresource pop end end"
    ).encode()
    descriptor = generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/FontDescriptor"),
            pdf_name("/FontName"): pdf_name("/STSong-Light"),
            pdf_name("/Flags"): generic.NumberObject(6),
            pdf_name("/FontBBox"): _numbers((-25, -254, 1000, 880)),
            pdf_name("/ItalicAngle"): generic.NumberObject(0),
            pdf_name("/Ascent"): generic.NumberObject(880),
            pdf_name("/Descent"): generic.NumberObject(-120),
            pdf_name("/CapHeight"): generic.NumberObject(880),
            pdf_name("/StemV"): generic.NumberObject(93),
        }
    )
    cid_font = generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/Font"),
            pdf_name("/Subtype"): pdf_name("/CIDFontType0"),
            pdf_name("/BaseFont"): pdf_name("/STSong-Light"),
            pdf_name("/CIDSystemInfo"): generic.DictionaryObject(
                {
                    pdf_name("/Registry"): generic.TextStringObject("Adobe"),
                    pdf_name("/Ordering"): generic.TextStringObject("GB1"),
                    pdf_name("/Supplement"): generic.NumberObject(2),
                }
            ),
            pdf_name("/FontDescriptor"): writer.add_object(descriptor),
        }
    )
    return writer.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Font"),
                pdf_name("/Subtype"): pdf_name("/Type0"),
                pdf_name("/BaseFont"): pdf_name("/STSong-Light"),
                pdf_name("/Encoding"): pdf_name("/UniGB-UCS2-H"),
                pdf_name("/DescendantFonts"): generic.ArrayObject([writer.add_object(cid_font)]),
                pdf_name("/ToUnicode"): writer.add_object(generic.StreamObject(stream_data=cmap)),
            }
        )
    )


def _numbers(values: Iterable[float]) -> generic.ArrayObject:
    return generic.ArrayObject(generic.FloatObject(round(v, 4)) for v in values)
