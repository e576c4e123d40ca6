"""Back-office screens (后台审核): staff only, server-rendered, every look audited."""

from __future__ import annotations

import mimetypes

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from portsign.accounts.backends import signed_in_user
from portsign.backoffice import domain
from portsign.backoffice.models import ReviewStatus
from portsign.backoffice.registry import kind_of
from portsign.common.audit import record_event
from portsign.common.errors import DomainError, NotFound


@login_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", ReviewStatus.PENDING)
    if status not in ReviewStatus.values:
        status = ReviewStatus.PENDING
    try:
        reviews = domain.review_queue(reviewer=signed_in_user(request), status=status)[:200]
    except NotFound as exc:
        raise Http404 from exc
    return render(
        request,
        "backoffice/queue.html",
        {
            "active": "backoffice",
            "reviews": reviews,
            "status": status,
            "statuses": ReviewStatus.choices,
        },
    )


@login_required
@require_GET
def detail(request: HttpRequest, review_id: str) -> HttpResponse:
    try:
        review = domain.open_review(reviewer=signed_in_user(request), review_id=review_id)
    except NotFound as exc:
        raise Http404 from exc
    kind = kind_of(review.kind)
    answers = {"yes": _("Yes"), "no": _("No")}
    facts = [
        (kind.labels.get(key, key), answers.get(value, value))
        for key, value in review.details.items()
    ]
    files = [
        (index, kind.labels.get(entry["label"], entry["label"]))
        for index, entry in enumerate(review.files)
    ]
    return render(
        request,
        "backoffice/detail.html",
        {
            "active": "backoffice",
            "review": review,
            "kind": kind,
            "facts": facts,
            "files": files,
        },
    )


@login_required
@require_POST
def decide(request: HttpRequest, review_id: str) -> HttpResponse:
    approve = request.POST.get("decision") == "approve"
    try:
        domain.decide_review(
            reviewer=signed_in_user(request),
            review_id=review_id,
            approve=approve,
            opinion=request.POST.get("opinion", ""),
        )
    except NotFound as exc:
        raise Http404 from exc
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("backoffice:detail", review_id=review_id)
    messages.success(request, _("Approved.") if approve else _("Returned to the applicant."))
    return redirect("backoffice:queue")


@login_required
@require_GET
def review_file(request: HttpRequest, review_id: str, index: int) -> FileResponse:
    user = signed_in_user(request)
    try:
        review = domain.open_review(reviewer=user, review_id=review_id)
        entry = review.files[index]
    except (NotFound, IndexError) as exc:
        raise Http404 from exc
    record_event(
        action="review.file_viewed",
        actor_id=user.id,
        object_type="review",
        object_id=review.id,
        data={"file": entry["label"]},
    )
    content_type = mimetypes.guess_type(entry["path"])[0] or "application/octet-stream"
    return FileResponse(default_storage.open(entry["path"]), content_type=content_type)
