"""API shapes of the enterprises app."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field

from portsign.enterprises.models import (
    Department,
    DepositVerification,
    Enterprise,
    JoinRequest,
    Membership,
    Role,
)


class EnterpriseIn(Schema):
    name: str
    uscc: str = Field(description="Unified social credit code (18 characters)")
    legal_rep_name: str


class EnterpriseOut(Schema):
    id: str
    name: str
    uscc: str
    legal_rep_name: str
    status: str = Field(description="unverified | verifying | verified | expired")
    main_admin_id: str
    materials_deadline: datetime
    verified_at: datetime | None
    verification_method: str
    missing_materials: list[str] = Field(
        description="What to upload before a verification method can start: "
        "licence | id_front | id_back"
    )

    @staticmethod
    def of(e: Enterprise) -> EnterpriseOut:
        from portsign.enterprises.domain.enterprises import missing_materials

        return EnterpriseOut(
            id=e.id,
            name=e.name,
            uscc=e.uscc,
            legal_rep_name=e.legal_rep_name,
            status=e.status,
            main_admin_id=e.main_admin_id,
            materials_deadline=e.materials_deadline,
            verified_at=e.verified_at,
            verification_method=e.verification_method,
            missing_materials=[] if e.status == "verified" else missing_materials(e),
        )


class EnterpriseBrief(Schema):
    id: str
    name: str
    uscc: str


class DepositIn(Schema):
    method: str = Field("micro_deposit", description="micro_deposit | reverse_deposit")
    bank_name: str
    bank_account: str


class AmountIn(Schema):
    amount: str = Field(description='Decimal string, e.g. "0.37"')


class DepositOut(Schema):
    id: str
    method: str
    status: str = Field(
        description="awaiting_amount | awaiting_payment | verified | failed | expired"
    )
    bank_name: str
    bank_account: str = Field(description="masked")
    tries_left: int
    reference: str = Field(description="reverse_deposit: quote this in the payment memo")
    amount_to_pay: str = Field(description='reverse_deposit: "0.01"')
    to_account: str = Field(description="reverse_deposit: PortSign's receiving account")
    expires_at: datetime

    @staticmethod
    def of(d: DepositVerification, max_tries: int) -> DepositOut:
        from portsign.enterprises.bank import PLATFORM_ACCOUNT
        from portsign.enterprises.domain.deposits import REVERSE_AMOUNT

        reverse = d.method == "reverse_deposit"
        return DepositOut(
            id=d.id,
            method=d.method,
            status=d.status,
            bank_name=d.bank_name,
            bank_account="****" + d.bank_account[-4:],
            tries_left=max(0, max_tries - d.tries),
            reference=d.reference,
            amount_to_pay=f"{REVERSE_AMOUNT}" if reverse else "",
            to_account=PLATFORM_ACCOUNT if reverse else "",
            expires_at=d.expires_at,
        )


class RoleOut(Schema):
    id: str
    key: str
    name: str
    builtin: bool
    permissions: list[str]

    @staticmethod
    def of(r: Role) -> RoleOut:
        return RoleOut(
            id=r.id,
            key=r.key,
            name=r.display_name,
            builtin=r.builtin,
            permissions=list(r.permissions),
        )


class RoleIn(Schema):
    name: str
    permissions: list[str]


class MemberOut(Schema):
    id: str
    user_id: str
    name: str
    account: str
    role: RoleOut
    is_active: bool
    is_main_admin: bool
    joined_at: datetime

    @staticmethod
    def of(m: Membership) -> MemberOut:
        from portsign.accounts.domain.codes import mask_address

        return MemberOut(
            id=m.id,
            user_id=m.user_id,
            name=m.user.name,
            account=mask_address(m.user.account),
            role=RoleOut.of(m.role),
            is_active=m.is_active,
            is_main_admin=m.enterprise.main_admin_id == m.user_id,
            joined_at=m.joined_at,
        )


class MemberPatch(Schema):
    role_id: str | None = None
    is_active: bool | None = None


class TransferIn(Schema):
    to_member_id: str = Field(description="who receives what *targets* does not name")
    targets: dict[str, str] = Field(
        default_factory=dict,
        description="kind of item (contract, signing_party, template, bulk_send, seal) → "
        "the member who receives those",
    )


class RolePatchIn(Schema):
    name: str | None = None
    permissions: list[str] | None = None


class HandOverIn(Schema):
    member_id: str


class JoinIn(Schema):
    reason: str


class DecisionIn(Schema):
    reason: str = ""


class JoinOut(Schema):
    id: str
    enterprise: EnterpriseBrief
    user_id: str
    applicant_name: str
    reason: str
    status: str = Field(description="pending | approved | rejected | withdrawn")
    decision_reason: str
    created_at: datetime
    decided_at: datetime | None

    @staticmethod
    def of(j: JoinRequest) -> JoinOut:
        e = j.enterprise
        return JoinOut(
            id=j.id,
            enterprise=EnterpriseBrief(id=e.id, name=e.name, uscc=e.uscc),
            user_id=j.user_id,
            applicant_name=j.user.name,
            reason=j.reason,
            status=j.status,
            decision_reason=j.decision_reason,
            created_at=j.created_at,
            decided_at=j.decided_at,
        )


class DepartmentSealOut(Schema):
    id: str
    name: str
    type: str = Field(description="official | contract | finance | legal_rep | hr")
    status: str = Field(description="active | disabled")


class DepartmentMemberOut(Schema):
    id: str = Field(description="the membership id")
    name: str


class DepartmentOut(Schema):
    id: str
    name: str
    parent_id: str | None
    member_count: int
    members: list[DepartmentMemberOut]
    seals: list[DepartmentSealOut] = Field(description="the live seals the department holds")
    created_at: datetime

    @staticmethod
    def of(d: Department) -> DepartmentOut:
        """*d* as listed by `departments.departments_of` (members and seals prefetched)."""
        members = list(d.members.all())
        return DepartmentOut(
            id=d.id,
            name=d.name,
            parent_id=d.parent_id,
            member_count=len(members),
            members=[DepartmentMemberOut(id=m.id, name=m.user.name) for m in members],
            seals=[
                DepartmentSealOut(id=s.id, name=s.name, type=s.kind, status=s.status)
                for s in d.seals.all()
            ],
            created_at=d.created_at,
        )


class DepartmentIn(Schema):
    name: str
    parent_id: str | None = Field(None, description="a department of the same enterprise")


class DepartmentPatch(Schema):
    name: str | None = None
    parent_id: str | None = Field(
        None, description='another department of the enterprise; "" for the top level'
    )
