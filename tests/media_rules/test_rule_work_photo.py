"""rule_work_photo: every branch on plain values, then on what media_rules.faces measures."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from PIL import ImageFilter

from media_rules.evidence import ExifData, Finding, PhotoContext, Severity
from media_rules.faces import measure_person
from media_rules.rules import Thresholds, thresholds_for
from media_rules.rules_person import rule_work_photo
from tests.media_rules.test_faces import astronaut, astronaut_12mp, blurred, real_photo

T = dt.datetime(2025, 6, 3, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
TH = thresholds_for(Thresholds(), {"face_required": True})
LIMIT = TH.blur_warn_sharpness


def make_ctx(face_count: int | None = 1, sharpness: float | None = 500.0) -> PhotoContext:
    return PhotoContext(
        exif=ExifData(),
        fix=None,
        site=None,
        device_time=None,
        receive_time=T,
        photo_type="work_photo",
        face_count=face_count,
        sharpness=sharpness,
    )


def outcome(findings: list[Finding]) -> list[tuple[str, Severity]]:
    return [(f.code, f.severity) for f in findings]


def test_nothing_said_where_no_face_is_required():
    assert Thresholds().face_required is False
    assert rule_work_photo(make_ctx(face_count=0, sharpness=0.0), Thresholds()) == []


def test_nothing_said_before_the_photo_is_measured():
    assert rule_work_photo(make_ctx(face_count=None, sharpness=None), TH) == []
    assert rule_work_photo(make_ctx(face_count=None, sharpness=0.0), TH) == []


def test_face_missing():
    findings = rule_work_photo(make_ctx(face_count=0), TH)
    assert outcome(findings) == [("face_missing", Severity.WARN)]
    assert findings[0].evidence == {"face_count": 0}
    assert "正脸" in findings[0].zh
    assert "face" in findings[0].en


@pytest.mark.parametrize("count", [1, 3])
def test_face_found(count):
    findings = rule_work_photo(make_ctx(face_count=count), TH)
    assert outcome(findings) == [("face_found", Severity.PASS)]
    assert findings[0].evidence == {"face_count": count}
    assert str(count) in findings[0].zh
    assert str(count) in findings[0].en


def test_blurred():
    findings = rule_work_photo(make_ctx(face_count=1, sharpness=12.34), TH)
    assert outcome(findings) == [("face_found", Severity.PASS), ("image_blurred", Severity.WARN)]
    blur = findings[1]
    assert blur.evidence == {"sharpness": 12.3, "limit": LIMIT}
    assert "12.3" in blur.zh
    assert "模糊" in blur.zh
    assert "12.3" in blur.en
    assert "blurred" in blur.en


def test_no_face_and_blurred():
    findings = rule_work_photo(make_ctx(face_count=0, sharpness=1.0), TH)
    assert outcome(findings) == [("face_missing", Severity.WARN), ("image_blurred", Severity.WARN)]


@pytest.mark.parametrize(
    ("sharpness", "blurred_expected"),
    [(None, False), (0.0, True), (LIMIT - 0.01, True), (LIMIT, False), (LIMIT * 10, False)],
)
def test_blur_limit(sharpness, blurred_expected):
    codes = [f.code for f in rule_work_photo(make_ctx(sharpness=sharpness), TH)]
    assert ("image_blurred" in codes) is blurred_expected


def test_blur_limit_is_configurable():
    ctx = make_ctx(sharpness=150.0)
    assert "image_blurred" not in [f.code for f in rule_work_photo(ctx, TH)]
    stricter = thresholds_for(TH, {"blur_warn_sharpness": 200})
    assert "image_blurred" in [f.code for f in rule_work_photo(ctx, stricter)]


def test_findings_serialise():
    for finding in rule_work_photo(make_ctx(face_count=0, sharpness=3.0), TH):
        json.dumps(finding.as_dict(), ensure_ascii=False)


# --- On measured photos, with the default threshold -----------------------------------------------
def judged(image) -> list[tuple[str, Severity]]:
    measure = measure_person(image)
    return outcome(rule_work_photo(make_ctx(measure.face_count, measure.sharpness), TH))


@pytest.mark.parametrize("image", [astronaut, astronaut_12mp], ids=["512px", "12MP"])
def test_sharp_face_photo_passes(image):
    assert judged(image()) == [("face_found", Severity.PASS)]


@pytest.mark.parametrize("image", [astronaut, astronaut_12mp], ids=["512px", "12MP"])
def test_blurred_face_photo_warns(image):
    assert judged(blurred(image())) == [("face_found", Severity.PASS), ("image_blurred", Severity.WARN)]


def test_slightly_soft_12mp_photo_passes():
    # A 4 px blur on a 4000 px photo is 0.5 px at the measured scale: soft, not blurred.
    assert judged(astronaut_12mp().filter(ImageFilter.GaussianBlur(4))) == [("face_found", Severity.PASS)]


def test_landscape_warns_face_missing():
    assert judged(real_photo("DSCN0010.jpg")) == [("face_missing", Severity.WARN)]
