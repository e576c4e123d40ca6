"""审核单位 (E1): the hierarchy, where a filing goes, and who may see or decide it.

A filing is addressed to the office of the enterprise's administrative division, read from USCC
positions 3–8 (GB/T 2260): the city (`XXXX00`) if an office is registered for it, else the
province (`XX0000`), else the national office. The addressed authority decides; its ancestors
see the filing read-only. Joint-review units (customs, forex, commerce) are found the same way
among authorities of their kind.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from portsign.accounts.models import User
from portsign.common.audit import record_event
from portsign.common.errors import Conflict, Invalid, NotFound
from portsign.eport.enums import AuthorityKind, AuthorityLevel
from portsign.eport.models import Authority, Reviewer

NATIONAL_CODE = "100000"


def division_codes(uscc: str) -> list[str]:
    """The division codes to try for an enterprise, nearest first: city, province, national."""
    division = uscc[2:8]
    return [division[:4] + "00", division[:2] + "0000", NATIONAL_CODE]


def addressed_to(uscc: str, kind: str = AuthorityKind.OFFICE) -> Authority:
    """The authority of *kind* that decides filings of the enterprise with this USCC."""
    found = {a.code: a for a in Authority.objects.filter(kind=kind, code__in=division_codes(uscc))}
    for code in division_codes(uscc):
        if code in found:
            return found[code]
    raise Conflict(
        _("No E-Port office reviews enterprises of division %(code)s yet.") % {"code": uscc[2:8]},
        code="no_authority",
    )


def level_of(code: str) -> str:
    if code == NATIONAL_CODE:
        return AuthorityLevel.NATIONAL
    return AuthorityLevel.PROVINCE if code.endswith("0000") else AuthorityLevel.CITY


def create_authority(*, kind: str, code: str, name: str, parent: Authority | None) -> Authority:
    """An authority under *parent* (the back office and `make run`'s demo set them up)."""
    if kind not in AuthorityKind.values:
        raise Invalid(_("Unknown authority kind."), code="authority_kind")
    if len(code) != 6 or not code.isdigit() or not code.endswith("00"):
        message = _("An authority code is a division code of 6 digits ending in 00.")
        raise Invalid(message, code="authority_code", fields={"code": message})
    level = level_of(code)
    expected_parent: str | None = {
        AuthorityLevel.NATIONAL: None,
        AuthorityLevel.PROVINCE: NATIONAL_CODE,
        AuthorityLevel.CITY: code[:2] + "0000",
    }[AuthorityLevel(level)]
    if (parent.code if parent else None) != expected_parent or (parent and parent.kind != kind):
        message = _("This authority belongs under %(parent)s.") % {"parent": expected_parent or "—"}
        raise Invalid(message, code="authority_parent", fields={"parent": message})
    authority, _created = Authority.objects.get_or_create(
        kind=kind, code=code, defaults={"name": name, "level": level, "parent": parent}
    )
    return authority


def add_reviewer(*, authority: Authority, user: User, by: User | None = None) -> Reviewer:
    reviewer, created = Reviewer.objects.get_or_create(authority=authority, user=user)
    if created:
        record_event(
            action="eport.reviewer_added",
            actor_id=by.id if by else "",
            object_type="eport_authority",
            object_id=authority.id,
            data={"user": user.id},
        )
    return reviewer


def reviewing(user: User) -> list[Authority]:
    """The authorities *user* reviews for."""
    return list(
        Authority.objects.filter(reviewers__user=user).select_related("parent").order_by("code")
    )


def descendant_ids(authority: Authority) -> set[str]:
    """The authority and everything under it (at most three levels deep)."""
    found, frontier = {authority.id}, {authority.id}
    while frontier:
        frontier = set(
            Authority.objects.filter(parent_id__in=frontier).values_list("id", flat=True)
        )
        found |= frontier
    return found


def visible_ids(user: User) -> set[str]:
    """Authorities whose filings *user* may read: their own and those below them."""
    ids: set[str] = set()
    for authority in reviewing(user):
        ids |= descendant_ids(authority)
    return ids


def own_authority(user: User, authority_id: str) -> Authority:
    """An authority *user* reviews for; any other is not found."""
    found = Authority.objects.filter(pk=authority_id, reviewers__user=user).first()
    if found is None:
        raise NotFound()
    return found


def set_auto_approve(*, actor: User, authority_id: str, enabled: bool) -> Authority:
    """Switch auto-approval of filings addressed to this authority itself (never its children's:
    each decides its own)."""
    with transaction.atomic():
        authority = own_authority(actor, authority_id)
        if authority.auto_approve != enabled:
            authority.auto_approve = enabled
            authority.save(update_fields=["auto_approve"])
            record_event(
                action="eport.auto_approve_on" if enabled else "eport.auto_approve_off",
                actor_id=actor.id,
                object_type="eport_authority",
                object_id=authority.id,
                data={"code": authority.code},
            )
    return authority
