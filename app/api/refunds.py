"""Refunds of payments (admins create them; the payment's owner and admins read them), and the mock
provider's own refund ledger."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from app.api.deps import AdminUser, ContainerDep, CurrentUser
from app.api.errors import responses
from app.api.fields import IdempotencyKeyHeader
from app.api.idempotency import created_or_replayed, replay_responses
from app.api.schemas import RefundCreate, RefundLedgerList, RefundList, RefundPublic
from domain.clock import iso

router = APIRouter(tags=["refunds"], responses=responses(401))
PaymentId = Annotated[str, Path(alias="paymentId")]


@router.post("/api/payments/{paymentId}/refunds", status_code=202, response_model=RefundPublic,
             responses=replay_responses(RefundPublic, 400, 403, 404, 409, 422))
def create_refund(payment_id: PaymentId, body: RefundCreate, admin: AdminUser, c: ContainerDep,
                  idempotency_key: IdempotencyKeyHeader = None) -> Response:
    """Queue a refund of a completed payment (202); never more than what is left to refund."""
    refund, replayed = c.refunds.create(admin, payment_id, body.model_dump(by_alias=True, exclude_none=True),
                                        idempotency_key)
    return created_or_replayed(refund.public(), replayed, 202)


@router.get("/api/payments/{paymentId}/refunds", response_model=RefundList, responses=responses(404))
def list_refunds(payment_id: PaymentId, user: CurrentUser, c: ContainerDep) -> dict[str, Any]:
    """The payment's refunds, oldest first (its owner or an admin)."""
    return {"data": [r.public() for r in c.refunds.list(user, payment_id)]}


@router.get("/api/providers/mock/refunds", response_model=RefundLedgerList, responses=responses(403))
def mock_refunds(_admin: AdminUser, c: ContainerDep,
                 payment_id: Annotated[str | None, Query(alias="paymentId")] = None,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    """The mock provider's own refund ledger: one entry per real refund, newest first."""
    return {"data": [{"paymentId": r.payment_id, "refundId": r.refund_id, "amount": r.amount,
                      "currency": r.currency, "refundedAt": iso(r.refunded_at, precise=True)}
                     for r in c.ledger.refunds(payment_id, limit)]}
