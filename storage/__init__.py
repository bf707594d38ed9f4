"""Storage: SQLModel tables, repositories and the unit of work, on SQLite or PostgreSQL.

Implements the ports of `domain/ports.py`; imports `domain` and SQLModel/SQLAlchemy, never `app`.
`db.py` has the engines (SQLite: WAL, busy timeout, one writer lock), `migrate.py` applies the Alembic
migrations under a start lock, `seed.py` holds the demo data.
"""
