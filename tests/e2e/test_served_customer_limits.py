"""Per-customer limits on real servers: one process refuses the submissions over the burst with 429 and
the headers; two processes on one PostgreSQL database (or sharing Redis) share one limit per user.

The refill is slow (one token every 20 s), so rapid submissions see exactly the burst whatever the
machine's speed. The PostgreSQL test needs PAYGATE_TEST_POSTGRES_URL, the Redis one PAYGATE_TEST_REDIS_URL.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing

import httpx
import pytest
import redis

from app.customer_limits import KEY_PREFIX
from tests.conftest import postgres_url
from tests.e2e.conftest import Server, bearer
from tests.integration.pg import SKIP_REASON, fresh_postgres_schema

pytestmark = pytest.mark.e2e
REDIS_URL = os.environ.get("PAYGATE_TEST_REDIS_URL")
BURST = 3
LIMIT = {"PAYGATE_CUSTOMER_BURST": BURST, "PAYGATE_CUSTOMER_RATE_PER_SECOND": 0.05}
CUSTOMER = ("customer@example.com", "password123")


def pay(client: httpx.Client, url: str, headers: dict[str, str], n: int) -> httpx.Response:
    return client.post(f"{url}/api/payments", headers={**headers, "Idempotency-Key": f"limit-{n}"},
                       json={"amount": 1000 + n, "currency": "USD"})


def test_one_server_refuses_the_submissions_over_the_burst_with_429_and_the_headers(
        server_factory: Callable[..., Server]):
    server = server_factory(**LIMIT)
    with httpx.Client(base_url=server.url, timeout=10) as client:
        customer = bearer(client, *CUSTOMER)
        admin = bearer(client, "admin@example.com", "admin123")

        answers = [pay(client, server.url, customer, n) for n in range(BURST + 2)]
        other = pay(client, server.url, admin, 100)
        stored = client.get("/api/payments", headers=customer).json()["data"]

    assert [r.status_code for r in answers] == [202] * BURST + [429, 429]
    for accepted in answers[:BURST]:
        assert accepted.headers["RateLimit-Policy"] == '"customer";q=3;w=60'
    assert [r.headers["RateLimit"].split(";")[1] for r in answers] == ["r=2", "r=1", "r=0", "r=0", "r=0"]
    for refused in answers[BURST:]:
        assert refused.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(refused.headers["Retry-After"]) <= 20
        assert refused.headers["RateLimit"] == f'"customer";r=0;t={refused.headers["Retry-After"]}'
        assert refused.headers["RateLimit-Policy"] == '"customer";q=3;w=60'
    assert len(stored) == BURST  # the refused ones stored nothing
    assert other.status_code == 202  # another user's bucket is their own


def submissions_through_two_servers(a: Server, b: Server) -> list[int]:
    """2 × burst submissions by one customer, to A and B in turn; their statuses."""
    with httpx.Client(base_url=a.url, timeout=10) as client:
        customer = bearer(client, *CUSTOMER)
        return [pay(client, (a, b)[n % 2].url, customer, n).status_code for n in range(2 * BURST)]


@pytest.mark.skipif(postgres_url() is None, reason=SKIP_REASON)
def test_two_servers_on_one_postgresql_database_share_each_users_limit(server_factory: Callable[..., Server],
                                                                        tmp_path):  # noqa: ANN001
    with fresh_postgres_schema() as db_url:
        a = server_factory(tmp_path / "a", PAYGATE_DATABASE_URL=db_url, **LIMIT)
        b = server_factory(tmp_path / "b", PAYGATE_DATABASE_URL=db_url, **LIMIT)

        statuses = submissions_through_two_servers(a, b)

        a.stop()
        b.stop()
    assert sorted(statuses) == [202] * BURST + [429] * BURST
    assert statuses[:BURST] == [202] * BURST


@pytest.mark.skipif(REDIS_URL is None, reason="needs PAYGATE_TEST_REDIS_URL (.ci/run sets it)")
def test_two_servers_with_redis_share_each_users_limit(server_factory: Callable[..., Server], tmp_path):  # noqa: ANN001
    a = server_factory(tmp_path / "shared", PAYGATE_REDIS_URL=REDIS_URL, **LIMIT)
    b = server_factory(tmp_path / "shared", PAYGATE_REDIS_URL=REDIS_URL, **LIMIT)

    statuses = submissions_through_two_servers(a, b)

    assert statuses == [202] * BURST + [429] * BURST
    with httpx.Client(base_url=a.url, timeout=10) as client:
        user_id = client.get("/api/auth/me", headers=bearer(client, *CUSTOMER)).json()["id"]
    with redis.Redis.from_url(REDIS_URL) as r:
        assert r.exists(KEY_PREFIX + user_id)  # the bucket is in Redis ...
        r.delete(KEY_PREFIX + user_id)
    with closing(sqlite3.connect(tmp_path / "shared" / "paygate.db")) as db:
        assert db.execute("SELECT count(*) FROM customer_limits").fetchone() == (0,)  # ... not in the database


@pytest.mark.parametrize("store", [
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.skipif(postgres_url() is None, reason=SKIP_REASON)),
    pytest.param("redis", marks=pytest.mark.skipif(REDIS_URL is None, reason="needs PAYGATE_TEST_REDIS_URL")),
])
def test_twenty_at_once_get_exactly_the_burst_and_another_customer_is_not_held_back(
        store: str, server_factory: Callable[..., Server], tmp_path):  # noqa: ANN001
    limit = {"PAYGATE_CUSTOMER_BURST": 10, "PAYGATE_CUSTOMER_RATE_PER_SECOND": 0.01}  # no token back for 100 s
    with contextlib.ExitStack() as stack:
        if store == "sqlite":
            servers = [server_factory(**limit)]
        else:
            env = ({"PAYGATE_DATABASE_URL": stack.enter_context(fresh_postgres_schema())} if store == "postgres"
                   else {"PAYGATE_REDIS_URL": REDIS_URL})
            folders = [tmp_path / "a", tmp_path / "b"] if store == "postgres" else [tmp_path, tmp_path]
            servers = [server_factory(folder, **env, **limit) for folder in folders]
            stack.callback(lambda: [s.stop() for s in servers])
        with httpx.Client(base_url=servers[0].url, timeout=30) as client:
            customer = bearer(client, *CUSTOMER)
            other = bearer(client, "admin@example.com", "admin123")
            calls = [(customer, n) for n in range(20)] + [(other, 100 + n) for n in range(5)]

            with ThreadPoolExecutor(max_workers=25) as pool:
                statuses = list(pool.map(
                    lambda call: pay(client, servers[call[1] % len(servers)].url, *call).status_code, calls))

    assert sorted(statuses[:20]) == [202] * 10 + [429] * 10
    assert statuses[20:] == [202] * 5
