"""Seal holders and the use log (SPEC C4).

A member may apply an enterprise seal when their role allows applying seals (`use_seals`) and
they hold the seal — granted to them by name (持有人) or to their role (持有角色), or as a
member of the department that holds it (部门印章, `Seal.department`). A personal signature is
applied only by its owner. Every application is logged in SealUse.

Why the seal's department and not a third kind of SealGrant: a department seal is *held* by
one department (seed 003: 企业或部门印章), which is a fact about the seal — the certificate that
signs with it and the refusal to delete a department that still holds one both read it there.
A grant row per department would say the same thing twice and could disagree with it.
Department membership then implies holding, next to the member and role grants, so the
holder checks below gain one OR-term each and nothing else changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from portsign.accounts.models import User
from portsign.common.audit import record_event
from portsign.common.errors import Invalid
from portsign.common.request_context import current_origin
from portsign.enterprises.enums import Permission
from portsign.enterprises.models import Department, Membership, Role
from portsign.enterprises.rules import membership_of, require
from portsign.seals.domain.seals import managed_seal, visible_seal
from portsign.seals.models import Seal, SealGrant, SealStatus, SealUse

MAX_BATCH = 200


@dataclass(frozen=True)
class Holding:
    seal: Seal
    grant: SealGrant


def _ids(raw: list[str], field: str) -> list[str]:
    ids = list(dict.fromkeys(str(item) for item in raw))
    if len(ids) > MAX_BATCH:
        message = _("At most %(n)d at a time.") % {"n": MAX_BATCH}
        raise Invalid(message, code="too_many", fields={field: message})
    return ids


def _members(seal: Seal, member_ids: list[str]) -> list[Membership]:
    found = list(
        Membership.objects.filter(
            pk__in=member_ids, enterprise_id=seal.enterprise_id, is_active=True
        )
    )
    missing = sorted(set(member_ids) - {m.id for m in found})
    if missing:
        message = _("Not members of this enterprise: %(ids)s.") % {"ids": ", ".join(missing)}
        raise Invalid(message, code="unknown_member", fields={"member_ids": message})
    return found


def _roles(seal: Seal, role_ids: list[str]) -> list[Role]:
    found = list(Role.objects.filter(pk__in=role_ids, enterprise_id=seal.enterprise_id))
    missing = sorted(set(role_ids) - {r.id for r in found})
    if missing:
        message = _("Not roles of this enterprise: %(ids)s.") % {"ids": ", ".join(missing)}
        raise Invalid(message, code="unknown_role", fields={"role_ids": message})
    return found


def _enterprise_seal(actor: User, seal_id: str) -> Seal:
    seal = managed_seal(actor=actor, seal_id=seal_id)
    if seal.enterprise_id is None:
        raise Invalid(_("A personal signature has no other holders."), code="signature_not_shared")
    return seal


def grant(*, actor: User, seal_id: str, member_ids: list[str], role_ids: list[str]) -> int:
    """Grant the seal to members and roles; those who hold it already are skipped."""
    members, roles = _ids(member_ids, "member_ids"), _ids(role_ids, "role_ids")
    if not members and not roles:
        message = _("Choose at least one member or role.")
        raise Invalid(message, code="holders_required", fields={"member_ids": message})
    with transaction.atomic():
        seal = _enterprise_seal(actor, seal_id)
        added = 0
        for member in _members(seal, members):
            _row, created = SealGrant.objects.get_or_create(
                seal=seal, member=member, defaults={"granted_by": actor}
            )
            added += created
        for role in _roles(seal, roles):
            _row, created = SealGrant.objects.get_or_create(
                seal=seal, role=role, defaults={"granted_by": actor}
            )
            added += created
        _audit(seal, actor, "seal.granted", members, roles)
    return added


def remove(*, actor: User, seal_id: str, member_ids: list[str], role_ids: list[str]) -> int:
    """Batch removal of holders; returns how many grants ended."""
    members, roles = _ids(member_ids, "member_ids"), _ids(role_ids, "role_ids")
    with transaction.atomic():
        seal = _enterprise_seal(actor, seal_id)
        removed, _detail = SealGrant.objects.filter(
            Q(member_id__in=members) | Q(role_id__in=roles), seal=seal
        ).delete()
        _audit(seal, actor, "seal.grant_removed", members, roles)
    return removed


def holders_of(*, actor: User, seal_id: str) -> QuerySet[SealGrant]:
    seal, _membership = visible_seal(actor=actor, seal_id=seal_id)
    return (
        SealGrant.objects.filter(seal=seal)
        .select_related("member__user", "member__role", "role")
        .order_by("created_at")
    )


def holdings_of(*, actor: User, enterprise_id: str) -> QuerySet[SealGrant]:
    """Who holds what in an enterprise (印章持有情况)."""
    membership_of(user=actor, enterprise_id=enterprise_id)
    return (
        SealGrant.objects.filter(seal__enterprise_id=enterprise_id, seal__deleted_at__isnull=True)
        .select_related("seal", "member__user", "role")
        .order_by("seal__kind", "seal__created_at", "created_at")
    )


def may_use(seal: Seal, membership: Membership) -> bool:
    if seal.deleted_at is not None or seal.status != SealStatus.ACTIVE:
        return False
    if seal.enterprise_id != membership.enterprise_id or not membership.is_active:
        return False
    if Permission.USE_SEALS not in membership.role.permissions:
        return False
    if seal.department_id is not None and _in_department(seal.department_id, membership):
        return True
    return seal.grants.filter(Q(member=membership) | Q(role_id=membership.role_id)).exists()


def _in_department(department_id: str, membership: Membership) -> bool:
    return Department.objects.filter(
        pk=department_id, deleted_at__isnull=True, members=membership
    ).exists()


def usable_seals(membership: Membership) -> QuerySet[Seal]:
    """The seals *membership* may apply now: the signing palette (SPEC D5)."""
    if Permission.USE_SEALS not in membership.role.permissions:
        return Seal.objects.none()
    return (
        Seal.objects.filter(
            Q(grants__member=membership)
            | Q(grants__role_id=membership.role_id)
            | Q(department__members=membership, department__deleted_at__isnull=True),
            enterprise_id=membership.enterprise_id,
            status=SealStatus.ACTIVE,
            deleted_at__isnull=True,
        )
        .distinct()
        .order_by("kind", "created_at")
    )


def record_use(*, seal: Seal, user: User, subject_type: str, subject_id: str) -> SealUse:
    """Log one application. Call inside the transaction that records the act it belongs to."""
    origin = current_origin()
    use = SealUse.objects.create(
        seal=seal,
        user=user,
        subject_type=subject_type,
        subject_id=subject_id,
        ip=origin.ip or None,
    )
    record_event(
        action="seal.used",
        actor_id=user.id,
        acting_as=str(seal.enterprise_id or ""),
        object_type="seal",
        object_id=seal.id,
        data={"subject_type": subject_type, "subject_id": subject_id},
    )
    return use


def uses_of(*, actor: User, seal_id: str) -> QuerySet[SealUse]:
    """The use log: seal managers and the owner of a signature see it."""
    seal, membership = visible_seal(actor=actor, seal_id=seal_id)
    if membership is not None:
        require(membership, Permission.MANAGE_SEALS)
    return SealUse.objects.filter(seal=seal).select_related("user").order_by("-created_at")


def _audit(seal: Seal, actor: User, action: str, members: list[str], roles: list[str]) -> None:
    record_event(
        action=action,
        actor_id=actor.id,
        acting_as=str(seal.enterprise_id or ""),
        object_type="seal",
        object_id=seal.id,
        data={"members": members, "roles": roles},
    )
