"""Servers for the Stripe adapter's tests: localstripe as a real process, and small local servers that
stand in for a Stripe that misbehaves (answers from a table, never answers, is not there at all)."""

from __future__ import annotations

import importlib
import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

SKIP_REASON = "localstripe cannot be imported here (pip install localstripe): the Stripe adapter tests need it"
TEST_KEY = "sk_test_paygate_localstripe"  # localstripe takes any key that starts with sk_

# `python -m localstripe`, but with the store kept in memory: localstripe pickles it to the fixed path
# /tmp/localstripe.pickle after every write, which every localstripe on the machine shares (and loads at
# start unless --from-scratch).
LAUNCH = ("import localstripe.resources as r; r.Store.dump_to_disk = lambda self: None; "
          "from localstripe.server import start; start()")


def localstripe_importable() -> bool:
    """Whether the package imports (its server runs in a process of its own, so this one loads no more)."""
    try:
        importlib.import_module("localstripe")
    except ImportError:
        return False
    return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=0.5).close()
    except urllib.error.HTTPError:
        return True  # 401 without a key: it is up
    except OSError:
        return False
    return True


@contextmanager
def running_localstripe(start_timeout: float = 20.0) -> Iterator[str]:
    """Start localstripe on a free port, wait until it answers, yield its base URL, stop it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen([sys.executable, "-c", LAUNCH, "--port", str(port), "--from-scratch"],
                                   stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + start_timeout
            while not _answers(f"{url}/v1/balance"):
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"localstripe did not start on port {port}:\n{log.read().decode()[-2000:]}")
                time.sleep(0.05)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def configure_webhook(localstripe_url: str, hook_id: str, url: str, secret: str, events: list[str]) -> None:
    """localstripe's own endpoint for webhooks (`POST /_config/webhooks/{id}`); it takes JSON."""
    body = json.dumps({"url": url, "secret": secret, "events": events}).encode()
    request = urllib.request.Request(f"{localstripe_url}/_config/webhooks/{hook_id}", data=body,
                                     headers={"Content-Type": "application/json"}, method="POST")
    urllib.request.urlopen(request, timeout=5).close()


@contextmanager
def closed_port() -> Iterator[str]:
    """A base URL where nothing listens: connections are refused."""
    yield f"http://127.0.0.1:{free_port()}"


@contextmanager
def silent_server() -> Iterator[str]:
    """A base URL whose server takes the connection (the kernel's backlog does) and never answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        yield f"http://127.0.0.1:{s.getsockname()[1]}"


DROP = "drop"  # an answer: read the request, then close the connection without a word


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode())


@dataclass
class StubServer:
    """Answers `(method, path)` from `answers` (status, JSON body), 200 `{}` otherwise, and keeps what it got."""

    answers: dict[tuple[str, str], tuple[int, Any] | str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    url: str = ""

    def wait_for(self, predicate: Any, timeout: float) -> Received | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = next((r for r in list(self.received) if predicate(r)), None)
            if found is not None:
                return found
            time.sleep(0.05)
        return None


@contextmanager
def stub_server(answers: Mapping[tuple[str, str], tuple[int, Any] | str] | None = None) -> Iterator[StubServer]:
    stub = StubServer(dict(answers or {}))

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            parts = urlsplit(self.path)
            stub.received.append(Received(self.command, parts.path, parse_qs(parts.query),
                                          {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length)))
            answer = stub.answers.get((self.command, parts.path), (200, {}))
            if isinstance(answer, str):  # DROP
                self.close_connection = True
                return
            status, payload = answer
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _handle

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
