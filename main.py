"""PayGate's entry point: build settings, wire the app, serve it."""

import contextlib
import logging
import os
import sys

from nicegui import ui

from app.bootstrap import build
from app.config import ConfigError, load_settings
from app.web import setup


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # A 0.1 s job that once takes longer is skipped for a tick, by design (max_instances=1); our job
    # wrappers log their own failures, so only APScheduler's errors are worth a line.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    # Everything this process writes (database, secrets, browser sessions) is for its own user only.
    os.umask(0o077)
    try:
        settings = load_settings()
        container = build(settings)
        setup(container)
    except ConfigError as e:
        print(f"PayGate cannot start: {e}", file=sys.stderr)
        sys.exit(2)
    # uvicorn re-raises Ctrl-C after its graceful shutdown; that is the normal way out, not an error.
    with contextlib.suppress(KeyboardInterrupt):
        ui.run(host=settings.host, port=settings.port, title="PayGate", storage_secret=container.storage_secret,
               reload=settings.reload, show=False, favicon="💳", uvicorn_logging_level="warning",
               # X-Forwarded-For is read by app/net.py, from PAYGATE_TRUSTED_PROXIES only (uvicorn
               # would believe it from 127.0.0.1, so anyone on the host could pose as any client).
               proxy_headers=False,
               # the OpenAPI schema at /openapi.json and its docs at /docs (NiceGUI turns them off by default)
               fastapi_docs=True)


if __name__ in {"__main__", "__mp_main__"}:
    main()
