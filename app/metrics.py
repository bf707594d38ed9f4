"""Live numbers for the System Metrics page: samples over time, and summaries from the database."""

from __future__ import annotations

import os
import time
from collections import Counter, deque
from dataclasses import dataclass
from datetime import datetime, timedelta

import psutil

from app.bootstrap import Container
from domain.model.statuses import QUEUED, PaymentStatus


@dataclass(frozen=True)
class Sample:
    at: datetime
    queue: int  # pending + retrying + processing
    tokens: float


class Sampler:
    """Queue length and available tokens, sampled by a scheduler job (about 10 minutes kept)."""

    def __init__(self, container: Container, keep: int = 300) -> None:
        self.container = container
        self.samples: deque[Sample] = deque(maxlen=keep)

    def sample(self) -> Sample:
        with self.container.uow(read_only=True) as uow:
            counts = uow.payments.count_by_status()
        sample = Sample(self.container.clock.now(), sum(counts.get(s, 0) for s in QUEUED),
                        round(self.container.limiter.available(), 3))
        self.samples.append(sample)
        return sample


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
