"""Failed sign-ins are counted in the database: two processes throttle as one."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.clock import FakeClock
from domain.model.errors import RateLimited
from domain.services.auth import LoginThrottle
from storage.db import Database
from storage.throttle import SqlFailureStore


def test_two_processes_share_one_count_of_failures(db_url: str):
    clock = FakeClock()
    first_db, second_db = Database(db_url), Database(db_url)
    first_db.create_all()
    first = LoginThrottle(clock, max_failures=4, window=timedelta(minutes=15), store=SqlFailureStore(first_db))
    second = LoginThrottle(clock, max_failures=4, window=timedelta(minutes=15), store=SqlFailureStore(second_db))

    for throttle in (first, second, first, second):
        throttle.check("email:x@example.com")
        throttle.record_failure("email:x@example.com", "client:10.0.0.1")
        clock.advance(1)

    with pytest.raises(RateLimited) as limited:
        second.check("email:x@example.com")
    assert limited.value.retry_after_seconds == 15 * 60 - 4  # the first failure (t=0) leaves the window; now t=4
    first.check("email:other@example.com")  # other keys are unaffected
    first_db.dispose()
    second_db.dispose()


def test_failures_leave_the_window_and_a_success_resets_the_email(db_url: str):
    clock = FakeClock()
    db = Database(db_url)
    db.create_all()
    throttle = LoginThrottle(clock, max_failures=2, window=timedelta(seconds=60), store=SqlFailureStore(db))
    throttle.record_failure("email:y@example.com")
    throttle.record_failure("email:y@example.com")
    with pytest.raises(RateLimited):
        throttle.check("email:y@example.com")

    clock.advance(61)
    throttle.check("email:y@example.com")
    throttle.record_failure("email:y@example.com")
    throttle.record_failure("email:y@example.com")
    throttle.reset("email:y@example.com")

    throttle.check("email:y@example.com")
    db.dispose()
