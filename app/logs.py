"""Logging: one handler on the root logger, JSON lines (PAYGATE_LOG_FORMAT=json) or readable text.

Every library logs through the standard library (ours, uvicorn's, NiceGUI's, SQLAlchemy's); structlog's
`ProcessorFormatter` renders all of their records, so each line of the process is one JSON object:
`timestamp`, `level`, `logger`, `message`, and the fields of the log context (domain/observability.py):
`request_id`, and where known `payment_id`, `order_id`, `user_id`, `trace_id`. structlog's own loggers
(`structlog.get_logger`) go through the same handler.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from app.config import LogFormat
from domain.observability import log_fields

# Fields our code passes as `extra=` that become keys of the line (other libraries' extras stay out:
# uvicorn's `color_message`, say).
EXTRAS = ("payment_id", "order_id", "user_id", "request_id", "amount", "currency", "status", "provider", "kind",
          "outcome", "code", "latency_ms", "attempt", "method", "path", "duration_ms")


def add_log_context(_logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
    """The fields bound for the current request or payment; the trace id out of its traceparent."""
    fields = log_fields()
    traceparent = fields.pop("traceparent", None)
    for key, value in fields.items():
        event.setdefault(key, value)
    if traceparent:
        parts = traceparent.split("-")
        if len(parts) == 4:
            event.setdefault("trace_id", parts[1])
    return event


def rename_event_to_message(_logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
    """`event` is called `message`, the four fixed keys come first, in one order, and empty fields go."""
    head = {"timestamp": event.pop("timestamp", None), "level": event.pop("level", None),
            "logger": event.pop("logger", None), "message": event.pop("event", "")}
    return {**head, **{key: value for key, value in event.items() if value is not None}}  # only what is known


def render_text(_logger: WrappedLogger, _name: str, event: EventDict) -> str:
    """`<time> <LEVEL> <logger>: <message> [key=value …]`, then the traceback if any."""
    timestamp = event.pop("timestamp", "")
    level = str(event.pop("level", "")).upper()
    logger = event.pop("logger", "")
    message = event.pop("message", "")
    exception = event.pop("exception", None)
    context = " ".join(f"{key}={value}" for key, value in event.items())
    line = f"{timestamp} {level} {logger}: {message}" + (f" [{context}]" if context else "")
    return line + ("\n" + exception if exception else "")


def _shared() -> list[Processor]:
    """What every record gets before rendering, whether from structlog or the standard library."""
    return [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(allow=EXTRAS),
        add_log_context,
    ]


def formatter(fmt: LogFormat) -> logging.Formatter:
    """The formatter of the root handler: JSON objects, or text lines."""
    renderer: Processor = structlog.processors.JSONRenderer() if fmt == "json" else render_text
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            rename_event_to_message,
            renderer,
        ],
    )


def setup_logging(fmt: LogFormat, level: int = logging.INFO, stream: TextIO | None = None) -> None:
    """Route every logger to one handler on `stream` (stderr) in `fmt`; quiet the chatty libraries."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter(fmt))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # A 0.1 s job that once takes longer is skipped for a tick, by design (max_instances=1); our job
    # wrappers log their own failures, so only APScheduler's errors are worth a line.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    # Each provider call and webhook POST has its own line (paygate.processing, paygate.webhooks); the
    # HTTP libraries' INFO lines about the same request would triple them.
    for name in ("httpx", "stripe"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        # uvicorn is started without its own logging config (main.py), so its lines come here too.
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    structlog.configure(
        processors=[*_shared(),
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )

