"""A merchant's webhook receiver for the tests: a plain http.server on a free localhost port that
verifies every delivery with the standardwebhooks library, as a merchant would.

It can fail its first N deliveries (500), hang (accept and never answer) on its first N, and keep a
record of what it verified, what failed verification, and every request it saw.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class Receiver:
    def __init__(self, secret: str = "", *, fail_first: int = 0, hang_first: int = 0) -> None:
        self.secret = secret  # set it once the endpoint exists (its secret is known then)
        self.fail_first = fail_first
        self.hang_first = hang_first
        self.lock = threading.Lock()
        self.requests = 0
        self.verified: list[dict[str, Any]] = []  # the payloads that passed verification, in order
        self.message_ids: list[str] = []
        self.refused: list[str] = []  # why verification failed, per request
        self.release = threading.Event()  # lets hanging requests go (at stop)
        self.hanging = threading.Event()  # set when a request is being held
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def event_ids(self) -> set[str]:
        with self.lock:
            return {p["id"] for p in self.verified}

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers.get("content-length", "0")))
        with self.lock:
            self.requests += 1
            number = self.requests
        if number <= self.hang_first:
            self.hanging.set()
            self.release.wait(60)
            handler.close_connection = True
            return  # no answer at all
        try:
            payload = Webhook(self.secret).verify(body, dict(handler.headers.items()))
        except WebhookVerificationError as e:
            with self.lock:
                self.refused.append(str(e))
            self._answer(handler, 400)
            return
        if number <= self.hang_first + self.fail_first:
            self._answer(handler, 500)
            return
        with self.lock:
            self.verified.append(payload)
            self.message_ids.append(handler.headers["webhook-id"])
        self._answer(handler, 200)

    @staticmethod
    def _answer(handler: BaseHTTPRequestHandler, status: int) -> None:
        data = json.dumps({"ok": status == 200}).encode()
        handler.send_response(status)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)


@contextmanager
def running(receiver: Receiver) -> Iterator[Receiver]:
    """Serve `receiver` on 127.0.0.1 (a free port) until the block ends."""
    owner = receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            owner._handle(self)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.server = server
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
