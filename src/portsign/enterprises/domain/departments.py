"""Departments inside an enterprise (部门, seeds 000/003, issue 16 point 9).

Every member sees the departments; creating, renaming, moving, deleting them and changing who
belongs takes the member-management permission, like roles. Another enterprise's department
or member is a 404. A department may sit under another of the same enterprise (never under
itself or its own sub-department), and is deleted only once it holds no live seal and has no
live sub-department. Each change is audited.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from portsign.accounts.models import User
from portsign.common.audit import record_event
from portsign.common.errors import Conflict, Invalid, NotFound
from portsign.common.text import clean_text
from portsign.enterprises.enums import Permission
from portsign.enterprises.models import Department, Enterprise, Membership
from portsign.enterprises.rules import enterprise_for, membership_of

# Deep enough for any real organisation chart; bounds the walk up the parents.
MAX_DEPTH = 10


def _audit(actor: User, department: Department, action: str, **data: object) -> None:
    record_event(
        action=action,
        actor_id=actor.id,
        acting_as=department.enterprise_id,
        object_type="department",
        object_id=department.id,
        data=dict(data),
    )


def _manager(actor: User, enterprise_id: str) -> Enterprise:
    return enterprise_for(
        user=actor, enterprise_id=enterprise_id, permission=Permission.MANAGE_MEMBERS
    )


def _live(enterprise_id: str) -> QuerySet[Department]:
    return Department.objects.filter(enterprise_id=enterprise_id, deleted_at__isnull=True)


def _department(enterprise: Enterprise, department_id: str, *, lock: bool = False) -> Department:
    rows = _live(enterprise.id).filter(pk=department_id)
    department = (rows.select_for_update() if lock else rows).first()
    if department is None:
        raise NotFound()
    return department


def _name(raw: str) -> str:
    return clean_text(
        raw,
        field="name",
        min_length=1,
        max_length=50,
        code="department_name_invalid",
        message=_("A department name has 1 to 50 characters."),
    )


def _taken() -> Conflict:
    return Conflict(
        _("A department with this name exists."),
        code="department_exists",
        fields={"name": _("Taken.")},
    )


def _parent(enterprise: Enterprise, parent_id: str | None) -> Department | None:
    """The parent named in a request body: empty for the top level, else a live department of
    the same enterprise (a wrong one is bad input, not a 404, like an unknown role)."""
    if not parent_id:
        return None
    parent = _live(enterprise.id).filter(pk=parent_id).first()
    if parent is None:
        message = _("Choose a department of this enterprise.")
        raise Invalid(message, code="department_parent_invalid", fields={"parent_id": message})
    return parent


def _check_placement(department: Department | None, parent: Department | None) -> None:
    """Walk up from the new parent: meeting *department* (None when creating one) would put it
    inside itself; the depth counted bounds the walk and the chart."""
    depth, node = 1, parent
    while node is not None:
        if department is not None and node.pk == department.pk:
            message = _("A department cannot sit inside itself or one of its sub-departments.")
            raise Invalid(message, code="department_cycle", fields={"parent_id": message})
        depth += 1
        if depth > MAX_DEPTH:
            message = _("Departments nest at most %(n)d levels deep.") % {"n": MAX_DEPTH}
            raise Invalid(message, code="department_too_deep", fields={"parent_id": message})
        node = node.parent


# -- reading -----------------------------------------------------------------------------------


def departments_of(*, actor: User, enterprise_id: str) -> QuerySet[Department]:
    """The live departments, each with its members and its live seals."""
    from portsign.seals.models import Seal  # seals depend on enterprises, not the reverse

    membership_of(user=actor, enterprise_id=enterprise_id, include_expired=True)
    return (
        _live(enterprise_id)
        .select_related("parent")
        .prefetch_related(
            Prefetch(
                "members",
                queryset=Membership.objects.select_related("user").order_by("joined_at"),
            ),
            Prefetch(
                "seals",
                queryset=Seal.objects.filter(deleted_at__isnull=True).order_by(
                    "kind", "created_at"
                ),
            ),
        )
        .order_by("name")
    )


def department_of(*, actor: User, enterprise_id: str, department_id: str) -> Department:
    """One live department with its counts and seals, as listed; else 404."""
    department = departments_of(actor=actor, enterprise_id=enterprise_id).filter(pk=department_id)
    found = department.first()
    if found is None:
        raise NotFound()
    return found


# -- writing -----------------------------------------------------------------------------------


def create_department(
    *, actor: User, enterprise_id: str, name: str, parent_id: str | None = None
) -> Department:
    enterprise = _manager(actor, enterprise_id)
    clean = _name(name)
    parent = _parent(enterprise, parent_id)
    _check_placement(None, parent)
    try:
        with transaction.atomic():
            department = Department.objects.create(enterprise=enterprise, name=clean, parent=parent)
            _audit(actor, department, "department.created", name=clean, parent=parent_id or "")
    except IntegrityError as exc:
        raise _taken() from exc
    return department


def update_department(
    *,
    actor: User,
    enterprise_id: str,
    department_id: str,
    name: str | None = None,
    parent_id: str | None = None,
) -> Department:
    """Rename, and/or move: `parent_id` "" moves to the top level, None leaves it."""
    enterprise = _manager(actor, enterprise_id)
    try:
        with transaction.atomic():
            department = _department(enterprise, department_id, lock=True)
            changes: dict[str, object] = {}
            if name is not None:
                department.name = _name(name)
                changes["name"] = department.name
            if parent_id is not None:
                parent = _parent(enterprise, parent_id)
                _check_placement(department, parent)
                department.parent = parent
                changes["parent"] = parent_id
            department.save(update_fields=["name", "parent"])
            _audit(actor, department, "department.updated", **changes)
    except IntegrityError as exc:
        raise _taken() from exc
    return department


def delete_department(*, actor: User, enterprise_id: str, department_id: str) -> None:
    """Soft delete; refused while the department holds a live seal or has sub-departments."""
    enterprise = _manager(actor, enterprise_id)
    with transaction.atomic():
        department = _department(enterprise, department_id, lock=True)
        seals = department.seals.filter(deleted_at__isnull=True).count()
        if seals:
            raise Conflict(
                _(
                    "This department holds %(count)d seal(s). Give them to the enterprise or "
                    "another department, or delete them, first."
                )
                % {"count": seals},
                code="department_holds_seals",
            )
        if department.children.filter(deleted_at__isnull=True).exists():
            raise Conflict(
                _("Move or delete this department's sub-departments first."),
                code="department_has_children",
            )
        members = sorted(department.members.values_list("id", flat=True))
        department.members.clear()
        department.deleted_at = timezone.now()
        department.save(update_fields=["deleted_at"])
        _audit(actor, department, "department.deleted", name=department.name, members=members)


def _enterprise_member(enterprise: Enterprise, member_id: str) -> Membership:
    member = Membership.objects.filter(pk=member_id, enterprise=enterprise).first()
    if member is None:
        raise NotFound()
    return member


def add_member(
    *, actor: User, enterprise_id: str, department_id: str, member_id: str
) -> Department:
    """Put a member of the same enterprise into the department (again is a no-op)."""
    enterprise = _manager(actor, enterprise_id)
    with transaction.atomic():
        department = _department(enterprise, department_id, lock=True)
        member = _enterprise_member(enterprise, member_id)
        if not department.members.filter(pk=member.pk).exists():
            department.members.add(member)
            _audit(actor, department, "department.member_added", member=member.id)
    return department


def remove_member(*, actor: User, enterprise_id: str, department_id: str, member_id: str) -> None:
    """Take a member out of the department (not in it: nothing happens)."""
    enterprise = _manager(actor, enterprise_id)
    with transaction.atomic():
        department = _department(enterprise, department_id, lock=True)
        member = _enterprise_member(enterprise, member_id)
        if department.members.filter(pk=member.pk).exists():
            department.members.remove(member)
            _audit(actor, department, "department.member_removed", member=member.id)
