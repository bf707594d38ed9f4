"""Refunds on a served gateway: a kill -9 between the refund call and its commit still leaves exactly
one refund at the provider (on SQLite, and on PostgreSQL when PAYGATE_TEST_POSTGRES_URL is set), and a
refund through Stripe (localstripe) succeeds."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.conftest import postgres_url
from tests.e2e.conftest import Server, bearer, free_port, start_server
from tests.integration.pg import SKIP_REASON, fresh_postgres_schema

pytestmark = pytest.mark.e2e

CUSTOMER = ("customer@example.com", "password123")
ADMIN = ("admin@example.com", "admin123")
VISA = {"number": "4242424242424242", "expMonth": 12, "expYear": 2030, "cvc": "123"}


def until(check: Callable[[], dict | None], deadline: float = 30) -> dict:
    end = time.monotonic() + deadline
    while True:
        try:
            found = check()
        except httpx.TransportError:
            found = None
        if found is not None:
            return found
        if time.monotonic() > end:
            pytest.fail("the state was not reached in time")
        time.sleep(0.2)


def completed(url: str, headers: dict[str, str], payment_id: str) -> dict | None:
    payment = httpx.get(f"{url}/api/payments/{payment_id}", headers=headers, timeout=10).json()
    return payment if payment["status"] == "completed" else None


@pytest.mark.parametrize("store", ["sqlite", pytest.param("postgres", marks=pytest.mark.skipif(
    postgres_url() is None, reason=SKIP_REASON))])
def test_a_kill_between_the_refund_call_and_its_commit_leaves_exactly_one_refund(store: str, tmp_path: Path) -> None:
    with contextlib.ExitStack() as stack:
        common = {"PAYGATE_LEASE_SECONDS": "2", "PAYGATE_RETRY_BASE_SECONDS": "0.2"}
        if store == "postgres":  # a fresh schema, dropped after the test; the data folder keeps only the logs
            common["PAYGATE_DATABASE_URL"] = stack.enter_context(fresh_postgres_schema())
        killed_mid_refund(tmp_path, common)


def killed_mid_refund(tmp_path: Path, common: dict[str, str]) -> None:
    port = free_port()
    # The charge is the first provider call, the refund the second: the process dies right after it.
    victim = start_server(tmp_path / "gw", port=port, PAYGATE_FAULT_CRASH_AFTER_CHARGES="2", **common)
    server: Server | None = None
    try:
        with httpx.Client(base_url=victim.url, timeout=10) as client:
            me, admin = bearer(client, *CUSTOMER), bearer(client, *ADMIN)
            pid = client.post("/api/payments", headers=me, json={"amount": 4000, "currency": "USD",
                                                                  "card": VISA}).json()["id"]
            until(lambda: completed(victim.url, me, pid))
            created = client.post(f"/api/payments/{pid}/refunds", headers=admin, json={"amount": 1500})
            assert created.status_code == 202
        assert victim.proc.wait(30) == -9, "the fault injection killed the process after the refund call"

        server = start_server(tmp_path / "gw", port=port, **common)
        with httpx.Client(base_url=server.url, timeout=10) as client:
            admin = bearer(client, *ADMIN)
            refund = until(lambda: next((r for r in client.get(f"/api/payments/{pid}/refunds", headers=admin)
                                         .json()["data"] if r["status"] != "pending"), None))
            ledger = client.get("/api/providers/mock/refunds", params={"paymentId": pid}, headers=admin).json()
            attempts = client.get(f"/api/payments/{pid}/attempts", headers=admin).json()["data"]
            payment = client.get(f"/api/payments/{pid}", headers=admin).json()
    finally:  # before the PostgreSQL schema is dropped
        for started in (victim, server):
            if started is not None:
                started.stop()

    assert refund["status"] == "succeeded"
    assert [(e["refundId"], e["amount"]) for e in ledger["data"]] == [(created.json()["id"], 1500)]
    assert payment["refundedAmount"] == 1500
    kinds = [(a["kind"], a["outcome"]) for a in attempts]
    assert kinds[:2] == [("charge", "approved"), ("refund", "unknown")]  # in flight when the process died
    assert ("lookup", "approved") in kinds[2:] and ("refund", "approved") not in kinds


def test_a_refund_through_stripe_succeeds_with_stripes_refund_id(server_factory: Callable[..., Server]) -> None:
    from tests.integration.localstripe import TEST_KEY, localstripe_importable, running_localstripe

    if not localstripe_importable():
        pytest.skip("localstripe is not installed")
    with running_localstripe() as localstripe:
        server = server_factory(PAYGATE_PROVIDERS="stripe", PAYGATE_STRIPE_API_BASE=localstripe,
                                PAYGATE_STRIPE_API_KEY=TEST_KEY)
        with httpx.Client(base_url=server.url, timeout=10) as client:
            me, admin = bearer(client, *CUSTOMER), bearer(client, *ADMIN)
            pid = client.post("/api/payments", headers=me, json={"amount": 2200, "currency": "USD",
                                                                  "paymentMethodToken": "pm_card_visa"}).json()["id"]
            payment = until(lambda: completed(server.url, me, pid))
            created = client.post(f"/api/payments/{pid}/refunds", headers=admin, json={"reason": "other"}).json()
            refund = until(lambda: next((r for r in client.get(f"/api/payments/{pid}/refunds", headers=me)
                                         .json()["data"] if r["status"] != "pending"), None))
            attempts = client.get(f"/api/payments/{pid}/attempts", headers=admin).json()["data"]

        assert (refund["id"], refund["status"], refund["amount"]) == (created["id"], "succeeded", 2200)
        refund_call = [a for a in attempts if a["kind"] == "refund"]
        assert [(a["provider"], a["outcome"]) for a in refund_call] == [("stripe", "approved")]
        stripe_refund = httpx.get(f"{localstripe}/v1/refunds/{refund_call[0]['transactionId']}",
                                  auth=(TEST_KEY, ""), timeout=5).json()
        assert (stripe_refund["amount"], stripe_refund["payment_intent"]) == (2200, payment["transactionId"])
