"""Accounts: users, roles and the rules for managing them."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from domain.clock import Clock, iso, new_id
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.events import Event

if TYPE_CHECKING:
    from domain.ports import PasswordHasher, UnitOfWork

ROLES = ("customer", "admin")
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class User:
    id: str
    email: str
    name: str
    role: str
    password_hash: str
    active: bool
    created_at: datetime
    updated_at: datetime
    # Bumped by a password change: every token and browser session issued before it is refused.
    token_version: int = 0

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def public(self) -> dict[str, Any]:
        """What the API may show: never the password or its hash."""
        return {
            "id": self.id,
            "email": self.email,
            "name": self.name,
            "role": self.role,
            "active": self.active,
            "createdAt": iso(self.created_at),
            "updatedAt": iso(self.updated_at),
        }


def normalize_email(email: str) -> str:
    email = (email or "").strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise ValidationFailed.on("email", "must be a valid email address")
    return email


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed.on("password", f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationFailed.on("password", f"must be at most {MAX_PASSWORD_LENGTH} characters")
    return password


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not 1 <= len(name) <= 100:
        raise ValidationFailed.on("name", "must be 1 to 100 characters")
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ValidationFailed.on("role", f"must be one of {', '.join(ROLES)}")
    return role


class UserService:
    """Use cases of user management; admin-only checks happen at the edge."""

    def __init__(self, uow: Callable[[], UnitOfWork], hasher: PasswordHasher, clock: Clock,
                 on_changed: Callable[[str], None] = lambda user_id: None) -> None:
        self.uow = uow
        self.hasher = hasher
        self.clock = clock
        self.on_changed = on_changed  # told the id of a user just updated or deleted (caches drop it)

    def create(self, *, email: str, password: str, name: str, role: str = "customer") -> User:
        email = normalize_email(email)
        check_password(password)
        now = self.clock.now()
        user = User(
            id=new_id("usr"),
            email=email,
            name=check_name(name),
            role=check_role(role),
            password_hash=self.hasher.hash(password),
            active=True,
            created_at=now,
            updated_at=now,
        )
        with self.uow() as uow:
            if uow.users.get_by_email(email) is not None:
                raise Conflict("a user with this email already exists")
            uow.users.add(user)
            uow.outbox.add(Event("user.created", user.public(), now, aggregate_id=user.id))
            uow.commit()
        return user

    def get(self, user_id: str) -> User:
        with self.uow() as uow:
            user = uow.users.get(user_id)
        if user is None:
            raise NotFound("user not found")
        return user

    def list(self) -> list[User]:
        with self.uow() as uow:
            return uow.users.list()

    def update(
        self,
        actor: User,
        user_id: str,
        *,
        name: str | None = None,
        role: str | None = None,
        password: str | None = None,
        active: bool | None = None,
    ) -> User:
        changes: dict[str, Any] = {}
        if name is not None:
            changes["name"] = check_name(name)
        if role is not None:
            changes["role"] = check_role(role)
        if password is not None:
            changes["password_hash"] = self.hasher.hash(check_password(password))
        if active is not None:
            changes["active"] = bool(active)
        with self.uow() as uow:
            user = uow.users.get(user_id)
            if user is None:
                raise NotFound("user not found")
            if user.id == actor.id and changes.get("role", user.role) != "admin" and user.is_admin:
                raise Conflict("you cannot remove your own admin role")
            if user.id == actor.id and changes.get("active") is False:
                raise Conflict("you cannot deactivate yourself")
            if "password_hash" in changes:
                changes["token_version"] = user.token_version + 1
            updated = replace(user, **changes, updated_at=self.clock.now())
            uow.users.update(updated)
            uow.outbox.add(Event("user.updated", updated.public(), updated.updated_at, aggregate_id=user.id))
            uow.commit()
        self.on_changed(user_id)
        return updated

    def delete(self, actor: User, user_id: str) -> None:
        if user_id == actor.id:
            raise Conflict("you cannot delete yourself")
        with self.uow() as uow:
            user = uow.users.get(user_id)
            if user is None:
                raise NotFound("user not found")
            uow.users.delete(user_id)
            uow.outbox.add(Event("user.deleted", {"id": user_id}, self.clock.now(), aggregate_id=user_id))
            uow.commit()
        self.on_changed(user_id)
