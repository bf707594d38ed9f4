"""Live events: each process tails the outbox and fans new events out to its own subscribers.

Subscribers are the NiceGUI pages of this process's users and its WebSocket clients. Delivery
is at least once; each event carries its id, so a subscriber can drop a repeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from domain.model.events import Event
from domain.ports import UnitOfWorkFactory

log = logging.getLogger("paygate.live")

Subscriber = Callable[[Event], None]

# On PostgreSQL a sequence number is taken at insert and becomes visible at commit, so a lower
# number can appear after a higher one. Gaps are watched this long before they are given up.
GAP_PATIENCE_SECONDS = 10.0
# The least time between two reads of the outbox when wake-ups pour in (a storm of submissions): each
# read costs a query and wakes the webhook pass, so a storm is read in batches. An idle gateway reads at once.
MIN_GAP_SECONDS = 0.025


def _seq(event: Event) -> int:
    assert event.seq is not None, "an event read from the outbox has its sequence number"
    return event.seq


class EventHub:
    def __init__(self, uow: UnitOfWorkFactory, batch: int = 500) -> None:
        self.uow = uow
        self.batch = batch
        self._subscribers: dict[int, Subscriber] = {}
        self._next = 0
        self._floor: int | None = None  # every seq <= floor has been seen or given up
        self._seen: set[int] = set()
        self._gaps: dict[int, float] = {}
        self._loop: asyncio.AbstractEventLoop | None = None  # while run() tails
        self._wake: asyncio.Event | None = None

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        self._next += 1
        token = self._next
        self._subscribers[token] = callback

        def unsubscribe() -> None:
            self._subscribers.pop(token, None)

        return unsubscribe

    def start_from_now(self) -> None:
        with self.uow(read_only=True) as uow:
            self._floor = uow.outbox.last_seq()

    def poll(self) -> list[Event]:
        """Read new events from the outbox (a thread may call this); return them in order."""
        if self._floor is None:
            self.start_from_now()
        floor = self._floor
        assert floor is not None, "start_from_now sets the floor"
        with self.uow(read_only=True) as uow:
            events = uow.outbox.after(floor, self.batch)
        fresh = [e for e in events if _seq(e) not in self._seen]
        self._seen.update(_seq(e) for e in fresh)
        self._advance_floor(max((_seq(e) for e in events), default=floor))
        return fresh

    def _advance_floor(self, top: int) -> None:
        now = time.monotonic()
        assert self._floor is not None, "poll sets the floor before it advances it"
        expected = self._floor + 1
        while expected <= top:
            if expected in self._seen:
                self._seen.discard(expected)
            elif now - self._gaps.setdefault(expected, now) < GAP_PATIENCE_SECONDS:
                break  # maybe a transaction still to commit; look again next time
            else:
                self._gaps.pop(expected, None)  # a rolled-back insert: the number is never used
            self._floor = expected
            expected += 1

    def publish(self, events: list[Event]) -> None:
        for event in events:
            for callback in list(self._subscribers.values()):
                try:
                    callback(event)
                except Exception:  # one broken page must not stop the others
                    log.exception("event subscriber failed")

    async def tick(self) -> None:
        events = await asyncio.to_thread(self.poll)
        if events:
            self.publish(events)

    def wake(self) -> None:
        """Read the outbox now (callable from any thread): a local commit or a NOTIFY wrote events."""
        loop, wake = self._loop, self._wake
        # Already set: the tick that clears it has not begun, and it will read this commit's events too.
        if loop is not None and wake is not None and not wake.is_set() and not loop.is_closed():
            loop.call_soon_threadsafe(wake.set)

    async def run(self, poll_seconds: float, min_gap_seconds: float = MIN_GAP_SECONDS) -> None:
        """Tail the outbox until cancelled: at once when woken, else every `poll_seconds` (the fallback,
        and all there is for other processes' events on SQLite). Ticks are at least `min_gap_seconds`
        apart, so a storm of commits is read in batches rather than one query per commit."""
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), poll_seconds)
                self._wake.clear()
                started = time.monotonic()
                try:
                    await self.tick()
                except Exception:
                    log.exception("the outbox tail failed; it runs again at the next interval")
                rest = min_gap_seconds - (time.monotonic() - started)
                if rest > 0:
                    await asyncio.sleep(rest)
        finally:
            self._loop = self._wake = None
