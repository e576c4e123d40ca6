"""Console shell pages and the sandbox mail catcher."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.csrf import requires_csrf_token
from django.views.decorators.http import require_GET

from portsign.accounts.backends import signed_in_user
from portsign.accounts.models import User
from portsign.common.errors import DomainError, error_body
from portsign.common.models import SandboxFaceSession, SandboxMessage

# How many items of each to-do list the home page shows; the rest is one click away.
HOME_ITEMS = 5


@dataclass(frozen=True)
class TodoList:
    box: str  # contracts.enums.Box: to_sign or to_approve
    total: int
    items: list[Any]  # Contract


@dataclass(frozen=True)
class IdentityTodos:
    """What waits for the user in one identity: personally, or for one enterprise."""

    acting_as: str  # "personal" or the enterprise id, as the header switcher posts it
    name: str
    current: bool  # the identity the user acts as now; the others need a switch first
    lists: list[TodoList]


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return redirect("console" if request.user.is_authenticated else "accounts:login")


@login_required
@require_GET
def console(request: HttpRequest) -> HttpResponse:
    """The home page: what waits for the user, in every identity, above the menu."""
    from portsign.enterprises.views import ACTING_SESSION_KEY

    user = signed_in_user(request)
    identities = _contract_todos(user, str(request.session.get(ACTING_SESSION_KEY, "personal")))
    filings = _eport_todos(user)
    context = {
        "active": "home",
        "identities": identities,
        "filings": filings,
        "nothing_to_do": not identities and not (filings and filings.total),
    }
    return render(request, "console/home.html", context)


def _contract_todos(user: User, current: str) -> list[IdentityTodos]:
    """待我签署 and 需要我审批 per identity, through the boxes' own queries: a fixed number of
    queries per identity, whatever the number of contracts."""
    from portsign.contracts.domain.boxes import list_box
    from portsign.contracts.enums import Box
    from portsign.enterprises.domain.enterprises import enterprises_of
    from portsign.enterprises.enums import Permission

    found: list[IdentityTodos] = []
    identities = [("personal", str(_("Personal")), False)] + [
        (m.enterprise_id, m.enterprise.name, Permission.APPROVE in m.role.permissions)
        for m in enterprises_of(user=user)
    ]
    for acting_as, name, approves in identities:
        lists = []
        for box in (Box.TO_SIGN, Box.TO_APPROVE) if approves else (Box.TO_SIGN,):
            try:
                page = list_box(actor=user, box=box, acting_as=acting_as, page_size=HOME_ITEMS)
            except DomainError:  # a member without the right to see contracts
                break
            if page.total:
                lists.append(TodoList(box=box, total=page.total, items=page.items))
        if lists:
            found.append(IdentityTodos(acting_as, name, acting_as == current, lists))
    return found


def _eport_todos(user: User) -> Any:
    """The declared filings an E-Port reviewer's queue holds (None for everyone else)."""
    from portsign.eport.domain import authorities, reviews
    from portsign.eport.enums import FilingStatus

    if not authorities.reviewing(user):
        return None
    filters = reviews.Filters(status=FilingStatus.DECLARED)
    return reviews.queue(actor=user, filters=filters, page_size=HOME_ITEMS)


@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: /api/ answers JSON without rendering the console's 404 page at all."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("not_found", _("Not found.")), status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: the API keeps its JSON error shape for failures outside the API's own
    handler (a middleware, say); pages get templates/500.html, rendered without context."""
    if request.path.startswith("/api/"):
        message = _("Something went wrong on our side. Please try again.")
        return JsonResponse(error_body("internal_error", message), status=500)
    return defaults.server_error(request)


@require_GET
def sandbox_outbox(request: HttpRequest) -> HttpResponse:
    if not settings.SANDBOX:
        raise Http404
    to = request.GET.get("to", "").strip()
    rows = SandboxMessage.objects.order_by("-id")
    if to:
        from portsign.common.api import normalize_target

        rows = rows.filter(to=normalize_target(to))
    return render(request, "sandbox/outbox.html", {"rows": rows[:200], "to": to})


def sandbox_face(request: HttpRequest, session_id: str) -> HttpResponse:
    """The sandbox's stand-in for a liveness check on the phone: confirm or reject."""
    if not settings.SANDBOX:
        raise Http404
    row = SandboxFaceSession.objects.filter(pk=session_id).first()
    if row is None:
        raise Http404
    if request.method == "POST" and row.status == SandboxFaceSession.Status.WAITING:
        passed = request.POST.get("result") == "pass"
        row.status = (
            SandboxFaceSession.Status.PASSED if passed else SandboxFaceSession.Status.REJECTED
        )
        row.save(update_fields=["status"])
    return render(request, "sandbox/face.html", {"session": row})
