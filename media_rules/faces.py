"""The person in a work photo (seed 003: "work photos with a clear face"): how many faces, how large,
and how sharp the picture is. Pure: a Pillow image in, plain numbers out (``rules_person`` judges them).

The face model is OpenCV's frontal-face Haar cascade, shipped inside the opencv-python-headless wheel
(``cv2.data.haarcascades``): nothing is downloaded at run time. It finds upright, roughly frontal faces,
which is what a work photo of the filler, confirmer or reviewer shows; a profile or a face turned away
counts as none, and the rule only warns.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

CASCADE_FILE = "haarcascade_frontalface_default.xml"

# Faces are looked for on a copy whose longer side is this: 40x fewer pixels than a 12 MP photo, and a
# face that matters (a person posing for the work photo) stays far above the cascade's 24 px window.
DETECT_SIDE = 640
# The smallest face box counted, as a fraction of the reduced copy's shorter side (a 480 px side: 38 px).
MIN_FACE_FRACTION = 0.08
# The cascade's own window: no face can be found in less.
_CASCADE_WINDOW = 24
_SCALE_FACTOR = 1.1
# Raw detections that must overlap for a face to count. OpenCV's default (3) finds "faces" in leaves,
# flowers and blurred trees: on the team's photos and scikit-image's sample pictures, with blurred and
# mirrored copies (248 images, none with a face), texture gathered up to 15 overlapping detections
# when sharp and 22 when heavily blurred; at 16, only 4 heavily blurred copies still show a "face"
# (and those are reported as blurred). A real face of at least 1/8 of the short side usually gathers
# 30-50: of scikit-image's 100 LFW faces pasted into a 640x480 photo at 1/7 to 1/3 of its height, 91
# to 94 are found; at 1/10, only 71. A clear face in a work photo is a large one.
_MIN_NEIGHBOURS = 16

# Sharpness is measured on a grey copy with this longer side, so that the same scene gives the same
# figure from a 2 MP and a 48 MP phone: the Laplacian's variance depends on the pixel scale (a photo
# upscaled 4x loses most of its per-pixel contrast). Smaller images are measured as they are.
SHARPNESS_SIDE = 512


@dataclass(frozen=True)
class PersonMeasure:
    face_count: int
    largest_face_fraction: float  # the largest face's box area / the image area; 0.0 without a face
    sharpness: float  # variance of the Laplacian of the grey copy reduced to SHARPNESS_SIDE


def cascade_path() -> Path:
    return Path(cv2.data.haarcascades) / CASCADE_FILE


_local = threading.local()


def _cascade() -> cv2.CascadeClassifier:
    # One per thread: detectMultiScale is not const in OpenCV (it keeps per-call state in the
    # classifier), so threads must not share one. Loading takes ~10 ms, once per thread.
    classifier = getattr(_local, "classifier", None)
    if classifier is None:
        path = cascade_path()
        classifier = cv2.CascadeClassifier(str(path))
        if classifier.empty():
            raise RuntimeError(f"OpenCV could not load its face cascade from {path}")
        _local.classifier = classifier
    return classifier


_PREMULTIPLIED = {"La": "LA", "RGBa": "RGBA"}


def _grey(image: Image.Image) -> np.ndarray:
    """8-bit grey pixels of an image in any Pillow mode; transparency flattened onto white (as
    ``imaging._to_rgb`` does: dropping the alpha alone would show what the transparent pixels hide)."""
    if image.mode in ("I", "F") or image.mode.startswith("I;"):
        values = np.nan_to_num(np.asarray(image, dtype=np.float64))
        if image.mode.startswith("I;16") or values.max() > 255:  # 16-bit PNG: scale to 8 bits
            values = values / 256
        return np.clip(values, 0, 255).astype(np.uint8)
    if image.mode == "LAB":  # Pillow converts LAB to nothing else; its L band is the lightness
        return np.asarray(image.getchannel("L"), dtype=np.uint8)
    if image.mode in _PREMULTIPLIED:  # no conversion to L exists from these
        image = image.convert(_PREMULTIPLIED[image.mode])
    # Not "A" in getbands(): LAB's A is a colour axis. This also covers a palette or RGB colour key.
    if image.has_transparency_data:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return np.asarray(image if image.mode == "L" else image.convert("L"), dtype=np.uint8)


def _reduced(grey: np.ndarray, side: int) -> np.ndarray:
    """``grey`` with its longer side at most ``side`` (area averaging; never enlarged)."""
    height, width = grey.shape
    scale = side / max(height, width)
    if scale >= 1:
        return grey
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA)


def sharpness(grey: np.ndarray) -> float:
    """Variance of the Laplacian of the grey copy reduced to SHARPNESS_SIDE: high for crisp edges,
    low for a blurred or shaken picture (and for a flat one: a white wall measures near 0 too)."""
    small = _reduced(grey, SHARPNESS_SIDE)
    return float(cv2.Laplacian(small, cv2.CV_64F).var())


def _faces(grey: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """Face boxes (x, y, w, h) in the coordinates of the DETECT_SIDE copy, and that copy's shape."""
    small = _reduced(grey, DETECT_SIDE)
    min_side = max(_CASCADE_WINDOW, round(min(small.shape) * MIN_FACE_FRACTION))
    if min(small.shape) < min_side:
        return np.empty((0, 4), dtype=np.int32), small.shape
    # Equalising evens out a backlit or dim face, as in OpenCV's own face-detection sample.
    boxes = _cascade().detectMultiScale(
        cv2.equalizeHist(small),
        scaleFactor=_SCALE_FACTOR,
        minNeighbors=_MIN_NEIGHBOURS,
        minSize=(min_side, min_side),
    )
    return np.asarray(boxes, dtype=np.int32).reshape(-1, 4), small.shape


def measure_person(image: Image.Image) -> PersonMeasure:
    """Faces and sharpness of an upright image (``imaging.upright``); any mode and size is accepted."""
    if image.width == 0 or image.height == 0:
        return PersonMeasure(face_count=0, largest_face_fraction=0.0, sharpness=0.0)
    grey = _grey(image)
    boxes, (height, width) = _faces(grey)
    largest = int((boxes[:, 2] * boxes[:, 3]).max()) if len(boxes) else 0
    return PersonMeasure(
        face_count=len(boxes),
        largest_face_fraction=largest / (width * height),
        sharpness=sharpness(grey),
    )
