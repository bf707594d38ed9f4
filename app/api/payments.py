"""Payments: submit (idempotent), read, list, audit trail."""

from __future__ import annotations

from typing import Annotated, Any, get_args

from fastapi import APIRouter, Path, Query, Response

from app.api.deps import ContainerDep, CurrentUser
from app.api.errors import responses
from app.api.fields import IdempotencyKeyHeader, PaymentStatus, optional_query
from app.api.idempotency import replay_responses
from app.api.rate_limits import key_of, limited
from app.api.schemas import (
    AttemptList,
    EventList,
    PaymentCreate,
    PaymentPage,
    PaymentPublic,
)

router = APIRouter(prefix="/api/payments", tags=["payments"], responses=responses(401))
PaymentId = Annotated[str, Path(alias="paymentId")]
# Opaque: only a nextCursor that this API returned is one (its own format, for clients and fuzzers alike).
Cursor = Annotated[str | None, optional_query({"type": "string", "format": "payment-cursor"})]
StatusFilter = Annotated[PaymentStatus | None,
                         optional_query({"type": "string", "enum": list(get_args(PaymentStatus))})]


@router.post("", status_code=202, response_model=PaymentPublic,
             responses=replay_responses(PaymentPublic, 400, 403, 409, 422, 429))
def submit_payment(body: PaymentCreate, user: CurrentUser, c: ContainerDep,
                   idempotency_key: IdempotencyKeyHeader = None) -> Response:
    """Queue a payment (202); the same key and body again replays it (200, Idempotent-Replayed: true)."""
    raw = body.model_dump(by_alias=True, exclude_none=True)
    return limited(c, user, key_of(idempotency_key, body.idempotency_key),
                   lambda: c.payments.submit(user, raw, idempotency_key), lambda p: p.public(), 202)


@router.get("", response_model=PaymentPage, responses=responses(422))
def list_payments(user: CurrentUser, c: ContainerDep, status: StatusFilter = None,
                  limit: Annotated[int, Query(ge=1, le=200)] = 50,
                  cursor: Annotated[Cursor, Query(description="The nextCursor of the previous page")] = None,
                  ) -> dict[str, Any]:
    """The caller's payments (all for an admin), newest first, with cursor pagination."""
    page, next_cursor = c.payments.list(user, status=status, limit=limit, cursor=cursor)
    return {"data": [p.public() for p in page], "nextCursor": next_cursor}


@router.get("/{paymentId}", response_model=PaymentPublic, responses=responses(404))
def get_payment(payment_id: PaymentId, user: CurrentUser, c: ContainerDep) -> dict[str, Any]:
    """One payment; another customer's payment is 404."""
    return c.payments.get(user, payment_id).public()


@router.get("/{paymentId}/events", response_model=EventList, responses=responses(404))
def payment_events(payment_id: PaymentId, user: CurrentUser, c: ContainerDep) -> dict[str, Any]:
    """The payment's audit trail, oldest first."""
    return {"data": [e.public() for e in c.payments.events(user, payment_id)]}


@router.get("/{paymentId}/attempts", response_model=AttemptList, responses=responses(404))
def payment_attempts(payment_id: PaymentId, user: CurrentUser, c: ContainerDep) -> dict[str, Any]:
    """Every provider call made for the payment (charges, lookups, tokenizations), oldest first."""
    return {"data": [a.public() for a in c.payments.attempts(user, payment_id)]}
