"""Request dependencies: the container, the signed-in user, the admin."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from app.bootstrap import Container
from app.security import InvalidToken, TokenClaims
from domain.model.users import User
from domain.observability import bind

bearer = HTTPBearer(auto_error=False, description="A JWT from POST /api/auth/login")


async def get_container(request: Request) -> Container:
    # async: a plain attribute read needs no trip through the thread pool
    container: Container = request.app.state.container  # set by install_api
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


def _load_user(container: Container, user_id: str) -> User | None:
    with container.uow(read_only=True) as uow:
        return uow.users.get(user_id)


async def cached_user(container: Container, user_id: str) -> User | None:
    """The user as stored, read through the short-lived cache (see UserCache)."""
    user = container.user_cache.get(user_id)
    if user is None:
        user = await run_in_threadpool(_load_user, container, user_id)
        if user is not None:
            container.user_cache.put(user)
    return user


async def token_user(container: Container, token: str | None) -> tuple[TokenClaims, User] | None:
    """The token's claims and user, while the token still speaks for that user; else None.
    The one lookup from a bearer token to a user, for HTTP routes and the WebSocket alike."""
    if not token:
        return None
    try:
        claims = container.tokens.decode(token)
    except InvalidToken:
        return None
    user = await cached_user(container, claims.user_id)
    if user is None or not claims.admits(user):
        return None
    return claims, user


async def current_user(container: ContainerDep,
                       credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> User:
    """The token's user, still active, with the password the token was issued under."""
    if credentials is None:
        raise HTTPException(401, "authentication required", headers={"WWW-Authenticate": "Bearer"})
    found = await token_user(container, credentials.credentials)
    if found is None:
        raise HTTPException(401, "invalid or expired token", headers={"WWW-Authenticate": "Bearer"})
    bind(user_id=found[1].id)  # the rest of the request's log lines name its user
    return found[1]


CurrentUser = Annotated[User, Depends(current_user)]


async def admin_user(user: CurrentUser) -> User:
    if not user.is_admin:
        raise HTTPException(403, "admin role required")
    return user


AdminUser = Annotated[User, Depends(admin_user)]
