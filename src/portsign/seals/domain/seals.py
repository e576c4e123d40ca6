"""Enterprise seals and personal signatures (SPEC C1–C2): create, edit, replace, disable, delete.

Managing seals takes the `manage_seals` permission in a verified enterprise; every member may
see the enterprise's seals. A personal signature belongs to its owner alone — anyone else gets
404, like another enterprise's seal. Each change is audited.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from portsign.accounts.models import User
from portsign.common.audit import record_event
from portsign.common.errors import Conflict, Invalid, NotFound
from portsign.common.text import clean_text
from portsign.enterprises.enums import EnterpriseStatus, Permission
from portsign.enterprises.models import Department, Enterprise, Membership
from portsign.enterprises.rules import membership_of, require
from portsign.seals import render
from portsign.seals.domain.images import check_seal_upload, size_mm, store_seal_png
from portsign.seals.models import Seal, SealGrant, SealKind, SealSource, SealStatus

ENTERPRISE_KINDS = (
    SealKind.OFFICIAL,
    SealKind.CONTRACT,
    SealKind.FINANCE,
    SealKind.LEGAL_REP,
    SealKind.HR,
)
# A seal's printed kind, and the default label people pick it by. These are the words engraved
# on Chinese seals, so they are not translated.
ENGRAVED = {
    SealKind.OFFICIAL: "",
    SealKind.CONTRACT: "合同专用章",
    SealKind.FINANCE: "财务专用章",
    SealKind.HR: "人事专用章",
}
DEFAULT_NAMES = {
    SealKind.OFFICIAL: "公章",
    SealKind.CONTRACT: "合同专用章",
    SealKind.FINANCE: "财务专用章",
    SealKind.LEGAL_REP: "法定代表人章",
    SealKind.HR: "人事专用章",
    SealKind.SIGNATURE: "个人签名",
}
# Usual physical widths (mm) of uploaded images, by kind.
DEFAULT_WIDTH_MM = {
    SealKind.OFFICIAL: Decimal("42"),
    SealKind.CONTRACT: Decimal("40"),
    SealKind.FINANCE: Decimal("45"),
    SealKind.LEGAL_REP: Decimal("20"),
    SealKind.HR: Decimal("40"),
    SealKind.SIGNATURE: Decimal("40"),
}
SHAPES = {SealKind.FINANCE: ("oval", "square"), SealKind.LEGAL_REP: ("square",)}
ROUND_DIAMETER_MM = {SealKind.OFFICIAL: 42.0, SealKind.CONTRACT: 40.0, SealKind.HR: 40.0}
CODE_PATTERN = re.compile(r"^\d{13}$")

# Apps holding seals in unfinished work (contracts being signed) register a counter here; a
# seal is not deleted while any counter is non-zero.
InUseCounter = Callable[[Seal], int]
_IN_USE: list[InUseCounter] = []


def register_in_use(counter: InUseCounter) -> None:
    if counter not in _IN_USE:
        _IN_USE.append(counter)


def unregister_in_use(counter: InUseCounter) -> None:
    if counter in _IN_USE:
        _IN_USE.remove(counter)


# -- reading -----------------------------------------------------------------------------------


def seals_of(*, actor: User, enterprise_id: str) -> QuerySet[Seal]:
    membership_of(user=actor, enterprise_id=enterprise_id)
    return (
        Seal.objects.filter(enterprise_id=enterprise_id, deleted_at__isnull=True)
        .select_related("enterprise", "department")
        .order_by("kind", "created_at")
    )


def signatures_of(*, actor: User) -> QuerySet[Seal]:
    return Seal.objects.filter(owner=actor, deleted_at__isnull=True).order_by("created_at")


def visible_seal(*, actor: User, seal_id: str) -> tuple[Seal, Membership | None]:
    """A seal the actor may see, with the actor's membership for enterprise seals; else 404."""
    seal = (
        Seal.objects.select_related("enterprise")
        .filter(pk=seal_id, deleted_at__isnull=True)
        .first()
    )
    if seal is None:
        raise NotFound()
    if seal.owner_id is not None:
        if seal.owner_id != actor.id:
            raise NotFound()
        return seal, None
    return seal, membership_of(user=actor, enterprise_id=str(seal.enterprise_id))


def managed_seal(*, actor: User, seal_id: str) -> Seal:
    """A seal the actor may change: own signature, or manage_seals in its enterprise."""
    seal, membership = visible_seal(actor=actor, seal_id=seal_id)
    if membership is not None:
        require(membership, Permission.MANAGE_SEALS)
    return seal


# -- creating ----------------------------------------------------------------------------------


def seal_manager(actor: User, enterprise_id: str) -> Membership:
    membership = membership_of(user=actor, enterprise_id=enterprise_id)
    require(membership, Permission.MANAGE_SEALS)
    if membership.enterprise.status != EnterpriseStatus.VERIFIED:
        raise Conflict(
            _("Verify the enterprise before creating its seals."), code="enterprise_not_verified"
        )
    return membership


def parse_kind(raw: str, allowed: tuple[str, ...]) -> SealKind:
    if raw not in allowed:
        message = _("Choose one of: %(kinds)s.") % {"kinds": ", ".join(allowed)}
        raise Invalid(message, code="seal_type", fields={"type": message})
    return SealKind(raw)


def seal_label(raw: str, kind: SealKind) -> str:
    if not raw.strip():
        return DEFAULT_NAMES[kind]
    return clean_text(
        raw,
        field="name",
        min_length=1,
        max_length=40,
        code="seal_name",
        message=_("The seal's name is 1 to 40 characters."),
    )


def _code(raw: str) -> str:
    code = raw.strip()
    if code and not CODE_PATTERN.match(code):
        message = _("The seal code is exactly 13 digits.")
        raise Invalid(message, code="seal_code", fields={"code": message})
    return code


def _shape(raw: str, kind: SealKind) -> str:
    shapes = SHAPES.get(kind, ("round",))
    shape = raw.strip() or shapes[0]
    if shape not in shapes:
        message = _("This seal can be: %(shapes)s.") % {"shapes": ", ".join(shapes)}
        raise Invalid(message, code="seal_shape", fields={"shape": message})
    return shape


def _width(raw: str | float | Decimal | None, kind: SealKind) -> Decimal:
    if raw in (None, ""):
        return DEFAULT_WIDTH_MM[kind]
    try:
        width = Decimal(str(raw)).quantize(Decimal("0.1"))
    except InvalidOperation:
        width = Decimal(-1)
    if not Decimal(10) <= width <= Decimal(80):
        message = _("The printed width is 10 to 80 mm.")
        raise Invalid(message, code="seal_width", fields={"width_mm": message})
    return width


def draw_seal(enterprise: Enterprise, kind: SealKind, *, shape: str, code: str) -> render.Rendered:
    if kind == SealKind.LEGAL_REP:
        return render.square_seal(text=render.legal_rep_text(enterprise.legal_rep_name), side_mm=20)
    if kind == SealKind.FINANCE and shape == "square":
        return render.square_seal(text=enterprise.name + ENGRAVED[kind], side_mm=25)
    if kind == SealKind.FINANCE:
        return render.oval_seal(name=enterprise.name, kind_text=ENGRAVED[kind], code=code)
    return render.round_seal(
        name=enterprise.name,
        kind_text=ENGRAVED[kind],
        code=code,
        diameter_mm=ROUND_DIAMETER_MM[kind],
    )


def _check_quota(enterprise: Enterprise) -> None:
    """Call with the enterprise row locked, so two creations cannot both take the last slot."""
    used = Seal.objects.filter(enterprise=enterprise, deleted_at__isnull=True).count()
    if used >= settings.SEAL_QUOTA:
        raise Conflict(
            _(
                "%(enterprise)s has used all %(quota)d of its seals. Delete a seal you no "
                "longer need before adding another."
            )
            % {"enterprise": enterprise.name, "quota": settings.SEAL_QUOTA},
            code="seal_quota",
        )


def add_enterprise_seal(
    *,
    actor: User,
    membership: Membership,
    kind: SealKind,
    name: str,
    png: bytes,
    source: SealSource,
    width_mm: Decimal,
    height_mm: Decimal,
    shape: str = "",
    code: str = "",
) -> Seal:
    """Store *png* as a new seal of the enterprise, within its quota; the creator holds it."""
    stored = store_seal_png(png)
    with transaction.atomic():
        enterprise = Enterprise.objects.select_for_update().get(pk=membership.enterprise_id)
        _check_quota(enterprise)
        seal = Seal.objects.create(
            enterprise=enterprise,
            kind=kind,
            name=name,
            shape=shape,
            code=code,
            source=source,
            image_path=stored.path,
            image_sha256=stored.sha256,
            width_mm=width_mm,
            height_mm=height_mm,
            created_by=actor,
        )
        # Whoever creates a seal holds it at first; they hand it on under 印章管理.
        SealGrant.objects.create(seal=seal, member=membership, granted_by=actor)
        _audit(seal, actor, "seal.created", {"kind": kind, "source": source})
    return seal


def create_generated_seal(
    *, actor: User, enterprise_id: str, kind: str, name: str = "", shape: str = "", code: str = ""
) -> Seal:
    membership = seal_manager(actor, enterprise_id)
    seal_kind = parse_kind(kind, ENTERPRISE_KINDS)
    label, seal_shape, seal_code = (
        seal_label(name, seal_kind),
        _shape(shape, seal_kind),
        _code(code),
    )
    drawn = draw_seal(membership.enterprise, seal_kind, shape=seal_shape, code=seal_code)
    return add_enterprise_seal(
        actor=actor,
        membership=membership,
        kind=seal_kind,
        name=label,
        png=drawn.png,
        source=SealSource.GENERATED,
        width_mm=Decimal(str(drawn.width_mm)).quantize(Decimal("0.1")),
        height_mm=Decimal(str(drawn.height_mm)).quantize(Decimal("0.1")),
        shape=seal_shape,
        code=seal_code,
    )


def create_uploaded_seal(
    *,
    actor: User,
    enterprise_id: str,
    kind: str,
    upload: UploadedFile | None,
    name: str = "",
    width_mm: str | float | Decimal | None = None,
) -> Seal:
    membership = seal_manager(actor, enterprise_id)
    seal_kind = parse_kind(kind, ENTERPRISE_KINDS)
    label, width = seal_label(name, seal_kind), _width(width_mm, seal_kind)
    image = check_seal_upload(upload)
    width, height = size_mm(image.width, image.height, width_mm=width)
    return add_enterprise_seal(
        actor=actor,
        membership=membership,
        kind=seal_kind,
        name=label,
        png=image.data,
        source=SealSource.UPLOADED,
        width_mm=width,
        height_mm=height,
    )


def _require_verified_person(actor: User) -> None:
    if not actor.is_real_name_verified:
        raise Conflict(
            _("Verify your identity before creating a signature."), code="person_not_verified"
        )


def _check_signature_quota(actor: User) -> None:
    used = Seal.objects.filter(owner=actor, deleted_at__isnull=True).count()
    if used >= settings.SIGNATURE_QUOTA:
        raise Conflict(
            _("You already have %(quota)d signatures. Delete one before adding another.")
            % {"quota": settings.SIGNATURE_QUOTA},
            code="signature_quota",
        )


def create_signature(
    *, actor: User, source: str, upload: UploadedFile | None = None, name: str = ""
) -> Seal:
    """A personal signature: generated from the verified name, or drawn (uploaded PNG)."""
    _require_verified_person(actor)
    if source == "generate":
        drawn = render.signature(actor.name)
        png, origin = drawn.png, SealSource.GENERATED
        width = Decimal(str(drawn.width_mm)).quantize(Decimal("0.1"))
        height = Decimal(str(drawn.height_mm)).quantize(Decimal("0.1"))
    elif source == "drawn":
        image = check_seal_upload(upload)
        png, origin = image.data, SealSource.DRAWN
        width, height = size_mm(
            image.width, image.height, width_mm=DEFAULT_WIDTH_MM[SealKind.SIGNATURE]
        )
    else:
        message = _("Choose generate or drawn.")
        raise Invalid(message, code="signature_source", fields={"source": message})
    label = seal_label(name, SealKind.SIGNATURE)
    stored = store_seal_png(png)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=actor.pk).first()
        _check_signature_quota(actor)
        seal = Seal.objects.create(
            owner=actor,
            kind=SealKind.SIGNATURE,
            name=label,
            source=origin,
            image_path=stored.path,
            image_sha256=stored.sha256,
            width_mm=width,
            height_mm=height,
            created_by=actor,
        )
        _audit(seal, actor, "signature.created", {"source": origin})
    return seal


# -- changing ----------------------------------------------------------------------------------


def update_seal(
    *,
    actor: User,
    seal_id: str,
    name: str | None = None,
    code: str | None = None,
    shape: str | None = None,
    status: str | None = None,
    department_id: str | None = None,
) -> Seal:
    """Rename, re-code or re-shape (generated seals are redrawn), disable or enable; give it to
    a department of the enterprise (`department_id`; "" gives it back to the enterprise)."""
    with transaction.atomic():
        seal = managed_seal(actor=actor, seal_id=seal_id)
        seal = (
            Seal.objects.select_for_update(of=("self",))
            .select_related("enterprise")
            .get(pk=seal.pk)
        )
        changed: dict[str, str] = {}
        if name is not None:
            seal.name = seal_label(name, SealKind(seal.kind))
            changed["name"] = seal.name
        if status is not None:
            if status not in SealStatus.values:
                message = _("Choose active or disabled.")
                raise Invalid(message, code="seal_status", fields={"status": message})
            seal.status = status
            changed["status"] = status
        if code is not None or shape is not None:
            _redraw(seal, code=code, shape=shape)
            changed.update(code=seal.code, shape=seal.shape)
        if department_id is not None:
            seal.department = _holding_department(seal, department_id)
            changed["department"] = department_id
        seal.save()
        _audit(seal, actor, "seal.updated", changed)
    return seal


def _holding_department(seal: Seal, department_id: str) -> Department | None:
    """The live department of the seal's own enterprise that is to hold it ("" for none)."""
    if seal.enterprise_id is None:
        raise Invalid(_("A personal signature has no other holders."), code="signature_not_shared")
    if not department_id:
        return None
    department = Department.objects.filter(
        pk=department_id, enterprise_id=seal.enterprise_id, deleted_at__isnull=True
    ).first()
    if department is None:
        message = _("Choose a department of this enterprise.")
        raise Invalid(message, code="department_invalid", fields={"department_id": message})
    return department


def _redraw(seal: Seal, *, code: str | None, shape: str | None) -> None:
    if seal.source != SealSource.GENERATED or seal.enterprise is None:
        raise Conflict(
            _("Only a generated seal can be redrawn with another code or shape."),
            code="seal_not_generated",
        )
    kind = SealKind(seal.kind)
    seal.code = _code(code) if code is not None else seal.code
    seal.shape = _shape(shape, kind) if shape is not None else seal.shape
    drawn = draw_seal(seal.enterprise, kind, shape=seal.shape, code=seal.code)
    stored = store_seal_png(drawn.png)
    seal.image_path, seal.image_sha256 = stored.path, stored.sha256
    seal.width_mm = Decimal(str(drawn.width_mm)).quantize(Decimal("0.1"))
    seal.height_mm = Decimal(str(drawn.height_mm)).quantize(Decimal("0.1"))


def replace_image(
    *,
    actor: User,
    seal_id: str,
    upload: UploadedFile | None,
    width_mm: str | float | Decimal | None = None,
) -> Seal:
    """A new uploaded image for an existing seal; holders and history stay."""
    seal = managed_seal(actor=actor, seal_id=seal_id)
    width = _width(width_mm, SealKind(seal.kind)) if width_mm not in (None, "") else seal.width_mm
    image = check_seal_upload(upload)
    stored = store_seal_png(image.data)
    with transaction.atomic():
        seal = Seal.objects.select_for_update().get(pk=seal.pk)
        seal.width_mm, seal.height_mm = size_mm(image.width, image.height, width_mm=width)
        seal.image_path, seal.image_sha256 = stored.path, stored.sha256
        seal.source = SealSource.DRAWN if seal.owner_id else SealSource.UPLOADED
        seal.code = ""
        seal.save()
        _audit(seal, actor, "seal.replaced", {"sha256": stored.sha256})
    return seal


def delete_seal(*, actor: User, seal_id: str) -> None:
    with transaction.atomic():
        seal = managed_seal(actor=actor, seal_id=seal_id)
        seal = Seal.objects.select_for_update().get(pk=seal.pk)
        in_use = sum(counter(seal) for counter in _IN_USE)
        if in_use:
            raise Conflict(
                _(
                    "This seal is placed on %(count)d contract(s) still being signed. Finish or "
                    "revoke them, or disable the seal instead."
                )
                % {"count": in_use},
                code="seal_in_use",
            )
        seal.deleted_at = timezone.now()
        seal.save(update_fields=["deleted_at", "updated_at"])
        seal.grants.all().delete()
        _audit(seal, actor, "seal.deleted", {})


def _audit(seal: Seal, actor: User, action: str, data: dict[str, str]) -> None:
    record_event(
        action=action,
        actor_id=actor.id,
        acting_as=str(seal.enterprise_id or ""),
        object_type="seal",
        object_id=seal.id,
        data=data,
    )
