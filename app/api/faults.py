"""Fault-injection routes for the end-to-end tests of the HTTP frame; never part of production.

`GET /api/_faults/boom` raises an unexpected exception; `GET /api/_faults/peer` says which client
port the request came from, so a test can tell whether two requests shared one connection. Mount
them only when `enabled()`, as install_api does:

    if faults.enabled():
        app.include_router(faults.router)
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter, Request

ENV_FLAG = "PAYGATE_FAULT_ROUTES"

router = APIRouter(prefix="/api/_faults", tags=["faults"], include_in_schema=False)


def enabled() -> bool:
    return os.environ.get(ENV_FLAG) == "1"


@router.get("/boom")
def boom() -> dict[str, Any]:
    raise RuntimeError("injected fault: SELECT password_hash FROM users")


@router.get("/peer")
def peer(request: Request) -> dict[str, Any]:
    return {"port": request.client.port if request.client else None}
