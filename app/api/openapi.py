"""The OpenAPI schema that /openapi.json and /docs serve: PayGate's title and version, rebuilt monthly.

A card's expiry rule (this month or later) is part of the schema (schemas.not_expired), so the
cached schema is rebuilt when the month turns.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI

from app.api.system import VERSION

DESCRIPTION = ("PayGate's REST API: payments, catalogue, cart and orders. Errors share one body: "
               '`{"error": {"code", "message", "details"}}`. Bodies over 1 MiB are refused (413); JSON '
               "nested deeper than 32 levels, and text with control characters other than tab and newline, "
               "are refused (422).")


def install_openapi(app: FastAPI) -> None:
    app.title = "PayGate API"
    app.version = VERSION
    app.description = DESCRIPTION
    generate = app.openapi
    built_for: list[tuple[int, int]] = []

    def openapi() -> dict[str, Any]:
        now = datetime.now(UTC)
        if built_for != [(now.year, now.month)]:
            app.openapi_schema = None
            built_for[:] = [(now.year, now.month)]
        return generate()

    app.openapi = openapi  # type: ignore[method-assign]
