"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import fcntl
from pathlib import Path

from alembic import command
from sqlalchemy import inspect, text

from app.bootstrap import build
from storage.db import Database
from storage.migrate import LOCK_KEY, alembic_config, upgrade
from storage.seed import seed_demo_users
from tests.conftest import make_settings


def test_migrations_create_every_table_and_leave_no_drift_from_the_models(db_url: str):
    db = Database(db_url)

    upgrade(db)
    upgrade(db)  # a second start finds nothing to do

    tables = set(inspect(db.engine).get_table_names())
    assert {"users", "payments", "idempotency_keys", "outbox", "rate_limiter", "mock_charges", "products",
            "cart_items", "orders", "order_items", "event_deliveries", "login_failures", "alembic_version"} <= tables
    config = alembic_config()
    with db.engine.connect() as conn:
        config.attributes["connection"] = conn
        command.check(config)  # raises when the models and the migrations disagree
    db.dispose()


def start_lock_is_free(db_url: str) -> bool:
    """Whether another starting process could take the start lock right now."""
    other = Database(db_url)
    try:
        if other.is_sqlite:
            path = Path(other.engine.url.database)
            with open(path.with_suffix(path.suffix + ".migrate-lock"), "w") as lock:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return False
                fcntl.flock(lock, fcntl.LOCK_UN)
                return True
        with other.engine.connect() as conn:
            taken = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}).scalar_one()
            if taken:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
            return bool(taken)
    finally:
        other.dispose()


def test_the_demo_seed_runs_under_the_start_lock_so_starting_processes_take_turns(db_url: str):
    db = Database(db_url)
    free_during_seed: list[bool] = []

    upgrade(db, then=lambda: free_during_seed.append(start_lock_is_free(db_url)))

    assert free_during_seed == [False]
    assert start_lock_is_free(db_url)
    db.dispose()


def test_a_demo_user_another_process_created_meanwhile_does_not_stop_the_start(tmp_path: Path):
    container = build(make_settings(tmp_path))
    container.init_storage()
    container.users.list = lambda: []  # as seen by a process that looked before the other one committed

    assert seed_demo_users(container.users) == 0
    container.db.dispose()
