"""Per-customer API limits: the bucket's decisions on a fake clock, the headers, and the API's 429."""

from __future__ import annotations

import pytest

from app.config import Settings
from app.customer_limits import rate_limit_headers
from domain.clock import FakeClock
from domain.model.customer_limits import CustomerLimitPolicy, InMemoryCustomerLimiter

DEFAULTS = CustomerLimitPolicy()


def test_the_defaults_are_five_a_second_with_a_burst_of_ten(monkeypatch: pytest.MonkeyPatch):
    for name in ("PAYGATE_CUSTOMER_RATE_PER_SECOND", "PAYGATE_CUSTOMER_BURST", "PAYGATE_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)

    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    assert (settings.customer_rate_per_second, settings.customer_burst, settings.redis_url) == (5.0, 10, None)
    assert (DEFAULTS.rate_per_second, DEFAULTS.burst, DEFAULTS.window_seconds) == (5.0, 10, 2)


def test_a_user_gets_the_burst_at_once_then_one_submission_per_fifth_of_a_second():
    clock = FakeClock()
    limiter = InMemoryCustomerLimiter(DEFAULTS, clock)

    burst = [limiter.check("usr_a") for _ in range(10)]
    refused = limiter.check("usr_a")
    clock.advance(0.2)
    after_a_fifth = limiter.check("usr_a")
    again = limiter.check("usr_a")

    assert all(d.allowed for d in burst)
    assert [d.remaining for d in burst] == [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]
    assert not refused.allowed and refused.retry_after == 1 and refused.remaining == 0
    assert after_a_fifth.allowed
    assert not again.allowed


def test_one_users_storm_leaves_another_users_bucket_full():
    limiter = InMemoryCustomerLimiter(DEFAULTS, FakeClock())

    for _ in range(50):
        limiter.check("usr_storm")
    other = limiter.check("usr_calm")

    assert other.allowed and other.remaining == 9


def test_a_refusal_takes_nothing_so_the_wait_it_announces_is_the_wait_there_is():
    clock = FakeClock()
    limiter = InMemoryCustomerLimiter(CustomerLimitPolicy(rate_per_second=0.5, burst=1), clock)
    limiter.check("usr_a")

    refusals = [limiter.check("usr_a") for _ in range(5)]
    clock.advance(1.999)
    still_early = limiter.check("usr_a")
    clock.advance(0.001)
    on_time = limiter.check("usr_a")

    assert [d.retry_after for d in refusals] == [2, 2, 2, 2, 2]
    assert not still_early.allowed and still_early.retry_after == 1  # whole seconds, never 0
    assert on_time.allowed


def test_a_token_given_back_is_never_more_than_the_burst():
    limiter = InMemoryCustomerLimiter(CustomerLimitPolicy(rate_per_second=1, burst=2), FakeClock())

    limiter.give_back("usr_a")
    limiter.give_back("usr_a")

    assert limiter.peek("usr_a").remaining == 2
    limiter.check("usr_a")
    limiter.give_back("usr_a")
    assert limiter.peek("usr_a").remaining == 2


def test_peeking_takes_nothing():
    limiter = InMemoryCustomerLimiter(CustomerLimitPolicy(rate_per_second=1, burst=2), FakeClock())

    for _ in range(5):
        limiter.peek("usr_a")

    assert limiter.check("usr_a").remaining == 1


def test_the_headers_follow_the_ietf_draft():
    clock = FakeClock()
    limiter = InMemoryCustomerLimiter(DEFAULTS, clock)
    first = limiter.check("usr_a")
    for _ in range(9):
        limiter.check("usr_a")
    refused = limiter.check("usr_a")

    assert rate_limit_headers(limiter.peek("usr_fresh"))["RateLimit"] == '"customer";r=10;t=0'  # full: no more to come
    assert rate_limit_headers(first) == {"RateLimit-Policy": '"customer";q=10;w=2', "RateLimit": '"customer";r=9;t=1'}
    assert rate_limit_headers(refused) == {"RateLimit-Policy": '"customer";q=10;w=2',
                                           "RateLimit": '"customer";r=0;t=1'}


def test_t_is_the_whole_seconds_until_one_more_submission_is_available():
    clock = FakeClock()
    limiter = InMemoryCustomerLimiter(CustomerLimitPolicy(rate_per_second=0.25, burst=4), clock)
    limiter.check("usr_a")
    limiter.check("usr_a")  # 2 left; the next token in 4 s

    clock.advance(1.5)
    decision = limiter.peek("usr_a")

    assert (decision.remaining, decision.next_in) == (2, 3)  # 2.5 s to go, rounded up


def test_a_policy_that_admits_nothing_is_refused():
    with pytest.raises(ValueError):
        CustomerLimitPolicy(rate_per_second=0, burst=10)
    with pytest.raises(ValueError):
        CustomerLimitPolicy(rate_per_second=5, burst=0)
