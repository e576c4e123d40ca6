"""Invitations (SPEC B4): an administrator invites a phone or e-mail address; the person
registers (or signs in) through the link and lands in the enterprise with the chosen role.

The link carries a random token; only its SHA-256 is stored. Accepting requires the signed-in
account to own the invited address, so a forwarded link cannot be used by someone else.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portsign.accounts.domain.codes import mask_address
from portsign.accounts.models import User
from portsign.accounts.validators import parse_account
from portsign.common.audit import record_event
from portsign.common.errors import Conflict, Invalid, NotFound, RateLimited
from portsign.common.notify.outbox import queue_message, within_notice_budget
from portsign.enterprises.enums import BuiltinRole, EnterpriseStatus, Permission
from portsign.enterprises.models import Invitation, Membership, Role
from portsign.enterprises.rules import membership_of, require, require_can_grant

INVITATION_DAYS = 7


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite_url(token: str) -> str:
    return f"{settings.PUBLIC_URL}/console/enterprise/invitations/{token}/"


def invite_member(
    *, actor: User, enterprise_id: str, account: str, role_id: str = ""
) -> tuple[Invitation, str]:
    """Invite *account*; returns the invitation and the raw token (sent, never stored)."""
    granter = membership_of(user=actor, enterprise_id=enterprise_id)
    require(granter, Permission.MANAGE_MEMBERS)
    enterprise = granter.enterprise
    if enterprise.status != EnterpriseStatus.VERIFIED:
        raise Conflict(
            _("Verify the enterprise before inviting members."), code="enterprise_not_verified"
        )
    parsed = parse_account(account)
    if Membership.objects.filter(
        enterprise=enterprise,
        user__in=User.objects.filter(
            **({"phone": parsed.address} if parsed.channel == "sms" else {"email": parsed.address})
        ),
    ).exists():
        raise Conflict(_("This person is already a member."), code="already_member")
    role = (
        Role.objects.filter(pk=role_id, enterprise=enterprise).first()
        if role_id
        else Role.objects.get(enterprise=enterprise, key=BuiltinRole.MEMBER)
    )
    if role is None:
        raise Invalid(_("Unknown role."), code="role_invalid", fields={"role_id": _("Unknown.")})
    require_can_grant(granter, role.permissions)
    sender = f"e:{enterprise.id}"
    if not within_notice_budget(to=parsed.address, sender=sender):
        # An invitation's link cannot wait for a digest: refuse instead of holding it.
        raise RateLimited(
            _("Too many notices this hour to this address or from this enterprise; try later."),
            code="notice_budget",
            retry_after=3600,  # the budgets are per rolling hour
        )
    token = secrets.token_urlsafe(24)
    with transaction.atomic():
        invitation = Invitation.objects.create(
            enterprise=enterprise,
            address=parsed.address,
            role=role,
            token_hash=_digest(token),
            invited_by=actor,
            expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
        )
        text = _(
            "[PortSign] %(inviter)s invites you to join %(enterprise)s on PortSign: "
            "%(url)s (valid for %(days)d days)"
        ) % {
            "inviter": actor.name,
            "enterprise": enterprise.name,
            "url": invite_url(token),
            "days": INVITATION_DAYS,
        }
        queue_message(
            to=parsed.address,
            channel=parsed.channel,
            subject=str(_("Invitation to join %(enterprise)s") % {"enterprise": enterprise.name}),
            text=text,
            data={"url": invite_url(token), "token": token},
            sender=sender,
        )
        record_event(
            action="member.invited",
            actor_id=actor.id,
            acting_as=enterprise.id,
            object_type="invitation",
            object_id=invitation.id,
            data={"to": mask_address(parsed.address), "role": role.key},
        )
    return invitation, token


def invitation_for(token: str) -> Invitation:
    invitation = (
        Invitation.objects.select_related("enterprise", "role")
        .filter(token_hash=_digest(token or ""))
        .first()
    )
    if invitation is None:
        raise NotFound(_("This invitation link is not valid."))
    return invitation


def accept_invitation(*, actor: User, token: str) -> Membership:
    invitation = invitation_for(token)
    if invitation.status != Invitation.Status.PENDING:
        raise Conflict(
            _("This invitation was already used or withdrawn."), code="invitation_closed"
        )
    if invitation.expires_at <= timezone.now():
        raise Conflict(
            _("This invitation has expired. Ask the administrator for a new one."),
            code="invitation_expired",
        )
    if invitation.address not in (actor.phone, actor.email):
        raise Conflict(
            _("This invitation was sent to %(address)s. Sign in with that account to accept it.")
            % {"address": mask_address(invitation.address)},
            code="invitation_not_yours",
        )
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.status != Invitation.Status.PENDING:
            raise Conflict(
                _("This invitation was already used or withdrawn."), code="invitation_closed"
            )
        member, _created = Membership.objects.get_or_create(
            enterprise=invitation.enterprise, user=actor, defaults={"role": invitation.role}
        )
        locked.status, locked.accepted_by = Invitation.Status.ACCEPTED, actor
        locked.save(update_fields=["status", "accepted_by"])
        record_event(
            action="member.added",
            actor_id=actor.id,
            acting_as=invitation.enterprise_id,
            object_type="membership",
            object_id=member.id,
            data={"via": "invitation", "invitation": locked.id},
        )
    return member
