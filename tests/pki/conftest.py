from __future__ import annotations

import pytest

from portsign.pki.ca import init_hierarchy


@pytest.fixture
def hierarchy():
    return {ca.role: ca for ca in init_hierarchy()}
