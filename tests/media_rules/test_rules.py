"""Photo authenticity rules: every rule firing and not firing, on plain values (no database)."""

import dataclasses
import datetime as dt
import json
import re

import pytest
from geopy.distance import geodesic

from media_rules import rules
from media_rules.evidence import (
    CaptureFix,
    DuplicateUse,
    ExifData,
    Finding,
    PhotoContext,
    Severity,
    Site,
)
from media_rules.exif import read_exif
from media_rules.rules import RULES, Thresholds, capture_time, evaluate, thresholds_for
from server.geo import from_wgs84, geodesic_distance_m, to_wgs84
from tests.shared_data import PHOTOS

SHANGHAI_TZ = dt.timezone(dt.timedelta(hours=8))
T = dt.datetime(2025, 6, 3, 10, 0, tzinfo=SHANGHAI_TZ)  # the capture
SITE = Site(lon=121.4737, lat=31.2304, geofence_m=200, name="苏州河 3 号断面")
TH = Thresholds()


def offset(
    metres: float, bearing: float = 0.0, lon: float = SITE.lon, lat: float = SITE.lat
) -> tuple[float, float]:
    """The WGS-84 point ``metres`` from (lon, lat) along ``bearing`` (degrees clockwise from north)."""
    point = geodesic(meters=metres).destination((lat, lon), bearing=bearing)
    return point.longitude, point.latitude


def make_fix(lon: float, lat: float, accuracy_m: float | None = 10.0, **kwargs) -> CaptureFix:
    """A fix declared (and stored) as WGS-84 unless told otherwise."""
    values = {
        "lon": lon,
        "lat": lat,
        "accuracy_m": accuracy_m,
        "fix_time": T,
        "declared_system": "wgs84",
        "raw_lon": lon,
        "raw_lat": lat,
    }
    values.update(kwargs)
    return CaptureFix(**values)


def declared_fix(raw: tuple[float, float], declared: str, accuracy_m: float = 10.0) -> CaptureFix:
    """A fix whose raw coordinates were declared in ``declared`` and converted to WGS-84 accordingly."""
    lon, lat = to_wgs84(*raw, declared)
    return make_fix(lon, lat, accuracy_m, declared_system=declared, raw_lon=raw[0], raw_lat=raw[1])


def make_ctx(**kwargs) -> PhotoContext:
    """A WeChat photo (no EXIF) taken 20 m from the site, in the task's window, received 10 min later."""
    values = {
        "exif": ExifData(),
        "fix": make_fix(*offset(20)),
        "site": SITE,
        "device_time": T,
        "receive_time": T + dt.timedelta(minutes=10),
        "task_window": (T - dt.timedelta(hours=2), T + dt.timedelta(hours=2)),
        "photo_type": "sampling_point",
        "stage": "sampling",
        "signature_valid": True,
    }
    values.update(kwargs)
    return PhotoContext(**values)


def codes(findings) -> list[str]:
    return [f.code for f in findings]


def only(findings: list[Finding], code: str) -> Finding:
    matching = [f for f in findings if f.code == code]
    assert len(matching) == 1, codes(findings)
    return matching[0]


# --- The whole verdict ----------------------------------------------------------------------------
def test_wechat_photo_without_exif_but_with_a_fix_warns_that_exif_is_absent():
    # F10 item 8: the fix is the location evidence, but nothing can be cross-checked with EXIF.
    verdict = evaluate(make_ctx())
    assert verdict.severity is Severity.WARN
    assert codes(verdict.findings) == ["within_geofence", "exif_missing"]
    evidence = verdict.findings[0].evidence
    assert evidence["source"] == "capture_fix"
    assert evidence["distance_m"] == pytest.approx(20, abs=0.5)


def test_where_exif_is_not_expected_a_wechat_photo_passes_and_still_says_so():
    verdict = evaluate(make_ctx(), thresholds_for(TH, {"exif_expected": False}))
    assert verdict.severity is Severity.PASS
    assert codes(verdict.findings) == ["within_geofence", "exif_missing"]
    assert only(list(verdict.findings), "exif_missing").severity is Severity.PASS


def test_no_exif_and_no_fix_is_location_missing_fail():
    verdict = evaluate(make_ctx(fix=None))
    assert verdict.severity is Severity.FAIL
    finding = only(list(verdict.findings), "location_missing")
    assert finding.severity is Severity.FAIL
    assert "没有任何位置信息" in finding.zh
    assert "No location" in finding.en


def test_verdict_severity_is_the_worst():
    warn_only = evaluate(make_ctx(fix=make_fix(*offset(20), accuracy_m=150)))
    assert warn_only.severity is Severity.WARN
    both = evaluate(make_ctx(fix=make_fix(*offset(20), accuracy_m=150, mock=True)))
    assert {f.severity for f in both.findings} == {Severity.PASS, Severity.WARN, Severity.FAIL}
    assert both.severity is Severity.FAIL


def test_evaluate_never_raises_on_missing_values():
    bare = PhotoContext(exif=ExifData(), fix=None, site=None, device_time=None, receive_time=T)
    verdict = evaluate(bare)
    assert codes(verdict.findings) == ["location_missing", "exif_missing"]
    fix_only = PhotoContext(
        exif=ExifData(),
        fix=make_fix(*offset(10), accuracy_m=None, fix_time=None),
        site=None,
        device_time=None,
        receive_time=T,
    )
    assert codes(evaluate(fix_only).findings) == ["exif_missing"]


def test_naive_datetimes_do_not_raise():
    naive = T.replace(tzinfo=None)  # read as Shanghai time
    ctx = make_ctx(
        device_time=naive, exif=ExifData(capture_time=naive, modify_time=naive + dt.timedelta(hours=1))
    )
    assert codes(evaluate(ctx).findings) == ["within_geofence", "modified_after_capture"]


def test_a_crashing_rule_becomes_rule_error_and_the_others_still_run(monkeypatch):
    def rule_broken(ctx, th):
        raise RuntimeError("bug")

    monkeypatch.setattr(rules, "RULES", [rule_broken, rules.rule_geofence])
    verdict = evaluate(make_ctx())
    assert codes(verdict.findings) == ["rule_error", "within_geofence"]
    assert verdict.severity is Severity.WARN
    assert verdict.findings[0].evidence == {"rule": "rule_broken"}


def test_rules_lists_every_rule_function():
    names = {name for name in rules.__all__ if name.startswith("rule_")}
    assert {rule.__name__ for rule in RULES} == names
    assert len(RULES) == len(names)


# --- Location -------------------------------------------------------------------------------------
def test_exif_gps_is_the_location_when_there_is_no_fix():
    lon, lat = offset(50)
    ctx = make_ctx(fix=None, exif=ExifData(gps_lon=lon, gps_lat=lat))
    assert rules.rule_location_missing(ctx, TH) == []
    finding = only(rules.rule_geofence(ctx, TH), "within_geofence")
    assert finding.evidence["source"] == "exif_gps"


def test_exif_gps_at_null_island_is_no_location():
    ctx = make_ctx(fix=None, exif=ExifData(gps_lon=0.0, gps_lat=0.0))
    assert codes(rules.rule_location_missing(ctx, TH)) == ["location_missing"]


def test_forged_gps_far_from_the_site_fails():
    ctx = make_ctx(fix=make_fix(*offset(5000, bearing=60)))
    findings = rules.rule_geofence(ctx, TH)
    finding = only(findings, "outside_geofence")
    assert finding.severity is Severity.FAIL
    assert finding.evidence["distance_m"] == pytest.approx(5000, abs=1)
    assert finding.evidence["geofence_m"] == 200
    assert "距点位 5,000 米" in finding.zh
    assert "超出电子围栏 200 米" in finding.zh
    assert "5,000 m from the site" in finding.en
    assert evaluate(ctx).severity is Severity.FAIL


@pytest.mark.parametrize(
    ("accuracy_m", "code"),
    [
        (80, "within_geofence"),  # 250 - 80 = 170 <= 200
        (55, "within_geofence"),  # 250 - 55 = 195
        (40, "outside_geofence"),  # 250 - 40 = 210 > 200
        (None, "outside_geofence"),  # no accuracy: no credit
        (0, "outside_geofence"),
    ],
)
def test_geofence_is_accuracy_aware(accuracy_m, code):
    ctx = make_ctx(fix=make_fix(*offset(250, bearing=135), accuracy_m=accuracy_m))
    finding = only(rules.rule_geofence(ctx, TH), code)
    assert finding.evidence["distance_m"] == pytest.approx(250, abs=0.5)


def test_accuracy_credit_is_capped():
    # ±5 km cannot excuse being 3 km away: at most max_accuracy_credit_m (500 m) is credited.
    ctx = make_ctx(fix=make_fix(*offset(3000), accuracy_m=5000))
    finding = only(rules.rule_geofence(ctx, TH), "outside_geofence")
    assert finding.evidence["accuracy_credit_m"] == 500


def test_no_site_no_geofence_finding():
    assert rules.rule_geofence(make_ctx(site=None), TH) == []


def test_gcj02_declared_as_wgs84_is_a_coordinate_system_mixup_not_fraud():
    true_point = offset(30, bearing=45)
    gcj = from_wgs84(*true_point, "gcj02")
    fix = declared_fix(gcj, "wgs84")
    assert geodesic_distance_m(fix.lon, fix.lat, SITE.lon, SITE.lat) > 300  # GCJ-02 is ~500 m off here
    verdict = evaluate(make_ctx(fix=fix))
    assert "outside_geofence" not in codes(verdict.findings)
    finding = only(list(verdict.findings), "coordinate_system_mixup")
    assert finding.severity is Severity.WARN
    assert verdict.severity is Severity.WARN
    assert finding.evidence["declared_system"] == "wgs84"
    assert finding.evidence["likely_system"] == "gcj02"
    assert finding.evidence["compared_with"] == "site"
    assert finding.evidence["corrected_distance_m"] == pytest.approx(30, abs=0.5)
    assert finding.evidence["distance_m"] > 300
    assert "不是造假" in finding.zh
    assert "not fraud" in finding.en


@pytest.mark.parametrize(
    ("really", "declared"),
    [("bd09", "gcj02"), ("gcj02", "wgs84"), ("wgs84", "gcj02"), ("bd09", "wgs84"), ("gcj02", "bd09")],
)
def test_each_plausible_mislabel_is_recognised(really, declared):
    true_point = offset(30, bearing=200)
    fix = declared_fix(from_wgs84(*true_point, really), declared)
    finding = only(rules.rule_geofence(make_ctx(fix=fix), TH), "coordinate_system_mixup")
    assert finding.severity is Severity.WARN
    assert finding.evidence["likely_system"] == really
    assert finding.evidence["corrected_distance_m"] == pytest.approx(30, abs=0.5)


def test_mixup_is_not_claimed_when_no_relabel_lands_inside():
    # 5 km away, declared WGS-84: GCJ-02 / BD-09 offsets of ~0.5-1 km cannot bring it inside.
    fix = declared_fix(from_wgs84(*offset(5000, bearing=10), "gcj02"), "wgs84")
    assert codes(rules.rule_geofence(make_ctx(fix=fix), TH)) == ["outside_geofence"]


def test_exif_gps_far_from_the_fix_warns():
    exif = ExifData(gps_lon=offset(3000)[0], gps_lat=offset(3000)[1], gps_accuracy_m=10)
    finding = only(rules.rule_exif_gps_vs_fix(make_ctx(exif=exif), TH), "exif_gps_far_from_fix")
    assert finding.severity is Severity.WARN
    assert finding.evidence["distance_m"] == pytest.approx(3000, rel=0.01)
    assert finding.evidence["limit_m"] == pytest.approx(10 + 10 + 200)


def test_exif_gps_close_to_the_fix_agrees():
    lon, lat = offset(60, bearing=270)
    finding = only(
        rules.rule_exif_gps_vs_fix(make_ctx(exif=ExifData(gps_lon=lon, gps_lat=lat)), TH), "exif_gps_agrees"
    )
    assert finding.severity is Severity.PASS


def test_exif_gps_written_in_gcj02_is_a_mixup():
    gcj = from_wgs84(*offset(20), "gcj02")  # the phone wrote GCJ-02 into EXIF, the fix is right
    findings = rules.rule_exif_gps_vs_fix(make_ctx(exif=ExifData(gps_lon=gcj[0], gps_lat=gcj[1])), TH)
    finding = only(findings, "coordinate_system_mixup")
    assert finding.evidence["likely_system"] == "gcj02"
    assert finding.evidence["compared_with"] == "capture_fix"
    assert "exif_gps_far_from_fix" not in codes(findings)


def test_exif_gps_vs_fix_needs_both():
    lon, lat = offset(3000)
    assert rules.rule_exif_gps_vs_fix(make_ctx(), TH) == []
    assert rules.rule_exif_gps_vs_fix(make_ctx(fix=None, exif=ExifData(gps_lon=lon, gps_lat=lat)), TH) == []


@pytest.mark.parametrize(
    ("accuracy_m", "expected"),
    [
        (150, ["poor_accuracy"]),
        (0, ["zero_accuracy"]),
        (-1, ["zero_accuracy"]),
        (30, []),
        (100, []),
        (None, []),
    ],
)
def test_accuracy(accuracy_m, expected):
    findings = rules.rule_accuracy(make_ctx(fix=make_fix(*offset(20), accuracy_m=accuracy_m)), TH)
    assert codes(findings) == expected
    assert all(f.severity is Severity.WARN for f in findings)


def test_poor_accuracy_message_has_the_numbers():
    finding = rules.rule_accuracy(make_ctx(fix=make_fix(*offset(20), accuracy_m=1500)), TH)[0]
    assert "±1,500 米" in finding.zh
    assert "±1,500 m" in finding.en


def test_mock_location_fails():
    findings = rules.rule_mock_location(make_ctx(fix=make_fix(*offset(20), mock=True)), TH)
    assert codes(findings) == ["mock_location"]
    assert findings[0].severity is Severity.FAIL
    assert rules.rule_mock_location(make_ctx(), TH) == []
    assert rules.rule_mock_location(make_ctx(fix=None), TH) == []


# --- Time -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("exif_off", "expected"),
    [
        (dt.timedelta(hours=3), Severity.FAIL),
        (dt.timedelta(minutes=-10), Severity.WARN),
        (dt.timedelta(minutes=2), None),
    ],
)
def test_exif_time_vs_device_time(exif_off, expected):
    exif = ExifData(capture_time=T + exif_off)
    ctx = make_ctx(exif=exif, fix=make_fix(*offset(20), fix_time=None))
    findings = rules.rule_clocks(ctx, TH)
    if expected is None:
        assert findings == []
        return
    finding = only(findings, "clock_disagreement")
    assert finding.severity is expected
    assert (finding.evidence["a"], finding.evidence["b"]) == ("exif_time", "device_time")
    assert finding.evidence["difference_s"] == exif_off.total_seconds()


def test_shifted_exif_clock_hours_off_fails_against_device_and_fix():
    ctx = make_ctx(exif=ExifData(capture_time=T - dt.timedelta(hours=5)))
    findings = rules.rule_clocks(ctx, TH)
    pairs = {(f.evidence["a"], f.evidence["b"]) for f in findings}
    assert pairs == {("exif_time", "fix_time"), ("exif_time", "device_time")}
    assert all(f.severity is Severity.FAIL for f in findings)
    assert "相差 5 小时" in findings[0].zh
    assert "differ by 5 h" in findings[0].en


def test_stale_fix_is_a_clock_disagreement():
    ctx = make_ctx(fix=make_fix(*offset(20), fix_time=T - dt.timedelta(hours=2)))
    finding = only(rules.rule_clocks(ctx, TH), "clock_disagreement")
    assert (finding.evidence["a"], finding.evidence["b"]) == ("fix_time", "device_time")
    assert finding.severity is Severity.FAIL


def test_nikon_sample_exif_time_vs_gps_time():
    # The real Nikon sample: DateTimeOriginal 2008:10:22 16:28 with no offset (+08:00 assumed),
    # GPS 2008:10:23 14:27 UTC: almost 30 hours apart, which no time zone explains.
    exif = ExifData(
        capture_time=dt.datetime(2008, 10, 22, 16, 28, tzinfo=SHANGHAI_TZ),
        capture_offset_assumed=True,
        gps_time=dt.datetime(2008, 10, 23, 14, 27, tzinfo=dt.timezone.utc),
        make="NIKON",
        model="COOLPIX P6000",
        software="Nikon Transfer 1.1 W",
    )
    ctx = make_ctx(exif=exif, fix=None, site=None, device_time=None, task_window=None)
    findings = rules.rule_clocks(ctx, TH)
    finding = only(findings, "clock_disagreement")
    assert (finding.evidence["a"], finding.evidence["b"]) == ("exif_time", "gps_time")
    assert finding.evidence["difference_s"] == -(29 * 3600 + 59 * 60)
    assert finding.evidence["offset_assumed"] is True
    assert finding.evidence["time_zone_may_explain"] is False
    assert finding.severity is Severity.FAIL
    assert "EXIF 拍摄时间与 EXIF GPS 时间相差 1 天 5 小时" in finding.zh
    assert finding.en.startswith("The EXIF capture time and the EXIF GPS time differ by 1 d 5 h")
    verdict = evaluate(ctx)  # the whole photo is judged without raising; Nikon Transfer is no editor
    assert "editing_software" not in codes(verdict.findings)
    assert "transfer_software" in codes(verdict.findings)


def test_a_camera_in_another_time_zone_is_capped_at_warn():
    # No offset recorded, +08:00 assumed, but the camera was set to +10:00: 2 h off, a whole zone.
    exif = ExifData(capture_time=T + dt.timedelta(hours=2), capture_offset_assumed=True)
    finding = only(rules.rule_clocks(make_ctx(exif=exif, fix=None), TH), "clock_disagreement")
    assert finding.severity is Severity.WARN
    assert finding.evidence["time_zone_may_explain"] is True
    recorded = ExifData(capture_time=T + dt.timedelta(hours=2), capture_offset_assumed=False)
    assert rules.rule_clocks(make_ctx(exif=recorded, fix=None), TH)[0].severity is Severity.FAIL


def test_capture_after_receive_fails():
    ctx = make_ctx(device_time=T + dt.timedelta(hours=2), receive_time=T + dt.timedelta(minutes=10))
    finding = only(rules.rule_receive_time(ctx, TH), "capture_after_receive")
    assert finding.severity is Severity.FAIL
    assert finding.evidence["source"] == "device_time"
    assert finding.evidence["after_receive_s"] == pytest.approx(110 * 60)
    assert "1 小时 50 分钟" in finding.zh


def test_exif_after_receive_with_an_assumed_offset_warns():
    exif = ExifData(capture_time=T + dt.timedelta(hours=3), capture_offset_assumed=True)
    finding = only(rules.rule_receive_time(make_ctx(exif=exif), TH), "capture_after_receive")
    assert finding.severity is Severity.WARN
    assert finding.evidence["time_zone_may_explain"] is True
    far = ExifData(capture_time=T + dt.timedelta(hours=12), capture_offset_assumed=True)
    assert rules.rule_receive_time(make_ctx(exif=far), TH)[0].severity is Severity.FAIL


def test_received_hours_later_is_fine_days_later_warns():
    offline = make_ctx(receive_time=T + dt.timedelta(hours=9))
    assert rules.rule_receive_time(offline, TH) == []
    old = make_ctx(receive_time=T + dt.timedelta(days=4))
    finding = only(rules.rule_receive_time(old, TH), "received_long_after_capture")
    assert finding.severity is Severity.WARN
    assert finding.evidence["delay_s"] == 4 * 86400


@pytest.mark.parametrize(
    ("capture", "outside"),
    [
        (T - dt.timedelta(hours=3), True),  # 1 h before the start
        (T + dt.timedelta(hours=2, minutes=45), True),  # 45 min after the end
        (T + dt.timedelta(hours=2, minutes=20), False),  # within the 30 min slack
        (T, False),
    ],
)
def test_task_window(capture, outside):
    ctx = make_ctx(device_time=capture, receive_time=capture + dt.timedelta(minutes=1))
    findings = rules.rule_task_window(ctx, TH)
    if not outside:
        assert findings == []
        return
    finding = only(findings, "outside_task_window")
    assert finding.severity is Severity.FAIL
    assert finding.evidence["source"] == "device_time"


def test_task_window_without_window_or_time():
    assert rules.rule_task_window(make_ctx(task_window=None), TH) == []
    bare = make_ctx(device_time=None, fix=None)
    assert capture_time(bare) is None
    assert rules.rule_task_window(bare, TH) == []


def test_capture_time_prefers_device_then_exif_then_fix():
    exif = ExifData(capture_time=T + dt.timedelta(minutes=1))
    assert capture_time(make_ctx(exif=exif)) == ("device_time", T)
    assert capture_time(make_ctx(exif=exif, device_time=None))[0] == "exif_time"
    assert capture_time(make_ctx(device_time=None))[0] == "fix_time"


def test_stage_order_violated():
    # A delivery photo captured an hour before the latest sampling photo of the same task.
    early = make_ctx(stage="delivery", earlier_stage_latest=T + dt.timedelta(hours=1))
    finding = only(rules.rule_stage_order(early, TH), "stage_order_violated")
    assert finding.severity is Severity.FAIL
    assert finding.evidence["violated_by_s"] == 3600
    assert "送样阶段" in finding.zh
    # A sampling photo captured after the earliest delivery photo.
    late = make_ctx(stage="sampling", later_stage_earliest=T - dt.timedelta(hours=2))
    finding = only(rules.rule_stage_order(late, TH), "stage_order_violated")
    assert "later stage" in finding.en


def test_stage_order_respected():
    ctx = make_ctx(
        stage="delivery",
        earlier_stage_latest=T - dt.timedelta(hours=1),
        later_stage_earliest=T + dt.timedelta(hours=1),
    )
    assert rules.rule_stage_order(ctx, TH) == []
    within_slack = make_ctx(stage="delivery", earlier_stage_latest=T + dt.timedelta(minutes=3))
    assert rules.rule_stage_order(within_slack, TH) == []


def test_modified_after_capture():
    exif = ExifData(capture_time=T, modify_time=T + dt.timedelta(days=2))
    finding = only(rules.rule_modify_time(make_ctx(exif=exif), TH), "modified_after_capture")
    assert finding.severity is Severity.WARN
    assert finding.evidence["after_capture_s"] == 2 * 86400
    same = ExifData(capture_time=T, modify_time=T + dt.timedelta(seconds=30))
    assert rules.rule_modify_time(make_ctx(exif=same), TH) == []
    assert rules.rule_modify_time(make_ctx(exif=ExifData(modify_time=T)), TH) == []


# --- Content and device ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "software",
    [
        "Adobe Photoshop CC 2019 (Windows)",
        "Adobe Photoshop Lightroom Classic 12.0",
        "GIMP 2.10.34",
        "美图秀秀",
        "MeiTu",
        "Snapseed 2.0",
        "醒图",
        "PicsArt",
        "VSCO",
        "Pixelmator Pro 3.5",
    ],
)
def test_editing_software_fails(software):
    finding = only(
        rules.rule_editing_software(make_ctx(exif=ExifData(software=software)), TH), "editing_software"
    )
    assert finding.severity is Severity.FAIL
    assert finding.evidence["software"] == software


@pytest.mark.parametrize(
    "software", [None, "", "Ver.1.00 ", "NIKON D90 Ver.1.00", "17.1", "MIUI", "HDR+ 1.0"]
)
def test_camera_firmware_and_os_versions_are_not_editors(software):
    assert rules.rule_editing_software(make_ctx(exif=ExifData(software=software)), TH) == []


def test_nikon_transfer_is_a_download_tool_not_an_editor():
    findings = rules.rule_editing_software(make_ctx(exif=ExifData(software="Nikon Transfer 1.1 W")), TH)
    assert codes(findings) == ["transfer_software"]
    assert findings[0].severity is Severity.PASS


def test_same_file_reused_fails():
    uses = (DuplicateUse(photo_id="p-17", task_id="t-3", site_name="外滩"),)
    finding = only(rules.rule_same_file(make_ctx(same_file_uses=uses), TH), "same_file_reused")
    assert finding.severity is Severity.FAIL
    assert finding.evidence["photo_ids"] == ["p-17"]
    assert "p-17" in finding.zh
    assert "t-3" in finding.en
    assert rules.rule_same_file(make_ctx(), TH) == []


def test_near_duplicate_mirrored():
    uses = (DuplicateUse(photo_id="p-9", task_id="t-1", distance=3, mirrored=True),)
    finding = only(rules.rule_near_duplicate(make_ctx(near_duplicates=uses), TH), "near_duplicate")
    assert finding.severity is Severity.FAIL
    assert finding.evidence["matches"][0]["mirrored"] is True
    assert "镜像" in finding.zh
    assert "mirrored" in finding.en
    assert "3/64" in finding.en


@pytest.mark.parametrize(
    ("distance", "expected"), [(8, Severity.WARN), (10, Severity.WARN), (11, None), (4, Severity.FAIL)]
)
def test_near_duplicate_distance(distance, expected):
    ctx = make_ctx(near_duplicates=(DuplicateUse(photo_id="p-2", task_id="t-2", distance=distance),))
    findings = rules.rule_near_duplicate(ctx, TH)
    assert [f.severity for f in findings] == ([expected] if expected else [])


def test_same_file_is_not_reported_again_as_near_duplicate():
    use = DuplicateUse(photo_id="p-5", task_id="t-5", distance=0)
    ctx = make_ctx(same_file_uses=(use,), near_duplicates=(use,))
    assert codes(evaluate(ctx).findings) == ["within_geofence", "exif_missing", "same_file_reused"]


# --- No EXIF at all (F10 item 8) -------------------------------------------------------------------
CAMERA_PHOTOS = ["Canon_40D.jpg", "DSCN0010.jpg", "HMD_Nokia_8.3_5G.jpg", "IMG_5195.HEIC", "jolla.jpg"]
# no_exif.jpg and image00971.jpg: no EXIF read; landscape_6.jpg: an orientation and nothing else.
WITHOUT_EXIF = ["no_exif.jpg", "image00971.jpg", "landscape_6.jpg"]


def real_exif(name: str) -> ExifData:
    return read_exif((PHOTOS / name).read_bytes())


@pytest.mark.parametrize("name", WITHOUT_EXIF)
def test_a_photo_without_exif_warns_and_names_what_is_absent(name):
    verdict = evaluate(make_ctx(exif=real_exif(name)))
    assert verdict.severity is Severity.WARN
    finding = only(list(verdict.findings), "exif_missing")
    assert finding.severity is Severity.WARN
    assert finding.evidence["absent"] == ["capture_time", "gps", "device", "software", "modify_time"]
    assert finding.evidence["exif_expected"] is True
    assert "EXIF" in finding.zh
    assert "可信度降低" in finding.zh
    assert "confidence is lower" in finding.en


def test_no_exif_jpg_is_said_even_where_exif_is_not_expected():
    exif = real_exif("no_exif.jpg")
    assert exif.problems == ("no_exif",)
    [finding] = rules.rule_exif_missing(make_ctx(exif=exif), thresholds_for(TH, {"exif_expected": False}))
    assert finding.code == "exif_missing"
    assert finding.severity is Severity.PASS
    assert finding.evidence == {
        "absent": ["capture_time", "gps", "device", "software", "modify_time"],
        "problems": ["no_exif"],
        "exif_expected": False,
    }


@pytest.mark.parametrize("name", CAMERA_PHOTOS)
def test_a_camera_photo_has_its_exif(name):
    assert rules.rule_exif_missing(make_ctx(exif=real_exif(name)), TH) == []


def test_a_device_name_alone_is_exif():
    assert rules.rule_exif_missing(make_ctx(exif=ExifData(make="HUAWEI", model="ELS-AN00")), TH) == []


def test_signature():
    invalid = rules.rule_signature(make_ctx(signature_valid=False), TH)
    assert codes(invalid) == ["signature_invalid"]
    assert invalid[0].severity is Severity.FAIL
    assert rules.rule_signature(make_ctx(signature_valid=True), TH) == []
    assert rules.rule_signature(make_ctx(signature_valid=None), TH) == []
    required = thresholds_for(TH, {"signature_required": True})
    missing = rules.rule_signature(make_ctx(signature_valid=None), required)
    assert [(f.code, f.severity) for f in missing] == [("signature_missing", Severity.WARN)]


# --- Thresholds -----------------------------------------------------------------------------------
def test_thresholds_per_photo_type_then_per_site():
    per_type = {"geofence_m": 300, "clock_warn_s": 120}
    per_site = {"geofence_m": 500}
    th = thresholds_for(TH, per_type, per_site)
    assert th.geofence_m == 500  # the site's override wins
    assert th.clock_warn_s == 120
    assert th.clock_fail_s == TH.clock_fail_s
    ctx = make_ctx(fix=make_fix(*offset(450)))
    assert codes(rules.rule_geofence(ctx, TH)) == ["outside_geofence"]
    assert codes(rules.rule_geofence(ctx, thresholds_for(TH, per_type))) == ["outside_geofence"]
    assert codes(rules.rule_geofence(ctx, th)) == ["within_geofence"]


def test_photo_type_without_location_requirement_warns():
    lab = thresholds_for(TH, {"location_required": False})
    findings = rules.rule_location_missing(make_ctx(fix=None), lab)
    assert [(f.code, f.severity) for f in findings] == [("location_missing", Severity.WARN)]


def test_thresholds_change_the_clock_limits():
    ctx = make_ctx(exif=ExifData(capture_time=T + dt.timedelta(minutes=10)), fix=None)
    assert rules.rule_clocks(ctx, TH)[0].severity is Severity.WARN
    strict = thresholds_for(TH, {"clock_warn_s": 60, "clock_fail_s": 300})
    assert rules.rule_clocks(ctx, strict)[0].severity is Severity.FAIL
    lenient = thresholds_for(TH, {"clock_warn_s": 900})
    assert rules.rule_clocks(ctx, lenient) == []


def test_threshold_overrides_are_checked():
    with pytest.raises(ValueError, match="geofence_metres"):
        thresholds_for(TH, {"geofence_metres": 100})
    with pytest.raises(ValueError, match="clock_warn_s"):
        thresholds_for(TH, {"clock_warn_s": -1})
    with pytest.raises(ValueError, match="location_required"):
        thresholds_for(TH, {"location_required": "no"})
    with pytest.raises(ValueError, match="accuracy_warn_m"):
        thresholds_for(TH, {"accuracy_warn_m": True})
    with pytest.raises(ValueError, match="near_duplicate_warn_distance"):
        thresholds_for(TH, {"near_duplicate_warn_distance": 5.5})
    with pytest.raises(ValueError, match="must not exceed"):
        thresholds_for(TH, {"clock_warn_s": 7200})
    assert thresholds_for(TH, None, {}) == TH
    assert thresholds_for(TH, {"editor_patterns": ["foto"]}).editor_patterns == ("foto",)
    assert TH.geofence_m is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        TH.clock_warn_s = 1


def test_default_thresholds():
    assert (TH.accuracy_warn_m, TH.clock_warn_s, TH.clock_fail_s) == (100, 300, 3600)
    assert (TH.modify_warn_s, TH.near_duplicate_warn_distance, TH.task_window_slack_s) == (60, 10, 1800)


# --- Every finding is well-formed -----------------------------------------------------------------
def test_findings_are_well_formed():
    exif = ExifData(
        capture_time=T - dt.timedelta(days=1),
        gps_lon=offset(4000)[0],
        gps_lat=offset(4000)[1],
        gps_time=T,
        software="Photoshop",
        modify_time=T,
    )
    ctx = make_ctx(
        exif=exif,
        fix=make_fix(*offset(900), accuracy_m=0, mock=True, fix_time=T - dt.timedelta(hours=3)),
        device_time=T + dt.timedelta(hours=5),
        earlier_stage_latest=T + dt.timedelta(days=1),
        same_file_uses=(DuplicateUse("p1", "t1"),),
        near_duplicates=(DuplicateUse("p2", None, distance=6, mirrored=True),),
        signature_valid=False,
    )
    findings = evaluate(ctx).findings
    assert len(set(codes(findings))) >= 12
    for finding in findings:
        assert re.fullmatch(r"[a-z]+(_[a-z0-9]+)*", finding.code)
        assert finding.zh
        assert finding.en
        assert re.search(r"[\u4e00-\u9fff]", finding.zh)
        json.dumps(finding.as_dict(), ensure_ascii=False)
