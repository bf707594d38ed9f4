"""Log lines: JSON objects (or readable text) that carry the request's and the payment's context."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.api.request_id import request_id_of, valid_request_id
from app.config import Settings
from app.logs import formatter, setup_logging
from domain.observability import bind, log_fields, log_scope

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def render(fmt: str, logger: str, message: str, *args: object, exc: BaseException | None = None,
           **extra: object) -> str:
    record = logging.LogRecord(logger, logging.INFO if exc is None else logging.ERROR, __file__, 1, message, args,
                               (type(exc), exc, exc.__traceback__) if exc is not None else None)
    record.__dict__.update(extra)
    return formatter(fmt).format(record)  # type: ignore[arg-type]


def test_a_json_line_has_the_fixed_keys_first_and_the_message_formatted() -> None:
    line = render("json", "paygate.processing", "payment %s", "completed")

    data = json.loads(line)
    assert list(data)[:4] == ["timestamp", "level", "logger", "message"]
    assert data["message"] == "payment completed"
    assert data["level"] == "info" and data["logger"] == "paygate.processing"
    assert data["timestamp"].endswith("Z")


def test_a_json_line_carries_the_fields_of_the_log_scope_and_the_trace_id() -> None:
    with log_scope(request_id="req-1", payment_id="pay_1", user_id="usr_1", order_id=None, traceparent=TRACEPARENT):
        data = json.loads(render("json", "paygate.api", "hello"))

    assert data["request_id"] == "req-1" and data["payment_id"] == "pay_1" and data["user_id"] == "usr_1"
    assert "order_id" not in data  # None is left out
    assert data["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert "traceparent" not in data


def test_our_extras_become_keys_but_other_libraries_extras_stay_out() -> None:
    data = json.loads(render("json", "uvicorn.error", "x", payment_id="pay_2", latency_ms=12, code=None,
                             color_message="\x1b[1mx\x1b[0m"))

    assert data["payment_id"] == "pay_2" and data["latency_ms"] == 12
    assert "color_message" not in data
    assert "code" not in data  # not known: left out


def test_an_exception_stays_on_one_json_line_with_its_traceback() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError as e:
        line = render("json", "paygate.api", "unhandled error", exc=e)

    assert "\n" not in line
    data = json.loads(line)
    assert data["level"] == "error" and "RuntimeError: boom" in data["exception"]


def test_text_lines_stay_readable_with_the_context_in_brackets() -> None:
    with log_scope(request_id="req-2"):
        line = render("text", "paygate.payments", "payment submitted", payment_id="pay_3")

    assert " INFO paygate.payments: payment submitted [" in line
    assert "payment_id=pay_3" in line and "request_id=req-2" in line


def test_a_field_bound_in_a_thread_of_the_request_is_seen_by_the_rest_of_it() -> None:
    async def request() -> dict[str, str]:
        with log_scope(request_id="req-3"):
            await asyncio.to_thread(bind, user_id="usr_9")  # FastAPI runs sync dependencies so
            return log_fields()

    fields = asyncio.run(request())

    assert fields == {"request_id": "req-3", "user_id": "usr_9"}
    assert log_fields() == {}


def test_a_scope_ends_with_its_block() -> None:
    with log_scope(request_id="outer"):
        with log_scope(payment_id="pay_4"):
            inner = log_fields()
        after = log_fields()

    assert inner == {"request_id": "outer", "payment_id": "pay_4"}
    assert after == {"request_id": "outer"}


@pytest.fixture
def root_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    uvicorn = logging.getLogger("uvicorn.error")
    uvicorn_saved = (list(uvicorn.handlers), uvicorn.propagate)
    yield
    root.handlers[:], root.level = saved
    uvicorn.handlers[:], uvicorn.propagate = uvicorn_saved


def test_setup_sends_every_library_s_lines_through_one_json_handler(root_logging: None) -> None:
    out = io.StringIO()
    logging.getLogger("uvicorn.error").addHandler(logging.StreamHandler(io.StringIO()))  # as uvicorn's config does

    setup_logging("json", stream=out)
    logging.getLogger("uvicorn.error").warning("Invalid HTTP request received.")
    logging.getLogger("nicegui").info("a page")

    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(line["logger"], line["message"]) for line in lines] == [
        ("uvicorn.error", "Invalid HTTP request received."), ("nicegui", "a page")]


@pytest.mark.parametrize("value", ["abc-123", "0f" * 64, "req:1/2=3"])
def test_a_printable_request_id_of_at_most_128_characters_is_kept(value: str) -> None:
    assert request_id_of({"headers": [(b"x-request-id", value.encode())]}) == value


@pytest.mark.parametrize("value", ["", "a" * 129, "two words", "tab\there", "caf\u00e9", "line\nbreak"])
def test_any_other_request_id_is_replaced_by_a_new_one(value: str) -> None:
    assert not valid_request_id(value)

    got = request_id_of({"headers": [(b"x-request-id", value.encode())]})

    assert got != value and valid_request_id(got)


def test_a_request_without_an_id_gets_a_new_one_each_time() -> None:
    assert request_id_of({"headers": []}) != request_id_of({"headers": []})


def test_the_log_format_defaults_to_json_in_production_and_text_in_development(tmp_path: Path) -> None:
    secret = "s" * 40
    production = Settings(env="production", demo_data=False, jwt_secret=secret, storage_secret=secret,
                          data_dir=tmp_path)

    assert Settings(data_dir=tmp_path).resolved_log_format == "text"
    assert production.resolved_log_format == "json"
    assert Settings(data_dir=tmp_path, log_format="json").resolved_log_format == "json"
