"""Console pages of the archive cabinet (档案柜): the acting enterprise's contracts signed
outside PortSign. Same domain functions as the API; the enterprise is the session's acting
identity, as on the E-Port pages, and another enterprise's item is a 404 page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from portsign.accounts.backends import signed_in_user
from portsign.accounts.models import User
from portsign.archive.api import download, pdf_download
from portsign.archive.domain import items, ledger
from portsign.archive.models import ArchivedContract
from portsign.common.errors import DomainError, Forbidden, NotFound
from portsign.common.forms import run_action
from portsign.common.paging import page_from_query
from portsign.enterprises.models import Enterprise
from portsign.enterprises.views import ACTING_SESSION_KEY

PAGE_SIZE = 20
FIELDS = (
    "title",
    "type",
    "amount",
    "currency",
    "signed_on",
    "valid_from",
    "valid_until",
    "external_number",
    "notes",
)


def _guarded(call: Callable[[], Any]) -> Any:
    """Tenancy and permission errors of page loads as the console's 404 and 403."""
    try:
        return call()
    except NotFound as exc:
        raise Http404 from exc
    except Forbidden as exc:
        raise PermissionDenied(str(exc.message)) from exc


def _acting_enterprise(request: HttpRequest, user: User) -> Enterprise | None:
    """The session's acting enterprise, for a member who may read its cabinet; None while
    acting personally (the cabinet is an enterprise's)."""
    enterprise_id = str(request.session.get(ACTING_SESSION_KEY, "personal"))
    if enterprise_id == "personal":
        return None
    return _guarded(lambda: items.readable_enterprise(actor=user, enterprise_id=enterprise_id))


def _may_write(user: User, enterprise_id: str) -> bool:
    try:
        items.writable_enterprise(actor=user, enterprise_id=enterprise_id)
    except DomainError:
        return False
    return True


def _pages(total: int) -> list[int]:
    return list(range(1, min(50, (total + PAGE_SIZE - 1) // PAGE_SIZE) + 1))


def _form_values(request: HttpRequest) -> dict[str, object]:
    """The metadata fields of a console form, as the domain reads them."""
    data = request.POST
    values: dict[str, object] = {name: data.get(name, "") for name in FIELDS}
    values["counterparties"] = data.get("counterparties", "")
    return values


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """The cabinet: search and filters, one page of items, the upload form and the ledger."""
    user = signed_in_user(request)
    context: dict[str, Any] = {"active": "contracts", "values": request.GET}
    enterprise = _acting_enterprise(request, user)
    if enterprise is None:
        return render(request, "archive/index.html", context)
    query = {name: request.GET.get(name, "") for name in items.FILTER_NAMES}
    try:
        rows = items.search(actor=user, enterprise_id=enterprise.id, query=query)
        found = items.page_of(rows, page_from_query(request), PAGE_SIZE)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("archive:index")
    context.update(
        {
            "enterprise": enterprise,
            "page": found,
            "pages": _pages(found.total),
            "types": items.contract_types(actor=user, enterprise_id=enterprise.id),
            "may_write": _may_write(user, enterprise.id),
            "ledger_query": request.GET.urlencode(),
        }
    )
    return render(request, "archive/index.html", context)


@login_required
@require_POST
def upload(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    enterprise = _acting_enterprise(request, user)
    if enterprise is None:
        raise Http404
    values = _form_values(request)
    try:
        item = _guarded(
            lambda: items.file_item(
                actor=user,
                enterprise_id=enterprise.id,
                upload=request.FILES.get("file"),
                values=values,
                parties=[values["counterparties"]],
            )
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("archive:index")
    messages.success(request, _("The contract was filed in the archive cabinet."))
    return redirect("archive:detail", item_id=item.id)


def _visible(user: User, item_id: str) -> ArchivedContract:
    found: ArchivedContract = _guarded(lambda: items.visible_item(actor=user, item_id=item_id))
    return found


@login_required
@require_GET
def detail(request: HttpRequest, item_id: str) -> HttpResponse:
    user = signed_in_user(request)
    item = _visible(user, item_id)
    return render(
        request,
        "archive/detail.html",
        {
            "active": "contracts",
            "item": item,
            "enterprise": item.enterprise,
            "may_write": _may_write(user, item.enterprise_id),
            "counterparty_lines": "\n".join(item.counterparties),
        },
    )


@login_required
@require_POST
def update(request: HttpRequest, item_id: str) -> HttpResponse:
    user = signed_in_user(request)
    values = _form_values(request)
    return run_action(
        request,
        lambda: items.update_item(actor=user, item_id=item_id, values=values),
        _("The archived contract was saved."),
        reverse("archive:detail", args=[item_id]),
    )


@login_required
@require_POST
def delete(request: HttpRequest, item_id: str) -> HttpResponse:
    user = signed_in_user(request)
    return run_action(
        request,
        lambda: items.delete_item(actor=user, item_id=item_id),
        _("The archived contract was deleted."),
        reverse("archive:index"),
    )


@login_required
@require_GET
def document(request: HttpRequest, item_id: str) -> HttpResponse:
    return pdf_download(_visible(signed_in_user(request), item_id))


@login_required
@require_GET
def export(request: HttpRequest) -> HttpResponse:
    """The ledger of what the list shows (its filters, every page)."""
    user = signed_in_user(request)
    enterprise = _acting_enterprise(request, user)
    if enterprise is None:
        raise Http404
    query = {name: request.GET.get(name, "") for name in items.FILTER_NAMES}
    try:
        rows = items.search(actor=user, enterprise_id=enterprise.id, query=query)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("archive:index")
    return download(ledger.ledger(rows), ledger.CONTENT_TYPE, ledger.filename(enterprise.name))
