"""The REST API: routers, error handlers and HTTP hygiene, installed on any FastAPI app."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api import auth, bench, images, payments, shop, system, users, ws
from app.api.errors import install_error_handlers
from app.bootstrap import Container

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
]


class SecurityHeaders:
    """Pure ASGI middleware (no buffering), so it also covers streaming and NiceGUI responses."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in SECURITY_HEADERS if k not in present]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install_api(app: FastAPI, container: Container, jobs: Any = None) -> None:
    app.state.container = container
    app.state.jobs = jobs
    install_error_handlers(app)
    for router in (system.router, auth.router, users.router, payments.router, shop.products, shop.cart,
                   shop.orders, ws.router, images.router):
        app.include_router(router)
    if bench.enabled():  # the benchmark's bare baseline; never on unless PAYGATE_BENCH_BASELINE=1
        app.include_router(bench.router)
    app.add_middleware(SecurityHeaders)
    if container.settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=container.settings.cors_origins,
                           allow_methods=["GET", "POST", "PUT", "DELETE"],
                           allow_headers=["Authorization", "Content-Type", "Idempotency-Key"])
