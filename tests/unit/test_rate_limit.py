"""The token bucket on a fake clock: exact counts at the edges, and the 2 + 2·t bound."""

import random
from datetime import timedelta

import pytest

from domain.clock import FakeClock
from domain.model.rate_limit import MICRO, BucketConfig, BucketState, InMemoryRateLimiter, epoch_us, give_back, take
from tests.fakes import T0


def make_limiter(clock: FakeClock, capacity: int = 2, rate: float = 2.0,
                 margin: float = 0.0) -> InMemoryRateLimiter:
    config = BucketConfig(capacity=capacity, refill_per_second=rate, safety_margin=margin)
    return InMemoryRateLimiter(config, clock)


def grants_now(limiter: InMemoryRateLimiter, tries: int = 20) -> int:
    """How many tokens can be taken at this instant."""
    return sum(limiter.try_acquire().granted for _ in range(tries))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.mark.parametrize("capacity", [1, 2, 5])
def test_a_fresh_bucket_grants_exactly_its_capacity_then_refuses(clock, capacity):
    limiter = make_limiter(clock, capacity=capacity)

    results = [limiter.try_acquire().granted for _ in range(capacity + 3)]

    assert results == [True] * capacity + [False] * 3


def test_half_a_second_after_the_burst_exactly_one_token_is_back(clock):
    limiter = make_limiter(clock)
    assert grants_now(limiter) == 2

    clock.advance(0.5)

    assert grants_now(limiter) == 1


def test_one_microsecond_before_the_token_is_due_nothing_is_granted(clock):
    limiter = make_limiter(clock)
    grants_now(limiter)
    clock.advance(0.499999)
    assert grants_now(limiter) == 0

    clock.advance(0.000001)

    assert grants_now(limiter) == 1


def test_an_hour_of_idling_still_fills_the_bucket_only_to_its_capacity(clock):
    limiter = make_limiter(clock)
    grants_now(limiter)

    clock.advance(3600)

    assert limiter.available() == 2.0
    assert grants_now(limiter) == 2


def test_a_clock_going_backwards_adds_nothing(clock):
    limiter = make_limiter(clock)
    grants_now(limiter)

    clock.advance(-10)

    assert grants_now(limiter) == 0
    assert limiter.available() == 0.0


def test_after_the_clock_went_backwards_refill_resumes_from_the_latest_time_seen(clock):
    limiter = make_limiter(clock)
    grants_now(limiter)
    clock.advance(0.25)  # half a token accrues
    limiter.available()
    clock.advance(-5)
    assert grants_now(limiter) == 0

    clock.set(T0 + timedelta(seconds=0.5))

    assert grants_now(limiter) == 1  # not zero (time lost), not more (the 5 s back counted twice)
    clock.advance(0.5)
    assert grants_now(limiter) == 1


def test_a_grant_says_wait_zero_and_a_refusal_says_exactly_how_long_until_the_next_token(clock):
    limiter = make_limiter(clock)
    assert limiter.try_acquire().wait_seconds == 0.0
    limiter.try_acquire()

    refused_now = limiter.try_acquire()
    clock.advance(0.2)
    refused_later = limiter.try_acquire()

    assert not refused_now.granted and refused_now.wait_seconds == 0.5
    assert not refused_later.granted and refused_later.wait_seconds == 0.3


def test_waiting_exactly_the_returned_time_is_enough(clock):
    limiter = make_limiter(clock)
    grants_now(limiter)

    for _ in range(50):
        refused = limiter.try_acquire()
        assert not refused.granted
        clock.advance(refused.wait_seconds)
        assert limiter.try_acquire().granted


def test_the_available_tokens_are_shown_with_their_fraction(clock):
    limiter = make_limiter(clock)
    grants_now(limiter)

    clock.advance(0.7)

    assert limiter.available() == 1.4


def test_the_safety_margin_delays_the_second_token_of_a_burst(clock):
    limiter = make_limiter(clock, margin=0.1)

    first, second = limiter.try_acquire(), limiter.try_acquire()
    clock.advance(0.05)
    third = limiter.try_acquire()

    assert first.granted
    assert not second.granted and second.wait_seconds == 0.05
    assert third.granted


def greedy_grant_times(limiter: InMemoryRateLimiter, clock: FakeClock, seconds: float) -> list[float]:
    """A client that asks again exactly when told to; the times (from T0) of its grants."""
    end = T0 + timedelta(seconds=seconds)
    times = []
    while clock.now() <= end:
        grant = limiter.try_acquire()
        if grant.granted:
            times.append((clock.now() - T0).total_seconds())
        else:
            clock.advance(grant.wait_seconds)
    return times


@pytest.mark.parametrize("margin", [0.0, 0.1, 0.3])
def test_the_safety_margin_keeps_the_sustained_rate_at_two_per_second(clock, margin):
    limiter = make_limiter(clock, margin=margin)

    times = greedy_grant_times(limiter, clock, 100)

    assert sum(10 <= t < 100 for t in times) == 180  # 2/s over the 90 steady seconds
    assert len(times) == (202 if margin == 0 else 201)  # the margin costs one burst token, nothing more


def test_without_a_margin_a_greedy_client_gets_two_tokens_then_one_every_half_second(clock):
    limiter = make_limiter(clock)

    times = greedy_grant_times(limiter, clock, 2)

    assert times == [0.0, 0.0, 0.5, 1.0, 1.5, 2.0]


def assert_within_the_bound(grant_us: list[int], capacity: int, rate: float) -> None:
    """No window [a, a+t] holds more than capacity + rate·t grants (checked on every pair of grants)."""
    rate_micro = round(rate * MICRO)
    for i in range(len(grant_us)):
        for j in range(i, len(grant_us)):
            count = j - i + 1
            t_us = grant_us[j] - grant_us[i]
            assert (count - capacity) * MICRO * MICRO <= rate_micro * t_us, (
                f"{count} grants in {t_us} µs")


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize(("capacity", "rate", "margin"),
                         [(2, 2.0, 0.0), (2, 2.0, 0.2), (5, 3.0, 0.0), (1, 0.7, 0.0)])
def test_random_request_times_never_get_more_than_capacity_plus_rate_times_t(capacity, rate, margin, seed):
    rng = random.Random(seed)
    clock = FakeClock(T0)
    limiter = make_limiter(clock, capacity=capacity, rate=rate, margin=margin)
    # Bursts of requests at random moments over 60 s, some microseconds apart, some seconds apart.
    request_us: list[int] = []
    for _ in range(300):
        start = rng.randrange(60 * MICRO)
        request_us += [start + rng.randrange(2000) * k for k in range(rng.randint(1, 8))]
    request_us.sort()

    grant_us = []
    for at in request_us:
        clock.set(T0 + timedelta(microseconds=at))
        if limiter.try_acquire().granted:
            grant_us.append(at)

    assert len(grant_us) >= 60 * rate * 0.5  # the check below is not vacuous
    assert_within_the_bound(grant_us, capacity, rate)


def test_dense_requests_get_the_whole_budget_and_not_one_token_more(clock):
    limiter = make_limiter(clock)
    granted = 0

    for ms in range(60_001):  # a request every millisecond for 60 s, both ends included
        clock.set(T0 + timedelta(milliseconds=ms))
        granted += limiter.try_acquire().granted

    assert granted == 2 + 2 * 60


def test_polling_often_never_creates_tokens_out_of_rounding(clock):
    limiter = make_limiter(clock, capacity=1, rate=0.7)
    grants_now(limiter)

    for _ in range(1000):
        clock.advance(0.000_003)  # 3 µs: 2.1 micro-tokens each time
        limiter.available()

    assert limiter.available() <= 0.7 * 0.003


def test_polling_every_microsecond_does_not_lose_the_fractions_of_a_token(clock):
    limiter = make_limiter(clock, capacity=1, rate=0.5)
    grants_now(limiter)

    for _ in range(10_000):
        clock.advance(0.000_001)  # half a micro-token each time: rounds down to nothing
        limiter.available()

    assert 0.004_99 <= limiter.available() <= 0.005  # 10 ms at 0.5/s


def test_epoch_microseconds_are_exact_integers():
    at = T0 + timedelta(seconds=1, microseconds=999_999)

    assert epoch_us(at) - epoch_us(T0) == 1_999_999


def test_a_token_given_back_can_be_taken_again_at_once(clock):
    limiter = make_limiter(clock)
    grants_now(limiter)

    limiter.give_back()

    assert grants_now(limiter) == 1


@pytest.mark.parametrize("elapsed_us", [0, 100_000, 250_000, 499_999, 700_000, 3_000_000])
@pytest.mark.parametrize("tokens_micro", [0, 400_000, MICRO, 2 * MICRO])
def test_taking_a_token_and_giving_it_back_leaves_the_bucket_as_if_it_was_never_taken(tokens_micro, elapsed_us):
    config = BucketConfig(capacity=2, refill_per_second=2.0, safety_margin=0.2)
    start = BucketState(tokens_micro, 0)
    grant = take(start, 0, config)
    if not grant.granted:
        return

    returned = give_back(grant.state, elapsed_us, config)
    never_taken = take(start, elapsed_us, config).state  # refilled to the same instant...
    never_taken_tokens = min(config.capacity_micro, never_taken.tokens_micro + MICRO)  # ...before its take

    assert returned.tokens_micro == never_taken_tokens


def test_a_token_given_back_never_fills_the_bucket_over_its_capacity(clock):
    limiter = make_limiter(clock)
    limiter.try_acquire()
    clock.advance(10)

    limiter.give_back()

    assert limiter.available() == 2.0
    assert grants_now(limiter) == 2
