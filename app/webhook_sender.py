"""The HTTP side of merchant webhooks: DNS, the address check, Standard Webhooks signatures, httpx.

Where a POST goes is decided once per POST, on the address it connects to. The endpoint's host is
resolved right before the POST (in a small thread pool of its own, so slow DNS never takes the
threads that payments use), every address is checked (domain.model.webhooks.refusal), and the
connection is made to the checked address itself: the URL's host is replaced by that address, while
the Host header, TLS's SNI and the certificate check keep the endpoint's name. Resolving a second time
(letting httpx resolve the name again) would leave a gap in which a DNS answer with a short TTL could
change to an address inside the network after the check ("DNS rebinding"); connecting to the address
that was checked closes it. Each endpoint origin (scheme, name, port) has its own client, so a kept-
alive connection is only ever reused for the name it was opened, and verified, for.

Redirects are never followed (a 3xx is a failed try), proxies from the environment are not used (the
connection must go to the checked address), and the whole POST, answer included, has one deadline.
"""

from __future__ import annotations

import asyncio
import logging
import math
import socket
from concurrent.futures import ThreadPoolExecutor

import httpx
from standardwebhooks.webhooks import Webhook

from domain.clock import Clock, SystemClock
from domain.model.errors import ValidationFailed
from domain.model.webhooks import Destination, SendResult, check_addresses, parse_url
from domain.ports import HostResolver

log = logging.getLogger("paygate.webhooks")

MAX_ANSWER_BYTES = 64 * 1024  # read this much of an answer (so its connection may be reused), no more
USER_AGENT = "PayGate-Webhooks/1.0"


class DnsResolver:
    """The system resolver (socket.getaddrinfo). Blocks: run it in a thread."""

    def resolve(self, host: str, port: int) -> list[str]:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):  # gaierror is an OSError: no such name, no DNS
            return []
        return list(dict.fromkeys(str(info[4][0]) for info in infos))


def signed_headers(secret: str, message_id: str, body: bytes, clock: Clock) -> dict[str, str]:
    """The Standard Webhooks headers for `body`, signed with `secret` (whsec_…) at the clock's second."""
    now = clock.now()
    signature = Webhook(secret).sign(message_id, now, body.decode())
    return {"webhook-id": message_id, "webhook-timestamp": str(math.floor(now.timestamp())),
            "webhook-signature": signature, "content-type": "application/json", "user-agent": USER_AGENT}


class HttpWebhookSender:
    """Implements domain.ports.WebhookSender with httpx (async) and the standardwebhooks library."""

    def __init__(self, resolver: HostResolver | None = None, *, allow_private: bool = False,
                 timeout_seconds: float = 10.0, clock: Clock | None = None, dns_threads: int = 4,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        """`transport` replaces the network (tests); `dns_threads` bounds the lookups running at once."""
        self.resolver = resolver or DnsResolver()
        self.allow_private = allow_private
        self.timeout_seconds = timeout_seconds
        self.clock = clock or SystemClock()
        self._transport = transport
        self._dns = ThreadPoolExecutor(max_workers=dns_threads, thread_name_prefix="webhook-dns")
        self._clients: dict[tuple[str, str, int], httpx.AsyncClient] = {}

    async def send(self, url: str, secret: str, message_id: str, body: bytes) -> SendResult:
        try:
            async with asyncio.timeout(self.timeout_seconds):
                return await self._send(url, secret, message_id, body)
        except TimeoutError:
            return SendResult(error=f"no answer within {self.timeout_seconds:g} s")

    async def _send(self, url: str, secret: str, message_id: str, body: bytes) -> SendResult:
        try:
            destination = parse_url(url)
        except ValidationFailed as e:
            return SendResult(error=f"refused: {e.message}")
        loop = asyncio.get_running_loop()
        addresses = await loop.run_in_executor(self._dns, self.resolver.resolve, destination.host, destination.port)
        if not addresses:
            return SendResult(error=f"the host {destination.host} does not resolve")
        if not self.allow_private:
            try:
                check_addresses(destination.host, addresses)
            except ValidationFailed as e:
                return SendResult(error=f"refused: {e.details[0].message if e.details else e.message}")
        headers = {**signed_headers(secret, message_id, body, self.clock), "host": httpx.URL(url).netloc.decode()}
        client = self._client(destination)
        failed: SendResult | None = None
        # Each checked address in turn (a dual-stack host's IPv6 and IPv4), while a connection cannot
        # be made: nothing was sent then. Once connected, the answer (or its absence) is the result.
        for address in dict.fromkeys(addresses):
            pinned = httpx.URL(url).copy_with(host=address)
            try:
                async with client.stream("POST", pinned, content=body, headers=headers,
                                         extensions={"sni_hostname": destination.host}) as response:
                    read = 0
                    async for chunk in response.aiter_bytes():
                        read += len(chunk)
                        if read > MAX_ANSWER_BYTES:
                            break
                    return SendResult(status_code=response.status_code)
            except httpx.ConnectError as e:
                failed = SendResult(error=f"{type(e).__name__}: {str(e)[:200] or 'the connection failed'}")
            except httpx.TimeoutException:
                return SendResult(error=f"no answer within {self.timeout_seconds:g} s")
            except httpx.HTTPError as e:
                return SendResult(error=f"{type(e).__name__}: {str(e)[:200] or 'the connection failed'}")
        return failed or SendResult(error="the connection failed")

    def _client(self, destination: Destination) -> httpx.AsyncClient:
        key = (destination.scheme, destination.host, destination.port)
        client = self._clients.get(key)
        if client is None:
            client = httpx.AsyncClient(timeout=httpx.Timeout(self.timeout_seconds), follow_redirects=False,
                                       trust_env=False, transport=self._transport,
                                       limits=httpx.Limits(max_connections=4, max_keepalive_connections=2))
            self._clients[key] = client
        return client

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            try:
                await client.aclose()
            except Exception:
                log.exception("closing a webhook client failed")
        self._dns.shutdown(wait=False, cancel_futures=True)
