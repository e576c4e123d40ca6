"""Who may do what inside an enterprise. Tenancy first: a non-member gets 404, never 403."""

from __future__ import annotations

from django.utils.translation import gettext as _

from portsign.accounts.models import User
from portsign.common.errors import Forbidden, NotFound
from portsign.enterprises.enums import EnterpriseStatus, Permission
from portsign.enterprises.models import Enterprise, Membership


def membership_of(*, user: User, enterprise_id: str, include_expired: bool = False) -> Membership:
    """The caller's active membership, or 404 as if the enterprise did not exist (also when the
    enterprise lapsed or the member is disabled)."""
    memberships = Membership.objects.select_related("enterprise", "role").filter(
        enterprise_id=enterprise_id, user=user, is_active=True
    )
    if not include_expired:
        # Nobody acts for a lapsed enterprise; only its page still says what happened.
        memberships = memberships.exclude(enterprise__status=EnterpriseStatus.EXPIRED)
    membership = memberships.first()
    if membership is None:
        raise NotFound()
    return membership


def require(membership: Membership, permission: Permission) -> None:
    if permission not in membership.role.permissions:
        raise Forbidden(
            _("Your role in %(enterprise)s does not allow this: %(permission)s.")
            % {"enterprise": membership.enterprise.name, "permission": permission.label},
            code="permission_denied",
        )


def enterprise_for(
    *, user: User, enterprise_id: str, permission: Permission, include_expired: bool = False
) -> Enterprise:
    membership = membership_of(
        user=user, enterprise_id=enterprise_id, include_expired=include_expired
    )
    require(membership, permission)
    return membership.enterprise


def require_main_admin(*, user: User, enterprise: Enterprise) -> None:
    if enterprise.main_admin_id != user.id:
        raise Forbidden(
            _("Only the main administrator of %(enterprise)s may do this.")
            % {"enterprise": enterprise.name},
            code="main_admin_only",
        )


def resolve_acting_as(*, user: User, acting_as: str) -> Membership | None:
    """API.md `acting_as`: "personal" (or empty) → None; an enterprise id → the caller's
    active membership in it, else 404."""
    if acting_as in ("", "personal"):
        return None
    return membership_of(user=user, enterprise_id=acting_as)


def require_can_grant(granter: Membership, permissions: list[str]) -> None:
    """Nobody hands out more than they hold: a role given, created or invited with must carry
    only permissions the granter's own role has."""
    beyond = sorted(set(permissions) - set(granter.role.permissions))
    if beyond:
        raise Forbidden(
            _("You cannot grant permissions your own role does not have: %(permissions)s.")
            % {"permissions": ", ".join(str(Permission(p).label) for p in beyond)},
            code="permission_above_yours",
        )
