"""Demo data for the embedded default: created on first start only."""

from __future__ import annotations

from domain.errors import DuplicateKey
from domain.users import UserService

DEMO_USERS = (
    ("customer@example.com", "password123", "Demo Customer", "customer"),
    ("admin@example.com", "admin123", "Demo Admin", "admin"),
)


def seed_demo_users(users: UserService) -> int:
    """On a first start (no users at all), create the demo users; return how many were created.

    A later start never brings back a demo user that an admin deleted.
    """
    created = 0
    if users.list():
        return 0
    for email, password, name, role in DEMO_USERS:
        try:
            users.create(email=email, password=password, name=name, role=role)
            created += 1
        except DuplicateKey:  # another process seeded it at the same moment
            pass
    return created
