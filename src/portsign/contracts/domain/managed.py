"""Contracts another app runs on the engine (SPEC E6: a 代理报关委托 is a contract of its
consignor and its broker, signed with their E-Port cards).

The app decides who may act and proves each intent itself (a card's PIN); this module opens the
contract between enterprises with a generated PDF (`open_contract`), and ends it when the app's
record ends (`close`). Signing goes through `signing.sign_managed`, so every act is a version,
an audit event and, at the end, a B-LTA archive like any other contract's. The contract's own
pages and API refuse to sign, reject or revoke it (`contracts.refuse_managed`). The initiator's
act may come with the opening (`FirstSignature`): signed before anything is written, so an
intent that fails (a wrong PIN) leaves no contract behind, and one proof of intent suffices.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

from portsign.accounts.models import User
from portsign.contracts.domain import documents, involvement, numbers, signing
from portsign.contracts.domain.contracts import activate_next, move_status
from portsign.contracts.enums import ContractStatus, Ordering, PartyKind, PartyStatus
from portsign.contracts.models import Contract, Party, Version
from portsign.enterprises.models import Enterprise


@dataclass(frozen=True)
class EnterpriseParty:
    enterprise: Enterprise
    signer: User  # who is told and signs for it (its card holder)


@dataclass(frozen=True)
class FirstSignature:
    """The initiating party's act, made as the contract opens: *make* gets the prepared PDF and
    the field name and returns it signed (the app proves the intent inside it, e.g. with the
    card's PIN). If the signed PDF cannot then be recorded, the contract is revoked with
    *abandoned* as the reason."""

    party: int  # its index in `parties`
    actor: User
    make: Callable[[bytes, str], bytes]
    certificate_ids: list[str]
    abandoned: str


FIRST_VERSION = 1  # the prepared PDF; the first act makes the next one


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
    first: FirstSignature | None = None,
) -> tuple[Contract, list[Party]]:
    """A contract in 签署中 with every party asked at once (parallel), and the *first* party's
    act recorded if given; nobody is notified: the managing app tells its users in its own
    words. Signing and storing happen before the transaction, recording the act after it."""
    normalised = documents.prepare(pdf, [])
    signed = first.make(normalised, signing.managed_field(FIRST_VERSION + 1)) if first else None
    prepared = documents.store_pdf(normalised)
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
            contract=contract, number=FIRST_VERSION, kind=Version.Kind.PREPARED, document=prepared
        )
        involvement.refresh(contract)
        move_status(
            contract, ContractStatus.SIGNING, actor_id=sender.id, acting_as=sender_enterprise.id
        )
        activate_next(contract)
    if first is not None and signed is not None:
        _record_first(contract, made[first.party], first, signed)
    for party in made:
        party.refresh_from_db()
    return contract, made


def _record_first(contract: Contract, party: Party, first: FirstSignature, signed: bytes) -> None:
    try:
        signing.record_managed(
            contract_id=contract.id,
            party_id=party.id,
            actor=first.actor,
            signed=signed,
            certificate_ids=first.certificate_ids,
        )
    except Exception:
        with transaction.atomic():  # the intent was proved and signed: storage or the DB failed
            close(
                contract.id, ContractStatus.REVOKED, actor_id=first.actor.id, reason=first.abandoned
            )
        raise
    contract.refresh_from_db()


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
