"""Product pictures: the ones the app draws for products without their own, and the ones admins upload.

The drawn pictures need no outside network, and each product gets its own: colours and a pattern from a
hash of its id, its initials in the middle, a small drawing of its category beside them.
"""

from __future__ import annotations

import hashlib
import re
from xml.etree import ElementTree

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from app.product_images import UPLOADS_PATH, image_store
from domain.model.errors import NotFound

router = APIRouter(tags=["images"], include_in_schema=False)

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
SMALL_WORDS = {"a", "an", "the", "of", "and", "for", "&"}
PATTERNS = ("stripes", "dots", "rings", "waves", "grid")
# Hues that carry white text well; the olive and yellow greens (about 50° to 110°) are left out.
HUES = (0, 15, 25, 140, 160, 175, 190, 205, 220, 235, 250, 265, 280, 295, 310, 330, 345)


def monogram(name: str) -> str:
    """Up to two initials of a product's name ("Premium Headphones" → "PH"), small words skipped."""
    words = [w for w in re.findall(r"\w+", name) if w.casefold() not in SMALL_WORDS] or re.findall(r"\w+", name)
    return "".join(w[0] for w in words[:2]).upper() or "?"


def _pattern(svg: ElementTree.Element, kind: str, seed: int) -> None:
    """A light pattern over the background; `seed` shifts it so that two products rarely line up."""
    group = ElementTree.SubElement(svg, "g", {"fill": "none", "stroke": "white", "stroke-opacity": "0.18",
                                              "stroke-width": "6"})
    offset = seed % 40
    if kind == "stripes":
        for x in range(-300 + offset, 400, 40):
            ElementTree.SubElement(group, "line", {"x1": str(x), "y1": "300", "x2": str(x + 300), "y2": "0"})
    elif kind == "dots":
        group.attrib.update({"fill": "white", "fill-opacity": "0.18", "stroke": "none"})
        for y in range(offset % 30, 300, 30):
            for x in range((y // 30 % 2) * 15, 400, 30):
                ElementTree.SubElement(group, "circle", {"cx": str(x), "cy": str(y), "r": "5"})
    elif kind == "rings":
        cx, cy = 40 + seed % 320, 30 + seed % 240
        for r in range(30, 500, 36):
            ElementTree.SubElement(group, "circle", {"cx": str(cx), "cy": str(cy), "r": str(r)})
    elif kind == "waves":
        for y in range(offset - 40, 340, 40):
            ElementTree.SubElement(group, "path", {"d": f"M0 {y} Q50 {y - 25} 100 {y} T200 {y} T300 {y} T400 {y}"})
    else:
        for v in range(offset, 400, 40):
            ElementTree.SubElement(group, "line", {"x1": str(v), "y1": "0", "x2": str(v), "y2": "300"})
            if v < 300:
                ElementTree.SubElement(group, "line", {"x1": "0", "y1": str(v), "x2": "400", "y2": str(v)})


def product_svg(product_id: str, name: str, category: str) -> str:
    """A picture for a product, the same for the same id, name and category, different between products.

    Built as elements, so the name is an attribute value and the initials a text node that ElementTree
    escapes, never markup.
    """
    digest = hashlib.sha256(product_id.encode()).digest()
    hue = HUES[int.from_bytes(digest[:2], "big") % len(HUES)] + digest[5] % 12
    second = (hue + 20 + digest[2] % 40) % 360
    svg = ElementTree.Element("svg", {"xmlns": "http://www.w3.org/2000/svg", "viewBox": "0 0 400 300",
                                      "role": "img", "aria-label": name})
    gradient = ElementTree.SubElement(ElementTree.SubElement(svg, "defs"), "linearGradient",
                                      {"id": "g", "x1": "0", "y1": "0", "x2": "1", "y2": "1"})
    ElementTree.SubElement(gradient, "stop", {"offset": "0", "stop-color": f"hsl({hue}, 62%, 36%)"})
    ElementTree.SubElement(gradient, "stop", {"offset": "1", "stop-color": f"hsl({second}, 70%, 42%)"})
    ElementTree.SubElement(svg, "rect", {"width": "400", "height": "300", "fill": "url(#g)"})
    _pattern(svg, PATTERNS[digest[3] % len(PATTERNS)], digest[4])
    # Left of the initials, halfway down: the shop's wide cards crop the top and bottom of the picture.
    corner = ElementTree.SubElement(svg, "g", {"transform": "translate(4 102) scale(0.3)", "opacity": "0.9"})
    for tag, attributes in ICONS.get(category, OTHER_ICON):
        ElementTree.SubElement(corner, tag, attributes)
    initials = ElementTree.SubElement(svg, "text", {
        "x": "222", "y": "150", "text-anchor": "middle", "dominant-baseline": "central", "fill": "white",
        "font-family": "system-ui, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif", "font-size": "100",
        "font-weight": "700", "letter-spacing": "4"})
    initials.text = monogram(name)
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
    svg = product_svg(product_id, name, category)
    etag = hashlib.sha256(svg.encode()).hexdigest()[:16]
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=300", "ETag": etag})


@router.get(UPLOADS_PATH + "/{name}")
def uploaded_image(name: str, request: Request) -> Response:
    """A picture an admin uploaded; its name is the hash of its bytes, so it never changes."""
    found = image_store(request.app.state.container.settings.data_dir).open(name)
    if found is None:
        return Response("No such picture.", status_code=404, media_type="text/plain")
    path, media_type = found
    return FileResponse(path, media_type=media_type, headers={
        "Cache-Control": "public, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff"})
