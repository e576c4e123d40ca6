"""入网备案 and every other office transaction (E1–E3): one model, one state machine.

暂存 draft → 申报 declared → 审核通过 approved / 退回 returned (with an opinion) → edited (a
draft again) → declared again. Drafts may be deleted; declared and approved filings are read
only. Every move goes through `_move`: the transition table, the history row, the audit event
and a 409 for an illegal move. The enterprise side acts through its main administrator, who
stands for the legal-person card holder until cards exist (part 2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portsign.accounts.models import User
from portsign.common import cn_ids, uploads
from portsign.common.audit import record_event
from portsign.common.errors import Conflict, Forbidden, Invalid, NotFound
from portsign.common.paging import check_page
from portsign.enterprises.enums import EnterpriseStatus, Permission
from portsign.enterprises.models import Enterprise
from portsign.enterprises.rules import enterprise_for, require_main_admin
from portsign.eport.domain import authorities, cards, forms
from portsign.eport.enums import (
    ONBOARDING,
    AuthorityKind,
    CardStatus,
    DocumentType,
    FilingKind,
    FilingStatus,
    OperatorStatus,
)
from portsign.eport.models import Card, Filing, FilingDocument, FilingEvent, Operator

S = FilingStatus
# (status, action) → the status after it. Anything else is a 409.
TRANSITIONS: dict[tuple[str, str], str] = {
    (S.DRAFT, "edit"): S.DRAFT,
    (S.RETURNED, "edit"): S.DRAFT,
    (S.DRAFT, "declare"): S.DECLARED,
    (S.RETURNED, "declare"): S.DECLARED,
    (S.DECLARED, "approve"): S.APPROVED,
    (S.DECLARED, "return"): S.RETURNED,
}
IN_FLIGHT = (S.DRAFT, S.DECLARED)
MAX_DOCUMENTS = 20
MAX_DOCUMENT_MB = 10


# -- the choke point ---------------------------------------------------------------------------


def move(
    filing: Filing,
    action: str,
    *,
    actor: User | None,
    opinion: str = "",
    auto: bool = False,
    unit: str = "",
) -> None:
    """Apply *action* to a locked *filing*: status, history, audit. 409 if not allowed now."""
    after = next_status(filing, action)
    now = timezone.now()
    filing.status = after
    if action == "declare":
        filing.declared_at = now
        filing.decided_at, filing.decided_by, filing.opinion, filing.auto_approved = (
            None,
            None,
            "",
            False,
        )
    elif action in ("approve", "return"):
        filing.decided_at, filing.decided_by = now, actor
        filing.opinion, filing.auto_approved = opinion, auto
    filing.save()
    FilingEvent.objects.create(
        filing=filing,
        actor=actor,
        action=_EVENT_NAMES[action],
        status=after,
        opinion=opinion,
        auto=auto,
        unit=unit,
    )
    record_event(
        action=f"eport.filing.{_EVENT_NAMES[action]}",
        actor_id=actor.id if actor else "",
        acting_as=filing.enterprise_id,
        object_type="eport_filing",
        object_id=filing.id,
        data={"kind": filing.kind, "status": after, **({"auto": "true"} if auto else {})},
    )


def next_status(filing: Filing, action: str) -> str:
    """The status *action* leads to from the filing's, or the 409 that says why not."""
    after = TRANSITIONS.get((filing.status, action))
    if after is None:
        raise Conflict(
            _("This filing is %(status)s; it cannot be %(action)s now.")
            % {"status": filing.get_status_display(), "action": _ACTION_WORDS[action]},
            code="filing_state",
        )
    return after


_EVENT_NAMES = {
    "edit": "edited",
    "declare": "declared",
    "approve": "approved",
    "return": "returned",
}
_ACTION_WORDS = {  # lazy: read in the language of each request, not of the import
    "edit": gettext_lazy("edited"),
    "declare": gettext_lazy("declared"),
    "approve": gettext_lazy("approved"),
    "return": gettext_lazy("returned"),
}


def addressed_kind(kind: str) -> str:
    """The kind of authority a filing goes to: the brokers association for a broker's
    registration, the E-Port office for everything else."""
    return (
        AuthorityKind.ASSOCIATION
        if kind == FilingKind.BROKER_REGISTRATION
        else AuthorityKind.OFFICE
    )


# Kinds an enterprise fills in; a card-permission filing is made from the card's page.
TYPED_KINDS = tuple(k for k in FilingKind.values if k != FilingKind.CARD_PERMISSIONS)


# -- the enterprise side -----------------------------------------------------------------------


def office_enterprise(
    actor: User, enterprise_id: str, *, write: bool, acting: Card | None = None
) -> Enterprise:
    """The enterprise, for its members who manage enterprise information (404 for anyone else);
    writes by the holder of its legal-person card signed in with it (*acting*), or, until it
    has one (onboarding comes first), by the main administrator in the card's place."""
    enterprise = enterprise_for(
        user=actor, enterprise_id=enterprise_id, permission=Permission.MANAGE_ENTERPRISE
    )
    if write:
        _require_legal_person(actor, enterprise, acting)
        if enterprise.status != EnterpriseStatus.VERIFIED:
            raise Conflict(
                _("Finish the enterprise's verification on PortSign before filing with E-Port."),
                code="enterprise_not_verified",
            )
    return enterprise


def _require_legal_person(actor: User, enterprise: Enterprise, acting: Card | None) -> None:
    legal = cards.legal_person_card(enterprise)
    if legal is None:
        require_main_admin(user=actor, enterprise=enterprise)
    elif acting is None or acting.id != legal.id or acting.holder_id != actor.id:
        raise Forbidden(
            _("Sign in with the enterprise's legal-person card to file with E-Port."),
            code="legal_person_card_required",
        )


def may_write(actor: User, enterprise: Enterprise, acting: Card | None) -> bool:
    try:
        _require_legal_person(actor, enterprise, acting)
    except Forbidden:
        return False
    return True


def own_filing(
    actor: User,
    filing_id: str,
    *,
    write: bool = False,
    lock: bool = False,
    acting: Card | None = None,
) -> Filing:
    """A filing of an enterprise the actor manages; another enterprise's is not found."""
    rows = Filing.objects.select_related("enterprise", "authority", "operator")
    if lock:
        rows = rows.select_for_update(of=("self",))
    filing = rows.filter(pk=filing_id).first()
    if filing is None:
        raise NotFound()
    office_enterprise(actor, filing.enterprise_id, write=write, acting=acting)
    return filing


def prefill(enterprise: Enterprise) -> dict[str, str]:
    """三证合一 pre-filled from what PortSign verified (the seed's 根据统一社会信用代码反填)."""
    data = {"name": enterprise.name, "uscc": enterprise.uscc}
    if enterprise.legal_rep_name:
        data["legal_person_name"] = enterprise.legal_rep_name
    if enterprise.legal_rep_id_number:
        data["legal_person_id_type"] = "resident_id"
        data["legal_person_id_number"] = enterprise.legal_rep_id_number
    return data


def create(
    *,
    actor: User,
    enterprise_id: str,
    kind: str,
    data: Mapping[str, Any],
    operator_id: str = "",
    acting: Card | None = None,
) -> Filing:
    if kind not in TYPED_KINDS:
        message = _("Choose a filing kind: %(kinds)s.") % {"kinds": ", ".join(TYPED_KINDS)}
        raise Invalid(message, code="filing_kind", fields={"kind": message})
    with transaction.atomic():
        enterprise = office_enterprise(actor, enterprise_id, write=True, acting=acting)
        Enterprise.objects.select_for_update().filter(pk=enterprise.id).first()  # one at a time
        operator = _operator_for(enterprise, kind, operator_id)
        _check_can_open(enterprise, kind, operator)
        given = dict(data)
        if kind == FilingKind.ENTERPRISE_INFO:
            given = {**prefill(enterprise), **{k: v for k, v in given.items() if v}}
        elif kind == FilingKind.ENTERPRISE_INFO_CHANGE:
            given = {**current_info(enterprise), **{k: v for k, v in given.items() if v}}
        elif kind == FilingKind.OPERATOR and operator is not None and not given:
            given = dict(operator.data)
        cleaned = forms.clean(kind, given, complete=False)
        _check_rules(enterprise, kind, cleaned)
        filing = Filing.objects.create(
            enterprise=enterprise,
            kind=kind,
            authority=authorities.addressed_to(enterprise.uscc, addressed_kind(kind)),
            data=cleaned,
            operator=operator,
            created_by=actor,
        )
        FilingEvent.objects.create(filing=filing, actor=actor, action="created", status=S.DRAFT)
        record_event(
            action="eport.filing.created",
            actor_id=actor.id,
            acting_as=enterprise.id,
            object_type="eport_filing",
            object_id=filing.id,
            data={"kind": kind},
        )
    return filing


def update(
    *, actor: User, filing_id: str, data: Mapping[str, Any], acting: Card | None = None
) -> Filing:
    """Replace a draft's or returned filing's form (a returned one becomes a draft again)."""
    with transaction.atomic():
        filing = own_filing(actor, filing_id, write=True, lock=True, acting=acting)
        next_status(filing, "edit")  # before the checks: a declared one is a 409, not a 400
        cleaned = forms.clean(filing.kind, data, complete=False)
        _check_rules(filing.enterprise, filing.kind, cleaned)
        filing.data = cleaned
        move(filing, "edit", actor=actor)
    return filing


def delete(*, actor: User, filing_id: str, acting: Card | None = None) -> None:
    with transaction.atomic():
        filing = own_filing(actor, filing_id, write=True, lock=True, acting=acting)
        if filing.status != S.DRAFT:
            raise Conflict(_("Only a saved draft may be deleted."), code="filing_state")
        record_event(
            action="eport.filing.deleted",
            actor_id=actor.id,
            acting_as=filing.enterprise_id,
            object_type="eport_filing",
            object_id=filing.id,
            data={"kind": filing.kind},
        )
        for document in filing.documents.all():
            document.delete()  # files are content-addressed and may be shared: kept
        filing.delete()


def declare(*, actor: User, filing_id: str, acting: Card | None = None) -> Filing:
    """申报: every required field and rule checked, addressed, and auto-approved if the
    addressed authority says so (its own filings only)."""
    from portsign.eport.domain import reviews  # reviews build on this module

    with transaction.atomic():
        filing = own_filing(actor, filing_id, write=True, lock=True, acting=acting)
        next_status(filing, "declare")  # before the checks: a declared one is a 409
        filing.data = forms.clean(filing.kind, filing.data, complete=True)
        _check_rules(filing.enterprise, filing.kind, filing.data)
        _check_can_declare(filing)
        # Re-addressed on each declaration: an office may have been registered since.
        filing.authority = authorities.addressed_to(
            filing.enterprise.uscc, addressed_kind(filing.kind)
        )
        move(filing, "declare", actor=actor)
        if filing.kind == FilingKind.OPERATOR_DEREGISTRATION and filing.operator:
            Operator.objects.filter(pk=filing.operator.pk).update(
                status=OperatorStatus.DEREGISTERING
            )
        reviews.on_declared(filing)
    return filing


# -- rules -------------------------------------------------------------------------------------


def _operator_for(enterprise: Enterprise, kind: str, operator_id: str) -> Operator | None:
    if kind == FilingKind.OPERATOR_DEREGISTRATION and not operator_id:
        message = _("Choose the operator to deregister.")
        raise Invalid(message, code="operator_required", fields={"operator_id": message})
    if not operator_id:
        return None
    if kind not in (FilingKind.OPERATOR, FilingKind.OPERATOR_DEREGISTRATION):
        message = _("Only operator filings name an operator.")
        raise Invalid(message, code="operator_unexpected", fields={"operator_id": message})
    operator = Operator.objects.filter(pk=operator_id, enterprise=enterprise).first()
    if operator is None:
        raise NotFound(_("This operator was never registered."), code="operator_not_registered")
    return operator


def _check_can_open(enterprise: Enterprise, kind: str, operator: Operator | None) -> None:
    filings = Filing.objects.filter(enterprise=enterprise)
    if kind == FilingKind.BROKER_REGISTRATION:
        if current_info_filing(enterprise) is None:
            raise Conflict(
                _("Register as a customs broker once the enterprise information is approved."),
                code="not_onboarded",
            )
        if filings.filter(kind=kind).exists():
            raise Conflict(
                _("This enterprise already has this filing; open it to edit or follow it."),
                code="filing_exists",
            )
    if kind in ONBOARDING and filings.filter(kind=kind).exists():
        raise Conflict(
            _("This enterprise already has this filing; open it to edit or follow it."),
            code="filing_exists",
        )
    if kind == FilingKind.ENTERPRISE_INFO_CHANGE:
        if current_info_filing(enterprise) is None:
            raise Conflict(
                _("Changes are made to approved enterprise information; it is not approved yet."),
                code="not_onboarded",
            )
        if filings.filter(kind=kind).exclude(status=S.APPROVED).exists():
            raise Conflict(
                _("A change of the enterprise information is already under way."),
                code="filing_exists",
            )
        _refuse_if_in_flight(filings)
    if operator is not None:
        _check_operator_open(filings, kind, operator)


def _refuse_if_in_flight(filings: QuerySet[Filing]) -> None:
    """Seed 001: no 三证合一 change while legal-person or operator data is saved or declared but
    not decided: delete those drafts or wait for their review."""
    busy = filings.filter(
        kind__in=(FilingKind.ENTERPRISE_INFO, FilingKind.OPERATOR), status__in=IN_FLIGHT
    )
    if busy.exists():
        raise Conflict(
            _(
                "Legal-person or operator filings are saved or declared and not yet decided. "
                "Delete those drafts or wait for their review, then change the enterprise "
                "information."
            ),
            code="filings_in_flight",
        )


def _check_operator_open(filings: QuerySet[Filing], kind: str, operator: Operator) -> None:
    if operator.status == OperatorStatus.DEREGISTERED:
        raise Conflict(_("This operator is deregistered."), code="operator_not_registered")
    if operator.status == OperatorStatus.DEREGISTERING:
        raise Conflict(
            _("This operator's deregistration is declared: the operator is read-only."),
            code="operator_read_only",
        )
    same = filings.filter(kind=kind, operator=operator).exclude(status=S.APPROVED)
    if same.exists():
        raise Conflict(_("A filing for this operator is already under way."), code="filing_exists")
    if kind == FilingKind.OPERATOR_DEREGISTRATION and has_active_card(operator):
        raise Conflict(
            _("Void the operator's card before deregistering the operator."),
            code="operator_card_active",
        )


def has_active_card(operator: Operator) -> bool:
    """Whether the operator holds a card that is not cancelled."""
    return operator.cards.exclude(status=CardStatus.CANCELLED).exists()


def _check_can_declare(filing: Filing) -> None:
    if filing.kind == FilingKind.ENTERPRISE_INFO_CHANGE:
        _refuse_if_in_flight(Filing.objects.filter(enterprise=filing.enterprise))
    if filing.operator is not None and filing.kind == FilingKind.OPERATOR:
        operator = Operator.objects.get(pk=filing.operator.pk)
        if operator.status != OperatorStatus.ACTIVE:
            raise Conflict(
                _("This operator's deregistration is declared: the operator is read-only."),
                code="operator_read_only",
            )


def _check_rules(enterprise: Enterprise, kind: str, data: Mapping[str, str]) -> None:
    if kind == FilingKind.OPERATOR:
        _check_not_legal_person(enterprise, data)
    if kind == FilingKind.ENTERPRISE_INFO_CHANGE and "uscc" in data:
        check_same_organization(enterprise, data["uscc"])


def _check_not_legal_person(enterprise: Enterprise, data: Mapping[str, str]) -> None:
    """Seed 001 / EPORT.md §3.1: the legal-person card holder is never also an operator."""
    number = data.get("id_number", "").upper()
    if not number:
        return
    holder = {enterprise.main_admin.id_number.upper(), enterprise.legal_rep_id_number.upper()}
    info = current_info(enterprise)
    holder.add(info.get("legal_person_id_number", "").upper())
    if number in holder - {""}:
        message = _("The legal-person card holder cannot also be an operator.")
        raise Invalid(message, code="operator_is_legal_person", fields={"id_number": message})


def check_same_organization(enterprise: Enterprise, new_uscc: str) -> None:
    """E3: positions 9–17 of the new USCC must equal the enterprise's organization code (its
    former 9-character code if it registered under one, else the one inside its USCC)."""
    info = current_info(enterprise)
    old = (info.get("org_code") or "").replace("-", "").upper() or cn_ids.uscc_org_code(
        info.get("uscc") or enterprise.uscc
    )
    if new_uscc[8:17] != old:
        message = _(
            "Positions 9–17 of the new unified social credit code (%(new)s) differ from the "
            "enterprise's organization code %(old)s. Ask the issuing authority to confirm the "
            "code. If the 18-character code is right, finish business in progress under the "
            "old code, deregister the enterprise and onboard it anew."
        ) % {"new": new_uscc[8:17], "old": old}
        raise Invalid(message, code="uscc_org_code_mismatch", fields={"uscc": message})


def current_info_filing(enterprise: Enterprise) -> Filing | None:
    """The approved 三证合一 in force: the latest approved change, else the original."""
    return (
        Filing.objects.filter(
            enterprise=enterprise,
            kind__in=(FilingKind.ENTERPRISE_INFO, FilingKind.ENTERPRISE_INFO_CHANGE),
            status=S.APPROVED,
        )
        .order_by("-decided_at", "-id")
        .first()
    )


def current_info(enterprise: Enterprise) -> dict[str, str]:
    found = current_info_filing(enterprise)
    return dict(found.data) if found else {}


# -- documents ---------------------------------------------------------------------------------


def add_document(
    *,
    actor: User,
    filing_id: str,
    upload: UploadedFile | None,
    doc_type: str,
    acting: Card | None = None,
) -> FilingDocument:
    if doc_type not in DocumentType.values:
        message = _("Choose a document type.")
        raise Invalid(message, code="document_type", fields={"type": message})
    # Judged before the file is read and stored, and again under the lock: storage may be slow
    # and stays outside the transaction (content-addressed, so a file left by a refusal is
    # harmless and shared by the next identical upload).
    _refuse_adding(own_filing(actor, filing_id, write=True, acting=acting))
    stored = uploads.check_and_store(
        upload,
        folder="eport",
        allowed={"jpeg", "png", "pdf"},
        max_bytes=MAX_DOCUMENT_MB * 2**20,
    )
    with transaction.atomic():
        filing = own_filing(actor, filing_id, write=True, lock=True, acting=acting)
        _refuse_adding(filing)
        document = FilingDocument.objects.create(
            filing=filing,
            type=doc_type,
            name=(getattr(upload, "name", "") or doc_type).strip()[:200],
            path=stored.path,
            sha256=stored.sha256,
            kind=stored.kind,
            size=stored.size,
        )
        record_event(
            action="eport.filing.document_added",
            actor_id=actor.id,
            acting_as=filing.enterprise_id,
            object_type="eport_filing",
            object_id=filing.id,
            data={"type": doc_type, "sha256": stored.sha256},
        )
    return document


def _refuse_adding(filing: Filing) -> None:
    if filing.status not in (S.DRAFT, S.RETURNED):
        raise Conflict(
            _("Documents are added while the filing is a draft or returned."),
            code="filing_state",
        )
    if filing.documents.count() >= MAX_DOCUMENTS:
        raise Conflict(
            _("A filing has at most %(n)d documents.") % {"n": MAX_DOCUMENTS},
            code="too_many_documents",
        )


def remove_document(
    *, actor: User, filing_id: str, document_id: str, acting: Card | None = None
) -> None:
    with transaction.atomic():
        filing = own_filing(actor, filing_id, write=True, lock=True, acting=acting)
        document = filing.documents.filter(pk=document_id).first()
        if document is None:
            raise NotFound()
        if filing.status not in (S.DRAFT, S.RETURNED):
            raise Conflict(
                _("Documents are removed while the filing is a draft or returned."),
                code="filing_state",
            )
        document.delete()


# -- lists -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    items: list[Filing]
    total: int
    page: int
    page_size: int


MAX_PAGE_SIZE = 100


def paginate(rows: QuerySet[Any], page: int, page_size: int) -> tuple[list[Any], int]:
    check_page(page)
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        message = _("Between 1 and %(n)d per page.") % {"n": MAX_PAGE_SIZE}
        raise Invalid(message, code="page_size", fields={"page_size": message})
    total = rows.count()
    return list(rows[(page - 1) * page_size : page * page_size]), total


def list_filings(
    *,
    actor: User,
    enterprise_id: str,
    kind: str = "",
    status: str = "",
    page: int = 1,
    page_size: int = 20,
) -> Page:
    enterprise = office_enterprise(actor, enterprise_id, write=False)
    rows = Filing.objects.filter(enterprise=enterprise).select_related("authority", "operator")
    if kind:
        rows = rows.filter(kind=kind)
    if status:
        rows = rows.filter(status=status)
    items, total = paginate(rows.order_by("-created_at", "-id"), page, page_size)
    return Page(items, total, page, page_size)


def document_bytes(document: FilingDocument) -> bytes:
    with default_storage.open(document.path) as handle:
        data: bytes = handle.read()
    return data
