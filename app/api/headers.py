"""Security headers on every HTTP response (pages, API, errors), with a Content-Security-Policy.

NiceGUI writes each page's inline scripts (its import map, the element tree, the Vue start-up) into the
HTML, and they differ from page to page. Rather than allow every inline script ('unsafe-inline', which
would also let an injected `onmouseover="..."` attribute run), the policy of an HTML response lists the
SHA-256 hash of each inline script in that response: those run, and no inline event handler or script
added later does.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Iterable, Mapping
from html.parser import HTMLParser

from starlette.types import ASGIApp, Message, Receive, Scope, Send

Sources = tuple[str, ...]

# What the pages need, found by loading each in Chromium and watching for violations
# (tests/e2e/test_xss_and_csp.py keeps it so).
POLICY: dict[str, Sources] = {
    "default-src": ("'self'",),
    # Vue compiles NiceGUI's component templates in the browser (new Function), and NiceGUI evaluates
    # `:prop` values and JavaScript handlers with eval: without 'unsafe-eval' no page starts.
    "script-src": ("'self'", "'unsafe-eval'"),
    # NiceGUI's page has <style> elements and style attributes, Tailwind's browser build and Quasar add more.
    "style-src": ("'self'", "'unsafe-inline'"),
    # Product pictures may be https: URLs an admin gives (a picture cannot run script; plain http: is
    # left out, as mixed content). The emoji favicon is a data: SVG.
    "img-src": ("'self'", "data:", "https:"),
    "font-src": ("'self'",),
    # NiceGUI's socket.io: polling, and ws:/wss: to this same origin, which 'self' covers.
    "connect-src": ("'self'",),
    "object-src": ("'none'",),
    "base-uri": ("'self'",),
    "form-action": ("'self'",),
    "frame-ancestors": ("'none'",),
}

# FastAPI's API docs (ui.run(fastapi_docs=True)) load Swagger UI and ReDoc from jsDelivr, and ReDoc its
# fonts from Google and its search worker from a blob:. Only these pages get these sources.
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
DOCS_SOURCES: dict[str, Sources] = {
    "script-src": ("https://cdn.jsdelivr.net",),
    "style-src": ("https://cdn.jsdelivr.net", "https://fonts.googleapis.com"),
    "font-src": ("https://fonts.gstatic.com",),
    "worker-src": ("'self'", "blob:"),
}


def content_security_policy(inline_script_hashes: Iterable[str] = (),
                            extra: Mapping[str, Sources] | None = None) -> bytes:
    """POLICY, plus the inline scripts whose hashes ('sha256-…') are given and the `extra` sources."""
    directives = {name: sources + (extra or {}).get(name, ()) for name, sources in POLICY.items()}
    directives.update({name: sources for name, sources in (extra or {}).items() if name not in POLICY})
    directives["script-src"] += tuple(f"'{digest}'" for digest in inline_script_hashes)
    return "; ".join(" ".join((name, *sources)) for name, sources in directives.items()).encode("ascii")


# For every response; an HTML page's policy also names its own inline scripts.
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"content-security-policy", content_security_policy()),
]


class _InlineScripts(HTMLParser):
    """Collects the text of every <script> without a src, exactly as the browser hashes it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.scripts: list[str] = []
        self._current: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script" and not any(name == "src" for name, _ in attrs):
            self._current = []

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._current.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._current is not None:
            self.scripts.append("".join(self._current))
            self._current = None


def inline_script_hashes(html: str) -> list[str]:
    """'sha256-…' of each distinct inline script of `html`, as CSP names them."""
    parser = _InlineScripts()
    parser.feed(html)
    parser.close()
    digests = {hashlib.sha256(script.encode()).digest() for script in parser.scripts}
    return sorted("sha256-" + base64.b64encode(d).decode("ascii") for d in digests)


def _header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bytes:
    return next((v for k, v in headers if k.lower() == name), b"")


def page_policy(path: str, headers: list[tuple[bytes, bytes]], body: bytes) -> bytes:
    """The policy of one HTML response: its inline scripts allowed, and the docs' CDNs on the docs pages."""
    extra = DOCS_SOURCES if path in DOCS_PATHS else None
    encoding = _header(headers, b"content-encoding").lower()
    if encoding == b"gzip":  # only if a compressing middleware is ever moved inside this one
        body = zlib.decompress(body, wbits=31)
    elif encoding not in (b"", b"identity"):
        return content_security_policy(extra=extra)  # unreadable: no inline script runs, which fails safe
    charset = _header(headers, b"content-type").decode("latin-1").partition("charset=")[2].strip() or "utf-8"
    return content_security_policy(inline_script_hashes(body.decode(charset, errors="replace")), extra)


def _with_headers(start: Message, policy: bytes | None = None, private: bool = False) -> Message:
    """`start` with the security headers it does not set itself; `policy` replaces the default CSP;
    a `private` response (it answers a signed-in caller) is not to be stored by any cache."""
    headers = list(start.get("headers", []))
    present = {k.lower() for k, _ in headers}
    wanted = [(k, policy if policy is not None and k == b"content-security-policy" else v)
              for k, v in SECURITY_HEADERS]
    if private:
        wanted.append((b"cache-control", b"no-store"))
    return {**start, "headers": headers + [(k, v) for k, v in wanted if k not in present]}


def _signed_in(scope: Scope) -> bool:
    """A request that carries credentials: a bearer token, or a browser's session cookie."""
    headers = scope.get("headers", [])
    return bool(_header(headers, b"authorization")) or b"session=" in _header(headers, b"cookie")


class SecurityHeaders:
    """Pure ASGI middleware. Everything passes through as it comes except an HTML body, held until
    complete (a page is a few kilobytes) so that the policy can name that page's inline scripts.

    It must sit inside any compressing middleware, as it does: NiceGUI's GZip is added by ui.run, later.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: list[Message] = []  # the start of an HTML response, then its body so far
        private = _signed_in(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                if _header(message.get("headers", []), b"content-type").lower().startswith(b"text/html"):
                    held.append(message)
                else:
                    await send(_with_headers(message, private=private))
            elif message["type"] == "http.response.body" and held:
                held.append(message)
                if message.get("more_body", False):
                    return
                start, body = held[0], b"".join(m.get("body", b"") for m in held[1:])
                held.clear()
                policy = page_policy(scope["path"], list(start.get("headers", [])), body)
                await send(_with_headers(start, policy, private=True))  # a page may show the user's data
                await send({"type": "http.response.body", "body": body, "more_body": False})
            elif held:  # an HTML file sent by path (a server's pathsend extension): no body here to read
                await send(_with_headers(held.pop(), private=private))
                await send(message)
            else:
                await send(message)

        await self.app(scope, receive, send_with_headers)
