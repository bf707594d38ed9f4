"""Providers: their circuits and buckets (admin), and inbound provider webhooks (Stripe)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from app.api.deps import AdminUser, ContainerDep
from app.api.errors import responses
from app.api.schemas import ProviderList, WebhookReceipt
from app.metrics import provider_statuses
from domain.clock import iso
from domain.model.errors import NotFound
from domain.services.provider_events import ProviderEvent

router = APIRouter(tags=["providers"])


@router.get("/api/providers", response_model=ProviderList, responses=responses(401, 403))
def list_providers(_admin: AdminUser, c: ContainerDep) -> dict[str, Any]:
    """Every configured provider in routing order: its circuit, its own token bucket and its last error."""
    data = []
    for status in provider_statuses(c.routes):
        error = status.last_error
        data.append({
            "name": status.name,
            "role": str(status.role),
            "circuit": str(status.circuit),
            "rateLimit": {"capacity": status.capacity, "refillRate": status.refill_rate,
                          "availableTokens": status.tokens},
            "lastError": {"code": error[0], "message": error[1], "at": iso(error[2])} if error else None,
        })
    return {"data": data}


@router.post("/api/providers/stripe/webhook", response_model=WebhookReceipt, responses=responses(400, 404))
async def stripe_webhook(request: Request, c: ContainerDep) -> dict[str, Any]:
    """Stripe's events, verified with `Stripe-Signature`: settle payments whose outcome PayGate did not
    know; a duplicate or late event changes nothing. No bearer token: the signature is the proof."""
    secret = c.settings.stripe_webhook_secret
    if "stripe" not in c.settings.provider_names or not secret:
        raise NotFound("Stripe webhooks are not configured on this gateway")
    from app.stripe_provider import parse_webhook  # the SDK is loaded only where Stripe is configured

    payload = await request.body()
    try:
        event = parse_webhook(payload, request.headers.get("Stripe-Signature", ""), secret)
    except ValueError as e:
        raise HTTPException(400, f"the webhook was refused: {e}") from None
    succeeded = {"payment_intent.succeeded": True, "payment_intent.payment_failed": False}.get(event.type)
    outcome = await run_in_threadpool(c.provider_events.receive, ProviderEvent(
        "stripe", event.id, event.type, event.payment_id, event.transaction_id, succeeded,
        event.failure_code, event.failure_message, permanent=event.permanent,
        refunds=tuple((seen.id, seen.paygate_refund_id, seen.status) for seen in event.refund_ids)))
    return {"received": True, "outcome": str(outcome)}
