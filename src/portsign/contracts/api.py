"""Contracts API (API.md "Contracts"). Handlers only translate; rules live in domain/."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from portsign.accounts.backends import signed_in_user
from portsign.accounts.models import User
from portsign.common.api_auth import AUTH
from portsign.common.errors import Invalid
from portsign.common.models import AuditEvent
from portsign.common.schemas import CONVERSION, FILE, TEXT, CountOut, multipart_body
from portsign.contracts.domain import (
    approvals,
    boxes,
    catalogue,
    documents,
    downloads,
    evidence,
    fills,
    followup,
    voiding,
)
from portsign.contracts.domain import contracts as domain
from portsign.contracts.models import (
    ApprovalRule,
    BusinessField,
    Contract,
    Party,
    PartyFill,
    SealApproval,
)
from portsign.contracts.templates_api import (
    CREATE_CONTRACT_OPENAPI,
    SuggestedMarkOut,
    create_from_template,
    with_suggested_marks,
)
from portsign.enterprises.models import Enterprise

router = Router(tags=["contracts"], auth=AUTH)


class FillFieldOut(Schema):
    key: str
    label: str
    kind: str
    required: bool


class FillOut(Schema):
    role: str
    fields: list[FillFieldOut]
    filled_at: dt.datetime | None
    values: dict[str, Any] = Field(description="as drawn into the PDF, once filled in")


class PartyOut(Schema):
    id: str
    order: int
    kind: str
    name: str
    account: str
    status: str = Field(description="waiting | pending | signed | rejected")
    needs_seal: bool
    needs_legal_rep_seal: bool
    needs_signature: bool
    signed_at: dt.datetime | None
    reason: str
    suggested_marks: list[SuggestedMarkOut] = Field(
        default_factory=list, description="where the template suggests this party seals or signs"
    )
    fill: FillOut | None = Field(
        default=None, description="the template fields this party fills in before anyone signs"
    )

    @staticmethod
    def of(party: Party) -> PartyOut:
        if party.kind == "enterprise":
            name = party.enterprise.name if party.enterprise else party.enterprise_name
        else:
            name = party.user.name if party.user else party.account
        return PartyOut(
            id=party.id,
            order=party.position,
            kind=party.kind,
            name=name,
            account=_masked(party.account),
            status=party.status,
            needs_seal=party.needs_seal,
            needs_legal_rep_seal=party.needs_legal_rep_seal,
            needs_signature=party.needs_signature,
            signed_at=party.signed_at,
            reason=party.reason,
        )


def _masked(address: str) -> str:
    from portsign.accounts.domain.codes import mask_address

    return mask_address(address)


class VersionOut(Schema):
    number: int
    kind: str
    sha256: str
    pages: int
    created_at: dt.datetime


class ContractOut(Schema):
    id: str
    number: str = Field(description="for people, e.g. PS-2026-000123")
    title: str
    status: str = Field(description="draft | signing | completed | expired | revoked | rejected")
    type: str | None
    sender: str
    sender_enterprise: str | None
    ordering: str
    deadline: dt.datetime | None
    business_fields: dict[str, str]
    pages: int
    reason: str
    valid_until: dt.date | None
    voids: str | None = Field(None, description="the contract this void statement voids")
    created_at: dt.datetime
    sent_at: dt.datetime | None
    completed_at: dt.datetime | None
    parties: list[PartyOut]
    versions: list[VersionOut] = []

    @staticmethod
    def of(contract: Contract, *, versions: bool = False) -> ContractOut:
        return ContractOut(
            id=contract.id,
            number=contract.number,
            title=contract.title,
            status=contract.status,
            type=contract.contract_type.name if contract.contract_type else None,
            sender=contract.sender.name,
            sender_enterprise=contract.sender_enterprise.name
            if contract.sender_enterprise
            else None,
            ordering=contract.ordering,
            deadline=contract.deadline,
            business_fields=contract.business_fields,
            pages=contract.current.pages,
            reason=contract.reason,
            valid_until=contract.valid_until,
            voids=contract.voids_id,
            created_at=contract.created_at,
            sent_at=contract.sent_at,
            completed_at=contract.completed_at,
            parties=[PartyOut.of(p) for p in contract.parties.all()],
            versions=[
                VersionOut(
                    number=v.number,
                    kind=v.kind,
                    sha256=v.document.sha256,
                    pages=v.document.pages,
                    created_at=v.created_at,
                )
                for v in contract.versions.select_related("document")
            ]
            if versions
            else [],
        )


class PageOut(Schema):
    items: list[ContractOut]
    total: int
    page: int
    page_size: int


class PartyIn(Schema):
    kind: str = Field(description="enterprise | person")
    account: str = Field(description="mobile number or e-mail of the person who signs")
    enterprise_name: str = ""
    order: int | None = None
    needs_seal: bool = True
    needs_legal_rep_seal: bool = False
    needs_signature: bool = False


class ReasonIn(Schema):
    reason: str = ""


class RejectIn(Schema):
    acting_as: str = "personal"
    reason: str


class TrailOut(Schema):
    at: dt.datetime
    actor: str
    acting_as: str
    action: str
    ip: str
    device: str
    detail: dict[str, Any]


def _load(actor: User, contract_id: str) -> Contract:
    contract = domain.visible_contract(actor=actor, contract_id=contract_id)
    return (
        Contract.objects.select_related("sender", "sender_enterprise", "contract_type", "current")
        .prefetch_related("parties__user", "parties__enterprise")
        .get(pk=contract.pk)
    )


def _deadline(raw: str) -> dt.datetime | None:
    if not raw:
        return None
    try:
        return dt.datetime.fromisoformat(raw)
    except ValueError as exc:
        message = _("Use an ISO 8601 date and time, e.g. 2026-12-31T18:00:00+08:00.")
        raise Invalid(message, code="deadline_format", fields={"deadline": message}) from exc


def _date(raw: str) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError as exc:
        message = _("Use a date like 2027-12-31.")
        raise Invalid(message, code="valid_until_format", fields={"valid_until": message}) from exc


def _fields(raw: str) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        message = _("Business fields are a JSON object.")
        raise Invalid(message, code="business_field", fields={"fields": message})
    return value


@router.post(
    "",
    response={201: ContractOut},
    summary="Create a draft from a PDF or Word file, or from a template in one call (JSON)",
    openapi_extra=CREATE_CONTRACT_OPENAPI,
)
def create(request: HttpRequest) -> Status[ContractOut]:
    if request.content_type == "application/json":  # from a template, in one call (issue 6)
        return create_from_template(request)
    actor, data = signed_in_user(request), request.POST
    contract = domain.create_draft(
        actor=actor,
        upload=request.FILES.get("file"),
        conversion=request.POST.get("conversion", ""),
        title=data.get("title", ""),
        acting_as=data.get("acting_as", "personal"),
        contract_type=data.get("type", ""),
        deadline=_deadline(data.get("deadline", "")),
        ordering=data.get("ordering", "sequential"),
        business_fields=_fields(data.get("fields", "")),
        valid_until=_date(data.get("valid_until", "")),
    )
    return Status(201, ContractOut.of(_load(actor, contract.id)))


@router.get("", response=PageOut, summary="A box of contracts, with filters and paging")
def list_contracts(
    request: HttpRequest,
    box: str = "to_sign",
    acting_as: str = "personal",
    q: str = Query("", description="a title, or the start of a number (PS-2026-…)"),
    type: str = "",
    status: str = "",
    sent_from: dt.datetime | None = None,
    sent_to: dt.datetime | None = None,
    signed_from: dt.datetime | None = None,
    signed_to: dt.datetime | None = None,
    party: str = "",
    page: int = 1,
    page_size: int = 20,
) -> PageOut:
    result = boxes.list_box(
        actor=signed_in_user(request),
        box=box,
        acting_as=acting_as,
        filters=boxes.Filters(
            q=q,
            contract_type=type,
            status=status,
            sent_from=sent_from,
            sent_to=sent_to,
            signed_from=signed_from,
            signed_to=signed_to,
            party=party,
        ),
        page=page,
        page_size=page_size,
    )
    return PageOut(
        items=[ContractOut.of(c) for c in result.items],
        total=result.total,
        page=result.page,
        page_size=result.page_size,
    )


@router.get("/{contract_id}", response=ContractOut, summary="A contract with parties and versions")
def get_contract(request: HttpRequest, contract_id: str) -> ContractOut:
    contract = ContractOut.of(_load(signed_in_user(request), contract_id), versions=True)
    return with_fills(with_suggested_marks(contract))


def with_fills(out: ContractOut) -> ContractOut:
    """Each party's fields to fill in (contracts from a template with party fields)."""
    by_party = {f.party_id: f for f in PartyFill.objects.filter(contract_id=out.id)}
    for party in out.parties:
        found = by_party.get(party.id)
        if found is not None:
            party.fill = FillOut(
                role=found.role,
                fields=[
                    FillFieldOut(
                        key=f["key"], label=f["label"], kind=f["kind"], required=f["required"]
                    )
                    for f in found.fields
                ],
                filled_at=found.filled_at,
                values=found.values,
            )
    return out


class FillIn(Schema):
    acting_as: str = "personal"
    fields: dict[str, Any] = Field(description="key → value, checked like the sender's values")


@router.post(
    "/{contract_id}/fill",
    response=ContractOut,
    summary="Fill in your party's template fields (before anyone signs)",
)
def fill(request: HttpRequest, contract_id: str, payload: FillIn) -> ContractOut:
    actor = signed_in_user(request)
    fills.fill(
        actor=actor, contract_id=contract_id, acting_as=payload.acting_as, values=payload.fields
    )
    return with_fills(ContractOut.of(_load(actor, contract_id), versions=True))


@router.post(
    "/{contract_id}/attachments",
    response={201: ContractOut},
    summary="Add an attachment",
    openapi_extra=multipart_body(
        [],
        file={**FILE, "description": "a PDF or Word file, or name a conversion"},
        conversion=CONVERSION,
        name={**TEXT, "description": "shown in the list; the file's name by default"},
    ),
)
def add_attachment(request: HttpRequest, contract_id: str) -> Status[ContractOut]:
    actor = signed_in_user(request)
    domain.add_attachment(
        actor=actor,
        contract_id=contract_id,
        upload=request.FILES.get("file"),
        conversion=request.POST.get("conversion", ""),
        name=request.POST.get("name", ""),
    )
    return Status(201, ContractOut.of(_load(actor, contract_id)))


@router.post("/{contract_id}/parties", response={201: PartyOut}, summary="Add a signing party")
def add_party(request: HttpRequest, contract_id: str, payload: PartyIn) -> Status[PartyOut]:
    party = domain.add_party(
        actor=signed_in_user(request),
        contract_id=contract_id,
        kind=payload.kind,
        account=payload.account,
        enterprise_name=payload.enterprise_name,
        order=payload.order,
        needs_seal=payload.needs_seal,
        needs_legal_rep_seal=payload.needs_legal_rep_seal,
        needs_signature=payload.needs_signature,
    )
    return Status(201, PartyOut.of(party))


@router.delete("/{contract_id}/parties/{party_id}", response={204: None}, summary="Remove a party")
def remove_party(request: HttpRequest, contract_id: str, party_id: str) -> Status[None]:
    domain.remove_party(actor=signed_in_user(request), contract_id=contract_id, party_id=party_id)
    return Status(204, None)


@router.post("/{contract_id}/send", response=ContractOut, summary="Send the draft for signing")
def send(request: HttpRequest, contract_id: str) -> ContractOut:
    actor = signed_in_user(request)
    domain.send(actor=actor, contract_id=contract_id)
    return ContractOut.of(_load(actor, contract_id), versions=True)


@router.post("/{contract_id}/revoke", response=ContractOut, summary="Revoke before completion")
def revoke(request: HttpRequest, contract_id: str, payload: ReasonIn) -> ContractOut:
    actor = signed_in_user(request)
    domain.revoke(actor=actor, contract_id=contract_id, reason=payload.reason)
    return ContractOut.of(_load(actor, contract_id))


@router.post("/{contract_id}/reject", response=ContractOut, summary="Refuse to sign, with a reason")
def reject(request: HttpRequest, contract_id: str, payload: RejectIn) -> ContractOut:
    actor = signed_in_user(request)
    domain.reject(
        actor=actor, contract_id=contract_id, acting_as=payload.acting_as, reason=payload.reason
    )
    return ContractOut.of(_load(actor, contract_id))


@router.get("/{contract_id}/pages/{page}.png", summary="A page preview")
def page_png(request: HttpRequest, contract_id: str, page: int) -> HttpResponse:
    contract = domain.visible_contract(actor=signed_in_user(request), contract_id=contract_id)
    response = HttpResponse(documents.preview_png(contract.current, page), content_type="image/png")
    response["Cache-Control"] = "private, max-age=600"
    return response


@router.get("/{contract_id}/document.pdf", summary="The latest (signed) PDF")
def document_pdf(request: HttpRequest, contract_id: str) -> HttpResponse:
    contract = domain.visible_contract(actor=signed_in_user(request), contract_id=contract_id)
    response = HttpResponse(
        documents.read_document(contract.current), content_type="application/pdf"
    )
    response["Content-Disposition"] = downloads.attachment(downloads.pdf_name(contract))
    response["X-Content-SHA256"] = contract.current.sha256
    return response


@router.get(
    "/{contract_id}/evidence.pdf", summary="The evidence report (出证报告), signed by PortSign"
)
def evidence_pdf(request: HttpRequest, contract_id: str) -> HttpResponse:
    actor = signed_in_user(request)
    contract = domain.visible_contract(actor=actor, contract_id=contract_id)
    pdf = evidence.report_pdf(actor=actor, contract_id=contract_id)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = downloads.attachment(
        downloads.pdf_name(contract, evidence=True)
    )
    return response


@router.get("/{contract_id}/trail", response=list[TrailOut], summary="The signing trail (签署轨迹)")
def trail(request: HttpRequest, contract_id: str) -> list[TrailOut]:
    contract = domain.visible_contract(actor=signed_in_user(request), contract_id=contract_id)
    events = list(
        AuditEvent.objects.filter(object_type="contract", object_id=contract.id).order_by("seq")
    )
    names = dict(
        User.objects.filter(pk__in={e.actor_id for e in events if e.actor_id}).values_list(
            "id", "name"
        )
    )
    names.update(
        Enterprise.objects.filter(pk__in={e.acting_as for e in events if e.acting_as}).values_list(
            "id", "name"
        )
    )
    return [
        TrailOut(
            at=event.at,
            actor=names.get(event.actor_id, ""),
            acting_as=names.get(event.acting_as, ""),
            action=event.action,
            ip=event.ip or "",
            device=event.user_agent or "",
            detail=event.data,
        )
        for event in events
    ]


# -- follow-up: reminders, deadline, void ------------------------------------------------------


class DeadlineIn(Schema):
    deadline: dt.datetime


class VoidIn(Schema):
    acting_as: str = "personal"
    reason: str


@router.post(
    "/{contract_id}/remind", response=CountOut, summary="Remind the pending parties (催签)"
)
def remind(request: HttpRequest, contract_id: str) -> CountOut:
    return CountOut(count=followup.remind(actor=signed_in_user(request), contract_id=contract_id))


@router.post("/{contract_id}/deadline", response=ContractOut, summary="Extend the deadline")
def extend_deadline(request: HttpRequest, contract_id: str, payload: DeadlineIn) -> ContractOut:
    actor = signed_in_user(request)
    followup.extend_deadline(actor=actor, contract_id=contract_id, deadline=payload.deadline)
    return ContractOut.of(_load(actor, contract_id))


@router.post(
    "/{contract_id}/void",
    response={201: ContractOut},
    summary="Propose voiding a completed contract: returns the void statement, sent to every party",
)
def void(request: HttpRequest, contract_id: str, payload: VoidIn) -> Status[ContractOut]:
    actor = signed_in_user(request)
    statement = voiding.propose_void(
        actor=actor, contract_id=contract_id, acting_as=payload.acting_as, reason=payload.reason
    )
    return Status(201, ContractOut.of(_load(actor, statement.id), versions=True))


# -- internal approval (需要我审批) --------------------------------------------------------------


class ApprovalIn(Schema):
    acting_as: str
    seal_id: str
    note: str = ""


class ApprovalDecisionIn(Schema):
    comment: str = ""


class ApprovalOut(Schema):
    id: str
    contract_id: str
    seal_id: str
    seal_name: str
    status: str = Field(description="pending | approved | rejected")
    requested_by: str
    note: str
    decided_by: str | None
    comment: str
    created_at: dt.datetime
    decided_at: dt.datetime | None

    @staticmethod
    def of(approval: SealApproval) -> ApprovalOut:
        return ApprovalOut(
            id=approval.id,
            contract_id=approval.contract_id,
            seal_id=approval.seal_id,
            seal_name=approval.seal.name,
            status=approval.status,
            requested_by=approval.requested_by.name,
            note=approval.note,
            decided_by=approval.decided_by.name if approval.decided_by else None,
            comment=approval.comment,
            created_at=approval.created_at,
            decided_at=approval.decided_at,
        )


class RuleIn(Schema):
    seal_id: str = ""
    contract_type: str = ""


class RuleOut(Schema):
    id: str
    seal_id: str | None
    contract_type: str | None
    created_at: dt.datetime

    @staticmethod
    def of(rule: ApprovalRule) -> RuleOut:
        return RuleOut(
            id=rule.id,
            seal_id=rule.seal_id,
            contract_type=rule.contract_type.name if rule.contract_type else None,
            created_at=rule.created_at,
        )


@router.post("/{contract_id}/approvals", response={201: ApprovalOut}, summary="Ask to apply a seal")
def request_approval(
    request: HttpRequest, contract_id: str, payload: ApprovalIn
) -> Status[ApprovalOut]:
    approval = approvals.request_approval(
        actor=signed_in_user(request),
        contract_id=contract_id,
        acting_as=payload.acting_as,
        seal_id=payload.seal_id,
        note=payload.note,
    )
    return Status(201, ApprovalOut.of(approval))


@router.get("/{contract_id}/approvals", response=list[ApprovalOut], summary="Seal approvals")
def list_approvals(request: HttpRequest, contract_id: str) -> list[ApprovalOut]:
    rows = approvals.approvals_of(actor=signed_in_user(request), contract_id=contract_id)
    return [ApprovalOut.of(a) for a in rows]


approval_router = Router(tags=["approvals"], auth=AUTH)


@approval_router.post("/approvals/{approval_id}/approve", response=ApprovalOut, summary="Approve")
def approve(request: HttpRequest, approval_id: str, payload: ApprovalDecisionIn) -> ApprovalOut:
    approval = approvals.decide(
        actor=signed_in_user(request),
        approval_id=approval_id,
        approve=True,
        comment=payload.comment,
    )
    return ApprovalOut.of(approval)


@approval_router.post("/approvals/{approval_id}/reject", response=ApprovalOut, summary="Refuse")
def refuse(request: HttpRequest, approval_id: str, payload: ApprovalDecisionIn) -> ApprovalOut:
    approval = approvals.decide(
        actor=signed_in_user(request),
        approval_id=approval_id,
        approve=False,
        comment=payload.comment,
    )
    return ApprovalOut.of(approval)


@approval_router.post(
    "/enterprises/{enterprise_id}/approval-rules",
    response={201: RuleOut},
    summary="Require approval for a seal or a contract type",
)
def add_rule(request: HttpRequest, enterprise_id: str, payload: RuleIn) -> Status[RuleOut]:
    rule = approvals.add_rule(
        actor=signed_in_user(request),
        enterprise_id=enterprise_id,
        seal_id=payload.seal_id,
        contract_type=payload.contract_type,
    )
    return Status(201, RuleOut.of(rule))


@approval_router.get(
    "/enterprises/{enterprise_id}/approval-rules", response=list[RuleOut], summary="Approval rules"
)
def list_rules(request: HttpRequest, enterprise_id: str) -> list[RuleOut]:
    rows = approvals.rules_of(actor=signed_in_user(request), enterprise_id=enterprise_id)
    return [RuleOut.of(rule) for rule in rows]


@approval_router.delete("/approval-rules/{rule_id}", response={204: None}, summary="Delete a rule")
def delete_rule(request: HttpRequest, rule_id: str) -> Status[None]:
    approvals.delete_rule(actor=signed_in_user(request), rule_id=rule_id)
    return Status(204, None)


# -- an enterprise's contract types and business fields (D1) -----------------------------------


class TypeIn(Schema):
    name: str


class TypeOut(Schema):
    id: str
    name: str


class BusinessFieldIn(Schema):
    key: str
    label: str
    kind: str = Field("text", description="text | number | date")
    required: bool = False


class BusinessFieldOut(Schema):
    id: str
    key: str
    label: str
    kind: str
    required: bool

    @staticmethod
    def of(f: BusinessField) -> BusinessFieldOut:
        return BusinessFieldOut(id=f.id, key=f.key, label=f.label, kind=f.kind, required=f.required)


@approval_router.get(
    "/enterprises/{enterprise_id}/contract-types", response=list[TypeOut], summary="Contract types"
)
def list_types(request: HttpRequest, enterprise_id: str) -> list[TypeOut]:
    rows = catalogue.contract_types(actor=signed_in_user(request), enterprise_id=enterprise_id)
    return [TypeOut(id=t.id, name=t.name) for t in rows]


@approval_router.post(
    "/enterprises/{enterprise_id}/contract-types", response={201: TypeOut}, summary="Add a type"
)
def add_type(request: HttpRequest, enterprise_id: str, payload: TypeIn) -> Status[TypeOut]:
    kind = catalogue.add_contract_type(
        actor=signed_in_user(request), enterprise_id=enterprise_id, name=payload.name
    )
    return Status(201, TypeOut(id=kind.id, name=kind.name))


@approval_router.delete("/contract-types/{type_id}", response={204: None}, summary="Delete a type")
def delete_type(request: HttpRequest, type_id: str) -> Status[None]:
    catalogue.delete_contract_type(actor=signed_in_user(request), type_id=type_id)
    return Status(204, None)


@approval_router.get(
    "/enterprises/{enterprise_id}/business-fields",
    response=list[BusinessFieldOut],
    summary="Business fields",
)
def list_fields(request: HttpRequest, enterprise_id: str) -> list[BusinessFieldOut]:
    rows = catalogue.business_fields(actor=signed_in_user(request), enterprise_id=enterprise_id)
    return [BusinessFieldOut.of(f) for f in rows]


@approval_router.post(
    "/enterprises/{enterprise_id}/business-fields",
    response={201: BusinessFieldOut},
    summary="Add a business field",
)
def add_field(
    request: HttpRequest, enterprise_id: str, payload: BusinessFieldIn
) -> Status[BusinessFieldOut]:
    f = catalogue.add_business_field(
        actor=signed_in_user(request),
        enterprise_id=enterprise_id,
        key=payload.key,
        label=payload.label,
        kind=payload.kind,
        required=payload.required,
    )
    return Status(201, BusinessFieldOut.of(f))


@approval_router.delete(
    "/business-fields/{field_id}", response={204: None}, summary="Delete a business field"
)
def delete_field(request: HttpRequest, field_id: str) -> Status[None]:
    catalogue.delete_business_field(actor=signed_in_user(request), field_id=field_id)
    return Status(204, None)
