"""Template context shared by every page: the console navigation."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

NAV = [
    ("me", _("Personal centre"), "accounts:profile"),
    ("enterprise", _("Enterprise console"), "enterprises:index"),
    ("seals", _("Seals and signatures"), "seals:index"),
    ("contracts", _("Contracts"), "contracts:index"),
    ("templates", _("Templates"), "contracts:templates"),
    ("eport", _("E-Port"), "eport:index"),
    ("billing", _("Recharge and usage"), "billing:index"),
    ("verify", _("Verify a PDF"), "verify"),
]


def shell(request: HttpRequest) -> dict[str, Any]:
    nav = list(NAV)
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_staff:
        nav.append(("backoffice", _("Back-office review"), "backoffice:queue"))
    if user is not None and user.is_authenticated and _reviews_eport(user):
        nav.append(("eport_reviews", _("E-Port review"), "eport:reviews"))
    context: dict[str, Any] = {"nav": nav, "sandbox": settings.SANDBOX}
    if user is not None and user.is_authenticated:
        context.update(_acting(request, user))
    return context


def _acting(request: HttpRequest, user: Any) -> dict[str, Any]:
    """The header's identity switcher: personal, or one of the user's enterprises."""
    from portsign.contracts.domain.boxes import todo_counts
    from portsign.enterprises.domain.enterprises import enterprises_of
    from portsign.enterprises.views import ACTING_SESSION_KEY

    memberships = list(enterprises_of(user=user))
    acting = request.session.get(ACTING_SESSION_KEY, "personal")
    current = next((m for m in memberships if m.enterprise_id == acting), None)
    # To-dos per identity, so work waiting elsewhere is seen from anywhere (issue 13 item 5).
    todo = todo_counts(user, memberships)
    return {
        "acting_memberships": [(m, todo[m.enterprise_id]) for m in memberships],
        "personal_todo": todo["personal"],
        "acting": current.enterprise if current else None,
    }


def _reviews_eport(user: Any) -> bool:
    from portsign.eport.models import Reviewer

    return Reviewer.objects.filter(user=user).exists()
