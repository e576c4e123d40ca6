"""Console pages for seals (印章管理) and personal signatures. Same domain functions as the API."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from portsign.accounts.backends import signed_in_user
from portsign.common.errors import NotFound
from portsign.common.forms import run_action
from portsign.enterprises.domain import departments, enterprises, members
from portsign.enterprises.enums import EnterpriseStatus, Permission
from portsign.enterprises.rules import membership_of
from portsign.seals.domain import holders, scans
from portsign.seals.domain import seals as seal_domain

ENTERPRISE_KIND_CHOICES = [(k.value, k.label) for k in seal_domain.ENTERPRISE_KINDS]


def _enterprise_page(enterprise_id: str) -> str:
    return reverse("seals:enterprise", args=[enterprise_id])


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    return render(
        request,
        "seals/index.html",
        {
            "active": "seals",
            "signatures": seal_domain.signatures_of(actor=user),
            "memberships": [
                m
                for m in enterprises.enterprises_of(user=user)
                if m.enterprise.status == EnterpriseStatus.VERIFIED
            ],
        },
    )


@login_required
@require_GET
def enterprise(request: HttpRequest, enterprise_id: str) -> HttpResponse:
    user = signed_in_user(request)
    try:
        membership = membership_of(user=user, enterprise_id=enterprise_id)
    except NotFound as exc:
        raise Http404 from exc
    grants: dict[str, list[Any]] = {}
    for grant in holders.holdings_of(actor=user, enterprise_id=enterprise_id):
        grants.setdefault(grant.seal_id, []).append(grant)
    seals = list(seal_domain.seals_of(actor=user, enterprise_id=enterprise_id))
    return render(
        request,
        "seals/enterprise.html",
        {
            "active": "seals",
            "enterprise": membership.enterprise,
            "can_manage": Permission.MANAGE_SEALS in membership.role.permissions
            and membership.enterprise.status == EnterpriseStatus.VERIFIED,
            "rows": [(seal, grants.get(seal.id, [])) for seal in seals],
            "kinds": ENTERPRISE_KIND_CHOICES,
            "members": members.members_of(actor=user, enterprise_id=enterprise_id).filter(
                is_active=True
            ),
            "roles": membership.enterprise.roles.order_by("-builtin", "name"),
            "departments": departments.departments_of(actor=user, enterprise_id=enterprise_id),
            "scans": scans.scans_of(actor=user, enterprise_id=enterprise_id)[:20],
        },
    )


@login_required
@require_POST
def create(request: HttpRequest, enterprise_id: str) -> HttpResponse:
    user, data = signed_in_user(request), request.POST
    if request.FILES.get("file"):

        def call() -> object:
            return seal_domain.create_uploaded_seal(
                actor=user,
                enterprise_id=enterprise_id,
                kind=data.get("type", ""),
                upload=request.FILES.get("file"),
                name=data.get("name", ""),
                width_mm=data.get("width_mm"),
            )
    else:

        def call() -> object:
            return seal_domain.create_generated_seal(
                actor=user,
                enterprise_id=enterprise_id,
                kind=data.get("type", ""),
                name=data.get("name", ""),
                shape=data.get("shape", ""),
                code=data.get("code", ""),
            )

    return run_action(request, call, _("The seal was created."), _enterprise_page(enterprise_id))


@login_required
@require_POST
def update(request: HttpRequest, seal_id: str) -> HttpResponse:
    user, data = signed_in_user(request), request.POST
    back = request.POST.get("back", "")
    return run_action(
        request,
        lambda: seal_domain.update_seal(
            actor=user,
            seal_id=seal_id,
            name=data.get("name") or None,
            status=data.get("status") or None,
            code=data.get("code"),
            department_id=data.get("department_id"),
        ),
        _("The seal was saved."),
        back if back.startswith("/console/") else reverse("seals:index"),
    )


@login_required
@require_POST
def delete(request: HttpRequest, seal_id: str) -> HttpResponse:
    back = request.POST.get("back", "")
    return run_action(
        request,
        lambda: seal_domain.delete_seal(actor=signed_in_user(request), seal_id=seal_id),
        _("The seal was deleted."),
        back if back.startswith("/console/") else reverse("seals:index"),
    )


@login_required
@require_POST
def grant(request: HttpRequest, seal_id: str) -> HttpResponse:
    return run_action(
        request,
        lambda: holders.grant(
            actor=signed_in_user(request),
            seal_id=seal_id,
            member_ids=request.POST.getlist("member_ids"),
            role_ids=request.POST.getlist("role_ids"),
        ),
        _("The seal was granted."),
        _enterprise_page(request.POST.get("enterprise_id", "")),
    )


@login_required
@require_POST
def remove_holders(request: HttpRequest, seal_id: str) -> HttpResponse:
    return run_action(
        request,
        lambda: holders.remove(
            actor=signed_in_user(request),
            seal_id=seal_id,
            member_ids=request.POST.getlist("member_ids"),
            role_ids=request.POST.getlist("role_ids"),
        ),
        _("The selected holders were removed."),
        _enterprise_page(request.POST.get("enterprise_id", "")),
    )


@login_required
@require_POST
def scan_upload(request: HttpRequest, enterprise_id: str) -> HttpResponse:
    return run_action(
        request,
        lambda: scans.submit_scan(
            actor=signed_in_user(request),
            enterprise_id=enterprise_id,
            upload=request.FILES.get("file"),
            kind=request.POST.get("type", ""),
            name=request.POST.get("name", ""),
        ),
        _("The scan was uploaded. The seal is cut out automatically and then confirmed."),
        _enterprise_page(enterprise_id) + "#scans",
    )


@login_required
@require_POST
def signature_create(request: HttpRequest) -> HttpResponse:
    upload = request.FILES.get("file")
    return run_action(
        request,
        lambda: seal_domain.create_signature(
            actor=signed_in_user(request),
            source="drawn" if upload else "generate",
            upload=upload,
            name=request.POST.get("name", ""),
        ),
        _("Your signature was saved."),
        reverse("seals:index"),
    )
