"""The signing palette (SPEC D5, issue 13 item 8): what a party may apply, named so no two look
alike, with what it must apply marked.

An enterprise signs a contract with its official seal (公章) or contract seal (合同专用章);
its finance and HR seals are for other papers and never offered here. The legal
representative's seal and the handling person's signature are offered only to a party whose
sender asked for them (SPEC D2), and a person signs with their own signature only.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from portsign.accounts.models import User
from portsign.contracts.enums import PartyKind
from portsign.contracts.models import Party
from portsign.enterprises.rules import resolve_acting_as
from portsign.seals.domain.holders import usable_seals
from portsign.seals.models import Seal, SealKind, SealStatus

# The seals that bind an enterprise to a contract; either one satisfies "an enterprise seal".
COMPANY_KINDS = frozenset({SealKind.OFFICIAL, SealKind.CONTRACT})


@dataclass(frozen=True)
class Entry:
    seal: Seal
    label: str  # unique within the palette
    required: bool  # this kind (or, for company seals, one of them) must be applied


def allowed_kinds(party: Party) -> frozenset[str]:
    if party.kind == PartyKind.PERSON:
        return frozenset({SealKind.SIGNATURE})
    kinds = set(COMPANY_KINDS)
    if party.needs_legal_rep_seal:
        kinds.add(SealKind.LEGAL_REP)
    if party.needs_signature:
        kinds.add(SealKind.SIGNATURE)
    return frozenset(kinds)


def required_kinds(party: Party) -> frozenset[str]:
    if party.kind == PartyKind.PERSON:
        return frozenset({SealKind.SIGNATURE})
    kinds: set[str] = set(COMPANY_KINDS) if party.needs_seal else set()
    if party.needs_legal_rep_seal:
        kinds.add(SealKind.LEGAL_REP)
    if party.needs_signature:
        kinds.add(SealKind.SIGNATURE)
    return frozenset(kinds)


def seals_for(*, actor: User, party: Party, acting_as: str) -> list[Seal]:
    """The seals and signatures *actor* may apply for *party*: granted to them, active, and
    of a kind this party may use."""
    kinds = allowed_kinds(party)
    seals: list[Seal] = []
    if party.kind == PartyKind.ENTERPRISE:
        membership = resolve_acting_as(user=actor, acting_as=acting_as)
        if membership is not None and membership.enterprise_id == party.enterprise_id:
            seals = [s for s in usable_seals(membership) if s.kind in kinds]
    if SealKind.SIGNATURE in kinds:
        seals += own_signatures(actor)
    return seals


def own_signatures(actor: User) -> list[Seal]:
    return list(
        Seal.objects.filter(
            owner=actor, deleted_at__isnull=True, status=SealStatus.ACTIVE
        ).order_by("created_at")
    )


def entries(*, actor: User, party: Party, acting_as: str) -> list[Entry]:
    seals = seals_for(actor=actor, party=party, acting_as=acting_as)
    required = required_kinds(party)
    return [
        Entry(seal=seal, label=label, required=seal.kind in required)
        for seal, label in zip(seals, _labels(seals), strict=True)
    ]


def _named(seal: Seal) -> str:
    kind = str(SealKind(seal.kind).label)
    return seal.name if seal.name.endswith(kind) else f"{seal.name} · {kind}"


def _labels(seals: list[Seal]) -> list[str]:
    """ "name · kind" (the kind left out when the name already says it); seals that would still
    share a label get their seal code's last digits (or creation date) and id tail."""
    base = [_named(seal) for seal in seals]
    counts = Counter(base)
    labels = []
    for seal, label in zip(seals, base, strict=True):
        if counts[label] > 1:
            tail = f"…{seal.code[-4:]}" if seal.code else seal.created_at.strftime("%Y-%m-%d")
            label = f"{label} ({tail} · {seal.id[-4:]})"
        labels.append(label)
    return labels
