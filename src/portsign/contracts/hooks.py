"""Contracts plug into seals: a seal placed on a contract still being signed is not deleted."""

from __future__ import annotations

from django.utils import timezone

from portsign.contracts.enums import ContractStatus
from portsign.contracts.models import SigningIntent
from portsign.seals.domain.seals import register_in_use
from portsign.seals.models import Seal


def _pending_uses(seal: Seal) -> int:
    """Contracts being signed where a signer has chosen this seal and not yet confirmed."""
    return (
        SigningIntent.objects.filter(
            seal_ids__contains=seal.id,
            contract__status=ContractStatus.SIGNING,
            used_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .values("contract_id")
        .distinct()
        .count()
    )


register_in_use(_pending_uses)
