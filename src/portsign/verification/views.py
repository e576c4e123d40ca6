"""The public verification page (验签): upload a signed PDF, see who signed it and whether it
is intact. No sign-in needed — a contract's counterparty or a court may not have an account."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from portsign.common.errors import DomainError
from portsign.common.request_context import current_origin
from portsign.contracts.domain.documents import read_upload
from portsign.verification.report import check_rate, report


@require_http_methods(["GET", "POST"])
def verify_page(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {"active": "verify"}
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            check_rate(current_origin().ip)
            context["report"] = report(read_upload(upload))
            context["filename"] = upload.name if upload else ""
        except DomainError as exc:
            context["error"] = exc.message
    return render(request, "verification/verify.html", context)
