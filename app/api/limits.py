"""What any request under /api/ may carry, checked before a route sees it (API.md, Conventions).

A body over 1 MiB is a 413; JSON nested deeper than 32 levels, and text with NUL or another
control character (tab and newline aside) in a body or a query string, is a 422. The depth is
found by scanning the bytes, never by parsing, so a 100,000-level body cannot exhaust the stack;
only a body that passed that scan is parsed (to look at its strings). What gets through can be
stored and read back by recursive code without ever reaching Python's recursion limit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import domain_error_response, error_response
from domain.model.errors import FieldError, ValidationFailed

MAX_BODY_BYTES = 1024 * 1024
MAX_DEPTH = 32
# C0 and C1 control characters except tab and newline, and lone surrogates (not text at all).
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
# A JSON string, escapes included (an unterminated one runs to the end of the body).
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def is_api_path(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def too_deep(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether the JSON text nests arrays/objects deeper than `limit` (brackets inside strings do not count)."""
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    depth = 0
    for byte in brackets:
        if byte in b"[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(field path, text) for every key and string value; iterative, though the depth is bounded anyway."""
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, dict):
            for key, child in item.items():
                yield where or "body", key
                stack.append((child, f"{where}.{key}" if where else key))
        elif isinstance(item, list):
            stack.extend((child, f"{where}[{i}]") for i, child in enumerate(item))


def _printable(field: str) -> str:
    return CONTROL.sub("?", field)


def control_character_fields(data: Any) -> list[FieldError]:
    """Fields whose text holds a control character other than tab and newline."""
    bad = sorted({_printable(field) for field, text in _strings(data, "") if CONTROL.search(text)})
    return [FieldError(field or "body", "must not contain control characters (tab and newline aside)")
            for field in bad]


def query_problems(query_string: bytes) -> list[FieldError]:
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    bad = sorted({_printable(name) for name, value in pairs if CONTROL.search(name) or CONTROL.search(value)})
    return [FieldError(name or "query", "must not contain control characters (tab and newline aside)")
            for name in bad]


def body_problems(body: bytes) -> list[FieldError]:
    """The 422 problems of a request body; a body that is not JSON is left to the route (400)."""
    if not body.strip():
        return []
    if too_deep(body):
        return [FieldError("body", f"is nested deeper than {MAX_DEPTH} levels")]
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return []
    return control_character_fields(data)


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class RequestLimits:
    """Pure ASGI middleware: reads an /api/ request's body (at most 1 MiB), checks it, then replays it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_api_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        if CONTROL.search(scope["path"]):  # no id holds one; and PostgreSQL refuses a NUL in a query
            await error_response(404, "not_found", "no such resource")(scope, receive, send)
            return
        problems = query_problems(scope.get("query_string", b""))
        if problems:
            await self._refuse(problems, scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > MAX_BODY_BYTES:
            await self._too_large(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        problems = body_problems(body)
        if problems:
            await self._refuse(problems, scope, receive, send)
            return
        await self.app(scope, _replaying(body, receive), send)

    @staticmethod
    async def _refuse(problems: list[FieldError], scope: Scope, receive: Receive, send: Send) -> None:
        await domain_error_response(ValidationFailed.of(problems))(scope, receive, send)

    @staticmethod
    async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
        message = f"the request body is larger than {MAX_BODY_BYTES // 1024 // 1024} MiB"
        # The rest of the body is not read: ask the client not to send more on this connection.
        response = error_response(413, "payload_too_large", message, headers={"Connection": "close"})
        await response(scope, receive, send)


def _replaying(body: bytes, receive: Receive) -> Receive:
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
