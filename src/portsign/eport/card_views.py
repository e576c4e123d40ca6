"""E-Port card pages (issue 14): card sign-in, the holder's cards and PIN, the enterprise's cards
with their lifecycle and permissions, and the office's card workspace.

Same domain functions as the API (`cards_api`); every refusal comes back as the domain's
message on the page, and another enterprise's card is a 404 page.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as django_login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from portsign.accounts.backends import signed_in_user
from portsign.accounts.models import User
from portsign.common.errors import DomainError, Invalid, NotFound, RateLimited
from portsign.common.middleware import client_ip
from portsign.common.paging import page_from_query
from portsign.enterprises.enums import Permission
from portsign.enterprises.models import Enterprise, Membership
from portsign.enterprises.views import ACTING_SESSION_KEY
from portsign.eport import views
from portsign.eport.card_schemas import masked
from portsign.eport.domain import (
    authorities,
    card_lifecycle,
    card_permissions,
    card_pins,
    card_sign_in,
    cards,
)
from portsign.eport.domain.card_sign_in import acting_card
from portsign.eport.enums import (
    CardAction,
    CardKind,
    CardMedium,
    CardStatus,
    FilingKind,
    OperatorStatus,
)
from portsign.eport.models import Card, Filing, Operator
from portsign.pki import login_certificates

PAGE_SIZE = 20
BACKEND = "portsign.accounts.backends.AccountBackend"
_SEPARATORS = re.compile(r"[\s,，;；、]+")


def _not_found(call: Callable[[], Card]) -> Card:
    try:
        return call()
    except NotFound as exc:
        raise Http404 from exc


def _acting_enterprise(request: HttpRequest) -> str:
    return str(request.session.get(ACTING_SESSION_KEY, "personal"))


def _pages(total: int) -> list[int]:
    return list(range(1, min(50, (total + PAGE_SIZE - 1) // PAGE_SIZE) + 1))


def _statuses() -> list[tuple[str, str]]:
    return [
        *((value, str(label)) for value, label in CardStatus.choices),
        ("locked", _("Locked (too many wrong PINs)")),
        ("expired", _("Expired")),
    ]


# -- the E-Port page with what a card session adds ---------------------------------------------


def index(request: HttpRequest) -> HttpResponse:
    """The E-Port page (`views.index`) with the card the session was opened with and the
    subsystems it may open, greyed out with the reason where it may not (read by index.html
    from the request: the page's view builds the rest of its context)."""
    card = acting_card(request) if request.user.is_authenticated else None
    official = {s.code: s.official for s in card_permissions.CATALOGUE}
    subsystems = [
        {
            "code": s.code,
            "label": s.label,
            "official": official[s.code],
            "enabled": s.enabled,
            "reason": s.reason,
            "granted": [str(a["label"]) for a in s.actions if a["granted"]],
        }
        for s in (card_permissions.subsystems_for(card) if card is not None else [])
    ]
    request.eport_card = card  # type: ignore[attr-defined]
    request.eport_subsystems = subsystems  # type: ignore[attr-defined]
    member = _member_only(request)
    if member is not None:  # views.index would refuse them the filings and redirect to itself
        user = signed_in_user(request)
        return render(
            request,
            "eport/index.html",
            {
                "active": "eport",
                "reviewer": bool(authorities.reviewing(user)),
                "member_enterprise": member,
            },
        )
    return views.index(request)


def _member_only(request: HttpRequest) -> Enterprise | None:
    """The acting enterprise when the signed-in person is a member who does not manage it (an
    operator signed in with their card): its filings are not theirs to see."""
    enterprise_id = _acting_enterprise(request)
    if not request.user.is_authenticated or enterprise_id == "personal":
        return None
    membership = (
        Membership.objects.select_related("role", "enterprise")
        .filter(enterprise_id=enterprise_id, user=signed_in_user(request), is_active=True)
        .first()
    )
    if membership is None or Permission.MANAGE_ENTERPRISE in membership.role.permissions:
        return None
    return membership.enterprise


# -- card sign-in -------------------------------------------------------------------------------


def _embedded_reader() -> bool:
    return "softhsm" in str(settings.CARD_PKCS11_MODULE).lower()


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    """插入IC卡/UKey 并输入口令: the platform's card reader signs the sign-in challenge with the
    card key; the session then acts for the card's enterprise with the card's role."""
    context: dict[str, Any] = {
        "number": request.POST.get("number", request.GET.get("number", "")).strip(),
        "embedded": _embedded_reader(),
    }
    status = 200
    if request.method == "POST":
        try:
            card_sign_in.limit_sign_ins(client_ip(request))
            user, issued = card_sign_in.sign_in_with_card(
                number=context["number"], pin=request.POST.get("pin", ""), host=request.get_host()
            )
        except DomainError as exc:
            context.update(
                error=str(exc.message),
                code=exc.code,
                remaining=exc.fields.get("remaining"),
                field_errors={k: str(v) for k, v in exc.fields.items() if k in ("pin", "number")},
            )
            status = 429 if isinstance(exc, RateLimited) else 200
        else:
            card = card_sign_in.card_of_certificate(issued)
            django_login(request, user, backend=BACKEND)
            login_certificates.remember_sign_in(issued, session=request.session)
            if card is not None:
                request.session[ACTING_SESSION_KEY] = card.enterprise_id
                messages.success(
                    request,
                    _("Signed in with the %(kind)s %(number)s for %(enterprise)s.")
                    % {
                        "kind": card.get_kind_display(),
                        "number": card.number,
                        "enterprise": card.enterprise.name,
                    },
                )
            return redirect("eport:index")
    return render(request, "eport/card_sign_in.html", context, status=status)


# -- the holder's cards and PIN -----------------------------------------------------------------


def _pin_state(card: Card) -> tuple[str, str]:
    """(code, words) of the card's PIN as the platform sees it."""
    if card.pin_locked:
        return "locked", _("Locked")
    if card.pin_must_change:
        return "initial", _("Initial PIN 88888888, to be changed")
    if card.pin_failures:
        return "failures", _("%(n)d wrong in a row") % {"n": card.pin_failures}
    return "set", _("Changed by the holder")


def _row(card: Card) -> dict[str, Any]:
    code, words = _pin_state(card)
    return {
        "card": card,
        "pin_state": code,
        "pin_words": words,
        "expired": cards.expired(card),
        "id_number": masked(card.holder_id_number),
    }


@login_required
def my_cards(request: HttpRequest) -> HttpResponse:
    """持卡人: the cards the signed-in person holds, their status and PIN state."""
    user = signed_in_user(request)
    held = list(cards.visible_cards(user).filter(holder=user).order_by("number"))
    rows = [_row(c) for c in held]
    return render(
        request,
        "eport/card_mine.html",
        {
            "active": "eport",
            "rows": rows,
            "must_change": [r["card"] for r in rows if _usable_but_initial(r["card"])],
            "session_card": acting_card(request),
        },
    )


def _usable_but_initial(card: Card) -> bool:
    return card.status == CardStatus.ACTIVE and card.pin_must_change and not card.pin_locked


@login_required
@require_http_methods(["GET", "POST"])
def change_pin(request: HttpRequest, card_id: str) -> HttpResponse:
    """The holder changes the card's PIN (first of all the initial 88888888)."""
    user = signed_in_user(request)
    card = _not_found(lambda: card_pins.held_card(user, card_id))
    context: dict[str, Any] = {"active": "eport", "card": card, "tries": settings.CARD_PIN_TRIES}
    if request.method == "POST":
        pin, new_pin = request.POST.get("pin", ""), request.POST.get("new_pin", "")
        try:
            if new_pin != request.POST.get("new_pin2", ""):
                message = _("The two new PINs differ.")
                raise Invalid(message, code="pin_mismatch", fields={"new_pin2": message})
            card_pins.limit_pin_changes(user, card_id)
            card_pins.change_pin(actor=user, card_id=card_id, pin=pin, new_pin=new_pin)
        except NotFound as exc:
            raise Http404 from exc
        except DomainError as exc:
            context.update(
                error=str(exc.message),
                remaining=exc.fields.get("remaining"),
                field_errors={
                    k: str(v) for k, v in exc.fields.items() if k in ("pin", "new_pin", "new_pin2")
                },
            )
            card.refresh_from_db()
        else:
            messages.success(
                request, _("The PIN of card %(number)s was changed.") % {"number": card.number}
            )
            return redirect("eport:my_cards")
    context["pin_state"], context["pin_words"] = _pin_state(card)
    return render(request, "eport/card_pin.html", context)


# -- the enterprise's cards -----------------------------------------------------------------------


def _date(raw: str) -> dt.date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError as exc:
        message = _("Enter dates as YYYY-MM-DD.")
        raise Invalid(message, code="date_invalid") from exc


def _filters(request: HttpRequest, enterprise_id: str = "") -> cards.CardFilters:
    get = request.GET
    return cards.CardFilters(
        enterprise_id=enterprise_id,
        number=get.get("number", "").strip(),
        holder_name=get.get("holder_name", "").strip(),
        id_number=get.get("id_number", "").strip(),
        kind=get.get("kind", "") if get.get("kind", "") in CardKind.values else "",
        status=get.get("status", "") if get.get("status", "") in dict(_statuses()) else "",
        expires_from=_date(get.get("expires_from", "")),
        expires_to=_date(get.get("expires_to", "")),
    )


def _query_context(request: HttpRequest) -> dict[str, Any]:
    return {
        "values": request.GET,
        "kinds": CardKind.choices,
        "statuses": _statuses(),
    }


@login_required
def enterprise_cards(request: HttpRequest) -> HttpResponse:
    """The acting enterprise's cards (综合查询 over them) and the card session, if any."""
    user, enterprise_id = signed_in_user(request), _acting_enterprise(request)
    context: dict[str, Any] = {
        "active": "eport",
        "session_card": acting_card(request),
        **_query_context(request),
    }
    if enterprise_id == "personal":
        return render(request, "eport/cards.html", context)
    enterprise = Enterprise.objects.filter(pk=enterprise_id).first()
    if enterprise is None:
        raise Http404
    try:
        page = page_from_query(request)
        rows = cards.search(actor=user, filters=_filters(request, enterprise_id))
        items, total = cards.page_of(rows, page, PAGE_SIZE)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("eport:cards")
    context.update(
        {
            "enterprise": enterprise,
            "rows": [_row(c) for c in items],
            "total": total,
            "page": page,
            "pages": _pages(total),
            "missing": [FilingKind(k).label for k in cards.missing_onboarding(enterprise)],
        }
    )
    return render(request, "eport/cards.html", context)


# -- one card: its facts, history and the moves the viewer may make -----------------------------


def _may_manage(user: User, card: Card, session_card: Card | None) -> bool:
    try:
        card_lifecycle.authorise(user, card, session_card)
    except DomainError:
        return False
    return True


def _confirmations(card: Card) -> dict[str, str]:
    n = {"number": card.number}
    return {
        CardAction.REPORT_LOSS: _(
            "Report card %(number)s lost? Its certificate is put on hold at once: the card can "
            "no longer sign in or sign until the loss report is cancelled."
        )
        % n,
        CardAction.CANCEL_LOSS: _(
            "Cancel the loss report of card %(number)s? Its certificate is released and the card "
            "can be used again."
        )
        % n,
        CardAction.FREEZE: _(
            "Freeze card %(number)s? Its certificate is put on hold until the card is unfrozen."
        )
        % n,
        CardAction.UNFREEZE: _(
            "Unfreeze card %(number)s? Its certificate is released and the card can be used again."
        )
        % n,
        CardAction.CANCEL: _(
            "Cancel card %(number)s? This is final: its certificate is revoked and the card can "
            "never be used again."
        )
        % n,
        CardAction.EXTEND: _(
            "Extend card %(number)s? A new certificate valid for %(years)d years is issued on "
            "the same card key; the PIN is reset to 88888888 and must be changed again."
        )
        % {**n, "years": settings.CARD_YEARS},
        CardAction.UNLOCK: _(
            "Unlock card %(number)s? Its PIN is reset to 88888888 and must be changed before the "
            "card is used."
        )
        % n,
        CardAction.REPLACE: _(
            "Replace card %(number)s with a new card? The old card is cancelled and its "
            "certificate revoked; the new card has a new number and the PIN 88888888."
        )
        % n,
    }


def _buttons() -> dict[str, str]:
    return {
        CardAction.REPORT_LOSS: _("Report lost"),
        CardAction.CANCEL_LOSS: _("Cancel the loss report"),
        CardAction.FREEZE: _("Freeze"),
        CardAction.UNFREEZE: _("Unfreeze"),
        CardAction.CANCEL: _("Cancel the card"),
        CardAction.EXTEND: _("Extend"),
        CardAction.UNLOCK: _("Unlock"),
        CardAction.REPLACE: _("Replace"),
    }


def _moves(card: Card) -> list[dict[str, Any]]:
    """The lifecycle moves possible from the card's state, with their confirmations."""
    if card.status == CardStatus.CANCELLED:
        return []
    by_status = {
        CardStatus.ACTIVE: [CardAction.REPORT_LOSS, CardAction.FREEZE, CardAction.EXTEND],
        CardStatus.LOST: [CardAction.CANCEL_LOSS],
        CardStatus.FROZEN: [CardAction.UNFREEZE],
    }
    actions = list(by_status.get(CardStatus(card.status), []))
    if card.pin_locked:
        actions.append(CardAction.UNLOCK)
    actions += [CardAction.REPLACE, CardAction.CANCEL]
    confirm, label = _confirmations(card), _buttons()
    return [
        {"action": str(a), "label": label[a], "confirm": confirm[a], "danger": a == "cancel"}
        for a in actions
    ]


def _permission_filing(card: Card) -> Filing | None:
    return (
        Filing.objects.filter(
            enterprise=card.enterprise,
            kind=FilingKind.CARD_PERMISSIONS,
            data__card_number=card.number,
        )
        .order_by("-created_at")
        .first()
    )


def _catalogue(card: Card, chosen: set[str]) -> list[dict[str, Any]]:
    return [
        {
            "code": s.code,
            "official": s.official,
            "label": str(s.label),
            "actions": [
                {
                    "code": f"{s.code}.{a.code}",
                    "official": a.official,
                    "label": str(a.label),
                    "checked": f"{s.code}.{a.code}" in chosen,
                }
                for a in s.actions
            ],
        }
        for s in card_permissions.CATALOGUE
    ]


def _detail_context(
    request: HttpRequest, card: Card, *, office: bool, chosen: set[str] | None = None
) -> dict[str, Any]:
    user, session_card = signed_in_user(request), acting_card(request)
    granted = set(card_permissions.granted(card))
    may_act = (
        cards.is_office_reviewer(user, card.enterprise)
        if office
        else card.kind == CardKind.OPERATOR and _may_manage(user, card, session_card)
    )
    if office and card.kind == CardKind.OPERATOR:
        may_act = False  # the enterprise's legal-person card manages its operator cards
    code, words = _pin_state(card)
    return {
        "active": "eport_reviews" if office else "eport",
        "office": office,
        "card": card,
        "expired": cards.expired(card),
        "id_number": masked(card.holder_id_number),
        "pin_state": code,
        "pin_words": words,
        "history": card.events.select_related("actor"),
        "certificates": card.certificates.select_related("certificate").order_by("created_at"),
        "session_card": session_card,
        "may_act": may_act,
        "moves": _moves(card) if may_act else [],
        "may_receive": not office
        and card.mailed_at is not None
        and card.received_at is None
        and cards.may_confirm_receipt(user, card),
        "may_mail": office
        and card.received_at is None
        and cards.is_office_reviewer(user, card.enterprise),
        "may_set_permissions": not office
        and may_act
        and card.kind == CardKind.OPERATOR
        and card.status != CardStatus.CANCELLED,
        "catalogue": _catalogue(card, granted if chosen is None else chosen),
        "granted": [
            (s, [a for a in s["actions"] if a["code"] in granted])
            for s in _catalogue(card, granted)
        ],
        "districts": ", ".join(card_permissions.districts_of(card)),
        "permission_filing": _permission_filing(card) if card.kind == CardKind.OPERATOR else None,
        "replaced_by": Card.objects.filter(replaces=card).first(),
        "act_url": reverse("eport:office_card_act" if office else "eport:card_act", args=[card.id]),
    }


@login_required
@require_http_methods(["GET", "POST"])
def card_detail(request: HttpRequest, card_id: str) -> HttpResponse:
    """A card as its enterprise or holder sees it; POST: the permission editor of an operator
    card (a filing to the office, applied when approved)."""
    user = signed_in_user(request)
    card = _not_found(lambda: cards.visible_card(user, card_id))
    chosen: set[str] | None = None
    extra: dict[str, Any] = {}
    if request.method == "POST":
        chosen = set(request.POST.getlist("permissions"))
        districts = request.POST.get("districts", "")
        try:
            filing = card_permissions.request_change(
                actor=user,
                card_id=card_id,
                permissions=sorted(chosen),
                districts=[d for d in _SEPARATORS.split(districts) if d],
                acting=acting_card(request),
            )
        except NotFound as exc:
            raise Http404 from exc
        except DomainError as exc:
            messages.error(request, str(exc.message))
            extra = {
                "districts_value": districts,
                "field_errors": {k: str(v) for k, v in exc.fields.items()},
            }
        else:
            messages.success(
                request,
                _("The permission change was declared to the office: %(status)s.")
                % {"status": filing.get_status_display()},
            )
            return redirect(reverse("eport:card", args=[card_id]) + "#permissions")
        card = _not_found(lambda: cards.visible_card(user, card_id))
    context = _detail_context(request, card, office=False, chosen=chosen)
    context.setdefault("districts_value", context["districts"])
    context.update(extra)
    return render(request, "eport/card.html", context)


def _done(action: str, card: Card) -> str:
    """What the page says after a move."""
    n = {"number": card.number}
    if action == CardAction.EXTEND:
        date = timezone.localdate(card.certificate.not_after).isoformat()
        return _(
            "Card %(number)s was extended until %(date)s; its PIN is 88888888 again and must be "
            "changed."
        ) % {**n, "date": date}
    done = {
        CardAction.REPORT_LOSS: _("Card %(number)s was reported lost; its certificate is on hold."),
        CardAction.CANCEL_LOSS: _(
            "The loss report of card %(number)s was cancelled; the card is in use again."
        ),
        CardAction.FREEZE: _("Card %(number)s was frozen; its certificate is on hold."),
        CardAction.UNFREEZE: _("Card %(number)s was unfrozen; the card is in use again."),
        CardAction.CANCEL: _("Card %(number)s was cancelled; its certificate is revoked."),
        CardAction.UNLOCK: _(
            "Card %(number)s was unlocked; its PIN is 88888888 again and must be changed."
        ),
        CardAction.RECEIVE: _("Receipt of card %(number)s was confirmed."),
    }
    return done[CardAction(action)] % n


def _perform(request: HttpRequest, card_id: str, action: str) -> Card:
    user, session_card = signed_in_user(request), acting_card(request)
    if action in card_lifecycle.MOVES:
        lost_for_good = action == CardAction.CANCEL and request.POST.get("lost_for_good") == "on"
        return card_lifecycle.act(
            actor=user,
            card_id=card_id,
            action=action,
            acting=session_card,
            lost_for_good=lost_for_good,
        )
    if action == CardAction.EXTEND:
        return card_lifecycle.extend(actor=user, card_id=card_id, acting=session_card)
    if action == CardAction.UNLOCK:
        return card_lifecycle.unlock(actor=user, card_id=card_id, acting=session_card)
    if action == CardAction.REPLACE:
        return card_lifecycle.replace(actor=user, card_id=card_id, acting=session_card)
    if action == CardAction.RECEIVE:
        return cards.confirm_receipt(actor=user, card_id=card_id)
    raise Http404


@login_required
@require_POST
def act(request: HttpRequest, card_id: str, office: bool = False) -> HttpResponse:
    """One lifecycle move (or 确认收到) of a card; back to the card's page with the outcome."""
    page = "eport:office_card" if office else "eport:card"
    action = request.POST.get("action", "")
    try:
        card = _perform(request, card_id, action)
    except NotFound as exc:
        raise Http404 from exc
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect(page, card_id=card_id)
    if action == CardAction.REPLACE:
        old = card.replaces
        messages.success(
            request,
            _("Card %(number)s was replaced by card %(new)s (PIN 88888888).")
            % {"number": old.number if old else "", "new": card.number},
        )
        return redirect(page, card_id=card.id)
    messages.success(request, _done(action, card))
    return redirect(page, card_id=card_id)


# -- the office's card workspace ------------------------------------------------------------------


def _reviewer(request: HttpRequest) -> User:
    user = signed_in_user(request)
    if not authorities.reviewing(user):
        raise Http404
    return user


@login_required
def office_cards(request: HttpRequest) -> HttpResponse:
    """综合查询 of the cards of the enterprises the reviewer's offices serve, and the cards
    expiring within the notice period."""
    user = _reviewer(request)
    tab = "expiring" if request.GET.get("tab") == "expiring" else "query"
    context: dict[str, Any] = {
        "active": "eport_reviews",
        "tab": tab,
        "notice_days": settings.CARD_EXPIRY_NOTICE_DAYS,
        **_query_context(request),
    }
    try:
        page = page_from_query(request)
        if tab == "expiring":
            visible = cards.visible_cards(user).values("id")
            rows = cards.expiring().filter(id__in=visible).order_by("certificate__not_after")
        else:
            rows = cards.search(actor=user, filters=_filters(request))
        items, total = cards.page_of(rows, page, PAGE_SIZE)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        items, total, page = [], 0, 1
    context.update(
        {"rows": [_row(c) for c in items], "total": total, "page": page, "pages": _pages(total)}
    )
    return render(request, "eport/office_cards.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def office_issue(request: HttpRequest) -> HttpResponse:
    """Issue a card: the enterprise by its USCC, the holder (its legal person or one of its
    registered operators), the medium."""
    user = _reviewer(request)
    uscc = (request.POST.get("uscc") or request.GET.get("uscc") or "").strip().upper()
    context: dict[str, Any] = {
        "active": "eport_reviews",
        "years": settings.CARD_YEARS,
        "uscc": uscc,
        "media": CardMedium.choices,
        "medium": request.POST.get("medium", CardMedium.UKEY),
        "holder": request.POST.get("holder", cards.LEGAL_PERSON),
    }
    enterprise = Enterprise.objects.filter(uscc=uscc).first() if uscc else None
    if enterprise is not None and not cards.is_office_reviewer(user, enterprise):
        enterprise = None
    if uscc and enterprise is None:
        context["error"] = _("None of the enterprises your office serves has this code.")
    if enterprise is not None:
        if request.method == "POST":
            try:
                card = cards.issue(
                    actor=user,
                    enterprise_id=enterprise.id,
                    holder=context["holder"],
                    medium=context["medium"],
                )
            except DomainError as exc:
                context["error"] = str(exc.message)
            else:
                messages.success(
                    request,
                    _("The %(kind)s %(number)s was issued to %(holder)s (PIN 88888888).")
                    % {
                        "kind": card.get_kind_display(),
                        "number": card.number,
                        "holder": card.holder_name,
                    },
                )
                return redirect("eport:office_card", card_id=card.id)
        live = cards.live_cards(enterprise)
        with_card = set(live.exclude(operator=None).values_list("operator_id", flat=True))
        context.update(
            {
                "enterprise": enterprise,
                "missing": [FilingKind(k).label for k in cards.missing_onboarding(enterprise)],
                "legal_card": cards.legal_person_card(enterprise),
                "operators": [
                    (o, o.id in with_card)
                    for o in Operator.objects.filter(
                        enterprise=enterprise, status=OperatorStatus.ACTIVE
                    ).order_by("number")
                ],
            }
        )
    return render(request, "eport/office_card_issue.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def office_card(request: HttpRequest, card_id: str) -> HttpResponse:
    """A card as the office sees it: its moves (legal-person cards) and its mailing (POST)."""
    user = _reviewer(request)
    card = _not_found(lambda: cards.visible_card(user, card_id))
    mail = {
        key: request.POST.get(key, "")
        for key in ("tracking_number", "recipient", "phone", "address")
    }
    field_errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            cards.record_mailing(actor=user, card_id=card_id, **mail)
        except NotFound as exc:
            raise Http404 from exc
        except DomainError as exc:
            messages.error(request, str(exc.message))
            field_errors = {k: str(v) for k, v in exc.fields.items()}
        else:
            messages.success(
                request,
                _("The mailing of card %(number)s was recorded (EMS %(tracking)s).")
                % {"number": card.number, "tracking": mail["tracking_number"].strip().upper()},
            )
            return redirect("eport:office_card", card_id=card_id)
        card = _not_found(lambda: cards.visible_card(user, card_id))
    elif card.mailed_at is not None:
        mail = {
            "tracking_number": card.tracking_number,
            "recipient": card.mail_recipient,
            "phone": card.mail_phone,
            "address": card.mail_address,
        }
    context = _detail_context(request, card, office=True)
    context.update({"mail": mail, "field_errors": field_errors})
    return render(request, "eport/office_card.html", context)
