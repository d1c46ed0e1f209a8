"""Readable names for what the rules store as evidence (``media_rules``, ``server.tracks.rules``):
a finding's evidence is a JSON object of measured values; a page shows it as a table in the user's
language, never as raw JSON. A key not named here is shown as words, not as an identifier."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from workspace.i18n import english, t

SHANGHAI = ZoneInfo("Asia/Shanghai")

EVIDENCE_LABELS: dict[str, tuple[str, str]] = {
    "a": ("照片 A", "Photo A"),
    "absent": ("缺少的信息", "Missing"),
    "exif_expected": ("应有 EXIF", "EXIF expected"),
    "problems": ("读取问题", "Reading problems"),
    "accuracy_credit_m": ("计入的定位精度（米）", "Accuracy credited (m)"),
    "accuracy_m": ("定位精度（米）", "Accuracy (m)"),
    "after_capture_s": ("拍摄后经过（秒）", "Seconds after capture"),
    "after_receive_s": ("接收后经过（秒）", "Seconds after receipt"),
    "b": ("照片 B", "Photo B"),
    "bd09": ("按 BD-09 换算", "As BD-09"),
    "capture_fix": ("手机采集定位", "Capture fix"),
    "capture_time": ("拍摄时间", "Capture time"),
    "compared_with": ("比较对象", "Compared with"),
    "corrected": ("校正后", "Corrected"),
    "corrected_distance_m": ("校正后距离（米）", "Corrected distance (m)"),
    "declared_system": ("声明的坐标系", "Declared coordinate system"),
    "delay_s": ("延迟（秒）", "Delay (s)"),
    "delivery": ("送样", "Delivery"),
    "device_time": ("手机时间", "Phone time"),
    "difference_s": ("相差（秒）", "Difference (s)"),
    "distance": ("距离（米）", "Distance (m)"),
    "distance_m": ("距离（米）", "Distance (m)"),
    "exif_accuracy_m": ("EXIF 定位精度（米）", "EXIF accuracy (m)"),
    "exif_gps": ("EXIF GPS", "EXIF GPS"),
    "exif_time": ("EXIF 拍摄时间", "EXIF time"),
    "extent": ("范围", "Extent"),
    "face_count": ("人脸数", "Faces"),
    "fail_distance": ("不通过距离（米）", "Fail distance (m)"),
    "fail_s": ("不通过阈值（秒）", "Fail threshold (s)"),
    "fix_accuracy_m": ("定位精度（米）", "Fix accuracy (m)"),
    "fix_time": ("定位时间", "Fix time"),
    "gcj02": ("按 GCJ-02 换算", "As GCJ-02"),
    "geofence_m": ("电子围栏半径（米）", "Geofence (m)"),
    "gps_time": ("GPS 时间", "GPS time"),
    "hash_bits": ("差异位数", "Differing bits"),
    "ink_pixels": ("笔迹像素", "Ink pixels"),
    "lab": ("实验室分析", "Lab analysis"),
    "lat": ("纬度", "Latitude"),
    "latitude": ("纬度", "Latitude"),
    "likely_system": ("可能的坐标系", "Likely coordinate system"),
    "limit": ("限值", "Limit"),
    "limit_m": ("限值（米）", "Limit (m)"),
    "lon": ("经度", "Longitude"),
    "longitude": ("经度", "Longitude"),
    "matches": ("匹配", "Matches"),
    "mirrored": ("镜像", "Mirrored"),
    "modify_time": ("修改时间", "Modified"),
    "offset_assumed": ("假定的时差", "Assumed offset"),
    "other_agency": ("其他机构", "Other agency"),
    "other_stage_time": ("其他阶段时间", "Other stage's time"),
    "outside_by_s": ("超出（秒）", "Outside by (s)"),
    "pattern": ("匹配的软件", "Matched software"),
    "photo_id": ("照片", "Photo"),
    "photo_ids": ("相关照片", "Related photos"),
    "position": ("位置", "Position"),
    "process_error": ("处理错误", "Processing error"),
    "raw": ("原始值", "Raw value"),
    "receive_time": ("接收时间", "Received"),
    "rule": ("规则", "Rule"),
    "sampling": ("采样", "Sampling"),
    "sharpness": ("清晰度", "Sharpness"),
    "signature_valid": ("签名有效", "Signature valid"),
    "site": ("点位", "Site"),
    "site_name": ("点位名称", "Site name"),
    "slack_s": ("容差（秒）", "Slack (s)"),
    "software": ("处理软件", "Software"),
    "source": ("来源", "Source"),
    "stage": ("阶段", "Stage"),
    "system": ("坐标系", "Coordinate system"),
    "task_id": ("任务", "Task"),
    "time_zone_may_explain": ("可能由时区解释", "A time zone may explain it"),
    "uses": ("使用", "Uses"),
    "violated_by_s": ("超出（秒）", "Exceeded by (s)"),
    "warn_above_m": ("警告阈值（米）", "Warning above (m)"),
    "warn_distance": ("警告距离（米）", "Warning distance (m)"),
    "warn_s": ("警告阈值（秒）", "Warning threshold (s)"),
    "wgs84": ("按 WGS-84", "As WGS-84"),
    "window": ("时间窗", "Window"),
}

# Values the rules store as codes (a position's source, a coordinate system, a stage).
VALUE_LABELS: dict[str, tuple[str, str]] = {
    "capture_fix": ("手机采集定位", "capture fix"),
    "exif_gps": ("EXIF GPS", "EXIF GPS"),
    "site": ("点位", "the site"),
    "wgs84": ("WGS-84", "WGS-84"),
    "gcj02": ("GCJ-02", "GCJ-02"),
    "bd09": ("BD-09", "BD-09"),
    "sampling": ("采样", "sampling"),
    "delivery": ("送样", "delivery"),
    "lab": ("实验室分析", "lab analysis"),
    "om": ("运维", "O&M"),
    "person": ("人员", "person"),
    # What EXIF lacks or could not be read (media_rules/exif.py)
    "capture_time": ("拍摄时间", "capture time"),
    "gps": ("GPS", "GPS"),
    "device": ("设备", "device"),
    "software": ("处理软件", "software"),
    "modify_time": ("修改时间", "modification time"),
    "no_exif": ("没有 EXIF", "no EXIF"),
    "corrupt_exif": ("EXIF 已损坏", "corrupt EXIF"),
    "bad_datetime": ("时间无法解析", "unreadable time"),
    "bad_gps": ("GPS 无法解析", "unreadable GPS"),
    "unreadable_image": ("图像无法读取", "unreadable image"),
    "unreadable_input": ("文件无法读取", "unreadable file"),
}
# Keys whose value is a [longitude, latitude] pair.
COORDINATE_KEYS = {"position", "site", "capture_fix", "exif_gps", "wgs84", "gcj02", "bd09", "corrected"}

SEVERITY_LABELS = {"pass": ("通过", "pass"), "warn": ("警告", "warning"), "fail": ("不通过", "fail")}


def evidence_label(key: str) -> str:
    zh_en = EVIDENCE_LABELS.get(key)
    if zh_en is not None:
        return t(*zh_en)
    return key.replace("_", " ")


def local_time(value: dt.datetime) -> str:
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def _instant(value: str) -> dt.datetime | None:
    if len(value) < 19 or value[4] != "-" or value[10] not in "T ":
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def readable(value) -> str:
    """One evidence value as text: yes/no, rounded numbers, times in Asia/Shanghai, objects as
    "name: value" pairs."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return t("是", "yes") if value else t("否", "no")
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:.0f}"
    if isinstance(value, dt.datetime):
        return local_time(value)
    if isinstance(value, str):
        moment = _instant(value)
        if moment is not None:
            return local_time(moment)
        zh_en = VALUE_LABELS.get(value)
        return t(*zh_en) if zh_en else value
    if isinstance(value, dict):
        return (
            "；".join(f"{evidence_label(str(k))}：{evidence_value(str(k), v)}" for k, v in value.items())
            or "—"
        )
    if isinstance(value, list | tuple):
        return "、".join(readable(v) for v in value) or "—"
    return str(value)


def _coordinates(value) -> str | None:
    if (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        return t(
            f"经度 {readable(float(value[0]))}，纬度 {readable(float(value[1]))}",
            f"lon {value[0]}, lat {value[1]}",
        )
    return None


def evidence_value(key: str, value) -> str:
    if key in COORDINATE_KEYS:
        pair = _coordinates(value)
        if pair is not None:
            return pair
    return readable(value)


def evidence_rows(evidence) -> list[tuple[str, str]]:
    if not isinstance(evidence, dict):
        return [(t("证据", "Evidence"), readable(evidence))] if evidence not in (None, "") else []
    return [(evidence_label(str(key)), evidence_value(str(key), value)) for key, value in evidence.items()]


def finding_message(finding: dict) -> str:
    message = finding.get("message") or {}
    if not isinstance(message, dict):
        return str(message)
    return message.get("en" if english() else "zh-hans") or message.get("zh-hans", "")


def severity_label(severity: str) -> str:
    zh_en = SEVERITY_LABELS.get(severity)
    return t(*zh_en) if zh_en else severity
