"""Sending merchant webhooks: claim due deliveries with a lease, post them, record each outcome.

Any process may send any delivery: a claim leases it (and counts the try) in one short transaction,
the POST happens outside any transaction, and the outcome is recorded in another, only while the lease
is still this process's. A process that dies mid-delivery leaves a lease that expires; the delivery is
then claimed again (at least once; receivers drop repeats by the webhook-id header).

A slow or dead endpoint must not hold up anything else, so what is in flight is bounded: at most
`max_in_flight` deliveries per process, of which at most `per_endpoint` to any one endpoint. A pass
(`pump`) only fills free slots and returns; each POST runs as its own task and, when it ends, calls
`on_slot_free` so the next pass can start at once. Every database step runs through `run_sync` (a
thread), and the sender is async (httpx), so the event loop keeps serving pages and payments while
a POST waits on its timeout.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from domain.clock import Clock, RunSync
from domain.model.webhooks import Claimed, RetrySchedule, Rng, SendResult
from domain.ports import UnitOfWorkFactory, WebhookSender

log = logging.getLogger("paygate.webhooks")


@dataclass(frozen=True)
class DispatchConfig:
    owner: str  # this process's name on the leases it holds
    lease_seconds: float = 60.0  # longer than a POST may take (the sender's timeout)
    max_in_flight: int = 8
    per_endpoint: int = 2


def body_of(claimed: Claimed) -> bytes:
    """The delivery's body: the event's public JSON, the bytes that are signed and sent."""
    return json.dumps(claimed.event.public(), separators=(",", ":"), ensure_ascii=False).encode()


class WebhookDispatcher:
    def __init__(self, uow: UnitOfWorkFactory, sender: WebhookSender, clock: Clock, config: DispatchConfig,
                 schedule: RetrySchedule | None = None, rng: Rng | None = None,
                 run_sync: RunSync = asyncio.to_thread, on_slot_free: Callable[[], None] = lambda: None) -> None:
        self.uow = uow
        self.sender = sender
        self.clock = clock
        self.config = config
        self.schedule = schedule or RetrySchedule()
        self.rng: Rng = rng or random.Random()
        self._run_sync = run_sync
        self.on_slot_free = on_slot_free
        self._tasks: dict[str, asyncio.Task[None]] = {}  # delivery id -> its POST
        self._per_endpoint: Counter[str] = Counter()
        self._pumping = False
        self._again = False
        self.stopping = False

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    def in_flight_to(self, endpoint_id: str) -> int:
        """POSTs in flight to one endpoint (at most `per_endpoint`)."""
        return self._per_endpoint.get(endpoint_id, 0)

    async def pump(self) -> int:
        """Fill the free slots with due deliveries and start their POSTs; how many started. Returns
        without waiting for them. A call while a pass runs makes that pass look once more."""
        if self._pumping:
            self._again = True
            return 0
        self._pumping = True
        started = 0
        try:
            while not self.stopping:
                self._again = False
                free = self.config.max_in_flight - len(self._tasks)
                if free <= 0:
                    break
                claimed = await self._run_sync(self._claim, free, dict(self._per_endpoint))
                for one in claimed:
                    self._start(one)
                started += len(claimed)
                if len(claimed) < free and not self._again:
                    break  # nothing more is due
        finally:
            self._pumping = False
        return started

    async def run_until_idle(self) -> int:
        """Pump and wait, until nothing is due and nothing is in flight (tests, the benchmark); how many
        POSTs were made. Deliveries waiting for a later try are left for then."""
        total = 0
        while True:
            total += await self.pump()
            if not self._tasks:
                return total
            await asyncio.wait(set(self._tasks.values()))

    async def stop(self, timeout: float) -> None:
        """Claim nothing more; give the POSTs in flight `timeout` seconds to end and record their outcome.
        Those cut off keep their lease until it expires, and are then sent again."""
        self.stopping = True
        if self._tasks:
            _done, pending = await asyncio.wait(set(self._tasks.values()), timeout=timeout)
            for task in pending:
                task.cancel()

    # --- one delivery ----------------------------------------------------------------------
    def _start(self, claimed: Claimed) -> None:
        delivery = claimed.delivery
        self._per_endpoint[delivery.endpoint_id] += 1
        task = asyncio.get_running_loop().create_task(self._deliver(claimed), name=f"webhook {delivery.id}")
        self._tasks[delivery.id] = task

        def finished(_task: asyncio.Task[None]) -> None:
            self._tasks.pop(delivery.id, None)
            self._per_endpoint[delivery.endpoint_id] -= 1
            if self._per_endpoint[delivery.endpoint_id] <= 0:
                del self._per_endpoint[delivery.endpoint_id]
            if not self.stopping:
                self.on_slot_free()

        task.add_done_callback(finished)

    async def _deliver(self, claimed: Claimed) -> None:
        try:
            result = await self.sender.send(claimed.url, claimed.secret, claimed.event.id, body_of(claimed))
        except Exception as e:  # the sender answers with a SendResult; anything else is a bug, not an outage
            log.exception("sending delivery %s failed unexpectedly", claimed.delivery.id)
            result = SendResult(error=f"internal error: {type(e).__name__}")
        try:
            await self._run_sync(self._record, claimed.delivery.id, result)
        except Exception:  # the lease runs out and the delivery is sent again: at least once
            log.exception("recording the outcome of delivery %s failed", claimed.delivery.id)

    def _claim(self, free: int, in_flight: dict[str, int]) -> list[Claimed]:
        now = self.clock.now()
        with self.uow() as uow:
            claimed = uow.webhooks.claim_due(now=now, owner=self.config.owner,
                                             lease_until=now + timedelta(seconds=self.config.lease_seconds),
                                             limit=free, in_flight=in_flight, per_endpoint=self.config.per_endpoint)
            uow.commit()
        return claimed

    def _record(self, delivery_id: str, result: SendResult) -> None:
        """The outcome, with the endpoint's count of dead deliveries in a row, in one transaction; nothing
        when the lease is no longer ours (it expired and another process has the delivery, or it was
        deleted with its endpoint)."""
        now = self.clock.now()
        with self.uow() as uow:
            delivery = uow.webhooks.get_delivery(delivery_id, for_update=True)
            if delivery is None or delivery.lease_owner != self.config.owner:
                log.warning("delivery %s: the outcome came after its lease was lost; not recorded", delivery_id)
                return
            endpoint = uow.webhooks.get_endpoint(delivery.endpoint_id, for_update=True)
            if result.ok:
                assert result.status_code is not None, "an ok result has its status code"
                delivery.succeeded(result.status_code, now)
                if endpoint is not None and endpoint.dead_in_a_row:
                    endpoint.delivered()
                    uow.webhooks.update_endpoint(endpoint)
            else:
                delivery.failed(result, self.schedule, now, self.rng)
                if delivery.dead and endpoint is not None:
                    endpoint.died(now)
                    uow.webhooks.update_endpoint(endpoint)
            uow.webhooks.update_delivery(delivery)
            uow.commit()
