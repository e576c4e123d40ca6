"""Enterprises API (API.md "Enterprises"). Handlers translate; rules live in domain/."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile as NinjaUploadedFile
from pydantic import Field

from portsign.accounts.backends import signed_in_user
from portsign.accounts.domain.codes import mask_address
from portsign.backoffice.models import Review
from portsign.common.api_auth import AUTH
from portsign.common.errors import NotFound
from portsign.enterprises.domain import (
    deposits,
    enterprises,
    invitations,
    legal_rep,
    materials,
    members,
)
from portsign.enterprises.models import LegalRepVerification, Membership
from portsign.enterprises.rules import membership_of
from portsign.enterprises.schemas import (
    AmountIn,
    DecisionIn,
    DepositIn,
    DepositOut,
    EnterpriseBrief,
    EnterpriseIn,
    EnterpriseOut,
    HandOverIn,
    JoinIn,
    JoinOut,
    MemberOut,
    MemberPatch,
    RoleIn,
    RoleOut,
    RolePatchIn,
    TransferIn,
)

router = Router(tags=["enterprises"], auth=AUTH)
join_router = Router(tags=["enterprises"], auth=AUTH)


def _deposit(d: deposits.DepositVerification) -> DepositOut:
    return DepositOut.of(d, settings.DEPOSIT_MAX_TRIES)


@router.post("", response={201: EnterpriseOut}, summary="Create an enterprise")
def create(request: HttpRequest, payload: EnterpriseIn) -> Status[EnterpriseOut]:
    enterprise = enterprises.create_enterprise(
        actor=signed_in_user(request),
        name=payload.name,
        uscc=payload.uscc,
        legal_rep_name=payload.legal_rep_name,
    )
    return Status(201, EnterpriseOut.of(enterprise))


@router.get("/search", response=list[EnterpriseBrief], summary="Find a verified enterprise")
def search(request: HttpRequest, q: str) -> list[EnterpriseBrief]:
    return [
        EnterpriseBrief(id=e.id, name=e.name, uscc=e.uscc) for e in members.find_verified(query=q)
    ]


@router.get("/{enterprise_id}", response=EnterpriseOut, summary="An enterprise I belong to")
def detail(request: HttpRequest, enterprise_id: str) -> EnterpriseOut:
    return EnterpriseOut.of(
        membership_of(
            user=signed_in_user(request), enterprise_id=enterprise_id, include_expired=True
        ).enterprise
    )


@router.post(
    "/{enterprise_id}/verification", response=DepositOut, summary="Start transfer verification"
)
def start_verification(request: HttpRequest, enterprise_id: str, payload: DepositIn) -> DepositOut:
    return _deposit(
        deposits.start_deposit(
            actor=signed_in_user(request),
            enterprise_id=enterprise_id,
            method=payload.method,
            bank_name=payload.bank_name,
            bank_account=payload.bank_account,
        )
    )


@router.get(
    "/{enterprise_id}/verification",
    response=DepositOut,
    summary="The current transfer verification",
)
def get_verification(request: HttpRequest, enterprise_id: str) -> DepositOut:
    return _deposit(
        deposits.current_deposit(actor=signed_in_user(request), enterprise_id=enterprise_id)
    )


@router.post(
    "/{enterprise_id}/verification/confirm",
    response=DepositOut,
    summary="Enter the micro-deposit amount",
)
def confirm(request: HttpRequest, enterprise_id: str, payload: AmountIn) -> DepositOut:
    return _deposit(
        deposits.confirm_amount(
            actor=signed_in_user(request), enterprise_id=enterprise_id, amount=payload.amount
        )
    )


@router.post(
    "/{enterprise_id}/verification/check-payment",
    response=DepositOut,
    summary="Check for the enterprise's 0.01 CNY payment",
)
def check_payment(request: HttpRequest, enterprise_id: str) -> DepositOut:
    return _deposit(
        deposits.check_reverse_payment(actor=signed_in_user(request), enterprise_id=enterprise_id)
    )


@router.get("/{enterprise_id}/members", response=list[MemberOut], summary="Members")
def list_members(request: HttpRequest, enterprise_id: str) -> list[MemberOut]:
    return [
        MemberOut.of(m)
        for m in members.members_of(actor=signed_in_user(request), enterprise_id=enterprise_id)
    ]


@router.patch(
    "/{enterprise_id}/members/{member_id}",
    response=MemberOut,
    summary="Change a member's role or enable/disable them",
)
def update_member(
    request: HttpRequest, enterprise_id: str, member_id: str, payload: MemberPatch
) -> MemberOut:
    return MemberOut.of(
        members.update_member(
            actor=signed_in_user(request),
            enterprise_id=enterprise_id,
            member_id=member_id,
            role_id=payload.role_id,
            is_active=payload.is_active,
        )
    )


@router.delete(
    "/{enterprise_id}/members/{member_id}",
    response={204: None},
    summary="Remove a member (refused while they own items)",
)
def remove_member(request: HttpRequest, enterprise_id: str, member_id: str) -> Status[None]:
    members.remove_member(
        actor=signed_in_user(request), enterprise_id=enterprise_id, member_id=member_id
    )
    return Status(204, None)


@router.post(
    "/{enterprise_id}/members/{member_id}/transfer",
    response=dict[str, list[str]],
    summary="One-click transfer of a member's items",
)
def transfer(
    request: HttpRequest, enterprise_id: str, member_id: str, payload: TransferIn
) -> dict[str, list[str]]:
    return members.transfer_items(
        actor=signed_in_user(request),
        enterprise_id=enterprise_id,
        member_id=member_id,
        to_member_id=payload.to_member_id,
        targets=payload.targets,
    )


@router.post(
    "/{enterprise_id}/main-admin",
    response=EnterpriseOut,
    summary="Hand the main administrator role over",
)
def hand_over(request: HttpRequest, enterprise_id: str, payload: HandOverIn) -> EnterpriseOut:
    return EnterpriseOut.of(
        members.hand_over_main_admin(
            actor=signed_in_user(request), enterprise_id=enterprise_id, member_id=payload.member_id
        )
    )


@router.get("/{enterprise_id}/roles", response=list[RoleOut], summary="Roles")
def list_roles(request: HttpRequest, enterprise_id: str) -> list[RoleOut]:
    enterprise = membership_of(user=signed_in_user(request), enterprise_id=enterprise_id).enterprise
    return [RoleOut.of(r) for r in enterprise.roles.order_by("-builtin", "name")]


@router.post("/{enterprise_id}/roles", response={201: RoleOut}, summary="Create a custom role")
def create_role(request: HttpRequest, enterprise_id: str, payload: RoleIn) -> Status[RoleOut]:
    return Status(
        201,
        RoleOut.of(
            members.create_role(
                actor=signed_in_user(request),
                enterprise_id=enterprise_id,
                name=payload.name,
                permissions=payload.permissions,
            )
        ),
    )


@router.patch(
    "/{enterprise_id}/roles/{role_id}",
    response=RoleOut,
    summary="Rename a custom role or change its permissions",
)
def update_role(
    request: HttpRequest, enterprise_id: str, role_id: str, payload: RolePatchIn
) -> RoleOut:
    role = members.update_role(
        actor=signed_in_user(request),
        enterprise_id=enterprise_id,
        role_id=role_id,
        name=payload.name,
        permissions=payload.permissions,
    )
    return RoleOut.of(role)


@router.delete(
    "/{enterprise_id}/roles/{role_id}", response={204: None}, summary="Delete an unused custom role"
)
def delete_role(request: HttpRequest, enterprise_id: str, role_id: str) -> Status[None]:
    members.delete_role(actor=signed_in_user(request), enterprise_id=enterprise_id, role_id=role_id)
    return Status(204, None)


@router.post(
    "/{enterprise_id}/join-requests",
    response={201: JoinOut},
    summary="Apply to join a verified enterprise",
)
def apply(request: HttpRequest, enterprise_id: str, payload: JoinIn) -> Status[JoinOut]:
    return Status(
        201,
        JoinOut.of(
            members.apply_to_join(
                actor=signed_in_user(request), enterprise_id=enterprise_id, reason=payload.reason
            )
        ),
    )


@router.get(
    "/{enterprise_id}/join-requests",
    response=list[JoinOut],
    summary="Requests to join (administrators)",
)
def list_join_requests(request: HttpRequest, enterprise_id: str) -> list[JoinOut]:
    return [
        JoinOut.of(j)
        for j in members.join_requests_of(
            actor=signed_in_user(request), enterprise_id=enterprise_id
        )
    ]


@join_router.get("", response=list[JoinOut], summary="My requests to join enterprises")
def my_requests(request: HttpRequest) -> list[JoinOut]:
    return [JoinOut.of(j) for j in members.my_join_requests(actor=signed_in_user(request))]


@join_router.post("/{request_id}/approve", response=JoinOut, summary="Approve a join request")
def approve(request: HttpRequest, request_id: str, payload: DecisionIn) -> JoinOut:
    return JoinOut.of(
        members.decide_join_request(
            actor=signed_in_user(request),
            request_id=request_id,
            approve=True,
            reason=payload.reason,
        )
    )


@join_router.post("/{request_id}/reject", response=JoinOut, summary="Reject a join request")
def reject(request: HttpRequest, request_id: str, payload: DecisionIn) -> JoinOut:
    return JoinOut.of(
        members.decide_join_request(
            actor=signed_in_user(request),
            request_id=request_id,
            approve=False,
            reason=payload.reason,
        )
    )


@join_router.post("/{request_id}/withdraw", response=JoinOut, summary="Withdraw my request")
def withdraw(request: HttpRequest, request_id: str) -> JoinOut:
    return JoinOut.of(
        members.withdraw_join_request(actor=signed_in_user(request), request_id=request_id)
    )


class InviteIn(Schema):
    account: str
    role_id: str = ""


class InvitationOut(Schema):
    id: str
    enterprise_id: str
    address: str
    role: str
    status: str
    expires_at: datetime


@router.post(
    "/{enterprise_id}/invitations",
    response={201: InvitationOut},
    summary="Invite a person by mobile number or e-mail",
)
def invite(request: HttpRequest, enterprise_id: str, payload: InviteIn) -> Status[InvitationOut]:
    invitation, _token = invitations.invite_member(
        actor=signed_in_user(request),
        enterprise_id=enterprise_id,
        account=payload.account,
        role_id=payload.role_id,
    )
    return Status(
        201,
        InvitationOut(
            id=invitation.id,
            enterprise_id=invitation.enterprise_id,
            address=mask_address(invitation.address),
            role=invitation.role.key,
            status=invitation.status,
            expires_at=invitation.expires_at,
        ),
    )


invitation_router = Router(tags=["enterprises"], auth=AUTH)


@invitation_router.post(
    "/{token}/accept",
    response=MemberOut,
    summary="Accept an invitation sent to my number or e-mail",
)
def accept(request: HttpRequest, token: str) -> MemberOut:
    member = invitations.accept_invitation(actor=signed_in_user(request), token=token)
    return MemberOut.of(
        Membership.objects.select_related("user", "role", "enterprise").get(pk=member.pk)
    )


class ReviewOut(Schema):
    id: str
    status: str = Field(description="pending | approved | returned")
    opinion: str
    submitted_at: datetime
    reviewed_at: datetime | None


@router.post(
    "/{enterprise_id}/materials",
    response=EnterpriseOut,
    summary="Upload the business licence, the ID card and the legal representative's ID number",
    description=(
        "Every verification method needs the business licence and both sides of the ID card "
        "of the legal representative (as_agent: of the applicant) first. Files received before "
        "may be left out and are kept, except the ID card when as_agent changes; "
        "missing_materials names what is still to upload."
    ),
)
def upload_materials(
    request: HttpRequest,
    enterprise_id: str,
    licence: File[NinjaUploadedFile | None] = None,
    id_front: File[NinjaUploadedFile | None] = None,
    id_back: File[NinjaUploadedFile | None] = None,
    legal_rep_id_number: Form[str] = "",
    as_agent: Form[bool] = False,
) -> EnterpriseOut:
    return EnterpriseOut.of(
        materials.submit_materials(
            actor=signed_in_user(request),
            enterprise_id=enterprise_id,
            licence=licence,
            id_front=id_front,
            id_back=id_back,
            legal_rep_id_number=legal_rep_id_number,
            as_agent=as_agent,
        )
    )


@router.get("/{enterprise_id}/authorization-letter.pdf", summary="The letter to print and stamp")
def letter_pdf(request: HttpRequest, enterprise_id: str) -> HttpResponse:
    pdf = materials.authorization_letter_pdf(
        actor=signed_in_user(request), enterprise_id=enterprise_id
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="authorization-letter.pdf"'
    return response


@router.post(
    "/{enterprise_id}/verification/letter",
    response={201: ReviewOut},
    summary="Submit the stamped authorization letter for manual review",
)
def submit_letter(
    request: HttpRequest, enterprise_id: str, letter: File[NinjaUploadedFile]
) -> Status[ReviewOut]:
    review = materials.submit_letter(
        actor=signed_in_user(request), enterprise_id=enterprise_id, letter=letter
    )
    return Status(201, _review(review))


@router.get(
    "/{enterprise_id}/verification/letter",
    response=ReviewOut,
    summary="The review of my authorization letter",
)
def letter_status(request: HttpRequest, enterprise_id: str) -> ReviewOut:
    review = materials.letter_review(actor=signed_in_user(request), enterprise_id=enterprise_id)
    if review is None:
        raise NotFound()
    return _review(review)


def _review(review: Review) -> ReviewOut:
    return ReviewOut(
        id=review.id,
        status=review.status,
        opinion=review.opinion,
        submitted_at=review.submitted_at,
        reviewed_at=review.reviewed_at,
    )


class ManualReviewIn(Schema):
    note: str = Field("", description="What went wrong with the other methods (optional)")


@router.post(
    "/{enterprise_id}/verification/manual-review",
    response={201: ReviewOut},
    summary="After a verification method failed, ask PortSign to review the materials",
)
def request_manual_review(
    request: HttpRequest, enterprise_id: str, payload: ManualReviewIn
) -> Status[ReviewOut]:
    review = materials.request_manual_review(
        actor=signed_in_user(request), enterprise_id=enterprise_id, note=payload.note
    )
    return Status(201, _review(review))


@router.get(
    "/{enterprise_id}/verification/manual-review",
    response=ReviewOut,
    summary="The manual review of my enterprise's materials",
)
def manual_review_status(request: HttpRequest, enterprise_id: str) -> ReviewOut:
    review = materials.manual_review(actor=signed_in_user(request), enterprise_id=enterprise_id)
    if review is None:
        raise NotFound()
    return _review(review)


class LegalRepIn(Schema):
    method: str = Field(description="carrier3 | face")
    legal_rep_id_number: str
    phone: str = Field("", description="carrier3: the legal representative's mobile number")


class CodeIn(Schema):
    code: str


class LegalRepOut(Schema):
    id: str
    method: str
    status: str = Field(description="awaiting_code | awaiting_face | verified | failed")
    failure: str
    phone: str = Field(description="masked")
    face_url: str = Field(description="face: the legal representative opens it on a phone")
    created_at: datetime
    completed_at: datetime | None

    @staticmethod
    def of(a: LegalRepVerification) -> LegalRepOut:
        return LegalRepOut(
            id=a.id,
            method=a.method,
            status=a.status,
            failure=a.failure,
            phone=mask_address(a.phone) if a.phone else "",
            face_url=a.face_url if a.status == "awaiting_face" else "",
            created_at=a.created_at,
            completed_at=a.completed_at,
        )


@router.post(
    "/{enterprise_id}/verification/legal-rep",
    response={201: LegalRepOut},
    summary="Verify through the legal representative (carrier 3 elements or face)",
)
def start_legal_rep(
    request: HttpRequest, enterprise_id: str, payload: LegalRepIn
) -> Status[LegalRepOut]:
    return Status(
        201,
        LegalRepOut.of(
            legal_rep.start_legal_rep(
                actor=signed_in_user(request),
                enterprise_id=enterprise_id,
                method=payload.method,
                legal_rep_id_number=payload.legal_rep_id_number,
                phone=payload.phone,
            )
        ),
    )


@router.post(
    "/{enterprise_id}/verification/legal-rep/confirm",
    response=LegalRepOut,
    summary="Enter the code sent to the legal representative's phone",
)
def confirm_legal_rep(request: HttpRequest, enterprise_id: str, payload: CodeIn) -> LegalRepOut:
    return LegalRepOut.of(
        legal_rep.confirm_legal_rep_code(
            actor=signed_in_user(request), enterprise_id=enterprise_id, code=payload.code
        )
    )


@router.get(
    "/{enterprise_id}/verification/legal-rep",
    response=LegalRepOut,
    summary="The legal-representative verification (face results refreshed)",
)
def get_legal_rep(request: HttpRequest, enterprise_id: str) -> LegalRepOut:
    return LegalRepOut.of(
        legal_rep.refresh_legal_rep(actor=signed_in_user(request), enterprise_id=enterprise_id)
    )


# -- sandbox bank (mounted only with sandbox providers) ---------------------------------------

sandbox_bank_router = Router(tags=["sandbox"])


class BankTransferIn(Schema):
    from_account: str
    from_name: str = Field(description="The paying account's holder (the enterprise's name)")
    amount: str
    reference: str


@sandbox_bank_router.post(
    "/transfers",
    response={201: dict[str, str]},
    summary="Sandbox bank: pay PortSign from a corporate account",
)
def sandbox_transfer(request: HttpRequest, payload: BankTransferIn) -> Status[dict[str, str]]:
    deposits.make_sandbox_payment(
        from_account=payload.from_account,
        from_name=payload.from_name,
        amount=payload.amount,
        reference=payload.reference,
    )
    return Status(201, {"status": "received"})
