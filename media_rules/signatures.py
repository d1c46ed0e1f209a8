"""Handwritten signatures (签名): the image a phone's signature pad gives (a PNG from a canvas,
usually black strokes on a transparent or white background), sent inline as base64.

``store_signature`` refuses what is not a PNG or JPEG, what is too large, and a blank pad (seed 003:
在空白面板处签字确认), then stores the image once by its SHA-256 like any other file
(``media_rules.intake.ingest``). A pad is blank when, flattened onto white, almost no pixel is dark
or the dark pixels cover no real extent (a dot or a stray tap is not a signature).
"""

from __future__ import annotations

import base64
import binascii
import io

from PIL import Image, ImageOps, UnidentifiedImageError

from media_rules.errors import SIGNATURE_BLANK, SIGNATURE_IMAGE_INVALID
from media_rules.intake import ingest
from media_rules.models import Blob
from server.errors import DomainError

MAX_BYTES = 512 * 1024
INK_LEVEL = 160  # a pixel darker than this (0-255, flattened onto white) is ink
MIN_INK_PIXELS = 60
MIN_EXTENT = 0.08  # the ink spans at least this fraction of the pad's width or height


def decode(value: str) -> bytes:
    """The bytes of a base64 signature, with or without a ``data:image/png;base64,`` prefix."""
    if not isinstance(value, str) or not value.strip():
        raise DomainError(SIGNATURE_BLANK)
    text = value.strip()
    if text.startswith("data:"):
        text = text.partition(",")[2]
    if len(text) > MAX_BYTES * 4 // 3 + 8:
        raise DomainError(SIGNATURE_IMAGE_INVALID, max_kb=MAX_BYTES // 1024)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise DomainError(SIGNATURE_IMAGE_INVALID, max_kb=MAX_BYTES // 1024) from None


def ink(data: bytes) -> tuple[int, float]:
    """How many ink pixels the image has, and how far they extend (fraction of the larger side)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ("PNG", "JPEG"):
                raise DomainError(SIGNATURE_IMAGE_INVALID, max_kb=MAX_BYTES // 1024)
            if image.width * image.height > 16_000_000:
                raise DomainError(SIGNATURE_IMAGE_INVALID, max_kb=MAX_BYTES // 1024)
            image = ImageOps.exif_transpose(image)
            rgba = image.convert("RGBA")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise DomainError(SIGNATURE_IMAGE_INVALID, max_kb=MAX_BYTES // 1024) from None
    flat = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    flat.alpha_composite(rgba)
    gray = flat.convert("L")
    mask = gray.point(lambda v: 255 if v < INK_LEVEL else 0)
    count = mask.histogram()[255]
    box = mask.getbbox()
    if box is None:
        return 0, 0.0
    extent = max((box[2] - box[0]) / gray.width, (box[3] - box[1]) / gray.height)
    return count, extent


def store_signature(value: str) -> Blob:
    """Check and store a base64 signature image; returns its Blob (the same one for the same image)."""
    data = decode(value)
    if len(data) > MAX_BYTES:
        raise DomainError(SIGNATURE_IMAGE_INVALID, max_kb=MAX_BYTES // 1024)
    count, extent = ink(data)
    if count < MIN_INK_PIXELS or extent < MIN_EXTENT:
        raise DomainError(SIGNATURE_BLANK, details={"ink_pixels": count, "extent": round(extent, 3)})
    blob, _ = ingest(data, holder=None)  # an O&M record's signature, never a photo's file
    return blob
