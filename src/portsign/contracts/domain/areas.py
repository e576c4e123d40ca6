"""Signing areas (issue 13 item 11): where a party is expected to seal, sign or date.

A contract made from a template carries its template's areas (copied when it was made); on an
uploaded contract the sender draws them on the draft, per party. Either way they are
suggestions on the signing page — the signer may place marks anywhere — and the places
批量签署 puts the chosen seal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from portsign.accounts.models import User
from portsign.common.audit import record_event
from portsign.common.errors import Conflict, Invalid, NotFound
from portsign.contracts.domain.contracts import visible_contract
from portsign.contracts.enums import ContractStatus
from portsign.contracts.models import Contract, Party, SigningArea
from portsign.contracts.template_models import TemplateContract

MAX_AREAS = 20  # per party


@dataclass(frozen=True)
class Area:
    kind: str  # seal | signature | date
    page: int
    x: float
    y: float
    width: float
    height: float

    def box(self) -> dict[str, float | int]:
        """As a mark: the page, the area's top-left corner and its width."""
        return {"page": self.page, "x": self.x, "y": self.y, "width": self.width}

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.box(), "height": self.height}


def suggested(contract_id: str) -> dict[str, list[dict[str, Any]]]:
    """Every party's areas by party id: the template's, else the sender's."""
    link = TemplateContract.objects.filter(contract_id=contract_id).first()
    if link is not None and link.suggested_marks:
        return dict(link.suggested_marks)
    found: dict[str, list[dict[str, Any]]] = {}
    for row in SigningArea.objects.filter(party__contract_id=contract_id):
        found.setdefault(row.party_id, []).append(_area(row).as_dict())
    return found


def areas_for(*, contract: Contract, party: Party) -> list[Area]:
    return [Area(**m) for m in suggested(contract.id).get(party.id, [])]


def _area(row: SigningArea) -> Area:
    return Area(row.kind, row.page, row.x, row.y, row.width, row.height)


def _fraction(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise Invalid(
            _("%(name)s must be a number between 0 and 1.") % {"name": name},
            code="area_invalid",
            fields={name: _("Between 0 and 1.")},
        )
    return float(value)


def _draft_party(actor: User, contract_id: str, party_id: str) -> tuple[Contract, Party]:
    """The sender's own draft and one of its parties (anyone else's: 404)."""
    contract = visible_contract(actor=actor, contract_id=contract_id)
    if contract.sender_id != actor.id:
        raise NotFound()
    if contract.status != ContractStatus.DRAFT:
        raise Conflict(
            _("Signing areas are drawn on the draft, before it is sent."), code="not_draft"
        )
    party = contract.parties.filter(pk=party_id).first()
    if party is None:
        raise NotFound()
    return contract, party


def add_area(
    *,
    actor: User,
    contract_id: str,
    party_id: str,
    kind: str,
    page: object,
    x: object,
    y: object,
    width: object,
    height: object,
) -> SigningArea:
    contract, party = _draft_party(actor, contract_id, party_id)
    if kind not in SigningArea.Kind.values:
        raise Invalid(_("The kind is seal, signature or date."), code="area_invalid")
    if (
        isinstance(page, bool)
        or not isinstance(page, int)
        or not 1 <= page <= contract.current.pages
    ):
        raise Invalid(
            _("Pages are 1 to %(n)d.") % {"n": contract.current.pages}, code="area_invalid"
        )
    box = [_fraction(v, n) for v, n in ((x, "x"), (y, "y"), (width, "width"), (height, "height"))]
    if not 0.02 <= box[2] <= 0.6 or box[0] + box[2] > 1.0001 or box[1] + box[3] > 1.0001:
        raise Invalid(
            _("An area is 2% to 60% of the page wide and stays on the page."), code="area_invalid"
        )
    with transaction.atomic():
        party = Party.objects.select_for_update().get(pk=party.id)
        if party.areas.count() >= MAX_AREAS:
            raise Conflict(
                _("A party has at most %(n)d signing areas.") % {"n": MAX_AREAS}, code="too_many"
            )
        area = SigningArea.objects.create(
            party=party, kind=kind, page=page, x=box[0], y=box[1], width=box[2], height=box[3]
        )
        _audit(actor, contract, "contract.area_added", area)
    return area


def remove_area(*, actor: User, contract_id: str, area_id: str) -> None:
    contract = visible_contract(actor=actor, contract_id=contract_id)
    area = SigningArea.objects.filter(pk=area_id, party__contract_id=contract.id).first()
    if area is None:
        raise NotFound()
    _draft_party(actor, contract_id, area.party_id)
    with transaction.atomic():
        _audit(actor, contract, "contract.area_removed", area)
        area.delete()


def _audit(actor: User, contract: Contract, action: str, area: SigningArea) -> None:
    record_event(
        action=action,
        actor_id=actor.id,
        acting_as=contract.sender_enterprise_id or "",
        object_type="contract",
        object_id=contract.id,
        data={"party": area.party_id, "kind": area.kind, "page": area.page},
    )
