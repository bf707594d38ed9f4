"""The per-customer buckets where every process shares them: a database row per user (SQLite and
PostgreSQL) and a Redis hash per user. Each strategy decides exactly as the in-memory one, twenty
concurrent submissions from one user get exactly the burst, and one user's storm refuses nobody else."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from sqlmodel import select

from app.customer_limits import KEY_PREFIX, RedisCustomerLimiter
from domain.clock import FakeClock
from domain.model.customer_limits import (
    CustomerLimiter,
    CustomerLimitPolicy,
    CustomerLimitReached,
    InMemoryCustomerLimiter,
)
from domain.model.events import Event
from storage.customer_limits import DbCustomerLimiter
from storage.db import Database
from storage.migrate import upgrade
from storage.tables import CustomerLimitRow
from storage.uow import SqlUnitOfWorkFactory
from tests.conftest import postgres_url
from tests.integration.pg import SKIP_REASON, fresh_postgres_schema

REDIS_URL = os.environ.get("PAYGATE_TEST_REDIS_URL")
POLICY = CustomerLimitPolicy(rate_per_second=5, burst=10)

# A factory of limiters on one shared store, each as another process would have it.
Opener = Callable[[CustomerLimitPolicy, FakeClock], CustomerLimiter]


@pytest.fixture(params=[
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.skipif(postgres_url() is None, reason=SKIP_REASON)),
    pytest.param("redis", marks=pytest.mark.skipif(REDIS_URL is None,
                                                   reason="Redis tests need PAYGATE_TEST_REDIS_URL (.ci/run sets it)")),
])
def shared(request: pytest.FixtureRequest, tmp_path) -> Iterator[Opener]:  # noqa: ANN001
    if request.param == "redis":
        assert REDIS_URL is not None
        client = redis.Redis.from_url(REDIS_URL)
        prefix = f"{KEY_PREFIX}test-{secrets.token_hex(4)}:"  # this test's own keys
        yield lambda policy, clock: RedisCustomerLimiter(client, policy, clock, prefix=prefix)
        for key in client.scan_iter(match=prefix + "*"):
            client.delete(key)
        client.close()
        return
    opened: list[Database] = []

    def open_db(url: str) -> Callable[[CustomerLimitPolicy, FakeClock], CustomerLimiter]:
        def make(policy: CustomerLimitPolicy, clock: FakeClock) -> CustomerLimiter:
            db = Database(url)
            opened.append(db)
            return DbCustomerLimiter(db, policy, clock)
        return make

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'paygate.db'}"
        first = Database(url)
        upgrade(first)
        first.dispose()
        yield open_db(url)
    else:
        with fresh_postgres_schema() as url:
            first = Database(url)
            upgrade(first)
            first.dispose()
            yield open_db(url)
    for db in opened:
        db.dispose()


def test_the_shared_store_decides_exactly_as_the_in_memory_bucket(shared: Opener):
    clock = FakeClock()
    store, reference = shared(POLICY, clock), InMemoryCustomerLimiter(POLICY, clock)
    steps = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.05, 0.15, 0, 0.3, 0.2, 0.2, 0, 1.7, 0, 0, 0.01, 0.19, 3600, 0]

    seen, expected = [], []
    for step in steps:
        clock.advance(step)
        seen.append(store.check("usr_a"))
        expected.append(reference.check("usr_a"))

    assert seen == expected
    assert [d.allowed for d in seen].count(False) >= 4


def test_twenty_at_once_from_one_user_get_exactly_the_burst(shared: Opener):
    clock = FakeClock()  # time stands still: no token comes back during the storm
    processes = [shared(POLICY, clock) for _ in range(4)]

    with ThreadPoolExecutor(max_workers=20) as pool:
        decisions = list(pool.map(lambda i: processes[i % 4].check("usr_storm"), range(20)))

    assert sum(d.allowed for d in decisions) == POLICY.burst
    assert all(d.retry_after >= 1 for d in decisions if not d.allowed)


def test_one_users_storm_refuses_no_other_user(shared: Opener):
    clock = FakeClock()
    processes = [shared(POLICY, clock) for _ in range(3)]
    calls = [("usr_storm", i) for i in range(30)] + [("usr_calm", i) for i in range(POLICY.burst)]
    calls.sort(key=lambda call: call[1])  # the calm user's submissions interleaved with the storm

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda call: (call[0], processes[call[1] % 3].check(call[0]).allowed), calls))

    assert [ok for user, ok in results if user == "usr_calm"] == [True] * POLICY.burst
    assert sum(ok for user, ok in results if user == "usr_storm") == POLICY.burst


def test_a_refusal_changes_nothing_stored_and_a_token_given_back_returns(shared: Opener):
    clock = FakeClock()
    limiter = shared(CustomerLimitPolicy(rate_per_second=1, burst=2), clock)
    limiter.check("usr_a")
    limiter.check("usr_a")
    before = limiter.peek("usr_a")

    refused = limiter.check("usr_a")
    after = limiter.peek("usr_a")
    limiter.give_back("usr_a")

    assert not refused.allowed and refused.retry_after == 1
    assert before == after
    assert limiter.check("usr_a").allowed


def test_a_lowered_burst_applies_to_buckets_stored_under_the_old_one(shared: Opener):
    clock = FakeClock()
    shared(CustomerLimitPolicy(rate_per_second=1, burst=10), clock).check("usr_a")  # 9 left, stored

    lowered = shared(CustomerLimitPolicy(rate_per_second=1, burst=2), clock)

    assert [lowered.check("usr_a").allowed for _ in range(3)] == [True, True, False]


def test_the_database_keeps_one_row_per_user(tmp_path):  # noqa: ANN001
    url = f"sqlite:///{tmp_path / 'paygate.db'}"
    db = Database(url)
    upgrade(db)
    limiter = DbCustomerLimiter(db, POLICY, FakeClock())

    for user in ("usr_a", "usr_b", "usr_a"):
        limiter.check(user)

    with db.session(read_only=True) as session:
        rows = {row.user_id: row.tokens_micro for row in session.exec(select(CustomerLimitRow))}
    assert rows == {"usr_a": 8_000_000, "usr_b": 9_000_000}
    db.dispose()


@pytest.mark.skipif(REDIS_URL is None, reason="Redis tests need PAYGATE_TEST_REDIS_URL (.ci/run sets it)")
def test_a_redis_bucket_expires_once_it_would_be_full_again():
    assert REDIS_URL is not None
    client = redis.Redis.from_url(REDIS_URL)
    prefix = f"{KEY_PREFIX}test-{secrets.token_hex(4)}:"
    limiter = RedisCustomerLimiter(client, POLICY, FakeClock(), prefix=prefix)

    limiter.check("usr_a")
    limiter.check("usr_a")

    ttl_ms = client.pttl(prefix + "usr_a")
    client.delete(prefix + "usr_a")
    client.close()
    assert 1000 < ttl_ms <= 1400  # 2 tokens at 5 a second: 0.4 s, plus a second to spare


def test_when_redis_is_unreachable_submissions_go_through():
    client = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    limiter = RedisCustomerLimiter(client, POLICY, FakeClock())

    assert all(limiter.check("usr_a").allowed for _ in range(POLICY.burst + 5))


@pytest.fixture(params=[
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.skipif(postgres_url() is None, reason=SKIP_REASON)),
])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # noqa: ANN001
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'paygate.db'}"
        first = Database(url)
        upgrade(first)
        first.dispose()
        yield url
        return
    with fresh_postgres_schema() as url:
        first = Database(url)
        upgrade(first)
        first.dispose()
        yield url


def test_a_submission_takes_its_token_in_its_own_transaction_and_a_refusal_rolls_it_back(database_url: str):
    """Twenty concurrent submissions from one user over four processes, each taking its token in the
    transaction that stores its event: exactly the burst commit, the others leave nothing behind."""
    clock = FakeClock()
    dbs = [Database(database_url) for _ in range(4)]
    limiters = [DbCustomerLimiter(db, POLICY, clock) for db in dbs]
    factories = [SqlUnitOfWorkFactory(db) for db in dbs]

    def submit(i: int) -> bool:
        limiter, uow = limiters[i % 4], factories[i % 4]
        with limiter.in_next_commit("usr_storm") as pending:
            try:
                with uow() as tx:
                    tx.publish(Event("payment.created", {"n": i}, clock.now(), aggregate_id=f"pay_{i}"))
                    tx.commit()
            except CustomerLimitReached as refused:
                assert refused.decision is pending.decision and refused.decision.retry_after >= 1
                return False
        assert pending.decision is not None and pending.decision.allowed
        return True

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(submit, range(20)))

    with factories[0](read_only=True) as tx:
        stored = tx.outbox.after(0, 100)
    assert sum(outcomes) == POLICY.burst
    assert sorted(e.aggregate_id or "" for e in stored) == sorted(f"pay_{i}" for i, ok in enumerate(outcomes) if ok)
    assert limiters[0].peek("usr_storm").remaining == 0
    for db in dbs:
        db.dispose()
