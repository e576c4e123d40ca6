"""Template console pages (合同模板, 批量发送): the list, the designer, a contract from a
template, bulk send and its progress. Same domain functions as the API; the designer saves
through the API (`PUT /api/v1/templates/{id}`) and the progress page polls it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portsign.accounts.backends import signed_in_user
from portsign.common.errors import DomainError, NotFound
from portsign.contracts.domain import bulk, templates
from portsign.contracts.template_models import (
    AreaKind,
    BulkStatus,
    DateFormat,
    FieldKind,
    FilledBy,
    Template,
)
from portsign.contracts.templates_api import TemplateOut
from portsign.enterprises.views import ACTING_SESSION_KEY


def _acting(request: HttpRequest) -> str:
    return str(request.session.get(ACTING_SESSION_KEY, "personal"))


def _template(request: HttpRequest, template_id: str) -> Template:
    try:
        return templates.template_for(actor=signed_in_user(request), template_id=template_id)
    except NotFound as exc:
        raise Http404 from exc


def _date(raw: str) -> dt.datetime | None:
    """A deadline date from a form: its last second, local time."""
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        return None
    return timezone.make_aware(dt.datetime.combine(day, dt.time(23, 59, 59)))


@login_required
@require_http_methods(["GET", "POST"])
def index(request: HttpRequest) -> HttpResponse:
    user, acting = signed_in_user(request), _acting(request)
    if request.method == "POST":
        try:
            template = templates.create_template(
                actor=user,
                acting_as=acting,
                upload=request.FILES.get("file"),
                conversion=request.POST.get("conversion", ""),
                name=request.POST.get("name", ""),
            )
        except NotFound as exc:
            raise Http404 from exc
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("The template was created. Place its fields and areas."))
            return redirect("contracts:template", template_id=template.id)
    found: list[Template] = []
    problem = ""
    if acting == "personal":
        problem = _("Templates belong to an enterprise: choose it in the identity switcher.")
    else:
        try:
            found = list(
                templates.templates_of(actor=user, acting_as=acting)
                .select_related("document")
                .prefetch_related("roles", "fields")
            )
        except NotFound:
            request.session[ACTING_SESSION_KEY] = "personal"
            return redirect("contracts:templates")
        except DomainError as exc:
            problem = str(exc.message)
    return render(
        request,
        "contracts/templates/index.html",
        {"active": "templates", "templates": found, "problem": problem},
    )


@login_required
@require_GET
def designer(request: HttpRequest, template_id: str) -> HttpResponse:
    template = _template(request, template_id)
    return render(
        request,
        "contracts/templates/designer.html",
        {
            "active": "templates",
            "template": template,
            "pages": range(1, template.document.pages + 1),
            "data": TemplateOut.of(template).model_dump(mode="json"),
            "choices": {
                "kinds": FieldKind.choices,
                # The party's option is one per role, added by the designer's script.
                "filled_by": [c for c in FilledBy.choices if c[0] != FilledBy.PARTY],
                "date_formats": DateFormat.values,
                "area_kinds": AreaKind.choices,
            },
        },
    )


@login_required
@require_POST
def delete(request: HttpRequest, template_id: str) -> HttpResponse:
    try:
        templates.archive_template(actor=signed_in_user(request), template_id=template_id)
    except NotFound as exc:
        raise Http404 from exc
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("contracts:template", template_id=template_id)
    messages.success(request, _("The template was deleted."))
    return redirect("contracts:templates")


def _form_values(request: HttpRequest, template: Template) -> dict[str, Any]:
    data = request.POST
    values: dict[str, Any] = {}
    for field in templates.sender_fields(template):
        if field.kind == FieldKind.CHECKBOX:
            values[field.key] = data.get(f"field-{field.key}") == "on"
        else:
            values[field.key] = data.get(f"field-{field.key}", "")
    return values


def _form_parties(request: HttpRequest, template: Template) -> list[dict[str, str]]:
    data = request.POST
    parties = []
    for role in template.roles.all():
        account = data.get(f"party-{role.id}-account", "").strip()
        if role.is_sender and not account:
            continue
        parties.append(
            {
                "role": role.name,
                "kind": data.get(f"party-{role.id}-kind", "enterprise"),
                "account": account,
                "enterprise_name": data.get(f"party-{role.id}-enterprise", ""),
            }
        )
    return parties


@login_required
@require_http_methods(["GET", "POST"])
def use(request: HttpRequest, template_id: str) -> HttpResponse:
    """The sender fills the fields and names the parties: a draft, or sent at once."""
    template = _template(request, template_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            contract = templates.create_contract(
                actor=signed_in_user(request),
                template_id=template.id,
                values=_form_values(request, template),
                parties=_form_parties(request, template),
                title=request.POST.get("title", ""),
                deadline=_date(request.POST.get("deadline", "")),
                send=request.POST.get("action") == "send",
            )
        except NotFound as exc:
            raise Http404 from exc
        except DomainError as exc:
            messages.error(request, str(exc.message))
            errors = {str(k): str(v) for k, v in exc.fields.items()}
        else:
            sent = contract.status != "draft"
            messages.success(
                request,
                _("The contract was sent for signing.")
                if sent
                else _("The draft was saved. Check it and send it."),
            )
            return redirect("contracts:detail", contract_id=contract.id)
    return render(
        request,
        "contracts/templates/use.html",
        {
            "active": "templates",
            "template": template,
            "fields": [
                {
                    "field": f,
                    "value": request.POST.get(f"field-{f.key}", ""),
                    "error": errors.get(f"fields.{f.key}", ""),
                }
                for f in templates.sender_fields(template)
            ],
            "party_fields": template.fields.filter(filled_by=FilledBy.PARTY).select_related("role"),
            "roles": [
                {
                    "role": r,
                    "kind": request.POST.get(f"party-{r.id}-kind", "enterprise"),
                    "account": request.POST.get(f"party-{r.id}-account", ""),
                    "enterprise": request.POST.get(f"party-{r.id}-enterprise", ""),
                    "error": next(
                        (v for k, v in errors.items() if k.startswith(f"parties.{r.name}")), ""
                    ),
                }
                for r in template.roles.all()
            ],
            "values": request.POST,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def bulk_send(request: HttpRequest, template_id: str) -> HttpResponse:
    template = _template(request, template_id)
    if request.method == "POST":
        try:
            job, created = bulk.start(
                actor=signed_in_user(request),
                template_id=template.id,
                upload=request.FILES.get("file"),
                title=request.POST.get("title", ""),
                deadline=_date(request.POST.get("deadline", "")),
            )
        except NotFound as exc:
            raise Http404 from exc
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            if not created:
                messages.success(request, _("This file was uploaded before: here is that batch."))
            return redirect("contracts:bulk_send", job_id=job.id)
    return render(
        request,
        "contracts/templates/bulk.html",
        {
            "active": "templates",
            "template": template,
            "headers": bulk.sample_headers(template),
            "jobs": bulk.jobs_of(template),
            "max_rows": settings.BULK_SEND_MAX_ROWS,
        },
    )


@login_required
@require_GET
def bulk_job(request: HttpRequest, job_id: str) -> HttpResponse:
    try:
        job = bulk.job_for(actor=signed_in_user(request), job_id=job_id)
    except NotFound as exc:
        raise Http404 from exc
    return render(
        request,
        "contracts/templates/job.html",
        {
            "active": "templates",
            "job": job,
            "finished": job.status == BulkStatus.FINISHED,
            "handled": job.done + job.failed,
            "progress": bulk.progress(job),
            "rows": job.rows.select_related("contract").prefetch_related("contract__parties"),
        },
    )


# Mounted before the contract pages in contracts/urls.py: "templates/" is not a contract id.
urlpatterns = [
    path("templates/", index, name="templates"),
    path("templates/<str:template_id>/", designer, name="template"),
    path("templates/<str:template_id>/delete/", delete, name="template_delete"),
    path("templates/<str:template_id>/use/", use, name="template_use"),
    path("templates/<str:template_id>/bulk/", bulk_send, name="template_bulk"),
    path("bulk-sends/<str:job_id>/", bulk_job, name="bulk_send"),
]
