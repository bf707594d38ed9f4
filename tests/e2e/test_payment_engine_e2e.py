"""The payment engine end to end: a real server process, the mock provider's test cards,
retries with backoff, the provider-side idempotency, the audit trail, and restarts."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Server, bearer, start_server

pytestmark = pytest.mark.e2e

FAST_RETRIES = {"PAYGATE_RETRY_BASE_SECONDS": "0.2"}
DEADLINE_SECONDS = 30.0
TERMINAL = {"completed", "failed"}


def card(number: str) -> dict:
    return {"number": number, "expMonth": 12, "expYear": 2030, "cvc": "123"}


def submit(client: httpx.Client, headers: dict[str, str], number: str | None = "4242424242424242",
           key: str | None = None, amount: int = 1234) -> httpx.Response:
    body: dict = {"amount": amount, "currency": "USD", "description": "e2e", "paymentMethod": "credit_card"}
    if number is not None:
        body["card"] = card(number)
    extra = {"Idempotency-Key": key} if key else {}
    return client.post("/api/payments", json=body, headers={**headers, **extra})


def wait_terminal(client: httpx.Client, headers: dict[str, str], payment_id: str,
                  deadline: float = DEADLINE_SECONDS) -> dict:
    end = time.monotonic() + deadline
    while True:
        r = client.get(f"/api/payments/{payment_id}", headers=headers)
        assert r.status_code == 200, r.text
        payment = r.json()
        if payment["status"] in TERMINAL:
            return payment
        if time.monotonic() > end:
            pytest.fail(f"payment {payment_id} still {payment['status']} after {deadline:.0f} s: {payment}")
        time.sleep(0.05)


def event_types(client: httpx.Client, headers: dict[str, str], payment_id: str) -> list[str]:
    r = client.get(f"/api/payments/{payment_id}/events", headers=headers)
    assert r.status_code == 200, r.text
    events = r.json()["data"]
    assert len({e["id"] for e in events}) == len(events), "event ids are unique"
    assert all(e["data"]["id"] == payment_id for e in events)
    return [e["type"] for e in events]


def charges(client: httpx.Client, admin: dict[str, str], payment_id: str) -> list[dict]:
    r = client.get("/api/providers/mock/charges", params={"paymentId": payment_id}, headers=admin)
    assert r.status_code == 200, r.text
    return r.json()["data"]


# --- one server for the test cards ------------------------------------------------------------

@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(tmp_path_factory.mktemp("engine"), **FAST_RETRIES)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(engine: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=engine.url, timeout=10.0) as c:
        yield c


@pytest.fixture(scope="module")
def customer(client: httpx.Client) -> dict[str, str]:
    return bearer(client, "customer@example.com", "password123")


@pytest.fixture(scope="module")
def admin(client: httpx.Client) -> dict[str, str]:
    return bearer(client, "admin@example.com", "admin123")


def pay(client: httpx.Client, customer: dict[str, str], number: str) -> dict:
    r = submit(client, customer, number)
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "pending"
    return wait_terminal(client, customer, r.json()["id"])


def test_approved_card_completes_with_one_charge(client, customer, admin) -> None:
    payment = pay(client, customer, "4242424242424242")
    assert payment["status"] == "completed"
    assert payment["retryCount"] == 0 and payment["failureCode"] is None
    assert payment["transactionId"] and payment["completedAt"]
    assert payment["card"] == {"brand": "visa", "last4": "4242"}
    ledger = charges(client, admin, payment["id"])
    assert [c["transactionId"] for c in ledger] == [payment["transactionId"]]


def test_declined_card_fails_at_once(client, customer, admin) -> None:
    payment = pay(client, customer, "4000000000000002")
    assert payment["status"] == "failed"
    assert payment["failureCode"] == "card_declined"
    assert payment["retryCount"] == 0
    assert charges(client, admin, payment["id"]) == []
    assert event_types(client, customer, payment["id"]) == ["payment.created", "payment.processing",
                                                            "payment.failed"]


def test_transient_errors_twice_then_approved(client, customer, admin) -> None:
    payment = pay(client, customer, "4000000000000341")
    assert payment["status"] == "completed"
    assert payment["retryCount"] == 2
    assert len(charges(client, admin, payment["id"])) == 1
    assert event_types(client, customer, payment["id"]) == [
        "payment.created",
        "payment.processing", "payment.retry",
        "payment.processing", "payment.retry",
        "payment.processing", "payment.completed",
    ]


def test_transient_error_every_time_fails_after_three_retries(client, customer, admin) -> None:
    payment = pay(client, customer, "4000000000000119")
    assert payment["status"] == "failed"
    assert payment["retryCount"] == 3
    assert payment["failureCode"] == "processing_error"
    assert charges(client, admin, payment["id"]) == []
    types = event_types(client, customer, payment["id"])
    assert types == ["payment.created"] + ["payment.processing", "payment.retry"] * 3 + [
        "payment.processing", "payment.failed"]


def test_a_slow_provider_answer_is_looked_up_not_retried_and_charged_once(client, customer, admin) -> None:
    payment = pay(client, customer, "4000000000000259")
    assert payment["status"] == "completed"
    assert payment["retryCount"] == 0  # a timeout is not a failure: its outcome was looked up
    attempts = client.get(f"/api/payments/{payment['id']}/attempts", headers=customer).json()["data"]
    assert [(a["kind"], a["outcome"]) for a in attempts] == [("charge", "unknown"), ("lookup", "approved")]
    ledger = charges(client, admin, payment["id"])
    assert len(ledger) == 1
    assert ledger[0]["transactionId"] == payment["transactionId"]


@pytest.mark.parametrize("number", ["4000000000000267", "4000000000000275"])
def test_a_charge_whose_connection_drops_or_whose_answer_always_comes_late_ends_with_one_charge(
        client, customer, admin, number: str) -> None:
    payment = pay(client, customer, number)

    assert (payment["status"], payment["retryCount"]) == ("completed", 0)
    attempts = client.get(f"/api/payments/{payment['id']}/attempts", headers=customer).json()["data"]
    assert [(a["kind"], a["outcome"]) for a in attempts] == [("charge", "unknown"), ("lookup", "approved")]
    assert [c["transactionId"] for c in charges(client, admin, payment["id"])] == [payment["transactionId"]]


def test_events_are_the_audit_trail_in_order(client, customer) -> None:
    payment = pay(client, customer, "4242424242424242")
    r = client.get(f"/api/payments/{payment['id']}/events", headers=customer)
    events = r.json()["data"]
    assert [e["type"] for e in events] == ["payment.created", "payment.processing", "payment.completed"]
    assert [e["data"]["status"] for e in events] == ["pending", "processing", "completed"]
    times = [e["createdAt"] for e in events]
    assert times == sorted(times)


def test_payment_without_card_is_approved(client, customer) -> None:
    r = submit(client, customer, None)
    assert r.status_code == 202, r.text
    assert wait_terminal(client, customer, r.json()["id"])["status"] == "completed"


# --- restarts ---------------------------------------------------------------------------------

def test_idempotent_replay_after_a_restart(tmp_path: Path) -> None:
    key = f"e2e-{uuid.uuid4()}"
    first = start_server(tmp_path, **FAST_RETRIES)
    try:
        with httpx.Client(base_url=first.url, timeout=10.0) as c:
            customer = bearer(c, "customer@example.com", "password123")
            r = submit(c, customer, key=key)
            assert r.status_code == 202, r.text
            original = r.json()
    finally:
        first.stop()
    second = start_server(tmp_path, **FAST_RETRIES)
    try:
        with httpx.Client(base_url=second.url, timeout=10.0) as c:
            customer = bearer(c, "customer@example.com", "password123")
            r = submit(c, customer, key=key)
            assert r.status_code == 200, r.text
            assert r.headers.get("Idempotent-Replayed") == "true"
            assert r.json()["id"] == original["id"]
            assert wait_terminal(c, customer, original["id"])["status"] == "completed"
            # The same key with a different body is refused, also after the restart.
            assert submit(c, customer, key=key, amount=999).status_code == 422
    finally:
        second.stop()


def test_payments_pending_at_shutdown_are_processed_after_the_next_start(tmp_path: Path) -> None:
    # The first server's bucket holds one token and gets the next one after 100 s: the first
    # payment takes the token, the others are certainly unprocessed at shutdown, and one of
    # them is claimed by the drain job (leased, processing) and waiting for a token when SIGTERM arrives.
    starved = {**FAST_RETRIES, "PAYGATE_RATE_LIMIT_CAPACITY": "1", "PAYGATE_RATE_LIMIT_PER_SECOND": "0.01"}
    first = start_server(tmp_path, **starved)
    try:
        with httpx.Client(base_url=first.url, timeout=10.0) as c:
            customer = bearer(c, "customer@example.com", "password123")
            ids = []
            for _ in range(3):
                r = submit(c, customer)
                assert r.status_code == 202, r.text
                ids.append(r.json()["id"])
            assert wait_terminal(c, customer, ids[0])["status"] == "completed"
            time.sleep(0.5)  # the drain job has claimed the next one and waits for a token
            statuses = [c.get(f"/api/payments/{pid}", headers=customer).json()["status"] for pid in ids[1:]]
            # the claimed one is marked processing before it waits for its token; the other waits in line
            assert sorted(statuses) == ["pending", "processing"]
    finally:
        first.stop()
    second = start_server(tmp_path, **FAST_RETRIES)
    try:
        with httpx.Client(base_url=second.url, timeout=10.0) as c:
            customer = bearer(c, "customer@example.com", "password123")
            started = time.monotonic()
            for pid in ids[1:]:
                assert wait_terminal(c, customer, pid)["status"] == "completed"
            # Not left waiting until the first server's lease runs out (30 s): it was handed back.
            assert time.monotonic() - started < 10
            admin = bearer(c, "admin@example.com", "admin123")
            for pid in ids:
                assert len(charges(c, admin, pid)) == 1
    finally:
        second.stop()


def test_a_submit_wakes_the_drain_job_of_an_idle_gateway(tmp_path: Path) -> None:
    # The drain job's own interval is an hour, so only the wake-up on submit can process this payment.
    server = start_server(tmp_path, PAYGATE_DRAIN_INTERVAL_SECONDS="3600")
    try:
        with httpx.Client(base_url=server.url, timeout=10.0) as c:
            customer = bearer(c, "customer@example.com", "password123")
            time.sleep(1.0)  # the first scheduled run (at start) is over; the queue was empty

            r = submit(c, customer)

            assert r.status_code == 202, r.text
            assert wait_terminal(c, customer, r.json()["id"], deadline=10)["status"] == "completed"
    finally:
        server.stop()
