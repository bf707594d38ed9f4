"""NiceGUI's page middleware (session tracking, the forwarded prefix, cache headers) serves pages on a
real server and is skipped by the API (app/api/page_middleware.py): an API answer sets no browser
session, while a page still gets its session and its redirect under X-Forwarded-Prefix."""

from __future__ import annotations

import httpx

from bench.server import Server


def test_the_api_skips_the_page_middleware_and_pages_keep_it(server: Server):
    with httpx.Client(base_url=server.url, timeout=10.0) as client:
        api = client.post("/api/auth/login", json={"email": "customer@example.com", "password": "password123"})
        products = client.get("/api/products")
    with httpx.Client(base_url=server.url, timeout=10.0) as client:
        page = client.get("/login")
    with httpx.Client(base_url=server.url, timeout=10.0) as client:
        redirect = client.get("/", headers={"X-Forwarded-Prefix": "/shop"})

    assert api.status_code == 200 and "set-cookie" not in api.headers
    assert products.status_code == 200 and "set-cookie" not in products.headers
    assert page.status_code == 200 and page.headers["set-cookie"].startswith("session=")
    assert redirect.status_code in (302, 303, 307) and redirect.headers["location"] == "/shop/login"
