"""Fields filled in by a signing party (issue 6 §1: "fields are filled … by a party").

A template field may be filled by the party of one role (filled_by = party). Such values
cannot be written after anyone signs — that would change the signed page content — so a
contract with party fields has a fill-in phase between sending and the first signature:

1. On sending, only the parties with fields are asked (待我签署, "fill in your part"), all
   at once; everybody else waits, and nobody can sign.
2. Each party fills its fields; the values are checked like the sender's and drawn into the
   current PDF as a new version (kind `filled`), and the party goes back to waiting.
3. When the last party has filled in, signing starts as for any contract: the first
   signers are asked.

Fills are drawn outside any lock (drawing takes a moment) and stored with a compare-and-set
on the contract's current document: two parties filling at the same moment each draw onto
the other's result, never over it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portsign.accounts.models import User
from portsign.common.audit import record_event
from portsign.common.errors import Conflict
from portsign.contracts.domain import documents, templates
from portsign.contracts.domain.contracts import (
    acting_party,
    activate_next,
    next_version_number,
    notify_parties,
    visible_contract,
)
from portsign.contracts.domain.flatten import flatten
from portsign.contracts.enums import ContractStatus, PartyStatus
from portsign.contracts.models import Contract, Document, Party, Version
from portsign.contracts.template_models import PartyFill, TemplateContract, TemplateField

ATTEMPTS = 3  # draws retried when another party's fill landed first


def fields_of(fill: PartyFill) -> list[TemplateField]:
    """The copied field definitions of *fill*, as unsaved TemplateFields."""
    return [templates.field_from_snapshot(raw) for raw in fill.fields]


def pending_fill(party: Party) -> PartyFill | None:
    """The fields *party* still has to fill in, if any."""
    return PartyFill.objects.filter(party=party, filled_at__isnull=True).first()


def waiting_for(contract: Contract) -> list[str]:
    """The roles whose parties have not filled in their fields yet, in signing order."""
    return list(
        PartyFill.objects.filter(contract=contract, filled_at__isnull=True)
        .order_by("party__position", "party_id")
        .values_list("role", flat=True)
    )


def require_filled(party: Party) -> None:
    """Nobody signs while fields are unfilled; a party that fills is told to do that first."""
    if pending_fill(party) is not None:
        raise Conflict(
            _("Fill in your fields first: signing starts once every party has filled in."),
            code="fill_first",
        )


def fill(*, actor: User, contract_id: str, acting_as: str, values: Mapping[str, Any]) -> Contract:
    """The acting party fills in its fields; the last fill starts the signing."""
    contract = visible_contract(actor=actor, contract_id=contract_id)
    party = acting_party(actor=actor, contract=contract, acting_as=acting_as)
    pending = pending_fill(party)
    if pending is None:
        raise Conflict(_("This party has no fields to fill in."), code="nothing_to_fill")
    fields = fields_of(pending)
    clean = templates.clean_values(fields, values)
    stamps = templates.stamps(fields, clean)
    for _attempt in range(ATTEMPTS):
        base = Contract.objects.select_related("current").get(pk=contract.pk).current
        # Nothing to draw (only optional fields, left blank): the version repeats the base.
        document = (
            documents.store_pdf(flatten(documents.read_document(base), stamps)) if stamps else base
        )
        if _record(actor, contract.pk, pending.pk, base.pk, document, clean):
            return Contract.objects.get(pk=contract.pk)
    raise Conflict(
        _("Other parties are filling in this contract right now. Try again in a moment."),
        code="contract_busy",
    )


def _record(
    actor: User,
    contract_id: str,
    fill_id: int,
    base_id: str,
    document: Document,
    values: dict[str, Any],
) -> bool:
    """Store the filled version if the contract is still at *base_id*; False: draw again."""
    with transaction.atomic():
        contract = Contract.objects.select_for_update().get(pk=contract_id)
        pending = PartyFill.objects.select_for_update().select_related("party").get(pk=fill_id)
        party = pending.party
        if pending.filled_at is not None:
            raise Conflict(_("These fields were filled in already."), code="already_filled")
        if contract.status != ContractStatus.SIGNING or party.status != PartyStatus.PENDING:
            raise Conflict(_("This contract is not being signed."), code="not_signing")
        if contract.current_id != base_id:
            return False
        now = timezone.now()
        Version.objects.create(
            contract=contract,
            number=next_version_number(contract),
            kind=Version.Kind.FILLED,
            document=document,
            party=party,
        )
        contract.current = document
        contract.save(update_fields=["current"])
        pending.values, pending.filled_at, pending.filled_by = values, now, actor
        pending.save(update_fields=["values", "filled_at", "filled_by"])
        link = TemplateContract.objects.select_for_update().filter(contract=contract).first()
        if link is not None:
            link.values = {**link.values, **values}
            link.save(update_fields=["values"])
        # Done: back to waiting until it is this party's turn to sign.
        party.status = PartyStatus.WAITING
        party.save(update_fields=["status"])
        record_event(
            action="contract.fields_filled",
            actor_id=actor.id,
            acting_as=party.enterprise_id or "",
            object_type="contract",
            object_id=contract.id,
            data={
                "party": party.id,
                "role": pending.role,
                "fields": ",".join(sorted(values)),
                "sha256": document.sha256,
            },
        )
        if not PartyFill.objects.filter(contract=contract, filled_at__isnull=True).exists():
            notify_parties(contract, activate_next(contract))
    return True
