"""Where NiceGUI keeps browser sessions: files in this process's data folder, or Redis for every replica.

A signed-in browser carries a session cookie signed with the storage secret; the session itself (who is
signed in, until when: app/pages/session.py) is NiceGUI's `app.storage.user`. With a Redis URL
(`PAYGATE_REDIS_URL`, or NiceGUI's own `NICEGUI_REDIS_URL`) that storage lives in Redis, so a browser
signed in through one replica is signed in on all of them, and signed out on all of them too; no sticky
sessions are needed. Every replica must then sign cookies with the same storage secret.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import redis
from nicegui import app, ui
from nicegui.persistence import RedisPersistentDict
from nicegui.persistence.serialization import dumps
from nicegui.storage import Storage

from app.config import ConfigError

if TYPE_CHECKING:
    from app.bootstrap import Container

SECRET_KEY = "storage-secret"  # under NiceGUI's key prefix, beside the sessions it signs
PAGES = Path(__file__).resolve().parent  # the app's modules: the pages and what they draw with


def sessions_redis_url(paygate_redis_url: str | None) -> str | None:
    """The Redis that keeps browser sessions: PayGate's own setting first, then NiceGUI's variable."""
    return paygate_redis_url or os.environ.get("NICEGUI_REDIS_URL") or None


def redacted(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def shared_secret(url: str, candidate: str, key_prefix: str) -> str:
    """The storage secret every replica on this Redis uses: the first one written there wins.

    Only for replicas started without PAYGATE_STORAGE_SECRET (development: production requires it). Whoever
    can read this Redis can read and write the sessions too, so keeping their secret beside them adds no access.
    """
    key = key_prefix + SECRET_KEY
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=5, decode_responses=True) as client:
            client.set(key, candidate, nx=True)
            value = client.get(key)
    except redis.RedisError as e:
        raise ConfigError(f"browser sessions are kept in Redis ({redacted(url)}), which cannot be reached "
                          f"({type(e).__name__}); start Redis or unset PAYGATE_REDIS_URL and "
                          "NICEGUI_REDIS_URL.") from None
    if not isinstance(value, str) or not value:
        raise ConfigError(f"the storage secret kept in Redis ({redacted(url)}) under {key} is empty; delete that key.")
    return value


def share_browser_sessions(container: Container, paygate_redis_url: str | None) -> str | None:
    """Keep NiceGUI's user storage in Redis when a Redis URL is set (and make the storage secret the one
    every replica shares); returns that URL, or None when sessions stay in this process's data folder.

    NiceGUI reads NICEGUI_REDIS_URL when it is imported; `Storage.redis_url` set here, before `ui.run`,
    applies to every browser session and tab created afterwards, i.e. all of them.
    """
    url = sessions_redis_url(paygate_redis_url)
    if url is None:
        return None
    Storage.redis_url = url
    if not container.settings.storage_secret:
        container.storage_secret = shared_secret(url, container.storage_secret, Storage.redis_key_prefix)
    return url


def serve_pages_from_any_replica(replica_name: str) -> None:
    """Behind a proxy that balances requests freely (PAYGATE_REPLICA_NAME set), let any replica serve any part of
    a page another one drew.

    - The page's live connection must reach the replica that drew it (NiceGUI keeps the page in that process's
      memory): this replica's name goes in the connection's URL, and the proxy routes on it (deploy/nginx.conf).
    - The page's element scripts (`/_nicegui/<version>/components/...`) may be asked of any replica, but NiceGUI
      knows an element's script only once the element's module is imported, which it does on first use: every
      element the pages use is imported now, so no replica answers 404 for a page drawn by another.
    """
    if not replica_name:
        return
    app.config.socket_io_js_query_params["replica"] = replica_name
    for name in elements_the_pages_use():
        getattr(ui, name)


def elements_the_pages_use() -> set[str]:
    """The `ui.<name>` elements and functions the app's modules name (NiceGUI imports each on first use)."""
    names: set[str] = set()
    for module in PAGES.rglob("*.py"):
        names.update(re.findall(r"\bui\.([a-z_]+)\b", module.read_text(encoding="utf-8")))
    return {name for name in names if name in dir(ui)}


async def session_saved() -> None:
    """Wait until this browser's session, just changed, is in Redis and every replica has been told.

    NiceGUI writes a change to Redis in the background; a browser sent to another replica right after signing
    in (or out) could get there first and find the session as it was. A no-op when sessions stay in files.
    """
    storage = app.storage.user
    if isinstance(storage, RedisPersistentDict):
        data = dumps(storage, storage.key)
        async with storage.redis_client.pipeline() as pipeline:
            pipeline.set(storage.key, data, ex=storage.ttl)
            pipeline.publish(storage.key + "changes", data)  # replicas holding this session update their copy
            await pipeline.execute()
