"""What /health says of the drain job: ticking, failing, or stalled (also mid-pass)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from app.scheduler import Jobs
from domain.clock import FakeClock

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def jobs_at(clock: FakeClock) -> Jobs:
    container = SimpleNamespace(settings=SimpleNamespace(drain_interval_seconds=0.5), clock=clock,
                                processor=SimpleNamespace(last_progress=clock.now()))
    return Jobs(container)  # type: ignore[arg-type]  # only what drain_health reads


def test_a_running_drain_that_keeps_moving_is_ok():
    clock = FakeClock(T0)
    jobs = jobs_at(clock)
    jobs._draining = True
    clock.advance(60)
    jobs.container.processor.last_progress = clock.now()

    assert jobs.drain_health(clock.now().timestamp()) == "ok"


def test_a_running_drain_that_made_no_progress_for_long_is_stalled():
    clock = FakeClock(T0)
    jobs = jobs_at(clock)
    jobs._draining = True

    clock.advance(11)

    assert jobs.drain_health(clock.now().timestamp()) == "stalled"


def test_a_drain_whose_last_pass_raised_is_failing():
    clock = FakeClock(T0)
    jobs = jobs_at(clock)
    jobs.last_drain_error = "OperationalError"

    assert jobs.drain_health(clock.now().timestamp()) == "failing"
