"""The signed-in user of a browser session.

NiceGUI keeps `app.storage.user` in a file on the server (in the data folder, mode 600). What is kept
there is no bearer token: a stolen copy of the file cannot call the API. It names the user, the
user's token version at sign-in (a password change bumps it and ends the session) and when the
session ends. Signing out removes it.
"""

from __future__ import annotations

import time
from typing import Any

from nicegui import app, run

from app.bootstrap import Container
from domain.model.users import User

SESSION_KEY = "session"
LEGACY_TOKEN_KEY = "token"  # what older versions kept: a JWT, dropped on sight


def _current(container: Container, session: Any) -> User | None:
    if not isinstance(session, dict):
        return None
    user_id, version, expires = session.get("user"), session.get("version"), session.get("expires")
    if not isinstance(user_id, str) or not isinstance(version, int) or not isinstance(expires, int | float):
        return None
    if expires <= time.time():
        return None
    with container.uow(read_only=True) as uow:
        user = uow.users.get(user_id)
    if user is None or not user.active or user.token_version != version:
        return None
    return user


async def current_user(container: Container) -> User | None:
    """The signed-in user of this browser session, looked up in a worker thread; None when signed out."""
    storage = app.storage.user
    storage.pop(LEGACY_TOKEN_KEY, None)
    session = storage.get(SESSION_KEY)
    user = await run.io_bound(_current, container, session)
    if user is None and session is not None and storage.get(SESSION_KEY) is session:
        storage.pop(SESSION_KEY, None)  # expired, revoked or malformed (and not replaced meanwhile): forget it
    return user


def sign_in(container: Container, user: User) -> None:
    app.storage.user[SESSION_KEY] = {"user": user.id, "version": user.token_version,
                                     "expires": int(time.time()) + container.tokens.ttl_seconds}


def sign_out() -> None:
    app.storage.user.pop(SESSION_KEY, None)
    app.storage.user.pop(LEGACY_TOKEN_KEY, None)
