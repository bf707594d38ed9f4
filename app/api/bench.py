"""A bare baseline route for the payment benchmark (bench/payments.py); never part of production.

`POST /bench/baseline` does one insert (an outbox event) in one transaction, with no auth and no
validation: the floor cost of a write through this stack. Mount it only when `enabled()`:

    if bench.enabled():
        app.include_router(bench.router)
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter

from app.api.deps import ContainerDep
from domain.model.events import Event

ENV_FLAG = "PAYGATE_BENCH_BASELINE"

router = APIRouter(prefix="/bench", tags=["bench"], include_in_schema=False)


def enabled() -> bool:
    return os.environ.get(ENV_FLAG) == "1"


@router.post("/baseline", status_code=201)
def baseline(c: ContainerDep) -> dict[str, Any]:
    with c.uow() as uow:
        uow.publish(Event("bench.baseline", {}, c.clock.now()))
        uow.commit()
    return {"ok": True}
