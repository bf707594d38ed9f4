"""Where browser sessions live (app/browser_sessions.py): the Redis URL's precedence, and the storage secret
that replicas started without PAYGATE_STORAGE_SECRET share through Redis."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from nicegui import app, ui

from app.browser_sessions import (
    SECRET_KEY,
    elements_the_pages_use,
    redacted,
    serve_pages_from_any_replica,
    sessions_redis_url,
    shared_secret,
)
from app.config import ConfigError, load_settings

REDIS_URL = os.environ.get("PAYGATE_TEST_REDIS_URL")


def test_paygates_redis_setting_wins_over_nicegui_s_variable(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NICEGUI_REDIS_URL", "redis://nicegui:6379/0")

    assert sessions_redis_url("redis://paygate:6379/0") == "redis://paygate:6379/0"
    assert sessions_redis_url(None) == "redis://nicegui:6379/0"


def test_without_either_variable_sessions_stay_in_the_data_folder(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("NICEGUI_REDIS_URL", raising=False)

    assert sessions_redis_url(None) is None
    assert sessions_redis_url("") is None


def test_a_redis_password_never_reaches_a_message():
    assert redacted("redis://user:hunter2@cache:6379/0") == "redis://user:***@cache:6379/0"
    assert redacted("redis://cache:6379/0") == "redis://cache:6379/0"


def test_an_unreachable_redis_stops_the_start_with_a_sentence_and_no_password():
    with pytest.raises(ConfigError) as raised:
        shared_secret("redis://:hunter2@127.0.0.1:1/0", "candidate", "paygate-test:")

    message = str(raised.value)
    assert "cannot be reached" in message and "hunter2" not in message
    assert message.endswith(".")


@pytest.fixture
def prefix() -> Iterator[str]:
    if REDIS_URL is None:
        pytest.skip("needs PAYGATE_TEST_REDIS_URL (.ci/run sets it)")
    prefix = f"paygate-test-{secrets.token_hex(4)}:"
    yield prefix
    with redis.Redis.from_url(REDIS_URL) as client:
        client.delete(prefix + SECRET_KEY)


def test_replicas_without_a_storage_secret_all_sign_with_the_first_one_kept_in_redis(prefix: str):
    assert REDIS_URL is not None

    first = shared_secret(REDIS_URL, "secret-of-replica-a", prefix)
    second = shared_secret(REDIS_URL, "secret-of-replica-b", prefix)

    assert first == second == "secret-of-replica-a"


def test_a_named_replica_names_itself_in_the_url_of_every_page_s_live_connection(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(app.config, "socket_io_js_query_params", {})

    serve_pages_from_any_replica("app1")

    assert app.config.socket_io_js_query_params == {"replica": "app1"}


def test_an_unnamed_replica_leaves_the_live_connection_s_url_alone(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(app.config, "socket_io_js_query_params", {})

    serve_pages_from_any_replica("")

    assert app.config.socket_io_js_query_params == {}


def test_a_replica_name_a_proxy_could_not_route_on_is_refused(tmp_path: Path):
    with pytest.raises(ConfigError, match="PAYGATE_REPLICA_NAME"):
        load_settings(data_dir=tmp_path, replica_name="app 1; drop")


def test_a_named_replica_knows_the_script_of_every_element_the_pages_draw_before_drawing_any(
        monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(app.config, "socket_io_js_query_params", {})
    used = elements_the_pages_use()

    serve_pages_from_any_replica("app1")

    assert {"header", "left_drawer", "table", "echart", "upload"} <= used  # the frame, lists, metrics, products
    assert all(name in vars(ui) for name in used)  # imported: NiceGUI registers an element's script on import
