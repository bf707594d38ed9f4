"""Exact JSON bodies: numbers with a fraction are parsed as Decimal, never as float."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from domain.errors import FieldError, ValidationFailed


class MalformedJson(Exception):
    pass


async def exact_json(request: Request, model: type[BaseModel]) -> dict[str, Any]:
    """Read the body with Decimal numbers, check it against `model`, return the raw dict."""
    body = await request.body()
    try:
        data = json.loads(body or b"null", parse_float=Decimal)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise MalformedJson() from None
    if not isinstance(data, dict):
        raise ValidationFailed.on("body", "must be a JSON object")
    try:
        model.model_validate(data)
    except ValidationError as e:
        details = [FieldError(".".join(str(p) for p in err["loc"]) or "body",
                              "is not a field this endpoint accepts" if err["type"] == "extra_forbidden"
                              else err["msg"]) for err in e.errors()]
        raise ValidationFailed("; ".join(f"{d.field}: {d.message}" for d in details[:3]), details) from None
    return data


def openapi_body(model: type[BaseModel]) -> dict[str, Any]:
    """Document a body that the route reads itself (to keep Decimal precision)."""
    return {"requestBody": {"required": True, "content": {"application/json": {
        "schema": model.model_json_schema(ref_template="#/components/schemas/{model}")}}}}


def dumps_exact(value: Any) -> str:
    """JSON text in which a Decimal is written as the exact number it holds (299.99, not "299.99")."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("non-finite Decimal")
        return format(value, "f")
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{dumps_exact(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(dumps_exact(v) for v in value) + "]"
    if isinstance(value, float):
        raise TypeError("floats are not used for money; pass a Decimal")
    return json.dumps(value, ensure_ascii=False)


class ExactJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return dumps_exact(content).encode("utf-8")
