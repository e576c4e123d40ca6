"""Enterprise console pages (企业控制台). Same domain functions as the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from portsign.accounts.backends import signed_in_user
from portsign.accounts.domain.codes import mask_address
from portsign.accounts.models import User
from portsign.backoffice import domain as backoffice
from portsign.common.errors import DomainError, NotFound
from portsign.common.forms import run_action
from portsign.common.qr import qr_svg
from portsign.enterprises.bank import PLATFORM_ACCOUNT
from portsign.enterprises.domain import (
    departments,
    deposits,
    enterprises,
    invitations,
    legal_rep,
    materials,
    members,
)
from portsign.enterprises.domain.deposits import REVERSE_AMOUNT
from portsign.enterprises.enums import EnterpriseStatus, Permission
from portsign.enterprises.models import Enterprise
from portsign.enterprises.rules import membership_of

ACTING_SESSION_KEY = "acting_as"


def _back(enterprise_id: str = "", anchor: str = "") -> HttpResponse:
    if not enterprise_id:
        return redirect("enterprises:index")
    return redirect(reverse("enterprises:detail", args=[enterprise_id]) + anchor)


def _act(
    request: HttpRequest,
    call: Callable[[], Any],
    done: str,
    enterprise_id: str = "",
    anchor: str = "",
) -> HttpResponse:
    """Run a domain action from a form and go back to the enterprise page (at *anchor*)."""
    if not enterprise_id:
        return run_action(request, call, done, reverse("enterprises:index"))
    return run_action(
        request, call, done, reverse("enterprises:detail", args=[enterprise_id]) + anchor
    )


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    query = request.GET.get("q", "").strip()
    return render(
        request,
        "enterprises/index.html",
        {
            "active": "enterprise",
            "memberships": enterprises.enterprises_of(user=user),
            "join_requests": members.my_join_requests(actor=user)[:20],
            "query": query,
            "found": members.find_verified(query=query) if query else [],
        },
    )


@login_required
@require_POST
def create(request: HttpRequest) -> HttpResponse:
    data = request.POST
    try:
        enterprise = enterprises.create_enterprise(
            actor=signed_in_user(request),
            name=data.get("name", ""),
            uscc=data.get("uscc", ""),
            legal_rep_name=data.get("legal_rep_name", ""),
        )
    except DomainError as exc:
        user = signed_in_user(request)
        return render(
            request,
            "enterprises/index.html",
            {
                "active": "enterprise",
                "memberships": enterprises.enterprises_of(user=user),
                "join_requests": members.my_join_requests(actor=user)[:20],
                "values": data,
                "error": exc.message,
                "field_errors": {k: str(v) for k, v in exc.fields.items()},
            },
        )
    request.session[ACTING_SESSION_KEY] = enterprise.id
    messages.success(request, _("%(name)s was created. Verify it now.") % {"name": enterprise.name})
    return _back(enterprise.id, "#verification")


@login_required
@require_GET
def detail(request: HttpRequest, enterprise_id: str) -> HttpResponse:
    return _detail_page(request, enterprise_id)


def _detail_page(request: HttpRequest, enterprise_id: str, **extra: Any) -> HttpResponse:
    user = signed_in_user(request)
    try:
        membership = membership_of(user=user, enterprise_id=enterprise_id, include_expired=True)
    except NotFound as exc:
        raise Http404 from exc
    enterprise = membership.enterprise
    # A lapsed enterprise's page only says what happened; nothing can be done for it.
    live = enterprise.status != EnterpriseStatus.EXPIRED
    can_manage = live and Permission.MANAGE_MEMBERS in membership.role.permissions
    can_verify = live and Permission.MANAGE_ENTERPRISE in membership.role.permissions
    deposit = enterprise.deposit_verifications.order_by("-created_at").first()
    rep = enterprise.legal_rep_verifications.order_by("-created_at").first()
    if rep is not None and rep.status == "awaiting_face" and can_verify:
        rep = legal_rep.refresh_legal_rep(actor=user, enterprise_id=enterprise.id)
    return render(
        request,
        "enterprises/detail.html",
        {
            "active": "enterprise",
            "enterprise": enterprise,
            "membership": membership,
            "can_manage": can_manage,
            "can_verify": can_verify,
            "can_manage_enterprise": can_verify,  # e.g. its webhooks
            "deposit": deposit,
            "legal_rep": rep,
            "legal_rep_qr": qr_svg(rep.face_url) if rep and rep.status == "awaiting_face" else "",
            "letter_review": backoffice.latest_review(
                kind=materials.LETTER_KIND, subject_id=enterprise.id
            ),
            "manual_review": backoffice.latest_review(
                kind=materials.MANUAL_KIND, subject_id=enterprise.id
            ),
            "missing_materials": [
                enterprises.MATERIALS[name] for name in enterprises.missing_materials(enterprise)
            ],
            "failed_methods": (
                materials.failed_methods(enterprise)
                if can_verify and enterprise.status != EnterpriseStatus.VERIFIED
                else []
            ),
            "tries_left": settings.DEPOSIT_MAX_TRIES - deposit.tries if deposit else 0,
            "platform_account": PLATFORM_ACCOUNT,
            "reverse_amount": REVERSE_AMOUNT,
            "members": members.members_of(actor=user, enterprise_id=enterprise.id),
            "roles": enterprise.roles.order_by("-builtin", "name"),
            "join_requests": (
                members.join_requests_of(actor=user, enterprise_id=enterprise.id).filter(
                    status="pending"
                )
                if can_manage
                else []
            ),
            "permissions": Permission.choices,
            "departments": departments.departments_of(actor=user, enterprise_id=enterprise.id),
            **_certificate_context(user, enterprise, live=live, can_verify=can_verify),
            **extra,
        },
    )


def _certificate_context(
    user: User, enterprise: Enterprise, *, live: bool, can_verify: bool
) -> dict[str, Any]:
    """The certificate section: every member sees the applications and may apply (members
    who are not administrators with an authorization code); administrators also renew and
    issue authorization codes."""
    from portsign.pki import applications, authorizations
    from portsign.pki.application_details import TERMS

    if not live or enterprise.status != EnterpriseStatus.VERIFIED:
        return {"certificates": []}
    found = applications.enterprise_applications(actor=user, enterprise_id=enterprise.id)
    return {
        "certificates": applications.rows(found[:20]),
        "certificate_terms": TERMS,
        "auth_code_days": settings.CERTIFICATE_AUTH_CODE_DAYS,
        "certificate_authorizations": (
            [
                (row, authorizations.status_of(row))
                for row in authorizations.authorizations_of(
                    actor=user, enterprise_id=enterprise.id
                )[:20]
            ]
            if can_verify
            else []
        ),
    }


def _form_action(
    call: Callable[..., object], *, fields: tuple[str, ...], done: Promise, anchor: str
) -> Callable[..., HttpResponse]:
    """A console form that passes its POST *fields* (plus URL ids) to a domain function."""

    @login_required
    @require_POST
    def view(request: HttpRequest, enterprise_id: str, **ids: str) -> HttpResponse:
        values = {name: request.POST.get(name, "") for name in fields}
        return _act(
            request,
            lambda: call(
                actor=signed_in_user(request), enterprise_id=enterprise_id, **ids, **values
            ),
            str(done),
            enterprise_id,
            anchor,
        )

    return view


deposit_start = _form_action(
    deposits.start_deposit,
    fields=("method", "bank_name", "bank_account"),
    done=gettext_lazy("Transfer verification started."),
    anchor="#verification",
)
deposit_confirm = _form_action(
    deposits.confirm_amount,
    fields=("amount",),
    done=gettext_lazy("The enterprise is verified."),
    anchor="#verification",
)
deposit_check = _form_action(
    deposits.check_reverse_payment,
    fields=(),
    done=gettext_lazy("The enterprise is verified."),
    anchor="#verification",
)
legal_rep_start = _form_action(
    legal_rep.start_legal_rep,
    fields=("method", "legal_rep_id_number", "phone"),
    done=gettext_lazy("Verification through the legal representative started."),
    anchor="#verification",
)
legal_rep_confirm = _form_action(
    legal_rep.confirm_legal_rep_code,
    fields=("code",),
    done=gettext_lazy("Checked with the carrier."),
    anchor="#verification",
)
member_invite = _form_action(
    invitations.invite_member,
    fields=("account", "role_id"),
    done=gettext_lazy("The invitation was sent."),
    anchor="#members",
)
member_remove = _form_action(
    members.remove_member,
    fields=(),
    done=gettext_lazy("The member was removed."),
    anchor="#members",
)
member_transfer = _form_action(
    members.transfer_items,
    fields=("to_member_id",),
    done=gettext_lazy("Everything was transferred."),
    anchor="#members",
)
hand_over = _form_action(
    members.hand_over_main_admin,
    fields=("member_id",),
    done=gettext_lazy("The main administrator role was handed over."),
    anchor="#members",
)
role_delete = _form_action(
    members.delete_role, fields=(), done=gettext_lazy("The role was deleted."), anchor="#roles"
)


@login_required
@require_POST
def materials_upload(request: HttpRequest, enterprise_id: str) -> HttpResponse:
    return _act(
        request,
        lambda: materials.submit_materials(
            actor=signed_in_user(request),
            enterprise_id=enterprise_id,
            licence=request.FILES.get("licence"),
            id_front=request.FILES.get("id_front"),
            id_back=request.FILES.get("id_back"),
            legal_rep_id_number=request.POST.get("legal_rep_id_number", ""),
            as_agent=request.POST.get("as_agent") == "on",
        ),
        _("The materials were saved."),
        enterprise_id,
        "#materials",
    )


@login_required
@require_GET
def letter_pdf(request: HttpRequest, enterprise_id: str) -> HttpResponse:
    try:
        pdf = materials.authorization_letter_pdf(
            actor=signed_in_user(request), enterprise_id=enterprise_id
        )
    except NotFound as exc:
        raise Http404 from exc
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return _back(enterprise_id)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="authorization-letter.pdf"'
    return response


@login_required
@require_POST
def letter_upload(request: HttpRequest, enterprise_id: str) -> HttpResponse:
    return _act(
        request,
        lambda: materials.submit_letter(
            actor=signed_in_user(request),
            enterprise_id=enterprise_id,
            letter=request.FILES.get("letter"),
        ),
        _("The letter was submitted for review."),
        enterprise_id,
        "#verification",
    )


@login_required
@require_POST
def manual_review_request(request: HttpRequest, enterprise_id: str) -> HttpResponse:
    return _act(
        request,
        lambda: materials.request_manual_review(
            actor=signed_in_user(request),
            enterprise_id=enterprise_id,
            note=request.POST.get("note", ""),
        ),
        _("The materials were submitted for manual review."),
        enterprise_id,
        "#verification",
    )


@login_required
@require_POST
def member_update(request: HttpRequest, enterprise_id: str, member_id: str) -> HttpResponse:
    data = request.POST
    active = data.get("is_active")
    return _act(
        request,
        lambda: members.update_member(
            actor=signed_in_user(request),
            enterprise_id=enterprise_id,
            member_id=member_id,
            role_id=data.get("role_id") or None,
            is_active=None if active is None else active == "1",
        ),
        _("The member was updated."),
        enterprise_id,
        "#members",
    )


@login_required
@require_POST
def role_create(request: HttpRequest, enterprise_id: str) -> HttpResponse:
    return _act(
        request,
        lambda: members.create_role(
            actor=signed_in_user(request),
            enterprise_id=enterprise_id,
            name=request.POST.get("name", ""),
            permissions=request.POST.getlist("permissions"),
        ),
        _("The role was created."),
        enterprise_id,
        "#roles",
    )


@login_required
@require_POST
def join_apply(request: HttpRequest, enterprise_id: str) -> HttpResponse:
    return _act(
        request,
        lambda: members.apply_to_join(
            actor=signed_in_user(request),
            enterprise_id=enterprise_id,
            reason=request.POST.get("reason", ""),
        ),
        _("Your request was sent to the administrator."),
    )


@login_required
@require_POST
def join_decide(request: HttpRequest, request_id: str) -> HttpResponse:
    approve = request.POST.get("decision") == "approve"
    enterprise_id = request.POST.get("enterprise_id", "")
    return _act(
        request,
        lambda: members.decide_join_request(
            actor=signed_in_user(request),
            request_id=request_id,
            approve=approve,
            reason=request.POST.get("reason", ""),
        ),
        _("The request was approved.") if approve else _("The request was rejected."),
        enterprise_id,
        "#join-requests",
    )


@login_required
@require_POST
def join_withdraw(request: HttpRequest, request_id: str) -> HttpResponse:
    return _act(
        request,
        lambda: members.withdraw_join_request(actor=signed_in_user(request), request_id=request_id),
        _("Your request was withdrawn."),
    )


def _upload_certificate_materials(request: HttpRequest, user: User) -> list[str]:
    """The console form sends its files with the application: store them first (each is
    checked like an API upload) and name them by id, as an API client would."""
    from portsign.pki import materials as certificate_materials

    return [
        certificate_materials.upload_material(actor=user, upload=upload).id
        for upload in request.FILES.getlist("materials")
    ]


@login_required
@require_POST
def certificate_apply(request: HttpRequest, enterprise_id: str) -> HttpResponse:
    from portsign.pki import applications
    from portsign.pki.application_details import DEFAULT_TERM, ApplicationForm

    user = signed_in_user(request)
    return _act(
        request,
        lambda: applications.apply(
            actor=user,
            enterprise_id=enterprise_id,
            code=request.POST.get("code", ""),
            form=ApplicationForm.from_post(request.POST, default_term=DEFAULT_TERM),
            authorization_code=request.POST.get("authorization_code", ""),
            material_ids=_upload_certificate_materials(request, user),
            department_id=request.POST.get("department_id", ""),
        ),
        str(gettext_lazy("The certificate application was submitted.")),
        enterprise_id,
        "#certificates",
    )


@login_required
@require_POST
def certificate_renew(
    request: HttpRequest, enterprise_id: str, application_id: str
) -> HttpResponse:
    from portsign.pki import applications
    from portsign.pki.application_details import ApplicationForm

    user = signed_in_user(request)
    return _act(
        request,
        lambda: applications.renew(
            actor=user,
            application_id=_enterprise_application(user, enterprise_id, application_id),
            code=request.POST.get("code", ""),
            form=ApplicationForm.from_post(request.POST, default_term=None),
        ),
        str(gettext_lazy("The renewal was submitted.")),
        enterprise_id,
        "#certificates",
    )


@login_required
@require_POST
def certificate_decide(
    request: HttpRequest, enterprise_id: str, application_id: str
) -> HttpResponse:
    """An administrator approves or rejects a pending application (policy enterprise_admin)."""
    from portsign.pki import applications

    user = signed_in_user(request)
    approve = request.POST.get("decision") == "approve"

    def decide() -> object:
        chosen = _enterprise_application(user, enterprise_id, application_id)
        if approve:
            return applications.approve(actor=user, application_id=chosen)
        return applications.reject(
            actor=user, application_id=chosen, reason=request.POST.get("reason", "")
        )

    return _act(
        request,
        decide,
        _("The application was approved.") if approve else _("The application was rejected."),
        enterprise_id,
        "#certificates",
    )


def _enterprise_application(user: User, enterprise_id: str, application_id: str) -> str:
    """The application id if it is this enterprise's (the URL names both); else 404."""
    from portsign.pki import applications

    application = applications.application_for(actor=user, application_id=application_id)
    if application.enterprise_id != enterprise_id:
        raise NotFound()
    return application.id


@login_required
@require_POST
def certificate_authorization(request: HttpRequest, enterprise_id: str) -> HttpResponse:
    """Issue an authorization code and show it on the page this once (it is not stored)."""
    from portsign.pki import authorizations

    try:
        row, code = authorizations.issue_authorization(
            actor=signed_in_user(request), enterprise_id=enterprise_id
        )
    except NotFound as exc:
        raise Http404 from exc
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return _back(enterprise_id, "#certificates")
    return _detail_page(request, enterprise_id, new_authorization_code=code, new_authorization=row)


@login_required
@require_POST
def switch_acting(request: HttpRequest) -> HttpResponse:
    """The header switcher: act as oneself or as one of one's enterprises (SPEC B3)."""
    acting = request.POST.get("acting_as", "personal")
    if acting != "personal":
        try:
            membership_of(user=signed_in_user(request), enterprise_id=acting)
        except NotFound as exc:
            raise Http404 from exc
    request.session[ACTING_SESSION_KEY] = acting
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)  # e.g. the contract that needs this identity (issue 13 item 5)
    if acting == "personal":
        return redirect("console")
    return _back(acting)


def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """The page an invitation link opens: register or sign in, then accept."""
    try:
        found = invitations.invitation_for(token)
    except NotFound as exc:
        raise Http404 from exc
    if request.method == "POST" and request.user.is_authenticated:
        try:
            member = invitations.accept_invitation(actor=signed_in_user(request), token=token)
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            request.session[ACTING_SESSION_KEY] = member.enterprise_id
            messages.success(request, _("Welcome to %(name)s.") % {"name": found.enterprise.name})
            return _back(member.enterprise_id)
    return render(
        request,
        "enterprises/invitation.html",
        {
            "invitation": found,
            "masked": mask_address(found.address),
            "here": request.get_full_path(),
        },
    )


def sandbox_bank(request: HttpRequest) -> HttpResponse:
    """The sandbox bank's counter: pay PortSign from a corporate account (reverse deposit)."""
    if not settings.SANDBOX:
        raise Http404
    if request.method == "POST":
        data = request.POST
        try:
            deposits.make_sandbox_payment(
                from_account=data.get("from_account", ""),
                from_name=data.get("from_name", ""),
                amount=data.get("amount", ""),
                reference=data.get("reference", ""),
            )
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("The transfer was made."))
        return redirect("sandbox_bank")
    return render(request, "sandbox/bank.html", {"platform_account": PLATFORM_ACCOUNT})


# -- departments (issue 16 point 9) -------------------------------------------------------------


def _departments_page(enterprise_id: str) -> str:
    return reverse("enterprises:departments", args=[enterprise_id])


@login_required
@require_GET
def department_list(request: HttpRequest, enterprise_id: str) -> HttpResponse:
    """Every member sees the departments; member managers create, rename, move and delete
    them and say who belongs (the same domain functions as the API)."""
    user = signed_in_user(request)
    try:
        membership = membership_of(user=user, enterprise_id=enterprise_id, include_expired=True)
    except NotFound as exc:
        raise Http404 from exc
    enterprise = membership.enterprise
    rows = list(departments.departments_of(actor=user, enterprise_id=enterprise.id))
    return render(
        request,
        "enterprises/departments.html",
        {
            "active": "enterprise",
            "enterprise": enterprise,
            "can_manage": enterprise.status != EnterpriseStatus.EXPIRED
            and Permission.MANAGE_MEMBERS in membership.role.permissions,
            "departments": rows,
            "members": members.members_of(actor=user, enterprise_id=enterprise.id),
        },
    )


def _department_action(
    call: Callable[..., object], *, fields: tuple[str, ...], done: Promise
) -> Callable[..., HttpResponse]:
    """A departments-page form passing its POST *fields* (and URL ids) to a domain function,
    then back to the departments page."""

    @login_required
    @require_POST
    def view(request: HttpRequest, enterprise_id: str, **ids: str) -> HttpResponse:
        values = {name: request.POST.get(name, "") for name in fields}
        return run_action(
            request,
            lambda: call(
                actor=signed_in_user(request), enterprise_id=enterprise_id, **ids, **values
            ),
            str(done),
            _departments_page(enterprise_id),
        )

    return view


department_create = _department_action(
    departments.create_department,
    fields=("name", "parent_id"),
    done=gettext_lazy("The department was created."),
)
department_update = _department_action(
    departments.update_department,
    fields=("name", "parent_id"),
    done=gettext_lazy("The department was saved."),
)
department_delete = _department_action(
    departments.delete_department, fields=(), done=gettext_lazy("The department was deleted.")
)
department_member_add = _department_action(
    departments.add_member,
    fields=("member_id",),
    done=gettext_lazy("The member was added to the department."),
)
department_member_remove = _department_action(
    departments.remove_member,
    fields=(),
    done=gettext_lazy("The member was taken out of the department."),
)
