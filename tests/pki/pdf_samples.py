"""Contract-like PDFs for signing tests and the benchmark: A4 pages of Helvetica text.

Content streams stay uncompressed, so a test can flip one character of page text and know it
changed signed bytes without breaking the file's structure.
"""

from __future__ import annotations

import io

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.writer import PdfFileWriter

A4 = (595.0, 842.0)


def _page_content(number: int, lines: int) -> bytes:
    rows = [b"BT /F1 16 Tf 72 780 Td (Contract page %d) Tj ET" % number]
    for line in range(lines):
        y = 740 - 16 * line
        rows.append(
            b"BT /F1 10 Tf 72 %d Td (Clause %d.%d: the parties agree on the terms below.) Tj ET"
            % (y, number, line + 1)
        )
    return b"\n".join(rows)


def make_pdf(pages: int = 10, *, lines: int = 40, rotate: int = 0) -> bytes:
    writer = PdfFileWriter(stream_xrefs=False)
    font = writer.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Font"),
                pdf_name("/Subtype"): pdf_name("/Type1"),
                pdf_name("/BaseFont"): pdf_name("/Helvetica"),
            }
        )
    )
    for number in range(1, pages + 1):
        page = generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Page"),
                pdf_name("/MediaBox"): generic.ArrayObject(
                    [generic.NumberObject(0), generic.NumberObject(0)]
                    + [generic.FloatObject(v) for v in A4]
                ),
                pdf_name("/Resources"): generic.DictionaryObject(
                    {pdf_name("/Font"): generic.DictionaryObject({pdf_name("/F1"): font})}
                ),
                pdf_name("/Contents"): writer.add_object(
                    generic.StreamObject(stream_data=_page_content(number, lines))
                ),
            }
        )
        if rotate:
            page[pdf_name("/Rotate")] = generic.NumberObject(rotate)
        writer.insert_page(page)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
