"""The mock provider's ledger in the shared database: one charge per idempotency key, ever."""

from __future__ import annotations

import builtins

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from domain.model.providers import LedgerCharge, LedgerRefund
from storage.db import Database, from_db, to_db
from storage.tables import MockAttemptRow, MockChargeRow, MockRefundRow


def _charge(row: MockChargeRow) -> LedgerCharge:
    return LedgerCharge(row.payment_id, row.amount, row.currency, row.transaction_id, from_db(row.charged_at))


def _refund(row: MockRefundRow) -> LedgerRefund:
    return LedgerRefund(row.payment_id, row.refund_id, row.amount, row.currency, row.provider_refund_id,
                        from_db(row.refunded_at))


class SqlMockLedger:
    def __init__(self, db: Database) -> None:
        self.db = db

    def find(self, key: str) -> LedgerCharge | None:
        with self.db.session(read_only=True) as session:
            row = session.exec(select(MockChargeRow).where(col(MockChargeRow.idempotency_key) == key)).first()
            return _charge(row) if row else None

    def record(self, charge: LedgerCharge) -> LedgerCharge:
        try:
            with self.db.session() as session:
                session.add(MockChargeRow(idempotency_key=charge.payment_id, payment_id=charge.payment_id,
                                          amount=charge.amount, currency=charge.currency,
                                          transaction_id=charge.transaction_id, charged_at=to_db(charge.charged_at)))
                session.commit()
                return charge
        except IntegrityError:
            existing = self.find(charge.payment_id)  # a concurrent call with the same key charged first
            assert existing is not None
            return existing

    def next_attempt(self, key: str) -> int:
        with self.db.session() as session:
            result = session.exec(update(MockAttemptRow).where(col(MockAttemptRow.idempotency_key) == key)
                                  .values(attempts=col(MockAttemptRow.attempts) + 1))
            if result.rowcount == 0:
                session.add(MockAttemptRow(idempotency_key=key, attempts=1))
                session.flush()
            attempts = session.exec(select(MockAttemptRow.attempts)
                                    .where(col(MockAttemptRow.idempotency_key) == key)).one()
            session.commit()
            return attempts

    def list(self, payment_id: str | None, limit: int) -> list[LedgerCharge]:
        with self.db.session(read_only=True) as session:
            stmt = select(MockChargeRow)
            if payment_id is not None:
                stmt = stmt.where(col(MockChargeRow.payment_id) == payment_id)
            stmt = stmt.order_by(col(MockChargeRow.charged_at).desc(), col(MockChargeRow.id).desc()).limit(limit)
            return [_charge(r) for r in session.exec(stmt).all()]

    def find_refund(self, key: str) -> LedgerRefund | None:
        with self.db.session(read_only=True) as session:
            row = session.exec(select(MockRefundRow).where(col(MockRefundRow.idempotency_key) == key)).first()
            return _refund(row) if row else None

    def record_refund(self, key: str, refund: LedgerRefund) -> LedgerRefund:
        try:
            with self.db.session() as session:
                session.add(MockRefundRow(idempotency_key=key, payment_id=refund.payment_id,
                                          refund_id=refund.refund_id, amount=refund.amount, currency=refund.currency,
                                          provider_refund_id=refund.provider_refund_id,
                                          refunded_at=to_db(refund.refunded_at)))
                session.commit()
                return refund
        except IntegrityError:
            existing = self.find_refund(key)  # a concurrent call with the same key refunded first
            assert existing is not None
            return existing

    def refunds(self, payment_id: str | None, limit: int) -> builtins.list[LedgerRefund]:
        with self.db.session(read_only=True) as session:
            stmt = select(MockRefundRow)
            if payment_id is not None:
                stmt = stmt.where(col(MockRefundRow.payment_id) == payment_id)
            stmt = stmt.order_by(col(MockRefundRow.refunded_at).desc(), col(MockRefundRow.id).desc()).limit(limit)
            return [_refund(r) for r in session.exec(stmt).all()]
