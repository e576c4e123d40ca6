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
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Exists, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from portsign.accounts.domain.codes import consume_code, issue_code
from portsign.accounts.enums import CodePurpose
from portsign.accounts.models import User
from portsign.accounts.realname.base import FaceSession, Outcome
from portsign.accounts.realname.registry import realname_provider
from portsign.accounts.validators import parse_account
from portsign.common.audit import record_event
from portsign.common.crash import crash_point
from portsign.common.errors import Conflict, Invalid, NotFound
from portsign.contracts.domain import approvals, documents, fills, voiding
from portsign.contracts.domain import palette as palettes
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
from portsign.pki import pades
from portsign.pki.applications import signing_certificate
from portsign.seals.domain.holders import record_use
from portsign.seals.models import Seal, SealKind

MAX_MARKS = 20
CLAIM_SECONDS = 60  # a signing act holds the contract at most this long
WAIT_SECONDS = 15  # how long a parallel signer waits for the one before

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mark:
    """A validated mark: a seal or signature by id, or a date stamp (seal_id empty). A paging
    seal (骑缝章) is split across the right edge of every page at height `y`; its page is 1
    and its x the right edge, whatever the signer dropped, so its digest is stable."""

    seal_id: str
    page: int
    x: float
    y: float
    width: float
    paging: bool = False

    @property
    def is_date(self) -> bool:
        return not self.seal_id

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "seal_id": self.seal_id,
            "page": self.page,
            "x": round(self.x, 4),
            "y": round(self.y, 4),
            "width": round(self.width, 4),
        }
        if self.paging:  # ordinary marks keep the digest they always had
            data["paging"] = True
        return data


def palette(*, actor: User, contract: Contract, acting_as: str) -> list[palettes.Entry]:
    """What *actor* may apply on this contract as *acting_as*, labelled, required ones marked."""
    party = acting_party(actor=actor, contract=contract, acting_as=acting_as)
    return palettes.entries(actor=actor, party=party, acting_as=acting_as)


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
        if item.get("paging") is True:
            marks.append(_paging_mark(seal_id, by_id, y, width))
        else:
            marks.append(Mark(seal_id, page, x, y, width))
    return sorted(marks, key=lambda m: (m.page, m.y, m.x, m.seal_id, m.paging))


def _paging_mark(seal_id: str, by_id: dict[str, Seal], y: float, width: float) -> Mark:
    """A 骑缝章 is an enterprise's official or contract seal, never a signature."""
    if not seal_id or by_id[seal_id].kind not in palettes.COMPANY_KINDS:
        raise _bad(_("A paging seal is the official seal or the contract seal."))
    return Mark(seal_id, 1, round(1 - width, 4), y, width, paging=True)


def _kinds(marks: list[Mark], allowed: list[Seal]) -> set[str]:
    """The kinds applied as signing marks; a paging seal is in addition to the party's seal."""
    kinds = {seal.id: seal.kind for seal in allowed}
    return {kinds[m.seal_id] for m in marks if m.seal_id and not m.paging}


def _check_requirements(party: Party, used: set[str]) -> None:
    """*used*: every kind the party applied, in earlier acts and this one."""
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


def _applied(party: Party) -> set[str]:
    return set(party.applied_kinds.split())


def intent_digest(contract: Contract, party: Party, marks: list[Mark], finish: bool) -> str:
    payload: dict[str, object] = {
        "contract": contract.id,
        "party": party.id,
        "marks": [m.as_dict() for m in marks],
    }
    if not finish:  # a finishing act keeps the digest it always had
        payload["finish"] = False
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def prepare(
    actor: User, contract_id: str, acting_as: str, raw_marks: object, finish: bool
) -> tuple[Contract, Party, list[Mark], list[Seal]]:
    """Check an act before its intent is asked for and again before it is made: the party
    acting now, its fields filled, the marks allowed and complete, the approvals given."""
    contract = visible_contract(actor=actor, contract_id=contract_id)
    party = acting_party(actor=actor, contract=contract, acting_as=acting_as)
    fills.require_filled(party)
    allowed = palettes.seals_for(actor=actor, party=party, acting_as=acting_as)
    marks = parse_marks(raw_marks, contract=contract, allowed=allowed)
    used = _kinds(marks, allowed)
    if finish:
        _check_requirements(party, used | _applied(party))
    elif party.kind == PartyKind.PERSON and used - {SealKind.SIGNATURE}:
        _check_requirements(party, used)
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


class Method(StrEnum):
    """How the signer proves the intent (SPEC D5 意愿校验)."""

    CODE = "code"  # a code sent to their own phone or e-mail
    QR = "qr"  # the intent's link opened on a phone where they are signed in
    FACE = "face"  # a liveness check against their verified identity, at the real-name provider


def request_intent(
    *,
    actor: User,
    contract_id: str,
    acting_as: str,
    marks: object,
    finish: bool = True,
    method: Method = Method.CODE,
) -> SigningIntent:
    """Ask to confirm exactly these marks, and whether this act ends the party's part."""
    contract, party, parsed, _allowed = prepare(actor, contract_id, acting_as, marks, finish)
    digest = intent_digest(contract, party, parsed, finish)
    face = FaceSession(session_id="", url="")
    if method == Method.CODE:
        issue_code(
            to=_own_address(actor), purpose=CodePurpose.SIGN, binding=digest, actor_id=actor.id
        )
    elif method == Method.FACE:
        face = _start_face(actor, contract.id)
    return SigningIntent.objects.create(
        contract=contract,
        party=party,
        user=actor,
        marks=[m.as_dict() for m in parsed],
        digest=digest,
        seal_ids=" ".join(sorted({m.seal_id for m in parsed if m.seal_id})),
        expires_at=timezone.now() + dt.timedelta(seconds=settings.CODE_TTL_SECONDS),
        by_qr=method == Method.QR,
        face_session_id=face.session_id,
        face_url=face.url,
        finish=finish,
    )


def _start_face(actor: User, contract_id: str) -> FaceSession:
    """A liveness session for the signer's verified identity: who signs must be who was
    verified, so only a real-name verified account may confirm by face."""
    if not actor.is_real_name_verified or not actor.id_number:
        raise Conflict(
            _("Confirming by face needs a verified real name. Use a code or the QR code."),
            code="face_unavailable",
        )
    return realname_provider().start_face(
        name=actor.name,
        id_number=actor.id_number,
        return_url=f"{settings.PUBLIC_URL}/console/contracts/{contract_id}/",
    )


def poll_intent(*, actor: User, intent_id: str) -> SigningIntent:
    """The signer's intent, with a face check's outcome collected from the provider: a match
    confirms it, a mismatch ends it (the signer starts again, with any method)."""
    intent = open_intent(actor=actor, intent_id=intent_id)
    if not intent.face_session_id or intent.confirmed_at or intent.used_at:
        return intent
    if intent.expires_at <= timezone.now():
        return intent
    answer = realname_provider().face_result(session_id=intent.face_session_id)
    if answer.outcome == Outcome.MATCH:
        _confirm(intent, actor, by="face")
    elif answer.outcome == Outcome.MISMATCH:
        with transaction.atomic():
            SigningIntent.objects.filter(pk=intent.id, confirmed_at__isnull=True).update(
                expires_at=timezone.now(), failure="face_mismatch"
            )
            record_event(
                action="contract.intent_face_failed",
                actor_id=actor.id,
                acting_as=intent.party.enterprise_id or "",
                object_type="contract",
                object_id=intent.contract_id,
                data={"intent": intent.id, "provider_code": answer.provider_code[:64]},
            )
        intent.refresh_from_db()
    return intent


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
        _confirm(intent, actor, by="qr")
    return intent


def _confirm(intent: SigningIntent, actor: User, *, by: str) -> None:
    with transaction.atomic():
        confirmed = SigningIntent.objects.filter(pk=intent.id, confirmed_at__isnull=True).update(
            confirmed_at=timezone.now()
        )
        if confirmed:
            record_event(
                action="contract.intent_confirmed" if by == "qr" else "contract.intent_face_passed",
                actor_id=actor.id,
                acting_as=intent.party.enterprise_id or "",
                object_type="contract",
                object_id=intent.contract_id,
                data={"intent": intent.id, "by": by},
            )
    intent.refresh_from_db()


def _use_confirmed_intent(actor: User, intent_id: str, digest: str) -> None:
    """Use an intent confirmed on the phone or by face, for exactly these marks, once."""
    used = (
        SigningIntent.objects.filter(
            pk=intent_id,
            user=actor,
            digest=digest,
            confirmed_at__isnull=False,
            used_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .filter(Q(by_qr=True) | ~Q(face_session_id=""))
        .update(used_at=timezone.now())
    )
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
    finish: bool = True,
) -> Contract:
    """One signing act, confirmed by the intent code or an intent confirmed on the phone or by
    face. *finish* ends the party's part (完成签署); otherwise it may sign again, then finish."""
    contract, party, parsed, allowed = prepare(actor, contract_id, acting_as, marks, finish)
    digest = intent_digest(contract, party, parsed, finish)
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
    return perform(contract, party, parsed, allowed, actor, finish)


def perform(
    contract: Contract,
    party: Party,
    marks: list[Mark],
    allowed: list[Seal],
    actor: User,
    finish: bool,
) -> Contract:
    """The act itself, once its intent is proven: claim, sign, record, maybe complete."""
    _claim(contract.id, party.id)
    try:
        crash_point("sign.claimed")
        signed, certificates = _make_signatures(contract, party, marks, allowed, actor)
        crash_point("sign.signed")
        act = _Act(actor, marks, allowed, signed, certificates, finish)
        complete = _record(contract.id, party.id, act)
        crash_point("sign.recorded")
        if complete:
            _complete_or_leave_for_later(contract.id)
    finally:
        Contract.objects.filter(pk=contract.id).update(busy_until=None)
    return Contract.objects.get(pk=contract.id)


def sign_managed(
    *,
    contract_id: str,
    party_id: str,
    actor: User,
    make: Callable[[bytes, str], bytes],
    certificate_ids: list[str],
    marks: list[Mark] | None = None,
    allowed: list[Seal] | None = None,
) -> Contract:
    """One finishing act of a party of a managed contract (`contracts.domain.managed`), whose
    app proved the intent (an E-Port card's PIN) and makes the signature: *make* gets the
    current PDF and the field name and returns it signed. Then as any act: recorded as a new
    version, the party signed, the contract completed (B-LTA) when it was the last."""
    _claim(contract_id, party_id)
    try:
        contract = Contract.objects.select_related("current").get(pk=contract_id)
        field = managed_field(next_version_number(contract))
        signed = make(documents.read_document(contract.current), field)
        act = _Act(actor, marks or [], allowed or [], signed, certificate_ids, True)
        if _record(contract_id, party_id, act):
            _complete_or_leave_for_later(contract_id)
    finally:
        Contract.objects.filter(pk=contract_id).update(busy_until=None)
    return Contract.objects.get(pk=contract_id)


def managed_field(version: int) -> str:
    """The signature field of a managed contract's act that makes version *version*."""
    return f"PortSign-{version}-E"


def record_managed(
    *, contract_id: str, party_id: str, actor: User, signed: bytes, certificate_ids: list[str]
) -> None:
    """A finishing act of a managed contract's party signed before the contract was written
    (`managed.open_contract`: the initiator's own signature, in `managed_field` of the next
    version, over the current PDF): recorded as `sign_managed` records one."""
    _claim(contract_id, party_id)
    try:
        if _record(contract_id, party_id, _Act(actor, [], [], signed, certificate_ids, True)):
            _complete_or_leave_for_later(contract_id)
    finally:
        Contract.objects.filter(pk=contract_id).update(busy_until=None)


def finish(*, actor: User, contract_id: str, acting_as: str) -> Contract:
    """完成签署: end the party's part after acts that did not, once what it must apply is in."""
    contract = visible_contract(actor=actor, contract_id=contract_id)
    party = acting_party(actor=actor, contract=contract, acting_as=acting_as)
    if not party.applied_kinds:
        raise Conflict(_("Sign at least once before finishing."), code="nothing_signed")
    _check_requirements(party, _applied(party))
    _claim(contract.id, party.id)
    try:
        with transaction.atomic():
            locked = Contract.objects.select_for_update().get(pk=contract.id)
            current = Party.objects.select_for_update().get(pk=party.id)
            complete = _finish_party(locked, current, actor)
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


def _certificate_id(
    *, enterprise_id: str | None, user: User, department_id: str | None = None
) -> str:
    certificate = signing_certificate(
        enterprise_id=enterprise_id, user_id=user.id, department_id=department_id
    )
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
            paging=m.paging,
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
        for suffix, department_id, group in _company_groups(company, seals, party):
            certificate_id = _certificate_id(
                enterprise_id=party.enterprise_id, user=actor, department_id=department_id
            )
            used.append(certificate_id)
            pdf = pades.sign_approval(
                pdf,
                certificate_id=certificate_id,
                marks=_engine_marks(group, seals, today),
                field_name=f"PortSign-{serial}-E{suffix}",
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


def _company_groups(
    company: list[Mark], seals: dict[str, Seal], party: Party
) -> list[tuple[str, str | None, list[Mark]]]:
    """The enterprise's marks by the certificate that signs them: a department seal (seed 003)
    with its department's own usable certificate, the rest with the enterprise's. Date
    stamps go with the enterprise's signature, or with the first department's when no other
    mark needs the enterprise's certificate. Without department certificates: one group."""
    own: dict[str, list[Mark]] = {}
    rest: list[Mark] = []
    for mark in company:
        department_id = seals[mark.seal_id].department_id if mark.seal_id else None
        if department_id and signing_certificate(
            enterprise_id=party.enterprise_id, department_id=department_id
        ):
            own.setdefault(department_id, []).append(mark)
        else:
            rest.append(mark)
    groups: list[tuple[str, str | None, list[Mark]]] = [
        (f"-{n}", d, marks) for n, (d, marks) in enumerate(sorted(own.items()), 1)
    ]
    if groups and all(m.is_date for m in rest):
        groups[0][2].extend(rest)
        rest = []
    return [("", None, rest), *groups] if rest else groups


@dataclass(frozen=True)
class _Act:
    actor: User
    marks: list[Mark]
    allowed: list[Seal]
    signed: bytes
    certificates: list[str]
    finish: bool


def _record(contract_id: str, party_id: str, act: _Act) -> bool:
    """Store the new version; a finishing act moves the parties on. True when every party has
    signed."""
    document = documents.store_pdf(act.signed)
    crash_point("sign.stored")
    seals = {seal.id: seal for seal in act.allowed}
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
        for seal_id in dict.fromkeys(m.seal_id for m in act.marks if m.seal_id):
            record_use(
                seal=seals[seal_id], user=act.actor, subject_type="contract", subject_id=contract.id
            )
        kinds = _applied(party) | _kinds(act.marks, act.allowed)
        party.applied_kinds = " ".join(sorted(kinds))
        party.save(update_fields=["applied_kinds"])
        record_event(
            action="contract.party_signed" if act.finish else "contract.party_signed_act",
            actor_id=act.actor.id,
            acting_as=party.enterprise_id or "",
            object_type="contract",
            object_id=contract.id,
            data={
                "party": party.id,
                "marks": json.dumps([m.as_dict() for m in act.marks]),
                "sha256": document.sha256,
                "certificates": ",".join(act.certificates),
            },
        )
        if not act.finish:
            return False
        return _finish_party(contract, party, act.actor, event=False)


def _finish_party(contract: Contract, party: Party, actor: User, *, event: bool = True) -> bool:
    """The party's part is done: signed, the next parties asked. Inside the caller's
    transaction, with both rows locked. True when every party has signed."""
    party.status, party.signed_at, party.signed_by = PartyStatus.SIGNED, timezone.now(), actor
    party.save(update_fields=["status", "signed_at", "signed_by"])
    if event:  # a finishing act records contract.party_signed itself, with its marks
        record_event(
            action="contract.party_finished",
            actor_id=actor.id,
            acting_as=party.enterprise_id or "",
            object_type="contract",
            object_id=contract.id,
            data={"party": party.id, "sha256": contract.current.sha256 if contract.current else ""},
        )
    emit(ContractEvent("signed", contract, party, {"sha256": contract.current.sha256}))
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
