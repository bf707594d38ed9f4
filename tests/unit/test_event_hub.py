"""The outbox tail: new events once each, in order, even when PostgreSQL commits them out of order."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.live import EventHub
from domain.model.events import Event

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class Outbox:
    """Just the outbox reads the hub makes; `visible` is what committed transactions show."""

    def __init__(self) -> None:
        self.visible: dict[int, Event] = {}

    def commit(self, seq: int) -> Event:
        event = Event("payment.created", {"n": seq}, T0, id=f"evt_{seq}", seq=seq)
        self.visible[seq] = event
        return event

    def after(self, seq: int, limit: int) -> list[Event]:
        return [self.visible[s] for s in sorted(self.visible) if s > seq][:limit]

    def last_seq(self) -> int:
        return max(self.visible, default=0)


class Tx:
    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    def __enter__(self) -> Tx:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None


def hub_on(outbox: Outbox) -> tuple[EventHub, list[str]]:
    hub = EventHub(lambda read_only=False: Tx(outbox))
    seen: list[str] = []
    hub.subscribe(lambda e: seen.append(e.id))
    hub.start_from_now()
    return hub, seen


def test_events_from_before_the_start_are_not_replayed_and_new_ones_arrive_in_order():
    outbox = Outbox()
    outbox.commit(1)
    hub, seen = hub_on(outbox)
    outbox.commit(2)
    outbox.commit(3)

    hub.publish(hub.poll())

    assert seen == ["evt_2", "evt_3"]


def test_an_event_that_commits_after_a_later_one_is_still_delivered_exactly_once():
    outbox = Outbox()
    hub, seen = hub_on(outbox)
    outbox.commit(1)
    outbox.commit(3)  # seq 2's transaction has not committed yet
    hub.publish(hub.poll())

    outbox.commit(2)
    hub.publish(hub.poll())
    hub.publish(hub.poll())

    assert seen == ["evt_1", "evt_3", "evt_2"]


def test_a_subscriber_that_fails_does_not_stop_the_others():
    outbox = Outbox()
    hub, seen = hub_on(outbox)

    def broken(_event: Event) -> None:
        raise RuntimeError("a page went away")

    hub.subscribe(broken)
    outbox.commit(1)

    hub.publish(hub.poll())

    assert seen == ["evt_1"]


def test_an_unsubscribed_page_gets_nothing_more():
    outbox = Outbox()
    hub, seen = hub_on(outbox)
    later: list[str] = []
    unsubscribe = hub.subscribe(lambda e: later.append(e.id))
    outbox.commit(1)
    hub.publish(hub.poll())

    unsubscribe()
    outbox.commit(2)
    hub.publish(hub.poll())

    assert later == ["evt_1"]
    assert seen == ["evt_1", "evt_2"]
