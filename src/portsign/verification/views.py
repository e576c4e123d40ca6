"""The public verification page (验签): upload a signed PDF, see who signed it and whether it
is intact. No sign-in needed — a contract's counterparty or a court may not have an account.

The page's "下载验签报告" button posts back the result it shows (signed by the server, see
`display.result_token`), never the file: the upload is not stored anywhere."""

from __future__ import annotations

import hashlib
from pathlib import PurePath
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from portsign.common.errors import DomainError
from portsign.common.request_context import current_origin
from portsign.contracts.domain.documents import read_upload
from portsign.verification import display, pdf_report
from portsign.verification.report import check_rate, report


@require_http_methods(["GET", "POST"])
def verify_page(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {"active": "verify"}
    if request.method == "POST" and "report" in request.POST:
        try:
            return _report_pdf(request.POST["report"])
        except DomainError as exc:
            context["error"] = exc.message
    elif request.method == "POST":
        upload = request.FILES.get("file")
        try:
            check_rate(current_origin().ip)
            data = read_upload(upload)
            result = report(data)
        except DomainError as exc:
            context["error"] = exc.message
        else:
            facts: dict[str, str] = {
                "filename": (upload.name or "") if upload else "",
                "sha256": hashlib.sha256(data).hexdigest(),
                "verified_at": display.now_iso(),
            }
            context["facts"] = display.facts(result, **facts)
            context["report_token"] = display.result_token(result, **facts)
    return render(request, "verification/verify.html", context)


def _report_pdf(token: str) -> HttpResponse:
    """The 验签报告 of a result this page showed; rate-limited like a verification."""
    check_rate(current_origin().ip)
    facts = display.facts_from_token(token)
    response = HttpResponse(pdf_report.render(facts), content_type="application/pdf")
    stem = PurePath(facts.filename).stem if facts.filename else ""
    name = f"{_('Verification report')}-{stem}.pdf" if stem else f"{_('Verification report')}.pdf"
    response["Content-Disposition"] = content_disposition_header(True, name) or "attachment"
    response["Cache-Control"] = "no-store"
    return response
