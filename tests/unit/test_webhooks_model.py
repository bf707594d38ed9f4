"""The rules of merchant webhooks: URLs and the addresses they may reach, subscriptions, secrets, the
retry schedule with its jitter, and a delivery's way to dead."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import get_args

import pytest

from app.api.webhooks import EventType
from domain.model.errors import IllegalTransition, ValidationFailed
from domain.model.events import Event
from domain.model.statuses import EndpointStatus, WebhookDeliveryStatus
from domain.model.webhooks import (
    PUBLIC_EVENT_TYPES,
    RetrySchedule,
    SendResult,
    WebhookDelivery,
    WebhookEndpoint,
    check_addresses,
    new_secret,
    owed,
    parse_events,
    parse_url,
    refusal,
)
from tests.fakes import T0


class FixedRng:
    """uniform(a, b) at a fixed point between a and b: 0.0 is a, 1.0 is b."""

    def __init__(self, at: float) -> None:
        self.at = at

    def uniform(self, a: float, b: float) -> float:
        return a + (b - a) * self.at


def endpoint(event_types: tuple[str, ...] = ("*",), status: EndpointStatus = EndpointStatus.ENABLED,
             endpoint_id: str = "we_1") -> WebhookEndpoint:
    return WebhookEndpoint(endpoint_id, "https://shop.example.com/hooks", event_types, "", status, new_secret(),
                           T0, T0)


def delivery() -> WebhookDelivery:
    return WebhookDelivery("whd_1", "we_1", "evt_1", "payment.completed", WebhookDeliveryStatus.PENDING, T0, T0, T0)


# --- secrets and URLs ------------------------------------------------------------------------
def test_a_secret_is_whsec_and_the_base64_of_24_random_bytes():
    secrets = {new_secret() for _ in range(20)}

    assert len(secrets) == 20
    for secret in secrets:
        assert secret.startswith("whsec_")
        assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 24


@pytest.mark.parametrize(("url", "host", "port"), [
    ("https://shop.example.com/hooks", "shop.example.com", 443),
    ("http://shop.example.com:8080/h?x=1", "shop.example.com", 8080),
    ("HTTPS://Shop.Example.com/", "shop.example.com", 443),
    ("http://[2606:4700::1111]/h", "2606:4700::1111", 80),
])
def test_an_http_or_https_url_is_taken_apart_into_host_and_port(url: str, host: str, port: int):
    destination = parse_url(url)

    assert (destination.host, destination.port, destination.url) == (host, port, url)


@pytest.mark.parametrize("url", ["ftp://shop.example.com/", "file:///etc/passwd", "https:///nohost",
                                 "https://user:pw@shop.example.com/", "https://shop.example.com/#frag",
                                 "https://shop.example.com:99999/", "shop.example.com/hooks", "", 42, None,
                                 "https://shop example.com/", "https://x.com/" + "a" * 2048])
def test_a_url_that_is_not_http_or_https_with_a_host_is_refused_naming_the_field(url: object):
    with pytest.raises(ValidationFailed) as refused:
        parse_url(url)

    assert refused.value.details[0].field == "url"


@pytest.mark.parametrize(("address", "kind"), [
    ("127.0.0.1", "loopback"), ("127.8.9.10", "loopback"), ("::1", "loopback"),
    ("10.0.0.5", "private"), ("172.16.3.4", "private"), ("192.168.1.1", "private"), ("fd00::1", "private"),
    ("169.254.169.254", "link-local"), ("fe80::1", "link-local"), ("fe80::1%eth0", "link-local"),
    ("224.0.0.1", "multicast"), ("ff02::1", "multicast"),
    ("0.0.0.0", "unspecified"), ("::", "unspecified"), ("240.0.0.1", "reserved"),
    ("::ffff:127.0.0.1", "loopback"), ("::ffff:10.1.2.3", "private"), ("2002:7f00:1::", "loopback"),
    ("100.64.0.1", "public"),  # shared address space (carrier-grade NAT): not a public address either
    ("192.0.2.10", "documentation"),
])
def test_every_address_that_is_not_public_is_refused_and_the_reason_says_what_it_is(address: str, kind: str):
    reason = refusal(address)

    assert reason is not None
    if kind not in ("public", "documentation"):
        assert kind in reason


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_a_public_address_is_allowed(address: str):
    assert refusal(address) is None


def test_a_host_with_one_private_address_among_public_ones_is_refused_whole():
    with pytest.raises(ValidationFailed, match="10.0.0.7 is a private address"):
        check_addresses("shop.example.com", ["93.184.216.34", "10.0.0.7"])


def test_a_host_that_does_not_resolve_is_refused():
    with pytest.raises(ValidationFailed, match="does not resolve"):
        check_addresses("nowhere.invalid", [])


# --- subscriptions ---------------------------------------------------------------------------
def test_events_are_public_types_or_a_lone_star_and_repeats_are_dropped():
    assert parse_events(["payment.completed", "refund.succeeded", "payment.completed"]) == (
        "payment.completed", "refund.succeeded")
    assert parse_events(["*"]) == ("*",)


@pytest.mark.parametrize("events", [[], "payment.completed", ["payment.done"], ["user.created"],
                                    ["*", "payment.completed"], [1], None])
def test_events_that_are_not_a_list_of_public_types_are_refused_naming_the_field(events: object):
    with pytest.raises(ValidationFailed) as refused:
        parse_events(events)

    assert refused.value.details[0].field == "events"


def test_the_api_schema_offers_exactly_the_public_types_and_the_star():
    assert set(get_args(EventType)) == {*PUBLIC_EVENT_TYPES, "*"}


def test_only_enabled_endpoints_subscribed_to_a_public_type_are_owed_its_event():
    endpoints = [endpoint(("payment.completed",), endpoint_id="we_a"), endpoint(("*",), endpoint_id="we_b"),
                 endpoint(("refund.succeeded",), endpoint_id="we_c"),
                 endpoint(("*",), EndpointStatus.DISABLED, endpoint_id="we_d")]
    ids = iter(f"whd_{n}" for n in range(100))

    completed = owed(Event("payment.completed", {}, T0), endpoints, lambda: next(ids))
    private = owed(Event("user.created", {}, T0), endpoints, lambda: next(ids))

    assert [d.endpoint_id for d in completed] == ["we_a", "we_b"]
    assert all(d.status == "pending" and d.next_attempt_at == T0 and d.event_type == "payment.completed"
               for d in completed)
    assert private == []


# --- the schedule and a delivery's life ------------------------------------------------------
def test_each_wait_of_the_schedule_is_within_ten_percent_either_way():
    schedule = RetrySchedule()

    lowest = schedule.next_try(1, T0, FixedRng(0.0))
    highest = schedule.next_try(1, T0, FixedRng(1.0))
    later = schedule.next_try(3, T0, FixedRng(0.5))

    assert lowest == T0 + timedelta(seconds=4.5)
    assert highest == T0 + timedelta(seconds=5.5)
    assert later == T0 + timedelta(seconds=1800)


def test_the_default_schedule_is_the_contracts_and_after_its_last_wait_there_is_no_next_try():
    schedule = RetrySchedule()

    assert schedule.waits == (5, 300, 1800, 7200, 18000, 36000, 36000)
    assert schedule.next_try(7, T0, FixedRng(0.5)) == T0 + timedelta(hours=10)
    assert schedule.next_try(8, T0, FixedRng(0.5)) is None


@pytest.mark.parametrize("text", ["", "5,x", "0", "-1,5", "5,,", "99999999"])
def test_a_schedule_setting_that_is_not_positive_seconds_is_refused(text: str):
    with pytest.raises(ValueError):
        RetrySchedule.parse(text)


def test_a_delivery_fails_through_the_schedule_and_is_dead_after_its_eighth_try():
    d, schedule, now = delivery(), RetrySchedule(), T0
    statuses = []

    for _ in range(8):
        d.attempts += 1  # a claim counts the try
        d.failed(SendResult(status_code=500), schedule, now, FixedRng(0.5))
        statuses.append(str(d.status))
        now = d.next_attempt_at or now

    assert statuses == ["failed"] * 7 + ["dead"]
    assert d.next_attempt_at is None and d.last_status_code == 500 and d.last_error == "HTTP 500"
    with pytest.raises(IllegalTransition):
        d.failed(SendResult(error="again"), schedule, now, FixedRng(0.5))


def test_a_dead_delivery_sent_again_is_due_now_and_dies_again_on_one_more_failure():
    d = delivery()
    d.attempts = 8
    d.status = WebhookDeliveryStatus.DEAD

    d.send_again(T0)
    due = (d.status, d.next_attempt_at)
    d.attempts += 1
    d.failed(SendResult(error="ConnectError: refused"), RetrySchedule(), T0, FixedRng(0.5))

    assert due == (WebhookDeliveryStatus.PENDING, T0)
    assert d.status == WebhookDeliveryStatus.DEAD and d.last_error == "ConnectError: refused"
    assert d.last_status_code is None


def test_the_tenth_dead_delivery_in_a_row_disables_the_endpoint_with_its_event_and_a_delivered_one_resets():
    e = endpoint()
    for _ in range(9):
        e.died(T0)
    e.delivered()
    for _ in range(9):
        e.died(T0)
    still_enabled = e.enabled

    e.died(T0)

    assert still_enabled
    assert e.status == EndpointStatus.DISABLED and "10" in (e.disabled_reason or "")
    assert [ev.type for ev in e.events] == ["webhook_endpoint.disabled"]
    assert e.events[0].customer_id is None and "secret" not in e.events[0].data
