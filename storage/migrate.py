"""Schema migrations (Alembic), applied on start by every process and safe to run concurrently.

On PostgreSQL an advisory lock makes concurrent starts take turns; on SQLite a file lock beside
the database does. `make migrate` (alembic upgrade head) applies the same migrations by hand.
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

from storage.db import Database

ROOT = Path(__file__).resolve().parents[1]
LOCK_KEY = 0x5041_5947  # "PAYG": the advisory lock of PayGate's migrations


def alembic_config() -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["configure_logging"] = False
    return config


@contextmanager
def start_lock(db: Database) -> Iterator[Connection]:
    """Held by one starting process at a time: an advisory lock on PostgreSQL, a file lock beside the
    SQLite file. Yields the connection that holds it (Alembic runs on it)."""
    if db.is_sqlite:
        path = Path(db.engine.url.database or "paygate.db")
        with open(path.with_suffix(path.suffix + ".migrate-lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            with db.engine.connect() as conn:
                yield conn
        return
    with db.engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": LOCK_KEY})
        conn.commit()
        try:
            yield conn
        finally:
            conn.rollback()
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
            conn.commit()


def upgrade(db: Database, revision: str = "head", then: Callable[[], None] | None = None) -> None:
    """Apply the migrations, then run `then` (the demo seed) while still holding the start lock, so
    processes that start at once take turns at both."""
    config = alembic_config()
    with start_lock(db) as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
        conn.commit()
        if then is not None:
            then()
