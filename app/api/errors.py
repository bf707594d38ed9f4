"""One error body for every 4xx/5xx: {"error": {"code", "message", "details"}}. Nothing leaks."""

from __future__ import annotations

import inspect
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import HTTPExceptionHandler

from app.api.body import MalformedJson, field_of
from app.api.headers import SECURITY_HEADERS
from domain.model.errors import (
    Conflict,
    DomainError,
    FieldError,
    Forbidden,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    IllegalTransition,
    InvalidCredentials,
    NotFound,
    RateLimited,
    RefundExceedsPayment,
    ValidationFailed,
)

log = logging.getLogger("paygate.api")

STATUS_OF: list[tuple[type[DomainError], int]] = [
    (ValidationFailed, 422),
    (IdempotencyKeyReused, 422),
    (RefundExceedsPayment, 422),
    (IdempotencyKeyInUse, 409),
    (Conflict, 409),
    (IllegalTransition, 409),
    (NotFound, 404),
    (Forbidden, 403),
    (InvalidCredentials, 401),
    (RateLimited, 429),
]
HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
              409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type", 422: "validation_error",
              429: "rate_limited", 500: "internal_error", 503: "unavailable"}


class ErrorDetail(BaseModel):
    field: str
    message: str


class ErrorInfo(BaseModel):
    code: str
    message: str
    details: list[ErrorDetail] = []


class ErrorBody(BaseModel):
    error: ErrorInfo


def error_response(status: int, code: str, message: str, details: list[dict[str, str]] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": details or []}}
    return JSONResponse(body, status_code=status, headers=headers)


def domain_error_response(exc: DomainError) -> JSONResponse:
    """The error body of a domain error, with the status its class maps to."""
    status = next((s for cls, s in STATUS_OF if isinstance(exc, cls)), 400)
    headers = {"Retry-After": str(exc.retry_after_seconds)} if isinstance(exc, RateLimited) else None
    details = [{"field": d.field, "message": d.message} for d in exc.details]
    return error_response(status, exc.code, exc.message, details, headers)


async def domain_error(_request: Request, exc: DomainError) -> JSONResponse:
    return domain_error_response(exc)


async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return error_response(400, "bad_request", "the request body is not valid JSON")
    details = []
    for e in errors:
        message = e.get("msg", "is invalid")
        if e.get("type") == "extra_forbidden":
            message = "is not a field this endpoint accepts"
        details.append(FieldError(field_of(tuple(e.get("loc", ()))), message))
    return domain_error_response(ValidationFailed.of(details))


async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = HTTP_CODES.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    return error_response(exc.status_code, code, message, headers=getattr(exc, "headers", None))


def internal_error_response() -> JSONResponse:
    return error_response(500, "internal_error", "something went wrong on our side; it has been logged",
                          # it may be sent from outside SecurityHeaders (by Starlette's outermost middleware)
                          headers={k.decode(): v.decode() for k, v in SECURITY_HEADERS})


async def unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
    """Only what middleware.ErrorBoundary could not catch (an error in middleware outside it)."""
    log.exception("unhandled error", exc_info=exc)
    return internal_error_response()


async def malformed_json(_request: Request, _exc: Exception) -> JSONResponse:
    return error_response(400, "bad_request", "the request body is not valid JSON")


def api_not_found(pages_not_found: HTTPExceptionHandler | None) -> HTTPExceptionHandler:
    """A 404 under /api/ is the JSON error body; elsewhere the pages' own 404 (NiceGUI's) stays."""

    async def not_found(request: Request, exc: Exception) -> Response:
        if pages_not_found is None or request.url.path == "/api" or request.url.path.startswith("/api/"):
            if isinstance(exc, StarletteHTTPException):
                return await http_error(request, exc)
            return error_response(404, "not_found", "not found")
        response = pages_not_found(request, exc)
        return await response if inspect.isawaitable(response) else response

    return not_found


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(MalformedJson, malformed_json)
    # Starlette's stub types every handler as taking `Exception`, though it calls a handler only with
    # the class it was registered for, so a handler of that class is rejected (Kludex/starlette#2417).
    app.add_exception_handler(DomainError, domain_error)  # type: ignore[arg-type]  # see above
    app.add_exception_handler(RequestValidationError, validation_error)  # type: ignore[arg-type]  # see above
    app.add_exception_handler(StarletteHTTPException, http_error)  # type: ignore[arg-type]  # see above
    # A status handler wins over the class handler above; NiceGUI registers one for 404 (its page).
    app.add_exception_handler(404, api_not_found(app.exception_handlers.get(404)))
    app.add_exception_handler(Exception, unexpected_error)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route may answer with."""
    text = {400: "Malformed JSON", 401: "Missing, invalid or expired token", 403: "Role not allowed",
            404: "Not found (or another customer's)", 409: "Conflict", 422: "Validation error",
            429: "Too many requests", 503: "A dependency is down"}
    return {s: {"model": ErrorBody, "description": text.get(s, "Error")} for s in statuses}
