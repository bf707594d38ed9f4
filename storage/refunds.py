"""Refund rows: the refund repository (domain.ports.RefundRepository)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, or_
from sqlmodel import col, select

from domain.model.refunds import Refund
from domain.model.statuses import RefundStatus
from storage.db import to_db
from storage.repositories import AggregateRepository, AggregateRows
from storage.tables import RefundRow

REFUND_ROWS = AggregateRows(Refund, RefundRow, {"created_at", "updated_at", "next_attempt_at", "lease_expires_at",
                                                    "stay_until"},
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
        return self._claim_first(select(RefundRow).where(due, free), owner, lease_until)

    def renew_lease(self, refund_id: str, owner: str, lease_until: datetime) -> bool:
        return self._renew_lease(refund_id, owner, lease_until)

    def release(self, refund_id: str, owner: str) -> None:
        self._release(refund_id, owner)
