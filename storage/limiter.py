"""The global token bucket, kept in one database row and updated under a row lock.

Every process sharing the database takes its tokens from this row, so the limit holds
across processes and restarts. Time is the wall clock (processes share it; a monotonic
clock is per process); a clock that steps backwards adds no tokens.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from domain.clock import Clock
from domain.model.rate_limit import (
    MICRO,
    BucketConfig,
    BucketState,
    Grant,
    epoch_us,
    full_bucket,
    give_back,
    refill,
    take,
)
from storage.db import Database
from storage.tables import RateLimiterRow


class DbRateLimiter:
    def __init__(self, db: Database, config: BucketConfig, clock: Clock, name: str = "provider-calls") -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self.name = name

    def _row(self, session: Session, now_us: int) -> RateLimiterRow:
        row = session.exec(select(RateLimiterRow).where(col(RateLimiterRow.name) == self.name)
                           .with_for_update()).first()
        if row is None:
            state = full_bucket(now_us, self.config)
            try:
                with session.begin_nested():  # another process may create the row at the same moment
                    session.add(RateLimiterRow(name=self.name, tokens_micro=state.tokens_micro,
                                               updated_us=state.updated_us))
            except IntegrityError:
                pass
            row = session.exec(select(RateLimiterRow).where(col(RateLimiterRow.name) == self.name)
                               .with_for_update()).one()
        return row

    def try_acquire(self) -> Grant:
        with self.db.session() as session:
            now_us = epoch_us(self.clock.now())
            row = self._row(session, now_us)
            # The capacity may have been lowered in settings since the row was written.
            state = BucketState(min(row.tokens_micro, self.config.capacity_micro), row.updated_us)
            grant = take(state, now_us, self.config)
            row.tokens_micro, row.updated_us = grant.state.tokens_micro, grant.state.updated_us
            session.add(row)
            session.commit()
            return grant

    def give_back(self) -> None:
        with self.db.session() as session:
            now_us = epoch_us(self.clock.now())
            row = self._row(session, now_us)
            state = give_back(BucketState(min(row.tokens_micro, self.config.capacity_micro), row.updated_us),
                              now_us, self.config)
            row.tokens_micro, row.updated_us = state.tokens_micro, state.updated_us
            session.add(row)
            session.commit()

    def available(self) -> float:
        with self.db.session(read_only=True) as session:
            row = session.exec(select(RateLimiterRow).where(col(RateLimiterRow.name) == self.name)).first()
            if row is None:
                return float(self.config.capacity)
            state = refill(BucketState(min(row.tokens_micro, self.config.capacity_micro), row.updated_us),
                           epoch_us(self.clock.now()), self.config)
            return state.tokens_micro / MICRO
