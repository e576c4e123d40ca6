"""The child process that renders one PDF page: `python -m portsign.common.pdf_render`.

It limits itself before it reads a byte of the document, so a hostile file (a content stream
that decodes to gigabytes, an image of 100,000 x 100,000 pixels) meets the kernel's limits and
kills only this process, never a server worker. It imports PDFium and Pillow only, not Django,
so it starts in a fraction of a second.

Arguments: page index (0-based), resolution in dpi, pixel budget, memory limit in bytes, CPU
seconds. The PDF comes on stdin; the page goes to stdout as PNG, its pHYs chunk saying the
resolution drawn. Exit status 0 means success.
"""

from __future__ import annotations

import io
import math
import resource
import sys


def limit(memory_bytes: int, cpu_seconds: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash leaves no core file behind


def scale_for(width: float, height: float, *, dpi: float, max_pixels: int) -> float:
    """The wanted dpi, lowered so the page's bitmap stays within *max_pixels*."""
    wanted = dpi / 72
    area = max(width, 1.0) * max(height, 1.0)
    return min(wanted, math.sqrt(max_pixels / area))


def render(pdf: bytes, index: int, *, dpi: float, max_pixels: int) -> bytes:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        # The form layer too: signature widgets (every party's seals and dates) are drawn
        # only when forms are initialised before the page is loaded (issue 13 item 1).
        document.init_forms()
        page = document[index]
        width, height = page.get_size()
        scale = scale_for(width, height, dpi=dpi, max_pixels=max_pixels)
        picture = page.render(scale=scale).to_pil()
    finally:
        document.close()
    out = io.BytesIO()
    # The resolution actually drawn, for callers that measure (seal scans in millimetres).
    picture.save(out, format="PNG", optimize=True, dpi=(scale * 72, scale * 72))
    return out.getvalue()


def main(argv: list[str]) -> int:
    index, dpi, max_pixels, memory, cpu = argv
    limit(int(memory), int(cpu))
    png = render(sys.stdin.buffer.read(), int(index), dpi=float(dpi), max_pixels=int(max_pixels))
    sys.stdout.buffer.write(png)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
