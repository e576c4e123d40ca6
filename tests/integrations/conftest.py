"""Enterprise API keys made through the API, and a Person that calls the API with one."""

from __future__ import annotations

import pytest

from portsign.integrations.models import ApiKey
from tests.helpers import Api, Person, make_person


@pytest.fixture
def dave() -> Person:
    return make_person("+8613800000004", "Dave Test")


def create_key(admin: Person, enterprise, scopes: list[str], name: str = "EDI platform") -> dict:
    """A key made by *admin* in English (the service account's name is in the maker's language)."""
    response = Api(admin.token, language="en").post(
        f"/enterprises/{enterprise.id}/api-keys", {"name": name, "scopes": scopes}
    )
    assert response.status_code == 201, response.content
    assert response["Cache-Control"] == "no-store"
    return response.json()


def key_caller(created: dict) -> Person:
    """The key as a caller of the API (its service account, with the key as bearer token)."""
    key = ApiKey.objects.select_related("user").get(pk=created["id"])
    raw = created["key"]
    return Person(user=key.user, token=raw, api=Api(raw, language="en"), account="")


def make_key(admin: Person, enterprise, scopes: list[str], name: str = "EDI platform") -> Person:
    return key_caller(create_key(admin, enterprise, scopes, name))
