"""Health, metrics and the mock provider's ledger."""

from __future__ import annotations

import logging
import math
import threading
import time
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from app.api.deps import AdminUser, ContainerDep
from app.api.errors import responses
from app.api.schemas import LedgerList
from app.bootstrap import Container
from app.metrics import system_info
from domain.clock import iso
from domain.model.payments import TRANSITIONS
from domain.model.statuses import QUEUED, PaymentStatus

router = APIRouter(tags=["system"])
log = logging.getLogger("paygate.health")

try:
    VERSION = version("paygate")
except PackageNotFoundError:  # running from a checkout that was not installed
    VERSION = "0.1.0"


class WriteCheck:
    """Whether the database took a write lately: a heartbeat row committed at most once a second
    (more frequent probes get the last answer), so probes cannot turn into write load."""

    def __init__(self, min_interval: float = 1.0) -> None:
        self.min_interval = min_interval
        self._lock = threading.Lock()
        self._at = -math.inf
        self._result = "ok"
        self._writing_since: float | None = None
        self.stuck_after = 5.0  # a heartbeat write still running after this long: the database is stuck

    def __call__(self, c: Container) -> str:
        # One probe writes at a time; the others answer with the last result instead of queueing
        # (each queued probe would hold a worker thread that API requests need).
        if not self._lock.acquire(blocking=False):
            since = self._writing_since
            stuck = since is not None and time.monotonic() - since > self.stuck_after
            return "unresponsive" if stuck else self._result
        try:
            if time.monotonic() - self._at < self.min_interval:
                return self._result
            self._writing_since = time.monotonic()
            try:
                c.db.heartbeat(c.owner, c.clock.now())
                self._result = "ok"
            except Exception as e:
                log.warning("health: the database refused a write: %s", e.__class__.__name__)
                self._result = "read_only" if _read_only(e) else "unwritable"
            self._at = time.monotonic()
            return self._result
        finally:
            self._writing_since = None
            self._lock.release()


def _read_only(error: Exception) -> bool:
    return "readonly" in str(error).replace(" ", "").lower() or "read-only" in str(error).lower()


write_check = WriteCheck()


@router.get("/health", responses=responses(503))
def health(request: Request, c: ContainerDep) -> JSONResponse:
    """Readiness with real checks: the database takes a write, the scheduler runs, the drain job ticks."""
    checks: dict[str, str] = {}
    try:
        c.db.ping()
        checks["database"] = write_check(c)
    except Exception:
        checks["database"] = "unreachable"
    jobs = getattr(request.app.state, "jobs", None)
    checks["scheduler"] = "disabled" if jobs is None else ("ok" if jobs.running else "stopped")
    body: dict[str, Any] = {"status": "ok", "checks": checks, "version": VERSION}
    if jobs is not None and jobs.running:
        checks["drain"] = jobs.drain_health(time.time())
        body["drainLastTickAt"] = iso(datetime.fromtimestamp(jobs.last_drain_tick, UTC)) \
            if jobs.last_drain_tick is not None else None
    healthy = all(v in ("ok", "disabled") for v in checks.values())
    body["status"] = "ok" if healthy else "degraded"
    return JSONResponse(body, status_code=200 if healthy else 503)


@router.get("/api/metrics", responses=responses(401, 403))
def metrics(_admin: AdminUser, c: ContainerDep) -> dict[str, Any]:
    """Queue, limiter, payment outcomes and recent errors, computed from the database."""
    with c.uow(read_only=True) as uow:
        by_status = uow.payments.count_by_status()
        failures = uow.payments.recent_failures(20)
    completed, failed = by_status.get(PaymentStatus.COMPLETED, 0), by_status.get(PaymentStatus.FAILED, 0)
    finished = completed + failed
    return {
        "rateLimiter": {"capacity": c.limiter.config.capacity, "refillRate": c.limiter.config.refill_per_second,
                        "availableTokens": round(c.limiter.available(), 3)},
        "queue": {s: by_status.get(s, 0) for s in QUEUED},
        "payments": {"total": sum(by_status.values()),
                     "byStatus": {s: by_status.get(s, 0) for s in TRANSITIONS},
                     "successRate": round(completed / finished, 4) if finished else 1.0},
        "system": system_info(c),
        "recentErrors": [{"paymentId": p.id, "code": p.failure_code, "message": p.failure_message,
                          "at": iso(p.updated_at)} for p in failures],
    }


@router.get("/api/providers/mock/charges", response_model=LedgerList, responses=responses(401, 403))
def mock_charges(_admin: AdminUser, c: ContainerDep, payment_id: Annotated[str | None, Query(alias="paymentId")] = None,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    """The mock provider's own ledger: one entry per real charge, newest first."""
    return {"data": [{"paymentId": ch.payment_id, "amount": ch.amount, "currency": ch.currency,
                      "transactionId": ch.transaction_id, "chargedAt": iso(ch.charged_at, precise=True)}
                     for ch in c.ledger.list(payment_id, limit)]}
