"""Product pictures that admins upload: checked by their content, kept in the data folder under a name
the server chooses (the SHA-256 of the bytes), and served back from /images/uploads/<name>.

A file's name and declared type say nothing about what it is, so neither is read: the bytes must open
as a PNG, JPEG or WebP header that a browser would decode. An SVG is refused (it can carry script), and
so is anything else.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import struct
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from domain.model.errors import FieldError, ValidationFailed

MAX_IMAGE_BYTES = 2 * 1024 * 1024
UPLOADS_PATH = "/images/uploads"
ALLOWED = "Images must be PNG, JPEG or WebP up to 2 MB"
NAME = re.compile(r"[0-9a-f]{64}\.(png|jpg|webp)")  # the only names save() gives (fullmatch)


@dataclass(frozen=True)
class ImageFormat:
    extension: str
    media_type: str


PNG = ImageFormat("png", "image/png")
JPEG = ImageFormat("jpg", "image/jpeg")
WEBP = ImageFormat("webp", "image/webp")
MEDIA_TYPES = {f.extension: f.media_type for f in (PNG, JPEG, WEBP)}

# Formats named in the refusal, so that the admin learns what the file actually is.
_OTHER_KINDS: tuple[tuple[bytes, str], ...] = (
    (b"GIF87a", "a GIF"), (b"GIF89a", "a GIF"), (b"BM", "a BMP"), (b"%PDF", "a PDF"),
    (b"II*\x00", "a TIFF"), (b"MM\x00*", "a TIFF"), (b"\x00\x00\x01\x00", "an icon (ICO)"),
    (b"PK\x03\x04", "a ZIP archive"),
)


class ImageRefused(ValidationFailed):
    """The file is not a PNG, JPEG or WebP of at most 2 MB; the message says what it is instead."""

    def __init__(self, reason: str) -> None:
        message = f"{ALLOWED}; {reason}."
        super().__init__(message, [FieldError("image", message)])


def _png(data: bytes) -> bool:
    """The signature, then an IHDR chunk of 13 bytes whose CRC holds and whose fields are legal."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n") or len(data) < 33:
        return False
    length, kind = struct.unpack(">I4s", data[8:16])
    body, crc = data[16:29], struct.unpack(">I", data[29:33])[0]
    if length != 13 or kind != b"IHDR" or zlib.crc32(kind + body) != crc:
        return False
    width, height, depth, colour = struct.unpack(">IIBB", body[:10])
    depths = {0: {1, 2, 4, 8, 16}, 2: {8, 16}, 3: {1, 2, 4, 8}, 4: {8, 16}, 6: {8, 16}}
    return 0 < width < 2**31 and 0 < height < 2**31 and depth in depths.get(colour, set())


_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg(data: bytes) -> bool:
    """Start of image, then segments up to a start-of-frame marker with a width and components."""
    if not data.startswith(b"\xff\xd8\xff"):
        return False
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return False
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            at += 2
            continue
        length = struct.unpack(">H", data[at + 2:at + 4])[0]
        if length < 2:
            return False
        if marker in _SOF:
            frame = data[at + 4:at + 4 + 6]
            if len(frame) < 6:
                return False
            precision, _height, width, components = struct.unpack(">BHHB", frame)
            return precision in (8, 12, 16) and width > 0 and components in (1, 3, 4)
        if marker == 0xDA:  # scan data before any frame header
            return False
        at += 2 + length
    return False


def _webp(data: bytes) -> bool:
    """A RIFF container of kind WEBP whose first chunk is a VP8, VP8L or VP8X header that reads."""
    if len(data) < 30 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return False
    riff_size = struct.unpack("<I", data[4:8])[0]
    if riff_size + 8 > len(data) or riff_size < 22:
        return False
    chunk, payload = data[12:16], data[20:]
    if chunk == b"VP8 ":
        return payload[3:6] == b"\x9d\x01\x2a" and (struct.unpack("<H", payload[6:8])[0] & 0x3FFF) > 0 \
            and (struct.unpack("<H", payload[8:10])[0] & 0x3FFF) > 0
    if chunk == b"VP8L":
        return payload[0] == 0x2F
    if chunk == b"VP8X":
        return len(payload) >= 10
    return False


def _what_else(data: bytes) -> str:
    """What a refused file seems to be, for the message."""
    for signature, kind in _OTHER_KINDS:
        if data.startswith(signature):
            return f"this file is {kind}"
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if b"<svg" in head or (head.startswith(b"<?xml") and b"svg" in head):
        return "this file is an SVG"
    if data[4:12] in (b"ftypavif", b"ftypheic", b"ftypheix", b"ftypmif1"):
        return "this file is an AVIF or HEIC"
    if data.startswith((b"\x89PNG", b"\xff\xd8\xff", b"RIFF")):
        return "this file looks like one but is damaged or incomplete"
    try:
        data[:4096].decode("utf-8")
    except UnicodeDecodeError:
        return "this file is not a picture in one of those formats"
    return "this file is text, not a picture"


def check_image(data: bytes) -> ImageFormat:
    """The format of an uploaded picture, read from its bytes; ImageRefused when it is not one we take."""
    if not data:
        raise ImageRefused("this file is empty")
    if len(data) > MAX_IMAGE_BYTES:
        tenths = math.ceil(len(data) * 10 / (1024 * 1024))  # rounded up: 2 MB and a byte is not "2.0 MB"
        raise ImageRefused(f"this file is {tenths // 10}.{tenths % 10} MB")
    for image_format, reads in ((PNG, _png), (JPEG, _jpeg), (WEBP, _webp)):
        if reads(data):
            return image_format
    raise ImageRefused(_what_else(data))


class ImageStore:
    """Uploaded pictures in one folder, each named by the SHA-256 of its bytes (the same picture twice
    is one file), written whole or not at all."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def save(self, data: bytes) -> str:
        """Check and keep a picture; its URL path on this site. ImageRefused leaves nothing behind."""
        image_format = check_image(data)
        name = f"{hashlib.sha256(data).hexdigest()}.{image_format.extension}"
        target = self.folder / name
        if not target.exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".upload-")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(data)
                os.replace(temporary, target)  # readers see the whole file or none
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        return f"{UPLOADS_PATH}/{name}"

    def open(self, name: str) -> tuple[Path, str] | None:
        """The file and media type of a stored picture, or None for a name that is not one of ours.

        Only names of the server's own form are looked up, so no name can reach outside the folder.
        """
        if not NAME.fullmatch(name):
            return None
        path = self.folder / name
        return (path, MEDIA_TYPES[name.rsplit(".", 1)[1]]) if path.is_file() else None


def image_store(data_dir: Path) -> ImageStore:
    return ImageStore(data_dir / "uploads")
