"""Webhooks API (issue 6 §7). Handlers only translate; rules live in domain/."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema, Status

from portsign.accounts.backends import signed_in_user
from portsign.common.api_auth import AUTH
from portsign.common.paging import page_from_query
from portsign.webhooks.domain import deliveries, endpoints
from portsign.webhooks.models import Delivery, Endpoint

router = Router(tags=["webhooks"], auth=AUTH)
PAGE_SIZE = 20
# Answers with a secret: not cached, and not kept by the Idempotency-Key middleware either.
NO_STORE = "no-store"


class EndpointIn(Schema):
    url: str = Field(description="https URL (http only for test receivers outside production)")
    events: list[str] | None = Field(
        None,
        description="sent, signed, completed, rejected, revoked, expired, voided; all if omitted",
    )


class EndpointPatch(Schema):
    url: str | None = None
    events: list[str] | None = None
    active: bool | None = None


class EndpointOut(Schema):
    id: str
    enterprise_id: str
    url: str
    events: list[str]
    active: bool
    created_at: datetime
    secret_rotated_at: datetime | None

    @staticmethod
    def of(endpoint: Endpoint) -> EndpointOut:
        return EndpointOut(
            id=endpoint.id,
            enterprise_id=endpoint.enterprise_id,
            url=endpoint.url,
            events=list(endpoint.events),
            active=endpoint.active,
            created_at=endpoint.created_at,
            secret_rotated_at=endpoint.secret_rotated_at,
        )


class EndpointWithSecret(EndpointOut):
    secret: str = Field(description="the signing secret: shown this once, store it now")


class DeliveryOut(Schema):
    id: str
    event: str
    contract_id: str
    status: str = Field(description="pending | delivered | failed")
    attempts: int
    last_status_code: int | None
    last_error: str
    last_response: str = Field(description="the receiver's answer, first 200 characters")
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime

    @staticmethod
    def of(row: Delivery) -> DeliveryOut:
        return DeliveryOut(
            id=row.id,
            event=row.event,
            contract_id=row.contract_id,
            status=row.status,
            attempts=row.attempts,
            last_status_code=row.last_status_code,
            last_error=row.last_error,
            last_response=row.last_response,
            next_attempt_at=row.next_attempt_at,
            delivered_at=row.delivered_at,
            created_at=row.created_at,
        )


class DeliveriesPage(Schema):
    items: list[DeliveryOut]
    total: int
    page: int
    page_size: int


def _with_secret(endpoint: Endpoint, secret: str) -> EndpointWithSecret:
    return EndpointWithSecret(**EndpointOut.of(endpoint).model_dump(), secret=secret)


@router.post(
    "/enterprises/{enterprise_id}/webhooks",
    response={201: EndpointWithSecret},
    summary="Register a callback URL; the signing secret is in this answer only",
)
def create_endpoint(
    request: HttpRequest, response: HttpResponse, enterprise_id: str, payload: EndpointIn
) -> Status[EndpointWithSecret]:
    response["Cache-Control"] = NO_STORE
    endpoint, secret = endpoints.create_endpoint(
        actor=signed_in_user(request),
        enterprise_id=enterprise_id,
        url=payload.url,
        events=payload.events,
    )
    return Status(201, _with_secret(endpoint, secret))


@router.get("/enterprises/{enterprise_id}/webhooks", response=list[EndpointOut], summary="Webhooks")
def list_endpoints(request: HttpRequest, enterprise_id: str) -> list[EndpointOut]:
    rows = endpoints.endpoints_of(actor=signed_in_user(request), enterprise_id=enterprise_id)
    return [EndpointOut.of(endpoint) for endpoint in rows]


@router.get("/webhooks/{endpoint_id}", response=EndpointOut, summary="A webhook endpoint")
def get_endpoint(request: HttpRequest, endpoint_id: str) -> EndpointOut:
    return EndpointOut.of(
        endpoints.manageable_endpoint(actor=signed_in_user(request), endpoint_id=endpoint_id)
    )


@router.patch(
    "/webhooks/{endpoint_id}", response=EndpointOut, summary="Change the URL or events; disable"
)
def update_endpoint(request: HttpRequest, endpoint_id: str, payload: EndpointPatch) -> EndpointOut:
    endpoint = endpoints.update_endpoint(
        actor=signed_in_user(request),
        endpoint_id=endpoint_id,
        url=payload.url,
        events=payload.events,
        active=payload.active,
    )
    return EndpointOut.of(endpoint)


@router.delete("/webhooks/{endpoint_id}", response={204: None}, summary="Delete an endpoint")
def delete_endpoint(request: HttpRequest, endpoint_id: str) -> Status[None]:
    endpoints.delete_endpoint(actor=signed_in_user(request), endpoint_id=endpoint_id)
    return Status(204, None)


@router.post(
    "/webhooks/{endpoint_id}/rotate-secret",
    response=EndpointWithSecret,
    summary="A new signing secret (in this answer only); the old one stops working at once",
)
def rotate_secret(
    request: HttpRequest, response: HttpResponse, endpoint_id: str
) -> EndpointWithSecret:
    response["Cache-Control"] = NO_STORE
    endpoint, secret = endpoints.rotate_secret(
        actor=signed_in_user(request), endpoint_id=endpoint_id
    )
    return _with_secret(endpoint, secret)


@router.get(
    "/webhooks/{endpoint_id}/deliveries", response=DeliveriesPage, summary="The delivery log"
)
def list_deliveries(request: HttpRequest, endpoint_id: str) -> DeliveriesPage:
    page = page_from_query(request)
    rows = deliveries.deliveries_of(actor=signed_in_user(request), endpoint_id=endpoint_id)
    items = list(rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE])
    return DeliveriesPage(
        items=[DeliveryOut.of(row) for row in items],
        total=rows.count(),
        page=page,
        page_size=PAGE_SIZE,
    )


@router.post(
    "/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver",
    response={202: DeliveryOut},
    summary="Send a failed delivery again (same id and body)",
)
def redeliver(request: HttpRequest, endpoint_id: str, delivery_id: str) -> Status[DeliveryOut]:
    row = deliveries.redeliver(
        actor=signed_in_user(request), endpoint_id=endpoint_id, delivery_id=delivery_id
    )
    return Status(202, DeliveryOut.of(row))
