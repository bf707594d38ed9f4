"""Failed sign-ins in the shared database, so every process of the gateway throttles the same way."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlmodel import col, select

from storage.db import Database
from storage.tables import LoginFailureRow


class SqlFailureStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def failures(self, key: str, since: datetime) -> list[datetime]:
        with self.db.session(read_only=True) as session:
            rows = session.exec(select(LoginFailureRow.at).where(col(LoginFailureRow.key) == key,
                                                                   col(LoginFailureRow.at) > since)
                                .order_by(col(LoginFailureRow.at))).all()
        return list(rows)

    def add(self, keys: tuple[str, ...], at: datetime) -> None:
        with self.db.session() as session:
            session.add_all([LoginFailureRow(key=key[:300], at=at) for key in keys])
            session.commit()

    def clear(self, key: str) -> None:
        with self.db.session() as session:
            session.exec(delete(LoginFailureRow).where(col(LoginFailureRow.key) == key))
            session.commit()

    def discard(self, key: str, at: datetime) -> None:
        with self.db.session() as session:
            session.exec(delete(LoginFailureRow).where(col(LoginFailureRow.key) == key[:300],
                                                       col(LoginFailureRow.at) == at))
            session.commit()

    def prune(self, before: datetime) -> None:
        with self.db.session() as session:
            session.exec(delete(LoginFailureRow).where(col(LoginFailureRow.at) <= before))
            session.commit()
