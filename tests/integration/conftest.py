"""`db_url`: every storage test that takes it runs on SQLite and on PostgreSQL (or skips with a reason)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from storage.db import Database
from tests.conftest import postgres_url
from tests.integration.pg import SKIP_REASON, fresh_postgres_schema


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.skipif(
    postgres_url() is None, reason=SKIP_REASON))])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'paygate.db'}"
    else:
        with fresh_postgres_schema() as url:
            yield url


@pytest.fixture
def open_db(db_url: str) -> Iterator[Callable[[], Database]]:
    """Open Database objects on the one database (each like another process); dispose them all after."""
    opened: list[Database] = []

    def open_one() -> Database:
        db = Database(db_url)
        opened.append(db)
        return db

    yield open_one
    for db in opened:
        db.dispose()


@pytest.fixture
def db(open_db: Callable[[], Database]) -> Database:
    database = open_db()
    database.create_all()
    return database


@pytest.fixture(scope="session")
def localstripe_url() -> Iterator[str]:
    """A localstripe process for the session's Stripe adapter tests (its base URL); skips without localstripe."""
    from tests.integration.localstripe import SKIP_REASON, localstripe_importable, running_localstripe

    if not localstripe_importable():
        pytest.skip(SKIP_REASON)
    with running_localstripe() as url:
        yield url
