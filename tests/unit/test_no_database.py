"""The unit suite's guard (tests/unit/conftest.py): a unit test that reaches for a database fails."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy
import sqlmodel

from storage.db import Database

Failed = pytest.fail.Exception


@pytest.mark.parametrize("open_database", [
    lambda path: Database(f"sqlite:///{path}"),
    lambda path: sqlalchemy.create_engine(f"sqlite:///{path}"),
    lambda path: sqlmodel.create_engine(f"sqlite:///{path}"),
    lambda path: sqlite3.connect(path),
], ids=["Database", "sqlalchemy", "sqlmodel", "sqlite3"])
def test_opening_a_database_in_a_unit_test_fails_naming_where_the_test_belongs(
        open_database: Callable[[Path], object], tmp_path: Path):
    with pytest.raises(Failed, match="tests/integration"):
        open_database(tmp_path / "paygate.db")

    assert not (tmp_path / "paygate.db").exists()


def test_the_wired_container_cannot_be_built_in_a_unit_test(request: pytest.FixtureRequest):
    with pytest.raises(Failed, match="tests/fakes.py"):
        request.getfixturevalue("container")


def test_the_failure_is_not_swallowed_by_code_that_catches_every_exception(tmp_path: Path):
    def careless() -> None:
        with contextlib.suppress(Exception):  # what the guard must get through
            Database(f"sqlite:///{tmp_path / 'paygate.db'}")

    with pytest.raises(Failed):
        careless()
