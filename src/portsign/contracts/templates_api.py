"""Templates and bulk sends API (issue 6 §1–2), and the JSON form of `POST /contracts`.

Handlers only translate; rules live in domain/templates.py and domain/bulk.py.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pydantic
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError, ValidationError

from portsign.accounts.backends import signed_in_user
from portsign.common.api_auth import AUTH
from portsign.common.errors import Invalid
from portsign.common.schemas import CONVERSION, FILE, TEXT, multipart_body
from portsign.contracts.domain import bulk, documents, templates
from portsign.contracts.template_models import BulkSend, Template

if TYPE_CHECKING:
    from portsign.contracts.api import ContractOut

router = Router(tags=["templates"], auth=AUTH)


# -- schemas -----------------------------------------------------------------------------------


class Box(Schema):
    page: int = Field(description="1-based page number")
    x: float = Field(description="left edge, fraction of the page width (origin top-left)")
    y: float = Field(description="top edge, fraction of the page height")
    width: float
    height: float


class TemplateRoleIn(Schema):
    name: str = Field(description="e.g. 甲方, 乙方")
    order: int | None = Field(None, description="signing order, from 1 (default: list order)")
    is_sender: bool = Field(False, description="the sending enterprise signs in this role")


class TemplateRoleOut(Schema):
    name: str
    order: int
    is_sender: bool


class FieldIn(Box):
    key: str = Field(description="names the value in the API and in bulk-send columns")
    label: str
    kind: str = Field("text", description="text | number | date | checkbox")
    required: bool = False
    filled_by: str = Field(
        "sender",
        description="sender | api (given when the contract is made) | party (filled in by the "
        "party of `role` after sending, before anyone signs)",
    )
    role: str = Field("", description="filled_by = party: the role whose party fills it in")
    max_length: int | None = Field(None, description="text: most characters (default 100)")
    min_value: Decimal | None = Field(None, description="number: smallest value")
    max_value: Decimal | None = Field(None, description="number: largest value")
    decimals: int | None = Field(None, description="number: most decimal places")
    date_format: str = Field("YYYY-MM-DD", description="YYYY-MM-DD | YYYY/MM/DD | YYYY年M月D日")


class FieldOut(Box):
    key: str
    label: str
    kind: str
    required: bool
    filled_by: str
    role: str | None
    max_length: int | None
    min_value: str | None
    max_value: str | None
    decimals: int | None
    date_format: str


class AreaIn(Box):
    role: str = Field(description="the role whose party seals or signs here")
    kind: str = Field("seal", description="seal | signature | date")


class AreaOut(Box):
    role: str
    kind: str


class DefinitionIn(Schema):
    name: str
    description: str = ""
    ordering: str = Field("sequential", description="sequential | parallel")
    contract_type: str = ""
    roles: list[TemplateRoleIn] = []
    fields: list[FieldIn] = []
    areas: list[AreaIn] = []


class TemplateSummary(Schema):
    id: str
    name: str
    description: str
    pages: int
    roles: list[str]
    fields: int
    updated_at: dt.datetime


class TemplateOut(Schema):
    id: str
    enterprise_id: str
    enterprise: str
    name: str
    description: str
    ordering: str
    contract_type: str
    pages: int
    created_at: dt.datetime
    updated_at: dt.datetime
    roles: list[TemplateRoleOut]
    fields: list[FieldOut]
    areas: list[AreaOut]

    @staticmethod
    def of(template: Template) -> TemplateOut:
        def box(item: Any) -> dict[str, Any]:
            return {k: getattr(item, k) for k in ("page", "x", "y", "width", "height")}

        def plain(value: Decimal | None) -> str | None:
            return None if value is None else f"{value.normalize():f}"

        return TemplateOut(
            id=template.id,
            enterprise_id=template.enterprise_id,
            enterprise=template.enterprise.name,
            name=template.name,
            description=template.description,
            ordering=template.ordering,
            contract_type=template.contract_type.name if template.contract_type else "",
            pages=template.document.pages,
            created_at=template.created_at,
            updated_at=template.updated_at,
            roles=[
                TemplateRoleOut(name=r.name, order=r.order, is_sender=r.is_sender)
                for r in template.roles.all()
            ],
            fields=[
                FieldOut(
                    **box(f),
                    key=f.key,
                    label=f.label,
                    kind=f.kind,
                    required=f.required,
                    filled_by=f.filled_by,
                    role=f.role.name if f.role else None,
                    max_length=f.max_length,
                    min_value=plain(f.min_value),
                    max_value=plain(f.max_value),
                    decimals=f.decimals,
                    date_format=f.date_format,
                )
                for f in template.fields.select_related("role")
            ],
            areas=[
                AreaOut(**box(a), role=a.role.name, kind=a.kind)
                for a in template.areas.select_related("role")
            ],
        )


class PreviewIn(Schema):
    fields: dict[str, Any] = {}


class RowError(Schema):
    row: int = Field(description="the row as the spreadsheet numbers it (the header is row 1)")
    code: str
    message: str


class RowOut(Schema):
    row: int
    status: str = Field(description="pending | sent | failed")
    contract_id: str | None
    error: str


class BulkSendOut(Schema):
    id: str
    template_id: str
    template: str
    file_name: str
    status: str = Field(description="queued | running | finished")
    total: int
    done: int = Field(description="rows whose contract was made and sent")
    failed: int
    pending: int
    progress: int = Field(description="percent of rows handled")
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    errors: list[RowError]
    rows: list[RowOut] | None = None

    @staticmethod
    def of(job: BulkSend, *, rows: bool = False) -> BulkSendOut:
        return BulkSendOut(**bulk.as_dict(job, rows=rows))


class SuggestedMarkOut(Schema):
    kind: str = Field(description="seal | signature | date")
    page: int
    x: float
    y: float
    width: float
    height: float


class TemplatePartyIn(Schema):
    role: str = Field(description="a role of the template, e.g. 乙方")
    kind: str = Field("enterprise", description="enterprise | person")
    account: str = Field(description="mobile number or e-mail of the person who signs")
    enterprise_name: str = ""


class TemplateContractIn(Schema):
    template_id: str
    fields: dict[str, Any] = Field(default_factory=dict, description="values by field key")
    title: str = Field("", description="default: the template's name")
    acting_as: str = Field("", description="the template's enterprise (default)")
    deadline: dt.datetime | None = None
    parties: list[TemplatePartyIn] = Field(
        default_factory=list, description="one per role; the sender's own role may be left out"
    )
    send: bool = Field(False, description="send at once instead of keeping a draft")
    business_fields: dict[str, Any] = Field(
        default_factory=dict,
        description="the enterprise's business fields by key, as `fields` of a multipart draft; "
        "a template field or a `fields` key of the same name gives its value too (this wins)",
    )


# -- templates ---------------------------------------------------------------------------------


def _definition(raw: str) -> dict[str, Any] | None:
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        message = _("The definition is a JSON object.")
        raise Invalid(message, code="template_definition", fields={"definition": message})
    try:
        return DefinitionIn.model_validate(value).model_dump()
    except pydantic.ValidationError as exc:
        raise ValidationError(_errors(exc, "definition")) from exc


def _errors(exc: pydantic.ValidationError, prefix: str = "") -> list[dict[str, Any]]:
    return [
        {"loc": (prefix, *e["loc"]) if prefix else e["loc"], "type": e["type"], "msg": e["msg"]}
        for e in exc.errors(include_url=False)
    ]


@router.get("/templates", response=list[TemplateSummary], summary="The enterprise's templates")
def list_templates(request: HttpRequest, acting_as: str) -> list[TemplateSummary]:
    found = templates.templates_of(actor=signed_in_user(request), acting_as=acting_as)
    return [
        TemplateSummary(
            id=t.id,
            name=t.name,
            description=t.description,
            pages=t.document.pages,
            roles=[r.name for r in t.roles.all()],
            fields=len(t.fields.all()),
            updated_at=t.updated_at,
        )
        for t in found.select_related("document").prefetch_related("roles", "fields")
    ]


@router.post(
    "/templates",
    response={201: TemplateOut},
    summary="Create a template from a PDF (multipart: file, name, acting_as, definition?)",
    openapi_extra=multipart_body(
        ["name", "acting_as"],
        file={**FILE, "description": "a PDF or Word file, or name a conversion"},
        conversion=CONVERSION,
        name=TEXT,
        acting_as={"type": "string", "description": "the enterprise that keeps the template"},
        definition={"type": "string", "description": "optional: the PUT body, as JSON"},
    ),
)
def create_template(request: HttpRequest) -> Status[TemplateOut]:
    data = request.POST
    template = templates.create_template(
        actor=signed_in_user(request),
        acting_as=data.get("acting_as", ""),
        upload=request.FILES.get("file"),
        conversion=request.POST.get("conversion", ""),
        name=data.get("name", ""),
        definition=_definition(data.get("definition", "")),
    )
    return Status(201, TemplateOut.of(template))


@router.get("/templates/{template_id}", response=TemplateOut, summary="A template")
def get_template(request: HttpRequest, template_id: str, acting_as: str = "") -> TemplateOut:
    return TemplateOut.of(
        templates.template_for(
            actor=signed_in_user(request), template_id=template_id, acting_as=acting_as
        )
    )


@router.put(
    "/templates/{template_id}",
    response=TemplateOut,
    summary="Replace the template's name, roles, fields and signing areas",
)
def update_template(request: HttpRequest, template_id: str, payload: DefinitionIn) -> TemplateOut:
    template = templates.update_template(
        actor=signed_in_user(request), template_id=template_id, definition=payload.model_dump()
    )
    return TemplateOut.of(template)


@router.delete("/templates/{template_id}", response={204: None}, summary="Delete (archive)")
def delete_template(request: HttpRequest, template_id: str) -> Status[None]:
    templates.archive_template(actor=signed_in_user(request), template_id=template_id)
    return Status(204, None)


@router.get("/templates/{template_id}/pages/{page}.png", summary="A page of the template")
def template_page(request: HttpRequest, template_id: str, page: int) -> HttpResponse:
    template = templates.template_for(actor=signed_in_user(request), template_id=template_id)
    response = HttpResponse(
        documents.preview_png(template.document, page), content_type="image/png"
    )
    response["Cache-Control"] = "private, max-age=600"
    return response


@router.post(
    "/templates/{template_id}/preview.pdf",
    summary="The template's PDF with these values drawn in (nothing is created)",
)
def preview(request: HttpRequest, template_id: str, payload: PreviewIn) -> HttpResponse:
    template = templates.template_for(actor=signed_in_user(request), template_id=template_id)
    values = templates.clean_values(list(template.fields.all()), payload.fields)
    response = HttpResponse(templates.filled_pdf(template, values), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="template-{template.id}.pdf"'
    return response


# -- bulk sends --------------------------------------------------------------------------------


@router.get(
    "/templates/{template_id}/bulk-sends/sample.csv",
    summary="The header row a bulk-send sheet for this template needs",
)
def sample_csv(request: HttpRequest, template_id: str) -> HttpResponse:
    template = templates.template_for(actor=signed_in_user(request), template_id=template_id)
    out = io.StringIO()
    csv.writer(out).writerow(bulk.sample_headers(template))
    # With a byte-order mark, Excel opens UTF-8 Chinese headers correctly.
    response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="bulk-send-{template.id}.csv"'
    return response


@router.post(
    "/templates/{template_id}/bulk-sends",
    response={200: BulkSendOut, 202: BulkSendOut},
    summary="Send one contract per row of a CSV/XLSX (multipart: file, title?, deadline?)",
    description="202 with a new job; 200 with the existing job when the same file was uploaded "
    "before (nothing is sent twice).",
    openapi_extra=multipart_body(
        ["file"],
        file={**FILE, "description": "CSV (UTF-8 or GBK) or XLSX; see sample.csv for columns"},
        title={"type": "string", "description": "default title; a `title` column wins"},
        deadline={"type": "string", "description": "YYYY-MM-DD or ISO date-time"},
    ),
)
def start_bulk_send(request: HttpRequest, template_id: str) -> Status[BulkSendOut]:
    data = request.POST
    job, created = bulk.start(
        actor=signed_in_user(request),
        template_id=template_id,
        upload=request.FILES.get("file"),
        acting_as=data.get("acting_as", ""),
        title=data.get("title", ""),
        deadline=bulk.parse_deadline(data.get("deadline", "")),
    )
    job.refresh_from_db()
    return Status(202 if created else 200, BulkSendOut.of(job))


@router.get(
    "/templates/{template_id}/bulk-sends",
    response=list[BulkSendOut],
    summary="The template's recent bulk sends",
)
def list_bulk_sends(request: HttpRequest, template_id: str) -> list[BulkSendOut]:
    template = templates.template_for(actor=signed_in_user(request), template_id=template_id)
    return [BulkSendOut.of(job) for job in bulk.jobs_of(template)]


@router.get(
    "/bulk-sends/{job_id}",
    response=BulkSendOut,
    summary="Progress of a bulk send: counters, per-row errors, and (rows=true) every row",
)
def get_bulk_send(request: HttpRequest, job_id: str, rows: bool = False) -> BulkSendOut:
    return BulkSendOut.of(bulk.job_for(actor=signed_in_user(request), job_id=job_id), rows=rows)


# -- POST /contracts with JSON (called from contracts/api.py) -----------------------------------


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """A pydantic JSON schema with its `$defs` written in place (an operation's request body
    cannot refer to definitions of its own)."""
    definitions = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return walk(definitions[node["$ref"].rsplit("/", 1)[-1]])
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    result: dict[str, Any] = walk(schema)
    return result


# Both bodies `POST /api/v1/contracts` accepts, for the OpenAPI schema.
CREATE_CONTRACT_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["title"],
                    "properties": {
                        "file": {**FILE, "description": "a PDF or Word file, or name a conversion"},
                        "conversion": CONVERSION,
                        "title": {"type": "string"},
                        "type": {"type": "string", "description": "a contract type's name"},
                        "acting_as": {"type": "string", "default": "personal"},
                        "deadline": {"type": "string", "format": "date-time"},
                        "ordering": {"type": "string", "enum": ["sequential", "parallel"]},
                        "fields": {"type": "string", "description": "business fields (JSON)"},
                    },
                }
            },
            "application/json": {"schema": _inlined(TemplateContractIn.model_json_schema())},
        }
    }
}


def create_from_template(request: HttpRequest) -> Status[ContractOut]:
    """`POST /api/v1/contracts` with a JSON body: a contract from a template in one call."""
    from portsign.contracts.api import ContractOut, _load, with_fills

    try:
        raw = json.loads(request.body or b"{}")
    except ValueError as exc:
        raise HttpError(400, "malformed") from exc
    try:
        payload = TemplateContractIn.model_validate(raw)
    except pydantic.ValidationError as exc:
        raise ValidationError(_errors(exc)) from exc
    actor = signed_in_user(request)
    contract = templates.create_contract(
        actor=actor,
        template_id=payload.template_id,
        acting_as=payload.acting_as,
        values=payload.fields,
        parties=[p.model_dump() for p in payload.parties],
        title=payload.title,
        deadline=payload.deadline,
        send=payload.send,
        business_fields=payload.business_fields,
    )
    out = ContractOut.of(_load(actor, contract.id), versions=True)
    return Status(201, with_fills(with_suggested_marks(out)))


def with_suggested_marks(out: ContractOut) -> ContractOut:
    """Fill each party's `suggested_marks`: its template's areas, or the sender's."""
    from portsign.contracts.domain.areas import suggested

    marks = suggested(out.id)
    if marks:
        for party in out.parties:
            party.suggested_marks = [SuggestedMarkOut(**m) for m in marks.get(party.id, [])]
    return out
