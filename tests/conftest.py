"""Shared fixtures: an API client, people (alice, bob, charlie) and the sandbox outbox.

Tests run with real transactions (`transactional_db`) because delivery of SMS and e-mail
happens after commit, exactly as in production.
"""

from __future__ import annotations

import uuid

import pytest

from tests.helpers import Api, Person, make_person


@pytest.fixture(autouse=True)
def _database(transactional_db: None, settings, tmp_path) -> None:
    settings.TEST_HOOKS = True
    # Each test gets its own key-encryption key: parallel workers share DATA_DIR.
    settings.PKI_KEK_FILE = str(tmp_path / "kek")
    # ...and its own audit key and anchors, which outlive the test database otherwise.
    settings.AUDIT_KEY_FILE = str(tmp_path / "audit-key")
    settings.AUDIT_ANCHOR_PREFIX = f"audit-anchors/{tmp_path.name}-{uuid.uuid4().hex}/"
    # ...and its own E-Port card tokens: card numbers restart with each test database.
    settings.CARD_TOKEN_DIR = tmp_path / "cards"
    # Argon2 costs ~0.1 s a hash by design; tests hash thousands of times. Production's hasher
    # is checked in tests/accounts/test_passwords.py.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tests send many contracts from one enterprise or person; the real free allotment (5/10
    # for an enterprise, 1/3 for a person) is what tests/billing/ runs with (`real_allotment`).
    settings.BILLING_FREE = {
        "enterprise": {"corporate": 1000, "personal": 1000},
        "person": {"corporate": 1000, "personal": 1000},
    }


@pytest.fixture
def api() -> Api:
    return Api()


@pytest.fixture
def alice() -> Person:
    return make_person("+8613800000001", "Alice Test")


@pytest.fixture
def bob() -> Person:
    return make_person("+8613800000002", "Bob Test")


@pytest.fixture
def charlie() -> Person:
    return make_person("charlie@example.cn", "Charlie Test")


@pytest.fixture
def acme(alice):
    """A verified enterprise whose main administrator is alice."""
    from tests.helpers import make_enterprise

    return make_enterprise(alice, "Acme Port Logistics Co., Ltd.", 1)


@pytest.fixture
def globex(bob):
    """A verified enterprise whose main administrator is bob."""
    from tests.helpers import make_enterprise

    return make_enterprise(bob, "Globex Tally Co., Ltd.", 2)
