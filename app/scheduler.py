"""Background jobs on APScheduler 3: drain the payment queue, tail the outbox.

Started in app.on_startup and stopped in app.on_shutdown; nothing runs at import time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from app.bootstrap import Container
from app.metrics import Sampler
from storage.listen import OutboxListener

log = logging.getLogger("paygate.scheduler")


class Jobs:
    def __init__(self, container: Container, sampler: Sampler | None = None) -> None:
        self.container = container
        self.sampler = sampler
        self.scheduler: AsyncIOScheduler | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._again = False
        self._draining = False
        self._reconciling = False
        self._refunding = False
        self._webhook_passes: set[asyncio.Task[None]] = set()
        self._webhook_wake_queued = False  # a wake is on its way to the loop; more wakes ride on it
        self._drain_passes: set[asyncio.Task[None]] = set()  # drains started by a wake-up
        self.last_drain_tick: float | None = None  # time.time() when a drain pass last finished cleanly
        self.last_drain_error: str | None = None
        self.started_at: float | None = None
        self._tail_task: asyncio.Task[None] | None = None
        self.listener: OutboxListener | None = None

    @property
    def running(self) -> bool:
        return self.scheduler is not None and self.scheduler.running

    def drain_health(self, now: float) -> str:
        """'ok' while the drain job ticks or moves, 'failing' when its last pass raised, 'stalled' when
        it has not finished a pass for a long while, or a running pass made no progress (no claim,
        token or provider answer) for as long: blocked on a lock, say, or a bucket that never grants."""
        if self.last_drain_error is not None:
            return "failing"
        patience = max(10.0, 20 * self.container.settings.drain_interval_seconds)
        if self._draining:  # a long drain (a big queue at 2/s) is work, not a stall, while it moves
            quiet = (self.container.clock.now() - self.container.processor.last_progress).total_seconds()
            return "ok" if quiet <= patience else "stalled"
        last = self.last_drain_tick if self.last_drain_tick is not None else self.started_at
        return "ok" if last is not None and now - last <= patience else "stalled"

    def start(self) -> None:
        self.started_at = time.time()
        self._loop = asyncio.get_running_loop()
        settings = self.container.settings
        self.container.hub.start_from_now()
        # After the hub's start: an endpoint changed in between is both read here and seen as an event.
        self.container.webhook_gate.load()
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self.scheduler.add_job(self._drain, "interval", id="drain", seconds=settings.drain_interval_seconds,
                               max_instances=1, coalesce=True, next_run_time=datetime.now().astimezone())
        # Unknown outcomes whose lease ran out are looked up first; cards held in this process's memory
        # keep their payments held for it (domain/services/card_vault.py).
        self.scheduler.add_job(self._refunds, "interval", id="refunds", seconds=settings.drain_interval_seconds,
                               max_instances=1, coalesce=True)
        self.scheduler.add_job(self._reconcile, "interval", id="reconcile",
                               seconds=max(1.0, settings.lease_seconds / 6), max_instances=1, coalesce=True)
        self.scheduler.add_job(self._hold_cards, "interval", id="hold-cards",
                               seconds=max(1.0, settings.lease_seconds / 3), max_instances=1, coalesce=True)
        # The outbox tail: woken by this process's commits of events and, on PostgreSQL, by other
        # processes' NOTIFY (storage/listen.py); the poll is the fallback.
        self._tail_task = self._loop.create_task(self.container.hub.run(settings.outbox_poll_seconds))
        self.container.db.on_events_committed.append(self.container.hub.wake)
        if not self.container.db.is_sqlite:
            self.listener = OutboxListener(self.container.db.url, self.container.hub.wake)
            self.listener.start()
        self.scheduler.add_job(self._deliver, "interval", id="deliveries", seconds=settings.outbox_poll_seconds * 2,
                               max_instances=1, coalesce=True)
        if self.sampler is not None:
            self.scheduler.add_job(self._sample, "interval", id="metrics-sample", seconds=2.0, max_instances=1,
                                   coalesce=True)
        # Merchant webhooks: this pass only fills free slots; each POST runs as its own task, and a new
        # public event or a freed slot wakes a pass at once (wake_webhooks).
        self.scheduler.add_job(self._webhooks, "interval", id="webhooks", seconds=settings.webhook_poll_seconds,
                               max_instances=1, coalesce=True)
        self.scheduler.start()
        self.container.wake_drain.append(self.wake)
        self.container.wake_webhooks.append(self.wake_webhooks)

    def stop(self) -> None:
        self.container.processor.stop()
        self.container.webhook_dispatcher.stopping = True  # web.py's shutdown gives its POSTs a moment
        if self.wake_webhooks in self.container.wake_webhooks:
            self.container.wake_webhooks.remove(self.wake_webhooks)
        if self.wake in self.container.wake_drain:
            self.container.wake_drain.remove(self.wake)
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self.container.hub.wake in self.container.db.on_events_committed:
            self.container.db.on_events_committed.remove(self.container.hub.wake)
        if self._tail_task is not None:
            self._tail_task.cancel()
        if self.listener is not None:
            self.listener.stop(timeout=0)  # a daemon thread; it ends at its next check

    def wake(self) -> None:
        """Run the drain job now (callable from any thread), so an idle gateway starts at once."""
        self._again = True
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._run_now)

    def _run_now(self) -> None:
        # A running drain sees `_again` and loops; rescheduling it would only be skipped by
        # APScheduler (max_instances=1) with a warning in the log for every submitted payment.
        if self.scheduler is None or not self.scheduler.running:
            return
        if not self._draining:
            # Started here, not through APScheduler's job: its dispatch takes several turns of a
            # loaded event loop, which a submitted payment's latency would pay (docs/benchmarks.md).
            task = asyncio.get_running_loop().create_task(self._drain())
            self._drain_passes.add(task)
            task.add_done_callback(self._drain_passes.discard)
        job = None if self._refunding else self.scheduler.get_job("refunds")
        if job is not None:
            job.modify(next_run_time=datetime.now().astimezone())

    def wake_webhooks(self) -> None:
        """Run a webhook pass now (callable from any thread): a delivery is due or a slot came free.
        Wakes before the loop gets to the first are one: the pass it starts reads what they announced."""
        if self._webhook_wake_queued:
            return
        if self._loop is not None and not self._loop.is_closed():
            self._webhook_wake_queued = True
            self._loop.call_soon_threadsafe(self._pump_webhooks)

    def _pump_webhooks(self) -> None:
        self._webhook_wake_queued = False
        if self.scheduler is None or not self.scheduler.running:
            return
        # Not through APScheduler: it would skip (and log) a run while the interval's pass runs; a
        # pass that is running already just looks once more (WebhookDispatcher.pump).
        task = asyncio.get_running_loop().create_task(self._webhooks())
        self._webhook_passes.add(task)
        task.add_done_callback(self._webhook_passes.discard)

    async def _webhooks(self) -> None:
        await _guarded(self.container.webhook_dispatcher.pump(), "webhook deliveries")

    async def idle(self, timeout: float) -> bool:
        """Wait (at most `timeout` seconds) for a running drain pass to end; whether it did."""
        deadline = time.monotonic() + timeout
        while self._busy and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return not self._busy

    @property
    def _busy(self) -> bool:
        return self._draining or self._reconciling or self._refunding

    async def _drain(self) -> None:
        if self._draining:  # one pass at a time (a wake-up's or the interval's); the running one looks again
            self._again = True
            return
        self._draining = True
        try:
            while True:
                self._again = False
                await self.container.processor.drain()
                self.last_drain_tick, self.last_drain_error = time.time(), None
                if not self._again:
                    break
        except asyncio.CancelledError:
            return  # the app is stopping: the loop cancels what runs; nothing to report
        except Exception as e:
            self.last_drain_error = type(e).__name__
            log.exception("drain job failed; it runs again at the next interval")
        finally:
            self._draining = False

    async def _refunds(self) -> None:
        self._refunding = True
        try:
            await _guarded(self.container.refund_processor.drain(), "the refund drain")
        finally:
            self._refunding = False

    async def _reconcile(self) -> None:
        self._reconciling = True
        try:
            await _guarded(self.container.processor.reconcile(), "reconciliation")
        finally:
            self._reconciling = False

    async def _hold_cards(self) -> None:
        await _guarded(asyncio.to_thread(self.container.processor.hold_cards),
                       "renewing the holds of payments with cards in memory")

    async def _sample(self) -> None:
        assert self.sampler is not None, "start() schedules this job only with a sampler"
        await _guarded(asyncio.to_thread(self.sampler.sample), "metrics sampling")

    async def _deliver(self) -> None:
        await _guarded(asyncio.to_thread(self.container.deliveries.run_all, 200), "event deliveries")


async def _guarded(work: Awaitable[object], what: str) -> None:
    """Run one pass of a periodic job: a failure is logged and the next interval tries again."""
    try:
        await work
    except asyncio.CancelledError:
        return  # the app is stopping: the loop cancels what runs; nothing to report
    except Exception:
        log.exception("%s failed; it runs again at the next interval", what)
