"""The packages PortSign ships with (套餐). Migration 0002 puts a frozen copy in the database
on install; `ensure_default_packages` restores them where a database was emptied (tests,
a demo reset)."""

from __future__ import annotations

from portsign.billing.enums import QuotaKind
from portsign.billing.models import Package

DEFAULT_PACKAGES = (
    # id, name, kind, contracts, price in fen
    ("corporate-10", "对公合同 10 份", QuotaKind.CORPORATE, 10, 5000),
    ("corporate-50", "对公合同 50 份", QuotaKind.CORPORATE, 50, 22000),
    ("corporate-200", "对公合同 200 份", QuotaKind.CORPORATE, 200, 80000),
    ("personal-20", "对私合同 20 份", QuotaKind.PERSONAL, 20, 4000),
    ("personal-100", "对私合同 100 份", QuotaKind.PERSONAL, 100, 18000),
)


def ensure_default_packages() -> int:
    """Create the missing default packages; how many were created."""
    created = 0
    for position, (pk, name, kind, contracts, price) in enumerate(DEFAULT_PACKAGES):
        _row, made = Package.objects.get_or_create(
            pk=pk,
            defaults={
                "name": name,
                "kind": kind,
                "contracts": contracts,
                "price_fen": price,
                "position": position,
            },
        )
        created += made
    return created
