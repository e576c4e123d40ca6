"""`POST /api/v1/verify` (public, no login): upload a PDF, get who signed it and whether it is
intact."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from portsign.common.request_context import current_origin
from portsign.contracts.domain.documents import read_upload
from portsign.verification.report import check_rate, report

router = Router(tags=["verification"])


@router.post("", summary="Verify a signed PDF (multipart `file`)")
def verify(request: HttpRequest) -> dict[str, Any]:
    check_rate(current_origin().ip)
    data = read_upload(request.FILES.get("file"))
    return report(data)
