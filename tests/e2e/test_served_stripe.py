"""The served gateway on Stripe, through localstripe (a real Stripe-compatible server process):
payments end to end, failover from a failing mock, Stripe's own webhook settling a charge whose
answer PayGate lost (a proxy in between holds the answer past the timeout and hides the lookups) with
replays and late events changing nothing, and a `charge.refunded` that does not list its refunds (as
Stripe's Charge does not since API version 2022-11-15) sending a refund whose answer was lost to its
lookup at once."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
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


def signed(body: bytes, secret: str = WEBHOOK_SECRET) -> dict[str, str]:
    """Headers of a webhook signed as Stripe signs them (v1: HMAC-SHA256 of "t.body" with the secret)."""
    t = int(time.time())
    v1 = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={t},v1={v1}", "Content-Type": "application/json"}


def stripe_event(event_id: str, kind: str, obj: dict[str, object]) -> bytes:
    return json.dumps({"id": event_id, "object": "event", "type": kind, "api_version": "2024-06-20",
                       "created": int(time.time()), "data": {"object": obj}}).encode()


class LocalServer:
    """A ThreadingHTTPServer on a free localhost port (`server`, `url`), served on a thread while `running()`."""

    server: ThreadingHTTPServer
    url: str

    @contextmanager
    def running(self) -> Iterator[Self]:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()


class LosingProxy(LocalServer):
    """Forwards to localstripe, but holds the answer to the first POST to `hold_path` (a PaymentIntent
    create by default) past PayGate's timeout (the call happens; its answer is lost) and answers every
    GET under `refuse_prefix` (PaymentIntent searches and lists by default) with a 503 (lookups cannot
    tell). Only Stripe's webhook can then settle the payment."""

    def __init__(self, upstream: str, hold_seconds: float, hold_path: str = "/v1/payment_intents",
                 refuse_prefix: str | None = "/v1/payment_intents") -> None:
        self.upstream = urlsplit(upstream)
        self.hold_seconds = hold_seconds
        self.hold_path = hold_path
        self.refuse_prefix = refuse_prefix
        self.held = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                path = self.path
                if self.command == "GET" and proxy.refuse_prefix and path.startswith(proxy.refuse_prefix):
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
                if self.command == "POST" and path == proxy.hold_path and not proxy.held.is_set():
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



class WebhookRelay(LocalServer):
    """Between localstripe and the gateway: forwards each webhook POST as it came and keeps a copy (body
    and headers, the Stripe-Signature included), so a test can deliver the same signed event again."""

    def __init__(self, target: str) -> None:
        self.target = urlsplit(target)
        self.received: list[tuple[bytes, dict[str, str]]] = []
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "stripe-signature")}
                relay.received.append((body, headers))  # kept before the gateway acts on it
                conn = http.client.HTTPConnection(relay.target.hostname, relay.target.port, timeout=10)
                conn.request("POST", relay.target.path, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


    def about(self, payment_id: str, kind: str) -> tuple[bytes, dict[str, str]] | None:
        for body, headers in self.received:
            event = json.loads(body)
            if event["type"] == kind and event["data"]["object"].get("metadata", {}).get(
                    "paygate_payment_id") == payment_id:
                return body, headers
        return None


def snapshot(client: httpx.Client, headers: dict[str, str], payment_id: str) -> tuple[object, ...]:
    """What a replay must not change: the payment's status and charge, its events, its attempts."""
    payment = client.get(f"/api/payments/{payment_id}", headers=headers).json()
    events = client.get(f"/api/payments/{payment_id}/events", headers=headers).json()["data"]
    return (payment["status"], payment["transactionId"], payment["updatedAt"], [e["type"] for e in events],
            attempts(client, headers, payment_id))


def test_stripes_webhook_settles_a_charge_whose_answer_was_lost_and_a_replay_changes_nothing(
        server_factory: Callable[..., Server], localstripe: str) -> None:
    with LosingProxy(localstripe, hold_seconds=3.0).running() as proxy:
        server = server_factory(**stripe_env(proxy.url, PAYGATE_PROVIDER_TIMEOUT_SECONDS="1"))
        webhook = f"{server.url}/api/providers/stripe/webhook"
        hook = f"paygate-e2e-{server.port}"
        with WebhookRelay(webhook).running() as relay:
            configure_webhook(localstripe, hook, relay.url, WEBHOOK_SECRET,
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
                    delivered = relay.about(pid, "payment_intent.succeeded")
                    assert delivered is not None, "localstripe's payment_intent.succeeded did not pass the relay"
                    before = snapshot(client, me, pid)

                    # Stripe delivers at least once: the same signed event again ...
                    replay = httpx.post(webhook, content=delivered[0], headers=delivered[1], timeout=10)
                    # ... and an event that comes after the payment was settled and says otherwise.
                    late_body = stripe_event(f"evt_late_{pid}", "payment_intent.payment_failed", {
                        "id": payment["transactionId"], "object": "payment_intent", "status": "requires_payment_method",
                        "metadata": {"paygate_payment_id": pid},
                        "last_payment_error": {"code": "card_declined", "decline_code": "generic_decline"}})
                    late = httpx.post(webhook, content=late_body, headers=signed(late_body), timeout=10)

                    assert (replay.status_code, replay.json()) == (200, {"received": True, "outcome": "duplicate"})
                    assert (late.status_code, late.json()) == (200, {"received": True, "outcome": "ignored"})
                    assert snapshot(client, me, pid) == before
            finally:
                configure_webhook(localstripe, hook, relay.url, WEBHOOK_SECRET, [])


def test_a_charge_refunded_event_that_lists_no_refunds_sends_a_refund_whose_answer_was_lost_to_its_lookup_at_once(
        server_factory: Callable[..., Server], localstripe: str) -> None:
    # The refund's answer is held past the timeout; its lookup would wait 20 s (the retry base) without the event.
    with LosingProxy(localstripe, hold_seconds=3.0, hold_path="/v1/refunds", refuse_prefix=None).running() as proxy:
        server = server_factory(**stripe_env(proxy.url, PAYGATE_PROVIDER_TIMEOUT_SECONDS="1",
                                             PAYGATE_RETRY_BASE_SECONDS="20", PAYGATE_RETRY_CAP_SECONDS="60"))
        webhook = f"{server.url}/api/providers/stripe/webhook"
        with httpx.Client(base_url=server.url, timeout=10) as client:
            me, admin = bearer(client, *CUSTOMER), bearer(client, *ADMIN)
            pid = client.post("/api/payments", headers=me, json={
                "amount": 3000, "currency": "USD", "paymentMethodToken": "pm_card_visa"}).json()["id"]
            payment = wait_terminal(client, me, pid)
            assert payment["status"] == "completed"
            made = client.post(f"/api/payments/{pid}/refunds", headers=admin, json={"amount": 1200})
            assert made.status_code == 202, made.text
            refund_id = made.json()["id"]

            def refund_now() -> dict:
                return next(r for r in client.get(f"/api/payments/{pid}/refunds", headers=admin).json()["data"]
                            if r["id"] == refund_id)

            end = time.monotonic() + 15
            while refund_now()["failureCode"] is None and time.monotonic() < end:  # until the call timed out
                time.sleep(0.2)
            assert proxy.held.is_set()
            assert (refund_now()["status"], refund_now()["failureCode"]) == ("pending", "provider_timeout")

            body = stripe_event(f"evt_refunded_{pid}", "charge.refunded", {
                "id": f"ch_{pid}", "object": "charge", "payment_intent": payment["transactionId"],
                "amount": 3000, "amount_refunded": 1200, "refunded": False, "status": "succeeded",
                "metadata": {"paygate_payment_id": pid}})  # no `refunds` list, as from API version 2022-11-15
            received = httpx.post(webhook, content=body, headers=signed(body), timeout=10)
            assert (received.status_code, received.json()) == (200, {"received": True,
                                                                     "outcome": "refund_lookup_due"})

            end = time.monotonic() + 8  # well inside the 20 s the lookup would otherwise wait
            refund: dict = {}
            while time.monotonic() < end:
                refund = refund_now()
                if refund["status"] != "pending":
                    break
                time.sleep(0.2)

            assert refund["status"] == "succeeded"
            assert attempts(client, admin, pid)[-2:] == [("refund", "stripe", "unknown"),
                                                         ("lookup", "stripe", "approved")]
            listed = httpx.get(f"{localstripe}/v1/refunds", params={"payment_intent": payment["transactionId"]},
                               auth=(TEST_KEY, ""), timeout=5).json()["data"]
            assert len(listed) == 1  # looked up, not refunded twice
            assert client.get(f"/api/payments/{pid}", headers=me).json()["refundedAmount"] == 1200


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
