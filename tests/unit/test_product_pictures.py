"""Product pictures: an upload is judged by its bytes alone, kept under a name the server chooses, and a
product without a picture gets one drawn for it, its own."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path
from xml.etree import ElementTree

import pytest

from app.api.images import monogram, product_svg
from app.product_images import MAX_IMAGE_BYTES, ImageRefused, ImageStore, check_image
from storage.seed import DEMO_PRODUCTS
from tests.pictures import GIF, SVG, WEBP_LOSSLESS, WEBP_LOSSY, jpeg, png

SVG_NS = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize(("data", "extension", "media_type"), [
    (png(), "png", "image/png"), (jpeg(), "jpg", "image/jpeg"),
    (WEBP_LOSSY, "webp", "image/webp"), (WEBP_LOSSLESS, "webp", "image/webp"),
])
def test_png_jpeg_and_webp_are_recognised_by_their_bytes(data: bytes, extension: str, media_type: str):
    image_format = check_image(data)

    assert (image_format.extension, image_format.media_type) == (extension, media_type)


@pytest.mark.parametrize(("data", "what"), [
    (GIF, "this file is a GIF."),
    (SVG, "this file is an SVG."),
    (b"hello, I am text whatever my name says", "this file is text, not a picture."),
    (b"", "this file is empty."),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "this file looks like one but is damaged or incomplete."),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "this file looks like one but is damaged or incomplete."),
])
def test_other_files_are_refused_with_a_sentence_that_says_what_they_are(data: bytes, what: str):
    with pytest.raises(ImageRefused) as refused:
        check_image(data)

    assert refused.value.message == f"Images must be PNG, JPEG or WebP up to 2 MB; {what}"


def test_a_png_whose_header_checksum_is_wrong_is_refused():
    data = bytearray(png())
    data[20] ^= 0xFF  # inside IHDR's width, so its CRC no longer holds

    with pytest.raises(ImageRefused):
        check_image(bytes(data))


def test_a_picture_of_exactly_2_mb_is_taken_and_one_byte_more_is_refused():
    picture = png()
    padded = picture + b"\x00" * (MAX_IMAGE_BYTES - len(picture))  # bytes after IEND are ignored by decoders

    assert check_image(padded).extension == "png"
    with pytest.raises(ImageRefused) as refused:
        check_image(padded + b"\x00")
    assert refused.value.message.endswith("; this file is 2.1 MB.")


def test_a_saved_picture_is_named_by_the_hash_of_its_bytes_and_kept_once(tmp_path: Path):
    store, data = ImageStore(tmp_path / "uploads"), png(7, 5)

    first, second = store.save(data), store.save(data)

    name = f"{hashlib.sha256(data).hexdigest()}.png"
    assert first == second == f"/images/uploads/{name}"
    assert [p.name for p in (tmp_path / "uploads").iterdir()] == [name]
    assert store.open(name) == (tmp_path / "uploads" / name, "image/png")


def test_a_refused_file_leaves_nothing_behind(tmp_path: Path):
    store = ImageStore(tmp_path / "uploads")

    with pytest.raises(ImageRefused):
        store.save(GIF)

    assert not (tmp_path / "uploads").exists() or not any((tmp_path / "uploads").iterdir())


@pytest.mark.parametrize("name", [
    "../secret.png", "..", "x.png", "A" * 64 + ".png", "a" * 64 + ".gif", "a" * 64 + ".png\n",
    "a" * 64 + ".png/../../x", "a" * 63 + ".png",
])
def test_only_names_of_the_servers_own_form_are_looked_up(tmp_path: Path, name: str):
    store = ImageStore(tmp_path / "uploads")
    (tmp_path / "secret.png").write_bytes(png())

    assert store.open(name) is None


def _background(svg: str) -> tuple[str, ...]:
    root = ElementTree.fromstring(svg)
    return tuple(stop.attrib["stop-color"] for stop in root.iter(f"{SVG_NS}stop"))


def test_the_demo_products_get_distinct_pictures_even_within_one_category():
    pictures = [product_svg(d.id, d.name, d.category) for d in DEMO_PRODUCTS]

    assert len(set(pictures)) == len(DEMO_PRODUCTS)
    assert len({_background(p) for p in pictures}) == len(DEMO_PRODUCTS)  # colours, not just the initials


def test_the_same_product_always_gets_the_same_picture():
    assert product_svg("prod_001", "Premium Headphones", "electronics") == \
        product_svg("prod_001", "Premium Headphones", "electronics")


def test_the_initials_are_a_text_node_so_a_name_cannot_add_markup():
    svg = product_svg("prod_x", '<b onload="x()">Quiet & "Loud"</b>', "home")

    root = ElementTree.fromstring(svg)
    assert root.attrib["aria-label"] == '<b onload="x()">Quiet & "Loud"</b>'
    assert [t.text for t in root.iter(f"{SVG_NS}text")] == ["BO"]
    assert not list(root.iter("b")) and not list(root.iter(f"{SVG_NS}b"))


@pytest.mark.parametrize(("name", "initials"), [
    ("Premium Headphones", "PH"), ("The Pragmatic Payments Book", "PP"), ("A Short History of Money", "SH"),
    ("Mug", "M"), ("!!!", "?"), ("the", "T"),
])
def test_a_monogram_is_up_to_two_initials_with_small_words_skipped(name: str, initials: str):
    assert monogram(name) == initials


def test_the_jpeg_check_reads_past_segments_to_the_frame_header():
    comment = b"\xff\xfe" + struct.pack(">H", 6) + b"hey!"
    data = jpeg()
    data = data[:2] + comment + data[2:]

    assert check_image(data).extension == "jpg"
