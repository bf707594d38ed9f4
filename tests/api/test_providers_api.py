"""Providers over HTTP: GET /api/providers, a payment's attempts, client tokens, the Stripe webhook's
absence where Stripe is not configured."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from fastapi.testclient import TestClient

from app.bootstrap import Container

Headers = dict[str, str]
CARD = {"number": "4242424242424242", "expMonth": 12, "expYear": 2030, "cvc": "123"}


def pay(client: TestClient, headers: Headers, **changes: object) -> httpx.Response:
    body = {"amount": 1500, "currency": "USD", "card": CARD, **changes}
    return client.post("/api/payments", json={k: v for k, v in body.items() if v is not None}, headers=headers)


def test_an_admin_sees_each_provider_with_its_role_circuit_bucket_and_last_error(
        client: TestClient, admin_headers: Headers) -> None:
    response = client.get("/api/providers", headers=admin_headers)

    assert response.status_code == 200
    assert response.json() == {"data": [{
        "name": "mock", "role": "primary", "circuit": "closed",
        "rateLimit": {"capacity": 2, "refillRate": 2.0, "availableTokens": 2.0}, "lastError": None}]}
    assert response.headers["Cache-Control"] == "no-store"


def test_an_open_circuit_and_its_last_error_show_in_the_providers_list(
        client: TestClient, container: Container, admin_headers: Headers) -> None:
    storage = container.routes[0].circuit.storage  # type: ignore[attr-defined]
    storage.state = "open"
    storage.opened_at = datetime.now(UTC)
    storage.note_error("provider_unavailable", "the provider is down", datetime.now(UTC))

    mock = client.get("/api/providers", headers=admin_headers).json()["data"][0]

    assert mock["circuit"] == "open"
    assert (mock["lastError"]["code"], mock["lastError"]["message"]) == ("provider_unavailable",
                                                                         "the provider is down")
    assert mock["lastError"]["at"].endswith("Z")


def test_customers_and_anonymous_callers_may_not_see_the_providers(client: TestClient,
                                                                   customer_headers: Headers) -> None:
    assert client.get("/api/providers", headers=customer_headers).status_code == 403
    assert client.get("/api/providers").status_code == 401


def test_a_payments_attempts_list_every_provider_call_for_its_owner_and_admins(
        client: TestClient, container: Container, customer_headers: Headers, admin_headers: Headers,
        new_customer) -> None:
    payment = pay(client, customer_headers).json()
    client.portal.call(container.processor.drain)

    mine = client.get(f"/api/payments/{payment['id']}/attempts", headers=customer_headers)
    admins = client.get(f"/api/payments/{payment['id']}/attempts", headers=admin_headers)
    strangers = client.get(f"/api/payments/{payment['id']}/attempts", headers=new_customer("eve@example.com"))

    assert mine.status_code == 200 and admins.json() == mine.json()
    [attempt] = mine.json()["data"]
    completed = client.get(f"/api/payments/{payment['id']}", headers=customer_headers).json()
    assert (attempt["number"], attempt["kind"], attempt["provider"], attempt["outcome"]) == (1, "charge", "mock",
                                                                                          "approved")
    assert attempt["transactionId"] == completed["transactionId"] and attempt["code"] is None
    assert isinstance(attempt["latencyMs"], int) and attempt["startedAt"].endswith("Z")
    assert strangers.status_code == 404


def test_a_token_no_configured_provider_issued_is_422_and_stores_nothing(client: TestClient,
                                                                        customer_headers: Headers) -> None:
    response = pay(client, customer_headers, card=None, paymentMethodToken="pm_card_visa")

    assert response.status_code == 422
    assert [d["field"] for d in response.json()["error"]["details"]] == ["paymentMethodToken"]
    assert client.get("/api/payments", headers=customer_headers).json()["data"] == []


def test_a_card_and_a_token_together_are_422(client: TestClient, customer_headers: Headers) -> None:
    response = pay(client, customer_headers, paymentMethodToken="pm_card_visa")

    assert response.status_code == 422
    assert "paymentMethodToken" in [d["field"] for d in response.json()["error"]["details"]]


def test_the_stripe_webhook_is_not_found_where_stripe_is_not_configured(client: TestClient) -> None:
    response = client.post("/api/providers/stripe/webhook", content=b"{}",
                           headers={"Stripe-Signature": "t=1,v1=00", "Content-Type": "application/json"})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
