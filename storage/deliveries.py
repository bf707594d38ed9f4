"""The repository of event deliveries: the work each consumer must do once per event, across the fleet."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, or_, update
from sqlmodel import Session, col, select

from domain.model.deliveries import Delivery
from domain.model.events import Event
from domain.model.statuses import DeliveryStatus
from storage.db import to_db
from storage.repositories import _event, flush
from storage.tables import DeliveryRow, OutboxRow


class SqlDeliveryRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, event: Event, consumer: str) -> None:
        self.session.add(DeliveryRow(event_id=event.id, consumer=consumer, next_attempt_at=to_db(event.created_at)))

    def claim_due(self, *, now: datetime, owner: str, lease_until: datetime) -> Delivery | None:
        free = or_(col(DeliveryRow.lease_expires_at).is_(None), col(DeliveryRow.lease_expires_at) < now)
        due = and_(col(DeliveryRow.status) == DeliveryStatus.PENDING, col(DeliveryRow.next_attempt_at) <= now)
        stmt = (select(DeliveryRow).where(due, free)
                .order_by(col(DeliveryRow.id)).limit(1).with_for_update(skip_locked=True))
        row = self.session.exec(stmt).first()
        if row is None:
            return None
        assert row.id is not None, "a delivery read from its table has its primary key"
        row.lease_owner, row.lease_expires_at = owner, lease_until
        row.attempts += 1
        self.session.add(row)
        event_row = self.session.exec(select(OutboxRow).where(col(OutboxRow.id) == row.event_id)).one()
        flush(self.session)
        return Delivery(row.id, row.consumer, _event(event_row), row.attempts)

    def done(self, delivery_id: int, at: datetime) -> None:
        self.session.exec(update(DeliveryRow).where(col(DeliveryRow.id) == delivery_id).values(
            status=DeliveryStatus.DONE, done_at=at, lease_owner=None, lease_expires_at=None))

    def retry_later(self, delivery_id: int, at: datetime, error: str) -> None:
        self.session.exec(update(DeliveryRow).where(col(DeliveryRow.id) == delivery_id).values(
            next_attempt_at=at, last_error=error[:200], lease_owner=None, lease_expires_at=None))

    def pending_count(self) -> int:
        """Deliveries not acknowledged yet (for tests and operations)."""
        return self.session.exec(select(func.count()).select_from(DeliveryRow)
                                 .where(col(DeliveryRow.status) == DeliveryStatus.PENDING)).one()
