"""The served gateway on Stripe, through localstripe (a real Stripe-compatible server process):
payments end to end, failover from a failing mock, and Stripe's own webhook settling a charge whose
answer PayGate lost (a proxy in between holds the answer past the timeout and hides the lookups)."""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e.conftest import Server, bearer
from tests.integration.localstripe import (
    SKIP_REASON,
    TEST_KEY,
    configure_webhook,
    localstripe_importable,
    running_localstripe,
)

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not localstripe_importable(), reason=SKIP_REASON)]

WEBHOOK_SECRET = "whsec_paygate_e2e_" + "s" * 24
CUSTOMER = ("customer@example.com", "password123")
ADMIN = ("admin@example.com", "admin123")
VISA = {"number": "4242424242424242", "expMonth": 12, "expYear": 2030, "cvc": "123"}
TERMINAL = {"completed", "failed"}


@pytest.fixture(scope="module")
def localstripe() -> Iterator[str]:
    with running_localstripe() as url:
        yield url


def stripe_env(api_base: str, **more: object) -> dict[str, object]:
    return {"PAYGATE_PROVIDERS": "stripe", "PAYGATE_STRIPE_API_BASE": api_base,
            "PAYGATE_STRIPE_API_KEY": TEST_KEY, "PAYGATE_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET, **more}


def wait_terminal(client: httpx.Client, headers: dict[str, str], payment_id: str, deadline: float = 30) -> dict:
    end = time.monotonic() + deadline
    while True:
        payment = client.get(f"/api/payments/{payment_id}", headers=headers).json()
        if payment["status"] in TERMINAL or time.monotonic() > end:
            return payment
        time.sleep(0.2)


def attempts(client: httpx.Client, headers: dict[str, str], payment_id: str) -> list[tuple[str, str, str]]:
    rows = client.get(f"/api/payments/{payment_id}/attempts", headers=headers).json()["data"]
    return [(a["kind"], a["provider"], a["outcome"]) for a in rows]


def test_a_served_gateway_on_stripe_charges_cards_and_tokens_and_declines_localstripes_decline_card(
        server_factory: Callable[..., Server], localstripe: str) -> None:
    server = server_factory(**stripe_env(localstripe))
    with httpx.Client(base_url=server.url, timeout=10) as client:
        me = bearer(client, *CUSTOMER)
        card = client.post("/api/payments", headers=me, json={"amount": 2500, "currency": "USD", "card": VISA})
        token = client.post("/api/payments", headers=me, json={"amount": 700, "currency": "EUR",
                                                               "paymentMethodToken": "pm_card_visa"})
        declined = client.post("/api/payments", headers=me, json={
            "amount": 900, "currency": "USD", "card": {**VISA, "number": "4000000000000341"}})
        assert [r.status_code for r in (card, token, declined)] == [202, 202, 202]
        assert "pm_" not in card.text and card.json()["card"] == {"brand": "visa", "last4": "4242"}

        paid = wait_terminal(client, me, card.json()["id"])
        by_token = wait_terminal(client, me, token.json()["id"])
        refused = wait_terminal(client, me, declined.json()["id"])

        assert (paid["status"], paid["provider"]) == ("completed", "stripe")
        assert paid["transactionId"].startswith("pi_")
        assert attempts(client, me, paid["id"]) == [("tokenize", "stripe", "approved"),
                                                    ("charge", "stripe", "approved")]
        assert (by_token["status"], by_token["card"]) == ("completed", {"brand": "visa", "last4": "4242"})
        assert attempts(client, me, by_token["id"]) == [("charge", "stripe", "approved")]
        assert (refused["status"], refused["failureCode"]) == ("failed", "card_declined")
        intent = httpx.get(f"{localstripe}/v1/payment_intents/{paid['transactionId']}",
                           auth=(TEST_KEY, ""), timeout=5).json()
        assert (intent["status"], intent["amount"], intent["metadata"]["paygate_payment_id"]) == (
            "succeeded", 2500, paid["id"])


def test_a_failing_primary_opens_its_circuit_and_payments_fail_over_to_stripe(
        server_factory: Callable[..., Server], localstripe: str) -> None:
    server = server_factory(**stripe_env(localstripe, PAYGATE_PROVIDERS="mock,stripe",
                                         PAYGATE_MOCK_FAILURE_RATE="1", PAYGATE_CIRCUIT_FAIL_MAX="2",
                                         PAYGATE_RETRY_BASE_SECONDS="0.2"))
    with httpx.Client(base_url=server.url, timeout=10) as client:
        me, admin = bearer(client, *CUSTOMER), bearer(client, *ADMIN)
        ids = [client.post("/api/payments", headers=me, json={"amount": 1000 + i, "currency": "USD",
                                                               "card": VISA}).json()["id"] for i in range(4)]
        payments = [wait_terminal(client, me, pid) for pid in ids]

        assert [(p["status"], p["provider"]) for p in payments] == [("completed", "stripe")] * 4
        providers = {p["name"]: p for p in client.get("/api/providers", headers=admin).json()["data"]}
        assert providers["mock"]["circuit"] == "open"
        assert providers["mock"]["lastError"]["code"] == "provider_unavailable"
        assert (providers["mock"]["role"], providers["stripe"]["role"]) == ("primary", "fallback")
        ledger = client.get("/api/providers/mock/charges", headers=admin).json()["data"]
        assert ledger == []  # never charged at two providers
        first = attempts(client, me, ids[0])
        assert first[0] == ("charge", "mock", "error") and first[-1] == ("charge", "stripe", "approved")


class LosingProxy:
    """Forwards to localstripe, but holds the answer to the first PaymentIntent create past PayGate's
    timeout (the charge happens; its answer is lost) and answers every PaymentIntent search or list with
    a 503 (lookups cannot tell). Only Stripe's webhook can then settle the payment."""

    def __init__(self, upstream: str, hold_seconds: float) -> None:
        self.upstream = urlsplit(upstream)
        self.hold_seconds = hold_seconds
        self.held = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                path = self.path
                if self.command == "GET" and path.startswith("/v1/payment_intents"):
                    self.send_response(503)
                    self.send_header("Content-Type", "application/json")
                    payload = b'{"error": {"type": "api_error", "message": "unavailable"}}'
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                conn = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=10)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                conn.request(self.command, path, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                if self.command == "POST" and path == "/v1/payment_intents" and not proxy.held.is_set():
                    proxy.held.set()
                    time.sleep(proxy.hold_seconds)  # charged at localstripe; PayGate stops waiting first
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    @contextmanager
    def running(self) -> Iterator[LosingProxy]:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()


def test_stripes_webhook_settles_a_charge_whose_answer_was_lost_and_a_replay_changes_nothing(
        server_factory: Callable[..., Server], localstripe: str) -> None:
    with LosingProxy(localstripe, hold_seconds=3.0).running() as proxy:
        server = server_factory(**stripe_env(proxy.url, PAYGATE_PROVIDER_TIMEOUT_SECONDS="1"))
        hook = f"paygate-e2e-{server.port}"
        configure_webhook(localstripe, hook, f"{server.url}/api/providers/stripe/webhook", WEBHOOK_SECRET,
                          ["payment_intent.succeeded", "payment_intent.payment_failed"])
        try:
            with httpx.Client(base_url=server.url, timeout=10) as client:
                me = bearer(client, *CUSTOMER)
                pid = client.post("/api/payments", headers=me, json={
                    "amount": 4200, "currency": "USD", "paymentMethodToken": "pm_card_visa"}).json()["id"]
                payment = wait_terminal(client, me, pid, deadline=30)

                assert proxy.held.is_set()
                assert (payment["status"], payment["transactionId"][:3]) == ("completed", "pi_")
                rows = attempts(client, me, pid)
                assert rows[0] == ("charge", "stripe", "unknown")  # the answer was lost ...
                assert all(kind == "lookup" and outcome in ("unknown", "error") for kind, _, outcome in rows[1:])
                events = [e["type"] for e in client.get(f"/api/payments/{pid}/events", headers=me).json()["data"]]
                assert events.count("payment.completed") == 1  # ... and the webhook settled it, once
        finally:
            configure_webhook(localstripe, hook, f"{server.url}/api/providers/stripe/webhook", WEBHOOK_SECRET, [])


def test_a_webhook_with_a_bad_signature_is_400_and_changes_nothing(server_factory: Callable[..., Server],
                                                                   localstripe: str) -> None:
    server = server_factory(**stripe_env(localstripe))
    body = b'{"id": "evt_forged", "type": "payment_intent.succeeded", "data": {"object": {}}}'
    forged = httpx.post(f"{server.url}/api/providers/stripe/webhook", content=body, timeout=10,
                        headers={"Stripe-Signature": f"t={int(time.time())},v1={'0' * 64}",
                                 "Content-Type": "application/json"})
    unsigned = httpx.post(f"{server.url}/api/providers/stripe/webhook", content=body, timeout=10)

    assert (forged.status_code, unsigned.status_code) == (400, 400)
    assert forged.json()["error"]["code"] == "bad_request"
    assert WEBHOOK_SECRET not in forged.text
