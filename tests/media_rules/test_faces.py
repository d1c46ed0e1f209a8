"""media_rules.faces on scikit-image's astronaut (a face photo shipped in its wheel), on the team's real
photos (none shows a face) and on odd images."""

from __future__ import annotations

import functools
import math
import socket
import sysconfig
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import skimage.data
from PIL import Image, ImageFilter, ImageOps

from media_rules import faces
from media_rules.faces import PersonMeasure, measure_person
from media_rules.imaging import open_image, upright
from media_rules.rules import Thresholds
from server.errors import DomainError
from tests.shared_data import PHOTOS

BLUR_LIMIT = Thresholds().blur_warn_sharpness


@functools.cache
def astronaut() -> Image.Image:
    """Eileen Collins, 512x512 RGB: one frontal face about 1/5 of the picture wide."""
    return Image.fromarray(skimage.data.astronaut())


@functools.cache
def astronaut_12mp() -> Image.Image:
    """The astronaut as a 12 MP (4000x3000) phone photo would show her: enlarged, not stretched."""
    return astronaut().resize((4000, 4000), Image.Resampling.LANCZOS).crop((0, 0, 4000, 3000))


def blurred(image: Image.Image, per_640: float = 2.0) -> Image.Image:
    """Gaussian blur scaled to the image: ``per_640`` pixels of radius for every 640 of its longer side
    (and no less than ``per_640``), so a phone photo looks as out of focus as a small picture."""
    return image.filter(ImageFilter.GaussianBlur(per_640 * max(*image.size, 640) / 640))


@functools.cache
def real_photos() -> list[str]:
    names = []
    for path in sorted(PHOTOS.iterdir()):
        try:
            open_image(path.read_bytes())
        except DomainError:  # the broken ones in the set: intake refuses them before any measure
            continue
        names.append(path.name)
    return names


@functools.cache
def real_photo(name: str) -> Image.Image:
    return upright(open_image((PHOTOS / name).read_bytes()))


# --- The model ships in the wheel -----------------------------------------------------------------
def test_cascade_ships_inside_site_packages():
    path = faces.cascade_path().resolve()
    assert path.is_file()
    assert path.name == "haarcascade_frontalface_default.xml"
    site_packages = {Path(sysconfig.get_paths()[key]).resolve() for key in ("purelib", "platlib")}
    assert any(path.is_relative_to(site) for site in site_packages), path
    assert path.stat().st_size > 100_000  # the real cascade (~930 kB), not a stub


def test_measures_without_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    result: list[PersonMeasure] = []
    # A new thread loads its own classifier from disk: the load itself happens under the block.
    worker = threading.Thread(target=lambda: result.append(measure_person(astronaut())))
    worker.start()
    worker.join()
    assert result[0].face_count == 1


# --- Faces ----------------------------------------------------------------------------------------
def test_astronaut_has_one_face():
    measure = measure_person(astronaut())
    assert measure.face_count == 1
    # Her face box is about 93 px square in the 512 px picture.
    assert 0.02 < measure.largest_face_fraction < 0.06


def test_astronaut_at_12_megapixels_has_one_face():
    image = astronaut_12mp()
    assert image.width * image.height >= 12_000_000
    measure = measure_person(image)
    assert measure.face_count == 1
    assert 0.02 < measure.largest_face_fraction < 0.08


def test_mirrored_astronaut_has_a_face():
    assert measure_person(ImageOps.mirror(astronaut())).face_count == 1


def test_face_found_in_any_mode():
    image = astronaut()
    assert measure_person(image.convert("L")).face_count == 1
    assert measure_person(image.convert("RGBA")).face_count == 1
    assert measure_person(image.convert("RGBA").convert("RGBa")).face_count == 1
    assert measure_person(image.convert("CMYK")).face_count == 1
    assert measure_person(image.convert("LAB")).face_count == 1  # its A band is colour, not alpha
    sixteen_bit = (np.asarray(image.convert("L")).astype(np.uint16) * 257).astype("<u2")
    assert measure_person(Image.frombytes("I;16", image.size, sixteen_bit.tobytes())).face_count == 1


def test_transparent_pixels_are_flattened_onto_white():
    hidden = astronaut().convert("RGBA")
    hidden.putalpha(0)  # the pixels are still there, but nobody sees them
    measure = measure_person(hidden)
    assert measure.face_count == 0
    assert measure.sharpness == 0.0


def test_colour_key_transparency_is_flattened_too():
    keyed = astronaut().convert("L")
    keyed.info["transparency"] = 255  # a PNG tRNS colour key: white pixels are see-through
    assert measure_person(keyed) == measure_person(astronaut().convert("L"))  # white on white
    keyed.info["transparency"] = int(np.median(np.asarray(keyed)))
    assert measure_person(keyed) != measure_person(astronaut().convert("L"))


def test_landscape_has_no_face():
    assert measure_person(real_photo("DSCN0010.jpg")).face_count == 0


@pytest.mark.parametrize("name", real_photos())
def test_no_face_in_the_real_photos(name):
    # None of them shows a person. OpenCV's default minNeighbors (3) finds "faces" in jolla.jpg's leaf
    # and IMG_5195.HEIC's flowers: this is what _MIN_NEIGHBOURS guards.
    assert measure_person(real_photo(name)).face_count == 0


def test_small_faces_are_not_counted():
    # The astronaut shrunk to 160 px in a 640x480 landscape: her face is ~1/16 of the height.
    scene = real_photo("DSCN0021.jpg").copy()
    scene.paste(astronaut().resize((160, 160)), (0, 0))
    assert measure_person(scene).face_count == 0
    scene.paste(astronaut().resize((400, 400)), (0, 0))
    assert measure_person(scene).face_count == 1


def test_faces_below_the_minimum_size_are_not_counted(monkeypatch):
    # Her face box is ~18% of the picture's side.
    monkeypatch.setattr(faces, "MIN_FACE_FRACTION", 0.15)
    assert measure_person(astronaut()).face_count == 1
    monkeypatch.setattr(faces, "MIN_FACE_FRACTION", 0.25)
    assert measure_person(astronaut()).face_count == 0


# --- Sharpness ------------------------------------------------------------------------------------
@pytest.mark.parametrize("image", [astronaut, astronaut_12mp], ids=["512px", "12MP"])
def test_sharp_astronaut_is_above_the_blur_limit(image):
    assert measure_person(image()).sharpness > 2 * BLUR_LIMIT


@pytest.mark.parametrize("image", [astronaut, astronaut_12mp], ids=["512px", "12MP"])
def test_blurred_astronaut_is_below_the_blur_limit(image):
    measure = measure_person(blurred(image()))
    assert measure.sharpness < BLUR_LIMIT / 2
    assert measure.face_count == 1  # still a face, just not a clear one


def test_sharpness_is_measured_at_a_fixed_scale():
    # The same blur in source pixels is 8x weaker on a picture 8x larger: on a 4000 px photo a 2 px
    # blur is invisible, on the 512 px original it is not.
    small, large = astronaut(), astronaut_12mp()
    assert measure_person(small.filter(ImageFilter.GaussianBlur(2))).sharpness < BLUR_LIMIT
    assert measure_person(large.filter(ImageFilter.GaussianBlur(2))).sharpness > BLUR_LIMIT


@pytest.mark.parametrize("name", [n for n in real_photos() if n != "67-0_length_string.jpg"])
def test_real_photos_are_sharp_and_their_blurred_copies_are_not(name):
    image = real_photo(name)
    assert measure_person(image).sharpness > BLUR_LIMIT
    assert measure_person(blurred(image)).sharpness < BLUR_LIMIT


def test_a_flat_frame_reads_as_blurred():
    # 67-0_length_string.jpg is a flat grey frame: nothing in it is sharp, as for a lens cap or a wall.
    assert measure_person(real_photo("67-0_length_string.jpg")).sharpness < 1


# --- Odd images -----------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [(0, 0), (1, 1), (2, 3), (23, 23), (24, 24), (1, 5000), (5000, 1)])
def test_tiny_and_thin_images(size):
    measure = measure_person(Image.new("RGB", size, (128, 64, 32)))
    assert measure.face_count == 0
    assert measure.largest_face_fraction == 0.0
    assert math.isfinite(measure.sharpness)


@pytest.mark.parametrize("mode", Image.MODES)
def test_every_pillow_mode(mode):
    for size in ((1, 1), (64, 48)):
        measure = measure_person(Image.new(mode, size))
        assert measure.face_count == 0
        assert math.isfinite(measure.sharpness)


def test_float_image_with_nan():
    pixels = np.full((48, 64), np.nan, dtype=np.float32)
    measure = measure_person(Image.fromarray(pixels))
    assert measure.face_count == 0
    assert math.isfinite(measure.sharpness)


# --- Threads --------------------------------------------------------------------------------------
def test_one_classifier_per_thread():
    mine = faces._cascade()
    assert faces._cascade() is mine
    with ThreadPoolExecutor(max_workers=1) as pool:
        theirs = pool.submit(faces._cascade).result()
    assert theirs is not mine


def test_concurrent_measures_agree():
    images = [astronaut(), ImageOps.mirror(astronaut()), real_photo("DSCN0010.jpg")] * 4
    expected = [measure_person(image) for image in images]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(measure_person, images)) == expected
