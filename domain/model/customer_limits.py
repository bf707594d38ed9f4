"""How fast one user may submit payments and orders: a token bucket per user, and what it decided.

The bucket arithmetic is the provider bucket's (`refill`/`take` in rate_limit.py: integer tokens in
millionths, time in microseconds), so the in-memory, database and Redis strategies agree exactly.
A decision carries what the HTTP edge needs for `Retry-After` and the IETF RateLimit headers, in
whole seconds as those headers want them.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Protocol

from domain.clock import Clock
from domain.model.rate_limit import MICRO, BucketConfig, BucketState, epoch_us, full_bucket, refill, take


@dataclass(frozen=True)
class CustomerLimitPolicy:
    """Each user may submit `rate_per_second` payments and orders a second, `burst` at once."""

    rate_per_second: float = 5.0
    burst: int = 10
    name: str = "customer"  # the policy's name in the RateLimit headers

    def __post_init__(self) -> None:
        if self.rate_per_second <= 0 or self.burst < 1:
            raise ValueError("a customer limit needs a rate above 0 and a burst of at least 1")

    @property
    def bucket(self) -> BucketConfig:
        return BucketConfig(capacity=self.burst, refill_per_second=self.rate_per_second)

    @property
    def window_seconds(self) -> int:
        """The window of the policy as the headers state it: an empty bucket is full again after it."""
        return max(1, math.ceil(self.burst / self.rate_per_second))


@dataclass(frozen=True)
class LimitDecision:
    allowed: bool
    remaining: int  # whole submissions the user may make right now, after this one
    retry_after: int  # whole seconds (at least 1) until a refused user may submit again; 0 when allowed
    # Whole seconds until one more submission becomes available (0 when the bucket is full): the
    # draft's `t`, "the number of seconds until additional quota ... is made available".
    next_in: int
    policy: CustomerLimitPolicy


class CustomerLimitReached(Exception):
    """Raised inside a submission's transaction when its user's bucket is empty: the transaction is
    rolled back, so nothing of the submission is stored (app/customer_limits.py answers 429)."""

    def __init__(self, decision: LimitDecision) -> None:
        super().__init__("the customer's submission limit is reached")
        self.decision = decision


def _seconds(micro_tokens: int, config: BucketConfig) -> int:
    """Whole seconds, rounded up, for `micro_tokens` to flow into the bucket."""
    if micro_tokens <= 0:
        return 0
    return -(-micro_tokens // config.rate_micro_per_second)


def decision_of(state: BucketState, allowed: bool, policy: CustomerLimitPolicy) -> LimitDecision:
    """What `state` (the bucket just after the request was decided) means for the caller."""
    config = policy.bucket
    remaining = state.tokens_micro // MICRO
    if not allowed:
        retry_after = max(1, _seconds(MICRO - state.tokens_micro, config))
        return LimitDecision(False, 0, retry_after, retry_after, policy)
    if state.tokens_micro >= config.capacity_micro:
        return LimitDecision(True, remaining, 0, 0, policy)
    next_whole = (remaining + 1) * MICRO
    return LimitDecision(True, remaining, 0, max(1, _seconds(next_whole - state.tokens_micro, config)), policy)


def admit(state: BucketState, now_us: int, policy: CustomerLimitPolicy) -> tuple[LimitDecision, BucketState]:
    """Take one token for a submission; the state to store (unchanged but refilled when refused)."""
    grant = take(state, now_us, policy.bucket)
    return decision_of(grant.state, grant.granted, policy), grant.state


def peek(state: BucketState, now_us: int, policy: CustomerLimitPolicy) -> LimitDecision:
    """The decision's numbers without taking a token (for a replay, which spends nothing)."""
    return decision_of(refill(state, now_us, policy.bucket), True, policy)


def give_back(state: BucketState, now_us: int, policy: CustomerLimitPolicy) -> BucketState:
    """The token of a request that turned out to be a replay, returned (never above the burst)."""
    current = refill(state, now_us, policy.bucket)
    return BucketState(min(policy.bucket.capacity_micro, current.tokens_micro + MICRO), current.updated_us)


def stored(tokens_micro: int, updated_us: int, policy: CustomerLimitPolicy) -> BucketState:
    """A stored bucket, clipped to the burst (which settings may have lowered since it was written)."""
    return BucketState(min(tokens_micro, policy.bucket.capacity_micro), updated_us)


class CustomerLimiter(Protocol):
    """Where the buckets of all users live (memory, the database, Redis): every strategy decides the same."""

    policy: CustomerLimitPolicy

    def check(self, user_id: str) -> LimitDecision:
        """Take one of `user_id`'s tokens, or refuse; a refusal changes nothing that is stored."""
        ...

    def peek(self, user_id: str) -> LimitDecision:
        """The numbers of `user_id`'s bucket now, taking nothing."""
        ...

    def give_back(self, user_id: str) -> None:
        """Return a token that `check` took for a request that turned out to change nothing (a replay)."""
        ...


class InMemoryCustomerLimiter:
    """One process's buckets: for unit tests and a single process that wants no shared store."""

    def __init__(self, policy: CustomerLimitPolicy, clock: Clock) -> None:
        self.policy = policy
        self.clock = clock
        self._buckets: dict[str, BucketState] = {}
        self._lock = threading.Lock()

    def _state(self, user_id: str, now_us: int) -> BucketState:
        return self._buckets.get(user_id) or full_bucket(now_us, self.policy.bucket)

    def check(self, user_id: str) -> LimitDecision:
        with self._lock:
            now_us = epoch_us(self.clock.now())
            decision, state = admit(self._state(user_id, now_us), now_us, self.policy)
            if decision.allowed:
                self._buckets[user_id] = state
            return decision

    def peek(self, user_id: str) -> LimitDecision:
        with self._lock:
            now_us = epoch_us(self.clock.now())
            return peek(self._state(user_id, now_us), now_us, self.policy)

    def give_back(self, user_id: str) -> None:
        with self._lock:
            now_us = epoch_us(self.clock.now())
            self._buckets[user_id] = give_back(self._state(user_id, now_us), now_us, self.policy)
