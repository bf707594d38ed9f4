"""The HTTP sender of merchant webhooks, on httpx's MockTransport: the Standard Webhooks signature, the
address it connects to (the one it checked), and what it refuses. Real sockets: tests/integration."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.webhook_sender import HttpWebhookSender
from domain.clock import SystemClock
from domain.model.webhooks import new_secret
from tests.unit.test_webhooks import FakeResolver

BODY = json.dumps({"id": "evt_1", "type": "payment.completed", "createdAt": "2026-01-01T00:00:00.000Z",
                   "data": {"id": "pay_1", "amount": 1000}}, separators=(",", ":")).encode()


class Recorder:
    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status, headers={"location": "https://elsewhere.example.com/"}, text="ok")


def sender(recorder: Recorder, resolver: FakeResolver | None = None, allow_private: bool = False) -> HttpWebhookSender:
    return HttpWebhookSender(resolver or FakeResolver(), allow_private=allow_private, clock=SystemClock(),
                             transport=httpx.MockTransport(recorder))


def send(s: HttpWebhookSender, url: str, secret: str, body: bytes = BODY):  # noqa: ANN201 - a SendResult
    async def go():  # noqa: ANN202
        try:
            return await s.send(url, secret, "evt_1", body)
        finally:
            await s.aclose()

    return asyncio.run(go())


def test_a_delivery_is_signed_so_that_the_standard_webhooks_library_verifies_it_with_the_secret():
    recorder, secret = Recorder(), new_secret()

    result = send(sender(recorder), "https://shop.example.com/hooks", secret)

    [request] = recorder.requests
    assert result.ok and result.status_code == 200
    assert request.method == "POST" and request.content == BODY
    assert request.headers["webhook-id"] == "evt_1" and request.headers["content-type"] == "application/json"
    assert request.headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(request.content, dict(request.headers)) == json.loads(BODY)


def test_another_secret_or_a_changed_body_fails_verification():
    recorder = Recorder()

    send(sender(recorder), "https://shop.example.com/hooks", new_secret())

    [request] = recorder.requests
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(request.content, dict(request.headers))
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(request.content.replace(b"1000", b"9999"), dict(request.headers))


def test_the_connection_goes_to_the_address_that_was_checked_with_the_name_in_host_and_sni():
    recorder = Recorder()

    send(sender(recorder), "https://shop.example.com:8443/hooks?x=1", new_secret())

    [request] = recorder.requests
    assert str(request.url) == "https://93.184.216.34:8443/hooks?x=1"
    assert request.headers["host"] == "shop.example.com:8443"
    assert request.extensions["sni_hostname"] == "shop.example.com"


def test_when_the_first_checked_address_cannot_be_reached_the_next_one_is_tried():
    reached: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        reached.append(request.url.host)
        if request.url.host == "2606:2800:220:1:248:1893:25c8:1946":
            raise httpx.ConnectError("Network is unreachable", request=request)
        return httpx.Response(204)

    dual_stack = FakeResolver({"shop.example.com": ["2606:2800:220:1:248:1893:25c8:1946", "93.184.216.34"]})
    s = HttpWebhookSender(dual_stack, clock=SystemClock(), transport=httpx.MockTransport(handler))

    result = send(s, "https://shop.example.com/hooks", new_secret())

    assert result.ok and result.status_code == 204
    assert reached == ["2606:2800:220:1:248:1893:25c8:1946", "93.184.216.34"]


def test_when_no_checked_address_can_be_reached_the_try_fails_with_the_connection_error():
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    both = FakeResolver({"shop.example.com": ["93.184.216.34", "93.184.216.35"]})
    s = HttpWebhookSender(both, clock=SystemClock(), transport=httpx.MockTransport(handler))

    result = send(s, "https://shop.example.com/hooks", new_secret())

    assert not result.ok and result.status_code is None
    assert result.error == "ConnectError: Connection refused"


def test_a_name_that_now_resolves_inside_the_network_is_refused_at_delivery_time_and_nothing_is_sent():
    recorder = Recorder()
    rebound = FakeResolver({"shop.example.com": ["93.184.216.34", "169.254.169.254"]})

    result = send(sender(recorder, rebound), "https://shop.example.com/hooks", new_secret())

    assert not result.ok and result.status_code is None
    assert result.error is not None and result.error.startswith("refused:") and "link-local" in result.error
    assert recorder.requests == []


def test_with_private_addresses_allowed_a_loopback_endpoint_is_posted_to():
    recorder = Recorder(204)

    result = send(sender(recorder, FakeResolver({"localhost": ["127.0.0.1"]}), allow_private=True),
                  "http://localhost:9000/h", new_secret())

    assert result.ok and str(recorder.requests[0].url) == "http://127.0.0.1:9000/h"


@pytest.mark.parametrize("status", [301, 302, 307, 400, 404, 410, 500, 503])
def test_any_answer_but_2xx_is_a_failed_try_and_a_redirect_is_not_followed(status: int):
    recorder = Recorder(status)

    result = send(sender(recorder), "https://shop.example.com/hooks", new_secret())

    assert not result.ok and result.status_code == status
    assert len(recorder.requests) == 1


def test_a_host_that_does_not_resolve_is_a_failed_try():
    recorder = Recorder()

    result = send(sender(recorder, FakeResolver({})), "https://gone.example.com/hooks", new_secret())

    assert not result.ok and result.error == "the host gone.example.com does not resolve"
    assert recorder.requests == []
