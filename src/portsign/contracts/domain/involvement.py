"""Keeping `Involvement` (who has a contract in their boxes) exactly in sync.

An identity is "u:<user id>" (a person, acting personally) or "e:<enterprise id>". A contract
involves its sender identity (the enterprise it was sent for, else the sending person) and each
party linked to an identity: a person party's account, an enterprise party's enterprise. The
rows copy the contract's columns that boxes filter on, so the boxes never join the contract
table to choose or count their rows.

Callers hold the contract row locked (select_for_update) while they change what a row copies,
as `move_status` requires anyway; `link_parties` locks the contracts itself. So a status
change and a late link never interleave and leave a row with an old status.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from portsign.contracts.enums import PartyKind
from portsign.contracts.models import Contract, Involvement, Party


def person(user_id: str) -> str:
    return f"u:{user_id}"


def enterprise(enterprise_id: str) -> str:
    return f"e:{enterprise_id}"


def acting_identity(user_id: str, enterprise_id: str | None) -> str:
    """The identity someone acts as: the enterprise, or themselves personally."""
    return enterprise(enterprise_id) if enterprise_id else person(user_id)


def identities(contract: Contract) -> set[str]:
    """Every identity that has *contract* in its boxes, from its sender and parties."""
    found = {acting_identity(contract.sender_id, contract.sender_enterprise_id)}
    for kind, user_id, enterprise_id in contract.parties.values_list(
        "kind", "user_id", "enterprise_id"
    ):
        if kind == PartyKind.PERSON and user_id:
            found.add(person(user_id))
        elif kind == PartyKind.ENTERPRISE and enterprise_id:
            found.add(enterprise(enterprise_id))
    return found


def _row(identity: str, contract: Contract) -> Involvement:
    sender = acting_identity(contract.sender_id, contract.sender_enterprise_id)
    return Involvement(
        identity=identity,
        contract_id=contract.pk,
        sender_id=contract.sender_id if identity == sender else None,
        status=contract.status,
        created_at=contract.created_at,
        contract_type_id=contract.contract_type_id,
        sent_at=contract.sent_at,
        completed_at=contract.completed_at,
        valid_until=contract.valid_until,
    )


def refresh(contract: Contract) -> None:
    """Rewrite the contract's rows after its parties changed (a draft, a void statement)."""
    wanted = identities(contract)
    Involvement.objects.filter(contract=contract).exclude(identity__in=wanted).delete()
    Involvement.objects.bulk_create(
        [_row(identity, contract) for identity in sorted(wanted)],
        ignore_conflicts=True,  # rows that are already there stay as they are
    )


def copy_status(contract: Contract) -> None:
    """After the contract's status changed, with its times (only `move_status` changes them)."""
    Involvement.objects.filter(contract=contract).update(
        status=contract.status, sent_at=contract.sent_at, completed_at=contract.completed_at
    )


def link_parties(parties: QuerySet[Party], identity: str, kind: str, **link: Any) -> int:
    """Link *parties* (those not linked yet) with `update(**link)`, as when an invited account
    registers or a named enterprise is verified, and add *identity* to the contracts of those
    of *kind*. One transaction, so a linked party never lacks its row; the contracts are locked
    first, in id order, as signing locks a contract before its party, so a status change cannot
    slip between reading a contract and copying it."""
    found = list(parties.values_list("pk", "contract_id", "kind"))
    if not found:  # the usual case, on every box listing: one SELECT
        return 0
    with transaction.atomic():
        ids = sorted({contract_id for _pk, contract_id, _kind in found})
        contracts = Contract.objects.select_for_update().filter(pk__in=ids).order_by("pk")
        locked = {contract.pk: contract for contract in contracts}
        linked = parties.filter(pk__in=[pk for pk, _c, _k in found]).update(**link)
        involved = sorted({c for _pk, c, party_kind in found if party_kind == kind})
        Involvement.objects.bulk_create(
            [_row(identity, locked[c]) for c in involved if c in locked],
            ignore_conflicts=True,  # already involved, as sender or by another party
        )
    return linked
