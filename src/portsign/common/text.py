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


def is_storable(text: str) -> bool:
    """False for text no database keeps: a lone UTF-16 surrogate (JSON lets "\\ud800" through,
    UTF-8 cannot encode it) or NUL (PostgreSQL refuses it in text)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def all_storable(value: object) -> bool:
    """is_storable for every string, key or value, anywhere in decoded JSON."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not is_storable(item):
                return False
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True
