"""Photo bytes in, safe facts out: format sniffing, bomb-proof opening, thumbnails, perceptual hashes.

Everything here takes the uploaded bytes, never a file name or the client's content type: both are
chosen by the client. The error codes are the ones intake reports to the phone.
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import warnings
from collections.abc import Iterator
from typing import TypedDict

import pillow_heif
from PIL import Image, ImageFile, ImageOps

from server.errors import DomainError, ErrorCode

logger = logging.getLogger(__name__)

# A 48 MP phone sensor (8064x6048 = 48.8 M) fits; 108/200 MP "full resolution" modes do not: decoding
# 200 MP as RGB takes 600 MB, more than one worker should spend on one upload.
MAX_PIXELS = 60_000_000

# How much of the file's head ``sniff_format`` looks at (an ftyp box lists its brands within this).
SNIFF_BYTES = 64

UNSUPPORTED_IMAGE = ErrorCode(
    "unsupported_image",
    415,
    "不支持的图片格式，仅支持 JPEG、PNG、HEIC。",
    "Unsupported image format; only JPEG, PNG and HEIC are accepted.",
)
# 422, not 413: the upload itself may be a few KB; what is refused is the pixel count its header declares.
IMAGE_TOO_LARGE = ErrorCode(
    "image_too_large_pixels",
    422,
    "图片像素数超过上限（最多 {max_pixels} 像素），请用相机的标准分辨率拍摄后重新上传。",
    "The image has too many pixels (the limit is {max_pixels}); "
    "take it at the camera's standard resolution and upload it again.",
)
IMAGE_UNREADABLE = ErrorCode(
    "image_unreadable",
    422,
    "图片文件已损坏或不完整，无法解码，请重新上传。",
    "The image file is damaged or incomplete and cannot be decoded; upload it again.",
)

_HEVC_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis"})
_GENERIC_HEIF_BRANDS = frozenset({b"mif1", b"msf1"})  # HEIF container, codec not named by the brand
_AVIF_BRANDS = frozenset({b"avif", b"avis"})  # also list mif1, but no AV1 decoder is installed

_PIL_FORMATS = {"jpeg": ["JPEG"], "png": ["PNG"], "heic": ["HEIF"], "heif": ["HEIF"]}
_ORIENTATION_TAG = 0x0112
_SWAPS_AXES = {5, 6, 7, 8}  # EXIF orientations that rotate by 90 degrees


def sniff_format(head: bytes) -> str | None:
    """'jpeg', 'png', 'heic' (HEVC-coded HEIF) or 'heif' (generic mif1/msf1) from the magic bytes.

    Pass at least the first ``SNIFF_BYTES`` bytes of the file.
    """
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(head) < 16 or head[4:8] != b"ftyp":
        return None
    box_size = int.from_bytes(head[:4], "big")
    if box_size < 16:  # 0 and 1 (size elsewhere) are legal for other boxes, never seen for ftyp
        return None
    end = min(box_size, len(head))
    # The major brand, then the compatible brands, 4 bytes each after the minor version.
    brands = {head[8:12]} | {head[i : i + 4] for i in range(16, end - 3, 4)}
    if brands & _HEVC_BRANDS:
        return "heic"
    if brands & _AVIF_BRANDS:
        return None
    if brands & _GENERIC_HEIF_BRANDS:
        return "heif"
    return None


@functools.cache
def _register_heif() -> None:
    # Once, on the first HEIF upload: registering sets pillow_heif's process-wide options each time.
    pillow_heif.register_heif_opener()


def _isobmff_intact(data: bytes) -> bool:
    """True when the top-level boxes cover the file exactly.

    An upload cut short ends inside its last box (the mdat). libheif does not notice: it decodes
    the grid tiles it has and fills in the missing ones (IMG_5195.HEIC cut to half its length
    "decodes" at full size), so truncation has to be caught here.
    """
    offset, total = 0, len(data)
    while offset < total:
        if total - offset < 8:
            return False
        size, header = int.from_bytes(data[offset : offset + 4], "big"), 8
        if size == 1:  # 64-bit size follows the type
            if total - offset < 16:
                return False
            size, header = int.from_bytes(data[offset + 8 : offset + 16], "big"), 16
        elif size == 0:  # "extends to the end of the file"
            return True
        if size < header or offset + size > total:
            return False
        offset += size
    return True


def _too_large(width: int | None = None, height: int | None = None) -> DomainError:
    details = {"width": width, "height": height, "max_pixels": MAX_PIXELS}
    return DomainError(IMAGE_TOO_LARGE, details=details, max_pixels=f"{MAX_PIXELS:,}")


@contextlib.contextmanager
def _decode_guard(fmt: str) -> Iterator[None]:
    """Whatever Pillow or libheif raise on a hostile or broken file becomes a DomainError, never a 500.

    Pillow's own bomb check (a warning above Image.MAX_IMAGE_PIXELS, an error above twice that) is
    made an error for this call only. ``catch_warnings`` is process-wide before Python 3.14, so
    concurrent calls may interleave: one may run without the filter (harmless: our MAX_PIXELS
    check, lower than Pillow's, refuses the image anyway) or leave it installed (harmless: the
    warning then raises elsewhere too).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            yield
        except DomainError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise _too_large() from exc
        except MemoryError:
            raise
        except Exception as exc:
            # Broad on purpose: on malformed input Pillow's plugins raise OSError, SyntaxError,
            # ValueError, EOFError, struct.error, IndexError, TypeError... all mean "cannot decode".
            logger.info("undecodable %s upload: %s: %s", fmt, type(exc).__name__, exc)
            raise DomainError(IMAGE_UNREADABLE, details={"format": fmt}) from exc


def _open_header(data: bytes) -> tuple[ImageFile.ImageFile, str]:
    """Identify the image and read its header only: no pixel is decoded yet (Image.open is lazy)."""
    fmt = sniff_format(data[:SNIFF_BYTES])
    if fmt is None:
        raise DomainError(UNSUPPORTED_IMAGE)
    if fmt in ("heic", "heif"):
        _register_heif()
        if not _isobmff_intact(data):
            raise DomainError(IMAGE_UNREADABLE, details={"format": fmt})
    with _decode_guard(fmt):
        # Only the sniffed format's plugin may claim the file, so a JPEG-looking polyglot cannot
        # be handed to some other decoder.
        image = Image.open(io.BytesIO(data), formats=_PIL_FORMATS[fmt])
    return image, fmt


def _check_pixels(width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise _too_large(width, height)


def _open_lazy(data: bytes) -> tuple[ImageFile.ImageFile, str]:
    """The opened, not yet decoded image, refused if its header declares too many pixels."""
    image, fmt = _open_header(data)
    _check_pixels(*image.size)
    return image, fmt


def _decode(image: ImageFile.ImageFile, fmt: str, reduce_to: int | None = None) -> None:
    """Decode the pixels, for JPEG at 1/2, 1/4 or 1/8 scale when ``reduce_to`` allows.

    JPEG's DCT scaling still reads the whole entropy-coded stream, so truncation is still
    detected, at a fraction of the time and memory. HEIF's draft would substitute an embedded
    thumbnail instead, which an editor may have left showing other content: never for
    authenticity, so HEIF is always decoded in full.
    """
    with _decode_guard(fmt):
        if reduce_to is not None and fmt == "jpeg":
            image.draft("RGB", (reduce_to, reduce_to))  # keeps both sides >= reduce_to
        image.load()


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(_ORIENTATION_TAG, 1)
    except Exception:  # corrupt EXIF: show the pixels as stored
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def upright(image: Image.Image) -> Image.Image:
    """The image turned as its EXIF Orientation says; corrupt EXIF leaves it as stored.

    HEIF needs nothing: pillow_heif applies the container's rotation and resets Orientation to 1.
    """
    if _orientation(image) == 1:
        return image
    try:
        return ImageOps.exif_transpose(image)
    except Exception:
        return image


def _to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB, transparent areas flattened onto white (RGBA -> RGB alone would turn them black)."""
    if image.mode.startswith("I"):  # 16-bit PNG: scale to 8 bits; convert() would clip at 255
        image = image.point(lambda v: v * (1 / 256)).convert("L")
    has_alpha = "A" in image.getbands() or (image.mode == "P" and "transparency" in image.info)
    if has_alpha:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image if image.mode == "RGB" else image.convert("RGB")


def open_image(data: bytes) -> Image.Image:
    """The decoded image (orientation as stored; see ``upright``).

    Raises UNSUPPORTED_IMAGE, IMAGE_TOO_LARGE (checked on the header, before any pixel is
    allocated) or IMAGE_UNREADABLE.
    """
    image, fmt = _open_lazy(data)
    _decode(image, fmt)
    return image


def thumbnail(data: bytes, size: int = 320) -> bytes:
    """An upright RGB JPEG whose longer side is at most ``size``, without EXIF (no GPS leaks)."""
    return thumbnail_and_hashes(data, size, hashes=False)[0]


def thumbnail_and_hashes(data: bytes, size: int = 320, *, hashes: bool = True) -> tuple[bytes, int, int]:
    """``thumbnail`` and ``phash_pair`` from one reduced decode (the background's work: decoding
    is most of its cost). For photos of 2560 px and more both decode at 1/8 scale, so the hashes
    are those ``phash_pair`` gives; smaller photos are hashed from a sharper decode, a few bits
    apart at most. Without ``hashes`` the two hashes are 0."""
    if size < 1:
        raise ValueError("size must be positive")
    image, fmt = _open_lazy(data)
    _decode(image, fmt, reduce_to=size)
    with _decode_guard(fmt):
        rgb = _to_rgb(upright(image))
        own = mirrored = 0
        if hashes:
            gray = rgb.convert("L")
            own, mirrored = dhash(gray), dhash(gray.transpose(Image.Transpose.FLIP_LEFT_RIGHT))
        thumb = rgb if rgb is not image else rgb.copy()
        thumb.thumbnail((size, size), Image.Resampling.LANCZOS)
    # Only an RGB colour profile is carried over (a Display P3 iPhone photo looks wrong without it;
    # a CMYK or grey profile would be wrong on RGB pixels). EXIF, XMP and comments are not passed,
    # and Pillow writes only what it is passed (an empty comment overrides the source's).
    icc = image.info.get("icc_profile")
    icc = icc if isinstance(icc, bytes) and icc[16:20] == b"RGB " else None
    out = io.BytesIO()
    thumb.save(out, "JPEG", quality=80, optimize=True, icc_profile=icc, comment=b"")
    return out.getvalue(), own, mirrored


# --- Perceptual hash ------------------------------------------------------------------------------
HASH_BITS = 64
_HASH_MASK = (1 << HASH_BITS) - 1


def dhash(image: Image.Image, hash_size: int = 8) -> int:
    """Difference hash: bit set where a pixel is darker than its right neighbour, on a grayscale
    (hash_size+1) x hash_size resize. Row-major, top-left comparison in the most significant bit.

    Robust to re-encoding, rescaling and small colour changes; not to mirroring or rotation.
    """
    if hash_size < 2:
        raise ValueError("hash_size must be at least 2")
    gray = image if image.mode == "L" else _to_rgb(image).convert("L")
    small = gray.resize((hash_size + 1, hash_size), Image.Resampling.LANCZOS)
    pixels = small.tobytes()
    value = 0
    for row in range(hash_size):
        start = row * (hash_size + 1)
        for col in range(start, start + hash_size):
            value = (value << 1) | (pixels[col + 1] > pixels[col])
    return value


def phash_pair(data: bytes) -> tuple[int, int]:
    """(hash of the upright image, hash of its horizontal mirror).

    Store the first; look a new photo up with both, so a mirrored copy (a selfie camera, an
    editor's "flip") is found too: hamming(stored, new) or hamming(stored, new_mirrored).
    """
    image, fmt = _open_lazy(data)
    _decode(image, fmt, reduce_to=64)  # 9x8 is all the hash needs; 1/8-scale decode is plenty
    with _decode_guard(fmt):
        gray = _to_rgb(upright(image)).convert("L")
        return dhash(gray), dhash(gray.transpose(Image.Transpose.FLIP_LEFT_RIGHT))


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def hash_to_signed64(h: int) -> int:
    """An unsigned 64-bit hash as a PostgreSQL bigint (two's complement)."""
    if not 0 <= h <= _HASH_MASK:
        raise ValueError("hash must be an unsigned 64-bit integer")
    return h - (1 << HASH_BITS) if h >> (HASH_BITS - 1) else h


def signed64_to_hash(v: int) -> int:
    if not -(1 << (HASH_BITS - 1)) <= v < (1 << (HASH_BITS - 1)):
        raise ValueError("value must fit in a signed 64-bit integer")
    return v & _HASH_MASK


def _band_widths(bands: int) -> list[int]:
    if not 1 <= bands <= HASH_BITS:
        raise ValueError(f"bands must be between 1 and {HASH_BITS}")
    width, extra = divmod(HASH_BITS, bands)
    return [width + 1 if i < extra else width for i in range(bands)]


def hash_bands(h: int, bands: int = 4) -> list[int]:
    """The hash cut into ``bands`` contiguous pieces, most significant first (16 bits each by default).

    Pre-filter for near-duplicate search: store each band in its own indexed column and fetch rows
    where any band is equal, then compute the exact Hamming distance on those few. Pigeonhole: two
    hashes at distance d differ in d bits, which touch at most d bands, so with d <= bands - 1 at
    least one band is identical: 4 bands guarantee every match within distance 3. More bands
    guarantee a wider distance but narrower bands match more unrelated photos by chance (a random
    16-bit band collides 1 time in 65,536, a 9-bit one 1 in 512). 16-bit values exceed a smallint:
    store them in integer columns.
    """
    if not 0 <= h <= _HASH_MASK:
        raise ValueError("hash must be an unsigned 64-bit integer")
    out, shift = [], HASH_BITS
    for width in _band_widths(bands):
        shift -= width
        out.append((h >> shift) & ((1 << width) - 1))
    return out


def hash_from_bands(values: list[int]) -> int:
    """The inverse of ``hash_bands`` (the band count is ``len(values)``)."""
    h = 0
    for value, width in zip(values, _band_widths(len(values)), strict=True):
        if not 0 <= value < (1 << width):
            raise ValueError("band value out of range")
        h = (h << width) | value
    return h


# --- Intake summary -------------------------------------------------------------------------------
class ImageDescription(TypedDict):
    format: str | None  # sniffed: "jpeg", "png", "heic", "heif", or None
    # Upright (after EXIF Orientation), from the header even when decoding failed; as stored when
    # the image was refused as too large.
    width: int | None
    height: int | None
    decoded: bool  # the whole image stream decoded without error
    error: str | None  # the ErrorCode's code when not decoded


# Markers that stand alone, without a length field: TEM and RST0-7 (SOI and EOI are handled apart).
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
_SOS, _EOI = 0xDA, b"\xff\xd9"


def jpeg_complete(data: bytes) -> bool:
    """Is this JPEG whole, judged from its structure without decoding a pixel? The segments before the
    first scan must chain by their lengths up to a start-of-scan (SOS), and an end-of-image marker
    must follow it. Inside entropy-coded data every 0xFF byte is followed by 0x00 or a restart marker
    (ITU-T T.81 B.1.1.5), so the first FF D9 after the scan starts is the image's end: a file cut
    anywhere after its headers has none (an EXIF thumbnail's own FF D9 lies before the scan).

    What this does not see: damage inside the scan of a file of full length. The background work
    decodes every file for its thumbnail and reports that as ``image_unreadable`` (rule_file_decodes).
    """
    if data[:2] != b"\xff\xd8":
        return False
    pos, size = 2, len(data)
    while pos + 4 <= size:
        if data[pos] != 0xFF:
            return False
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker in _STANDALONE:
            pos += 2
            continue
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if length < 2 or pos + 2 + length > size:
            return False
        if marker == _SOS:  # searched from the end, where a whole file has it: 4 MB are not read
            return data.rfind(_EOI, pos + 2 + length) != -1
        pos += 2 + length
    return False


def describe(data: bytes, *, full: bool = True) -> ImageDescription:
    """What intake records about an upload. Never raises for bad images: it says so.

    ``full=False`` (intake, while the phone waits): a JPEG is checked by its header and its structure
    (``jpeg_complete``) instead of decoding its scan, which costs 30 ms on a 12 MP photo; the
    background work decodes it anyway. PNG and HEIF are always decoded (rare from a phone camera;
    HEIF's container can be whole while its image data is not).
    """
    fmt = sniff_format(data[:SNIFF_BYTES])
    result = ImageDescription(format=fmt, width=None, height=None, decoded=False, error=None)
    try:
        image, fmt = _open_header(data)
        width, height = image.size
        result.update(width=width, height=height)
        # Before reading the orientation: a PNG's getexif() decodes the whole image (eXIf may
        # follow the pixel data), which is exactly what must not happen to a bomb.
        _check_pixels(width, height)
        if _orientation(image) in _SWAPS_AXES:
            result.update(width=height, height=width)
        if not full and fmt == "jpeg":
            if not jpeg_complete(data):
                raise DomainError(IMAGE_UNREADABLE, details={"format": fmt})
        else:
            # The smallest JPEG scale still reads every byte of the scan, at a fraction of the cost.
            _decode(image, fmt, reduce_to=1)
    except DomainError as exc:
        result["error"] = exc.error.code
        return result
    result["decoded"] = True
    return result
