"""Per-customer API limits through the API: 429 rate_limited with Retry-After and the RateLimit headers,
replays never refused, orders and payments under one limit, other customers untouched."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.api import install_api
from app.bootstrap import Container, build
from app.customer_limits import RedisCustomerLimiter, build_customer_limiter
from domain.clock import FakeClock
from domain.model.customer_limits import CustomerLimitPolicy, InMemoryCustomerLimiter
from storage.customer_limits import DbCustomerLimiter
from tests.conftest import login, make_settings


def test_redis_keeps_the_buckets_when_its_url_is_set_and_the_database_otherwise(tmp_path: Path):
    with_redis = make_settings(tmp_path, redis_url="redis://127.0.0.1:1/0")  # never contacted here
    without = make_settings(tmp_path)
    container = build(without)

    assert isinstance(build_customer_limiter(with_redis, container.db, container.clock), RedisCustomerLimiter)
    assert isinstance(build_customer_limiter(without, container.db, container.clock), DbCustomerLimiter)
    assert isinstance(container.customer_limits, DbCustomerLimiter)
    container.db.dispose()


# The API, on a fake clock: burst 3, one token every 10 s.
POLICY = CustomerLimitPolicy(rate_per_second=0.1, burst=3)
CARD = {"number": "4242424242424242", "expMonth": 12, "expYear": 2030, "cvc": "123"}


@pytest.fixture(params=["memory", "database"])
def limited(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[TestClient, Container, FakeClock]]:
    """In memory (checked before the submission), and in the database (taken in its transaction)."""
    container = build(make_settings(tmp_path))
    container.init_storage()
    clock = FakeClock()
    container.customer_limits = (InMemoryCustomerLimiter(POLICY, clock) if request.param == "memory"
                                 else DbCustomerLimiter(container.db, POLICY, clock))
    app = FastAPI()
    install_api(app, container)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, container, clock
    container.db.dispose()


def pay(client: TestClient, headers: dict[str, str], key: str) -> object:
    return client.post("/api/payments", headers={**headers, "Idempotency-Key": key},
                       json={"amount": 1000, "currency": "USD", "card": CARD})


def payment_count(client: TestClient, headers: dict[str, str]) -> int:
    return len(client.get("/api/payments", headers=headers, params={"limit": 200}).json()["data"])


def test_over_the_limit_a_submission_is_a_429_with_the_headers_and_stores_nothing(limited):
    client, _, _ = limited
    customer = login(client, "customer@example.com", "password123")

    accepted = [pay(client, customer, f"k{i}") for i in range(3)]
    refused = pay(client, customer, "k3")

    assert [r.status_code for r in accepted] == [202, 202, 202]
    assert [r.headers["RateLimit"] for r in accepted] == ['"customer";r=2;t=10', '"customer";r=1;t=10',
                                                          '"customer";r=0;t=10']
    assert accepted[0].headers["RateLimit-Policy"] == '"customer";q=3;w=30'
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert refused.json()["error"]["message"] == ("You are submitting payments and orders too quickly; "
                                                  "wait 10 seconds and try again.")
    assert refused.headers["Retry-After"] == "10"
    assert refused.headers["RateLimit"] == '"customer";r=0;t=10'
    assert refused.headers["RateLimit-Policy"] == '"customer";q=3;w=30'
    assert payment_count(client, customer) == 3
    # The refused key was never stored: once a token is back, it creates the payment.
    limited[2].advance(10)
    assert pay(client, customer, "k3").status_code == 202


def test_a_replay_is_never_refused_and_spends_no_token(limited):
    client, _, _ = limited
    customer = login(client, "customer@example.com", "password123")
    first = pay(client, customer, "same")

    replay_with_tokens = pay(client, customer, "same")
    for i in range(2):
        pay(client, customer, f"other{i}")
    replay_when_empty = pay(client, customer, "same")

    assert first.status_code == 202
    assert replay_with_tokens.status_code == 200 and replay_with_tokens.headers["Idempotent-Replayed"] == "true"
    assert replay_with_tokens.headers["RateLimit"].startswith('"customer";r=2;')  # the replay's token came back
    assert replay_when_empty.status_code == 200 and replay_when_empty.json()["id"] == first.json()["id"]
    assert replay_when_empty.headers["RateLimit"].startswith('"customer";r=0;')
    assert pay(client, customer, "new").status_code == 429


def test_orders_share_the_payments_limit_and_a_refused_order_reserves_nothing(limited):
    client, _, _ = limited
    customer = login(client, "customer@example.com", "password123")
    for i in range(3):
        assert pay(client, customer, f"p{i}").status_code == 202
    stock = client.get("/api/products/prod_001").json()["stock"]

    refused = client.post("/api/orders", headers=customer,
                          json={"items": [{"productId": "prod_001", "quantity": 1}], "card": CARD,
                                "idempotencyKey": "order-1"})

    assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
    assert "RateLimit" in refused.headers and refused.headers["Retry-After"] == "10"
    assert client.get("/api/products/prod_001").json()["stock"] == stock
    assert client.get("/api/orders", headers=customer).json()["data"] == []


def test_an_order_within_the_limit_carries_the_headers(limited):
    client, _, _ = limited
    customer = login(client, "customer@example.com", "password123")

    placed = client.post("/api/orders", headers=customer,
                         json={"items": [{"productId": "prod_001", "quantity": 1}], "card": CARD})

    assert placed.status_code == 201
    assert placed.headers["RateLimit"] == '"customer";r=2;t=10'


def test_one_customer_at_the_limit_does_not_hold_back_another(limited, new_customer_in):
    client, _, _ = limited
    customer = login(client, "customer@example.com", "password123")
    other = new_customer_in(client)
    for i in range(5):
        pay(client, customer, f"storm{i}")

    assert pay(client, other, "calm").status_code == 202


@pytest.fixture
def new_customer_in():
    def make(client: TestClient) -> dict[str, str]:
        admin = login(client, "admin@example.com", "admin123")
        r = client.post("/api/users", headers=admin, json={"email": "calm@example.com", "password": "s3cret-pass",
                                                           "name": "Calm", "role": "customer"})
        assert r.status_code == 201, r.text
        return login(client, "calm@example.com", "s3cret-pass")

    return make
