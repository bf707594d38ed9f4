"""PayGate's entry point: build settings, wire the app, serve it."""

import logging
import sys

from nicegui import ui

from app.bootstrap import build
from app.config import ConfigError, Settings
from app.web import setup


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("apscheduler", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        settings = Settings()
        settings.check()
        container = build(settings)
        setup(container)
    except ConfigError as e:
        print(f"PayGate cannot start: {e}", file=sys.stderr)
        sys.exit(2)
    try:
        ui.run(host=settings.host, port=settings.port, title="PayGate", storage_secret=container.storage_secret,
               reload=settings.reload, show=False, favicon="💳", uvicorn_logging_level="warning")
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl-C after its graceful shutdown; that is the normal way out
        pass


if __name__ in {"__main__", "__mp_main__"}:
    main()
