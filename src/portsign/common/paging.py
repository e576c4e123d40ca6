"""Page numbers of list endpoints: one rule for all of them.

Pages are bounded so the offset always fits the database's 64-bit integers (page=10**20 used to
overflow SQLite's and answer 500); a page past the last simply holds no items.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _

from portsign.common.errors import Invalid

MAX_PAGE = 1_000_000


def check_page(page: int) -> int:
    """*page* if it is 1…MAX_PAGE, else Invalid(code="page")."""
    if not 1 <= page <= MAX_PAGE:
        message = _("Pages are numbered from 1 to %(n)d.") % {"n": MAX_PAGE}
        raise Invalid(message, code="page", fields={"page": message})
    return page


def page_from_query(request: HttpRequest) -> int:
    """The `page` query parameter (default 1), checked by check_page."""
    raw = request.GET.get("page", "1").strip()
    digits = raw.removeprefix("-")
    return check_page(int(raw) if digits.isdigit() and len(digits) <= 12 else 0)
