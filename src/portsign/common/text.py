"""Free text from people (names, reasons, opinions): one cleaner for all of it.

Whitespace runs collapse to one space; control and format characters (NUL, bidi overrides,
zero-width joiners…) are refused because PostgreSQL rejects NUL outright and the others make
names look like something they are not.
"""

from __future__ import annotations

import unicodedata

from django.utils.functional import Promise
from django.utils.translation import gettext as _

from portsign.common.errors import Invalid


def clean_text(
    value: str | None,
    *,
    field: str,
    min_length: int,
    max_length: int,
    message: str | Promise,
    code: str,
) -> str:
    """Return *value* tidied, or raise Invalid(*code*) with *message* for a bad length."""
    raw = value or ""
    if any(unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\t\r\n" for ch in raw):
        problem = _("Remove the invisible control characters from this text.")
        raise Invalid(problem, code="text_control_characters", fields={field: problem})
    clean = " ".join(raw.split())
    if not min_length <= len(clean) <= max_length:
        raise Invalid(message, code=code, fields={field: message})
    return clean
