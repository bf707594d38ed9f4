"""Engines and transactions for SQLite (WAL, busy timeout, one writer lock) and PostgreSQL."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import overload

from sqlalchemy import Connection, Engine, create_engine, event, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import Session, col

from domain.clock import utc
from storage import tables  # noqa: F401  (registers the tables on the metadata)
from storage.tables import HeartbeatRow

log = logging.getLogger("paygate.db")

BUSY_TIMEOUT_MS = 10_000
# PostgreSQL's NOTIFY channel for "the outbox has new events" (storage/listen.py listens on it).
OUTBOX_CHANNEL = "paygate_outbox"


@overload
def to_db(dt: datetime) -> datetime: ...
@overload
def to_db(dt: datetime | None) -> datetime | None: ...
def to_db(dt: datetime | None) -> datetime | None:
    """SQLModel's datetime columns take aware datetimes and store UTC."""
    return None if dt is None else utc(dt)


@overload
def from_db(dt: datetime) -> datetime: ...
@overload
def from_db(dt: datetime | None) -> datetime | None: ...
def from_db(dt: datetime | None) -> datetime | None:
    return None if dt is None else utc(dt)


class Database:
    """One database, with a session for writes and one for reads.

    On SQLite every write transaction starts with BEGIN IMMEDIATE under one in-process lock,
    so writers queue here instead of spinning on SQLITE_BUSY; reads run beside them (WAL).
    """

    def __init__(self, url: str) -> None:
        self.url = url
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self._write_lock = threading.Lock() if self.is_sqlite else None
        # Called (from the committing thread) after each commit that wrote outbox events: this
        # process's outbox tail reads them at once instead of at its next poll.
        self.on_events_committed: list[Callable[[], None]] = []
        if self.is_sqlite:
            self.engine = self._sqlite_engine(url, "BEGIN IMMEDIATE")
            self.read_engine = self._sqlite_engine(url, "BEGIN")
        else:
            self.engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
            self.read_engine = self.engine

    @staticmethod
    def _sqlite_engine(url: str, begin_sql: str) -> Engine:
        # A file only: the read and write engines must see the same database.
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
                               pool_size=8, max_overflow=8)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            conn.exec_driver_sql(begin_sql)

        return engine

    def create_all(self, then: Callable[[], None] | None = None) -> None:
        """Bring the schema up to date with the migrations; run `then` under the same start lock."""
        from storage.migrate import upgrade

        upgrade(self, then=then)

    @contextmanager
    def session(self, read_only: bool = False) -> Iterator[Session]:
        if read_only:
            with Session(self.read_engine, expire_on_commit=False) as session:
                yield session
            return
        if self._write_lock is None:
            with Session(self.engine, expire_on_commit=False) as session:
                yield session
            return
        with self._write_lock, Session(self.engine, expire_on_commit=False) as session:
            yield session

    def events_committed(self) -> None:
        for callback in list(self.on_events_committed):
            try:
                callback()
            except Exception:  # a wake-up is an optimisation; the poll still finds the events
                log.exception("an outbox wake-up failed")

    def ping(self) -> None:
        with self.read_engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def heartbeat(self, owner: str, now: datetime) -> None:
        """Commit a write (this process's heartbeat row): proof that the database takes writes now.
        Raises what the write raises (a full disk, a read-only file, a lost server)."""
        with self.session() as session:
            updated = session.exec(update(HeartbeatRow).where(col(HeartbeatRow.owner) == owner)
                                   .values(at=to_db(now))).rowcount
            if not updated:
                session.add(HeartbeatRow(owner=owner, at=to_db(now)))
            session.commit()

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()
