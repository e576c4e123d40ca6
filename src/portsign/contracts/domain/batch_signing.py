"""批量签署 (SPEC D5, issue 13 item 16): sign several contracts from 待我签署 with one seal and
one intent code.

1. The signer picks contracts and one seal. Each contract's marks are that seal on every seal
   area the sender defined for the signer's party (and, if asked, the date stamp on its date
   areas); a contract without a seal area for the party cannot be batch-signed (the signer
   places its marks by hand instead). Every act is checked now exactly as a single act is.
2. One code is sent, bound to the SHA-256 of the exact list of (contract, party, marks): a code
   for another list is refused, and the list cannot change between the code and the signing.
3. Confirming consumes the code and marks the batch used once (a double click signs once),
   then signs the contracts one by one. A contract that cannot be signed any more (revoked,
   signed meanwhile by a colleague) is reported as failed; the others go on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portsign.accounts.domain.codes import consume_code, issue_code
from portsign.accounts.enums import CodePurpose
from portsign.accounts.models import User
from portsign.accounts.validators import parse_account
from portsign.common.audit import record_event
from portsign.common.errors import Conflict, DomainError, Invalid, NotFound
from portsign.contracts.domain import areas, signing
from portsign.contracts.domain.contracts import acting_party, visible_contract
from portsign.contracts.domain.palette import COMPANY_KINDS, own_signatures
from portsign.contracts.models import Contract, SigningBatch
from portsign.enterprises.rules import resolve_acting_as
from portsign.seals.domain.holders import usable_seals
from portsign.seals.models import Seal

MAX_CONTRACTS = 20


@dataclass(frozen=True)
class Result:
    contract_id: str
    title: str
    status: str  # "signed" or "failed"
    error: str = ""


def _raw(mark: signing.Mark) -> dict[str, Any]:
    """A validated mark back in API form, so the act is re-checked from it at signing time."""
    base: dict[str, Any] = {"page": mark.page, "x": mark.x, "y": mark.y, "width": mark.width}
    return {**base, "seal_id": mark.seal_id} if mark.seal_id else {**base, "date": True}


def marks_for(
    *, actor: User, contract: Contract, acting_as: str, seal_id: str, date: bool
) -> list[dict[str, Any]]:
    """The seal on each of the party's seal areas (the date stamp on its date areas)."""
    party = acting_party(actor=actor, contract=contract, acting_as=acting_as)
    found = areas.areas_for(contract=contract, party=party)
    marks: list[dict[str, Any]] = []
    for area in found:
        if area.kind == "seal":
            marks.append({**area.box(), "seal_id": seal_id})
        elif area.kind == "date" and date:
            marks.append({**area.box(), "date": True})
    if not any("seal_id" in m for m in marks):
        raise Invalid(
            _("“%(title)s” has no signing area for your party. Sign it on its own page.")
            % {"title": contract.title},
            code="batch_no_areas",
            fields={"contract_ids": contract.id},
        )
    return marks


def seals_offered(*, actor: User, acting_as: str) -> list[Seal]:
    """The seals a batch may use: the enterprise's official and contract seals granted to the
    signer, or, acting personally, their own signatures. Each act is still checked in full."""
    membership = resolve_acting_as(user=actor, acting_as=acting_as)
    if membership is None:
        return own_signatures(actor)
    return [s for s in usable_seals(membership) if s.kind in COMPANY_KINDS]


def _digest(items: list[dict[str, Any]]) -> str:
    text = json.dumps(items, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _ids(contract_ids: list[str]) -> list[str]:
    ids = list(dict.fromkeys(i for i in contract_ids if i))
    if not 1 <= len(ids) <= MAX_CONTRACTS:
        raise Invalid(
            _("Choose 1 to %(n)d contracts to sign together.") % {"n": MAX_CONTRACTS},
            code="batch_size",
            fields={"contract_ids": _("1 to %(n)d.") % {"n": MAX_CONTRACTS}},
        )
    return ids


def request_batch(
    *, actor: User, acting_as: str, contract_ids: list[str], seal_id: str, date: bool = True
) -> SigningBatch:
    """Check every act and send one code for exactly this list."""
    items: list[dict[str, Any]] = []
    for contract_id in _ids(contract_ids):
        contract = visible_contract(actor=actor, contract_id=contract_id)
        raw = marks_for(
            actor=actor, contract=contract, acting_as=acting_as, seal_id=seal_id, date=date
        )
        _contract, party, parsed, _allowed = signing.prepare(
            actor, contract_id, acting_as, raw, True
        )
        items.append(
            {"contract": contract_id, "party": party.id, "marks": [_raw(m) for m in parsed]}
        )
    digest = _digest(items)
    address = actor.phone or actor.email
    if not address:
        raise Conflict(
            _("Your account has no mobile number or e-mail for the code."), code="no_address"
        )
    issue_code(to=address, purpose=CodePurpose.SIGN, binding=digest, actor_id=actor.id)
    return SigningBatch.objects.create(
        user=actor,
        acting_as=acting_as,
        items=items,
        digest=digest,
        expires_at=timezone.now() + dt.timedelta(seconds=settings.CODE_TTL_SECONDS),
    )


def open_batch(*, actor: User, batch_id: str) -> SigningBatch:
    batch = SigningBatch.objects.filter(pk=batch_id, user=actor).first()
    if batch is None:
        raise NotFound()
    return batch


def sign_batch(*, actor: User, batch_id: str, code: str) -> list[Result]:
    """Consume the code for the batch's list, once, then sign each contract in turn."""
    batch = open_batch(actor=actor, batch_id=batch_id)
    if batch.used_at is not None or batch.expires_at <= timezone.now():
        raise Conflict(
            _("This batch was signed or has expired. Choose the contracts again."),
            code="batch_used",
        )
    consume_code(
        account=parse_account(actor.phone or actor.email or ""),
        purpose=CodePurpose.SIGN,
        code=code,
        binding=batch.digest,
    )
    with transaction.atomic():  # a second click finds it used
        taken = SigningBatch.objects.filter(pk=batch.id, used_at__isnull=True).update(
            used_at=timezone.now()
        )
    if not taken:
        raise Conflict(_("This batch is being signed already."), code="batch_used")
    results = [_sign_one(actor, batch.acting_as, item) for item in batch.items]
    SigningBatch.objects.filter(pk=batch.id).update(results=[r.__dict__ for r in results])
    record_event(
        action="contract.batch_signed",
        actor_id=actor.id,
        acting_as="" if batch.acting_as == "personal" else batch.acting_as,
        object_type="signing_batch",
        object_id=batch.id,
        data={
            "signed": sum(r.status == "signed" for r in results),
            "failed": sum(r.status == "failed" for r in results),
        },
    )
    return results


def _sign_one(actor: User, acting_as: str, item: dict[str, Any]) -> Result:
    contract_id = str(item["contract"])
    title = Contract.objects.filter(pk=contract_id).values_list("title", flat=True).first() or ""
    try:
        contract, party, parsed, allowed = signing.prepare(
            actor, contract_id, acting_as, item["marks"], True
        )
        if party.id != item["party"] or [_raw(m) for m in parsed] != item["marks"]:
            raise Conflict(_("The contract changed since the code was sent."), code="changed")
        signing.perform(contract, party, parsed, allowed, actor, True)
    except DomainError as exc:
        return Result(contract_id, title, "failed", str(exc.message))
    return Result(contract_id, title, "signed")
