"""The console's download of a contract's offline evidence package (证据包): the same domain
function as the API. Not completed yet: back to the contract's page with the reason."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from portsign.accounts.backends import signed_in_user
from portsign.common.errors import Conflict, NotFound
from portsign.contracts.domain.evidence_package import build_package
from portsign.contracts.package_api import download


@login_required
@require_GET
def evidence_package(request: HttpRequest, contract_id: str) -> HttpResponse:
    try:
        package = build_package(actor=signed_in_user(request), contract_id=contract_id)
    except NotFound as exc:
        raise Http404 from exc
    except Conflict as exc:
        messages.error(request, str(exc.message))
        return redirect("contracts:detail", contract_id=contract_id)
    return download(package)
