"""Per-customer submission buckets in the shared database: one row per user, updated atomically.

The row design is the provider bucket's (storage/limiter.py): tokens in millionths and the time
of the last refill in microseconds of the wall clock, which processes share. On PostgreSQL the
user's row is read `FOR UPDATE`, so two processes deciding for one user take turns on that row
only; other users' rows are not locked, so one customer's storm never waits on another's. On
SQLite every write transaction holds the in-process write lock and BEGIN IMMEDIATE, so the
read and the single UPDATE that follows it are one atomic step for every process.

A refused request writes nothing: the refilled state follows from the stored one.

On SQLite, a submission takes its token in its own transaction (`in_next_commit`): the unit of work's commit
that stores it (the first of this context that writes events) takes the token just before it
commits, after its inserts are flushed, so a replay (its idempotency key taken) fails there first
and spends nothing; an empty bucket raises CustomerLimitReached and the whole transaction is rolled
back. One transaction per submission instead of two.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from domain.clock import Clock
from domain.model.customer_limits import (
    CustomerLimitPolicy,
    CustomerLimitReached,
    LimitDecision,
    admit,
    give_back,
    peek,
    stored,
)
from domain.model.rate_limit import BucketState, epoch_us, full_bucket
from storage.db import Database
from storage.tables import CustomerLimitRow


@dataclass
class PendingTake:
    """A token to take in the next commit that writes events, in this context (thread or task)."""

    limiter: DbCustomerLimiter
    user_id: str
    decision: LimitDecision | None = None  # once taken (or refused)


_PENDING: ContextVar[PendingTake | None] = ContextVar("paygate_pending_customer_token", default=None)


def take_pending_token(session: Session) -> None:
    """Called by the unit of work just before it commits a transaction that wrote events: take the
    pending token, if any, in that transaction; CustomerLimitReached when the bucket is empty."""
    pending = _PENDING.get()
    if pending is None or pending.decision is not None:
        return
    session.flush()  # a taken idempotency key fails here (a replay), before any token is spent
    now_us = epoch_us(pending.limiter.clock.now())
    decision, state = admit(pending.limiter._locked(session, pending.user_id, now_us), now_us,
                            pending.limiter.policy)
    pending.decision = decision
    if not decision.allowed:
        raise CustomerLimitReached(decision)
    pending.limiter._write(session, pending.user_id, state)


class DbCustomerLimiter:
    def __init__(self, db: Database, policy: CustomerLimitPolicy, clock: Clock) -> None:
        self.db = db
        self.policy = policy
        self.clock = clock
        # On SQLite every write transaction holds the one write lock, so taking the token in the
        # submission's own transaction adds no waiting and saves one. On PostgreSQL the user's row
        # would stay locked until that transaction's commit has flushed the WAL, so one busy user's
        # submissions would go one flush at a time; there the token is taken in a short transaction
        # of its own first (`check`, which does not wait for the flush).
        self.in_transaction = db.is_sqlite

    def _locked(self, session: Session, user_id: str, now_us: int, no_flush_wait: bool = False) -> BucketState:
        """The user's bucket, its row locked until the transaction ends (created full if missing).
        `no_flush_wait` (PostgreSQL): the transaction's commit will not wait for the WAL flush, set by
        the same statement (set_config(..., is_local => true) is SET LOCAL) to save a round trip."""
        # Two columns, not an ORM object: this runs before every submission.
        columns: list[Any] = [col(CustomerLimitRow.tokens_micro), col(CustomerLimitRow.updated_us)]
        if no_flush_wait:
            columns.append(func.set_config("synchronous_commit", "off", True))
        query = select(*columns).where(col(CustomerLimitRow.user_id) == user_id).with_for_update()
        row = session.exec(query).first()
        if row is None:
            full = full_bucket(now_us, self.policy.bucket)
            try:
                with session.begin_nested():  # another process may create the row at the same moment
                    session.add(CustomerLimitRow(user_id=user_id, tokens_micro=full.tokens_micro,
                                                 updated_us=full.updated_us))
            except IntegrityError:
                pass
            row = session.exec(query).one()
        return stored(row[0], row[1], self.policy)

    def _write(self, session: Session, user_id: str, state: BucketState) -> None:
        session.exec(update(CustomerLimitRow).where(col(CustomerLimitRow.user_id) == user_id)
                     .values(tokens_micro=state.tokens_micro, updated_us=state.updated_us))

    def check(self, user_id: str) -> LimitDecision:
        with self.db.session() as session:
            # A bucket's last few milliseconds may be lost in a server crash (a few tokens more, once):
            # no reason for PostgreSQL to wait for the WAL flush, which is most of this transaction's time.
            now_us = epoch_us(self.clock.now())
            decision, state = admit(self._locked(session, user_id, now_us, no_flush_wait=not self.db.is_sqlite),
                                    now_us, self.policy)
            if decision.allowed:
                self._write(session, user_id, state)
            session.commit()  # a refusal commits only the row's creation, if this was the user's first
            return decision

    @contextmanager
    def in_next_commit(self, user_id: str) -> Iterator[PendingTake]:
        """While open, the next transaction of this context that writes events takes `user_id`'s token
        before it commits (take_pending_token); the decision is on the yielded object once it has."""
        pending = PendingTake(self, user_id)
        reset = _PENDING.set(pending)
        try:
            yield pending
        finally:
            _PENDING.reset(reset)

    def peek(self, user_id: str) -> LimitDecision:
        with self.db.session(read_only=True) as session:
            row = session.exec(select(CustomerLimitRow).where(col(CustomerLimitRow.user_id) == user_id)).first()
        now_us = epoch_us(self.clock.now())
        state = full_bucket(now_us, self.policy.bucket) if row is None else stored(
            row.tokens_micro, row.updated_us, self.policy)
        return peek(state, now_us, self.policy)

    def give_back(self, user_id: str) -> None:
        with self.db.session() as session:
            now_us = epoch_us(self.clock.now())
            self._write(session, user_id, give_back(self._locked(session, user_id, now_us), now_us, self.policy))
            session.commit()
