"""Signing a contract (SPEC D5): the palette, marks, the intent code, and the signature.

1. The signer picks marks from the palette — exactly the seals they may apply for the acting
   enterprise, their own signatures, a date stamp — and asks for an intent code. The code is
   bound to this contract, this party and exactly these marks (a SHA-256 digest), so a code
   sent for other marks is refused.
2. Confirming consumes the code, then claims the contract briefly (`busy_until`) so parallel
   parties take turns, and makes the signature(s) outside any database transaction: one
   approval PAdES signature with the enterprise's certificate for seals and date stamps, and one
   with the person's own certificate for a personal signature. The result is a new version.
3. When the last party has signed, validation data and a document timestamp are added (B-LTA)
   and the contract is completed.

A double submission signs once: the second finds the code used or the party no longer pending.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Exists, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from portsign.accounts.domain.codes import consume_code, issue_code
from portsign.accounts.enums import CodePurpose
from portsign.accounts.models import User
from portsign.accounts.validators import parse_account
from portsign.common.audit import record_event
from portsign.common.crash import crash_point
from portsign.common.errors import Conflict, Invalid, NotFound
from portsign.contracts.domain import approvals, documents, fills, voiding
from portsign.contracts.domain.contracts import (
    acting_party,
    activate_next,
    everyone_signed,
    move_status,
    next_version_number,
    notify_outcome,
    notify_parties,
    unsigned_parties,
    visible_contract,
)
from portsign.contracts.enums import ContractStatus, PartyKind, PartyStatus
from portsign.contracts.events import ContractEvent, emit
from portsign.contracts.models import Contract, Party, SigningIntent, Version
from portsign.enterprises.rules import resolve_acting_as
from portsign.pki import pades
from portsign.pki.applications import signing_certificate
from portsign.seals.domain.holders import record_use, usable_seals
from portsign.seals.models import Seal, SealKind, SealStatus

MAX_MARKS = 20
CLAIM_SECONDS = 60  # a signing act holds the contract at most this long
WAIT_SECONDS = 15  # how long a parallel signer waits for the one before

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mark:
    """A validated mark: a seal or signature by id, or a date stamp (seal_id empty)."""

    seal_id: str
    page: int
    x: float
    y: float
    width: float

    @property
    def is_date(self) -> bool:
        return not self.seal_id

    def as_dict(self) -> dict[str, object]:
        return {
            "seal_id": self.seal_id,
            "page": self.page,
            "x": round(self.x, 4),
            "y": round(self.y, 4),
            "width": round(self.width, 4),
        }


def palette(*, actor: User, contract: Contract, acting_as: str) -> list[Seal]:
    """The seals and signatures *actor* may apply on this contract as *acting_as*."""
    membership = resolve_acting_as(user=actor, acting_as=acting_as)
    seals = list(usable_seals(membership)) if membership is not None else []
    signatures = list(
        Seal.objects.filter(owner=actor, deleted_at__isnull=True, status=SealStatus.ACTIVE)
    )
    return seals + signatures


def _bad(message: str) -> Invalid:
    return Invalid(message, code="marks_invalid", fields={"marks": message})


def _fraction(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad(_("%(name)s must be a number between 0 and 1.") % {"name": name})
    number = float(value)
    if not 0 <= number <= 1:
        raise _bad(_("%(name)s must be a number between 0 and 1.") % {"name": name})
    return number


def parse_marks(raw: object, *, contract: Contract, allowed: list[Seal]) -> list[Mark]:
    """API.md marks → validated Marks, in a stable order (so the digest is stable)."""
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_MARKS:
        raise _bad(_("Place 1 to %(n)d marks.") % {"n": MAX_MARKS})
    by_id = {seal.id: seal for seal in allowed}
    marks: list[Mark] = []
    for item in raw:
        if not isinstance(item, dict):
            raise _bad(_("Each mark is an object."))
        seal_id = str(item.get("seal_id") or item.get("signature_id") or "")
        if not seal_id and item.get("date") is not True:
            raise _bad(_("Each mark names a seal_id, a signature_id, or date: true."))
        if seal_id and seal_id not in by_id:
            raise _bad(_("You may not apply this seal or signature: %(id)s.") % {"id": seal_id})
        page = item.get("page")
        if (
            isinstance(page, bool)
            or not isinstance(page, int)
            or not 1 <= page <= contract.current.pages
        ):
            raise _bad(_("Pages are 1 to %(n)d.") % {"n": contract.current.pages})
        x, y = _fraction(item.get("x"), "x"), _fraction(item.get("y"), "y")
        width = _fraction(item.get("width", 0.2), "width")
        if not 0.02 <= width <= 0.6 or x + width > 1.0001:
            raise _bad(_("A mark is 2% to 60% of the page wide and stays on the page."))
        marks.append(Mark(seal_id, page, x, y, width))
    return sorted(marks, key=lambda m: (m.page, m.y, m.x, m.seal_id))


def _check_requirements(party: Party, marks: list[Mark], allowed: list[Seal]) -> None:
    kinds = {seal.id: seal.kind for seal in allowed}
    used = {kinds[m.seal_id] for m in marks if m.seal_id}
    company = used - {SealKind.LEGAL_REP, SealKind.SIGNATURE}
    missing = []
    if party.kind == PartyKind.ENTERPRISE and party.needs_seal and not company:
        missing.append(_("an enterprise seal"))
    if party.needs_legal_rep_seal and SealKind.LEGAL_REP not in used:
        missing.append(_("the legal representative's seal"))
    if party.needs_signature and SealKind.SIGNATURE not in used:
        missing.append(_("your signature"))
    if party.kind == PartyKind.PERSON and used - {SealKind.SIGNATURE}:
        raise _bad(_("A person signs with their own signature, not an enterprise seal."))
    if missing:
        raise Invalid(
            _("This party must also apply: %(what)s.") % {"what": ", ".join(missing)},
            code="marks_incomplete",
            fields={"marks": ", ".join(missing)},
        )


def intent_digest(contract: Contract, party: Party, marks: list[Mark]) -> str:
    payload = json.dumps(
        {"contract": contract.id, "party": party.id, "marks": [m.as_dict() for m in marks]},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _prepare(
    actor: User, contract_id: str, acting_as: str, raw_marks: object
) -> tuple[Contract, Party, list[Mark], list[Seal]]:
    contract = visible_contract(actor=actor, contract_id=contract_id)
    party = acting_party(actor=actor, contract=contract, acting_as=acting_as)
    fills.require_filled(party)
    allowed = palette(actor=actor, contract=contract, acting_as=acting_as)
    if party.kind == PartyKind.PERSON:
        allowed = [s for s in allowed if s.kind == SealKind.SIGNATURE]
    marks = parse_marks(raw_marks, contract=contract, allowed=allowed)
    _check_requirements(party, marks, allowed)
    by_id = {seal.id: seal for seal in allowed}
    approvals.require_approvals(
        contract, party, [by_id[s] for s in dict.fromkeys(m.seal_id for m in marks if m.seal_id)]
    )
    return contract, party, marks, allowed


def _own_address(actor: User) -> str:
    address = actor.phone or actor.email
    if not address:
        raise Conflict(
            _("Your account has no mobile number or e-mail for the code."), code="no_address"
        )
    return address


def request_intent(
    *, actor: User, contract_id: str, acting_as: str, marks: object, by_qr: bool = False
) -> SigningIntent:
    """Ask to confirm exactly these marks (SPEC D5 意愿校验): by a code sent to the signer's own
    phone or e-mail, or (by_qr) by opening the intent's link on a phone where they are signed
    in."""
    contract, party, parsed, _allowed = _prepare(actor, contract_id, acting_as, marks)
    digest = intent_digest(contract, party, parsed)
    if not by_qr:
        issue_code(
            to=_own_address(actor), purpose=CodePurpose.SIGN, binding=digest, actor_id=actor.id
        )
    return SigningIntent.objects.create(
        contract=contract,
        party=party,
        user=actor,
        marks=[m.as_dict() for m in parsed],
        digest=digest,
        seal_ids=" ".join(sorted({m.seal_id for m in parsed if m.seal_id})),
        expires_at=timezone.now() + dt.timedelta(seconds=settings.CODE_TTL_SECONDS),
        by_qr=by_qr,
    )


def open_intent(*, actor: User, intent_id: str) -> SigningIntent:
    """The signer's own intent (anyone else: 404), for the phone's confirmation page."""
    intent = (
        SigningIntent.objects.select_related("contract", "party")
        .filter(pk=intent_id, user=actor)
        .first()
    )
    if intent is None:
        raise NotFound()
    return intent


def confirm_intent(*, actor: User, intent_id: str) -> SigningIntent:
    """The signer confirms on the phone (扫码确认)."""
    with transaction.atomic():
        intent = SigningIntent.objects.select_for_update().filter(pk=intent_id, user=actor).first()
        if intent is None or not intent.by_qr:
            raise NotFound()
        if intent.used_at is not None or intent.expires_at <= timezone.now():
            raise Conflict(
                _("This confirmation has expired or was used. Start again on the computer."),
                code="intent_expired",
            )
        if intent.confirmed_at is None:
            intent.confirmed_at = timezone.now()
            intent.save(update_fields=["confirmed_at"])
            record_event(
                action="contract.intent_confirmed",
                actor_id=actor.id,
                acting_as=intent.party.enterprise_id or "",
                object_type="contract",
                object_id=intent.contract_id,
                data={"intent": intent.id, "by": "qr"},
            )
    return intent


def _use_confirmed_intent(actor: User, intent_id: str, digest: str) -> None:
    """Use a QR-confirmed intent for exactly these marks, once."""
    used = SigningIntent.objects.filter(
        pk=intent_id,
        user=actor,
        digest=digest,
        by_qr=True,
        confirmed_at__isnull=False,
        used_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).update(used_at=timezone.now())
    if not used:
        raise Invalid(
            _("The phone confirmation is missing, expired, used, or was for other marks."),
            code="intent_not_confirmed",
            fields={"intent_id": _("Not confirmed.")},
        )


def sign(
    *,
    actor: User,
    contract_id: str,
    acting_as: str,
    marks: object,
    code: str = "",
    intent_id: str = "",
) -> Contract:
    """Sign with the intent code, or with an intent confirmed on the phone."""
    contract, party, parsed, allowed = _prepare(actor, contract_id, acting_as, marks)
    digest = intent_digest(contract, party, parsed)
    if intent_id:
        _use_confirmed_intent(actor, intent_id, digest)
    else:
        consume_code(
            account=parse_account(_own_address(actor)),
            purpose=CodePurpose.SIGN,
            code=code,
            binding=digest,
        )
        SigningIntent.objects.filter(digest=digest, used_at__isnull=True).update(
            used_at=timezone.now()
        )
    crash_point("sign.code_used")
    _claim(contract.id, party.id)
    try:
        crash_point("sign.claimed")
        signed, certificates = _make_signatures(contract, party, parsed, allowed, actor)
        crash_point("sign.signed")
        complete = _record(contract.id, party.id, actor, parsed, allowed, signed, certificates)
        crash_point("sign.recorded")
        if complete:
            _complete_or_leave_for_later(contract.id)
    finally:
        Contract.objects.filter(pk=contract.id).update(busy_until=None)
    return Contract.objects.get(pk=contract.id)


def _claim(contract_id: str, party_id: str) -> None:
    """Hold the contract for this act; parallel signers wait their turn, then 409."""
    give_up = time.monotonic() + WAIT_SECONDS
    while True:
        with transaction.atomic():
            contract = Contract.objects.select_for_update().get(pk=contract_id)
            party = Party.objects.select_for_update().get(pk=party_id)
            if contract.status != ContractStatus.SIGNING or party.status != PartyStatus.PENDING:
                raise Conflict(
                    _("This party has already signed or cannot sign now."), code="party_not_pending"
                )
            now = timezone.now()
            if contract.busy_until is None or contract.busy_until < now:
                contract.busy_until = now + dt.timedelta(seconds=CLAIM_SECONDS)
                contract.save(update_fields=["busy_until"])
                return
        if time.monotonic() > give_up:
            raise Conflict(
                _("Another party is signing this contract. Try again in a moment."),
                code="contract_busy",
            )
        time.sleep(0.2)


def _certificate_id(*, enterprise_id: str | None, user: User) -> str:
    certificate = signing_certificate(enterprise_id=enterprise_id, user_id=user.id)
    if certificate is None:
        if enterprise_id is not None:
            raise Conflict(
                _(
                    "The enterprise has no valid certificate. An administrator applies for one "
                    "in the enterprise console."
                ),
                code="certificate_required",
            )
        raise Conflict(
            _("You have no valid personal certificate. Apply for one in the personal centre."),
            code="certificate_required",
        )
    return certificate.id


def _png(seal: Seal) -> bytes:
    with default_storage.open(seal.image_path) as handle:
        data: bytes = handle.read()
    return data


def _engine_marks(marks: list[Mark], seals: dict[str, Seal], today: str) -> list[pades.Mark]:
    return [
        pades.Mark(
            page=m.page,
            x=m.x,
            y=m.y,
            width=m.width,
            png=None if m.is_date else _png(seals[m.seal_id]),
            text=today if m.is_date else "",
        )
        for m in marks
    ]


def _make_signatures(
    contract: Contract, party: Party, marks: list[Mark], allowed: list[Seal], actor: User
) -> tuple[bytes, list[str]]:
    """One approval signature per certificate involved; no transaction is open here. Returns the
    signed PDF and the ids of the certificates used."""
    used: list[str] = []
    seals = {seal.id: seal for seal in allowed}
    today = timezone.localdate().isoformat()
    personal = [m for m in marks if m.seal_id and seals[m.seal_id].kind == SealKind.SIGNATURE]
    company = [m for m in marks if m not in personal]
    pdf = documents.read_document(
        Contract.objects.select_related("current").get(pk=contract.id).current
    )
    serial = next_version_number(contract)
    if party.kind == PartyKind.ENTERPRISE and company:
        certificate_id = _certificate_id(enterprise_id=party.enterprise_id, user=actor)
        used.append(certificate_id)
        pdf = pades.sign_approval(
            pdf,
            certificate_id=certificate_id,
            marks=_engine_marks(company, seals, today),
            field_name=f"PortSign-{serial}-E",
            reason=_("Signed for %(enterprise)s")
            % {"enterprise": party.enterprise.name if party.enterprise else ""},
            signer_name=actor.name,
        )
    elif company:  # a person's date stamps go with their signature
        personal = personal + company
    if personal:
        certificate_id = _certificate_id(enterprise_id=None, user=actor)
        used.append(certificate_id)
        pdf = pades.sign_approval(
            pdf,
            certificate_id=certificate_id,
            marks=_engine_marks(personal, seals, today),
            field_name=f"PortSign-{serial}-P",
            reason=_("Signed by %(name)s") % {"name": actor.name},
            signer_name=actor.name,
        )
    return pdf, used


def _record(
    contract_id: str,
    party_id: str,
    actor: User,
    marks: list[Mark],
    allowed: list[Seal],
    signed: bytes,
    certificates: list[str],
) -> bool:
    """Store the new version and move the parties on. True when every party has signed."""
    document = documents.store_pdf(signed)
    crash_point("sign.stored")
    seals = {seal.id: seal for seal in allowed}
    with transaction.atomic():
        contract = Contract.objects.select_for_update().get(pk=contract_id)
        party = Party.objects.select_for_update().get(pk=party_id)
        Version.objects.create(
            contract=contract,
            number=next_version_number(contract),
            kind=Version.Kind.SIGNED,
            document=document,
            party=party,
        )
        contract.current = document
        contract.save(update_fields=["current"])
        party.status, party.signed_at, party.signed_by = PartyStatus.SIGNED, timezone.now(), actor
        party.save(update_fields=["status", "signed_at", "signed_by"])
        for seal_id in dict.fromkeys(m.seal_id for m in marks if m.seal_id):
            record_use(
                seal=seals[seal_id], user=actor, subject_type="contract", subject_id=contract.id
            )
        record_event(
            action="contract.party_signed",
            actor_id=actor.id,
            acting_as=party.enterprise_id or "",
            object_type="contract",
            object_id=contract.id,
            data={
                "party": party.id,
                "marks": json.dumps([m.as_dict() for m in marks]),
                "sha256": document.sha256,
                "certificates": ",".join(certificates),
            },
        )
        emit(ContractEvent("signed", contract, party, {"sha256": document.sha256}))
        notify_parties(contract, activate_next(contract))
        return everyone_signed(contract)


def _complete(contract_id: str) -> bool:
    """B-LTA, then 已完成. True when this call completed the contract.

    Idempotent, because a worker may die during the B-LTA step after every party signed:
    `resume_completions` (run by `cleanup`) finishes such contracts, and whichever run takes
    the lock second finds the contract completed and leaves it alone.
    """
    contract = Contract.objects.select_related("current").get(pk=contract_id)
    if not _awaits_completion(contract):
        return False
    archived = documents.store_pdf(pades.archive(documents.read_document(contract.current)))
    crash_point("complete.archived")
    with transaction.atomic():
        contract = Contract.objects.select_for_update().get(pk=contract_id)
        if not _awaits_completion(contract):
            return False
        Version.objects.create(
            contract=contract,
            number=next_version_number(contract),
            kind=Version.Kind.ARCHIVED,
            document=archived,
        )
        contract.current = archived
        contract.save(update_fields=["current"])
        move_status(contract, ContractStatus.COMPLETED, actor_id="")
        voiding.on_statement_completed(contract)
        notify_outcome(contract, _("The contract “%(title)s” was signed by every party."))
    crash_point("complete.completed")
    return True


def _complete_or_leave_for_later(contract_id: str) -> None:
    # The party's signature is recorded and answered; if the B-LTA step fails (the TSA, the
    # storage), `cleanup` completes the contract later instead of this request failing.
    try:
        _complete(contract_id)
    except Exception:
        log.exception("contract %s signed by all, completion left to cleanup", contract_id)


def _awaits_completion(contract: Contract) -> bool:
    return contract.status == ContractStatus.SIGNING and everyone_signed(contract)


def resume_completions(*, now: dt.datetime | None = None, limit: int = 100) -> int:
    """Complete the contracts every party signed whose completion was cut short.

    A contract still held by a signing act (`busy_until` in the future) is left to that act.
    """
    moment = now or timezone.now()
    ids = list(
        Contract.objects.filter(status=ContractStatus.SIGNING)
        .filter(Q(busy_until__isnull=True) | Q(busy_until__lt=moment))
        .exclude(Exists(unsigned_parties()))
        .order_by("created_at")
        .values_list("id", flat=True)[:limit]
    )
    completed = 0
    for contract_id in ids:
        try:
            completed += _complete(contract_id)
        except Exception:  # one broken contract must not keep the others waiting
            log.exception("contract %s could not be completed", contract_id)
    return completed
