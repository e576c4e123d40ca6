"""Contract templates (SPEC D1 "from a template with fill-in fields", issue 6 §1).

An enterprise uploads a PDF and places fill-in fields (text, number, date, checkbox) and signing
areas per role (甲方, 乙方 …) on its pages. A contract from a template is made in one call: the
values are checked, drawn into the PDF (`flatten`), and the flattened PDF becomes the body of an
ordinary draft — so every signature covers the values — with one party per role, in the role's
order, optionally sent at once. Signing areas become the parties' suggested marks.

Who: members of the template's enterprise whose role may send contracts; everyone else gets
404, as for a template that does not exist.

Who fills a field: the sender's side when the contract is made (typed in the console, or given
by the sending platform through the API), or the party of one role (filled_by = party). Party
fields are filled after sending and before anyone signs (`fills.py`): a value drawn after a
signature would break it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from portsign.accounts.models import User
from portsign.common.audit import record_event
from portsign.common.errors import Conflict, DomainError, Invalid, NotFound
from portsign.common.text import clean_text
from portsign.contracts.domain import contracts, documents, template_values
from portsign.contracts.domain.flatten import flatten
from portsign.contracts.domain.template_values import clean_values, stamps
from portsign.contracts.enums import Ordering, PartyKind
from portsign.contracts.models import Contract, ContractType, Party
from portsign.contracts.template_models import (
    AreaKind,
    DateFormat,
    FieldKind,
    FilledBy,
    PartyFill,
    Template,
    TemplateArea,
    TemplateContract,
    TemplateField,
    TemplateRole,
)
from portsign.enterprises.enums import EnterpriseStatus, Permission
from portsign.enterprises.models import Enterprise
from portsign.enterprises.rules import enterprise_for

MAX_ROLES = contracts.MAX_PARTIES
MAX_FIELDS = 100
MAX_AREAS = 100
TEXT_DEFAULT_LENGTH = 100
TEXT_MAX_LENGTH = 500
MAX_DECIMALS = 6
KEY_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,39}$")


# -- access ------------------------------------------------------------------------------------


def templates_of(*, actor: User, acting_as: str) -> QuerySet[Template]:
    """The live templates of the enterprise *actor* acts for."""
    enterprise = _sending_enterprise(actor, acting_as)
    return Template.objects.filter(enterprise=enterprise, archived_at__isnull=True)


def template_for(*, actor: User, template_id: str, acting_as: str = "") -> Template:
    """A live template *actor* may use and edit. An empty *acting_as* means the template's own
    enterprise; any other identity finds nothing (404)."""
    template = (
        Template.objects.select_related("enterprise", "document", "contract_type")
        .filter(pk=template_id, archived_at__isnull=True)
        .first()
    )
    if template is None or acting_as not in ("", template.enterprise_id):
        raise NotFound()
    enterprise_for(
        user=actor, enterprise_id=template.enterprise_id, permission=Permission.SEND_CONTRACTS
    )
    return template


def _sending_enterprise(actor: User, acting_as: str) -> Enterprise:
    if acting_as in ("", "personal"):
        message = _("Templates belong to an enterprise: act for the enterprise.")
        raise Invalid(message, code="acting_as_enterprise", fields={"acting_as": message})
    return enterprise_for(user=actor, enterprise_id=acting_as, permission=Permission.SEND_CONTRACTS)


# -- the definition: roles, fields, areas ------------------------------------------------------


@dataclass(frozen=True)
class Rect:
    page: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class RoleSpec:
    name: str
    order: int
    is_sender: bool


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str
    kind: str
    required: bool
    filled_by: str
    role: str  # the role that fills it in (filled_by = party), else ""
    max_length: int | None
    min_value: Decimal | None
    max_value: Decimal | None
    decimals: int | None
    date_format: str
    rect: Rect


@dataclass(frozen=True)
class AreaSpec:
    role: str
    kind: str
    rect: Rect


@dataclass(frozen=True)
class Definition:
    name: str
    description: str
    ordering: str
    contract_type: ContractType | None
    roles: list[RoleSpec]
    fields: list[FieldSpec]
    areas: list[AreaSpec]


def _bad(code: str, field: str, message: str) -> Invalid:
    return Invalid(message, code=code, fields={field: message})


def _name(raw: object) -> str:
    return clean_text(
        str(raw or ""),
        field="name",
        min_length=1,
        max_length=100,
        code="template_name",
        message=_("The template's name has 1 to 100 characters."),
    )


def _description(raw: object) -> str:
    return clean_text(
        str(raw or ""),
        field="description",
        min_length=0,
        max_length=300,
        code="template_description",
        message=_("The description has at most 300 characters."),
    )


def _number(raw: object) -> float | None:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str | Decimal):
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def _rect(raw: Mapping[str, Any], *, pages: int, where: str) -> Rect:
    """Page and box of a field or area: inside the page, fractions, origin top-left."""
    page = raw.get("page")
    if isinstance(page, bool) or not isinstance(page, int) or not 1 <= page <= pages:
        raise _bad(
            "template_rect",
            f"{where}.page",
            _("Choose a page from 1 to %(n)d.") % {"n": pages},
        )
    values = [_number(raw.get(k)) for k in ("x", "y", "width", "height")]
    x, y, width, height = (v if v is not None else -1.0 for v in values)
    if (
        not (0 <= x < 1 and 0 <= y < 1 and 0 < width <= 1 and 0 < height <= 1)
        or x + width > 1.0001
        or y + height > 1.0001
    ):
        raise _bad(
            "template_rect",
            where,
            _("The box must lie inside the page (x, y, width and height are fractions of it)."),
        )
    return Rect(page, round(x, 4), round(y, 4), round(width, 4), round(height, 4))


def _role(raw: Mapping[str, Any], position: int) -> RoleSpec:
    where = f"roles.{position}"
    name = " ".join(str(raw.get("name") or "").split())
    if not 1 <= len(name) <= 20:
        raise _bad("template_role", f"{where}.name", _("A role's name has 1 to 20 characters."))
    order = raw.get("order")
    if order is None:
        order = position + 1
    if isinstance(order, bool) or not isinstance(order, int) or not 1 <= order <= MAX_ROLES:
        raise _bad(
            "template_role",
            f"{where}.order",
            _("A role's signing order is a number from 1 to %(n)d.") % {"n": MAX_ROLES},
        )
    return RoleSpec(name=name, order=order, is_sender=bool(raw.get("is_sender")))


def _decimal(raw: object, where: str) -> Decimal | None:
    if raw is None or raw == "":
        return None
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or abs(value) >= Decimal(10) ** 14:
        raise _bad("template_field", where, _("Give an ordinary number."))
    return value


def _field(raw: Mapping[str, Any], position: int, pages: int, roles: set[str]) -> FieldSpec:
    where = f"fields.{position}"
    key = str(raw.get("key") or "").strip()
    if not KEY_PATTERN.match(key):
        raise _bad(
            "template_field",
            f"{where}.key",
            _(
                "A field's key starts with a letter and has up to 40 letters, digits and "
                "underscores (it names the value in the API and in bulk-send columns)."
            ),
        )
    label = " ".join(str(raw.get("label") or "").split())
    if not 1 <= len(label) <= 40:
        raise _bad("template_field", f"{where}.label", _("A field's label has 1 to 40 characters."))
    kind = str(raw.get("kind") or FieldKind.TEXT)
    if kind not in FieldKind.values:
        raise _bad(
            "template_field", f"{where}.kind", _("A field is text, number, date or checkbox.")
        )
    filled_by = str(raw.get("filled_by") or FilledBy.SENDER)
    if filled_by not in FilledBy.values:
        raise _bad(
            "field_filled_by",
            f"{where}.filled_by",
            _(
                "A field is filled by the sender, by the sending platform (api), or by a "
                "signing party (party, with its role)."
            ),
        )
    role = " ".join(str(raw.get("role") or "").split()) if filled_by == FilledBy.PARTY else ""
    if filled_by == FilledBy.PARTY and role not in roles:
        raise _bad(
            "field_filled_by",
            f"{where}.role",
            _("Choose the role whose party fills this field in."),
        )
    max_length = raw.get("max_length")
    if kind == FieldKind.TEXT:
        max_length = TEXT_DEFAULT_LENGTH if max_length in (None, "") else max_length
        if (
            isinstance(max_length, bool)
            or not isinstance(max_length, int)
            or not 1 <= max_length <= TEXT_MAX_LENGTH
        ):
            raise _bad(
                "template_field",
                f"{where}.max_length",
                _("The longest text is 1 to %(n)d characters.") % {"n": TEXT_MAX_LENGTH},
            )
    else:
        max_length = None
    low = _decimal(raw.get("min_value"), f"{where}.min_value") if kind == "number" else None
    high = _decimal(raw.get("max_value"), f"{where}.max_value") if kind == "number" else None
    if low is not None and high is not None and low > high:
        raise _bad(
            "template_field", f"{where}.min_value", _("The minimum is larger than the maximum.")
        )
    decimals = raw.get("decimals") if kind == FieldKind.NUMBER else None
    if decimals in ("",):
        decimals = None
    if decimals is not None and (
        isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 6
    ):
        raise _bad(
            "template_field",
            f"{where}.decimals",
            _("Decimal places are 0 to %(n)d.") % {"n": MAX_DECIMALS},
        )
    date_format = str(raw.get("date_format") or DateFormat.ISO)
    if date_format not in DateFormat.values:
        raise _bad(
            "template_field",
            f"{where}.date_format",
            _("Choose a date format: %(formats)s.") % {"formats": ", ".join(DateFormat.values)},
        )
    return FieldSpec(
        key=key,
        label=label,
        kind=kind,
        required=bool(raw.get("required")),
        filled_by=filled_by,
        role=role,
        max_length=max_length,
        min_value=low,
        max_value=high,
        decimals=decimals,
        date_format=date_format if kind == FieldKind.DATE else DateFormat.ISO,
        rect=_rect(raw, pages=pages, where=where),
    )


def _area(raw: Mapping[str, Any], position: int, pages: int, roles: set[str]) -> AreaSpec:
    where = f"areas.{position}"
    role = " ".join(str(raw.get("role") or "").split())
    if role not in roles:
        raise _bad(
            "template_area", f"{where}.role", _("A signing area belongs to one of the roles.")
        )
    kind = str(raw.get("kind") or AreaKind.SEAL)
    if kind not in AreaKind.values:
        raise _bad(
            "template_area",
            f"{where}.kind",
            _("A signing area is for a seal, a signature or a date."),
        )
    return AreaSpec(role=role, kind=kind, rect=_rect(raw, pages=pages, where=where))


def _list(raw: Mapping[str, Any], key: str, limit: int) -> list[Mapping[str, Any]]:
    items = raw.get(key) or []
    if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
        raise _bad(f"template_{key.rstrip('s')}", key, _("Give a list of objects."))
    if len(items) > limit:
        raise _bad(
            f"template_{key.rstrip('s')}", key, _("At most %(n)d are allowed.") % {"n": limit}
        )
    return items


def parse_definition(raw: Mapping[str, Any], *, enterprise: Enterprise, pages: int) -> Definition:
    """A template's name, roles, fields and areas, checked; the first problem is raised."""
    ordering = str(raw.get("ordering") or Ordering.SEQUENTIAL)
    if ordering not in Ordering.values:
        raise _bad("template_ordering", "ordering", _("Choose sequential or parallel."))
    roles = [_role(r, n) for n, r in enumerate(_list(raw, "roles", MAX_ROLES))]
    names = [r.name for r in roles]
    if len(set(names)) != len(names):
        raise _bad("template_role", "roles", _("Each role has its own name."))
    if sum(r.is_sender for r in roles) > 1:
        raise _bad("template_role", "roles", _("Only one role is the sender's own."))
    fields = [
        _field(f, n, pages, set(names)) for n, f in enumerate(_list(raw, "fields", MAX_FIELDS))
    ]
    keys = [f.key.lower() for f in fields]
    if len(set(keys)) != len(keys):
        raise _bad("template_field", "fields", _("Each field has its own key."))
    areas = [_area(a, n, pages, set(names)) for n, a in enumerate(_list(raw, "areas", MAX_AREAS))]
    return Definition(
        name=_name(raw.get("name")),
        description=_description(raw.get("description")),
        ordering=ordering,
        contract_type=_contract_type(enterprise, str(raw.get("contract_type") or "")),
        roles=roles,
        fields=fields,
        areas=areas,
    )


def _contract_type(enterprise: Enterprise, name: str) -> ContractType | None:
    clean = " ".join(name.split())
    if not clean:
        return None
    found = ContractType.objects.filter(enterprise=enterprise, name=clean).first()
    if found is None:
        message = _("%(enterprise)s has no contract type “%(name)s”.") % {
            "enterprise": enterprise.name,
            "name": clean,
        }
        raise _bad("contract_type", "contract_type", message)
    return found


# -- creating and editing templates ------------------------------------------------------------


def create_template(
    *,
    actor: User,
    acting_as: str,
    upload: UploadedFile | None,
    name: str,
    definition: Mapping[str, Any] | None = None,
    conversion: str = "",
) -> Template:
    """A template from an uploaded PDF (or Word file), optionally with its definition."""
    enterprise = _sending_enterprise(actor, acting_as)
    raw = {"name": name, **(definition or {})}
    if not raw.get("name"):
        raw["name"] = name
    _name(raw["name"])  # a clear error before the file is converted
    # Checked, then rewritten: filling appends an incremental update (documents.prepare).
    raw_pdf = documents.uploaded_pdf(actor, upload, conversion)
    documents.count_pages(raw_pdf)
    pdf = documents.prepare(raw_pdf, [])
    document = documents.store_pdf(pdf)
    spec = parse_definition(raw, enterprise=enterprise, pages=document.pages)
    with transaction.atomic():
        template = Template(enterprise=enterprise, document=document, created_by=actor)
        _save(template, spec)
        _audit(template, actor, "template.created", {"name": template.name})
    return template


def update_template(*, actor: User, template_id: str, definition: Mapping[str, Any]) -> Template:
    """Replace the template's name, roles, fields and areas at once (the designer saves the
    whole layout). Contracts already made keep their own copy of everything."""
    template = template_for(actor=actor, template_id=template_id)
    spec = parse_definition(
        definition, enterprise=template.enterprise, pages=template.document.pages
    )
    with transaction.atomic():
        template = Template.objects.select_for_update().get(pk=template.pk)
        _save(template, spec)
        _audit(
            template,
            actor,
            "template.updated",
            {"fields": str(len(spec.fields)), "roles": str(len(spec.roles))},
        )
    return template


def _save(template: Template, spec: Definition) -> None:
    """Store *spec* on *template* (inside the caller's transaction)."""
    duplicate = Template.objects.filter(
        enterprise_id=template.enterprise_id, name=spec.name, archived_at__isnull=True
    ).exclude(pk=template.pk)
    if duplicate.exists():
        raise Conflict(
            _("%(name)s: a template of this name exists already.") % {"name": spec.name},
            code="template_name_taken",
        )
    template.name, template.description = spec.name, spec.description
    template.ordering, template.contract_type = spec.ordering, spec.contract_type
    try:
        with transaction.atomic():
            template.save()
    except IntegrityError as exc:  # the same name saved concurrently
        raise Conflict(
            _("%(name)s: a template of this name exists already.") % {"name": spec.name},
            code="template_name_taken",
        ) from exc
    template.areas.all().delete()
    template.roles.all().delete()
    template.fields.all().delete()
    roles = {
        r.name: TemplateRole.objects.create(
            template=template, name=r.name, order=r.order, is_sender=r.is_sender
        )
        for r in spec.roles
    }
    TemplateField.objects.bulk_create(
        TemplateField(
            template=template,
            position=n + 1,
            key=f.key,
            label=f.label,
            kind=f.kind,
            required=f.required,
            filled_by=f.filled_by,
            role=roles[f.role] if f.role else None,
            max_length=f.max_length,
            min_value=f.min_value,
            max_value=f.max_value,
            decimals=f.decimals,
            date_format=f.date_format,
            **_rect_columns(f.rect),
        )
        for n, f in enumerate(spec.fields)
    )
    TemplateArea.objects.bulk_create(
        TemplateArea(template=template, role=roles[a.role], kind=a.kind, **_rect_columns(a.rect))
        for a in spec.areas
    )


def _rect_columns(rect: Rect) -> dict[str, Any]:
    return {"page": rect.page, "x": rect.x, "y": rect.y, "width": rect.width, "height": rect.height}


def archive_template(*, actor: User, template_id: str) -> None:
    """Deleting a template archives it: contracts and bulk sends made from it stay readable."""
    with transaction.atomic():
        template = template_for(actor=actor, template_id=template_id)
        Template.objects.filter(pk=template.pk).update(archived_at=timezone.now())
        _audit(template, actor, "template.archived", {"name": template.name})


def _audit(template: Template, actor: User, action: str, data: dict[str, str]) -> None:
    record_event(
        action=action,
        actor_id=actor.id,
        acting_as=template.enterprise_id,
        object_type="template",
        object_id=template.id,
        data=data,
    )


# -- values (checked and drawn in template_values.py) ------------------------------------------


def sender_fields(template: Template) -> list[TemplateField]:
    """The fields the sender's side fills when a contract is made (the parties' come later)."""
    return [f for f in template.fields.all() if f.filled_by != FilledBy.PARTY]


# The definition of a party's field as copied onto its contract (PartyFill.fields).
_SNAPSHOT = ("key", "label", "kind", "required", "max_length", "decimals", "date_format")
_BOX = ("page", "x", "y", "width", "height")


def field_snapshot(field: TemplateField) -> dict[str, Any]:
    copied = {name: getattr(field, name) for name in (*_SNAPSHOT, *_BOX)}
    for name in ("min_value", "max_value"):
        value = getattr(field, name)
        copied[name] = None if value is None else str(value)
    return copied


def field_from_snapshot(copied: Mapping[str, Any]) -> TemplateField:
    """An unsaved TemplateField, so copied fields are checked and drawn like the template's."""
    bounds = {
        name: None if copied.get(name) is None else Decimal(copied[name])
        for name in ("min_value", "max_value")
    }
    return TemplateField(
        **{name: copied[name] for name in (*_SNAPSHOT, *_BOX)},
        **bounds,
        filled_by=FilledBy.PARTY,
    )


def filled_pdf(template: Template, values: Mapping[str, Any]) -> bytes:
    """The template's PDF with *values* (already clean) drawn in."""
    fields = list(template.fields.all())
    return flatten(documents.read_document(template.document), stamps(fields, values))


# -- contracts from a template -----------------------------------------------------------------


@dataclass(frozen=True)
class PartySpec:
    role: TemplateRole
    kind: str
    account: str
    enterprise_name: str


def _parties(template: Template, actor: User, raw: Sequence[Mapping[str, Any]]) -> list[PartySpec]:
    """One party per role: as given, or — for the sender's own role — the sender."""
    roles = {r.name: r for r in template.roles.all()}
    given: dict[str, Mapping[str, Any]] = {}
    for number, item in enumerate(raw):
        name = " ".join(str(item.get("role") or "").split())
        if name not in roles:
            raise _bad(
                "party_role",
                f"parties.{number}.role",
                _("The template has no role “%(role)s”. Its roles: %(roles)s.")
                % {"role": name, "roles": "、".join(roles)},
            )
        if name in given:
            raise _bad(
                "party_role",
                f"parties.{number}.role",
                _("The role %(role)s is given twice.") % {"role": name},
            )
        given[name] = item
    specs: list[PartySpec] = []
    for name, role in roles.items():
        party: Mapping[str, Any] | None = given.get(name)
        if party is None and role.is_sender:
            enterprise = template.enterprise
            party = {
                "kind": "enterprise",
                "account": actor.account,
                "enterprise_name": enterprise.name,
            }
        if party is None:
            raise _bad(
                "party_missing",
                f"parties.{name}",
                _("Name the party who signs as %(role)s.") % {"role": name},
            )
        specs.append(
            PartySpec(
                role=role,
                kind=str(party.get("kind") or PartyKind.ENTERPRISE),
                account=str(party.get("account") or ""),
                enterprise_name=str(party.get("enterprise_name") or ""),
            )
        )
    return specs


def require_ready(template: Template) -> None:
    """Contracts are made from a template of a verified enterprise that has signing roles."""
    if template.enterprise.status != EnterpriseStatus.VERIFIED:
        raise Conflict(
            _("Verify the enterprise before sending contracts."), code="enterprise_not_verified"
        )
    if not template.roles.exists():
        raise Conflict(
            _("The template has no signing role yet. Add roles in the template designer."),
            code="template_not_ready",
        )


@dataclass(frozen=True)
class Prepared:
    """A contract from a template, checked and filled, ready to be stored in one transaction."""

    template: Template
    values: dict[str, Any]
    parties: list[PartySpec]
    pdf: bytes
    party_fields: list[TemplateField]  # filled in by the parties after sending
    business_fields: dict[str, str]  # checked as for any draft (template_values)


def prepare_contract(
    *,
    actor: User,
    template_id: str,
    acting_as: str = "",
    values: Mapping[str, Any],
    parties: Sequence[Mapping[str, Any]] = (),
    business_fields: Mapping[str, Any] | None = None,
) -> Prepared:
    """Check the values, business values and parties and draw the values into the PDF (no
    transaction: drawing takes a moment and holds no lock)."""
    template = template_for(actor=actor, template_id=template_id, acting_as=acting_as)
    require_ready(template)
    fields = list(template.fields.select_related("role"))
    own = [f for f in fields if f.filled_by != FilledBy.PARTY]
    business = {f.key for f in template_values.business_fields_of(template.enterprise_id)}
    values, given = template_values.split_business(fields, values, business)
    template_values.refuse_party_values(fields, values)
    clean = clean_values(own, values)
    checked = template_values.business_values(
        template.enterprise, business, clean, {**given, **(business_fields or {})}
    )
    specs = _parties(template, actor, parties)
    pdf = flatten(documents.read_document(template.document), stamps(own, clean))
    return Prepared(
        template=template,
        values=clean,
        parties=specs,
        pdf=pdf,
        party_fields=[f for f in fields if f.filled_by == FilledBy.PARTY],
        business_fields=checked,
    )


def make_contract(
    *,
    actor: User,
    prepared: Prepared,
    title: str = "",
    deadline: dt.datetime | None = None,
    send: bool = False,
) -> Contract:
    """Store a prepared contract: the draft, its parties, the link to the template, and — with
    *send* — send it. Call inside a transaction: it is all or nothing."""
    template = prepared.template
    draft = contracts.create_draft(
        actor=actor,
        upload=SimpleUploadedFile("contract.pdf", prepared.pdf, content_type="application/pdf"),
        title=title or template.name,
        acting_as=template.enterprise_id,
        contract_type=template.contract_type.name if template.contract_type else "",
        deadline=deadline,
        ordering=template.ordering,
        business_fields=prepared.business_fields,
    )
    marks: dict[str, list[dict[str, Any]]] = {}
    for spec in prepared.parties:
        party = _add_party(actor, draft, spec)
        marks[party.id] = [
            {
                "kind": area.kind,
                "page": area.page,
                "x": area.x,
                "y": area.y,
                "width": area.width,
                "height": area.height,
            }
            for area in spec.role.areas.all()
        ]
        to_fill = [f for f in prepared.party_fields if f.role_id == spec.role.id]
        if to_fill:
            PartyFill.objects.create(
                contract=draft,
                party=party,
                role=spec.role.name,
                fields=[field_snapshot(f) for f in to_fill],
            )
    TemplateContract.objects.create(
        contract=draft, template=template, values=prepared.values, suggested_marks=marks
    )
    record_event(
        action="contract.created_from_template",
        actor_id=actor.id,
        acting_as=template.enterprise_id,
        object_type="contract",
        object_id=draft.id,
        data={"template": template.id, "template_name": template.name},
    )
    if send:
        return contracts.send(actor=actor, contract_id=draft.id)
    return draft


def create_contract(
    *,
    actor: User,
    template_id: str,
    acting_as: str = "",
    values: Mapping[str, Any],
    parties: Sequence[Mapping[str, Any]] = (),
    title: str = "",
    deadline: dt.datetime | None = None,
    send: bool = False,
    business_fields: Mapping[str, Any] | None = None,
) -> Contract:
    """A contract from a template in one call: values checked and flattened into the body, one
    party per role, business values as for any draft, optionally sent. All or nothing."""
    prepared = prepare_contract(
        actor=actor,
        template_id=template_id,
        acting_as=acting_as,
        values=values,
        parties=parties,
        business_fields=business_fields,
    )
    with transaction.atomic():
        return make_contract(
            actor=actor, prepared=prepared, title=title, deadline=deadline, send=send
        )


def _add_party(actor: User, draft: Contract, spec: PartySpec) -> Party:
    """The party of one role; its errors name the role (`parties.<role>.<field>`)."""
    try:
        return contracts.add_party(
            actor=actor,
            contract_id=draft.id,
            kind=spec.kind,
            account=spec.account,
            enterprise_name=spec.enterprise_name,
            order=spec.role.order,
        )
    except DomainError as exc:
        exc.fields = {f"parties.{spec.role.name}.{k}": v for k, v in exc.fields.items()}
        exc.message = f"{spec.role.name}: {exc.message}"
        raise


def suggested_marks(contract_id: str) -> dict[str, list[dict[str, Any]]]:
    """Suggested marks by party id, for a contract made from a template (else empty)."""
    link = TemplateContract.objects.filter(contract_id=contract_id).first()
    return dict(link.suggested_marks) if link else {}
