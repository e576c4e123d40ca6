"""Shared fixtures: an API client, people (alice, bob, charlie) and the sandbox outbox.

Tests run with real transactions (`transactional_db`) because delivery of SMS and e-mail
happens after commit, exactly as in production.
"""

from __future__ import annotations

import pytest

from tests.helpers import Api, Person, make_person


@pytest.fixture(autouse=True)
def _database(transactional_db: None, settings) -> None:
    settings.TEST_HOOKS = True


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
