"""API shapes of enterprise API keys (API.md "Enterprise API keys")."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field

from portsign.integrations.models import ApiKey

SCOPES_HELP = (
    "contracts:read (list and read contracts, as view_contracts), contracts:write (create and "
    "send them, as send_contracts), webhooks (manage the enterprise's webhooks)"
)


class ApiKeyIn(Schema):
    name: str = Field(description="what the key is for, 1 to 40 characters")
    scopes: list[str] = Field(description=SCOPES_HELP)


class ApiKeyCreatorOut(Schema):
    id: str
    name: str


class ApiKeyOut(Schema):
    id: str
    name: str
    prefix: str = Field(description="the key's first 12 characters, to recognise it")
    scopes: list[str]
    user_id: str = Field(
        description="the key's service account: its user_id in the member list, the actor_id "
        "of what it does in the audit log"
    )
    created_by: ApiKeyCreatorOut
    created_at: datetime
    last_used_at: datetime | None = Field(description="to the minute")
    revoked_at: datetime | None

    @staticmethod
    def of(key: ApiKey) -> ApiKeyOut:
        return ApiKeyOut(
            id=key.id,
            name=key.name,
            prefix=key.prefix,
            scopes=list(key.scopes),
            user_id=key.user_id,
            created_by=ApiKeyCreatorOut(id=key.created_by_id, name=key.created_by.name),
            created_at=key.created_at,
            last_used_at=key.last_used_at,
            revoked_at=key.revoked_at,
        )


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(
        description="the key itself: shown this once, store it now; send it as "
        "`Authorization: Bearer <key>` with `acting_as=<enterprise id>`"
    )
