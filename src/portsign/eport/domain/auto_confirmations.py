"""自动确认 (EPORT.md §4.2): a consignor lets one broker's entrustments be confirmed at once.

Switched on by the consignor's legal-person card (its strongest identity), naming the seal the
confirmations are signed with; every use is an audit event pointing at the authorization, and
switching it off stops the next one. The confirmation is then an ordinary enterprise signature:
the consignor's certificate, the seal's image in its box.
"""

from __future__ import annotations

import logging

from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portsign.accounts.models import User
from portsign.common.audit import record_event
from portsign.common.errors import Conflict, DomainError, Invalid
from portsign.contracts.domain import signing as contract_signing
from portsign.contracts.domain.signing import Mark
from portsign.eport.domain import agreements, brokers, entrustments
from portsign.eport.enums import EntrustmentSide
from portsign.eport.models import AutoConfirmation, Card, Entrustment
from portsign.pki import pades
from portsign.pki.applications import signing_certificate
from portsign.seals.models import Seal, SealKind, SealStatus

log = logging.getLogger(__name__)
SEAL_KINDS = (SealKind.OFFICIAL, SealKind.CONTRACT)


def live(consignor_id: str, broker_id: str) -> AutoConfirmation | None:
    return (
        AutoConfirmation.objects.select_related("seal", "authorized_by")
        .filter(consignor_id=consignor_id, broker_id=broker_id, revoked_at__isnull=True)
        .first()
    )


def of_consignor(*, actor: User, consignor_id: str) -> list[AutoConfirmation]:
    agreements.readable_enterprise(actor, consignor_id)
    return list(
        AutoConfirmation.objects.filter(consignor_id=consignor_id)
        .select_related("broker__enterprise", "seal", "authorized_by")
        .order_by("-created_at")
    )


def switch_on(
    *, actor: User, acting: Card | None, consignor_id: str, broker_id: str, seal_id: str
) -> AutoConfirmation:
    consignor = agreements.readable_enterprise(actor, consignor_id)
    card = agreements.require_legal_person_card(actor, consignor, acting)
    broker = brokers.registered(broker_id)
    seal = Seal.objects.filter(
        pk=seal_id,
        enterprise=consignor,
        kind__in=SEAL_KINDS,
        status=SealStatus.ACTIVE,
        deleted_at__isnull=True,
    ).first()
    if seal is None:
        message = _("Choose an official or contract seal of the enterprise that is in use.")
        raise Invalid(message, code="seal_invalid", fields={"seal_id": message})
    try:
        with transaction.atomic():
            made = AutoConfirmation.objects.create(
                consignor=consignor, broker=broker, seal=seal, authorized_by=actor, card=card
            )
            _audit(made, actor, "on")
    except IntegrityError as exc:
        raise Conflict(
            _("Auto-confirmation is already on for this broker."), code="exists"
        ) from exc
    return made


def switch_off(*, actor: User, acting: Card | None, consignor_id: str, broker_id: str) -> None:
    consignor = agreements.readable_enterprise(actor, consignor_id)
    agreements.require_legal_person_card(actor, consignor, acting)
    with transaction.atomic():
        found = live(consignor_id, broker_id)
        if found is None:
            raise Conflict(_("Auto-confirmation is not on for this broker."), code="not_on")
        AutoConfirmation.objects.filter(pk=found.pk).update(revoked_at=timezone.now())
        _audit(found, actor, "off")


def _audit(row: AutoConfirmation, actor: User, what: str) -> None:
    record_event(
        action=f"eport.auto_confirmation_{what}",
        actor_id=actor.id,
        acting_as=row.consignor_id,
        object_type="eport_auto_confirmation",
        object_id=row.id,
        data={"broker": row.broker_id, "seal": row.seal_id},
    )


def confirm_if_authorized(entrustment: Entrustment) -> bool:
    """A broker's entrustment under a live authorization: the consignor's side is signed at
    once with the seal it names. Without a usable certificate it is left to confirm by hand."""
    standing = live(entrustment.consignor_id, entrustment.broker_id)
    if standing is None:
        return False
    certificate = signing_certificate(enterprise_id=entrustment.consignor_id)
    if certificate is None:
        log.warning("auto-confirmation of %s skipped: no enterprise certificate", entrustment.id)
        return False
    party = entrustment.contract.parties.get(enterprise_id=entrustment.consignor_id)
    box = entrustment.boxes[EntrustmentSide.CONSIGNOR]
    mark = Mark(
        seal_id=standing.seal_id,
        page=int(box["page"]),
        x=box["x"] + box["width"] * 0.3,
        y=box["y"] + box["height"] * 0.05,
        width=min(box["width"] * 0.4, 0.16),
    )

    def make(pdf: bytes, field: str) -> bytes:
        with default_storage.open(standing.seal.image_path) as handle:
            image = handle.read()
        return pades.sign_approval(
            pdf,
            certificate_id=certificate.id,
            marks=[pades.Mark(page=mark.page, x=mark.x, y=mark.y, width=mark.width, png=image)],
            field_name=field,
            reason=f"代理报关委托 · 自动确认（授权 {standing.id}）",
            signer_name=entrustment.consignor.name,
        )

    try:
        contract_signing.sign_managed(
            contract_id=entrustment.contract_id,
            party_id=party.id,
            actor=standing.authorized_by,
            make=make,
            certificate_ids=[certificate.id],
            marks=[mark],
            allowed=[standing.seal],
        )
    except DomainError:
        log.exception("auto-confirmation of %s failed; left to confirm by hand", entrustment.id)
        return False
    entrustments.became_effective(entrustment.id, actor=standing.authorized_by, auto=standing)
    return True
