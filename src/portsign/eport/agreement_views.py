"""通关无纸化三方协议 pages (issue 15 point 2): the enterprise's 三方协议查询 and 三方协议签约
with its legal-person card, each agreement's history, signed PDF and 解约; customs' queue of the
districts it reviews for, with 入库, 审批通过 and 退回.

Same domain functions as the API (`customs_api`): every refusal comes back as the domain's
message on the page, and an agreement the viewer may not see is a 404 page. The enterprise is
the session's acting enterprise, as on the card pages (a card session acts for the card's).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portsign.accounts.backends import signed_in_user
from portsign.accounts.models import User
from portsign.common.errors import DomainError, Forbidden, NotFound
from portsign.common.paging import page_from_query
from portsign.enterprises.models import Enterprise
from portsign.enterprises.views import ACTING_SESSION_KEY
from portsign.eport.domain import agreements, districts, filings
from portsign.eport.domain.agreement_documents import TERMS, TITLE
from portsign.eport.domain.card_sign_in import acting_card, card_refusal
from portsign.eport.enums import LIVE_AGREEMENT, AgreementStatus
from portsign.eport.models import Card, PaperlessAgreement

PAGE_SIZE = 20
# AgreementEvent.action → its words in the history (lazy: read in each request's language).
ACTIONS = {
    "sign": pgettext_lazy("agreement action", "Signed with the legal-person card"),
    "receive": pgettext_lazy("agreement action", "Received by customs"),
    "approve": pgettext_lazy("agreement action", "Approved by customs"),
    "return": pgettext_lazy("agreement action", "Returned by customs"),
    "terminate": pgettext_lazy("agreement action", "Terminated by the enterprise"),
}
CUSTOMS_ACTIONS = ("receive", "approve", "return")


def _pages(total: int) -> list[int]:
    return list(range(1, min(50, (total + PAGE_SIZE - 1) // PAGE_SIZE) + 1))


def _status_filter(request: HttpRequest) -> str:
    return request.GET.get("status", "").strip()


def _acting_enterprise(request: HttpRequest, user: User) -> Enterprise | None:
    """The session's acting enterprise, for a member who manages its E-Port business (anyone
    else: 404); None while acting personally."""
    enterprise_id = str(request.session.get(ACTING_SESSION_KEY, "personal"))
    if enterprise_id == "personal":
        return None
    try:
        return agreements.readable_enterprise(user, enterprise_id)
    except NotFound as exc:
        raise Http404 from exc


def _visible(user: User, agreement_id: str) -> PaperlessAgreement:
    try:
        return agreements.visible_agreement(user, agreement_id)
    except NotFound as exc:
        raise Http404 from exc


def _is_legal_card_session(user: User, enterprise: Enterprise, acting: Card | None) -> bool:
    try:
        agreements.require_legal_person_card(user, enterprise, acting)
    except Forbidden:
        return False
    return True


def _history(agreement: PaperlessAgreement) -> list[dict[str, Any]]:
    return [
        {"event": e, "action": str(ACTIONS.get(e.action, e.action))}
        for e in agreement.events.select_related("actor")
    ]


def _status_choices() -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in AgreementStatus.choices]


# -- the enterprise: 三方协议查询 ------------------------------------------------------------------


@login_required
@require_GET
def enterprise_agreements(request: HttpRequest) -> HttpResponse:
    """三方协议查询: the acting enterprise's agreements, newest first, by status."""
    user, acting = signed_in_user(request), acting_card(request)
    status = _status_filter(request)
    context: dict[str, Any] = {
        "active": "eport",
        "statuses": _status_choices(),
        "status": status,
        "values": request.GET,
        "session_card": acting,
    }
    enterprise = _acting_enterprise(request, user)
    if enterprise is None:
        return render(request, "eport/agreements.html", context)
    try:
        page = page_from_query(request)
        rows = agreements.of_enterprise(actor=user, enterprise_id=enterprise.id, status=status)
        items, total = filings.paginate(rows, page, PAGE_SIZE)
    except NotFound as exc:
        raise Http404 from exc
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("eport:agreements")
    context.update(
        {
            "enterprise": enterprise,
            "rows": items,
            "total": total,
            "page": page,
            "pages": _pages(total),
            "legal_card_session": _is_legal_card_session(user, enterprise, acting),
        }
    )
    return render(request, "eport/agreements.html", context)


@login_required
@require_GET
def agreement_detail(request: HttpRequest, agreement_id: str) -> HttpResponse:
    """An agreement as its enterprise sees it: facts, history, PDF, and 解约 by the card."""
    user, acting = signed_in_user(request), acting_card(request)
    agreement = _visible(user, agreement_id)
    try:
        enterprise = agreements.readable_enterprise(user, agreement.enterprise_id)
    except NotFound as exc:  # a customs reviewer reads it on the customs page
        raise Http404 from exc
    live = agreement.status in LIVE_AGREEMENT
    legal = _is_legal_card_session(user, enterprise, acting)
    return render(
        request,
        "eport/agreement.html",
        {
            "active": "eport",
            "agreement": agreement,
            "history": _history(agreement),
            "live": live,
            "may_terminate": live and legal,
            "session_card": acting,
        },
    )


@login_required
@require_GET
def agreement_document(request: HttpRequest, agreement_id: str) -> HttpResponse:
    """The signed PDF, for the enterprise's managers and the district's customs reviewers."""
    found = _visible(signed_in_user(request), agreement_id)
    response = HttpResponse(agreements.document(found), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="paperless-agreement-{found.district_id}-{found.id}.pdf"'
    )
    return response


@login_required
@require_POST
def terminate(request: HttpRequest, agreement_id: str) -> HttpResponse:
    """三方协议解约 with the legal-person card: no review; back to the agreement."""
    try:
        done = agreements.terminate(
            actor=signed_in_user(request), agreement_id=agreement_id, acting=acting_card(request)
        )
    except NotFound as exc:
        raise Http404 from exc
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("eport:agreement", agreement_id=agreement_id)
    messages.success(
        request,
        _("The paperless agreement for %(district)s was terminated.") % {"district": done.district},
    )
    return redirect("eport:agreement", agreement_id=agreement_id)


# -- the enterprise: 三方协议签约 ------------------------------------------------------------------


def _refusal(
    request: HttpRequest, user: User, enterprise_id: str, acting: Card | None
) -> tuple[Enterprise, DomainError | None]:
    """The enterprise, and why the session may not sign for it (None: it may)."""
    if acting is not None and acting.enterprise_id == enterprise_id:
        try:  # an operator card of the enterprise: say why at once (as agreements.sign does)
            agreements.require_legal_person_card(user, acting.enterprise, acting)
        except Forbidden as exc:
            return acting.enterprise, exc
    try:
        enterprise = agreements.readable_enterprise(user, enterprise_id)
    except NotFound as exc:
        raise Http404 from exc
    return enterprise, card_refusal(
        request,
        user,
        acting,
        lambda: agreements.require_legal_person_card(user, enterprise, acting),
    )


# Codes of the refusals that belong to the district checkboxes (they name no field).
_DISTRICT_CODES = {"district_signed", "district_unassigned", "not_found"}


def _sign_error(exc: DomainError) -> dict[str, Any]:
    fields = {k: str(v) for k, v in exc.fields.items() if k in ("districts", "accept_terms", "pin")}
    if not fields and exc.code in _DISTRICT_CODES:
        fields["districts"] = str(exc.message)
    if not fields:  # the card itself (locked, lost, initial PIN…): next to the PIN
        fields["pin"] = str(exc.message)
    return {
        "error": str(exc.message),
        "code": exc.code,
        "remaining": exc.fields.get("remaining"),
        "field_errors": fields,
    }


@login_required
@require_http_methods(["GET", "POST"])
def sign(request: HttpRequest) -> HttpResponse:
    """三方协议签约: the districts still to sign, the terms, the acceptance and the card's PIN;
    one agreement per district, each signed on the legal-person card and sent to customs."""
    user, acting = signed_in_user(request), acting_card(request)
    context: dict[str, Any] = {
        "active": "eport",
        "title": TITLE,
        "terms": TERMS,
        "session_card": acting,
        "chosen": request.POST.getlist("districts"),
        "accepted": request.POST.get("accept_terms") == "on",
    }
    enterprise_id = str(request.session.get(ACTING_SESSION_KEY, "personal"))
    if enterprise_id == "personal":
        return render(request, "eport/agreement_sign.html", context)
    enterprise, refusal = _refusal(request, user, enterprise_id, acting)
    context["enterprise"] = enterprise
    if refusal is not None:
        context.update(refusal=str(refusal.message), refusal_code=refusal.code)
        status = 403 if request.method == "POST" else 200
        return render(request, "eport/agreement_sign.html", context, status=status)
    if request.method == "POST":
        try:
            made = agreements.sign(
                actor=user,
                enterprise_id=enterprise.id,
                district_codes=context["chosen"],
                accept_terms=context["accepted"],
                pin=request.POST.get("pin", ""),
                acting=acting,
            )
        except DomainError as exc:  # an unknown district too: NotFound names it
            context.update(_sign_error(exc))
        else:
            messages.success(
                request,
                ngettext(
                    "%(n)d paperless agreement was signed and sent to customs: %(districts)s.",
                    "%(n)d paperless agreements were signed and sent to customs: %(districts)s.",
                    len(made),
                )
                % {"n": len(made), "districts": ", ".join(str(a.district) for a in made)},
            )
            return redirect("eport:agreements")
    context["districts"] = agreements.signable_districts(enterprise)
    return render(request, "eport/agreement_sign.html", context)


# -- customs: the queue and the decisions -----------------------------------------------------


def _counts(user: User) -> list[dict[str, Any]]:
    """Every status of the reviewer's agreements, with how many there are (the filter's tabs)."""
    rows = agreements.customs_queue(actor=user).order_by().values("status").annotate(n=Count("id"))
    by_status: dict[str, int] = {row["status"]: row["n"] for row in rows}
    return [
        {"value": "", "label": _("All"), "count": sum(by_status.values())},
        *(
            {"value": value, "label": label, "count": by_status.get(value, 0)}
            for value, label in _status_choices()
        ),
    ]


@login_required
@require_GET
def customs_agreements(request: HttpRequest) -> HttpResponse:
    """The agreements of the direct customs districts the signed-in reviewer acts for, oldest
    first (the work to do), by status."""
    user = signed_in_user(request)
    reviewed = list(districts.reviewed_by(user).order_by("code"))
    status = _status_filter(request)
    context: dict[str, Any] = {
        "active": "eport_reviews",
        "reviewed": reviewed,
        "status": status,
        "values": request.GET,
    }
    if not reviewed:
        return render(request, "eport/customs_agreements.html", context)
    try:
        page = page_from_query(request)
        rows = agreements.customs_queue(actor=user, status=status)
        items, total = filings.paginate(rows, page, PAGE_SIZE)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("eport:customs_agreements")
    context.update(
        {
            "rows": items,
            "total": total,
            "page": page,
            "pages": _pages(total),
            "tabs": _counts(user),
        }
    )
    return render(request, "eport/customs_agreements.html", context)


def _customs_agreement(user: User, agreement_id: str) -> PaperlessAgreement:
    """The agreement, for a reviewer of its district; anyone else (its enterprise too): 404."""
    found = _visible(user, agreement_id)
    if not districts.is_customs_reviewer(user, found.district_id):
        raise Http404
    return found


def _decide(user: User, agreement_id: str, action: str, opinion: str) -> PaperlessAgreement:
    if action == "receive":
        return agreements.receive(actor=user, agreement_id=agreement_id)
    if action == "approve":
        return agreements.approve(actor=user, agreement_id=agreement_id, opinion=opinion)
    return agreements.return_agreement(actor=user, agreement_id=agreement_id, opinion=opinion)


def _decided(action: str, agreement: PaperlessAgreement) -> str:
    words = {
        "receive": _("The agreement of %(enterprise)s for %(district)s was received."),
        "approve": _("The agreement of %(enterprise)s for %(district)s was approved."),
        "return": _("The agreement of %(enterprise)s for %(district)s was returned."),
    }
    return words[action] % {"enterprise": agreement.enterprise.name, "district": agreement.district}


@login_required
@require_http_methods(["GET", "POST"])
def customs_agreement(request: HttpRequest, agreement_id: str) -> HttpResponse:
    """An agreement as its customs sees it; POST: 入库 (receive), 审批通过 (approve, optional
    opinion) or 退回 (return, with the opinion), back to the page with the outcome."""
    user = signed_in_user(request)
    agreement = _customs_agreement(user, agreement_id)
    opinion = request.POST.get("opinion", "")
    field_errors: dict[str, str] = {}
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action not in CUSTOMS_ACTIONS:
            raise Http404
        try:
            done = _decide(user, agreement.id, action, opinion)
        except NotFound as exc:
            raise Http404 from exc
        except DomainError as exc:
            messages.error(request, str(exc.message))
            field_errors = {k: str(v) for k, v in exc.fields.items() if k == "opinion"}
            agreement = _customs_agreement(user, agreement_id)
        else:
            messages.success(request, _decided(action, done))
            return redirect("eport:customs_agreement", agreement_id=agreement_id)
    return render(
        request,
        "eport/customs_agreement.html",
        {
            "active": "eport_reviews",
            "agreement": agreement,
            "history": _history(agreement),
            "opinion": opinion,
            "field_errors": field_errors,
        },
    )
