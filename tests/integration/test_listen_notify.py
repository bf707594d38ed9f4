"""Events without polling: a commit that writes outbox events wakes the tails at once.

On PostgreSQL the transaction sends NOTIFY and another "process" (another Database, its own hub and
listener) reads the event although its poll is 60 s; on SQLite (and locally on both) the unit of work
calls the process's own wake-up after the commit.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime

import pytest

from app.live import EventHub
from domain.model.events import Event
from storage.db import Database
from storage.listen import OutboxListener
from storage.uow import SqlUnitOfWorkFactory
from tests.conftest import postgres_url
from tests.integration.pg import SKIP_REASON, fresh_postgres_schema

NEVER = 60.0  # a poll interval no test waits out: only a wake-up can deliver in time
PATIENCE = 10.0


def commit_event(db: Database, kind: str = "test.happened", roll_back: bool = False) -> Event:
    event = Event(kind, {"n": 1}, datetime.now(UTC))
    with SqlUnitOfWorkFactory(db)() as uow:
        uow.publish(event)
        if not roll_back:
            uow.commit()
    return event


@pytest.fixture
def pg_url() -> Iterator[str]:
    if postgres_url() is None:
        pytest.skip(SKIP_REASON)
    with fresh_postgres_schema() as url:
        yield url


@pytest.fixture
def two_processes(pg_url: str) -> Iterator[tuple[Database, Database]]:
    a, b = Database(pg_url), Database(pg_url)
    a.create_all()
    yield a, b
    a.dispose()
    b.dispose()


class Tail:
    """Another process's outbox tail: a hub on its own Database, woken only by its listener."""

    def __init__(self, db: Database) -> None:
        self.hub = EventHub(SqlUnitOfWorkFactory(db))
        self.arrived: list[str] = []
        self.news = asyncio.Event()
        self.hub.subscribe(self._seen)
        self.listener = OutboxListener(db.url, self.hub.wake, check_seconds=0.2)

    def _seen(self, event: Event) -> None:
        self.arrived.append(event.id)
        self.news.set()

    async def until(self, check: Callable[[], bool]) -> None:
        async with asyncio.timeout(PATIENCE):
            while not check():
                self.news.clear()
                await self.news.wait()


@contextlib.asynccontextmanager
async def tailing(db: Database) -> AsyncIterator[Tail]:
    tail = Tail(db)
    tail.hub.start_from_now()
    task = asyncio.create_task(tail.hub.run(NEVER))
    tail.listener.start()
    await asyncio.to_thread(tail.listener.connected.wait, PATIENCE)
    try:
        yield tail
    finally:
        tail.listener.stop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_an_event_committed_by_one_process_reaches_another_process_without_its_poll(two_processes):
    a, b = two_processes
    async with tailing(b) as tail:

        event = await asyncio.to_thread(commit_event, a)

        await tail.until(lambda: event.id in tail.arrived)
    assert tail.arrived == [event.id]


async def test_a_rolled_back_transaction_announces_nothing(two_processes):
    a, b = two_processes
    async with tailing(b) as tail:
        before = tail.listener.notifications

        await asyncio.to_thread(commit_event, a, "test.rolled_back", True)
        kept = await asyncio.to_thread(commit_event, a)
        await tail.until(lambda: kept.id in tail.arrived)

    assert tail.listener.notifications == before + 1  # the committed one only
    assert tail.arrived == [kept.id]


async def test_the_listener_reconnects_after_losing_its_connection_and_catches_up(two_processes):
    a, b = two_processes
    async with tailing(b) as tail:
        tail.listener.drop_connection()
        while_away = await asyncio.to_thread(commit_event, a)

        await tail.until(lambda: while_away.id in tail.arrived)  # the catch-up read after reconnecting
        assert await asyncio.to_thread(tail.listener.connected.wait, PATIENCE)
        after = await asyncio.to_thread(commit_event, a)
        await tail.until(lambda: after.id in tail.arrived)

    assert tail.arrived == [while_away.id, after.id]


def test_a_commit_with_events_wakes_this_process_and_one_without_does_not(db: Database):
    woken: list[str] = []
    db.on_events_committed.append(lambda: woken.append("wake"))

    commit_event(db)
    with SqlUnitOfWorkFactory(db)() as uow:  # a write with no event
        uow.commit()
    commit_event(db, roll_back=True)

    assert woken == ["wake"]
