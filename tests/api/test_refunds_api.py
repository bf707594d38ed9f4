"""Refunds over HTTP: create (admin), replay, the contract's errors, read (owner or admin), the mock's
refund ledger, and the payment's refundedAmount once the drain has made the refund."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from fastapi.testclient import TestClient

from app.bootstrap import Container

Headers = dict[str, str]
CARD = {"number": "4242424242424242", "expMonth": 12, "expYear": 2030, "cvc": "123"}


def paid(client: TestClient, container: Container, headers: Headers, amount: int = 3000) -> dict:
    payment = client.post("/api/payments", json={"amount": amount, "currency": "USD", "card": CARD},
                          headers=headers).json()
    client.portal.call(container.processor.drain)
    return client.get(f"/api/payments/{payment['id']}", headers=headers).json()


def refund(client: TestClient, headers: Headers, payment_id: str, **body: object) -> httpx.Response:
    return client.post(f"/api/payments/{payment_id}/refunds", json=body, headers=headers)


def test_an_admin_refunds_part_of_a_payment_and_the_drain_makes_it_once(
        client: TestClient, container: Container, customer_headers: Headers, admin_headers: Headers) -> None:
    payment = paid(client, container, customer_headers)

    created = refund(client, admin_headers, payment["id"], amount=1200, reason="duplicate", idempotencyKey="r-1")
    replay = refund(client, admin_headers, payment["id"], amount=1200, reason="duplicate", idempotencyKey="r-1")
    client.portal.call(container.refund_processor.drain)

    assert created.status_code == 202 and created.json()["status"] == "pending"
    assert (replay.status_code, replay.headers["Idempotent-Replayed"], replay.json()["id"]) == (
        200, "true", created.json()["id"])
    listed = client.get(f"/api/payments/{payment['id']}/refunds", headers=customer_headers).json()["data"]
    assert [(r["id"], r["amount"], r["reason"], r["status"]) for r in listed] == [
        (created.json()["id"], 1200, "duplicate", "succeeded")]
    after = client.get(f"/api/payments/{payment['id']}", headers=customer_headers).json()
    assert (after["status"], after["refundedAmount"]) == ("completed", 1200)
    ledger = client.get("/api/providers/mock/refunds", params={"paymentId": payment["id"]},
                        headers=admin_headers).json()["data"]
    assert [(e["refundId"], e["amount"], e["currency"]) for e in ledger] == [(created.json()["id"], 1200, "USD")]
    assert ledger[0]["refundedAt"].endswith("Z")
    attempts = client.get(f"/api/payments/{payment['id']}/attempts", headers=admin_headers).json()["data"]
    assert [(a["kind"], a["outcome"]) for a in attempts] == [("charge", "approved"), ("refund", "approved")]


def test_the_contracts_refund_errors(client: TestClient, container: Container, customer_headers: Headers,
                                     admin_headers: Headers,
                                     new_customer: Callable[[str], Headers]) -> None:
    payment = paid(client, container, customer_headers, amount=1000)
    pending = client.post("/api/payments", json={"amount": 500, "currency": "USD"}, headers=customer_headers).json()

    too_much = refund(client, admin_headers, payment["id"], amount=1001)
    not_done = refund(client, admin_headers, pending["id"])
    by_customer = refund(client, customer_headers, payment["id"])
    unknown = refund(client, admin_headers, "pay_doesnotexist")
    bad_reason = refund(client, admin_headers, payment["id"], reason="because")
    extra = refund(client, admin_headers, payment["id"], amount=10, currency="USD")

    assert (too_much.status_code, too_much.json()["error"]["code"]) == (422, "refund_exceeds_payment")
    assert (not_done.status_code, not_done.json()["error"]["code"]) == (409, "payment_not_refundable")
    assert by_customer.status_code == 403
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "not_found")
    assert (bad_reason.status_code, bad_reason.json()["error"]["details"][0]["field"]) == (422, "reason")
    assert (extra.status_code, extra.json()["error"]["details"][0]["field"]) == (422, "currency")
    assert client.get(f"/api/payments/{payment['id']}/refunds", headers=admin_headers).json()["data"] == []
    stranger = new_customer("mallory@example.com")
    assert client.get(f"/api/payments/{payment['id']}/refunds", headers=stranger).status_code == 404


def test_the_idempotency_key_header_replays_a_refund_and_refuses_it_with_a_different_body(
        client: TestClient, container: Container, customer_headers: Headers, admin_headers: Headers) -> None:
    payment = paid(client, container, customer_headers)
    keyed = {**admin_headers, "Idempotency-Key": "refund-by-header"}

    first = client.post(f"/api/payments/{payment['id']}/refunds", json={"amount": 800}, headers=keyed)
    replay = client.post(f"/api/payments/{payment['id']}/refunds", json={"amount": 800}, headers=keyed)
    in_body = refund(client, admin_headers, payment["id"], amount=800, idempotencyKey="refund-by-header")
    reused = client.post(f"/api/payments/{payment['id']}/refunds", json={"amount": 900}, headers=keyed)

    assert first.status_code == 202 and "idempotent-replayed" not in first.headers
    assert (replay.status_code, replay.headers["Idempotent-Replayed"], replay.json()["id"]) == (
        200, "true", first.json()["id"])
    assert (in_body.status_code, in_body.json()["id"]) == (200, first.json()["id"])
    assert (reused.status_code, reused.json()["error"]["code"]) == (422, "idempotency_key_reused")
    listed = client.get(f"/api/payments/{payment['id']}/refunds", headers=admin_headers).json()["data"]
    assert [(r["id"], r["amount"]) for r in listed] == [(first.json()["id"], 800)]


def test_an_order_refunded_in_full_with_restock_is_refunded_its_stock_is_back_and_order_refunded_is_written(
        client: TestClient, container: Container, customer_headers: Headers, admin_headers: Headers) -> None:
    stock_before = client.get("/api/products/prod_008").json()["stock"]
    placed = client.post("/api/orders", headers=customer_headers,
                         json={"items": [{"productId": "prod_008", "quantity": 2}], "card": CARD}).json()
    client.portal.call(container.processor.drain)
    container.deliveries.run_all()  # the orders consumer marks the order paid
    assert client.get(f"/api/orders/{placed['id']}", headers=customer_headers).json()["status"] == "paid"
    assert client.get("/api/products/prod_008").json()["stock"] == stock_before - 2

    created = refund(client, admin_headers, placed["paymentId"], restock=True)
    client.portal.call(container.refund_processor.drain)

    assert created.status_code == 202 and created.json()["amount"] == placed["totalAmount"]
    assert client.get(f"/api/orders/{placed['id']}", headers=customer_headers).json()["status"] == "refunded"
    assert client.get("/api/products/prod_008").json()["stock"] == stock_before
    payment = client.get(f"/api/payments/{placed['paymentId']}", headers=customer_headers).json()
    assert (payment["status"], payment["refundedAmount"]) == ("completed", placed["totalAmount"])
    with container.uow(read_only=True) as uow:
        order_events = [e.type for e in uow.outbox.for_aggregate(placed["id"])]
    assert order_events == ["order.created", "order.paid", "order.refunded"]
