"""代理报关委托 pages (issue 15 point 3): the acting enterprise's entrustments, given (as the
consignor, 经营单位) and taken (as the customs broker, 报关企业); a new entrustment signed with
an operator card; each entrustment's facts, goods, history and signed PDF, with 确认 / 拒绝 /
撤销 by state and side; and the consignor's 自动确认 with its legal-person card.

Same domain functions as the API (`entrustments_api`): every refusal comes back as the domain's
message on the page, next to its field where it names one, and an entrustment of another
enterprise is a 404 page. The enterprise is the session's acting enterprise, as on the
agreement pages (a card session acts for the card's); any active member reads its
entrustments, as the domain allows.

The counterpart of a new entrustment: a consignor finds the broker with `brokers.search`; a
broker names the consignor by its USCC, looked up among verified enterprises (kept simple: no
name search, as a broker knows its client's USCC).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from portsign.accounts.backends import signed_in_user
from portsign.accounts.models import User
from portsign.common.errors import DomainError, Forbidden, NotFound
from portsign.common.paging import page_from_query
from portsign.contracts.domain import documents
from portsign.enterprises.models import Enterprise, EnterpriseStatus, Membership
from portsign.enterprises.views import ACTING_SESSION_KEY
from portsign.eport.domain import (
    agreements,
    auto_confirmations,
    brokers,
    districts,
    entrustments,
    filings,
)
from portsign.eport.domain.card_sign_in import acting_card, card_refusal
from portsign.eport.domain.entrustment_documents import GOODS_FIELDS, TERMS, TERMS_TITLE
from portsign.eport.domain.entrustment_goods import CURRENCIES, MAX_ROWS
from portsign.eport.enums import EntrustmentSide, EntrustmentStatus
from portsign.eport.models import Card, Entrustment
from portsign.seals.models import Seal, SealStatus

PAGE_SIZE = 20
S = EntrustmentStatus
# EntrustmentEvent.action → its words in the history (lazy: read in each request's language).
ACTIONS = {
    "create": pgettext_lazy("entrustment action", "Created and signed by the initiator"),
    "confirm": pgettext_lazy("entrustment action", "Confirmed by the other side"),
    "refuse": pgettext_lazy("entrustment action", "Refused by the other side"),
    "revoke": pgettext_lazy("entrustment action", "Revoked"),
    "expire": pgettext_lazy("entrustment action", "Expired at the end of its validity"),
}
DECISIONS = ("confirm", "refuse", "revoke")
# The fields of the new-entrustment form a refusal may name (besides goods[i].key).
_NEW_FIELDS = {"district", "valid_until", "accept_terms", "pin", "goods"}


def _pages(total: int) -> list[int]:
    return list(range(1, min(50, (total + PAGE_SIZE - 1) // PAGE_SIZE) + 1))


def _acting_enterprise(request: HttpRequest, user: User) -> Enterprise | None:
    """The session's acting enterprise, for any of its active members (anyone else: 404); None
    while acting personally."""
    enterprise_id = str(request.session.get(ACTING_SESSION_KEY, "personal"))
    if enterprise_id == "personal":
        return None
    membership = (
        Membership.objects.select_related("enterprise")
        .filter(user=user, enterprise_id=enterprise_id, is_active=True)
        .first()
    )
    if membership is None:
        raise Http404
    return membership.enterprise


def _visible(request: HttpRequest, user: User, entrustment_id: str) -> tuple[Entrustment, str]:
    try:
        return entrustments.visible(user, entrustment_id, acting_card(request))
    except NotFound as exc:
        raise Http404 from exc


def _card_refusal(
    request: HttpRequest, user: User, enterprise: Enterprise, acting: Card | None
) -> DomainError | None:
    """Why this session may not sign entrustments for *enterprise* (None: it may, subject to
    the district the card's permission is scoped to, which the act checks)."""
    return card_refusal(
        request, user, acting, lambda: entrustments.signing_card(user, acting, enterprise)
    )


def _status_choices() -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in S.choices]


def _side_choices() -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in EntrustmentSide.choices]


def _side_label(side: str) -> str:
    return str(EntrustmentSide(side).label)


# -- 委托书查询 ----------------------------------------------------------------------------------


def _row(entrustment: Entrustment, enterprise_id: str) -> dict[str, Any]:
    mine = (
        EntrustmentSide.CONSIGNOR
        if entrustment.consignor_id == enterprise_id
        else EntrustmentSide.BROKER
    )
    counterpart = entrustment.broker if mine == EntrustmentSide.CONSIGNOR else entrustment.consignor
    return {
        "e": entrustment,
        "counterpart": counterpart,
        "side": mine,
        "side_label": _side_label(mine),
        "initiator_label": _side_label(entrustment.initiator),
    }


@login_required
@require_GET
def entrustment_list(request: HttpRequest) -> HttpResponse:
    """The acting enterprise's entrustments, newest first, by role, status, number and the
    counterpart's name."""
    user, acting = signed_in_user(request), acting_card(request)
    filters = {
        key: request.GET.get(key, "").strip() for key in ("role", "status", "number", "counterpart")
    }
    context: dict[str, Any] = {
        "active": "eport",
        "statuses": _status_choices(),
        "roles": _side_choices(),
        "filters": filters,
        "values": request.GET,
        "session_card": acting,
    }
    enterprise = _acting_enterprise(request, user)
    if enterprise is None:
        return render(request, "eport/entrustments.html", context)
    try:
        page = page_from_query(request)
        rows = entrustments.listed(
            user,
            entrustments.Filters(
                enterprise.id,
                role=filters["role"],
                status=filters["status"],
                number=filters["number"],
                counterpart=filters["counterpart"],
            ),
        )
        items, total = filings.paginate(rows, page, PAGE_SIZE)
    except NotFound as exc:
        raise Http404 from exc
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("eport:entrustments")
    context.update(
        {
            "enterprise": enterprise,
            "rows": [_row(e, enterprise.id) for e in items],
            "total": total,
            "page": page,
            "pages": _pages(total),
            "card_refusal": _card_refusal(request, user, enterprise, acting),
        }
    )
    return render(request, "eport/entrustments.html", context)


# -- 新建委托 ----------------------------------------------------------------------------------


def _role(enterprise: Enterprise, raw: str) -> str:
    """The side the acting enterprise initiates as: a registered broker as the broker unless it
    asks to entrust as a consignor; any other enterprise as the consignor."""
    if not brokers.is_broker(enterprise.id):
        return EntrustmentSide.CONSIGNOR
    return EntrustmentSide.CONSIGNOR if raw == EntrustmentSide.CONSIGNOR else EntrustmentSide.BROKER


def _broker_party(broker: Any) -> dict[str, Any]:
    return {
        "id": broker.enterprise_id,
        "name": broker.enterprise.name,
        "codes": [
            (_("Customs registration code"), broker.customs_code),
            (_("Organization code"), broker.organization_code),
        ],
    }


def _consignor_party(enterprise: Enterprise) -> dict[str, Any]:
    return {
        "id": enterprise.id,
        "name": enterprise.name,
        "codes": [(_("Unified social credit code"), enterprise.uscc)],
    }


def _verified(**where: str) -> list[Enterprise]:
    return list(Enterprise.objects.filter(status=EnterpriseStatus.VERIFIED, **where)[:1])


def _search(role: str, query: str, own: Enterprise) -> list[dict[str, Any]]:
    """Step A: brokers for a consignor (by code or name); for a broker, the consignor whose USCC
    it typed, among verified enterprises."""
    text = query.strip()
    if role == EntrustmentSide.CONSIGNOR:
        return [_broker_party(b) for b in brokers.search(text) if b.enterprise_id != own.id]
    if not text:
        return []
    return [_consignor_party(e) for e in _verified(uscc=text.upper()) if e.id != own.id]


def _counterpart(role: str, raw: str) -> dict[str, Any] | None:
    """The chosen counterpart, or None (none chosen, or not one any more: choose again)."""
    if not raw:
        return None
    if role == EntrustmentSide.CONSIGNOR:
        try:
            return _broker_party(brokers.registered(raw))
        except NotFound:
            return None
    found = _verified(pk=raw)
    return _consignor_party(found[0]) if found else None


def _row_count(data: QueryDict) -> int:
    raw = data.get("rows", "1")
    count = int(raw) if raw.isdigit() and len(raw) <= 3 else 1
    if "add_row" in data:
        count += 1
    if "remove_row" in data:
        count -= 1
    return max(1, min(MAX_ROWS, count))


def _goods_typed(data: QueryDict, count: int) -> list[dict[str, str]]:
    return [
        {f.key: data.get(f"goods[{i}].{f.key}", "").strip() for f in GOODS_FIELDS}
        for i in range(count)
    ]


def _goods_rows(typed: list[dict[str, str]], errors: dict[str, str]) -> list[dict[str, Any]]:
    """The goods inputs to render, each with its value and the refusal that names it."""
    return [
        {
            "index": i,
            "error": errors.get(f"goods[{i}]", ""),
            "fields": [
                {
                    "key": f.key,
                    "name": f"goods[{i}].{f.key}",
                    "label": f.label,
                    "value": row.get(f.key, ""),
                    "error": errors.get(f"goods[{i}].{f.key}", ""),
                }
                for f in GOODS_FIELDS
            ],
        }
        for i, row in enumerate(typed)
    ]


def _new_error(exc: DomainError) -> dict[str, Any]:
    fields = {
        k: str(v)
        for k, v in exc.fields.items()
        if isinstance(k, str) and (k in _NEW_FIELDS or k.startswith("goods["))
    }
    if not fields and exc.code in ("agreement_required", "card_permission_missing"):
        fields["district"] = str(exc.message)
    if not fields and exc.code.startswith(("card_", "pin_")):  # the card itself (locked…)
        fields["pin"] = str(exc.message)
    return {
        "error": str(exc.message),
        "code": exc.code,
        "remaining": exc.fields.get("remaining"),
        "field_errors": fields,
    }


def _valid_until(raw: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        return None


def _create(
    request: HttpRequest, user: User, acting: Card | None, own: Enterprise, role: str, other: str
) -> Entrustment:
    data = request.POST
    code = data.get("district", "").strip()
    try:
        districts.district(code)
    except NotFound as exc:  # named here: the domain's 404s name no field
        message = _("Required.") if not code else str(exc.message)
        raise NotFound(message, code="district_unknown", fields={"district": message}) from exc
    mine_consignor = role == EntrustmentSide.CONSIGNOR
    goods: list[dict[str, object]] = [{**row} for row in _goods_typed(data, _row_count(data))]
    return entrustments.create(
        actor=user,
        acting=acting,
        new=entrustments.NewEntrustment(
            consignor_id=own.id if mine_consignor else other,
            broker_id=other if mine_consignor else own.id,
            district=code,
            valid_until=_valid_until(data.get("valid_until", "")),
            goods=goods,
            accept_terms=data.get("accept_terms") == "on",
            pin=data.get("pin", ""),
        ),
    )


def _created(made: Entrustment, counterpart: dict[str, Any]) -> str:
    if made.status == S.EFFECTIVE:
        return _(
            "Entrustment %(number)s was signed and confirmed at once under %(counterpart)s's "
            "auto-confirmation."
        ) % {"number": made.number, "counterpart": counterpart["name"]}
    return _("Entrustment %(number)s was signed and sent to %(counterpart)s to confirm.") % {
        "number": made.number,
        "counterpart": counterpart["name"],
    }


@login_required
@require_http_methods(["GET", "POST"])
def entrustment_new(request: HttpRequest) -> HttpResponse:
    """新建委托: A. the counterpart; B. the general terms, accepted; C. the 委托书 (district,
    validity) and its goods rows, signed with the operator card's PIN."""
    user, acting = signed_in_user(request), acting_card(request)
    data = request.POST if request.method == "POST" else request.GET
    today = timezone.localdate()
    context: dict[str, Any] = {
        "active": "eport",
        "session_card": acting,
        "terms_title": TERMS_TITLE,
        "terms": TERMS,
        "currencies": CURRENCIES,
        "max_rows": MAX_ROWS,
        "today": today.isoformat(),
        "latest": (today + dt.timedelta(days=settings.ENTRUSTMENT_MAX_DAYS)).isoformat(),
        "field_errors": {},
    }
    enterprise = _acting_enterprise(request, user)
    if enterprise is None:
        return render(request, "eport/entrustment_new.html", context)
    context["enterprise"] = enterprise
    refusal = _card_refusal(request, user, enterprise, acting)
    if refusal is not None:
        context.update(refusal=str(refusal.message), refusal_code=refusal.code)
        status = 403 if request.method == "POST" else 200
        return render(request, "eport/entrustment_new.html", context, status=status)
    role = _role(enterprise, data.get("role", ""))
    context.update(role=role, may_switch=brokers.is_broker(enterprise.id))
    counterpart = _counterpart(role, data.get("counterpart", "").strip())
    if counterpart is None:  # step A
        query = request.GET.get("q", "")
        context.update(q=query, found=_search(role, query, enterprise))
        if request.method == "POST" or data.get("counterpart"):
            context["counterpart_error"] = _("Choose the counterpart again: it was not found.")
        return render(request, "eport/entrustment_new.html", context)
    context["counterpart"] = counterpart
    count = _row_count(data)
    context.update(
        rows=count,
        district=data.get("district", "").strip(),
        valid_until=data.get("valid_until", "").strip(),
        accepted=data.get("accept_terms") == "on",
    )
    adjusting = "add_row" in data or "remove_row" in data
    if request.method == "POST" and not adjusting:
        try:
            made = _create(request, user, acting, enterprise, role, counterpart["id"])
        except DomainError as exc:
            context.update(_new_error(exc))
        else:
            messages.success(request, _created(made, counterpart))
            return redirect("eport:entrustment", entrustment_id=made.id)
    context["goods"] = _goods_rows(_goods_typed(data, count), context["field_errors"])
    return render(request, "eport/entrustment_new.html", context)


# -- one entrustment ---------------------------------------------------------------------------


def _history(entrustment: Entrustment) -> list[dict[str, Any]]:
    return [
        {"event": e, "action": str(ACTIONS.get(e.action, e.action))}
        for e in entrustment.events.select_related("actor")
    ]


def _goods_table(entrustment: Entrustment) -> list[list[str]]:
    return [[str(row.get(f.key, "")) for f in GOODS_FIELDS] for row in entrustment.goods]


def _may(entrustment: Entrustment, side: str) -> dict[str, bool]:
    awaiting = entrustment.status == S.AWAITING_CONFIRMATION
    theirs = side != entrustment.initiator
    return {
        "confirm": awaiting and theirs,
        "refuse": awaiting and theirs,
        "revoke": entrustment.status == S.EFFECTIVE or (awaiting and not theirs),
    }


def _decide(
    request: HttpRequest, user: User, acting: Card | None, entrustment_id: str, action: str
) -> Entrustment:
    if action == "confirm":
        return entrustments.confirm(
            actor=user,
            acting=acting,
            entrustment_id=entrustment_id,
            pin=request.POST.get("pin", ""),
        )
    if action == "refuse":
        return entrustments.refuse(
            actor=user,
            acting=acting,
            entrustment_id=entrustment_id,
            reason=request.POST.get("reason", ""),
        )
    return entrustments.revoke(
        actor=user,
        acting=acting,
        entrustment_id=entrustment_id,
        reason=request.POST.get("reason", ""),
    )


def _decided(action: str, entrustment: Entrustment) -> str:
    words = {
        "confirm": _("Entrustment %(number)s was confirmed and is in effect."),
        "refuse": _("Entrustment %(number)s was refused."),
        "revoke": _("Entrustment %(number)s was revoked."),
    }
    return words[action] % {"number": entrustment.number}


@login_required
@require_http_methods(["GET", "POST"])
def entrustment_detail(request: HttpRequest, entrustment_id: str) -> HttpResponse:
    """An entrustment as either side sees it; POST: 确认 (confirm, with the PIN), 拒绝 (refuse,
    with the reason) or 撤销 (revoke), back to the page with the outcome."""
    user, acting = signed_in_user(request), acting_card(request)
    entrustment, side = _visible(request, user, entrustment_id)
    context: dict[str, Any] = {"active": "eport", "session_card": acting, "field_errors": {}}
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action not in DECISIONS:
            raise Http404
        try:
            done = _decide(request, user, acting, entrustment.id, action)
        except NotFound as exc:
            raise Http404 from exc
        except DomainError as exc:
            context.update(
                failed=action,
                error=str(exc.message),
                code=exc.code,
                remaining=exc.fields.get("remaining"),
                field_errors={k: str(v) for k, v in exc.fields.items() if k in ("pin", "reason")},
                reason=request.POST.get("reason", ""),
            )
            entrustment, side = _visible(request, user, entrustment_id)
        else:
            messages.success(request, _decided(action, done))
            return redirect("eport:entrustment", entrustment_id=entrustment_id)
    mine = entrustments.enterprise_of(entrustment, side)
    context.update(
        {
            "entrustment": entrustment,
            "side": side,
            "side_label": _side_label(side),
            "initiator_label": _side_label(entrustment.initiator),
            "fields": GOODS_FIELDS,
            "goods": _goods_table(entrustment),
            "history": _history(entrustment),
            "may": _may(entrustment, side),
            "card_refusal": _card_refusal(request, user, mine, acting),
            "auto_confirmed": entrustment.auto_confirmation_id is not None,
        }
    )
    return render(request, "eport/entrustment.html", context)


@login_required
@require_GET
def entrustment_document(request: HttpRequest, entrustment_id: str) -> HttpResponse:
    """The entrustment's PDF as signed so far (the contract's current version), for both sides."""
    found, _side = _visible(request, signed_in_user(request), entrustment_id)
    found.contract.refresh_from_db()
    response = HttpResponse(
        documents.read_document(found.contract.current), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'attachment; filename="entrustment-{found.number}.pdf"'
    return response


# -- 自动确认 ----------------------------------------------------------------------------------


def _seals(enterprise: Enterprise) -> list[Seal]:
    return list(
        Seal.objects.filter(
            enterprise=enterprise,
            kind__in=auto_confirmations.SEAL_KINDS,
            status=SealStatus.ACTIVE,
            deleted_at__isnull=True,
        ).order_by("kind", "name")
    )


def _switch(request: HttpRequest, user: User, acting: Card | None, enterprise: Enterprise) -> str:
    action, broker_id = request.POST.get("action", ""), request.POST.get("broker_id", "").strip()
    if action == "on":
        made = auto_confirmations.switch_on(
            actor=user,
            acting=acting,
            consignor_id=enterprise.id,
            broker_id=broker_id,
            seal_id=request.POST.get("seal_id", ""),
        )
        return _("Auto-confirmation is on for %(broker)s, signed with the seal “%(seal)s”.") % {
            "broker": made.broker.enterprise.name,
            "seal": made.seal.name,
        }
    if action != "off":
        raise Http404
    broker = brokers.registered(broker_id)
    auto_confirmations.switch_off(
        actor=user, acting=acting, consignor_id=enterprise.id, broker_id=broker_id
    )
    return _("Auto-confirmation is off for %(broker)s.") % {"broker": broker.enterprise.name}


def _is_legal_card_session(user: User, enterprise: Enterprise, acting: Card | None) -> bool:
    try:
        agreements.require_legal_person_card(user, enterprise, acting)
    except Forbidden:
        return False
    return True


@login_required
@require_http_methods(["GET", "POST"])
def auto_confirm(request: HttpRequest) -> HttpResponse:
    """自动确认: the consignor's standing authorizations; switched on for a broker (with an
    official or contract seal) and off again in a session of the legal-person card."""
    user, acting = signed_in_user(request), acting_card(request)
    context: dict[str, Any] = {"active": "eport", "session_card": acting}
    enterprise = _acting_enterprise(request, user)
    if enterprise is None:
        return render(request, "eport/entrustment_auto.html", context)
    try:
        rows = auto_confirmations.of_consignor(actor=user, consignor_id=enterprise.id)
    except NotFound as exc:  # members who do not manage the enterprise
        raise Http404 from exc
    if request.method == "POST":
        try:
            messages.success(request, _switch(request, user, acting, enterprise))
        except DomainError as exc:  # an unregistered broker too: NotFound names it
            messages.error(request, str(exc.message))
        return redirect("eport:entrustment_auto")
    legal = _is_legal_card_session(user, enterprise, acting)
    query = request.GET.get("q", "")
    live = {row.broker_id for row in rows if row.revoked_at is None}
    found = [b for b in brokers.search(query) if b.enterprise_id != enterprise.id] if legal else []
    context.update(
        {
            "enterprise": enterprise,
            "rows": rows,
            "legal_card_session": legal,
            "q": query,
            "found": [{**_broker_party(b), "live": b.enterprise_id in live} for b in found],
            "seals": _seals(enterprise) if legal else [],
        }
    )
    return render(request, "eport/entrustment_auto.html", context)
