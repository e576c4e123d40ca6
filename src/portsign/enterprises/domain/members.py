"""Members, roles, join requests, main-admin hand-over and one-click transfer (SPEC B3–B5)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from portsign.accounts.models import User
from portsign.common.audit import record_event
from portsign.common.errors import Conflict, Forbidden, Invalid, NotFound
from portsign.common.notify.outbox import queue_message
from portsign.common.text import clean_text
from portsign.enterprises import transfer
from portsign.enterprises.domain.enterprises import require_real_name
from portsign.enterprises.enums import (
    JOIN_TRANSITIONS,
    BuiltinRole,
    EnterpriseStatus,
    JoinStatus,
    Permission,
)
from portsign.enterprises.models import Enterprise, JoinRequest, Membership, Role
from portsign.enterprises.rules import (
    enterprise_for,
    membership_of,
    require,
    require_can_grant,
    require_main_admin,
)


def _audit(
    action: str, actor: User, enterprise_id: str, obj: str, obj_id: str, **data: object
) -> None:
    record_event(
        action=action,
        actor_id=actor.id,
        acting_as=enterprise_id,
        object_type=obj,
        object_id=obj_id,
        data=dict(data),
    )


# -- members ----------------------------------------------------------------------------------


def members_of(*, actor: User, enterprise_id: str) -> QuerySet[Membership]:
    """Every active member sees who their colleagues are."""
    membership_of(user=actor, enterprise_id=enterprise_id, include_expired=True)
    return (
        Membership.objects.select_related("user", "role")
        .filter(enterprise_id=enterprise_id)
        .order_by("joined_at")
    )


def _manager(actor: User, enterprise_id: str) -> Membership:
    """The actor's membership, which must allow managing members."""
    granter = membership_of(user=actor, enterprise_id=enterprise_id)
    require(granter, Permission.MANAGE_MEMBERS)
    return granter


def _member(enterprise: Enterprise, member_id: str) -> Membership:
    member = (
        Membership.objects.select_related("user", "role", "enterprise")
        .filter(pk=member_id, enterprise=enterprise)
        .first()
    )
    if member is None:
        raise NotFound()
    return member


def _role(enterprise: Enterprise, role_id: str) -> Role:
    role = Role.objects.filter(pk=role_id, enterprise=enterprise).first()
    if role is None:
        raise Invalid(_("Unknown role."), code="role_invalid", fields={"role_id": _("Unknown.")})
    return role


def _protect_main_admin(enterprise: Enterprise, member: Membership) -> None:
    if member.user_id == enterprise.main_admin_id:
        raise Conflict(
            _(
                "The main administrator cannot be changed or removed. Hand the main "
                "administrator role over first."
            ),
            code="main_admin_protected",
        )


def update_member(
    *,
    actor: User,
    enterprise_id: str,
    member_id: str,
    role_id: str | None = None,
    is_active: bool | None = None,
) -> Membership:
    granter = _manager(actor, enterprise_id)
    enterprise = granter.enterprise
    member = _member(enterprise, member_id)
    _protect_main_admin(enterprise, member)
    if member.user_id == actor.id:
        raise Forbidden(_("You cannot change your own role or status."), code="cannot_change_self")
    changes: dict[str, object] = {}
    if role_id is not None:
        new_role = _role(enterprise, role_id)
        if _is_key_role(member.role) or _is_key_role(new_role):
            raise Conflict(
                _("An API key's account keeps the role of its key."), code="role_not_editable"
            )
        member.role = new_role
        require_can_grant(granter, member.role.permissions)
        changes["role"] = member.role.key
    if is_active is not None:
        member.is_active = is_active
        changes["is_active"] = is_active
    with transaction.atomic():
        member.save(update_fields=["role", "is_active"])
        _audit("member.updated", actor, enterprise.id, "membership", member.id, **changes)
    return member


def remove_member(*, actor: User, enterprise_id: str, member_id: str) -> None:
    enterprise = enterprise_for(
        user=actor, enterprise_id=enterprise_id, permission=Permission.MANAGE_MEMBERS
    )
    member = _member(enterprise, member_id)
    _protect_main_admin(enterprise, member)
    owned = transfer.owned_items(member)
    if owned:
        raise Conflict(
            _("This member still owns items (%(items)s). Transfer them to another member first.")
            % {"items": ", ".join(f"{k}: {n}" for k, n in owned.items())},
            code="member_owns_items",
            fields={"items": owned},
        )
    with transaction.atomic():
        member.delete()
        _audit("member.removed", actor, enterprise.id, "membership", member_id, user=member.user_id)


def transfer_items(
    *,
    actor: User,
    enterprise_id: str,
    member_id: str,
    to_member_id: str,
    targets: dict[str, str] | None = None,
) -> dict[str, list[str]]:
    """One-click transfer of everything the member owns: each kind named in *targets* (kind →
    member id) to that member, the rest to *to_member_id*; every one another, active member."""
    enterprise = enterprise_for(
        user=actor, enterprise_id=enterprise_id, permission=Permission.MANAGE_MEMBERS
    )
    source = _member(enterprise, member_id)
    unknown = sorted(set(targets or {}) - set(transfer.kinds()))
    if unknown:
        message = _("Unknown kinds of items: %(kinds)s.") % {"kinds": ", ".join(unknown)}
        raise Invalid(message, code="transfer_kind", fields={"targets": message})
    target = _successor(enterprise, source, to_member_id, "to_member_id")
    chosen = {
        kind: _successor(enterprise, source, member, f"targets.{kind}")
        for kind, member in (targets or {}).items()
    }
    with transaction.atomic():
        moved = transfer.move_all(source, target, actor.id, targets=chosen)
        _audit(
            "member.transferred",
            actor,
            enterprise.id,
            "membership",
            source.id,
            to=target.id,
            targets={kind: m.id for kind, m in chosen.items()},
            counts={k: len(v) for k, v in moved.items()},
        )
    return moved


def _successor(
    enterprise: Enterprise, source: Membership, member_id: str, field: str
) -> Membership:
    target = _member(enterprise, member_id)
    if target.pk == source.pk or not target.is_active or _is_key_role(target.role):
        raise Invalid(
            _("Choose another, active member to receive the items."),
            code="transfer_target_invalid",
            fields={field: _("Invalid.")},
        )
    return target


def _is_key_role(role: Role) -> bool:
    """The role of an enterprise API key's account: managed with the key, never by hand."""
    return role.key.startswith("apikey-")


def hand_over_main_admin(*, actor: User, enterprise_id: str, member_id: str) -> Enterprise:
    enterprise = enterprise_for(
        user=actor, enterprise_id=enterprise_id, permission=Permission.MANAGE_MEMBERS
    )
    require_main_admin(user=actor, enterprise=enterprise)
    successor = _member(enterprise, member_id)
    if not successor.is_active or successor.user_id == actor.id:
        raise Invalid(
            _("Choose another, active member as the main administrator."),
            code="successor_invalid",
            fields={"member_id": _("Invalid.")},
        )
    require_real_name(successor.user)
    admin_role = Role.objects.get(enterprise=enterprise, key=BuiltinRole.ADMIN)
    with transaction.atomic():
        successor.role = admin_role
        successor.save(update_fields=["role"])
        enterprise.main_admin = successor.user
        enterprise.save(update_fields=["main_admin"])
        _audit(
            "enterprise.main_admin_handed_over",
            actor,
            enterprise.id,
            "enterprise",
            enterprise.id,
            to=successor.user_id,
        )
    return enterprise


# -- roles ------------------------------------------------------------------------------------


def _permissions(raw: list[str]) -> list[str]:
    unknown = [p for p in raw if p not in Permission.values]
    if unknown or not raw:
        raise Invalid(
            _("Choose permissions from the list."),
            code="permissions_invalid",
            fields={"permissions": ", ".join(unknown) or _("Required.")},
        )
    return sorted(set(raw))


def _role_name(raw: str) -> str:
    return clean_text(
        raw,
        field="name",
        min_length=1,
        max_length=50,
        code="role_name_invalid",
        message=_("A role name has 1 to 50 characters."),
    )


def create_role(*, actor: User, enterprise_id: str, name: str, permissions: list[str]) -> Role:
    granter = _manager(actor, enterprise_id)
    enterprise = granter.enterprise
    clean = _role_name(name)
    role = Role(enterprise=enterprise, name=clean, permissions=_permissions(permissions))
    require_can_grant(granter, role.permissions)
    role.key = f"custom-{role.id}"
    try:
        with transaction.atomic():
            role.save(force_insert=True)
            _audit(
                "role.created",
                actor,
                enterprise.id,
                "role",
                role.id,
                name=clean,
                permissions=role.permissions,
            )
    except IntegrityError as exc:
        raise Conflict(
            _("A role with this name exists."), code="role_exists", fields={"name": _("Taken.")}
        ) from exc
    return role


def update_role(
    *,
    actor: User,
    enterprise_id: str,
    role_id: str,
    name: str | None = None,
    permissions: list[str] | None = None,
) -> Role:
    """Rename a custom role or change its permissions (members holding it change with it);
    built-in roles and API keys' roles stay as they are."""
    granter = _manager(actor, enterprise_id)
    enterprise = granter.enterprise
    role = Role.objects.filter(pk=role_id, enterprise=enterprise).first()
    if role is None:
        raise NotFound()
    if role.builtin or _is_key_role(role):
        raise Conflict(
            _("Built-in roles and API keys' roles cannot be edited."), code="role_not_editable"
        )
    changes: dict[str, object] = {}
    if name is not None:
        role.name = _role_name(name)
        changes["name"] = role.name
    if permissions is not None:
        role.permissions = _permissions(permissions)
        require_can_grant(granter, role.permissions)
        changes["permissions"] = role.permissions
    try:
        with transaction.atomic():
            role.save(update_fields=["name", "permissions"])
            _audit("role.updated", actor, enterprise.id, "role", role.id, **changes)
    except IntegrityError as exc:
        raise Conflict(
            _("A role with this name exists."), code="role_exists", fields={"name": _("Taken.")}
        ) from exc
    return role


def delete_role(*, actor: User, enterprise_id: str, role_id: str) -> None:
    enterprise = enterprise_for(
        user=actor, enterprise_id=enterprise_id, permission=Permission.MANAGE_MEMBERS
    )
    role = Role.objects.filter(pk=role_id, enterprise=enterprise).first()
    if role is None:
        raise NotFound()
    in_use = Conflict(
        _("Built-in roles, and roles given to members or invitations, cannot be deleted."),
        code="role_in_use",
    )
    if role.builtin or role.memberships.exists():
        raise in_use
    try:
        with transaction.atomic():
            role.delete()
            _audit("role.deleted", actor, enterprise.id, "role", role_id, name=role.name)
    except ProtectedError as exc:  # invitations (or a member given it meanwhile) point at it
        raise in_use from exc


# -- join requests ----------------------------------------------------------------------------


def find_verified(*, query: str) -> QuerySet[Enterprise]:
    """Verified enterprises by exact credit code or name fragment, to apply to join."""
    clean = (query or "").strip()
    if len(clean) < 2:
        return Enterprise.objects.none()
    base = Enterprise.objects.filter(status=EnterpriseStatus.VERIFIED)
    if len(clean) == 18 and clean.isalnum():
        return base.filter(uscc=clean.upper())
    return base.filter(name__icontains=clean).order_by("name")[:20]


def apply_to_join(*, actor: User, enterprise_id: str, reason: str) -> JoinRequest:
    require_real_name(actor)
    enterprise = Enterprise.objects.filter(
        pk=enterprise_id, status=EnterpriseStatus.VERIFIED
    ).first()
    if enterprise is None:
        raise NotFound()
    clean = clean_text(
        reason,
        field="reason",
        min_length=2,
        max_length=300,
        code="reason_invalid",
        message=_("Tell the administrator why you are joining (2 to 300 characters)."),
    )
    if Membership.objects.filter(enterprise=enterprise, user=actor).exists():
        raise Conflict(
            _("You are already a member of %(enterprise)s.") % {"enterprise": enterprise.name},
            code="already_member",
        )
    try:
        with transaction.atomic():
            request = JoinRequest.objects.create(enterprise=enterprise, user=actor, reason=clean)
            _audit("join.requested", actor, enterprise.id, "join_request", request.id)
    except IntegrityError as exc:
        raise Conflict(
            _("You already have a pending request to join this enterprise."), code="join_pending"
        ) from exc
    return request


def join_requests_of(*, actor: User, enterprise_id: str) -> QuerySet[JoinRequest]:
    enterprise_for(user=actor, enterprise_id=enterprise_id, permission=Permission.MANAGE_MEMBERS)
    return (
        JoinRequest.objects.select_related("user")
        .filter(enterprise_id=enterprise_id)
        .order_by("-created_at")
    )


def my_join_requests(*, actor: User) -> QuerySet[JoinRequest]:
    return (
        JoinRequest.objects.select_related("enterprise").filter(user=actor).order_by("-created_at")
    )


def _set_join_status(
    request_id: str, status: JoinStatus, actor: User, reason: str = ""
) -> JoinRequest:
    """The one place a join request changes status."""
    request = (
        JoinRequest.objects.select_for_update().select_related("enterprise").get(pk=request_id)
    )
    if status not in JOIN_TRANSITIONS[request.status]:
        raise Conflict(
            _("This request was already %(status)s.")
            % {"status": JoinStatus(request.status).label},
            code="illegal_transition",
        )
    request.status, request.decision_reason = status, reason
    request.decided_at = timezone.now()
    request.decided_by = actor
    request.save(update_fields=["status", "decision_reason", "decided_at", "decided_by"])
    _audit(
        f"join.{status}", actor, request.enterprise_id, "join_request", request.id, reason=reason
    )
    return request


def _request_for_admin(actor: User, request_id: str) -> JoinRequest:
    request = JoinRequest.objects.filter(pk=request_id).first()
    if request is None:
        raise NotFound()
    enterprise_for(
        user=actor, enterprise_id=request.enterprise_id, permission=Permission.MANAGE_MEMBERS
    )
    return request


def decide_join_request(
    *, actor: User, request_id: str, approve: bool, reason: str = ""
) -> JoinRequest:
    pending = _request_for_admin(actor, request_id)
    clean = clean_text(
        reason,
        field="reason",
        min_length=0 if approve else 2,
        max_length=300,
        code="reason_required",
        message=_("Give the applicant a reason for the rejection (2 to 300 characters)."),
    )
    with transaction.atomic():
        status = JoinStatus.APPROVED if approve else JoinStatus.REJECTED
        request = _set_join_status(pending.id, status, actor, clean)
        if approve:
            role = Role.objects.get(enterprise_id=request.enterprise_id, key=BuiltinRole.MEMBER)
            member, _created = Membership.objects.get_or_create(
                enterprise_id=request.enterprise_id,
                user_id=request.user_id,
                defaults={"role": role},
            )
            _audit(
                "member.added",
                actor,
                request.enterprise_id,
                "membership",
                member.id,
                user=request.user_id,
                via="join_request",
            )
        _tell_requester(request)
    return request


def _tell_requester(request: JoinRequest) -> None:
    """The applicant hears the decision (SMS to their phone, else an e-mail)."""
    user = request.user
    to, channel = (user.phone, "sms") if user.phone else (user.email or "", "email")
    if not to:
        return
    what = {"enterprise": request.enterprise.name, "reason": request.decision_reason}
    if request.status == JoinStatus.APPROVED:
        subject = _("Join request approved")
        text = _("【PortSign】Your request to join %(enterprise)s was approved.") % what
    else:
        subject = _("Join request rejected")
        text = _("【PortSign】Your request to join %(enterprise)s was rejected: %(reason)s") % what
    queue_message(to=to, channel=channel, subject=str(subject), text=text)


def withdraw_join_request(*, actor: User, request_id: str) -> JoinRequest:
    if not JoinRequest.objects.filter(pk=request_id, user=actor).exists():
        raise NotFound()
    with transaction.atomic():
        return _set_join_status(request_id, JoinStatus.WITHDRAWN, actor)
