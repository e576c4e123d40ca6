"""Contract console pages (合同管理): boxes, a new draft, a contract's page. Same domain
functions as the API; the acting identity is the header switcher's."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portsign.accounts.backends import signed_in_user
from portsign.accounts.models import User
from portsign.common.errors import DomainError, NotFound
from portsign.common.forms import run_action
from portsign.common.models import AuditEvent
from portsign.contracts.domain import (
    approvals,
    batch_signing,
    boxes,
    catalogue,
    downloads,
    fills,
    followup,
    signing,
    voiding,
)
from portsign.contracts.domain import contracts as domain
from portsign.contracts.domain import palette as palettes
from portsign.contracts.domain.trail import describe as describe_trail
from portsign.contracts.enums import Box, ContractStatus, PartyStatus
from portsign.contracts.models import ContractType, Party
from portsign.enterprises.models import Membership
from portsign.enterprises.views import ACTING_SESSION_KEY
from portsign.pki.appearances import date_text
from portsign.seals.domain.seals import seals_of


def _acting(request: HttpRequest) -> str:
    return str(request.session.get(ACTING_SESSION_KEY, "personal"))


def _date(raw: str, *, end_of_day: bool = False) -> dt.datetime | None:
    """A date from a form as a local moment: its start, or (for deadlines) its last second."""
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        return None
    moment = dt.time(23, 59, 59) if end_of_day else dt.time()
    return timezone.make_aware(dt.datetime.combine(day, moment))


def _day_after(raw: str) -> dt.datetime | None:
    """A form's "至" date, which includes its own day: the start of the next one (the box
    filters' upper bounds are exclusive, as the API's are; issue 13 item 7)."""
    start = _date(raw)
    return start + dt.timedelta(days=1) if start else None


def _box_of(query: QueryDict) -> str:
    box = query.get("box", Box.TO_SIGN)
    return box if box in Box.values else Box.TO_SIGN


def _box_filters(query: QueryDict) -> boxes.Filters:
    """The box page's search and filters; a status that is not one is ignored, as is a date
    that is not one (the form's own select and date inputs never send such)."""
    status = query.get("status", "")
    return boxes.Filters(
        q=query.get("q", ""),
        status=status if status in ContractStatus.values else "",
        contract_type=query.get("type", ""),
        party=query.get("party", ""),
        sent_from=_date(query.get("sent_from", "")),
        sent_to=_day_after(query.get("sent_to", "")),
    )


def _box_context(request: HttpRequest, page: boxes.Page, box: str) -> dict[str, Any]:
    """What the box page shows besides its rows: the tabs with their counts, which rows the
    user may sign now, the filters kept in the paging links."""
    user, acting = signed_in_user(request), _acting(request)
    try:
        counts = boxes.box_counts(actor=user, acting_as=acting)
    except DomainError:
        counts = {}
    kept = request.GET.copy()
    kept.pop("page", None)
    return {
        "active": "contracts",
        "box": box,
        "boxes": [(key, label, counts.get(key)) for key, label in Box.choices],
        "page": page,
        "last_page": max(1, -(-page.total // page.page_size)),
        "query": request.GET,
        "kept": kept.urlencode(),
        "status_choices": ContractStatus.choices,
        "statuses": dict(ContractStatus.choices),
        "signable": boxes.signable(actor=user, acting_as=acting, items=page.items)
        if page.items
        else set(),
        "zip_max": downloads.MAX_ZIP_CONTRACTS,
        # The boxes that may hold completed contracts offer to download them all.
        "zip_all": box in (Box.COMPLETED, Box.SENT, Box.EXPIRING),
        "zip_rows": any(c.status == ContractStatus.COMPLETED for c in page.items),
    }


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    user, acting = signed_in_user(request), _acting(request)
    query, box = request.GET, _box_of(request.GET)
    page_number = int(query["page"]) if query.get("page", "").isdigit() else 1
    try:
        page = boxes.list_box(
            actor=user,
            box=box,
            acting_as=acting,
            filters=_box_filters(query),
            page=max(page_number, 1),
        )
    except NotFound:
        request.session[ACTING_SESSION_KEY] = "personal"
        return redirect("contracts:index")
    except DomainError as exc:
        messages.error(request, str(exc.message))
        page = boxes.Page(items=[], total=0, page=1, page_size=20)
    return render(request, "contracts/index.html", _box_context(request, page, box))


@login_required
@require_http_methods(["GET", "POST"])
def download_zip(request: HttpRequest) -> HttpResponse | FileResponse:
    """下载所选 (POST, the ticked rows' ids) or every completed contract of the box and its
    filters (GET, the box page's query): one zip of their signed PDFs, at most
    MAX_ZIP_CONTRACTS. An id the user may not see is a 404 for the whole request."""
    user, acting = signed_in_user(request), _acting(request)
    back = f"{reverse('contracts:index')}?{request.GET.urlencode()}"
    try:
        if request.method == "POST":
            kept = QueryDict(request.POST.get("back", "")).urlencode()  # the box page's query
            back = f"{reverse('contracts:index')}?{kept}"
            chosen = downloads.chosen(actor=user, ids=request.POST.getlist("ids"))
        else:
            chosen = downloads.completed_in_box(
                actor=user,
                box=_box_of(request.GET),
                acting_as=acting,
                filters=_box_filters(request.GET),
            )
    except NotFound as exc:
        raise Http404 from exc
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect(back)
    response = FileResponse(downloads.build_zip(chosen), content_type="application/zip")
    response["Content-Disposition"] = downloads.attachment(downloads.zip_name())
    return response


@login_required
def new(request: HttpRequest) -> HttpResponse:
    user, acting = signed_in_user(request), _acting(request)
    types = ContractType.objects.filter(enterprise_id=acting) if acting != "personal" else []
    if request.method == "POST":
        data = request.POST
        try:
            contract = domain.create_draft(
                actor=user,
                upload=request.FILES.get("file"),
                conversion=request.POST.get("conversion", ""),
                title=data.get("title", ""),
                acting_as=acting,
                contract_type=data.get("type", ""),
                deadline=_date(data.get("deadline", ""), end_of_day=True),
                ordering=data.get("ordering", "sequential"),
            )
        except NotFound as exc:
            raise Http404 from exc
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("The draft was saved. Add the signing parties."))
            return redirect("contracts:detail", contract_id=contract.id)
    return render(
        request,
        "contracts/new.html",
        {"active": "contracts", "types": types, "values": request.POST},
    )


@login_required
@require_GET
def detail(request: HttpRequest, contract_id: str) -> HttpResponse:
    user = signed_in_user(request)
    try:
        contract = domain.visible_contract(actor=user, contract_id=contract_id)
    except NotFound as exc:
        raise Http404 from exc
    parties = list(contract.parties.select_related("user", "enterprise"))
    acting = _acting(request)
    if request.GET.get("signed") == "1" and any(
        p.status == PartyStatus.SIGNED and (p.enterprise_id == acting or p.user_id == user.id)
        for p in parties
    ):  # signing.js comes back here after a signature (issue 13 item 9)
        messages.success(request, _("Signed. Your signature is now in the contract."))
    elif request.GET.get("signed") == "act":  # an act that did not finish the party's part
        messages.success(
            request,
            _("Signed. Add more marks in another act, or press Finish signing when you are done."),
        )
    mine = next(
        (
            p
            for p in parties
            if p.status == PartyStatus.PENDING
            and (
                (acting == "personal" and p.kind == "person" and p.user_id == user.id)
                or (acting != "personal" and p.enterprise_id == acting)
            )
        ),
        None,
    )
    trail = describe_trail(
        list(
            AuditEvent.objects.filter(object_type="contract", object_id=contract.id).order_by("seq")
        )
    )
    switch_to = None if mine else _other_identity(user, acting, parties)
    my_fill = fills.pending_fill(mine) if mine else None
    # A party with fields fills them in first; its palette comes once every party has.
    may_sign = mine is not None and my_fill is None
    # The party is known here: a member who may approve but not apply seals sees an empty
    # palette (and the approvals), where the API's palette answers who may not sign.
    entries = (
        palettes.entries(actor=user, party=mine, acting_as=acting) if mine and may_sign else []
    )
    usable = [entry.seal for entry in entries]
    palette = [
        {
            "id": entry.seal.id,
            "name": entry.label,
            "kind": entry.seal.kind,
            "required": entry.required,
            # Shown at print size on an A4-wide page; the signer may resize.
            "width": f"{min(0.6, float(entry.seal.width_mm) / 210):.4f}",
            "ratio": f"{float(entry.seal.height_mm) / float(entry.seal.width_mm):.4f}",
        }
        for entry in entries
    ]
    return render(
        request,
        "contracts/detail.html",
        {
            "active": "contracts",
            "contract": contract,
            "parties": parties,
            "is_sender": contract.sender_id == user.id,
            # The sender, or an administrator of the sending enterprise (issue 16 point 4).
            "may_follow": domain.may_follow(user, contract),
            "my_party": mine,
            "my_fill": my_fill,
            "fill_fields": fills.fields_of(my_fill) if my_fill else [],
            "waiting_for_fills": fills.waiting_for(contract)
            if contract.status == ContractStatus.SIGNING
            else [],
            "acting": acting,
            "pages": range(1, contract.current.pages + 1),
            "attachments": contract.attachments.select_related("document"),
            "trail": trail,
            "switch_to": switch_to,
            "palette": palette,
            "today": timezone.localdate().isoformat(),
            "today_stamp": date_text(timezone.localdate().isoformat()),
            "approvals": approvals.approvals_of(actor=user, contract_id=contract.id),
            "needs_approval": [
                seal
                for seal in usable
                if mine
                and mine.kind == "enterprise"
                and approvals.needs_approval(contract, mine, seal)
            ],
            "may_approve": acting != "personal"
            and any(p.enterprise_id == acting for p in parties)
            and approvals.may_approve(actor=user, enterprise_id=acting),
            "statements": contract.void_statements.all(),
        },
    )


def _other_identity(user: User, acting: str, parties: list[Party]) -> tuple[str, str] | None:
    """The identity (value, name) in which *user* has a pending party of this contract, when it
    is not the one they act as now: the page offers the switch (issue 13 item 5)."""
    mine = set(
        Membership.objects.filter(user=user, is_active=True).values_list("enterprise_id", flat=True)
    )
    for party in parties:
        if party.status != PartyStatus.PENDING:
            continue
        if party.kind == "person" and party.user_id == user.id and acting != "personal":
            return "personal", str(_("personal account"))
        if party.enterprise_id in mine and party.enterprise_id != acting and party.enterprise:
            return party.enterprise_id, party.enterprise.name
    return None


def _back(contract_id: str) -> str:
    return reverse("contracts:detail", args=[contract_id])


@login_required
@require_POST
def fill(request: HttpRequest, contract_id: str) -> HttpResponse:
    """A party fills in its template fields; every problem is listed in the message."""
    user = signed_in_user(request)
    values: dict[str, Any] = {
        key.removeprefix("field-"): value
        for key, value in request.POST.items()
        if key.startswith("field-")
    }
    try:
        fills.fill(actor=user, contract_id=contract_id, acting_as=_acting(request), values=values)
    except NotFound as exc:
        raise Http404 from exc
    except DomainError as exc:
        problems = list(dict.fromkeys(str(v) for v in exc.fields.values()))
        messages.error(request, " ".join(problems) if len(problems) > 1 else str(exc.message))
    else:
        messages.success(request, _("Your fields were filled in and drawn into the contract."))
    return redirect(_back(contract_id))


@login_required
@require_POST
def add_party(request: HttpRequest, contract_id: str) -> HttpResponse:
    data = request.POST
    return run_action(
        request,
        lambda: domain.add_party(
            actor=signed_in_user(request),
            contract_id=contract_id,
            kind=data.get("kind", ""),
            account=data.get("account", ""),
            enterprise_name=data.get("enterprise_name", ""),
            needs_seal=data.get("needs_seal") == "on",
            needs_legal_rep_seal=data.get("needs_legal_rep_seal") == "on",
            needs_signature=data.get("needs_signature") == "on",
        ),
        _("The party was added."),
        _back(contract_id),
    )


@login_required
@require_POST
def remove_party(request: HttpRequest, contract_id: str, party_id: str) -> HttpResponse:
    return run_action(
        request,
        lambda: domain.remove_party(
            actor=signed_in_user(request), contract_id=contract_id, party_id=party_id
        ),
        _("The party was removed."),
        _back(contract_id),
    )


@login_required
@require_POST
def attach(request: HttpRequest, contract_id: str) -> HttpResponse:
    return run_action(
        request,
        lambda: domain.add_attachment(
            actor=signed_in_user(request),
            contract_id=contract_id,
            upload=request.FILES.get("file"),
            conversion=request.POST.get("conversion", ""),
            name=request.POST.get("name", ""),
        ),
        _("The attachment was added."),
        _back(contract_id),
    )


@login_required
@require_POST
def send(request: HttpRequest, contract_id: str) -> HttpResponse:
    return run_action(
        request,
        lambda: domain.send(actor=signed_in_user(request), contract_id=contract_id),
        _("The contract was sent for signing."),
        _back(contract_id),
    )


@login_required
@require_POST
def revoke(request: HttpRequest, contract_id: str) -> HttpResponse:
    return run_action(
        request,
        lambda: domain.revoke(
            actor=signed_in_user(request),
            contract_id=contract_id,
            reason=request.POST.get("reason", ""),
        ),
        _("The contract was revoked."),
        _back(contract_id),
    )


@login_required
@require_POST
def reject(request: HttpRequest, contract_id: str) -> HttpResponse:
    return run_action(
        request,
        lambda: domain.reject(
            actor=signed_in_user(request),
            contract_id=contract_id,
            acting_as=_acting(request),
            reason=request.POST.get("reason", ""),
        ),
        _("You rejected the contract."),
        _back(contract_id),
    )


@login_required
@require_http_methods(["GET", "POST"])
def confirm_intent(request: HttpRequest, intent_id: str) -> HttpResponse:
    """The page a phone opens from the signing QR code: the signer checks and confirms."""
    user = signed_in_user(request)
    try:
        intent = signing.open_intent(actor=user, intent_id=intent_id)
    except NotFound as exc:
        raise Http404 from exc
    if request.method == "POST":
        try:
            signing.confirm_intent(actor=user, intent_id=intent_id)
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("Confirmed. Finish signing on the computer."))
        return redirect("contracts:confirm", intent_id=intent_id)
    return render(
        request,
        "contracts/confirm.html",
        {
            "active": "contracts",
            "intent": intent,
            "expired": intent.expires_at <= timezone.now(),
            "marks": len(intent.marks),
            "pages": sorted({m["page"] for m in intent.marks}),
        },
    )


@login_required
@require_POST
def remind(request: HttpRequest, contract_id: str) -> HttpResponse:
    return run_action(
        request,
        lambda: followup.remind(actor=signed_in_user(request), contract_id=contract_id),
        _("The parties were reminded."),
        _back(contract_id),
    )


@login_required
@require_POST
def extend(request: HttpRequest, contract_id: str) -> HttpResponse:
    deadline = _date(request.POST.get("deadline", ""), end_of_day=True)
    if deadline is None:
        messages.error(request, _("Choose the new deadline."))
        return redirect(_back(contract_id))
    return run_action(
        request,
        lambda: followup.extend_deadline(
            actor=signed_in_user(request), contract_id=contract_id, deadline=deadline
        ),
        _("The deadline was changed."),
        _back(contract_id),
    )


@login_required
@require_POST
def void(request: HttpRequest, contract_id: str) -> HttpResponse:
    user = signed_in_user(request)
    try:
        statement = voiding.propose_void(
            actor=user,
            contract_id=contract_id,
            acting_as=_acting(request),
            reason=request.POST.get("reason", ""),
        )
    except NotFound as exc:
        raise Http404 from exc
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect(_back(contract_id))
    messages.success(request, _("The void statement was sent to every party."))
    return redirect(_back(statement.id))


@login_required
@require_POST
def ask_approval(request: HttpRequest, contract_id: str) -> HttpResponse:
    return run_action(
        request,
        lambda: approvals.request_approval(
            actor=signed_in_user(request),
            contract_id=contract_id,
            acting_as=_acting(request),
            seal_id=request.POST.get("seal_id", ""),
            note=request.POST.get("note", ""),
        ),
        _("Your request was sent to the approvers."),
        _back(contract_id),
    )


@login_required
@require_POST
def decide_approval(request: HttpRequest, contract_id: str, approval_id: str) -> HttpResponse:
    approve = request.POST.get("decision") == "approve"
    return run_action(
        request,
        lambda: approvals.decide(
            actor=signed_in_user(request),
            approval_id=approval_id,
            approve=approve,
            comment=request.POST.get("comment", ""),
        ),
        _("Approved.") if approve else _("Refused."),
        _back(contract_id),
    )


@login_required
@require_http_methods(["GET", "POST"])
def catalogue_page(request: HttpRequest) -> HttpResponse:
    """合同设置: the acting enterprise's contract types and business fields."""
    user, acting = signed_in_user(request), _acting(request)
    if acting == "personal":
        messages.error(request, _("Contract types and business fields belong to an enterprise."))
        return redirect("contracts:index")
    back = reverse("contracts:catalogue")
    if request.method == "POST":
        data, what = request.POST, request.POST.get("what", "")
        actions: dict[str, Callable[[], Any]] = {
            "add_type": lambda: catalogue.add_contract_type(
                actor=user, enterprise_id=acting, name=data.get("name", "")
            ),
            "delete_type": lambda: catalogue.delete_contract_type(
                actor=user, type_id=data.get("id", "")
            ),
            "add_field": lambda: catalogue.add_business_field(
                actor=user,
                enterprise_id=acting,
                key=data.get("key", ""),
                label=data.get("label", ""),
                kind=data.get("kind", "text"),
                required=data.get("required") == "on",
            ),
            "delete_field": lambda: catalogue.delete_business_field(
                actor=user, field_id=data.get("id", "")
            ),
            "add_rule": lambda: approvals.add_rule(
                actor=user,
                enterprise_id=acting,
                seal_id=data.get("seal_id", ""),
                contract_type=data.get("contract_type", ""),
            ),
            "delete_rule": lambda: approvals.delete_rule(actor=user, rule_id=data.get("id", "")),
        }
        if what not in actions:
            raise Http404
        return run_action(request, actions[what], _("Saved."), back)
    try:
        types = list(catalogue.contract_types(actor=user, enterprise_id=acting))
        fields = list(catalogue.business_fields(actor=user, enterprise_id=acting))
        rules = list(approvals.rules_of(actor=user, enterprise_id=acting))
        seals = list(seals_of(actor=user, enterprise_id=acting))
    except NotFound as exc:
        raise Http404 from exc
    return render(
        request,
        "contracts/catalogue.html",
        {"active": "contracts", "types": types, "fields": fields, "rules": rules, "seals": seals},
    )


@login_required
@require_POST
def finish(request: HttpRequest, contract_id: str) -> HttpResponse:
    """完成签署: end the party's part after signing in several acts (SPEC D5)."""
    try:
        signing.finish(
            actor=signed_in_user(request), contract_id=contract_id, acting_as=_acting(request)
        )
    except NotFound as exc:
        raise Http404 from exc
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Your party has finished signing."))
    return redirect("contracts:detail", contract_id=contract_id)


@login_required
@require_POST
def batch(request: HttpRequest) -> HttpResponse:
    """批量签署: the contracts ticked in 待我签署, one seal for all, one code (SPEC D5)."""
    user, acting = signed_in_user(request), _acting(request)
    chosen = list(dict.fromkeys(request.POST.getlist("sign_ids")))[: batch_signing.MAX_CONTRACTS]
    if not chosen:
        messages.error(request, _("Tick the contracts to sign together first."))
        return redirect(f"{reverse('contracts:index')}?box=to_sign")
    try:
        contracts = [domain.visible_contract(actor=user, contract_id=i) for i in chosen]
    except NotFound as exc:
        raise Http404 from exc
    return render(
        request,
        "contracts/batch.html",
        {
            "active": "contracts",
            "contracts": contracts,
            "acting": acting,
            "seals": batch_signing.seals_offered(actor=user, acting_as=acting),
        },
    )
