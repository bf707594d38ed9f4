"""Product images drawn by the app itself, so the demo renders with no outside network."""

from __future__ import annotations

import hashlib
from xml.etree import ElementTree

from fastapi import APIRouter, Request
from fastapi.responses import Response

from domain.model.errors import NotFound

router = APIRouter(tags=["images"], include_in_schema=False)

PALETTES = {
    "electronics": ("#4338ca", "#06b6d4"), "clothing": ("#be185d", "#f59e0b"),
    "books": ("#065f46", "#84cc16"), "home": ("#9a3412", "#fbbf24"),
}
LINE = {"fill": "none", "stroke": "white", "stroke-width": "10", "stroke-linejoin": "round"}
ICONS: dict[str, list[tuple[str, dict[str, str]]]] = {  # simple line drawings, one per category
    "electronics": [("rect", {"x": "110", "y": "70", "width": "180", "height": "120", "rx": "12", "fill": "none",
                              "stroke": "white", "stroke-width": "10"}),
                    ("rect", {"x": "170", "y": "200", "width": "60", "height": "14", "rx": "4", "fill": "white"})],
    "clothing": [("path", {"d": "M150 70 L120 95 L135 130 L155 120 L155 215 L245 215 L245 120 L265 130 L280 95 "
                                "L250 70 Q200 100 150 70 Z", **LINE})],
    "books": [("path", {"d": "M120 80 L200 95 L280 80 L280 210 L200 225 L120 210 Z M200 95 L200 225", **LINE})],
    "home": [("path", {"d": "M120 150 L200 80 L280 150 M140 135 L140 215 L260 215 L260 135", **LINE})],
}
OTHER_ICON = [("circle", {"cx": "200", "cy": "145", "r": "60", "fill": "none", "stroke": "white",
                          "stroke-width": "10"})]


def product_svg(name: str, category: str) -> str:
    """A picture for a product: its category's colours and drawing, its name as the label.

    Built as elements, so the name is an attribute value that ElementTree escapes, never markup.
    """
    start, end = PALETTES.get(category, ("#334155", "#64748b"))
    svg = ElementTree.Element("svg", {"xmlns": "http://www.w3.org/2000/svg", "viewBox": "0 0 400 300",
                                      "role": "img", "aria-label": name})
    gradient = ElementTree.SubElement(ElementTree.SubElement(svg, "defs"), "linearGradient",
                                      {"id": "g", "x1": "0", "y1": "0", "x2": "1", "y2": "1"})
    ElementTree.SubElement(gradient, "stop", {"offset": "0", "stop-color": start})
    ElementTree.SubElement(gradient, "stop", {"offset": "1", "stop-color": end})
    ElementTree.SubElement(svg, "rect", {"width": "400", "height": "300", "fill": "url(#g)"})
    for tag, attributes in ICONS.get(category, OTHER_ICON):
        ElementTree.SubElement(svg, tag, attributes)
    return ElementTree.tostring(svg, encoding="unicode")


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
