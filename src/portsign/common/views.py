"""Console shell pages and the sandbox mail catcher."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from portsign.common.models import SandboxFaceSession, SandboxMessage


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return redirect("console" if request.user.is_authenticated else "accounts:login")


@login_required
@require_GET
def console(request: HttpRequest) -> HttpResponse:
    return render(request, "console/home.html", {"active": "home"})


@require_GET
def sandbox_outbox(request: HttpRequest) -> HttpResponse:
    if not settings.SANDBOX:
        raise Http404
    to = request.GET.get("to", "").strip()
    rows = SandboxMessage.objects.order_by("-id")
    if to:
        from portsign.common.api import normalize_target

        rows = rows.filter(to=normalize_target(to))
    return render(request, "sandbox/outbox.html", {"rows": rows[:200], "to": to})


def sandbox_face(request: HttpRequest, session_id: str) -> HttpResponse:
    """The sandbox's stand-in for a liveness check on the phone: confirm or reject."""
    if not settings.SANDBOX:
        raise Http404
    row = SandboxFaceSession.objects.filter(pk=session_id).first()
    if row is None:
        raise Http404
    if request.method == "POST" and row.status == SandboxFaceSession.Status.WAITING:
        passed = request.POST.get("result") == "pass"
        row.status = (
            SandboxFaceSession.Status.PASSED if passed else SandboxFaceSession.Status.REJECTED
        )
        row.save(update_fields=["status"])
    return render(request, "sandbox/face.html", {"session": row})
