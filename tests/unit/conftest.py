"""Unit tests touch no database: one that tries fails at once, saying where such a test belongs.

Every way into a database that this code base has is shut for the length of each unit test: the
SQLAlchemy engine (under each name it is imported as), `storage.db.Database`, and the drivers'
connect functions. The failure is pytest's own, a BaseException, so no `except Exception` in the
code under test can swallow it.
"""

from __future__ import annotations

import sqlite3
import sys
from typing import Any, NoReturn

import pytest
import sqlalchemy
import sqlalchemy.engine
import sqlmodel

import storage.db

MESSAGE = ("a unit test tried to use a database: wire the fakes of tests/fakes.py (make_shop, "
           "FakeUnitOfWorkFactory), or move the test to tests/integration")


def refuse(*args: Any, **kwargs: Any) -> NoReturn:
    pytest.fail(MESSAGE)


@pytest.fixture(autouse=True)
def no_database(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in (sqlalchemy, sqlalchemy.engine, sqlmodel, storage.db):
        monkeypatch.setattr(module, "create_engine", refuse)
    monkeypatch.setattr(storage.db.Database, "__init__", refuse)
    monkeypatch.setattr(sqlite3, "connect", refuse)
    psycopg = sys.modules.get("psycopg")  # imported only once something asked for PostgreSQL
    if psycopg is not None:
        monkeypatch.setattr(psycopg, "connect", refuse)
        monkeypatch.setattr(psycopg.Connection, "connect", classmethod(refuse))
