"""PostgreSQL LISTEN for the outbox: wake this process's outbox tail the moment another process commits.

A unit of work that writes outbox events sends `NOTIFY paygate_outbox` in its transaction (storage/uow.py),
so the notification arrives exactly when the events become visible. One thread per process holds a
connection in autocommit, LISTENs, and calls `on_notify` for each notification; it reconnects with a
growing pause when the connection is lost, and calls `on_notify` after each (re)connect, since anything
committed while it was away was not announced. The periodic poll stays as the fallback (and is all
there is on SQLite).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from storage.db import OUTBOX_CHANNEL

log = logging.getLogger("paygate.listen")

RECONNECT_FIRST_SECONDS = 0.5
RECONNECT_MAX_SECONDS = 10.0


def libpq_url(url: str) -> str:
    """SQLAlchemy's `postgresql+psycopg://…` as a libpq URI (options such as search_path kept)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class OutboxListener:
    def __init__(self, url: str, on_notify: Callable[[], None], check_seconds: float = 1.0) -> None:
        self.conninfo = libpq_url(url)
        self.on_notify = on_notify
        self.check_seconds = check_seconds  # how often a quiet connection looks at `stop()`
        self.connected = threading.Event()
        self.notifications = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="paygate-outbox-listen", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def drop_connection(self) -> None:
        """Close the connection under the listener (tests: a lost connection is reopened)."""
        conn = self._conn
        if conn is not None:
            conn.close()

    def _run(self) -> None:
        pause = RECONNECT_FIRST_SECONDS
        while not self._stopping.is_set():
            try:
                self._listen()
                pause = RECONNECT_FIRST_SECONDS
            except Exception as e:  # a lost server, a restart, a closed connection: reconnect
                if self._stopping.is_set():
                    break
                log.warning("outbox listener lost its connection (%s); reconnecting in %.1f s",
                            type(e).__name__, pause)
            finally:
                self.connected.clear()
            self._stopping.wait(pause)
            pause = min(pause * 2, RECONNECT_MAX_SECONDS)

    def _listen(self) -> None:
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            self._conn = conn
            try:
                conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(OUTBOX_CHANNEL)))
                self.connected.set()
                self._notify()  # whatever was committed while nobody listened
                while not self._stopping.is_set():
                    for _ in conn.notifies(timeout=self.check_seconds):
                        self.notifications += 1
                        self._notify()
                        if self._stopping.is_set():
                            break
                    if conn.closed:
                        raise psycopg.OperationalError("the connection was closed")
            finally:
                self._conn = None

    def _notify(self) -> None:
        try:
            self.on_notify()
        except Exception:
            log.exception("outbox listener: waking the tail failed")
