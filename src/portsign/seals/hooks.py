"""Seals plug into one-click transfer (SPEC B5): a departing member's seals go to the successor."""

from __future__ import annotations

from django.db.models import Q

from portsign.enterprises.models import Membership
from portsign.enterprises.transfer import Transferable, register
from portsign.seals.domain import scans  # noqa: F401  (registers the review kind)
from portsign.seals.models import SealGrant

TRANSFER_KIND = "seal"


def _held(member: Membership) -> int:
    return SealGrant.objects.filter(member=member, seal__deleted_at__isnull=True).count()


def _move(source: Membership, target: Membership, actor_id: str) -> list[str]:
    """Hand each seal the member holds by name to the successor (once: no duplicate grants)."""
    moved: list[str] = []
    for grant in SealGrant.objects.filter(member=source).select_related("seal"):
        if not SealGrant.objects.filter(Q(seal=grant.seal) & Q(member=target)).exists():
            SealGrant.objects.create(seal=grant.seal, member=target, granted_by_id=actor_id)
        grant.delete()
        if grant.seal.deleted_at is None:
            moved.append(grant.seal_id)
    return moved


register(Transferable(kind=TRANSFER_KIND, count=_held, move=_move))
