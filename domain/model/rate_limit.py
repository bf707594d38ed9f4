"""The token bucket that guards every provider call, and its in-memory strategy.

Tokens are counted in millionths and time in microseconds, so the arithmetic is exact
integer arithmetic and two strategies (memory, database row) agree to the last token.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

from domain.clock import Clock

MICRO = 1_000_000


def epoch_us(dt: datetime) -> int:
    return int(dt.timestamp()) * MICRO + dt.microsecond


@dataclass(frozen=True)
class BucketConfig:
    capacity: int = 2
    refill_per_second: float = 2.0
    # Held back from each grant (in tokens) so the jitter between a grant and the provider's
    # receipt of the call cannot make the calls look faster than the limit. It delays only
    # the second token of a burst; the sustained rate stays refill_per_second.
    safety_margin: float = 0.0

    @property
    def capacity_micro(self) -> int:
        return self.capacity * MICRO

    @property
    def rate_micro_per_second(self) -> int:
        return round(self.refill_per_second * MICRO)

    @property
    def threshold_micro(self) -> int:
        # Never above the capacity: a bucket of one token with a margin would never grant at all.
        return min(MICRO + round(self.safety_margin * MICRO), max(self.capacity_micro, MICRO))


@dataclass(frozen=True)
class BucketState:
    tokens_micro: int
    updated_us: int


@dataclass(frozen=True)
class Grant:
    granted: bool
    state: BucketState
    wait_seconds: float  # 0 when granted; otherwise how long until a token is due
    at_us: int = 0  # when the bucket was read, on the limiter's clock


def refill(state: BucketState, now_us: int, config: BucketConfig) -> BucketState:
    """Tokens at `now_us`. A clock that went backwards adds nothing and does not rewind the bucket."""
    elapsed_us = now_us - state.updated_us
    if elapsed_us <= 0:
        return state
    added = elapsed_us * config.rate_micro_per_second // MICRO
    if added == 0:
        return state  # keep the fractional time for the next call
    tokens = min(config.capacity_micro, state.tokens_micro + added)
    if tokens == config.capacity_micro:
        return BucketState(tokens, now_us)
    # Advance the timestamp only by the time the added tokens account for, so no fraction is lost.
    # Rounded up, so time is never counted twice and the bucket never over-grants.
    used_us = -(-added * MICRO // config.rate_micro_per_second)
    return BucketState(tokens, state.updated_us + used_us)


def take(state: BucketState, now_us: int, config: BucketConfig) -> Grant:
    current = refill(state, now_us, config)
    if current.tokens_micro >= config.threshold_micro:
        return Grant(True, BucketState(current.tokens_micro - MICRO, current.updated_us), 0.0, now_us)
    missing = config.threshold_micro - current.tokens_micro
    wait = missing / config.rate_micro_per_second
    return Grant(False, current, max(wait, 0.001), now_us)


def give_back(state: BucketState, now_us: int, config: BucketConfig) -> BucketState:
    """Return one granted token that was never used (it went stale before its call). The bucket ends
    exactly as if the token had not been taken: refilled to now, one token added, capped at capacity."""
    current = refill(state, now_us, config)
    tokens = min(config.capacity_micro, current.tokens_micro + MICRO)
    return BucketState(tokens, now_us if tokens == config.capacity_micro else current.updated_us)


def full_bucket(now_us: int, config: BucketConfig) -> BucketState:
    return BucketState(config.capacity_micro, now_us)


class InMemoryRateLimiter:
    """One process's bucket; for a single process and for unit tests."""

    def __init__(self, config: BucketConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self._state = full_bucket(epoch_us(clock.now()), config)
        self._lock = threading.Lock()

    def try_acquire(self) -> Grant:
        with self._lock:
            grant = take(self._state, epoch_us(self.clock.now()), self.config)
            self._state = grant.state
            return grant

    def give_back(self) -> None:
        with self._lock:
            self._state = give_back(self._state, epoch_us(self.clock.now()), self.config)

    def available(self) -> float:
        with self._lock:
            self._state = refill(self._state, epoch_us(self.clock.now()), self.config)
            return self._state.tokens_micro / MICRO
