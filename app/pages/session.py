"""The signed-in user of a browser session.

NiceGUI keeps `app.storage.user` in a file on the server (in the data folder, mode 600). What is kept
there is no bearer token: a stolen copy of the file cannot call the API. It names the user, the
user's token version at sign-in (a password change bumps it and ends the session) and when the
session ends. Signing out removes it.
"""

from __future__ import annotations

import time
from typing import Any

from nicegui import app

from app.api.deps import cached_user
from app.bootstrap import Container
from app.security import still_valid
from domain.model.users import User

SESSION_KEY = "session"
LEGACY_TOKEN_KEY = "token"  # what older versions kept: a JWT, dropped on sight


def _session_of(value: Any) -> tuple[str, int] | None:
    """(user id, token version) of a stored session that is well formed and not expired."""
    if not isinstance(value, dict):
        return None
    user_id, version, expires = value.get("user"), value.get("version"), value.get("expires")
    if not isinstance(user_id, str) or not isinstance(version, int) or not isinstance(expires, int | float):
        return None
    return (user_id, version) if expires > time.time() else None


async def current_user(container: Container) -> User | None:
    """The signed-in user of this browser session (read through the user cache, off the event loop),
    judged as a bearer token is; None when signed out."""
    storage = app.storage.user
    storage.pop(LEGACY_TOKEN_KEY, None)
    stored = storage.get(SESSION_KEY)
    session = _session_of(stored)
    user = await cached_user(container, session[0]) if session else None
    if session is not None and still_valid(user, session[1]):
        return user
    if stored is not None and storage.get(SESSION_KEY) is stored:
        storage.pop(SESSION_KEY, None)  # expired, revoked or malformed (and not replaced meanwhile): forget it
    return None


def sign_in(container: Container, user: User) -> None:
    app.storage.user[SESSION_KEY] = {"user": user.id, "version": user.token_version,
                                     "expires": int(time.time()) + container.tokens.ttl_seconds}


def sign_out() -> None:
    app.storage.user.pop(SESSION_KEY, None)
    app.storage.user.pop(LEGACY_TOKEN_KEY, None)
