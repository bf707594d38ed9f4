"""Merchant webhooks from a served PayGate: a real payment's event reaches a verifying receiver, and a
delivery cut off by a kill -9 of PayGate mid-POST still arrives after the restart."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import bearer, start_server
from tests.integration.webhook_receiver import Receiver, running

pytestmark = pytest.mark.e2e

SETTINGS = {"PAYGATE_WEBHOOKS_ALLOW_PRIVATE": "1", "PAYGATE_WEBHOOK_TIMEOUT_SECONDS": "2",
            "PAYGATE_WEBHOOK_LEASE_SECONDS": "4", "PAYGATE_WEBHOOK_RETRY_SCHEDULE": "0.5,0.5,0.5",
            "PAYGATE_WEBHOOK_POLL_SECONDS": "0.2", "PAYGATE_MOCK_MIN_LATENCY_MS": "0",
            "PAYGATE_MOCK_MAX_LATENCY_MS": "0"}


def wait_for(check: Callable[[], object], timeout: float) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    return check()


def completed_event_id(client: httpx.Client, headers: dict[str, str], payment_id: str) -> str:
    events = client.get(f"/api/payments/{payment_id}/events", headers=headers).json()["data"]
    return next(e["id"] for e in events if e["type"] == "payment.completed")


def test_a_payments_event_reaches_a_verifying_receiver_with_its_id_as_the_webhook_id(tmp_path: Path):
    server = start_server(tmp_path, **SETTINGS)
    try:
        with running(Receiver()) as receiver, httpx.Client(base_url=server.url, timeout=10) as client:
            admin = bearer(client, "admin@example.com", "admin123")
            endpoint = client.post("/api/webhooks/endpoints", headers=admin,
                                   json={"url": receiver.url, "events": ["payment.completed"]}).json()
            receiver.secret = endpoint["secret"]
            payment = client.post("/api/payments", headers=admin, json={"amount": 2500, "currency": "EUR"}).json()

            arrived = wait_for(lambda: receiver.verified, timeout=20)
            event_id = completed_event_id(client, admin, payment["id"])
            log = client.get(f"/api/webhooks/endpoints/{endpoint['id']}/deliveries", headers=admin).json()["data"]
    finally:
        server.stop()

    assert arrived, server.log_tail()
    assert [p["id"] for p in receiver.verified] == [event_id] and receiver.message_ids == [event_id]
    assert receiver.verified[0]["data"]["id"] == payment["id"] and receiver.verified[0]["data"]["amount"] == 2500
    assert [(d["eventId"], d["status"], d["attempts"]) for d in log] == [(event_id, "delivered", 1)]


def test_a_delivery_cut_off_by_a_kill_9_mid_post_arrives_after_the_restart(tmp_path: Path):
    with running(Receiver(hang_first=1)) as receiver:
        server = start_server(tmp_path, **SETTINGS)
        try:
            with httpx.Client(base_url=server.url, timeout=10) as client:
                admin = bearer(client, "admin@example.com", "admin123")
                endpoint = client.post("/api/webhooks/endpoints", headers=admin,
                                       json={"url": receiver.url, "events": ["payment.completed"]}).json()
                receiver.secret = endpoint["secret"]
                payment = client.post("/api/payments", headers=admin,
                                      json={"amount": 4200, "currency": "USD"}).json()
                assert receiver.hanging.wait(20), "the delivery never reached the receiver"
        finally:
            server.kill()  # SIGKILL while the receiver holds the POST: no outcome was recorded

        restarted = start_server(tmp_path, **SETTINGS)
        try:
            arrived = wait_for(lambda: receiver.verified, timeout=30)
            with httpx.Client(base_url=restarted.url, timeout=10) as client:
                admin = bearer(client, "admin@example.com", "admin123")
                event_id = completed_event_id(client, admin, payment["id"])
                log = client.get(f"/api/webhooks/endpoints/{endpoint['id']}/deliveries",
                                 headers=admin).json()["data"]
        finally:
            restarted.stop()

    assert arrived, restarted.log_tail()
    assert [p["id"] for p in receiver.verified] == [event_id]
    assert receiver.requests == 2  # the POST cut off by the kill, and the one after the lease ran out
    assert [(d["eventId"], d["status"], d["attempts"]) for d in log] == [(event_id, "delivered", 2)]
