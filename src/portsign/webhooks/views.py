"""Console pages for webhooks (回调地址). Same domain functions as the API.

A new or rotated signing secret is shown once, in the answer to the POST that made it
(`common.secret_pages`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from portsign.accounts.backends import signed_in_user
from portsign.common.errors import Forbidden, NotFound
from portsign.common.forms import run_action
from portsign.common.secret_pages import show_once
from portsign.webhooks.domain import deliveries, endpoints
from portsign.webhooks.models import Endpoint

PAGE_SIZE = 20


def _guarded(call: Callable[[], Any]) -> Any:
    """Tenancy and permission errors of page loads as the console's 404 and 403."""
    try:
        return call()
    except NotFound as exc:
        raise Http404 from exc
    except Forbidden as exc:
        raise PermissionDenied(str(exc.message)) from exc


def _enterprise_page(enterprise_id: str) -> str:
    return reverse("webhooks:enterprise", args=[enterprise_id])


def _render_enterprise(
    request: HttpRequest, enterprise_id: str, *, new_secret: tuple[Endpoint, str] | None = None
) -> HttpResponse:
    user = signed_in_user(request)
    enterprise = _guarded(
        lambda: endpoints.manageable_enterprise(actor=user, enterprise_id=enterprise_id)
    )
    return render(
        request,
        "webhooks/enterprise.html",
        {
            "active": "enterprise",
            "enterprise": enterprise,
            "endpoints": endpoints.endpoints_of(actor=user, enterprise_id=enterprise_id),
            "events": [(name, endpoints.EVENT_LABELS[name]) for name in endpoints.ALL_EVENTS],
            "new_secret": new_secret,
        },
    )


@login_required
@require_GET
def enterprise(request: HttpRequest, enterprise_id: str) -> HttpResponse:
    return _render_enterprise(request, enterprise_id)


@login_required
@require_POST
def create(request: HttpRequest, enterprise_id: str) -> HttpResponse:
    user = signed_in_user(request)
    return show_once(
        request,
        lambda: _guarded(
            lambda: endpoints.create_endpoint(
                actor=user,
                enterprise_id=enterprise_id,
                url=request.POST.get("url", ""),
                events=request.POST.getlist("events"),
            )
        ),
        done=_("The webhook was added. Copy its signing secret now."),
        back=_enterprise_page(enterprise_id),
        page=lambda made: _render_enterprise(request, enterprise_id, new_secret=made),
    )


@login_required
@require_POST
def rotate(request: HttpRequest, endpoint_id: str) -> HttpResponse:
    user = signed_in_user(request)
    return show_once(
        request,
        lambda: _guarded(lambda: endpoints.rotate_secret(actor=user, endpoint_id=endpoint_id)),
        done=_("A new signing secret was made; the old one no longer works."),
        back=reverse("console"),
        page=lambda made: _render_enterprise(request, made[0].enterprise_id, new_secret=made),
    )


@login_required
@require_POST
def update(request: HttpRequest, endpoint_id: str) -> HttpResponse:
    user, data = signed_in_user(request), request.POST
    active = {"on": True, "off": False}.get(data.get("active", ""))
    endpoint = _guarded(lambda: endpoints.manageable_endpoint(actor=user, endpoint_id=endpoint_id))
    return run_action(
        request,
        lambda: endpoints.update_endpoint(
            actor=user,
            endpoint_id=endpoint_id,
            url=data.get("url"),
            events=data.getlist("events") if "events_shown" in data else None,
            active=active,
        ),
        _("The webhook was saved."),
        _enterprise_page(endpoint.enterprise_id),
    )


@login_required
@require_POST
def delete(request: HttpRequest, endpoint_id: str) -> HttpResponse:
    user = signed_in_user(request)
    endpoint = _guarded(lambda: endpoints.manageable_endpoint(actor=user, endpoint_id=endpoint_id))
    return run_action(
        request,
        lambda: endpoints.delete_endpoint(actor=user, endpoint_id=endpoint_id),
        _("The webhook was deleted."),
        _enterprise_page(endpoint.enterprise_id),
    )


@login_required
@require_GET
def log(request: HttpRequest, endpoint_id: str) -> HttpResponse:
    user = signed_in_user(request)
    endpoint = _guarded(lambda: endpoints.manageable_endpoint(actor=user, endpoint_id=endpoint_id))
    rows = deliveries.deliveries_of(actor=user, endpoint_id=endpoint_id)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "webhooks/log.html",
        {
            "active": "enterprise",
            "endpoint": endpoint,
            "enterprise": endpoint.enterprise,
            "page": page,
        },
    )


@login_required
@require_POST
def redeliver(request: HttpRequest, endpoint_id: str, delivery_id: str) -> HttpResponse:
    return run_action(
        request,
        lambda: deliveries.redeliver(
            actor=signed_in_user(request), endpoint_id=endpoint_id, delivery_id=delivery_id
        ),
        _("The delivery was sent again."),
        reverse("webhooks:log", args=[endpoint_id]),
    )
