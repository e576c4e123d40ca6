"""Template context shared by every page: the console navigation."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

NAV = [
    ("me", _("Personal centre"), "accounts:profile"),
    ("enterprise", _("Enterprise console"), "section_enterprise"),
    ("contracts", _("Contracts"), "section_contracts"),
    ("verify", _("Verify a PDF"), "section_verify"),
]


def shell(request: HttpRequest) -> dict[str, Any]:
    nav = list(NAV)
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_staff:
        nav.append(("backoffice", _("Back-office review"), "section_backoffice"))
    return {"nav": nav, "sandbox": settings.SANDBOX}
