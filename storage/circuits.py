"""Circuit breakers, one per provider, on pybreaker, with their state in the database.

pybreaker keeps a breaker's state behind a storage interface made for sharing it between processes
(its own Redis storage is one). `DbCircuitStorage` is that interface on a row of `circuits`, so every
process that shares the database sees one circuit per provider: when one process's calls open it,
the others stop calling too, and one process's successful probe closes it for all. pybreaker decides
(count consecutive failures, open at `fail_max`, half-open after `reset_timeout`, close on a
success); this module only stores and reads, and adapts the breaker to domain.ports.Circuit.

pybreaker measures the open timeout with the wall clock (`datetime.now(UTC)`), which every process
shares; `state()` reads it the same way.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import pybreaker
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from domain.model.providers import CallResult, CircuitState
from storage.db import Database, from_db, to_db
from storage.tables import CircuitRow

log = logging.getLogger("paygate.circuits")

_TO_DOMAIN = {pybreaker.STATE_CLOSED: CircuitState.CLOSED, pybreaker.STATE_OPEN: CircuitState.OPEN,
              pybreaker.STATE_HALF_OPEN: CircuitState.HALF_OPEN}


class CircuitError(NamedTuple):
    code: str
    message: str
    at: datetime


class CircuitView(NamedTuple):
    """A circuit as the API and the metrics page show it."""

    state: CircuitState
    failures: int
    opened_at: datetime | None
    last_error: CircuitError | None


class DbCircuitStorage(pybreaker.CircuitBreakerStorage):
    """pybreaker's storage on one row of `circuits` (created on first use)."""

    def __init__(self, db: Database, name: str) -> None:
        super().__init__(name)
        self.db = db

    def _read(self) -> CircuitRow | None:
        with self.db.session(read_only=True) as session:
            return session.exec(select(CircuitRow).where(col(CircuitRow.name) == self.name)).first()

    def _ensure(self, session: Session) -> None:
        if session.get(CircuitRow, self.name) is None:
            try:
                with session.begin_nested():  # another process may create it at the same moment
                    session.add(CircuitRow(name=self.name))
            except IntegrityError:
                pass

    def _write(self, **values: Any) -> None:
        with self.db.session() as session:
            self._ensure(session)
            session.exec(update(CircuitRow).where(col(CircuitRow.name) == self.name).values(**values))
            session.commit()

    @property
    def state(self) -> str:
        row = self._read()
        return row.state if row else pybreaker.STATE_CLOSED

    @state.setter
    def state(self, state: str) -> None:
        self._write(state=state)

    def increment_counter(self) -> None:
        self._write(failures=col(CircuitRow.failures) + 1)

    def reset_counter(self) -> None:
        row = self._read()
        if row is not None and row.failures:  # no write on the common path (closed, no failures)
            self._write(failures=0)

    def increment_success_counter(self) -> None:
        self._write(successes=col(CircuitRow.successes) + 1)

    def reset_success_counter(self) -> None:
        row = self._read()
        if row is not None and row.successes:
            self._write(successes=0)

    @property
    def counter(self) -> int:
        row = self._read()
        return row.failures if row else 0

    @property
    def success_counter(self) -> int:
        row = self._read()
        return row.successes if row else 0

    @property
    def opened_at(self) -> datetime | None:
        row = self._read()
        return from_db(row.opened_at) if row else None

    @opened_at.setter
    def opened_at(self, value: datetime) -> None:
        self._write(opened_at=to_db(value))

    def note_error(self, code: str, message: str, at: datetime) -> None:
        self._write(last_error_code=code[:60], last_error_message=message[:500], last_error_at=to_db(at))


class _Failed(Exception):
    """A call the provider answered as a broken service would (a retryable error, no answer)."""


class SharedCircuit:
    """domain.ports.Circuit on a pybreaker.CircuitBreaker whose state is in the database."""

    def __init__(self, db: Database, name: str, fail_max: int = 5, reset_seconds: float = 30.0) -> None:
        self.name = name
        self.fail_max = fail_max
        self.reset_seconds = reset_seconds
        self.storage = DbCircuitStorage(db, name)
        self._breaker: pybreaker.CircuitBreaker | None = None

    @property
    def breaker(self) -> pybreaker.CircuitBreaker:
        # Built on first use: pybreaker reads its storage when built, and the app is built before
        # its schema is brought up to date.
        if self._breaker is None:
            self._breaker = pybreaker.CircuitBreaker(fail_max=self.fail_max, reset_timeout=self.reset_seconds,
                                                     state_storage=self.storage, name=self.name)
        return self._breaker

    def view(self) -> CircuitView:
        row = self.storage._read()
        if row is None:
            return CircuitView(CircuitState.CLOSED, 0, None, None)
        error = None
        if row.last_error_code and row.last_error_at:
            error = CircuitError(row.last_error_code, row.last_error_message or "", from_db(row.last_error_at))
        return CircuitView(self._state_of(row), row.failures, from_db(row.opened_at), error)

    def _state_of(self, row: CircuitRow) -> CircuitState:
        state = _TO_DOMAIN.get(row.state, CircuitState.CLOSED)
        if state is CircuitState.OPEN and row.opened_at is not None:
            reopen = from_db(row.opened_at) + timedelta(seconds=self.reset_seconds)
            if datetime.now(UTC) >= reopen:  # the next call is a probe
                return CircuitState.HALF_OPEN
        return state

    def probe_at(self) -> datetime | None:
        row = self.storage._read()
        if row is None or row.state != pybreaker.STATE_OPEN or row.opened_at is None:
            return None
        return from_db(row.opened_at) + timedelta(seconds=self.reset_seconds)

    def last_error(self) -> tuple[str, str, datetime] | None:
        error = self.view().last_error
        return (error.code, error.message, error.at) if error else None

    def state(self) -> CircuitState:
        row = self.storage._read()
        return self._state_of(row) if row else CircuitState.CLOSED

    def begin(self) -> object | None:
        ticket = self.breaker.calling()
        try:
            ticket.__enter__()
        except pybreaker.CircuitBreakerError:
            return None
        return ticket

    def end(self, ticket: object, result: CallResult) -> None:
        manager: Any = ticket
        if result.healthy:
            manager.__exit__(None, None, None)
            return
        self.storage.note_error(result.code or "provider_error", result.message or "", datetime.now(UTC))
        failure = _Failed(result.code)
        try:
            manager.__exit__(_Failed, failure, None)
        except pybreaker.CircuitBreakerError:
            log.warning("circuit %s opened after %s", self.name, result.code)
        except _Failed:
            pass
