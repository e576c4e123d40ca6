"""Console page for an enterprise's API keys. Same domain functions as the API.

A new key is shown once, in the answer to the POST that made it (`common.secret_pages`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from portsign.accounts.backends import signed_in_user
from portsign.common.errors import Forbidden, NotFound
from portsign.common.forms import run_action
from portsign.common.secret_pages import show_once
from portsign.enterprises.rules import membership_of
from portsign.integrations.domain import keys
from portsign.integrations.enums import ApiKeyScope
from portsign.integrations.models import ApiKey


def _guarded(call: Callable[[], Any]) -> Any:
    """Tenancy and permission errors of page loads as the console's 404 and 403."""
    try:
        return call()
    except NotFound as exc:
        raise Http404 from exc
    except Forbidden as exc:
        raise PermissionDenied(str(exc.message)) from exc


def _page(enterprise_id: str) -> str:
    return reverse("integrations:api_keys", args=[enterprise_id])


def _render(
    request: HttpRequest, enterprise_id: str, *, new_key: tuple[ApiKey, str] | None = None
) -> HttpResponse:
    user = signed_in_user(request)
    rows = _guarded(lambda: list(keys.keys_of(actor=user, enterprise_id=enterprise_id)))
    return render(
        request,
        "integrations/api_keys.html",
        {
            "active": "enterprise",
            "enterprise": membership_of(user=user, enterprise_id=enterprise_id).enterprise,
            "keys": rows,
            "scopes": ApiKeyScope.choices,
            "new_key": new_key,
        },
    )


@login_required
@require_GET
def api_keys(request: HttpRequest, enterprise_id: str) -> HttpResponse:
    return _render(request, enterprise_id)


@login_required
@require_POST
def create(request: HttpRequest, enterprise_id: str) -> HttpResponse:
    user = signed_in_user(request)
    return show_once(
        request,
        lambda: _guarded(
            lambda: keys.create_key(
                actor=user,
                enterprise_id=enterprise_id,
                name=request.POST.get("name", ""),
                scopes=request.POST.getlist("scopes"),
            )
        ),
        done=_("The API key was created. Copy it now: it is not shown again."),
        back=_page(enterprise_id),
        page=lambda made: _render(request, enterprise_id, new_key=made),
    )


@login_required
@require_POST
def revoke(request: HttpRequest, enterprise_id: str, key_id: str) -> HttpResponse:
    user = signed_in_user(request)
    return run_action(
        request,
        lambda: keys.revoke_key(actor=user, enterprise_id=enterprise_id, key_id=key_id),
        _("The API key was revoked; it no longer works."),
        _page(enterprise_id),
    )
