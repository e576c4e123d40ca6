"""The 验签报告: a verification result as an A4 PDF anyone can keep or hand on.

Each page is drawn with Pillow in the CJK sans font of the seals (`seals.render.SANS_FONT`),
so it looks the same in every viewer with no font embedded. Over the picture lies an invisible
text layer (text render mode 3, as OCR tools make) whose glyph widths are the drawn font's: the
file name and the SHA-256 can be selected, copied and searched, and `pdftotext` reads the
report. Nothing is stored: the PDF is built in memory from the `display.Facts` of the page.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from PIL import Image, ImageDraw

from portsign.seals.render import SANS_FONT, Font, font
from portsign.verification.display import Facts, SignatureFacts, beijing_time

DPI = 150
A4_MM = (210.0, 297.0)
WIDTH, HEIGHT = (round(mm / 25.4 * DPI) for mm in A4_MM)  # 1240 x 1754 pixels
PAGE_POINTS = tuple(mm / 25.4 * 72 for mm in A4_MM)  # 595.28 x 841.89
MARGIN = 110
LABEL_WIDTH = 300  # the column of labels ("文件名"), then the values
BLACK, GREY, RED, GREEN, RULE = "#1a1a1a", "#666666", "#c62828", "#2e7d32", "#cccccc"


@dataclass
class _Run:
    """One line of text as drawn: where its baseline starts, in pixels of its page."""

    page: int
    x: float
    baseline: float
    size: int
    text: str


@dataclass
class _Pages:
    images: list[Image.Image] = field(default_factory=list)
    runs: list[_Run] = field(default_factory=list)
    y: float = HEIGHT  # forces a first page

    def new_page(self) -> None:
        self.images.append(Image.new("RGB", (WIDTH, HEIGHT), "white"))
        self.y = MARGIN

    def room(self, height: float) -> None:
        """Start a new page unless *height* pixels still fit above the footer."""
        if self.y + height > HEIGHT - MARGIN - 60:
            self.new_page()

    def text(self, x: float, text: str, *, size: int, fill: str = BLACK) -> None:
        """One line at *x*, its top at the cursor (which this does not move)."""
        face = font(SANS_FONT, size)
        baseline = self.y + face.getmetrics()[0]
        ImageDraw.Draw(self.images[-1]).text((x, baseline), text, font=face, fill=fill, anchor="ls")
        self.runs.append(_Run(len(self.images) - 1, x, baseline, size, text))


def _wrap(text: str, face: Font, width: float) -> list[str]:
    """*text* broken into lines no wider than *width*: at a space when there is one (Latin),
    else between any two characters (Chinese needs no spaces)."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for char in paragraph:
            if face.getlength(line + char) <= width or not line:
                line += char
                continue
            cut = line.rfind(" ")
            if cut > 0 and char != " ":
                lines.append(line[:cut])
                line = line[cut + 1 :] + char
            else:
                lines.append(line.rstrip())
                line = char.lstrip()
        lines.append(line)
    return lines


def _row(pages: _Pages, label: str, value: str, *, size: int = 24, fill: str = BLACK) -> None:
    face = font(SANS_FONT, size)
    step = round(size * 1.6)
    value_width = WIDTH - 2 * MARGIN - LABEL_WIDTH
    if face.getlength(value) > value_width and " " not in value:  # a hash: smaller, one line
        while size > 14 and font(SANS_FONT, size).getlength(value) > value_width:
            size -= 1
        face = font(SANS_FONT, size)
    lines = _wrap(value, face, value_width)
    labels = _wrap(label, font(SANS_FONT, 24), LABEL_WIDTH - 20)
    rows = max(len(lines), len(labels))
    pages.room(step * rows)
    top = pages.y
    for line in labels:
        pages.text(MARGIN, line, size=24, fill=GREY)
        pages.y += step
    pages.y = top
    for line in lines:
        pages.text(MARGIN + LABEL_WIDTH, line, size=size, fill=fill)
        pages.y += step
    pages.y = top + step * rows


def _rule(pages: _Pages) -> None:
    ImageDraw.Draw(pages.images[-1]).line(
        [(MARGIN, pages.y), (WIDTH - MARGIN, pages.y)], fill=RULE, width=2
    )
    pages.y += 24


def _signature(pages: _Pages, number: int, s: SignatureFacts) -> None:
    pages.room(48 + 7 * 39)  # keep one signature on one page
    pages.text(MARGIN, f"{number}. {s.kind_text}", size=30)
    pages.y += 52
    rows = [
        (_("Signer"), s.signer),
        (_("Enterprise"), s.enterprise),
        (_("Signed"), s.signed_at),
        (_("Time-stamp"), s.timestamp),
        (_("Certificate status"), s.certificate_text),
        (_("Covers the whole document"), _("Yes") if s.covers_whole_document else _("No")),
    ]
    for label, value in rows:
        _row(pages, label, value)
    _row(
        pages,
        pgettext("verification", "Result"),
        _("Valid") if s.valid else _("Invalid"),
        fill=GREEN if s.valid else RED,
    )
    pages.y += 20


def _draw(facts: Facts) -> _Pages:
    pages = _Pages()
    pages.new_page()
    pages.text(MARGIN, _("Verification report"), size=48)
    pages.y += 80
    pages.text(
        MARGIN,
        _("PortSign public verification, %(time)s")
        % {"time": beijing_time(dt.datetime.now(dt.UTC))},
        size=20,
        fill=GREY,
    )
    pages.y += 50
    _rule(pages)
    _row(pages, _("File name"), facts.filename or "—")
    _row(pages, _("SHA-256 of the file"), facts.sha256)
    _row(pages, _("Verified at"), facts.verified_at)
    _row(pages, _("Verdict"), facts.verdict, fill=GREEN if facts.ok else RED)
    pages.y += 10
    _rule(pages)
    for number, s in enumerate(facts.signatures, start=1):
        _signature(pages, number, s)
    note = _(
        "This report records the result of verifying the file above on PortSign's public "
        "verification page; the report itself is not signed. To confirm it, verify the same "
        "file again and compare its SHA-256."
    )
    face = font(SANS_FONT, 20)
    lines = _wrap(note, face, WIDTH - 2 * MARGIN)
    pages.room(32 * len(lines))
    for line in lines:
        pages.text(MARGIN, line, size=20, fill=GREY)
        pages.y += 32
    total = len(pages.images)
    for index in range(total):
        label = _("Page %(page)d of %(pages)d") % {"page": index + 1, "pages": total}
        face = font(SANS_FONT, 18)
        pages.runs.append(
            _Run(index, WIDTH - MARGIN - face.getlength(label), HEIGHT - MARGIN + 30, 18, label)
        )
        ImageDraw.Draw(pages.images[index]).text(
            (WIDTH - MARGIN, HEIGHT - MARGIN + 30), label, font=face, fill=GREY, anchor="rs"
        )
    return pages


# --- the PDF file ----------------------------------------------------------------------------


def _hex_utf16(text: str) -> str:
    return text.encode("utf-16-be").hex().upper()


class _Glyphs:
    """The invisible font: one CID per distinct character, widths from the drawn font."""

    def __init__(self, runs: list[_Run]) -> None:
        self.cids: dict[str, int] = {}
        for run in runs:
            for char in run.text:
                self.cids.setdefault(char, len(self.cids) + 1)
        face = font(SANS_FONT, 1000)
        self.widths = [round(face.getlength(char)) for char in self.cids]

    def encode(self, text: str) -> str:
        return "".join(f"{self.cids[char]:04X}" for char in text)

    def to_unicode(self) -> bytes:
        entries = [f"<{cid:04X}> <{_hex_utf16(char)}>" for char, cid in self.cids.items()]
        blocks = []
        for start in range(0, len(entries), 100):
            chunk = entries[start : start + 100]
            blocks.append(f"{len(chunk)} beginbfchar\n" + "\n".join(chunk) + "\nendbfchar")
        return (
            "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
            "/CMapName /PortSign-UCS def\n/CMapType 2 def\n"
            "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
            + "\n".join(blocks)
            + "\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
        ).encode("ascii")


def _stream(entries: str, data: bytes) -> bytes:
    packed = zlib.compress(data, 6)
    return (
        f"<< {entries} /Filter /FlateDecode /Length {len(packed)} >>\nstream\n".encode("ascii")
        + packed
        + b"\nendstream"
    )


def _pdf(pages: _Pages, *, title: str) -> bytes:
    glyphs = _Glyphs(pages.runs)
    scale = 72 / DPI
    objects: list[bytes] = []  # object n is objects[n - 1]

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below
    tree = add(b"")
    to_unicode = add(_stream("", glyphs.to_unicode()))
    widths = " ".join(str(w) for w in glyphs.widths)
    descendant = add(
        (
            "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /PortSignTextLayer"
            " /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >>"
            f" /FontDescriptor {len(objects) + 2} 0 R /CIDToGIDMap /Identity"
            f" /DW 1000 /W [1 [{widths}]] >>"
        ).encode("ascii")
    )
    add(
        b"<< /Type /FontDescriptor /FontName /PortSignTextLayer /Flags 4"
        b" /FontBBox [0 -200 1000 900] /ItalicAngle 0 /Ascent 880 /Descent -120"
        b" /CapHeight 700 /StemV 80 >>"
    )
    type0 = add(
        (
            "<< /Type /Font /Subtype /Type0 /BaseFont /PortSignTextLayer /Encoding /Identity-H"
            f" /DescendantFonts [{descendant} 0 R] /ToUnicode {to_unicode} 0 R >>"
        ).encode("ascii")
    )
    page_ids = []
    width_pt, height_pt = PAGE_POINTS
    for index, image in enumerate(pages.images):
        picture = add(
            _stream(
                f"/Type /XObject /Subtype /Image /Width {WIDTH} /Height {HEIGHT}"
                " /ColorSpace /DeviceRGB /BitsPerComponent 8",
                image.tobytes(),
            )
        )
        content = [f"q {width_pt:.2f} 0 0 {height_pt:.2f} 0 0 cm /Im0 Do Q", "BT 3 Tr"]
        for run in (r for r in pages.runs if r.page == index):
            content.append(
                f"/F1 {run.size * scale:.2f} Tf 1 0 0 1 {run.x * scale:.2f}"
                f" {(HEIGHT - run.baseline) * scale:.2f} Tm <{glyphs.encode(run.text)}> Tj"
            )
        content.append("ET")
        contents = add(_stream("", "\n".join(content).encode("ascii")))
        page_ids.append(
            add(
                (
                    f"<< /Type /Page /Parent {tree} 0 R"
                    f" /MediaBox [0 0 {width_pt:.2f} {height_pt:.2f}]"
                    f" /Resources << /XObject << /Im0 {picture} 0 R >>"
                    f" /Font << /F1 {type0} 0 R >> >> /Contents {contents} 0 R >>"
                ).encode("ascii")
            )
        )
    objects[catalog - 1] = f"<< /Type /Catalog /Pages {tree} 0 R >>".encode("ascii")
    kids = " ".join(f"{n} 0 R" for n in page_ids)
    objects[tree - 1] = f"<< /Type /Pages /Kids [{kids}] /Count {len(page_ids)} >>".encode()
    now = dt.datetime.now(dt.UTC).strftime("D:%Y%m%d%H%M%SZ")
    info = add(
        f"<< /Title <FEFF{_hex_utf16(title)}> /Producer (PortSign) /CreationDate ({now}) >>".encode(
            "ascii"
        )
    )

    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root {catalog} 0 R /Info {info} 0 R >>\n"
        f"startxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)


def render(facts: Facts) -> bytes:
    """The 验签报告 for *facts*, as PDF bytes, in the active language."""
    return _pdf(_draw(facts), title=_("Verification report"))
