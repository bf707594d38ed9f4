"""Live numbers for the System Metrics page: samples over time, and summaries from the database."""

from __future__ import annotations

import os
import time
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

import psutil

from app.bootstrap import Container
from domain.model.providers import Attempt, CircuitState
from domain.model.statuses import QUEUED, PaymentStatus
from domain.ports import UnitOfWorkFactory
from domain.services.processor import Route


@dataclass(frozen=True)
class Sample:
    at: datetime
    queue: int  # pending + retrying + processing
    tokens: float  # the primary provider's bucket
    buckets: dict[str, float] = field(default_factory=dict)  # every provider's bucket, in routing order


def bucket_levels(routes: Sequence[Route]) -> dict[str, float]:
    """The tokens in each provider's own bucket now, in routing order (blocking: the buckets may be rows)."""
    return {route.name: round(route.limiter.available(), 3) for route in routes}


class Sampler:
    """Queue length and each provider's available tokens, sampled by a scheduler job (about 10 minutes kept)."""

    def __init__(self, container: Container, keep: int = 300) -> None:
        self.container = container
        self.samples: deque[Sample] = deque(maxlen=keep)

    def sample(self) -> Sample:
        with self.container.uow(read_only=True) as uow:
            counts = uow.payments.count_by_status()
        buckets = bucket_levels(self.container.routes)
        primary = buckets[self.container.routes[0].name]
        sample = Sample(self.container.clock.now(), sum(counts.get(s, 0) for s in QUEUED), primary, buckets)
        self.samples.append(sample)
        return sample


class Role(StrEnum):
    PRIMARY = "primary"
    """The first provider in routing order: every payment goes there while its circuit is closed."""
    FALLBACK = "fallback"
    """A later provider: it takes payments only when those before it cannot."""


@dataclass(frozen=True)
class ProviderStatus:
    """One provider as the System Metrics page shows it."""

    name: str
    role: Role
    circuit: CircuitState
    tokens: float
    capacity: int
    last_error: tuple[str, str, datetime] | None  # code, message, when
    refill_rate: float = 0.0


def provider_statuses(routes: Sequence[Route]) -> list[ProviderStatus]:
    """Every provider in routing order: its circuit, its own bucket and its last error (blocking: the
    circuits and buckets are database rows shared by the fleet)."""
    return [ProviderStatus(route.name, Role.PRIMARY if i == 0 else Role.FALLBACK, route.circuit.state(),
                           round(route.limiter.available(), 3), route.limiter.config.capacity,
                           route.circuit.last_error(), route.limiter.config.refill_per_second)
            for i, route in enumerate(routes)]


def latencies(uow: UnitOfWorkFactory, since: datetime, limit: int) -> dict[str, list[Attempt]]:
    """The newest `limit` finished provider calls started after `since`, whichever process made them,
    by provider, each oldest first."""
    with uow(read_only=True) as u:
        recent = u.attempts.recent(since, limit)
    by_provider: dict[str, list[Attempt]] = {}
    for attempt in reversed(recent):
        if attempt.latency_ms is not None:
            by_provider.setdefault(attempt.provider, []).append(attempt)
    return by_provider


def per_minute(container: Container, minutes: int = 30) -> tuple[list[str], list[int], list[int]]:
    """Finished payments per minute by outcome over the last `minutes` (labels, completed, failed)."""
    now = container.clock.now().replace(second=0, microsecond=0)
    start = now - timedelta(minutes=minutes - 1)
    with container.uow(read_only=True) as uow:
        finished = uow.payments.finished_since(start)
    buckets = Counter((at.replace(second=0, microsecond=0), status) for at, status in finished)
    labels, completed, failed = [], [], []
    for i in range(minutes):
        minute = start + timedelta(minutes=i)
        labels.append(minute.strftime("%H:%M"))
        completed.append(buckets[(minute, PaymentStatus.COMPLETED)])
        failed.append(buckets[(minute, PaymentStatus.FAILED)])
    return labels, completed, failed


def system_info(container: Container) -> dict[str, float]:
    return {"uptimeSeconds": round(time.time() - container.started_at, 1),
            "memoryRssBytes": psutil.Process(os.getpid()).memory_info().rss}
