"""The OpenAPI schema that /openapi.json and /docs serve: PayGate's title and version, rebuilt monthly.

What the frame enforces on every route is written into the schema here: text in a query string has
no control characters (limits.RequestLimits), whichever module declared the parameter. A card's
expiry rule (this month or later) is part of the schema (schemas.not_expired), so the cached schema
is rebuilt when the month turns.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI

from app.api.fields import NO_CONTROL
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
        schema = app.openapi_schema
        # Also when something cleared the cached schema (NiceGUI's test reset does), as FastAPI's own
        # app.openapi would: rather than serve `null`.
        if schema is None or built_for != [(now.year, now.month)]:
            app.openapi_schema = None
            built_for[:] = [(now.year, now.month)]
            schema = app.openapi_schema = with_frame_rules(generate())
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def with_frame_rules(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query":
                    _no_control_text(parameter.get("schema", {}))
            # A body that a route reads itself (body.openapi_body) brings its own definitions along.
            for content in operation.get("requestBody", {}).get("content", {}).values():
                components.update(content.get("schema", {}).pop("$defs", {}))
    return schema


def _no_control_text(value: dict[str, Any]) -> None:
    if value.get("type") == "string" and not {"pattern", "enum", "const", "format"} & set(value):
        value["pattern"] = NO_CONTROL
    for member in value.get("anyOf", []):
        _no_control_text(member)
