"""Time rules (see ``media_rules/rules.py`` for the list of codes and ``Thresholds``).

The clocks: EXIF capture time (the camera's clock), EXIF GPS time (satellite, UTC), the capture fix's
time, the device time (the phone's clock, corrected by its measured offset) and the receive time
(the server's). Naive datetimes, which should not occur, are read as Asia/Shanghai time.

When EXIF recorded no UTC offset, +08:00 was assumed (``ExifData.capture_offset_assumed``); a camera
set to another time zone then looks whole hours off. A disagreement that such a zone explains is
reported, but capped at WARN.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from media_rules.evidence import Finding, PhotoContext, Severity
from server.fields import instant  # evidence times are written as every answer writes them

if TYPE_CHECKING:
    from media_rules.rules import Thresholds

_SHANGHAI = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
# Real UTC offsets run from -12:00 to +14:00 in steps of 15 minutes (a few zones use :30 and :45).
_ZONE_OFFSETS_S = range(-12 * 3600, 14 * 3600 + 1, 15 * 60)

_LABELS = {
    "exif_time": ("EXIF 拍摄时间", "the EXIF capture time"),
    "gps_time": ("EXIF GPS 时间", "the EXIF GPS time"),
    "fix_time": ("定位时间", "the capture-fix time"),
    "device_time": ("设备时间", "the device time"),
    "receive_time": ("服务器接收时间", "the receive time"),
}
# The clock pairs compared. fix_time vs device_time also catches a stale (cached) fix.
_CLOCK_PAIRS = (
    ("exif_time", "gps_time"),
    ("exif_time", "fix_time"),
    ("exif_time", "device_time"),
    ("fix_time", "device_time"),
)
_ZONE_NOTE = (
    "；EXIF 未记录时区（按 +08:00 计），可能是相机时区设置不同",
    "; EXIF recorded no UTC offset (+08:00 assumed): a camera set to another zone may explain it",
)
_STAGE_LABELS = {"sampling": ("采样", "sampling"), "delivery": ("送样", "delivery"), "lab": ("实验室", "lab")}


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _space(text: str) -> str:
    """A space before Latin text that follows Chinese ("与 EXIF"), none before Chinese."""
    return " " if text[:1].isascii() else ""


def _aware(t: dt.datetime | None) -> dt.datetime | None:
    if t is None or t.utcoffset() is not None:
        return t
    return t.replace(tzinfo=_SHANGHAI)


def _times(ctx: PhotoContext) -> dict[str, dt.datetime]:
    """Every clock reading available for this photo, aware."""
    times = {
        "exif_time": _aware(ctx.exif.capture_time),
        "gps_time": _aware(ctx.exif.gps_time),
        "fix_time": _aware(ctx.fix.fix_time) if ctx.fix is not None else None,
        "device_time": _aware(ctx.device_time),
        "receive_time": _aware(ctx.receive_time),
    }
    return {name: t for name, t in times.items() if t is not None}


def capture_time(ctx: PhotoContext) -> tuple[str, dt.datetime] | None:
    """The time the window and stage-order rules judge, with its source: the device time (the
    phone's clock, corrected by its measured offset), else the EXIF capture time, else the fix time.
    Callers computing ``earlier_stage_latest`` / ``later_stage_earliest`` should use it too."""
    times = _times(ctx)
    for name in ("device_time", "exif_time", "fix_time"):
        if name in times:
            return name, times[name]
    return None


def _zone_shifts_s(ctx: PhotoContext) -> list[float]:
    """How far off the EXIF time may be, in seconds, if its assumed offset was the wrong zone."""
    t = ctx.exif.capture_time
    if not ctx.exif.capture_offset_assumed or t is None:
        return []
    assumed = (_aware(t).utcoffset() or dt.timedelta()).total_seconds()
    return [offset - assumed for offset in _ZONE_OFFSETS_S]


def duration_text(seconds: float) -> tuple[str, str]:
    """A duration in Chinese and English: "2 小时 5 分钟" / "2 h 5 min"."""
    s = round(abs(seconds))
    if s < 60:
        return f"{s} 秒", f"{s} s"
    if s < 3600:
        m, s = divmod(s, 60)
        return (f"{m} 分钟 {s} 秒", f"{m} min {s} s") if s else (f"{m} 分钟", f"{m} min")
    if s < 86400:
        h, m = divmod(s // 60, 60)
        return (f"{h} 小时 {m} 分钟", f"{h} h {m} min") if m else (f"{h} 小时", f"{h} h")
    d, h = divmod(s // 3600, 24)
    return (f"{d} 天 {h} 小时", f"{d} d {h} h") if h else (f"{d} 天", f"{d} d")


def rule_clocks(ctx: PhotoContext, th: Thresholds) -> list[Finding]:
    times, shifts = _times(ctx), _zone_shifts_s(ctx)
    findings = []
    for a, b in _CLOCK_PAIRS:
        if a not in times or b not in times:
            continue
        diff = (times[a] - times[b]).total_seconds()
        if abs(diff) <= th.clock_warn_s:
            continue
        severity = Severity.FAIL if abs(diff) > th.clock_fail_s else Severity.WARN
        limit = th.clock_fail_s if severity is Severity.FAIL else th.clock_warn_s
        zone = a == "exif_time" and any(abs(diff - shift) <= th.clock_warn_s for shift in shifts)
        if zone:
            severity, limit = Severity.WARN, th.clock_warn_s
        (a_zh, a_en), (b_zh, b_en) = _LABELS[a], _LABELS[b]
        d_zh, d_en = duration_text(diff)
        l_zh, l_en = duration_text(limit)
        note_zh, note_en = _ZONE_NOTE if zone else ("", "")
        findings.append(
            Finding(
                "clock_disagreement",
                severity,
                f"{a_zh}与{_space(b_zh)}{b_zh}相差 {d_zh}，超过 {l_zh}{note_zh}",
                f"{_upper_first(a_en)} and {b_en} differ by {d_en}, more than {l_en}{note_en}",
                {
                    "a": a,
                    "b": b,
                    a: instant(times[a]),
                    b: instant(times[b]),
                    "difference_s": diff,
                    "warn_s": th.clock_warn_s,
                    "fail_s": th.clock_fail_s,
                    "offset_assumed": a == "exif_time" and ctx.exif.capture_offset_assumed,
                    "time_zone_may_explain": zone,
                },
            )
        )
    return findings


def rule_receive_time(ctx: PhotoContext, th: Thresholds) -> list[Finding]:
    times, shifts = _times(ctx), _zone_shifts_s(ctx)
    received = times.get("receive_time")
    if received is None:
        return []
    findings = []
    for name in ("exif_time", "device_time", "fix_time"):
        if name not in times:
            continue
        ahead = (times[name] - received).total_seconds()
        if ahead <= th.receive_slack_s:
            continue
        # A zone east of the assumed one would put the real capture earlier by up to max(shifts).
        zone = name == "exif_time" and bool(shifts) and ahead - max(shifts) <= th.receive_slack_s
        label_zh, label_en = _LABELS[name]
        d_zh, d_en = duration_text(ahead)
        note_zh, note_en = _ZONE_NOTE if zone else ("", "")
        findings.append(
            Finding(
                "capture_after_receive",
                Severity.WARN if zone else Severity.FAIL,
                f"{label_zh}比服务器接收时间晚 {d_zh}：照片不可能在收到之后才拍摄{note_zh}",
                f"{_upper_first(label_en)} is {d_en} after the receive time: a photo cannot be taken "
                f"after it arrives{note_en}",
                {
                    "source": name,
                    name: instant(times[name]),
                    "receive_time": instant(received),
                    "after_receive_s": ahead,
                    "slack_s": th.receive_slack_s,
                    "time_zone_may_explain": zone,
                },
            )
        )
    captured = capture_time(ctx)
    if captured is not None:
        source, t = captured
        delay = (received - t).total_seconds()
        if delay > th.receive_delay_warn_s:
            d_zh, d_en = duration_text(delay)
            l_zh, l_en = duration_text(th.receive_delay_warn_s)
            findings.append(
                Finding(
                    "received_long_after_capture",
                    Severity.WARN,
                    f"拍摄后 {d_zh}才上传（超过 {l_zh}），可能是旧照片",
                    f"Received {d_en} after capture (more than {l_en}): possibly an old photo",
                    {
                        "source": source,
                        "capture_time": instant(t),
                        "receive_time": instant(received),
                        "delay_s": delay,
                        "warn_s": th.receive_delay_warn_s,
                    },
                )
            )
    return findings


def rule_task_window(ctx: PhotoContext, th: Thresholds) -> list[Finding]:
    captured = capture_time(ctx)
    if captured is None or ctx.task_window is None:
        return []
    source, t = captured
    start, end = _aware(ctx.task_window[0]), _aware(ctx.task_window[1])
    if start is None or end is None:
        return []
    before = (start - t).total_seconds()
    after = (t - end).total_seconds()
    if max(before, after) <= th.task_window_slack_s:
        return []
    d_zh, d_en = duration_text(max(before, after))
    where_zh, where_en = (
        ("开始前", "before the task's start") if before > 0 else ("结束后", "after the task's end")
    )
    return [
        Finding(
            "outside_task_window",
            Severity.FAIL,
            f"拍摄时间在任务{where_zh} {d_zh}，超出允许的 {duration_text(th.task_window_slack_s)[0]}",
            f"Captured {d_en} {where_en}, beyond the {duration_text(th.task_window_slack_s)[1]} allowed",
            {
                "source": source,
                "capture_time": instant(t),
                "window": [instant(start), instant(end)],
                "outside_by_s": max(before, after),
                "slack_s": th.task_window_slack_s,
            },
        )
    ]


def rule_stage_order(ctx: PhotoContext, th: Thresholds) -> list[Finding]:
    captured = capture_time(ctx)
    if captured is None:
        return []
    earlier, later = _aware(ctx.earlier_stage_latest), _aware(ctx.later_stage_earliest)
    findings = []
    if earlier is not None:
        findings += _stage_order(ctx, th, captured, earlier, (earlier - captured[1]).total_seconds())
    if later is not None:
        findings += _stage_order(ctx, th, captured, later, (captured[1] - later).total_seconds())
    return findings


def _stage_order(
    ctx: PhotoContext, th: Thresholds, captured: tuple[str, dt.datetime], other: dt.datetime, by: float
) -> list[Finding]:
    """``by``: how far this photo's capture time is on the wrong side of ``other``."""
    if by <= th.stage_order_slack_s:
        return []
    source, t = captured
    stage_zh, stage_en = _STAGE_LABELS.get(ctx.stage, (ctx.stage, ctx.stage))
    if other <= t:  # this photo came after a later stage's photo
        where_zh, where_en = "晚于后一阶段最早一张照片", "after the earliest photo of a later stage"
    else:
        where_zh, where_en = "早于前一阶段最晚一张照片", "before the latest photo of an earlier stage"
    d_zh, d_en = duration_text(by)
    return [
        Finding(
            "stage_order_violated",
            Severity.FAIL,
            f"{stage_zh}阶段照片的拍摄时间{where_zh} {d_zh}，与阶段顺序矛盾",
            f"This {stage_en} photo was captured {d_en} {where_en}, contradicting the stage order",
            {
                "stage": ctx.stage,
                "source": source,
                "capture_time": instant(t),
                "other_stage_time": instant(other),
                "violated_by_s": by,
                "slack_s": th.stage_order_slack_s,
            },
        )
    ]


def rule_modify_time(ctx: PhotoContext, th: Thresholds) -> list[Finding]:
    captured, modified = _aware(ctx.exif.capture_time), _aware(ctx.exif.modify_time)
    if captured is None or modified is None:
        return []
    after = (modified - captured).total_seconds()
    if after <= th.modify_warn_s:
        return []
    d_zh, d_en = duration_text(after)
    return [
        Finding(
            "modified_after_capture",
            Severity.WARN,
            f"EXIF 修改时间比拍摄时间晚 {d_zh}：文件在拍摄后被再次保存",
            f"The EXIF modify time is {d_en} after capture: the file was saved again after it was taken",
            {
                "capture_time": instant(captured),
                "modify_time": instant(modified),
                "after_capture_s": after,
                "warn_s": th.modify_warn_s,
            },
        )
    ]
