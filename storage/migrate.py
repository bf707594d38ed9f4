"""Schema migrations (Alembic), applied on start by every process and safe to run concurrently.

On PostgreSQL an advisory lock makes concurrent starts take turns; on SQLite a file lock beside
the database does. `make migrate` (alembic upgrade head) applies the same migrations by hand.
"""

from __future__ import annotations

import fcntl
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from storage.db import Database

ROOT = Path(__file__).resolve().parents[1]
LOCK_KEY = 0x5041_5947  # "PAYG": the advisory lock of PayGate's migrations


def alembic_config() -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["configure_logging"] = False
    return config


def upgrade(db: Database, revision: str = "head") -> None:
    config = alembic_config()
    if db.is_sqlite:
        path = Path(db.engine.url.database or "paygate.db")
        with open(path.with_suffix(path.suffix + ".migrate-lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            with db.engine.connect() as conn:
                config.attributes["connection"] = conn
                command.upgrade(config, revision)
                conn.commit()
        return
    with db.engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": LOCK_KEY})
        try:
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
            conn.commit()
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
            conn.commit()
