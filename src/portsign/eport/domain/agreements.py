"""通关无纸化三方协议 (SPEC E6, seed 001, EPORT.md §4.1): signed per direct customs district
with the enterprise's legal-person card, received and approved by that customs, terminated by
the enterprise alone.

Moves (anything else is a 409):
    sign                        → sent_to_customs   the legal-person card, terms accepted
    receive   sent_to_customs   → received          a reviewer of the district's customs
    approve   received          → approved          idem
    return    received          → returned          idem, with an opinion
    terminate sent/received/approved → terminated   the legal-person card, no review

A district with a live agreement (sent, received or approved) is not offered again and cannot be
signed twice (a partial unique index holds that against a double click). Each agreement is its
own PDF, a PAdES B-T signature made on the card's token: the key never leaves the card.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from portsign.accounts.models import User
from portsign.common.audit import record_event
from portsign.common.errors import Conflict, Forbidden, Invalid, NotFound
from portsign.common.notify.outbox import queue_message
from portsign.common.text import clean_text
from portsign.enterprises.models import Enterprise
from portsign.eport import events
from portsign.eport.domain import card_pins, districts, filings, tokens
from portsign.eport.domain.agreement_documents import AgreementFacts, agreement_pdf
from portsign.eport.enums import LIVE_AGREEMENT, AgreementStatus, CardKind
from portsign.eport.models import AgreementEvent, Card, District, PaperlessAgreement
from portsign.pki import pades

S = AgreementStatus
# action → (the statuses it starts from, the status it gives)
MOVES: dict[str, tuple[tuple[str, ...], str]] = {
    "receive": ((S.SENT_TO_CUSTOMS,), S.RECEIVED),
    "approve": ((S.RECEIVED,), S.APPROVED),
    "return": ((S.RECEIVED,), S.RETURNED),
    "terminate": (tuple(LIVE_AGREEMENT), S.TERMINATED),
}
_EVENTS = {
    "sign": events.AGREEMENT_SIGNED,
    "receive": events.AGREEMENT_RECEIVED,
    "approve": events.AGREEMENT_APPROVED,
    "return": events.AGREEMENT_RETURNED,
    "terminate": events.AGREEMENT_TERMINATED,
}


# -- who --------------------------------------------------------------------------------------


def require_legal_person_card(actor: User, enterprise: Enterprise, acting: Card | None) -> Card:
    """The enterprise's legal-person card, held by *actor* and signed in with (seed 001: 使用
    法人卡登录). An operator card, or none, is refused with the reason."""
    if acting is None or acting.enterprise_id != enterprise.id or acting.holder_id != actor.id:
        raise Forbidden(
            _(
                "Sign in with the enterprise's legal-person card to sign or terminate paperless "
                "agreements."
            ),
            code="legal_person_card_required",
        )
    _refuse_operator_card(acting)
    return acting


def _refuse_operator_card(card: Card) -> None:
    if card.kind != CardKind.LEGAL_PERSON:
        raise Forbidden(
            _("Paperless agreements are signed with the legal-person card, not an operator card."),
            code="legal_person_card_required",
        )


def readable_enterprise(actor: User, enterprise_id: str) -> Enterprise:
    """Members who manage the enterprise's E-Port business read; anyone else: 404."""
    return filings.office_enterprise(actor, enterprise_id, write=False)


def _with_status(rows: QuerySet[PaperlessAgreement], status: str) -> QuerySet[PaperlessAgreement]:
    if not status:
        return rows
    if status not in S.values:
        message = _("Unknown status.")
        raise Invalid(message, code="status_invalid", fields={"status": message})
    return rows.filter(status=status)


def of_enterprise(
    *, actor: User, enterprise_id: str, status: str = ""
) -> QuerySet[PaperlessAgreement]:
    """三方协议查询: the enterprise's agreements, newest first."""
    enterprise = readable_enterprise(actor, enterprise_id)
    rows = PaperlessAgreement.objects.filter(enterprise=enterprise)
    return _with_status(rows, status).select_related("district", "card", "enterprise")


def visible_agreement(actor: User, agreement_id: str) -> PaperlessAgreement:
    """For the enterprise's managers and the district's customs reviewers; else 404."""
    found = (
        PaperlessAgreement.objects.select_related("district", "enterprise", "card")
        .filter(pk=agreement_id)
        .first()
    )
    if found is None:
        raise NotFound()
    if districts.is_customs_reviewer(actor, found.district_id):
        return found
    readable_enterprise(actor, found.enterprise_id)
    return found


def customs_queue(*, actor: User, status: str = "") -> QuerySet[PaperlessAgreement]:
    """The agreements of the districts *actor* reviews for, oldest first (the work to do)."""
    found = PaperlessAgreement.objects.filter(district__in=districts.reviewed_by(actor))
    return (
        _with_status(found, status)
        .select_related("district", "enterprise", "card")
        .order_by("signed_at", "id")
    )


def signable_districts(enterprise: Enterprise) -> list[District]:
    """The direct customs districts the enterprise may still sign: those a customs authority
    acts for, without a live agreement of the enterprise (seed 001: 已签约的关区不再显示)."""
    taken = PaperlessAgreement.objects.filter(
        enterprise=enterprise, status__in=LIVE_AGREEMENT
    ).values("district_id")
    return list(
        districts.direct_districts()
        .filter(authority__isnull=False)
        .exclude(code__in=taken)
        .order_by("code")
    )


def has_approved(enterprise_id: str, district_code: str) -> bool:
    """Whether the enterprise may declare paperless in the district (and so have declarations
    entrusted there): an approved agreement with its direct customs."""
    return PaperlessAgreement.objects.filter(
        enterprise_id=enterprise_id,
        district_id=district_code[:2] + "00",
        status=S.APPROVED,
    ).exists()


# -- signing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Signed:
    district: District
    pdf: bytes


def _signed_pdf(enterprise: Enterprise, district: District, card: Card, pin: str) -> bytes:
    today = timezone.localdate()  # once: the printed date and the stamp agree
    pdf, box = agreement_pdf(
        AgreementFacts(
            enterprise=enterprise.name,
            uscc=enterprise.uscc,
            district_code=district.code,
            district_name=district.name,
            signed_on=today,
            card_number=card.number,
        )
    )
    mark = pades.Mark(
        page=box.page,
        x=box.x + box.width * 0.55,
        y=box.y + box.height * 0.2,
        width=box.width * 0.4,
        png=None,
        text=today.isoformat(),
    )
    return pades.sign_approval(
        pdf,
        certificate_id=card.certificate_id,
        marks=[mark],
        field_name=f"PortSign-agreement-{district.code}",
        reason=f"通关无纸化三方协议 · {district.name}",
        signer_name=card.holder_name,
        token_sign=lambda data: tokens.sign(label=card.number, pin=pin, message=data),
    )


def _sign_one(enterprise: Enterprise, district: District, card: Card, pin: str) -> bytes:
    return card_pins.use_pin(card, pin, lambda: _signed_pdf(enterprise, district, card, pin))


def _choose(enterprise: Enterprise, raw_codes: list[str]) -> list[District]:
    codes = districts.clean_direct_codes(raw_codes)
    offered = {d.code: d for d in signable_districts(enterprise)}
    chosen = []
    for code in codes:
        if code in offered:
            chosen.append(offered[code])
            continue
        found = districts.district(code)  # unknown: 404 naming it
        if found.authority_id is None:
            raise Conflict(
                _("No customs authority receives agreements for %(district)s yet.")
                % {"district": found},
                code="district_unassigned",
            )
        raise Conflict(
            _("The enterprise already has an agreement for %(district)s.") % {"district": found},
            code="district_signed",
        )
    return chosen


def sign(
    *,
    actor: User,
    enterprise_id: str,
    district_codes: list[str],
    accept_terms: bool,
    pin: str,
    acting: Card | None,
) -> list[PaperlessAgreement]:
    """三方协议签约: one agreement per chosen district, each signed on the legal-person card."""
    if acting is not None and acting.enterprise_id == enterprise_id:
        _refuse_operator_card(acting)  # its holder knows the enterprise: say why at once
    enterprise = readable_enterprise(actor, enterprise_id)
    card = require_legal_person_card(actor, enterprise, acting)
    if not accept_terms:
        message = _("Read the agreement and accept its terms before signing.")
        raise Invalid(message, code="terms_not_accepted", fields={"accept_terms": message})
    chosen = _choose(enterprise, district_codes)
    # One PIN presentation per district, and every PDF stored, outside any transaction (use_pin
    # counts wrong PINs; storage may be slow): the transaction only writes rows.
    signed = [_Signed(d, _sign_one(enterprise, d, card, pin)) for d in chosen]
    rows = [_stored(actor, enterprise, card, item) for item in signed]
    try:
        with transaction.atomic():
            made = [_record(actor, row) for row in rows]
    except IntegrityError as exc:  # a double click signed the same district meanwhile
        _discard(rows)
        raise Conflict(
            _("One of these districts was signed meanwhile; nothing more was signed."),
            code="district_signed",
        ) from exc
    except BaseException:
        _discard(rows)
        raise
    return made


def _stored(actor: User, enterprise: Enterprise, card: Card, item: _Signed) -> PaperlessAgreement:
    """The agreement's row, not yet saved, its signed PDF already in storage."""
    agreement = PaperlessAgreement(
        enterprise=enterprise,
        district=item.district,
        status=S.SENT_TO_CUSTOMS,
        card=card,
        signed_by=actor,
        sha256=hashlib.sha256(item.pdf).hexdigest(),
        size=len(item.pdf),
    )
    agreement.path = default_storage.save(
        f"eport/agreements/{agreement.id}.pdf", ContentFile(item.pdf)
    )
    return agreement


def _discard(rows: list[PaperlessAgreement]) -> None:
    """The files of rows rolled back (named by their row's id: nothing else refers to them)."""
    for row in rows:
        default_storage.delete(row.path)


def _record(actor: User, agreement: PaperlessAgreement) -> PaperlessAgreement:
    with transaction.atomic():  # a savepoint: the constraint fails this one cleanly
        agreement.save(force_insert=True)
    _log(agreement, actor, "sign")
    _tell_customs(agreement)
    return agreement


def document(agreement: PaperlessAgreement) -> bytes:
    with default_storage.open(agreement.path) as handle:
        data: bytes = handle.read()
    return data


# -- moves ------------------------------------------------------------------------------------


def _opinion(raw: str, *, required: bool) -> str:
    return clean_text(
        raw,
        field="opinion",
        min_length=1 if required else 0,
        max_length=500,
        message=_("Write the opinion for the enterprise (up to 500 characters)."),
        code="opinion_required",
    )


def _move(agreement_id: str, action: str, actor: User, opinion: str = "") -> PaperlessAgreement:
    starts, ends = MOVES[action]
    with transaction.atomic():
        agreement = (
            PaperlessAgreement.objects.select_for_update(of=("self",))
            .select_related("district", "enterprise")
            .get(pk=agreement_id)
        )
        if agreement.status not in starts:
            raise Conflict(
                _("An agreement that is “%(status)s” cannot be %(action)s.")
                % {"status": agreement.get_status_display(), "action": _ACTION_WORDS[action]},
                code="agreement_state",
            )
        now = timezone.now()
        agreement.status = ends
        changed = ["status"]
        if action == "receive":
            agreement.received_at = now
            changed.append("received_at")
        elif action == "terminate":
            agreement.terminated_at = now
            changed.append("terminated_at")
        else:
            agreement.decided_at, agreement.decided_by, agreement.opinion = now, actor, opinion
            changed += ["decided_at", "decided_by", "opinion"]
        agreement.save(update_fields=changed)
        _log(agreement, actor, action, opinion)
        _tell_enterprise(agreement, action)
    return agreement


def _for_customs(actor: User, agreement_id: str) -> str:
    found = visible_agreement(actor, agreement_id)
    if not districts.is_customs_reviewer(actor, found.district_id):
        raise Forbidden(
            _("Only the reviewers of %(district)s decide this agreement.")
            % {"district": found.district},
            code="not_customs_reviewer",
        )
    return found.id


def receive(*, actor: User, agreement_id: str) -> PaperlessAgreement:
    """海关入库: customs takes the signed agreement in; it can now be reviewed."""
    return _move(_for_customs(actor, agreement_id), "receive", actor)


def approve(*, actor: User, agreement_id: str, opinion: str = "") -> PaperlessAgreement:
    found = _for_customs(actor, agreement_id)
    return _move(found, "approve", actor, _opinion(opinion, required=False))


def return_agreement(*, actor: User, agreement_id: str, opinion: str) -> PaperlessAgreement:
    found = _for_customs(actor, agreement_id)  # a stranger learns nothing from the opinion check
    return _move(found, "return", actor, _opinion(opinion, required=True))


def terminate(*, actor: User, agreement_id: str, acting: Card | None) -> PaperlessAgreement:
    """三方协议解约: by the legal-person card, without a review."""
    found = visible_agreement(actor, agreement_id)
    enterprise = readable_enterprise(actor, found.enterprise_id)
    require_legal_person_card(actor, enterprise, acting)
    return _move(found.id, "terminate", actor)


_ACTION_WORDS = {  # lazy: read in the language of each request
    "receive": pgettext_lazy("agreement", "received"),
    "approve": pgettext_lazy("agreement", "approved"),
    "return": pgettext_lazy("agreement", "returned"),
    "terminate": pgettext_lazy("agreement", "terminated"),
}


# -- history, notices, webhooks ---------------------------------------------------------------


def _log(agreement: PaperlessAgreement, actor: User, action: str, opinion: str = "") -> None:
    AgreementEvent.objects.create(
        agreement=agreement, actor=actor, action=action, status=agreement.status, opinion=opinion
    )
    record_event(
        action=f"eport.agreement_{action}",
        actor_id=actor.id,
        acting_as=agreement.enterprise_id,
        object_type="eport_agreement",
        object_id=agreement.id,
        data={
            "district": agreement.district_id,
            "status": agreement.status,
            "sha256": agreement.sha256,
        },
    )
    events.publish(_EVENTS[action], [agreement.enterprise_id], {"agreement": payload(agreement)})


def payload(agreement: PaperlessAgreement) -> dict[str, object]:
    return {
        "id": agreement.id,
        "status": agreement.status,
        "district": {"code": agreement.district_id, "name": agreement.district.name},
        "enterprise": {"id": agreement.enterprise_id, "name": agreement.enterprise.name},
        "opinion": agreement.opinion,
        "sha256": agreement.sha256,
    }


def _address(user: User) -> tuple[str, str]:
    return (user.phone, "sms") if user.phone else (user.email or "", "email")


def _tell_customs(agreement: PaperlessAgreement) -> None:
    authority = agreement.district.authority
    if authority is None:
        return
    for reviewer in authority.reviewers.select_related("user"):
        to, channel = _address(reviewer.user)
        if to:
            queue_message(
                to=to,
                channel=channel,
                subject=_("Paperless agreement to receive"),
                text=_(
                    "【PortSign】%(enterprise)s signed the paperless agreement for %(district)s."
                )
                % {"enterprise": agreement.enterprise.name, "district": agreement.district.name},
            )


def _tell_enterprise(agreement: PaperlessAgreement, action: str) -> None:
    to, channel = _address(agreement.signed_by)
    if not to or action == "terminate":
        return
    text = _(
        "【PortSign】%(enterprise)s: your paperless agreement for %(district)s is now “%(status)s”."
    ) % {
        "enterprise": agreement.enterprise.name,
        "district": agreement.district.name,
        "status": agreement.get_status_display(),
    }
    if agreement.opinion:
        text += " " + agreement.opinion
    queue_message(to=to, channel=channel, subject=_("Paperless agreement"), text=text)
