"""Request dependencies: the container, the signed-in user, the admin."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from app.bootstrap import Container
from app.security import InvalidToken
from domain.model.users import User

bearer = HTTPBearer(auto_error=False, description="A JWT from POST /api/auth/login")


async def get_container(request: Request) -> Container:
    # async: a plain attribute read needs no trip through the thread pool
    return request.app.state.container


ServicesDep = Annotated[Container, Depends(get_container)]


def _load_user(container: Container, user_id: str) -> User | None:
    with container.uow(read_only=True) as uow:
        return uow.users.get(user_id)


async def current_user(container: ServicesDep,
                       credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> User:
    """The token's user, still active. Looked up in a short-lived cache first (see UserCache)."""
    if credentials is None:
        raise HTTPException(401, "authentication required", headers={"WWW-Authenticate": "Bearer"})
    try:
        claims = container.tokens.decode(credentials.credentials)
    except InvalidToken:
        raise HTTPException(401, "invalid or expired token", headers={"WWW-Authenticate": "Bearer"}) from None
    user = container.user_cache.get(claims.user_id)
    if user is None:
        user = await run_in_threadpool(_load_user, container, claims.user_id)
        if user is not None:
            container.user_cache.put(user)
    if not claims.admits(user):
        raise HTTPException(401, "invalid or expired token", headers={"WWW-Authenticate": "Bearer"})
    return user


CurrentUser = Annotated[User, Depends(current_user)]


async def admin_user(user: CurrentUser) -> User:
    if not user.is_admin:
        raise HTTPException(403, "admin role required")
    return user


AdminUser = Annotated[User, Depends(admin_user)]
