"""PayGate's entry point: build settings, wire the app, serve it."""

import contextlib
import os
import sys

from nicegui import ui

from app.bootstrap import build
from app.config import ConfigError, load_settings
from app.logs import setup_logging
from app.web import setup


def main() -> None:
    # Everything this process writes (database, secrets, browser sessions) is for its own user only.
    os.umask(0o077)
    try:
        settings = load_settings()
        # Every logger (uvicorn's too: it gets no config of its own below) as JSON lines or text.
        setup_logging(settings.resolved_log_format)
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
               fastapi_docs=True,
               # uvicorn's loggers keep no handlers of their own: app/logs.py formats their lines.
               log_config=None,
               # NiceGUI prints it (not a log line): it would be the one line of the output that is not JSON
               show_welcome_message=settings.resolved_log_format == "text")


if __name__ in {"__main__", "__mp_main__"}:
    main()
