"""电子口岸 pages: the enterprise's filings and operators, and the reviewers' workspace.

Same domain functions as the API (`eport/domain`); forms post field by field and every refusal
comes back as the domain's message, with the values kept.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from portsign.accounts.backends import signed_in_user
from portsign.common import pdf
from portsign.common.errors import DomainError, NotFound
from portsign.common.forms import run_action
from portsign.common.paging import page_from_query
from portsign.enterprises.views import ACTING_SESSION_KEY
from portsign.eport.domain import authorities, filings, forms, operators, reviews
from portsign.eport.domain.card_sign_in import acting_card
from portsign.eport.enums import (
    ONBOARDING,
    DocumentType,
    FilingKind,
    FilingStatus,
    OperatorStatus,
)
from portsign.eport.models import Filing, FilingDocument

PAGE_SIZE = 20


def _acting_enterprise(request: HttpRequest) -> str:
    return str(request.session.get(ACTING_SESSION_KEY, "personal"))


def _form_values(request: HttpRequest, kind: str) -> dict[str, str]:
    return {f.key: request.POST.get(f.key, "") for f in forms.FIELDS[kind]}


def _fields(kind: str, values: dict[str, Any], errors: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {**field, "value": values.get(field["key"], ""), "error": errors.get(field["key"], "")}
        for field in forms.describe(kind)
    ]


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """The enterprise's E-Port page: the four onboarding filings, changes, operators."""
    user, acting = signed_in_user(request), _acting_enterprise(request)
    context: dict[str, Any] = {"active": "eport", "reviewer": bool(authorities.reviewing(user))}
    if acting == "personal":
        return render(request, "eport/index.html", context)
    try:
        page = filings.list_filings(actor=user, enterprise_id=acting, page_size=100)
        query = operators.Query(
            number=request.GET.get("number", ""),
            status=request.GET.get("status", ""),
            name=request.GET.get("name", ""),
            id_number=request.GET.get("id_number", ""),
            phone=request.GET.get("phone", ""),
            position=request.GET.get("position", ""),
        )
        found = operators.search(
            actor=user,
            enterprise_id=acting,
            query=query,
            page=page_from_query(request),
            page_size=PAGE_SIZE,
        )
    except NotFound as exc:
        raise Http404 from exc
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("eport:index")
    by_kind = {f.kind: f for f in reversed(page.items)}  # the newest of each kind
    context.update(
        {
            "onboarding": [
                (kind, FilingKind(kind).label, by_kind.get(kind)) for kind in ONBOARDING
            ],
            "others": [f for f in page.items if f.kind not in ONBOARDING],
            "operators": found,
            "query": query,
            "statuses": OperatorStatus.choices,
            "pages": _pages(found.total),
            "can_write": filings.may_write(
                user, filings.office_enterprise(user, acting, write=False), acting_card(request)
            ),
        }
    )
    return render(request, "eport/index.html", context)


def _pages(total: int) -> list[int]:
    return list(range(1, min(50, (total + PAGE_SIZE - 1) // PAGE_SIZE) + 1))


@login_required
@require_POST
def start(request: HttpRequest) -> HttpResponse:
    """Open a filing of a kind (for an operator when named) and go to its form."""
    user = signed_in_user(request)
    try:
        filing = filings.create(
            actor=user,
            enterprise_id=_acting_enterprise(request),
            kind=request.POST.get("kind", ""),
            data={},
            operator_id=request.POST.get("operator_id", ""),
            acting=acting_card(request),
        )
    except NotFound as exc:
        raise Http404 from exc
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("eport:index")
    return redirect("eport:filing", filing_id=filing.id)


@login_required
@require_http_methods(["GET", "POST"])
def filing(request: HttpRequest, filing_id: str) -> HttpResponse:
    """A filing's form (editable while a draft or returned), documents and history."""
    user = signed_in_user(request)
    try:
        found = filings.own_filing(user, filing_id)
    except NotFound as exc:
        raise Http404 from exc
    values: dict[str, Any] = dict(found.data)
    errors: dict[str, Any] = {}
    if request.method == "POST":
        values = _form_values(request, found.kind)
        try:
            acting = acting_card(request)
            filings.update(actor=user, filing_id=filing_id, data=values, acting=acting)
            if request.POST.get("action") == "declare":
                filings.declare(actor=user, filing_id=filing_id, acting=acting)
                messages.success(request, _("The filing was declared."))
            else:
                messages.success(request, _("The filing was saved."))
        except NotFound as exc:
            raise Http404 from exc
        except DomainError as exc:
            messages.error(request, str(exc.message))
            errors = exc.fields
        else:
            return redirect("eport:filing", filing_id=filing_id)
        found.refresh_from_db()
    editable = found.status in (FilingStatus.DRAFT, FilingStatus.RETURNED) and (
        filings.may_write(user, found.enterprise, acting_card(request))
    )
    return render(
        request,
        "eport/filing.html",
        {
            "active": "eport",
            "filing": found,
            "fields": _fields(found.kind, values, errors),
            "editable": editable,
            "document_types": DocumentType.choices,
            "history": found.events.select_related("actor"),
            "joint_reviews": found.joint_reviews.select_related("authority"),
        },
    )


@login_required
@require_POST
def add_document(request: HttpRequest, filing_id: str) -> HttpResponse:
    return run_action(
        request,
        lambda: filings.add_document(
            actor=signed_in_user(request),
            filing_id=filing_id,
            upload=request.FILES.get("file"),
            doc_type=request.POST.get("type", ""),
            acting=acting_card(request),
        ),
        _("The document was added."),
        reverse("eport:filing", args=[filing_id]) + "#documents",
    )


@login_required
@require_POST
def remove_document(request: HttpRequest, filing_id: str, document_id: str) -> HttpResponse:
    return run_action(
        request,
        lambda: filings.remove_document(
            actor=signed_in_user(request),
            filing_id=filing_id,
            document_id=document_id,
            acting=acting_card(request),
        ),
        _("The document was removed."),
        reverse("eport:filing", args=[filing_id]) + "#documents",
    )


@login_required
@require_POST
def delete(request: HttpRequest, filing_id: str) -> HttpResponse:
    return run_action(
        request,
        lambda: filings.delete(
            actor=signed_in_user(request), filing_id=filing_id, acting=acting_card(request)
        ),
        _("The draft was deleted."),
        reverse("eport:index"),
    )


PREVIEW_DPI = 72
IMAGE_TYPES = {"jpeg": "image/jpeg", "png": "image/png"}


@login_required
def document_preview(request: HttpRequest, filing_id: str, document_id: str) -> HttpResponse:
    """A document as the applicant or a reviewer sees it on the page: an image as uploaded,
    a PDF's first page rendered (in the bounded render process), cached by content."""
    user = signed_in_user(request)
    try:
        try:
            found = filings.own_filing(user, filing_id)
        except NotFound:
            found = reviews.reviewed_filing(user, filing_id)
    except NotFound as exc:
        raise Http404 from exc
    document = found.documents.filter(pk=document_id).first()
    if document is None:
        raise Http404
    if document.kind in IMAGE_TYPES:
        body, content_type = filings.document_bytes(document), IMAGE_TYPES[document.kind]
    else:
        body, content_type = _first_page(document), "image/png"
    response = HttpResponse(body, content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _first_page(document: FilingDocument) -> bytes:
    cached = f"eport/previews/{document.sha256}.png"
    if default_storage.exists(cached):
        with default_storage.open(cached) as handle:
            return bytes(handle.read())
    try:
        png = pdf.render_page(filings.document_bytes(document), 0, dpi=PREVIEW_DPI)
    except pdf.RenderFailed as exc:
        raise Http404 from exc  # checked at upload; a page that cannot be drawn has no preview
    default_storage.save(cached, ContentFile(png))
    return png


# -- the reviewers' workspace ------------------------------------------------------------------


def _when(raw: str, *, end: bool = False) -> dt.datetime | None:
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        return None
    moment = dt.datetime.combine(day, dt.time.max if end else dt.time.min)
    return moment.replace(tzinfo=dt.UTC)


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    own = authorities.reviewing(user)
    if not own:
        raise Http404
    get = request.GET
    filters = reviews.Filters(
        kind=get.get("kind", ""),
        status=get.get("status", FilingStatus.DECLARED),
        enterprise=get.get("enterprise", ""),
        uscc=get.get("uscc", ""),
        declared_from=_when(get.get("declared_from", "")),
        declared_to=_when(get.get("declared_to", ""), end=True),
    )
    try:
        found = reviews.queue(
            actor=user, filters=filters, page=page_from_query(request), page_size=PAGE_SIZE
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("eport:reviews")
    rows = [(f, reviews.deciding_units(user, f)) for f in found.items]
    return render(
        request,
        "eport/reviews.html",
        {
            "active": "eport_reviews",
            "authorities": own,
            "rows": rows,
            "page": found,
            "pages": _pages(found.total),
            "filters": filters,
            "values": get,
            "kinds": FilingKind.choices,
            "statuses": [s for s in FilingStatus.choices if s[0] != FilingStatus.DRAFT],
        },
    )


@login_required
@require_POST
def auto_approve(request: HttpRequest, authority_id: str) -> HttpResponse:
    enabled = request.POST.get("auto_approve") == "on"
    return run_action(
        request,
        lambda: authorities.set_auto_approve(
            actor=signed_in_user(request), authority_id=authority_id, enabled=enabled
        ),
        _("Auto-approval is on.") if enabled else _("Auto-approval is off."),
        reverse("eport:reviews"),
    )


@login_required
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, filing_id: str) -> HttpResponse:
    user = signed_in_user(request)
    try:
        found: Filing = reviews.reviewed_filing(user, filing_id)
    except NotFound as exc:
        raise Http404 from exc
    if request.method == "POST":
        decision = request.POST.get("decision")
        try:
            reviews.decide(
                actor=user,
                filing_id=filing_id,
                approve=decision == "approve",
                opinion=request.POST.get("opinion", ""),
                unit=request.POST.get("unit", ""),
            )
        except NotFound as exc:
            raise Http404 from exc
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(
                request,
                _("The filing was approved.")
                if decision == "approve"
                else _("The filing was returned."),
            )
            return redirect("eport:review", filing_id=filing_id)
    return render(
        request,
        "eport/review.html",
        {
            "active": "eport_reviews",
            "filing": found,
            "fields": _fields(found.kind, found.data, {}),
            "units": reviews.deciding_units(user, found),
            "history": found.events.select_related("actor"),
            "joint_reviews": found.joint_reviews.select_related("authority"),
            "opinion": request.POST.get("opinion", ""),
        },
    )
