"""The REST API: routers, error handlers and HTTP hygiene, installed on any FastAPI app."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from app.api import auth, bench, faults, images, payments, providers, refunds, shop, system, users, webhooks, ws
from app.api.errors import install_error_handlers
from app.api.headers import SecurityHeaders
from app.api.http_metrics import HttpMetrics
from app.api.limits import RequestLimits
from app.api.middleware import ErrorBoundary, MethodFrame
from app.api.openapi import install_openapi
from app.api.request_id import RequestContext
from app.bootstrap import Container
from app.prometheus import install_metrics


def install_api(app: FastAPI, container: Container, jobs: Any = None) -> None:
    app.state.container = container
    app.state.jobs = jobs
    install_error_handlers(app)
    # FastAPI wraps the app's lifespan around each included router's, even an empty one; our routers
    # have none, so the app keeps its own. (NiceGUI's test fixture installs the API again for every
    # test on one app, and the nesting used to grow past Python's recursion limit.)
    lifespan = app.router.lifespan_context
    for router in (system.router, auth.router, users.router, payments.router, shop.products, shop.cart,
                   shop.orders, ws.router, images.router, providers.router, refunds.router, webhooks.router):
        app.include_router(router)
    if bench.enabled():  # the benchmark's bare baseline; never on unless PAYGATE_BENCH_BASELINE=1
        app.include_router(bench.router)
    if faults.enabled():  # fault injection for the frame's end-to-end tests; never on unless PAYGATE_FAULT_ROUTES=1
        app.include_router(faults.router)
    app.router.lifespan_context = lifespan
    install_openapi(app)
    # The last added is the outermost: CORS, SecurityHeaders, ErrorBoundary, MethodFrame, RequestLimits.
    app.add_middleware(RequestLimits)
    app.add_middleware(MethodFrame)
    app.add_middleware(ErrorBoundary)
    app.add_middleware(SecurityHeaders)
    if container.settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=container.settings.cors_origins,
                           allow_methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
                           allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID",
                                          "traceparent", "tracestate"],
                           expose_headers=["X-Request-ID"])
    # Outside the API's others: every response, CORS's and errors' included, carries the request id.
    app.add_middleware(RequestContext, container=container)
    install_metrics(app, container)  # GET /metrics, outside /api and the OpenAPI schema
    app.add_middleware(HttpMetrics)  # the outermost: every answer is counted, a 413 or a CORS preflight too
