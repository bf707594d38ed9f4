"""The signed-in user of a browser session (a JWT kept in NiceGUI's per-user storage)."""

from __future__ import annotations

from nicegui import app

from app.api.deps import user_from_token
from app.bootstrap import Container
from domain.users import User

TOKEN_KEY = "token"


def signed_in_user(container: Container) -> User | None:
    token = app.storage.user.get(TOKEN_KEY)
    user = user_from_token(container, token)
    if user is None and token:
        app.storage.user.pop(TOKEN_KEY, None)  # expired or revoked: forget it
    return user


def sign_in(container: Container, user: User) -> None:
    app.storage.user[TOKEN_KEY] = container.tokens.issue(user.id, user.role)


def sign_out() -> None:
    app.storage.user.pop(TOKEN_KEY, None)
