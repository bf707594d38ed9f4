"""Merchant webhooks on fakes: endpoints, deliveries owed in the event's transaction, the dispatcher's
schedule, dead deliveries, disabled endpoints, retries on request and the bounds on what is in flight."""

from __future__ import annotations

import asyncio
import ipaddress
import json
from datetime import timedelta

import pytest

from domain.clock import FakeClock
from domain.model.errors import Conflict, NotFound, ValidationFailed
from domain.model.events import Event
from domain.model.statuses import EndpointStatus, WebhookDeliveryStatus
from domain.model.webhooks import RetrySchedule, SendResult
from domain.services.webhook_dispatcher import DispatchConfig, WebhookDispatcher
from domain.services.webhooks import WebhookService
from tests.fakes import T0, FakeUnitOfWorkFactory, run_sync
from tests.unit.test_webhooks_model import FixedRng

PUBLIC_HOST = {"shop.example.com": ["93.184.216.34"], "other.example.com": ["93.184.216.35"],
               "third.example.com": ["93.184.216.36"]}


class FakeResolver:
    def __init__(self, table: dict[str, list[str]] | None = None) -> None:
        self.table = dict(PUBLIC_HOST if table is None else table)
        self.asked: list[str] = []

    def resolve(self, host: str, port: int) -> list[str]:
        """The table's answer; an address given as the host is its own answer (as with getaddrinfo)."""
        self.asked.append(host)
        try:
            return [str(ipaddress.ip_address(host))]
        except ValueError:
            return list(self.table.get(host, []))


class ScriptedSender:
    """Answers each POST with the next scripted result (the last one for ever); records what was sent."""

    def __init__(self, *results: SendResult) -> None:
        self.results = list(results) or [SendResult(status_code=200)]
        self.sent: list[tuple[str, str, str, bytes]] = []

    async def send(self, url: str, secret: str, message_id: str, body: bytes) -> SendResult:
        self.sent.append((url, secret, message_id, body))
        return self.results.pop(0) if len(self.results) > 1 else self.results[0]

    async def aclose(self) -> None:
        pass


class HeldSender(ScriptedSender):
    """Holds every POST until released, counting how many are in flight at once, per URL and in all."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.now: dict[str, int] = {}
        self.most_per_url: dict[str, int] = {}
        self.most = 0

    async def send(self, url: str, secret: str, message_id: str, body: bytes) -> SendResult:
        self.now[url] = self.now.get(url, 0) + 1
        self.most_per_url[url] = max(self.most_per_url.get(url, 0), self.now[url])
        self.most = max(self.most, sum(self.now.values()))
        await self.release.wait()
        self.now[url] -= 1
        return await super().send(url, secret, message_id, body)


class Setup:
    def __init__(self, sender: ScriptedSender | None = None, schedule: str = "5,300,1800,7200,18000,36000,36000",
                 max_in_flight: int = 8, per_endpoint: int = 2, resolver: FakeResolver | None = None) -> None:
        self.clock = FakeClock(T0)
        self.uow = FakeUnitOfWorkFactory()
        self.resolver = resolver or FakeResolver()
        self.woken = 0
        self.service = WebhookService(self.uow, self.clock, self.resolver, on_due=self._wake)
        self.sender = sender or ScriptedSender()
        self.dispatcher = WebhookDispatcher(self.uow, self.sender, self.clock,
                                            DispatchConfig("proc-1", 60.0, max_in_flight, per_endpoint),
                                            RetrySchedule.parse(schedule), FixedRng(0.5), run_sync=run_sync)

    def _wake(self) -> None:
        self.woken += 1

    def endpoint(self, events: list[str] | None = None, host: str = "shop.example.com") -> str:
        return self.service.create({"url": f"https://{host}/hooks", "events": events or ["*"]}).id

    def publish(self, event_type: str = "payment.completed", n: int = 1) -> list[Event]:
        events = [Event(event_type, {"id": f"pay_{i}", "amount": 1000}, self.clock.now()) for i in range(n)]
        with self.uow() as uow:
            for event in events:
                uow.publish(event)
            uow.commit()
        return events

    def deliveries(self, endpoint_id: str | None = None) -> list:
        found = self.uow.state.webhook_deliveries.values()
        return sorted((d for d in found if endpoint_id is None or d.endpoint_id == endpoint_id),
                      key=lambda d: (d.created_at, d.id))

    def endpoint_row(self, endpoint_id: str):  # noqa: ANN201 - a WebhookEndpoint
        return self.uow.state.webhook_endpoints[endpoint_id]


# --- endpoints -------------------------------------------------------------------------------
def test_a_new_endpoint_is_enabled_with_its_secret_and_the_secret_is_in_no_listing():
    s = Setup()

    created = s.service.create({"url": "https://shop.example.com/hooks", "events": ["payment.completed"],
                                "description": "the shop"})

    assert created.id.startswith("we_") and created.with_secret()["secret"].startswith("whsec_")
    assert created.with_secret()["status"] == "enabled"
    assert all("secret" not in e.public() for e in s.service.list())
    assert s.uow.event_types() == ["webhook_endpoint.created"]
    assert "secret" not in s.uow.events()[0].data


@pytest.mark.parametrize(("addresses", "reason"), [
    (["127.0.0.1"], "loopback"), (["10.1.2.3"], "private"), (["169.254.169.254"], "link-local"),
    (["93.184.216.34", "192.168.0.10"], "private"), ([], "does not resolve"),
])
def test_a_url_whose_host_resolves_inside_the_network_is_refused(addresses: list[str], reason: str):
    s = Setup(resolver=FakeResolver({"shop.example.com": addresses}))

    with pytest.raises(ValidationFailed, match=reason) as refused:
        s.endpoint()

    assert refused.value.details[0].field == "url"
    assert s.uow.state.webhook_endpoints == {}


def test_private_addresses_are_allowed_when_the_setting_says_so_and_the_host_is_not_even_looked_up():
    resolver = FakeResolver({})
    service = WebhookService(FakeUnitOfWorkFactory(), FakeClock(T0), resolver, allow_private=True)

    created = service.create({"url": "http://127.0.0.1:9999/hooks", "events": ["*"]})

    assert created.url == "http://127.0.0.1:9999/hooks" and resolver.asked == []


def test_an_update_changes_only_the_fields_given_and_checks_a_new_url_too():
    s = Setup(resolver=FakeResolver({**PUBLIC_HOST, "inside.example.com": ["10.0.0.1"]}))
    endpoint_id = s.endpoint(["payment.completed"])

    updated = s.service.update(endpoint_id, {"events": ["refund.succeeded", "refund.failed"], "description": "r"})
    with pytest.raises(ValidationFailed, match="private"):
        s.service.update(endpoint_id, {"url": "https://inside.example.com/h"})
    with pytest.raises(ValidationFailed):
        s.service.update(endpoint_id, {"secret": "whsec_mine"})

    assert updated.event_types == ("refund.succeeded", "refund.failed") and updated.description == "r"
    assert s.service.get(endpoint_id).url == "https://shop.example.com/hooks"


def test_rotating_the_secret_signs_the_next_deliveries_with_the_new_one_only():
    s = Setup()
    endpoint_id = s.endpoint()
    old = s.endpoint_row(endpoint_id).secret

    rotated = s.service.rotate_secret(endpoint_id)
    s.publish()
    asyncio.run(s.dispatcher.run_until_idle())

    assert rotated.secret != old and rotated.secret.startswith("whsec_")
    assert [secret for _, secret, _, _ in s.sender.sent] == [rotated.secret]


def test_deleting_an_endpoint_deletes_its_deliveries_and_unknown_ids_are_not_found():
    s = Setup()
    endpoint_id = s.endpoint()
    s.publish(n=3)

    s.service.delete(endpoint_id)

    assert s.deliveries() == []
    with pytest.raises(NotFound):
        s.service.get(endpoint_id)
    with pytest.raises(NotFound):
        s.service.delete(endpoint_id)
    with pytest.raises(NotFound):
        s.service.deliveries(endpoint_id)


# --- deliveries owed with the event ----------------------------------------------------------
def test_a_public_event_is_owed_to_each_enabled_subscribed_endpoint_in_the_events_own_transaction():
    s = Setup()
    completed = s.endpoint(["payment.completed"])
    everything = s.endpoint(["*"], host="other.example.com")
    refunds_only = s.endpoint(["refund.succeeded"], host="third.example.com")
    switched_off = s.endpoint(["*"])
    s.service.set_enabled(switched_off, False)

    with s.uow() as uow:  # a transaction that does not commit writes neither the event nor deliveries
        uow.publish(Event("payment.completed", {}, T0))
    s.publish("payment.completed")
    s.publish("user.created")
    s.publish("product.updated")

    assert sorted(d.endpoint_id for d in s.deliveries()) == sorted([completed, everything])
    assert {d.event_id for d in s.deliveries()} == {e.id for e in s.uow.events() if e.type == "payment.completed"}
    assert s.deliveries(refunds_only) == [] and s.deliveries(switched_off) == []


def test_the_events_of_deliveries_and_endpoints_themselves_are_never_sent_to_endpoints():
    s = Setup()
    s.endpoint(["*"])
    s.publish()

    asyncio.run(s.dispatcher.run_until_idle())

    assert len(s.deliveries()) == 1
    assert "webhook_delivery.delivered" in s.uow.event_types()


# --- sending ---------------------------------------------------------------------------------
def test_a_2xx_is_delivered_and_the_body_is_the_events_public_json_with_its_id_as_the_message_id():
    s = Setup(ScriptedSender(SendResult(status_code=204)))
    endpoint_id = s.endpoint()
    [event] = s.publish()
    s.clock.advance(1)

    sent = asyncio.run(s.dispatcher.run_until_idle())

    [d] = s.deliveries(endpoint_id)
    assert sent == 1
    assert (d.status, d.attempts, d.last_status_code, d.delivered_at) == ("delivered", 1, 204, s.clock.now())
    url, _secret, message_id, body = s.sender.sent[0]
    assert url == "https://shop.example.com/hooks" and message_id == event.id
    assert json.loads(body) == {"id": event.id, "type": "payment.completed", "createdAt": "2026-01-01T00:00:00.000Z",
                                "data": {"id": "pay_0", "amount": 1000}}


def test_a_failed_try_waits_its_turn_on_the_schedule_and_is_dead_after_the_last_one():
    s = Setup(ScriptedSender(SendResult(status_code=500)))
    endpoint_id = s.endpoint()
    s.publish()
    waits = []

    for _ in range(8):
        assert asyncio.run(s.dispatcher.run_until_idle()) == 1
        [d] = s.deliveries(endpoint_id)
        if d.next_attempt_at is None:
            break
        waits.append((d.next_attempt_at - s.clock.now()).total_seconds())
        s.clock.advance(waits[-1] - 0.001)
        assert asyncio.run(s.dispatcher.run_until_idle()) == 0  # not due yet
        s.clock.advance(0.001)

    [d] = s.deliveries(endpoint_id)
    assert waits == [5, 300, 1800, 7200, 18000, 36000, 36000]
    assert (d.status, d.attempts, d.last_status_code, d.last_error) == ("dead", 8, 500, "HTTP 500")
    s.clock.advance(86400)
    assert asyncio.run(s.dispatcher.run_until_idle()) == 0  # a dead delivery is never tried again by itself


def test_the_jitter_moves_each_wait_by_at_most_ten_percent():
    s = Setup(ScriptedSender(SendResult(error="ConnectError: refused")))
    s.dispatcher.rng = FixedRng(0.0)
    endpoint_id = s.endpoint()
    s.publish()

    asyncio.run(s.dispatcher.run_until_idle())

    [d] = s.deliveries(endpoint_id)
    assert d.status == "failed" and d.last_error == "ConnectError: refused" and d.last_status_code is None
    assert d.next_attempt_at == s.clock.now() + timedelta(seconds=4.5)


def test_ten_dead_deliveries_in_a_row_disable_the_endpoint_with_an_admins_only_event():
    s = Setup(ScriptedSender(SendResult(status_code=503)), schedule="1")
    endpoint_id = s.endpoint()
    s.publish(n=12)

    for _ in range(3):
        asyncio.run(s.dispatcher.run_until_idle())
        s.clock.advance(2)

    endpoint = s.endpoint_row(endpoint_id)
    deliveries = s.deliveries(endpoint_id)
    assert endpoint.status == EndpointStatus.DISABLED and endpoint.dead_in_a_row == 10
    assert sum(d.status == "dead" for d in deliveries) == 10
    assert sum(d.status == "failed" for d in deliveries) == 2  # left waiting: nothing goes to a disabled endpoint
    [disabled] = [e for e in s.uow.events() if e.type == "webhook_endpoint.disabled"]
    assert disabled.customer_id is None and disabled.data["id"] == endpoint_id and "secret" not in disabled.data
    assert disabled.data["status"] == "disabled"


def test_a_delivered_one_between_dead_ones_starts_the_count_afresh():
    answers = [SendResult(status_code=500)] * 18 + [SendResult(status_code=200)] + [SendResult(status_code=500)] * 18
    s = Setup(ScriptedSender(*answers), schedule="1", max_in_flight=1)
    endpoint_id = s.endpoint()
    s.publish(n=9)
    for _ in range(3):
        asyncio.run(s.dispatcher.run_until_idle())
        s.clock.advance(2)
    s.publish(n=1)
    asyncio.run(s.dispatcher.run_until_idle())
    s.publish(n=9)

    for _ in range(3):
        asyncio.run(s.dispatcher.run_until_idle())
        s.clock.advance(2)

    assert s.endpoint_row(endpoint_id).enabled and s.endpoint_row(endpoint_id).dead_in_a_row == 9
    s.service.update(endpoint_id, {"status": "disabled"})
    assert s.service.update(endpoint_id, {"status": "enabled"}).dead_in_a_row == 0  # enabling starts afresh


def test_a_delivery_is_sent_again_on_request_dead_or_not_and_the_sender_is_woken():
    s = Setup(ScriptedSender(SendResult(status_code=500), SendResult(status_code=500), SendResult(status_code=200)),
              schedule="1")
    endpoint_id = s.endpoint()
    s.publish()
    asyncio.run(s.dispatcher.run_until_idle())
    s.clock.advance(2)
    asyncio.run(s.dispatcher.run_until_idle())
    [dead] = s.deliveries(endpoint_id)

    retried = s.service.retry(dead.id)
    sent = asyncio.run(s.dispatcher.run_until_idle())

    [d] = s.deliveries(endpoint_id)
    assert dead.status == "dead" and retried.status == "pending" and s.woken == 1
    assert sent == 1 and d.status == "delivered" and d.attempts == 3
    assert [e.type for e in s.uow.events() if e.type.startswith("webhook_delivery.")] == [
        "webhook_delivery.failed", "webhook_delivery.dead", "webhook_delivery.pending", "webhook_delivery.delivered"]


def test_a_retry_of_a_disabled_endpoints_delivery_is_a_conflict_and_an_unknown_one_is_not_found():
    s = Setup()
    endpoint_id = s.endpoint()
    s.publish()
    s.service.set_enabled(endpoint_id, False)
    [d] = s.deliveries(endpoint_id)

    with pytest.raises(Conflict):
        s.service.retry(d.id)
    with pytest.raises(NotFound):
        s.service.retry("whd_nope")
    assert asyncio.run(s.dispatcher.run_until_idle()) == 0  # nor does it go by itself


def test_an_outcome_that_comes_after_the_lease_was_lost_changes_nothing():
    s = Setup()
    endpoint_id = s.endpoint()
    s.publish()
    [claimed] = s.dispatcher._claim(8, {})
    with s.uow() as uow:  # the lease ran out and another process claimed the delivery
        d = uow.webhooks.get_delivery(claimed.delivery.id)
        d.lease_owner = "proc-2"
        uow.webhooks.update_delivery(d)
        uow.commit()

    s.dispatcher._record(claimed.delivery.id, SendResult(status_code=200))

    [d] = s.deliveries(endpoint_id)
    assert d.status == "pending" and d.lease_owner == "proc-2"


def test_a_sender_that_raises_is_a_failed_try_not_a_crash():
    class Broken(ScriptedSender):
        async def send(self, url: str, secret: str, message_id: str, body: bytes) -> SendResult:
            raise RuntimeError("bug")

    s = Setup(Broken())
    endpoint_id = s.endpoint()
    s.publish()

    asyncio.run(s.dispatcher.run_until_idle())

    [d] = s.deliveries(endpoint_id)
    assert d.status == "failed" and d.last_error == "internal error: RuntimeError"


def test_what_is_in_flight_is_bounded_per_process_and_per_endpoint_so_one_slow_endpoint_cannot_take_every_slot():
    sender = HeldSender()
    s = Setup(sender, max_in_flight=5, per_endpoint=2)
    slow = s.endpoint(["*"], host="shop.example.com")
    s.endpoint(["*"], host="other.example.com")
    s.endpoint(["*"], host="third.example.com")
    s.publish(n=6)

    async def scenario() -> tuple[int, int, int]:
        first = await s.dispatcher.pump()
        in_flight = s.dispatcher.in_flight
        again = await s.dispatcher.pump()  # every slot is taken: nothing more is claimed
        for _ in range(3):
            await asyncio.sleep(0)  # let the POSTs start (a yield, not a wait)
        sender.release.set()
        rest = await s.dispatcher.run_until_idle()
        return first + again + rest, in_flight, again

    total, in_flight, again = asyncio.run(scenario())

    assert (in_flight, again) == (5, 0)
    assert sender.most == 5 and max(sender.most_per_url.values()) == 2
    assert total == 18 and all(d.status == "delivered" for d in s.deliveries())
    assert len(s.deliveries(slow)) == 6


def test_the_delivery_log_is_newest_first_with_a_cursor_and_a_status_filter():
    s = Setup(ScriptedSender(SendResult(status_code=200), SendResult(status_code=500)))
    endpoint_id = s.endpoint()
    for _ in range(5):
        s.publish()
        s.clock.advance(1)
    asyncio.run(s.dispatcher.run_until_idle())

    first, cursor = s.service.deliveries(endpoint_id, limit=2)
    second, cursor2 = s.service.deliveries(endpoint_id, limit=2, cursor=cursor)
    third, cursor3 = s.service.deliveries(endpoint_id, limit=2, cursor=cursor2)
    failed, _ = s.service.deliveries(endpoint_id, status="failed")

    everything = [d.id for d in reversed(s.deliveries(endpoint_id))]
    assert [d.id for d in first + second + third] == everything and cursor3 is None
    assert len(failed) == 4 and all(d.status == WebhookDeliveryStatus.FAILED for d in failed)
    with pytest.raises(ValidationFailed):
        s.service.deliveries(endpoint_id, status="done")
    with pytest.raises(ValidationFailed):
        s.service.deliveries(endpoint_id, cursor="not-a-cursor!")
