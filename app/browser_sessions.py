"""Where NiceGUI keeps browser sessions: files in this process's data folder, or Redis for every replica.

A signed-in browser carries a session cookie signed with the storage secret; the session itself (who is
signed in, until when: app/pages/session.py) is NiceGUI's `app.storage.user`. With a Redis URL
(`PAYGATE_REDIS_URL`, or NiceGUI's own `NICEGUI_REDIS_URL`) that storage lives in Redis, so a browser
signed in through one replica is signed in on all of them, and signed out on all of them too; no sticky
sessions are needed. Every replica must then sign cookies with the same storage secret.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import redis
from nicegui import app
from nicegui.storage import Storage

from app.config import ConfigError

if TYPE_CHECKING:
    from app.bootstrap import Container

SECRET_KEY = "storage-secret"  # under NiceGUI's key prefix, beside the sessions it signs


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


def name_the_replica_in_live_connections(replica_name: str) -> None:
    """Put this replica's name (PAYGATE_REPLICA_NAME) in the URL of every page's live connection.

    NiceGUI keeps an open page in the memory of the process that drew it, so the page's socket must reach
    that process; a proxy that balances page loads freely routes the socket on this name (deploy/nginx.conf).
    """
    if replica_name:
        app.config.socket_io_js_query_params["replica"] = replica_name
