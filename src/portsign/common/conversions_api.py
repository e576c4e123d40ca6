"""`/api/v1/conversions`: convert a Word document in a worker and follow its progress."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status

from portsign.accounts.backends import signed_in_user
from portsign.common import conversions
from portsign.common.api_auth import AUTH
from portsign.common.models import Conversion
from portsign.common.schemas import FILE, multipart_body

router = Router(tags=["conversions"], auth=AUTH)


class ConversionErrorOut(Schema):
    code: str
    message: str


class ConversionOut(Schema):
    id: str
    name: str
    status: str = Field(description="queued | converting | done | failed")
    status_label: str
    progress: int = Field(description="percent, by stage: 0 queued, 20 converting, 80 checking")
    pages: int | None
    error: ConversionErrorOut | None = Field(description="why it failed, as an upload would say")
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None

    @staticmethod
    def of(conversion: Conversion) -> ConversionOut:
        failed = conversion.status == Conversion.Status.FAILED
        return ConversionOut(
            id=conversion.id,
            name=conversion.name,
            status=conversion.status,
            status_label=str(conversion.get_status_display()),
            progress=conversion.progress,
            pages=conversion.pages,
            error=ConversionErrorOut(code=conversion.error_code, message=conversion.error_message)
            if failed
            else None,
            created_at=conversion.created_at,
            started_at=conversion.started_at,
            finished_at=conversion.finished_at,
        )


@router.post(
    "",
    response={202: ConversionOut},
    summary="Convert a Word document to PDF in the background",
    openapi_extra=multipart_body(["file"], file={**FILE, "description": ".doc or .docx"}),
)
def start(request: HttpRequest) -> Status[ConversionOut]:
    started = conversions.start(actor=signed_in_user(request), upload=request.FILES.get("file"))
    return Status(202, ConversionOut.of(started))


@router.get("/{conversion_id}", response=ConversionOut, summary="A conversion's progress")
def get(request: HttpRequest, conversion_id: str) -> ConversionOut:
    return ConversionOut.of(
        conversions.get(actor=signed_in_user(request), conversion_id=conversion_id)
    )
