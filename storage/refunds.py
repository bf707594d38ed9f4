"""Refund rows: the refund repository (domain.ports.RefundRepository)."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, update
from sqlmodel import Session, col, select

from domain.model.refunds import Refund
from domain.model.statuses import RefundStatus
from domain.ports import NewEvents
from storage.db import from_db, to_db
from storage.repositories import flush
from storage.tables import RefundRow

_FIELDS = [f.name for f in fields(Refund) if f.name != "events"]
_TIMES = {"created_at", "updated_at", "next_attempt_at", "lease_expires_at"}


def _refund(row: RefundRow) -> Refund:
    values = {name: getattr(row, name) for name in _FIELDS}
    for name in _TIMES:
        values[name] = from_db(values[name])
    values["status"] = RefundStatus(values["status"])
    return Refund(**values)


def _values(refund: Refund) -> dict[str, Any]:
    values = {name: getattr(refund, name) for name in _FIELDS}
    for name in _TIMES:
        values[name] = to_db(values[name])
    values["status"] = str(values["status"])
    return values


class SqlRefundRepository:
    def __init__(self, session: Session, events: NewEvents) -> None:
        self.session = session
        self._events = events  # a refund added or updated here has its new events written at commit

    def get(self, refund_id: str, for_update: bool = False) -> Refund | None:
        stmt = select(RefundRow).where(col(RefundRow.id) == refund_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = self.session.exec(stmt).first()
        return _refund(row) if row else None

    def add(self, refund: Refund) -> None:
        self.session.add(RefundRow(**_values(refund)))
        flush(self.session)
        self._events.saw(refund)

    def update(self, refund: Refund) -> None:
        values = _values(refund)
        values.pop("id")
        self.session.exec(update(RefundRow).where(col(RefundRow.id) == refund.id).values(**values))
        self._events.saw(refund)

    def for_payment(self, payment_id: str) -> list[Refund]:
        rows = self.session.exec(select(RefundRow).where(col(RefundRow.payment_id) == payment_id)
                                 .order_by(col(RefundRow.created_at), col(RefundRow.id))).all()
        return [_refund(r) for r in rows]

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
        return _refund(row)

    def renew_lease(self, refund_id: str, owner: str, lease_until: datetime) -> bool:
        result = self.session.exec(update(RefundRow).where(col(RefundRow.id) == refund_id,
                                                           col(RefundRow.lease_owner) == owner)
                                   .values(lease_expires_at=to_db(lease_until)))
        return result.rowcount == 1

    def release(self, refund_id: str, owner: str) -> None:
        self.session.exec(update(RefundRow).where(col(RefundRow.id) == refund_id, col(RefundRow.lease_owner) == owner)
                          .values(lease_owner=None, lease_expires_at=None))
