"""The backoff policy: 1, 2, 4, 8 ... seconds, capped, with a maximum number of retries."""

from datetime import timedelta

import pytest

from domain.model.retry import RetryPolicy


@pytest.mark.parametrize(("retry", "seconds"),
                         [(1, 1), (2, 2), (3, 4), (4, 8), (5, 16), (6, 30), (7, 30), (50, 30)])
def test_the_delay_doubles_from_one_second_and_is_capped_at_thirty(retry, seconds):
    assert RetryPolicy().delay(retry) == timedelta(seconds=seconds)


def test_a_large_retry_number_does_not_overflow_past_the_cap():
    assert RetryPolicy().delay(10_000) == timedelta(seconds=30)


def test_the_base_factor_and_cap_are_configurable():
    policy = RetryPolicy(base_seconds=0.5, factor=3.0, cap_seconds=10.0)

    assert [policy.delay(n).total_seconds() for n in (1, 2, 3, 4)] == [0.5, 1.5, 4.5, 10.0]


@pytest.mark.parametrize("retry", [0, -1])
def test_retry_numbers_start_at_one(retry):
    with pytest.raises(ValueError):
        RetryPolicy().delay(retry)


def test_at_most_three_retries_are_allowed_by_default():
    policy = RetryPolicy()

    assert [policy.may_retry(n) for n in range(5)] == [True, True, True, False, False]


def test_zero_max_retries_allows_none():
    assert not RetryPolicy(max_retries=0).may_retry(0)
