"""Billing tests run with the real free allotment (the suite's conftest grants 1000 of each)."""

from __future__ import annotations

import pytest

import portsign.settings as defaults


@pytest.fixture(autouse=True)
def real_allotment(settings) -> None:
    settings.BILLING_FREE = {
        holder: dict(counts) for holder, counts in defaults.BILLING_FREE.items()
    }
    settings.PAYMENT_PROVIDER = "sandbox"


@pytest.fixture(autouse=True)
def packages(real_allotment) -> None:
    """The shipped packages (the test database is emptied between tests, data migration too)."""
    from portsign.billing.domain.catalogue import ensure_default_packages

    ensure_default_packages()
