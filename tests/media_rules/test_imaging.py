"""media_rules.imaging on the real photos in /work/shared/data/photos and on generated edge cases."""

from __future__ import annotations

import io
import itertools
import random
import struct
import time
import warnings
import zlib

import pillow_heif
import pytest
from PIL import Image, ImageChops, ImageCms, ImageOps, ImageStat

from media_rules import imaging
from media_rules.imaging import (
    IMAGE_TOO_LARGE,
    IMAGE_UNREADABLE,
    MAX_PIXELS,
    SNIFF_BYTES,
    UNSUPPORTED_IMAGE,
    describe,
    dhash,
    hamming,
    hash_bands,
    hash_from_bands,
    hash_to_signed64,
    jpeg_complete,
    open_image,
    phash_pair,
    signed64_to_hash,
    sniff_format,
    thumbnail,
    thumbnail_and_hashes,
)
from server.errors import DomainError, registered_codes
from tests.shared_data import PHOTOS

ALL_PHOTOS = sorted(p.name for p in PHOTOS.iterdir())
# 67-0_length_string.jpg carries real phone EXIF over a perfectly flat grey frame (every pixel 137):
# not a scene, so it is left out of the "different photos differ" comparisons (see test_flat_image_*).
FLAT_PHOTO = "67-0_length_string.jpg"
SCENES = [name for name in ALL_PHOTOS if name != FLAT_PHOTO]

# Near-duplicate threshold the hash tests hold the pipeline to (re-encode, resize, format change).
NEAR = 6


def seeded(seed: int) -> random.Random:
    return random.Random(seed)  # noqa: S311 (reproducible test data, not secrets)


def read(name: str) -> bytes:
    return (PHOTOS / name).read_bytes()


def encode(image: Image.Image, fmt: str = "JPEG", **params) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def raises_code(error, func, *args):
    with pytest.raises(DomainError) as caught:
        func(*args)
    assert caught.value.error is error, caught.value
    return caught.value


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\x00\x00\x00\x00" + b"".join(compatible)
    return struct.pack(">I", 8 + len(body)) + b"ftyp" + body


def png_bomb(width: int, height: int) -> bytes:
    """A valid 1-bit greyscale PNG of width x height, all black: a few KB declaring huge pixels.

    Written by hand (streaming zlib) because Pillow would need the full pixel buffer to save it.
    """

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (
            struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
        )

    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte "none", then the packed bits
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.fixture
def allocations(monkeypatch):
    """Sizes of every pixel buffer Pillow's file loaders allocate (ImageFile.load_prepare)."""
    sizes: list[tuple[int, int]] = []
    real_new = Image.core.new

    def spy(mode, size, *args):
        sizes.append(tuple(size))
        return real_new(mode, size, *args)

    monkeypatch.setattr(Image.core, "new", spy)
    return sizes


# --- sniff_format ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ALL_PHOTOS)
def test_sniff_real_photos(name):
    expected = "heic" if name.endswith(".HEIC") else "jpeg"
    assert sniff_format(read(name)[:SNIFF_BYTES]) == expected


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (encode(Image.new("RGB", (4, 4)), "PNG"), "png"),
        (ftyp(b"heic", b"mif1", b"heic"), "heic"),  # as in IMG_5195.HEIC (iPhone)
        (ftyp(b"mif1", b"mif1", b"heic", b"miaf"), "heic"),  # generic major brand, HEVC among compatibles
        (ftyp(b"heix", b"mif1", b"heix"), "heic"),  # 10-bit HEVC
        (ftyp(b"msf1", b"msf1", b"hevc"), "heic"),
        (ftyp(b"mif1", b"mif1", b"miaf"), "heif"),  # generic HEIF, codec unnamed
        (ftyp(b"msf1", b"msf1"), "heif"),
        (ftyp(b"avif", b"avif", b"mif1", b"miaf"), None),  # AV1: no decoder installed
        (ftyp(b"isom", b"isom", b"mp42"), None),  # an MP4 video
        (b"\x00\x00\x00\x08ftypheic" + b"\x00" * 16, None),  # ftyp box too small to hold its brands
        (ftyp(b"heic")[:12], None),  # too short to tell
        (b"GIF89a" + b"\x00" * 20, None),
        (b"BM" + b"\x00" * 30, None),
        (b"II*\x00" + b"\x00" * 20, None),  # TIFF
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", None),
        (b"", None),
    ],
)
def test_sniff_magic_bytes(head, expected):
    assert sniff_format(head) == expected


def test_sniff_ignores_everything_but_the_bytes():
    # A JPEG stays a JPEG and a GIF stays unsupported whatever the upload was called: there is no
    # name or content type to pass, and a text file that mentions JPEG is still text.
    assert sniff_format(b"This is a JPEG, honest: \xff\xd8\xff") is None
    assert sniff_format(encode(Image.new("RGB", (2, 2)), "GIF")) is None


# --- error codes ----------------------------------------------------------------------------------
def test_error_codes_are_registered_with_both_languages():
    codes = registered_codes()
    assert codes["unsupported_image"] is UNSUPPORTED_IMAGE
    assert UNSUPPORTED_IMAGE.status == 415
    assert UNSUPPORTED_IMAGE.zh == "不支持的图片格式，仅支持 JPEG、PNG、HEIC。"
    assert codes["image_too_large_pixels"] is IMAGE_TOO_LARGE
    assert IMAGE_TOO_LARGE.status == 422
    assert codes["image_unreadable"] is IMAGE_UNREADABLE
    assert IMAGE_UNREADABLE.status == 422
    for code in (UNSUPPORTED_IMAGE, IMAGE_TOO_LARGE, IMAGE_UNREADABLE):
        assert code.en
        assert code.zh


# --- unsupported input ----------------------------------------------------------------------------
UNSUPPORTED = {
    "random": seeded(7).randbytes(4096),
    "text": "采样点 A-17 的照片\nnot an image\n".encode() * 50,
    "gif": encode(Image.linear_gradient("L"), "GIF"),
    "bmp": encode(Image.linear_gradient("L"), "BMP"),
    "tiff": encode(Image.linear_gradient("L"), "TIFF"),
    "webp": encode(Image.linear_gradient("L").convert("RGB"), "WEBP"),
    "empty": b"",
}


@pytest.mark.parametrize("kind", UNSUPPORTED)
@pytest.mark.parametrize("func", [open_image, thumbnail, phash_pair])
def test_unsupported_formats_are_refused(kind, func):
    raises_code(UNSUPPORTED_IMAGE, func, UNSUPPORTED[kind])


@pytest.mark.parametrize("kind", UNSUPPORTED)
def test_describe_unsupported(kind):
    assert describe(UNSUPPORTED[kind]) == {
        "format": None,
        "width": None,
        "height": None,
        "decoded": False,
        "error": "unsupported_image",
    }


# --- real photos: open, describe ------------------------------------------------------------------
@pytest.mark.parametrize("name", ALL_PHOTOS)
def test_every_real_photo_decodes(name):
    # corrupted.jpg (corrupt EXIF block) and image00971.jpg (invalid metadata) have intact pixel
    # data: both decode, as Pillow and libjpeg agree. Their breakage is in the metadata only.
    image = open_image(read(name))
    assert image.getbbox() is not None or name == FLAT_PHOTO  # pixels really there
    info = describe(read(name))
    assert info["decoded"] is True
    assert info["error"] is None
    assert info["format"] == ("heic" if name.endswith(".HEIC") else "jpeg")


def test_describe_reports_upright_size():
    # landscape_6.jpg stores 450x600 pixels with Orientation 6 (rotate 90 degrees clockwise).
    stored = Image.open(PHOTOS / "landscape_6.jpg")
    assert stored.size == (450, 600)
    info = describe(read("landscape_6.jpg"))
    assert (info["width"], info["height"]) == (600, 450)
    heic = describe(read("IMG_5195.HEIC"))
    assert (heic["format"], heic["width"], heic["height"]) == ("heic", 2566, 3313)


@pytest.mark.parametrize("name", ALL_PHOTOS)
@pytest.mark.parametrize("fraction", [0.5, 0.9])
def test_truncated_copies_are_unreadable_not_crashes(name, fraction):
    data = read(name)
    cut = data[: int(len(data) * fraction)]
    raises_code(IMAGE_UNREADABLE, open_image, cut)
    raises_code(IMAGE_UNREADABLE, thumbnail, cut)
    raises_code(IMAGE_UNREADABLE, phash_pair, cut)
    info = describe(cut)
    assert info["decoded"] is False
    assert info["error"] == "image_unreadable"
    assert info["format"] == sniff_format(data)


def test_corrupted_jpg_carries_a_second_jpeg_after_the_photo():
    # corrupted.jpg: the photo ends with its EOI marker at offset 1,901,609; a second, 59 KB JPEG is appended
    # after it. Cutting into that appendix leaves the photo whole, so it still decodes, identically.
    data = read("corrupted.jpg")
    assert data.find(b"\xff\xd9", 16384) == 1_901_609
    assert data[1_901_632:1_901_634] == b"\xff\xd8"
    whole = open_image(data)
    cut = open_image(data[:1_901_611])
    assert ImageChops.difference(whole, cut).getbbox() is None
    raises_code(IMAGE_UNREADABLE, open_image, data[:1_901_000])  # inside the photo's scan


def test_truncated_heic_is_caught_although_libheif_would_decode_it():
    data = read("IMG_5195.HEIC")
    half = data[: len(data) // 2]
    # The reason for the box check: libheif itself "decodes" the half file at full size.
    pillow_heif.register_heif_opener()
    partial = Image.open(io.BytesIO(half))
    partial.load()
    assert partial.size == (2566, 3313)
    raises_code(IMAGE_UNREADABLE, open_image, half)
    # Cut exactly after the meta box: the boxes present are whole, the image data is gone.
    raises_code(IMAGE_UNREADABLE, open_image, data[:3015])


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xd8\xff" + seeded(1).randbytes(2000),
        b"\x89PNG\r\n\x1a\n" + seeded(2).randbytes(2000),
        ftyp(b"heic", b"mif1", b"heic") + seeded(3).randbytes(2000),
        ftyp(b"heic", b"mif1", b"heic"),
    ],
    ids=["jpeg", "png", "heic", "heic-ftyp-only"],
)
def test_right_magic_then_garbage_is_unreadable(data):
    raises_code(IMAGE_UNREADABLE, open_image, data)
    assert describe(data)["error"] == "image_unreadable"


def test_generic_heif_brand_decodes():
    data = encode(Image.linear_gradient("L").convert("RGB"), "HEIF", quality=80)
    assert data[8:12] == b"heic"
    generic = data.replace(b"ftypheic", b"ftypmif1", 1).replace(b"mif1heicmiaf", b"mif1miafmiaf", 1)
    assert sniff_format(generic) == "heif"
    assert open_image(generic).size == (256, 256)


# --- decompression bombs --------------------------------------------------------------------------
# 8000x8000 is only above our limit; 10000x10000 also above Pillow's warning (89 M);
# 20000x20000 above Pillow's error (179 M), so Pillow refuses it inside Image.open.
@pytest.fixture(scope="module", params=[8000, 10000, 20000], ids=lambda side: f"{side}x{side}")
def bomb(request):
    return request.param, png_bomb(request.param, request.param)


def test_bomb_is_refused_before_any_pixel_is_allocated(bomb, allocations):
    _side, data = bomb
    assert len(data) < 100_000  # tiny file, huge promise
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no DecompressionBombWarning leaks out either
        error = raises_code(IMAGE_TOO_LARGE, open_image, data)
        raises_code(IMAGE_TOO_LARGE, thumbnail, data)
        raises_code(IMAGE_TOO_LARGE, phash_pair, data)
        info = describe(data)
    assert (info["decoded"], info["error"]) == (False, "image_too_large_pixels")
    assert not [size for size in allocations if size[0] * size[1] > 1_000_000], allocations
    assert error.details["max_pixels"] == MAX_PIXELS
    assert "60,000,000" in IMAGE_TOO_LARGE.message("zh-hans", **error.params)
    assert "60,000,000" in IMAGE_TOO_LARGE.message("en", **error.params)


def test_bomb_refused_by_our_limit_even_without_pillows(bomb, monkeypatch, allocations):
    side, data = bomb
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)  # someone disabled Pillow's guard
    error = raises_code(IMAGE_TOO_LARGE, open_image, data)
    assert (error.details["width"], error.details["height"]) == (side, side)
    assert describe(data)["width"] == side
    assert not [size for size in allocations if size[0] * size[1] > 1_000_000]


def test_just_under_the_limit_is_accepted():
    data = png_bomb(7000, 7000)  # 49 M pixels: a 48 MP phone photo's worth
    assert describe(data) == {"format": "png", "width": 7000, "height": 7000, "decoded": True, "error": None}


# --- thumbnails -----------------------------------------------------------------------------------
def upright_size(name: str) -> tuple[int, int]:
    info = describe(read(name))
    return info["width"], info["height"]


@pytest.mark.parametrize("name", ALL_PHOTOS)
def test_thumbnail_of_every_real_photo(name):
    thumb_bytes = thumbnail(read(name))
    thumb = Image.open(io.BytesIO(thumb_bytes))
    assert thumb.format == "JPEG"
    assert thumb.mode == "RGB"
    width, height = upright_size(name)
    longest = min(320, max(width, height))  # never upscaled
    assert max(thumb.size) == longest
    # Same shape as the upright photo (landscape stays landscape), to the pixel.
    if width >= height:
        assert abs(thumb.height - height * thumb.width / width) <= 1
    else:
        assert abs(thumb.width - width * thumb.height / height) <= 1
    # No EXIF (GPS, camera serials) in the thumbnail.
    assert b"Exif\x00\x00" not in thumb_bytes
    assert len(thumb.getexif()) == 0
    assert "xmp" not in thumb.info


def test_thumbnail_is_upright_for_orientation_6():
    stored = Image.open(PHOTOS / "landscape_6.jpg")
    assert stored.getexif()[0x0112] == 6
    assert stored.size == (450, 600)  # stored portrait
    thumb = Image.open(io.BytesIO(thumbnail(read("landscape_6.jpg"))))
    assert thumb.size == (320, 240)  # shown landscape

    # And the pixels are the stored ones turned 90 degrees clockwise, not any other way.
    def difference(candidate: Image.Image) -> float:
        resized = candidate.convert("RGB").resize(thumb.size)
        return sum(ImageStat.Stat(ImageChops.difference(resized, thumb)).mean)

    turns = {
        "clockwise": stored.transpose(Image.Transpose.ROTATE_270),
        "counter-clockwise": stored.transpose(Image.Transpose.ROTATE_90),
        "as stored": stored,
        "upside down": stored.transpose(Image.Transpose.ROTATE_180),
    }
    scores = {turn: difference(image) for turn, image in turns.items()}
    assert min(scores, key=scores.get) == "clockwise", scores


def test_heic_thumbnail():
    thumb = Image.open(io.BytesIO(thumbnail(read("IMG_5195.HEIC"))))
    assert (thumb.format, thumb.size) == ("JPEG", (248, 320))
    assert ImageStat.Stat(thumb).stddev[1] > 10  # a real picture, not a blank frame
    # The iPhone's Display P3 profile is kept: without it the colours shift on screen.
    assert (
        b"Display P3"
        in ImageCms.getProfileDescription(
            ImageCms.ImageCmsProfile(io.BytesIO(thumb.info["icc_profile"]))
        ).encode()
    )


def test_thumbnail_drops_a_non_rgb_profile():
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    cmyk_profile = srgb[:16] + b"CMYK" + srgb[20:]  # only the colour-space field matters here
    cmyk = encode(Image.new("CMYK", (40, 40), (0, 255, 255, 0)), "JPEG", icc_profile=cmyk_profile)
    assert Image.open(io.BytesIO(cmyk)).info["icc_profile"] == cmyk_profile
    assert "icc_profile" not in Image.open(io.BytesIO(thumbnail(cmyk))).info


@pytest.mark.parametrize("size", [64, 160, 800])
def test_thumbnail_size_parameter(size):
    thumb = Image.open(io.BytesIO(thumbnail(read("jolla.jpg"), size=size)))
    assert max(thumb.size) == size


def test_thumbnail_size_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        thumbnail(read("jolla.jpg"), size=0)


def _pixel(data: bytes) -> tuple[int, ...]:
    return Image.open(io.BytesIO(data)).convert("RGB").getpixel((2, 2))


def test_thumbnail_flattens_transparency_onto_white():
    rgba = Image.new("RGBA", (40, 40), (255, 0, 0, 0))  # fully transparent red
    assert min(_pixel(thumbnail(encode(rgba, "PNG")))) > 245
    palette = Image.new("P", (40, 40), 0)
    palette.putpalette([0, 0, 0] * 256)
    palette.info["transparency"] = 0
    assert min(_pixel(thumbnail(encode(palette, "PNG", transparency=0)))) > 245


def test_thumbnail_converts_cmyk_grey_and_16_bit():
    cmyk = Image.new("CMYK", (40, 40), (0, 255, 255, 0))  # red in CMYK
    red = _pixel(thumbnail(encode(cmyk, "JPEG")))
    assert red[0] > 200
    assert max(red[1:]) < 60
    grey = _pixel(thumbnail(encode(Image.new("L", (40, 40), 90), "JPEG")))
    assert all(abs(channel - 90) <= 3 for channel in grey)
    deep = Image.new("I;16", (40, 40), 40000)  # 16-bit PNG: 40000/65535 is ~61% grey, not white
    level = _pixel(thumbnail(encode(deep, "PNG")))[0]
    assert abs(level - 40000 // 256) <= 3


# --- reduced-size decode of a 12 MP JPEG ----------------------------------------------------------
@pytest.fixture(scope="module")
def twelve_mp_jpeg() -> bytes:
    size = (4000, 3000)
    noise = Image.effect_noise(size, 8)
    red = ImageChops.add(Image.linear_gradient("L").resize(size), noise, scale=2)
    green = Image.radial_gradient("L").resize(size)
    blue = ImageChops.add(Image.linear_gradient("L").rotate(90).resize(size), noise, scale=2)
    return encode(Image.merge("RGB", (red, green, blue)), "JPEG", quality=90)


def best_times(*funcs, runs: int = 7) -> list[float]:
    """The fastest of ``runs`` timings of each function, run interleaved so that a burst of load
    from elsewhere on the machine slows them alike."""
    best = [float("inf")] * len(funcs)
    for _ in range(runs):
        for i, func in enumerate(funcs):
            start = time.perf_counter()
            func()
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def test_12mp_thumbnail_decodes_at_reduced_size(twelve_mp_jpeg, allocations):
    thumbnail(twelve_mp_jpeg)
    phash_pair(twelve_mp_jpeg)
    # Deterministic: the loader never allocated more than the 1/8-scale frame (500x375).
    assert max(w * h for w, h in allocations) == 500 * 375


# --- perceptual hash ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def photo_hashes() -> dict[str, tuple[int, int]]:
    return {name: phash_pair(read(name)) for name in ALL_PHOTOS}


def upright_rgb(name: str) -> Image.Image:
    return imaging.upright(open_image(read(name))).convert("RGB")


@pytest.mark.parametrize("name", ALL_PHOTOS)
def test_reencoded_and_resized_copies_are_near(name, photo_hashes):
    original, _ = photo_hashes[name]
    image = upright_rgb(name)
    width, height = image.size
    copies = {
        "jpeg q60": encode(image, "JPEG", quality=60),
        "resized 90%": encode(image.resize((width * 9 // 10, height * 9 // 10)), "JPEG", quality=85),
        "png": encode(image, "PNG", compress_level=1),
    }
    distances = {label: hamming(original, phash_pair(data)[0]) for label, data in copies.items()}
    assert max(distances.values()) <= NEAR, distances


@pytest.mark.parametrize("name", SCENES)
def test_mirrored_copy_is_found_through_the_mirrored_hash(name, photo_hashes):
    original, original_mirrored = photo_hashes[name]
    mirrored_copy, mirrored_copy_mirrored = phash_pair(encode(ImageOps.mirror(upright_rgb(name)), "JPEG"))
    assert hamming(original, mirrored_copy) > 2 * NEAR  # the plain comparison misses it...
    assert hamming(original_mirrored, mirrored_copy) <= NEAR  # ...the mirrored hash catches it
    assert hamming(original, mirrored_copy_mirrored) <= NEAR  # and from the other side


@pytest.mark.parametrize("name", ALL_PHOTOS)
def test_ten_percent_crop_is_within_16(name, photo_hashes):
    # Cropping 5% off every edge (10% of each side): measured 0-14 over these photos, while
    # different photos are >= 23 apart. One-sided 10% crops reach 23 and are NOT reliably found.
    image = upright_rgb(name)
    width, height = image.size
    dx, dy = width // 20, height // 20
    cropped = encode(image.crop((dx, dy, width - dx, height - dy)), "JPEG", quality=85)
    assert hamming(photo_hashes[name][0], phash_pair(cropped)[0]) <= 16


def test_heic_and_its_jpeg_export_are_near(photo_hashes):
    exported = encode(upright_rgb("IMG_5195.HEIC"), "JPEG", quality=85)
    assert hamming(photo_hashes["IMG_5195.HEIC"][0], phash_pair(exported)[0]) <= NEAR


def test_different_real_photos_are_far_apart(photo_hashes):
    pairs = list(itertools.combinations(SCENES, 2))
    plain = {(a, b): hamming(photo_hashes[a][0], photo_hashes[b][0]) for a, b in pairs}
    assert min(plain.values()) > 20, sorted(plain.items(), key=lambda item: item[1])[:3]
    # With the mirror lookup as well (stored hash vs the new photo's mirrored hash).
    either = {
        (a, b): min(
            hamming(photo_hashes[a][0], photo_hashes[b][1]), hamming(photo_hashes[a][1], photo_hashes[b][0])
        )
        for a, b in pairs
    }
    assert min(either.values()) > 16, sorted(either.items(), key=lambda item: item[1])[:3]


def test_flat_image_hashes_to_zero(photo_hashes):
    # A featureless frame (lens cap, pocket shot, this placeholder) has no differences to record:
    # its hash is 0, so two such frames always "match". Callers should not flag those as copies.
    assert ImageStat.Stat(open_image(read(FLAT_PHOTO)).convert("L")).extrema == [(137, 137)]
    assert photo_hashes[FLAT_PHOTO] == (0, 0)


def left_to_right_ramp() -> Image.Image:
    return Image.frombytes("L", (256, 1), bytes(range(256))).resize((256, 64))


def test_dhash_bits():
    ramp = left_to_right_ramp()
    assert dhash(ramp) == (1 << 64) - 1  # every pixel darker than its right neighbour
    assert dhash(ImageOps.mirror(ramp)) == 0
    assert dhash(Image.new("RGB", (50, 50), "white")) == 0
    assert dhash(ramp, hash_size=16) == (1 << 256) - 1
    with pytest.raises(ValueError, match="hash_size"):
        dhash(ramp, hash_size=1)


def test_dhash_accepts_any_mode():
    base = Image.linear_gradient("L").resize((90, 80)).rotate(30)
    expected = dhash(base)
    for mode in ("RGB", "RGBA", "P", "I"):
        converted = base.convert(mode)
        if mode == "I":  # a 16-bit range, as 16-bit PNGs have
            converted = converted.point(lambda v: v * 256)
        assert hamming(dhash(converted), expected) <= 2, mode


def test_hamming():
    assert hamming(0, 0) == 0
    assert hamming(0b1011, 0b0001) == 2
    assert hamming(0, (1 << 64) - 1) == 64


# --- storage helpers ------------------------------------------------------------------------------
@pytest.mark.parametrize("h", [0, 1, (1 << 63) - 1, 1 << 63, (1 << 64) - 1, 0xDEADBEEFCAFEBABE])
def test_signed64_round_trip(h):
    stored = hash_to_signed64(h)
    assert -(1 << 63) <= stored < (1 << 63)  # fits a PostgreSQL bigint
    assert signed64_to_hash(stored) == h


def test_signed64_examples_and_range():
    assert hash_to_signed64((1 << 64) - 1) == -1
    assert hash_to_signed64(1 << 63) == -(1 << 63)
    rng = seeded(11)
    for _ in range(1000):
        h = rng.getrandbits(64)
        assert signed64_to_hash(hash_to_signed64(h)) == h
    for bad in (-1, 1 << 64):
        with pytest.raises(ValueError, match="unsigned"):
            hash_to_signed64(bad)
    for bad in (1 << 63, -(1 << 63) - 1):
        with pytest.raises(ValueError, match="signed"):
            signed64_to_hash(bad)


def test_bands_layout_and_round_trip():
    assert hash_bands(0x0123456789ABCDEF) == [0x0123, 0x4567, 0x89AB, 0xCDEF]
    rng = seeded(5)
    for bands in (1, 2, 4, 7, 8, 64):
        for _ in range(200):
            h = rng.getrandbits(64)
            values = hash_bands(h, bands)
            assert len(values) == bands
            assert hash_from_bands(values) == h
    with pytest.raises(ValueError, match="bands"):
        hash_bands(0, 0)
    with pytest.raises(ValueError, match="unsigned"):
        hash_bands(-1)
    with pytest.raises(ValueError, match="out of range"):
        hash_from_bands([1 << 16, 0, 0, 0])


def flip_bits(h: int, positions) -> int:
    for position in positions:
        h ^= 1 << position
    return h


@pytest.mark.parametrize(("bands", "guaranteed"), [(4, 3), (7, 6)])
def test_bands_pigeonhole(bands, guaranteed):
    rng = seeded(bands)
    for _ in range(5000):
        h = rng.getrandbits(64)
        near = flip_bits(h, rng.sample(range(64), rng.randint(0, guaranteed)))
        assert hamming(h, near) <= guaranteed
        assert any(a == b for a, b in zip(hash_bands(h, bands), hash_bands(near, bands), strict=True))
    # The bound is tight: one more differing bit, one in each band, and no band is shared.
    h = rng.getrandbits(64)
    starts = list(itertools.accumulate([0, *imaging._band_widths(bands)[:-1]]))
    apart = flip_bits(h, starts)
    assert hamming(h, apart) == guaranteed + 1
    assert all(a != b for a, b in zip(hash_bands(h, bands), hash_bands(apart, bands), strict=True))


def test_default_bands_catch_every_measured_reencode(photo_hashes):
    # The measured re-encode / resize / format-change copies are within 3, so the default 4-band
    # pre-filter finds them all; wider matches (crops) need more bands.
    for name in SCENES:
        original = photo_hashes[name][0]
        copy = phash_pair(encode(upright_rgb(name), "JPEG", quality=60))[0]
        assert hamming(original, copy) <= 3
        assert set(enumerate(hash_bands(original))) & set(enumerate(hash_bands(copy)))


def test_thumbnail_and_hashes_match_the_separate_functions(twelve_mp_jpeg):
    thumb, own, mirrored = thumbnail_and_hashes(twelve_mp_jpeg)
    assert (own, mirrored) == phash_pair(twelve_mp_jpeg)  # both decode at 1/8 scale
    assert Image.open(io.BytesIO(thumb)).size == (320, 240)
    small = encode(Image.radial_gradient("L").convert("RGB").resize((640, 480)), "JPEG")
    _, own, mirrored = thumbnail_and_hashes(small)
    separate = phash_pair(small)
    assert hamming(own, separate[0]) <= 4
    assert hamming(mirrored, separate[1]) <= 4


@pytest.mark.parametrize("name", [n for n in ALL_PHOTOS if n.lower().endswith((".jpg", ".jpeg"))])
def test_jpeg_complete_agrees_with_a_full_decode_on_whole_and_cut_real_photos(name):
    data = read(name)
    assert jpeg_complete(data) is True
    assert describe(data, full=False) == describe(data)
    for fraction in (0.01, 0.1, 0.5, 0.9, 0.99):
        cut = data[: int(len(data) * fraction)]
        whole = describe(cut)["decoded"]
        assert jpeg_complete(cut) is whole or (name == "corrupted.jpg" and fraction == 0.99)
        assert describe(cut, full=False)["decoded"] is jpeg_complete(cut)


def test_jpeg_complete_refuses_broken_structures():
    data = read("DSCN0010.jpg")
    assert not jpeg_complete(b"")
    assert not jpeg_complete(b"\xff\xd8")
    assert not jpeg_complete(b"\xff\xd8\xff\xe0\x00\x00" + b"\0" * 200)  # a segment length below 2
    assert not jpeg_complete(b"\xff\xd8\xff\xe1\xff\xff" + data[6:100])  # a segment past the end
    assert not jpeg_complete(data[:2] + b"\x00" + data[3:])  # no marker where one must be
    assert not jpeg_complete(data.replace(b"\xff\xd9", b"\xff\x00"))  # no end of image anywhere
    # The EXIF thumbnail's own scan and end-of-image marker, inside APP1, before the photo's scan,
    # do not count (the photo's scan is the last FF DA: none can occur inside entropy-coded data).
    scan = data.rfind(b"\xff\xda")
    assert data.find(b"\xff\xda") < data.find(b"\xff\xd9") < scan
    assert not jpeg_complete(data[: scan + 1000])
