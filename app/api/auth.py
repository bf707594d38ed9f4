"""Sign-in and the current user."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from app import net
from app.api.deps import ContainerDep, CurrentUser
from app.api.errors import responses
from app.api.schemas import LoginRequest, LoginResponse, UserPublic
from app.bootstrap import Container

router = APIRouter(prefix="/api/auth", tags=["auth"])


def client_address(request: Request) -> str:
    c: Container = request.app.state.container
    return net.client_address(request.client.host if request.client else None,
                              ",".join(request.headers.getlist("x-forwarded-for")), c.settings.trusted_proxy_networks)


@router.post("/login", response_model=LoginResponse, responses=responses(400, 401, 422, 429))
async def login(body: LoginRequest, request: Request, c: ContainerDep) -> dict[str, Any]:
    """Exchange email and password for a bearer token (throttled after repeated failures)."""
    user = await run_in_threadpool(c.auth.authenticate, body.email, body.password, client_address(request))
    return {"token": c.tokens.issue(user), "tokenType": "Bearer",
            "expiresIn": c.tokens.ttl_seconds, "user": user.public()}


@router.get("/me", response_model=UserPublic, responses=responses(401))
def me(user: CurrentUser) -> dict[str, Any]:
    """The signed-in user."""
    return user.public()
