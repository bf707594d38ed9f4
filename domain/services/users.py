"""Use cases of user management; the admin-only checks happen at the edge."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from domain.clock import Clock, new_id
from domain.model.errors import Conflict, NotFound, every_field
from domain.model.events import Event
from domain.model.users import User, check_name, check_password, check_role, normalize_email
from domain.ports import PasswordHasher, UnitOfWorkFactory


class UserService:
    """Use cases of user management; admin-only checks happen at the edge."""

    def __init__(self, uow: UnitOfWorkFactory, hasher: PasswordHasher, clock: Clock,
                 on_changed: Callable[[str], None] = lambda user_id: None) -> None:
        self.uow = uow
        self.hasher = hasher
        self.clock = clock
        self.on_changed = on_changed  # told the id of a user just updated or deleted (caches drop it)

    def create(self, *, email: str, password: str, name: str, role: str = "customer") -> User:
        email, _, name, role = every_field(lambda: normalize_email(email), lambda: check_password(password),
                                           lambda: check_name(name), lambda: check_role(role))
        now = self.clock.now()
        user = User(
            id=new_id("usr"),
            email=email,
            name=name,
            role=role,
            password_hash=self.hasher.hash(password),
            active=True,
            created_at=now,
            updated_at=now,
        )
        with self.uow() as uow:
            if uow.users.get_by_email(email) is not None:
                raise Conflict("a user with this email already exists")
            uow.users.add(user)
            uow.publish(Event("user.created", user.public(), now, aggregate_id=user.id))
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
            user = uow.users.get(user_id, for_update=True)  # a concurrent change waits: no lost update
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
            uow.publish(Event("user.updated", updated.public(), updated.updated_at, aggregate_id=user.id))
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
            uow.publish(Event("user.deleted", {"id": user_id}, self.clock.now(), aggregate_id=user_id))
            uow.commit()
        self.on_changed(user_id)
