"""Enterprise API keys API (API.md "Enterprise API keys"). Handlers translate; rules live in
domain/.

A key is sent as `Authorization: Bearer psk_…` and acts as its enterprise: like any member,
the caller names the identity it acts as with `acting_as=<enterprise id>` (a query parameter
on reads, a body field on writes); without it a key acts as its own service account, which
has no contracts of its own and may send none.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Router, Status

from portsign.accounts.backends import signed_in_user
from portsign.common.api_auth import AUTH
from portsign.integrations.domain import keys
from portsign.integrations.schemas import ApiKeyCreated, ApiKeyIn, ApiKeyOut

router = Router(tags=["api-keys"], auth=AUTH)
# The answer holds the key: not cached, and not kept by the Idempotency-Key middleware either.
NO_STORE = "no-store"


@router.post(
    "/enterprises/{enterprise_id}/api-keys",
    response={201: ApiKeyCreated},
    summary="Create an API key (administrators); the key is in this answer only",
)
def create_key(
    request: HttpRequest, response: HttpResponse, enterprise_id: str, payload: ApiKeyIn
) -> Status[ApiKeyCreated]:
    response["Cache-Control"] = NO_STORE
    key, raw = keys.create_key(
        actor=signed_in_user(request),
        enterprise_id=enterprise_id,
        name=payload.name,
        scopes=payload.scopes,
    )
    return Status(201, ApiKeyCreated(**ApiKeyOut.of(key).model_dump(), key=raw))


@router.get(
    "/enterprises/{enterprise_id}/api-keys",
    response=list[ApiKeyOut],
    summary="The enterprise's API keys, revoked ones too (administrators)",
)
def list_keys(request: HttpRequest, enterprise_id: str) -> list[ApiKeyOut]:
    rows = keys.keys_of(actor=signed_in_user(request), enterprise_id=enterprise_id)
    return [ApiKeyOut.of(key) for key in rows]


@router.delete(
    "/enterprises/{enterprise_id}/api-keys/{key_id}",
    response={204: None},
    summary="Revoke an API key: it stops at once (administrators)",
)
def revoke_key(request: HttpRequest, enterprise_id: str, key_id: str) -> Status[None]:
    keys.revoke_key(actor=signed_in_user(request), enterprise_id=enterprise_id, key_id=key_id)
    return Status(204, None)
