"""API shapes of the E-Port identity office (API.md "E-Port identity office")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema
from pydantic import Field

from portsign.eport.models import (
    Authority,
    Filing,
    FilingDocument,
    FilingEvent,
    JointReview,
    Operator,
)


class AuthorityOut(Schema):
    id: str
    kind: str = Field(description="office | customs | forex | commerce")
    code: str
    name: str
    level: str = Field(description="national | province | city")
    parent_id: str | None
    auto_approve: bool

    @staticmethod
    def of(a: Authority) -> AuthorityOut:
        return AuthorityOut(
            id=a.id,
            kind=a.kind,
            code=a.code,
            name=a.name,
            level=a.level,
            parent_id=a.parent_id,
            auto_approve=a.auto_approve,
        )


class AutoApproveIn(Schema):
    auto_approve: bool


class FilingIn(Schema):
    enterprise_id: str
    kind: str = Field(description="enterprise_info | customs | forex | commerce | operator | ...")
    data: dict[str, Any] = Field(default_factory=dict, description="the form; see /eport/forms")
    operator_id: str = Field("", description="the operator a deregistration or change is about")


class FilingDataIn(Schema):
    data: dict[str, Any]


class FilingDecisionIn(Schema):
    opinion: str = Field(description="required, also for an approval")
    unit: str = Field("", description="for a change: the joint-review unit decided for")


class FilingEnterpriseOut(Schema):
    id: str
    name: str
    uscc: str


class FilingOperatorOut(Schema):
    id: str
    number: str
    name: str
    status: str


class FilingDocumentOut(Schema):
    id: str
    type: str
    type_label: str
    name: str
    kind: str = Field(description="jpeg | png | pdf")
    size: int
    uploaded_at: datetime

    @staticmethod
    def of(d: FilingDocument) -> FilingDocumentOut:
        return FilingDocumentOut(
            id=d.id,
            type=d.type,
            type_label=str(d.get_type_display()),
            name=d.name,
            kind=d.kind,
            size=d.size,
            uploaded_at=d.uploaded_at,
        )


class FilingHistoryOut(Schema):
    at: datetime
    action: str = Field(description="created | edited | declared | approved | returned | ...")
    status: str
    actor: str = Field(description="who acted; empty for an automatic approval")
    unit: str
    opinion: str
    auto: bool

    @staticmethod
    def of(e: FilingEvent) -> FilingHistoryOut:
        return FilingHistoryOut(
            at=e.at,
            action=e.action,
            status=e.status,
            actor=e.actor.name if e.actor else "",
            unit=e.unit,
            opinion=e.opinion,
            auto=e.auto,
        )


class JointReviewOut(Schema):
    unit: str = Field(description="office | customs | forex | commerce")
    unit_label: str
    authority: str
    state: str = Field(description="pending | approved | returned")
    state_label: str
    opinion: str
    decided_at: datetime | None

    @staticmethod
    def of(r: JointReview) -> JointReviewOut:
        return JointReviewOut(
            unit=r.unit,
            unit_label=str(r.get_unit_display()),
            authority=r.authority.name,
            state=r.state,
            state_label=str(r.get_state_display()),
            opinion=r.opinion,
            decided_at=r.decided_at,
        )


class FilingOut(Schema):
    id: str
    kind: str
    kind_label: str
    status: str = Field(description="draft | declared | approved | returned")
    status_label: str
    enterprise: FilingEnterpriseOut
    authority: AuthorityOut
    operator: FilingOperatorOut | None
    data: dict[str, Any]
    documents: list[FilingDocumentOut]
    history: list[FilingHistoryOut]
    joint_reviews: list[JointReviewOut]
    opinion: str
    auto_approved: bool
    created_at: datetime
    declared_at: datetime | None
    decided_at: datetime | None
    can_decide: list[str] = Field(
        default_factory=list,
        description="for a reviewer: what they may decide now ('' = the filing, or units)",
    )

    @staticmethod
    def of(f: Filing, *, can_decide: list[str] | None = None) -> FilingOut:
        operator = f.operator
        return FilingOut(
            id=f.id,
            kind=f.kind,
            kind_label=str(f.get_kind_display()),
            status=f.status,
            status_label=str(f.get_status_display()),
            enterprise=FilingEnterpriseOut(
                id=f.enterprise.id, name=f.enterprise.name, uscc=f.enterprise.uscc
            ),
            authority=AuthorityOut.of(f.authority),
            operator=FilingOperatorOut(
                id=operator.id, number=operator.number, name=operator.name, status=operator.status
            )
            if operator
            else None,
            data=f.data,
            documents=[FilingDocumentOut.of(d) for d in f.documents.all()],
            history=[FilingHistoryOut.of(e) for e in f.events.select_related("actor")],
            joint_reviews=[
                JointReviewOut.of(r) for r in f.joint_reviews.select_related("authority")
            ],
            opinion=f.opinion,
            auto_approved=f.auto_approved,
            created_at=f.created_at,
            declared_at=f.declared_at,
            decided_at=f.decided_at,
            can_decide=can_decide or [],
        )


class FilingPageOut(Schema):
    items: list[FilingOut]
    total: int
    page: int
    page_size: int


class OperatorOut(Schema):
    id: str
    number: str = Field(description="操作员统一编号")
    status: str = Field(description="active | deregistering | deregistered")
    status_label: str
    name: str
    id_number: str
    phone: str
    position: str
    data: dict[str, Any]
    registered_at: datetime
    deregistered_at: datetime | None

    @staticmethod
    def of(o: Operator) -> OperatorOut:
        return OperatorOut(
            id=o.id,
            number=o.number,
            status=o.status,
            status_label=str(o.get_status_display()),
            name=o.name,
            id_number=o.id_number,
            phone=o.phone,
            position=o.position,
            data=o.data,
            registered_at=o.registered_at,
            deregistered_at=o.deregistered_at,
        )


class OperatorPageOut(Schema):
    items: list[OperatorOut]
    total: int
    page: int
    page_size: int


class FormChoiceOut(Schema):
    value: str
    label: str


class FormFieldOut(Schema):
    key: str
    label: str
    required: bool
    section: str
    choices: list[FormChoiceOut]
