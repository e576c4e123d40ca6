"""Voiding a completed contract (已作废, issue 6 §4).

Any party (or the sender) proposes voiding with a reason. PortSign writes a void statement
(作废声明) naming the contract, its final document hash and the reason, and sends it to the same
parties as a contract of its own, in parallel. When every party has signed the statement, the
original becomes 已作废 and links to it. A statement that is rejected or expires voids nothing,
and a new one may be proposed.

The statement is PortSign's text, not a contract someone wrote. Sent for the enterprise that sent
the original, it carries the original's business values (业务字段, those the enterprise still
defines): it is about the same business.
"""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portsign.accounts.models import User
from portsign.common.audit import record_event
from portsign.common.errors import Conflict, Forbidden
from portsign.common.text import clean_text
from portsign.contracts.domain import contracts as domain
from portsign.contracts.domain import involvement
from portsign.contracts.domain.pdftext import Line, render
from portsign.contracts.enums import OPEN_STATUSES, ContractStatus, Ordering, PartyKind
from portsign.contracts.models import BusinessField, Contract, Party
from portsign.enterprises.enums import Permission
from portsign.enterprises.rules import require, resolve_acting_as


def statement_pdf(contract: Contract, reason: str, parties: list[Party]) -> bytes:
    """The void statement: Noto CJK text on A4 (pdftext, shared with the evidence report)."""
    completed = timezone.localtime(contract.completed_at) if contract.completed_at else None
    body = (
        f"原合同《{contract.title}》（合同编号 {contract.id}，最终文件 SHA-256 "
        f"{contract.current.sha256}，"
        f"{'于 ' + completed.strftime('%Y年%m月%d日') + ' ' if completed else ''}签署完成），"
        f"经各方协商一致，自本声明经各方电子签署完成之日起作废，各方不再依据原合同享有权利、"
        f"承担义务。"
    )
    lines = [
        Line("合同作废声明", 40, bold=True, gap=24),
        Line(body, 22, gap=14),
        Line(f"作废原因：{reason}", 22, gap=24),
        Line("签署方：", 22),
    ]
    for party in parties:
        name = party.enterprise.name if party.enterprise else party.enterprise_name
        lines.append(Line(f"    {name or (party.user.name if party.user else party.account)}", 22))
    return render(lines)


def _proposer_may(actor: User, contract: Contract, acting_as: str) -> None:
    """The sender, or a party acting as itself (enterprise: a member who may apply seals)."""
    if contract.sender_id == actor.id:
        return
    membership = resolve_acting_as(user=actor, acting_as=acting_as)
    if membership is None:
        if contract.parties.filter(kind=PartyKind.PERSON, user=actor).exists():
            return
    else:
        require(membership, Permission.USE_SEALS)
        if contract.parties.filter(enterprise_id=membership.enterprise_id).exists():
            return
    raise Forbidden(_("Only the sender or a party may propose voiding."), code="not_a_party")


def _carried_fields(contract: Contract, acting_as: str) -> dict[str, str]:
    """The original's business values, when the statement is sent for the same enterprise (a
    party's enterprise has business fields of its own)."""
    if contract.sender_enterprise_id is None or acting_as != contract.sender_enterprise_id:
        return {}
    defined = set(
        BusinessField.objects.filter(enterprise_id=acting_as).values_list("key", flat=True)
    )
    return {k: v for k, v in contract.business_fields.items() if k in defined}


def propose_void(*, actor: User, contract_id: str, acting_as: str, reason: str) -> Contract:
    clean = clean_text(
        reason,
        field="reason",
        min_length=2,
        max_length=300,
        code="reason_required",
        message=_("Give a reason (2 to 300 characters)."),
    )
    contract = domain.visible_contract(actor=actor, contract_id=contract_id)
    if contract.status != ContractStatus.COMPLETED:
        raise Conflict(_("Only a completed contract can be voided."), code="not_completed")
    _proposer_may(actor, contract, acting_as)
    if contract.void_statements.filter(status__in=OPEN_STATUSES).exists():
        raise Conflict(
            _("A void statement for this contract is already being signed."), code="void_pending"
        )
    parties = list(contract.parties.select_related("enterprise", "user"))
    pdf = statement_pdf(contract, clean, parties)
    statement = domain.create_draft(
        actor=actor,
        upload=SimpleUploadedFile("void-statement.pdf", pdf),
        # The statement is a Chinese legal document, like the seals: its title is not translated.
        title=f"作废声明：{contract.title}"[:100],
        acting_as=acting_as,
        ordering=Ordering.PARALLEL,
        business_fields=_carried_fields(contract, acting_as),
        business_fields_required=False,  # a statement about a contract, not a new business
    )
    with transaction.atomic():
        Contract.objects.filter(pk=statement.pk).update(voids=contract)
        for party in parties:
            Party.objects.create(
                contract=statement,
                position=party.position,
                kind=party.kind,
                account=party.account,
                user=party.user,
                enterprise_name=party.enterprise_name,
                enterprise=party.enterprise,
                needs_seal=party.needs_seal,
                needs_legal_rep_seal=party.needs_legal_rep_seal,
                needs_signature=party.needs_signature,
            )
        involvement.refresh(statement)  # the same parties see the statement in their boxes
        record_event(
            action="contract.void_proposed",
            actor_id=actor.id,
            acting_as=acting_as if acting_as != "personal" else "",
            object_type="contract",
            object_id=contract.id,
            data={"statement": statement.id, "reason": clean},
        )
    return domain.send(actor=actor, contract_id=statement.id)


def on_statement_completed(statement: Contract) -> None:
    """Called inside the transaction that completes *statement*: void the original."""
    if statement.voids_id is None:
        return
    original = Contract.objects.select_for_update().get(pk=statement.voids_id)
    # move_status audits the change and emits the "voided" event.
    domain.move_status(original, ContractStatus.VOIDED, actor_id="", statement=statement.id)
