"""Repositories: map between table rows and domain objects."""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable
from dataclasses import fields, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import and_, delete, func, insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from domain.model.errors import DuplicateKey
from domain.model.events import Event
from domain.model.idempotency import IdempotencyRecord
from domain.model.payments import TERMINAL, PageCursor, Payment, PaymentRange, PaymentStats, hold_name
from domain.model.providers import Attempt, CallKind, Outcome
from domain.model.statuses import PaymentStatus
from domain.model.users import User
from domain.ports import NewEvents
from storage.db import from_db, to_db
from storage.tables import IdempotencyRow, OutboxRow, PaymentAttemptRow, PaymentRow, ProviderEventRow, UserRow

A = TypeVar("A")


def flush(session: Session) -> None:
    """Flush now, so a taken unique key shows here as a domain error."""
    try:
        session.flush()
    except IntegrityError:
        raise DuplicateKey("a unique key is already taken") from None


_TIME_FIELDS = {"created_at", "updated_at", "next_attempt_at", "completed_at", "lease_expires_at", "stay_until"}


def _user(row: UserRow) -> User:
    return User(row.id, row.email, row.name, row.role, row.password_hash, row.active,
                from_db(row.created_at), from_db(row.updated_at), row.token_version)


class SqlUserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, user_id: str, for_update: bool = False) -> User | None:
        row = self.session.get(UserRow, user_id, with_for_update=for_update or None)
        return _user(row) if row else None

    def get_by_email(self, email: str) -> User | None:
        row = self.session.exec(select(UserRow).where(col(UserRow.email) == email)).first()
        return _user(row) if row else None

    def list(self) -> list[User]:
        rows = self.session.exec(select(UserRow).order_by(col(UserRow.created_at), col(UserRow.id))).all()
        return [_user(r) for r in rows]

    def add(self, user: User) -> None:
        self.session.add(UserRow(id=user.id, email=user.email, name=user.name, role=user.role,
                                 password_hash=user.password_hash, active=user.active,
                                 token_version=user.token_version, created_at=to_db(user.created_at),
                                 updated_at=to_db(user.updated_at)))
        flush(self.session)

    def update(self, user: User) -> None:
        self.session.exec(update(UserRow).where(col(UserRow.id) == user.id).values(
            name=user.name, role=user.role, password_hash=user.password_hash, active=user.active,
            token_version=user.token_version, updated_at=to_db(user.updated_at)))

    def delete(self, user_id: str) -> None:
        self.session.exec(delete(UserRow).where(col(UserRow.id) == user_id))


class AggregateRows(Generic[A]):
    """How an aggregate (a dataclass that keeps its new `events`) maps to its table's row, and back:
    fields by name, times as aware UTC, the status through its enum, and codecs for other fields."""

    def __init__(self, aggregate: type[A], row: type[Any], times: set[str], status: type[StrEnum],
                 codecs: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] | None = None) -> None:
        self.aggregate, self.row, self.times, self.status = aggregate, row, times, status
        self.fields = [f.name for f in fields(aggregate) if f.name != "events"]  # type: ignore[arg-type]
        self.codecs = codecs or {}  # field -> (to the domain, to the row)

    def load(self, row: Any) -> A:
        values = {name: getattr(row, name) for name in self.fields}
        for name in self.times:
            values[name] = from_db(values[name])
        values["status"] = self.status(values["status"])
        for name, (decode, _) in self.codecs.items():
            values[name] = decode(values[name])
        return self.aggregate(**values)

    def values(self, aggregate: A) -> dict[str, Any]:
        values = {name: getattr(aggregate, name) for name in self.fields}
        for name in self.times:
            values[name] = to_db(values[name])
        values["status"] = str(values["status"])
        for name, (_, encode) in self.codecs.items():
            values[name] = encode(values[name])
        return values


class AggregateRepository(Generic[A]):
    """get / add / update of one kind of aggregate; what it adds or updates has its new events written
    at commit (domain.ports.NewEvents)."""

    rows: AggregateRows[A]

    def __init__(self, session: Session, events: NewEvents) -> None:
        self.session = session
        self._events = events

    def _get(self, row_id: str, for_update: bool) -> A | None:
        stmt = select(self.rows.row).where(self.rows.row.id == row_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = self.session.exec(stmt).first()
        return self.rows.load(row) if row else None

    def _add(self, aggregate: A) -> None:
        self.session.add(self.rows.row(**self.rows.values(aggregate)))
        flush(self.session)
        self._events.saw(aggregate)  # type: ignore[arg-type]

    def _update(self, aggregate: A) -> None:
        values = self.rows.values(aggregate)
        row_id = values.pop("id")
        self.session.exec(update(self.rows.row).where(self.rows.row.id == row_id).values(**values))
        self._events.saw(aggregate)  # type: ignore[arg-type]

    # Leased work (payments, refunds): a row is claimed by one process until `lease_expires_at`.
    def _claim_first(self, stmt: Any, owner: str, lease_until: datetime) -> A | None:
        """Lease the first row `stmt` selects (oldest first, skipping rows another claimer has locked)."""
        row = self.session.exec(stmt.order_by(self.rows.row.created_at).limit(1)
                                .with_for_update(skip_locked=True)).first()
        if row is None:
            return None
        row.lease_owner = owner
        row.lease_expires_at = to_db(lease_until)
        self.session.add(row)
        flush(self.session)
        return self.rows.load(row)

    def _renew_lease(self, row_id: str, owner: str, lease_until: datetime) -> bool:
        table = self.rows.row
        result = self.session.exec(update(table).where(table.id == row_id, table.lease_owner == owner)
                                   .values(lease_expires_at=to_db(lease_until)))
        return bool(result.rowcount == 1)

    def _release(self, row_id: str, owner: str) -> None:
        table = self.rows.row
        self.session.exec(update(table).where(table.id == row_id, table.lease_owner == owner)
                          .values(lease_owner=None, lease_expires_at=None))


PAYMENT_ROWS = AggregateRows(Payment, PaymentRow, _TIME_FIELDS, PaymentStatus, {
    "card_tokens": (lambda text: json.loads(text or "{}"), lambda tokens: json.dumps(tokens, sort_keys=True))})
_payment = PAYMENT_ROWS.load


class SqlPaymentRepository(AggregateRepository[Payment]):
    rows = PAYMENT_ROWS

    def get(self, payment_id: str, for_update: bool = False) -> Payment | None:
        return self._get(payment_id, for_update)

    def add(self, payment: Payment) -> None:
        self._add(payment)

    def update(self, payment: Payment) -> None:
        self._update(payment)

    def list(self, *, customer_id: str | None, status: str | None, limit: int,
             after: PageCursor | None, within: PaymentRange | None = None) -> builtins.list[Payment]:
        stmt = select(PaymentRow)
        if customer_id is not None:
            stmt = stmt.where(col(PaymentRow.customer_id) == customer_id)
        if status is not None:
            stmt = stmt.where(col(PaymentRow.status) == status)
        if within is not None:
            if within.created_from is not None:
                stmt = stmt.where(col(PaymentRow.created_at) >= to_db(within.created_from))
            if within.created_before is not None:
                stmt = stmt.where(col(PaymentRow.created_at) < to_db(within.created_before))
            if within.currency is not None:
                stmt = stmt.where(col(PaymentRow.currency) == within.currency)
            if within.min_amount is not None:
                stmt = stmt.where(col(PaymentRow.amount) >= within.min_amount)
            if within.max_amount is not None:
                stmt = stmt.where(col(PaymentRow.amount) <= within.max_amount)
        if after is not None:
            at = to_db(after.created_at)
            stmt = stmt.where(or_(col(PaymentRow.created_at) < at,
                                  and_(col(PaymentRow.created_at) == at, col(PaymentRow.id) < after.id)))
        stmt = stmt.order_by(col(PaymentRow.created_at).desc(), col(PaymentRow.id).desc()).limit(limit)
        return [_payment(r) for r in self.session.exec(stmt).all()]

    def claim_due(self, *, now: datetime, owner: str, lease_until: datetime,
                  unknown_only: bool = False) -> Payment | None:
        db_now = to_db(now)
        due = or_(
            col(PaymentRow.status) == PaymentStatus.PENDING,
            and_(col(PaymentRow.status) == PaymentStatus.RETRYING, col(PaymentRow.next_attempt_at) <= db_now),
            col(PaymentRow.status) == PaymentStatus.PROCESSING,  # only with an expired lease: its process died
        )
        free = or_(col(PaymentRow.lease_expires_at).is_(None), col(PaymentRow.lease_expires_at) < db_now,
                   # held for this process (its card is here), once its next attempt is due
                   and_(col(PaymentRow.lease_owner) == hold_name(owner),
                        or_(col(PaymentRow.next_attempt_at).is_(None), col(PaymentRow.next_attempt_at) <= db_now)))
        stmt = select(PaymentRow).where(due, free)
        if unknown_only:
            stmt = stmt.where(col(PaymentRow.needs_lookup).is_(True))
        return self._claim_first(stmt, owner, lease_until)

    def renew_lease(self, payment_id: str, owner: str, lease_until: datetime) -> bool:
        return self._renew_lease(payment_id, owner, lease_until)

    def release(self, payment_id: str, owner: str) -> None:
        self._release(payment_id, owner)

    def count_by_status(self) -> dict[str, int]:
        rows = self.session.exec(select(PaymentRow.status, func.count()).group_by(col(PaymentRow.status))).all()
        return {status: count for status, count in rows}

    def stats(self, customer_id: str | None, since: datetime) -> PaymentStats:
        """(count by status, completed volume since `since` by currency) for one customer or all."""
        counts = select(PaymentRow.status, func.count()).group_by(col(PaymentRow.status))
        volume = (select(PaymentRow.currency, func.coalesce(func.sum(PaymentRow.amount), 0))
                  .where(col(PaymentRow.status) == PaymentStatus.COMPLETED,
                         col(PaymentRow.completed_at) >= to_db(since))
                  .group_by(col(PaymentRow.currency)))
        if customer_id is not None:
            counts = counts.where(col(PaymentRow.customer_id) == customer_id)
            volume = volume.where(col(PaymentRow.customer_id) == customer_id)
        return PaymentStats({s: n for s, n in self.session.exec(counts).all()},
                            {c: int(v) for c, v in self.session.exec(volume).all()})

    def finished_since(self, since: datetime) -> builtins.list[tuple[datetime, str]]:
        stmt = (select(PaymentRow.updated_at, PaymentRow.status)
                .where(col(PaymentRow.status).in_(TERMINAL), col(PaymentRow.updated_at) >= to_db(since)))
        return [(from_db(at), status) for at, status in self.session.exec(stmt).all()]

    def recent_failures(self, limit: int) -> builtins.list[Payment]:
        stmt = (select(PaymentRow).where(col(PaymentRow.failure_code).is_not(None))
                .order_by(col(PaymentRow.updated_at).desc()).limit(limit))
        return [_payment(r) for r in self.session.exec(stmt).all()]


class SqlIdempotencyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, scope: str, key: str) -> IdempotencyRecord | None:
        row = self.session.get(IdempotencyRow, (scope, key))
        if row is None:
            return None
        return IdempotencyRecord(row.scope, row.key, row.fingerprint, row.resource_type, row.resource_id,
                                 from_db(row.created_at))

    def add(self, record: IdempotencyRecord) -> None:
        # An INSERT statement, not an ORM object and a flush: it is on every submission's path, where
        # building and flushing the object was a seventh of the server's CPU (docs/benchmarks.md).
        try:
            self.session.exec(insert(IdempotencyRow).values(
                scope=record.scope, key=record.key, fingerprint=record.fingerprint,
                resource_type=record.resource_type, resource_id=record.resource_id,
                created_at=to_db(record.created_at)))
        except IntegrityError:
            raise DuplicateKey("a unique key is already taken") from None


def _event(row: OutboxRow) -> Event:
    return Event(row.type, json.loads(row.data), from_db(row.created_at), customer_id=row.customer_id,
                 aggregate_id=row.aggregate_id, id=row.id, seq=row.seq)


class SqlOutboxRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, event: Event) -> None:
        self.session.add(OutboxRow(id=event.id, type=event.type, aggregate_id=event.aggregate_id,
                                   customer_id=event.customer_id, data=json.dumps(event.data),
                                   created_at=to_db(event.created_at)))

    def after(self, seq: int, limit: int) -> list[Event]:
        stmt = select(OutboxRow).where(col(OutboxRow.seq) > seq).order_by(col(OutboxRow.seq)).limit(limit)
        return [_event(r) for r in self.session.exec(stmt).all()]

    def for_aggregate(self, aggregate_id: str) -> list[Event]:
        stmt = select(OutboxRow).where(col(OutboxRow.aggregate_id) == aggregate_id).order_by(col(OutboxRow.seq))
        return [_event(r) for r in self.session.exec(stmt).all()]

    def recent(self, customer_id: str | None, limit: int, prefixes: tuple[str, ...] = ("payment.", "order.")) \
            -> list[Event]:
        """The newest events (newest first) of one customer, or of everybody."""
        stmt = select(OutboxRow).where(or_(*[col(OutboxRow.type).startswith(p) for p in prefixes]))
        if customer_id is not None:
            stmt = stmt.where(col(OutboxRow.customer_id) == customer_id)
        stmt = stmt.order_by(col(OutboxRow.seq).desc()).limit(limit)
        return [_event(r) for r in self.session.exec(stmt).all()]

    def seq_of(self, event_id: str) -> int | None:
        return self.session.exec(select(OutboxRow.seq).where(col(OutboxRow.id) == event_id)).one_or_none()

    def last_seq(self) -> int:
        # COALESCE(..., 0) is never NULL; the stubs type it after the nullable column.
        return cast(int, self.session.exec(select(func.coalesce(func.max(OutboxRow.seq), 0))).one())


def _attempt(row: PaymentAttemptRow) -> Attempt:
    return Attempt(row.payment_id, row.number, CallKind(row.kind), row.provider, from_db(row.started_at),
                   row.latency_ms, Outcome(row.outcome) if row.outcome else None, row.code, row.transaction_id,
                   id=row.id)


class SqlAttemptRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, attempt: Attempt) -> Attempt:
        row = PaymentAttemptRow(payment_id=attempt.payment_id, number=attempt.number, kind=str(attempt.kind),
                                provider=attempt.provider, started_at=to_db(attempt.started_at),
                                latency_ms=attempt.latency_ms,
                                outcome=str(attempt.outcome) if attempt.outcome else None,
                                code=attempt.code, transaction_id=attempt.transaction_id)
        self.session.add(row)
        flush(self.session)
        return replace(attempt, id=row.id)

    def finish(self, attempt: Attempt) -> None:
        self.session.exec(update(PaymentAttemptRow).where(col(PaymentAttemptRow.id) == attempt.id).values(
            started_at=to_db(attempt.started_at), latency_ms=attempt.latency_ms,
            outcome=str(attempt.outcome) if attempt.outcome else None,
            code=attempt.code, transaction_id=attempt.transaction_id))

    def for_payment(self, payment_id: str) -> builtins.list[Attempt]:
        rows = self.session.exec(select(PaymentAttemptRow).where(col(PaymentAttemptRow.payment_id) == payment_id)
                                 .order_by(col(PaymentAttemptRow.number))).all()
        return [_attempt(r) for r in rows]

    def remove(self, attempt: Attempt) -> None:
        self.session.exec(delete(PaymentAttemptRow).where(col(PaymentAttemptRow.id) == attempt.id))

    def next_number(self, payment_id: str) -> int:
        """The payment's next attempt number, under its row's lock (held to the commit): the drains of
        its charge and of its refunds, in any process, number one at a time, never twice the same."""
        self.session.exec(select(PaymentRow.id).where(col(PaymentRow.id) == payment_id).with_for_update())
        top = self.session.exec(select(func.max(PaymentAttemptRow.number))
                                .where(col(PaymentAttemptRow.payment_id) == payment_id)).one()
        return int(top or 0) + 1

    def recent(self, since: datetime, limit: int) -> builtins.list[Attempt]:
        rows = self.session.exec(select(PaymentAttemptRow)
                                 .where(col(PaymentAttemptRow.started_at) >= to_db(since),
                                        col(PaymentAttemptRow.outcome).is_not(None))
                                 .order_by(col(PaymentAttemptRow.started_at).desc()).limit(limit)).all()
        return [_attempt(r) for r in rows]


class SqlProviderEventRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, provider: str, event_id: str, event_type: str, at: datetime, outcome: str) -> None:
        self.session.add(ProviderEventRow(provider=provider, event_id=event_id, type=event_type,
                                          received_at=to_db(at), outcome=outcome))
        flush(self.session)

    def seen(self, provider: str, event_id: str) -> bool:
        return self.session.get(ProviderEventRow, (provider, event_id)) is not None
