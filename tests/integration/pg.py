"""PostgreSQL for the storage tests: a fresh schema per test when PAYGATE_TEST_POSTGRES_URL is set."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from bench.server import postgres_schema
from tests.conftest import postgres_url

SKIP_REASON = "PostgreSQL tests need PAYGATE_TEST_POSTGRES_URL (.ci/run sets it)"


@contextmanager
def fresh_postgres_schema() -> Iterator[str]:
    """A URL whose search_path is a new, empty schema; the schema is dropped afterwards.

    The session's time zone is not UTC, so a time stored without its zone would show.
    """
    base = postgres_url()
    assert base is not None
    with postgres_schema(base, timezone="Asia/Tokyo") as url:
        yield url
