"""An enterprise's own contract types (合同类型) and business fields (业务字段), SPEC D1.

Managed by members who may manage the enterprise; every member who sends may use them.
"""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from portsign.accounts.models import User
from portsign.common.audit import record_event
from portsign.common.errors import Conflict, Invalid, NotFound
from portsign.common.text import clean_text
from portsign.contracts.models import BusinessField, ContractType
from portsign.enterprises.enums import Permission
from portsign.enterprises.rules import membership_of, require

KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_TYPES = 100
MAX_FIELDS = 50


def _manager(actor: User, enterprise_id: str) -> None:
    require(membership_of(user=actor, enterprise_id=enterprise_id), Permission.MANAGE_ENTERPRISE)


def _audit(actor: User, enterprise_id: str, action: str, object_id: str, name: str) -> None:
    record_event(
        action=action,
        actor_id=actor.id,
        acting_as=enterprise_id,
        object_type="contract_catalogue",
        object_id=object_id,
        data={"name": name},
    )


def contract_types(*, actor: User, enterprise_id: str) -> QuerySet[ContractType]:
    membership_of(user=actor, enterprise_id=enterprise_id)
    return ContractType.objects.filter(enterprise_id=enterprise_id).order_by("name")


def add_contract_type(*, actor: User, enterprise_id: str, name: str) -> ContractType:
    _manager(actor, enterprise_id)
    clean = clean_text(
        name,
        field="name",
        min_length=1,
        max_length=40,
        code="contract_type_name",
        message=_("A contract type's name has 1 to 40 characters."),
    )
    if ContractType.objects.filter(enterprise_id=enterprise_id).count() >= MAX_TYPES:
        raise Conflict(
            _("An enterprise has at most %(n)d contract types.") % {"n": MAX_TYPES}, code="too_many"
        )
    try:
        with transaction.atomic():
            kind = ContractType.objects.create(enterprise_id=enterprise_id, name=clean)
            _audit(actor, enterprise_id, "contract_type.created", kind.id, clean)
    except IntegrityError as exc:
        raise Conflict(
            _("This contract type exists already."), code="contract_type_exists"
        ) from exc
    return kind


def delete_contract_type(*, actor: User, type_id: str) -> None:
    kind = ContractType.objects.filter(pk=type_id).first()
    if kind is None:
        raise NotFound()
    _manager(actor, kind.enterprise_id)
    with transaction.atomic():
        kind.delete()  # contracts keep their history; their type becomes empty
        _audit(actor, kind.enterprise_id, "contract_type.deleted", type_id, kind.name)


def business_fields(*, actor: User, enterprise_id: str) -> QuerySet[BusinessField]:
    membership_of(user=actor, enterprise_id=enterprise_id)
    return BusinessField.objects.filter(enterprise_id=enterprise_id).order_by("key")


def add_business_field(
    *,
    actor: User,
    enterprise_id: str,
    key: str,
    label: str,
    kind: str = "text",
    required: bool = False,
) -> BusinessField:
    _manager(actor, enterprise_id)
    clean_key = (key or "").strip()
    if not KEY.match(clean_key):
        message = _(
            "A key starts with a lower-case letter: up to 40 letters, digits and underscores."
        )
        raise Invalid(message, code="business_field_key", fields={"key": message})
    if kind not in BusinessField.Kind.values:
        message = _("Choose text, number or date.")
        raise Invalid(message, code="business_field_kind", fields={"kind": message})
    clean_label = clean_text(
        label,
        field="label",
        min_length=1,
        max_length=40,
        code="business_field_label",
        message=_("A label has 1 to 40 characters."),
    )
    if BusinessField.objects.filter(enterprise_id=enterprise_id).count() >= MAX_FIELDS:
        raise Conflict(
            _("An enterprise has at most %(n)d business fields.") % {"n": MAX_FIELDS},
            code="too_many",
        )
    try:
        with transaction.atomic():
            field = BusinessField.objects.create(
                enterprise_id=enterprise_id,
                key=clean_key,
                label=clean_label,
                kind=kind,
                required=required,
            )
            _audit(actor, enterprise_id, "business_field.created", field.id, clean_key)
    except IntegrityError as exc:
        raise Conflict(
            _("A business field with this key exists already."), code="business_field_exists"
        ) from exc
    return field


def delete_business_field(*, actor: User, field_id: str) -> None:
    field = BusinessField.objects.filter(pk=field_id).first()
    if field is None:
        raise NotFound()
    _manager(actor, field.enterprise_id)
    with transaction.atomic():
        field.delete()
        _audit(actor, field.enterprise_id, "business_field.deleted", field_id, field.key)
