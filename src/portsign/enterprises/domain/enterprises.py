"""Creating enterprises and moving them through their statuses (SPEC B1, B3)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from portsign.accounts.models import User
from portsign.common.audit import record_event
from portsign.common.cn_ids import normalize_uscc
from portsign.common.errors import Conflict
from portsign.common.notify.outbox import queue_message
from portsign.common.text import clean_text
from portsign.enterprises.enums import (
    BUILTIN_PERMISSIONS,
    ENTERPRISE_TRANSITIONS,
    BuiltinRole,
    EnterpriseStatus,
    Permission,
    VerificationMethod,
)
from portsign.enterprises.models import Enterprise, Membership, Role
from portsign.enterprises.rules import enterprise_for


def _clean_text(value: str, *, field: str, label: str, max_length: int) -> str:
    return clean_text(
        value,
        field=field,
        min_length=2,
        max_length=max_length,
        code=f"{field}_invalid",
        message=_("%(label)s must be 2 to %(max)d characters.")
        % {"label": label, "max": max_length},
    )


def require_real_name(user: User) -> None:
    if not user.is_real_name_verified:
        raise Conflict(
            _("Verify your real name first: an enterprise is represented by identified people."),
            code="real_name_required",
        )


def create_enterprise(*, actor: User, name: str, uscc: str, legal_rep_name: str) -> Enterprise:
    """Record an enterprise's basic information; the creator becomes its main administrator."""
    require_real_name(actor)
    clean_name = _clean_text(name, field="name", label=_("The enterprise name"), max_length=100)
    clean_uscc = normalize_uscc(uscc)
    legal_rep = _clean_text(
        legal_rep_name,
        field="legal_rep_name",
        label=_("The legal representative's name"),
        max_length=50,
    )
    if Enterprise.objects.filter(uscc=clean_uscc, status=EnterpriseStatus.VERIFIED).exists():
        raise Conflict(
            _already_verified(), code="uscc_already_verified", fields={"uscc": _already_verified()}
        )
    deadline = timezone.now() + timedelta(days=settings.ENTERPRISE_MATERIALS_DAYS)
    with transaction.atomic():
        enterprise = Enterprise.objects.create(
            name=clean_name,
            uscc=clean_uscc,
            legal_rep_name=legal_rep,
            main_admin=actor,
            materials_deadline=deadline,
        )
        roles = _create_builtin_roles(enterprise)
        Membership.objects.create(enterprise=enterprise, user=actor, role=roles[BuiltinRole.ADMIN])
        record_event(
            action="enterprise.created",
            actor_id=actor.id,
            acting_as=enterprise.id,
            object_type="enterprise",
            object_id=enterprise.id,
            data={"name": clean_name, "uscc": clean_uscc},
        )
    return enterprise


def _already_verified() -> str:
    return str(
        _(
            "An enterprise with this credit code is already verified on PortSign. Ask its "
            "administrator to add you, or apply to join it."
        )
    )


def _create_builtin_roles(enterprise: Enterprise) -> dict[str, Role]:
    return {
        key: Role.objects.create(
            enterprise=enterprise,
            key=key,
            name=str(BuiltinRole(key).label),
            builtin=True,
            permissions=[str(p) for p in BUILTIN_PERMISSIONS[key]],
        )
        for key in BuiltinRole.values
    }


# Called inside the transaction that verifies an enterprise (billing grants its free allotment).
_ON_VERIFIED: list[Callable[[Enterprise], None]] = []


def on_verified(listener: Callable[[Enterprise], None]) -> None:
    if listener not in _ON_VERIFIED:
        _ON_VERIFIED.append(listener)


def set_enterprise_status(
    *, enterprise_id: str, status: EnterpriseStatus, actor_id: str = "", **fields: object
) -> Enterprise:
    """The one place an enterprise changes status: lock, check, save, audit."""
    with transaction.atomic():
        enterprise = Enterprise.objects.select_for_update().get(pk=enterprise_id)
        if status not in ENTERPRISE_TRANSITIONS[enterprise.status]:
            raise Conflict(
                _("The enterprise cannot go from %(old)s to %(new)s.")
                % {
                    "old": EnterpriseStatus(enterprise.status).label,
                    "new": EnterpriseStatus(status).label,
                },
                code="illegal_transition",
            )
        old = enterprise.status
        enterprise.status = status
        for name, value in fields.items():
            setattr(enterprise, name, value)
        try:
            with transaction.atomic():
                enterprise.save(update_fields=["status", *fields])
        except IntegrityError as exc:  # uscc_verified_once: someone else verified it first
            raise Conflict(_already_verified(), code="uscc_already_verified") from exc
        record_event(
            action="enterprise.status_changed",
            actor_id=actor_id,
            acting_as=enterprise.id,
            object_type="enterprise",
            object_id=enterprise.id,
            data={"from": old, "to": status},
        )
        if status == EnterpriseStatus.VERIFIED:
            _tell_verified(enterprise)
            for listener in _ON_VERIFIED:
                listener(enterprise)
    return enterprise


def tell_main_admin(enterprise: Enterprise, *, subject: str, text: str) -> None:
    """An SMS to the main administrator's phone, else an e-mail (in the caller's transaction:
    a rolled-back decision sends nothing)."""
    admin = enterprise.main_admin
    to, channel = (admin.phone, "sms") if admin.phone else (admin.email or "", "email")
    if to:
        queue_message(to=to, channel=channel, subject=subject, text=text)


def _tell_verified(enterprise: Enterprise) -> None:
    method = enterprise.verification_method
    label = VerificationMethod(method).label if method in VerificationMethod.values else method
    tell_main_admin(
        enterprise,
        subject=str(_("Enterprise verified")),
        text=_("【PortSign】%(enterprise)s passed enterprise verification (%(method)s).")
        % {"enterprise": enterprise.name, "method": label},
    )


def _lapsable() -> Q:
    """SPEC B1: basic information lapses when materials were not submitted by the deadline.
    Submitting them all — the business licence and both sides of the ID card — stops the
    clock (a review may then take its time)."""
    incomplete = Q(licence_path="") | Q(id_front_path="") | Q(id_back_path="")
    return Q(incomplete, status__in=[EnterpriseStatus.UNVERIFIED, EnterpriseStatus.VERIFYING])


def expire_overdue(*, now: datetime | None = None) -> int:
    """Let lapse the basic information of enterprises whose deadline passed without materials."""
    moment = now or timezone.now()
    overdue = Enterprise.objects.filter(_lapsable(), materials_deadline__lt=moment)
    count = 0
    for enterprise_id in list(overdue.values_list("id", flat=True)):
        try:
            set_enterprise_status(enterprise_id=enterprise_id, status=EnterpriseStatus.EXPIRED)
        except Conflict:
            continue  # completed in the meantime
        count += 1
    return count


def refuse_if_lapsed(enterprise: Enterprise) -> None:
    """Expire on access when the deadline passed, so no scheduler is needed to be right."""
    overdue = Enterprise.objects.filter(
        _lapsable(), pk=enterprise.pk, materials_deadline__lt=timezone.now()
    ).exists()
    if overdue:
        set_enterprise_status(enterprise_id=enterprise.id, status=EnterpriseStatus.EXPIRED)
    if overdue or enterprise.status == EnterpriseStatus.EXPIRED:
        raise Conflict(
            _(
                "The basic information of %(enterprise)s lapsed because its materials were not "
                "submitted in time. Create the enterprise again."
            )
            % {"enterprise": enterprise.name},
            code="enterprise_expired",
        )


def open_for_verification(*, actor: User, enterprise_id: str) -> Enterprise:
    """The enterprise the actor may still verify: manager's permission, not lapsed, not done."""
    enterprise = enterprise_for(
        user=actor,
        enterprise_id=enterprise_id,
        permission=Permission.MANAGE_ENTERPRISE,
        include_expired=True,  # answer "lapsed" (409), not "not found"
    )
    refuse_if_lapsed(enterprise)
    if enterprise.status == EnterpriseStatus.VERIFIED:
        raise Conflict(
            _("%(enterprise)s is already verified.") % {"enterprise": enterprise.name},
            code="already_verified",
        )
    return enterprise


# What every verification method needs first (SPEC B1, seed 002), in the order of the form.
MATERIALS = {
    "licence": gettext_lazy("the business licence"),
    "id_front": gettext_lazy("the portrait side of the ID card"),
    "id_back": gettext_lazy("the national emblem side of the ID card"),
}


def missing_materials(enterprise: Enterprise) -> list[str]:
    """The materials still to upload: the licence, and both sides of the ID card of the legal
    representative (or of the agent applying without it)."""
    stored = {
        "licence": enterprise.licence_path,
        "id_front": enterprise.id_front_path,
        "id_back": enterprise.id_back_path,
    }
    return [name for name in MATERIALS if not stored[name]]


def require_materials(enterprise: Enterprise) -> None:
    missing = missing_materials(enterprise)
    if missing:
        required = _("Required.")
        raise Conflict(
            _("Upload the materials before verifying the enterprise: %(missing)s.")
            % {
                "missing": pgettext("list separator", ", ").join(
                    str(MATERIALS[name]) for name in missing
                )
            },
            code="materials_required",
            fields={name: required for name in missing},
        )


def open_for_method(*, actor: User, enterprise_id: str) -> Enterprise:
    """The enterprise the actor may start a verification method for: open for verification,
    and with its materials uploaded (issue 16 item 7)."""
    enterprise = open_for_verification(actor=actor, enterprise_id=enterprise_id)
    require_materials(enterprise)
    return enterprise


def enterprises_of(*, user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.select_related("enterprise", "role")
        .filter(user=user, is_active=True)
        .exclude(enterprise__status=EnterpriseStatus.EXPIRED)
        .order_by("joined_at")
    )
