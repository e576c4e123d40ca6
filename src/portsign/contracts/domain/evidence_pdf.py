"""The evidence report drawn as a text PDF: the generic renderer (`common.text_pdf`), with
"第 n 页 / 共 m 页" under every page in the report's language (the "evidence report" catalogue
context). What the report says is `evidence.build_report`'s.
"""

from __future__ import annotations

import dataclasses

from django.utils.translation import pgettext

from portsign.common import text_pdf


def render(document: text_pdf.Document) -> bytes:
    marker = pgettext("evidence report", "Page %(page)d of %(pages)d")
    # Only %(page)d and %(pages)d are placeholders; the renderer fills them in on every page.
    return text_pdf.render(dataclasses.replace(document, page_marker=marker))
