"""Internal approval of seal use (需要我审批, issue 6 §3).

An enterprise decides which seals — or which contract types — need an approver's yes before a
signer may apply a seal. The signer asks; members whose role may approve decide, with a
comment; the requester never approves their own request. Signing with a seal that needs an
approval that is missing or refused is a 409.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from portsign.accounts.models import User
from portsign.common.audit import record_event
from portsign.common.errors import Conflict, Invalid, NotFound
from portsign.common.text import clean_text
from portsign.contracts.domain.contracts import (
    acting_party,
    contract_url,
    tell,
    visible_contract,
)
from portsign.contracts.models import ApprovalRule, Contract, ContractType, Party, SealApproval
from portsign.enterprises.enums import Permission
from portsign.enterprises.models import Membership
from portsign.enterprises.rules import membership_of, require, resolve_acting_as
from portsign.seals.domain.holders import may_use
from portsign.seals.models import Seal

Status = SealApproval.Status


# -- rules -------------------------------------------------------------------------------------


def add_rule(
    *, actor: User, enterprise_id: str, seal_id: str = "", contract_type: str = ""
) -> ApprovalRule:
    membership = membership_of(user=actor, enterprise_id=enterprise_id)
    require(membership, Permission.MANAGE_SEALS)
    seal = (
        Seal.objects.filter(
            pk=seal_id, enterprise_id=enterprise_id, deleted_at__isnull=True
        ).first()
        if seal_id
        else None
    )
    kind = (
        ContractType.objects.filter(enterprise_id=enterprise_id, name=contract_type.strip()).first()
        if contract_type
        else None
    )
    if (seal_id and seal is None) or (contract_type and kind is None) or not (seal or kind):
        message = _("Name one of the enterprise's seals or contract types.")
        raise Invalid(message, code="approval_rule_subject", fields={"seal_id": message})
    with transaction.atomic():
        rule, created = ApprovalRule.objects.get_or_create(
            enterprise_id=enterprise_id,
            seal=seal,
            contract_type=kind,
            defaults={"created_by": actor},
        )
        if created:
            record_event(
                action="approval_rule.created",
                actor_id=actor.id,
                acting_as=enterprise_id,
                object_type="approval_rule",
                object_id=rule.id,
                data={"seal": seal.id if seal else "", "contract_type": kind.name if kind else ""},
            )
    return rule


def rules_of(*, actor: User, enterprise_id: str) -> QuerySet[ApprovalRule]:
    membership_of(user=actor, enterprise_id=enterprise_id)
    return ApprovalRule.objects.filter(enterprise_id=enterprise_id).select_related(
        "seal", "contract_type"
    )


def delete_rule(*, actor: User, rule_id: str) -> None:
    rule = ApprovalRule.objects.filter(pk=rule_id).first()
    if rule is None:
        raise NotFound()
    require(membership_of(user=actor, enterprise_id=rule.enterprise_id), Permission.MANAGE_SEALS)
    with transaction.atomic():
        rule.delete()
        record_event(
            action="approval_rule.deleted",
            actor_id=actor.id,
            acting_as=rule.enterprise_id,
            object_type="approval_rule",
            object_id=rule_id,
        )


def needs_approval(contract: Contract, party: Party, seal: Seal) -> bool:
    if party.enterprise_id is None:
        return False
    rules = ApprovalRule.objects.filter(enterprise_id=party.enterprise_id)
    return rules.filter(
        Q(seal=seal) | Q(contract_type_id=contract.contract_type_id, contract_type__isnull=False)
    ).exists()


def require_approvals(contract: Contract, party: Party, seals: list[Seal]) -> None:
    """409 unless every seal that needs approval has an approved request."""
    for seal in seals:
        if not needs_approval(contract, party, seal):
            continue
        approved = SealApproval.objects.filter(
            contract=contract, party=party, seal=seal, status=Status.APPROVED
        ).exists()
        if not approved:
            raise Conflict(
                _("Applying %(seal)s needs an approver's approval first.") % {"seal": seal.name},
                code="approval_required",
            )


# -- requests and decisions --------------------------------------------------------------------


def may_approve(*, actor: User, enterprise_id: str) -> bool:
    membership = (
        Membership.objects.select_related("role")
        .filter(enterprise_id=enterprise_id, user=actor, is_active=True)
        .first()
    )
    return membership is not None and Permission.APPROVE in membership.role.permissions


def _approvers(enterprise_id: str) -> list[Membership]:
    return [
        m
        for m in Membership.objects.select_related("user", "role").filter(
            enterprise_id=enterprise_id, is_active=True
        )
        if Permission.APPROVE in m.role.permissions
    ]


def request_approval(
    *, actor: User, contract_id: str, acting_as: str, seal_id: str, note: str = ""
) -> SealApproval:
    contract = visible_contract(actor=actor, contract_id=contract_id)
    party = acting_party(actor=actor, contract=contract, acting_as=acting_as)
    membership = resolve_acting_as(user=actor, acting_as=acting_as)
    seal = Seal.objects.filter(pk=seal_id, deleted_at__isnull=True).first()
    if membership is None or seal is None or not may_use(seal, membership):
        message = _("You may not apply this seal or signature: %(id)s.") % {"id": seal_id}
        raise Invalid(message, code="marks_invalid", fields={"seal_id": message})
    if not needs_approval(contract, party, seal):
        raise Conflict(_("This seal needs no approval here."), code="approval_not_needed")
    clean = clean_text(
        note,
        field="note",
        min_length=0,
        max_length=300,
        code="note",
        message=_("At most 300 characters."),
    )
    with transaction.atomic():
        approval, _created = SealApproval.objects.select_for_update().get_or_create(
            contract=contract,
            party=party,
            seal=seal,
            defaults={"requested_by": actor, "note": clean},
        )
        if approval.status == Status.APPROVED:
            return approval
        approval.status, approval.requested_by, approval.note = Status.PENDING, actor, clean
        approval.decided_by, approval.decided_at, approval.comment = None, None, ""
        approval.save()
        _audit(approval, actor, "approval.requested", {"seal": seal.id})
        for approver in _approvers(str(party.enterprise_id)):
            if approver.user_id != actor.id:
                _tell(
                    approver.user,
                    contract,
                    _("%(name)s asks to apply %(seal)s on “%(title)s”: %(url)s")
                    % {
                        "name": actor.name,
                        "seal": seal.name,
                        "title": contract.title,
                        "url": contract_url(contract),
                    },
                )
    return approval


def decide(*, actor: User, approval_id: str, approve: bool, comment: str) -> SealApproval:
    clean = clean_text(
        comment,
        field="comment",
        min_length=0 if approve else 2,
        max_length=300,
        code="comment_required",
        message=_("Say why (2 to 300 characters).")
        if not approve
        else _("At most 300 characters."),
    )
    with transaction.atomic():
        approval = (
            SealApproval.objects.select_for_update()
            .select_related("party", "seal", "contract", "requested_by")
            .filter(pk=approval_id)
            .first()
        )
        if approval is None or approval.party.enterprise_id is None:
            raise NotFound()
        membership = membership_of(user=actor, enterprise_id=approval.party.enterprise_id)
        require(membership, Permission.APPROVE)
        if approval.requested_by_id == actor.id:
            raise Conflict(
                _("You cannot approve your own request. Another approver decides."),
                code="approver_is_requester",
            )
        if approval.status != Status.PENDING:
            raise Conflict(_("This request was already decided."), code="already_decided")
        approval.status = Status.APPROVED if approve else Status.REJECTED
        approval.decided_by, approval.decided_at, approval.comment = actor, timezone.now(), clean
        approval.save()
        _audit(approval, actor, f"approval.{approval.status}", {"comment": clean})
        _tell(
            approval.requested_by,
            approval.contract,
            (
                _("Approved: you may apply %(seal)s on “%(title)s”.")
                if approve
                else _("Refused: %(seal)s may not be applied on “%(title)s”.")
            )
            % {"seal": approval.seal.name, "title": approval.contract.title},
        )
    return approval


def approvals_of(*, actor: User, contract_id: str) -> QuerySet[SealApproval]:
    contract = visible_contract(actor=actor, contract_id=contract_id)
    return (
        SealApproval.objects.filter(contract=contract)
        .select_related("seal", "requested_by", "decided_by", "party")
        .order_by("created_at")
    )


def _tell(user: User, contract: Contract, text: str) -> None:
    address = user.phone or user.email
    if address:
        tell(address, contract, subject=text[:60], text=text, event="approval")


def _audit(approval: SealApproval, actor: User, action: str, data: dict[str, str]) -> None:
    record_event(
        action=action,
        actor_id=actor.id,
        acting_as=str(approval.party.enterprise_id or ""),
        object_type="contract",
        object_id=approval.contract_id,
        data={"approval": approval.id, **data},
    )
