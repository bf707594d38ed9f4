"""A real server's JSON log: one object per line, and a payment's whole path under its request's id."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from typing import Any

import httpx

from tests.conftest import TEST_SECRET
from tests.e2e.conftest import Server, bearer

PAN = "4242424242424242"
CVC = "987"


def wait_until_settled(client: httpx.Client, headers: dict[str, str], payment_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        payment: dict[str, Any] = client.get(f"/api/payments/{payment_id}", headers=headers).json()
        if payment["status"] in ("completed", "failed"):
            return payment
        time.sleep(0.1)
    raise AssertionError(f"payment {payment_id} did not settle: {payment}")


def test_the_json_log_shows_a_payment_s_whole_path_under_the_request_id_that_submitted_it(
        server_factory: Callable[..., Server]) -> None:
    server = server_factory(PAYGATE_LOG_FORMAT="json", PAYGATE_FAULT_ROUTES="1")
    with httpx.Client(base_url=server.url, timeout=10) as client:
        headers = bearer(client, "customer@example.com", "password123")
        me = client.get("/api/auth/me", headers=headers).json()
        submitted = client.post("/api/payments", headers={**headers, "X-Request-ID": "e2e-pay-1"},
                                json={"amount": 2500, "currency": "USD", "description": "logged",
                                      "card": {"number": PAN, "expMonth": 12, "expYear": 2030, "cvc": CVC}})
        payment = wait_until_settled(client, headers, submitted.json()["id"])
        boom = client.get("/api/_faults/boom", headers={"X-Request-ID": "e2e-boom-1"})
        fresh = client.get("/health")
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:  # uvicorn logs a warning
        raw.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        raw.recv(1024)
    server.stop()
    text = server.log_path.read_text()

    lines = [json.loads(line) for line in text.splitlines() if line.strip()]  # each line is JSON, or this fails
    assert submitted.status_code == 202 and submitted.headers["X-Request-ID"] == "e2e-pay-1"
    assert payment["status"] == "completed"
    assert boom.status_code == 500 and boom.headers["X-Request-ID"] == "e2e-boom-1"
    assert len(fresh.headers["X-Request-ID"]) == 32
    assert all({"timestamp", "level", "logger", "message"} <= line.keys() for line in lines)
    path = [line for line in lines if line.get("payment_id") == payment["id"]]
    messages = [line["message"] for line in path]
    assert messages[0] == "payment submitted" and messages[-1] == "payment completed", messages
    assert "payment claimed" in messages and "provider call: charge approved" in messages, messages
    assert {line["request_id"] for line in path} == {"e2e-pay-1"}
    assert {line["user_id"] for line in path} == {me["id"]}
    assert {line["logger"] for line in path} == {"paygate.payments", "paygate.processing"}
    error = [line for line in lines if line.get("request_id") == "e2e-boom-1"]
    assert [line["message"] for line in error] == ["unhandled error", "GET /api/_faults/boom answered 500"]
    assert error[0]["level"] == "error" and "RuntimeError: injected fault" in error[0]["exception"]
    for secret in (PAN, TEST_SECRET, headers["Authorization"].removeprefix("Bearer ")):
        assert secret not in text
    assert "cvc" not in text.lower() and f'"{CVC}"' not in text
    assert any(line["logger"].startswith("uvicorn") and line["level"] == "warning" for line in lines), lines
