"""Creating, sending, revoking and rejecting contracts (SPEC D1–D3).

One choke point moves a contract between statuses (`move_status`), checked against
CONTRACT_TRANSITIONS; anything else is a 409. Every move is audited on the contract, and the
audit rows are the contract's signing trail (签署轨迹).

Who sees a contract: its sender; when sent for an enterprise, that enterprise's members who may
view contracts; each party's person, or the members of a party enterprise who may view
contracts. Everyone else gets 404.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from portsign.accounts.domain.codes import find_user
from portsign.accounts.models import User
from portsign.accounts.validators import parse_account
from portsign.common.audit import record_event
from portsign.common.dates import to_utc
from portsign.common.errors import Conflict, Forbidden, Invalid, NotFound
from portsign.common.notify.outbox import queue_notice
from portsign.common.text import clean_text
from portsign.contracts.domain import documents, involvement, numbers
from portsign.contracts.enums import (
    CONTRACT_TRANSITIONS,
    ContractStatus,
    Ordering,
    PartyKind,
    PartyStatus,
)
from portsign.contracts.events import ContractEvent, emit
from portsign.contracts.models import (
    Attachment,
    BusinessField,
    Contract,
    ContractType,
    Party,
    PartyFill,
    Version,
)
from portsign.enterprises.enums import EnterpriseStatus, Permission
from portsign.enterprises.models import Enterprise, Membership
from portsign.enterprises.rules import require, resolve_acting_as

MAX_PARTIES = 20
# The event other apps hear when a contract enters a status.
EVENT_OF_STATUS: dict[str, str] = {
    ContractStatus.SIGNING: "sent",
    ContractStatus.COMPLETED: "completed",
    ContractStatus.REJECTED: "rejected",
    ContractStatus.REVOKED: "revoked",
    ContractStatus.EXPIRED: "expired",
    ContractStatus.VOIDED: "voided",
}
MAX_ATTACHMENTS = 10


# -- visibility --------------------------------------------------------------------------------


def _memberships(user: User) -> list[Membership]:
    return list(Membership.objects.select_related("role").filter(user=user, is_active=True))


def viewer_enterprises(user: User) -> list[str]:
    """Enterprises whose contracts *user* may see."""
    return [
        m.enterprise_id
        for m in _memberships(user)
        if Permission.VIEW_CONTRACTS in m.role.permissions
    ]


def _sent_by(user: User, memberships: list[Membership]) -> Q:
    """Contracts *user* sent personally, or for an enterprise they are still an active member
    of: a member who left (or was disabled) no longer reaches the enterprise's contracts."""
    return Q(sender=user) & (
        Q(sender_enterprise__isnull=True)
        | Q(sender_enterprise_id__in=[m.enterprise_id for m in memberships])
    )


def visible_to(user: User) -> Q:
    """Senders see their drafts; parties see a contract once it is sent."""
    memberships = _memberships(user)
    enterprises = [
        m.enterprise_id for m in memberships if Permission.VIEW_CONTRACTS in m.role.permissions
    ]
    sent = ~Q(status=ContractStatus.DRAFT)
    return (
        _sent_by(user, memberships)
        | Q(sender_enterprise_id__in=enterprises)
        | (sent & Q(parties__user=user, parties__kind=PartyKind.PERSON))
        | (sent & Q(parties__enterprise_id__in=enterprises))
    )


def visible_contract(*, actor: User, contract_id: str) -> Contract:
    rows = (
        Contract.objects.filter(visible_to(actor), pk=contract_id)
        .select_related("sender", "sender_enterprise", "contract_type", "current")
        .distinct()
    )
    contract = rows.first()
    if contract is None:
        raise NotFound()
    # Past its deadline while signing: expired on this access (the row says so; a sweep of
    # every contract on every read cost a statement per read, issue 17).
    if _overdue(contract) and _expire_one(contract.id, timezone.now()):
        contract = rows.get()
    return contract


def _overdue(contract: Contract) -> bool:
    return (
        contract.status == ContractStatus.SIGNING
        and contract.deadline is not None
        and contract.deadline < timezone.now()
    )


def own_contract(actor: User, contract_id: str, *, lock: bool = False) -> Contract:
    """A contract the actor sent (the sender alone edits and sends it)."""
    rows = Contract.objects.filter(_sent_by(actor, _memberships(actor)), pk=contract_id)
    if lock:
        rows = rows.select_for_update()
    contract = rows.first()
    if contract is None:
        visible_contract(actor=actor, contract_id=contract_id)  # 404 unless they may see it
        raise Forbidden(_("Only the sender may change this contract."), code="not_sender")
    return contract


def may_follow(actor: User, contract: Contract) -> bool:
    """Whether *actor* may revoke, remind and extend *contract* (`followed_contract`); never
    one another app runs (an E-Port entrustment ends there)."""
    if contract.managed_by:
        return False
    try:
        followed_contract(actor, contract.id)
    except (Forbidden, NotFound):
        return False
    return True


def followed_contract(actor: User, contract_id: str, *, lock: bool = False) -> Contract:
    """A contract the actor sent, or any contract of an enterprise the actor administers (its
    members and roles: the person who handles departures): they revoke, remind and extend it."""
    memberships = _memberships(actor)
    administered = [
        m.enterprise_id for m in memberships if Permission.MANAGE_MEMBERS in m.role.permissions
    ]
    rows = Contract.objects.filter(
        _sent_by(actor, memberships) | Q(sender_enterprise_id__in=administered), pk=contract_id
    )
    if lock:
        rows = rows.select_for_update()
    contract = rows.first()
    if contract is None:
        visible_contract(actor=actor, contract_id=contract_id)  # 404 unless they may see it
        raise Forbidden(
            _("Only the sender or an administrator of the enterprise may do this."),
            code="not_sender",
        )
    return contract


# -- the one place statuses change -------------------------------------------------------------


def move_status(
    contract: Contract, to: str, *, actor_id: str, acting_as: str = "", **detail: Any
) -> None:
    """Change the status of a row locked by the caller, or 409."""
    if to not in CONTRACT_TRANSITIONS[contract.status]:
        raise Conflict(
            _("A contract that is %(status)s cannot become %(to)s.")
            % {
                "status": ContractStatus(contract.status).label,
                "to": ContractStatus(to).label,
            },
            code="illegal_transition",
        )
    now = timezone.now()
    previous, contract.status = contract.status, to
    if to == ContractStatus.SIGNING:
        contract.sent_at = now
    elif to == ContractStatus.COMPLETED:
        contract.completed_at = contract.closed_at = now
    else:
        contract.closed_at = now
    contract.save()
    involvement.copy_status(contract)  # the boxes read the status from there
    record_event(
        action=f"contract.{to}",
        actor_id=actor_id,
        acting_as=acting_as,
        object_type="contract",
        object_id=contract.id,
        data={"from": previous, **{k: str(v) for k, v in detail.items()}},
    )
    emit(
        ContractEvent(EVENT_OF_STATUS[to], contract, detail={k: str(v) for k, v in detail.items()})
    )


def unsigned_parties() -> QuerySet[Party]:
    """The parties of the outer query's contract that have not signed, for `Exists(...)`."""
    return Party.objects.filter(contract=OuterRef("pk")).exclude(status=PartyStatus.SIGNED)


def everyone_signed(contract: Contract) -> bool:
    return not contract.parties.exclude(status=PartyStatus.SIGNED).exists()


def expire_overdue(now: dt.datetime | None = None, limit: int = 500) -> int:
    """逾期未签: contracts whose deadline passed while signing. Runs on access and from
    `manage.py cleanup`, so no extra service is needed."""
    moment = now or timezone.now()
    # Ordered by deadline so the (status, deadline) index answers it: without the ORDER BY,
    # PostgreSQL scans a million contracts hoping the LIMIT stops it early (337 ms → 0.07 ms).
    # A contract every party signed is never expired: its completion is only waiting to be
    # resumed (signing.resume_completions).
    unsigned = unsigned_parties()
    ids = list(
        Contract.objects.filter(status=ContractStatus.SIGNING, deadline__lt=moment)
        .filter(Exists(unsigned))
        .order_by("deadline")
        .values_list("id", flat=True)[:limit]
    )
    return sum(_expire_one(contract_id, moment) for contract_id in ids)


def _expire_one(contract_id: str, moment: dt.datetime) -> bool:
    """逾期未签 for one contract still signing past *moment* with a party yet to sign."""
    with transaction.atomic():
        contract = (
            Contract.objects.select_for_update()
            .filter(pk=contract_id, status=ContractStatus.SIGNING, deadline__lt=moment)
            .filter(Exists(unsigned_parties()))
            .first()
        )
        if contract is None:  # completed, or its last party signed, meanwhile
            return False
        move_status(contract, ContractStatus.EXPIRED, actor_id="", deadline=contract.deadline)
        notify_outcome(contract, _("The contract “%(title)s” expired unsigned."))
        return True


# -- drafts ------------------------------------------------------------------------------------


def _title(raw: str) -> str:
    return clean_text(
        raw,
        field="title",
        min_length=1,
        max_length=100,
        code="title_required",
        message=_("The title has 1 to 100 characters."),
    )


def _deadline(raw: dt.datetime | None) -> dt.datetime | None:
    if raw is None:
        return None
    raw = to_utc(raw, field="deadline", code="deadline_range")
    if raw <= timezone.now():
        message = _("The signing deadline must be in the future.")
        raise Invalid(message, code="deadline_past", fields={"deadline": message})
    return raw


def _sender_identity(actor: User, acting_as: str) -> Enterprise | None:
    membership = resolve_acting_as(user=actor, acting_as=acting_as)
    if membership is None:
        if not actor.is_real_name_verified:
            raise Conflict(
                _("Verify your real name before sending contracts."), code="real_name_required"
            )
        return None
    require(membership, Permission.SEND_CONTRACTS)
    if membership.enterprise.status != EnterpriseStatus.VERIFIED:
        raise Conflict(
            _("Verify the enterprise before sending contracts."), code="enterprise_not_verified"
        )
    return membership.enterprise


def _contract_type(enterprise: Enterprise | None, name: str) -> ContractType | None:
    clean = " ".join((name or "").split())
    if not clean:
        return None
    if enterprise is None:
        message = _("Contract types belong to an enterprise; send as the enterprise to use one.")
        raise Invalid(message, code="contract_type", fields={"type": message})
    found = ContractType.objects.filter(enterprise=enterprise, name=clean).first()
    if found is None:
        message = _("%(enterprise)s has no contract type “%(name)s”.") % {
            "enterprise": enterprise.name,
            "name": clean,
        }
        raise Invalid(message, code="contract_type", fields={"type": message})
    return found


def _business_fields(
    enterprise: Enterprise | None, values: dict[str, Any], *, required: bool = True
) -> dict[str, str]:
    """The enterprise's business field values, checked (SPEC D2); *required* False for a
    document the enterprise's own forms do not govern (a void statement)."""
    if enterprise is None:
        return {}
    defined = {f.key: f for f in BusinessField.objects.filter(enterprise=enterprise)}
    unknown = sorted(set(values) - set(defined))
    if unknown:
        message = _("Unknown business fields: %(keys)s.") % {"keys": ", ".join(unknown)}
        raise Invalid(message, code="business_field", fields={"fields": message})
    clean: dict[str, str] = {}
    for key, field in defined.items():
        value = str(values.get(key, "") or "").strip()[:200]
        if required and field.required and not value:
            message = _("%(label)s is required.") % {"label": field.label}
            raise Invalid(message, code="business_field", fields={f"fields.{key}": message})
        if value and field.kind == "number":
            try:
                float(value)
            except ValueError as exc:
                message = _("%(label)s must be a number.") % {"label": field.label}
                raise Invalid(
                    message, code="business_field", fields={f"fields.{key}": message}
                ) from exc
        if value and field.kind == "date":
            try:
                dt.date.fromisoformat(value)
            except ValueError as exc:
                message = _("%(label)s must be a date (YYYY-MM-DD).") % {"label": field.label}
                raise Invalid(
                    message, code="business_field", fields={f"fields.{key}": message}
                ) from exc
        if value:
            clean[key] = value
    return clean


def create_draft(
    *,
    actor: User,
    upload: UploadedFile | None,
    title: str,
    acting_as: str = "personal",
    contract_type: str = "",
    deadline: dt.datetime | None = None,
    ordering: str = Ordering.SEQUENTIAL,
    business_fields: dict[str, Any] | None = None,
    valid_until: dt.date | None = None,
    conversion: str = "",
    business_fields_required: bool = True,
) -> Contract:
    """草稿: the uploaded body (PDF, or Word converted) stored immutable, nothing sent yet."""
    enterprise = _sender_identity(actor, acting_as)
    clean_title, when = _title(title), _deadline(deadline)
    if ordering not in Ordering.values:
        message = _("Choose sequential or parallel.")
        raise Invalid(message, code="ordering", fields={"ordering": message})
    kind = _contract_type(enterprise, contract_type)
    fields = _business_fields(enterprise, business_fields or {}, required=business_fields_required)
    body = documents.store_pdf(documents.uploaded_pdf(actor, upload, conversion))
    with transaction.atomic():
        contract = Contract.objects.create(
            number=numbers.next_number(),  # in this transaction: a rollback gives it back
            title=clean_title,
            contract_type=kind,
            sender=actor,
            sender_enterprise=enterprise,
            ordering=ordering,
            deadline=when,
            business_fields=fields,
            body=body,
            current=body,
            valid_until=valid_until,
        )
        involvement.refresh(contract)  # the sender's drafts box
        _audit(contract, actor, "contract.created", {"pages": str(body.pages)})
    return contract


def add_attachment(
    *,
    actor: User,
    contract_id: str,
    upload: UploadedFile | None,
    name: str = "",
    conversion: str = "",
) -> Attachment:
    """附件: appended after the body's last page when the contract is sent."""
    _require_draft(own_contract(actor, contract_id))  # before any file is read or converted
    pdf = documents.store_pdf(documents.uploaded_pdf(actor, upload, conversion))
    label = (name or getattr(upload, "name", "") or _("Attachment")).strip()[:100]
    with transaction.atomic():
        contract = own_contract(actor, contract_id, lock=True)
        _require_draft(contract)
        count = contract.attachments.count()
        if count >= MAX_ATTACHMENTS:
            raise Conflict(
                _("A contract has at most %(n)d attachments.") % {"n": MAX_ATTACHMENTS},
                code="too_many_attachments",
            )
        attachment = Attachment.objects.create(
            contract=contract, name=label, document=pdf, position=count + 1
        )
        _audit(contract, actor, "contract.attachment_added", {"name": label})
    return attachment


def _require_draft(contract: Contract) -> None:
    if contract.status != ContractStatus.DRAFT:
        raise Conflict(_("Only a draft can be changed."), code="not_draft")


# -- parties -----------------------------------------------------------------------------------


def add_party(
    *,
    actor: User,
    contract_id: str,
    kind: str,
    account: str,
    enterprise_name: str = "",
    order: int | None = None,
    needs_seal: bool = True,
    needs_legal_rep_seal: bool = False,
    needs_signature: bool = False,
) -> Party:
    if kind not in PartyKind.values:
        message = _("Choose enterprise or person.")
        raise Invalid(message, code="party_kind", fields={"kind": message})
    address = parse_account(account, field="account").address
    name = " ".join((enterprise_name or "").split())[:100]
    if kind == PartyKind.ENTERPRISE and not name:
        message = _("Name the enterprise that signs.")
        raise Invalid(message, code="enterprise_name_required", fields={"enterprise_name": message})
    if kind == PartyKind.PERSON:
        name, needs_seal, needs_legal_rep_seal, needs_signature = "", False, False, True
    elif not (needs_seal or needs_legal_rep_seal or needs_signature):
        message = _("Require at least one seal or signature from this party.")
        raise Invalid(message, code="party_requirements", fields={"needs_seal": message})
    with transaction.atomic():
        contract = own_contract(actor, contract_id, lock=True)
        _require_draft(contract)
        parties = list(contract.parties.all())
        if len(parties) >= MAX_PARTIES:
            raise Conflict(
                _("A contract has at most %(n)d parties.") % {"n": MAX_PARTIES},
                code="too_many_parties",
            )
        if any(
            p.kind == kind and p.account == address and p.enterprise_name == name for p in parties
        ):
            raise Conflict(_("This party is already on the contract."), code="party_exists")
        enterprise = (
            Enterprise.objects.filter(name=name, status=EnterpriseStatus.VERIFIED).first()
            if kind == PartyKind.ENTERPRISE
            else None
        )
        position = (
            order if order and order > 0 else (max((p.position for p in parties), default=0) + 1)
        )
        party = Party.objects.create(
            contract=contract,
            position=position,
            kind=kind,
            account=address,
            user=find_user(parse_account(address)),
            enterprise_name=name,
            enterprise=enterprise,
            needs_seal=needs_seal if kind == PartyKind.ENTERPRISE else False,
            needs_legal_rep_seal=needs_legal_rep_seal,
            needs_signature=needs_signature,
        )
        involvement.refresh(contract)
        _audit(contract, actor, "contract.party_added", {"party": party.id, "kind": kind})
    return party


def remove_party(*, actor: User, contract_id: str, party_id: str) -> None:
    with transaction.atomic():
        contract = own_contract(actor, contract_id, lock=True)
        _require_draft(contract)
        if PartyFill.objects.filter(party_id=party_id, contract=contract).exists():
            raise Conflict(
                _("This party fills in fields of the template and cannot be removed."),
                code="party_fills_fields",
            )
        deleted, _detail = contract.parties.filter(pk=party_id).delete()
        if not deleted:
            raise NotFound()
        involvement.refresh(contract)
        _audit(contract, actor, "contract.party_removed", {"party": party_id})


# -- sending, revoking, rejecting --------------------------------------------------------------


def send(*, actor: User, contract_id: str) -> Contract:
    """签署中: attachments are merged into the document to sign; the first parties are asked."""
    contract = own_contract(actor, contract_id)
    _require_draft(contract)
    if not contract.parties.exists():
        raise Conflict(_("Add at least one signing party first."), code="no_parties")
    attachments = [documents.read_document(a.document) for a in contract.attachments.all()]
    prepared = documents.store_pdf(
        documents.prepare(documents.read_document(contract.body), attachments)
    )
    with transaction.atomic():
        contract = own_contract(actor, contract_id, lock=True)
        if contract.deadline is None:
            contract.deadline = timezone.now() + dt.timedelta(days=settings.CONTRACT_DEFAULT_DAYS)
        elif contract.deadline <= timezone.now():
            raise Conflict(
                _("The signing deadline has passed. Set a later one first."), code="deadline_past"
            )
        contract.current = prepared
        Version.objects.create(
            contract=contract, number=1, kind=Version.Kind.PREPARED, document=prepared
        )
        move_status(
            contract,
            ContractStatus.SIGNING,
            actor_id=actor.id,
            acting_as=contract.sender_enterprise_id or "",
        )
        _start(contract)
    return contract


def _start(contract: Contract) -> None:
    """Ask the first parties: those with fields to fill in (all at once; nobody signs before
    every value is drawn in, `fills.py`), else the first signers."""
    fillers = list(contract.parties.filter(fill__isnull=False, fill__filled_at__isnull=True))
    if not fillers:
        notify_parties(contract, activate_next(contract))
        return
    for party in fillers:
        party.status = PartyStatus.PENDING
        party.save(update_fields=["status"])
        _notify_filler(contract, party)


def activate_next(contract: Contract) -> list[Party]:
    """Make the next parties 待签: all in parallel, or the lowest position still waiting."""
    waiting = contract.parties.filter(status=PartyStatus.WAITING).order_by("position")
    if contract.ordering == Ordering.SEQUENTIAL:
        if contract.parties.filter(status=PartyStatus.PENDING).exists():
            return []
        first = waiting.first()
        batch = list(waiting.filter(position=first.position)) if first else []
    else:
        batch = list(waiting)
    for party in batch:
        party.status = PartyStatus.PENDING
        party.save(update_fields=["status"])
    return batch


def revoke(*, actor: User, contract_id: str, reason: str = "") -> Contract:
    """合同已撤销: the sender withdraws a contract before it is completed."""
    clean = _reason(reason, required=False)
    with transaction.atomic():
        contract = followed_contract(actor, contract_id, lock=True)
        refuse_managed(contract)
        contract.reason = clean
        move_status(contract, ContractStatus.REVOKED, actor_id=actor.id, reason=clean)
        notify_outcome(contract, _("The contract “%(title)s” was revoked by the sender."))
    return contract


def reject(*, actor: User, contract_id: str, acting_as: str, reason: str) -> Contract:
    """拒签: a party that is asked to sign refuses, with a reason; the contract ends."""
    clean = _reason(reason, required=True)
    with transaction.atomic():
        visible_contract(actor=actor, contract_id=contract_id)
        contract = Contract.objects.select_for_update().get(pk=contract_id)
        party = acting_party(actor=actor, contract=contract, acting_as=acting_as)
        party.status, party.reason = PartyStatus.REJECTED, clean
        party.save(update_fields=["status", "reason"])
        contract.reason = clean
        move_status(
            contract,
            ContractStatus.REJECTED,
            actor_id=actor.id,
            acting_as=party.enterprise_id or "",
            party=party.id,
            reason=clean,
        )
        notify_outcome(contract, _("The contract “%(title)s” was rejected by a party."))
    return contract


def _reason(raw: str, *, required: bool) -> str:
    return clean_text(
        raw,
        field="reason",
        min_length=2 if required else 0,
        max_length=300,
        code="reason_required",
        message=_("Give a reason (2 to 300 characters).")
        if required
        else _("At most 300 characters."),
    )


def refuse_managed(contract: Contract) -> None:
    """A contract another app runs (an E-Port entrustment) is signed, refused and revoked
    there, with E-Port cards: never through the contract pages or API."""
    if contract.managed_by == "eport":
        raise Conflict(
            _("This is an E-Port declaration entrustment: confirm, refuse or revoke it there."),
            code="managed_contract",
        )


def acting_party(*, actor: User, contract: Contract, acting_as: str) -> Party:
    """The party *actor* acts for now, which must be waiting for their signature (待我签署)."""
    if contract.status != ContractStatus.SIGNING:
        raise Conflict(_("This contract is not being signed."), code="not_signing")
    refuse_managed(contract)
    membership = resolve_acting_as(user=actor, acting_as=acting_as)
    if membership is None:
        claim_invitations(actor)
        party = contract.parties.filter(kind=PartyKind.PERSON, user=actor).first()
    else:
        require(membership, Permission.USE_SEALS)
        link_enterprise_parties(membership.enterprise)
        party = contract.parties.filter(
            kind=PartyKind.ENTERPRISE, enterprise_id=membership.enterprise_id
        ).first()
    if party is None:
        raise Forbidden(
            _("You are not a signing party of this contract as the identity you chose."),
            code="not_a_party",
        )
    if party.status != PartyStatus.PENDING:
        raise Conflict(
            _("This party cannot act now: %(status)s.")
            % {"status": PartyStatus(party.status).label},
            code="party_not_pending",
        )
    return party


# -- notifications and audit -------------------------------------------------------------------


def contract_url(contract: Contract) -> str:
    return f"{settings.PUBLIC_URL}/console/contracts/{contract.id}/"


def local_deadline(contract: Contract) -> str:
    if contract.deadline is None:
        return ""
    return timezone.localtime(contract.deadline).strftime("%Y-%m-%d %H:%M")


def tell(address: str, contract: Contract, *, subject: str, text: str, event: str) -> None:
    """One message about *contract* to a phone or e-mail address, with its link and event."""
    account = parse_account(address)
    queue_notice(
        to=account.address,
        channel=account.channel,
        subject=subject,
        text=text,
        data={"contract": contract.id, "url": contract_url(contract), "event": event},
        sender=f"e:{contract.sender_enterprise_id}"
        if contract.sender_enterprise_id
        else f"u:{contract.sender_id}",
    )


def numbered_title(contract: Contract) -> str:
    """The title with the contract number, as notices name a contract (issue 13 item 7)."""
    return _("%(title)s (No. %(number)s)") % {"title": contract.title, "number": contract.number}


def _invitation(contract: Contract) -> dict[str, str]:
    """What an invitation to sign or fill in says: who sent what, by when, where."""
    return {
        "sender": contract.sender_enterprise.name
        if contract.sender_enterprise
        else contract.sender.name,
        "title": numbered_title(contract),
        "deadline": local_deadline(contract),
        "url": contract_url(contract),
    }


def _notify_party(contract: Contract, party: Party) -> None:
    text = _("%(sender)s sent you “%(title)s” to sign by %(deadline)s: %(url)s") % _invitation(
        contract
    )
    subject = _("A contract to sign: %(title)s") % {"title": contract.title}
    tell(party.account, contract, subject=subject, text=text, event="to_sign")


def _notify_filler(contract: Contract, party: Party) -> None:
    text = _(
        "%(sender)s sent you “%(title)s”: fill in your part by %(deadline)s, then it is "
        "signed: %(url)s"
    ) % _invitation(contract)
    subject = _("A contract to fill in: %(title)s") % {"title": contract.title}
    tell(party.account, contract, subject=subject, text=text, event="to_fill")


def notify_outcome(contract: Contract, template: str) -> None:
    """Tell the sender and every party of an outcome (completed, rejected, revoked, expired)."""
    text = template % {"title": numbered_title(contract)}
    targets = [p.account for p in contract.parties.all()]
    sender = contract.sender.phone or contract.sender.email
    for address in dict.fromkeys([sender, *targets]):
        if address:
            tell(
                address,
                contract,
                subject=text,
                text=f"{text} {contract_url(contract)}",
                event=contract.status,
            )


def notify_parties(contract: Contract, parties: Iterable[Party]) -> None:
    for party in parties:
        _notify_party(contract, party)


def _audit(contract: Contract, actor: User, action: str, data: dict[str, str]) -> None:
    record_event(
        action=action,
        actor_id=actor.id,
        acting_as=contract.sender_enterprise_id or "",
        object_type="contract",
        object_id=contract.id,
        data=data,
    )


def next_version_number(contract: Contract) -> int:
    current = contract.versions.aggregate(top=Max("number"))["top"] or 0
    return int(current) + 1


def my_parties(user: User) -> QuerySet[Party]:
    """Parties named by the user's own addresses that are not yet linked (invitations)."""
    addresses = [a for a in (user.phone, user.email) if a]
    return Party.objects.filter(user__isnull=True, account__in=addresses)


def claim_invitations(user: User) -> int:
    """Link parties named by the user's addresses to the account (after registering)."""
    return involvement.link_parties(
        my_parties(user), involvement.person(user.id), PartyKind.PERSON, user=user
    )


def link_enterprise_parties(enterprise: Enterprise) -> int:
    """Link parties that named this enterprise before it was verified on PortSign."""
    if enterprise.status != EnterpriseStatus.VERIFIED:
        return 0
    unlinked = Party.objects.filter(
        kind=PartyKind.ENTERPRISE, enterprise__isnull=True, enterprise_name=enterprise.name
    )
    return involvement.link_parties(
        unlinked, involvement.enterprise(enterprise.id), PartyKind.ENTERPRISE, enterprise=enterprise
    )
