"""Payments over HTTP: submit, idempotency, ownership, listing, audit trail, validation, admin views."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient

from app.bootstrap import Container

PAYMENTS = "/api/payments"
CARD = {"number": "4242424242424242", "expMonth": 12, "expYear": 2030, "cvc": "123"}
BODY = {"amount": 10000, "currency": "USD", "description": "Order payment", "paymentMethod": "credit_card",
        "card": CARD}

Headers = dict[str, str]


def pay(client: TestClient, headers: Headers, **changes: object) -> httpx.Response:
    return client.post(PAYMENTS, headers=headers, json={**BODY, **changes})


def drain(client: TestClient, container: Container) -> None:
    client.portal.call(container.processor.drain)


def fields_of(response: httpx.Response) -> list[str]:
    return [d["field"] for d in response.json()["error"]["details"]]


# --- submit -------------------------------------------------------------------------------
def test_a_payment_is_accepted_as_pending_with_only_brand_and_last4_of_the_card(
        client: TestClient, customer_headers: Headers) -> None:
    response = pay(client, customer_headers)

    assert response.status_code == 202
    payment = response.json()
    assert payment["id"].startswith("pay_")
    assert payment["status"] == "pending"
    assert (payment["amount"], payment["currency"]) == (10000, "USD")
    assert payment["card"] == {"brand": "visa", "last4": "4242"}
    assert payment["retryCount"] == 0 and payment["transactionId"] is None
    assert payment["createdAt"].endswith("Z")
    assert CARD["number"] not in response.text
    assert "cvc" not in response.text.lower()


def test_the_accepted_payment_is_stored_before_the_reply(client: TestClient,
                                                         customer_headers: Headers) -> None:
    created = pay(client, customer_headers).json()

    response = client.get(f"{PAYMENTS}/{created['id']}", headers=customer_headers)

    assert response.status_code == 200
    assert response.json() == created


def test_a_payment_without_a_card_is_accepted(client: TestClient, customer_headers: Headers) -> None:
    response = client.post(PAYMENTS, headers=customer_headers, json={"amount": 500, "currency": "EUR"})

    assert response.status_code == 202
    assert response.json()["card"] is None


@pytest.mark.parametrize("where", ["body", "header"])
def test_a_replay_with_the_same_key_and_body_returns_the_same_payment_with_200(
        client: TestClient, customer_headers: Headers, where: str) -> None:
    if where == "body":
        send = lambda: pay(client, customer_headers, idempotencyKey="key-1")  # noqa: E731
    else:
        send = lambda: pay(client, {**customer_headers, "Idempotency-Key": "key-1"})  # noqa: E731
    first = send()

    replay = send()

    assert first.status_code == 202
    assert "idempotent-replayed" not in first.headers
    assert replay.status_code == 200
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == first.json()["id"]
    assert replay.json()["idempotencyKey"] == "key-1"


def test_a_key_sent_in_the_header_replays_a_payment_first_sent_with_the_key_in_the_body(
        client: TestClient, customer_headers: Headers) -> None:
    first = pay(client, customer_headers, idempotencyKey="key-2")

    replay = pay(client, {**customer_headers, "Idempotency-Key": "key-2"})

    assert replay.status_code == 200
    assert replay.json()["id"] == first.json()["id"]


def test_the_same_key_with_a_different_body_is_422_idempotency_key_reused(
        client: TestClient, customer_headers: Headers) -> None:
    pay(client, customer_headers, idempotencyKey="key-3")

    response = pay(client, customer_headers, idempotencyKey="key-3", amount=10001)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"


def test_keys_are_scoped_to_the_calling_user(client: TestClient, customer_headers: Headers,
                                             new_customer: Callable[[str], Headers]) -> None:
    other = new_customer("other@example.com")
    mine = pay(client, customer_headers, idempotencyKey="shared-key")

    theirs = pay(client, other, idempotencyKey="shared-key")

    assert theirs.status_code == 202
    assert theirs.json()["id"] != mine.json()["id"]


def test_fifty_concurrent_requests_with_one_key_create_exactly_one_payment(
        client: TestClient, customer_headers: Headers, admin_headers: Headers) -> None:
    app = client.app
    start = threading.Barrier(50)

    def send(_: int) -> httpx.Response:
        own_client = TestClient(app, raise_server_exceptions=False)
        start.wait()
        return own_client.post(PAYMENTS, headers={**customer_headers, "Idempotency-Key": "race"}, json=BODY)

    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(pool.map(send, range(50)))

    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(202) == 1
    assert set(statuses) <= {200, 202, 409}
    ok_ids = {r.json()["id"] for r in responses if r.status_code in (200, 202)}
    assert len(ok_ids) == 1
    for conflict in (r for r in responses if r.status_code == 409):
        assert conflict.json()["error"]["code"] == "idempotency_key_in_use"
    listed = client.get(PAYMENTS, headers=admin_headers).json()["data"]
    assert [p["id"] for p in listed] == list(ok_ids)


# --- ownership ----------------------------------------------------------------------------
def test_a_customer_paying_for_another_customer_is_403(client: TestClient, customer_headers: Headers,
                                                       admin_headers: Headers) -> None:
    response = pay(client, customer_headers, customerId="usr_somebody_else")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert client.get(PAYMENTS, headers=admin_headers).json()["data"] == []


def test_a_customer_naming_themself_as_customer_is_accepted(client: TestClient,
                                                            customer_headers: Headers) -> None:
    me = client.get("/api/auth/me", headers=customer_headers).json()["id"]

    response = pay(client, customer_headers, customerId=me)

    assert response.status_code == 202
    assert response.json()["customerId"] == me


def test_an_admin_may_pay_for_any_customer(client: TestClient, admin_headers: Headers,
                                           customer_headers: Headers) -> None:
    customer = client.get("/api/auth/me", headers=customer_headers).json()["id"]

    response = pay(client, admin_headers, customerId=customer)

    assert response.status_code == 202
    assert response.json()["customerId"] == customer
    listed = client.get(PAYMENTS, headers=customer_headers).json()["data"]
    assert [p["id"] for p in listed] == [response.json()["id"]]


def test_an_admin_paying_for_a_customer_that_does_not_exist_is_422_and_stores_nothing(
        client: TestClient, admin_headers: Headers) -> None:
    response = pay(client, admin_headers, customerId="usr_nobody_at_all")

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "customerId"
    assert client.get(PAYMENTS, headers=admin_headers).json()["data"] == []


def test_an_admin_paying_for_a_deactivated_customer_is_422(client: TestClient, admin_headers: Headers,
                                                           customer_headers: Headers) -> None:
    customer = client.get("/api/auth/me", headers=customer_headers).json()["id"]
    client.put(f"/api/users/{customer}", headers=admin_headers, json={"active": False})

    response = pay(client, admin_headers, customerId=customer)

    assert response.status_code == 422


def test_another_customers_payment_and_its_events_are_404(client: TestClient, customer_headers: Headers,
                                                          new_customer: Callable[[str], Headers]) -> None:
    other = new_customer("other@example.com")
    theirs = pay(client, other).json()["id"]

    payment = client.get(f"{PAYMENTS}/{theirs}", headers=customer_headers)
    events = client.get(f"{PAYMENTS}/{theirs}/events", headers=customer_headers)

    for response in (payment, events):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert client.get(PAYMENTS, headers=customer_headers).json()["data"] == []


def test_an_admin_sees_any_customers_payment(client: TestClient, customer_headers: Headers,
                                             admin_headers: Headers) -> None:
    created = pay(client, customer_headers).json()

    response = client.get(f"{PAYMENTS}/{created['id']}", headers=admin_headers)

    assert response.status_code == 200
    assert response.json()["id"] == created["id"]


# --- listing ------------------------------------------------------------------------------
def test_the_list_is_newest_first(client: TestClient, customer_headers: Headers) -> None:
    ids = [pay(client, customer_headers, amount=100 + i).json()["id"] for i in range(3)]

    response = client.get(PAYMENTS, headers=customer_headers)

    assert response.status_code == 200
    assert [p["id"] for p in response.json()["data"]] == ids[::-1]
    assert response.json()["nextCursor"] is None


def test_the_list_filters_by_status(client: TestClient, container: Container,
                                    customer_headers: Headers) -> None:
    done = pay(client, customer_headers).json()["id"]
    drain(client, container)
    waiting = {pay(client, customer_headers, amount=200 + i).json()["id"] for i in range(2)}

    completed = client.get(PAYMENTS, headers=customer_headers, params={"status": "completed"}).json()["data"]
    pending = client.get(PAYMENTS, headers=customer_headers, params={"status": "pending"}).json()["data"]

    assert [p["id"] for p in completed] == [done]
    assert {p["id"] for p in pending} == waiting
    assert all(p["status"] == "pending" for p in pending)


def test_an_unknown_status_filter_is_422(client: TestClient, customer_headers: Headers) -> None:
    response = client.get(PAYMENTS, headers=customer_headers, params={"status": "lost"})

    assert response.status_code == 422
    assert fields_of(response) == ["status"]


def test_cursor_pagination_walks_every_payment_once_and_ends_with_a_null_cursor(
        client: TestClient, customer_headers: Headers) -> None:
    ids = [pay(client, customer_headers, amount=100 + i).json()["id"] for i in range(5)]
    pages: list[list[str]] = []
    cursor: str | None = None

    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = client.get(PAYMENTS, headers=customer_headers, params=params).json()
        pages.append([p["id"] for p in body["data"]])
        cursor = body["nextCursor"]
        if cursor is None or len(pages) > 5:
            break

    assert [len(page) for page in pages] == [2, 2, 1]
    assert [pid for page in pages for pid in page] == ids[::-1]


def test_a_limit_above_200_is_422(client: TestClient, customer_headers: Headers) -> None:
    too_many = client.get(PAYMENTS, headers=customer_headers, params={"limit": 201})
    most = client.get(PAYMENTS, headers=customer_headers, params={"limit": 200})

    assert too_many.status_code == 422
    assert fields_of(too_many) == ["limit"]
    assert most.status_code == 200


def test_a_cursor_the_api_did_not_issue_is_422(client: TestClient, customer_headers: Headers) -> None:
    response = client.get(PAYMENTS, headers=customer_headers, params={"cursor": "not-a-cursor"})

    assert response.status_code == 422
    assert fields_of(response) == ["cursor"]


# --- audit trail --------------------------------------------------------------------------
def test_a_new_payments_events_start_with_payment_created(client: TestClient,
                                                          customer_headers: Headers) -> None:
    created = pay(client, customer_headers).json()

    response = client.get(f"{PAYMENTS}/{created['id']}/events", headers=customer_headers)

    assert response.status_code == 200
    events = response.json()["data"]
    assert [e["type"] for e in events] == ["payment.created"]
    assert events[0]["id"].startswith("evt_")
    assert events[0]["data"]["id"] == created["id"]


def test_a_processed_payments_events_are_oldest_first(client: TestClient, container: Container,
                                                      customer_headers: Headers) -> None:
    created = pay(client, customer_headers).json()
    drain(client, container)

    events = client.get(f"{PAYMENTS}/{created['id']}/events", headers=customer_headers).json()["data"]

    assert [e["type"] for e in events] == ["payment.created", "payment.processing", "payment.completed"]
    assert [e["createdAt"] for e in events] == sorted(e["createdAt"] for e in events)
    assert events[-1]["data"]["status"] == "completed"
    assert client.get(f"{PAYMENTS}/{created['id']}", headers=customer_headers).json()["status"] == "completed"


# --- validation ---------------------------------------------------------------------------
INVALID = [
    ({"amount": 0}, "amount"),
    ({"amount": 100_000_000}, "amount"),
    ({"amount": "100"}, "amount"),
    ({"amount": 10.5}, "amount"),
    ({"currency": "XXX"}, "currency"),
    ({"card": {**CARD, "number": "4242424242424241"}}, "card.number"),
    ({"card": {**CARD, "expMonth": 1, "expYear": 2020}}, "card.expYear"),
    ({"card": {**CARD, "cvc": "12"}}, "card.cvc"),
    ({"paymentMethod": "cash"}, "paymentMethod"),
    ({"description": "x" * 501}, "description"),
]


@pytest.mark.parametrize(("change", "field"), INVALID, ids=[f for _, f in INVALID])
def test_an_invalid_submission_is_422_naming_the_field_and_stores_nothing(
        client: TestClient, customer_headers: Headers, admin_headers: Headers, change: dict,
        field: str) -> None:
    response = pay(client, customer_headers, **change)

    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"
    assert fields_of(response) == [field]
    assert client.get(PAYMENTS, headers=admin_headers).json()["data"] == []


def test_the_largest_amount_and_a_500_character_description_are_accepted(
        client: TestClient, customer_headers: Headers) -> None:
    response = pay(client, customer_headers, amount=99_999_999, description="x" * 500)

    assert response.status_code == 202


def test_payments_need_a_token(client: TestClient) -> None:
    response = client.post(PAYMENTS, json=BODY)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


# --- admin views --------------------------------------------------------------------------
def test_a_customer_may_not_read_the_metrics(client: TestClient, customer_headers: Headers) -> None:
    response = client.get("/api/metrics", headers=customer_headers)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_an_admin_reads_the_metrics(client: TestClient, container: Container, admin_headers: Headers,
                                    customer_headers: Headers) -> None:
    pay(client, customer_headers)
    drain(client, container)
    pay(client, customer_headers, card={**CARD, "number": "4000000000000002"})
    drain(client, container)

    response = client.get("/api/metrics", headers=admin_headers)

    assert response.status_code == 200
    body = response.json()
    assert {"rateLimiter", "queue", "payments", "system", "recentErrors"} <= body.keys()
    assert body["rateLimiter"]["capacity"] == 2
    assert body["payments"]["total"] == 2
    assert body["payments"]["byStatus"] == {"pending": 0, "processing": 0, "retrying": 0, "completed": 1, "failed": 1}
    assert body["payments"]["successRate"] == 0.5
    assert [e["code"] for e in body["recentErrors"]] == ["card_declined"]


def test_the_mock_providers_ledger_is_for_admins_only(client: TestClient, customer_headers: Headers) -> None:
    anonymous = client.get("/api/providers/mock/charges")
    customer = client.get("/api/providers/mock/charges", headers=customer_headers)

    assert anonymous.status_code == 401
    assert customer.status_code == 403
    assert customer.json()["error"]["code"] == "forbidden"


def test_an_admin_sees_one_ledger_charge_per_completed_payment(client: TestClient, container: Container,
                                                               admin_headers: Headers,
                                                               customer_headers: Headers) -> None:
    created = pay(client, customer_headers).json()
    drain(client, container)
    completed = client.get(f"{PAYMENTS}/{created['id']}", headers=customer_headers).json()

    response = client.get("/api/providers/mock/charges", headers=admin_headers,
                          params={"paymentId": created["id"]})

    assert response.status_code == 200
    charges = response.json()["data"]
    assert len(charges) == 1
    assert charges[0]["paymentId"] == created["id"]
    assert (charges[0]["amount"], charges[0]["currency"]) == (10000, "USD")
    assert charges[0]["transactionId"] == completed["transactionId"]
