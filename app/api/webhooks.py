"""Webhooks to merchants' endpoints (admin): endpoints, their secrets, the delivery log, retries.

Plain (not async) routes: saving a URL resolves its host (DNS blocks), so FastAPI runs them in its
thread pool, off the event loop.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from fastapi import APIRouter, Path, Query, Response
from pydantic import Field, StrictStr

from app.api.deps import AdminUser, ContainerDep
from app.api.errors import responses
from app.api.fields import Text, optional_query
from app.api.schemas import Public, Strict
from domain.model.webhooks import MAX_DESCRIPTION, MAX_URL

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"], responses=responses(401, 403))
EndpointId = Annotated[str, Path(alias="endpointId")]
DeliveryId = Annotated[str, Path(alias="deliveryId")]

# domain.model.webhooks.PUBLIC_EVENT_TYPES, and "*" (tests/unit/test_webhooks_model.py holds them equal).
EventType = Literal["payment.created", "payment.processing", "payment.retry", "payment.completed", "payment.failed",
                    "order.created", "order.paid", "order.payment_failed", "order.refunded", "refund.created",
                    "refund.succeeded", "refund.failed", "webhook_endpoint.disabled", "*"]
EndpointStatus = Literal["enabled", "disabled"]
DeliveryStatus = Literal["pending", "delivered", "failed", "dead"]
Url = Annotated[StrictStr, Field(max_length=MAX_URL, pattern=r"^[Hh][Tt][Tt][Pp][Ss]?://[\x21-\x7E]+$",
                                 description="http or https; a host that resolves to a private, loopback or "
                                             "link-local address is refused unless the gateway allows it")]
Events = Annotated[list[EventType], Field(min_length=1, max_length=len(get_args(EventType)),
                                          description='Public event types, or ["*"] for all')]
Cursor = Annotated[str | None, optional_query({"type": "string", "format": "delivery-cursor"})]
StatusFilter = Annotated[DeliveryStatus | None,
                         optional_query({"type": "string", "enum": list(get_args(DeliveryStatus))})]


class WebhookEndpointCreate(Strict):
    url: Url
    events: Events
    description: Text = Field("", max_length=MAX_DESCRIPTION)


class WebhookEndpointUpdate(Strict):
    url: Url | None = None
    events: Events | None = None
    description: Text | None = Field(None, max_length=MAX_DESCRIPTION)
    status: EndpointStatus | None = None


class WebhookEndpointPublic(Public):
    id: str
    url: str
    events: list[str]
    description: str
    status: EndpointStatus
    disabled_reason: str | None
    created_at: str
    updated_at: str


class WebhookEndpointWithSecret(WebhookEndpointPublic):
    secret: str = Field(description="whsec_…: shown here only; keep it to verify the signatures")


class WebhookEndpointList(Public):
    data: list[WebhookEndpointPublic]


class WebhookDeliveryPublic(Public):
    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: str | None
    delivered_at: str | None
    created_at: str
    updated_at: str


class WebhookDeliveryPage(Public):
    data: list[WebhookDeliveryPublic]
    next_cursor: str | None


@router.post("/endpoints", status_code=201, response_model=WebhookEndpointWithSecret, responses=responses(400, 422))
def create_endpoint(body: WebhookEndpointCreate, _admin: AdminUser, c: ContainerDep) -> dict[str, Any]:
    """Register an endpoint; its signing secret is in this answer only."""
    return c.webhooks.create(body.model_dump()).with_secret()


@router.get("/endpoints", response_model=WebhookEndpointList)
def list_endpoints(_admin: AdminUser, c: ContainerDep) -> dict[str, Any]:
    """Every endpoint, oldest first (without secrets)."""
    return {"data": [e.public() for e in c.webhooks.list()]}


@router.get("/endpoints/{endpointId}", response_model=WebhookEndpointPublic, responses=responses(404))
def get_endpoint(endpoint_id: EndpointId, _admin: AdminUser, c: ContainerDep) -> dict[str, Any]:
    """One endpoint (without its secret)."""
    return c.webhooks.get(endpoint_id).public()


@router.patch("/endpoints/{endpointId}", response_model=WebhookEndpointPublic, responses=responses(400, 404, 422))
def update_endpoint(endpoint_id: EndpointId, body: WebhookEndpointUpdate, _admin: AdminUser,
                    c: ContainerDep) -> dict[str, Any]:
    """Change url, events, description or status; enabling starts the count of dead deliveries afresh."""
    return c.webhooks.update(endpoint_id, body.model_dump(exclude_unset=True)).public()


@router.delete("/endpoints/{endpointId}", status_code=204, responses=responses(404))
def delete_endpoint(endpoint_id: EndpointId, _admin: AdminUser, c: ContainerDep) -> Response:
    """Delete an endpoint and its delivery log."""
    c.webhooks.delete(endpoint_id)
    return Response(status_code=204)


@router.post("/endpoints/{endpointId}/rotate-secret", response_model=WebhookEndpointWithSecret,
             responses=responses(404))
def rotate_secret(endpoint_id: EndpointId, _admin: AdminUser, c: ContainerDep) -> dict[str, Any]:
    """A new signing secret, in force at once, shown in this answer only."""
    return c.webhooks.rotate_secret(endpoint_id).with_secret()


@router.get("/endpoints/{endpointId}/deliveries", response_model=WebhookDeliveryPage, responses=responses(404, 422))
def list_deliveries(endpoint_id: EndpointId, _admin: AdminUser, c: ContainerDep, status: StatusFilter = None,
                    limit: Annotated[int, Query(ge=1, le=200)] = 50,
                    cursor: Annotated[Cursor, Query(description="The nextCursor of the previous page")] = None,
                    ) -> dict[str, Any]:
    """The endpoint's delivery log, newest first, with cursor pagination."""
    page, next_cursor = c.webhooks.deliveries(endpoint_id, status=status, limit=limit, cursor=cursor)
    return {"data": [d.public() for d in page], "nextCursor": next_cursor}


@router.post("/deliveries/{deliveryId}/retry", status_code=202, response_model=WebhookDeliveryPublic,
             responses=responses(404, 409))
def retry_delivery(delivery_id: DeliveryId, _admin: AdminUser, c: ContainerDep) -> dict[str, Any]:
    """Send a delivery again now, whatever its status (a dead one too); 409 if its endpoint is disabled."""
    return c.webhooks.retry(delivery_id).public()
