"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from storage.db import Database
from storage.migrate import alembic_config, upgrade


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
