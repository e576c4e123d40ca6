"""The card office's printouts filled from a card (issue 14 point 7): the 企业IC卡登记表 of
seed 004 附件2 and the 快递交接单 of 附件3, drawn by `card_documents`."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _

from portsign.common.errors import Conflict
from portsign.eport.domain import card_documents as docs
from portsign.eport.domain import card_permissions, cards, filings
from portsign.eport.enums import CardKind
from portsign.eport.models import Card


def _day(moment: dt.datetime | None) -> dt.date | None:
    return timezone.localdate(moment) if moment else None


def _born(raw: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        return None


def _legal_person(card: Card) -> docs.LegalPersonCard:
    enterprise = card.enterprise
    legal = card if card.kind == CardKind.LEGAL_PERSON else cards.legal_person_card(enterprise)
    info = filings.current_info(enterprise)
    if legal is None:
        return docs.LegalPersonCard(
            name=info.get("legal_person_name", ""),
            sex="",
            nationality="",
            position="",
            phone="",
            id_type=info.get("legal_person_id_type", ""),
            id_number=info.get("legal_person_id_number", ""),
        )
    return docs.LegalPersonCard(
        name=legal.holder_name,
        sex="",
        nationality="中国",
        position="",
        phone=legal.holder.phone or "",
        id_type="resident_id",
        id_number=legal.holder_id_number,
        card_number=legal.number,
    )


def _operator(card: Card) -> tuple[docs.OperatorCard, docs.Declarant, docs.Verifier]:
    data = dict(card.operator.data) if card.operator is not None else {}
    medium = "ic" if data.get("card_medium") == "ic" or card.medium == "ic" else "ikey"
    operator = docs.OperatorCard(
        medium=medium,  # type: ignore[arg-type]  # one of the Literal's values
        name=data.get("name", ""),
        sex=data.get("sex", ""),
        education=data.get("education", ""),
        id_type=data.get("id_type", ""),
        id_number=data.get("id_number", ""),
        birth_date=_born(data.get("birth_date", "")),
        nationality=data.get("nationality", ""),
        position=data.get("position", ""),
        household_address=data.get("household_address", ""),
        user_address=data.get("user_address", ""),
        postcode=data.get("postcode", ""),
        email=data.get("email", ""),
        phone=data.get("phone", ""),
        fax=data.get("fax", ""),
        card_number=card.number if card.kind == CardKind.OPERATOR else "",
    )
    declarant = docs.Declarant(
        exam_score=data.get("declarant_exam_score", ""),
        barcode=data.get("declarant_barcode", ""),
        certificate=data.get("declarant_certificate", ""),
        category=data.get("declarant_category", ""),
        issued_on=_born(data.get("declarant_issued_on", "")),
        valid_until=_born(data.get("declarant_valid_until", "")),
        note=data.get("declarant_note", ""),
    )
    verifier = docs.Verifier(
        certificate=data.get("verifier_certificate", ""), note=data.get("verifier_note", "")
    )
    return operator, declarant, verifier


def _permissions(card: Card) -> tuple[docs.Permission, ...]:
    granted = set(card_permissions.granted(card)) if card.kind == CardKind.OPERATOR else set()
    districts = tuple(card_permissions.districts_of(card))
    return tuple(
        docs.Permission(
            subsystem=subsystem.official,
            action=action.official,
            ticked=f"{subsystem.code}.{action.code}" in granted,
            districts=districts if f"{subsystem.code}.{action.code}" in granted else (),
        )
        for subsystem in card_permissions.CATALOGUE
        for action in subsystem.actions
    )


def registration_form(card: Card) -> bytes:
    operator, declarant, verifier = _operator(card)
    form = docs.RegistrationForm(
        applicant=card.enterprise.name,
        uscc=card.enterprise.uscc,
        legal_person=_legal_person(card),
        operator=operator,
        declarant=declarant,
        verifier=verifier,
        permissions=_permissions(card),
        signed_on=_day(card.issued_at),
    )
    return docs.registration_form_pdf(form)


def courier_form(card: Card) -> bytes:
    """The hand-over form of the parcel the card was mailed in, listing every card in it."""
    if card.mailed_at is None:
        raise Conflict(_("The card has not been mailed yet."), code="card_not_mailed")
    parcel = Card.objects.filter(
        enterprise=card.enterprise, tracking_number=card.tracking_number
    ).order_by("kind", "number")
    form = docs.CourierForm(
        case_number=card.number,
        tracking_number=card.tracking_number,
        office=cards.office_of(card.enterprise).name,
        mailed_on=_day(card.mailed_at),
        cards=tuple(
            docs.MailedCard(kind=c.kind, number=c.number, medium=c.medium)  # type: ignore[arg-type]
            for c in parcel
        ),
        enterprise=card.enterprise.name,
        address=card.mail_address,
        recipient=card.mail_recipient,
        phone=card.mail_phone,
    )
    return docs.courier_form_pdf(form)
