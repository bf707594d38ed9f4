"""Product images drawn by the app itself, so the demo renders with no outside network."""

from __future__ import annotations

import hashlib
from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import Response

from domain.errors import NotFound

router = APIRouter(tags=["images"], include_in_schema=False)

PALETTES = {
    "electronics": ("#4338ca", "#06b6d4"), "clothing": ("#be185d", "#f59e0b"),
    "books": ("#065f46", "#84cc16"), "home": ("#9a3412", "#fbbf24"),
}
ICONS = {  # simple line drawings, one per category
    "electronics": '<rect x="110" y="70" width="180" height="120" rx="12" fill="none" stroke="white" '
                   'stroke-width="10"/>'
                   '<rect x="170" y="200" width="60" height="14" rx="4" fill="white"/>',
    "clothing": '<path d="M150 70 L120 95 L135 130 L155 120 L155 215 L245 215 L245 120 L265 130 L280 95 L250 70 '
                'Q200 100 150 70 Z" fill="none" stroke="white" stroke-width="10" stroke-linejoin="round"/>',
    "books": '<path d="M120 80 L200 95 L280 80 L280 210 L200 225 L120 210 Z M200 95 L200 225" fill="none" '
             'stroke="white" stroke-width="10" stroke-linejoin="round"/>',
    "home": '<path d="M120 150 L200 80 L280 150 M140 135 L140 215 L260 215 L260 135" fill="none" stroke="white" '
            'stroke-width="10" stroke-linejoin="round"/>',
}


def product_svg(name: str, category: str) -> str:
    start, end = PALETTES.get(category, ("#334155", "#64748b"))
    icon = ICONS.get(category, '<circle cx="200" cy="145" r="60" fill="none" stroke="white" stroke-width="10"/>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 300" role="img" aria-label="{escape(name)}">'
            f'<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="{start}"/>'
            f'<stop offset="1" stop-color="{end}"/></linearGradient></defs>'
            f'<rect width="400" height="300" fill="url(#g)"/>{icon}</svg>')


@router.get("/images/products/{image}")
def product_image(image: str, request: Request) -> Response:
    product_id = image.removesuffix(".svg")
    c = request.app.state.container
    try:
        product = c.catalog.get(product_id)
        name, category = product.name, product.category
    except NotFound:  # a deleted product still gets a neutral picture
        name, category = "PayGate", "other"
    svg = product_svg(name, category)
    etag = hashlib.sha256(svg.encode()).hexdigest()[:16]
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=300", "ETag": etag})
