"""Exact JSON bodies: numbers with a fraction are parsed as Decimal, never as float."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from domain.model.errors import FieldError, ValidationFailed


class MalformedJson(Exception):
    pass


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # NaN and Infinity: Python's json accepts them, JSON does not


def field_of(loc: tuple[Any, ...] | list[Any]) -> str:
    """A pydantic error location as the domain names fields: `items[0].quantity`."""
    field = ""
    for part in loc:
        if part in ("body", "query", "path", "header"):
            continue
        field += f"[{part}]" if isinstance(part, int) else (f".{part}" if field else str(part))
    return field or "body"


def _plain_number(value: Decimal, field: str) -> int | float:
    """A number outside the exact fields: an int when it has no fraction, else a float (as any JSON reader)."""
    if value.adjusted() < 30 and value == value.to_integral_value():
        return int(value)
    number = float(value)
    if not math.isfinite(number):
        raise ValidationFailed.on(field, "holds a number out of range")
    return number


def _plain_numbers(value: Any, field: str) -> Any:
    if isinstance(value, Decimal):
        return _plain_number(value, field)
    if isinstance(value, dict):
        return {k: _plain_numbers(v, field) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_numbers(v, field) for v in value]
    return value


async def exact_json(request: Request, model: type[BaseModel], exact: frozenset[str] = frozenset({"unitPrice"})
                     ) -> dict[str, Any]:
    """Read the body with Decimal numbers, check it against `model`, return the raw dict.

    Only the `exact` fields keep their Decimal; elsewhere a number is an int or a float, as any JSON
    reader has it (so 5.0 is the integer 5, and metadata can be stored as JSON). The body's size and
    depth were checked before the route ran (limits.RequestLimits), so the recursion here is shallow.
    """
    body = await request.body()
    try:
        data = json.loads(body or b"null", parse_float=Decimal, parse_constant=_no_constants)
    except (ValueError, UnicodeDecodeError, RecursionError):  # ValueError: also an int of over 4300 digits
        raise MalformedJson() from None
    if not isinstance(data, dict):
        raise ValidationFailed.on("body", "must be a JSON object")
    data = {k: v if k in exact else _plain_numbers(v, k) for k, v in data.items()}
    try:
        model.model_validate(data)
    except ValidationError as e:
        details = [FieldError(field_of(err["loc"]),
                              "is not a field this endpoint accepts" if err["type"] == "extra_forbidden"
                              else err["msg"]) for err in e.errors()]
        raise ValidationFailed.of(details) from None
    return data


def openapi_body(model: type[BaseModel]) -> dict[str, Any]:
    """Document a body that the route reads itself (to keep Decimal precision)."""
    return {"requestBody": {"required": True, "content": {"application/json": {
        "schema": model.model_json_schema(ref_template="#/components/schemas/{model}")}}}}


def _scalar(value: Any) -> str:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("non-finite Decimal")
        return format(value, "f")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("non-finite float")
    # Money is never a float here (Product.public gives a Decimal); a float is free-form metadata.
    return json.dumps(value, ensure_ascii=False)


def dumps_exact(value: Any) -> str:
    """JSON text in which a Decimal is written as the exact number it holds (299.99, not "299.99").

    Iterative, so no depth of stored data (old rows, say) can make a read fail.
    """
    out: list[str] = []
    # Each entry is either a value still to write, or a literal piece of text (a separator, a closer).
    stack: list[tuple[bool, Any]] = [(False, value)]
    while stack:
        is_text, item = stack.pop()
        if is_text:
            out.append(item)
        elif isinstance(item, dict):
            out.append("{")
            pending: list[tuple[bool, Any]] = []
            for i, (key, child) in enumerate(item.items()):
                pending += [(True, ("," if i else "") + json.dumps(str(key), ensure_ascii=False) + ":"), (False, child)]
            stack += [(True, "}"), *reversed(pending)]
        elif isinstance(item, (list, tuple)):
            out.append("[")
            pending = []
            for i, child in enumerate(item):
                pending += [(True, ","), (False, child)] if i else [(False, child)]
            stack += [(True, "]"), *reversed(pending)]
        else:
            out.append(_scalar(item))
    return "".join(out)


class ExactJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return dumps_exact(content).encode("utf-8")
