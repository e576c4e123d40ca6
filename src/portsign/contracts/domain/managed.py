"""Contracts another app runs on the engine (SPEC E6: a 代理报关委托 is a contract of its
consignor and its broker, signed with their E-Port cards).

The app decides who may act and proves each intent itself (a card's PIN); this module opens the
contract between enterprises with a generated PDF (`open_contract`), and ends it when the app's
record ends (`close`). Signing goes through `signing.sign_managed`, so every act is a version,
an audit event and, at the end, a B-LTA archive like any other contract's. The contract's own
pages and API refuse to sign, reject or revoke it (`contracts.refuse_managed`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction

from portsign.accounts.models import User
from portsign.contracts.domain import documents, involvement, numbers
from portsign.contracts.domain.contracts import activate_next, move_status
from portsign.contracts.enums import ContractStatus, Ordering, PartyKind, PartyStatus
from portsign.contracts.models import Contract, Party, Version
from portsign.enterprises.models import Enterprise


@dataclass(frozen=True)
class EnterpriseParty:
    enterprise: Enterprise
    signer: User  # who is told and signs for it (its card holder)


def _address(user: User) -> str:
    return user.phone or user.email or ""


def open_contract(
    *,
    managed_by: str,
    sender: User,
    sender_enterprise: Enterprise,
    title: str,
    pdf: bytes,
    parties: list[EnterpriseParty],
    deadline: dt.datetime,
    valid_until: dt.date | None = None,
) -> tuple[Contract, list[Party]]:
    """A contract in 签署中 with every party asked at once (parallel); nobody is notified:
    the managing app tells its users in its own words."""
    prepared = documents.store_pdf(documents.prepare(pdf, []))
    with transaction.atomic():
        contract = Contract.objects.create(
            number=numbers.next_number(),
            title=title[:100],
            sender=sender,
            sender_enterprise=sender_enterprise,
            ordering=Ordering.PARALLEL,
            deadline=deadline,
            body=prepared,
            current=prepared,
            valid_until=valid_until,
            managed_by=managed_by,
        )
        made = [
            Party.objects.create(
                contract=contract,
                position=position,
                kind=PartyKind.ENTERPRISE,
                account=_address(party.signer),
                user=party.signer,
                enterprise_name=party.enterprise.name,
                enterprise=party.enterprise,
                needs_seal=True,
            )
            for position, party in enumerate(parties, start=1)
        ]
        Version.objects.create(
            contract=contract, number=1, kind=Version.Kind.PREPARED, document=prepared
        )
        involvement.refresh(contract)
        move_status(
            contract, ContractStatus.SIGNING, actor_id=sender.id, acting_as=sender_enterprise.id
        )
        activate_next(contract)
        for party in made:
            party.refresh_from_db()
    return contract, made


def close(contract_id: str, to: str, *, actor_id: str, reason: str) -> None:
    """End a contract still being signed (revoked, rejected, expired) with its app's record;
    a contract that already ended is left as it is. Inside the caller's transaction. The app
    tells the parties (once, in its own words)."""
    contract = Contract.objects.select_for_update().get(pk=contract_id)
    if contract.status != ContractStatus.SIGNING:
        return
    if to == ContractStatus.REJECTED:
        contract.parties.filter(status=PartyStatus.PENDING).update(
            status=PartyStatus.REJECTED, reason=reason[:300]
        )
    contract.reason = reason[:300]
    move_status(contract, to, actor_id=actor_id, reason=reason[:300])
