"""The provider's bucket row takes back a token that went stale before its call (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.clock import FakeClock
from domain.model.rate_limit import BucketConfig
from storage.db import Database
from storage.limiter import DbRateLimiter


def test_a_token_given_back_to_the_shared_row_can_be_taken_by_another_process(db: Database, open_db) -> None:
    clock = FakeClock(datetime.now(UTC))
    here = DbRateLimiter(db, BucketConfig(), clock, name="mock")
    there = DbRateLimiter(open_db(), BucketConfig(), clock, name="mock")
    assert [here.try_acquire().granted, here.try_acquire().granted, there.try_acquire().granted] == [True, True, False]

    here.give_back()

    assert [there.try_acquire().granted, there.try_acquire().granted] == [True, False]


def test_giving_a_token_back_never_fills_the_row_over_its_capacity(db: Database) -> None:
    clock = FakeClock(datetime.now(UTC))
    limiter = DbRateLimiter(db, BucketConfig(), clock, name="mock")
    limiter.try_acquire()
    clock.advance(10)

    limiter.give_back()

    assert limiter.available() == 2.0
    assert [limiter.try_acquire().granted for _ in range(3)] == [True, True, False]
