"""Per-customer API limits at the edges: the strategy (Redis or the database), the check around a
submission, and the IETF RateLimit headers.

Every submission of a payment or an order (the API and the New Payment page) takes a token from
its user's bucket before anything is stored; without one it is refused (429 `rate_limited`) and
nothing changes. A request that replays an earlier one (same user, same idempotency key) changes
nothing either, so it is never refused, and the token it may have taken is given back.

The headers follow draft-ietf-httpapi-ratelimit-headers (revision 10, and 11, which keeps its syntax;
structured fields, the policy's name a String):
`RateLimit-Policy: "customer";q=<burst>;w=<seconds to refill an empty bucket>` and
`RateLimit: "customer";r=<submissions left now>;t=<seconds until one more is available>` (so `t`
is Retry-After when nothing is left, and 0 when the bucket is full).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import redis

from domain.clock import Clock
from domain.model.customer_limits import (
    CustomerLimiter,
    CustomerLimitPolicy,
    CustomerLimitReached,
    LimitDecision,
    decision_of,
)
from domain.model.errors import RateLimited
from domain.model.rate_limit import BucketState, epoch_us
from storage.customer_limits import DbCustomerLimiter
from storage.db import Database

if TYPE_CHECKING:
    from app.bootstrap import Container
    from app.config import Settings

log = logging.getLogger("paygate.limits")
T = TypeVar("T")

KEY_PREFIX = "paygate:customer-limit:"

# One atomic step on the Redis server: refill the user's bucket (the same integer arithmetic as
# domain/model/rate_limit.py's refill), then take a token, give one back or only look.
# KEYS[1] the user's hash; ARGV: now_us, capacity_micro, rate_micro_per_second, operation.
# Returns {granted (0/1), tokens_micro, updated_us} after the operation.
BUCKET_SCRIPT = """
local now = tonumber(ARGV[1])
local cap = tonumber(ARGV[2])
local rate = tonumber(ARGV[3])
local op = ARGV[4]
local stored = redis.call('HMGET', KEYS[1], 't', 'u')
local tokens = tonumber(stored[1])
local updated = tonumber(stored[2])
if tokens == nil or updated == nil then
  tokens = cap
  updated = now
end
if tokens > cap then tokens = cap end
local elapsed = now - updated
if elapsed > 0 then
  local added = math.floor(elapsed * rate / 1000000)
  if added > 0 then
    if tokens + added >= cap then
      tokens = cap
      updated = now
    else
      tokens = tokens + added
      updated = updated + math.ceil(added * 1000000 / rate)
    end
  end
end
local granted = 1
if op == 'take' then
  if tokens >= 1000000 then
    tokens = tokens - 1000000
  else
    granted = 0
  end
elseif op == 'give' then
  tokens = math.min(cap, tokens + 1000000)
end
if granted == 1 and op ~= 'peek' then
  redis.call('HSET', KEYS[1], 't', string.format('%d', tokens), 'u', string.format('%d', updated))
  -- A missing key is a full bucket: keep the hash only until it would be full again.
  redis.call('PEXPIRE', KEYS[1], math.ceil((cap - tokens) / rate * 1000) + 1000)
end
return {granted, string.format('%d', tokens), string.format('%d', updated)}
"""


class RedisCustomerLimiter:
    """The buckets in Redis (PAYGATE_REDIS_URL): one hash per user, changed only by BUCKET_SCRIPT.

    Time is the injected clock's (processes share the wall clock, as with the database row). If
    Redis cannot be reached, submissions are let through and the failure is logged: a limit that
    cannot be checked does not stop payments.
    """

    def __init__(self, client: redis.Redis, policy: CustomerLimitPolicy, clock: Clock,
                 prefix: str = KEY_PREFIX) -> None:
        self.client = client
        self.policy = policy
        self.clock = clock
        self.prefix = prefix
        self._script = client.register_script(BUCKET_SCRIPT)

    def _run(self, user_id: str, operation: str) -> tuple[bool, BucketState]:
        config = self.policy.bucket
        granted, tokens, updated = self._script(
            keys=[self.prefix + user_id],
            args=[epoch_us(self.clock.now()), config.capacity_micro, config.rate_micro_per_second, operation])
        return bool(int(granted)), BucketState(int(tokens), int(updated))

    def _unchecked(self, error: redis.RedisError) -> LimitDecision:
        log.warning("the customer limit could not be checked in Redis (%s); the request is let through", error)
        return LimitDecision(True, 0, 0, 1, self.policy)

    def check(self, user_id: str) -> LimitDecision:
        try:
            granted, state = self._run(user_id, "take")
        except redis.RedisError as e:
            return self._unchecked(e)
        return decision_of(state, granted, self.policy)

    def peek(self, user_id: str) -> LimitDecision:
        try:
            _, state = self._run(user_id, "peek")
        except redis.RedisError as e:
            return self._unchecked(e)
        return decision_of(state, True, self.policy)

    def give_back(self, user_id: str) -> None:
        try:
            self._run(user_id, "give")
        except redis.RedisError as e:
            log.warning("a replay's token could not be given back in Redis (%s)", e)


def policy_of(settings: Settings) -> CustomerLimitPolicy:
    return CustomerLimitPolicy(settings.customer_rate_per_second, settings.customer_burst)


def build_customer_limiter(settings: Settings, db: Database, clock: Clock) -> CustomerLimiter:
    """Redis when PAYGATE_REDIS_URL is set, else the shared database: either way every process agrees."""
    policy = policy_of(settings)
    if settings.redis_url:
        return RedisCustomerLimiter(redis.Redis.from_url(settings.redis_url, socket_timeout=2.0,
                                                         socket_connect_timeout=2.0), policy, clock)
    return DbCustomerLimiter(db, policy, clock)


def rate_limit_headers(decision: LimitDecision) -> dict[str, str]:
    """The draft's two fields (the policy's name is a constant identifier, not data from a request)."""
    policy = decision.policy
    return {"RateLimit-Policy": f'"{policy.name}";q={policy.burst};w={policy.window_seconds}',
            "RateLimit": f'"{policy.name}";r={decision.remaining};t={decision.next_in}'}


class SubmissionRateLimited(RateLimited):
    """Too many submissions from one user; the message is a sentence for people and API clients alike."""

    def __init__(self, decision: LimitDecision) -> None:
        seconds = decision.retry_after
        wait = "1 second" if seconds == 1 else f"{seconds} seconds"
        super().__init__(seconds, f"You are submitting payments and orders too quickly; wait {wait} and "
                                  "try again.")
        self.decision = decision

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_seconds), **rate_limit_headers(self.decision)}


def _used_key(container: Container, user_id: str, key: str | None) -> bool:
    """Whether `key` already belongs to one of the user's submissions (so this request changes nothing)."""
    if not key:
        return False
    with container.uow(read_only=True) as uow:
        return uow.idempotency.get(user_id, key) is not None


def within_limit(container: Container, user_id: str, key: str | None,
                 submit: Callable[[], tuple[T, bool]]) -> tuple[T, bool, LimitDecision]:
    """Run `submit` (-> (resource, replayed)) if the user may submit now; else SubmissionRateLimited.

    The token is taken before `submit` stores anything. A replay is never refused: when the bucket
    is empty, a key the user has used before goes through without a token (a read, paid only on the
    refused path); when a token was taken for what turned out to be a replay, it is given back.
    Returns the decision whose numbers the response's headers carry.

    With the database's buckets on SQLite, the token is taken in the submission's own transaction instead
    (storage/customer_limits.py, in_next_commit): a replay fails on its key before it spends one, and
    a refusal rolls that transaction back."""
    limiter = container.customer_limits
    assert limiter is not None, "bootstrap.build gives every container its limiter"
    if isinstance(limiter, DbCustomerLimiter) and limiter.in_transaction:
        with limiter.in_next_commit(user_id) as pending:
            try:
                resource, replayed = submit()
            except CustomerLimitReached as refused:
                raise SubmissionRateLimited(refused.decision) from None
        taken = pending.decision
        if replayed or taken is None:  # nothing stored, nothing spent: the bucket as it is
            return resource, replayed, limiter.peek(user_id)
        return resource, replayed, taken
    decision = limiter.check(user_id)
    if not decision.allowed and not _used_key(container, user_id, key):
        raise SubmissionRateLimited(decision)
    resource, replayed = submit()
    if replayed and decision.allowed:
        limiter.give_back(user_id)
    if replayed or not decision.allowed:
        decision = limiter.peek(user_id)
    return resource, replayed, decision


def key_of(header_key: str | None, body_key: object) -> str | None:
    """The request's idempotency key as the services resolve it (header or body; they check agreement)."""
    if header_key:
        return header_key
    return body_key if isinstance(body_key, str) and body_key else None
