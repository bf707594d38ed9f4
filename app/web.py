"""Puts PayGate on NiceGUI's app: the API, the pages, and the background jobs' lifecycle."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from nicegui import app
from nicegui.storage import Storage

from app.api import install_api
from app.api.page_middleware import pages_only
from app.bootstrap import Container
from app.browser_sessions import serve_pages_from_any_replica, share_browser_sessions
from app.config import ConfigError
from app.metrics import Sampler
from app.pages import register_pages
from app.pages.frame import install_look
from app.scheduler import Jobs
from storage.seed import DEMO_USERS

log = logging.getLogger("paygate")


def check_production_data(container: Container) -> None:
    """In production no demo account may exist: their passwords are public."""
    if not container.settings.production:
        return
    with container.uow(read_only=True) as uow:
        present = [demo.email for demo in DEMO_USERS if uow.users.get_by_email(demo.email) is not None]
    if present:
        raise ConfigError(f"demo user(s) {', '.join(present)} exist; delete them before running in production.")


def keep_browser_sessions_in(data_dir: Path) -> None:
    """NiceGUI's per-user storage goes in the data folder (not the working directory), in a folder
    only this user can read; main.py's umask makes the files in it 600."""
    if "NICEGUI_STORAGE_PATH" not in os.environ:  # an explicit choice of the operator wins
        Storage.path = (data_dir / ".nicegui").resolve()
    Storage.path.mkdir(mode=0o700, parents=True, exist_ok=True)
    Storage.path.chmod(0o700)


def setup(container: Container) -> Jobs:
    """Prepare storage, mount the API and pages, start/stop the jobs with the app."""
    container.init_storage()
    keep_browser_sessions_in(container.settings.data_dir)
    share_browser_sessions(container, container.settings.redis_url)  # in Redis: every replica's
    serve_pages_from_any_replica(container.settings.replica_name)  # behind a balancing proxy
    check_production_data(container)
    sampler = Sampler(container)
    jobs = Jobs(container, sampler)
    install_api(app, container, jobs)
    pages_only(app)  # NiceGUI's page middleware skips the API (app/api/page_middleware.py)
    install_look()
    register_pages(container, sampler)

    async def on_startup() -> None:
        for route in container.routes:
            await route.provider.open()
        jobs.start()
        log.info("PayGate is up")

    async def on_shutdown() -> None:
        jobs.stop()
        # Provider calls in flight get to apply their outcome before the connections close.
        if not await jobs.idle(container.settings.provider_timeout_seconds + 2):
            log.warning("stopping while a drain pass still runs; its payments' leases will expire")
        for route in container.routes:
            try:
                await route.provider.aclose()
            except Exception:
                log.exception("closing the %s provider's connections failed", route.name)
        # Webhook POSTs in flight get a moment to record their outcome; the rest are sent again later.
        await container.webhook_dispatcher.stop(timeout=2.0)
        await container.webhook_dispatcher.sender.aclose()
        container.db.dispose()
        log.info("PayGate stopped")

    app.on_startup(on_startup)
    app.on_shutdown(on_shutdown)
    return jobs
