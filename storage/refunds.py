"""Refund rows: the refund repository (domain.ports.RefundRepository)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, or_, update
from sqlmodel import col, select

from domain.model.refunds import Refund
from domain.model.statuses import RefundStatus
from storage.db import to_db
from storage.repositories import AggregateRepository, AggregateRows, flush
from storage.tables import RefundRow

REFUND_ROWS = AggregateRows(Refund, RefundRow, {"created_at", "updated_at", "next_attempt_at", "lease_expires_at"},
                            RefundStatus)


class SqlRefundRepository(AggregateRepository[Refund]):
    rows = REFUND_ROWS

    def get(self, refund_id: str, for_update: bool = False) -> Refund | None:
        return self._get(refund_id, for_update)

    def add(self, refund: Refund) -> None:
        self._add(refund)

    def update(self, refund: Refund) -> None:
        self._update(refund)

    def for_payment(self, payment_id: str) -> list[Refund]:
        rows = self.session.exec(select(RefundRow).where(col(RefundRow.payment_id) == payment_id)
                                 .order_by(col(RefundRow.created_at), col(RefundRow.id))).all()
        return [REFUND_ROWS.load(r) for r in rows]

    def committed_total(self, payment_id: str) -> int:
        total = self.session.exec(select(func.coalesce(func.sum(RefundRow.amount), 0)).where(
            col(RefundRow.payment_id) == payment_id,
            col(RefundRow.status).in_([RefundStatus.PENDING, RefundStatus.SUCCEEDED]))).one()
        return int(total)

    def claim_due(self, *, now: datetime, owner: str, lease_until: datetime) -> Refund | None:
        db_now = to_db(now)
        due = and_(col(RefundRow.status) == RefundStatus.PENDING,
                    or_(col(RefundRow.next_attempt_at).is_(None), col(RefundRow.next_attempt_at) <= db_now))
        free = or_(col(RefundRow.lease_expires_at).is_(None), col(RefundRow.lease_expires_at) < db_now)
        stmt = (select(RefundRow).where(due, free).order_by(col(RefundRow.created_at)).limit(1)
                .with_for_update(skip_locked=True))
        row = self.session.exec(stmt).first()
        if row is None:
            return None
        row.lease_owner = owner
        row.lease_expires_at = to_db(lease_until)
        self.session.add(row)
        flush(self.session)
        return REFUND_ROWS.load(row)

    def renew_lease(self, refund_id: str, owner: str, lease_until: datetime) -> bool:
        result = self.session.exec(update(RefundRow).where(col(RefundRow.id) == refund_id,
                                                           col(RefundRow.lease_owner) == owner)
                                   .values(lease_expires_at=to_db(lease_until)))
        return result.rowcount == 1

    def release(self, refund_id: str, owner: str) -> None:
        self.session.exec(update(RefundRow).where(col(RefundRow.id) == refund_id, col(RefundRow.lease_owner) == owner)
                          .values(lease_owner=None, lease_expires_at=None))
